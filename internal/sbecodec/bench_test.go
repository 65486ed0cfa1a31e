package sbecodec

import (
	"fmt"
	"testing"

	"github.com/ims-dev/ims/internal/market"
)

// The loops use b.N rather than b.Loop, as in sbe/imssbe: a b.Loop body
// keeps every call argument alive with an extra store, which distorts
// nanosecond-scale codec timings.

func BenchmarkAppendTrade(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(TradeSize)
	b.ResetTimer()
	for range b.N {
		buf = AppendTrade(buf[:0], &sampleTrade)
	}
}

func BenchmarkDecodeTrade(b *testing.B) {
	msg := AppendTrade(nil, &sampleTrade)
	var ev market.Trade
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for range b.N {
		if err := DecodeTrade(msg, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendDepthUpdate20(b *testing.B) {
	ev := market.DepthUpdate{Header: hdr(market.ExchangeBinanceUSDM, "BTCUSDT"), Bids: levels(20), Asks: levels(20)}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(DepthUpdateSize(&ev)))
	b.ResetTimer()
	for range b.N {
		buf, _ = AppendDepthUpdate(buf[:0], &ev)
	}
}

func BenchmarkDecodeDepthUpdate20(b *testing.B) {
	ev := market.DepthUpdate{Header: hdr(market.ExchangeBinanceUSDM, "BTCUSDT"), Bids: levels(20), Asks: levels(20)}
	msg, _ := AppendDepthUpdate(nil, &ev)
	var got market.DepthUpdate
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for range b.N {
		if err := DecodeDepthUpdate(msg, &got); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendDepthUpdateLevels and BenchmarkDecodeDepthUpdateLevels
// vary the levels per side: the difference between two sizes divided by the
// levels added (2 per step of one per side) is the cost of one level, the
// time at 0 the fixed cost of the message.
func BenchmarkAppendDepthUpdateLevels(b *testing.B) {
	for _, n := range depthSizes {
		b.Run(fmt.Sprintf("levels=%d", 2*n), func(b *testing.B) {
			ev := market.DepthUpdate{Header: hdr(market.ExchangeBinanceUSDM, "BTCUSDT"), Bids: levels(n), Asks: levels(n)}
			buf := make([]byte, 0, DepthUpdateSize(&ev))
			b.ReportAllocs()
			b.SetBytes(int64(DepthUpdateSize(&ev)))
			b.ResetTimer()
			for range b.N {
				buf, _ = AppendDepthUpdate(buf[:0], &ev)
			}
		})
	}
}

func BenchmarkDecodeDepthUpdateLevels(b *testing.B) {
	for _, n := range depthSizes {
		b.Run(fmt.Sprintf("levels=%d", 2*n), func(b *testing.B) {
			ev := market.DepthUpdate{Header: hdr(market.ExchangeBinanceUSDM, "BTCUSDT"), Bids: levels(n), Asks: levels(n)}
			msg, _ := AppendDepthUpdate(nil, &ev)
			got := market.DepthUpdate{Bids: make([]market.Level, 0, n), Asks: make([]market.Level, 0, n)}
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			for range b.N {
				if err := DecodeDepthUpdate(msg, &got); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppendDepthUpdateHandWritten is the yardstick for
// BenchmarkAppendDepthUpdateLevels: the same bytes written straight into the
// buffer at constant offsets, without the generated flyweights.
func BenchmarkAppendDepthUpdateHandWritten(b *testing.B) {
	for _, n := range depthSizes {
		b.Run(fmt.Sprintf("levels=%d", 2*n), func(b *testing.B) {
			ev := market.DepthUpdate{Header: hdr(market.ExchangeBinanceUSDM, "BTCUSDT"), Bids: levels(n), Asks: levels(n)}
			buf := make([]byte, 0, DepthUpdateSize(&ev))
			b.ReportAllocs()
			b.SetBytes(int64(DepthUpdateSize(&ev)))
			b.ResetTimer()
			for range b.N {
				buf = appendDepthUpdateByHand(buf[:0], &ev)
			}
		})
	}
}

// depthSizes are the levels per side of the Levels benchmarks.
var depthSizes = []int{0, 5, 20, 100}

func BenchmarkEventsDecodeMixed(b *testing.B) {
	var msgs [][]byte
	msgs = append(msgs, AppendTrade(nil, &sampleTrade), AppendBookTicker(nil, &sampleBookTicker), AppendKline(nil, &sampleKline))
	d, _ := AppendDepthUpdate(nil, &market.DepthUpdate{Bids: levels(10), Asks: levels(10)})
	msgs = append(msgs, d)
	var e Events
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Decode(msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
	}
}
