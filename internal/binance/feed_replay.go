package binance

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/record"
)

// Replay plays a recording through the same path as live frames: the
// parser, de-duplication across overlapping connections (the oldest open
// recorded connection is the primary, as it was live), gap detection and
// statuses, then the handler. speed scales the recorded pace (1 = real
// time); 0 replays as fast as possible. A torn final block (a recording cut
// by a crash) ends the replay cleanly and is logged. The feed must not be
// running; Replay does not connect anywhere, and gaps are only filled when
// the config has a Backfill.
func (f *Feed) Replay(ctx context.Context, r *record.Reader, speed float64) error {
	f.mu.Lock()
	if f.running {
		f.mu.Unlock()
		return errors.New("replay: the feed is running")
	}
	f.running = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running = false
		f.mu.Unlock()
	}()
	if h := r.Header(); h.Market != "" && h.Market != f.cfg.Market.String() {
		return fmt.Errorf("replay: recording is of market %q, the feed is %s", h.Market, f.cfg.Market)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f.jobCtx.Store(ctx)
	defer f.wg.Wait() // backfill jobs

	sh := newShard(f, 0, RouteNone)
	sh.replay = true
	conns := make(map[uint32]*conn)
	var open []*conn // in opening order; open[0] is the primary
	setRoles := func() {
		sh.dmu.Lock()
		sh.primary, sh.secondary = nil, nil
		if len(open) > 0 {
			sh.primary = open[0]
		}
		if len(open) > 1 {
			sh.secondary = open[1]
		}
		sh.dmu.Unlock()
	}
	get := func(id uint32) *conn {
		c := conns[id]
		if c == nil {
			c = newConn(f, sh, id, "")
			conns[id] = c
			open = append(open, c)
			f.stats.connects.Add(1)
			setRoles()
		}
		return c
	}
	p := record.Player{Speed: speed, StopAtTruncation: true}
	err := p.Play(ctx, r, func(rec *record.Record) error {
		switch rec.Kind {
		case record.KindOpen:
			c := get(rec.Conn)
			c.url = string(rec.Data)
			sh.connStatus(market.StatusConnected, fmt.Sprintf("recorded connection %d: %s", rec.Conn, redactURL(c.url)))
		case record.KindClose:
			c := conns[rec.Conn]
			if c == nil {
				return nil
			}
			delete(conns, rec.Conn)
			open = slices.DeleteFunc(open, func(x *conn) bool { return x == c })
			setRoles()
			f.stats.disconnects.Add(1)
			sh.connStatus(market.StatusDisconnected, fmt.Sprintf("recorded connection %d: %s", rec.Conn, rec.Data))
		case record.KindText:
			sh.handleFrame(get(rec.Conn), rec.Data, rec.Time)
		case record.KindBinary:
			f.malformed(get(rec.Conn), "frame: binary frame on a JSON stream", rec.Data)
		}
		return nil
	})
	if t := p.Truncated(); t != nil {
		f.log().Warn("recording ends in a torn block (cut while writing); replayed everything before it", "err", t)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}
