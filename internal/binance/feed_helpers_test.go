package binance_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/log"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/binance/binancetest"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/record"
	"github.com/ims-dev/ims/internal/source"
)

// Raw payloads the feed tests emit (from the recorded samples).
const (
	fdSpotTrade   = `{"e":"trade","E":1554076800945,"s":"BTCUSDT","t":40756030,"p":"0.00426990","q":"33.82000000","T":1554076800940,"m":false,"M":true}`
	fdSpotTrade2  = `{"e":"trade","E":1554076800945,"s":"ETHUSDT","t":90756030,"p":"0.00426990","q":"33.82000000","T":1554076800940,"m":false,"M":true}`
	fdUSDMAgg     = `{"e":"aggTrade","E":1626992741575,"a":16599292,"s":"BTCUSDT","p":"1.01100","q":"10","f":23961322,"l":23961322,"T":1626992741421,"m":false}`
	fdUSDMBook    = `{"e":"bookTicker","u":400900217,"E":1568014460893,"T":1568014460891,"s":"BTCUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}`
	fdSpotDepth   = `{"e":"depthUpdate","E":1633998512068,"s":"BTCUSDT","U":499869750,"u":499869752,"b":[["0.35130000","6195.00000000"]],"a":[]}`
	fdUSDMDepth   = `{"e":"depthUpdate","E":123456789,"T":123456788,"s":"BTCUSDT","U":157,"u":160,"pu":149,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}`
	fdSpotKline   = `{"e":"kline","E":1672515782136,"s":"BTCUSDT","k":{"t":1672515780000,"T":1672515839999,"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}`
	fdTestTimeout = 30 * time.Second
)

// fdCollector is a handler that copies what it receives.
type fdCollector struct {
	mu       sync.Mutex
	changed  chan struct{}
	events   []source.Event // kinds/channels in arrival order (pointers nil)
	trades   []market.Trade
	aggs     []market.AggTrade
	depth    []market.DepthUpdate
	books    []market.BookTicker
	klines   []market.Kline
	snaps    []market.DepthSnapshot
	statuses []market.Status
}

func newCollector() *fdCollector { return &fdCollector{changed: make(chan struct{})} }

func (c *fdCollector) HandleEvent(ev *source.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, source.Event{Kind: ev.Kind, Channel: ev.Channel})
	switch ev.Kind {
	case source.KindTrade:
		c.trades = append(c.trades, *ev.Trade)
	case source.KindAggTrade:
		c.aggs = append(c.aggs, *ev.AggTrade)
	case source.KindDepthUpdate:
		d := *ev.DepthUpdate
		d.Bids, d.Asks = nil, nil
		c.depth = append(c.depth, d)
	case source.KindBookTicker:
		c.books = append(c.books, *ev.BookTicker)
	case source.KindKline:
		c.klines = append(c.klines, *ev.Kline)
	case source.KindDepthSnapshot:
		s := *ev.DepthSnapshot
		s.Bids, s.Asks = nil, nil
		c.snaps = append(c.snaps, s)
	case source.KindStatus:
		c.statuses = append(c.statuses, *ev.Status)
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

// wait blocks until cond (called with the lock held) holds.
func (c *fdCollector) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(fdTestTimeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ok, ch := cond(), c.changed
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			c.mu.Lock()
			defer c.mu.Unlock()
			t.Fatalf("timed out waiting for %s; statuses %s; %d trades %d aggs", what, fmtStatuses(c.statuses), len(c.trades), len(c.aggs))
		}
	}
}

func (c *fdCollector) countStatus(kind market.StatusKind) int {
	n := 0
	for _, s := range c.statuses {
		if s.Kind == kind {
			n++
		}
	}
	return n
}

func (c *fdCollector) snapshotStatuses() []market.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]market.Status(nil), c.statuses...)
}

// wantTradesFrom fails t unless the trades delivered have the ids first,
// first+1, ... in order: none lost, repeated or out of place.
func (c *fdCollector) wantTradesFrom(t *testing.T, first int64) {
	t.Helper()
	ids := c.tradeIDs()
	for i := range ids {
		if ids[i] != first+int64(i) {
			t.Fatalf("trade %d has id %d, want %d (ids %v)", i, ids[i], first+int64(i), ids)
		}
	}
}

func (c *fdCollector) tradeIDs() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]int64, len(c.trades))
	for i, t := range c.trades {
		out[i] = t.TradeID
	}
	return out
}

func fmtStatuses(st []market.Status) string {
	var b strings.Builder
	for _, s := range st {
		fmt.Fprintf(&b, "[%s %s %s %d..%d %q] ", s.Kind, s.Symbol, s.Channel, s.GapFrom, s.GapTo, s.Detail)
	}
	return b.String()
}

func fdStream(t testing.TB, s string) binance.StreamName {
	t.Helper()
	n, err := binance.ParseStreamNameString(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// fdEnv is a fake exchange with a feed pointed at it.
type fdEnv struct {
	ws   *binancetest.WS
	url  string
	feed *binance.Feed
	col  *fdCollector
	done chan error
	stop context.CancelFunc
}

func startFake(t *testing.T, cfg binancetest.WSConfig) (*binancetest.WS, string) {
	t.Helper()
	ws := binancetest.NewWS(cfg)
	srv := httptest.NewServer(ws)
	t.Cleanup(func() { ws.Close(); srv.Close() })
	return ws, "ws" + strings.TrimPrefix(srv.URL, "http")
}

// newEnv builds a feed for cfg against ws (cfg.WSURL and Handler are set
// here) and subscribes streams before Run.
func newEnv(t *testing.T, ws *binancetest.WS, url string, cfg binance.FeedConfig, streams ...string) *fdEnv {
	t.Helper()
	col := newCollector()
	cfg.WSURL = url
	cfg.Handler = col
	if cfg.Logger == nil {
		cfg.Logger = log.NewWithOptions(testWriter{t}, log.Options{Level: log.DebugLevel})
	}
	if cfg.Backoff.Initial == 0 {
		cfg.Backoff = binance.Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond}
	}
	f, err := binance.NewFeed(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var names []binance.StreamName
	for _, s := range streams {
		names = append(names, fdStream(t, s))
	}
	if err := f.Subscribe(context.Background(), names...); err != nil {
		t.Fatal(err)
	}
	return &fdEnv{ws: ws, url: url, feed: f, col: col}
}

func (e *fdEnv) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.stop = cancel
	e.done = make(chan error, 1)
	go func() { e.done <- e.feed.Run(ctx) }()
	t.Cleanup(func() { e.shutdown(t) })
}

func (e *fdEnv) shutdown(t *testing.T) {
	if e.stop == nil {
		return
	}
	e.stop()
	e.stop = nil
	select {
	case err := <-e.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(fdTestTimeout):
		t.Error("Run did not return after cancel")
	}
}

// waitConnected waits for the feed's Connected status: from then on live
// requests go out on the connection rather than in the next URL.
// It also waits for the fake to have registered the connection: the
// client's handshake can complete before the server side records it, and
// frames pushed in between reach nobody.
func (e *fdEnv) waitConnected(t *testing.T) {
	t.Helper()
	e.col.wait(t, "connected", func() bool { return e.col.countStatus(market.StatusConnected) >= 1 })
	e.waitWS(t, "the fake to register the connection", func() bool { return len(e.ws.Conns()) >= 1 })
}

func (e *fdEnv) waitWS(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fdTestTimeout)
	defer cancel()
	if err := e.ws.Wait(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// testWriter sends the feed's logs to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// fakeBackfill serves trades and aggregate trades by id from generators,
// like the REST endpoints would; fail makes every call fail.
type fakeBackfill struct {
	mu    sync.Mutex
	calls int
	fail  error
	maxID int64         // ids above are "not yet available"
	minID int64         // ids below are "no longer available"
	block chan struct{} // when set, trade calls wait for it to close
}

func (b *fakeBackfill) TradesFrom(ctx context.Context, symbol string, from int64, limit int, dst []market.Trade) ([]market.Trade, error) {
	if b.block != nil {
		select {
		case <-b.block:
		case <-ctx.Done():
			return dst, ctx.Err()
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.fail != nil {
		return dst, b.fail
	}
	for id := max(from, b.minID); id < from+int64(limit) && id <= b.maxID; id++ {
		var tr market.Trade
		tr.Symbol.SetString(symbol)
		tr.TradeID = id
		tr.Price = market.MustDecimal("1.5")
		tr.Quantity = market.MustDecimal("2")
		dst = append(dst, tr)
	}
	return dst, nil
}

func (b *fakeBackfill) AggTradesFrom(_ context.Context, symbol string, from int64, limit int, dst []market.AggTrade) ([]market.AggTrade, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.fail != nil {
		return dst, b.fail
	}
	for id := max(from, b.minID); id < from+int64(limit) && id <= b.maxID; id++ {
		var a market.AggTrade
		a.Symbol.SetString(symbol)
		a.AggTradeID = id
		dst = append(dst, a)
	}
	return dst, nil
}

func (b *fakeBackfill) DepthSnapshot(_ context.Context, symbol string, limit int, dst *market.DepthSnapshot) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.fail != nil {
		return b.fail
	}
	dst.Symbol.SetString(symbol)
	dst.LastUpdateID = 42
	return nil
}

// memRecording is a recording a test writes by hand, in memory: records
// step apart in time from 1_700_000_000 s.
type memRecording struct {
	t    testing.TB
	buf  bytes.Buffer
	w    *record.Writer
	at   int64
	step int64
}

func newMemRecording(t testing.TB, market string, step time.Duration) *memRecording {
	t.Helper()
	r := &memRecording{t: t, at: 1_700_000_000_000_000_000, step: int64(step)}
	w, err := record.NewWriter(&r.buf, record.WriterOptions{Market: market, FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	r.w = w
	return r
}

// put writes one record, step after the previous one.
func (r *memRecording) put(kind record.Kind, conn uint32, stream, data string) {
	r.t.Helper()
	r.at += r.step
	if err := r.w.Write(&record.Record{Kind: kind, Conn: conn, Time: r.at, Stream: []byte(stream), Data: []byte(data)}); err != nil {
		r.t.Fatal(err)
	}
}

// replay closes the recording and plays it, as fast as possible, through a
// new feed of market m (no Backfill) into a new collector.
func (r *memRecording) replay(m binance.Market) (*fdCollector, *binance.Feed) {
	r.t.Helper()
	col := newCollector()
	f, err := binance.NewFeed(binance.FeedConfig{Market: m, Handler: col, Logger: log.New(io.Discard)})
	if err != nil {
		r.t.Fatal(err)
	}
	r.play(f)
	return col, f
}

// play closes the recording and plays it through f as fast as possible.
func (r *memRecording) play(f *binance.Feed) {
	r.t.Helper()
	if err := r.w.Close(); err != nil {
		r.t.Fatal(err)
	}
	rd, err := record.NewReader(&r.buf)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := f.Replay(context.Background(), rd, 0); err != nil {
		r.t.Fatal(err)
	}
}

// combinedTrade is a spot btcusdt@trade combined-stream frame with trade id.
func combinedTrade(id int) string {
	return `{"stream":"btcusdt@trade","data":{"e":"trade","E":1554076800945,"s":"BTCUSDT","t":` + strconv.Itoa(id) +
		`,"p":"0.00426990","q":"33.82000000","T":1554076800940,"m":false,"M":true}}`
}

// replayFile plays the recording at path, as fast as possible, through a
// new feed of market m (no Backfill) into a new collector.
func replayFile(t testing.TB, path string, m binance.Market) (*fdCollector, *binance.Feed) {
	t.Helper()
	r, err := record.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	col := newCollector()
	f, err := binance.NewFeed(binance.FeedConfig{Market: m, Handler: col})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Replay(context.Background(), r, 0); err != nil {
		t.Fatal(err)
	}
	return col, f
}
