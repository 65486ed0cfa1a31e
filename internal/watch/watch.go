// Package watch runs a Binance feed (live or replayed from a recording) and
// prints every normalized event: the logic of `ims watch`. Events are
// encoded to their ims SBE messages and rendered with the generated
// renderers, so the output is the format `ims decode` prints.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/log"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/record"
	"github.com/ims-dev/ims/internal/source"
)

// Config is one watch run. Zero values take the defaults noted.
type Config struct {
	// Market is the market watched; on replay it must match the
	// recording's header (the caller takes it from there).
	Market binance.Market
	// Streams are the streams subscribed live. On replay they filter what
	// is printed (see Filter); empty prints everything.
	Streams []binance.StreamName
	// Out receives the events in Format.
	Out    io.Writer
	Format Format
	// Count stops after this many market events (0: no limit); Duration
	// after this long (0: no limit). Status markers do not count.
	Count    int64
	Duration time.Duration
	// Logger gets connection events, warnings and the summary (nil:
	// discard).
	Logger *log.Logger
	// StatsInterval logs the counters this often (0: only at the end).
	StatsInterval time.Duration
	// FlushInterval bounds how long an event waits in the output buffer
	// (default 100 ms).
	FlushInterval time.Duration

	// WSURL and RESTURL override the market's endpoints (live).
	WSURL   string
	RESTURL string
	// RESTTimeout bounds each REST request, and the symbol check before
	// connecting (default 30 s).
	RESTTimeout time.Duration
	// Backfill fills trade and aggTrade gaps from REST.
	Backfill bool
	// DepthSnapshots, when positive, fetches a REST depth snapshot of that
	// many levels after a depth gap.
	DepthSnapshots int
	// ConnectTimeout fails the run when the feed's connections are not all
	// open this long after the start (0: wait for ever; the feed retries
	// with backoff). Later losses are reconnected without limit.
	ConnectTimeout time.Duration
	// RecordPath, when set, records every raw frame there (live).
	RecordPath string
	// Feed tunes the websocket feed (tests shorten its intervals); Market,
	// WSURL, Handler, Logger, Recorder, Backfill and DepthSnapshotOnGap
	// are set by Run.
	Feed binance.FeedConfig

	// Replay, when set, plays this recording instead of connecting
	// anywhere, at Speed × the recorded pace (0: as fast as possible).
	Replay *record.Reader
	Speed  float64
}

// Stop reasons reported in Summary.Stopped.
const (
	StopCanceled = "canceled"         // the caller's context ended (signal)
	StopCount    = "count reached"    // Config.Count events printed
	StopDuration = "duration elapsed" // Config.Duration passed
	StopEnd      = "end of recording" // the replay reached the end
	StopFailed   = "failed"
)

// Summary is what a run did.
type Summary struct {
	Stopped  string
	Elapsed  time.Duration
	Printer  PrinterStats
	Feed     binance.FeedStats
	Recorded *record.Stats // nil when not recording
}

// ErrConnectTimeout is wrapped by the error of a run whose connections did
// not open within Config.ConnectTimeout.
var ErrConnectTimeout = errors.New("websocket connection not established in time")

var (
	errCount    = errors.New(StopCount)
	errDuration = errors.New(StopDuration)
)

// errBackfillOff answers trade backfills when only depth snapshots were
// asked for.
var errBackfillOff = errors.New("trade backfill is off (--backfill=false)")

// depthOnly is the REST client as a backfiller that fetches depth
// snapshots but no trades.
type depthOnly struct{ *binance.Client }

func (depthOnly) AggTradesFrom(_ context.Context, _ string, _ int64, _ int, dst []market.AggTrade) ([]market.AggTrade, error) {
	return dst, errBackfillOff
}

func (depthOnly) TradesFrom(_ context.Context, _ string, _ int64, _ int, dst []market.Trade) ([]market.Trade, error) {
	return dst, errBackfillOff
}

// Run watches until ctx ends, Count events were printed, Duration passed
// or a replay ends, and returns what it did. It logs a one-line summary.
// Errors: the symbol check fails (a *source.UnknownSymbolsError names the
// unknown ones), the connections do not open in time (ErrConnectTimeout),
// the output or the recording cannot be written, the recording cannot be
// read. A replay ending at a torn final block is not an error (it is
// logged).
func Run(ctx context.Context, cfg Config) (Summary, error) {
	if cfg.Logger == nil {
		cfg.Logger = log.New(io.Discard)
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 100 * time.Millisecond
	}
	if cfg.RESTTimeout <= 0 {
		cfg.RESTTimeout = 30 * time.Second
	}
	if !cfg.Market.Valid() {
		return Summary{Stopped: StopFailed}, fmt.Errorf("watch: %w %d", binance.ErrUnknownMarket, cfg.Market)
	}
	if cfg.Out == nil {
		return Summary{Stopped: StopFailed}, errors.New("watch: no output")
	}
	w := &watcher{cfg: cfg, log: cfg.Logger, start: time.Now()}
	if cfg.Replay != nil {
		return w.replay(ctx)
	}
	return w.live(ctx)
}

type watcher struct {
	cfg     Config
	log     *log.Logger
	start   time.Time
	printer *Printer
	feed    *binance.Feed
	rec     *record.Writer
}

// newRun derives the run's context (cancelled with a cause by the count,
// the duration and output errors) and builds the printer.
func (w *watcher) newRun(ctx context.Context, filter *Filter) (context.Context, context.CancelCauseFunc, func()) {
	runCtx, cancel := context.WithCancelCause(ctx)
	stopTimer := func() {}
	if w.cfg.Duration > 0 {
		t := time.AfterFunc(w.cfg.Duration, func() { cancel(errDuration) })
		stopTimer = func() { t.Stop() }
	}
	w.printer = NewPrinter(w.cfg.Out, PrinterOptions{
		Format:  w.cfg.Format,
		Filter:  filter,
		Count:   w.cfg.Count,
		OnCount: func() { cancel(errCount) },
		OnError: func(err error) { cancel(err) },
		Logger:  w.log,
	})
	return runCtx, cancel, stopTimer
}

func (w *watcher) live(ctx context.Context) (Summary, error) {
	cfg := w.cfg
	m := cfg.Market
	if len(cfg.Streams) == 0 {
		return Summary{Stopped: StopFailed}, errors.New("watch: no streams")
	}
	if cfg.DepthSnapshots > 0 {
		if _, err := m.DepthWeight(cfg.DepthSnapshots); err != nil {
			return Summary{Stopped: StopFailed}, fmt.Errorf("depth snapshots: %w", err)
		}
	}
	// A recording keeps the REST replies the feed fills gaps with, so its
	// replay has the same events; the feed exists only after the client.
	var recFeed atomic.Pointer[binance.Feed]
	client, err := binance.NewClient(m, binance.ClientOptions{
		BaseURL:    cfg.RESTURL,
		HTTPClient: &http.Client{Timeout: cfg.RESTTimeout},
		OnReply: func(request string, body []byte, recv int64) {
			if f := recFeed.Load(); f != nil {
				f.RecordReply(request, body, recv)
			}
		},
	})
	if err != nil {
		return Summary{Stopped: StopFailed}, fmt.Errorf("REST client: %w", err)
	}

	// Check the symbols before opening any connection: Binance accepts a
	// stream of an unknown symbol and simply never sends anything.
	w.log.Debug("checking symbols", "market", m, "url", client.BaseURL()+m.RESTPrefix()+"/exchangeInfo")
	vctx, vcancel := context.WithTimeout(ctx, cfg.RESTTimeout)
	info, err := client.ExchangeInfo(vctx)
	vcancel()
	if err != nil {
		if ctx.Err() != nil {
			return w.finish(StopCanceled, nil)
		}
		return Summary{Stopped: StopFailed}, fmt.Errorf("checking symbols against %s exchangeInfo: %w", m, err)
	}
	notTrading, err := CheckSymbols(info, cfg.Streams)
	if err != nil {
		return Summary{Stopped: StopFailed}, err
	}
	if len(notTrading) > 0 {
		w.log.Warn("symbols exist but do not trade now; their streams may stay silent", "symbols", strings.Join(notTrading, ", "))
	}

	if cfg.RecordPath != "" {
		w.rec, err = record.Create(cfg.RecordPath, record.WriterOptions{Market: m.String()})
		if err != nil {
			return Summary{Stopped: StopFailed}, err
		}
	}

	runCtx, cancel, stopTimer := w.newRun(ctx, nil)
	defer cancel(nil)
	defer stopTimer()

	// Every shard reports Connected once, on its first connection; shards
	// is set before Run starts the feed, so the handler reads it safely.
	var (
		connected atomic.Int64
		shards    int64
		allOpen   = make(chan struct{})
	)
	handler := source.HandlerFunc(func(ev *source.Event) {
		if ev.Kind == source.KindStatus && ev.Status != nil && ev.Status.Kind == market.StatusConnected {
			if connected.Add(1) == shards {
				close(allOpen)
			}
		}
		w.printer.HandleEvent(ev)
	})

	fc := cfg.Feed
	fc.Market, fc.WSURL, fc.Handler, fc.Logger = m, cfg.WSURL, handler, w.log
	fc.Recorder = w.rec
	fc.Backfill, fc.DepthSnapshotOnGap = nil, 0
	switch {
	case cfg.Backfill:
		fc.Backfill = client
	case cfg.DepthSnapshots > 0:
		fc.Backfill = depthOnly{client}
	}
	if cfg.DepthSnapshots > 0 {
		fc.DepthSnapshotOnGap = cfg.DepthSnapshots
	}
	feed, err := binance.NewFeed(fc)
	if err != nil {
		return w.finish(StopFailed, err)
	}
	w.feed = feed
	recFeed.Store(feed)
	// Before Run, Subscribe only places the streams in the connection URLs.
	if err := feed.Subscribe(ctx, cfg.Streams...); err != nil {
		return w.finish(StopFailed, fmt.Errorf("subscribing: %w", err))
	}
	shards = int64(feed.Shards())
	w.log.Info("watching", "market", m, "streams", len(cfg.Streams), "connections", shards, "format", cfg.Format)
	w.log.Debug("streams", "list", StreamList(cfg.Streams))

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = feed.Run(runCtx) // returns nil once runCtx ends and every connection is closed
	}()

	var connectTimeout <-chan time.Time
	if cfg.ConnectTimeout > 0 {
		t := time.NewTimer(cfg.ConnectTimeout)
		defer t.Stop()
		connectTimeout = t.C
	}
	runErr := w.loop(done, allOpen, connectTimeout, func() error {
		return fmt.Errorf("%w: %d of %d connections to the %s websocket (%s) open after %v; see the warnings above",
			ErrConnectTimeout, connected.Load(), shards, m, wsBase(m, cfg.WSURL), cfg.ConnectTimeout)
	}, cancel)
	<-done
	return w.finish(w.reason(ctx, runCtx, runErr, ""), runErr)
}

func (w *watcher) replay(ctx context.Context) (Summary, error) {
	cfg := w.cfg
	runCtx, cancel, stopTimer := w.newRun(ctx, NewFilter(cfg.Streams))
	defer cancel(nil)
	defer stopTimer()
	fc := cfg.Feed
	fc.Market, fc.Handler, fc.Logger = cfg.Market, w.printer, w.log
	fc.WSURL, fc.Recorder, fc.Backfill, fc.DepthSnapshotOnGap = "", nil, nil, 0
	feed, err := binance.NewFeed(fc)
	if err != nil {
		return w.finish(StopFailed, err)
	}
	w.feed = feed
	h := cfg.Replay.Header()
	w.log.Info("replaying", "market", cfg.Market, "recorded", time.Unix(0, h.Created).UTC().Format(time.RFC3339), "speed", speedText(cfg.Speed), "format", cfg.Format)

	done := make(chan struct{})
	var replayErr error
	go func() {
		defer close(done)
		replayErr = feed.Replay(runCtx, cfg.Replay, cfg.Speed)
	}()
	runErr := w.loop(done, nil, nil, nil, cancel)
	<-done
	if runErr == nil && replayErr != nil {
		runErr = replayErr
	}
	end := ""
	if runCtx.Err() == nil {
		end = StopEnd
	}
	return w.finish(w.reason(ctx, runCtx, runErr, end), runErr)
}

// loop flushes the output, logs the counters and watches the connect
// deadline until done closes. It returns the error that ends the run
// early, if any (and cancels the run with it).
func (w *watcher) loop(done, allOpen <-chan struct{}, connectTimeout <-chan time.Time,
	timeoutErr func() error, cancel context.CancelCauseFunc) error {
	flush := time.NewTicker(w.cfg.FlushInterval)
	defer flush.Stop()
	var statsC <-chan time.Time
	if w.cfg.StatsInterval > 0 {
		t := time.NewTicker(w.cfg.StatsInterval)
		defer t.Stop()
		statsC = t.C
	}
	var failed error
	for {
		select {
		case <-done:
			return failed
		case <-flush.C:
			if err := w.printer.Flush(); err != nil && failed == nil {
				failed = err
				cancel(err)
			}
		case <-statsC:
			w.log.Info("watch stats", w.summary("").KeyVals()...)
		case <-allOpen:
			allOpen, connectTimeout = nil, nil
		case <-connectTimeout:
			connectTimeout = nil
			if failed == nil {
				failed = timeoutErr()
				cancel(failed)
			}
		}
	}
}

// reason names why the run stopped.
func (w *watcher) reason(parent, runCtx context.Context, runErr error, end string) string {
	switch {
	case runErr != nil:
		return StopFailed
	case end != "":
		return end
	}
	cause := context.Cause(runCtx)
	switch {
	case errors.Is(cause, errCount):
		return StopCount
	case errors.Is(cause, errDuration):
		return StopDuration
	case parent.Err() != nil:
		return StopCanceled
	case cause != nil && !errors.Is(cause, context.Canceled):
		return StopFailed
	}
	return StopCanceled
}

// finish closes the recording, flushes the output and logs the summary.
func (w *watcher) finish(stopped string, err error) (Summary, error) {
	if w.rec != nil {
		if cerr := w.rec.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing the recording %s: %w", w.cfg.RecordPath, cerr))
			stopped = StopFailed
		}
	}
	if w.printer != nil {
		if ferr := w.printer.Flush(); ferr != nil && err == nil {
			err, stopped = ferr, StopFailed
		} else if perr := w.printer.Err(); perr != nil && err == nil {
			err, stopped = perr, StopFailed
		}
	}
	s := w.summary(stopped)
	w.log.Info("watch stopped", s.KeyVals()...)
	return s, err
}

func (w *watcher) summary(stopped string) Summary {
	s := Summary{Stopped: stopped, Elapsed: time.Since(w.start)}
	if w.printer != nil {
		s.Printer = w.printer.Stats()
	}
	if w.feed != nil {
		s.Feed = w.feed.Stats()
	}
	if w.rec != nil {
		rs := w.rec.Stats()
		s.Recorded = &rs
	}
	return s
}

// KeyVals renders the summary as logger key-value pairs: how it stopped,
// frames, events by channel, what was printed, malformed frames,
// connection changes, gaps, backfill, staleness and the recording.
func (s Summary) KeyVals() []any {
	kv := make([]any, 0, 48)
	if s.Stopped != "" {
		kv = append(kv, "stopped", s.Stopped)
	}
	f := &s.Feed
	kv = append(kv,
		"elapsed", s.Elapsed.Round(time.Millisecond),
		"frames", f.Frames,
		"events", f.Events,
		"by_channel", ChannelCounts(f.EventsByChannel),
		"printed", s.Printer.Events,
		"markers", s.Printer.Markers,
		"malformed", f.Malformed,
		"connects", f.Connects,
		"reconnects", f.Reconnects,
		"disconnects", f.Disconnects,
		"gaps", f.Gaps,
		"filled", f.GapsFilled,
		"unfilled", f.GapsUnfilled,
		"backfilled", f.Backfilled,
		"stale", f.Stale,
		"recovered", f.Recovered,
	)
	if f.Duplicates > 0 {
		kv = append(kv, "duplicates", f.Duplicates)
	}
	if f.Snapshots > 0 {
		kv = append(kv, "snapshots", f.Snapshots)
	}
	if s.Printer.Filtered > 0 {
		kv = append(kv, "filtered", s.Printer.Filtered)
	}
	if s.Printer.Unencodable > 0 {
		kv = append(kv, "unencodable", s.Printer.Unencodable)
	}
	if s.Recorded != nil {
		kv = append(kv, "recorded_frames", s.Recorded.Records+int64(s.Recorded.Pending), "recorded_bytes", s.Recorded.Bytes)
	}
	if f.RecordErrors > 0 {
		kv = append(kv, "record_errors", f.RecordErrors)
	}
	return kv
}

// ChannelCounts renders per-channel counts as "trade=10 depth=4", in
// channel order; "-" when there are none.
func ChannelCounts(m map[market.Channel]int64) string {
	chs := make([]market.Channel, 0, len(m))
	for ch := range m {
		chs = append(chs, ch)
	}
	if len(chs) == 0 {
		return "-"
	}
	slices.Sort(chs)
	var b strings.Builder
	for i, ch := range chs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(ch.String())
		b.WriteByte('=')
		b.WriteString(strconv.FormatInt(m[ch], 10))
	}
	return b.String()
}

func speedText(s float64) string {
	if s <= 0 {
		return "max"
	}
	return strconv.FormatFloat(s, 'g', -1, 64) + "x"
}

// wsBase is the websocket base URL in use, for errors.
func wsBase(m binance.Market, override string) string {
	if override != "" {
		return override
	}
	return m.DefaultWSBase()
}
