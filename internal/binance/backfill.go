package binance

import (
	"context"
	"fmt"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

// Backfiller fetches what the websocket missed. The REST client implements
// it (aggTrades and historicalTrades by fromId, depth); it must keep within
// the market's request-weight budget and return an error when it cannot.
type Backfiller interface {
	// AggTradesFrom appends aggregate trades of symbol with ids from fromID
	// on (at most limit, ascending) to dst.
	AggTradesFrom(ctx context.Context, symbol string, fromID int64, limit int, dst []market.AggTrade) ([]market.AggTrade, error)
	// TradesFrom appends trades with ids from fromID on to dst.
	TradesFrom(ctx context.Context, symbol string, fromID int64, limit int, dst []market.Trade) ([]market.Trade, error)
	// DepthSnapshot fetches the order book (limit levels a side) into dst.
	DepthSnapshot(ctx context.Context, symbol string, limit int, dst *market.DepthSnapshot) error
}

// backfillPage is the most ids one REST call asks for (Binance's maximum).
const backfillPage = 1000

// gap handles a hole on the primary connection: report it, then fill it
// from REST (trades, aggregate trades) while holding the live events behind
// it, or hand the event on (depth, after which the consumer re-snapshots);
// dmu held.
func (sh *shard) gap(st *streamState, ev *source.Event, v seqVal, from, to int64) {
	f := sh.feed
	f.stats.gaps.Add(1)
	sh.status(st.symbol, st.ch, market.StatusGap, from, to, st.key.String())
	st.has, st.last = true, v.last
	switch {
	case backfillable(st.ch) && f.replayFills != nil && sh.replay:
		// Replaying: the recording says, right after this frame, how the
		// live feed filled the gap (record.KindFill) and holds the REST
		// replies it used.
		st.filling = true
		st.fillEpoch++
		st.gapFrom, st.gapTo = from, to
		f.replayFills.await(sh, st)
		sh.hold(st, ev)
		return
	case backfillable(st.ch):
		why := ""
		switch {
		case f.cfg.Backfill == nil:
			why = "no REST backfill configured"
		case to-from+1 > f.cfg.MaxBackfill:
			why = fmt.Sprintf("gap of %d ids exceeds the backfill limit of %d", to-from+1, f.cfg.MaxBackfill)
		}
		if why != "" {
			sh.recordFill(st, "unfilled %d %d %s", from, to, why)
			f.stats.gapsUnfilled.Add(1)
			sh.status(st.symbol, st.ch, market.StatusGapUnfilled, from, to, why)
			sh.emit(ev)
			return
		}
		st.filling = true
		st.fillEpoch++
		st.gapFrom, st.gapTo = from, to
		sh.recordFill(st, "start %d %d", from, to)
		sh.hold(st, ev)
		sh.startFill(st)
		return
	case st.ch == market.ChannelDepth && f.cfg.DepthSnapshotOnGap > 0 && f.cfg.Backfill != nil:
		// Recorded so a replay knows the recording marks the snapshots it
		// delivered ("snapshot ID"): replies to fetches close together
		// can be recorded in one order and delivered in the other.
		sh.recordFill(st, "fetch %d %d", from, to)
		sh.startSnapshot(st, from, to)
	}
	sh.emit(ev)
}

// hold keeps a copy of a live event while its stream is being filled; a
// full buffer abandons the fill. dmu held.
func (sh *shard) hold(st *streamState, ev *source.Event) {
	switch ev.Kind {
	case source.KindTrade:
		st.trades = append(st.trades, *ev.Trade)
	case source.KindAggTrade:
		st.aggs = append(st.aggs, *ev.AggTrade)
	default:
		sh.emit(ev)
		return
	}
	if len(st.trades)+len(st.aggs) >= sh.feed.cfg.MaxBuffered {
		why := fmt.Sprintf("gave up: %d live events held while filling", sh.feed.cfg.MaxBuffered)
		sh.recordFill(st, "abandon %s", why)
		sh.abandonFill(st, why)
	}
}

// abandonFill ends st's fill without its REST data: the gap is reported
// unfilled and the held events go out; dmu held.
func (sh *shard) abandonFill(st *streamState, why string) {
	sh.feed.stats.gapsUnfilled.Add(1)
	st.fillEpoch++ // the fetch's result will be ignored
	st.filling = false
	// The held events continue from the hole, not from the newest of them
	// (which st.last tracks while filling), or release would take them all
	// for duplicates.
	st.last = st.gapTo
	sh.status(st.symbol, st.ch, market.StatusGapUnfilled, st.gapFrom, st.gapTo, why)
	sh.release(st)
}

// release re-delivers held events through the sequence checks (which may
// find and start filling the next gap); dmu held.
func (sh *shard) release(st *streamState) {
	trades, aggs := st.trades, st.aggs
	st.trades, st.aggs = nil, nil
	for i := range trades {
		sh.redeliver(st, source.Event{Kind: source.KindTrade, Channel: st.ch, Trade: &trades[i]})
	}
	for i := range aggs {
		sh.redeliver(st, source.Event{Kind: source.KindAggTrade, Channel: st.ch, AggTrade: &aggs[i]})
	}
}

func (sh *shard) redeliver(st *streamState, ev source.Event) {
	if st.filling {
		sh.hold(st, &ev)
		return
	}
	v := seqOf(&ev, false)
	res, from, to := classify(v, st.has, st.last)
	switch res {
	case seqDup:
		sh.feed.stats.duplicates.Add(1)
		return
	case seqGap:
		sh.gap(st, &ev, v, from, to)
		return
	}
	st.has, st.last = true, v.last
	sh.emit(&ev)
}

// fillResult is what a REST fill fetched.
type fillResult struct {
	trades []market.Trade
	aggs   []market.AggTrade
	err    error
}

// startFill fetches st's gap in the background and completes it under dmu.
func (sh *shard) startFill(st *streamState) {
	f := sh.feed
	epoch, key, ch := st.fillEpoch, st.key, st.ch
	sym := st.symbol.String()
	from, to := st.gapFrom, st.gapTo
	ctx := f.jobContext()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		res := fetchGap(ctx, f.cfg.Backfill, sym, ch, from, to)
		sh.dmu.Lock()
		defer sh.dmu.Unlock()
		if sh.states[key] != st || !st.filling || st.fillEpoch != epoch {
			return // unsubscribed or abandoned meanwhile
		}
		sh.completeFill(st, res)
	}()
}

// fetchGap pages through REST from..to.
func fetchGap(ctx context.Context, b Backfiller, symbol string, ch market.Channel, from, to int64) fillResult {
	var res fillResult
	next := from
	for next <= to {
		limit := int(min(to-next+1, backfillPage))
		var (
			n    int
			last int64
			err  error
		)
		if ch == market.ChannelAggTrade {
			before := len(res.aggs)
			res.aggs, err = b.AggTradesFrom(ctx, symbol, next, limit, res.aggs)
			n = len(res.aggs) - before
			if n > 0 {
				last = res.aggs[len(res.aggs)-1].AggTradeID
			}
		} else {
			before := len(res.trades)
			res.trades, err = b.TradesFrom(ctx, symbol, next, limit, res.trades)
			n = len(res.trades) - before
			if n > 0 {
				last = res.trades[len(res.trades)-1].TradeID
			}
		}
		if err != nil {
			res.err = err
			return res
		}
		if n == 0 || last < next {
			res.err = fmt.Errorf("REST returned no %s from id %d", ch, next)
			return res
		}
		next = last + 1
	}
	return res
}

// completeFill inserts the fetched events that close the hole, in order,
// reports the outcome and releases the held live events; dmu held.
func (sh *shard) completeFill(st *streamState, res fillResult) {
	f := sh.feed
	if res.err != nil {
		sh.recordFill(st, "end %s", res.err)
	} else {
		sh.recordFill(st, "end")
	}
	next := st.gapFrom
	now := f.now().UnixNano()
	n := 0
	if st.ch == market.ChannelAggTrade {
		for i := range res.aggs {
			a := &res.aggs[i]
			if a.AggTradeID < next {
				continue
			}
			if a.AggTradeID != next || next > st.gapTo {
				break
			}
			sh.fillAgg = *a
			sh.stamp(&sh.fillAgg.Header, st, now)
			sh.fillEv = source.Event{Kind: source.KindAggTrade, Channel: st.ch, AggTrade: &sh.fillAgg}
			sh.emit(&sh.fillEv)
			next++
			n++
		}
	} else {
		for i := range res.trades {
			t := &res.trades[i]
			if t.TradeID < next {
				continue
			}
			if t.TradeID != next || next > st.gapTo {
				break
			}
			sh.fillTrade = *t
			sh.stamp(&sh.fillTrade.Header, st, now)
			sh.fillEv = source.Event{Kind: source.KindTrade, Channel: st.ch, Trade: &sh.fillTrade}
			sh.emit(&sh.fillEv)
			next++
			n++
		}
	}
	f.stats.backfilled.Add(int64(n))
	filled := next - 1
	if filled >= st.gapFrom {
		f.stats.gapsFilled.Add(1)
		sh.status(st.symbol, st.ch, market.StatusGapFilled, st.gapFrom, filled, "from REST")
	}
	if filled < st.gapTo {
		f.stats.gapsUnfilled.Add(1)
		why := "REST did not return the missing ids"
		if res.err != nil {
			why = res.err.Error()
		}
		sh.status(st.symbol, st.ch, market.StatusGapUnfilled, filled+1, st.gapTo, why)
	}
	st.filling = false
	st.last = st.gapTo
	sh.release(st)
}

// stamp fills what REST replies lack: the exchange, symbol and receive time.
func (sh *shard) stamp(h *market.Header, st *streamState, now int64) {
	h.Exchange = sh.feed.cfg.Market.Exchange()
	if h.Symbol.IsZero() {
		h.Symbol = st.symbol
	}
	if h.ReceiveTime == 0 {
		h.ReceiveTime = now
	}
}

// startSnapshot fetches a REST depth snapshot after the depth gap from..to;
// dmu held.
func (sh *shard) startSnapshot(st *streamState, from, to int64) {
	f := sh.feed
	key, sym := st.key, st.symbol
	ctx := f.jobContext()
	before := st.snapID
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		var snap market.DepthSnapshot
		err := f.cfg.Backfill.DepthSnapshot(ctx, sym.String(), f.cfg.DepthSnapshotOnGap, &snap)
		sh.dmu.Lock()
		defer sh.dmu.Unlock()
		if sh.states[key] != st {
			return
		}
		if err != nil {
			if ctx.Err() != nil {
				return // the feed stops
			}
			f.log().Warn("depth snapshot after a gap failed", "symbol", sym.String(), "err", err)
			if st.snapID == before {
				// No later snapshot covers the gap: the book stays broken.
				sh.recordFill(st, "nosnapshot %d %d %s", from, to, err)
				sh.snapshotFailed(st, from, to, err.Error())
			}
			return
		}
		sh.emitSnapshot(st, &snap, f.now().UnixNano())
	}()
}

// snapshotFailed reports that the REST snapshot after st's depth gap
// from..to failed; dmu held.
func (sh *shard) snapshotFailed(st *streamState, from, to int64, why string) {
	sh.feed.stats.gapsUnfilled.Add(1)
	sh.status(st.symbol, st.ch, market.StatusGapUnfilled, from, to, "depth snapshot failed: "+why)
}

// emitSnapshot hands on a REST depth snapshot of st, unless an as new one
// went out already: snapshots of gaps close together can answer out of
// order, and a book rebuilt from the older one would miss the updates
// between the two. dmu held.
func (sh *shard) emitSnapshot(st *streamState, snap *market.DepthSnapshot, recv int64) {
	f := sh.feed
	if snap.LastUpdateID <= st.snapID {
		f.log().Debug("dropping a depth snapshot older than the last one emitted", "symbol", st.symbol.String(),
			"id", snap.LastUpdateID, "last", st.snapID)
		return
	}
	st.snapID = snap.LastUpdateID
	// The reply's receive time tells two replies with the same id apart.
	sh.recordFill(st, "snapshot %d %d", snap.LastUpdateID, snap.ReceiveTime)
	snap.Source = market.SnapshotREST
	sh.stamp(&snap.Header, st, recv)
	f.stats.snapshots.Add(1)
	ev := source.Event{Kind: source.KindDepthSnapshot, Channel: market.ChannelDepthSnapshot, DepthSnapshot: snap}
	sh.emit(&ev)
}

// jobContext is the context background REST jobs run under: Run's (or
// Replay's), so they end with it.
func (f *Feed) jobContext() context.Context {
	if ctx, ok := f.jobCtx.Load().(context.Context); ok {
		return ctx
	}
	return context.Background()
}
