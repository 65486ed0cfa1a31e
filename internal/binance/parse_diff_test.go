package binance_test

// The differential test: every recorded and docs sample is parsed by the
// zero-allocation parser and, independently, by encoding/json + strconv in
// this file; the two must agree field by field.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

// sample is one line of a testdata file.
type sample struct {
	file   string
	line   int
	market binance.Market
	data   []byte
}

func marketOfFile(name string) binance.Market {
	switch {
	case strings.HasPrefix(name, "spot-"):
		return binance.Spot
	case strings.HasPrefix(name, "usdm-"):
		return binance.USDM
	case strings.HasPrefix(name, "coinm-"):
		return binance.CoinM
	}
	return 0
}

// streamSamples returns every websocket sample line (not REST bodies, not
// the control request/response files).
func streamSamples(t testing.TB) []sample {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []sample
	for _, path := range files {
		name := filepath.Base(path)
		if strings.Contains(name, ".rest.") || strings.Contains(name, "-control.") || strings.Contains(name, "depthSnapshot") {
			continue
		}
		for i, line := range readLines(t, path) {
			out = append(out, sample{file: name, line: i + 1, market: marketOfFile(name), data: line})
		}
	}
	if len(out) < 2500 {
		t.Fatalf("only %d sample lines found; testdata incomplete", len(out))
	}
	return out
}

func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Events the parser deliberately does not map (samples kept for coverage).
var unsupportedEvents = map[string]bool{
	"avgPrice": true, "blockTrade": true, "continuous_kline": true, "contractInfo": true,
	"indexPrice_kline": true, "markPrice_kline": true, "referencePrice": true, "1hTicker": true,
	"EquityUpdate": true,
}

// rawStreamFor gives raw docs samples that need a stream name the stream a
// raw /ws connection would have been opened with.
func rawStreamFor(file string) string {
	switch file {
	case "spot-partialDepth.docs.jsonl":
		return "bnbbtc@depth5"
	case "usdm-partialDepth.docs.jsonl":
		return "btcusdt@depth5"
	case "coinm-partialDepth.docs.jsonl":
		return "btcusd_200626@depth5"
	}
	return ""
}

func TestDifferentialAllSamples(t *testing.T) {
	counts := map[string]int{}
	for _, s := range streamSamples(t) {
		p := binance.NewParser(s.market, binance.ParserOptions{})
		raw := rawStreamFor(s.file)
		if raw != "" {
			p.SetRawStream(mustStream(t, raw))
		}
		name := fmt.Sprintf("%s:%d", s.file, s.line)
		want, err := independent(s.market, s.data, raw)
		if err != nil {
			t.Fatalf("%s: independent decode: %v", name, err)
		}
		fr, perr := p.Parse(s.data, 42)
		if want.unsupported {
			if !errors.Is(perr, binance.ErrUnsupported) {
				t.Errorf("%s: want ErrUnsupported, got %v", name, perr)
			}
			counts["unsupported"]++
			continue
		}
		if perr != nil {
			t.Errorf("%s: Parse: %v", name, perr)
			continue
		}
		for i, w := range want.frames {
			if i > 0 {
				ok, err := p.Next()
				if err != nil || !ok {
					t.Fatalf("%s: Next #%d: %v %v", name, i, ok, err)
				}
			}
			if fr.Type != w.typ {
				t.Fatalf("%s #%d: type %v, want %v", name, i, fr.Type, w.typ)
			}
			if w.typ == binance.FrameEvent {
				got := eventValue(&fr.Event)
				if fr.Event.Kind != w.kind || fr.Event.Channel != w.channel {
					t.Errorf("%s #%d: kind/channel %v/%v, want %v/%v", name, i, fr.Event.Kind, fr.Event.Channel, w.kind, w.channel)
				}
				if !reflect.DeepEqual(normalize(got), normalize(w.event)) {
					t.Errorf("%s #%d:\n got %+v\nwant %+v", name, i, got, w.event)
				}
				counts[fr.Event.Kind.String()]++
			} else {
				counts[fr.Type.String()]++
			}
			if w.typ == binance.FrameShutdown && fr.Time != w.time {
				t.Errorf("%s: shutdown time %d, want %d", name, fr.Time, w.time)
			}
			if (i < len(want.frames)-1) != fr.More {
				t.Errorf("%s #%d: More = %v", name, i, fr.More)
			}
		}
		if ok, err := p.Next(); ok || err != nil {
			t.Errorf("%s: Next after the last event: %v %v", name, ok, err)
		}
	}
	t.Logf("checked: %v", counts)
	for _, k := range []string{"trade", "aggTrade", "kline", "bookTicker", "depthUpdate", "depthSnapshot", "ticker", "markPrice", "liquidation", "indexPrice", "shutdown", "unsupported"} {
		if counts[k] == 0 {
			t.Errorf("no sample exercised %s", k)
		}
	}
}

// TestDifferentialControl checks the subscribe/unsubscribe response lines
// of the control samples (even lines) and that requests (odd lines) are not
// mistaken for data.
func TestDifferentialControl(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*-control.docs.jsonl"))
	if len(files) != 3 {
		t.Fatalf("want 3 control sample files, got %d", len(files))
	}
	for _, path := range files {
		m := marketOfFile(filepath.Base(path))
		p := binance.NewParser(m, binance.ParserOptions{})
		for i, line := range readLines(t, path) {
			var obj map[string]any
			dec := json.NewDecoder(bytes.NewReader(line))
			dec.UseNumber()
			if err := dec.Decode(&obj); err != nil {
				t.Fatal(err)
			}
			fr, err := p.Parse(line, 0)
			if i%2 == 0 { // a request
				if fr != nil && fr.Type == binance.FrameEvent {
					t.Errorf("%s:%d: request parsed as an event", path, i+1)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s:%d: %v", path, i+1, err)
			}
			if fr.Type != binance.FrameResponse {
				t.Fatalf("%s:%d: type %v", path, i+1, fr.Type)
			}
			id, _ := obj["id"].(json.Number).Int64()
			if !fr.HasID || fr.ID != id {
				t.Errorf("%s:%d: id %d/%v, want %d", path, i+1, fr.ID, fr.HasID, id)
			}
			wantResult, _ := json.Marshal(obj["result"])
			var gotResult any
			if err := json.Unmarshal(fr.Result, &gotResult); err != nil {
				t.Fatalf("%s:%d: result %q: %v", path, i+1, fr.Result, err)
			}
			gotJSON, _ := json.Marshal(gotResult)
			if !bytes.Equal(gotJSON, wantResult) {
				t.Errorf("%s:%d: result %s, want %s", path, i+1, gotJSON, wantResult)
			}
		}
	}
}

func mustStream(t testing.TB, s string) binance.StreamName {
	t.Helper()
	n, err := binance.ParseStreamNameString(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func eventValue(ev *source.Event) any {
	switch ev.Kind {
	case source.KindTrade:
		return *ev.Trade
	case source.KindAggTrade:
		return *ev.AggTrade
	case source.KindKline:
		return *ev.Kline
	case source.KindBookTicker:
		return *ev.BookTicker
	case source.KindDepthUpdate:
		return *ev.DepthUpdate
	case source.KindDepthSnapshot:
		return *ev.DepthSnapshot
	case source.KindTicker:
		return *ev.Ticker
	case source.KindMarkPrice:
		return *ev.MarkPrice
	case source.KindLiquidation:
		return *ev.Liquidation
	case source.KindIndexPrice:
		return *ev.IndexPrice
	}
	return nil
}

// normalize makes empty level slices nil so DeepEqual compares contents.
func normalize(v any) any {
	switch e := v.(type) {
	case market.DepthUpdate:
		if len(e.Bids) == 0 {
			e.Bids = nil
		}
		if len(e.Asks) == 0 {
			e.Asks = nil
		}
		return e
	case market.DepthSnapshot:
		if len(e.Bids) == 0 {
			e.Bids = nil
		}
		if len(e.Asks) == 0 {
			e.Asks = nil
		}
		return e
	}
	return v
}

// ---- the independent decoder ----

type wantFrame struct {
	typ     binance.FrameType
	kind    source.Kind
	channel market.Channel
	event   any
	time    int64
}

type wantResult struct {
	unsupported bool
	frames      []wantFrame
}

type obj map[string]any

func independent(m binance.Market, line []byte, rawStream string) (wantResult, error) {
	var top any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return wantResult{}, err
	}
	stream := rawStream
	payload := top
	if o, ok := top.(map[string]any); ok {
		if s, ok := o["stream"].(string); ok {
			stream = s
			payload = o["data"]
		}
	}
	var items []obj
	switch v := payload.(type) {
	case map[string]any:
		items = []obj{v}
	case []any:
		for _, e := range v {
			items = append(items, e.(map[string]any))
		}
	}
	var res wantResult
	for _, it := range items {
		w, unsupported, err := independentEvent(m, stream, it)
		if err != nil {
			return res, err
		}
		if unsupported {
			res.unsupported = true
			return res, nil
		}
		res.frames = append(res.frames, w)
	}
	return res, nil
}

func independentEvent(m binance.Market, stream string, o obj) (wantFrame, bool, error) {
	futures := m != binance.Spot
	ex := m.Exchange()
	var w wantFrame
	w.typ = binance.FrameEvent
	e, _ := o["e"].(string)
	streamSym := ""
	if at := strings.IndexByte(stream, '@'); at > 0 {
		streamSym = strings.ToUpper(stream[:at])
	}
	partial := strings.Contains(stream, "@depth5") || strings.Contains(stream, "@depth10") || strings.Contains(stream, "@depth20")
	switch {
	case unsupportedEvents[e]:
		return w, true, nil
	case e == "serverShutdown":
		w.typ = binance.FrameShutdown
		w.time = ms(o["E"])
	case e == "trade":
		tt := market.TradeTypeMarket
		if futures {
			tt = map[string]market.TradeType{"MARKET": market.TradeTypeMarket, "INSURANCE_FUND": market.TradeTypeInsuranceFund, "ADL": market.TradeTypeADL}[str(o["X"])]
		}
		w.kind, w.channel = source.KindTrade, market.ChannelTrade
		w.event = market.Trade{Header: hdr(ex, str(o["s"]), ms(o["E"])), TradeID: i64(o["t"]), Price: dec(o["p"]), Quantity: dec(o["q"]),
			TradeTime: ms(o["T"]), BuyerIsMaker: o["m"].(bool), Type: tt}
	case e == "aggTrade":
		id := int64(-1)
		if _, ok := o["a"]; ok {
			id = i64(o["a"])
		}
		w.kind, w.channel = source.KindAggTrade, market.ChannelAggTrade
		w.event = market.AggTrade{Header: hdr(ex, str(o["s"]), ms(o["E"])), AggTradeID: id, Price: dec(o["p"]), Quantity: dec(o["q"]),
			FirstTradeID: i64(o["f"]), LastTradeID: i64(o["l"]), TradeTime: ms(o["T"]), BuyerIsMaker: o["m"].(bool)}
	case e == "kline":
		k := obj(o["k"].(map[string]any))
		iv, ok := market.ParseKlineInterval([]byte(str(k["i"])))
		if !ok {
			return w, false, fmt.Errorf("interval %v", k["i"])
		}
		w.kind, w.channel = source.KindKline, market.ChannelKline
		w.event = market.Kline{Header: hdr(ex, str(o["s"]), ms(o["E"])), Interval: iv, OpenTime: ms(k["t"]), CloseTime: ms(k["T"]),
			FirstTradeID: i64(k["f"]), LastTradeID: i64(k["L"]), Open: dec(k["o"]), High: dec(k["h"]), Low: dec(k["l"]), Close: dec(k["c"]),
			Volume: dec(k["v"]), QuoteVolume: dec(k["q"]), TradeCount: i64(k["n"]), TakerBuyVolume: dec(k["V"]),
			TakerBuyQuoteVolume: dec(k["Q"]), Closed: k["x"].(bool)}
	case e == "bookTicker" || (e == "" && o["u"] != nil && o["b"] != nil):
		w.kind, w.channel = source.KindBookTicker, market.ChannelBookTicker
		w.event = market.BookTicker{Header: hdr(ex, str(o["s"]), optMs(o["E"])), UpdateID: i64(o["u"]), TransactionTime: optMs(o["T"]),
			BidPrice: dec(o["b"]), BidQty: dec(o["B"]), AskPrice: dec(o["a"]), AskQty: dec(o["A"])}
	case e == "depthUpdate" && partial:
		w.kind, w.channel = source.KindDepthSnapshot, market.ChannelPartialDepth
		w.event = market.DepthSnapshot{Header: hdr(ex, str(o["s"]), ms(o["E"])), Source: market.SnapshotPartial,
			TransactionTime: optMs(o["T"]), LastUpdateID: i64(o["u"]), Bids: levels(o["b"]), Asks: levels(o["a"])}
	case e == "depthUpdate":
		var pu int64
		if futures {
			pu = i64(o["pu"])
		}
		w.kind, w.channel = source.KindDepthUpdate, market.ChannelDepth
		w.event = market.DepthUpdate{Header: hdr(ex, str(o["s"]), ms(o["E"])), TransactionTime: optMs(o["T"]),
			FirstUpdateID: i64(o["U"]), LastUpdateID: i64(o["u"]), PrevLastUpdateID: pu, Bids: levels(o["b"]), Asks: levels(o["a"])}
	case e == "" && o["lastUpdateId"] != nil:
		w.kind, w.channel = source.KindDepthSnapshot, market.ChannelPartialDepth
		w.event = market.DepthSnapshot{Header: hdr(ex, streamSym, 0), Source: market.SnapshotPartial,
			LastUpdateID: i64(o["lastUpdateId"]), Bids: levels(o["bids"]), Asks: levels(o["asks"])}
	case e == "24hrMiniTicker":
		n := market.NullDecimal
		w.kind, w.channel = source.KindTicker, market.ChannelMiniTicker
		w.event = market.Ticker{Header: hdr(ex, str(o["s"]), ms(o["E"])), Kind: market.TickerMini,
			PriceChange: n, PriceChangePercent: n, WeightedAvgPrice: n, LastPrice: dec(o["c"]), LastQty: n,
			OpenPrice: dec(o["o"]), HighPrice: dec(o["h"]), LowPrice: dec(o["l"]), Volume: dec(o["v"]), QuoteVolume: dec(o["q"]),
			BidPrice: n, BidQty: n, AskPrice: n, AskQty: n}
	case e == "24hrTicker":
		w.kind, w.channel = source.KindTicker, market.ChannelTicker
		w.event = market.Ticker{Header: hdr(ex, str(o["s"]), ms(o["E"])), Kind: market.TickerFull,
			PriceChange: dec(o["p"]), PriceChangePercent: dec(o["P"]), WeightedAvgPrice: dec(o["w"]), LastPrice: dec(o["c"]),
			LastQty: dec(o["Q"]), OpenPrice: dec(o["o"]), HighPrice: dec(o["h"]), LowPrice: dec(o["l"]), Volume: dec(o["v"]),
			QuoteVolume: dec(o["q"]), BidPrice: optDec(o["b"]), BidQty: optDec(o["B"]), AskPrice: optDec(o["a"]), AskQty: optDec(o["A"]),
			OpenTime: ms(o["O"]), CloseTime: ms(o["C"]), FirstTradeID: i64(o["F"]), LastTradeID: i64(o["L"]), TradeCount: i64(o["n"])}
	case e == "markPriceUpdate":
		w.kind, w.channel = source.KindMarkPrice, market.ChannelMarkPrice
		w.event = market.MarkPrice{Header: hdr(ex, str(o["s"]), ms(o["E"])), MarkPrice: dec(o["p"]), IndexPrice: optDec(o["i"]),
			EstimatedSettlePrice: optDec(o["P"]), FundingRate: optDec(o["r"]), NextFundingTime: optMs(o["T"])}
	case e == "forceOrder":
		od := obj(o["o"].(map[string]any))
		w.kind, w.channel = source.KindLiquidation, market.ChannelLiquidation
		w.event = market.Liquidation{Header: hdr(ex, str(od["s"]), ms(o["E"])),
			Side:        map[string]market.Side{"BUY": market.SideBuy, "SELL": market.SideSell}[str(od["S"])],
			OrderType:   map[string]market.OrderType{"LIMIT": market.OrderTypeLimit, "MARKET": market.OrderTypeMarket}[str(od["o"])],
			TimeInForce: map[string]market.TimeInForce{"GTC": market.TimeInForceGTC, "IOC": market.TimeInForceIOC, "FOK": market.TimeInForceFOK, "GTX": market.TimeInForceGTX, "GTD": market.TimeInForceGTD}[str(od["f"])],
			Status:      map[string]market.OrderStatus{"NEW": market.OrderStatusNew, "PARTIALLY_FILLED": market.OrderStatusPartiallyFilled, "FILLED": market.OrderStatusFilled, "CANCELED": market.OrderStatusCanceled, "EXPIRED": market.OrderStatusExpired}[str(od["X"])],
			Price:       dec(od["p"]), Quantity: dec(od["q"]), AveragePrice: optDec(od["ap"]), LastFilledQty: optDec(od["l"]),
			FilledQty: optDec(od["z"]), TradeTime: ms(od["T"])}
	case e == "indexPriceUpdate":
		w.kind, w.channel = source.KindIndexPrice, market.ChannelIndexPrice
		w.event = market.IndexPrice{Header: hdr(ex, str(o["i"]), ms(o["E"])), Price: dec(o["p"])}
	default:
		return w, false, fmt.Errorf("independent decoder has no case for %v", o)
	}
	return w, false, nil
}

func hdr(ex market.ExchangeID, sym string, eventTime int64) market.Header {
	h := market.Header{Exchange: ex, EventTime: eventTime, ReceiveTime: 42}
	copy(h.Symbol[:], strings.ToUpper(sym))
	return h
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func i64(v any) int64 {
	n, ok := v.(json.Number)
	if !ok {
		panic(fmt.Sprintf("not a number: %#v", v))
	}
	x, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		panic(err)
	}
	return x
}

func ms(v any) int64 { return i64(v) * 1000 }

func optMs(v any) int64 {
	if v == nil {
		return 0
	}
	return ms(v)
}

// dec is the independent decimal conversion: split at the point, join the
// digits, strconv.ParseInt.
func dec(v any) market.Decimal {
	s, ok := v.(string)
	if !ok {
		panic(fmt.Sprintf("not a string: %#v", v))
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	m, err := strconv.ParseInt(intPart+frac, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("decimal %q: %v", s, err))
	}
	if neg {
		m = -m
	}
	if len(frac) > math.MaxUint8 {
		panic("scale")
	}
	return market.Decimal{Mantissa: m, Scale: uint8(len(frac))}
}

func optDec(v any) market.Decimal {
	if s, ok := v.(string); !ok || s == "" {
		return market.NullDecimal
	}
	return dec(v)
}

func levels(v any) []market.Level {
	arr := v.([]any)
	out := make([]market.Level, 0, len(arr))
	for _, l := range arr {
		pq := l.([]any)
		out = append(out, market.Level{Price: dec(pq[0]), Quantity: dec(pq[1])})
	}
	return out
}
