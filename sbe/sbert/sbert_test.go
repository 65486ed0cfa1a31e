package sbert

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendDecimal(t *testing.T) {
	for _, tc := range []struct {
		m     int64
		scale int
		want  string
	}{
		{3700050, 2, "37000.50"},
		{125, 4, "0.0125"},
		{0, 0, "0"},
		{0, 3, "0.000"},
		{-5, 1, "-0.5"},
		{-5, 3, "-0.005"},
		{100, 0, "100"},
		{12, -3, "12000"},
		{0, -3, "0"},
		{math.MinInt64, 0, "-9223372036854775808"},
		{math.MinInt64, 19, "-0.9223372036854775808"},
		{math.MaxInt64, 20, "0.09223372036854775807"},
		{1, 255, "0." + strings.Repeat("0", 254) + "1"},
		{7, -128, "7" + strings.Repeat("0", 128)},
	} {
		if got := string(AppendDecimal(nil, tc.m, tc.scale)); got != tc.want {
			t.Errorf("AppendDecimal(%d, %d) = %q, want %q", tc.m, tc.scale, got, tc.want)
		}
	}
	if got := string(AppendJSONDecimal([]byte("x"), 5, 1)); got != `x"0.5"` {
		t.Errorf("AppendJSONDecimal = %s", got)
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "BTCUSDT", "a\"b\\c", "tab\tnl\ncr\r", "\x00\x01\x1f\x7f", "héllo ✓ 😀", "\u2028\u2029", "<&>"} {
		got := AppendJSONString(nil, []byte(s), false)
		if !json.Valid(got) {
			t.Fatalf("%q: invalid JSON %s", s, got)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != s {
			t.Errorf("%q: round trip %q, %v", s, back, err)
		}
	}
	if got := string(AppendJSONString(nil, []byte("btc\xffusdt"), true)); got != `"BTC\ufffdUSDT"` {
		t.Errorf("invalid UTF-8 upper: %s", got)
	}
	if got := string(AppendJSONChars(nil, []byte("btcusdt\x00\x00\x00"), true)); got != `"BTCUSDT"` {
		t.Errorf("chars: %s", got)
	}
}

func TestAppendTextString(t *testing.T) {
	for s, want := range map[string]string{
		"BTCUSDT":       "BTCUSDT",
		"":              `""`,
		"two words":     `"two words"`,
		"a=b":           `"a=b"`,
		"[x]":           `"[x]"`,
		"q\"\\":         `"q\"\\"`,
		"nl\n\x00":      `"nl\n\x00"`,
		"héllo":         `"héllo"`,
		"bad\xff":       `"bad\xff"`,
		"zw\u200bspace": `"zw\u200bspace"`,
		"\U000e0001":    `"\U000e0001"`,
	} {
		if got := string(AppendTextString(nil, []byte(s), false)); got != want {
			t.Errorf("AppendTextString(%q) = %s, want %s", s, got, want)
		}
		// Everything quoted is valid Go syntax for the same bytes.
		if got := AppendTextString(nil, []byte(s), false); got[0] == '"' && utf8.ValidString(s) {
			if back, err := strconv.Unquote(string(got)); err != nil || back != s {
				t.Errorf("%q: unquote %q, %v", s, back, err)
			}
		}
	}
	if got := string(AppendTextChars(nil, []byte("ethbtc\x00"), true)); got != "ETHBTC" {
		t.Errorf("upper: %s", got)
	}
}

func TestAppendTimestamp(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		u    Unit
		want string
	}{
		{1700000000000000, Micro, "2023-11-14T22:13:20.000000Z"},
		{1700000000123456789, Nano, "2023-11-14T22:13:20.123456789Z"},
		{1700000000123, Milli, "2023-11-14T22:13:20.123Z"},
		{1700000000, Second, "2023-11-14T22:13:20Z"},
		{0, Micro, "0"},
		{-1, Micro, "1969-12-31T23:59:59.999999Z"},
	} {
		if got := string(AppendTimestamp(nil, tc.v, tc.u)); got != tc.want {
			t.Errorf("AppendTimestamp(%d, %d) = %s, want %s", tc.v, tc.u, got, tc.want)
		}
	}
	// Extreme values do not panic.
	_ = AppendTimestamp(nil, math.MaxInt64, Micro)
	_ = AppendTimestamp(nil, math.MinInt64, Second)
}

// TestAppendTimestampOutOfRange: RFC 3339 has four-digit years, and
// time.Unix wraps around for huge second counts (math.MinInt64 seconds came
// out as a date in the year 292277026596). A time outside years 0000-9999
// is written as the encoded integer instead.
func TestAppendTimestampOutOfRange(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		u    Unit
		want string
	}{
		{math.MinInt64, Second, "-9223372036854775808"},
		{math.MaxInt64, Second, "9223372036854775807"},
		{math.MaxInt64, Milli, "9223372036854775807"},
		{math.MaxInt64, Micro, "9223372036854775807"},
		{math.MinInt64, Micro, "-9223372036854775808"},
		{253402300800000000, Micro, "253402300800000000"}, // 10000-01-01
		{253402300799999999, Micro, "9999-12-31T23:59:59.999999Z"},
		{-62167219200000000, Micro, "0000-01-01T00:00:00.000000Z"},
		{-62167219200000001, Micro, "-62167219200000001"},
		{-62167219200, Second, "0000-01-01T00:00:00Z"},
		{-62167219201, Second, "-62167219201"},
		{253402300799999, Milli, "9999-12-31T23:59:59.999Z"},
		{253402300800000, Milli, "253402300800000"},
		// Every int64 of nanoseconds is within 1677-2262.
		{math.MinInt64, Nano, "1677-09-21T00:12:43.145224192Z"},
		{math.MaxInt64, Nano, "2262-04-11T23:47:16.854775807Z"},
	} {
		if got := string(AppendTimestamp(nil, tc.v, tc.u)); got != tc.want {
			t.Errorf("AppendTimestamp(%d, %d) = %s, want %s", tc.v, tc.u, got, tc.want)
		}
	}
}

func TestFloats(t *testing.T) {
	for f, want := range map[float64]string{1.5: "1.5", math.NaN(): `"NaN"`, math.Inf(1): `"+Inf"`, math.Inf(-1): `"-Inf"`} {
		if got := string(AppendJSONFloat(nil, f, 64)); got != want {
			t.Errorf("AppendJSONFloat(%v) = %s", f, got)
		}
	}
	if got := string(AppendTextFloat(nil, 0.1, 32)); got != "0.1" {
		t.Errorf("AppendTextFloat = %s", got)
	}
}

func TestErrors(t *testing.T) {
	for err, want := range map[error]string{
		Truncated("TradeBar", "", 56, 12):                                "truncated TradeBar: need 56 bytes, have 12",
		Truncated("", "header", 8, 3):                                    "truncated message header: need 8 bytes, have 3",
		BelowMinimum("M", "group g", "blockLength", 1, 2):                "M group g: blockLength 1 is below the minimum 2",
		AboveMaximum("M", "data d", "length", 300, 254):                  "M data d: length 300 exceeds the maximum 254",
		&UnknownTemplateError{Schema: "ims", Header: Header{8, 9, 1, 1}}: "unknown message: template 9 (schema id 1, version 1, blockLength 8) is not in schema ims",
		&WrongTemplateError{Want: "Trade", WantTemplateID: 301, WantSchemaID: 1, Header: Header{TemplateID: 205, SchemaID: 1}}: "header announces template 205 of schema 1, want Trade (template 301 of schema 1)",
	} {
		if err.Error() != want {
			t.Errorf("%q, want %q", err, want)
		}
	}
	if FormatJSON.String() != "json" || FormatText.String() != "text" || Format(9).String() != "Format(9)" {
		t.Error("Format.String")
	}
}

func BenchmarkAppendDecimal(b *testing.B) {
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendDecimal(dst[:0], 3700050000000, 8)
	}
}
