package watch

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/record"
)

// BenchmarkReplay runs `ims watch --replay <shipped recording> --speed 0`
// (Run, without the CLI) into io.Discard: decompression, parsing,
// sequencing, SBE encoding and rendering. One op is one whole recording;
// events/s is the rate over all of them, and allocs/op includes the
// per-run setup (zstd decoder, feed, buffers), not a per-event cost.
func BenchmarkReplay(b *testing.B) {
	for _, m := range []binance.Market{binance.Spot, binance.USDM, binance.CoinM} {
		data := shipped(b, m.String())
		for _, f := range []Format{JSON, Text, SBE} {
			b.Run(m.String()+"/"+f.String(), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				var events int64
				for b.Loop() {
					r, err := record.NewReader(bytes.NewReader(data))
					if err != nil {
						b.Fatal(err)
					}
					s, err := Run(context.Background(), Config{Market: m, Out: io.Discard, Format: f, Replay: r, Speed: 0})
					if err != nil {
						b.Fatal(err)
					}
					events += s.Printer.Events + s.Printer.Markers
				}
				b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
				b.ReportMetric(float64(events)/float64(b.N), "events/op")
			})
		}
	}
}

// BenchmarkPrinter is the per-event cost of printing (encode to SBE, render,
// buffer) over one event of every kind; it allocates nothing.
func BenchmarkPrinter(b *testing.B) {
	s := newSamples()
	for _, f := range []Format{JSON, Text, SBE} {
		b.Run(f.String(), func(b *testing.B) {
			p := NewPrinter(io.Discard, PrinterOptions{Format: f})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p.HandleEvent(&s.snapshot[i])
				if i++; i == len(s.snapshot) {
					i = 0
				}
			}
		})
	}
}
