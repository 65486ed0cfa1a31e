package imssbe_test

import (
	"testing"

	"github.com/ims-dev/ims/sbe/imssbe"
	"github.com/ims-dev/ims/sbe/internal/sbetest"
)

// seeds are the golden vectors plus messages with groups and var data.
func seeds(t testing.TB) [][]byte {
	out := [][]byte{}
	for _, h := range []string{clientLogin120, clientLogin42, clientLogout42, startDataBTC, startDataAPPL, stopDataAPPL,
		stopAll, tradeBarBTC, tradeBarBTCLive, tradeBarAPPL, clientError, dataError} {
		out = append(out, unhex(t, h))
	}
	depth := make([]byte, 8+69+8+18*5)
	encodeDepth(t, depth, levels(3, 1000), levels(2, 2000))
	out = append(out, depth)
	st := make([]byte, 8+55+2+5)
	var s imssbe.Status
	if err := s.WrapAndApplyHeader(st, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDetailString("hello"); err != nil {
		t.Fatal(err)
	}
	out = append(out, st)
	// Two messages back to back: Validate must stop at the first.
	out = append(out, append(append([]byte(nil), out[7]...), out[0]...))
	return out
}

// FuzzCodec feeds arbitrary bytes to the dispatcher: it must never panic or
// read past the input, and whatever it accepts must render as valid JSON
// and a single text line, with the length it reports.
func FuzzCodec(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sbetest.FuzzCodec(t, imssbe.Codec{}, data)
	})
}

// FuzzDepthUpdate drives the typed decoder and its group iterators directly,
// and checks that the entries by index agree with them.
func FuzzDepthUpdate(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m imssbe.DepthUpdate
		if err := m.WrapForDecodeHeader(data, 0); err != nil {
			return
		}
		if 8+m.EncodedLength() > len(data) {
			t.Fatalf("length %d beyond %d", m.EncodedLength(), len(data))
		}
		var sum int64
		g := m.Bids()
		for g.Next() {
			sum += g.Price().Num() + g.Quantity().Num()
		}
		a := m.Asks()
		for a.Next() {
			sum += a.Price().Num() + int64(a.Quantity().Scale())
		}
		_ = sum
		_ = m.AppendJSON(nil)
		g, a = m.Bids(), m.Asks()
		ge, ae := m.BidsEntries(), m.AsksEntries()
		if ge.Count() != g.Count() || ae.Count() != a.Count() {
			t.Fatalf("entries %d/%d, iterators %d/%d", ge.Count(), ae.Count(), g.Count(), a.Count())
		}
		// The flyweights compare equal when they point at the same bytes.
		for g.Next() {
			if e := ge.Entry(g.Index()); e.Price() != g.Price() || e.Quantity() != g.Quantity() {
				t.Fatalf("bid %d: entry and iterator differ", g.Index())
			}
		}
		for a.Next() {
			if e := ae.Entry(a.Index()); e.Price() != a.Price() || e.Quantity() != a.Quantity() {
				t.Fatalf("ask %d: entry and iterator differ", a.Index())
			}
		}
	})
}
