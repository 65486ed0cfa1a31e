package server

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zeebo/xxh3"
)

func TestPollStrategies(t *testing.T) {
	var now atomic.Int64
	now.Store(1_000_000)
	srv := startServer(t, Config{Now: func() time.Time { return time.UnixMicro(now.Load()) }})
	c := newClient(t, srv)
	c.login("iggy", "iggy")
	s := c.createStream("s")
	tp := c.createTopic(s, "t", 1)
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
	c.expect(StatusPartitionNotFound, cmdPollMessages, pollPayload(consumerOf(1), s, tp, somePartition(3), pollFirst, 0, 1, false))
	c.expect(StatusInvalidFormat, cmdPollMessages, pollPayload(consumerOf(1), s, tp, p0, 9, 0, 1, false))

	// Offsets: store, get, delete.
	off := cat(consumerOf(7), idNum(s), idNum(tp), p0)
	if b := c.ok(cmdGetConsumerOffset, off); len(b) != 0 {
		t.Fatalf("offset before store: %x", b)
	}
	c.ok(cmdStoreConsumerOffset, cat(off, u64b(6)))
	b := c.ok(cmdGetConsumerOffset, off)
	if binary.LittleEndian.Uint32(b) != 0 || binary.LittleEndian.Uint64(b[4:]) != 9 || binary.LittleEndian.Uint64(b[12:]) != 6 {
		t.Fatalf("offset %x", b)
	}
	check("next after store", c.poll(consumerOf(7), s, tp, p0, pollNext, 0, 10, false), 7, 3)
	c.ok(cmdDeleteConsumerOffset, off)
	c.expect(StatusConsumerOffsetNotFound, cmdDeleteConsumerOffset, off)

	// Storing beyond the newest message is refused.
	c.expect(StatusInvalidOffset, cmdStoreConsumerOffset, cat(off, u64b(10)))
	// Purge empties the partition, forgets consumer offsets and restarts
	// offsets at 0, as Iggy does.
	c.ok(cmdStoreConsumerOffset, cat(off, u64b(6)))
	c.ok(cmdPurgeTopic, cat(idNum(s), idNum(tp)))
	if p := c.poll(consumerOf(1), s, tp, p0, pollFirst, 0, 10, false); len(p.offsets) != 0 || p.current != 0 {
		t.Fatalf("after purge: offsets %v current %d", p.offsets, p.current)
	}
	if b := c.ok(cmdGetConsumerOffset, off); len(b) != 0 {
		t.Fatalf("offset survived purge: %x", b)
	}
	c.send(s, tp, partitionID(0), []byte("0"))
	if p := c.poll(consumerOf(1), s, tp, p0, pollFirst, 0, 10, false); len(p.offsets) != 1 || p.offsets[0] != 0 || p.current != 0 {
		t.Fatalf("after purge and send: offsets %v current %d", p.offsets, p.current)
	}
}

func TestStoredFramesAreValid(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv)
	c.login("iggy", "iggy")
	s := c.createStream("s")
	tp := c.createTopic(s, "t", 1)
	c.send(s, tp, balanced(), []byte("a"), []byte("bb"), []byte("ccc"))
	b := c.ok(cmdPollMessages, pollPayload(consumerOf(1), s, tp, noPartition(), pollFirst, 0, 10, false))
	off := 16
	ids := map[[16]byte]bool{}
	for i := 0; i < 3; i++ {
		f := b[off:]
		fl := frameLen(f)
		if got, want := binary.LittleEndian.Uint64(f), xxh3.Hash(f[8:fl]); got != want {
			t.Fatalf("message %d checksum %x, want %x", i, got, want)
		}
		var id [16]byte
		copy(id[:], f[hdrID:])
		if id == ([16]byte{}) || ids[id] {
			t.Fatalf("message %d id %x not assigned or not unique", i, id)
		}
		ids[id] = true
		off += fl
	}
}

// TestSendValidation checks every batch check of §5.2 and that the
// connection stays usable after each.
func TestSendValidation(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv)
	c.login("iggy", "iggy")
	s := c.createStream("s")
	tp := c.createTopic(s, "t", 2)
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
		want Status
	}{
		{"empty batch", sendPayload(s, tp, balanced()), StatusInvalidMessagesCount},
		{"stream missing", sendPayload(9, tp, balanced(), []byte("x")), StatusStreamIDNotFound},
		{"topic missing", sendPayload(s, 9, balanced(), []byte("x")), StatusTopicIDNotFound},
		{"partition missing", sendPayload(s, tp, partitionID(2), []byte("x")), StatusPartitionNotFound},
		{"empty payload", sendPayload(s, tp, balanced(), []byte{}), StatusEmptyMessagePayload},
		{"non-zero relative offset", mut(func(b []byte) []byte { b[idx] = 1; return b }), StatusNonZeroOffset},
		{"non-zero index timestamp", mut(func(b []byte) []byte { b[idx+8] = 1; return b }), StatusNonZeroTimestamp},
		{"index beyond messages", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[idx+20:], 1000); return b }), StatusInvalidMessagesSize},
		{"index too small", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[idx+4:], 10); return b }), StatusTooSmallMessage},
		{"payload length mismatch", mut(func(b []byte) []byte { b[msgs+hdrPayloadLen]++; return b }), StatusInvalidMessagePayloadLen},
		{"reserved set", mut(func(b []byte) []byte { b[msgs+hdrReserved] = 1; return b }), StatusInvalidReservedField},
		{"trailing bytes", mut(func(b []byte) []byte { return append(b, 0) }), StatusInvalidMessagesSize},
		{"count larger than index", mut(func(b []byte) []byte { b[metaLen] = 200; return b }), StatusInvalidIndexesByteSize},
		{"metadata length wrong", mut(func(b []byte) []byte { b[0]++; return b }), StatusInvalidFormat},
		{"bad partitioning", mut(func(b []byte) []byte { b[4+12] = 7; return b }), StatusInvalidFormat},
		{"truncated", good[:10], StatusInvalidCommand},
	}
	for _, tc := range cases {
		if st, _ := c.call(cmdSendMessages, tc.req); st != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, st, tc.want)
		}
		c.ok(cmdPing, nil)
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
	c := newClient(t, srv)
	c.login("iggy", "iggy")
	s := c.createStream("s")
	c.expect(StatusInvalidStreamName, cmdCreateStream, []byte{0})
	c.expect(StatusTooManyPartitions, cmdCreateTopic, topicPayload(idNum(s), 1001, 0, 0, "t"))
	c.expect(StatusInvalidTopicSize, cmdCreateTopic, topicPayload(idNum(s), 1, 0, 1000, "t"))
	c.expect(StatusInvalidTopicName, cmdCreateTopic, topicPayload(idNum(s), 1, 0, 0, ""))
	c.expect(StatusStreamIDNotFound, cmdCreateTopic, topicPayload(idNum(5), 1, 0, 0, "t"))
	bad := topicPayload(idNum(s), 1, 0, 0, "t")
	bad[6+4] = 0 // compression 0
	c.expect(StatusInvalidCommand, cmdCreateTopic, bad)
	b := c.ok(cmdCreateTopic, topicPayload(idNum(s), 0, 0, 0, "t"))
	if exp := binary.LittleEndian.Uint64(b[16:]); exp != uint64(time.Hour/time.Microsecond) {
		t.Fatalf("default expiry resolved to %d", exp)
	}
	if size := binary.LittleEndian.Uint64(b[25:]); size != 8<<20 {
		t.Fatalf("default max size resolved to %d", size)
	}
	c.expect(StatusTopicNameAlreadyExists, cmdCreateTopic, topicPayload(idNum(s), 0, 0, 0, "t"))
	c.expect(StatusNoPartitions, cmdSendMessages, sendPayload(s, 0, balanced(), []byte("x")))
	c.expect(StatusInvalidPartitionsCount, cmdDeletePartitions, cat(idNum(s), idNum(0), u32b(1)))
	c.ok(cmdUpdateTopic, cat(idNum(s), idNum(0), []byte{2}, u64b(math.MaxUint64), u64b(math.MaxUint64), []byte{1}, name8("t2")))
	b = c.ok(cmdGetTopic, cat(idNum(s), idStr("t2")))
	if b[24] != 2 || binary.LittleEndian.Uint64(b[16:]) != math.MaxUint64 {
		t.Fatalf("update not applied: %x", b)
	}
}

func TestFraming(t *testing.T) {
	srv := startServer(t, Config{MaxBatchBytes: 1 << 20})
	c := newClient(t, srv)
	// A command beyond 10 MB is refused and the connection closed.
	hdr := binary.LittleEndian.AppendUint32(nil, 20_000_000)
	hdr = binary.LittleEndian.AppendUint32(hdr, cmdCreateStream)
	if got := c.do(hdr); statusOf(got) != StatusInvalidCommand {
		t.Fatalf("oversized control frame: %x", got)
	}
	_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("connection not closed after an oversized frame: %v", err)
	}
	// An oversized send is drained and refused; the connection stays.
	c = newClient(t, srv)
	c.login("iggy", "iggy")
	big := make([]byte, 2<<20)
	if st, _ := c.call(cmdSendMessages, big); st != StatusInvalidSizeBytes {
		t.Fatalf("oversized send: %v", st)
	}
	c.ok(cmdPing, nil)
	// length < 4 cannot be framed: error and close.
	c2 := newClient(t, srv)
	if got := c2.do([]byte{1, 0, 0, 0, 1, 0, 0, 0}); statusOf(got) != StatusInvalidCommand {
		t.Fatalf("short length: %x", got)
	}
	// Snapshot is not offered.
	c.expect(StatusFeatureUnavailable, cmdGetSnapshot, nil)
	// Unauthenticated commands.
	c3 := newClient(t, srv)
	for _, code := range []uint32{cmdGetStats, cmdGetMe, cmdGetClients, cmdSendMessages, cmdPollMessages, cmdCreateStream, cmdGetClusterMetadata} {
		c3.expect(StatusUnauthenticated, code, nil)
	}
}

func TestSystemCommands(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv)
	c.login("iggy", "iggy")
	s := c.createStream("s")
	tp := c.createTopic(s, "t", 2)
	c.send(s, tp, balanced(), []byte("abc"), []byte("def"))
	c.ok(cmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	other := newClient(t, srv)
	other.ok(cmdPing, nil)

	st := c.ok(cmdGetStats, nil)
	r := reader{b: st}
	r.u32()
	r.u32()
	r.u32()
	for i := 0; i < 8; i++ {
		r.u64()
	}
	streams, topics, partitions, _ := r.u32(), r.u32(), r.u32(), r.u32()
	msgs := r.u64()
	clients, groups := r.u32(), r.u32()
	if streams != 1 || topics != 1 || partitions != 2 || msgs != 2 || clients != 2 || groups != 1 {
		t.Fatalf("stats: streams %d topics %d partitions %d messages %d clients %d groups %d", streams, topics, partitions, msgs, clients, groups)
	}
	for i := 0; i < 4; i++ {
		r.u32str()
	}
	if v := string(r.u32str()); v != ServerVersion {
		t.Fatalf("server version %q", v)
	}
	if r.u32() != serverSemver || r.err != 0 {
		t.Fatalf("stats tail malformed")
	}

	clientsList := c.ok(cmdGetClients, nil)
	rr := reader{b: clientsList}
	n := 0
	for rr.off < len(rr.b) && rr.err == 0 {
		id, uid := rr.u32(), rr.u32()
		rr.u8()
		addr := rr.u32str()
		rr.u32()
		if _, err := net.ResolveTCPAddr("tcp", string(addr)); err != nil || id == 0 {
			t.Fatalf("client %d addr %q", id, addr)
		}
		if n == 1 && uid != noUser {
			t.Fatalf("anonymous client has user id %d", uid)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d clients listed", n)
	}
	me := c.ok(cmdGetMe, nil)
	if b := c.ok(cmdGetClient, me[:4]); string(b) != string(me) {
		t.Fatalf("GetClient(me) %x != GetMe %x", b, me)
	}
	if b := c.ok(cmdGetClient, u32b(999)); len(b) != 0 {
		t.Fatalf("missing client %x", b)
	}
	cm := c.ok(cmdGetClusterMetadata, nil)
	cr := reader{b: cm}
	if string(cr.u32str()) != "single-node" || cr.u32() != 1 || string(cr.u32str()) != "iggy-node" {
		t.Fatalf("cluster metadata %x", cm)
	}
}

func TestPollLargeCountInChunks(t *testing.T) {
	srv := startServer(t, Config{SegmentSize: 8192})
	c := newClient(t, srv)
	c.login("iggy", "iggy")
	s := c.createStream("s")
	tp := c.createTopic(s, "t", 1)
	const total = 10000
	for b := 0; b < total/1000; b++ {
		msgs := make([][]byte, 1000)
		for i := range msgs {
			msgs[i] = []byte(fmt.Sprint(b*1000 + i))
		}
		c.send(s, tp, partitionID(0), msgs...)
	}
	c.ok(cmdDeleteSegments, cat(idNum(s), idNum(tp), u32b(0), u32b(1)))
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
	b := c.ok(cmdGetConsumerOffset, cat(consumerOf(1), idNum(s), idNum(tp), somePartition(0)))
	if binary.LittleEndian.Uint64(b[12:]) != total-1 {
		t.Fatalf("auto-commit stored %d", binary.LittleEndian.Uint64(b[12:]))
	}
}
