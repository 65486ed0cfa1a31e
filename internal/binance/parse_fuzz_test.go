package binance_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

// fuzzSeeds adds every stream sample line (and a few edge cases) to f,
// with the market index as the second argument.
func fuzzSeeds(f *testing.F) {
	for _, s := range streamSamples(f) {
		f.Add(s.data, uint8(s.market))
		// The first lines of each file, and the docs samples (raw
		// payloads), also on every raw connection FuzzParse knows.
		if s.line == 1 || strings.Contains(s.file, ".docs.") {
			for r := 1; r < len(fuzzRawStreams); r++ {
				f.Add(s.data, uint8(6*r+int(s.market)-1))
			}
		}
	}
	for _, s := range []string{
		`{"result":null,"id":1}`, `{"code":2,"msg":"x"}`, `{"error":{"code":1,"msg":"y"},"id":2}`,
		`[{"e":"markPriceUpdate","E":1,"s":"A","p":"1"}]`, `{"stream":"!markPrice@arr@1s","data":[]}`,
		`{"stream":"btcusdt@depth5","data":{"lastUpdateId":1,"bids":[["1","2",[]]],"asks":[]}}`,
		`{"e":"trade","E":1,"s":"\u0041","t":1,"p":"\u0031","q":"1","T":1,"m":true}`,
	} {
		for m := binance.Spot; m <= binance.CoinMTestnet; m++ {
			f.Add([]byte(s), uint8(m))
		}
	}
}

// fuzzRawStreams are the raw connections FuzzParse also parses frames on.
var fuzzRawStreams = []string{"", "bnbbtc@bookTicker", "bnbbtc@depth5", "btcusdt@depth@100ms", "btcusdt@trade", "btcusdt@kline_1m", "btcusd_perp@markPrice"}

// FuzzParse feeds arbitrary frames to the parser: it must never panic, must
// only accept valid JSON, and what it accepts must be self-consistent.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, frame []byte, mi uint8) {
		m := binance.Market(mi%6 + 1)
		// The fast path gives what the generic path gives, on every input,
		// on combined and on raw connections.
		raw := fuzzRawStreams[int(mi/6)%len(fuzzRawStreams)]
		fast := binance.NewParser(m, binance.ParserOptions{})
		if raw != "" {
			fast.SetRawStream(mustStream(t, raw))
		}
		checkSameAsGeneric(t, fast, m, raw, frame)
		p := binance.NewParser(m, binance.ParserOptions{})
		fr, err := p.Parse(frame, 5)
		if err != nil {
			var pe *binance.ParseError
			if !errors.As(err, &pe) || pe.Kind == "" || (!errors.Is(err, binance.ErrMalformed) && !errors.Is(err, binance.ErrUnsupported)) {
				t.Fatalf("error is not a typed ParseError: %#v", err)
			}
			return
		}
		if !json.Valid(frame) {
			t.Fatalf("accepted invalid JSON %q", frame)
		}
		for {
			checkFrame(t, m, fr, frame)
			if !fr.More {
				break
			}
			ok, err := p.Next()
			if err != nil && !fr.More {
				break
			}
			if !ok && err == nil {
				t.Fatal("More was set but Next found nothing")
			}
		}
		// The same frame parses the same way again (no state leaks).
		fr2, err := binance.NewParser(m, binance.ParserOptions{}).Parse(frame, 5)
		if err != nil || fr2.Type != fr.Type {
			t.Fatalf("second parse differs: %v", err)
		}
	})
}

func checkFrame(t *testing.T, m binance.Market, fr *binance.Frame, frame []byte) {
	t.Helper()
	switch fr.Type {
	case binance.FrameEvent:
		h := fr.Event.Header()
		if h == nil {
			t.Fatalf("event kind %v without a header", fr.Event.Kind)
		}
		if h.Exchange != m.Exchange() || h.ReceiveTime != 5 {
			t.Fatalf("header %+v", *h)
		}
		if h.Symbol.IsZero() {
			t.Fatalf("event without a symbol: %q", frame)
		}
		want := map[source.Kind][]market.Channel{
			source.KindTrade: {market.ChannelTrade}, source.KindAggTrade: {market.ChannelAggTrade},
			source.KindKline: {market.ChannelKline}, source.KindBookTicker: {market.ChannelBookTicker},
			source.KindDepthUpdate: {market.ChannelDepth}, source.KindDepthSnapshot: {market.ChannelPartialDepth},
			source.KindTicker: {market.ChannelTicker, market.ChannelMiniTicker}, source.KindMarkPrice: {market.ChannelMarkPrice},
			source.KindLiquidation: {market.ChannelLiquidation}, source.KindIndexPrice: {market.ChannelIndexPrice},
		}[fr.Event.Kind]
		ok := false
		for _, c := range want {
			ok = ok || c == fr.Event.Channel
		}
		if !ok {
			t.Fatalf("kind %v with channel %v", fr.Event.Kind, fr.Event.Channel)
		}
		if fr.HasStream && fr.Stream.Control == binance.ControlNone && fr.Stream.Channel != fr.Event.Channel {
			t.Fatalf("stream %v carried a %v event", fr.Stream, fr.Event.Channel)
		}
		var levels int
		switch fr.Event.Kind {
		case source.KindDepthUpdate:
			levels = len(fr.Event.DepthUpdate.Bids) + len(fr.Event.DepthUpdate.Asks)
		case source.KindDepthSnapshot:
			levels = len(fr.Event.DepthSnapshot.Bids) + len(fr.Event.DepthSnapshot.Asks)
		}
		if levels*9 > len(frame) {
			t.Fatalf("%d levels from a %d-byte frame", levels, len(frame))
		}
	case binance.FrameResponse, binance.FrameError, binance.FrameShutdown:
	default:
		t.Fatalf("frame type %v on success", fr.Type)
	}
}

func FuzzParseStreamName(f *testing.F) {
	for _, s := range []string{"btcusdt@depth@100ms", "btcusdt@kline_1m", "btcusd_perp@markPrice@1s", "btcusd@indexPrice",
		"btcusdt@depth20@100ms", "!serverShutdown", "!markPrice@arr@1s", "!bookTicker", "bnbbtc@kline_1M@+08:00", "a@depth@0ms"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := binance.ParseStreamNameString(s)
		if err != nil {
			if !errors.Is(err, binance.ErrStreamName) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// What parses renders back to the same name (symbols lower-cased).
		back := n.String()
		if back != lowerSymbol(s) {
			t.Fatalf("%q rendered as %q", s, back)
		}
		n2, err := binance.ParseStreamNameString(back)
		if err != nil || n2 != n {
			t.Fatalf("%q: round trip %v %v", s, n2, err)
		}
	})
}

// lowerSymbol lower-cases the part before the first '@'.
func lowerSymbol(s string) string {
	if at := strings.IndexByte(s, '@'); at > 0 && s[0] != '!' {
		return strings.ToLower(s[:at]) + s[at:]
	}
	return s
}

func FuzzParseDepthSnapshot(f *testing.F) {
	for _, name := range []string{"spot", "usdm", "coinm"} {
		for _, line := range readLines(f, filepath.Join("testdata", name+"-depthSnapshot.docs.jsonl")) {
			f.Add(line)
		}
	}
	f.Add([]byte(`{"lastUpdateId":1,"bids":[],"asks":[["1","2"]],"E":1,"T":2}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var snap market.DepthSnapshot
		if err := binance.ParseDepthSnapshot(binance.USDM, body, 1, &snap); err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if snap.Source != market.SnapshotREST || (len(snap.Bids)+len(snap.Asks))*9 > len(body) {
			t.Fatalf("snapshot %+v", snap)
		}
	})
}

func FuzzParseExchangeInfo(f *testing.F) {
	for _, name := range []string{"spot", "usdm", "coinm"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+"-exchangeInfo.docs.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, m := range []binance.Market{binance.Spot, binance.CoinM} {
			info, err := binance.ParseExchangeInfo(m, body)
			if err != nil {
				continue
			}
			for i := range info.Symbols {
				s := &info.Symbols[i]
				if got, ok := info.Lookup(strings.ToLower(s.Symbol)); !ok || got.Symbol != s.Symbol {
					t.Fatalf("lookup of %q failed", s.Symbol)
				}
			}
		}
	})
}

func FuzzParseRESTTrades(f *testing.F) {
	f.Add([]byte(`[{"id":28457,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","time":1499865549590,"isBuyerMaker":true,"isBestMatch":true}]`))
	f.Add([]byte(`[{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		sym, _ := market.NewSymbol("BTCUSDT")
		if ts, err := binance.ParseTrades(binance.Spot, sym, body, 1); err == nil {
			for _, tr := range ts {
				if tr.Price.IsNull() || tr.Symbol != sym {
					t.Fatalf("trade %+v", tr)
				}
			}
		}
		if ts, err := binance.ParseAggTrades(binance.USDM, sym, body, 1); err == nil {
			for _, tr := range ts {
				if tr.Quantity.IsNull() || tr.Exchange != market.ExchangeBinanceUSDM {
					t.Fatalf("aggTrade %+v", tr)
				}
			}
		}
	})
}
