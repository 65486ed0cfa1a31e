package server

import (
	"encoding/binary"
	"reflect"
	"sort"
	"testing"
	"time"
)

func meID(t *testing.T, c *tclient) uint32 {
	return binary.LittleEndian.Uint32(c.ok(cmdGetMe, nil))
}

func TestConsumerGroupAssignmentAndRebalance(t *testing.T) {
	srv := startServer(t, Config{})
	admin := newClient(t, srv)
	admin.login("iggy", "iggy")
	s := admin.createStream("s")
	tp := admin.createTopic(s, "t", 5)
	admin.ok(cmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	ids := groupIDs(s, tp, 0)

	members := func() map[uint32][]uint32 { return groupMembers(t, admin.ok(cmdGetConsumerGroup, ids)) }

	a, b, c := newClient(t, srv), newClient(t, srv), newClient(t, srv)
	for _, m := range []*tclient{a, b, c} {
		m.login("iggy", "iggy")
	}
	aID, bID, cID := meID(t, a), meID(t, b), meID(t, c)

	a.ok(cmdJoinConsumerGroup, ids)
	if got := members(); !reflect.DeepEqual(got, map[uint32][]uint32{aID: {0, 1, 2, 3, 4}}) {
		t.Fatalf("one member: %v", got)
	}
	b.ok(cmdJoinConsumerGroup, ids)
	want := map[uint32][]uint32{aID: {0, 2, 4}, bID: {1, 3}}
	if got := members(); !reflect.DeepEqual(got, want) {
		t.Fatalf("two members: got %v want %v", got, want)
	}
	c.ok(cmdJoinConsumerGroup, ids)
	want = map[uint32][]uint32{aID: {0, 3}, bID: {1, 4}, cID: {2}}
	if got := members(); !reflect.DeepEqual(got, want) {
		t.Fatalf("three members: got %v want %v", got, want)
	}
	// GetMe lists the joined group.
	me := a.ok(cmdGetMe, nil)
	addrLen := binary.LittleEndian.Uint32(me[9:])
	if n := binary.LittleEndian.Uint32(me[13+addrLen:]); n != 1 {
		t.Fatalf("GetMe lists %d groups, want 1", n)
	}

	b.ok(cmdLeaveConsumerGroup, ids)
	b.expect(StatusConsumerGroupMemberMissing, cmdLeaveConsumerGroup, ids)
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
	admin.ok(cmdCreatePartitions, cat(idNum(s), idNum(tp), u32b(1)))
	if got := members(); !reflect.DeepEqual(got, map[uint32][]uint32{aID: {0, 1, 2, 3, 4, 5}}) {
		t.Fatalf("after adding a partition: %v", got)
	}
}

func TestConsumerGroupPolling(t *testing.T) {
	srv := startServer(t, Config{})
	admin := newClient(t, srv)
	admin.login("iggy", "iggy")
	s := admin.createStream("s")
	tp := admin.createTopic(s, "t", 3)
	for p := uint32(0); p < 3; p++ {
		admin.send(s, tp, partitionID(p), []byte{byte('a' + p)}, []byte{byte('A' + p)})
	}
	admin.ok(cmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	ids := groupIDs(s, tp, 0)

	m1, m2 := newClient(t, srv), newClient(t, srv)
	m1.login("iggy", "iggy")
	m2.login("iggy", "iggy")
	// Not a member yet.
	m1.expect(StatusConsumerGroupMemberMissing, cmdPollMessages, pollPayload(groupOf(0), s, tp, noPartition(), pollNext, 0, 10, true))
	m1.ok(cmdJoinConsumerGroup, ids)
	m2.ok(cmdJoinConsumerGroup, ids)
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
	m2.ok(cmdLeaveConsumerGroup, ids)
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
	srv := startServer(t, Config{})
	c := newClient(t, srv)
	c.login("iggy", "iggy")
	s := c.createStream("s")
	tp := c.createTopic(s, "t", 1)
	c.ok(cmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	c.expect(StatusConsumerGroupNameExists, cmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	c.expect(StatusInvalidConsumerGroupName, cmdCreateConsumerGroup, cat(idNum(s), idNum(tp), []byte{0}))
	c.expect(StatusConsumerGroupIDNotFound, cmdJoinConsumerGroup, groupIDs(s, tp, 7))
	c.expect(StatusTopicIDNotFound, cmdJoinConsumerGroup, groupIDs(s, 9, 0))
	c.expect(StatusStreamIDNotFound, cmdJoinConsumerGroup, groupIDs(9, tp, 0))
	if b := c.ok(cmdGetConsumerGroup, groupIDs(s, tp, 7)); len(b) != 0 {
		t.Fatalf("missing group: %x", b)
	}
	// By name.
	c.ok(cmdJoinConsumerGroup, cat(idNum(s), idNum(tp), idStr("g")))
	list := c.ok(cmdGetConsumerGroups, cat(idNum(s), idNum(tp)))
	if binary.LittleEndian.Uint32(list[8:]) != 1 {
		t.Fatalf("group list: %x", list)
	}
	c.ok(cmdDeleteConsumerGroup, cat(idNum(s), idNum(tp), idStr("g")))
	me := c.ok(cmdGetMe, nil)
	addrLen := binary.LittleEndian.Uint32(me[9:])
	if n := binary.LittleEndian.Uint32(me[13+addrLen:]); n != 0 {
		t.Fatalf("deleted group still listed for the client")
	}
}
