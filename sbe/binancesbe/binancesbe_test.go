package binancesbe_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ims-dev/ims/sbe/binancesbe"
	"github.com/ims-dev/ims/sbe/internal/sbetest"
	"github.com/ims-dev/ims/sbe/sbert"
)

// The vectors below are built field by field from the schema layout in
// docs/binance.md §6.1, independently of the generator.

var le = binary.LittleEndian

type wbuf struct{ b []byte }

func (w *wbuf) u8(v uint8)   { w.b = append(w.b, v) }
func (w *wbuf) i8(v int8)    { w.b = append(w.b, uint8(v)) }
func (w *wbuf) u16(v uint16) { w.b = le.AppendUint16(w.b, v) }
func (w *wbuf) u32(v uint32) { w.b = le.AppendUint32(w.b, v) }
func (w *wbuf) i64(v int64)  { w.b = le.AppendUint64(w.b, uint64(v)) }
func (w *wbuf) str8(s string) {
	w.u8(uint8(len(s)))
	w.b = append(w.b, s...)
}
func (w *wbuf) header(blockLength, templateID uint16) {
	w.u16(blockLength)
	w.u16(templateID)
	w.u16(1) // schemaId
	w.u16(0) // version
}

// tradesVector: two trades in one event.
func tradesVector() []byte {
	var w wbuf
	w.header(18, 10000)
	w.i64(1700000000123456) // eventTime µs
	w.i64(1700000000123000) // transactTime µs
	w.i8(-8)                // priceExponent
	w.i8(-8)                // qtyExponent
	w.u16(25)               // group blockLength
	w.u32(2)                // numInGroup
	w.i64(1001)
	w.i64(3700050000000)
	w.i64(1250000)
	w.u8(1)
	w.i64(1002)
	w.i64(3700060000000)
	w.i64(100000000)
	w.u8(0)
	w.str8("BTCUSDT")
	return w.b
}

func bestBidAskVector() []byte {
	var w wbuf
	w.header(50, 10001)
	w.i64(1700000000123456)
	w.i64(987654321) // bookUpdateId
	w.i8(-2)
	w.i8(-5)
	w.i64(3700050) // bid 37000.50
	w.i64(150000)  // 1.50000
	w.i64(3700051)
	w.i64(3)
	w.str8("BTCUSDT")
	return w.b
}

func depthVector(template uint16, nb, na int) []byte {
	var w wbuf
	if template == 10002 {
		w.header(18, 10002)
		w.i64(1700000000123456)
		w.i64(555) // bookUpdateId
	} else {
		w.header(26, 10003)
		w.i64(1700000000123456)
		w.i64(556) // firstBookUpdateId
		w.i64(560) // lastBookUpdateId
	}
	w.i8(-2)
	w.i8(-8)
	for _, n := range []int{nb, na} {
		w.u16(16)
		w.u16(uint16(n))
		for i := 0; i < n; i++ {
			w.i64(int64(3700000 + i))
			w.i64(int64(i) * 100000000)
		}
	}
	w.str8("ETHBTC")
	return w.b
}

func TestTradesStreamEvent(t *testing.T) {
	v := tradesVector()
	var m binancesbe.TradesStreamEvent
	if err := m.WrapForDecodeHeader(v, 0); err != nil {
		t.Fatal(err)
	}
	if m.EventTime() != 1700000000123456 || m.TransactTime() != 1700000000123000 || m.PriceExponent() != -8 || m.QtyExponent() != -8 {
		t.Fatalf("root: %s", m.AppendText(nil))
	}
	g := m.Trades()
	if g.Count() != 2 {
		t.Fatalf("count %d", g.Count())
	}
	g.Next()
	if g.ID() != 1001 || g.Price() != 3700050000000 || g.Qty() != 1250000 || g.IsBuyerMaker() != binancesbe.BoolEnumTrue || g.IsBestMatch() != binancesbe.BoolEnumTrue {
		t.Fatal("first trade")
	}
	if string(m.Symbol()) != "BTCUSDT" || 8+m.EncodedLength() != len(v) {
		t.Fatalf("symbol %q, length %d", m.Symbol(), m.EncodedLength())
	}
	wantJSON := `{"name":"TradesStreamEvent","templateId":10000,"schemaId":1,"version":0,"eventTime":1700000000123456,"transactTime":1700000000123000,` +
		`"priceExponent":-8,"qtyExponent":-8,"trades":[` +
		`{"id":1001,"price":"37000.50000000","qty":"0.01250000","isBuyerMaker":"True","isBestMatch":"True"},` +
		`{"id":1002,"price":"37000.60000000","qty":"1.00000000","isBuyerMaker":"False","isBestMatch":"True"}],"symbol":"BTCUSDT"}`
	wantText := `TradesStreamEvent eventTime=2023-11-14T22:13:20.123456Z transactTime=2023-11-14T22:13:20.123000Z priceExponent=-8 qtyExponent=-8 ` +
		`trades=[{id=1001 price=37000.50000000 qty=0.01250000 isBuyerMaker=True isBestMatch=True} ` +
		`{id=1002 price=37000.60000000 qty=1.00000000 isBuyerMaker=False isBestMatch=True}] symbol=BTCUSDT`
	js, text := sbetest.CheckRender(t, binancesbe.Codec{}, v)
	if js != wantJSON {
		t.Errorf("json:\n got %s\nwant %s", js, wantJSON)
	}
	if text != wantText {
		t.Errorf("text:\n got %s\nwant %s", text, wantText)
	}

	// The encoder produces the hand-built bytes.
	buf := bytes.Repeat([]byte{0xee}, len(v))
	var e binancesbe.TradesStreamEvent
	if err := e.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	e.SetEventTime(1700000000123456)
	e.SetTransactTime(1700000000123000)
	e.SetPriceExponent(-8)
	e.SetQtyExponent(-8)
	tr, err := e.TradesCount(2)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		id, p, q int64
		maker    binancesbe.BoolEnum
	}{{1001, 3700050000000, 1250000, binancesbe.BoolEnumTrue}, {1002, 3700060000000, 100000000, binancesbe.BoolEnumFalse}} {
		tr.Next()
		tr.SetID(x.id)
		tr.SetPrice(x.p)
		tr.SetQty(x.q)
		tr.SetIsBuyerMaker(x.maker)
	}
	if err := e.SetSymbolString("BTCUSDT"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, v) || 8+e.EncodedLength() != len(v) {
		t.Fatalf("encode:\n got %x\nwant %x", buf, v)
	}
}

func TestBestBidAskStreamEvent(t *testing.T) {
	v := bestBidAskVector()
	js, text := sbetest.CheckRender(t, binancesbe.Codec{}, v)
	want := `{"name":"BestBidAskStreamEvent","templateId":10001,"schemaId":1,"version":0,"eventTime":1700000000123456,"bookUpdateId":987654321,` +
		`"priceExponent":-2,"qtyExponent":-5,"bidPrice":"37000.50","bidQty":"1.50000","askPrice":"37000.51","askQty":"0.00003","symbol":"BTCUSDT"}`
	if js != want {
		t.Fatalf("json:\n got %s\nwant %s", js, want)
	}
	if !strings.HasSuffix(text, ` bidPrice=37000.50 bidQty=1.50000 askPrice=37000.51 askQty=0.00003 symbol=BTCUSDT`) {
		t.Fatalf("text %s", text)
	}
	buf := make([]byte, len(v))
	var e binancesbe.BestBidAskStreamEvent
	if err := e.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	e.SetEventTime(1700000000123456)
	e.SetBookUpdateID(987654321)
	e.SetPriceExponent(-2)
	e.SetQtyExponent(-5)
	e.SetBidPrice(3700050)
	e.SetBidQty(150000)
	e.SetAskPrice(3700051)
	e.SetAskQty(3)
	if err := e.SetSymbol([]byte("BTCUSDT")); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, v) {
		t.Fatalf("encode:\n got %x\nwant %x", buf, v)
	}
}

func TestDepthEvents(t *testing.T) {
	for _, tc := range []struct {
		template uint16
		nb, na   int
	}{{10002, 0, 0}, {10002, 1, 1}, {10002, 20, 20}, {10003, 0, 1}, {10003, 3, 0}, {10003, 1000, 1000}} {
		v := depthVector(tc.template, tc.nb, tc.na)
		js, _ := sbetest.CheckRender(t, binancesbe.Codec{}, v)
		if !strings.HasSuffix(js, `"symbol":"ETHBTC"}`) {
			t.Fatalf("%v: json %s", tc, js)
		}
		if tc.nb == 1 && !strings.Contains(js, `"bids":[{"price":"37000.00","qty":"0.00000000"}]`) {
			t.Fatalf("%v: json %s", tc, js)
		}
		if tc.template == 10003 {
			var m binancesbe.DepthDiffStreamEvent
			if err := m.WrapForDecodeHeader(v, 0); err != nil {
				t.Fatal(err)
			}
			if m.FirstBookUpdateID() != 556 || m.LastBookUpdateID() != 560 || m.Bids().Count() != tc.nb || m.Asks().Count() != tc.na {
				t.Fatalf("%v: %s", tc, m.AppendText(nil))
			}
			a := m.Asks()
			for i := 0; a.Next(); i++ {
				if a.Price() != int64(3700000+i) || a.Qty() != int64(i)*100000000 {
					t.Fatalf("%v: ask %d", tc, i)
				}
			}
			// The same entries by index.
			ae := m.AsksEntries()
			if ae.Count() != tc.na || m.BidsEntries().Count() != tc.nb {
				t.Fatalf("%v: entries %d %d", tc, ae.Count(), m.BidsEntries().Count())
			}
			for i := range ae.Count() {
				if e := ae.Entry(i); e.Price() != int64(3700000+i) || e.Qty() != int64(i)*100000000 {
					t.Fatalf("%v: ask entry %d", tc, i)
				}
			}
		} else {
			var m binancesbe.DepthSnapshotStreamEvent
			if err := m.WrapForDecodeHeader(v, 0); err != nil {
				t.Fatal(err)
			}
			if m.BookUpdateID() != 555 || m.Bids().Count() != tc.nb || string(m.Symbol()) != "ETHBTC" {
				t.Fatalf("%v: %s", tc, m.AppendText(nil))
			}
		}
	}
	js, _ := sbetest.CheckRender(t, binancesbe.Codec{}, depthVector(10003, 1, 2))
	want := `{"name":"DepthDiffStreamEvent","templateId":10003,"schemaId":1,"version":0,"eventTime":1700000000123456,"firstBookUpdateId":556,` +
		`"lastBookUpdateId":560,"priceExponent":-2,"qtyExponent":-8,"bids":[{"price":"37000.00","qty":"0.00000000"}],` +
		`"asks":[{"price":"37000.00","qty":"0.00000000"},{"price":"37000.01","qty":"1.00000000"}],"symbol":"ETHBTC"}`
	if js != want {
		t.Fatalf("json:\n got %s\nwant %s", js, want)
	}
}

func TestFixedFieldsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 256)
	var a binancesbe.TradesStreamEvent
	_ = a.WrapAndApplyHeader(buf, 0)
	verify := sbetest.Fill(t, rng, &a, "SetSymbol")
	g, _ := a.TradesCount(1)
	g.Next()
	vg := sbetest.Fill(t, rng, &g)
	_ = a.SetSymbolString("X")
	verify()
	vg()
	sbetest.CheckRender(t, binancesbe.Codec{}, buf[:8+a.EncodedLength()])

	var b binancesbe.BestBidAskStreamEvent
	_ = b.WrapAndApplyHeader(buf, 0)
	verify = sbetest.Fill(t, rng, &b, "SetSymbol")
	_ = b.SetSymbolString("")
	verify()
	sbetest.CheckRender(t, binancesbe.Codec{}, buf[:8+b.EncodedLength()])

	var c binancesbe.DepthDiffStreamEvent
	_ = c.WrapAndApplyHeader(buf, 0)
	verify = sbetest.Fill(t, rng, &c, "SetSymbol")
	bids, _ := c.BidsCount(1)
	bids.Next()
	vb := sbetest.Fill(t, rng, &bids)
	_, _ = c.AsksCount(0)
	_ = c.SetSymbolString("BNBUSDT")
	verify()
	vb()
	sbetest.CheckRender(t, binancesbe.Codec{}, buf[:8+c.EncodedLength()])

	var d binancesbe.DepthSnapshotStreamEvent
	_ = d.WrapAndApplyHeader(buf, 0)
	verify = sbetest.Fill(t, rng, &d, "SetSymbol")
	_, _ = d.BidsCount(0)
	_, _ = d.AsksCount(0)
	_ = d.SetSymbolString("BNBUSDT")
	verify()
	sbetest.CheckRender(t, binancesbe.Codec{}, buf[:8+d.EncodedLength()])
}

func TestTruncatedAndLimits(t *testing.T) {
	for _, v := range [][]byte{tradesVector(), bestBidAskVector(), depthVector(10002, 2, 3), depthVector(10003, 1, 1)} {
		for n := 0; n < len(v); n++ {
			if _, err := (binancesbe.Codec{}).Validate(v[:n]); !errors.As(err, new(*sbert.TruncatedError)) {
				t.Fatalf("%d of %d bytes: %v", n, len(v), err)
			}
		}
	}
	v := tradesVector()
	if _, err := (binancesbe.Codec{}).Validate(v[:len(v)-3]); err == nil ||
		err.Error() != "truncated TradesStreamEvent data symbol: need 90 bytes, have 87" {
		t.Fatalf("symbol cut: %v", err)
	}
	bad := append([]byte(nil), v...)
	le.PutUint32(bad[8+18+2:], 1<<31)
	if _, err := (binancesbe.Codec{}).Validate(bad); err == nil ||
		err.Error() != "TradesStreamEvent group trades: numInGroup 2147483648 exceeds the maximum 2147483647" {
		t.Fatalf("count: %v", err)
	}
	// A huge but legal count must fail as truncated, without walking it.
	le.PutUint32(bad[8+18+2:], 1<<31-1)
	if _, err := (binancesbe.Codec{}).Validate(bad); !errors.As(err, new(*sbert.TruncatedError)) {
		t.Fatalf("huge count: %v", err)
	}
}

func FuzzCodec(f *testing.F) {
	for _, v := range [][]byte{tradesVector(), bestBidAskVector(), depthVector(10002, 2, 3), depthVector(10003, 1, 1)} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sbetest.FuzzCodec(t, binancesbe.Codec{}, data)
	})
}

var sink int64

func BenchmarkTradesStreamEventDecode(b *testing.B) {
	v := tradesVector()
	b.ReportAllocs()
	b.SetBytes(int64(len(v)))
	for b.Loop() {
		var m binancesbe.TradesStreamEvent
		if err := m.WrapForDecodeHeader(v, 0); err != nil {
			b.Fatal(err)
		}
		g := m.Trades()
		for g.Next() {
			sink += g.ID() + g.Price() + g.Qty()
		}
		sink += int64(len(m.Symbol()))
	}
}
