package iggy

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// Regression tests for bugs the server chaos test
// (internal/iggy/server/chaos_test.go) found in the client.

// lagCtx has a deadline whose timer fires late: Err reports nothing the
// first time it is asked after the deadline, the state a context is in for
// a moment after the connection's deadline, set from it, fired.
type lagCtx struct {
	context.Context
	deadline time.Time
	done     chan struct{}
	errCalls *atomic.Int32
}

func (c lagCtx) Deadline() (time.Time, bool) { return c.deadline, true }
func (c lagCtx) Done() <-chan struct{}       { return c.done }
func (c lagCtx) Err() error {
	if c.errCalls.Add(1) == 1 {
		return nil
	}
	return context.DeadlineExceeded
}

// TestDeadlineBeforeContextTimer: a poll whose ctx deadline passed failed
// with a bare "i/o timeout" (and was retried on a new connection) when the
// connection's deadline fired before ctx's own timer, so callers checking
// errors.Is(err, context.DeadlineExceeded) missed it.
func TestDeadlineBeforeContextTimer(t *testing.T) {
	var stats atomic.Int32
	p := newFakePeer(t, loginOK(func(r request) reply {
		if r.code == wire.CmdGetStats {
			stats.Add(1)
			return reply{hang: true}
		}
		return ok(nil)
	}))
	c := dialTest(t, p, nil)
	ctx := lagCtx{Context: context.Background(), deadline: time.Now().Add(20 * time.Millisecond), done: make(chan struct{}), errCalls: new(atomic.Int32)}
	_, err := c.Stats(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want one matching context.DeadlineExceeded", err)
	}
	if n := stats.Load(); n != 1 {
		t.Fatalf("GetStats sent %d times after the caller's deadline passed", n)
	}
}

// TestLeaveGroupAfterLostConnection: after an auto-commit poll lost its
// reply (dropping the connection), LeaveGroup reconnected without
// rejoining the group it was leaving and returned the server's
// ConsumerGroupMemberNotFound, although the client had left.
func TestLeaveGroupAfterLostConnection(t *testing.T) {
	p := newFakePeer(t, loginOK(func(r request) reply {
		switch {
		case r.code == wire.CmdPollMessages:
			return reply{close: true}
		case r.code == wire.CmdLeaveConsumerGroup && r.conn > 1:
			return fail(wire.ErrConsumerGroupMemberNotFound)
		}
		return ok(nil)
	}))
	c := dialTest(t, p, nil)
	ctx := context.Background()
	if err := c.JoinGroup(ctx, ID(1), ID(2), Name("g")); err != nil {
		t.Fatal(err)
	}
	var res Polled
	err := c.Poll(ctx, &PollRequest{Consumer: wire.NewGroupConsumer(Name("g")), TopicRef: wire.TopicRef{Stream: ID(1), Topic: ID(2)},
		Strategy: wire.PollFromNext(), Count: 1, AutoCommit: true}, &res)
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("poll: %v", err)
	}
	if err := c.LeaveGroup(ctx, ID(1), ID(2), Name("g")); err != nil {
		t.Fatalf("leave after reconnect: %v", err)
	}
	// A client that never joined still hears the server's refusal.
	if err := c.LeaveGroup(ctx, ID(1), ID(2), Name("g")); !errors.Is(err, wire.ErrConsumerGroupMemberNotFound) {
		t.Fatalf("leave without membership: %v", err)
	}
}

// TestDeadlineDuringReconnect: a call whose ctx deadline passed while it
// was reconnecting failed with the dial's bare "i/o timeout".
func TestDeadlineDuringReconnect(t *testing.T) {
	p := newFakePeer(t, loginOK(func(r request) reply {
		if r.code == wire.CmdSendMessages {
			return reply{close: true}
		}
		return ok(nil)
	}))
	// Once the first connection is made, dials end as a connect does when
	// the deadline the dialer took from ctx fires mid-way (net's "i/o
	// timeout", which does not match context.DeadlineExceeded).
	var dials atomic.Int32
	c := dialTest(t, p, func(cfg *Config) {
		cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) > 1 {
				return nil, &net.OpError{Op: "dial", Net: network, Err: os.ErrDeadlineExceeded}
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	})
	// A send whose reply is lost leaves the client without a connection.
	err := c.SendMessages(context.Background(), ID(1), ID(2), wire.Balanced(), Message{Payload: []byte("x")})
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("send: %v", err)
	}
	ctx := lagCtx{Context: context.Background(), deadline: time.Now().Add(-time.Millisecond), done: make(chan struct{}), errCalls: new(atomic.Int32)}
	_, err = c.Users(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want one matching context.DeadlineExceeded", err)
	}
	if n := p.connCount(); n != 1 {
		t.Fatalf("%d connections; the expired call should not have connected", n)
	}
}

// cancelAfterRead is the classic codec, but after reading the reply to the
// login that follows the first reconnect it cancels the call's context: a
// call cancelled just as a reply arrived in full.
type cancelAfterRead struct {
	ClassicCodec
	cancel context.CancelFunc
	logins *atomic.Int32
	login  *atomic.Bool // the last request written was a login
}

func (c cancelAfterRead) WriteRequest(w io.Writer, frame []byte) (int, error) {
	_, code, _ := wire.ParseRequestHeader(frame)
	c.login.Store(code == wire.CmdLoginUser)
	return c.ClassicCodec.WriteRequest(w, frame)
}

func (c cancelAfterRead) ReadResponse(r io.Reader, buf []byte) (uint32, []byte, []byte, error) {
	st, p, b, err := c.ClassicCodec.ReadResponse(r, buf)
	if c.login.Load() && c.logins.Add(1) == 2 {
		c.cancel()
	}
	return st, p, b, err
}

// TestCancelDuringReconnectLogin: a call cancelled just as the login reply
// of its reconnect arrived dropped the new connection but went on to use
// it: a nil pointer dereference in the client (found by the chaos test's
// cancelled polls across server restarts).
func TestCancelDuringReconnectLogin(t *testing.T) {
	var first atomic.Bool
	p := newFakePeer(t, loginOK(func(r request) reply {
		if r.code == wire.CmdGetStats && !first.Swap(true) {
			return reply{close: true}
		}
		return ok((&wire.Stats{}).AppendTo(nil))
	}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := dialTest(t, p, func(cfg *Config) {
		cfg.Codec = cancelAfterRead{cancel: cancel, logins: new(atomic.Int32), login: new(atomic.Bool)}
	})
	if _, err := c.Stats(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want one matching context.Canceled", err)
	}
	// The client recovers on the next call.
	if _, err := c.Stats(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestDeadlineAfterExchangeFailed: a call whose ctx expired between its
// failed exchange and the retry decision returned the bare network error
// ("EOF"), not one matching its ctx's.
func TestDeadlineAfterExchangeFailed(t *testing.T) {
	p := newFakePeer(t, loginOK(func(r request) reply {
		if r.code == wire.CmdGetStats {
			return reply{close: true}
		}
		return ok(nil)
	}))
	c := dialTest(t, p, nil)
	ctx := lagCtx{Context: context.Background(), deadline: time.Now().Add(time.Hour), done: make(chan struct{}), errCalls: new(atomic.Int32)}
	_, err := c.Stats(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want one matching context.DeadlineExceeded", err)
	}
	if n := p.connCount(); n != 1 {
		t.Fatalf("%d connections; the expired call should not have reconnected", n)
	}
}
