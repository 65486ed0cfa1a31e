package binance_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/binance/binancetest"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

func TestFeedDeliversInOrder(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	ws.SetSource("btcusdt@trade", binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade))
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot}, "btcusdt@trade")
	e.run(t)
	e.waitWS(t, "subscriber", func() bool { return ws.Subscribers("btcusdt@trade") == 1 })
	ws.Emit("btcusdt@trade", 20)
	e.col.wait(t, "20 trades", func() bool { return len(e.col.trades) == 20 })
	ids := e.col.tradeIDs()
	for i := range ids {
		if ids[i] != 40756030+int64(i) {
			t.Fatalf("trade ids %v", ids)
		}
	}
	tr := e.col.trades[0]
	if tr.Exchange != market.ExchangeBinanceSpot || tr.Symbol.String() != "BTCUSDT" || tr.ReceiveTime == 0 {
		t.Fatalf("trade header %+v", tr.Header)
	}
	st := e.col.snapshotStatuses()
	if len(st) != 1 || st[0].Kind != market.StatusConnected {
		t.Fatalf("statuses %s, want one Connected", fmtStatuses(st))
	}
	s := e.feed.Stats()
	if s.Frames != 20 || s.Events != 20 || s.EventsByChannel[market.ChannelTrade] != 20 || s.Connects != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFeedLiveSubscribeAndUnsubscribe(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{MsgWindow: 100 * time.Millisecond})
	ws.SetSource("btcusdt@trade", binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade))
	ws.SetSource("ethusdt@trade", binancetest.NewSource([][]byte{[]byte(fdSpotTrade2)}, binancetest.IDsTrade))
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, MessagesPerSecond: 40}, "btcusdt@trade")
	e.run(t)
	e.waitConnected(t)
	ctx := context.Background()
	if err := e.feed.Subscribe(ctx, fdStream(t, "ethusdt@trade")); err != nil {
		t.Fatalf("live subscribe: %v", err)
	}
	if n := ws.Subscribers("ethusdt@trade"); n != 1 {
		t.Fatalf("after the ack the fake has %d subscribers", n)
	}
	reqs := ws.Requests()
	if len(reqs) != 1 || reqs[0].Method != "SUBSCRIBE" || !slices.Equal(reqs[0].Params, []string{"ethusdt@trade"}) {
		t.Fatalf("requests %+v", reqs)
	}
	list, err := e.feed.ListSubscriptions(ctx)
	if err != nil || !slices.Equal(list, []string{"btcusdt@trade", "ethusdt@trade"}) {
		t.Fatalf("LIST_SUBSCRIPTIONS: %v %v", list, err)
	}
	ws.Emit("ethusdt@trade", 3)
	e.col.wait(t, "eth trades", func() bool { return len(e.col.trades) == 3 })

	if err := e.feed.Unsubscribe(ctx, fdStream(t, "ethusdt@trade")); err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
	if n := ws.Subscribers("ethusdt@trade"); n != 0 {
		t.Fatalf("after UNSUBSCRIBE the fake still has %d subscribers", n)
	}
	if len(ws.Conns()) != 1 || ws.Connects() != 1 {
		t.Fatalf("live changes reconnected: %d conns, %d connects", len(ws.Conns()), ws.Connects())
	}
	// Unsubscribing the last stream of a shard closes its connection.
	if err := e.feed.Unsubscribe(ctx, fdStream(t, "btcusdt@trade")); err != nil {
		t.Fatal(err)
	}
	e.waitWS(t, "connection closed", func() bool { return len(ws.Conns()) == 0 })
	if e.feed.Shards() != 0 {
		t.Fatalf("%d shards left", e.feed.Shards())
	}
}

func TestFeedRequestErrorsSurface(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{MsgLimit: -1})
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, AckTimeout: 200 * time.Millisecond, MessagesPerSecond: 100}, "btcusdt@trade")
	e.run(t)
	e.waitConnected(t)
	ws.SetAckMode(binancetest.AckError)
	err := e.feed.Subscribe(context.Background(), fdStream(t, "ethusdt@trade"))
	var re *binance.RequestError
	if !errors.As(err, &re) || re.Code != 2 || re.Method != "SUBSCRIBE" {
		t.Fatalf("error reply: got %v, want a *RequestError code 2", err)
	}
	ws.SetAckMode(binancetest.AckNone)
	err = e.feed.Subscribe(context.Background(), fdStream(t, "bnbusdt@trade"))
	if !errors.Is(err, binance.ErrAckTimeout) {
		t.Fatalf("no reply: got %v, want ErrAckTimeout", err)
	}
	if s := e.feed.Stats(); s.AckTimeouts != 1 {
		t.Fatalf("ack timeouts %d", s.AckTimeouts)
	}
}

// The fake closes with 1008 when a client sends more than 5 messages in a
// window; the feed's budget (4 per window) keeps it under while a burst of
// live subscriptions goes out, and an unpaced client is cut.
func TestFeedStaysUnderMessageRate(t *testing.T) {
	// A wide window leaves the test tolerant of scheduling delays on a
	// loaded machine (the arrivals of 6 messages sent 5 slots apart would
	// have to bunch by a whole slot, 100 ms, to trip the limit).
	const window = 400 * time.Millisecond
	ws, url := startFake(t, binancetest.WSConfig{MsgLimit: 5, MsgWindow: window})
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, MessagesPerSecond: 4 / window.Seconds()}, "btcusdt@trade")
	e.run(t)
	e.waitConnected(t)
	ctx := context.Background()
	syms := []string{"aaa", "bbb", "ccc", "ddd", "eee", "fff", "ggg", "hhh", "iii", "jjj"}
	for _, s := range syms {
		if err := e.feed.Subscribe(ctx, fdStream(t, s+"usdt@trade")); err != nil {
			t.Fatalf("subscribe %s: %v", s, err)
		}
	}
	if cl := ws.Closes(); len(cl) != 0 {
		t.Fatalf("the paced feed was closed: %+v", cl)
	}
	if ws.Connects() != 1 {
		t.Fatalf("%d connects", ws.Connects())
	}
	e.shutdown(t)

	// Without a budget the same burst trips the limit.
	ws2, url2 := startFake(t, binancetest.WSConfig{MsgLimit: 5, MsgWindow: time.Hour})
	e2 := newEnv(t, ws2, url2, binance.FeedConfig{Market: binance.Spot, MessagesPerSecond: 1e6}, "btcusdt@trade")
	e2.run(t)
	e2.waitConnected(t)
	for _, s := range syms[:7] {
		_ = e2.feed.Subscribe(ctx, fdStream(t, s+"usdt@trade"))
	}
	e2.waitWS(t, "1008 close", func() bool {
		for _, c := range ws2.Closes() {
			if c.Code == 1008 && c.Reason == "Too many requests" {
				return true
			}
		}
		return false
	})
}

func TestFeedAnswersPings(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{PingInterval: 10 * time.Millisecond, PongTimeout: 200 * time.Millisecond, MsgLimit: -1})
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, ReadTimeout: 5 * time.Second, MessagesPerSecond: 1000}, "btcusdt@trade")
	e.run(t)
	e.waitWS(t, "10 pongs", func() bool { return ws.Pongs() >= 10 })
	if cl := ws.Closes(); len(cl) != 0 || ws.Connects() != 1 {
		t.Fatalf("closes %+v, connects %d", cl, ws.Connects())
	}
}

func TestFeedDetectsSilentSocket(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, ReadTimeout: 150 * time.Millisecond}, "btcusdt@trade")
	e.run(t)
	e.waitWS(t, "connection", func() bool { return len(ws.Conns()) == 1 })
	ws.Conns()[0].Silence() // open socket, nothing on it: no frames, no pings
	e.col.wait(t, "reconnect", func() bool { return e.col.countStatus(market.StatusReconnected) == 1 })
	st := e.col.snapshotStatuses()
	if st[1].Kind != market.StatusDisconnected {
		t.Fatalf("statuses %s", fmtStatuses(st))
	}
	if s := e.feed.Stats(); s.Reconnects != 1 || s.Disconnects != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFeedReconnectsWithBackoff(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	ws.SetSource("btcusdt@trade", binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade))
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot,
		Backoff: binance.Backoff{Initial: 20 * time.Millisecond, Max: 40 * time.Millisecond}}, "btcusdt@trade")
	e.run(t)
	for i := 1; i <= 3; i++ {
		e.waitWS(t, "connection", func() bool { return len(ws.Conns()) == 1 && ws.Connects() == i })
		ws.Emit("btcusdt@trade", 2)
		e.col.wait(t, "trades", func() bool { return len(e.col.trades) == 2*i })
		ws.Conns()[0].Close(1001, "going away")
	}
	e.col.wait(t, "3rd reconnect", func() bool { return e.col.countStatus(market.StatusReconnected) == 3 })
	if s := e.feed.Stats(); s.Reconnects != 3 || s.Disconnects != 3 || s.Gaps != 0 {
		t.Fatalf("stats %+v", s)
	}
	// The server gets a pause before each reconnect, never a burst.
	at := ws.AttemptTimes()
	for i := 1; i < len(at); i++ {
		if at[i].Sub(at[i-1]) <= 0 {
			t.Fatalf("attempts %v", at)
		}
	}
}

func TestFeedHonoursRetryAfter(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	ws.RejectHandshakes(
		binancetest.Handshake{Status: 429, RetryAfter: time.Second},
		binancetest.Handshake{Status: 418}, // no Retry-After: BanWait
	)
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, BanWait: 300 * time.Millisecond}, "btcusdt@trade")
	e.run(t)
	e.col.wait(t, "connected", func() bool { return e.col.countStatus(market.StatusConnected) == 1 })
	at := ws.AttemptTimes()
	if len(at) != 3 {
		t.Fatalf("%d attempts, want 3", len(at))
	}
	if d := at[1].Sub(at[0]); d < time.Second {
		t.Errorf("retried %v after a 429 with Retry-After: 1", d)
	}
	if d := at[2].Sub(at[1]); d < 300*time.Millisecond {
		t.Errorf("retried %v after a 418 (BanWait 300ms)", d)
	}
	if s := e.feed.Stats(); s.HandshakeRefused != 2 {
		t.Fatalf("stats %+v", s)
	}
}

// Rotation before the lifetime ends hands over to a new connection with no
// trade lost and none duplicated, repeatedly, while trades flow.
func TestFeedRotationLosesNothing(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{Lifetime: 2 * time.Second})
	ws.SetSource("btcusdt@trade", binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade))
	ws.SetSource("btcusdt@kline_1m", binancetest.NewSource([][]byte{[]byte(fdSpotKline)}, binancetest.IDsNone))
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot,
		Lifetime: 2 * time.Second, RotateBefore: 1500 * time.Millisecond, RotationOverlap: 30 * time.Millisecond,
		MaxOverlap: time.Second}, "btcusdt@trade", "btcusdt@kline_1m")
	e.run(t)
	e.waitWS(t, "connection", func() bool { return len(ws.Conns()) == 1 })
	ws.Pace("btcusdt@trade", 2*time.Millisecond)
	ws.Pace("btcusdt@kline_1m", 5*time.Millisecond)
	e.col.wait(t, "two rotations", func() bool { return e.feed.Stats().Rotations >= 2 })
	ws.Close() // stops the pacers
	ids := e.col.tradeIDs()
	if len(ids) < 100 {
		t.Fatalf("only %d trades", len(ids))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]+1 {
			t.Fatalf("trade %d: id %d after %d (lost or duplicated across rotation)", i, ids[i], ids[i-1])
		}
	}
	e.col.mu.Lock()
	for i := 1; i < len(e.col.klines); i++ {
		if e.col.klines[i].EventTime <= e.col.klines[i-1].EventTime {
			t.Fatalf("kline %d: event time %d after %d", i, e.col.klines[i].EventTime, e.col.klines[i-1].EventTime)
		}
	}
	gaps := e.col.countStatus(market.StatusGap)
	e.col.mu.Unlock()
	s := e.feed.Stats()
	if gaps != 0 || s.Gaps != 0 || s.Reconnects != 0 {
		t.Fatalf("rotation caused gaps or reconnects: %+v", s)
	}
	if s.Duplicates == 0 {
		t.Fatalf("no duplicates dropped: the connections never overlapped (%+v)", s)
	}
	if cl := ws.Closes(); len(cl) == 0 {
		t.Fatal("no connection was closed")
	}
}

func TestFeedRotatesOnServerShutdown(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	ws.SetSource("btcusdt@trade", binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade))
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, RotationOverlap: 10 * time.Millisecond}, "btcusdt@trade")
	e.run(t)
	e.waitWS(t, "connection", func() bool { return len(ws.Conns()) == 1 })
	ws.Emit("btcusdt@trade", 5)
	ws.Shutdown()
	e.waitWS(t, "second connection", func() bool { return ws.Connects() == 2 && ws.Subscribers("btcusdt@trade") == 2 })
	ws.Emit("btcusdt@trade", 5) // both connections carry these: the new one proves overlap
	e.waitWS(t, "old connection closed", func() bool { return len(ws.Conns()) == 1 })
	ws.Emit("btcusdt@trade", 5)
	e.col.wait(t, "15 trades", func() bool { return len(e.col.trades) == 15 })
	ids := e.col.tradeIDs()
	for i := range ids {
		if ids[i] != 40756030+int64(i) {
			t.Fatalf("ids %v", ids)
		}
	}
	if s := e.feed.Stats(); s.Rotations != 1 || s.Duplicates != 5 || s.Reconnects != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// USD-M streams must use the routed paths; the fake is silent for a stream
// on the wrong one, so data arriving for both proves the split.
func TestFeedUSDMRouteSplit(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{Futures: true, Routed: true})
	ws.SetSource("btcusdt@aggTrade", binancetest.NewSource([][]byte{[]byte(fdUSDMAgg)}, binancetest.IDsAggTrade))
	ws.SetSource("btcusdt@bookTicker", binancetest.NewSource([][]byte{[]byte(fdUSDMBook)}, binancetest.IDsBookTicker))
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.USDM}, "btcusdt@aggTrade", "btcusdt@bookTicker")
	e.run(t)
	e.waitWS(t, "two connections", func() bool { return len(ws.Conns()) == 2 })
	routes := map[string][]string{}
	for _, c := range ws.Conns() {
		routes[c.Route()] = c.Subscriptions()
	}
	if !slices.Equal(routes["market"], []string{"btcusdt@aggTrade"}) || !slices.Equal(routes["public"], []string{"btcusdt@bookTicker"}) {
		t.Fatalf("routes %v", routes)
	}
	ws.Emit("btcusdt@aggTrade", 3)
	ws.Emit("btcusdt@bookTicker", 3)
	e.col.wait(t, "both channels", func() bool { return len(e.col.aggs) == 3 && len(e.col.books) == 3 })
	// A live subscription goes to the connection of its route.
	if err := e.feed.Subscribe(context.Background(), fdStream(t, "ethusdt@markPrice")); err != nil {
		t.Fatal(err)
	}
	for _, c := range ws.Conns() {
		if slices.Contains(c.Subscriptions(), "ethusdt@markPrice") != (c.Route() == "market") {
			t.Fatalf("markPrice subscribed on the %s route", c.Route())
		}
	}
}

func TestFeedShardsBeyondStreamLimit(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{MaxStreams: 3})
	var streams []string
	for _, s := range []string{"aaa", "bbb", "ccc", "ddd", "eee", "fff", "ggg"} {
		st := s + "usdt@trade"
		streams = append(streams, st)
		p := []byte(`{"e":"trade","E":1,"s":"` + s + `USDT","t":1,"p":"1","q":"1","T":1,"m":false,"M":true}`)
		ws.SetSource(st, binancetest.NewSource([][]byte{p}, binancetest.IDsTrade))
	}
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, StreamsPerConn: 3}, streams...)
	e.run(t)
	e.waitWS(t, "three connections", func() bool { return len(ws.Conns()) == 3 })
	for _, c := range ws.Conns() {
		if n := len(c.Subscriptions()); n > 3 {
			t.Fatalf("connection %d carries %d streams", c.ID, n)
		}
	}
	for _, st := range streams {
		ws.Emit(st, 2)
	}
	e.col.wait(t, "trades of all shards", func() bool { return len(e.col.trades) == 14 })
	if e.feed.Shards() != 3 {
		t.Fatalf("%d shards", e.feed.Shards())
	}
	// New streams fill the shard with room rather than opening another.
	e.col.wait(t, "connected", func() bool { return e.col.countStatus(market.StatusConnected) == 3 })
	if err := e.feed.Subscribe(context.Background(), fdStream(t, "hhhusdt@trade"), fdStream(t, "iiiusdt@trade")); err != nil {
		t.Fatal(err)
	}
	if len(ws.Conns()) != 3 || e.feed.Shards() != 3 {
		t.Fatalf("%d conns, %d shards after filling the last shard", len(ws.Conns()), e.feed.Shards())
	}
	if err := e.feed.Subscribe(context.Background(), fdStream(t, "jjjusdt@trade")); err != nil {
		t.Fatal(err)
	}
	e.waitWS(t, "a fourth connection", func() bool { return len(ws.Conns()) == 4 })
}

func TestFeedStaleAndRecovered(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	ws.SetSource("btcusdt@trade", binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade))
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot,
		StaleFloor: func(binance.StreamName) time.Duration { return 100 * time.Millisecond },
		StaleCheck: 10 * time.Millisecond}, "btcusdt@trade")
	e.run(t)
	e.waitConnected(t)
	ws.Emit("btcusdt@trade", 3)
	e.col.wait(t, "trades", func() bool { return len(e.col.trades) == 3 })
	// A slow start may already have been flagged (and recovered by the
	// first trade); what counts is the silence after the trades.
	e.col.mu.Lock()
	stale0, rec0 := e.col.countStatus(market.StatusStale), e.col.countStatus(market.StatusRecovered)
	e.col.mu.Unlock()
	if stale0 != rec0 {
		t.Fatalf("stale %d, recovered %d while trades flowed", stale0, rec0)
	}
	e.col.wait(t, "stale", func() bool { return e.col.countStatus(market.StatusStale) == stale0+1 })
	ws.Emit("btcusdt@trade", 1)
	e.col.wait(t, "recovered", func() bool { return e.col.countStatus(market.StatusRecovered) == rec0+1 })
	e.col.wait(t, "4th trade", func() bool { return len(e.col.trades) == 4 })
	e.col.mu.Lock()
	defer e.col.mu.Unlock()
	var stale, rec market.Status
	for _, s := range e.col.statuses {
		switch s.Kind {
		case market.StatusStale:
			stale = s
		case market.StatusRecovered:
			rec = s
		}
	}
	if stale.Symbol.String() != "BTCUSDT" || stale.Channel != market.ChannelTrade || rec.Symbol.String() != "BTCUSDT" || rec.Channel != market.ChannelTrade {
		t.Fatalf("statuses %s", fmtStatuses(e.col.statuses))
	}
	// Recovered comes right before the event that ended the silence.
	n := len(e.col.events)
	if e.col.events[n-2].Kind != source.KindStatus || e.col.events[n-1].Kind != source.KindTrade {
		t.Fatalf("order %+v", e.col.events[n-2:])
	}
}

func TestFeedGapBackfilledInOrder(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	src := binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", src)
	bf := &fakeBackfill{maxID: 1 << 62}
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, Backfill: bf}, "btcusdt@trade")
	e.run(t)
	e.waitWS(t, "connection", func() bool { return len(ws.Conns()) == 1 })
	ws.Emit("btcusdt@trade", 5)
	first := src.NextID()
	src.Skip(1500) // more than one REST page
	ws.Emit("btcusdt@trade", 5)
	e.col.wait(t, "all trades", func() bool { return len(e.col.trades) == 1510 })
	ids := e.col.tradeIDs()
	for i := range ids {
		if ids[i] != 40756030+int64(i) {
			t.Fatalf("trade %d has id %d: the stream has a hole or is out of order", i, ids[i])
		}
	}
	st := e.col.snapshotStatuses()
	var gap, filled *market.Status
	for i := range st {
		switch st[i].Kind {
		case market.StatusGap:
			gap = &st[i]
		case market.StatusGapFilled:
			filled = &st[i]
		}
	}
	if gap == nil || gap.GapFrom != first || gap.GapTo != first+1499 {
		t.Fatalf("gap status %s", fmtStatuses(st))
	}
	if filled == nil || filled.GapFrom != first || filled.GapTo != first+1499 {
		t.Fatalf("gap filled status %s", fmtStatuses(st))
	}
	s := e.feed.Stats()
	if s.Gaps != 1 || s.GapsFilled != 1 || s.Backfilled != 1500 || s.GapsUnfilled != 0 {
		t.Fatalf("stats %+v", s)
	}
	if bf.calls != 2 {
		t.Fatalf("%d REST calls for 1500 ids, want 2 pages", bf.calls)
	}
}

func TestFeedGapUnfillable(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	src := binancetest.NewSource([][]byte{[]byte(fdUSDMAgg)}, binancetest.IDsAggTrade)
	ws.SetSource("btcusdt@aggTrade", src)
	bf := &fakeBackfill{fail: errors.New("HTTP 429: request weight budget exhausted")}
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.CoinM, Backfill: bf}, "btcusdt@aggTrade")
	e.run(t)
	e.waitWS(t, "connection", func() bool { return len(ws.Conns()) == 1 })
	ws.Emit("btcusdt@aggTrade", 2)
	src.Skip(4)
	ws.Emit("btcusdt@aggTrade", 2)
	e.col.wait(t, "aggs", func() bool { return len(e.col.aggs) == 4 })
	st := e.col.snapshotStatuses()
	var unfilled *market.Status
	for i := range st {
		if st[i].Kind == market.StatusGapUnfilled {
			unfilled = &st[i]
		}
	}
	if unfilled == nil || unfilled.GapTo-unfilled.GapFrom != 3 || unfilled.Detail == "" {
		t.Fatalf("statuses %s", fmtStatuses(st))
	}
	// The oldest data is gone on the exchange: part filled, rest unfilled.
	bf.mu.Lock()
	bf.fail, bf.minID, bf.maxID = nil, src.NextID()+2, 1<<62
	bf.mu.Unlock()
	from := src.NextID()
	src.Skip(5)
	ws.Emit("btcusdt@aggTrade", 1)
	e.col.wait(t, "partial fill", func() bool { return e.col.countStatus(market.StatusGapUnfilled) == 2 })
	st = e.col.snapshotStatuses()
	u := st[len(st)-1]
	if u.Kind != market.StatusGapUnfilled || u.GapFrom != from || u.GapTo != from+4 {
		t.Fatalf("statuses %s", fmtStatuses(st))
	}
}

func TestFeedDepthGaps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		market  binance.Market
		futures bool
		payload string
	}{
		{"spot", binance.Spot, false, fdSpotDepth},
		{"usdm", binance.USDM, true, fdUSDMDepth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, url := startFake(t, binancetest.WSConfig{Futures: tc.futures, Routed: tc.futures})
			src := binancetest.NewSource([][]byte{[]byte(tc.payload)}, binancetest.SchemeFor("btcusdt@depth", tc.futures))
			ws.SetSource("btcusdt@depth", src)
			bf := &fakeBackfill{}
			e := newEnv(t, ws, url, binance.FeedConfig{Market: tc.market, Backfill: bf, DepthSnapshotOnGap: 1000}, "btcusdt@depth")
			e.run(t)
			e.waitWS(t, "connection", func() bool { return len(ws.Conns()) == 1 })
			ws.Emit("btcusdt@depth", 4)
			src.Skip(7)
			ws.Emit("btcusdt@depth", 4)
			e.col.wait(t, "depth and snapshot", func() bool { return len(e.col.depth) == 8 && len(e.col.snaps) == 1 })
			e.col.mu.Lock()
			defer e.col.mu.Unlock()
			if e.col.countStatus(market.StatusGap) != 1 {
				t.Fatalf("statuses %s", fmtStatuses(e.col.statuses))
			}
			var g market.Status
			for _, s := range e.col.statuses {
				if s.Kind == market.StatusGap {
					g = s
				}
			}
			prev := e.col.depth[3].LastUpdateID
			if g.GapFrom != prev+1 || g.GapTo < g.GapFrom || g.Channel != market.ChannelDepth {
				t.Fatalf("gap %+v after u=%d", g, prev)
			}
			if s := e.col.snaps[0]; s.Source != market.SnapshotREST || s.LastUpdateID != 42 || s.Symbol.String() != "BTCUSDT" {
				t.Fatalf("snapshot %+v", s)
			}
		})
	}
}

func TestFeedSkipsMalformedFrames(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	ws.SetSource("btcusdt@trade", binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade))
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot}, "btcusdt@trade")
	e.run(t)
	e.waitWS(t, "connection", func() bool { return len(ws.Conns()) == 1 })
	ws.Emit("btcusdt@trade", 1)
	ws.Push("btcusdt@trade", []byte(`{"e":"trade","E":1,"s":"BTCUSDT","t":`))
	ws.Push("btcusdt@trade", []byte(`{"e":"trade","E":1,"s":"BTCUSDT","t":`))
	ws.Push("btcusdt@trade", []byte(`not json`))
	ws.Emit("btcusdt@trade", 1)
	e.col.wait(t, "two trades", func() bool { return len(e.col.trades) == 2 })
	s := e.feed.Stats()
	if s.Malformed != 3 || len(s.MalformedByKind) == 0 || s.Events != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFeedCloseEndsRun(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot}, "btcusdt@trade")
	e.run(t)
	e.waitConnected(t)
	if err := e.feed.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-e.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		e.stop = nil
	case <-time.After(fdTestTimeout):
		t.Fatal("Run did not return after Close")
	}
	e.waitWS(t, "connection closed", func() bool { return len(ws.Conns()) == 0 })
	if err := e.feed.Subscribe(context.Background(), fdStream(t, "ethusdt@trade")); err == nil {
		t.Fatal("Subscribe after Close succeeded")
	}
}

// All-market array streams deliver one event per element and keep
// sequence state per symbol.
func TestFeedAllMarketArray(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot}, "!miniTicker@arr")
	e.run(t)
	e.waitConnected(t)
	arr := func(e1, e2 int) []byte {
		return []byte(`[{"e":"24hrMiniTicker","E":` + itoa(e1) + `,"s":"BTCUSDT","c":"1","o":"1","h":"1","l":"1","v":"1","q":"1"},` +
			`{"e":"24hrMiniTicker","E":` + itoa(e2) + `,"s":"ETHUSDT","c":"2","o":"2","h":"2","l":"2","v":"2","q":"2"}]`)
	}
	ws.Push("!miniTicker@arr", arr(100, 100))
	ws.Push("!miniTicker@arr", arr(100, 200)) // BTCUSDT repeats: dropped
	ws.Push("!miniTicker@arr", arr(300, 300))
	e.col.wait(t, "tickers", func() bool { return e.feed.Stats().Events == 5 })
	if s := e.feed.Stats(); s.Duplicates != 1 || s.EventsByChannel[market.ChannelMiniTicker] != 5 {
		t.Fatalf("stats %+v", s)
	}
}

func itoa(v int) string { return strconv.Itoa(v) }

// A fill that takes longer than MaxBuffered live events is abandoned: the
// gap is reported unfilled and every held event still goes out, in order.
func TestFeedGapFillAbandonedKeepsHeldEvents(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{})
	src := binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", src)
	bf := &fakeBackfill{maxID: 1 << 62, block: make(chan struct{})}
	defer close(bf.block)
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, Backfill: bf, MaxBuffered: 5}, "btcusdt@trade")
	e.run(t)
	e.waitWS(t, "connection", func() bool { return len(ws.Conns()) == 1 })
	ws.Emit("btcusdt@trade", 3)
	first := src.NextID()
	src.Skip(10)
	ws.Emit("btcusdt@trade", 8)
	e.col.wait(t, "every live trade", func() bool { return len(e.col.trades) == 11 })
	ids := e.col.tradeIDs()
	for i := 3; i < len(ids); i++ {
		if want := first + 10 + int64(i-3); ids[i] != want {
			t.Fatalf("trade %d has id %d, want %d (ids %v)", i, ids[i], want, ids)
		}
	}
	st := e.col.snapshotStatuses()
	if k := st[len(st)-1]; k.Kind != market.StatusGapUnfilled || k.GapFrom != first || k.GapTo != first+9 {
		t.Fatalf("statuses %s", fmtStatuses(st))
	}
	if s := e.feed.Stats(); s.GapsUnfilled != 1 || s.Duplicates != 0 {
		t.Fatalf("stats %+v", s)
	}
}
