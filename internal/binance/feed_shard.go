package binance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/record"
	"github.com/ims-dev/ims/internal/source"
)

// dedupGrace is how long after a connection opens (or takes over) a
// primary connection's out-of-date events are taken for duplicates; later
// they mean the exchange's sequence went backwards and are delivered.
const dedupGrace = 30 * time.Second

// shard is one connection slot: up to StreamsPerConn streams of one route,
// served by one primary connection (two while rotating). Its dmu serialises
// everything that touches stream state and every handler call, so events of
// one stream leave in order whichever connection delivered them.
type shard struct {
	feed  *Feed
	id    int
	route Route

	// guarded by feed.mu
	streams []StreamName
	cancel  context.CancelFunc

	dmu    sync.Mutex
	states map[StreamName]*streamState
	// all holds the subscribed all-market streams (their sequencing
	// state is per symbol) and whether the stream as a whole delivers.
	all       map[StreamName]*staleState
	primary   *conn
	secondary *conn
	graceTill time.Time // primary dups are duplicates until then
	statusBuf market.Status
	statusEv  source.Event
	fillEv    source.Event
	fillTrade market.Trade
	fillAgg   market.AggTrade
	stopped   bool
	replay    bool // streams are not subscribed: take whatever arrives
}

// streamState is the per-stream (per symbol, for all-market streams) state:
// sequencing, staleness and an ongoing backfill.
type streamState struct {
	key        StreamName
	ch         market.Channel
	symbol     market.Symbol
	has        bool
	last       int64
	syncedConn uint32 // a non-primary connection that proved it overlaps
	// aheadConn showed aheadVal first (a monotonic value, dropped until
	// it proves it overlaps): the primary delivering the same value is
	// that proof.
	aheadConn uint32
	aheadVal  int64
	// ahead holds copies of the values aheadConn showed that the primary
	// has not delivered yet, in order: at a hand-over they go out before
	// the new primary's next events, so a primary that lagged behind the
	// rotation's connection loses nothing when it is closed.
	ahead []source.Event
	// aheadCut is the newest value the maxAhead cap dropped from ahead
	// (0: none), to say so when a hand-over cannot deliver it.
	aheadCut int64
	snapID   int64 // update id of the last REST depth snapshot emitted
	// allStale is the all-market stream's own arrival state, for the
	// per-symbol states of such a stream (live only).
	allStale *staleState
	stale    staleState

	filling        bool
	fillEpoch      uint64
	gapFrom, gapTo int64
	trades         []market.Trade
	aggs           []market.AggTrade
}

func newShard(f *Feed, id int, r Route) *shard {
	sh := &shard{feed: f, id: id, route: r, states: make(map[StreamName]*streamState), all: make(map[StreamName]*staleState)}
	sh.statusEv = source.Event{Kind: source.KindStatus, Status: &sh.statusBuf}
	return sh
}

// add registers a stream; feed.mu held.
func (sh *shard) add(n StreamName) {
	sh.streams = append(sh.streams, n)
	sh.dmu.Lock()
	st := &streamState{key: n, ch: n.Channel, symbol: n.Symbol}
	st.stale.floor = sh.feed.cfg.StaleFloor(n)
	st.stale.since = sh.feed.now().UnixNano()
	if n.All {
		sh.all[n] = &st.stale
	} else {
		sh.states[n] = st
	}
	sh.dmu.Unlock()
}

// remove drops a stream; feed.mu held.
func (sh *shard) remove(n StreamName) {
	sh.streams = slices.DeleteFunc(sh.streams, func(x StreamName) bool { return x == n })
	sh.dmu.Lock()
	sh.forget(n)
	if w := sh.feed.cfg.Recorder; w != nil && !sh.replay {
		// The replay forgets the stream's sequence here too: frames after
		// a later Subscribe start it afresh, as live.
		var conn uint32
		if sh.primary != nil {
			conn = sh.primary.id
		}
		sh.feed.recordEventConn(conn, record.KindFill, n.AppendTo(nil), []byte(unsubscribeRecord))
	}
	sh.dmu.Unlock()
}

// unsubscribeRecord is the fill record's text for an Unsubscribe of its
// stream.
const unsubscribeRecord = "unsubscribe"

// forget drops a stream's sequencing state; dmu held.
func (sh *shard) forget(n StreamName) {
	delete(sh.all, n)
	for k := range sh.states {
		if k == n || (n.All && k.All && k.Channel == n.Channel && k.Speed == n.Speed && k.Levels == n.Levels) {
			delete(sh.states, k)
		}
	}
}

// liveConns are the connections requests must go to (not those being
// closed, as an abandoned rotation's is until its read loop ends); feed.mu
// held.
func (sh *shard) liveConns() []*conn {
	sh.dmu.Lock()
	defer sh.dmu.Unlock()
	var out []*conn
	for _, c := range []*conn{sh.primary, sh.secondary} {
		if c != nil && !c.isDone() && !c.closing.Load() {
			out = append(out, c)
		}
	}
	return out
}

// isPrimary reports whether c is the shard's primary connection.
func (sh *shard) isPrimary(c *conn) bool {
	sh.dmu.Lock()
	defer sh.dmu.Unlock()
	return sh.primary == c
}

func (sh *shard) primaryConn() *conn {
	sh.dmu.Lock()
	defer sh.dmu.Unlock()
	if sh.primary != nil && !sh.primary.isDone() {
		return sh.primary
	}
	return nil
}

// stop ends the shard's loop and its connections.
func (sh *shard) stop() {
	sh.feed.mu.Lock()
	cancel := sh.cancel
	sh.feed.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	sh.dmu.Lock()
	sh.stopped = true
	sh.dmu.Unlock()
}

// handleFrame parses one text frame and routes it: replies to the pending
// requests, shutdown notices to the rotation, events through delivery.
func (sh *shard) handleFrame(c *conn, b []byte, recv int64) {
	f := sh.feed
	fr, err := c.parser.Parse(b, recv)
	if err != nil {
		f.malformedErr(c, err, b)
		if fr == nil || !fr.More {
			sh.recordFrame(c, b, recv)
			return
		}
		// A bad first element of an array payload: the others still count.
		f.stats.frames.Add(1)
		sh.dmu.Lock()
		sh.recordFrame(c, b, recv)
		sh.deliverRest(c, fr, b, recv)
		sh.dmu.Unlock()
		return
	}
	switch fr.Type {
	case FrameResponse, FrameError:
		sh.recordFrame(c, b, recv)
		c.ack(fr)
	case FrameShutdown:
		sh.recordFrame(c, b, recv)
		f.log().Info("serverShutdown notice; rotating the connection", "conn", c.id, "shard", sh.id)
		c.markShutdown()
	case FrameEvent:
		f.stats.frames.Add(1)
		sh.dmu.Lock()
		// Recorded under dmu: during a rotation two connections deliver
		// the same events, and the replay must see them in the order they
		// were sequenced here (which one was delivered, which dropped), and
		// after the gap-fill records the events before them wrote.
		if !sh.replay && fr.HasStream && !sh.carries(fr.Stream) {
			// An unsubscribed stream's frames still in flight: dropped,
			// and not recorded, as a replay could not tell them apart.
			sh.dmu.Unlock()
			return
		}
		sh.recordFrame(c, b, recv)
		sh.deliver(c, fr, recv)
		sh.deliverRest(c, fr, b, recv)
		sh.dmu.Unlock()
	}
}

// carries reports whether stream is subscribed on the shard; dmu held.
func (sh *shard) carries(stream StreamName) bool {
	if stream.All {
		return sh.all[stream] != nil
	}
	return sh.states[stream] != nil
}

// recordFrame records a text frame of a live connection (a replay does not
// record what it plays).
func (sh *shard) recordFrame(c *conn, b []byte, recv int64) {
	if !sh.replay {
		sh.feed.recordFrame(c, record.KindText, b, recv)
	}
}

// deliverRest delivers the remaining elements of an array payload; a bad
// element is counted and skipped. dmu held.
func (sh *shard) deliverRest(c *conn, fr *Frame, b []byte, recv int64) {
	for fr.More {
		ok, err := c.parser.Next()
		if err != nil {
			sh.feed.malformedErr(c, err, b)
			continue
		}
		if !ok {
			break
		}
		sh.deliver(c, fr, recv)
	}
}

// malformedErr counts a parse failure by its kind.
func (f *Feed) malformedErr(c *conn, err error, frame []byte) {
	kind := "frame: " + err.Error()
	var pe *ParseError
	if errors.As(err, &pe) {
		kind = pe.Kind
	}
	f.malformed(c, kind, frame)
}

// deliver applies de-duplication, gap detection and staleness to one event
// and hands it on; dmu held.
func (sh *shard) deliver(c *conn, fr *Frame, recv int64) {
	f := sh.feed
	ev := &fr.Event
	if !fr.HasStream {
		f.malformed(c, "frame: event without a stream name", nil)
		return
	}
	hdr := ev.Header()
	if hdr == nil {
		f.malformed(c, "frame: event without a header", nil)
		return
	}
	key := fr.Stream
	if key.All {
		key.Symbol = hdr.Symbol
	}
	st := sh.states[key]
	if st == nil {
		if !sh.replay && (!key.All || sh.all[fr.Stream] == nil) {
			return // unsubscribed; frames still in flight
		}
		st = &streamState{key: key, ch: key.Channel, symbol: hdr.Symbol, allStale: sh.all[fr.Stream]}
		st.stale.floor = f.cfg.StaleFloor(fr.Stream)
		st.stale.since = f.now().UnixNano()
		sh.states[key] = st
	}
	if st.symbol.IsZero() {
		st.symbol = hdr.Symbol
	}
	c.markData()
	if st.allStale != nil && st.allStale.arrive(recv) {
		f.stats.recovered.Add(1)
		sh.status(market.Symbol{}, st.ch, market.StatusRecovered, 0, 0, fr.Stream.String()+" delivers again")
	}
	if st.stale.arrive(recv) {
		f.stats.recovered.Add(1)
		sh.status(st.symbol, st.ch, market.StatusRecovered, 0, 0, "stream delivers again")
	}
	v := seqOf(ev, f.cfg.Market.IsFutures())
	primary := c == sh.primary

	if st.filling {
		// A gap is being filled from REST: hold newer events in order; the
		// fill re-checks them afterwards.
		if v.last <= st.last {
			if !primary {
				// A copy of what the primary delivered: the rotation's
				// connection overlaps it.
				st.syncedConn = c.id
				c.markSynced()
			}
			f.stats.duplicates.Add(1)
			return
		}
		if !primary {
			if r, _, _ := classify(v, true, st.last); r != seqNext {
				return
			}
			st.syncedConn = c.id
			c.markSynced()
		}
		st.last = v.last
		sh.hold(st, ev)
		return
	}

	res, from, to := classify(v, st.has, st.last)
	switch res {
	case seqDup:
		if !primary {
			st.syncedConn = c.id
			c.markSynced()
			f.stats.duplicates.Add(1)
			return
		}
		if sh.secondary != nil || sh.inGrace(recv) {
			f.stats.duplicates.Add(1)
			return
		}
		f.stats.sequenceResets.Add(1)
		f.log().Warn("sequence went backwards on the primary connection; delivering", "stream", key.String(),
			"last", st.last, "got", v.last, "conn", c.id)
	case seqGap:
		if !primary {
			return // the primary connection has the missing events
		}
		sh.gap(st, ev, v, from, to)
		return
	case seqNext:
		if !primary {
			if v.kind == seqMonotonic && (c != sh.secondary || st.syncedConn != c.id) {
				// Not yet known to overlap: the primary delivers it, and
				// a copy waits in case the primary is handed over first.
				// A connection handed over already delivers nothing here:
				// the new primary has these values, and one of them
				// delivered early would make those before it duplicates.
				if c == sh.secondary {
					sh.holdAhead(st, c, ev)
					st.aheadConn, st.aheadVal = c.id, v.last
				}
				return
			}
			st.syncedConn = c.id
			c.markSynced()
		} else if s := sh.secondary; s != nil && st.aheadConn == s.id && st.aheadVal == v.last {
			// The rotation's connection showed this very event first.
			st.syncedConn = s.id
			s.markSynced()
		}
	}
	st.has, st.last = true, v.last
	if len(st.ahead) > 0 {
		st.trimAhead(f.cfg.Market.IsFutures())
	}
	sh.emit(ev)
}

// maxAhead bounds the copies a stream keeps of a rotation's connection's
// values the primary has not delivered yet: the primary lagging further
// behind than this is not a hand-over any more.
const maxAhead = 1024

// holdAhead keeps a copy of ev, shown first by the rotation's connection c;
// dmu held.
func (sh *shard) holdAhead(st *streamState, c *conn, ev *source.Event) {
	if st.aheadConn != c.id {
		clear(st.ahead) // another connection's: their memory can go
		st.ahead = st.ahead[:0]
		st.aheadCut = 0
	}
	if len(st.ahead) == maxAhead {
		st.aheadCut = seqOf(&st.ahead[0], sh.feed.cfg.Market.IsFutures()).last
		st.ahead = append(st.ahead[:0], st.ahead[1:]...)
	}
	st.ahead = append(st.ahead, ev.Clone())
}

// trimAhead drops the held values the primary has now delivered.
func (st *streamState) trimAhead(futures bool) {
	n := 0
	for n < len(st.ahead) && seqOf(&st.ahead[n], futures).last <= st.last {
		n++
	}
	m := copy(st.ahead, st.ahead[n:])
	clear(st.ahead[m:]) // the dropped copies' memory can go
	st.ahead = st.ahead[:m]
}

// releaseAhead delivers, at c's promotion, the values c showed ahead of the
// old primary that it has not delivered, and forgets every other
// connection's; dmu held.
func (sh *shard) releaseAhead(c *conn) {
	futures := sh.feed.cfg.Market.IsFutures()
	for _, st := range sh.states {
		if len(st.ahead) == 0 {
			continue
		}
		if c != nil && st.aheadConn == c.id {
			if st.aheadCut > st.last {
				// Not silently: the old connection lagged more than
				// maxAhead values behind and the oldest copies went.
				sh.feed.log().Warn("rotation hand-over: values the old connection had not delivered were dropped (the new one was too far ahead)",
					"stream", st.key.String(), "symbol", st.symbol.String(), "delivered_to", st.last, "dropped_to", st.aheadCut, "kept", maxAhead)
			}
			for i := range st.ahead {
				ev := &st.ahead[i]
				if v := seqOf(ev, futures).last; v > st.last {
					st.has, st.last = true, v
					sh.emit(ev)
				}
			}
		}
		// The copies' memory can go, and the room for them: up to
		// maxAhead events per symbol of an all-market stream.
		st.ahead, st.aheadCut = nil, 0
	}
}

// inGrace reports whether the primary connection is new enough for its
// out-of-date events to be duplicates: by the clock live, by the recorded
// receive time in a replay. dmu held.
func (sh *shard) inGrace(recv int64) bool {
	if sh.replay {
		return recv < sh.graceTill.UnixNano()
	}
	return sh.feed.now().Before(sh.graceTill)
}

// emit hands an event to the handler and counts it; dmu held.
func (sh *shard) emit(ev *source.Event) {
	f := sh.feed
	f.stats.events.Add(1)
	if int(ev.Channel) < len(f.stats.byChannel) {
		f.stats.byChannel[ev.Channel].Add(1)
	}
	f.cfg.Handler.HandleEvent(ev)
}

// status emits a Status event; dmu held.
func (sh *shard) status(sym market.Symbol, ch market.Channel, kind market.StatusKind, from, to int64, detail string) {
	f := sh.feed
	now := f.now()
	sh.statusBuf = market.Status{
		Header:  market.Header{Exchange: f.cfg.Market.Exchange(), Symbol: sym, EventTime: now.UnixMicro(), ReceiveTime: now.UnixNano()},
		Channel: ch, Kind: kind, GapFrom: from, GapTo: to, Detail: detail,
	}
	sh.statusEv.Channel = ch
	f.cfg.Handler.HandleEvent(&sh.statusEv)
}

// connStatus emits a connection-level Status (no symbol).
func (sh *shard) connStatus(kind market.StatusKind, detail string) {
	sh.dmu.Lock()
	defer sh.dmu.Unlock()
	sh.status(market.Symbol{}, market.ChannelNone, kind, 0, 0, detail)
}

// checkStale flags streams silent past their threshold.
func (sh *shard) checkStale(now int64) {
	sh.dmu.Lock()
	defer sh.dmu.Unlock()
	if sh.stopped {
		return
	}
	for n, s := range sh.all {
		if s.check(now) {
			sh.feed.stats.stale.Add(1)
			sh.status(market.Symbol{}, n.Channel, market.StatusStale, 0, 0,
				fmt.Sprintf("%s: nothing for %v", n.String(), time.Duration(now-max(s.lastAt, s.since)).Round(time.Millisecond)))
		}
	}
	for _, st := range sh.states {
		if st.stale.check(now) {
			sh.feed.stats.stale.Add(1)
			sh.status(st.symbol, st.ch, market.StatusStale, 0, 0,
				fmt.Sprintf("%s: nothing for %v", st.key.String(), time.Duration(now-max(st.stale.lastAt, st.stale.since)).Round(time.Millisecond)))
		}
	}
}

// setPrimary makes c the primary connection, as after a (re)connect.
func (sh *shard) setPrimary(c *conn) {
	sh.dmu.Lock()
	defer sh.dmu.Unlock()
	sh.primary = c
	sh.secondary = nil
	sh.graceTill = sh.feed.now().Add(dedupGrace)
	sh.releaseAhead(nil) // a failed rotation's copies
}

// setSecondary registers a rotation's new connection.
func (sh *shard) setSecondary(c *conn) {
	sh.dmu.Lock()
	defer sh.dmu.Unlock()
	sh.secondary = c
}

// promote hands the primary role to the secondary c and reports whether c
// has it: not when c ended first (its end took it off the secondary,
// before its close record, after which the replay could not promote it).
func (sh *shard) promote(c *conn) bool {
	sh.dmu.Lock()
	defer sh.dmu.Unlock()
	if sh.secondary != c {
		return sh.primary == c // promoted already when the old primary ended
	}
	sh.promoteLocked(c)
	return true
}

// primaryLost is called as connection c ends, before its close record.
// A primary's end hands the primary role to a rotation's connection at
// once (found by the chaos test: until the rotation noticed, the new
// connection's events were those of a secondary, and monotonic values it
// was first with were dropped, though no connection would deliver them any
// more). A rotation's connection ending stops being the secondary here,
// where the replay sees it go (its close record), not when the rotation
// gave it up: frames it read before its close still arrive.
func (sh *shard) primaryLost(c *conn) {
	sh.dmu.Lock()
	defer sh.dmu.Unlock()
	if sh.replay {
		return
	}
	if sh.secondary == c {
		sh.secondary = nil
		sh.releaseAhead(nil) // its copies: it cannot take over any more
		return
	}
	if sh.primary != c || sh.secondary == nil || sh.secondary.isDone() {
		return
	}
	sh.promoteLocked(sh.secondary)
}

// promoteLocked makes c the primary; dmu held.
func (sh *shard) promoteLocked(c *conn) {
	if sh.primary == c {
		return // promoted already when the old primary ended
	}
	sh.primary = c
	sh.secondary = nil
	sh.graceTill = sh.feed.now().Add(dedupGrace)
	sh.releaseAhead(c)
	if !sh.replay {
		// The old connection still delivers until it is closed; the
		// replay must change roles here too, not at its close record.
		sh.feed.recordEvent(c, record.KindFill, shardKey(sh.id), []byte(promoteRecord))
	}
}

// promoteRecord is the fill record's text for a rotation's hand-over: its
// connection becomes the shard's primary (the old one delivers on, as
// neither primary nor secondary, until its close record).
const promoteRecord = "promote"
