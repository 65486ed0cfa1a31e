package binance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Errors for REST rate limiting. An *APIError with status 429 or 418 also
// matches them with errors.Is.
var (
	// ErrRateLimited: Binance answered 429; the client backs off for
	// Retry-After before the next request.
	ErrRateLimited = errors.New("binance: request rate limit exceeded (HTTP 429)")
	// ErrBanned: Binance answered 418 (the IP is banned after ignoring
	// 429s); requests fail fast until the ban ends.
	ErrBanned = errors.New("binance: IP banned (HTTP 418)")
	// ErrWeightTooLarge: one request's weight exceeds the whole limit.
	ErrWeightTooLarge = errors.New("binance: request weight exceeds the per-minute limit")
)

// BannedError is returned while a 418 ban lasts.
type BannedError struct {
	Until time.Time
}

func (e *BannedError) Error() string {
	return fmt.Sprintf("binance: IP banned (HTTP 418) until %s; not sending requests", e.Until.UTC().Format(time.RFC3339))
}

func (e *BannedError) Unwrap() error { return ErrBanned }

// WeightHeader is the response header carrying the IP's used request
// weight in the current minute.
const WeightHeader = "X-MBX-USED-WEIGHT-1M"

// Budget tracks Binance REST request weight for one IP and market: the
// weight used in the current minute (from X-MBX-USED-WEIGHT-1M headers and
// local reservations), the limit (from exchangeInfo rateLimits, or the
// market default), 429 back-offs and 418 bans. It is safe for concurrent
// use; every Client request waits on it, and callers such as the backfill
// ask it before queueing work.
type Budget struct {
	mu           sync.Mutex
	limit        int
	window       time.Duration
	winStart     time.Time
	used         int
	backoffUntil time.Time
	bannedUntil  time.Time

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// NewBudget returns a budget of limit weight per minute.
func NewBudget(limit int) *Budget {
	return &Budget{limit: limit, window: time.Minute, now: time.Now, sleep: restSleep}
}

func restSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// roll starts a new window when the current one is over; mu held.
func (b *Budget) roll(now time.Time) {
	start := now.Truncate(b.window)
	if !start.Equal(b.winStart) {
		b.winStart = start
		b.used = 0
	}
}

// Limit is the weight allowed per minute.
func (b *Budget) Limit() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limit
}

// SetLimit changes the per-minute limit (from exchangeInfo rateLimits).
func (b *Budget) SetLimit(limit int) {
	if limit <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.limit = limit
}

// Used is the weight used in the current minute as far as the budget knows.
func (b *Budget) Used() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(b.now())
	return b.used
}

// CanSpend reports whether a request of this weight could be sent now
// without waiting: no ban, no back-off, and room in this minute.
func (b *Budget) CanSpend(weight int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.roll(now)
	return !now.Before(b.bannedUntil) && !now.Before(b.backoffUntil) && b.used+weight <= b.limit
}

// Banned reports whether a 418 ban is in force and until when.
func (b *Budget) Banned() (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.now().Before(b.bannedUntil) {
		return b.bannedUntil, true
	}
	return time.Time{}, false
}

// Wait blocks until weight fits in the budget, then reserves it. It returns
// a *BannedError at once during a ban (so callers fail fast rather than
// queue for hours), ErrWeightTooLarge for a request larger than the limit,
// and the context's error if it ends first.
func (b *Budget) Wait(ctx context.Context, weight int) error {
	for {
		b.mu.Lock()
		now := b.now()
		if now.Before(b.bannedUntil) {
			until := b.bannedUntil
			b.mu.Unlock()
			return &BannedError{Until: until}
		}
		if weight > b.limit {
			limit := b.limit
			b.mu.Unlock()
			return fmt.Errorf("%w (weight %d, limit %d)", ErrWeightTooLarge, weight, limit)
		}
		b.roll(now)
		var wait time.Duration
		switch {
		case now.Before(b.backoffUntil):
			wait = b.backoffUntil.Sub(now)
		case b.used+weight <= b.limit:
			b.used += weight
			b.mu.Unlock()
			return nil
		default:
			wait = b.winStart.Add(b.window).Sub(now)
		}
		b.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// Observe records the weight Binance reports as used in this minute. The
// header counts every client on the IP, so it can only raise the local
// figure within a window.
func (b *Budget) Observe(used int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(b.now())
	if used > b.used {
		b.used = used
	}
}

// ObserveHeader records the used weight from a response's headers, if
// present.
func (b *Budget) ObserveHeader(h http.Header) {
	if v := h.Get(WeightHeader); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			b.Observe(n)
		}
	}
}

// Backoff stops requests for d (a 429's Retry-After).
func (b *Budget) Backoff(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until := b.now().Add(d); until.After(b.backoffUntil) {
		b.backoffUntil = until
	}
}

// Ban stops requests for d (a 418's Retry-After); Wait fails fast meanwhile.
func (b *Budget) Ban(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until := b.now().Add(d); until.After(b.bannedUntil) {
		b.bannedUntil = until
	}
}

// retryAfter reads a Retry-After header (seconds, or an HTTP date).
func retryAfter(h http.Header, now time.Time, def time.Duration) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return def
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
		return 0
	}
	return def
}
