package binance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/log"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/record"
	"github.com/ims-dev/ims/internal/source"
)

// FeedConfig configures a Feed. Zero values take the market's defaults.
type FeedConfig struct {
	Market Market
	// WSURL overrides the market's websocket base (scheme://host[:port]);
	// routed paths and /stream are appended. Tests point it at the fake.
	WSURL string
	// TimeUnit of the connections' time fields (spot may use Microsecond).
	TimeUnit TimeUnit
	// Handler receives every event and status. Calls for one shard (one
	// connection slot, up to StreamsPerConn streams) are serialised;
	// different shards call concurrently. A handler must not call the
	// feed's Subscribe, Unsubscribe or Close synchronously (they wait for
	// the shard it is being called from); hand such work to a goroutine.
	Handler source.Handler
	// Logger for connection events and malformed frames (nil: discard).
	Logger *log.Logger

	// StreamsPerConn caps streams per connection (default: the market's,
	// 1024); beyond it streams are sharded across connections.
	StreamsPerConn int
	// MessagesPerSecond is the client's own budget of messages (requests,
	// pongs) per connection; default 4 on spot and 8 on futures, under
	// Binance's 5 and 10.
	MessagesPerSecond float64
	// ReadTimeout declares a connection dead when nothing (not even a
	// ping) arrived for this long. Default 2 × the market's ping interval
	// + 10 s.
	ReadTimeout time.Duration
	// ProbeAfter is how long a connection may be quiet (no frame, ping or
	// pong from the server) before the feed pings it; ProbeTimeout is how
	// long it then waits for anything at all to arrive before it declares
	// the connection dead and reconnects. A socket whose peer vanished
	// without a close is found in ProbeAfter + ProbeTimeout, not after
	// ReadTimeout (over 6 minutes on futures, whose server pings come
	// every 3 minutes). Defaults 30 s and 10 s; a negative ProbeAfter
	// turns probing off.
	ProbeAfter   time.Duration
	ProbeTimeout time.Duration
	// HandshakeTimeout bounds the websocket upgrade (default 10 s).
	HandshakeTimeout time.Duration
	// AckTimeout bounds the wait for a SUBSCRIBE reply (default 10 s).
	AckTimeout time.Duration
	// MaxFrameSize bounds one frame (default 16 MiB).
	MaxFrameSize int64

	// Lifetime is how long Binance keeps a connection (default 24 h);
	// RotateBefore is how long before that the feed rotates it onto a new
	// connection (default 10 min; a random part of a minute is added so
	// shards do not rotate together).
	Lifetime     time.Duration
	RotateBefore time.Duration
	// RotationOverlap is how long both connections deliver after the new
	// one proved it overlaps the old, before the old is closed (default
	// 2 s); MaxOverlap closes the old one regardless (default 30 s).
	RotationOverlap time.Duration
	MaxOverlap      time.Duration

	// Backoff between reconnect attempts.
	Backoff Backoff
	// BanWait is the wait after a 418 without Retry-After (default 2 min);
	// RateLimitWait after a 429 without it (default 30 s).
	BanWait       time.Duration
	RateLimitWait time.Duration
	// ConnectLimiter bounds connection attempts; share one between feeds
	// of one IP. Default: the market's 300 per 5 minutes.
	ConnectLimiter *ConnectLimiter

	// StaleFloor gives each stream's least stale threshold (default
	// StaleFloor for the market; return 0 to never flag a stream).
	StaleFloor func(StreamName) time.Duration
	// StaleCheck is how often streams are checked (default 1 s).
	StaleCheck time.Duration

	// Backfill fills trade and aggTrade gaps and fetches depth snapshots;
	// nil reports gaps as unfilled.
	Backfill Backfiller
	// MaxBackfill is the largest gap (in ids) worth filling (default
	// 10000); MaxBuffered bounds the live events held while one is
	// filled (default 50000).
	MaxBackfill int64
	MaxBuffered int
	// DepthSnapshotOnGap fetches a REST depth snapshot after a depth gap
	// and emits it as a DepthSnapshot{Source: SnapshotREST}; the value is
	// the limit (levels), 0 to not fetch.
	DepthSnapshotOnGap int

	// Recorder, when set, receives every raw frame.
	Recorder *record.Writer

	// Now is the clock (default time.Now); stale detection and status
	// times use it.
	Now func() time.Time
}

// Feed runs a market's websocket connections: streams are sharded across
// connections (and, on USD-M, split by route), subscribed live, kept alive,
// reconnected with backoff and rotated before Binance's 24 h cut, and every
// frame is parsed, de-duplicated, checked for gaps and staleness, and
// delivered to the handler.
type Feed struct {
	cfg     FeedConfig
	msgRate float64
	limiter *ConnectLimiter
	logger  *log.Logger
	stats   feedStats
	reqID   atomic.Int64
	connID  atomic.Uint32

	mu      sync.Mutex
	shards  []*shard
	where   map[StreamName]*shard
	nextSh  int
	running bool
	runCtx  context.Context
	cancel  context.CancelFunc // ends Run
	jobCtx  atomic.Value       // context.Context of Run or Replay, read under shard locks
	closed  bool
	wg      sync.WaitGroup // shard loops and background jobs

	logOnce sync.Map // malformed kinds already logged

	// replayFills, during a Replay without a Backfill, fills gaps from the
	// REST replies in the recording; only the replay goroutine uses it.
	replayFills *replayFills
}

// NewFeed checks cfg and returns a feed; Run starts it.
func NewFeed(cfg FeedConfig) (*Feed, error) {
	m := cfg.Market
	if !m.Valid() {
		return nil, fmt.Errorf("feed: %w %d", ErrUnknownMarket, m)
	}
	if cfg.Handler == nil {
		return nil, errors.New("feed: no handler")
	}
	if _, err := (Endpoints{WS: cfg.WSURL}).Resolve(m); err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	lim := m.Limits()
	if cfg.StreamsPerConn <= 0 || cfg.StreamsPerConn > lim.StreamsPerConn {
		cfg.StreamsPerConn = lim.StreamsPerConn
	}
	rate := cfg.MessagesPerSecond
	if rate <= 0 {
		rate = float64(lim.MessagesPerSecond) * 0.8
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 2*lim.PingInterval + 10*time.Second
	}
	if cfg.ProbeAfter == 0 {
		cfg.ProbeAfter = 30 * time.Second
	}
	if cfg.ProbeTimeout <= 0 {
		cfg.ProbeTimeout = 10 * time.Second
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 10 * time.Second
	}
	if cfg.MaxFrameSize <= 0 {
		cfg.MaxFrameSize = 16 << 20
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = lim.Lifetime
	}
	if cfg.RotateBefore <= 0 {
		cfg.RotateBefore = min(10*time.Minute, cfg.Lifetime/10)
	}
	if cfg.RotationOverlap <= 0 {
		cfg.RotationOverlap = 2 * time.Second
	}
	if cfg.MaxOverlap <= 0 {
		cfg.MaxOverlap = 30 * time.Second
	}
	cfg.Backoff = cfg.Backoff.withDefaults()
	if cfg.BanWait <= 0 {
		cfg.BanWait = 2 * time.Minute
	}
	if cfg.RateLimitWait <= 0 {
		cfg.RateLimitWait = 30 * time.Second
	}
	if cfg.StaleFloor == nil {
		cfg.StaleFloor = func(n StreamName) time.Duration { return StaleFloor(m, n) }
	}
	if cfg.StaleCheck <= 0 {
		cfg.StaleCheck = time.Second
	}
	if cfg.MaxBackfill <= 0 {
		cfg.MaxBackfill = 10000
	}
	if cfg.MaxBuffered <= 0 {
		cfg.MaxBuffered = 50000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	f := &Feed{cfg: cfg, msgRate: rate, limiter: cfg.ConnectLimiter, logger: cfg.Logger,
		where: make(map[StreamName]*shard)}
	if f.limiter == nil {
		f.limiter = NewConnectLimiter(lim.ConnectAttempts, lim.ConnectWindow)
	}
	if f.logger == nil {
		f.logger = log.New(io.Discard)
	}
	return f, nil
}

func (f *Feed) now() time.Time   { return f.cfg.Now() }
func (f *Feed) log() *log.Logger { return f.logger }

// Market is the feed's market.
func (f *Feed) Market() Market { return f.cfg.Market }

// Run connects every shard and delivers events until ctx ends or Close is
// called; it returns nil then. Streams subscribed before Run go in the
// connection URLs.
func (f *Feed) Run(ctx context.Context) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return fmt.Errorf("feed: %w", source.ErrClosed)
	}
	if f.running {
		f.mu.Unlock()
		return errors.New("feed: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f.running, f.runCtx, f.cancel = true, ctx, cancel
	f.jobCtx.Store(ctx)
	for _, sh := range f.shards {
		f.startShard(sh)
	}
	f.mu.Unlock()

	f.wg.Add(1)
	go f.staleLoop(ctx)
	<-ctx.Done()
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.wg.Wait()
	return nil
}

// Close stops a running feed (Run returns once its connections are closed)
// or marks an idle one closed. Later Subscribe and Run calls fail.
func (f *Feed) Close() error {
	f.mu.Lock()
	f.closed = true
	shards := slices.Clone(f.shards)
	cancel := f.cancel
	f.mu.Unlock()
	for _, sh := range shards {
		sh.stop()
	}
	if cancel != nil {
		cancel()
	}
	return nil
}

// startShard launches a shard's connection loop; f.mu held.
func (f *Feed) startShard(sh *shard) {
	ctx, cancel := context.WithCancel(f.runCtx)
	sh.cancel = cancel
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		sh.run(ctx)
	}()
}

// Subscribe adds streams, live on running connections (SUBSCRIBE, waiting
// for the acks) or in the URL of connections not yet open. Streams already
// subscribed and carried are ignored. A refused or unanswered request is
// returned; the streams stay registered, and the next connection of their
// shard, or the next Subscribe of them, asks for them again.
func (f *Feed) Subscribe(ctx context.Context, names ...StreamName) error {
	m := f.cfg.Market
	for _, n := range names {
		if err := m.CheckStream(n); err != nil {
			return fmt.Errorf("subscribe %s: %w", n, err)
		}
	}
	type work struct {
		c     *conn
		names []StreamName
	}
	var todo []work
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return fmt.Errorf("subscribe: %w", source.ErrClosed)
	}
	added := make(map[*shard][]StreamName)
	for _, n := range names {
		// A registered stream is looked at again: a refused request left
		// it off its connection.
		sh := f.where[n]
		if sh == nil {
			sh = f.shardFor(m.StreamRoute(n))
			sh.add(n)
			f.where[n] = sh
		}
		added[sh] = append(added[sh], n)
	}
	for sh, ns := range added {
		if sh.cancel == nil {
			// Only Run connects (runCtx is its context); during a Replay
			// the stream waits for a later Run.
			if f.runCtx != nil {
				f.startShard(sh)
			}
			continue
		}
		for _, c := range sh.liveConns() {
			var list []StreamName
			for _, n := range ns {
				if !c.streams[n] {
					c.streams[n] = true
					list = append(list, n)
				}
			}
			if len(list) > 0 {
				todo = append(todo, work{c, list})
			}
		}
	}
	f.mu.Unlock()
	var errs []error
	for _, w := range todo {
		if failed, err := w.c.sendChunked(ctx, "SUBSCRIBE", w.names); err != nil {
			f.notCarried(w.c, failed)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// notCarried marks streams whose SUBSCRIBE failed as not on c, so a later
// Subscribe asks for them again.
func (f *Feed) notCarried(c *conn, names []StreamName) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range names {
		delete(c.streams, n)
	}
}

// Unsubscribe removes streams (UNSUBSCRIBE on live connections); a shard
// left empty closes its connection.
func (f *Feed) Unsubscribe(ctx context.Context, names ...StreamName) error {
	type work struct {
		c     *conn
		names []StreamName
	}
	var (
		todo  []work
		empty []*shard
	)
	f.mu.Lock()
	removed := make(map[*shard][]StreamName)
	for _, n := range names {
		sh := f.where[n]
		if sh == nil {
			continue
		}
		delete(f.where, n)
		sh.remove(n)
		removed[sh] = append(removed[sh], n)
	}
	for sh, ns := range removed {
		if len(sh.streams) == 0 {
			f.shards = slices.DeleteFunc(f.shards, func(x *shard) bool { return x == sh })
			empty = append(empty, sh)
			continue
		}
		for _, c := range sh.liveConns() {
			var list []StreamName
			for _, n := range ns {
				if c.streams[n] {
					delete(c.streams, n)
					list = append(list, n)
				}
			}
			if len(list) > 0 {
				todo = append(todo, work{c, list})
			}
		}
	}
	f.mu.Unlock()
	for _, sh := range empty {
		sh.stop()
	}
	var errs []error
	for _, w := range todo {
		if _, err := w.c.sendChunked(ctx, "UNSUBSCRIBE", w.names); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Streams lists the subscribed streams, sorted.
func (f *Feed) Streams() []StreamName {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]StreamName, 0, len(f.where))
	for n := range f.where {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b StreamName) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// ListSubscriptions asks every primary connection for its subscriptions
// (LIST_SUBSCRIPTIONS) and returns the union, sorted: what Binance says the
// feed receives, to compare with Streams. A shard without an open
// connection (not yet connected, reconnecting) makes it fail: its part of
// the answer is unknown.
func (f *Feed) ListSubscriptions(ctx context.Context) ([]string, error) {
	f.mu.Lock()
	var conns []*conn
	for _, sh := range f.shards {
		c := sh.primaryConn()
		if c == nil {
			f.mu.Unlock()
			return nil, fmt.Errorf("listing subscriptions: shard %d (%d streams) has no open connection", sh.id, len(sh.streams))
		}
		conns = append(conns, c)
	}
	f.mu.Unlock()
	var out []string
	for _, c := range conns {
		res, err := c.request(ctx, "LIST_SUBSCRIPTIONS", nil)
		if err != nil {
			return nil, fmt.Errorf("listing subscriptions on connection %d: %w", c.id, err)
		}
		list, err := parseStringArray(res)
		if err != nil {
			return nil, fmt.Errorf("listing subscriptions on connection %d: %w", c.id, err)
		}
		out = append(out, list...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// parseStringArray decodes a JSON array of plain strings (stream names).
func parseStringArray(b []byte) ([]string, error) {
	s := strings.TrimSpace(string(b))
	if s == "null" || s == "[]" {
		return nil, nil
	}
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, fmt.Errorf("result %q is not an array", s)
	}
	var out []string
	for _, part := range strings.Split(s[1:len(s)-1], ",") {
		part = strings.TrimSpace(part)
		if len(part) < 2 || part[0] != '"' || part[len(part)-1] != '"' {
			return nil, fmt.Errorf("result element %q is not a string", part)
		}
		out = append(out, part[1:len(part)-1])
	}
	return out, nil
}

// Big SUBSCRIBE lists go in several messages of at most maxParamsPerRequest
// streams and maxRequestBytes of names: Binance silently fails a request
// of some 440 names (7.5 KB).
const (
	maxParamsPerRequest = 200
	maxRequestBytes     = 4000
)

// maxStreamURL bounds a connection URL: Binance was measured to refuse
// URLs over 8004 characters; streams beyond it are subscribed live.
const maxStreamURL = 6000

// sendChunked sends method (SUBSCRIBE or UNSUBSCRIBE) for names in chunks,
// waiting for each ack, and goes on past a failed chunk while the
// connection lives; it returns the names whose request failed. After each
// ack it settles the chunk: a concurrent Subscribe or Unsubscribe of the
// same streams may have crossed this request on the wire.
func (c *conn) sendChunked(ctx context.Context, method string, names []StreamName) (failed []StreamName, err error) {
	var errs []error
	for done := 0; done < len(names); {
		n, size := 0, 0
		for done+n < len(names) && n < maxParamsPerRequest {
			size += len(names[done+n].AppendTo(nil)) + 3 // quotes and comma
			if n > 0 && size > maxRequestBytes {
				break
			}
			n++
		}
		chunk := names[done : done+n]
		done += n
		if _, err := c.request(ctx, method, streamStrings(chunk)); err != nil {
			errs = append(errs, fmt.Errorf("%s %d streams on connection %d: %w", method, n, c.id, err))
			failed = append(failed, chunk...)
			if ctx.Err() != nil || c.isDone() {
				failed = append(failed, names[done:]...)
				break
			}
			continue
		}
		c.settle(ctx, method == "SUBSCRIBE", chunk)
	}
	return failed, errors.Join(errs...)
}

// settle re-sends what the feed wants on c for names just acknowledged as
// subscribed (or unsubscribed): a request for them decided meanwhile may
// have reached Binance first, leaving a removed stream subscribed or a
// wanted one off. Re-sending either is harmless.
func (c *conn) settle(ctx context.Context, subscribed bool, names []StreamName) {
	f := c.feed
	for range 3 {
		f.mu.Lock()
		var flip []StreamName
		for _, n := range names {
			if c.streams[n] != subscribed {
				flip = append(flip, n)
			}
		}
		f.mu.Unlock()
		if len(flip) == 0 {
			return
		}
		method := "SUBSCRIBE"
		if subscribed {
			method = "UNSUBSCRIBE"
		}
		if _, err := c.request(ctx, method, streamStrings(flip)); err != nil {
			if ctx.Err() == nil {
				f.log().Warn("correcting crossed subscription requests failed", "conn", c.id, "method", method, "err", err)
			}
			return
		}
		subscribed, names = !subscribed, flip
	}
}

func streamStrings(names []StreamName) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n.String()
	}
	return out
}

// shardFor returns a shard of route with room, creating one; f.mu held.
func (f *Feed) shardFor(r Route) *shard {
	for _, sh := range f.shards {
		if sh.route == r && len(sh.streams) < f.cfg.StreamsPerConn {
			return sh
		}
	}
	f.nextSh++
	sh := newShard(f, f.nextSh, r)
	f.shards = append(f.shards, sh)
	return sh
}

// Shards reports how many connection slots the feed uses now.
func (f *Feed) Shards() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.shards)
}

// malformed counts a frame the feed could not use and logs the first of
// each kind with a sample.
func (f *Feed) malformed(c *conn, kind string, frame []byte) {
	f.stats.malformed.Add(1)
	f.stats.countKind(kind)
	if _, seen := f.logOnce.LoadOrStore(kind, true); seen {
		return
	}
	sample := frame
	if len(sample) > 256 {
		sample = sample[:256]
	}
	f.log().Warn("skipping malformed frame (logged once per kind)", "kind", kind, "conn", c.id, "sample", string(sample))
}

// recordFrame writes a frame to the recorder, if any.
func (f *Feed) recordFrame(c *conn, kind record.Kind, frame []byte, recv int64) {
	if f.cfg.Recorder == nil {
		return
	}
	f.record(&record.Record{Kind: kind, Conn: c.id, Time: recv, Stream: wrappedStream(frame), Data: frame})
}

// record writes rec to the recorder, if any; a failure is counted and
// logged once, and the feed goes on.
func (f *Feed) record(rec *record.Record) {
	w := f.cfg.Recorder
	if w == nil {
		return
	}
	if err := w.Write(rec); err != nil {
		f.recordFailed(err)
	}
}

func (f *Feed) recordEvent(c *conn, kind record.Kind, stream, data []byte) {
	f.recordEventConn(c.id, kind, stream, data)
}

func (f *Feed) recordEventConn(conn uint32, kind record.Kind, stream, data []byte) {
	f.record(&record.Record{Kind: kind, Conn: conn, Time: f.now().UnixNano(), Stream: stream, Data: data})
}

// RecordReply writes a REST reply the feed may use (a trade, aggTrade or
// depth backfill) to the recorder, so a replay of the recording fills the
// same gaps. Pass it as the REST client's ClientOptions.OnReply; replies
// of other endpoints, and every reply when nothing records, are ignored.
func (f *Feed) RecordReply(request string, body []byte, recv int64) {
	if f.cfg.Recorder == nil {
		return
	}
	endpoint, _, _ := strings.Cut(request, "?")
	switch endpoint {
	case "trades", "historicalTrades", "aggTrades", "depth":
		f.record(&record.Record{Kind: record.KindREST, Time: recv, Stream: []byte(request), Data: body})
	}
}

// recordFill writes the feed's decision about a gap on st (see
// record.KindFill); dmu held, so it follows the frame that showed the gap
// and precedes that connection's next frame.
func (sh *shard) recordFill(st *streamState, format string, args ...any) {
	f := sh.feed
	if f.cfg.Recorder == nil || sh.replay {
		return
	}
	var conn uint32
	if sh.primary != nil {
		conn = sh.primary.id
	}
	f.recordEventConn(conn, record.KindFill, st.key.AppendTo(nil), fmt.Appendf(nil, format, args...))
}

func (f *Feed) recordFailed(err error) {
	f.stats.recordErrors.Add(1)
	if _, seen := f.logOnce.LoadOrStore("record: "+err.Error(), true); !seen {
		f.log().Error("recording failed; the feed continues without it", "err", err)
	}
}

// wrappedStream returns the stream name of a combined frame
// ({"stream":"name",...}) without parsing the rest, or nil.
func wrappedStream(b []byte) []byte {
	const prefix = `{"stream":"`
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		return nil
	}
	for i := len(prefix); i < len(b) && i < len(prefix)+128; i++ {
		switch b[i] {
		case '"':
			return b[len(prefix):i]
		case '\\':
			return nil
		}
	}
	return nil
}

// staleLoop checks every stream's silence.
func (f *Feed) staleLoop(ctx context.Context) {
	defer f.wg.Done()
	t := time.NewTicker(f.cfg.StaleCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f.mu.Lock()
		shards := slices.Clone(f.shards)
		f.mu.Unlock()
		now := f.now().UnixNano()
		for _, sh := range shards {
			sh.checkStale(now)
		}
	}
}

// feedStats are the feed's counters, updated atomically.
type feedStats struct {
	frames, events, malformed, duplicates          atomic.Int64
	connects, reconnects, disconnects, rotations   atomic.Int64
	gaps, gapsFilled, gapsUnfilled, backfilled     atomic.Int64
	stale, recovered, snapshots, ackTimeouts       atomic.Int64
	handshakeRefused, recordErrors, sequenceResets atomic.Int64
	byChannel                                      [16]atomic.Int64
	kindsMu                                        sync.Mutex
	kinds                                          map[string]int64
}

func (s *feedStats) countKind(kind string) {
	s.kindsMu.Lock()
	defer s.kindsMu.Unlock()
	if s.kinds == nil {
		s.kinds = make(map[string]int64)
	}
	s.kinds[kind]++
}

// FeedStats is a snapshot of a feed's counters, for the relay's stats.
type FeedStats struct {
	Frames     int64 // market-data frames received
	Events     int64 // events delivered (after de-duplication)
	Duplicates int64 // events dropped as already delivered
	// EventsByChannel counts delivered events per market.Channel.
	EventsByChannel map[market.Channel]int64
	Malformed       int64
	// MalformedByKind counts malformed frames per ParseError kind.
	MalformedByKind  map[string]int64
	Connects         int64 // successful connections, rotations included
	Reconnects       int64 // connections after an unplanned loss
	Disconnects      int64
	Rotations        int64 // planned hand-overs (lifetime, serverShutdown)
	HandshakeRefused int64 // 429/418 and other refused upgrades
	AckTimeouts      int64
	Gaps             int64
	GapsFilled       int64
	GapsUnfilled     int64
	Backfilled       int64 // events fetched from REST into gaps
	Snapshots        int64 // REST depth snapshots emitted after depth gaps
	Stale            int64
	Recovered        int64
	SequenceResets   int64 // a primary connection went backwards
	RecordErrors     int64
}

// Stats returns the feed's counters.
func (f *Feed) Stats() FeedStats {
	s := &f.stats
	out := FeedStats{
		Frames: s.frames.Load(), Events: s.events.Load(), Duplicates: s.duplicates.Load(),
		Malformed: s.malformed.Load(), Connects: s.connects.Load(), Reconnects: s.reconnects.Load(),
		Disconnects: s.disconnects.Load(), Rotations: s.rotations.Load(),
		HandshakeRefused: s.handshakeRefused.Load(), AckTimeouts: s.ackTimeouts.Load(),
		Gaps: s.gaps.Load(), GapsFilled: s.gapsFilled.Load(), GapsUnfilled: s.gapsUnfilled.Load(),
		Backfilled: s.backfilled.Load(), Snapshots: s.snapshots.Load(), Stale: s.stale.Load(),
		Recovered: s.recovered.Load(), SequenceResets: s.sequenceResets.Load(), RecordErrors: s.recordErrors.Load(),
		EventsByChannel: make(map[market.Channel]int64),
		MalformedByKind: make(map[string]int64),
	}
	for i := range s.byChannel {
		if v := s.byChannel[i].Load(); v != 0 {
			out.EventsByChannel[market.Channel(i)] = v
		}
	}
	s.kindsMu.Lock()
	for k, v := range s.kinds {
		out.MalformedByKind[k] = v
	}
	s.kindsMu.Unlock()
	return out
}
