package binance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/record"
)

// Replay plays a recording through the same path as live frames: the
// parser, de-duplication across overlapping connections (the oldest open
// recorded connection is the primary, as it was live), gap detection and
// statuses, then the handler. Recorded connections with the same URL form
// one shard (the oldest open one is its primary); different URLs are
// different shards, as live. speed scales the recorded pace (1 = real
// time); 0 replays as fast as possible. A torn final block (a recording cut
// by a crash) ends the replay cleanly and is logged. The feed must not be
// running; Replay does not connect anywhere. Without a Backfill in the
// config, trade and aggTrade gaps are filled as the recorded feed filled
// them, from the REST replies in the recording (Feed.RecordReply), and its
// depth snapshots come back where they arrived; with one, gaps are fetched
// anew from it.
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

	// Recorded connections are grouped into shards by the shard their Open
	// record names (recordings made before it was named: by their URL): a
	// connection opened while another of its shard is open is that shard's
	// rotation (or reconnect) successor, and the oldest open one is the
	// primary; other shards (USD-M's /public and /market routes, shards
	// beyond StreamsPerConn) have their own primary, as they were live.
	type replayShard struct {
		sh   *shard
		open []*conn // in opening order; open[0] is the primary
		// retired are connections a recorded hand-over replaced: open
		// until their close record, but neither primary nor secondary.
		retired []*conn
	}
	shards := make(map[string]*replayShard)
	shardOf := make(map[*conn]*replayShard)
	conns := make(map[uint32]*conn)
	setRoles := func(rs *replayShard, at int64) {
		rs.sh.dmu.Lock()
		old, oldSec := rs.sh.primary, rs.sh.secondary
		rs.sh.primary, rs.sh.secondary = nil, nil
		if len(rs.open) > 0 {
			rs.sh.primary = rs.open[0]
		}
		if p := rs.sh.primary; p != nil && p != old {
			// As live: a new primary's repeats are duplicates for a while
			// (recorded time, as deliver compares in a replay).
			rs.sh.graceTill = time.Unix(0, at).Add(dedupGrace)
		}
		if len(rs.open) > 1 {
			rs.sh.secondary = rs.open[1]
		}
		if p := rs.sh.primary; p != nil && p != old {
			// As live at a hand-over or a lost primary: the values the
			// new primary showed ahead of the old one go out now.
			rs.sh.releaseAhead(p)
		} else if oldSec != nil && oldSec != rs.sh.secondary {
			rs.sh.releaseAhead(nil) // a rotation's connection gone: its copies, as live
		}
		rs.sh.dmu.Unlock()
	}
	// promote replays a rotation's hand-over to c: the connections opened
	// before it are retired.
	promote := func(c *conn, at int64) {
		rs := shardOf[c]
		if rs == nil {
			return
		}
		i := slices.Index(rs.open, c)
		if i <= 0 {
			return
		}
		rs.retired = append(rs.retired, rs.open[:i]...)
		rs.open = slices.Delete(rs.open, 0, i)
		setRoles(rs, at)
	}
	get := func(id uint32, key, url string, at int64) *conn {
		c := conns[id]
		if c == nil {
			rs := shards[key]
			if rs == nil {
				rs = &replayShard{sh: newShard(f, len(shards), RouteNone)}
				rs.sh.replay = true
				shards[key] = rs
			}
			c = newConn(f, rs.sh, id, url)
			conns[id] = c
			shardOf[c] = rs
			rs.open = append(rs.open, c)
			f.stats.connects.Add(1)
			setRoles(rs, at)
		}
		return c
	}
	// Without a Backfill, gaps are filled as the recorded feed filled them.
	var rf *replayFills
	if f.cfg.Backfill == nil {
		rf = &replayFills{feed: f}
	}
	f.replayFills = rf
	defer func() { f.replayFills = nil }()
	allShards := func() []*shard {
		out := make([]*shard, 0, len(shards))
		for _, rs := range shards {
			out = append(out, rs.sh)
		}
		slices.SortFunc(out, func(a, b *shard) int { return a.id - b.id })
		return out
	}

	p := record.Player{Speed: speed, StopAtTruncation: true}
	err := p.Play(ctx, r, func(rec *record.Record) error {
		if rf != nil {
			switch rec.Kind {
			case record.KindText, record.KindBinary, record.KindClose:
				rf.beforeRecord(rec.Conn)
			case record.KindFill:
				rf.fill(rec, allShards)
			case record.KindREST:
				rf.reply(rec, allShards())
			}
		}
		switch rec.Kind {
		case record.KindOpen:
			key := "url " + string(rec.Data)
			if len(rec.Stream) > 0 {
				key = string(rec.Stream)
			}
			c := get(rec.Conn, key, string(rec.Data), rec.Time)
			c.sh.connStatus(market.StatusConnected, fmt.Sprintf("recorded connection %d: %s", rec.Conn, redactURL(c.url)))
		case record.KindClose:
			c := conns[rec.Conn]
			if c == nil {
				return nil
			}
			delete(conns, rec.Conn)
			rs := shardOf[c]
			delete(shardOf, c)
			if slices.Contains(rs.retired, c) {
				rs.retired = slices.DeleteFunc(rs.retired, func(x *conn) bool { return x == c })
			} else {
				rs.open = slices.DeleteFunc(rs.open, func(x *conn) bool { return x == c })
				setRoles(rs, rec.Time)
			}
			f.stats.disconnects.Add(1)
			c.sh.connStatus(market.StatusDisconnected, fmt.Sprintf("recorded connection %d: %s", rec.Conn, rec.Data))
		case record.KindFill:
			switch string(rec.Data) {
			case promoteRecord:
				if c := conns[rec.Conn]; c != nil {
					promote(c, rec.Time)
				}
			case unsubscribeRecord:
				if n, err := ParseStreamName(rec.Stream); err == nil {
					for _, sh := range allShards() {
						sh.dmu.Lock()
						sh.forget(n)
						sh.dmu.Unlock()
					}
				}
			}
		case record.KindText:
			c := get(rec.Conn, "", "", rec.Time)
			c.sh.handleFrame(c, rec.Data, rec.Time)
		case record.KindBinary:
			f.malformed(get(rec.Conn, "", "", rec.Time), "frame: binary frame on a JSON stream", rec.Data)
		}
		return nil
	})
	if rf != nil {
		rf.finish()
	}
	if t := p.Truncated(); t != nil {
		f.log().Warn("recording ends in a torn block (cut while writing); replayed everything before it", "err", t)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}

// shardKey names shard id in a recording's Open records ("shard 3").
func shardKey(id int) []byte { return fmt.Appendf(nil, "shard %d", id) }
