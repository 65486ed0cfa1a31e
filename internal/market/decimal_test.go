package market

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in    string
		want  Decimal
		text  string
		error error
	}{
		{"37000.50", Decimal{3700050, 2}, "37000.50", nil},
		{"37000.5", Decimal{370005, 1}, "37000.5", nil},
		{"37000.50000000", Decimal{3700050000000, 8}, "37000.50000000", nil},
		{"0.0125", Decimal{125, 4}, "0.0125", nil},
		{"0.00000000", Decimal{0, 8}, "0.00000000", nil},
		{"100", Decimal{100, 0}, "100", nil},
		{"-0.5", Decimal{-5, 1}, "-0.5", nil},
		{"+7.10", Decimal{710, 2}, "7.10", nil},
		{".5", Decimal{5, 1}, "0.5", nil},
		{"5.", Decimal{5, 0}, "5", nil},
		{"9223372036854775807", Decimal{math.MaxInt64, 0}, "9223372036854775807", nil},
		{"-9223372036854775808", Decimal{math.MinInt64, 0}, "-9223372036854775808", nil},
		{"92233720368.54775807", Decimal{math.MaxInt64, 8}, "92233720368.54775807", nil},
		{"9223372036854775808", Decimal{}, "", ErrDecimalOverflow},
		{"99999999999999999999999", Decimal{}, "", ErrDecimalOverflow},
		{"0.0000000000000000001", Decimal{}, "", ErrDecimalOverflow},
		{"", Decimal{}, "", ErrDecimalSyntax},
		{"-", Decimal{}, "", ErrDecimalSyntax},
		{".", Decimal{}, "", ErrDecimalSyntax},
		{"1.2.3", Decimal{}, "", ErrDecimalSyntax},
		{"1e5", Decimal{}, "", ErrDecimalSyntax},
		{" 1", Decimal{}, "", ErrDecimalSyntax},
		{"0x10", Decimal{}, "", ErrDecimalSyntax},
	}
	for _, tt := range tests {
		got, err := ParseDecimalString(tt.in)
		if !errors.Is(err, tt.error) {
			t.Errorf("ParseDecimal(%q) error = %v, want %v", tt.in, err, tt.error)
			continue
		}
		if err != nil {
			continue
		}
		if got != tt.want {
			t.Errorf("ParseDecimal(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.text {
			t.Errorf("ParseDecimal(%q).String() = %q, want %q", tt.in, s, tt.text)
		}
	}
}

func TestAppendDecimalNegativeScale(t *testing.T) {
	// Binance's SBE exponents can be positive (scale < 0).
	if got := string(AppendDecimal(nil, 12, -3)); got != "12000" {
		t.Errorf("AppendDecimal(12, -3) = %q", got)
	}
	if got := string(AppendDecimal(nil, -7, 3)); got != "-0.007" {
		t.Errorf("AppendDecimal(-7, 3) = %q", got)
	}
}

func TestNullDecimal(t *testing.T) {
	if !NullDecimal.IsNull() || NullDecimal.IsZero() {
		t.Fatal("NullDecimal must be null and not zero")
	}
	if NullDecimal.String() != "null" || len(NullDecimal.AppendText(nil)) != 0 {
		t.Fatal("NullDecimal renders as null / nothing")
	}
	if (Decimal{}).IsNull() || !(Decimal{}).IsZero() {
		t.Fatal("zero Decimal is a present zero")
	}
}

func TestDecimalCmp(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.10", "1.1", 0},
		{"1.10", "1.2", -1},
		{"2", "1.99999999", 1},
		{"-1", "0.00", -1},
		{"0", "-0.0", 0},
		{"92233720368.54775807", "92233720368547758", -1},
		{"9223372036854775807", "0.000000000000000001", 1},
	}
	for _, tt := range tests {
		if got := MustDecimal(tt.a).Cmp(MustDecimal(tt.b)); got != tt.want {
			t.Errorf("Cmp(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := MustDecimal(tt.b).Cmp(MustDecimal(tt.a)); got != -tt.want {
			t.Errorf("Cmp(%s, %s) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
	if NullDecimal.Cmp(MustDecimal("0")) != -1 || NullDecimal.Cmp(NullDecimal) != 0 {
		t.Error("null sorts first")
	}
}

func TestParseDecimalAllocs(t *testing.T) {
	in := []byte("37000.50000000")
	var sink Decimal
	if n := testing.AllocsPerRun(100, func() { sink, _ = ParseDecimal(in) }); n != 0 {
		t.Fatalf("ParseDecimal allocates %v times", n)
	}
	buf := make([]byte, 0, 32)
	if n := testing.AllocsPerRun(100, func() { buf = sink.AppendText(buf[:0]) }); n != 0 {
		t.Fatalf("AppendText allocates %v times", n)
	}
}

// FuzzParseDecimal checks that whatever parses renders back to a value that
// parses to the same Decimal, and that the value matches big.Rat arithmetic.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"37000.50", "0.0125", "-1", ".5", "9223372036854775807", "1.2.3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDecimalString(s)
		if err != nil {
			return
		}
		text := d.String()
		back, err := ParseDecimalString(text)
		if err != nil || back != d {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, d, text, back, err)
		}
		want, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big.Rat rejects %q that ParseDecimal accepted", s)
		}
		got, _ := new(big.Rat).SetString(text)
		if want.Cmp(got) != 0 {
			t.Fatalf("%q parsed as %s", s, text)
		}
	})
}

func BenchmarkParseDecimal(b *testing.B) {
	in := []byte("37000.50000000")
	for b.Loop() {
		if _, err := ParseDecimal(in); err != nil {
			b.Fatal(err)
		}
	}
}
