package imssbe_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ims-dev/ims/sbe/imssbe"
	"github.com/ims-dev/ims/sbe/sbert"
)

// encodeDepthEntries writes what encodeDepth writes through the Entries
// API, filling the levels last to first, into a dirty buffer.
func encodeDepthEntries(t testing.TB, buf []byte, bids, asks []level) int {
	t.Helper()
	var m imssbe.DepthUpdate
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	m.SetEventTime(1)
	m.SetReceiveTime(2)
	m.SetExchangeID(imssbe.ExchangeIDBinanceUsdMarginFuture)
	if err := m.SetSymbolIDString("ETHUSDT"); err != nil {
		t.Fatal(err)
	}
	m.SetTransactionTime(3)
	m.SetFirstUpdateID(100)
	m.SetLastUpdateID(110)
	m.SetPrevLastUpdateID(99)
	b, err := m.PutBids(len(bids))
	if err != nil || b.Count() != len(bids) {
		t.Fatalf("PutBids: %d %v", b.Count(), err)
	}
	for i := len(bids) - 1; i >= 0; i-- {
		e := b.Entry(i)
		e.Price().Set(bids[i].pm, bids[i].ps)
		e.Quantity().Set(bids[i].qm, bids[i].qs)
	}
	a, err := m.PutAsks(len(asks))
	if err != nil || a.Count() != len(asks) {
		t.Fatalf("PutAsks: %d %v", a.Count(), err)
	}
	for i := len(asks) - 1; i >= 0; i-- {
		e := a.Entry(i)
		e.Price().Set(asks[i].pm, asks[i].ps)
		e.Quantity().Set(asks[i].qm, asks[i].qs)
	}
	return imssbe.HeaderLength + m.EncodedLength()
}

func TestDepthUpdateEntries(t *testing.T) {
	for _, n := range []struct{ bids, asks int }{{0, 0}, {1, 0}, {0, 1}, {3, 2}, {20, 20}, {1000, 3}} {
		bids, asks := levels(n.bids, 300000), levels(n.asks, 300100)
		size := 8 + 69 + 4 + 4 + 18*(n.bids+n.asks)
		want := make([]byte, size)
		if encodeDepth(t, want, bids, asks) != size {
			t.Fatalf("%v: iterator size", n)
		}
		got := bytes.Repeat([]byte{0xa5}, size)
		if encodeDepthEntries(t, got, bids, asks) != size || !bytes.Equal(got, want) {
			t.Fatalf("%v: entries encode\n got %x\nwant %x", n, got, want)
		}

		var m imssbe.DepthUpdate
		if err := m.WrapForDecodeHeader(got, 0); err != nil {
			t.Fatal(err)
		}
		bs := m.BidsEntries()
		if bs.Count() != len(bids) {
			t.Fatalf("%v: bids count %d", n, bs.Count())
		}
		for i, l := range bids {
			e := bs.Entry(i)
			if e.Price().Num() != l.pm || e.Price().Scale() != l.ps || e.Quantity().Num() != l.qm || e.Quantity().Scale() != l.qs {
				t.Fatalf("%v: bid %d = %s %s", n, i, e.Price().AppendText(nil), e.Quantity().AppendText(nil))
			}
		}
		as := m.AsksEntries()
		if as.Count() != len(asks) {
			t.Fatalf("%v: asks count %d", n, as.Count())
		}
		for i, l := range asks {
			if e := as.Entry(i); e.Price().Num() != l.pm || e.Quantity().Num() != l.qm {
				t.Fatalf("%v: ask %d", n, i)
			}
		}
	}
}

func TestDepthSnapshotEntries(t *testing.T) {
	buf := make([]byte, 512)
	var m imssbe.DepthSnapshot
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	m.SetSource(imssbe.SnapshotSourceRest)
	m.SetLastUpdateID(77)
	b, _ := m.PutBids(2)
	for i := range b.Count() {
		b.Entry(i).Price().Set(int64(100-i), 0)
		b.Entry(i).Quantity().Set(5, 1)
	}
	a, _ := m.PutAsks(1)
	a.Entry(0).Price().Set(101, 0)
	a.Entry(0).Quantity().Set(7, 0)
	msg := buf[:8+m.EncodedLength()]
	var d imssbe.DepthSnapshot
	if err := d.WrapForDecodeHeader(msg, 0); err != nil {
		t.Fatal(err)
	}
	if d.BidsEntries().Count() != 2 || d.BidsEntries().Entry(1).Price().Num() != 99 || d.AsksEntries().Entry(0).Quantity().Num() != 7 {
		t.Fatalf("decode %s", d.AppendText(nil))
	}
}

func TestEntriesErrors(t *testing.T) {
	buf := make([]byte, 8+69+4+18)
	var m imssbe.DepthUpdate
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := m.PutBids(-1); !errors.Is(err, sbert.ErrGroupCount) {
		t.Fatalf("PutBids(-1): %v", err)
	}
	if _, err := m.PutBids(65535); !errors.Is(err, sbert.ErrGroupCount) {
		t.Fatalf("PutBids(65535): %v", err)
	}
	if _, err := m.PutBids(2); !errors.Is(err, sbert.ErrShortBuffer) || m.EncodedLength() != 69 {
		t.Fatalf("PutBids(2): %v, length %d", err, m.EncodedLength())
	}
	if _, err := m.PutBids(1); err != nil {
		t.Fatal(err)
	}
	if _, err := m.PutAsks(0); !errors.Is(err, sbert.ErrShortBuffer) {
		t.Fatalf("PutAsks(0) without room for its header: %v", err)
	}
	// An entry view of a message not wrapped at all is empty.
	var z imssbe.DepthUpdate
	if z.BidsEntries().Count() != 0 || z.AsksEntries().Count() != 0 {
		t.Fatal("zero message has entries")
	}
}

func TestEntriesNoAllocations(t *testing.T) {
	bids, asks := levels(20, 300000), levels(20, 300100)
	buf := make([]byte, 8+69+8+18*40)
	msg := make([]byte, len(buf))
	encodeDepth(t, msg, bids, asks)
	var sink int64
	if n := testing.AllocsPerRun(100, func() {
		encodeDepthEntries(t, buf, bids, asks)
		var m imssbe.DepthUpdate
		_ = m.WrapForDecodeHeader(msg, 0)
		for g, i := m.BidsEntries(), 0; i < g.Count(); i++ {
			sink += g.Entry(i).Price().Num()
		}
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
	_ = sink
}
