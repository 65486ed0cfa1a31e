package binance_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/ims-dev/ims/internal/source"
	"net/http"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/binance/binancetest"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/record"
)

// A stream subscribed live is in the URL of the shard's next connection
// (rotation or reconnect), so the successor's URL differs from its
// predecessor's. Its replay must still treat it as the same shard: the
// copies of trades both connections carried are dropped as they were live,
// not delivered twice.
func TestReplayRotationAfterLiveSubscribe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "session.ims")
	rec, err := record.Create(path, record.WriterOptions{Market: "spot", FlushFrames: 4})
	if err != nil {
		t.Fatal(err)
	}
	ws, url := startFake(t, binancetest.WSConfig{})
	ws.SetSource("btcusdt@trade", binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade))
	ws.SetSource("ethusdt@trade", binancetest.NewSource([][]byte{[]byte(fdSpotTrade2)}, binancetest.IDsTrade))
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, Recorder: rec, RotationOverlap: 10e6}, "btcusdt@trade")
	e.run(t)
	e.waitConnected(t)
	if err := e.feed.Subscribe(context.Background(), fdStream(t, "ethusdt@trade")); err != nil {
		t.Fatal(err)
	}
	ws.Emit("btcusdt@trade", 3)
	ws.Emit("ethusdt@trade", 3)
	e.col.wait(t, "6 trades", func() bool { return len(e.col.trades) == 6 })
	ws.Shutdown()
	e.waitWS(t, "rotation connection", func() bool {
		return ws.Connects() == 2 && ws.Subscribers("btcusdt@trade") == 2 && ws.Subscribers("ethusdt@trade") == 2
	})
	ws.Emit("btcusdt@trade", 3) // both connections carry these
	ws.Emit("ethusdt@trade", 3)
	e.waitWS(t, "old connection closed", func() bool { return len(ws.Conns()) == 1 })
	ws.Emit("btcusdt@trade", 2)
	e.col.wait(t, "14 trades", func() bool { return len(e.col.trades) == 14 })
	e.shutdown(t)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if s := e.feed.Stats(); s.Rotations != 1 || s.Duplicates != 6 {
		t.Fatalf("live stats %+v", s)
	}

	col, f := replayFile(t, path, binance.Spot)
	if got, want := col.tradeIDs(), e.col.tradeIDs(); !slices.Equal(got, want) {
		t.Fatalf("replayed trade ids %v, live %v", got, want)
	}
	if s := f.Stats(); s.Duplicates != 6 || s.Gaps != 0 {
		t.Fatalf("replay stats %+v", s)
	}
	_ = market.StatusGap
}

// Subscribe while a replay runs registers the stream for a later Run; it
// must not try to connect (the feed has no Run context then) nor panic.
func TestSubscribeDuringReplay(t *testing.T) {
	rec := newMemRecording(t, "spot", time.Millisecond)
	rec.put(record.KindOpen, 1, "", "wss://stream.binance.com:9443/stream?streams=btcusdt@trade")
	rec.put(record.KindText, 1, "", `{"stream":"btcusdt@trade","data":`+fdSpotTrade+`}`)
	rec.put(record.KindClose, 1, "", "end")
	var f *binance.Feed
	var subErr error
	subscribed := false
	f, err := binance.NewFeed(binance.FeedConfig{Market: binance.Spot, Handler: source.HandlerFunc(func(ev *source.Event) {
		if ev.Kind != source.KindTrade || subscribed {
			return
		}
		subscribed = true
		defer func() {
			if p := recover(); p != nil {
				subErr = fmt.Errorf("panic: %v", p)
			}
		}()
		subErr = f.Subscribe(context.Background(), fdStream(t, "ethusdt@trade"))
	})})
	if err != nil {
		t.Fatal(err)
	}
	rec.play(f)
	if !subscribed || subErr != nil {
		t.Fatalf("Subscribe during Replay: called %v, err %v", subscribed, subErr)
	}
	if got := f.Streams(); len(got) != 1 || got[0].String() != "ethusdt@trade" {
		t.Fatalf("streams %v", got)
	}
}

// A 418 (or 429) answers for the IP, not for one connection: after one
// shard is refused with Retry-After, the feed's other shards make no
// attempt until it has passed (each would be another violation).
func TestFeedBanHoldsEveryShard(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{MaxStreams: 1})
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, StreamsPerConn: 1},
		"btcusdt@trade", "ethusdt@trade")
	e.run(t)
	e.waitWS(t, "two connections", func() bool { return len(ws.Conns()) == 2 })
	const ban = time.Second
	ws.RejectHandshakes(binancetest.Handshake{Status: http.StatusTeapot, RetryAfter: ban})
	conns := ws.Conns()
	conns[0].Drop("network")
	e.waitWS(t, "the refused attempt", func() bool { return ws.Attempts() == 3 })
	refusedAt := ws.AttemptTimes()[2]
	conns[1].Drop("network")
	e.waitWS(t, "both reconnected", func() bool { return len(ws.Conns()) == 2 && ws.Connects() == 4 })
	at := ws.AttemptTimes()
	if len(at) != 5 {
		t.Fatalf("%d attempts, want 5 (2 connects, the refused one, 2 reconnects)", len(at))
	}
	for i, a := range at[3:] {
		// The fake rounds Retry-After up to whole seconds; allow for the
		// clocks of client and server differing by scheduling only.
		if d := a.Sub(refusedAt); d < ban-50*time.Millisecond {
			t.Errorf("attempt %d came %v after the 418 (Retry-After %v)", 4+i, d, ban)
		}
	}
}

// An all-market stream that delivers nothing at all (a silent route, a
// stream Binance stopped) is flagged stale like any other stream, and
// recovers when it delivers again.
func TestFeedSilentAllMarketStreamGoesStale(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot,
		StaleFloor: func(binance.StreamName) time.Duration { return 100 * time.Millisecond },
		StaleCheck: 10 * time.Millisecond}, "!miniTicker@arr")
	e.run(t)
	e.waitConnected(t)
	isAll := func(s market.Status, kind market.StatusKind) bool {
		return s.Kind == kind && s.Channel == market.ChannelMiniTicker && s.Symbol.IsZero()
	}
	e.col.wait(t, "the silent stream flagged stale", func() bool {
		return slices.ContainsFunc(e.col.statuses, func(s market.Status) bool { return isAll(s, market.StatusStale) })
	})
	ws.Push("!miniTicker@arr", []byte(`[{"e":"24hrMiniTicker","E":100,"s":"BTCUSDT","c":"1","o":"1","h":"1","l":"1","v":"1","q":"1"}]`))
	e.col.wait(t, "recovered", func() bool {
		return slices.ContainsFunc(e.col.statuses, func(s market.Status) bool { return isAll(s, market.StatusRecovered) })
	})
}

// A rotation while a trade gap is being filled: the new connection proves
// it overlaps on the stream being filled (its events are held like the
// primary's), so the hand-over does not wait for MaxOverlap, and once the
// fill completes every trade is there once, in order.
func TestFeedRotationDuringGapFill(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	src := binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", src)
	bf := &fakeBackfill{maxID: 1 << 62, block: make(chan struct{})}
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, Backfill: bf,
		RotationOverlap: 10 * time.Millisecond, MaxOverlap: time.Hour}, "btcusdt@trade")
	e.run(t)
	e.waitConnected(t)
	first := src.NextID()
	ws.Emit("btcusdt@trade", 3)
	src.Skip(5)
	ws.Emit("btcusdt@trade", 2) // a gap: the fill blocks, these are held
	e.col.wait(t, "the gap", func() bool { return e.col.countStatus(market.StatusGap) == 1 })
	ws.Shutdown()
	e.waitWS(t, "rotation connection", func() bool { return ws.Connects() == 2 && ws.Subscribers("btcusdt@trade") == 2 })
	ws.Emit("btcusdt@trade", 3) // both connections carry these
	e.waitWS(t, "old connection closed", func() bool { return len(ws.Conns()) == 1 })
	ws.Emit("btcusdt@trade", 2)
	close(bf.block)
	const total = 3 + 5 + 2 + 3 + 2
	e.col.wait(t, "every trade", func() bool { return len(e.col.trades) == total })
	e.col.wantTradesFrom(t, first)
	if s := e.feed.Stats(); s.Rotations != 1 || s.GapsFilled != 1 || s.Reconnects != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// The old connection dies in the middle of a rotation (after the new one
// is open, before it proved overlap): the new one takes over at once, with
// nothing lost, no reconnect, and a second serverShutdown right after
// rotates again.
func TestFeedOldConnectionDiesMidRotation(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	src := binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", src)
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot,
		RotationOverlap: 10 * time.Millisecond, MaxOverlap: time.Hour}, "btcusdt@trade")
	e.run(t)
	e.waitConnected(t)
	first := src.NextID()
	ws.Emit("btcusdt@trade", 3)
	e.col.wait(t, "3 trades", func() bool { return len(e.col.trades) == 3 })
	ws.Shutdown()
	e.waitWS(t, "rotation connection", func() bool { return ws.Connects() == 2 && ws.Subscribers("btcusdt@trade") == 2 })
	ws.Conns()[0].Drop("network")
	e.waitWS(t, "old connection gone", func() bool { return len(ws.Conns()) == 1 })
	ws.Emit("btcusdt@trade", 3)
	e.col.wait(t, "6 trades", func() bool { return len(e.col.trades) == 6 })
	// Back to back: the new primary is told to go too (it answers once
	// it took over).
	ws.Shutdown()
	e.waitWS(t, "third connection", func() bool { return ws.Connects() == 3 && ws.Subscribers("btcusdt@trade") == 2 })
	ws.Emit("btcusdt@trade", 3)
	e.waitWS(t, "second hand-over", func() bool { return len(ws.Conns()) == 1 })
	ws.Emit("btcusdt@trade", 2)
	e.col.wait(t, "11 trades", func() bool { return len(e.col.trades) == 11 })
	e.col.wantTradesFrom(t, first)
	if s := e.feed.Stats(); s.Rotations != 2 || s.Reconnects != 0 || s.Gaps != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// After a reconnect the new connection carries exactly the feed's streams:
// those subscribed live come back, unsubscribed ones do not, and a stream
// subscribed while the shard was down (refused by a 429) is there too.
func TestFeedReconnectCarriesLiveSubscriptions(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{MsgLimit: -1})
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, MessagesPerSecond: 100},
		"btcusdt@trade", "ethusdt@trade")
	e.run(t)
	e.waitConnected(t)
	ctx := context.Background()
	if err := e.feed.Subscribe(ctx, fdStream(t, "bnbusdt@trade")); err != nil {
		t.Fatal(err)
	}
	if err := e.feed.Unsubscribe(ctx, fdStream(t, "ethusdt@trade")); err != nil {
		t.Fatal(err)
	}
	ws.RejectHandshakes(binancetest.Handshake{Status: http.StatusTooManyRequests, RetryAfter: time.Second})
	ws.Conns()[0].Drop("network")
	e.waitWS(t, "the refused attempt", func() bool { return ws.Attempts() == 2 })
	if err := e.feed.Subscribe(ctx, fdStream(t, "xrpusdt@trade")); err != nil {
		t.Fatalf("subscribe while down: %v", err)
	}
	e.waitWS(t, "reconnected with every stream", func() bool {
		c := ws.Conns()
		return len(c) == 1 && ws.Connects() == 2 && len(c[0].Subscriptions()) == 3
	})
	got := ws.Conns()[0].Subscriptions()
	slices.Sort(got)
	if want := []string{"bnbusdt@trade", "btcusdt@trade", "xrpusdt@trade"}; !slices.Equal(got, want) {
		t.Fatalf("reconnected with %v, want %v", got, want)
	}
	e.col.wait(t, "reconnected", func() bool { return e.col.countStatus(market.StatusReconnected) == 1 })
	list, err := e.feed.ListSubscriptions(ctx)
	if err != nil || !slices.Equal(list, got) {
		t.Fatalf("LIST_SUBSCRIPTIONS %v %v", list, err)
	}
}

// A refused SUBSCRIBE is returned; asking again (the stream is still
// registered) sends it again rather than being ignored as "already
// subscribed" while the connection does not carry the stream.
func TestFeedSubscribeRetriesRefusedStreams(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{MsgLimit: -1})
	ws.SetSource("ethusdt@trade", binancetest.NewSource([][]byte{[]byte(fdSpotTrade2)}, binancetest.IDsTrade))
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, MessagesPerSecond: 100}, "btcusdt@trade")
	e.run(t)
	e.waitConnected(t)
	ctx := context.Background()
	ws.SetAckMode(binancetest.AckError)
	if err := e.feed.Subscribe(ctx, fdStream(t, "ethusdt@trade")); err == nil {
		t.Fatal("refused SUBSCRIBE not returned")
	}
	ws.SetAckMode(binancetest.AckNormal)
	if err := e.feed.Subscribe(ctx, fdStream(t, "ethusdt@trade")); err != nil {
		t.Fatalf("second SUBSCRIBE: %v", err)
	}
	if n := ws.Subscribers("ethusdt@trade"); n != 1 {
		t.Fatalf("after asking again the connection has %d subscribers for the stream", n)
	}
	ws.Emit("ethusdt@trade", 2)
	e.col.wait(t, "eth trades", func() bool { return len(e.col.trades) == 2 })
	// Asking for a stream the connection carries sends nothing.
	n := len(ws.Requests())
	if err := e.feed.Subscribe(ctx, fdStream(t, "ethusdt@trade")); err != nil {
		t.Fatal(err)
	}
	if r := ws.Requests(); len(r) != n {
		t.Fatalf("re-subscribing a carried stream sent %+v", r[n:])
	}
}

// orderedSnapshots answers depth snapshot calls with increasing update ids;
// the first call's answer is held until release is closed.
type orderedSnapshots struct {
	fakeBackfill
	mu      sync.Mutex
	n       int64
	release chan struct{}
}

func (b *orderedSnapshots) DepthSnapshot(ctx context.Context, symbol string, limit int, dst *market.DepthSnapshot) error {
	b.mu.Lock()
	b.n++
	n := b.n
	b.mu.Unlock()
	if n == 1 {
		select {
		case <-b.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	dst.Symbol.SetString(symbol)
	dst.LastUpdateID = 100 * n
	return nil
}

// Two depth gaps close together start two REST snapshots; the older one
// answering last must not be emitted after the newer (a book rebuilt from
// it would miss the updates between the two).
func TestFeedDepthSnapshotsNeverGoBack(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	src := binancetest.NewSource([][]byte{[]byte(fdSpotDepth)}, binancetest.IDsSpotDepth)
	ws.SetSource("btcusdt@depth", src)
	bf := &orderedSnapshots{release: make(chan struct{})}
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, Backfill: bf, DepthSnapshotOnGap: 1000}, "btcusdt@depth")
	e.run(t)
	e.waitConnected(t)
	ws.Emit("btcusdt@depth", 2)
	src.Skip(3)
	ws.Emit("btcusdt@depth", 1) // gap 1: its snapshot (id 100) is held
	src.Skip(3)
	ws.Emit("btcusdt@depth", 1) // gap 2: its snapshot (id 200) comes at once
	e.col.wait(t, "the second snapshot", func() bool { return len(e.col.snaps) == 1 })
	close(bf.release)
	ws.Emit("btcusdt@depth", 1)
	e.col.wait(t, "5 updates", func() bool { return len(e.col.depth) == 5 })
	e.shutdown(t) // waits for the held snapshot's job
	e.col.mu.Lock()
	defer e.col.mu.Unlock()
	for i := 1; i < len(e.col.snaps); i++ {
		if e.col.snaps[i].LastUpdateID <= e.col.snaps[i-1].LastUpdateID {
			t.Fatalf("snapshot %d has update id %d after %d", i, e.col.snaps[i].LastUpdateID, e.col.snaps[i-1].LastUpdateID)
		}
	}
}

// feedGoroutines lists the stacks of goroutines running the feed's code
// (not the fake exchange's, not the tests').
func feedGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "internal/binance.(*") && !strings.Contains(g, "binancetest") &&
			!strings.Contains(g, "binance_test.") {
			out = append(out, g)
		}
	}
	return out
}

// Cancelling Run in the middle of everything (a rotation's hand-over
// done, a gap fill blocked on REST, trades flowing) returns, and leaves no
// goroutine of the feed behind.
func TestFeedShutdownLeavesNothingRunning(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	src := binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", src)
	bf := &fakeBackfill{maxID: 1 << 62, block: make(chan struct{})}
	defer close(bf.block)
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, Backfill: bf, RotationOverlap: time.Millisecond,
		StaleCheck: time.Millisecond}, "btcusdt@trade")
	e.run(t)
	e.waitConnected(t)
	ws.Emit("btcusdt@trade", 2)
	src.Skip(3)
	ws.Emit("btcusdt@trade", 1)
	e.col.wait(t, "the gap", func() bool { return e.col.countStatus(market.StatusGap) == 1 })
	ws.Shutdown()
	e.waitWS(t, "rotation connection", func() bool { return ws.Subscribers("btcusdt@trade") == 2 })
	ws.Emit("btcusdt@trade", 2)
	e.waitWS(t, "hand-over", func() bool { return len(ws.Conns()) == 1 })
	e.shutdown(t)
	var left []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		if left = feedGoroutines(); len(left) == 0 || time.Now().After(deadline) {
			break
		}
		runtime.Gosched()
	}
	if len(left) > 0 {
		t.Fatalf("%d feed goroutines left after Run returned:\n%s", len(left), strings.Join(left, "\n\n"))
	}
}

// After a reconnect the new connection may repeat events the old one
// delivered; live they are dropped as duplicates (the reconnect's grace
// period), and a replay of the recording must drop them too rather than
// take them for a sequence reset.
func TestReplayReconnectDropsRepeats(t *testing.T) {
	rec := newMemRecording(t, "spot", time.Second)
	const u = "wss://stream.binance.com:9443/stream?streams=btcusdt@kline_1m"
	kline := func(e int) string {
		return `{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":` + strconv.Itoa(e) + `,"s":"BTCUSDT","k":{"t":1672515780000,"T":1672515839999,"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}}`
	}
	rec.put(record.KindOpen, 1, "shard 1", u)
	rec.put(record.KindText, 1, "", kline(1000))
	rec.put(record.KindText, 1, "", kline(1001))
	rec.put(record.KindClose, 1, "", "network")
	rec.put(record.KindOpen, 2, "shard 1", u)
	rec.put(record.KindText, 2, "", kline(1001)) // a repeat
	rec.put(record.KindText, 2, "", kline(1002))
	col, f := rec.replay(binance.Spot)
	var got []int64
	for _, k := range col.klines {
		got = append(got, k.EventTime/1000)
	}
	if want := []int64{1000, 1001, 1002}; !slices.Equal(got, want) {
		t.Fatalf("replayed kline event times %v, want %v", got, want)
	}
	if s := f.Stats(); s.Duplicates != 1 || s.SequenceResets != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// A second gap among the live trades held while a first one is filled is
// found when they are released, and filled in turn: every trade comes out
// once, in order, with both gaps reported filled.
func TestFeedGapInsideGap(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	src := binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", src)
	ws.SetSource("btcusdt@kline_1m", binancetest.NewSource([][]byte{[]byte(fdSpotKline)}, binancetest.IDsNone))
	bf := &fakeBackfill{maxID: 1 << 62, block: make(chan struct{})}
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, Backfill: bf}, "btcusdt@trade", "btcusdt@kline_1m")
	e.run(t)
	e.waitConnected(t)
	first := src.NextID()
	ws.Emit("btcusdt@trade", 2)
	src.Skip(3)
	ws.Emit("btcusdt@trade", 2) // gap 1, held while the fill blocks
	src.Skip(4)
	ws.Emit("btcusdt@trade", 2) // gap 2, behind gap 1: held too
	ws.Emit("btcusdt@trade", 1)
	// The kline follows the trades on the connection: once it is out,
	// they are all held.
	ws.Emit("btcusdt@kline_1m", 1)
	e.col.wait(t, "the kline", func() bool { return len(e.col.klines) == 1 })
	if n := e.col.countStatus(market.StatusGap); n != 1 {
		t.Fatalf("%d gaps seen while the first fill blocks", n)
	}
	close(bf.block)
	const total = 2 + 3 + 2 + 4 + 3
	e.col.wait(t, "every trade", func() bool { return len(e.col.trades) == total })
	e.col.wantTradesFrom(t, first)
	e.col.wait(t, "both gaps filled", func() bool { return e.col.countStatus(market.StatusGapFilled) == 2 })
	if s := e.feed.Stats(); s.Gaps != 2 || s.GapsFilled != 2 || s.GapsUnfilled != 0 || s.Backfilled != 7 || s.Duplicates != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// Unsubscribing a stream while its gap is filled drops the fill and the
// held trades; subscribing it again starts afresh, untouched by the old
// fill when it completes.
func TestFeedUnsubscribeDuringFill(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{MsgLimit: -1})
	src := binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", src)
	ws.SetSource("btcusdt@kline_1m", binancetest.NewSource([][]byte{[]byte(fdSpotKline)}, binancetest.IDsNone))
	bf := &fakeBackfill{maxID: 1 << 62, block: make(chan struct{})}
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, Backfill: bf, MessagesPerSecond: 100},
		"btcusdt@trade", "btcusdt@kline_1m")
	e.run(t)
	e.waitConnected(t)
	ws.Emit("btcusdt@trade", 2)
	src.Skip(3)
	ws.Emit("btcusdt@trade", 2) // a gap: the fill blocks
	e.col.wait(t, "the gap", func() bool { return e.col.countStatus(market.StatusGap) == 1 })
	ctx := context.Background()
	trade := fdStream(t, "btcusdt@trade")
	if err := e.feed.Unsubscribe(ctx, trade); err != nil {
		t.Fatal(err)
	}
	if err := e.feed.Subscribe(ctx, trade); err != nil {
		t.Fatal(err)
	}
	next := src.NextID()
	ws.Emit("btcusdt@trade", 2)
	e.col.wait(t, "trades of the new subscription", func() bool { return len(e.col.trades) == 4 })
	close(bf.block) // the old fill completes into nothing
	ws.Emit("btcusdt@trade", 1)
	ws.Emit("btcusdt@kline_1m", 1) // after the trade on the same connection
	e.col.wait(t, "the kline", func() bool { return len(e.col.klines) == 1 })
	e.shutdown(t)
	ids := e.col.tradeIDs()
	if want := []int64{next - 7, next - 6, next, next + 1, next + 2}; !slices.Equal(ids, want) {
		t.Fatalf("trade ids %v, want %v", ids, want)
	}
	if s := e.feed.Stats(); s.GapsFilled != 0 || s.Backfilled != 0 {
		t.Fatalf("the dropped fill was applied: %+v", s)
	}
}

// A serverShutdown rotation whose new connection dies before taking over
// is tried again (the notice comes once, and the server will cut the old
// connection), and a refused attempt of it is retried too. No trade is
// lost and nothing counts as a reconnect.
func TestFeedRotationRefusedOrLost(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	src := binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", src)
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot,
		RotationOverlap: 10 * time.Millisecond, MaxOverlap: time.Hour}, "btcusdt@trade")
	e.run(t)
	e.waitConnected(t)
	first := src.NextID()
	ws.Emit("btcusdt@trade", 2)
	e.col.wait(t, "2 trades", func() bool { return len(e.col.trades) == 2 })

	ws.Shutdown()
	e.waitWS(t, "rotation connection", func() bool { return ws.Connects() == 2 && ws.Subscribers("btcusdt@trade") == 2 })
	// The new connection dies before it proved overlap; the retry is
	// refused once, then goes through.
	ws.RejectHandshakes(binancetest.Handshake{Status: http.StatusServiceUnavailable})
	ws.Conns()[1].Drop("network")
	e.waitWS(t, "second rotation connection", func() bool { return ws.Connects() == 3 && ws.Subscribers("btcusdt@trade") == 2 })
	ws.Emit("btcusdt@trade", 2)
	e.waitWS(t, "hand-over", func() bool { return len(ws.Conns()) == 1 })
	ws.Emit("btcusdt@trade", 2)
	e.col.wait(t, "6 trades", func() bool { return len(e.col.trades) == 6 })
	e.col.wantTradesFrom(t, first)
	if s := e.feed.Stats(); s.Rotations != 1 || s.Reconnects != 0 || s.HandshakeRefused != 1 || s.Gaps != 0 || ws.Attempts() != 4 {
		t.Fatalf("stats %+v", s)
	}
}

// Binance refuses URLs longer than about 8000 characters, far fewer than
// 1024 stream names: the feed puts what fits in the URL and subscribes the
// rest on the open connection, in requests of bounded size.
func TestFeedManyStreamsBeyondURLLimit(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	var streams []string
	for i := range 700 {
		streams = append(streams, fmt.Sprintf("sym%dusdt@depth@100ms", i))
	}
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot}, streams...)
	e.run(t)
	e.waitWS(t, "every stream on one connection", func() bool {
		c := ws.Conns()
		return len(c) == 1 && len(c[0].Subscriptions()) == len(streams)
	})
	if e.feed.Shards() != 1 || ws.Attempts() != 1 {
		t.Fatalf("%d shards, %d connect attempts", e.feed.Shards(), ws.Attempts())
	}
	for _, r := range ws.Requests() {
		if n := len(strings.Join(r.Params, `","`)); n > 6000 {
			t.Fatalf("a %s of %d streams, %d bytes of parameters", r.Method, len(r.Params), n)
		}
	}
}

// LIST_SUBSCRIPTIONS while a shard has no open connection cannot say what
// Binance sends it: that is an error, not a silently shorter list.
func TestFeedListSubscriptionsWhileDown(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot}, "btcusdt@trade")
	e.run(t)
	e.waitConnected(t)
	ctx := context.Background()
	if list, err := e.feed.ListSubscriptions(ctx); err != nil || !slices.Equal(list, []string{"btcusdt@trade"}) {
		t.Fatalf("connected: %v %v", list, err)
	}
	ws.RejectHandshakes(binancetest.Handshake{Status: http.StatusTooManyRequests, RetryAfter: time.Minute})
	ws.Conns()[0].Drop("network")
	e.col.wait(t, "disconnected", func() bool { return e.col.countStatus(market.StatusDisconnected) == 1 })
	if list, err := e.feed.ListSubscriptions(ctx); err == nil {
		t.Fatalf("while down: %v and no error", list)
	}
}

// A second gap found when a fill's held trades are released is decided by
// the fill's goroutine, whose records can interleave with the connection's
// next frame (the read loop records a frame before it waits for the
// shard). A replay must wait for that decision rather than take the frame
// for proof that none was recorded.
func TestReplayGapFoundAtFillEnd(t *testing.T) {
	rec := newMemRecording(t, "spot", time.Millisecond)
	put, trade := rec.put, combinedTrade
	rest := func(ids ...int) string {
		var parts []string
		for _, id := range ids {
			parts = append(parts, `{"id":`+strconv.Itoa(id)+`,"price":"1.0","qty":"2.0","quoteQty":"2.0","time":1554076800940,"isBuyerMaker":true,"isBestMatch":true}`)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	put(record.KindOpen, 1, "shard 1", "wss://stream.binance.com:9443/stream?streams=btcusdt@trade")
	put(record.KindText, 1, "btcusdt@trade", trade(1))
	put(record.KindText, 1, "btcusdt@trade", trade(2))
	put(record.KindText, 1, "btcusdt@trade", trade(5)) // gap 3..4
	put(record.KindFill, 1, "btcusdt@trade", "start 3 4")
	put(record.KindText, 1, "btcusdt@trade", trade(6))
	put(record.KindText, 1, "btcusdt@trade", trade(9)) // held; gap 7..8 behind gap 3..4
	put(record.KindREST, 0, "historicalTrades?fromId=3&limit=2&symbol=BTCUSDT", rest(3, 4))
	put(record.KindFill, 1, "btcusdt@trade", "end")
	put(record.KindText, 1, "btcusdt@trade", trade(10)) // recorded before the fill's next decision
	put(record.KindFill, 1, "btcusdt@trade", "start 7 8")
	put(record.KindREST, 0, "historicalTrades?fromId=7&limit=2&symbol=BTCUSDT", rest(7, 8))
	put(record.KindFill, 1, "btcusdt@trade", "end")
	put(record.KindText, 1, "btcusdt@trade", trade(11))
	col, f := rec.replay(binance.Spot)
	if got, want := col.tradeIDs(), []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}; !slices.Equal(got, want) {
		t.Fatalf("replayed trade ids %v, want %v; statuses %s", got, want, fmtStatuses(col.statuses))
	}
	if s := f.Stats(); s.GapsFilled != 2 || s.GapsUnfilled != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// USD-M's all-market book ticker is a /public stream (Binance's route
// split notice lists it there): subscribed, it delivers.
func TestFeedUSDMAllBookTickerRoute(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{Futures: true, Routed: true})
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.USDM}, "!bookTicker")
	e.run(t)
	e.waitConnected(t)
	if r := ws.Conns()[0].Route(); r != "public" {
		t.Fatalf("!bookTicker connected on the %q route", r)
	}
	if n := ws.Push("!bookTicker", []byte(fdUSDMBook)); n != 1 {
		t.Fatalf("the fake sent !bookTicker to %d connections", n)
	}
	e.col.wait(t, "the book ticker", func() bool { return len(e.col.books) == 1 })
}

// When the REST snapshot after a depth gap fails, the consumer is told the
// gap stays open (its book cannot be rebuilt from this feed) rather than
// left waiting for a snapshot that never comes.
func TestFeedDepthSnapshotFailureReported(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	src := binancetest.NewSource([][]byte{[]byte(fdSpotDepth)}, binancetest.IDsSpotDepth)
	ws.SetSource("btcusdt@depth", src)
	bf := &fakeBackfill{fail: errors.New("HTTP 418: banned")}
	var recBuf bytes.Buffer
	rec, err := record.NewWriter(&recBuf, record.WriterOptions{Market: "spot", FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, Backfill: bf, DepthSnapshotOnGap: 1000, Recorder: rec}, "btcusdt@depth")
	e.run(t)
	e.waitConnected(t)
	ws.Emit("btcusdt@depth", 2)
	src.Skip(3)
	ws.Emit("btcusdt@depth", 1)
	e.col.wait(t, "the depth gap reported unfilled", func() bool {
		return slices.ContainsFunc(e.col.statuses, func(s market.Status) bool {
			return s.Kind == market.StatusGapUnfilled && s.Channel == market.ChannelDepth && strings.Contains(s.Detail, "banned")
		})
	})
	e.shutdown(t)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	gaps := func(st []market.Status) (gap, unfilled market.Status) {
		for _, s := range st {
			switch s.Kind {
			case market.StatusGap:
				gap = s
			case market.StatusGapUnfilled:
				unfilled = s
			}
		}
		return gap, unfilled
	}
	gap, unfilled := gaps(e.col.snapshotStatuses())
	if unfilled.GapFrom != gap.GapFrom || unfilled.GapTo != gap.GapTo || unfilled.Symbol != gap.Symbol {
		t.Fatalf("gap %+v, unfilled %+v", gap, unfilled)
	}
	// The recording says so too.
	r, err := record.NewReader(&recBuf)
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
	if g, u := gaps(col.statuses); g.GapFrom != gap.GapFrom || u.Kind != market.StatusGapUnfilled ||
		u.GapFrom != gap.GapFrom || u.GapTo != gap.GapTo || u.Detail != unfilled.Detail {
		t.Fatalf("replayed gap %+v unfilled %+v, live %+v %+v", g, u, gap, unfilled)
	}
}

// A stream unsubscribed while a connection's SUBSCRIBEs for it are still
// going out (the reconcile of a new connection sends the streams beyond
// its URL chunk by chunk, each after the previous ack) must not end up
// subscribed because its SUBSCRIBE left after the UNSUBSCRIBE.
func TestFeedUnsubscribeRacingSubscribe(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{MsgLimit: -1})
	var streams []string
	for i := range 700 {
		streams = append(streams, fmt.Sprintf("sym%dusdt@depth@100ms", i))
	}
	victim := streams[len(streams)-1] // in the last SUBSCRIBE of the reconcile
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, MessagesPerSecond: 1000}, streams...)
	ws.SetAckMode(binancetest.AckHeld)
	e.run(t)
	e.waitWS(t, "the first SUBSCRIBE", func() bool { return len(ws.Requests()) == 1 })
	unsub := make(chan error, 1)
	go func() { unsub <- e.feed.Unsubscribe(context.Background(), fdStream(t, victim)) }()
	e.waitWS(t, "the UNSUBSCRIBE", func() bool { return len(ws.Requests()) == 2 })
	ws.SetAckMode(binancetest.AckNormal)
	if err := <-unsub; err != nil {
		t.Fatal(err)
	}
	e.waitWS(t, "every other stream subscribed, the unsubscribed one not", func() bool {
		c := ws.Conns()
		if len(c) != 1 {
			return false
		}
		subs := c[0].Subscriptions()
		return len(subs) == len(streams)-1 && !slices.Contains(subs, victim)
	})
}

// A rotation whose new connection could not subscribe every stream (those
// beyond the URL's length go by SUBSCRIBE, refused here) is not handed
// over: the old connection keeps them, and a later rotation that gets them
// all takes over. Before, the hand-over left the refused streams on no
// connection until the next one.
func TestFeedRotationKeepsOldWhenSubscribeRefused(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{MsgLimit: -1})
	streams := make([]string, 400)
	for i := range streams {
		streams[i] = fmt.Sprintf("s%04dusdt@trade", i)
	}
	last := streams[len(streams)-1]
	ws.SetSource(last, binancetest.NewSource([][]byte{[]byte(strings.ReplaceAll(fdSpotTrade, "BTCUSDT", "S0399USDT"))}, binancetest.IDsTrade))
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, MessagesPerSecond: 100,
		RotationOverlap: 10 * time.Millisecond, MaxOverlap: time.Hour}, streams...)
	e.run(t)
	e.waitConnected(t)
	e.waitWS(t, "the streams beyond the URL", func() bool { return ws.Subscribers(last) == 1 })
	ws.SetAckMode(binancetest.AckError)
	ws.Shutdown()
	e.waitWS(t, "the rotation's connection closed", func() bool { return ws.Connects() == 2 && len(ws.Conns()) == 1 })
	if ws.Subscribers(last) != 1 {
		t.Fatalf("%s has %d subscribers after the refused rotation", last, ws.Subscribers(last))
	}
	ws.Emit(last, 2)
	e.col.wait(t, "trades on the old connection", func() bool { return len(e.col.trades) == 2 })
	ws.SetAckMode(binancetest.AckNormal)
	e.waitWS(t, "a later rotation carrying every stream", func() bool { return ws.Connects() >= 3 && ws.Subscribers(last) == 2 })
	ws.Emit(last, 2) // both deliver these: the new connection proves it overlaps
	e.waitWS(t, "the hand-over", func() bool { return len(ws.Conns()) == 1 && ws.Subscribers(last) == 1 })
	ws.Emit(last, 2)
	e.col.wait(t, "trades on the new connection", func() bool { return len(e.col.trades) == 6 })
	if s := e.feed.Stats(); s.Rotations != 1 || s.Reconnects != 0 || s.Gaps != 0 {
		t.Fatalf("stats %+v", s)
	}
	ids := e.col.tradeIDs()
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]+1 {
			t.Fatalf("trade ids %v", ids)
		}
	}
}
