package binance

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/record"
	"github.com/ims-dev/ims/internal/source"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		name     string
		v        seqVal
		has      bool
		last     int64
		want     seqResult
		from, to int64
	}{
		{"first", seqVal{kind: seqConsecutive, first: 5, last: 5}, false, 0, seqFirst, 0, 0},
		{"trade next", seqVal{kind: seqConsecutive, first: 6, last: 6}, true, 5, seqNext, 0, 0},
		{"trade dup", seqVal{kind: seqConsecutive, first: 5, last: 5}, true, 5, seqDup, 0, 0},
		{"trade older", seqVal{kind: seqConsecutive, first: 3, last: 3}, true, 5, seqDup, 0, 0},
		{"trade gap", seqVal{kind: seqConsecutive, first: 9, last: 9}, true, 5, seqGap, 6, 8},
		{"spot depth next", seqVal{kind: seqSpotDepth, first: 161, last: 170}, true, 160, seqNext, 0, 0},
		{"spot depth overlap", seqVal{kind: seqSpotDepth, first: 150, last: 170}, true, 160, seqNext, 0, 0},
		{"spot depth gap", seqVal{kind: seqSpotDepth, first: 165, last: 170}, true, 160, seqGap, 161, 164},
		{"spot depth dup", seqVal{kind: seqSpotDepth, first: 150, last: 160}, true, 160, seqDup, 0, 0},
		{"futures depth next", seqVal{kind: seqFuturesDepth, first: 170, last: 180, prev: 160}, true, 160, seqNext, 0, 0},
		{"futures depth gap", seqVal{kind: seqFuturesDepth, first: 190, last: 200, prev: 185}, true, 160, seqGap, 161, 185},
		{"futures depth broken", seqVal{kind: seqFuturesDepth, first: 150, last: 200, prev: 140}, true, 160, seqGap, 161, 161},
		{"monotonic next", seqVal{kind: seqMonotonic, first: 7, last: 7}, true, 3, seqNext, 0, 0},
		{"monotonic dup", seqVal{kind: seqMonotonic, first: 3, last: 3}, true, 3, seqDup, 0, 0},
	}
	for _, tc := range cases {
		r, from, to := classify(tc.v, tc.has, tc.last)
		if r != tc.want || from != tc.from || to != tc.to {
			t.Errorf("%s: got %d %d..%d, want %d %d..%d", tc.name, r, from, to, tc.want, tc.from, tc.to)
		}
	}
}

func TestStaleThresholdLearnsRhythm(t *testing.T) {
	s := staleState{floor: time.Second, since: 0}
	if s.check(int64(time.Second)) {
		t.Fatal("stale at exactly the floor")
	}
	if !s.check(int64(time.Second) + 1) {
		t.Fatal("not stale past the floor with no data")
	}
	if s.check(int64(5 * time.Second)) {
		t.Fatal("reported stale twice")
	}
	if !s.arrive(int64(6 * time.Second)) {
		t.Fatal("arrival did not report recovery")
	}
	// A slow stream (one event every 10 s) learns a 200 s threshold.
	now := int64(6 * time.Second)
	for range 20 {
		now += int64(10 * time.Second)
		s.arrive(now)
	}
	if th := s.threshold(); th < 150*time.Second || th > 250*time.Second {
		t.Fatalf("threshold %v for a 10 s rhythm", th)
	}
	if s.check(now + int64(100*time.Second)) {
		t.Fatal("a slow stream was flagged within its rhythm")
	}
	never := staleState{floor: 0}
	if never.check(int64(time.Hour)) {
		t.Fatal("floor 0 must never be stale")
	}
	if f := StaleFloor(Spot, StreamName{Channel: market.ChannelLiquidation}); f != 0 {
		t.Fatalf("liquidation floor %v", f)
	}
	if a, b := StaleFloor(USDM, StreamName{Channel: market.ChannelMarkPrice}), StaleFloor(USDM, StreamName{Channel: market.ChannelTrade}); a >= b {
		t.Fatalf("markPrice floor %v not below an event-driven trade floor %v", a, b)
	}
}

func TestMsgLimiterPaces(t *testing.T) {
	l := newMsgLimiter(4, 1) // one message every 250 ms
	t0 := time.Unix(1000, 0)
	var waits []time.Duration
	for range 5 {
		waits = append(waits, l.reserve(t0))
	}
	for i, w := range waits {
		if want := time.Duration(i) * 250 * time.Millisecond; w != want {
			t.Fatalf("message %d waits %v, want %v", i, w, want)
		}
	}
	// In any window of one second at most 5 messages leave (burst 1 + 4).
	if w := l.reserve(t0.Add(1250 * time.Millisecond)); w != 0 {
		t.Fatalf("after the queue drained: wait %v", w)
	}
}

func TestConnectLimiterWindow(t *testing.T) {
	now := time.Unix(0, 0)
	c := NewConnectLimiter(3, time.Minute)
	c.now = func() time.Time { return now }
	for i := range 3 {
		if d := c.reserve(); d != 0 {
			t.Fatalf("attempt %d waits %v", i, d)
		}
	}
	if d := c.reserve(); d != time.Minute {
		t.Fatalf("4th attempt waits %v, want 1m", d)
	}
	now = now.Add(90 * time.Second)
	if d := c.reserve(); d != 0 {
		t.Fatalf("later attempt waits %v", d)
	}
}

func TestBackoffAndRetryAfter(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	for attempt := range 10 {
		ceil := min(time.Duration(100<<attempt)*time.Millisecond, time.Second)
		for range 50 {
			if d := b.Delay(attempt); d <= 0 || d > ceil {
				t.Fatalf("attempt %d: delay %v outside (0, %v]", attempt, d, ceil)
			}
		}
	}
	f, err := NewFeed(FeedConfig{Market: Spot, Handler: source.HandlerFunc(func(*source.Event) {}), Backoff: b})
	if err != nil {
		t.Fatal(err)
	}
	if d := f.retryDelay(0, &HandshakeError{Status: http.StatusTooManyRequests, RetryAfter: 7 * time.Second}); d != 7*time.Second {
		t.Fatalf("429 Retry-After 7: %v", d)
	}
	if d := f.retryDelay(0, &HandshakeError{Status: http.StatusTeapot}); d != 2*time.Minute {
		t.Fatalf("418 without Retry-After: %v", d)
	}
	if d := f.retryDelay(0, errors.New("refused")); d > b.Initial {
		t.Fatalf("plain error: %v", d)
	}
}

func TestWrappedStreamAndList(t *testing.T) {
	if s := wrappedStream([]byte(`{"stream":"btcusdt@trade","data":{}}`)); string(s) != "btcusdt@trade" {
		t.Fatalf("got %q", s)
	}
	for _, b := range []string{`{"e":"trade"}`, `{"stream":"a\"b","data":1}`, `{"stream":"unterminated`} {
		if s := wrappedStream([]byte(b)); s != nil {
			t.Fatalf("%s: got %q", b, s)
		}
	}
	l, err := parseStringArray([]byte(`["a@trade", "b@depth"]`))
	if err != nil || len(l) != 2 || l[1] != "b@depth" {
		t.Fatalf("%v %v", l, err)
	}
	if _, err := parseStringArray([]byte(`{"x":1}`)); err == nil {
		t.Fatal("object accepted")
	}
}

// offline builds a feed with one shard and a connection without a socket,
// for driving handleFrame directly.
func offline(tb testing.TB, m Market, h source.Handler, rec *record.Writer, streams ...string) (*shard, *conn) {
	tb.Helper()
	f, err := NewFeed(FeedConfig{Market: m, Handler: h, Recorder: rec})
	if err != nil {
		tb.Fatal(err)
	}
	sh := newShard(f, 1, RouteNone)
	for _, s := range streams {
		n, err := ParseStreamNameString(s)
		if err != nil {
			tb.Fatal(err)
		}
		sh.add(n)
	}
	c := newConn(f, sh, 1, "")
	sh.setPrimary(c)
	return sh, c
}

func tradeFrames(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(`{"stream":"btcusdt@trade","data":{"e":"trade","E":1672515782136,"s":"BTCUSDT","t":` +
			strconv.Itoa(1000+i) + `,"p":"37000.50000000","q":"0.00120000","T":1672515782136,"m":true,"M":true}}`)
	}
	return out
}

func depthFrames(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		u := 500 + 3*i
		out[i] = []byte(`{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1672515782136,"s":"BTCUSDT","U":` +
			strconv.Itoa(u) + `,"u":` + strconv.Itoa(u+2) + `,"b":[["37000.10","1.5"],["36999.90","0"]],"a":[["37000.20","2.25"]]}}`)
	}
	return out
}

// The steady-state path from a read frame to the handler (record, parse,
// de-duplicate, check the sequence, deliver) allocates nothing.
func TestFrameHotPathAllocatesNothing(t *testing.T) {
	rec, err := record.NewWriter(io.Discard, record.WriterOptions{FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	n := 0
	sh, c := offline(t, Spot, source.HandlerFunc(func(*source.Event) { n++ }), rec, "btcusdt@trade", "btcusdt@depth@100ms")
	trades, depth := tradeFrames(3000), depthFrames(3000)
	i := 0
	step := func() {
		sh.handleFrame(c, trades[i], 1) // records it too
		sh.handleFrame(c, depth[i], 1)
		i++
	}
	for range 100 { // warm up: maps, parser buffers, recorder block
		step()
	}
	if a := testing.AllocsPerRun(2000, step); a != 0 {
		t.Fatalf("%.2f allocations per frame pair", a)
	}
	if n != 2*i {
		t.Fatalf("delivered %d of %d", n, 2*i)
	}
	// The read buffer is reused frame after frame.
	frame := trades[0]
	r := bytes.NewReader(frame)
	if err := c.readFrame(r); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(100, func() {
		r.Reset(frame)
		if err := c.readFrame(r); err != nil || !bytes.Equal(c.buf, frame) {
			t.Fatal("readFrame", err)
		}
	}); a != 0 {
		t.Fatalf("readFrame: %.2f allocations", a)
	}
}

// FuzzFeedFrames drives arbitrary frames through the feed's frame path
// (parse, replies, shutdown notices, dedup, gaps): it must never panic.
func FuzzFeedFrames(f *testing.F) {
	for _, b := range tradeFrames(2) {
		f.Add(b, []byte(`{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1009,"p":"1","q":"1","T":1,"m":true}}`))
	}
	f.Add(depthFrames(1)[0], []byte(`{"result":null,"id":1}`))
	f.Add([]byte(`{"code":2,"msg":"Invalid request"}`), []byte(`{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1}}`))
	f.Add([]byte(`{"stream":"!miniTicker@arr","data":[{"e":"24hrMiniTicker","E":1,"s":"A","c":"1","o":"1","h":"1","l":"1","v":"1","q":"1"}]}`), []byte(`[]`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		sh, c := offline(t, Spot, source.HandlerFunc(func(ev *source.Event) {
			if ev.Header() == nil {
				t.Fatalf("event without a header: %+v", ev)
			}
		}), nil, "btcusdt@trade", "btcusdt@depth@100ms")
		sh.handleFrame(c, a, 1)
		sh.handleFrame(c, b, 2)
		sh.handleFrame(c, a, 3)
	})
}

func BenchmarkFeedFrames(b *testing.B) {
	for _, tc := range []struct {
		name   string
		frames [][]byte
		stream string
	}{
		{"trade", tradeFrames(1 << 14), "btcusdt@trade"},
		{"depth", depthFrames(1 << 14), "btcusdt@depth@100ms"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			sh, c := offline(b, Spot, source.HandlerFunc(func(*source.Event) {}), nil, tc.stream)
			var size int64
			for _, f := range tc.frames {
				size += int64(len(f))
			}
			b.SetBytes(size / int64(len(tc.frames)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%len(tc.frames) == 0 && i > 0 {
					// Start the id sequence over on a fresh shard.
					b.StopTimer()
					sh, c = offline(b, Spot, source.HandlerFunc(func(*source.Event) {}), nil, tc.stream)
					b.StartTimer()
				}
				sh.handleFrame(c, tc.frames[i%len(tc.frames)], 1)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

// BenchmarkReplay replays the shipped USD-M recording through the feed as
// fast as possible: decompression, parsing, sequencing, delivery.
func BenchmarkReplay(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "recording-usdm.ims"))
	if err != nil {
		b.Fatal(err)
	}
	var frames, bytesIn int64
	{
		r, _ := record.NewReader(bytes.NewReader(data))
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			if rec.Kind == record.KindText {
				frames++
				bytesIn += int64(len(rec.Data))
			}
		}
	}
	b.SetBytes(bytesIn)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := record.NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		f, err := NewFeed(FeedConfig{Market: USDM, Handler: source.HandlerFunc(func(*source.Event) {})})
		if err != nil {
			b.Fatal(err)
		}
		if err := f.Replay(context.Background(), r, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(frames*int64(b.N))/b.Elapsed().Seconds(), "frames/s")
}

// A bad first element of an all-market array costs only that element: the
// feed counts it and delivers the rest of the frame.
func TestFeedArrayBadFirstElement(t *testing.T) {
	var got []string
	sh, c := offline(t, USDM, source.HandlerFunc(func(ev *source.Event) {
		if ev.Kind == source.KindMarkPrice {
			got = append(got, ev.MarkPrice.Symbol.String())
		}
	}), nil, "!markPrice@arr")
	frame := `{"stream":"!markPrice@arr","data":[{"e":"markPriceUpdate","E":1,"s":"A"},` +
		`{"e":"markPriceUpdate","E":1,"s":"B","p":"2"},{"e":"markPriceUpdate","E":1,"s":"C","p":"3"}]}`
	sh.handleFrame(c, []byte(frame), 1)
	if strings.Join(got, ",") != "B,C" {
		t.Fatalf("delivered %v, want B,C", got)
	}
	if s := sh.feed.Stats(); s.Malformed != 1 || s.Frames != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// A shard's frames are recorded in the order the shard sequenced them,
// from whichever connection (found by the chaos test: recorded before the
// shard's lock, a rotation's two copies of an event could be recorded in
// the other order, and the replay delivered the other connection's copy,
// or saw a frame before the gap-fill decision it followed live), and frames
// of a stream the shard no longer carries are neither delivered nor
// recorded (the replay, which cannot know the subscriptions, delivered
// them).
func TestRecordingFollowsSequencing(t *testing.T) {
	var buf bytes.Buffer
	rec, err := record.NewWriter(&buf, record.WriterOptions{FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	sh, c1 := offline(t, Spot, source.HandlerFunc(func(ev *source.Event) {
		if ev.Kind == source.KindTrade {
			got = append(got, ev.Trade.TradeID)
		}
	}), rec, "btcusdt@trade")
	c2 := newConn(sh.feed, sh, 2, "")
	sh.setSecondary(c2)
	frames := tradeFrames(3)
	sh.handleFrame(c1, frames[0], 1)
	sh.handleFrame(c2, frames[1], 2) // the new connection is first with 1001
	sh.handleFrame(c1, frames[1], 3) // a duplicate
	sh.handleFrame(c1, frames[2], 4)
	sh.handleFrame(c1, []byte(`{"stream":"ethusdt@trade","data":{"e":"trade","E":1,"s":"ETHUSDT","t":5,"p":"1","q":"1","T":1,"m":true,"M":true}}`), 5)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int64{1000, 1001, 1002}) {
		t.Fatalf("delivered %v", got)
	}
	r, err := record.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var conns []uint32
	var times []int64
	for {
		rr, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
		conns = append(conns, rr.Conn)
		times = append(times, rr.Time)
	}
	if !slices.Equal(conns, []uint32{1, 2, 1, 1}) || !slices.Equal(times, []int64{1, 2, 3, 4}) {
		t.Fatalf("recorded conns %v times %v, want conns [1 2 1 1] times [1 2 3 4]", conns, times)
	}
}

// When the primary ends during a rotation, the rotation's connection is
// primary from then on (found by the chaos test: its book tickers were
// dropped as a secondary's "ahead" values until the rotation noticed).
func TestPrimaryLostPromotesRotation(t *testing.T) {
	var got []int64
	sh, c1 := offline(t, Spot, source.HandlerFunc(func(ev *source.Event) {
		if ev.Kind == source.KindBookTicker {
			got = append(got, ev.BookTicker.UpdateID)
		}
	}), nil, "btcusdt@bookTicker")
	c2 := newConn(sh.feed, sh, 2, "")
	sh.setSecondary(c2)
	book := func(u int) []byte {
		return []byte(`{"stream":"btcusdt@bookTicker","data":{"u":` + strconv.Itoa(u) + `,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}}`)
	}
	sh.handleFrame(c1, book(1), 1)
	sh.handleFrame(c2, book(2), 2) // ahead of the primary, which is lost before delivering it
	c1.finish(errors.New("lost"))
	sh.handleFrame(c2, book(3), 3)
	// 2 goes out at the promotion, from the copy the rotation kept.
	if !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("delivered %v, want [1 2 3]", got)
	}
	if sh.primaryConn() != c2 {
		t.Fatal("the rotation's connection is not primary")
	}
}
