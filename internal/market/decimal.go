// Package market holds the normalized market-data events every source emits
// and the fixed-point decimal they carry. The types are plain structs meant to
// be reused frame after frame, so the hot path allocates nothing.
package market

import (
	"errors"
	"math"
	"strconv"
)

// Decimal is a fixed-point number Mantissa × 10^-Scale that keeps the
// exchange's textual precision: "37000.50000000" is {3700050000000, 8}.
// It is the (int64, uint8) pair of the SBE DecimalPrice/DecimalQty composites.
type Decimal struct {
	Mantissa int64
	Scale    uint8
}

// NullScale marks a Decimal that carries no value (an optional field the
// exchange did not send). NullDecimal is the value itself; its mantissa is the
// SBE int64 null value.
const NullScale = 255

// NullDecimal is the absent decimal.
var NullDecimal = Decimal{Mantissa: math.MinInt64, Scale: NullScale}

// MaxScale is the largest scale ParseDecimal produces (the original system's
// rust_decimal allowed 0..28, but an int64 mantissa holds at most 19 digits).
const MaxScale = 18

// Errors returned by ParseDecimal.
var (
	ErrDecimalSyntax   = errors.New("invalid decimal syntax")
	ErrDecimalOverflow = errors.New("decimal mantissa overflows int64")
)

// IsNull reports whether d is the absent value.
func (d Decimal) IsNull() bool { return d.Scale == NullScale }

// IsZero reports whether d is a present zero (any scale).
func (d Decimal) IsZero() bool { return !d.IsNull() && d.Mantissa == 0 }

// ParseDecimal parses plain decimal text ("-12.3400", "5", ".5") into a Decimal
// with the scale of its digits after the point. No exponent, no spaces. It does
// not allocate.
func ParseDecimal(b []byte) (Decimal, error) {
	if len(b) == 0 {
		return Decimal{}, ErrDecimalSyntax
	}
	i := 0
	neg := false
	switch b[0] {
	case '-':
		neg = true
		i++
	case '+':
		i++
	}
	var (
		u        uint64
		digits   int
		scale    int
		seenDot  bool
		overflow bool
	)
	// Above cutoff, u*10+9 exceeds every int64 magnitude; below it nothing wraps.
	const cutoff = (1 << 63) / 10
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
			if seenDot {
				scale++
			}
			if u > cutoff {
				overflow = true
				continue
			}
			u = u*10 + uint64(c-'0')
		case c == '.' && !seenDot:
			seenDot = true
		default:
			return Decimal{}, ErrDecimalSyntax
		}
	}
	if digits == 0 {
		return Decimal{}, ErrDecimalSyntax
	}
	if overflow || scale > MaxScale {
		return Decimal{}, ErrDecimalOverflow
	}
	if neg {
		if u > 1<<63 {
			return Decimal{}, ErrDecimalOverflow
		}
		return Decimal{Mantissa: -int64(u), Scale: uint8(scale)}, nil
	}
	if u > math.MaxInt64 {
		return Decimal{}, ErrDecimalOverflow
	}
	return Decimal{Mantissa: int64(u), Scale: uint8(scale)}, nil
}

// ParseDecimalString is ParseDecimal for a string.
func ParseDecimalString(s string) (Decimal, error) {
	// The conversion does not allocate: the compiler sees b does not escape.
	return ParseDecimal([]byte(s))
}

// MustDecimal parses s and panics on error; for tests and constants.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimalString(s)
	if err != nil {
		panic("market.MustDecimal(" + strconv.Quote(s) + "): " + err.Error())
	}
	return d
}

// AppendText appends d as decimal text with exactly Scale digits after the
// point ("37000.50" for {3700050, 2}). The null decimal appends nothing.
func (d Decimal) AppendText(dst []byte) []byte {
	return AppendDecimal(dst, d.Mantissa, int(d.Scale))
}

// AppendDecimal appends mantissa × 10^-scale with exactly scale fraction
// digits; a negative scale appends trailing zeros. It is shared by every
// mantissa/exponent renderer (the ims schema and Binance's own SBE).
func AppendDecimal(dst []byte, mantissa int64, scale int) []byte {
	if scale == NullScale {
		return dst
	}
	var buf [24]byte
	neg := mantissa < 0
	u := uint64(mantissa)
	if neg {
		u = -u
	}
	digits := strconv.AppendUint(buf[:0], u, 10)
	if neg {
		dst = append(dst, '-')
	}
	if scale <= 0 {
		dst = append(dst, digits...)
		for ; scale < 0; scale++ {
			dst = append(dst, '0')
		}
		return dst
	}
	if len(digits) <= scale {
		dst = append(dst, '0', '.')
		for n := scale - len(digits); n > 0; n-- {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	point := len(digits) - scale
	dst = append(dst, digits[:point]...)
	dst = append(dst, '.')
	return append(dst, digits[point:]...)
}

// String returns the text form of d, or "null" for the null decimal.
func (d Decimal) String() string {
	if d.IsNull() {
		return "null"
	}
	return string(d.AppendText(nil))
}

// Cmp compares a and b numerically regardless of scale: -1, 0 or +1. Null
// sorts before every value.
func (a Decimal) Cmp(b Decimal) int {
	switch {
	case a.IsNull() && b.IsNull():
		return 0
	case a.IsNull():
		return -1
	case b.IsNull():
		return 1
	}
	am, bm := a.Mantissa, b.Mantissa
	as, bs := int(a.Scale), int(b.Scale)
	// Bring both to the larger scale; if that overflows, the one that
	// overflows has the larger magnitude.
	for as < bs {
		if am > math.MaxInt64/10 || am < math.MinInt64/10 {
			return sign(am)
		}
		am *= 10
		as++
	}
	for bs < as {
		if bm > math.MaxInt64/10 || bm < math.MinInt64/10 {
			return -sign(bm)
		}
		bm *= 10
		bs++
	}
	switch {
	case am < bm:
		return -1
	case am > bm:
		return 1
	}
	return 0
}

func sign(v int64) int {
	if v < 0 {
		return -1
	}
	return 1
}
