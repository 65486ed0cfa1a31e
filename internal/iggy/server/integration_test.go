package server_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/iggy"
	"github.com/ims-dev/ims/internal/iggy/server"
	"github.com/ims-dev/ims/internal/iggy/wire"
)

// Integration tests of the ims client (package iggy) against the server
// over real TCP, command by command.

// serve starts a server on a free loopback port (in memory unless cfg
// names a data directory) and stops it when the test ends.
var serve = server.StartTestServer

func dial(t testing.TB, srv *server.Server, user, pass string) *iggy.Client {
	t.Helper()
	c, err := iggy.Dial(context.Background(), iggy.Config{Addr: srv.Addr(), Username: user, Password: pass, PingInterval: -1, MaxRetries: -1})
	if err != nil {
		t.Fatalf("dial as %q: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

var (
	id   = wire.NumericID
	name = wire.StringID
)

func TestClientEveryCommand(t *testing.T) {
	ctx := context.Background()
	srv := serve(t, server.Config{DataDir: t.TempDir()})
	c := dial(t, srv, "iggy", "iggy")

	must(t, c.Ping(ctx))
	if uid, ok := c.UserID(); !ok || uid != 0 {
		t.Fatalf("user id %d %v", uid, ok)
	}

	// Streams.
	st, err := c.CreateStream(ctx, "orders")
	must(t, err)
	_, err = c.CreateStream(ctx, "orders")
	wantErr(t, err, wire.ErrStreamNameAlreadyExists)
	if _, found, err := c.Stream(ctx, id(99)); err != nil || found {
		t.Fatalf("missing stream: found %v err %v", found, err)
	}
	must(t, c.UpdateStream(ctx, id(st.ID), "orders-v2"))
	sd, found, err := c.Stream(ctx, name("orders-v2"))
	if err != nil || !found || sd.ID != st.ID {
		t.Fatalf("stream by new name: %+v %v %v", sd, found, err)
	}

	// Topics and partitions.
	td, err := c.CreateTopic(ctx, id(st.ID), iggy.TopicConfig{Name: "fills", Partitions: 3, MessageExpiry: wire.Unlimited, MaxTopicSize: wire.Unlimited})
	must(t, err)
	if len(td.Partitions) != 3 || td.Name != "fills" {
		t.Fatalf("topic %+v", td)
	}
	must(t, c.CreatePartitions(ctx, id(st.ID), id(td.ID), 2))
	must(t, c.DeletePartitions(ctx, id(st.ID), id(td.ID), 1))
	td, _, err = c.Topic(ctx, id(st.ID), name("fills"))
	must(t, err)
	if td.PartitionsCount != 4 {
		t.Fatalf("partitions %d, want 4", td.PartitionsCount)
	}
	must(t, c.UpdateTopic(ctx, id(st.ID), id(td.ID), iggy.TopicConfig{Name: "fills", MessageExpiry: wire.Unlimited, MaxTopicSize: wire.Unlimited, Compression: wire.CompressionGzip}))
	topics, err := c.Topics(ctx, id(st.ID))
	must(t, err)
	if len(topics) != 1 || topics[0].CompressionAlgorithm != wire.CompressionGzip {
		t.Fatalf("topics %+v", topics)
	}

	// Messages: send with headers, poll back, every partitioning.
	hdrs := []wire.Header{{Key: wire.HeaderStr("venue"), Value: wire.HeaderStr("binance")}, {Key: wire.HeaderStr("seq"), Value: wire.HeaderU64(7)}}
	msgs := make([]iggy.Message, 10)
	for i := range msgs {
		msgs[i] = iggy.Message{ID: wire.MessageID{Lo: uint64(i + 1)}, OriginTimestamp: 42, Payload: []byte(fmt.Sprintf("m%d", i)), Headers: hdrs}
	}
	must(t, c.SendMessages(ctx, id(st.ID), id(td.ID), wire.PartitionID(2), msgs...))
	must(t, c.SendMessages(ctx, id(st.ID), id(td.ID), wire.Balanced(), iggy.Message{Payload: []byte("b")}))
	must(t, c.SendMessages(ctx, id(st.ID), id(td.ID), wire.MessagesKey([]byte("BTCUSDT")), iggy.Message{Payload: []byte("k")}))
	var polled iggy.Polled
	req := &iggy.PollRequest{Consumer: wire.NewConsumer(id(1)), TopicRef: wire.TopicRef{Stream: id(st.ID), Topic: id(td.ID)},
		Partition: wire.SomePartition(2), Strategy: wire.PollFromOffset(0), Count: 100}
	must(t, c.Poll(ctx, req, &polled))
	if len(polled.Messages) != 10 || polled.CurrentOffset != 9 {
		t.Fatalf("polled %d messages, current %d", len(polled.Messages), polled.CurrentOffset)
	}
	for i, m := range polled.Messages {
		got, err := m.Headers()
		must(t, err)
		if m.Offset != uint64(i) || string(m.Payload) != fmt.Sprintf("m%d", i) || m.ID.Lo != uint64(i+1) ||
			m.OriginTimestamp != 42 || !reflect.DeepEqual(got, hdrs) {
			t.Fatalf("message %d: %+v headers %v", i, m.MessageHeader, got)
		}
	}
	must(t, c.Flush(ctx, id(st.ID), id(td.ID), 2, true))

	// Offsets.
	cons := wire.NewConsumer(name("reader"))
	must(t, c.StoreOffset(ctx, cons, id(st.ID), id(td.ID), wire.SomePartition(2), 4))
	off, found, err := c.Offset(ctx, cons, id(st.ID), id(td.ID), wire.SomePartition(2))
	if err != nil || !found || off.StoredOffset != 4 || off.CurrentOffset != 9 || off.PartitionID != 2 {
		t.Fatalf("offset %+v %v %v", off, found, err)
	}
	err = c.StoreOffset(ctx, cons, id(st.ID), id(td.ID), wire.SomePartition(2), 50)
	wantErr(t, err, wire.ErrInvalidOffset)
	must(t, c.DeleteOffset(ctx, cons, id(st.ID), id(td.ID), wire.SomePartition(2)))
	wantErr(t, c.DeleteOffset(ctx, cons, id(st.ID), id(td.ID), wire.SomePartition(2)), wire.ErrConsumerOffsetNotFound)
	must(t, c.DeleteSegments(ctx, id(st.ID), id(td.ID), 2, 1))

	// System.
	stats, err := c.Stats(ctx)
	must(t, err)
	if stats.StreamsCount != 1 || stats.TopicsCount != 1 || stats.PartitionsCount != 4 || stats.MessagesCount != 12 || stats.ServerVersion != server.ServerVersion {
		t.Fatalf("stats %+v", stats)
	}
	me, err := c.Me(ctx)
	must(t, err)
	if me.UserID != 0 || me.Transport != 1 {
		t.Fatalf("me %+v", me)
	}
	if d, found, err := c.ClientInfo(ctx, me.ClientID); err != nil || !found || d.ClientID != me.ClientID {
		t.Fatalf("client info %+v %v %v", d, found, err)
	}
	clients, err := c.Clients(ctx)
	must(t, err)
	if len(clients) != 1 {
		t.Fatalf("clients %+v", clients)
	}
	cm, err := c.ClusterMetadata(ctx)
	must(t, err)
	if cm.Name != "single-node" || len(cm.Nodes) != 1 || cm.Nodes[0].Name != "iggy-node" {
		t.Fatalf("cluster %+v", cm)
	}

	// Users and tokens.
	u, err := c.CreateUser(ctx, wire.CreateUser{Username: "trader", Password: "hunter22", Status: wire.UserActive,
		Permissions: &wire.Permissions{Global: wire.GlobalPermissions{ReadStreams: true}}})
	must(t, err)
	if u.Username != "trader" || u.Permissions == nil || !u.Permissions.Global.ReadStreams {
		t.Fatalf("created user %+v", u)
	}
	users, err := c.Users(ctx)
	must(t, err)
	if len(users) != 2 {
		t.Fatalf("users %+v", users)
	}
	newName := "trader2"
	must(t, c.UpdateUser(ctx, id(u.ID), &newName, nil))
	must(t, c.UpdatePermissions(ctx, name("trader2"), &wire.Permissions{Global: wire.GlobalPermissions{PollMessages: true}}))
	must(t, c.ChangePassword(ctx, id(u.ID), "hunter22", "hunter33"))
	ud, found, err := c.User(ctx, name("trader2"))
	if err != nil || !found || ud.Permissions == nil || !ud.Permissions.Global.PollMessages || ud.Permissions.Global.ReadStreams {
		t.Fatalf("user %+v %v %v", ud, found, err)
	}
	tok, err := c.CreateAccessToken(ctx, "ci-token", 0)
	must(t, err)
	toks, err := c.AccessTokens(ctx)
	must(t, err)
	if len(toks) != 1 || toks[0].Name != "ci-token" || toks[0].ExpiryAt != 0 {
		t.Fatalf("tokens %+v", toks)
	}
	pc, err := iggy.Dial(ctx, iggy.Config{Addr: srv.Addr(), Token: tok, PingInterval: -1, MaxRetries: -1})
	must(t, err)
	defer pc.Close()
	if uid, ok := pc.UserID(); !ok || uid != 0 {
		t.Fatalf("token login as %d %v", uid, ok)
	}
	must(t, c.DeleteAccessToken(ctx, "ci-token"))
	must(t, c.DeleteUser(ctx, id(u.ID)))
	_, err = c.Login(ctx, "trader2", "hunter33")
	wantErr(t, err, wire.ErrInvalidCredentials)
	_, err = c.Login(ctx, "iggy", "iggy")
	must(t, err)

	// Purge and delete.
	must(t, c.PurgeTopic(ctx, id(st.ID), id(td.ID)))
	must(t, c.PurgeStream(ctx, id(st.ID)))
	must(t, c.DeleteTopic(ctx, id(st.ID), id(td.ID)))
	wantErr(t, c.DeleteTopic(ctx, id(st.ID), id(td.ID)), wire.ErrTopicIdNotFound)
	must(t, c.DeleteStream(ctx, id(st.ID)))
	wantErr(t, c.DeleteStream(ctx, id(st.ID)), wire.ErrStreamIdNotFound)
	must(t, c.Logout(ctx))
	_, err = c.Streams(ctx)
	wantErr(t, err, wire.ErrUnauthenticated)
}

func groupMembers(t *testing.T, c *iggy.Client, stream, topic uint32) map[uint32][]uint32 {
	t.Helper()
	g, found, err := c.Group(context.Background(), id(stream), id(topic), name("workers"))
	if err != nil || !found {
		t.Fatalf("group: %v %v", found, err)
	}
	out := map[uint32][]uint32{}
	for _, m := range g.Members {
		out[m.ID] = m.Partitions
	}
	return out
}

func TestClientConsumerGroupMembers(t *testing.T) {
	ctx := context.Background()
	srv := serve(t, server.Config{})
	admin := dial(t, srv, "iggy", "iggy")
	st, err := admin.CreateStream(ctx, "s")
	must(t, err)
	td, err := admin.CreateTopic(ctx, id(st.ID), iggy.TopicConfig{Name: "t", Partitions: 4})
	must(t, err)
	g, err := admin.CreateGroup(ctx, id(st.ID), id(td.ID), "workers")
	must(t, err)
	if g.PartitionsCount != 4 || g.MembersCount != 0 {
		t.Fatalf("group %+v", g)
	}
	for p := uint32(0); p < 4; p++ {
		for i := 0; i < 5; i++ {
			must(t, admin.SendMessages(ctx, id(st.ID), id(td.ID), wire.PartitionID(p), iggy.Message{Payload: []byte(fmt.Sprintf("p%d-%d", p, i))}))
		}
	}

	members := make([]*iggy.Client, 3)
	ids := make([]uint32, 3)
	for i := range members {
		members[i] = dial(t, srv, "iggy", "iggy")
		must(t, members[i].JoinGroup(ctx, id(st.ID), id(td.ID), name("workers")))
		me, err := members[i].Me(ctx)
		must(t, err)
		ids[i] = me.ClientID
		if len(me.ConsumerGroups) != 1 || me.ConsumerGroups[0].GroupID != g.ID {
			t.Fatalf("member %d groups %+v", i, me.ConsumerGroups)
		}
	}
	want := map[uint32][]uint32{ids[0]: {0, 3}, ids[1]: {1}, ids[2]: {2}}
	if got := groupMembers(t, admin, st.ID, td.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("three members: got %v want %v", got, want)
	}

	// Every member consumes only its partitions; together they see all.
	seen := map[string]bool{}
	for i, m := range members {
		var p iggy.Polled
		req := &iggy.PollRequest{Consumer: wire.NewGroupConsumer(name("workers")), TopicRef: wire.TopicRef{Stream: id(st.ID), Topic: id(td.ID)},
			Strategy: wire.PollFromNext(), Count: 100, AutoCommit: true}
		for round := 0; round < 3; round++ {
			must(t, m.Poll(ctx, req, &p))
			owned := false
			for _, q := range want[ids[i]] {
				owned = owned || q == p.PartitionID
			}
			if len(p.Messages) > 0 && !owned {
				t.Fatalf("member %d polled partition %d it does not own", i, p.PartitionID)
			}
			for _, msg := range p.Messages {
				if seen[string(msg.Payload)] {
					t.Fatalf("message %s delivered twice", msg.Payload)
				}
				seen[string(msg.Payload)] = true
			}
		}
	}
	if len(seen) != 20 {
		t.Fatalf("the group consumed %d of 20 messages", len(seen))
	}

	// Leave, then disconnect: the rest rebalance.
	must(t, members[1].LeaveGroup(ctx, id(st.ID), id(td.ID), name("workers")))
	wantErr(t, members[1].LeaveGroup(ctx, id(st.ID), id(td.ID), name("workers")), wire.ErrConsumerGroupMemberNotFound)
	want = map[uint32][]uint32{ids[0]: {0, 2}, ids[2]: {1, 3}}
	if got := groupMembers(t, admin, st.ID, td.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("after leave: got %v want %v", got, want)
	}
	must(t, members[2].Close())
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := groupMembers(t, admin, st.ID, td.ID)
		if reflect.DeepEqual(got, map[uint32][]uint32{ids[0]: {0, 1, 2, 3}}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after disconnect: %v", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
	groups, err := admin.Groups(ctx, id(st.ID), id(td.ID))
	must(t, err)
	if len(groups) != 1 || groups[0].MembersCount != 1 {
		t.Fatalf("groups %+v", groups)
	}
	must(t, admin.DeleteGroup(ctx, id(st.ID), id(td.ID), name("workers")))
	if _, found, err := admin.Group(ctx, id(st.ID), id(td.ID), name("workers")); err != nil || found {
		t.Fatalf("deleted group found %v err %v", found, err)
	}
}

func TestClientPermissions(t *testing.T) {
	ctx := context.Background()
	srv := serve(t, server.Config{})
	root := dial(t, srv, "iggy", "iggy")
	mine, err := root.CreateStream(ctx, "mine")
	must(t, err)
	other, err := root.CreateStream(ctx, "other")
	must(t, err)
	_, err = root.CreateTopic(ctx, id(mine.ID), iggy.TopicConfig{Name: "t", Partitions: 1})
	must(t, err)
	_, err = root.CreateTopic(ctx, id(other.ID), iggy.TopicConfig{Name: "t", Partitions: 1})
	must(t, err)
	_, err = root.CreateUser(ctx, wire.CreateUser{Username: "limited", Password: "limited1", Status: wire.UserActive,
		Permissions: &wire.Permissions{Streams: map[uint32]wire.StreamPermissions{
			mine.ID: {ReadStream: true, Topics: map[uint32]wire.TopicPermissions{0: {SendMessages: true, PollMessages: true}}},
		}}})
	must(t, err)
	u := dial(t, srv, "limited", "limited1")
	streams, err := u.Streams(ctx)
	must(t, err)
	if len(streams) != 1 || streams[0].Name != "mine" {
		t.Fatalf("limited user sees %+v", streams)
	}
	_, _, err = u.Stream(ctx, name("other"))
	wantErr(t, err, wire.ErrUnauthorized)
	wantErr(t, u.SendMessages(ctx, id(other.ID), id(0), wire.Balanced(), iggy.Message{Payload: []byte("x")}), wire.ErrUnauthorized)
	wantErr(t, u.DeleteStream(ctx, id(mine.ID)), wire.ErrUnauthorized)
	_, err = u.CreateStream(ctx, "new")
	wantErr(t, err, wire.ErrUnauthorized)
	_, err = u.Users(ctx)
	wantErr(t, err, wire.ErrUnauthorized)
	must(t, u.SendMessages(ctx, id(mine.ID), id(0), wire.Balanced(), iggy.Message{Payload: []byte("ok")}))
	var p iggy.Polled
	must(t, u.Poll(ctx, &iggy.PollRequest{Consumer: wire.NewConsumer(id(1)), TopicRef: wire.TopicRef{Stream: id(mine.ID), Topic: id(0)},
		Strategy: wire.PollFromFirst(), Count: 10}, &p))
	if len(p.Messages) != 1 {
		t.Fatalf("limited user polled %d", len(p.Messages))
	}
	err = u.Poll(ctx, &iggy.PollRequest{Consumer: wire.NewConsumer(id(1)), TopicRef: wire.TopicRef{Stream: id(other.ID), Topic: id(0)},
		Strategy: wire.PollFromFirst(), Count: 10}, &p)
	wantErr(t, err, wire.ErrUnauthorized)
}

// Iggy refuses a stored offset only past the current offset, which is 0 for
// an empty partition too; both stores must agree.
func TestStoreOffsetOnEmptyPartition(t *testing.T) {
	bothStores(t, server.Config{}, func(t *testing.T, cfg server.Config) {
		ctx := context.Background()
		c := dial(t, serve(t, cfg), "iggy", "iggy")
		st, err := c.CreateStream(ctx, "s")
		must(t, err)
		td, err := c.CreateTopic(ctx, id(st.ID), iggy.TopicConfig{Name: "t", Partitions: 1, MessageExpiry: wire.Unlimited, MaxTopicSize: wire.Unlimited})
		must(t, err)
		cons := wire.NewConsumer(id(7))
		p0 := wire.SomePartition(td.Partitions[0].ID)
		wantErr(t, c.StoreOffset(ctx, cons, id(st.ID), id(td.ID), p0, 1), wire.ErrInvalidOffset)
		must(t, c.StoreOffset(ctx, cons, id(st.ID), id(td.ID), p0, 0))
		off, found, err := c.Offset(ctx, cons, id(st.ID), id(td.ID), p0)
		if err != nil || !found || off.StoredOffset != 0 || off.CurrentOffset != 0 {
			t.Fatalf("offset %+v found %v err %v", off, found, err)
		}
	})
}

// DeleteSegments keeps every segment holding offsets past the lowest stored
// consumer offset (Iggy 0.8), in memory as on disk.
func TestDeleteSegmentsKeepsUncommitted(t *testing.T) {
	first := map[string][2]uint64{}
	bothStores(t, server.Config{SegmentSize: 4096}, func(t *testing.T, cfg server.Config) {
		ctx := context.Background()
		c := dial(t, serve(t, cfg), "iggy", "iggy")
		st, err := c.CreateStream(ctx, "s")
		must(t, err)
		td, err := c.CreateTopic(ctx, id(st.ID), iggy.TopicConfig{Name: "t", Partitions: 1, MessageExpiry: wire.Unlimited, MaxTopicSize: wire.Unlimited})
		must(t, err)
		pid := td.Partitions[0].ID
		for range 20 {
			batch := make([]iggy.Message, 10)
			for i := range batch {
				batch[i] = iggy.Message{Payload: make([]byte, 100)}
			}
			must(t, c.SendMessages(ctx, id(st.ID), id(td.ID), wire.PartitionID(pid), batch...))
		}
		firstOffset := func() uint64 {
			var polled iggy.Polled
			req := &iggy.PollRequest{Consumer: wire.NewConsumer(id(9)), TopicRef: wire.TopicRef{Stream: id(st.ID), Topic: id(td.ID)},
				Partition: wire.SomePartition(pid), Strategy: wire.PollFromFirst(), Count: 1}
			must(t, c.Poll(ctx, req, &polled))
			if len(polled.Messages) != 1 {
				t.Fatalf("polled %d messages", len(polled.Messages))
			}
			return polled.Messages[0].Offset
		}
		cons := wire.NewConsumer(id(1))
		must(t, c.StoreOffset(ctx, cons, id(st.ID), id(td.ID), wire.SomePartition(pid), 50))
		must(t, c.DeleteSegments(ctx, id(st.ID), id(td.ID), pid, 1000))
		kept := firstOffset()
		if kept == 0 || kept > 51 {
			t.Fatalf("first offset %d after deleting below committed offset 50", kept)
		}
		must(t, c.DeleteOffset(ctx, cons, id(st.ID), id(td.ID), wire.SomePartition(pid)))
		must(t, c.DeleteSegments(ctx, id(st.ID), id(td.ID), pid, 1000))
		active := firstOffset()
		if active <= 51 || active > 199 {
			t.Fatalf("first offset %d with no stored offsets left", active)
		}
		first[t.Name()[strings.LastIndexByte(t.Name(), '/')+1:]] = [2]uint64{kept, active}
	})
	if first["memory"] != first["disk"] {
		t.Fatalf("stores differ: memory %v, disk %v", first["memory"], first["disk"])
	}
}

// bothStores runs f as subtests "memory" and "disk" (cfg with a fresh data
// directory): the two stores must behave alike.
func bothStores(t *testing.T, cfg server.Config, f func(t *testing.T, cfg server.Config)) {
	t.Run("memory", func(t *testing.T) { f(t, cfg) })
	t.Run("disk", func(t *testing.T) {
		disk := cfg
		disk.DataDir = t.TempDir()
		f(t, disk)
	})
}
