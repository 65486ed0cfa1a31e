package binance_test

// The hot path end to end: frame → parse → normalized event → ims SBE
// message (internal/sbecodec), as the relay runs it.

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/sbecodec"
	"github.com/ims-dev/ims/internal/source"
)

// encodeEvent appends ev's SBE message to dst.
func encodeEvent(dst []byte, ev *source.Event) ([]byte, error) {
	switch ev.Kind {
	case source.KindTrade:
		return sbecodec.AppendTrade(dst, ev.Trade), nil
	case source.KindAggTrade:
		return sbecodec.AppendAggTrade(dst, ev.AggTrade), nil
	case source.KindKline:
		return sbecodec.AppendKline(dst, ev.Kline), nil
	case source.KindBookTicker:
		return sbecodec.AppendBookTicker(dst, ev.BookTicker), nil
	case source.KindDepthUpdate:
		return sbecodec.AppendDepthUpdate(dst, ev.DepthUpdate)
	case source.KindDepthSnapshot:
		return sbecodec.AppendDepthSnapshot(dst, ev.DepthSnapshot)
	case source.KindTicker:
		return sbecodec.AppendTicker(dst, ev.Ticker), nil
	case source.KindMarkPrice:
		return sbecodec.AppendMarkPrice(dst, ev.MarkPrice), nil
	case source.KindLiquidation:
		return sbecodec.AppendLiquidation(dst, ev.Liquidation), nil
	case source.KindIndexPrice:
		return sbecodec.AppendIndexPrice(dst, ev.IndexPrice), nil
	}
	return dst, fmt.Errorf("no SBE message for %v", ev.Kind)
}

// decodedValue returns the event Events.Decode filled for the kind.
func decodedValue(e *sbecodec.Events, k source.Kind) any {
	switch k {
	case source.KindTrade:
		return e.Trade
	case source.KindAggTrade:
		return e.AggTrade
	case source.KindKline:
		return e.Kline
	case source.KindBookTicker:
		return e.BookTicker
	case source.KindDepthUpdate:
		return e.DepthUpdate
	case source.KindDepthSnapshot:
		return e.DepthSnapshot
	case source.KindTicker:
		return e.Ticker
	case source.KindMarkPrice:
		return e.MarkPrice
	case source.KindLiquidation:
		return e.Liquidation
	case source.KindIndexPrice:
		return e.IndexPrice
	}
	return nil
}

// TestParsedSamplesRoundTripSBE: every event parsed from the samples
// encodes to SBE and decodes back to the same event.
func TestParsedSamplesRoundTripSBE(t *testing.T) {
	var (
		buf []byte
		dec sbecodec.Events
		n   int
	)
	for _, s := range streamSamples(t) {
		p := binance.NewParser(s.market, binance.ParserOptions{})
		if raw := rawStreamFor(s.file); raw != "" {
			p.SetRawStream(mustStream(t, raw))
		}
		fr, err := p.Parse(s.data, 99)
		if err != nil || fr.Type != binance.FrameEvent {
			continue
		}
		for {
			var err error
			if buf, err = encodeEvent(buf[:0], &fr.Event); err != nil {
				t.Fatalf("%s:%d: %v", s.file, s.line, err)
			}
			if _, err := dec.Decode(buf); err != nil {
				t.Fatalf("%s:%d: decode: %v", s.file, s.line, err)
			}
			got, want := normalize(decodedValue(&dec, fr.Event.Kind)), normalize(eventValue(&fr.Event))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s:%d: SBE round trip differs\n got %+v\nwant %+v", s.file, s.line, got, want)
			}
			n++
			if !fr.More {
				break
			}
			if ok, err := p.Next(); !ok || err != nil {
				t.Fatalf("%s:%d: Next: %v %v", s.file, s.line, ok, err)
			}
		}
	}
	if n < 2500 {
		t.Fatalf("only %d events round-tripped", n)
	}
}

// BenchmarkParseEncode measures the relay's per-frame work: parse +
// normalize + SBE encode into a reused buffer.
func BenchmarkParseEncode(b *testing.B) {
	for _, set := range benchSets {
		b.Run(set.name, func(b *testing.B) {
			frames, total := loadBenchFrames(b, set.files, set.stream)
			p := binance.NewParser(set.market, binance.ParserOptions{LevelCapacity: 256})
			buf := make([]byte, 0, 64<<10)
			b.SetBytes(int64(total / len(frames)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				fr, err := p.Parse(frames[i%len(frames)], int64(i))
				if err != nil {
					b.Fatal(err)
				}
				if buf, err = encodeEvent(buf[:0], &fr.Event); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseEncodeAllRecorded is BenchmarkParseEncode over every
// recorded stream frame of a market (the real mix of channels).
func BenchmarkParseEncodeAllRecorded(b *testing.B) {
	for _, m := range recordedSets {
		b.Run(m.name, func(b *testing.B) {
			frames, total := loadBenchFrames(b, m.files, "")
			p := binance.NewParser(m.market, binance.ParserOptions{LevelCapacity: 256})
			buf := make([]byte, 0, 64<<10)
			b.SetBytes(int64(total / len(frames)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				fr, err := p.Parse(frames[i%len(frames)], int64(i))
				if err != nil {
					b.Fatal(err)
				}
				if buf, err = encodeEvent(buf[:0], &fr.Event); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
