package binance

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// msgLimiter paces the messages a client sends on one connection (SUBSCRIBE
// and friends, pongs, pings): Binance counts all of them against a per
// connection limit and closes with 1008 "Too many requests" beyond it. It
// is a GCRA token bucket: rate per second with a burst.
type msgLimiter struct {
	mu       sync.Mutex
	interval time.Duration
	burst    time.Duration // (burst) × interval
	tat      time.Time     // theoretical arrival time of the next message
}

func newMsgLimiter(perSecond float64, burst int) *msgLimiter {
	if perSecond <= 0 {
		perSecond = 1
	}
	if burst < 1 {
		burst = 1
	}
	iv := time.Duration(float64(time.Second) / perSecond)
	return &msgLimiter{interval: iv, burst: time.Duration(burst) * iv}
}

// reserve books the next slot and returns how long to wait for it.
func (l *msgLimiter) reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tat.Before(now) {
		l.tat = now
	}
	l.tat = l.tat.Add(l.interval)
	at := l.tat.Add(-l.burst)
	if at.Before(now) {
		return 0
	}
	return at.Sub(now)
}

// wait blocks until a message may be sent. The slot stays booked even when
// ctx ends first: the budget errs on the side of sending less.
func (l *msgLimiter) wait(ctx context.Context) error {
	d := l.reserve(time.Now())
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ConnectLimiter bounds connection attempts per window (Binance spot: 300
// per 5 minutes per IP). Share one between feeds that connect from the same
// address. It is safe for concurrent use.
type ConnectLimiter struct {
	mu       sync.Mutex
	max      int
	window   time.Duration
	attempts []time.Time // ring of the last max attempts
	next     int
	until    time.Time // no attempt before (a 429/418 holds the whole IP)
	now      func() time.Time
}

// NewConnectLimiter allows max attempts in any window.
func NewConnectLimiter(max int, window time.Duration) *ConnectLimiter {
	if max < 1 {
		max = 1
	}
	return &ConnectLimiter{max: max, window: window, attempts: make([]time.Time, 0, max), now: time.Now}
}

// reserve books an attempt and returns how long to wait before making it.
func (c *ConnectLimiter) reserve() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	at := now
	if c.until.After(at) {
		at = c.until
	}
	if len(c.attempts) < c.max {
		c.attempts = append(c.attempts, at)
		return at.Sub(now)
	}
	// The oldest of the last max attempts must leave the window first.
	if t := c.attempts[c.next].Add(c.window); t.After(at) {
		at = t
	}
	c.attempts[c.next] = at
	c.next = (c.next + 1) % c.max
	return at.Sub(now)
}

// hold makes every attempt wait d from now: a 429 or 418 answers for the
// IP, and each attempt during it (from any shard or feed sharing the
// limiter) is another violation that can lengthen a ban.
func (c *ConnectLimiter) hold(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.now().Add(d); t.After(c.until) {
		c.until = t
	}
}

// Wait blocks until another connection attempt is allowed.
func (c *ConnectLimiter) Wait(ctx context.Context) error {
	d := c.reserve()
	if d <= 0 {
		return ctx.Err()
	}
	return sleepCtx(ctx, d)
}

// Backoff is exponential backoff with full jitter: the n-th retry waits a
// uniformly random time in [0, min(Max, Initial×2^n)).
type Backoff struct {
	Initial time.Duration // default 500 ms
	Max     time.Duration // default 30 s
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = 500 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	return b
}

// Delay returns the wait before retry number attempt (0-based).
func (b Backoff) Delay(attempt int) time.Duration {
	b = b.withDefaults()
	ceil := b.Initial
	for i := 0; i < attempt && ceil < b.Max; i++ {
		ceil *= 2
	}
	if ceil > b.Max {
		ceil = b.Max
	}
	return time.Duration(rand.Int64N(int64(ceil)) + 1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
