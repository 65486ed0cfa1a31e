package record

import (
	"context"
	"errors"
	"io"
	"time"
)

// Player replays a recording at its recorded pace, scaled by Speed.
type Player struct {
	// Speed scales the recorded pace: 1 is real time, 10 ten times faster.
	// Zero or negative replays as fast as possible.
	Speed float64
	// Now and Sleep default to the wall clock; tests replace them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// StopAtTruncation makes a torn final block end the replay cleanly
	// (Play returns nil and Truncated reports it) instead of an error.
	StopAtTruncation bool

	truncated error
}

// Truncated returns the ErrTruncated error the last Play stopped at, if any.
func (p *Player) Truncated() error { return p.truncated }

// Play calls fn for every record of r, waiting between records for their
// recorded spacing divided by Speed. It returns nil at the end of the
// recording, ctx.Err() when cancelled, or the first error from r or fn.
func (p *Player) Play(ctx context.Context, r *Reader, fn func(*Record) error) error {
	now := p.Now
	if now == nil {
		now = time.Now
	}
	sleep := p.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	p.truncated = nil
	var (
		started       bool
		first         int64
		wallStart     time.Time
		checkCanceled int
	)
	for {
		rec, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			if errors.Is(err, ErrTruncated) && p.StopAtTruncation {
				p.truncated = err
				return nil
			}
			return err
		}
		if p.Speed > 0 {
			if !started {
				started, first, wallStart = true, rec.Time, now()
			} else {
				due := wallStart.Add(time.Duration(float64(rec.Time-first) / p.Speed))
				if d := due.Sub(now()); d > 0 {
					if err := sleep(ctx, d); err != nil {
						return err
					}
				}
			}
		}
		// Polling ctx on every record would cost more than the record.
		if checkCanceled++; checkCanceled&255 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
