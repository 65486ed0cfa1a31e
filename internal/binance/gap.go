package binance

import (
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

// seqKind is how a channel's events are ordered, which decides how the feed
// drops duplicates (the overlap of two connections during rotation, a
// reconnect) and finds gaps.
type seqKind uint8

const (
	// seqNone: nothing to order on (never happens for market data).
	seqNone seqKind = iota
	// seqConsecutive: ids step by one per event per symbol (trade t,
	// aggTrade a). A jump is a gap of exactly the missing ids.
	seqConsecutive
	// seqSpotDepth: diff depth chains by U == prev.u + 1.
	seqSpotDepth
	// seqFuturesDepth: diff depth chains by pu == prev.u; ids are a
	// cross-symbol sequence, so holes between u and the next U are normal.
	seqFuturesDepth
	// seqMonotonic: a value that only grows (update id of book tickers and
	// partial depth, event time of klines, tickers, mark/index prices,
	// liquidations) and identifies duplicates but cannot show gaps.
	seqMonotonic
)

// seqVal is the ordering data extracted from one event.
type seqVal struct {
	kind  seqKind
	first int64 // first id in the event (consecutive: the id; depth: U)
	last  int64 // last id (depth: u); the value compared for duplicates
	prev  int64 // futures depth: pu
}

// seqOf extracts the ordering data of ev. futures selects the depth rule.
func seqOf(ev *source.Event, futures bool) seqVal {
	switch ev.Kind {
	case source.KindTrade:
		id := ev.Trade.TradeID
		return seqVal{kind: seqConsecutive, first: id, last: id}
	case source.KindAggTrade:
		id := ev.AggTrade.AggTradeID
		return seqVal{kind: seqConsecutive, first: id, last: id}
	case source.KindDepthUpdate:
		d := ev.DepthUpdate
		if futures {
			return seqVal{kind: seqFuturesDepth, first: d.FirstUpdateID, last: d.LastUpdateID, prev: d.PrevLastUpdateID}
		}
		return seqVal{kind: seqSpotDepth, first: d.FirstUpdateID, last: d.LastUpdateID}
	case source.KindDepthSnapshot:
		return monotonic(ev.DepthSnapshot.LastUpdateID)
	case source.KindBookTicker:
		return monotonic(ev.BookTicker.UpdateID)
	case source.KindKline:
		return monotonic(ev.Kline.EventTime)
	case source.KindTicker:
		return monotonic(ev.Ticker.EventTime)
	case source.KindMarkPrice:
		return monotonic(ev.MarkPrice.EventTime)
	case source.KindIndexPrice:
		return monotonic(ev.IndexPrice.EventTime)
	case source.KindLiquidation:
		return monotonic(ev.Liquidation.EventTime)
	}
	return seqVal{kind: seqNone}
}

func monotonic(v int64) seqVal { return seqVal{kind: seqMonotonic, first: v, last: v} }

// seqResult classifies an event against the last one accepted.
type seqResult uint8

const (
	seqFirst seqResult = iota // nothing seen yet on this stream
	seqNext                   // in order, no hole
	seqDup                    // already delivered (or older)
	seqGap                    // in order but with a hole before it
)

// classify compares v with the last accepted event's ids; has reports
// whether there is one. For seqGap, from..to is the missing range.
func classify(v seqVal, has bool, last int64) (r seqResult, from, to int64) {
	if !has {
		return seqFirst, 0, 0
	}
	if v.last <= last {
		return seqDup, 0, 0
	}
	switch v.kind {
	case seqConsecutive:
		if v.first == last+1 {
			return seqNext, 0, 0
		}
		return seqGap, last + 1, v.first - 1
	case seqSpotDepth:
		// U <= last+1 <= u: the event covers the next update (the overlap
		// case is what Binance's own sync rule accepts).
		if v.first <= last+1 {
			return seqNext, 0, 0
		}
		return seqGap, last + 1, v.first - 1
	case seqFuturesDepth:
		if v.prev == last {
			return seqNext, 0, 0
		}
		// The events whose final ids lie in (last, pu] are missing. When
		// pu < last the chain is broken without a positive range; report
		// what the event covers so the consumer still re-synchronises.
		if v.prev > last {
			return seqGap, last + 1, v.prev
		}
		return seqGap, last + 1, max(last+1, v.first-1)
	}
	return seqNext, 0, 0
}

// backfillable reports whether gaps on ch can be filled from REST.
func backfillable(ch market.Channel) bool {
	return ch == market.ChannelTrade || ch == market.ChannelAggTrade
}
