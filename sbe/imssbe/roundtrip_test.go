package imssbe_test

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/ims-dev/ims/sbe/imssbe"
	"github.com/ims-dev/ims/sbe/internal/sbetest"
	"github.com/ims-dev/ims/sbe/sbert"
)

type encoder interface {
	WrapAndApplyHeader(buf []byte, offset int) error
	EncodedLength() int
	AppendJSON(dst []byte) []byte
}

// TestFixedFieldsRoundTrip writes every fixed field of every message (and
// of every composite inside it) with distinct values, reads each back, and
// checks that the message validates and renders.
func TestFixedFieldsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		m      encoder
		id     uint16
		block  int
		finish func(t *testing.T, m encoder)
	}{
		{m: &imssbe.ClientLogin{}, id: 101, block: 4},
		{m: &imssbe.ClientLogout{}, id: 102, block: 4},
		{m: &imssbe.StartDataMsg{}, id: 201, block: 27},
		{m: &imssbe.StopDataMsg{}, id: 202, block: 26},
		{m: &imssbe.StopAllDataMsg{}, id: 203, block: 5},
		{m: &imssbe.DataBar{}, id: 204, block: 75},
		{m: &imssbe.TradeBar{}, id: 205, block: 48},
		{m: &imssbe.ClientError{}, id: 801, block: 5},
		{m: &imssbe.DataError{}, id: 802, block: 5},
		{m: &imssbe.Trade{}, id: 301, block: 73},
		{m: &imssbe.AggTrade{}, id: 302, block: 88},
		{m: &imssbe.Kline{}, id: 303, block: 151},
		{m: &imssbe.BookTicker{}, id: 304, block: 89},
		{m: &imssbe.DepthUpdate{}, id: 305, block: 69, finish: func(t *testing.T, m encoder) {
			d := m.(*imssbe.DepthUpdate)
			if _, err := d.BidsCount(0); err != nil {
				t.Fatal(err)
			}
			if _, err := d.AsksCount(0); err != nil {
				t.Fatal(err)
			}
		}},
		{m: &imssbe.DepthSnapshot{}, id: 306, block: 54, finish: func(t *testing.T, m encoder) {
			d := m.(*imssbe.DepthSnapshot)
			if _, err := d.BidsCount(0); err != nil {
				t.Fatal(err)
			}
			if _, err := d.AsksCount(0); err != nil {
				t.Fatal(err)
			}
		}},
		{m: &imssbe.Ticker{}, id: 307, block: 204},
		{m: &imssbe.MarkPrice{}, id: 308, block: 81},
		{m: &imssbe.Liquidation{}, id: 309, block: 94},
		{m: &imssbe.IndexPrice{}, id: 310, block: 46},
		{m: &imssbe.Status{}, id: 320, block: 55, finish: func(t *testing.T, m encoder) {
			if err := m.(*imssbe.Status).SetDetailString("ok"); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		name := imssbe.TemplateName(tc.id)
		t.Run(name, func(t *testing.T) {
			buf := make([]byte, 1024)
			if err := tc.m.WrapAndApplyHeader(buf, 0); err != nil {
				t.Fatal(err)
			}
			if tc.m.EncodedLength() != tc.block {
				t.Fatalf("block length %d, want %d", tc.m.EncodedLength(), tc.block)
			}
			verify := sbetest.Fill(t, rng, tc.m, "SetDetail")
			if tc.finish != nil {
				tc.finish(t, tc.m)
			}
			verify()
			msg := buf[:imssbe.HeaderLength+tc.m.EncodedLength()]
			h, err := imssbe.ReadHeader(msg)
			if err != nil || h != (sbert.Header{BlockLength: uint16(tc.block), TemplateID: tc.id, SchemaID: 1, Version: 1}) {
				t.Fatalf("header %+v, %v", h, err)
			}
			js, _ := sbetest.CheckRender(t, imssbe.Codec{}, msg)
			if want := tc.m.AppendJSON(nil); js != string(want) {
				t.Fatalf("decoded JSON differs from the encoder's view:\n%s\n%s", js, want)
			}
			if !strings.HasPrefix(js, `{"name":"`+name+`","templateId":`) {
				t.Fatalf("JSON %s", js)
			}
		})
	}
	if len(cases) != 20 {
		t.Fatalf("%d messages covered, the schema has 20", len(cases))
	}
}

// TestTradeLayout decodes a Trade built byte by byte from the layout in
// docs/sbe.md, independently of the generator.
func TestTradeLayout(t *testing.T) {
	le := binary.LittleEndian
	b := make([]byte, 8+73)
	le.PutUint16(b[0:], 73)
	le.PutUint16(b[2:], 301)
	le.PutUint16(b[4:], 1)
	le.PutUint16(b[6:], 1)
	p := b[8:]
	le.PutUint64(p[0:], 1700000000123456)    // eventTime µs
	le.PutUint64(p[8:], 1700000000123456789) // receiveTime ns
	p[16] = 4                                // BinanceSpot
	copy(p[17:37], "BTCUSDT")
	le.PutUint64(p[37:], 4242)          // tradeId
	le.PutUint64(p[45:], 3700050000000) // price
	p[53] = 8
	le.PutUint64(p[54:], 1250000) // quantity
	p[62] = 8
	le.PutUint64(p[63:], 1700000000123000) // tradeTime
	p[71] = 1                              // buyerIsMaker
	p[72] = 1                              // Market

	var m imssbe.Trade
	if err := m.WrapForDecodeHeader(b, 0); err != nil {
		t.Fatal(err)
	}
	if m.EventTime() != 1700000000123456 || m.ReceiveTime() != 1700000000123456789 || m.ExchangeID() != imssbe.ExchangeIDBinanceSpot ||
		m.TradeID() != 4242 || m.Price().Num() != 3700050000000 || m.Quantity().Scale() != 8 || m.TradeTime() != 1700000000123000 ||
		m.BuyerIsMaker() != imssbe.BooleanTypeTrue || m.TradeType() != imssbe.TradeTypeMarket {
		t.Fatalf("decode: %s", m.AppendText(nil))
	}
	wantJSON := `{"name":"Trade","templateId":301,"schemaId":1,"version":1,"eventTime":1700000000123456,"receiveTime":1700000000123456789,` +
		`"exchangeID":"BinanceSpot","symbolID":"BTCUSDT","tradeId":4242,"price":"37000.50000000","quantity":"0.01250000",` +
		`"tradeTime":1700000000123000,"buyerIsMaker":"True","tradeType":"Market"}`
	if got := string(m.AppendJSON(nil)); got != wantJSON {
		t.Fatalf("json:\n got %s\nwant %s", got, wantJSON)
	}
	wantText := `Trade eventTime=2023-11-14T22:13:20.123456Z receiveTime=2023-11-14T22:13:20.123456789Z exchangeID=BinanceSpot ` +
		`symbolID=BTCUSDT tradeId=4242 price=37000.50000000 quantity=0.01250000 tradeTime=2023-11-14T22:13:20.123000Z buyerIsMaker=True tradeType=Market`
	if got := string(m.AppendText(nil)); got != wantText {
		t.Fatalf("text:\n got %s\nwant %s", got, wantText)
	}
}

type level struct {
	pm, qm int64
	ps, qs uint8
}

func levels(n int, base int64) []level {
	out := make([]level, n)
	for i := range out {
		out[i] = level{pm: base - int64(i)*10, ps: 2, qm: int64(i+1) * 1000, qs: 3}
	}
	return out
}

func encodeDepth(t testing.TB, buf []byte, bids, asks []level) int {
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
	for _, side := range []struct {
		lv    []level
		count func(int) (imssbe.DepthUpdateBids, error)
	}{{bids, m.BidsCount}} {
		g, err := side.count(len(side.lv))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range side.lv {
			if !g.Next() {
				t.Fatal("Next = false while writing")
			}
			g.Price().Set(l.pm, l.ps)
			g.Quantity().Set(l.qm, l.qs)
		}
		if g.Next() {
			t.Fatal("Next = true past the count")
		}
	}
	a, err := m.AsksCount(len(asks))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range asks {
		if !a.Next() {
			t.Fatal("Next = false while writing")
		}
		a.Price().Set(l.pm, l.ps)
		a.Quantity().Set(l.qm, l.qs)
	}
	return imssbe.HeaderLength + m.EncodedLength()
}

func TestDepthUpdateRoundTrip(t *testing.T) {
	le := binary.LittleEndian
	for _, n := range []struct{ bids, asks int }{{0, 0}, {1, 0}, {0, 1}, {1, 1}, {20, 20}, {1000, 3}} {
		bids, asks := levels(n.bids, 300000), levels(n.asks, 300100)
		buf := make([]byte, 8+69+4+4+18*(n.bids+n.asks))
		size := encodeDepth(t, buf, bids, asks)
		if size != len(buf) {
			t.Fatalf("%v: encoded %d bytes, want %d", n, size, len(buf))
		}
		// Independent layout check of the group headers and first entries.
		gb := buf[8+69:]
		if le.Uint16(gb) != 18 || int(le.Uint16(gb[2:])) != n.bids {
			t.Fatalf("%v: bids header % x", n, gb[:4])
		}
		if n.bids > 0 && (int64(le.Uint64(gb[4:])) != bids[0].pm || gb[12] != 2 || int64(le.Uint64(gb[13:])) != bids[0].qm || gb[21] != 3) {
			t.Fatalf("%v: first bid % x", n, gb[4:22])
		}
		ga := gb[4+18*n.bids:]
		if le.Uint16(ga) != 18 || int(le.Uint16(ga[2:])) != n.asks {
			t.Fatalf("%v: asks header % x", n, ga[:4])
		}

		var m imssbe.DepthUpdate
		if err := m.WrapForDecodeHeader(buf, 0); err != nil {
			t.Fatalf("%v: %v", n, err)
		}
		if m.FirstUpdateID() != 100 || m.LastUpdateID() != 110 || m.PrevLastUpdateID() != 99 || m.EncodedLength()+8 != len(buf) {
			t.Fatalf("%v: decode %s", n, m.AppendText(nil))
		}
		g := m.Bids()
		if g.Count() != n.bids {
			t.Fatalf("%v: bids count %d", n, g.Count())
		}
		for i := 0; g.Next(); i++ {
			if g.Index() != i || g.Price().Num() != bids[i].pm || g.Price().Scale() != 2 || g.Quantity().Num() != bids[i].qm || g.Quantity().Scale() != 3 {
				t.Fatalf("%v: bid %d = %s %s", n, i, g.Price().AppendText(nil), g.Quantity().AppendText(nil))
			}
		}
		a := m.Asks()
		i := 0
		for ; a.Next(); i++ {
			if a.Price().Num() != asks[i].pm || a.Quantity().Num() != asks[i].qm {
				t.Fatalf("%v: ask %d", n, i)
			}
		}
		if i != n.asks {
			t.Fatalf("%v: iterated %d asks", n, i)
		}
		js, text := sbetest.CheckRender(t, imssbe.Codec{}, buf)
		if n.bids == 1 && n.asks == 1 {
			want := `{"name":"DepthUpdate","templateId":305,"schemaId":1,"version":1,"eventTime":1,"receiveTime":2,"exchangeID":"BinanceUsdMarginFuture",` +
				`"symbolID":"ETHUSDT","transactionTime":3,"firstUpdateId":100,"lastUpdateId":110,"prevLastUpdateId":99,` +
				`"bids":[{"price":"3000.00","quantity":"1.000"}],"asks":[{"price":"3001.00","quantity":"1.000"}]}`
			if js != want {
				t.Fatalf("json:\n got %s\nwant %s", js, want)
			}
			wantText := `DepthUpdate eventTime=1970-01-01T00:00:00.000001Z receiveTime=1970-01-01T00:00:00.000000002Z exchangeID=BinanceUsdMarginFuture ` +
				`symbolID=ETHUSDT transactionTime=1970-01-01T00:00:00.000003Z firstUpdateId=100 lastUpdateId=110 prevLastUpdateId=99 ` +
				`bids=[{price=3000.00 quantity=1.000}] asks=[{price=3001.00 quantity=1.000}]`
			if text != wantText {
				t.Fatalf("text:\n got %s\nwant %s", text, wantText)
			}
		}
		if n.bids == 0 && n.asks == 0 && !strings.Contains(js, `"bids":[],"asks":[]`) {
			t.Fatalf("empty groups: %s", js)
		}
	}
}

func TestDepthSnapshotRoundTrip(t *testing.T) {
	buf := make([]byte, 512)
	var m imssbe.DepthSnapshot
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	m.SetSource(imssbe.SnapshotSourceRest)
	m.SetLastUpdateID(77)
	if err := m.SetSymbolIDString("BTCUSD_PERP"); err != nil {
		t.Fatal(err)
	}
	b, _ := m.BidsCount(2)
	for b.Next() {
		b.Price().Set(int64(100-b.Index()), 0)
		b.Quantity().Set(5, 1)
	}
	a, _ := m.AsksCount(1)
	a.Next()
	a.Price().Set(101, 0)
	a.Quantity().Set(7, 0)
	msg := buf[:8+m.EncodedLength()]
	if len(msg) != 8+54+4+2*18+4+18 {
		t.Fatalf("length %d", len(msg))
	}
	js, _ := sbetest.CheckRender(t, imssbe.Codec{}, msg)
	if !strings.Contains(js, `"source":"Rest","transactionTime":0,"lastUpdateId":77,"bids":[{"price":"100","quantity":"0.5"},{"price":"99","quantity":"0.5"}],"asks":[{"price":"101","quantity":"7"}]}`) ||
		!strings.Contains(js, `"symbolID":"BTCUSD_PERP"`) {
		t.Fatalf("json %s", js)
	}
}

func TestStatusDetail(t *testing.T) {
	for _, detail := range []string{"", "reconnected after 3 attempts", "quote \" and \\ and \n newline", strings.Repeat("x", 65534)} {
		buf := make([]byte, 8+55+2+len(detail))
		var m imssbe.Status
		if err := m.WrapAndApplyHeader(buf, 0); err != nil {
			t.Fatal(err)
		}
		m.SetChannel(imssbe.ChannelDepth)
		m.SetKind(imssbe.StatusKindGap)
		m.SetGapFrom(10)
		m.SetGapTo(20)
		if err := m.SetDetailString(detail); err != nil {
			t.Fatal(err)
		}
		if m.EncodedLength()+8 != len(buf) {
			t.Fatalf("length %d", m.EncodedLength())
		}
		if binary.LittleEndian.Uint16(buf[8+55:]) != uint16(len(detail)) || string(buf[8+55+2:]) != detail {
			t.Fatal("var data layout")
		}
		var d imssbe.Status
		if err := d.WrapForDecodeHeader(buf, 0); err != nil {
			t.Fatal(err)
		}
		if string(d.Detail()) != detail || d.GapFrom() != 10 || d.GapTo() != 20 || d.Kind() != imssbe.StatusKindGap {
			t.Fatalf("decode %s", d.AppendText(nil))
		}
		js, text := sbetest.CheckRender(t, imssbe.Codec{}, buf)
		if detail == "reconnected after 3 attempts" {
			if !strings.HasSuffix(js, `"channel":"Depth","kind":"Gap","gapFrom":10,"gapTo":20,"detail":"reconnected after 3 attempts"}`) {
				t.Fatalf("json %s", js)
			}
			if !strings.HasSuffix(text, ` channel=Depth kind=Gap gapFrom=10 gapTo=20 detail="reconnected after 3 attempts"`) {
				t.Fatalf("text %s", text)
			}
		}
		if detail == "" && !strings.HasSuffix(text, ` detail=""`) {
			t.Fatalf("text %s", text)
		}
	}
	// Too long, and no room.
	var m imssbe.Status
	buf := make([]byte, 8+55+2+10)
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	if err := m.SetDetail(make([]byte, 65535)); !errors.Is(err, sbert.ErrValueTooLong) {
		t.Fatalf("65535 bytes: %v", err)
	}
	if err := m.SetDetail(make([]byte, 11)); !errors.Is(err, sbert.ErrShortBuffer) {
		t.Fatalf("no room: %v", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	var m imssbe.TradeBar
	if err := m.WrapAndApplyHeader(make([]byte, 55), 0); !errors.Is(err, sbert.ErrShortBuffer) {
		t.Fatalf("short: %v", err)
	}
	if err := m.WrapAndApplyHeader(make([]byte, 60), 5); !errors.Is(err, sbert.ErrShortBuffer) {
		t.Fatalf("short at offset: %v", err)
	}
	if err := m.WrapAndApplyHeader(make([]byte, 60), -1); !errors.Is(err, sbert.ErrShortBuffer) {
		t.Fatalf("negative offset: %v", err)
	}
	buf := make([]byte, 64)
	if err := m.WrapAndApplyHeader(buf, 4); err != nil {
		t.Fatal(err)
	}
	if err := m.SetSymbolIDString(strings.Repeat("A", 21)); !errors.Is(err, sbert.ErrValueTooLong) {
		t.Fatalf("21-byte symbol: %v", err)
	}
	if err := m.SetSymbolIDString(strings.Repeat("A", 20)); err != nil {
		t.Fatalf("20-byte symbol: %v", err)
	}
	var d imssbe.DepthUpdate
	small := make([]byte, 8+69+4+18)
	if err := d.WrapAndApplyHeader(small, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := d.BidsCount(2); !errors.Is(err, sbert.ErrShortBuffer) {
		t.Fatalf("2 bids in room for 1: %v", err)
	}
	if _, err := d.BidsCount(-1); !errors.Is(err, sbert.ErrGroupCount) {
		t.Fatalf("-1 bids: %v", err)
	}
	if _, err := d.BidsCount(65535); !errors.Is(err, sbert.ErrGroupCount) {
		t.Fatalf("65535 bids: %v", err)
	}
	g, err := d.BidsCount(1)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Next() || g.Next() {
		t.Fatal("one entry expected")
	}
	if _, err := d.AsksCount(0); !errors.Is(err, sbert.ErrShortBuffer) {
		t.Fatalf("asks header without room: %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	full := unhex(t, tradeBarBTC)
	for n := 0; n < len(full); n++ {
		_, err := imssbe.Codec{}.Validate(full[:n])
		var te *sbert.TruncatedError
		if !errors.As(err, &te) {
			t.Fatalf("%d bytes: %v", n, err)
		}
		want := "truncated TradeBar: need 56 bytes, have " + strconv.Itoa(n)
		if n < 8 {
			want = "truncated message header: need 8 bytes, have " + strconv.Itoa(n)
		}
		if err.Error() != want {
			t.Fatalf("%d bytes: %q, want %q", n, err, want)
		}
	}

	// Every prefix of a DepthUpdate fails as truncated; the full message
	// validates.
	buf := make([]byte, 8+69+8+18*5)
	size := encodeDepth(t, buf, levels(3, 1000), levels(2, 2000))
	for n := 0; n < size; n++ {
		if _, err := (imssbe.Codec{}).Validate(buf[:n]); !errors.As(err, new(*sbert.TruncatedError)) {
			t.Fatalf("%d of %d bytes: %v", n, size, err)
		}
	}
	if _, err := (imssbe.Codec{}).Validate(buf[:size-1]); err == nil ||
		err.Error() != "truncated DepthUpdate group asks: need "+strconv.Itoa(size)+" bytes, have "+strconv.Itoa(size-1) {
		t.Fatalf("asks cut: %v", err)
	}

	// A root block shorter than the schema's.
	short := append([]byte(nil), full...)
	binary.LittleEndian.PutUint16(short, 47)
	if _, err := (imssbe.Codec{}).Validate(short); err == nil || err.Error() != "TradeBar: blockLength 47 is below the minimum 48" {
		t.Fatalf("short block: %v", err)
	}
	// A group entry block shorter than the schema's.
	bad := append([]byte(nil), buf[:size]...)
	binary.LittleEndian.PutUint16(bad[8+69:], 17)
	if _, err := (imssbe.Codec{}).Validate(bad); err == nil || err.Error() != "DepthUpdate group bids: blockLength 17 is below the minimum 18" {
		t.Fatalf("short entry: %v", err)
	}
	// A group count above the dimension's maximum.
	binary.LittleEndian.PutUint16(bad[8+69:], 18)
	binary.LittleEndian.PutUint16(bad[8+69+2:], 65535)
	if _, err := (imssbe.Codec{}).Validate(bad); err == nil || err.Error() != "DepthUpdate group bids: numInGroup 65535 exceeds the maximum 65534" {
		t.Fatalf("count: %v", err)
	}
	// Var data longer than its maximum.
	st := make([]byte, 8+55+2)
	var s imssbe.Status
	if err := s.WrapAndApplyHeader(st, 0); err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint16(st[8+55:], 65535)
	if _, err := (imssbe.Codec{}).Validate(st); err == nil || err.Error() != "Status data detail: length 65535 exceeds the maximum 65534" {
		t.Fatalf("var data: %v", err)
	}
	binary.LittleEndian.PutUint16(st[8+55:], 3)
	if _, err := (imssbe.Codec{}).Validate(st); err == nil || err.Error() != "truncated Status data detail: need 68 bytes, have 65" {
		t.Fatalf("var data: %v", err)
	}
	// Unknown template.
	unk := append([]byte(nil), full...)
	binary.LittleEndian.PutUint16(unk[2:], 999)
	if _, err := (imssbe.Codec{}).Validate(unk); err == nil ||
		err.Error() != "unknown message: template 999 (schema id 1, version 1, blockLength 48) is not in schema ims" {
		t.Fatalf("unknown: %v", err)
	}
	// A typed decoder refuses another template.
	var tb imssbe.Trade
	if err := tb.WrapForDecodeHeader(full, 0); err == nil || !strings.Contains(err.Error(), "want Trade (template 301 of schema 1)") {
		t.Fatalf("wrong template: %v", err)
	}
}

// TestExtendedBlock decodes a message whose sender's schema had a longer
// root block (a later version): the known fields read right and the message
// length includes the extension.
func TestExtendedBlock(t *testing.T) {
	full := unhex(t, tradeBarBTC)
	ext := make([]byte, 0, 64)
	ext = append(ext, full[:8]...)
	binary.LittleEndian.PutUint16(ext, 52)
	binary.LittleEndian.PutUint16(ext[6:], 2)
	ext = append(ext, full[8:]...)
	ext = append(ext, 1, 2, 3, 4)
	n, err := imssbe.Codec{}.Validate(ext)
	if err != nil || n != 60 {
		t.Fatalf("Validate = %d, %v", n, err)
	}
	var m imssbe.TradeBar
	if err := m.WrapForDecodeHeader(ext, 0); err != nil {
		t.Fatal(err)
	}
	if m.ActingVersion() != 2 || m.ActingBlockLength() != 52 || m.Price().Num() != 3700050 {
		t.Fatalf("decode %s", m.AppendText(nil))
	}
	js, _, _ := imssbe.Codec{}.Append(nil, ext, sbert.FormatJSON)
	if !strings.Contains(string(js), `"version":2,`) {
		t.Fatalf("json %s", js)
	}
}

func TestEnums(t *testing.T) {
	if imssbe.ExchangeIDBinanceSpot.String() != "BinanceSpot" || imssbe.ExchangeID(200).String() != "ExchangeID(200)" {
		t.Fatal("ExchangeID.String")
	}
	if v, ok := imssbe.ParseTimeResolution("OneMonth"); !ok || v != imssbe.TimeResolutionOneMonth {
		t.Fatal("ParseTimeResolution")
	}
	if _, ok := imssbe.ParseTimeResolution("onemonth"); ok {
		t.Fatal("names are case-sensitive")
	}
	if got := string(imssbe.Side(9).AppendJSON(nil)); got != "9" {
		t.Fatalf("unknown enum JSON %s", got)
	}
	if got := string(imssbe.MessageTypeOrderError.AppendJSON(nil)); got != `"OrderError"` {
		t.Fatalf("enum JSON %s", got)
	}
	if imssbe.KlineInterval(0).IsValid() != true || imssbe.StatusKind(0).IsValid() {
		t.Fatal("IsValid")
	}
}

func TestNullDecimal(t *testing.T) {
	buf := make([]byte, 8+81)
	var m imssbe.MarkPrice
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	m.MarkPrice().Set(6500012, 2)
	m.IndexPrice().Set(math.MinInt64, 255)
	m.EstimatedSettlePrice().Set(math.MinInt64, 255)
	m.FundingRate().Set(1, 4)
	if !m.IndexPrice().IsNull() || m.FundingRate().IsNull() {
		t.Fatal("IsNull")
	}
	js, text := sbetest.CheckRender(t, imssbe.Codec{}, buf)
	if !strings.Contains(js, `"markPrice":"65000.12","indexPrice":null,"estimatedSettlePrice":null,"fundingRate":"0.0001"`) {
		t.Fatalf("json %s", js)
	}
	if !strings.Contains(text, ` markPrice=65000.12 indexPrice=null estimatedSettlePrice=null fundingRate=0.0001 nextFundingTime=0`) {
		t.Fatalf("text %s", text)
	}
}
