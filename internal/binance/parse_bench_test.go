package binance_test

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ims-dev/ims/internal/binance"
)

// benchSets are the per-channel benchmark inputs: every line of the named
// sample files (recorded where Binance data exists, docs otherwise). Raw
// docs frames that need a stream name are wrapped as a combined stream
// would deliver them.
var benchSets = []struct {
	name   string
	market binance.Market
	files  []string
	stream string // wrap raw lines in {"stream":stream,"data":...}
}{
	{"spot/trade", binance.Spot, []string{"spot-trade.jsonl"}, ""},
	{"spot/aggTrade", binance.Spot, []string{"spot-aggTrade.jsonl"}, ""},
	{"spot/kline", binance.Spot, []string{"spot-kline.jsonl"}, ""},
	{"spot/bookTicker", binance.Spot, []string{"spot-bookTicker.jsonl"}, ""},
	{"spot/depthUpdate", binance.Spot, []string{"spot-depthUpdate.jsonl"}, ""},
	{"spot/partialDepth", binance.Spot, []string{"spot-partialDepth.docs.jsonl"}, "bnbbtc@depth5"},
	{"spot/miniTicker", binance.Spot, []string{"spot-miniTicker.docs.jsonl"}, "bnbbtc@miniTicker"},
	{"spot/ticker", binance.Spot, []string{"spot-ticker.jsonl"}, ""},
	{"usdm/trade", binance.USDM, []string{"usdm-trade.jsonl"}, ""},
	{"usdm/aggTrade", binance.USDM, []string{"usdm-aggTrade.jsonl"}, ""},
	{"usdm/kline", binance.USDM, []string{"usdm-kline.jsonl"}, ""},
	{"usdm/bookTicker", binance.USDM, []string{"usdm-bookTicker.jsonl"}, ""},
	{"usdm/depthUpdate", binance.USDM, []string{"usdm-depthUpdate.jsonl"}, ""},
	{"usdm/partialDepth", binance.USDM, []string{"usdm-partialDepth.docs.jsonl"}, "btcusdt@depth5"},
	{"usdm/ticker", binance.USDM, []string{"usdm-ticker.jsonl"}, ""},
	{"usdm/markPrice", binance.USDM, []string{"usdm-markPrice.jsonl"}, ""},
	{"usdm/forceOrder", binance.USDM, []string{"usdm-forceOrder.jsonl"}, ""},
	{"coinm/trade", binance.CoinM, []string{"coinm-trade.jsonl"}, ""},
	{"coinm/aggTrade", binance.CoinM, []string{"coinm-aggTrade.jsonl"}, ""},
	{"coinm/kline", binance.CoinM, []string{"coinm-kline.jsonl"}, ""},
	{"coinm/bookTicker", binance.CoinM, []string{"coinm-bookTicker.jsonl"}, ""},
	{"coinm/depthUpdate", binance.CoinM, []string{"coinm-depthUpdate.jsonl"}, ""},
	{"coinm/ticker", binance.CoinM, []string{"coinm-ticker.jsonl"}, ""},
	{"coinm/markPrice", binance.CoinM, []string{"coinm-markPrice.jsonl"}, ""},
	{"coinm/forceOrder", binance.CoinM, []string{"coinm-forceOrder.jsonl"}, ""},
	{"coinm/indexPrice", binance.CoinM, []string{"coinm-indexPrice.jsonl"}, ""},
}

func loadBenchFrames(b *testing.B, files []string, stream string) ([][]byte, int) {
	b.Helper()
	var frames [][]byte
	total := 0
	for _, f := range files {
		for _, line := range readLines(b, filepath.Join("testdata", f)) {
			if stream != "" {
				line = []byte(`{"stream":` + strconv.Quote(stream) + `,"data":` + string(line) + `}`)
			}
			frames = append(frames, line)
			total += len(line)
		}
	}
	return frames, total
}

// BenchmarkParse measures parse + normalize (frame → reused market event)
// per frame, cycling through every sample line of a channel.
func BenchmarkParse(b *testing.B) {
	for _, set := range benchSets {
		b.Run(set.name, func(b *testing.B) {
			frames, total := loadBenchFrames(b, set.files, set.stream)
			p := binance.NewParser(set.market, binance.ParserOptions{LevelCapacity: 256})
			for _, f := range frames {
				if _, err := p.Parse(f, 1); err != nil {
					b.Fatalf("%s: %v", f, err)
				}
			}
			b.SetBytes(int64(total / len(frames)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := p.Parse(frames[i%len(frames)], int64(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// recordedSets are every recorded stream frame of each market (the real mix
// of channels).
var recordedSets = []struct {
	name   string
	market binance.Market
	files  []string
}{
	{"spot", binance.Spot, []string{"spot-trade.jsonl", "spot-aggTrade.jsonl", "spot-kline.jsonl", "spot-bookTicker.jsonl", "spot-depthUpdate.jsonl", "spot-ticker.jsonl"}},
	{"usdm", binance.USDM, []string{"usdm-trade.jsonl", "usdm-aggTrade.jsonl", "usdm-kline.jsonl", "usdm-bookTicker.jsonl", "usdm-depthUpdate.jsonl", "usdm-ticker.jsonl", "usdm-markPrice.jsonl", "usdm-forceOrder.jsonl"}},
	{"coinm", binance.CoinM, []string{"coinm-trade.jsonl", "coinm-aggTrade.jsonl", "coinm-kline.jsonl", "coinm-bookTicker.jsonl", "coinm-depthUpdate.jsonl", "coinm-ticker.jsonl", "coinm-markPrice.jsonl", "coinm-forceOrder.jsonl", "coinm-indexPrice.jsonl"}},
}

// BenchmarkParseAllRecorded runs every recorded stream frame of a market
// through one parser.
func BenchmarkParseAllRecorded(b *testing.B) {
	for _, m := range recordedSets {
		b.Run(m.name, func(b *testing.B) {
			frames, total := loadBenchFrames(b, m.files, "")
			p := binance.NewParser(m.market, binance.ParserOptions{LevelCapacity: 256})
			b.SetBytes(int64(total / len(frames)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := p.Parse(frames[i%len(frames)], int64(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodingJSONBaseline is the approach of go-binance and most Go
// clients, for comparison: encoding/json into structs with string prices
// (which still need converting afterwards).
func BenchmarkEncodingJSONBaseline(b *testing.B) {
	type wrapper struct {
		Stream string          `json:"stream"`
		Data   json.RawMessage `json:"data"`
	}
	type bookTicker struct {
		Type     string `json:"e"` // without it "e" lands in E (case-insensitive match)
		UpdateID int64  `json:"u"`
		Symbol   string `json:"s"`
		BidPrice string `json:"b"`
		BidQty   string `json:"B"`
		AskPrice string `json:"a"`
		AskQty   string `json:"A"`
		Time     int64  `json:"T"`
		Event    int64  `json:"E"`
	}
	type depth struct {
		Event    string      `json:"e"`
		Time     int64       `json:"E"`
		TxTime   int64       `json:"T"`
		Symbol   string      `json:"s"`
		First    int64       `json:"U"`
		Last     int64       `json:"u"`
		PrevLast int64       `json:"pu"`
		Bids     [][2]string `json:"b"`
		Asks     [][2]string `json:"a"`
	}
	for _, c := range []struct {
		name string
		file string
		dst  func() any
	}{
		{"usdm/bookTicker", "usdm-bookTicker.jsonl", func() any { return &bookTicker{} }},
		{"usdm/depthUpdate", "usdm-depthUpdate.jsonl", func() any { return &depth{} }},
	} {
		b.Run(c.name, func(b *testing.B) {
			frames, total := loadBenchFrames(b, []string{c.file}, "")
			b.SetBytes(int64(total / len(frames)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var w wrapper
				if err := json.Unmarshal(frames[i%len(frames)], &w); err != nil {
					b.Fatal(err)
				}
				if err := json.Unmarshal(w.Data, c.dst()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseStreamName(b *testing.B) {
	names := [][]byte{[]byte("btcusdt@depth@100ms"), []byte("btcusd_perp@markPrice@1s"), []byte("btcusdt@kline_1m"), []byte("ethusdt@aggTrade")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := binance.ParseStreamName(names[i%len(names)]); err != nil {
			b.Fatal(err)
		}
	}
}
