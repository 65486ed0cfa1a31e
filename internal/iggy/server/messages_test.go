package server

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

func TestPollStrategies(t *testing.T) {
	var now atomic.Int64
	now.Store(1_000_000)
	_, c, s, tp := serveTopic(t, Config{Now: func() time.Time { return time.UnixMicro(now.Load()) }}, 1)
	for i := 0; i < 10; i++ {
		c.send(s, tp, partitionID(0), []byte(fmt.Sprint(i)))
		now.Add(10)
	}
	p0 := somePartition(0)
	check := func(name string, p polled, first uint64, n int) {
		t.Helper()
		if len(p.offsets) != n || (n > 0 && p.offsets[0] != first) || p.current != 9 {
			t.Fatalf("%s: offsets %v current %d, want %d from %d", name, p.offsets, p.current, n, first)
		}
		for i, o := range p.offsets {
			if o != first+uint64(i) || string(p.payloads[i]) != fmt.Sprint(o) {
				t.Fatalf("%s: message %d is offset %d payload %q", name, i, o, p.payloads[i])
			}
		}
	}
	check("offset 3", c.poll(consumerOf(1), s, tp, p0, pollOffset, 3, 4, false), 3, 4)
	check("offset past end", c.poll(consumerOf(1), s, tp, p0, pollOffset, 10, 4, false), 0, 0)
	check("first", c.poll(consumerOf(1), s, tp, p0, pollFirst, 0, 3, false), 0, 3)
	check("last", c.poll(consumerOf(1), s, tp, p0, pollLast, 0, 3, false), 7, 3)
	check("last more than stored", c.poll(consumerOf(1), s, tp, p0, pollLast, 0, 30, false), 0, 10)
	check("timestamp", c.poll(consumerOf(1), s, tp, p0, pollTimestamp, 1_000_045, 2, false), 5, 2)
	check("timestamp after all", c.poll(consumerOf(1), s, tp, p0, pollTimestamp, 2_000_000, 2, false), 0, 0)
	check("count 0", c.poll(consumerOf(1), s, tp, p0, pollFirst, 0, 0, false), 0, 0)
	// Next without a stored offset starts at the first message, and with
	// auto-commit continues where it stopped.
	check("next 1", c.poll(consumerOf(2), s, tp, p0, pollNext, 0, 4, true), 0, 4)
	check("next 2", c.poll(consumerOf(2), s, tp, p0, pollNext, 0, 4, true), 4, 4)
	check("next 3", c.poll(consumerOf(2), s, tp, p0, pollNext, 0, 4, true), 8, 2)
	check("next 4", c.poll(consumerOf(2), s, tp, p0, pollNext, 0, 4, true), 0, 0)
	// A regular consumer without a partition reads partition 0; a string
	// consumer id works the same way.
	check("no partition", c.poll(cat([]byte{1}, idStr("reader")), s, tp, noPartition(), pollNext, 0, 5, true), 0, 5)
	check("string id keeps its offset", c.poll(cat([]byte{1}, idStr("reader")), s, tp, noPartition(), pollNext, 0, 5, true), 5, 5)
	c.expect(wire.ErrPartitionNotFound, wire.CmdPollMessages, pollPayload(consumerOf(1), s, tp, somePartition(3), pollFirst, 0, 1, false))
	// An unknown polling kind is an unknown discriminant to Iggy 0.8's
	// decoder: InvalidCommand.
	c.expect(wire.ErrInvalidCommand, wire.CmdPollMessages, pollPayload(consumerOf(1), s, tp, p0, 9, 0, 1, false))

	// Offsets: store, get, delete.
	off := cat(consumerOf(7), idNum(s), idNum(tp), p0)
	if b := c.ok(wire.CmdGetConsumerOffset, off); len(b) != 0 {
		t.Fatalf("offset before store: %x", b)
	}
	c.ok(wire.CmdStoreConsumerOffset, cat(off, u64b(6)))
	b := c.ok(wire.CmdGetConsumerOffset, off)
	if binary.LittleEndian.Uint32(b) != 0 || binary.LittleEndian.Uint64(b[4:]) != 9 || binary.LittleEndian.Uint64(b[12:]) != 6 {
		t.Fatalf("offset %x", b)
	}
	check("next after store", c.poll(consumerOf(7), s, tp, p0, pollNext, 0, 10, false), 7, 3)
	c.ok(wire.CmdDeleteConsumerOffset, off)
	c.expect(wire.ErrConsumerOffsetNotFound, wire.CmdDeleteConsumerOffset, off)

	// Storing beyond the newest message is refused.
	c.expect(wire.ErrInvalidOffset, wire.CmdStoreConsumerOffset, cat(off, u64b(10)))
	// Purge empties the partition, forgets consumer offsets and restarts
	// offsets at 0, as Iggy does.
	c.ok(wire.CmdStoreConsumerOffset, cat(off, u64b(6)))
	c.ok(wire.CmdPurgeTopic, cat(idNum(s), idNum(tp)))
	if p := c.poll(consumerOf(1), s, tp, p0, pollFirst, 0, 10, false); len(p.offsets) != 0 || p.current != 0 {
		t.Fatalf("after purge: offsets %v current %d", p.offsets, p.current)
	}
	if b := c.ok(wire.CmdGetConsumerOffset, off); len(b) != 0 {
		t.Fatalf("offset survived purge: %x", b)
	}
	c.send(s, tp, partitionID(0), []byte("0"))
	if p := c.poll(consumerOf(1), s, tp, p0, pollFirst, 0, 10, false); len(p.offsets) != 1 || p.offsets[0] != 0 || p.current != 0 {
		t.Fatalf("after purge and send: offsets %v current %d", p.offsets, p.current)
	}
}

func TestStoredFramesAreValid(t *testing.T) {
	_, c, s, tp := serveTopic(t, Config{}, 1)
	c.send(s, tp, balanced(), []byte("a"), []byte("bb"), []byte("ccc"))
	b := c.ok(wire.CmdPollMessages, pollPayload(consumerOf(1), s, tp, noPartition(), pollFirst, 0, 10, false))
	off := 16
	ids := map[[16]byte]bool{}
	for i := 0; i < 3; i++ {
		f := wire.Frame(b[off:])
		fl := f.Size()
		if got, want := binary.LittleEndian.Uint64(f), xxh3.Hash(f[8:fl]); got != want {
			t.Fatalf("message %d checksum %x, want %x", i, got, want)
		}
		var id [16]byte
		copy(id[:], f[8:24]) // the u128 id (§5.1)
		if id == ([16]byte{}) || ids[id] {
			t.Fatalf("message %d id %x not assigned or not unique", i, id)
		}
		ids[id] = true
		off += fl
	}
}

// Offsets of two message header fields (docs/iggy-protocol.md §5.1) that
// TestSendValidation corrupts.
const (
	payloadLengthAt = 52
	reservedAt      = 56
)

// TestSendValidation checks every batch check of §5.2 and that the
// connection stays usable after each.
func TestSendValidation(t *testing.T) {
	_, c, s, tp := serveTopic(t, Config{}, 2)
	good := sendPayload(s, tp, balanced(), []byte("hello"), []byte("world"))
	metaLen := int(binary.LittleEndian.Uint32(good))
	idx := 4 + metaLen
	msgs := idx + 32
	mut := func(f func(b []byte) []byte) []byte {
		b := append([]byte(nil), good...)
		return f(b)
	}
	cases := []struct {
		name string
		req  []byte
		want *wire.Error
	}{
		{"empty batch", sendPayload(s, tp, balanced()), wire.ErrInvalidMessagesCount},
		{"stream missing", sendPayload(9, tp, balanced(), []byte("x")), wire.ErrStreamIdNotFound},
		{"topic missing", sendPayload(s, 9, balanced(), []byte("x")), wire.ErrTopicIdNotFound},
		{"partition missing", sendPayload(s, tp, partitionID(2), []byte("x")), wire.ErrPartitionNotFound},
		{"empty payload", sendPayload(s, tp, balanced(), []byte{}), wire.ErrEmptyMessagePayload},
		{"non-zero relative offset", mut(func(b []byte) []byte { b[idx] = 1; return b }), wire.ErrNonZeroOffset},
		{"non-zero index timestamp", mut(func(b []byte) []byte { b[idx+8] = 1; return b }), wire.ErrNonZeroTimestamp},
		{"index beyond messages", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[idx+20:], 1000); return b }), wire.ErrInvalidMessagesSize},
		{"index too small", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[idx+4:], 10); return b }), wire.ErrTooSmallMessage},
		{"payload length mismatch", mut(func(b []byte) []byte { b[msgs+payloadLengthAt]++; return b }), wire.ErrInvalidMessagePayloadLength},
		{"reserved set", mut(func(b []byte) []byte { b[msgs+reservedAt] = 1; return b }), wire.ErrInvalidReservedField},
		{"trailing bytes", mut(func(b []byte) []byte { return append(b, 0) }), wire.ErrInvalidMessagesSize},
		// The index holds fewer entries than the count claims (Iggy's
		// "indexes count does not match messages count").
		{"count larger than index", mut(func(b []byte) []byte { b[metaLen] = 200; return b }), wire.ErrInvalidIndexesCount},
		{"metadata length wrong", mut(func(b []byte) []byte { b[0]++; return b }), wire.ErrInvalidFormat},
		// An unknown partitioning kind is an unknown discriminant.
		{"bad partitioning", mut(func(b []byte) []byte { b[4+12] = 7; return b }), wire.ErrInvalidCommand},
		{"truncated", good[:10], wire.ErrInvalidCommand},
	}
	for _, tc := range cases {
		if st, _ := c.call(wire.CmdSendMessages, tc.req); st != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, st, tc.want)
		}
		c.ok(wire.CmdPing, nil)
	}
	// Nothing invalid was stored.
	c.send(s, tp, partitionID(0), []byte("ok"))
	p := c.poll(consumerOf(1), s, tp, somePartition(0), pollFirst, 0, 100, false)
	if len(p.payloads) != 1 || string(p.payloads[0]) != "ok" {
		t.Fatalf("partition 0 holds %q", p.payloads)
	}
}

func TestTopicErrorsAndDefaults(t *testing.T) {
	srv := startServer(t, Config{SegmentSize: 1 << 20, MessageExpiry: time.Hour, MaxTopicSize: 8 << 20})
	c := rootClient(t, srv.Addr())
	s := c.createStream("s")
	// Empty names fail Iggy 0.8's name decoding: InvalidFormat.
	c.expect(wire.ErrInvalidFormat, wire.CmdCreateStream, []byte{0})
	c.expect(wire.ErrTooManyPartitions, wire.CmdCreateTopic, topicPayload(idNum(s), 1001, 0, 0, "t"))
	c.expect(wire.ErrInvalidTopicSize, wire.CmdCreateTopic, topicPayload(idNum(s), 1, 0, 1000, "t"))
	c.expect(wire.ErrInvalidFormat, wire.CmdCreateTopic, topicPayload(idNum(s), 1, 0, 0, ""))
	c.expect(wire.ErrStreamIdNotFound, wire.CmdCreateTopic, topicPayload(idNum(5), 1, 0, 0, "t"))
	bad := topicPayload(idNum(s), 1, 0, 0, "t")
	bad[6+4] = 0 // compression 0
	c.expect(wire.ErrInvalidCommand, wire.CmdCreateTopic, bad)
	b := c.ok(wire.CmdCreateTopic, topicPayload(idNum(s), 0, 0, 0, "t"))
	if exp := binary.LittleEndian.Uint64(b[16:]); exp != uint64(time.Hour/time.Microsecond) {
		t.Fatalf("default expiry resolved to %d", exp)
	}
	if size := binary.LittleEndian.Uint64(b[25:]); size != 8<<20 {
		t.Fatalf("default max size resolved to %d", size)
	}
	c.expect(wire.ErrTopicNameAlreadyExists, wire.CmdCreateTopic, topicPayload(idNum(s), 0, 0, 0, "t"))
	c.expect(wire.ErrNoPartitions, wire.CmdSendMessages, sendPayload(s, 0, balanced(), []byte("x")))
	c.expect(wire.ErrInvalidPartitionsCount, wire.CmdDeletePartitions, cat(idNum(s), idNum(0), u32b(1)))
	c.ok(wire.CmdUpdateTopic, cat(idNum(s), idNum(0), []byte{2}, u64b(math.MaxUint64), u64b(math.MaxUint64), []byte{1}, name8("t2")))
	b = c.ok(wire.CmdGetTopic, cat(idNum(s), idStr("t2")))
	if b[24] != 2 || binary.LittleEndian.Uint64(b[16:]) != math.MaxUint64 {
		t.Fatalf("update not applied: %x", b)
	}
}

func TestFraming(t *testing.T) {
	srv := startServer(t, Config{MaxBatchBytes: 1 << 20})
	c := newClient(t, srv)
	// A command beyond 10 MB is refused and the connection closed.
	hdr := binary.LittleEndian.AppendUint32(nil, 20_000_000)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(wire.CmdCreateStream))
	if got := c.do(hdr); statusOf(got) != wire.ErrInvalidCommand {
		t.Fatalf("oversized control frame: %x", got)
	}
	_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("connection not closed after an oversized frame: %v", err)
	}
	// An oversized send is drained and refused; the connection stays.
	c = rootClient(t, srv.Addr())
	big := make([]byte, 2<<20)
	if st, _ := c.call(wire.CmdSendMessages, big); st != wire.ErrInvalidSizeBytes {
		t.Fatalf("oversized send: %v", st)
	}
	c.ok(wire.CmdPing, nil)
	// length < 4 cannot be framed: error and close.
	c2 := newClient(t, srv)
	if got := c2.do([]byte{1, 0, 0, 0, 1, 0, 0, 0}); statusOf(got) != wire.ErrInvalidCommand {
		t.Fatalf("short length: %x", got)
	}
	// Snapshot is not offered.
	c.expect(wire.ErrFeatureUnavailable, wire.CmdGetSnapshotFile, nil)
	// Unauthenticated commands.
	c3 := newClient(t, srv)
	for _, code := range []wire.Command{wire.CmdGetStats, wire.CmdGetMe, wire.CmdGetClients, wire.CmdSendMessages, wire.CmdPollMessages, wire.CmdCreateStream, wire.CmdGetClusterMetadata} {
		c3.expect(wire.ErrUnauthenticated, code, nil)
	}
}

func TestSystemCommands(t *testing.T) {
	srv, c, s, tp := serveTopic(t, Config{}, 2)
	c.send(s, tp, balanced(), []byte("abc"), []byte("def"))
	c.ok(wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	other := newClient(t, srv)
	other.ok(wire.CmdPing, nil)

	st, err := wire.ParseStats(c.ok(wire.CmdGetStats, nil))
	if err != nil {
		t.Fatalf("stats malformed: %v", err)
	}
	if st.StreamsCount != 1 || st.TopicsCount != 1 || st.PartitionsCount != 2 || st.MessagesCount != 2 || st.ClientsCount != 2 || st.ConsumerGroupsCount != 1 {
		t.Fatalf("stats: streams %d topics %d partitions %d messages %d clients %d groups %d",
			st.StreamsCount, st.TopicsCount, st.PartitionsCount, st.MessagesCount, st.ClientsCount, st.ConsumerGroupsCount)
	}
	if st.ServerVersion != ServerVersion || st.ServerSemver != serverSemver {
		t.Fatalf("server version %q semver %d", st.ServerVersion, st.ServerSemver)
	}

	clients, err := wire.ParseClients(c.ok(wire.CmdGetClients, nil))
	if err != nil {
		t.Fatalf("client list malformed: %v", err)
	}
	for n, cl := range clients {
		if _, err := net.ResolveTCPAddr("tcp", cl.Address); err != nil || cl.ClientID == 0 {
			t.Fatalf("client %d addr %q", cl.ClientID, cl.Address)
		}
		if n == 1 && cl.UserID != wire.AnonymousUserID {
			t.Fatalf("anonymous client has user id %d", cl.UserID)
		}
	}
	if len(clients) != 2 {
		t.Fatalf("%d clients listed", len(clients))
	}
	me := c.ok(wire.CmdGetMe, nil)
	if b := c.ok(wire.CmdGetClient, me[:4]); string(b) != string(me) {
		t.Fatalf("GetClient(me) %x != GetMe %x", b, me)
	}
	if b := c.ok(wire.CmdGetClient, u32b(999)); len(b) != 0 {
		t.Fatalf("missing client %x", b)
	}
	cm, err := wire.ParseClusterMetadata(c.ok(wire.CmdGetClusterMetadata, nil))
	if err != nil || cm.Name != "single-node" || len(cm.Nodes) != 1 || cm.Nodes[0].Name != "iggy-node" {
		t.Fatalf("cluster metadata %+v %v", cm, err)
	}
	// The node is where this client connected, so an SDK's leader check
	// never redirects it (a 0.0.0.0 listener must not answer "0.0.0.0").
	if got := net.JoinHostPort(cm.Nodes[0].IP, strconv.Itoa(int(cm.Nodes[0].TCPPort))); got != srv.Addr() {
		t.Fatalf("cluster node address %s, client dialled %s", got, srv.Addr())
	}
}

func TestPollLargeCountInChunks(t *testing.T) {
	_, c, s, tp := serveTopic(t, Config{SegmentSize: 8192}, 1)
	const total = 10000
	for b := 0; b < total/1000; b++ {
		msgs := make([][]byte, 1000)
		for i := range msgs {
			msgs[i] = []byte(fmt.Sprint(b*1000 + i))
		}
		c.send(s, tp, partitionID(0), msgs...)
	}
	c.ok(wire.CmdDeleteSegments, cat(idNum(s), idNum(tp), u32b(0), u32b(1)))
	p := c.poll(consumerOf(1), s, tp, somePartition(0), pollOffset, 0, math.MaxUint32, true)
	if len(p.offsets) == 0 || p.offsets[len(p.offsets)-1] != total-1 {
		t.Fatalf("polled %d messages ending at %v", len(p.offsets), p.offsets[len(p.offsets)-1:])
	}
	for i := 1; i < len(p.offsets); i++ {
		if p.offsets[i] != p.offsets[i-1]+1 || string(p.payloads[i]) != fmt.Sprint(p.offsets[i]) {
			t.Fatalf("message %d is offset %d %q after %d", i, p.offsets[i], p.payloads[i], p.offsets[i-1])
		}
	}
	if p.offsets[0] == 0 {
		t.Fatal("deleted segment still read")
	}
	b := c.ok(wire.CmdGetConsumerOffset, cat(consumerOf(1), idNum(s), idNum(tp), somePartition(0)))
	if binary.LittleEndian.Uint64(b[12:]) != total-1 {
		t.Fatalf("auto-commit stored %d", binary.LittleEndian.Uint64(b[12:]))
	}
}

// TestSegmentsCountHoldsMessages checks that topic details and stats count
// the segments that hold messages (0 for a new or purged partition), on
// disk and in memory alike, and that purging restarts offsets at 0.
func TestSegmentsCountHoldsMessages(t *testing.T) {
	forEachStorage(t, Config{SegmentSize: 4096}, func(t *testing.T, cfg Config) {
		_, c, s, tp := serveTopic(t, cfg, 1)
		check := func(when string, want uint32) {
			t.Helper()
			td, err := wire.ParseTopicDetails(c.ok(wire.CmdGetTopic, cat(idNum(s), idNum(tp))))
			if err != nil {
				t.Fatal(err)
			}
			st, err := wire.ParseStats(c.ok(wire.CmdGetStats, nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := td.Partitions[0].SegmentsCount; got != want || st.SegmentsCount != want {
				t.Fatalf("%s: partition reports %d segments, stats %d, want %d", when, got, st.SegmentsCount, want)
			}
		}
		check("new partition", 0)
		c.send(s, tp, partitionID(0), []byte("first"))
		check("after one message", 1)
		// Fill the first segment: it is sealed once it reaches 4 KiB.
		big := bytes.Repeat([]byte("x"), 1000)
		for i := 0; i < 4; i++ {
			c.send(s, tp, partitionID(0), big)
		}
		check("with a full segment", 1)
		c.send(s, tp, partitionID(0), big)
		check("after rolling", 2)
		c.ok(wire.CmdPurgeTopic, cat(idNum(s), idNum(tp)))
		check("after purge", 0)
		c.send(s, tp, partitionID(0), []byte("again"))
		check("after a send to the purged partition", 1)
		if p := c.poll(consumerOf(1), s, tp, somePartition(0), pollFirst, 0, 10, false); len(p.offsets) != 1 || p.offsets[0] != 0 {
			t.Fatalf("offsets after purge: %v", p.offsets)
		}
	})
}
