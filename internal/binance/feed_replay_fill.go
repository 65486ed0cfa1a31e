package binance

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/record"
)

// replayFills fills gaps during a Replay the way the recorded feed did:
// from the fill decisions (record.KindFill) and REST replies
// (record.KindREST) in the recording, so a replay has the same events,
// backfilled ones included, and the same gap statuses. Only the replay
// goroutine uses it; stream state is touched under the shard's dmu.
//
// The order a live feed writes guarantees what this relies on: a gap's
// decision is written while the frame that showed it is being handled, so
// it comes before the next record of that connection; a fill's replies come
// before its "end".
type replayFills struct {
	feed    *Feed
	pending []*replayGap // gaps whose decision has not been read yet
	open    []*replayGap // fills started and not yet ended
	// inFill is set while a fill record ends a fill: a gap found then,
	// among the released trades, was decided live by the fill's goroutine,
	// whose records may come after the connection's next frame.
	inFill bool
	// marked is set by a "fetch" record: the recording says which depth
	// snapshots went out ("snapshot ID"), so replies wait in snaps for
	// it. Recordings without such records deliver a reply where it is.
	marked bool
	snaps  map[market.Symbol][]market.DepthSnapshot
}

// replayGap is one gap being filled from the recording.
type replayGap struct {
	sh     *shard
	st     *streamState
	conn   uint32 // the connection the gap was seen on
	epoch  uint64
	trades []market.Trade
	aggs   []market.AggTrade
}

// await registers a gap just found on st; dmu held.
func (rf *replayFills) await(sh *shard, st *streamState) {
	g := &replayGap{sh: sh, st: st, epoch: st.fillEpoch}
	if sh.primary != nil && !rf.inFill {
		g.conn = sh.primary.id
	}
	rf.pending = append(rf.pending, g)
}

// live reports whether the fill is still the stream's current one (not
// abandoned, not unsubscribed); dmu held.
func (g *replayGap) live() bool {
	st := g.st
	return g.sh.states[st.key] == st && st.filling && st.fillEpoch == g.epoch
}

// unfilled ends a gap the recorded feed did not fill.
func (g *replayGap) unfilled(why string) {
	g.sh.dmu.Lock()
	defer g.sh.dmu.Unlock()
	if g.live() {
		g.sh.abandonFill(g.st, why)
	}
}

// complete ends a fill with the replies read for it.
func (g *replayGap) complete(errText string) {
	g.sh.dmu.Lock()
	defer g.sh.dmu.Unlock()
	if !g.live() {
		return
	}
	res := fillResult{trades: g.trades, aggs: g.aggs}
	if errText != "" {
		res.err = errors.New(errText)
	}
	g.sh.completeFill(g.st, res)
}

// beforeRecord settles the gaps of connection conn whose decision is not in
// the recording (one made without recording fills, or before ims recorded
// them): its next record has come, so none will follow.
func (rf *replayFills) beforeRecord(conn uint32) {
	if len(rf.pending) == 0 {
		return
	}
	rf.pending = slices.DeleteFunc(rf.pending, func(g *replayGap) bool {
		if g.conn != conn {
			return false
		}
		g.unfilled("the recording holds no fill for this gap")
		return true
	})
}

// take removes and returns the first gap in list on the stream key.
func take(list *[]*replayGap, key StreamName) *replayGap {
	for i, g := range *list {
		if g.st.key == key {
			*list = slices.Delete(*list, i, i+1)
			return g
		}
	}
	return nil
}

// fill applies a record.KindFill record; shards lists the replay's shards.
func (rf *replayFills) fill(rec *record.Record, shards func() []*shard) {
	verb, rest, _ := strings.Cut(string(rec.Data), " ")
	var key StreamName
	switch verb {
	case promoteRecord, unsubscribeRecord:
		// A rotation's hand-over, an Unsubscribe: Replay applies them.
		return
	case "nosnapshot", "start", "unfilled", "end", "abandon", "fetch", "snapshot":
		k, err := ParseStreamName(rec.Stream)
		if err != nil {
			rf.feed.log().Warn("replay: fill record of an unreadable stream; ignored", "stream", string(rec.Stream), "err", err)
			return
		}
		key = k
	}
	switch verb {
	case "fetch":
		rf.marked = true
	case "snapshot":
		// "snapshot ID RECV": the live feed delivered the reply with that
		// lastUpdateId, received at RECV, here.
		idText, recvText, _ := strings.Cut(strings.TrimSpace(rest), " ")
		id, err := strconv.ParseInt(idText, 10, 64)
		recv, rerr := strconv.ParseInt(recvText, 10, 64)
		if recvText == "" {
			recv, rerr = -1, nil // any reply with the id
		}
		if err != nil || rerr != nil {
			rf.feed.log().Warn("replay: unreadable snapshot record; ignored", "stream", string(rec.Stream), "data", string(rec.Data))
			return
		}
		for _, sh := range shards() {
			sh.dmu.Lock()
			if st := sh.states[key]; st != nil && st.ch == market.ChannelDepth {
				rf.deliverSnapshot(sh, st, id, recv)
			}
			sh.dmu.Unlock()
		}
	case "nosnapshot":
		// "nosnapshot FROM TO REASON": the REST snapshot after a depth
		// gap failed.
		from, to, why, _ := parseFillRange(rest)
		for _, sh := range shards() {
			sh.dmu.Lock()
			if st := sh.states[key]; st != nil && st.ch == market.ChannelDepth {
				sh.snapshotFailed(st, from, to, why)
			}
			sh.dmu.Unlock()
		}
	case "start":
		if g := take(&rf.pending, key); g != nil {
			if from, to, _, ok := parseFillRange(rest); ok && (from != g.st.gapFrom || to != g.st.gapTo) {
				rf.feed.log().Warn("replay: the recorded fill covers another range than the replayed gap",
					"stream", string(rec.Stream), "recorded", rest, "from", g.st.gapFrom, "to", g.st.gapTo)
			}
			rf.open = append(rf.open, g)
		}
	case "unfilled":
		// "unfilled FROM TO REASON"
		_, _, why, _ := parseFillRange(rest)
		if why == "" {
			why = "unfilled"
		}
		if g := take(&rf.pending, key); g != nil {
			rf.ending(func() { g.unfilled(why) })
		}
	case "end":
		if g := take(&rf.open, key); g != nil {
			rf.ending(func() { g.complete(rest) })
		}
	case "abandon":
		g := take(&rf.open, key)
		if g == nil {
			g = take(&rf.pending, key)
		}
		if g != nil {
			rf.ending(func() { g.unfilled(rest) })
		}
	default:
		rf.feed.log().Warn("replay: unknown fill record; ignored", "stream", string(rec.Stream), "data", string(rec.Data))
	}
}

// reply applies a record.KindREST record: trades for the open fill of their
// symbol and channel, a depth snapshot to the shard with that symbol's
// depth stream (shards lists the replay's shards).
func (rf *replayFills) reply(rec *record.Record, shards []*shard) {
	f := rf.feed
	endpoint, query, _ := strings.Cut(string(rec.Stream), "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		f.log().Warn("replay: REST record with an unreadable request; ignored", "request", string(rec.Stream), "err", err)
		return
	}
	var sym market.Symbol
	if !sym.SetString(q.Get("symbol")) {
		f.log().Warn("replay: REST record without a symbol; ignored", "request", string(rec.Stream))
		return
	}
	ch := market.ChannelTrade
	switch endpoint {
	case "aggTrades":
		ch = market.ChannelAggTrade
	case "trades", "historicalTrades":
	case "depth":
		if rf.marked {
			var snap market.DepthSnapshot
			if err := ParseDepthSnapshot(f.cfg.Market, rec.Data, rec.Time, &snap); err != nil {
				f.log().Warn("replay: recorded depth reply does not parse; ignored", "request", string(rec.Stream), "err", err)
				return
			}
			if rf.snaps == nil {
				rf.snaps = make(map[market.Symbol][]market.DepthSnapshot)
			}
			rf.snaps[sym] = append(rf.snaps[sym], snap)
			return
		}
		rf.snapshot(rec, sym, shards)
		return
	default:
		return
	}
	var g *replayGap
	for _, o := range rf.open {
		if o.st.ch == ch && o.st.symbol == sym {
			g = o
			break
		}
	}
	if g == nil {
		return // a fill already ended or abandoned: nothing waits for it
	}
	if ch == market.ChannelAggTrade {
		as, err := ParseAggTrades(f.cfg.Market, sym, rec.Data, rec.Time)
		if err != nil {
			f.log().Warn("replay: recorded aggTrades reply does not parse; ignored", "request", string(rec.Stream), "err", err)
			return
		}
		g.aggs = append(g.aggs, as...)
		return
	}
	ts, err := ParseTrades(f.cfg.Market, sym, rec.Data, rec.Time)
	if err != nil {
		f.log().Warn("replay: recorded trades reply does not parse; ignored", "request", string(rec.Stream), "err", err)
		return
	}
	g.trades = append(g.trades, ts...)
}

// snapshot emits a recorded depth reply as the DepthSnapshot event the live
// feed delivered, on the shard that carries sym's depth stream.
func (rf *replayFills) snapshot(rec *record.Record, sym market.Symbol, shards []*shard) {
	f := rf.feed
	for _, sh := range shards {
		sh.dmu.Lock()
		var st *streamState
		for _, s := range sh.states {
			if s.ch == market.ChannelDepth && s.symbol == sym {
				st = s
				break
			}
		}
		if st == nil {
			sh.dmu.Unlock()
			continue
		}
		var snap market.DepthSnapshot
		if err := ParseDepthSnapshot(f.cfg.Market, rec.Data, rec.Time, &snap); err != nil {
			sh.dmu.Unlock()
			f.log().Warn("replay: recorded depth reply does not parse; ignored", "request", string(rec.Stream), "err", err)
			return
		}
		sh.emitSnapshot(st, &snap, rec.Time)
		sh.dmu.Unlock()
		return
	}
}

// deliverSnapshot emits the waiting reply for st's symbol whose
// lastUpdateId is id and receive time recv (-1: any), as the live feed did
// at this point, and forgets the replies it made stale; dmu held.
func (rf *replayFills) deliverSnapshot(sh *shard, st *streamState, id, recv int64) {
	list := rf.snaps[st.symbol]
	i := slices.IndexFunc(list, func(s market.DepthSnapshot) bool {
		return s.LastUpdateID == id && (recv < 0 || s.ReceiveTime == recv)
	})
	if i < 0 {
		rf.feed.log().Warn("replay: a delivered depth snapshot's reply is not in the recording", "symbol", st.symbol.String(), "lastUpdateId", id)
		return
	}
	snap := list[i]
	rf.snaps[st.symbol] = slices.DeleteFunc(list, func(s market.DepthSnapshot) bool { return s.LastUpdateID <= id })
	sh.emitSnapshot(st, &snap, snap.ReceiveTime)
}

// finish settles what the recording left open when it ended.
func (rf *replayFills) finish() {
	for _, g := range rf.pending {
		g.unfilled("the recording holds no fill for this gap")
	}
	for _, g := range rf.open {
		g.complete("the recording ends before the fill completed")
	}
	rf.pending, rf.open = nil, nil
}

// ending runs end, the close of a fill by a fill record: a gap found
// meanwhile, among the released trades, was decided live by the fill's
// goroutine (see inFill).
func (rf *replayFills) ending(end func()) {
	rf.inFill = true
	end()
	rf.inFill = false
}

// parseFillRange reads "FROM TO [REASON]".
func parseFillRange(s string) (from, to int64, why string, ok bool) {
	a, rest, _ := strings.Cut(s, " ")
	b, why, _ := strings.Cut(rest, " ")
	from, err1 := strconv.ParseInt(a, 10, 64)
	to, err2 := strconv.ParseInt(b, 10, 64)
	return from, to, why, err1 == nil && err2 == nil
}
