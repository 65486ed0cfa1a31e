package watch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/record"
)

// tradeRecording is a spot recording of one connection carrying n
// consecutive btcusdt trades.
func tradeRecording(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := record.NewWriter(&buf, record.WriterOptions{Market: "spot", Created: time.Unix(0, 0), FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	at := int64(1_700_000_000_000_000_000)
	write := func(kind record.Kind, data []byte) {
		at += int64(time.Millisecond)
		if err := w.Write(&record.Record{Kind: kind, Conn: 1, Time: at, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	write(record.KindOpen, []byte("wss://stream.binance.com:9443/stream?streams=btcusdt@trade"))
	var frame []byte
	for i := range n {
		frame = fmt.Appendf(frame[:0], `{"stream":"btcusdt@trade","data":{"e":"trade","E":%d,"s":"BTCUSDT","t":%d,"p":"37000.%02d","q":"0.0125","T":%d,"m":%t,"M":true}}`,
			1700000000000+i, 1000+i, i%100, 1700000000000+i, i%2 == 0)
		write(record.KindText, frame)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The replay path (reader, parser, sequencing, encoding, rendering)
// allocates per run, not per event: a recording 100 times longer costs
// (almost) no more allocations.
func TestReplayAllocatesPerRunNotPerEvent(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector (sync.Pool drops items)")
	}
	allocs := func(data []byte, f Format) float64 {
		return testing.AllocsPerRun(3, func() {
			r, err := record.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			s, err := Run(context.Background(), Config{Market: binance.Spot, Out: io.Discard, Format: f, Replay: r})
			if err != nil || s.Stopped != StopEnd {
				t.Fatal(s.Stopped, err)
			}
		})
	}
	short, long := tradeRecording(t, 200), tradeRecording(t, 20000)
	for _, f := range []Format{JSON, Text, SBE} {
		a, b := allocs(short, f), allocs(long, f)
		// A few allocations grow with the recording's blocks (zstd
		// decoding windows), not with its events.
		if b-a > 40 {
			t.Errorf("%s: %.0f allocations for 200 events, %.0f for 20000", f, a, b)
		}
		t.Logf("%s: %.0f allocations for 200 events, %.0f for 20000", f, a, b)
	}
}
