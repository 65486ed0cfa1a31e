package watch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/record"
	"github.com/ims-dev/ims/internal/sbecodec"
	"github.com/ims-dev/ims/internal/source"
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

func hdr(s string) market.Header {
	return market.Header{Exchange: market.ExchangeBinanceUSDM, Symbol: sym(s), EventTime: 1700000000123456, ReceiveTime: 1700000000123456789}
}

func levels(n int) []market.Level {
	out := make([]market.Level, n)
	for i := range out {
		out[i] = market.Level{Price: market.Decimal{Mantissa: 3700000 - int64(i), Scale: 2}, Quantity: market.Decimal{Mantissa: int64(i+1) * 7, Scale: 8}}
	}
	return out
}

// sampleEvents holds one event of every kind.
type sampleEvents struct {
	trade    market.Trade
	agg      market.AggTrade
	kline    market.Kline
	book     market.BookTicker
	depth    market.DepthUpdate
	snap     market.DepthSnapshot
	ticker   market.Ticker
	mark     market.MarkPrice
	liq      market.Liquidation
	index    market.IndexPrice
	status   market.Status
	snapshot []source.Event
}

func newSamples() *sampleEvents {
	s := &sampleEvents{
		trade: market.Trade{Header: hdr("BTCUSDT"), TradeID: 7, Price: market.MustDecimal("37000.50"), Quantity: market.MustDecimal("0.0125"), TradeTime: 1700000000120000, BuyerIsMaker: true},
		agg:   market.AggTrade{Header: hdr("ETHUSDT"), AggTradeID: 9, Price: market.MustDecimal("2000.01"), Quantity: market.MustDecimal("1.5"), FirstTradeID: 100, LastTradeID: 104},
		kline: market.Kline{Header: hdr("BTCUSDT"), Interval: market.Interval1m, OpenTime: 1700000000000000, Open: market.MustDecimal("1.0"),
			High: market.MustDecimal("2.0"), Low: market.MustDecimal("0.5"), Close: market.MustDecimal("1.5"), Volume: market.MustDecimal("10"),
			QuoteVolume: market.MustDecimal("12"), TakerBuyVolume: market.MustDecimal("4"), TakerBuyQuoteVolume: market.MustDecimal("5")},
		book:   market.BookTicker{Header: hdr("BNBUSDT"), UpdateID: 5, BidPrice: market.MustDecimal("25.35"), BidQty: market.MustDecimal("31.2"), AskPrice: market.MustDecimal("25.36"), AskQty: market.MustDecimal("40")},
		depth:  market.DepthUpdate{Header: hdr("BTCUSDT"), FirstUpdateID: 157, LastUpdateID: 160, PrevLastUpdateID: 149, Bids: levels(3), Asks: levels(2)},
		snap:   market.DepthSnapshot{Header: hdr("BTCUSDT"), LastUpdateID: 42, Bids: levels(5), Asks: levels(5)},
		ticker: market.Ticker{Header: hdr("BNBBTC"), Kind: market.TickerMini, LastPrice: market.MustDecimal("0.0025"), OpenPrice: market.MustDecimal("0.001"), HighPrice: market.MustDecimal("0.0025"), LowPrice: market.MustDecimal("0.001"), Volume: market.MustDecimal("10000"), QuoteVolume: market.MustDecimal("18"), PriceChange: market.NullDecimal, PriceChangePercent: market.NullDecimal, WeightedAvgPrice: market.NullDecimal, LastQty: market.NullDecimal, BidPrice: market.NullDecimal, BidQty: market.NullDecimal, AskPrice: market.NullDecimal, AskQty: market.NullDecimal},
		mark:   market.MarkPrice{Header: hdr("BTCUSDT"), MarkPrice: market.MustDecimal("11012.87546"), IndexPrice: market.MustDecimal("11016.19"), EstimatedSettlePrice: market.NullDecimal, FundingRate: market.NullDecimal},
		liq:    market.Liquidation{Header: hdr("BTCUSDT"), Side: market.SideSell, Price: market.MustDecimal("9910"), Quantity: market.MustDecimal("0.014"), AveragePrice: market.MustDecimal("9910"), LastFilledQty: market.MustDecimal("0.014"), FilledQty: market.MustDecimal("0.014")},
		index:  market.IndexPrice{Header: hdr("BTCUSD"), Price: market.MustDecimal("9636.5786")},
		status: market.Status{Header: hdr("BTCUSDT"), Channel: market.ChannelTrade, Kind: market.StatusGap, GapFrom: 8, GapTo: 11, Detail: "btcusdt@trade"},
	}
	s.snapshot = []source.Event{
		{Kind: source.KindTrade, Channel: market.ChannelTrade, Trade: &s.trade},
		{Kind: source.KindAggTrade, Channel: market.ChannelAggTrade, AggTrade: &s.agg},
		{Kind: source.KindKline, Channel: market.ChannelKline, Kline: &s.kline},
		{Kind: source.KindBookTicker, Channel: market.ChannelBookTicker, BookTicker: &s.book},
		{Kind: source.KindDepthUpdate, Channel: market.ChannelDepth, DepthUpdate: &s.depth},
		{Kind: source.KindDepthSnapshot, Channel: market.ChannelPartialDepth, DepthSnapshot: &s.snap},
		{Kind: source.KindTicker, Channel: market.ChannelMiniTicker, Ticker: &s.ticker},
		{Kind: source.KindMarkPrice, Channel: market.ChannelMarkPrice, MarkPrice: &s.mark},
		{Kind: source.KindLiquidation, Channel: market.ChannelLiquidation, Liquidation: &s.liq},
		{Kind: source.KindIndexPrice, Channel: market.ChannelIndexPrice, IndexPrice: &s.index},
		{Kind: source.KindStatus, Channel: market.ChannelTrade, Status: &s.status},
	}
	return s
}

// Every event kind encodes to the ims message of its kind and decodes back
// to the same value.
func TestAppendEventRoundTrip(t *testing.T) {
	s := newSamples()
	wantTemplate := map[source.Kind]uint16{
		source.KindTrade: imssbe.TradeTemplateID, source.KindAggTrade: imssbe.AggTradeTemplateID,
		source.KindKline: imssbe.KlineTemplateID, source.KindBookTicker: imssbe.BookTickerTemplateID,
		source.KindDepthUpdate: imssbe.DepthUpdateTemplateID, source.KindDepthSnapshot: imssbe.DepthSnapshotTemplateID,
		source.KindTicker: imssbe.TickerTemplateID, source.KindMarkPrice: imssbe.MarkPriceTemplateID,
		source.KindLiquidation: imssbe.LiquidationTemplateID, source.KindIndexPrice: imssbe.IndexPriceTemplateID,
		source.KindStatus: imssbe.StatusTemplateID,
	}
	var dec sbecodec.Events
	for i := range s.snapshot {
		ev := &s.snapshot[i]
		msg, err := AppendEvent([]byte("xx"), ev)
		if err != nil {
			t.Fatalf("%s: %v", ev.Kind, err)
		}
		msg = msg[2:]
		tmpl, err := dec.Decode(msg)
		if err != nil || tmpl != wantTemplate[ev.Kind] {
			t.Fatalf("%s: template %d, %v", ev.Kind, tmpl, err)
		}
		var got, want any
		switch ev.Kind {
		case source.KindTrade:
			got, want = dec.Trade, *ev.Trade
		case source.KindAggTrade:
			got, want = dec.AggTrade, *ev.AggTrade
		case source.KindKline:
			got, want = dec.Kline, *ev.Kline
		case source.KindBookTicker:
			got, want = dec.BookTicker, *ev.BookTicker
		case source.KindDepthUpdate:
			got, want = dec.DepthUpdate, *ev.DepthUpdate
		case source.KindDepthSnapshot:
			got, want = dec.DepthSnapshot, *ev.DepthSnapshot
		case source.KindTicker:
			got, want = dec.Ticker, *ev.Ticker
		case source.KindMarkPrice:
			got, want = dec.MarkPrice, *ev.MarkPrice
		case source.KindLiquidation:
			got, want = dec.Liquidation, *ev.Liquidation
		case source.KindIndexPrice:
			got, want = dec.IndexPrice, *ev.IndexPrice
		case source.KindStatus:
			got, want = dec.Status, *ev.Status
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s round trip:\n got %+v\nwant %+v", ev.Kind, got, want)
		}
	}
}

func TestAppendEventErrors(t *testing.T) {
	for _, ev := range []source.Event{{}, {Kind: source.KindTrade}, {Kind: 200}, {Kind: source.KindStatus}} {
		out, err := AppendEvent([]byte("keep"), &ev)
		if !errors.Is(err, ErrNoEvent) || string(out) != "keep" {
			t.Errorf("%v: %q, %v", ev.Kind, out, err)
		}
	}
	d := market.DepthUpdate{Header: hdr("BTCUSDT"), Bids: make([]market.Level, sbecodec.MaxLevels+1)}
	out, err := AppendEvent(nil, &source.Event{Kind: source.KindDepthUpdate, DepthUpdate: &d})
	if !errors.Is(err, sbecodec.ErrTooManyLevels) || len(out) != 0 {
		t.Errorf("oversized depth: %d bytes, %v", len(out), err)
	}
}

// A status detail over the schema's limit is cut on a rune boundary rather
// than losing the marker.
func TestAppendEventLongDetail(t *testing.T) {
	// 2 bytes a rune after one: the limit falls inside a rune.
	detail := "a" + strings.Repeat("é", sbecodec.MaxDetail)
	st := market.Status{Header: hdr("BTCUSDT"), Kind: market.StatusStale, Detail: detail}
	msg, err := AppendEvent(nil, &source.Event{Kind: source.KindStatus, Status: &st})
	if err != nil {
		t.Fatal(err)
	}
	var back market.Status
	if err := sbecodec.DecodeStatus(msg, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Detail) != sbecodec.MaxDetail-1 || back.Detail != detail[:sbecodec.MaxDetail-1] || back.Kind != market.StatusStale {
		t.Fatalf("detail of %d bytes (want %d), kind %v", len(back.Detail), sbecodec.MaxDetail-1, back.Kind)
	}
	if st.Detail != detail {
		t.Fatal("the caller's status was changed")
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"text": Text, "JSON": JSON, "jsonl": JSON, " sbe ": SBE} {
		if f, err := ParseFormat(in); err != nil || f != want {
			t.Errorf("%q: %v, %v", in, f, err)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil || !strings.Contains(err.Error(), "text, json, sbe") {
		t.Errorf("yaml: %v", err)
	}
	if JSON.String() != "json" || Format(9).String() != "Format(9)" {
		t.Error("String")
	}
}

func names(ns []binance.StreamName) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.String()
	}
	return out
}

func TestStreams(t *testing.T) {
	got, err := Streams(binance.USDM, []string{"BTCUSDT", " ethusdt"}, []string{"trade", "depth@100ms", "kline_1m", "depth20"},
		[]string{"btcusdt@trade", "BTCUSDT@markPrice@1s"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"btcusdt@trade", "btcusdt@depth@100ms", "btcusdt@kline_1m", "btcusdt@depth20",
		"ethusdt@trade", "ethusdt@depth@100ms", "ethusdt@kline_1m", "ethusdt@depth20", "btcusdt@markPrice@1s"}
	if !slices.Equal(names(got), want) {
		t.Fatalf("streams\n got %v\nwant %v", names(got), want)
	}
	if got[0].Symbol != sym("BTCUSDT") || got[0].Channel != market.ChannelTrade {
		t.Fatalf("first stream %+v", got[0])
	}
	for _, tc := range []struct {
		m                 binance.Market
		symbols, channels []string
		args              []string
		msg               string
	}{
		{binance.Spot, []string{"BTCUSDT"}, []string{"markPrice"}, nil, "markPrice"},
		{binance.Spot, []string{"BTCUSDT"}, []string{"kline_2m"}, nil, "kline_2m"},
		{binance.Spot, []string{"BTCUSDT"}, []string{"depth7"}, nil, "depth7"},
		{binance.Spot, []string{"BTCUSDT"}, []string{""}, nil, "empty channel"},
		{binance.Spot, []string{""}, []string{"trade"}, nil, "empty symbol"},
		{binance.Spot, []string{"BTCUSDT"}, []string{"@trade"}, nil, "give the channel alone"},
		{binance.Spot, []string{"BTCUSDT"}, []string{"!bookTicker"}, nil, "give the channel alone"},
		{binance.Spot, nil, nil, []string{"!bookTicker"}, "per-symbol"},
		{binance.Spot, nil, nil, []string{"btcusdt"}, "btcusdt"},
		{binance.Spot, nil, nil, []string{"averyveryverylongsymbolname@trade"}, "symbol"},
		{binance.CoinM, nil, nil, []string{"btcusd_perp@depth@10ms"}, "depth@10ms"},
	} {
		if _, err := Streams(tc.m, tc.symbols, tc.channels, tc.args); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v %v %v: %v, want an error mentioning %q", tc.symbols, tc.channels, tc.args, err, tc.msg)
		}
	}
}

func exchangeInfo(t *testing.T, m binance.Market, file string) *binance.ExchangeInfo {
	t.Helper()
	path := filepath.Join("..", "binance", "testdata", file)
	body, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) { // large bodies are stored gzipped
		var zr *gzip.Reader
		if body, err = os.ReadFile(path + ".gz"); err == nil {
			if zr, err = gzip.NewReader(bytes.NewReader(body)); err == nil {
				body, err = io.ReadAll(zr)
			}
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	info, err := binance.ParseExchangeInfo(m, body)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestCheckSymbols(t *testing.T) {
	spot := exchangeInfo(t, binance.Spot, "spot-exchangeInfo.json")
	streams, err := Streams(binance.Spot, []string{"BTCUSDT", "BTCUSDS", "nosuch", "ZZZ"}, []string{"trade", "aggTrade"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = CheckSymbols(spot, streams)
	var ue *source.UnknownSymbolsError
	if !errors.As(err, &ue) || !slices.Equal(ue.Symbols, []string{"NOSUCH", "ZZZ"}) || ue.Source != "binance-spot" {
		t.Fatalf("unknown symbols: %v", err)
	}
	notTrading, err := CheckSymbols(spot, streams[:4])
	if err != nil || !slices.Equal(notTrading, []string{"BTCUSDS (BREAK)"}) {
		t.Fatalf("not trading %v, %v", notTrading, err)
	}
	// COIN-M index price streams name a pair, not a symbol.
	coinm := exchangeInfo(t, binance.CoinM, "coinm-exchangeInfo.json")
	streams, err = Streams(binance.CoinM, nil, nil, []string{"btcusd@indexPrice", "btcusd_perp@trade"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckSymbols(coinm, streams); err != nil {
		t.Fatalf("pair: %v", err)
	}
	streams, err = Streams(binance.CoinM, nil, nil, []string{"btcusd_perp@indexPrice", "btcusd@trade"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckSymbols(coinm, streams); !errors.As(err, &ue) || !slices.Equal(ue.Symbols, []string{"BTCUSD", "BTCUSD_PERP"}) {
		t.Fatalf("pair as symbol and symbol as pair: %v", err)
	}
}

func TestFilter(t *testing.T) {
	streams, err := Streams(binance.USDM, []string{"BTCUSDT"}, []string{"trade", "kline_1m"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := NewFilter(streams)
	s := newSamples()
	pass := func(ev source.Event) bool { return f.Pass(&ev) }
	k5 := s.kline
	k5.Interval = market.Interval5m
	eth := s.trade
	eth.Symbol = sym("ETHUSDT")
	conn := market.Status{Kind: market.StatusConnected}
	otherGap := s.status
	otherGap.Symbol = sym("ETHUSDT")
	depthGap := s.status
	depthGap.Channel = market.ChannelDepth
	for _, tc := range []struct {
		ev   source.Event
		want bool
	}{
		{s.snapshot[0], true}, // BTCUSDT trade
		{source.Event{Kind: source.KindTrade, Channel: market.ChannelTrade, Trade: &eth}, false},
		{s.snapshot[2], true}, // BTCUSDT kline 1m
		{source.Event{Kind: source.KindKline, Channel: market.ChannelKline, Kline: &k5}, false},
		{s.snapshot[4], false}, // BTCUSDT depth
		{source.Event{Kind: source.KindStatus, Status: &conn}, true},
		{s.snapshot[10], true}, // BTCUSDT trade gap
		{source.Event{Kind: source.KindStatus, Channel: market.ChannelTrade, Status: &otherGap}, false},
		{source.Event{Kind: source.KindStatus, Channel: market.ChannelDepth, Status: &depthGap}, false},
		{source.Event{Kind: source.KindTrade}, false},
	} {
		if got := pass(tc.ev); got != tc.want {
			t.Errorf("%s %v: pass %v, want %v", tc.ev.Kind, tc.ev.Channel, got, tc.want)
		}
	}
	var none *Filter
	if !none.Pass(&s.snapshot[4]) || NewFilter(nil) != nil {
		t.Error("a nil filter passes everything")
	}
}

// The printer's text and JSON are exactly what the imssbe renderer makes of
// the encoded message (what ims decode prints), one line per event; SBE is
// the messages back to back.
func TestPrinterFormats(t *testing.T) {
	s := newSamples()
	var msgs []byte
	for i := range s.snapshot {
		var err error
		if msgs, err = AppendEvent(msgs, &s.snapshot[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []Format{Text, JSON, SBE} {
		var out bytes.Buffer
		p := NewPrinter(&out, PrinterOptions{Format: f})
		for i := range s.snapshot {
			p.HandleEvent(&s.snapshot[i])
		}
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		var want []byte
		if f == SBE {
			want = msgs
		} else {
			rf := sbert.FormatText
			if f == JSON {
				rf = sbert.FormatJSON
			}
			for rest := msgs; len(rest) > 0; {
				var n int
				var err error
				want, n, err = imssbe.Codec{}.Append(want, rest, rf)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, '\n')
				rest = rest[n:]
			}
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Errorf("%s output:\n%s\nwant:\n%s", f, out.Bytes(), want)
		}
		if st := p.Stats(); st.Events != 10 || st.Markers != 1 {
			t.Errorf("%s stats %+v", f, st)
		}
	}
}

// Count stops the printer after that many market events; markers do not
// count. OnCount is called once.
func TestPrinterCount(t *testing.T) {
	s := newSamples()
	var out bytes.Buffer
	calls := 0
	p := NewPrinter(&out, PrinterOptions{Format: JSON, Count: 2, OnCount: func() { calls++ }})
	p.HandleEvent(&s.snapshot[10]) // status
	p.HandleEvent(&s.snapshot[0])
	p.HandleEvent(&s.snapshot[10])
	p.HandleEvent(&s.snapshot[1])
	p.HandleEvent(&s.snapshot[2]) // past the count
	p.HandleEvent(&s.snapshot[10])
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 4 || calls != 1 {
		t.Fatalf("%d lines, OnCount called %d times:\n%s", n, calls, out.String())
	}
	if st := p.Stats(); st.Events != 2 || st.Markers != 2 {
		t.Fatalf("stats %+v", st)
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

// A failing output stops the printer and reports the error once.
func TestPrinterWriteError(t *testing.T) {
	s := newSamples()
	boom := errors.New("broken pipe")
	var reported []error
	p := NewPrinter(errWriter{boom}, PrinterOptions{BufferSize: 16, OnError: func(err error) { reported = append(reported, err) }})
	for range 3 {
		p.HandleEvent(&s.snapshot[0])
	}
	if err := p.Flush(); !errors.Is(err, boom) || len(reported) != 1 || !errors.Is(p.Err(), boom) {
		t.Fatalf("flush %v, reported %v", err, reported)
	}
}

// An event the encoder refuses is counted and skipped; later ones print.
func TestPrinterUnencodable(t *testing.T) {
	var out bytes.Buffer
	p := NewPrinter(&out, PrinterOptions{Format: JSON})
	d := market.DepthUpdate{Header: hdr("BTCUSDT"), Asks: make([]market.Level, sbecodec.MaxLevels+1)}
	p.HandleEvent(&source.Event{Kind: source.KindDepthUpdate, DepthUpdate: &d})
	s := newSamples()
	p.HandleEvent(&s.snapshot[0])
	_ = p.Flush()
	if st := p.Stats(); st.Unencodable != 1 || st.Events != 1 || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("stats %+v, output %s", st, out.String())
	}
}

// Steady state: printing an event of any kind allocates nothing.
func TestPrinterAllocatesNothing(t *testing.T) {
	s := newSamples()
	for _, f := range []Format{Text, JSON, SBE} {
		p := NewPrinter(io.Discard, PrinterOptions{Format: f})
		for i := range s.snapshot {
			p.HandleEvent(&s.snapshot[i]) // grow the buffers
		}
		allocs := testing.AllocsPerRun(100, func() {
			for i := range s.snapshot {
				p.HandleEvent(&s.snapshot[i])
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per round of %d events", f, allocs, len(s.snapshot))
		}
	}
}

func shipped(t testing.TB, m string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "binance", "testdata", "recording-"+m+".ims"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Run replays a recording to its end and reports what it did.
func TestRunReplay(t *testing.T) {
	r, err := record.NewReader(bytes.NewReader(shipped(t, "coinm")))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s, err := Run(context.Background(), Config{Market: binance.CoinM, Out: &out, Format: JSON, Replay: r})
	if err != nil {
		t.Fatal(err)
	}
	if s.Stopped != StopEnd || s.Printer.Events != 731 || s.Feed.Events != 731 || s.Feed.EventsByChannel[market.ChannelIndexPrice] != 1 {
		t.Fatalf("summary %+v", s)
	}
	if n := strings.Count(out.String(), "\n"); n != int(s.Printer.Events+s.Printer.Markers) {
		t.Fatalf("%d lines for %+v", n, s.Printer)
	}
	kv := s.KeyVals()
	if kv[0] != "stopped" || kv[1] != StopEnd || !slices.Contains(kv, any("by_channel")) {
		t.Fatalf("key values %v", kv)
	}
	// The recording is of COIN-M: another market is refused.
	r, _ = record.NewReader(bytes.NewReader(shipped(t, "coinm")))
	if _, err := Run(context.Background(), Config{Market: binance.Spot, Out: io.Discard, Replay: r}); err == nil || !strings.Contains(err.Error(), "coinm") {
		t.Fatalf("market mismatch: %v", err)
	}
}

func TestChannelCounts(t *testing.T) {
	if got := ChannelCounts(map[market.Channel]int64{market.ChannelDepth: 4, market.ChannelTrade: 10}); got != "trade=10 depth=4" {
		t.Fatal(got)
	}
	if got := ChannelCounts(nil); got != "-" {
		t.Fatal(got)
	}
}

// Streams never panics on user input, and what it accepts round-trips
// through the stream name syntax.
func FuzzStreams(f *testing.F) {
	for _, s := range []string{"BTCUSDT|trade", "btcusdt|depth@100ms", "x|kline_1m", "|", "a@b|c", "ETHUSDT|depth20@100ms", "btcusd|indexPrice@1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		sym, ch, _ := strings.Cut(in, "|")
		for _, m := range binance.Markets() {
			got, err := Streams(m, []string{sym}, []string{ch}, []string{in})
			if err != nil {
				continue
			}
			for _, n := range got {
				back, err := Streams(m, nil, nil, []string{n.String()})
				if err != nil || len(back) != 1 || back[0] != n {
					t.Fatalf("%s: %q does not round-trip: %v %v", m, n.String(), back, err)
				}
			}
		}
	})
}
