package sbecodec

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/sbe/imssbe"
	"github.com/ims-dev/ims/sbe/sbert"
)

func sym(s string) market.Symbol {
	v, ok := market.NewSymbol(s)
	if !ok {
		panic("bad symbol " + s)
	}
	return v
}

func d(s string) market.Decimal { return market.MustDecimal(s) }

func hdr(ex market.ExchangeID, s string) market.Header {
	return market.Header{Exchange: ex, Symbol: sym(s), EventTime: 1700000000123456, ReceiveTime: 1700000000123456789}
}

func levels(n int) []market.Level {
	out := make([]market.Level, n)
	for i := range out {
		out[i] = market.Level{Price: market.Decimal{Mantissa: 3700000 - int64(i), Scale: 2}, Quantity: market.Decimal{Mantissa: int64(i) * 7, Scale: 8}}
	}
	return out
}

var (
	sampleTrade = market.Trade{Header: hdr(market.ExchangeBinanceSpot, "BTCUSDT"), TradeID: 12345, Price: d("37000.50000000"),
		Quantity: d("0.01250000"), TradeTime: 1700000000123000, BuyerIsMaker: true, Type: market.TradeTypeMarket}
	sampleAggTrade = market.AggTrade{Header: hdr(market.ExchangeBinanceUSDM, "ETHUSDT"), AggTradeID: 9, Price: d("2000.01"),
		Quantity: d("1.5"), FirstTradeID: 100, LastTradeID: 104, TradeTime: 1700000000000000}
	sampleKline = market.Kline{Header: hdr(market.ExchangeBinanceCoinM, "BTCUSD_PERP"), Interval: market.Interval1m,
		OpenTime: 1700000000000000, CloseTime: 1700000059999000, FirstTradeID: 1, LastTradeID: 9,
		Open: d("1.0"), High: d("2.00"), Low: d("0.5"), Close: d("1.75"), Volume: d("10"), QuoteVolume: d("12.5"),
		TradeCount: 9, TakerBuyVolume: d("4"), TakerBuyQuoteVolume: d("5.0"), Closed: true}
	sampleBookTicker = market.BookTicker{Header: hdr(market.ExchangeBinanceSpotTestnet, "BNBUSDT"), UpdateID: 400900217,
		BidPrice: d("25.35190000"), BidQty: d("31.21000000"), AskPrice: d("25.36520000"), AskQty: d("40.66000000")}
	sampleTicker = market.Ticker{Header: hdr(market.ExchangeBinanceSpot, "BNBBTC"), Kind: market.TickerMini,
		PriceChange: market.NullDecimal, PriceChangePercent: market.NullDecimal, WeightedAvgPrice: market.NullDecimal,
		LastPrice: d("0.0025"), LastQty: market.NullDecimal, OpenPrice: d("0.0010"), HighPrice: d("0.0025"),
		LowPrice: d("0.0010"), Volume: d("10000"), QuoteVolume: d("18"), BidPrice: market.NullDecimal,
		BidQty: market.NullDecimal, AskPrice: market.NullDecimal, AskQty: market.NullDecimal}
	sampleMarkPrice = market.MarkPrice{Header: hdr(market.ExchangeBinanceCoinM, "BTCUSD_200925"), MarkPrice: d("11012.87546"),
		IndexPrice: d("11016.19"), EstimatedSettlePrice: market.NullDecimal, FundingRate: market.NullDecimal}
	sampleLiquidation = market.Liquidation{Header: hdr(market.ExchangeBinanceUSDM, "BTCUSDT"), Side: market.SideSell,
		OrderType: market.OrderTypeLimit, TimeInForce: market.TimeInForceIOC, Status: market.OrderStatusFilled,
		Price: d("9910"), Quantity: d("0.014"), AveragePrice: d("9910"), LastFilledQty: d("0.014"), FilledQty: d("0.014"),
		TradeTime: 1568014460893000}
	sampleIndexPrice = market.IndexPrice{Header: hdr(market.ExchangeBinanceCoinM, "BTCUSD"), Price: d("9636.57860000")}
	sampleStatus     = market.Status{Header: hdr(market.ExchangeBinanceUSDM, "BTCUSDT"), Channel: market.ChannelDepth,
		Kind: market.StatusGap, GapFrom: 101, GapTo: 109, Detail: "pu 100 != last u 99; resyncing from snapshot"}
)

// roundTrip encodes ev after a non-empty prefix, checks the message sits
// right after it, decodes it into a dirty value and compares.
func roundTrip[E any](t *testing.T, ev *E, appendFn func([]byte, *E) ([]byte, error), decode func([]byte, *E) error, dirty E) []byte {
	t.Helper()
	prefix := []byte("prefix")
	out, err := appendFn(append([]byte(nil), prefix...), ev)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out[:len(prefix)], prefix) {
		t.Fatal("prefix overwritten")
	}
	msg := out[len(prefix):]
	if n, err := (imssbe.Codec{}).Validate(msg); err != nil || n != len(msg) {
		t.Fatalf("Validate = %d, %v (message %d bytes)", n, err, len(msg))
	}
	got := dirty
	if err := decode(msg, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, ev) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, *ev)
	}
	return msg
}

func fixed[E any](f func([]byte, *E) []byte) func([]byte, *E) ([]byte, error) {
	return func(b []byte, e *E) ([]byte, error) { return f(b, e), nil }
}

func TestRoundTrips(t *testing.T) {
	t.Run("Trade", func(t *testing.T) {
		msg := roundTrip(t, &sampleTrade, fixed(AppendTrade), DecodeTrade, market.Trade{TradeID: 1, BuyerIsMaker: false})
		if len(msg) != TradeSize {
			t.Fatalf("size %d", len(msg))
		}
	})
	t.Run("AggTrade", func(t *testing.T) {
		roundTrip(t, &sampleAggTrade, fixed(AppendAggTrade), DecodeAggTrade, market.AggTrade{BuyerIsMaker: true})
	})
	t.Run("Kline", func(t *testing.T) {
		roundTrip(t, &sampleKline, fixed(AppendKline), DecodeKline, market.Kline{Closed: false})
	})
	t.Run("BookTicker", func(t *testing.T) {
		roundTrip(t, &sampleBookTicker, fixed(AppendBookTicker), DecodeBookTicker, market.BookTicker{UpdateID: 5})
	})
	t.Run("Ticker", func(t *testing.T) {
		msg := roundTrip(t, &sampleTicker, fixed(AppendTicker), DecodeTicker, market.Ticker{LastQty: d("1")})
		out, _, _ := imssbe.Codec{}.Append(nil, msg, sbert.FormatJSON)
		if !strings.Contains(string(out), `"kind":"Mini","priceChange":null,`) {
			t.Fatalf("json %s", out)
		}
	})
	t.Run("MarkPrice", func(t *testing.T) {
		roundTrip(t, &sampleMarkPrice, fixed(AppendMarkPrice), DecodeMarkPrice, market.MarkPrice{FundingRate: d("1")})
	})
	t.Run("Liquidation", func(t *testing.T) {
		roundTrip(t, &sampleLiquidation, fixed(AppendLiquidation), DecodeLiquidation, market.Liquidation{})
	})
	t.Run("IndexPrice", func(t *testing.T) {
		roundTrip(t, &sampleIndexPrice, fixed(AppendIndexPrice), DecodeIndexPrice, market.IndexPrice{Price: d("3")})
	})
	for _, detail := range []string{"", "x", sampleStatus.Detail, strings.Repeat("é", MaxDetail/2)} {
		ev := sampleStatus
		ev.Detail = detail
		msg := roundTrip(t, &ev, AppendStatus, DecodeStatus, market.Status{Detail: "old"})
		if len(msg) != StatusSize(&ev) {
			t.Fatalf("size %d", len(msg))
		}
	}
	for _, n := range []struct{ bids, asks int }{{0, 0}, {1, 0}, {0, 1}, {1, 1}, {20, 20}, {5000, 4000}} {
		ev := market.DepthUpdate{Header: hdr(market.ExchangeBinanceUSDM, "BTCUSDT"), TransactionTime: 5, FirstUpdateID: 10,
			LastUpdateID: 20, PrevLastUpdateID: 9, Bids: levels(n.bids), Asks: levels(n.asks)}
		dirty := market.DepthUpdate{Bids: levels(3), Asks: make([]market.Level, 0, 100)}
		var got market.DepthUpdate
		msg, err := AppendDepthUpdate(nil, &ev)
		if err != nil {
			t.Fatal(err)
		}
		if len(msg) != DepthUpdateSize(&ev) {
			t.Fatalf("%v: size %d", n, len(msg))
		}
		got = dirty
		if err := DecodeDepthUpdate(msg, &got); err != nil {
			t.Fatal(err)
		}
		if got.Header != ev.Header || got.LastUpdateID != 20 || got.PrevLastUpdateID != 9 || got.TransactionTime != 5 ||
			!slices.Equal(got.Bids, ev.Bids) || !slices.Equal(got.Asks, ev.Asks) {
			t.Fatalf("%v: depth round trip", n)
		}
		if n.asks <= 100 && cap(got.Asks) != 100 {
			t.Fatalf("%v: asks capacity not reused (%d)", n, cap(got.Asks))
		}

		snap := market.DepthSnapshot{Header: hdr(market.ExchangeBinanceSpot, "BNBBTC"), Source: market.SnapshotREST,
			LastUpdateID: 77, Bids: levels(n.bids), Asks: levels(n.asks)}
		smsg, err := AppendDepthSnapshot(nil, &snap)
		if err != nil {
			t.Fatal(err)
		}
		var gs market.DepthSnapshot
		if err := DecodeDepthSnapshot(smsg, &gs); err != nil {
			t.Fatal(err)
		}
		if gs.Header != snap.Header || gs.Source != snap.Source || gs.LastUpdateID != 77 || !slices.Equal(gs.Bids, snap.Bids) || !slices.Equal(gs.Asks, snap.Asks) {
			t.Fatalf("%v: snapshot round trip", n)
		}
	}
}

func TestEncodeLimits(t *testing.T) {
	big := market.DepthUpdate{Bids: make([]market.Level, MaxLevels+1)}
	if out, err := AppendDepthUpdate([]byte("x"), &big); !errors.Is(err, ErrTooManyLevels) || string(out) != "x" {
		t.Fatalf("too many levels: %q, %v", out, err)
	}
	snap := market.DepthSnapshot{Asks: make([]market.Level, MaxLevels+1)}
	if _, err := AppendDepthSnapshot(nil, &snap); !errors.Is(err, ErrTooManyLevels) {
		t.Fatalf("snapshot: %v", err)
	}
	st := market.Status{Detail: strings.Repeat("x", MaxDetail+1)}
	if _, err := AppendStatus(nil, &st); !errors.Is(err, ErrDetailTooLong) {
		t.Fatalf("detail: %v", err)
	}
	// The maximum fits.
	big.Bids = big.Bids[:MaxLevels]
	if _, err := AppendDepthUpdate(nil, &big); err != nil {
		t.Fatal(err)
	}
}

func TestEvents(t *testing.T) {
	var stream []byte
	stream = AppendTrade(stream, &sampleTrade)
	stream = AppendAggTrade(stream, &sampleAggTrade)
	stream = AppendKline(stream, &sampleKline)
	stream = AppendBookTicker(stream, &sampleBookTicker)
	depth := market.DepthUpdate{Header: hdr(market.ExchangeBinanceSpot, "BTCUSDT"), Bids: levels(2), Asks: levels(1)}
	stream, _ = AppendDepthUpdate(stream, &depth)
	snap := market.DepthSnapshot{Header: hdr(market.ExchangeBinanceSpot, "BTCUSDT"), Source: market.SnapshotPartial, Bids: levels(5)}
	stream, _ = AppendDepthSnapshot(stream, &snap)
	stream = AppendTicker(stream, &sampleTicker)
	stream = AppendMarkPrice(stream, &sampleMarkPrice)
	stream = AppendLiquidation(stream, &sampleLiquidation)
	stream = AppendIndexPrice(stream, &sampleIndexPrice)
	stream, _ = AppendStatus(stream, &sampleStatus)

	var e Events
	var got []uint16
	for len(stream) > 0 {
		n, err := imssbe.Codec{}.Validate(stream)
		if err != nil {
			t.Fatal(err)
		}
		id, err := e.Decode(stream[:n])
		if err != nil {
			t.Fatal(err)
		}
		h, ok := e.Header(id)
		if !ok || h.EventTime != 1700000000123456 {
			t.Fatalf("template %d: header %+v", id, h)
		}
		got = append(got, id)
		stream = stream[n:]
	}
	want := []uint16{301, 302, 303, 304, 305, 306, 307, 308, 309, 310, 320}
	if !slices.Equal(got, want) {
		t.Fatalf("templates %v", got)
	}
	if e.Trade != sampleTrade || e.Kline != sampleKline || e.Ticker != sampleTicker || e.Status != sampleStatus ||
		len(e.DepthSnapshot.Bids) != 5 || e.DepthSnapshot.Source != market.SnapshotPartial {
		t.Fatal("Events contents")
	}
	if _, ok := e.Header(205); ok {
		t.Fatal("Header(205)")
	}
	// Original messages and garbage are refused.
	tb := AppendTradeBar(nil, &sampleTrade)
	if id, err := e.Decode(tb); id != 205 || !errors.As(err, new(*sbert.UnknownTemplateError)) {
		t.Fatalf("TradeBar: %d, %v", id, err)
	}
	if _, err := e.Decode([]byte{1, 2}); !errors.As(err, new(*sbert.TruncatedError)) {
		t.Fatalf("short: %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	msg := AppendTrade(nil, &sampleTrade)
	var tr market.Trade
	for n := 0; n < len(msg); n++ {
		if err := DecodeTrade(msg[:n], &tr); !errors.As(err, new(*sbert.TruncatedError)) {
			t.Fatalf("%d bytes: %v", n, err)
		}
	}
	var k market.Kline
	if err := DecodeKline(msg, &k); err == nil || !strings.Contains(err.Error(), "want Kline") {
		t.Fatalf("wrong template: %v", err)
	}
	bad := append([]byte(nil), msg...)
	bad[8+71] = 2 // buyerIsMaker
	err := DecodeTrade(bad, &tr)
	var be *BoolError
	if !errors.As(err, &be) || err.Error() != "Trade: buyerIsMaker holds 2, not a BooleanType (0 or 1)" {
		t.Fatalf("bool: %v", err)
	}
}

// The worked example of docs/original-system.md §1.4.
const tradeBarBTC = "3000cd0001000100cd00425443555344540000000000000000000000000000401e18240a06005275380000000000027d0000000000000004"

func TestOriginalBars(t *testing.T) {
	ev := market.Trade{Header: market.Header{Symbol: sym("BTCUSDT")}, TradeTime: 1700000000000000, Price: d("37000.50"), Quantity: d("0.0125")}
	if got := hex.EncodeToString(AppendTradeBar(nil, &ev)); got != tradeBarBTC {
		t.Fatalf("TradeBar\n got %s\nwant %s", got, tradeBarBTC)
	}
	// The original live path wrote lower-case symbols; decoding upper-cases.
	live, _ := hex.DecodeString("3000cd0001000100cd00627463757364740000000000000000000000000000401e18240a060080782a7c5d03000008d01213000000000008")
	var tr market.Trade
	if err := DecodeTradeBar(live, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.Symbol.String() != "BTCUSDT" || tr.Price != d("37000.50000000") || tr.Quantity != d("0.01250000") || tr.TradeTime != 1700000000000000 {
		t.Fatalf("live TradeBar: %+v", tr)
	}
	msg := AppendDataBar(nil, &sampleKline)
	if len(msg) != 83 {
		t.Fatalf("DataBar %d bytes", len(msg))
	}
	var k market.Kline
	if err := DecodeDataBar(msg, &k); err != nil {
		t.Fatal(err)
	}
	if k.Symbol != sampleKline.Symbol || k.OpenTime != sampleKline.OpenTime || k.Open != sampleKline.Open || k.High != sampleKline.High ||
		k.Low != sampleKline.Low || k.Close != sampleKline.Close || k.Volume != sampleKline.Volume || !k.Closed {
		t.Fatalf("DataBar: %+v", k)
	}
}

// TestEnumValues pins that market's enums and the schema's agree, which
// the encoders rely on when they copy them as numbers.
func TestEnumValues(t *testing.T) {
	pairs := []struct {
		name   string
		market uint8
		sbe    uint8
	}{
		{"ExchangeNull", uint8(market.ExchangeNull), uint8(imssbe.ExchangeIDNullVal)},
		{"ExchangeKraken", uint8(market.ExchangeKraken), uint8(imssbe.ExchangeIDKraken)},
		{"ExchangeCoinbase", uint8(market.ExchangeCoinbase), uint8(imssbe.ExchangeIDCOINBASE)},
		{"ExchangeVex", uint8(market.ExchangeVex), uint8(imssbe.ExchangeIDVEX)},
		{"ExchangeBinanceSpot", uint8(market.ExchangeBinanceSpot), uint8(imssbe.ExchangeIDBinanceSpot)},
		{"ExchangeBinanceSpotTestnet", uint8(market.ExchangeBinanceSpotTestnet), uint8(imssbe.ExchangeIDBinanceSpotTestnet)},
		{"ExchangeBinanceCoinM", uint8(market.ExchangeBinanceCoinM), uint8(imssbe.ExchangeIDBinanceCoinMarginFuture)},
		{"ExchangeBinanceCoinMTestnet", uint8(market.ExchangeBinanceCoinMTestnet), uint8(imssbe.ExchangeIDBinanceCoinMarginFutureTestnet)},
		{"ExchangeBinanceUSDM", uint8(market.ExchangeBinanceUSDM), uint8(imssbe.ExchangeIDBinanceUsdMarginFuture)},
		{"ExchangeBinanceUSDMTestnet", uint8(market.ExchangeBinanceUSDMTestnet), uint8(imssbe.ExchangeIDBinanceUsdMarginFutureTestnet)},
		{"ChannelTrade", uint8(market.ChannelTrade), uint8(imssbe.ChannelTrade)},
		{"ChannelAggTrade", uint8(market.ChannelAggTrade), uint8(imssbe.ChannelAggTrade)},
		{"ChannelKline", uint8(market.ChannelKline), uint8(imssbe.ChannelKline)},
		{"ChannelBookTicker", uint8(market.ChannelBookTicker), uint8(imssbe.ChannelBookTicker)},
		{"ChannelDepth", uint8(market.ChannelDepth), uint8(imssbe.ChannelDepth)},
		{"ChannelPartialDepth", uint8(market.ChannelPartialDepth), uint8(imssbe.ChannelPartialDepth)},
		{"ChannelMiniTicker", uint8(market.ChannelMiniTicker), uint8(imssbe.ChannelMiniTicker)},
		{"ChannelTicker", uint8(market.ChannelTicker), uint8(imssbe.ChannelTicker)},
		{"ChannelMarkPrice", uint8(market.ChannelMarkPrice), uint8(imssbe.ChannelMarkPrice)},
		{"ChannelLiquidation", uint8(market.ChannelLiquidation), uint8(imssbe.ChannelLiquidation)},
		{"ChannelIndexPrice", uint8(market.ChannelIndexPrice), uint8(imssbe.ChannelIndexPrice)},
		{"ChannelDepthSnapshot", uint8(market.ChannelDepthSnapshot), uint8(imssbe.ChannelDepthSnapshot)},
		{"Interval1s", uint8(market.Interval1s), uint8(imssbe.KlineIntervalInterval1s)},
		{"Interval1m", uint8(market.Interval1m), uint8(imssbe.KlineIntervalInterval1m)},
		{"Interval1h", uint8(market.Interval1h), uint8(imssbe.KlineIntervalInterval1h)},
		{"Interval1d", uint8(market.Interval1d), uint8(imssbe.KlineIntervalInterval1d)},
		{"Interval1M", uint8(market.Interval1M), uint8(imssbe.KlineIntervalInterval1M)},
		{"TradeTypeMarket", uint8(market.TradeTypeMarket), uint8(imssbe.TradeTypeMarket)},
		{"TradeTypeInsuranceFund", uint8(market.TradeTypeInsuranceFund), uint8(imssbe.TradeTypeInsuranceFund)},
		{"TradeTypeADL", uint8(market.TradeTypeADL), uint8(imssbe.TradeTypeADL)},
		{"SideBuy", uint8(market.SideBuy), uint8(imssbe.SideBuy)},
		{"SideSell", uint8(market.SideSell), uint8(imssbe.SideSell)},
		{"OrderTypeLimit", uint8(market.OrderTypeLimit), uint8(imssbe.OrderTypeLimit)},
		{"OrderTypeMarket", uint8(market.OrderTypeMarket), uint8(imssbe.OrderTypeMarket)},
		{"TimeInForceGTC", uint8(market.TimeInForceGTC), uint8(imssbe.TimeInForceGTC)},
		{"TimeInForceGTD", uint8(market.TimeInForceGTD), uint8(imssbe.TimeInForceGTD)},
		{"OrderStatusNew", uint8(market.OrderStatusNew), uint8(imssbe.OrderStatusNew)},
		{"OrderStatusExpired", uint8(market.OrderStatusExpired), uint8(imssbe.OrderStatusExpired)},
		{"TickerFull", uint8(market.TickerFull), uint8(imssbe.TickerKindFull)},
		{"TickerMini", uint8(market.TickerMini), uint8(imssbe.TickerKindMini)},
		{"SnapshotREST", uint8(market.SnapshotREST), uint8(imssbe.SnapshotSourceRest)},
		{"SnapshotPartial", uint8(market.SnapshotPartial), uint8(imssbe.SnapshotSourcePartialStream)},
		{"StatusConnected", uint8(market.StatusConnected), uint8(imssbe.StatusKindConnected)},
		{"StatusGap", uint8(market.StatusGap), uint8(imssbe.StatusKindGap)},
		{"StatusGapUnfilled", uint8(market.StatusGapUnfilled), uint8(imssbe.StatusKindGapUnfilled)},
	}
	for _, p := range pairs {
		if p.market != p.sbe {
			t.Errorf("%s: market %d, schema %d", p.name, p.market, p.sbe)
		}
	}
	// Every schema interval and channel name exists in market with the same number.
	for i := market.Interval1s; i <= market.Interval1M; i++ {
		if !imssbe.KlineInterval(i).IsValid() || imssbe.KlineInterval(i).String() != "Interval"+i.String() {
			t.Errorf("interval %d: %s vs %s", i, imssbe.KlineInterval(i), i)
		}
	}
	for c := market.ChannelNone; c <= market.ChannelDepthSnapshot; c++ {
		if !strings.EqualFold(imssbe.Channel(c).String(), c.String()) {
			t.Errorf("channel %d: %s vs %s", c, imssbe.Channel(c), c)
		}
	}
}

func TestNoAllocations(t *testing.T) {
	buf := make([]byte, 0, 4096)
	depth := market.DepthUpdate{Header: hdr(market.ExchangeBinanceSpot, "BTCUSDT"), Bids: levels(20), Asks: levels(20)}
	dmsg, _ := AppendDepthUpdate(nil, &depth)
	smsg, _ := AppendStatus(nil, &sampleStatus)
	var e Events
	_, _ = e.Decode(dmsg)
	_, _ = e.Decode(smsg)
	for name, f := range map[string]func(){
		"AppendTrade":       func() { buf = AppendTrade(buf[:0], &sampleTrade) },
		"AppendDepthUpdate": func() { buf, _ = AppendDepthUpdate(buf[:0], &depth) },
		"AppendStatus":      func() { buf, _ = AppendStatus(buf[:0], &sampleStatus) },
		"AppendTicker":      func() { buf = AppendTicker(buf[:0], &sampleTicker) },
		"DecodeDepthUpdate": func() { _, _ = e.Decode(dmsg) },
		"DecodeStatus":      func() { _, _ = e.Decode(smsg) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations", name, n)
		}
	}
}

// encodeEvent re-encodes the event e holds for template id.
func encodeEvent(e *Events, id uint16) ([]byte, error) {
	switch id {
	case imssbe.TradeTemplateID:
		return AppendTrade(nil, &e.Trade), nil
	case imssbe.AggTradeTemplateID:
		return AppendAggTrade(nil, &e.AggTrade), nil
	case imssbe.KlineTemplateID:
		return AppendKline(nil, &e.Kline), nil
	case imssbe.BookTickerTemplateID:
		return AppendBookTicker(nil, &e.BookTicker), nil
	case imssbe.DepthUpdateTemplateID:
		return AppendDepthUpdate(nil, &e.DepthUpdate)
	case imssbe.DepthSnapshotTemplateID:
		return AppendDepthSnapshot(nil, &e.DepthSnapshot)
	case imssbe.TickerTemplateID:
		return AppendTicker(nil, &e.Ticker), nil
	case imssbe.MarkPriceTemplateID:
		return AppendMarkPrice(nil, &e.MarkPrice), nil
	case imssbe.LiquidationTemplateID:
		return AppendLiquidation(nil, &e.Liquidation), nil
	case imssbe.IndexPriceTemplateID:
		return AppendIndexPrice(nil, &e.IndexPrice), nil
	case imssbe.StatusTemplateID:
		return AppendStatus(nil, &e.Status)
	}
	return nil, errors.New("no encoder")
}

// FuzzDecode: any input either fails cleanly or decodes to an event whose
// encoding decodes back to the same event (encode∘decode∘encode = encode).
func FuzzDecode(f *testing.F) {
	f.Add(AppendTrade(nil, &sampleTrade))
	f.Add(AppendKline(nil, &sampleKline))
	f.Add(AppendTicker(nil, &sampleTicker))
	depth := market.DepthUpdate{Bids: levels(2), Asks: levels(3)}
	m, _ := AppendDepthUpdate(nil, &depth)
	f.Add(m)
	m, _ = AppendStatus(nil, &sampleStatus)
	f.Add(m)
	f.Add(AppendTradeBar(nil, &sampleTrade))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Events
		id, err := e.Decode(data)
		if err != nil {
			return
		}
		once, err := encodeEvent(&e, id)
		if err != nil {
			t.Fatalf("re-encode of template %d: %v", id, err)
		}
		var e2 Events
		if _, err := e2.Decode(once); err != nil {
			t.Fatalf("decode of re-encoded: %v", err)
		}
		twice, err := encodeEvent(&e2, id)
		if err != nil || !bytes.Equal(once, twice) {
			t.Fatalf("encoding not stable: %v\n%x\n%x", err, once, twice)
		}
	})
}

// appendDepthUpdateByHand writes the DepthUpdate layout of docs/sbe-ims.md
// with encoding/binary alone, at constant offsets into the pre-sized
// message: an independent check of AppendDepthUpdate, and the hand-written
// yardstick of its benchmarks.
func appendDepthUpdateByHand(dst []byte, ev *market.DepthUpdate) []byte {
	le := binary.LittleEndian
	dst, msg := extend(dst, DepthUpdateSize(ev))
	b := (*[8 + 69]byte)(msg)
	le.PutUint64(b[0:], 0x0001_0001_0131_0045) // version 1, schema 1, template 305, block 69
	le.PutUint64(b[8:], uint64(ev.EventTime))
	le.PutUint64(b[16:], uint64(ev.ReceiveTime))
	b[24] = uint8(ev.Exchange)
	*(*[20]byte)(b[25:45]) = ev.Symbol
	le.PutUint64(b[45:], uint64(ev.TransactionTime))
	le.PutUint64(b[53:], uint64(ev.FirstUpdateID))
	le.PutUint64(b[61:], uint64(ev.LastUpdateID))
	le.PutUint64(b[69:], uint64(ev.PrevLastUpdateID))
	p := len(b)
	for _, side := range [2][]market.Level{ev.Bids, ev.Asks} {
		le.PutUint32(msg[p:p+4], 18|uint32(len(side))<<16)
		p += 4
		for _, l := range side {
			e := (*[18]byte)(msg[p : p+18])
			le.PutUint64(e[0:], uint64(l.Price.Mantissa))
			e[8] = l.Price.Scale
			le.PutUint64(e[9:], uint64(l.Quantity.Mantissa))
			e[17] = l.Quantity.Scale
			p += 18
		}
	}
	return dst
}

func TestDepthUpdateLayout(t *testing.T) {
	for _, n := range []int{0, 1, 7, 300} {
		ev := market.DepthUpdate{Header: hdr(market.ExchangeBinanceCoinM, "BTCUSD_PERP"), TransactionTime: 5, FirstUpdateID: 6,
			LastUpdateID: 7, PrevLastUpdateID: -1, Bids: levels(n), Asks: levels(n/2 + 1)}
		got, err := AppendDepthUpdate([]byte("prefix"), &ev)
		if err != nil {
			t.Fatal(err)
		}
		if want := appendDepthUpdateByHand([]byte("prefix"), &ev); !bytes.Equal(got, want) {
			t.Fatalf("%d levels:\n got %x\nwant %x", n, got, want)
		}
	}
}
