package iggy

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// A group deleted while the client was disconnected must not make the
// client unusable: the failed rejoin forgets that group and the call goes on.
func TestRejoinOfDeletedGroupDoesNotWedgeClient(t *testing.T) {
	var streams atomic.Int32
	p := newFakePeer(t, loginOK(func(r request) reply {
		switch r.code {
		case wire.CmdJoinConsumerGroup:
			if r.conn > 1 {
				return fail(wire.ErrConsumerGroupIdNotFound)
			}
			return ok(nil)
		case wire.CmdGetStreams:
			if streams.Add(1) == 1 {
				return reply{close: true}
			}
		}
		return ok(nil)
	}))
	c := dialTest(t, p, nil)
	ctx := context.Background()
	if err := c.JoinGroup(ctx, ID(1), ID(2), Name("workers")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Streams(ctx); err != nil {
		t.Fatalf("call after reconnect with a vanished group: %v", err)
	}
	if _, err := c.Streams(ctx); err != nil {
		t.Fatal(err)
	}
	joins := 0
	for _, r := range p.requests() {
		if r.code == wire.CmdJoinConsumerGroup {
			joins++
		}
	}
	if joins != 2 {
		t.Fatalf("%d joins, want 2 (the first and one failed rejoin)", joins)
	}
}
