package binance

import (
	"time"

	"github.com/ims-dev/ims/internal/market"
)

// Stale detection: a stream is stale when nothing arrived on it for longer
// than its threshold, max(floor, staleFactor × EWMA of its inter-arrival
// times). The EWMA learns each stream's own rhythm (a busy depth stream, an
// illiquid symbol's trades), and the floor keeps a quiet market from being
// taken for a dead stream before the EWMA knows better.

const (
	// staleFactor is how many usual intervals of silence make a stream
	// stale.
	staleFactor = 20
	// ewmaAlpha weights a new inter-arrival sample (1/8).
	ewmaShift = 3
	// ewmaWarmup is how many samples the EWMA needs before it counts.
	ewmaWarmup = 8
)

// StaleFloor is the least silence that makes a stream of market m stale,
// from its channel and speed: ten of its nominal update periods, and never
// under a minute for real-time channels, whose pace is the market's. It
// returns 0 (never stale) for liquidations, which Binance sends only when
// they happen.
func StaleFloor(m Market, n StreamName) time.Duration {
	period := n.Speed.Duration()
	if period <= 0 {
		period = m.DefaultSpeed(n.Channel)
	}
	switch n.Channel {
	case market.ChannelLiquidation:
		return 0
	case market.ChannelTrade, market.ChannelAggTrade, market.ChannelBookTicker:
		// Event driven: an illiquid symbol trades rarely.
		return max(5*time.Minute, 10*period)
	case market.ChannelDepth, market.ChannelPartialDepth:
		// Depth only updates when the book changes.
		return max(time.Minute, 10*period)
	}
	return max(30*time.Second, 10*period)
}

// staleState is the per-stream part of stream state that tracks arrivals.
type staleState struct {
	floor   time.Duration // 0: never stale
	since   int64         // ns: subscription (or first wait) start
	lastAt  int64         // ns: last arrival, 0 before the first
	ewma    int64         // ns: smoothed inter-arrival time
	samples int
	stale   bool
}

// arrive records an arrival at now (ns). It reports whether the stream was
// stale, so the caller emits Recovered.
func (s *staleState) arrive(now int64) (recovered bool) {
	if s.lastAt != 0 {
		d := now - s.lastAt
		if d < 0 {
			d = 0
		}
		if s.samples == 0 {
			s.ewma = d
		} else {
			s.ewma += (d - s.ewma) >> ewmaShift
		}
		s.samples++
	}
	s.lastAt = now
	recovered = s.stale
	s.stale = false
	return recovered
}

// threshold is how long the stream may be silent.
func (s *staleState) threshold() time.Duration {
	t := s.floor
	if s.samples >= ewmaWarmup {
		if e := time.Duration(s.ewma) * staleFactor; e > t {
			t = e
		}
	}
	return t
}

// check reports whether the stream just went stale at now (ns); it
// reports each silence once.
func (s *staleState) check(now int64) bool {
	if s.floor <= 0 || s.stale {
		return false
	}
	ref := s.lastAt
	if ref == 0 {
		ref = s.since
	}
	if time.Duration(now-ref) <= s.threshold() {
		return false
	}
	s.stale = true
	return true
}
