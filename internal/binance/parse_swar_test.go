package binance

import (
	"bytes"
	"math/rand"
	"strconv"
	"testing"

	"github.com/ims-dev/ims/internal/market"
)

// The word-at-a-time helpers against plain byte loops.

func TestDigitRun(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for iter := 0; iter < 200000; iter++ {
		var w [8]byte
		for k := range w {
			switch rng.Intn(4) {
			case 0:
				w[k] = byte(rng.Intn(256))
			default:
				w[k] = '0' + byte(rng.Intn(10))
			}
		}
		// Also every byte value at every position, on a digit background.
		if iter < 256*8 {
			copy(w[:], "12345678")
			w[iter/256] = byte(iter % 256)
		}
		n := 0
		for n < 8 && w[n] >= '0' && w[n] <= '9' {
			n++
		}
		var want uint64
		if n > 0 {
			want, _ = strconv.ParseUint(string(w[:n]), 10, 64)
		}
		gv, gn := digitRun(load8(w[:], 0))
		if gn != n || gv != want {
			t.Fatalf("%q: got %d digits = %d, want %d = %d", w[:], gn, gv, n, want)
		}
	}
}

func TestDigits(t *testing.T) {
	for _, c := range []string{
		"", "0", "7", "12345678", "123456789", "1234567890123456", "12345678901234567",
		"1234567890123456789", "18446744073709551615", "123456789012345678901234567890",
		"1626916403873", "427.53", "0.01737\"", "9\"", "12345678\"", "1234567812345678.",
	} {
		for _, suffix := range []string{"", "\"", ".5\"", "x"} {
			s := c + suffix
			for pad := 0; pad < 3; pad++ {
				b := []byte(string(bytes.Repeat([]byte{'"'}, pad)) + s)
				n := 0
				for pad+n < len(b) && b[pad+n] >= '0' && b[pad+n] <= '9' {
					n++
				}
				var next byte
				if pad+n < len(b) {
					next = b[pad+n]
				}
				v, gn, gnext := digits(b, pad)
				if gn != n || gnext != next {
					t.Fatalf("%q at %d: got n=%d next=%q, want %d %q", b, pad, gn, gnext, n, next)
				}
				if n > 0 && n <= 19 {
					want, err := strconv.ParseUint(string(b[pad:pad+n]), 10, 64)
					if err == nil && v != want {
						t.Fatalf("%q: value %d, want %d", b, v, want)
					}
				}
			}
		}
	}
}

func TestStringEnd(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	alphabet := []byte("abcXYZ019_@.-\"\\\x00\x01\x1f \x7f\x80\xff\xe2")
	for iter := 0; iter < 100000; iter++ {
		b := make([]byte, rng.Intn(40))
		for k := range b {
			if rng.Intn(6) == 0 {
				b[k] = alphabet[rng.Intn(len(alphabet))]
			} else {
				b[k] = 'a' + byte(rng.Intn(26))
			}
		}
		j := 0
		if len(b) > 0 {
			j = rng.Intn(len(b) + 1)
		}
		want := j
		for want < len(b) && b[want] != '"' && b[want] != '\\' && b[want] >= 0x20 {
			want++
		}
		if got := stringEnd(b, j); got != want {
			t.Fatalf("%q from %d: got %d, want %d", b, j, got, want)
		}
	}
}

func TestSetSymbol(t *testing.T) {
	for c := 0; c < 256; c++ {
		for _, s := range []string{string(rune(0)), "btcusdt", "ABCDEFGHIJKLMNOPQRST", "abcdefghijklmnopqrst", "x_y-z.1"} {
			in := []byte(s)
			in[len(in)/2] = byte(c)
			var got, want market.Symbol
			if !setSymbol(&got, in) || !want.Set(in) || got != want {
				t.Fatalf("%q: got %q, want %q", in, got[:], want[:])
			}
		}
	}
	var s market.Symbol
	if setSymbol(&s, nil) || setSymbol(&s, []byte("ABCDEFGHIJKLMNOPQRSTU")) {
		t.Fatal("accepted an empty or too long symbol")
	}
}
