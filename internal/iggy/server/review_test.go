package server

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// A session of a deleted user must not inherit the rights of a user created
// afterwards with the reused id.
func TestDeletedUserSessionDoesNotInheritReusedID(t *testing.T) {
	srv := startServer(t, Config{})
	root := rootClient(t, srv.Addr())
	root.ok(wire.CmdCreateUser, createUserPayload("alice", "secret1", 1, nil))
	alice := newClient(t, srv)
	aliceID := alice.login("alice", "secret1")
	alice.expect(wire.ErrUnauthorized, wire.CmdGetUsers, nil)

	root.ok(wire.CmdDeleteUser, idStr("alice"))
	all := wire.Permissions{Global: wire.GlobalPermissions{ManageUsers: true, ReadUsers: true}}
	body := root.ok(wire.CmdCreateUser, createUserPayload("mallory", "secret2", 1, &all))
	if id := uint32(body[0]) | uint32(body[1])<<8 | uint32(body[2])<<16 | uint32(body[3])<<24; id != aliceID {
		t.Fatalf("new user got id %d, want the reused %d (test premise)", id, aliceID)
	}
	alice.expect(wire.ErrUnauthenticated, wire.CmdGetUsers, nil)
}

// A poll's response is bounded in bytes, however many messages are asked
// for: before, only the gaps between 4096-message chunks were checked, so
// large messages made one read (and the response, whose length is a u32)
// unbounded. At least one message is always returned.
func TestPollResponseBoundedInBytes(t *testing.T) {
	forEachStorage(t, Config{MaxPollBytes: 10_000}, func(t *testing.T, cfg Config) {
		srv, c, s, tp := serveTopic(t, cfg, 1)
		_ = srv
		big := make([]byte, 3000)
		for i := 0; i < 20; i++ {
			big[0] = byte(i)
			c.send(s, tp, partitionID(0), big)
		}
		var got []uint64
		for from := uint64(0); from < 20; {
			body := c.ok(wire.CmdPollMessages, pollPayload(consumerOf(1), s, tp, somePartition(0), pollOffset, from, 1000, false))
			if len(body) > wire.PollHeaderSize+10_000+3100 {
				t.Fatalf("poll from %d answered with %d bytes, cap 10000 (+ one message)", from, len(body))
			}
			p := parsePolled(t, body)
			if len(p.offsets) == 0 {
				t.Fatalf("poll from %d returned nothing", from)
			}
			got = append(got, p.offsets...)
			from = p.offsets[len(p.offsets)-1] + 1
		}
		for i, o := range got {
			if o != uint64(i) {
				t.Fatalf("offsets %v", got)
			}
		}
		// One message larger than the cap still comes back, alone.
		huge := make([]byte, 12_000)
		c.send(s, tp, partitionID(0), huge)
		c.send(s, tp, partitionID(0), huge)
		p := c.poll(consumerOf(1), s, tp, somePartition(0), pollOffset, 20, 10, false)
		if len(p.offsets) != 1 || p.offsets[0] != 20 {
			t.Fatalf("oversized message poll: offsets %v", p.offsets)
		}
	})
}

// A new partition starts empty even when a deleted one's directory is still
// there under its path (its removal failed, or a crash interrupted it):
// otherwise a reused stream id resurrected the deleted stream's messages.
func TestNewPartitionIgnoresLeftoverData(t *testing.T) {
	dir := t.TempDir()
	_, c, s, tp := serveTopic(t, Config{DataDir: dir}, 1)
	c.send(s, tp, partitionID(0), []byte("old secret"))
	part := filepath.Join(dir, "streams", "0", "topics", "0", "partitions", "0")
	saved := filepath.Join(t.TempDir(), "p")
	if err := os.CopyFS(saved, os.DirFS(part)); err != nil {
		t.Fatal(err)
	}
	c.ok(wire.CmdDeleteStream, idNum(s))
	// The deleted stream's partition is back, as a failed removal leaves it.
	if err := os.CopyFS(part, os.DirFS(saved)); err != nil {
		t.Fatal(err)
	}
	s2 := c.createStream("s2")
	tp2 := c.createTopic(s2, "t", 1)
	if s2 != s || tp2 != tp {
		t.Fatalf("ids %d/%d, want the reused %d/%d (test premise)", s2, tp2, s, tp)
	}
	if p := c.poll(consumerOf(1), s2, tp2, somePartition(0), pollFirst, 0, 10, false); len(p.offsets) != 0 {
		t.Fatalf("new topic holds the deleted stream's messages: %q", p.payloads)
	}
}

// A consumer group created with the id of a deleted one starts without
// stored offsets, even when the deleted group's offsets survived (a crash
// between saving the metadata and deleting them): otherwise its members
// skipped every message up to the old offset.
func TestNewGroupIgnoresLeftoverOffsets(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Fsync: FsyncAlways}
	srv, c, s, tp := serveTopic(t, cfg, 1)
	for i := 0; i < 5; i++ {
		c.send(s, tp, partitionID(0), []byte{byte(i)})
	}
	c.ok(wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	c.ok(wire.CmdJoinConsumerGroup, groupIDs(s, tp, 0))
	c.ok(wire.CmdStoreConsumerOffset, cat(groupOf(0), idNum(s), idNum(tp), somePartition(0), u64b(4)))
	offsets := filepath.Join(dir, "streams", "0", "topics", "0", "partitions", "0", "offsets", "group-0")
	saved, err := os.ReadFile(offsets)
	if err != nil {
		t.Fatal(err)
	}
	c.ok(wire.CmdDeleteConsumerGroup, groupIDs(s, tp, 0))
	stopServer(t, srv)
	// The state a crash after the metadata save leaves.
	if err := os.WriteFile(offsets, saved, 0o644); err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, cfg)
	c = rootClient(t, srv.Addr())
	c.ok(wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g2")))
	c.ok(wire.CmdJoinConsumerGroup, groupIDs(s, tp, 0))
	if b := c.ok(wire.CmdGetConsumerOffset, cat(groupOf(0), idNum(s), idNum(tp), somePartition(0))); len(b) != 0 {
		t.Fatalf("new group inherited an offset: %x", b)
	}
	if p := c.poll(groupOf(0), s, tp, noPartition(), pollNext, 0, 10, false); len(p.offsets) != 5 {
		t.Fatalf("new group polls offsets %v, want all 5", p.offsets)
	}
}

// Deleting a user takes its sessions out of their consumer groups: signed
// out, they can no longer poll, so the partitions they held would starve.
func TestDeletedUserLeavesGroups(t *testing.T) {
	srv, root, s, tp := serveTopic(t, Config{}, 2)
	all := wire.Permissions{Global: wire.GlobalPermissions{PollMessages: true, ReadTopics: true}}
	root.ok(wire.CmdCreateUser, createUserPayload("alice", "secret1", 1, &all))
	root.ok(wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	alice := newClient(t, srv)
	alice.login("alice", "secret1")
	alice.ok(wire.CmdJoinConsumerGroup, groupIDs(s, tp, 0))
	root.ok(wire.CmdJoinConsumerGroup, groupIDs(s, tp, 0))
	if m := groupMembers(t, root.ok(wire.CmdGetConsumerGroup, groupIDs(s, tp, 0))); len(m) != 2 {
		t.Fatalf("members %v", m)
	}
	root.ok(wire.CmdDeleteUser, idStr("alice"))
	m := groupMembers(t, root.ok(wire.CmdGetConsumerGroup, groupIDs(s, tp, 0)))
	if len(m) != 1 {
		t.Fatalf("after deleting alice, members %v", m)
	}
	for _, ps := range m {
		if len(ps) != 2 {
			t.Fatalf("remaining member holds partitions %v, want both", ps)
		}
	}
}
