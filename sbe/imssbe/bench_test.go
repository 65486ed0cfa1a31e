package imssbe_test

import (
	"testing"

	"github.com/ims-dev/ims/sbe/imssbe"
	"github.com/ims-dev/ims/sbe/sbert"
)

// The loops use b.N rather than b.Loop: inside a b.Loop body the compiler
// keeps every call argument alive with an extra store, which for encoders
// that are themselves a dozen stores would double the time measured. The
// writes to the live buffer and to sink keep the work from being removed.
var sink int64

// BenchmarkTradeBarEncode writes the symbol as a fixed 20-byte array, as
// the relay does from a market.Symbol.
func BenchmarkTradeBarEncode(b *testing.B) {
	buf := make([]byte, 64)
	var sym [20]byte
	copy(sym[:], "BTCUSDT")
	b.ReportAllocs()
	b.SetBytes(56)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var m imssbe.TradeBar
		if err := m.WrapAndApplyHeader(buf, 0); err != nil {
			b.Fatal(err)
		}
		m.SetMessageType(imssbe.MessageTypeTradeBar)
		*m.SymbolIDArray() = sym
		m.SetDateTime(1700000000000000 + int64(i))
		m.Price().Set(3700050, 2)
		m.Volume().Set(125, 4)
	}
}

// BenchmarkTradeBarEncodeSymbolBytes sets the symbol from a []byte of any
// length (copy plus NUL padding).
func BenchmarkTradeBarEncodeSymbolBytes(b *testing.B) {
	buf := make([]byte, 64)
	sym := []byte("BTCUSDT")
	b.ReportAllocs()
	b.SetBytes(56)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var m imssbe.TradeBar
		if err := m.WrapAndApplyHeader(buf, 0); err != nil {
			b.Fatal(err)
		}
		m.SetMessageType(imssbe.MessageTypeTradeBar)
		_ = m.SetSymbolID(sym)
		m.SetDateTime(1700000000000000 + int64(i))
		m.Price().Set(3700050, 2)
		m.Volume().Set(125, 4)
	}
}

func BenchmarkTradeBarDecode(b *testing.B) {
	msg := unhex(b, tradeBarBTC)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for range b.N {
		var m imssbe.TradeBar
		if err := m.WrapForDecodeHeader(msg, 0); err != nil {
			b.Fatal(err)
		}
		sink += m.DateTime() + m.Price().Num() + int64(m.Price().Scale()) + m.Volume().Num() +
			int64(m.Volume().Scale()) + int64(m.SymbolID()[0]) + int64(m.MessageType())
	}
}

func BenchmarkTradeEncode(b *testing.B) {
	buf := make([]byte, 96)
	var sym [20]byte
	copy(sym[:], "BTCUSDT")
	b.ReportAllocs()
	b.SetBytes(8 + imssbe.TradeBlockLength)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var m imssbe.Trade
		if err := m.WrapAndApplyHeader(buf, 0); err != nil {
			b.Fatal(err)
		}
		m.SetEventTime(1700000000000000 + int64(i))
		m.SetReceiveTime(1700000000000000000 + int64(i))
		m.SetExchangeID(imssbe.ExchangeIDBinanceSpot)
		*m.SymbolIDArray() = sym
		m.SetTradeID(int64(i))
		m.Price().Set(3700050000000, 8)
		m.Quantity().Set(1250000, 8)
		m.SetTradeTime(1700000000000000 + int64(i))
		m.SetBuyerIsMaker(imssbe.BooleanTypeTrue)
		m.SetTradeType(imssbe.TradeTypeMarket)
	}
}

func BenchmarkTradeDecode(b *testing.B) {
	buf := make([]byte, 8+imssbe.TradeBlockLength)
	var e imssbe.Trade
	if err := e.WrapAndApplyHeader(buf, 0); err != nil {
		b.Fatal(err)
	}
	e.Price().Set(3700050000000, 8)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for range b.N {
		var m imssbe.Trade
		if err := m.WrapForDecodeHeader(buf, 0); err != nil {
			b.Fatal(err)
		}
		sink += m.EventTime() + m.ReceiveTime() + int64(m.ExchangeID()) + int64(m.SymbolID()[0]) + m.TradeID() +
			m.Price().Num() + int64(m.Price().Scale()) + m.Quantity().Num() + int64(m.Quantity().Scale()) +
			m.TradeTime() + int64(m.BuyerIsMaker()) + int64(m.TradeType())
	}
}

func depth20(b *testing.B) ([]byte, []level) {
	lv := levels(20, 3000000)
	buf := make([]byte, 8+69+8+18*40)
	encodeDepth(b, buf, lv, lv)
	return buf, lv
}

func BenchmarkDepthUpdate20Encode(b *testing.B) {
	buf, lv := depth20(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var m imssbe.DepthUpdate
		if err := m.WrapAndApplyHeader(buf, 0); err != nil {
			b.Fatal(err)
		}
		m.SetEventTime(int64(i))
		m.SetReceiveTime(int64(i))
		m.SetExchangeID(imssbe.ExchangeIDBinanceUsdMarginFuture)
		_ = m.SetSymbolIDString("ETHUSDT")
		m.SetTransactionTime(int64(i))
		m.SetFirstUpdateID(int64(i))
		m.SetLastUpdateID(int64(i) + 10)
		m.SetPrevLastUpdateID(int64(i) - 1)
		g, err := m.BidsCount(len(lv))
		if err != nil {
			b.Fatal(err)
		}
		for j := range lv {
			g.Next()
			g.Price().Set(lv[j].pm, lv[j].ps)
			g.Quantity().Set(lv[j].qm, lv[j].qs)
		}
		a, err := m.AsksCount(len(lv))
		if err != nil {
			b.Fatal(err)
		}
		for j := range lv {
			a.Next()
			a.Price().Set(lv[j].pm, lv[j].ps)
			a.Quantity().Set(lv[j].qm, lv[j].qs)
		}
	}
}

func BenchmarkDepthUpdate20Decode(b *testing.B) {
	buf, _ := depth20(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for range b.N {
		var m imssbe.DepthUpdate
		if err := m.WrapForDecodeHeader(buf, 0); err != nil {
			b.Fatal(err)
		}
		sink += m.EventTime() + m.FirstUpdateID() + m.LastUpdateID() + m.PrevLastUpdateID()
		g := m.Bids()
		for g.Next() {
			sink += g.Price().Num() + g.Quantity().Num()
		}
		a := m.Asks()
		for a.Next() {
			sink += a.Price().Num() + a.Quantity().Num()
		}
	}
}

// BenchmarkDepthUpdate20EncodeEntries is BenchmarkDepthUpdate20Encode
// through PutBids/PutAsks and Entry(i) instead of the iterators.
func BenchmarkDepthUpdate20EncodeEntries(b *testing.B) {
	buf, lv := depth20(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var m imssbe.DepthUpdate
		if err := m.WrapAndApplyHeader(buf, 0); err != nil {
			b.Fatal(err)
		}
		m.SetEventTime(int64(i))
		m.SetReceiveTime(int64(i))
		m.SetExchangeID(imssbe.ExchangeIDBinanceUsdMarginFuture)
		_ = m.SetSymbolIDString("ETHUSDT")
		m.SetTransactionTime(int64(i))
		m.SetFirstUpdateID(int64(i))
		m.SetLastUpdateID(int64(i) + 10)
		m.SetPrevLastUpdateID(int64(i) - 1)
		g, err := m.PutBids(len(lv))
		if err != nil {
			b.Fatal(err)
		}
		for j := range lv {
			e := g.Entry(j)
			e.Price().Set(lv[j].pm, lv[j].ps)
			e.Quantity().Set(lv[j].qm, lv[j].qs)
		}
		a, err := m.PutAsks(len(lv))
		if err != nil {
			b.Fatal(err)
		}
		for j := range lv {
			e := a.Entry(j)
			e.Price().Set(lv[j].pm, lv[j].ps)
			e.Quantity().Set(lv[j].qm, lv[j].qs)
		}
	}
}

// BenchmarkDepthUpdate20DecodeEntries is BenchmarkDepthUpdate20Decode
// through BidsEntries/AsksEntries and Entry(i).
func BenchmarkDepthUpdate20DecodeEntries(b *testing.B) {
	buf, _ := depth20(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for range b.N {
		var m imssbe.DepthUpdate
		if err := m.WrapForDecodeHeader(buf, 0); err != nil {
			b.Fatal(err)
		}
		sink += m.EventTime() + m.FirstUpdateID() + m.LastUpdateID() + m.PrevLastUpdateID()
		g := m.BidsEntries()
		for j := range g.Count() {
			e := g.Entry(j)
			sink += e.Price().Num() + e.Quantity().Num()
		}
		a := m.AsksEntries()
		for j := range a.Count() {
			e := a.Entry(j)
			sink += e.Price().Num() + e.Quantity().Num()
		}
	}
}

func BenchmarkTradeBarAppendJSON(b *testing.B) {
	msg := unhex(b, tradeBarBTC)
	dst := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for range b.N {
		out, _, err := imssbe.Codec{}.Append(dst[:0], msg, sbert.FormatJSON)
		if err != nil {
			b.Fatal(err)
		}
		sink += int64(len(out))
	}
}

func BenchmarkTradeBarAppendText(b *testing.B) {
	msg := unhex(b, tradeBarBTC)
	dst := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for range b.N {
		out, _, err := imssbe.Codec{}.Append(dst[:0], msg, sbert.FormatText)
		if err != nil {
			b.Fatal(err)
		}
		sink += int64(len(out))
	}
}
