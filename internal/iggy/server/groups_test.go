package server

import (
	"encoding/binary"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

func meID(t *testing.T, c *tclient) uint32 {
	return binary.LittleEndian.Uint32(c.ok(wire.CmdGetMe, nil))
}

func TestConsumerGroupAssignmentAndRebalance(t *testing.T) {
	srv, admin, s, tp := serveTopic(t, Config{}, 5)
	admin.ok(wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	ids := groupIDs(s, tp, 0)

	members := func() map[uint32][]uint32 { return groupMembers(t, admin.ok(wire.CmdGetConsumerGroup, ids)) }

	a, b, c := newClient(t, srv), newClient(t, srv), newClient(t, srv)
	for _, m := range []*tclient{a, b, c} {
		m.login("iggy", "iggy")
	}
	aID, bID, cID := meID(t, a), meID(t, b), meID(t, c)

	a.ok(wire.CmdJoinConsumerGroup, ids)
	if got := members(); !reflect.DeepEqual(got, map[uint32][]uint32{aID: {0, 1, 2, 3, 4}}) {
		t.Fatalf("one member: %v", got)
	}
	b.ok(wire.CmdJoinConsumerGroup, ids)
	want := map[uint32][]uint32{aID: {0, 2, 4}, bID: {1, 3}}
	if got := members(); !reflect.DeepEqual(got, want) {
		t.Fatalf("two members: got %v want %v", got, want)
	}
	c.ok(wire.CmdJoinConsumerGroup, ids)
	want = map[uint32][]uint32{aID: {0, 3}, bID: {1, 4}, cID: {2}}
	if got := members(); !reflect.DeepEqual(got, want) {
		t.Fatalf("three members: got %v want %v", got, want)
	}
	// GetMe lists the joined group.
	me := a.ok(wire.CmdGetMe, nil)
	addrLen := binary.LittleEndian.Uint32(me[9:])
	if n := binary.LittleEndian.Uint32(me[13+addrLen:]); n != 1 {
		t.Fatalf("GetMe lists %d groups, want 1", n)
	}

	b.ok(wire.CmdLeaveConsumerGroup, ids)
	b.expect(wire.ErrConsumerGroupMemberNotFound, wire.CmdLeaveConsumerGroup, ids)
	want = map[uint32][]uint32{aID: {0, 2, 4}, cID: {1, 3}}
	if got := members(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after leave: got %v want %v", got, want)
	}

	// A disconnect leaves the group too.
	_ = c.c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := members()
		if reflect.DeepEqual(got, map[uint32][]uint32{aID: {0, 1, 2, 3, 4}}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after disconnect: %v", got)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// Adding partitions rebalances.
	admin.ok(wire.CmdCreatePartitions, cat(idNum(s), idNum(tp), u32b(1)))
	if got := members(); !reflect.DeepEqual(got, map[uint32][]uint32{aID: {0, 1, 2, 3, 4, 5}}) {
		t.Fatalf("after adding a partition: %v", got)
	}
}

func TestConsumerGroupPolling(t *testing.T) {
	srv, admin, s, tp := serveTopic(t, Config{}, 3)
	for p := uint32(0); p < 3; p++ {
		admin.send(s, tp, partitionID(p), []byte{byte('a' + p)}, []byte{byte('A' + p)})
	}
	admin.ok(wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	ids := groupIDs(s, tp, 0)

	m1, m2 := newClient(t, srv), newClient(t, srv)
	m1.login("iggy", "iggy")
	m2.login("iggy", "iggy")
	// Not a member yet.
	m1.expect(wire.ErrConsumerGroupMemberNotFound, wire.CmdPollMessages, pollPayload(groupOf(0), s, tp, noPartition(), pollNext, 0, 10, true))
	m1.ok(wire.CmdJoinConsumerGroup, ids)
	m2.ok(wire.CmdJoinConsumerGroup, ids)
	// m1 owns partitions 0 and 2 (lower client id), m2 owns 1.
	seen := map[uint32]int{}
	for i := 0; i < 4; i++ {
		p := m1.poll(groupOf(0), s, tp, noPartition(), pollNext, 0, 10, true)
		seen[p.partition] += len(p.payloads)
	}
	if !reflect.DeepEqual(seen, map[uint32]int{0: 2, 2: 2}) {
		t.Fatalf("m1 polled %v, want partitions 0 and 2 in turn with 2 messages each once", seen)
	}
	p := m2.poll(groupOf(0), s, tp, noPartition(), pollNext, 0, 10, true)
	if p.partition != 1 || len(p.payloads) != 2 {
		t.Fatalf("m2 polled partition %d with %d messages", p.partition, len(p.payloads))
	}
	// Auto-commit stored the group's offset: nothing new on the next poll.
	p = m2.poll(groupOf(0), s, tp, noPartition(), pollNext, 0, 10, true)
	if len(p.payloads) != 0 {
		t.Fatalf("m2 re-polled %d messages after commit", len(p.payloads))
	}
	// Explicit partition the member does not own: empty.
	p = m2.poll(groupOf(0), s, tp, somePartition(0), pollOffset, 0, 10, false)
	if len(p.payloads) != 0 {
		t.Fatalf("m2 read partition 0 it does not own")
	}
	// The group's offsets survive members leaving: m2 leaves, m1 gets
	// partition 1 and continues after the committed offset.
	m2.ok(wire.CmdLeaveConsumerGroup, ids)
	admin.send(s, tp, partitionID(1), []byte("new"))
	var got []string
	for i := 0; i < 3; i++ {
		p := m1.poll(groupOf(0), s, tp, noPartition(), pollNext, 0, 10, true)
		for _, pl := range p.payloads {
			got = append(got, string(pl))
		}
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, []string{"new"}) {
		t.Fatalf("after rebalance m1 polled %q, want only the new message", got)
	}
}

func TestConsumerGroupErrors(t *testing.T) {
	_, c, s, tp := serveTopic(t, Config{}, 1)
	c.ok(wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	c.expect(wire.ErrConsumerGroupNameAlreadyExists, wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	// An empty name fails Iggy 0.8's name decoding (a validation error,
	// InvalidFormat) before any handler sees it.
	c.expect(wire.ErrInvalidFormat, wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), []byte{0}))
	c.expect(wire.ErrConsumerGroupIdNotFound, wire.CmdJoinConsumerGroup, groupIDs(s, tp, 7))
	c.expect(wire.ErrTopicIdNotFound, wire.CmdJoinConsumerGroup, groupIDs(s, 9, 0))
	c.expect(wire.ErrStreamIdNotFound, wire.CmdJoinConsumerGroup, groupIDs(9, tp, 0))
	if b := c.ok(wire.CmdGetConsumerGroup, groupIDs(s, tp, 7)); len(b) != 0 {
		t.Fatalf("missing group: %x", b)
	}
	// By name.
	c.ok(wire.CmdJoinConsumerGroup, cat(idNum(s), idNum(tp), idStr("g")))
	list := c.ok(wire.CmdGetConsumerGroups, cat(idNum(s), idNum(tp)))
	if binary.LittleEndian.Uint32(list[8:]) != 1 {
		t.Fatalf("group list: %x", list)
	}
	c.ok(wire.CmdDeleteConsumerGroup, cat(idNum(s), idNum(tp), idStr("g")))
	me := c.ok(wire.CmdGetMe, nil)
	addrLen := binary.LittleEndian.Uint32(me[9:])
	if n := binary.LittleEndian.Uint32(me[13+addrLen:]); n != 0 {
		t.Fatalf("deleted group still listed for the client")
	}
}
