package binance_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/record"
)

// A recording of two shards (different URLs, as USD-M's /public and
// /market routes) replays every event of both: the second connection is
// not taken for a rotation successor of the first, whose monotonic events
// (klines, by event time) would be dropped until it "proved" an overlap. A
// third connection with the first one's URL is that shard's rotation: its
// copies of events already delivered are dropped.
func TestReplayShardsByURL(t *testing.T) {
	var buf bytes.Buffer
	w, err := record.NewWriter(&buf, record.WriterOptions{Market: "spot", Created: time.Unix(0, 0), FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	const (
		urlA = "wss://stream.binance.com:9443/stream?streams=btcusdt@kline_1m"
		urlB = "wss://stream.binance.com:9443/stream?streams=ethusdt@kline_1m"
	)
	at := int64(1_700_000_000_000_000_000)
	write := func(kind record.Kind, conn uint32, data string) {
		t.Helper()
		at += int64(time.Millisecond)
		if err := w.Write(&record.Record{Kind: kind, Conn: conn, Time: at, Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	kline := func(sym string, e int64) string {
		return fmt.Sprintf(`{"stream":"%s@kline_1m","data":{"e":"kline","E":%d,"s":"%s","k":{"t":1672515780000,"T":1672515839999,"s":"%s","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}}`,
			bytesLower(sym), e, sym, sym)
	}
	write(record.KindOpen, 1, urlA)
	write(record.KindOpen, 2, urlB)
	for i := range int64(5) {
		write(record.KindText, 1, kline("BTCUSDT", 1000+i))
		write(record.KindText, 2, kline("ETHUSDT", 1000+i))
	}
	// Connection 3 rotates connection 1: it repeats the last two events,
	// then carries on alone.
	write(record.KindOpen, 3, urlA)
	write(record.KindText, 3, kline("BTCUSDT", 1003))
	write(record.KindText, 3, kline("BTCUSDT", 1004))
	write(record.KindClose, 1, "rotated")
	write(record.KindText, 3, kline("BTCUSDT", 1005))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	r, err := record.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	col := newCollector()
	f, err := binance.NewFeed(binance.FeedConfig{Market: binance.Spot, Handler: col})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Replay(context.Background(), r, 0); err != nil {
		t.Fatal(err)
	}
	got := map[string][]int64{}
	for _, k := range col.klines {
		got[k.Symbol.String()] = append(got[k.Symbol.String()], k.EventTime/1000)
	}
	want := map[string][]int64{"BTCUSDT": {1000, 1001, 1002, 1003, 1004, 1005}, "ETHUSDT": {1000, 1001, 1002, 1003, 1004}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("klines by symbol (event time ms) %v, want %v", got, want)
	}
	if s := f.Stats(); s.Duplicates != 2 || s.Gaps != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func bytesLower(s string) string { return string(bytes.ToLower([]byte(s))) }
