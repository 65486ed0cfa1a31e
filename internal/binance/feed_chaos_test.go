package binance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/log"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/binance/binancetest"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/record"
	"github.com/ims-dev/ims/internal/source"
)

// The chaos test runs the real feed against the real fake exchange (REST and
// websocket) under a seeded random schedule of faults interleaved with
// traffic, then checks what came out against what the fake sent:
//
//  1. trade/aggTrade: delivered ids strictly increase, every id the fake
//     sent is delivered or inside a reported GapUnfilled range, and with
//     REST able to serve, the only unfilled gaps are the forced ones;
//  2. depth: each update chains on the one before (spot U <= u+1, futures
//     pu == u) or a Gap was reported between them, starting at the break;
//  3. bookTicker, kline, depth snapshots and all-market elements: strictly
//     increasing sequence values;
//  4. a replay of the recording (no Backfill) delivers the same market
//     events and gap statuses, per stream, in the same order;
//  5. Run returns after cancel and no goroutine of the feed is left.
//
// The normal suite runs a few fixed seeds; IMS_CHAOS_SEEDS=N runs N random
// seeds (a soak), IMS_CHAOS_SEED=S one seed, IMS_CHAOS_LOG=1 logs the feed.
func TestFeedChaos(t *testing.T) {
	type run struct {
		seed uint64
		m    binance.Market
	}
	var runs []run
	switch {
	case os.Getenv("IMS_CHAOS_SEED") != "":
		s, err := strconv.ParseUint(os.Getenv("IMS_CHAOS_SEED"), 10, 64)
		if err != nil {
			t.Fatalf("IMS_CHAOS_SEED: %v", err)
		}
		runs = append(runs, run{s, chaosMarket(s)})
	case os.Getenv("IMS_CHAOS_SEEDS") != "":
		n, err := strconv.Atoi(os.Getenv("IMS_CHAOS_SEEDS"))
		if err != nil {
			t.Fatalf("IMS_CHAOS_SEEDS: %v", err)
		}
		base := uint64(time.Now().UnixNano())
		for i := range n {
			s := base + uint64(i)*0x9E3779B97F4A7C15
			runs = append(runs, run{s, chaosMarket(s)})
		}
	default:
		for _, s := range []uint64{1, 2, 7, 8} {
			runs = append(runs, run{s, chaosMarket(s)})
		}
	}
	for _, r := range runs {
		t.Run(fmt.Sprintf("%s/seed=%d", r.m, r.seed), func(t *testing.T) {
			ok := false
			defer func() {
				if !ok {
					t.Logf("chaos failure: reproduce with IMS_CHAOS_SEED=%d go test -run 'TestFeedChaos' ./internal/binance/", r.seed)
				}
			}()
			chaosRun(t, r.seed, r.m)
			ok = !t.Failed()
		})
	}
}

// chaosMarket alternates spot (serverShutdown, spot depth) and USD-M (two
// routes, futures depth) by seed.
func chaosMarket(seed uint64) binance.Market {
	if seed%2 == 0 {
		return binance.USDM
	}
	return binance.Spot
}

type chaosKind uint8

const (
	ckTrade chaosKind = iota
	ckAgg
	ckDepth
	ckBook
	ckKline
	ckArray
)

// chaosStream is one stream the fake emits and the feed subscribes.
type chaosStream struct {
	name  string
	kind  chaosKind
	churn bool // subscribed and unsubscribed during the run
	src   *binancetest.Source
	first int64 // first id emitted (trade, agg, depth: -1 until then)
	last  int64 // last id (t, a, u) emitted
	// emitted ids (trade, agg), for the coverage check.
	ids []int64
	// forced are skips beyond MaxBackfill: allowed unfilled.
	forced [][2]int64
	arrE   int64 // all-market array: last E sent
}

const (
	chaosMaxBackfill = 3000
	chaosHistory     = 40000 // ids of REST history per trade stream
)

var chaosPayloads = map[chaosKind][2]string{ // spot, futures
	ckTrade: {fdSpotTrade, `{"e":"trade","E":1672515782136,"T":1672515782136,"s":"BTCUSDT","t":12345,"p":"0.001","q":"100","X":"MARKET","m":true}`},
	ckAgg: {`{"e":"aggTrade","E":1672515782136,"s":"BTCUSDT","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}`,
		fdUSDMAgg},
	ckDepth: {fdSpotDepth, fdUSDMDepth},
	ckBook:  {`{"u":400900217,"s":"BTCUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}`, fdUSDMBook},
	ckKline: {fdSpotKline, `{"e":"kline","E":1638747660000,"s":"BTCUSDT","k":{"t":1638747660000,"T":1638747719999,"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}`},
}

// chaosEntry is one thing the handler saw on a stream (symbol, channel).
type chaosEntry struct {
	kind   source.Kind
	status market.StatusKind
	first  int64 // trade/agg id, depth U, monotonic value; gap from
	last   int64 // depth u; gap to
	prev   int64 // futures depth pu
	repr   string
}

// chaosCollector keeps, per stream key, everything delivered in order.
type chaosCollector struct {
	mu      sync.Mutex
	changed chan struct{}
	byKey   map[string][]chaosEntry
	order   []string // keys in first-seen order
	events  int
}

func newChaosCollector() *chaosCollector {
	return &chaosCollector{changed: make(chan struct{}), byKey: make(map[string][]chaosEntry)}
}

func chaosKey(sym market.Symbol, ch market.Channel) string { return sym.String() + "/" + ch.String() }

func (c *chaosCollector) HandleEvent(ev *source.Event) {
	var (
		key string
		e   = chaosEntry{kind: ev.Kind}
	)
	switch ev.Kind {
	case source.KindStatus:
		s := ev.Status
		switch s.Kind {
		case market.StatusGap, market.StatusGapFilled, market.StatusGapUnfilled:
		default:
			return // connection-level and time-based markers
		}
		key = chaosKey(s.Symbol, s.Channel)
		e.status, e.first, e.last = s.Kind, s.GapFrom, s.GapTo
		e.repr = fmt.Sprintf("status %s %d..%d", s.Kind, s.GapFrom, s.GapTo)
	case source.KindTrade:
		key = chaosKey(ev.Trade.Symbol, ev.Channel)
		e.first, e.last = ev.Trade.TradeID, ev.Trade.TradeID
		e.repr = fmt.Sprintf("%+v", *ev.Trade)
	case source.KindAggTrade:
		key = chaosKey(ev.AggTrade.Symbol, ev.Channel)
		e.first, e.last = ev.AggTrade.AggTradeID, ev.AggTrade.AggTradeID
		e.repr = fmt.Sprintf("%+v", *ev.AggTrade)
	case source.KindDepthUpdate:
		d := ev.DepthUpdate
		key = chaosKey(d.Symbol, ev.Channel)
		e.first, e.last, e.prev = d.FirstUpdateID, d.LastUpdateID, d.PrevLastUpdateID
		e.repr = fmt.Sprintf("%+v", *d)
	case source.KindDepthSnapshot:
		d := ev.DepthSnapshot
		key = chaosKey(d.Symbol, ev.Channel)
		e.first, e.last = d.LastUpdateID, d.LastUpdateID
		// Without the receive time: two REST snapshots of one book with
		// the same lastUpdateId can race live, and the replay may emit
		// the other copy (open; see the report of the chaos test).
		snap := *d
		snap.ReceiveTime = 0
		e.repr = fmt.Sprintf("%+v", snap)
	case source.KindBookTicker:
		key = chaosKey(ev.BookTicker.Symbol, ev.Channel)
		e.first, e.last = ev.BookTicker.UpdateID, ev.BookTicker.UpdateID
		e.repr = fmt.Sprintf("%+v", *ev.BookTicker)
	case source.KindKline:
		key = chaosKey(ev.Kline.Symbol, ev.Channel)
		e.first, e.last = ev.Kline.EventTime, ev.Kline.EventTime
		e.repr = fmt.Sprintf("%+v", *ev.Kline)
	case source.KindTicker:
		key = chaosKey(ev.Ticker.Symbol, ev.Channel)
		e.first, e.last = ev.Ticker.EventTime, ev.Ticker.EventTime
		e.repr = fmt.Sprintf("%+v", *ev.Ticker)
	case source.KindMarkPrice:
		key = chaosKey(ev.MarkPrice.Symbol, ev.Channel)
		e.first, e.last = ev.MarkPrice.EventTime, ev.MarkPrice.EventTime
		e.repr = fmt.Sprintf("%+v", *ev.MarkPrice)
	default:
		key = "other/" + ev.Kind.String()
		e.repr = ev.Kind.String()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[key]; !ok {
		c.order = append(c.order, key)
	}
	c.byKey[key] = append(c.byKey[key], e)
	c.events++
	close(c.changed)
	c.changed = make(chan struct{})
}

// wait blocks until cond (called with the lock held) holds or d passes;
// it reports whether cond held. The timeout only bounds a wait whose
// failure the caller reports; nothing is timed by it.
func (c *chaosCollector) wait(d time.Duration, cond func() bool) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		c.mu.Lock()
		ok, ch := cond(), c.changed
		c.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-timer.C:
			return false
		}
	}
}

// lastValue is the last delivered value (id, u) of kind on key; mu held.
func (c *chaosCollector) lastValue(key string, kind source.Kind) (int64, bool) {
	es := c.byKey[key]
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].kind == kind {
			return es[i].last, true
		}
	}
	return 0, false
}

// chaosIDs reads the sequence fields of a raw payload (keys are
// case-sensitive: "t" and "T", "u" and "U" are different fields).
type chaosIDs struct {
	T  int64           `json:"t"`
	A  json.RawMessage `json:"a"` // an id in aggTrade, a price or levels elsewhere
	U  int64           `json:"U"`
	Lu int64           `json:"u"`
	E  int64           `json:"E"`
	// Decoys so the case-insensitive fallback of encoding/json does not
	// fold "T" into t or "e" into E.
	TT int64  `json:"T"`
	Ee string `json:"e"`
}

func chaosRun(t *testing.T, seed uint64, m binance.Market) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5EED))
	futures := m == binance.USDM
	api := binancetest.APISpot
	pi := 0
	if futures {
		api, pi = binancetest.APIUSDM, 1
	}

	lifetime := time.Duration(0)
	if rng.IntN(3) > 0 {
		lifetime = time.Duration(300+rng.IntN(900)) * time.Millisecond
	}
	wsCfg := binancetest.WSConfig{Futures: futures, Routed: futures, PingInterval: 400 * time.Millisecond, Lifetime: lifetime}
	ws := binancetest.NewWS(wsCfg)
	srv := binancetest.NewServer(binancetest.Options{WS: ws})
	defer srv.Close()

	// Streams: the core ones are never unsubscribed and fully checked.
	streams := []*chaosStream{
		{name: "btcusdt@trade", kind: ckTrade},
		{name: "ethusdt@trade", kind: ckTrade},
		{name: "btcusdt@aggTrade", kind: ckAgg},
		{name: "btcusdt@depth", kind: ckDepth},
		{name: "btcusdt@bookTicker", kind: ckBook},
		{name: "btcusdt@kline_1m", kind: ckKline},
		{name: "ethusdt@bookTicker", kind: ckBook, churn: true},
		{name: "ethusdt@kline_1m", kind: ckKline, churn: true},
	}
	arrName := "!miniTicker@arr"
	if futures {
		arrName = "!markPrice@arr"
	}
	streams = append(streams, &chaosStream{name: arrName, kind: ckArray, arrE: time.Now().UnixMilli()})
	var trades []market.Trade
	for _, s := range streams {
		s.first = -1
		if s.kind == ckArray {
			continue
		}
		p := chaosPayloads[s.kind][pi]
		if strings.HasPrefix(s.name, "ethusdt") {
			p = strings.ReplaceAll(p, "BTCUSDT", "ETHUSDT")
		}
		s.src = binancetest.NewSource([][]byte{[]byte(p)}, binancetest.SchemeFor(s.name, futures))
		ws.SetSource(s.name, s.src)
		sym := strings.ToUpper(strings.Split(s.name, "@")[0])
		switch s.kind {
		case ckTrade:
			first := s.src.NextID()
			trades = trades[:0]
			for id := first; id < first+chaosHistory; id++ {
				trades = append(trades, market.Trade{TradeID: id, Price: market.MustDecimal("1.25"),
					Quantity: market.MustDecimal("3"), TradeTime: 1672515782136000 + id})
			}
			srv.SetTrades(api, sym, trades)
		case ckAgg:
			first := s.src.NextID()
			hist := make([]market.AggTrade, 0, chaosHistory)
			for id := first; id < first+chaosHistory; id++ {
				hist = append(hist, market.AggTrade{AggTradeID: id, Price: market.MustDecimal("1.25"),
					Quantity: market.MustDecimal("3"), FirstTradeID: id * 6, LastTradeID: id*6 + 5, TradeTime: 1672515782136000 + id})
			}
			srv.SetAggTrades(api, sym, hist)
		case ckDepth:
			srv.SetBook(api, sym, chaosBook(s.src.NextID()))
		}
	}

	var rec bytes.Buffer
	w, err := record.NewWriter(&rec, record.WriterOptions{Market: m.String(), FlushFrames: 64, FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	var feedPtr atomic.Pointer[binance.Feed]
	client, err := binance.NewClient(m, binance.ClientOptions{BaseURL: srv.URL(), HTTPClient: srv.Client(), MaxRetries: -1,
		OnReply: func(request string, body []byte, recv int64) {
			if f := feedPtr.Load(); f != nil {
				f.RecordReply(request, body, recv)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	logger := log.New(io.Discard)
	if os.Getenv("IMS_CHAOS_LOG") != "" {
		logger = log.NewWithOptions(testWriter{t}, log.Options{Level: log.DebugLevel})
	}
	col := newChaosCollector()
	cfg := binance.FeedConfig{
		Market: m, WSURL: srv.WSURL(), Handler: col, Logger: logger,
		StreamsPerConn:     2,
		ReadTimeout:        2 * time.Second,
		HandshakeTimeout:   2 * time.Second,
		AckTimeout:         250 * time.Millisecond,
		RotationOverlap:    20 * time.Millisecond,
		MaxOverlap:         300 * time.Millisecond,
		Backoff:            binance.Backoff{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond},
		BanWait:            20 * time.Millisecond,
		RateLimitWait:      20 * time.Millisecond,
		StaleCheck:         50 * time.Millisecond,
		Backfill:           client,
		MaxBackfill:        chaosMaxBackfill,
		DepthSnapshotOnGap: 100,
		Recorder:           w,
	}
	if lifetime > 0 {
		cfg.Lifetime, cfg.RotateBefore = lifetime, lifetime/2
	}
	feed, err := binance.NewFeed(cfg)
	if err != nil {
		t.Fatal(err)
	}
	feedPtr.Store(feed)
	var initial []binance.StreamName
	for _, s := range streams {
		if !s.churn {
			initial = append(initial, fdStream(t, s.name))
		}
	}
	if err := feed.Subscribe(context.Background(), initial...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- feed.Run(ctx) }()

	waitCtx := func(d time.Duration) (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), d)
	}
	// carried reports whether every wanted stream has a connection on the
	// fake that delivers it.
	carried := func(names []string) func() bool {
		return func() bool {
			for _, n := range names {
				if ws.Subscribers(n) == 0 {
					return false
				}
			}
			return true
		}
	}
	var coreNames []string
	for _, s := range streams {
		if !s.churn {
			coreNames = append(coreNames, s.name)
		}
	}
	lastEmitted := func(s *chaosStream, frames [][]byte) {
		for _, fr := range frames {
			var ids chaosIDs
			if err := json.Unmarshal(fr, &ids); err != nil {
				t.Fatalf("fake frame %s: %v", fr, err)
			}
			var id int64
			switch s.kind {
			case ckTrade:
				id = ids.T
			case ckAgg:
				if id, err = strconv.ParseInt(string(ids.A), 10, 64); err != nil {
					t.Fatalf("fake aggTrade frame %s: %v", fr, err)
				}
			case ckDepth, ckBook:
				id = ids.Lu
			default:
				continue
			}
			if s.first < 0 {
				s.first = id
			}
			s.last = id
			if s.kind == ckTrade || s.kind == ckAgg {
				s.ids = append(s.ids, id)
			}
		}
	}
	emit := func(s *chaosStream, n int) {
		if s.kind == ckArray {
			for range n {
				s.arrE++
				ws.Push(s.name, chaosArray(s.arrE, futures))
			}
			return
		}
		lastEmitted(s, ws.Emit(s.name, n))
	}
	deliveredKey := func(s *chaosStream) string {
		sym := strings.ToUpper(strings.Split(s.name, "@")[0])
		ch := map[chaosKind]market.Channel{ckTrade: market.ChannelTrade, ckAgg: market.ChannelAggTrade,
			ckDepth: market.ChannelDepth, ckBook: market.ChannelBookTicker}[s.kind]
		var sy market.Symbol
		sy.SetString(sym)
		return chaosKey(sy, ch)
	}
	kindOf := map[chaosKind]source.Kind{ckTrade: source.KindTrade, ckAgg: source.KindAggTrade,
		ckDepth: source.KindDepthUpdate, ckBook: source.KindBookTicker}
	// delivered reports whether the last value emitted on every checked
	// core stream came out; mu held.
	allDelivered := func() bool {
		for _, s := range streams {
			if s.churn || s.first < 0 {
				continue
			}
			if _, ok := kindOf[s.kind]; !ok {
				continue
			}
			if v, ok := col.lastValue(deliveredKey(s), kindOf[s.kind]); !ok || v != s.last {
				return false
			}
		}
		return true
	}

	// Start: every core stream carried and its first frame delivered, so
	// every later id is accountable.
	{
		wctx, wcancel := waitCtx(fdTestTimeout)
		if err := ws.Wait(wctx, carried(coreNames)); err != nil {
			wcancel()
			t.Fatalf("initial connections: %v", err)
		}
		wcancel()
		ok := false
		for range 50 {
			for _, s := range streams {
				if !s.churn {
					emit(s, 1)
				}
			}
			if col.wait(500*time.Millisecond, allDelivered) {
				ok = true
				break
			}
		}
		if !ok {
			t.Fatal("first frames never delivered")
		}
	}

	// The schedule.
	var (
		restFaulted bool
		releases    []func()
		churnWG     sync.WaitGroup
		churnOn     = map[string]bool{}
		forcedSkips int
	)
	steps := 30 + rng.IntN(40)
	var sched []string
	for step := range steps {
		switch r := rng.IntN(100); {
		case r < 40: // traffic
			s := streams[rng.IntN(len(streams))]
			n := 1 + rng.IntN(6)
			emit(s, n)
			sched = append(sched, fmt.Sprintf("emit %s %d", s.name, n))
		case r < 50: // a gap on demand
			var cand []*chaosStream
			for _, s := range streams {
				if !s.churn && (s.kind == ckTrade || s.kind == ckAgg || s.kind == ckDepth) {
					cand = append(cand, s)
				}
			}
			s := cand[rng.IntN(len(cand))]
			n := int64(1 + rng.IntN(40))
			if rng.IntN(6) == 0 {
				n = 900 + int64(rng.IntN(1400)) // more than one REST page
			}
			if s.kind != ckDepth && forcedSkips < 2 && rng.IntN(8) == 0 {
				n = chaosMaxBackfill + 1 + int64(rng.IntN(500))
				from := s.src.NextID()
				s.forced = append(s.forced, [2]int64{from, from + n - 1})
				forcedSkips++
			}
			s.src.Skip(n)
			if s.kind == ckDepth {
				sym := strings.ToUpper(strings.Split(s.name, "@")[0])
				srv.SetBook(api, sym, chaosBook(s.src.NextID()))
			}
			emit(s, 1+rng.IntN(3))
			sched = append(sched, fmt.Sprintf("skip %s %d", s.name, n))
		case r < 56: // server-side disconnect
			conns := ws.Conns()
			if len(conns) == 0 {
				continue
			}
			c := conns[rng.IntN(len(conns))]
			switch rng.IntN(3) {
			case 0:
				c.Drop("chaos drop")
			case 1:
				c.Close(1001, "chaos going away")
			default:
				c.Close(1011, "chaos internal error")
			}
			sched = append(sched, fmt.Sprintf("disconnect conn %d", c.ID))
		case r < 59: // serverShutdown (spot sends it; the fake sends it anywhere)
			if futures {
				continue
			}
			ws.Shutdown()
			sched = append(sched, "serverShutdown")
		case r < 62: // refused handshakes
			hs := []binancetest.Handshake{{Status: http.StatusTooManyRequests}, {Status: http.StatusTeapot}, {Status: http.StatusServiceUnavailable}}
			ws.RejectHandshakes(hs[rng.IntN(len(hs))])
			sched = append(sched, "reject handshake")
		case r < 68: // acks
			modes := []binancetest.AckMode{binancetest.AckNormal, binancetest.AckHeld, binancetest.AckNone, binancetest.AckError}
			mode := modes[rng.IntN(len(modes))]
			ws.SetAckMode(mode)
			sched = append(sched, fmt.Sprintf("ack mode %d", mode))
		case r < 78: // live subscribe / unsubscribe of the churn streams
			var s *chaosStream
			for s == nil || !s.churn {
				s = streams[rng.IntN(len(streams))]
			}
			name := fdStream(t, s.name)
			on := !churnOn[s.name]
			churnOn[s.name] = on
			churnWG.Add(1)
			go func() {
				defer churnWG.Done()
				// Errors (refused, unanswered) are expected under chaos;
				// a stream whose request failed is retried by the feed.
				if on {
					_ = feed.Subscribe(context.Background(), name)
				} else {
					_ = feed.Unsubscribe(context.Background(), name)
				}
			}()
			sched = append(sched, fmt.Sprintf("subscribe %s %v", s.name, on))
		case r < 83: // REST faults
			eps := []string{"historicalTrades", "aggTrades", "depth"}
			ep := eps[rng.IntN(len(eps))]
			if rng.IntN(2) == 0 {
				srv.Inject(binancetest.Fault{API: api, Endpoint: ep, Status: http.StatusInternalServerError, Code: -1000, Msg: "chaos"})
				restFaulted = true
				sched = append(sched, "rest fault "+ep)
			} else {
				releases = append(releases, srv.Pause(ep))
				sched = append(sched, "rest pause "+ep)
			}
		case r < 87: // slow REST ends
			if len(releases) > 0 {
				releases[0]()
				releases = releases[1:]
				sched = append(sched, "rest release")
			}
		case r < 93: // let the feed catch up with what was sent
			col.wait(300*time.Millisecond, allDelivered)
			sched = append(sched, "catch up")
		default: // let a reconnect or rotation happen
			wctx, wcancel := waitCtx(300 * time.Millisecond)
			_ = ws.Wait(wctx, carried(coreNames))
			wcancel()
			sched = append(sched, "await connections")
		}
		_ = step
	}

	// Quiesce: normal acks and REST, churn requests settled, then traffic
	// until the last id of every checked stream came out.
	ws.SetAckMode(binancetest.AckNormal)
	for _, rel := range releases {
		rel()
	}
	churnWG.Wait()
	ok := false
	for range 40 {
		for _, s := range streams {
			if !s.churn {
				emit(s, 1)
			}
		}
		if col.wait(500*time.Millisecond, allDelivered) {
			ok = true
			break
		}
	}
	cancel()
	select {
	case err := <-runDone:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(fdTestTimeout):
		t.Fatal("Run did not return after cancel")
	}
	st := feed.Stats()
	t.Logf("%d steps, lifetime %v: events %d, connects %d, reconnects %d, rotations %d, refused %d, ack timeouts %d, gaps %d (filled %d, unfilled %d), backfilled %d, snapshots %d, duplicates %d",
		steps, lifetime, st.Events, st.Connects, st.Reconnects, st.Rotations, st.HandshakeRefused, st.AckTimeouts,
		st.Gaps, st.GapsFilled, st.GapsUnfilled, st.Backfilled, st.Snapshots, st.Duplicates)
	if !ok {
		t.Errorf("the last frames were never delivered; schedule:\n%s", strings.Join(sched, "\n"))
	}

	col.mu.Lock()
	live := col.byKey
	col.mu.Unlock()
	// Invariants 1-3.
	for _, s := range streams {
		if s.kind == ckArray {
			continue
		}
		if s.churn {
			continue
		}
		key := deliveredKey(s)
		if s.kind == ckKline {
			var sy market.Symbol
			sy.SetString(strings.ToUpper(strings.Split(s.name, "@")[0]))
			key = chaosKey(sy, market.ChannelKline)
		}
		chaosCheckStream(t, s, key, live[key], futures, restFaulted)
	}
	for key, es := range live {
		// Monotonic and no repeats on everything else (churn streams,
		// array elements, snapshots).
		var last int64
		has := false
		for _, e := range es {
			switch e.kind {
			case source.KindBookTicker, source.KindKline, source.KindTicker, source.KindMarkPrice, source.KindDepthSnapshot:
				if has && e.last <= last {
					t.Errorf("%s: %s value %d after %d (not increasing)", key, e.kind, e.last, last)
				}
				last, has = e.last, true
			}
		}
	}
	if t.Failed() {
		t.Logf("schedule:\n%s", strings.Join(sched, "\n"))
	}

	// Invariant 5: nothing of the feed left running.
	var left []string
	for range 1000 {
		if left = feedGoroutines(); len(left) == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond) // a settle loop: goroutines exit asynchronously
	}
	if len(left) > 0 {
		t.Errorf("%d feed goroutines left after Run returned:\n%s", len(left), strings.Join(left, "\n\n"))
	}

	// Invariant 4: the recording replays to the same events.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rd, err := record.NewReader(bytes.NewReader(rec.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	rcol := newChaosCollector()
	rf, err := binance.NewFeed(binance.FeedConfig{Market: m, Handler: rcol, Logger: logger, DepthSnapshotOnGap: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := rf.Replay(context.Background(), rd, 0); err != nil {
		t.Fatalf("replay: %v", err)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		seen := map[string]bool{}
		for k := range live {
			seen[k] = true
		}
		for k := range rcol.byKey {
			seen[k] = true
		}
		for k := range seen {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		a, b := live[k], rcol.byKey[k]
		n := min(len(a), len(b))
		for i := range n {
			if a[i].repr != b[i].repr {
				t.Errorf("replay of %s differs at %d of %d/%d:\nlive   %s\nreplay %s", k, i, len(a), len(b), a[i].repr, b[i].repr)
				break
			}
		}
		if len(a) != len(b) {
			t.Errorf("replay of %s: %d entries, live %d; first extra: %s", k, len(b), len(a), firstExtra(a, b))
		}
	}
}

func firstExtra(a, b []chaosEntry) string {
	if len(a) > len(b) {
		return "live " + a[len(b)].repr
	}
	return "replay " + b[len(a)].repr
}

// chaosCheckStream checks one core stream's deliveries against what the
// fake sent (invariants 1-3).
func chaosCheckStream(t *testing.T, s *chaosStream, key string, es []chaosEntry, futures, restFaulted bool) {
	t.Helper()
	switch s.kind {
	case ckTrade, ckAgg:
		want := source.KindTrade
		if s.kind == ckAgg {
			want = source.KindAggTrade
		}
		delivered := map[int64]bool{}
		var unfilled [][2]int64
		var last int64 = -1
		for _, e := range es {
			switch {
			case e.kind == want:
				if e.first <= last {
					t.Errorf("%s: id %d delivered after %d", key, e.first, last)
				}
				last = e.first
				delivered[e.first] = true
			case e.kind == source.KindStatus && e.status == market.StatusGapUnfilled:
				unfilled = append(unfilled, [2]int64{e.first, e.last})
			}
		}
		inUnfilled := func(id int64) bool {
			for _, r := range unfilled {
				if id >= r[0] && id <= r[1] {
					return true
				}
			}
			return false
		}
		missing := 0
		for _, id := range s.ids {
			if !delivered[id] && !inUnfilled(id) {
				if missing < 5 {
					t.Errorf("%s: id %d was sent but neither delivered nor reported unfilled", key, id)
				}
				missing++
			}
		}
		if !restFaulted {
			for _, r := range unfilled {
				forced := false
				for _, f := range s.forced {
					if r[0] <= f[1] && f[0] <= r[1] {
						forced = true
					}
				}
				if !forced {
					t.Errorf("%s: gap %d..%d reported unfilled though REST could serve it", key, r[0], r[1])
				}
			}
		}
	case ckDepth:
		var prev *chaosEntry
		gapSince := false
		for i := range es {
			e := &es[i]
			if e.kind == source.KindStatus && e.status == market.StatusGap {
				if prev != nil && e.first != prev.last+1 {
					t.Errorf("%s: gap reported from %d after u=%d", key, e.first, prev.last)
				}
				gapSince = true
				continue
			}
			if e.kind != source.KindDepthUpdate {
				continue
			}
			if prev != nil {
				if e.last <= prev.last {
					t.Errorf("%s: u %d after u %d", key, e.last, prev.last)
				}
				chained := e.first <= prev.last+1
				if futures {
					chained = e.prev == prev.last
				}
				if !chained && !gapSince {
					t.Errorf("%s: update U=%d u=%d pu=%d does not chain on u=%d and no gap was reported", key, e.first, e.last, e.prev, prev.last)
				}
			}
			prev, gapSince = e, false
		}
	case ckBook, ckKline:
		var last int64
		has := false
		for _, e := range es {
			if e.kind == source.KindStatus {
				continue
			}
			if has && e.last <= last {
				t.Errorf("%s: value %d after %d", key, e.last, last)
			}
			last, has = e.last, true
		}
		if !has {
			t.Errorf("%s: nothing delivered", key)
		}
	}
}

// chaosBook is a one-level book whose lastUpdateId is just before next.
func chaosBook(next int64) market.DepthSnapshot {
	return market.DepthSnapshot{LastUpdateID: next - 1,
		Bids: []market.Level{{Price: market.MustDecimal("1.0"), Quantity: market.MustDecimal("2")}},
		Asks: []market.Level{{Price: market.MustDecimal("1.1"), Quantity: market.MustDecimal("3")}}}
}

// chaosArray is an all-market array frame of two symbols at event time e.
func chaosArray(e int64, futures bool) []byte {
	es := strconv.FormatInt(e, 10)
	if futures {
		return []byte(`[{"e":"markPriceUpdate","E":` + es + `,"s":"BTCUSDT","p":"1.5","i":"1.4","P":"1.6","r":"0.0001","T":1},` +
			`{"e":"markPriceUpdate","E":` + es + `,"s":"ETHUSDT","p":"2.5","i":"2.4","P":"2.6","r":"0.0001","T":1}]`)
	}
	return []byte(`[{"e":"24hrMiniTicker","E":` + es + `,"s":"BTCUSDT","c":"1","o":"1","h":"1","l":"1","v":"1","q":"1"},` +
		`{"e":"24hrMiniTicker","E":` + es + `,"s":"ETHUSDT","c":"2","o":"2","h":"2","l":"2","v":"2","q":"2"}]`)
}

// A rotation's hand-over is a "promote" fill record; the replay changes the
// shard's roles there, as live did, not at the old connection's close
// (found by the chaos test: events the old connection still delivered
// were gap-checked as the primary's, so the replay reported gaps, and
// filled or deduplicated events differently, where live had not).
func TestReplayRotationHandOver(t *testing.T) {
	rec := newMemRecording(t, "spot", time.Millisecond)
	write := rec.put
	trade := func(id int) string {
		return `{"stream":"btcusdt@trade","data":` + strings.Replace(fdSpotTrade, `"t":40756030`, `"t":`+strconv.Itoa(id), 1) + `}`
	}
	url := "wss://stream.binance.com:9443/stream?streams=btcusdt@trade"
	write(record.KindOpen, 1, "shard 1", url)
	write(record.KindText, 1, "btcusdt@trade", trade(1))
	write(record.KindOpen, 2, "shard 1", url)
	write(record.KindText, 2, "btcusdt@trade", trade(1)) // overlaps
	write(record.KindText, 2, "btcusdt@trade", trade(2))
	write(record.KindFill, 2, "shard 1", "promote")
	write(record.KindText, 2, "btcusdt@trade", trade(3))
	write(record.KindText, 1, "btcusdt@trade", trade(5)) // the old one, no longer primary: no gap
	write(record.KindText, 2, "btcusdt@trade", trade(4))
	write(record.KindText, 2, "btcusdt@trade", trade(5))
	write(record.KindClose, 1, "", "rotated")
	write(record.KindText, 2, "btcusdt@trade", trade(6))
	col, _ := rec.replay(binance.Spot)
	if got := col.tradeIDs(); !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("replayed trades %v", got)
	}
	if n := col.countStatus(market.StatusGap); n != 0 {
		t.Fatalf("replay reported gaps: %s", fmtStatuses(col.statuses))
	}
}

// An Unsubscribe is an "unsubscribe" fill record; the replay forgets the
// stream's sequence there, as live does, so the events after a later
// Subscribe come out as live delivered them (found by the chaos test on
// streams subscribed and unsubscribed during rotations).
func TestReplayForgetsUnsubscribedStream(t *testing.T) {
	rec := newMemRecording(t, "spot", time.Millisecond)
	write := rec.put
	book := func(u int) string {
		return `{"stream":"btcusdt@bookTicker","data":{"u":` + strconv.Itoa(u) + `,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}}`
	}
	write(record.KindOpen, 1, "shard 1", "wss://stream.binance.com:9443/stream?streams=btcusdt@bookTicker")
	write(record.KindText, 1, "btcusdt@bookTicker", book(10))
	write(record.KindText, 1, "btcusdt@bookTicker", book(11))
	write(record.KindFill, 1, "btcusdt@bookTicker", "unsubscribe")
	write(record.KindText, 1, "btcusdt@bookTicker", book(7)) // after a new Subscribe: a first value
	write(record.KindText, 1, "btcusdt@bookTicker", book(8))
	col, _ := rec.replay(binance.Spot)
	var got []int64
	for _, b := range col.books {
		got = append(got, b.UpdateID)
	}
	if !slices.Equal(got, []int64{10, 11, 7, 8}) {
		t.Fatalf("replayed book tickers %v, want [10 11 7 8]", got)
	}
}
