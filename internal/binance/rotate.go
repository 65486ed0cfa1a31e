package binance

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/ims-dev/ims/internal/market"
)

// run keeps the shard connected until ctx ends: connect (paced by the
// connect limiter, backing off on failure and honouring 429/418), serve,
// and after an unplanned loss reconnect; planned rotations happen inside
// serve without a gap.
func (sh *shard) run(ctx context.Context) {
	f := sh.feed
	attempt := 0
	connected := false
	for ctx.Err() == nil {
		c, err := sh.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			wait := f.retryDelay(attempt, err)
			attempt++
			f.log().Warn("websocket connect failed; retrying", "shard", sh.id, "route", sh.route, "in", wait.Round(time.Millisecond), "err", err)
			if sleepCtx(ctx, wait) != nil {
				return
			}
			continue
		}
		f.stats.connects.Add(1)
		sh.setPrimary(c)
		detail := fmt.Sprintf("connection %d (shard %d, %s route, %d streams)", c.id, sh.id, sh.route, c.initial)
		if connected {
			f.stats.reconnects.Add(1)
			f.log().Info("reconnected", "conn", c.id, "shard", sh.id)
			sh.connStatus(market.StatusReconnected, detail)
		} else {
			f.log().Info("connected", "conn", c.id, "shard", sh.id, "streams", c.initial)
			sh.connStatus(market.StatusConnected, detail)
		}
		connected = true
		c.start(ctx)
		sh.goReconcile(ctx, c)
		if !sh.serve(ctx, c, &attempt) {
			return
		}
		if ctx.Err() != nil {
			return
		}
		// Lost without a plan: wait a little before reconnecting so a
		// server that accepts and drops at once is not hammered.
		wait := f.cfg.Backoff.Delay(attempt)
		attempt++
		if sleepCtx(ctx, wait) != nil {
			return
		}
	}
}

// serve watches the primary connection c: it rotates before the lifetime
// ends or on serverShutdown, and returns true when the primary was lost
// (reconnect), false when ctx ended.
func (sh *shard) serve(ctx context.Context, c *conn, attempt *int) bool {
	f := sh.feed
	rotateTimer := time.NewTimer(sh.rotateIn(c))
	defer rotateTimer.Stop()
	firstData, shutdown := c.firstData, c.shutdown
	// A failed rotation is tried again on the rotate timer, backing off;
	// why says what it is for (a serverShutdown notice comes only once).
	why, fails := "lifetime", 0
	retry := func() {
		fails++
		rotateTimer.Reset(f.cfg.Backoff.Delay(fails))
	}
	for {
		select {
		case <-ctx.Done():
			sh.closeAll("feed stopped")
			return false
		case <-c.done:
			f.stats.disconnects.Add(1)
			f.log().Warn("connection lost", "conn", c.id, "shard", sh.id, "err", c.endErr)
			sh.connStatus(market.StatusDisconnected, fmt.Sprintf("connection %d: %v", c.id, c.endErr))
			return true
		case <-firstData:
			*attempt = 0 // the connection works: the next loss starts backoff afresh
			firstData = nil
		case <-rotateTimer.C:
			if nc := sh.rotate(ctx, c, why); nc != nil {
				c, firstData, shutdown = nc, nc.firstData, nc.shutdown
				why, fails = "lifetime", 0
				rotateTimer.Reset(sh.rotateIn(c))
			} else if ctx.Err() == nil {
				retry()
			}
		case <-shutdown:
			shutdown = nil
			if nc := sh.rotate(ctx, c, "serverShutdown"); nc != nil {
				c, firstData, shutdown = nc, nc.firstData, nc.shutdown
				why, fails = "lifetime", 0
				rotateTimer.Reset(sh.rotateIn(c))
			} else if ctx.Err() == nil {
				// The server will cut this connection: try again soon.
				why = "serverShutdown"
				retry()
			}
		}
	}
}

// rotateIn is how long until c should be rotated: before Binance's cut,
// with jitter so shards opened together do not rotate together.
func (sh *shard) rotateIn(c *conn) time.Duration {
	f := sh.feed
	d := f.cfg.Lifetime - f.cfg.RotateBefore - f.now().Sub(c.opened)
	if j := min(f.cfg.RotateBefore/2, time.Minute); j > 0 {
		d += time.Duration(rand.Int64N(int64(j)))
	}
	return max(d, 0)
}

// rotate opens a second connection with the same streams, lets both
// deliver (duplicates dropped by id) until the new one has proved it
// overlaps the old, then closes the old. It returns the new primary, or nil
// if the new connection failed (the old one carries on).
func (sh *shard) rotate(ctx context.Context, old *conn, why string) *conn {
	f := sh.feed
	f.log().Info("rotating connection", "conn", old.id, "shard", sh.id, "why", why)
	var nc *conn
	for attempt := 0; ; attempt++ {
		var err error
		nc, err = sh.connect(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		wait := f.retryDelay(attempt, err)
		f.log().Warn("rotation connect failed; retrying", "shard", sh.id, "in", wait.Round(time.Millisecond), "err", err)
		select {
		case <-time.After(wait):
		case <-old.done:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
	sh.setSecondary(nc)
	nc.start(ctx)
	reconciled := sh.goReconcile(ctx, nc)
	maxT := time.NewTimer(f.cfg.MaxOverlap)
	defer maxT.Stop()
	// The new connection must carry every stream (those beyond its URL are
	// subscribed by reconcile) before it can replace the old one.
	select {
	case <-reconciled:
	case <-maxT.C:
	case <-old.done:
	case <-nc.done:
	case <-ctx.Done():
	}
	if sh.abandonRotation(ctx, old, nc, reconciled) {
		<-nc.done // a next rotation must not overlap it (the replay could not tell their roles)
		return nil
	}
	select {
	case <-nc.synced:
		// Both deliver the same events now; give slower streams a moment
		// to show the same before the old connection goes.
		select {
		case <-time.After(f.cfg.RotationOverlap):
		case <-maxT.C:
		case <-old.done:
		case <-nc.done:
		case <-ctx.Done():
		}
	case <-maxT.C:
	case <-old.done:
	case <-nc.done:
	case <-ctx.Done():
	}
	if ctx.Err() != nil {
		return nil // serve closes both
	}
	if nc.isDone() {
		sh.setSecondary(nil)
		f.log().Warn("rotation connection lost before taking over", "conn", nc.id, "err", nc.endErr)
		return nil
	}
	if sh.abandonRotation(ctx, old, nc, reconciled) {
		<-nc.done
		return nil
	}
	if !sh.promote(nc) {
		f.log().Warn("rotation connection lost before taking over", "conn", nc.id, "err", nc.endErr)
		return nil
	}
	f.stats.connects.Add(1)
	f.stats.rotations.Add(1)
	old.close("rotated")
	f.log().Info("rotated", "from", old.id, "to", nc.id, "shard", sh.id)
	return nc
}

// abandonRotation closes the rotation's connection nc and reports true
// when it does not carry every stream of the shard while the old one
// does: handing over would leave those streams on no connection, so the
// old one stays and a fresh rotation is tried later. nc stays the
// secondary until its read loop ends (primaryLost), as the replay has it
// until its close record: what it read before the close still arrives.
// With the old one gone, nc is all there is: it is asked again for what it
// lacks.
func (sh *shard) abandonRotation(ctx context.Context, old, nc *conn, reconciled <-chan struct{}) bool {
	missing := sh.notOn(nc, reconciled)
	if missing == 0 || ctx.Err() != nil || nc.isDone() {
		return false
	}
	// The old one's end hands nc the shard before it is marked done.
	if old.isDone() || sh.isPrimary(nc) {
		// Asked again once nc's reconcile has finished: until then what
		// it lacks is not known (its SUBSCRIBE may yet fail), and asking
		// now would find the streams pending and send nothing.
		sh.goReconcileAfter(ctx, nc, reconciled)
		return false
	}
	nc.close("rotation abandoned")
	sh.feed.log().Warn("rotation connection does not carry every stream; keeping the old one", "conn", nc.id,
		"shard", sh.id, "missing", missing)
	return true
}

// notOn counts the shard's streams c does not carry: all of them while its
// reconcile (reconciled) has not finished, else those whose SUBSCRIBE
// failed.
func (sh *shard) notOn(c *conn, reconciled <-chan struct{}) int {
	f := sh.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-reconciled:
	default:
		return len(sh.streams)
	}
	n := 0
	for _, s := range sh.streams {
		if !c.streams[s] {
			n++
		}
	}
	return n
}

// connect dials a connection for the shard's current streams.
func (sh *shard) connect(ctx context.Context) (*conn, error) {
	f := sh.feed
	if err := f.limiter.Wait(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	streams := slices.Clone(sh.streams)
	f.mu.Unlock()
	names := make([]string, len(streams))
	for i := range streams {
		names[i] = streams[i].String()
	}
	url, err := f.cfg.Market.StreamURL(f.cfg.WSURL, sh.route, names, f.cfg.TimeUnit)
	if err != nil {
		return nil, err
	}
	// Binance refuses URLs much over 8000 characters: the streams that do
	// not fit are subscribed on the open connection (reconcile).
	for k := len(names); len(url) > maxStreamURL && k > 0; {
		for over := len(url) - maxStreamURL; over > 0 && k > 0; k-- {
			over -= len(names[k-1]) + 1
		}
		streams, names = streams[:k], names[:k]
		if url, err = f.cfg.Market.StreamURL(f.cfg.WSURL, sh.route, names, f.cfg.TimeUnit); err != nil {
			return nil, err
		}
	}
	ws, err := f.dial(ctx, url)
	if err != nil {
		var he *HandshakeError
		if errors.As(err, &he) {
			f.stats.handshakeRefused.Add(1)
		}
		return nil, err
	}
	c := newConn(f, sh, f.connID.Add(1), url)
	for _, n := range streams {
		c.streams[n] = true
	}
	c.initial = len(streams)
	c.ws = ws // the caller registers c, then starts its reader
	return c, nil
}

// goReconcile runs reconcile in the background, waited for by Run; the
// channel closes when it is done.
func (sh *shard) goReconcile(ctx context.Context, c *conn) <-chan struct{} {
	f := sh.feed
	done := make(chan struct{})
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer close(done)
		sh.reconcile(ctx, c)
	}()
	return done
}

// goReconcileAfter runs reconcile in the background once prev is closed
// (or ctx ends), waited for by Run.
func (sh *shard) goReconcileAfter(ctx context.Context, c *conn, prev <-chan struct{}) {
	f := sh.feed
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		select {
		case <-prev:
		case <-ctx.Done():
			return
		}
		sh.reconcile(ctx, c)
	}()
}

// reconcile brings a newly registered connection's subscriptions in line
// with the shard's streams (they may have changed while it dialled).
func (sh *shard) reconcile(ctx context.Context, c *conn) {
	f := sh.feed
	f.mu.Lock()
	var sub, unsub []StreamName
	cur := make(map[StreamName]bool, len(sh.streams))
	for _, n := range sh.streams {
		cur[n] = true
		if !c.streams[n] {
			c.streams[n] = true
			sub = append(sub, n)
		}
	}
	for n := range c.streams {
		if !cur[n] {
			delete(c.streams, n)
			unsub = append(unsub, n)
		}
	}
	f.mu.Unlock()
	if len(sub) > 0 {
		if failed, err := c.sendChunked(ctx, "SUBSCRIBE", sub); err != nil {
			f.notCarried(c, failed)
			if ctx.Err() == nil {
				f.log().Warn("subscribing on a new connection failed", "conn", c.id, "err", err)
			}
		}
	}
	if len(unsub) > 0 {
		if _, err := c.sendChunked(ctx, "UNSUBSCRIBE", unsub); err != nil && ctx.Err() == nil {
			f.log().Warn("unsubscribing on a new connection failed", "conn", c.id, "err", err)
		}
	}
}

// closeAll closes the shard's connections and waits for their readers, so
// no handler call happens after Run returns.
func (sh *shard) closeAll(reason string) {
	sh.dmu.Lock()
	conns := []*conn{sh.primary, sh.secondary}
	sh.dmu.Unlock()
	for _, c := range conns {
		if c != nil {
			c.close(reason)
		}
	}
	for _, c := range conns {
		if c != nil {
			<-c.done
		}
	}
}

// retryDelay is the wait before connect attempt attempt+1 after err: the
// jittered backoff, but never less than a 429/418's Retry-After (or the
// configured defaults when the server sent none), which also holds every
// other attempt through the connect limiter.
func (f *Feed) retryDelay(attempt int, err error) time.Duration {
	d := f.cfg.Backoff.Delay(attempt)
	var he *HandshakeError
	if !errors.As(err, &he) {
		return d
	}
	floor := he.RetryAfter
	switch he.Status {
	case http.StatusTeapot: // 418: the IP is banned
		if floor == 0 {
			floor = f.cfg.BanWait
		}
	case http.StatusTooManyRequests:
		if floor == 0 {
			floor = f.cfg.RateLimitWait
		}
	}
	if floor > 0 {
		f.limiter.hold(floor)
	}
	return max(d, floor)
}
