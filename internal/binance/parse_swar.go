package binance

import (
	"encoding/binary"
	"math/bits"

	"github.com/ims-dev/ims/internal/market"
)

// Word-at-a-time (SWAR) helpers for the scanner. A frame is mostly short
// runs of digits and letters whose lengths vary from value to value; a byte
// loop pays a mispredicted branch at the end of nearly every run. These
// helpers load 8 bytes at once and find the end of a run from a bit mask
// (bits.TrailingZeros64), so the only branches left are the rare "run
// longer than 8 bytes" and the value-type checks, which predict well.

const (
	ones  = 0x0101010101010101 // 0x01 in every byte
	highs = 0x8080808080808080 // 0x80 in every byte
)

// load8 returns the 8 bytes at b[i:] as a little-endian word (b[i] in the
// low byte). Bytes past the end of b read as zero, which every caller
// treats as a terminator (not a digit, not a plain string byte), so no
// scan can run past the frame.
func load8(b []byte, i int) uint64 {
	if i >= 0 && i+8 <= len(b) {
		return binary.LittleEndian.Uint64(b[i:])
	}
	return load8Tail(b, i)
}

func load8Tail(b []byte, i int) uint64 {
	var w uint64
	for k := 0; k < 8 && i+k < len(b); k++ {
		if i+k >= 0 {
			w |= uint64(b[i+k]) << (8 * k)
		}
	}
	return w
}

// digitRun returns the number (0..8) of leading ASCII digits of the word w
// (in memory order) and their value.
func digitRun(w uint64) (uint64, int) {
	// x holds digit values 0..9 in digit bytes; a byte is not a digit when
	// x > 9 there, which sets its high bit below (no carry between bytes:
	// (x&0x7f)+0x76 <= 0xf5).
	x := w ^ 0x3030303030303030
	nd := ((x & 0x7f7f7f7f7f7f7f7f) + 0x7676767676767676 | x) & highs
	n := bits.TrailingZeros64(nd) >> 3
	// Keep the n digits as the high (least significant) bytes of an
	// 8-digit number: the bytes shifted in are leading zeros.
	x <<= uint(64 - 8*n) // n == 0 shifts by 64: zero
	// Combine pairs, then quads, then the two halves (the usual 8-digit
	// SWAR conversion: first digit in the low byte).
	x = x * (10<<8 + 1) >> 8
	x = (x & 0x00ff00ff00ff00ff) * (100<<16 + 1) >> 16
	x = (x & 0x0000ffff0000ffff) * (10000<<32 + 1) >> 32
	return x, n
}

// pow10 holds 10^0 .. 10^19.
var pow10 = [20]uint64{
	1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}

// digits reads the run of ASCII digits at b[j:]. It returns the run's value
// (exact when n <= 19), its length n, and the byte after it (0 past the end
// of b).
func digits(b []byte, j int) (v uint64, n int, next byte) {
	w := load8(b, j)
	v, n = digitRun(w)
	if n < 8 {
		return v, n, byte(w >> (8 * uint(n)))
	}
	return digitsLong(b, j, v)
}

// digitsLong continues digits past its first 8 digits (value v).
func digitsLong(b []byte, j int, v uint64) (uint64, int, byte) {
	n := 8
	for {
		w := load8(b, j+n)
		v2, k := digitRun(w)
		if n+k <= 19 {
			v = v*pow10[k] + v2
		}
		n += k
		if k < 8 {
			return v, n, byte(w >> (8 * uint(k)))
		}
	}
}

// stringEnd returns the index of the first byte at or after b[j] that ends
// a plain run of JSON string content: '"', '\\' or a control character.
// It returns len(b) when there is none.
func stringEnd(b []byte, j int) int {
	for j < len(b) {
		w := load8(b, j)
		// Exact for the lowest flagged byte, which is all we use: the
		// zero-byte and less-than tricks only misflag bytes above a true
		// hit. Padding past the end reads as 0, a control byte.
		q := w ^ 0x2222222222222222
		s := w ^ 0x5c5c5c5c5c5c5c5c
		m := (q-ones)&^q | (s-ones)&^s | (w-0x2020202020202020)&^w
		if m &= highs; m != 0 {
			if j += bits.TrailingZeros64(m) >> 3; j > len(b) {
				j = len(b)
			}
			return j
		}
		j += 8
	}
	return len(b)
}

// setSymbol stores s upper-cased in dst, as market.Symbol.Set does, a word
// at a time. It reports false (leaving dst alone) when s is empty or longer
// than a Symbol.
func setSymbol(dst *market.Symbol, s []byte) bool {
	if len(s) == 0 || len(s) > len(dst) {
		return false
	}
	var t [24]byte
	copy(t[:], s)
	for k := 0; k < len(t); k += 8 {
		w := binary.LittleEndian.Uint64(t[k:])
		// A byte is lower case when its low 7 bits are in 'a'..'z' and its
		// high bit is clear; flip 0x20 there.
		b := w & 0x7f7f7f7f7f7f7f7f
		lower := (b + 0x1f1f1f1f1f1f1f1f) ^ (b + 0x0505050505050505)
		w ^= (lower &^ w & highs) >> 2
		binary.LittleEndian.PutUint64(t[k:], w)
	}
	copy(dst[:], t[:])
	return true
}
