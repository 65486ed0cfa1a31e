package sbert

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendDecimal appends mantissa × 10^-scale as plain decimal text with
// exactly scale digits after the point ("37000.50" for 3700050, 2). A
// negative scale appends -scale trailing zeros, so a Binance
// (mantissa, exponent) pair renders with AppendDecimal(dst, m, -exponent).
// Every scale is accepted (an SBE scale is a uint8; an exponent an int8).
func AppendDecimal(dst []byte, mantissa int64, scale int) []byte {
	var buf [20]byte
	u := uint64(mantissa)
	if mantissa < 0 {
		dst = append(dst, '-')
		u = -u // two's complement: also right for math.MinInt64
	}
	digits := strconv.AppendUint(buf[:0], u, 10)
	if scale <= 0 {
		dst = append(dst, digits...)
		if u == 0 {
			return dst
		}
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

// AppendJSONDecimal appends the decimal as a JSON string ("37000.50"), so
// the encoded scale survives any JSON reader.
func AppendJSONDecimal(dst []byte, mantissa int64, scale int) []byte {
	dst = append(dst, '"')
	dst = AppendDecimal(dst, mantissa, scale)
	return append(dst, '"')
}

// TrimNUL returns b without its trailing NUL padding.
func TrimNUL(b []byte) []byte {
	n := len(b)
	for n > 0 && b[n-1] == 0 {
		n--
	}
	return b[:n]
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. Control characters, quotes
// and backslashes are escaped; invalid UTF-8 becomes U+FFFD (as
// encoding/json does). With upper, ASCII letters are upper-cased.
func AppendJSONString(dst, s []byte, upper bool) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			case upper && c >= 'a' && c <= 'z':
				dst = append(dst, c-('a'-'A'))
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but not valid JavaScript; escape as encoding/json does.
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// AppendJSONChars appends a char array as a JSON string without its NUL
// padding.
func AppendJSONChars(dst, b []byte, upper bool) []byte {
	return AppendJSONString(dst, TrimNUL(b), upper)
}

// textSafe reports whether s can be written bare in a field=value line.
func textSafe(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '=' ||
			c == '[' || c == ']' || c == '{' || c == '}' {
			return false
		}
	}
	return true
}

// AppendTextString appends s for a field=value line: bare when it is plain
// printable ASCII without separators, else double-quoted with Go escapes
// (\n, \x00, \u00e9 for non-printable runes). With upper, ASCII letters are
// upper-cased.
func AppendTextString(dst, s []byte, upper bool) []byte {
	if textSafe(s) {
		for _, c := range s {
			if upper && c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
		}
		return dst
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			case upper && c >= 'a' && c <= 'z':
				dst = append(dst, c-('a'-'A'))
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		case !strconv.IsPrint(r):
			dst = appendRuneEscape(dst, r)
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// appendRuneEscape appends r as \uXXXX or \UXXXXXXXX.
func appendRuneEscape(dst []byte, r rune) []byte {
	if r <= 0xffff {
		return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
	}
	dst = append(dst, '\\', 'U')
	for shift := 28; shift >= 0; shift -= 4 {
		dst = append(dst, hexDigits[r>>uint(shift)&0xf])
	}
	return dst
}

// AppendTextChars appends a char array for a text line, without its NUL
// padding.
func AppendTextChars(dst, b []byte, upper bool) []byte {
	return AppendTextString(dst, TrimNUL(b), upper)
}

// AppendHex appends b as lower-case hex (binary var-data).
func AppendHex(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return dst
}

// Unit is the resolution of an integer timestamp.
type Unit uint8

const (
	Second Unit = iota + 1
	Milli
	Micro
	Nano
)

// RFC 3339 years have four digits: the times it can write, in seconds
// since the Unix epoch.
const (
	minRFC3339 = -62167219200 // 0000-01-01T00:00:00Z
	maxRFC3339 = 253402300799 // 9999-12-31T23:59:59Z
)

// AppendTimestamp appends v (units since the Unix epoch) as RFC 3339 in UTC
// with the unit's full precision: 2023-11-14T22:13:20.000000Z for
// microseconds. Zero, which the ims schema uses for "not sent", is written
// as 0, and so is any time outside the years 0000-9999 written as its
// integer (RFC 3339 cannot hold it; time.Unix would wrap around).
func AppendTimestamp(dst []byte, v int64, u Unit) []byte {
	if v == 0 {
		return append(dst, '0')
	}
	perSec := int64(1)
	switch u {
	case Milli:
		perSec = 1e3
	case Micro:
		perSec = 1e6
	case Nano:
		perSec = 1e9
	}
	if sec := floorDiv(v, perSec); sec < minRFC3339 || sec > maxRFC3339 {
		return strconv.AppendInt(dst, v, 10)
	}
	var t time.Time
	layout := "2006-01-02T15:04:05Z07:00"
	switch u {
	case Milli:
		t = time.UnixMilli(v)
		layout = "2006-01-02T15:04:05.000Z07:00"
	case Micro:
		t = time.UnixMicro(v)
		layout = "2006-01-02T15:04:05.000000Z07:00"
	case Nano:
		t = time.Unix(0, v)
		layout = "2006-01-02T15:04:05.000000000Z07:00"
	default:
		t = time.Unix(v, 0)
	}
	return t.UTC().AppendFormat(dst, layout)
}

// floorDiv is a/b rounded towards minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// AppendJSONFloat appends f as a JSON number; NaN and infinities, which
// JSON cannot express, become the strings "NaN", "+Inf" and "-Inf".
func AppendJSONFloat(dst []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"+Inf"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Inf"`...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bitSize)
}

// AppendTextFloat appends f in the shortest form that reads back exactly.
func AppendTextFloat(dst []byte, f float64, bitSize int) []byte {
	return strconv.AppendFloat(dst, f, 'g', -1, bitSize)
}
