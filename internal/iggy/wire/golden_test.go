package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
)

// Golden vectors from docs/iggy-protocol.md §10 (official Go SDK v0.8.0 and
// an independent encoder from the Rust 0.8.0 sources agree on them).

const goldenT = 1700000000000000

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func s0t0() TopicRef { return TopicRef{Stream: NumericID(0), Topic: NumericID(0)} }

type requestGolden struct {
	name string
	req  Request
	hex  string
}

func requestGoldens() []requestGolden {
	return []requestGolden{
		{"PING", &Empty{Cmd: CmdPing}, "0400000001000000"},
		{"LOGIN no version", &LoginUser{Username: "iggy", Password: "iggy"}, "1600000026000000046967677904696767790000000000000000"},
		{"LOGIN go sdk", &LoginUser{Username: "iggy", Password: "iggy", Version: "0.8.0"}, "1b000000260000000469676779046967677905000000302e382e3000000000"},
		{"LOGOUT", &Empty{Cmd: CmdLogoutUser}, "0400000027000000"},
		{"LOGIN_PAT", &LoginWithAccessToken{Token: "abc"}, "080000002c00000003616263"},
		{"CREATE_STREAM", &CreateStream{Name: "test-stream"}, "10000000ca0000000b746573742d73747265616d"},
		{"GET_STREAM 0", &GetStream{Stream: NumericID(0)}, "0a000000c8000000010400000000"},
		{"GET_STREAM name", &GetStream{Stream: StringID("test-stream")}, "11000000c8000000020b746573742d73747265616d"},
		{"GET_STREAMS", &Empty{Cmd: CmdGetStreams}, "04000000c9000000"},
		{"DELETE_STREAM", &DeleteStream{Stream: NumericID(0)}, "0a000000cb000000010400000000"},
		{"UPDATE_STREAM", &UpdateStream{Stream: NumericID(0), Name: "renamed"}, "12000000cc0000000104000000000772656e616d6564"},
		{"CREATE_TOPIC", &CreateTopic{Stream: NumericID(0), PartitionsCount: 3, CompressionAlgorithm: 1, Name: "test-topic"},
			"2b0000002e010000010400000000030000000100000000000000000000000000000000000a746573742d746f706963"},
		{"GET_TOPIC", &GetTopic{s0t0()}, "100000002c010000010400000000010400000000"},
		{"GET_TOPICS", &GetTopics{Stream: NumericID(0)}, "0a0000002d010000010400000000"},
		{"DELETE_TOPIC", &DeleteTopic{s0t0()}, "100000002f010000010400000000010400000000"},
		{"CREATE_PARTITIONS", &CreatePartitions{s0t0(), 2}, "140000009201000001040000000001040000000002000000"},
		{"DELETE_PARTITIONS", &DeletePartitions{s0t0(), 2}, "140000009301000001040000000001040000000002000000"},
		{"FLUSH", &FlushUnsavedBuffer{TopicRef: s0t0(), PartitionID: 0, Fsync: true}, "15000000660000000104000000000104000000000000000001"},
		{"POLL consumer offset", &PollMessages{Consumer: NewConsumer(NumericID(1)), TopicRef: s0t0(), Partition: SomePartition(0),
			Strategy: PollFromOffset(0), Count: 10}, "2a000000640000000101040100000001040000000001040000000001000000000100000000000000000a00000000"},
		{"POLL group next", &PollMessages{Consumer: NewGroupConsumer(NumericID(0)), TopicRef: s0t0(),
			Strategy: PollFromNext(), Count: 10, AutoCommit: true}, "2a000000640000000201040000000001040000000001040000000000000000000500000000000000000a00000001"},
		{"STORE_OFFSET", &StoreConsumerOffset{ConsumerOffsetRef{NewConsumer(NumericID(1)), s0t0(), SomePartition(0)}, 5},
			"24000000790000000101040100000001040000000001040000000001000000000500000000000000"},
		{"GET_OFFSET", &GetConsumerOffset{ConsumerOffsetRef{NewConsumer(NumericID(1)), s0t0(), SomePartition(0)}},
			"1c00000078000000010104010000000104000000000104000000000100000000"},
		{"CREATE_GROUP", &CreateConsumerGroup{s0t0(), "g1"}, "130000005a020000010400000000010400000000026731"},
		{"GET_GROUP", &GetConsumerGroup{GroupRef{s0t0(), NumericID(0)}}, "1600000058020000010400000000010400000000010400000000"},
		{"JOIN_GROUP", &JoinConsumerGroup{GroupRef{s0t0(), NumericID(0)}}, "160000005c020000010400000000010400000000010400000000"},
		{"LEAVE_GROUP", &LeaveConsumerGroup{GroupRef{s0t0(), NumericID(0)}}, "160000005d020000010400000000010400000000010400000000"},
		{"DELETE_GROUP", &DeleteConsumerGroup{GroupRef{s0t0(), NumericID(0)}}, "160000005b020000010400000000010400000000010400000000"},
		{"GET_STATS", &Empty{Cmd: CmdGetStats}, "040000000a000000"},
		{"GET_CLUSTER_METADATA", &Empty{Cmd: CmdGetClusterMetadata}, "040000000c000000"},
	}
}

func TestRequestGoldens(t *testing.T) {
	for _, g := range requestGoldens() {
		t.Run(g.name, func(t *testing.T) {
			want := unhex(t, g.hex)
			got, err := AppendRequestFrame(nil, g.req)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("client bytes\n got %x\nwant %x", got, want)
			}
			// Server side: header then payload decode back to the same value.
			n, code, err := ParseRequestHeader(want)
			if err != nil || code != g.req.Command() || n != len(want)-8 {
				t.Fatalf("header: n=%d code=%v err=%v", n, code, err)
			}
			dec := NewRequest(code)
			if dec == nil {
				t.Fatalf("NewRequest(%v) = nil", code)
			}
			if err := dec.Decode(want[8:]); err != nil {
				t.Fatalf("server decode: %v", err)
			}
			if !reflect.DeepEqual(dec, g.req) {
				t.Fatalf("server decoded %+v, want %+v", dec, g.req)
			}
		})
	}
}

const helloMsgHex = "0000000000000000" + "01000000000000000000000000000000" + "0000000000000000" + "0000000000000000" +
	"0000000000000000" + "00000000" + "05000000" + "0000000000000000" + "68656c6c6f"

func TestSendGoldens(t *testing.T) {
	hdr := []Header{{Key: HeaderStr("k"), Value: HeaderStr("v")}}
	if got, _ := AppendHeaders(nil, hdr); !bytes.Equal(got, unhex(t, "02010000006b020100000076")) {
		t.Fatalf("USER_HEADERS = %x", got)
	}
	cases := []struct {
		name string
		p    Partitioning
		hdrs []Header
		hex  string
	}{
		{"P0", PartitionID(0), nil, "73000000650000001600000001040000000001040000000002040000000001000000000000004500000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000005000000000000000000000068656c6c6f"},
		{"BAL", Balanced(), nil, "6f0000006500000012000000010400000000010400000000010001000000000000004500000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000005000000000000000000000068656c6c6f"},
		{"KEY", MessagesKey([]byte("key1")), nil, "73000000650000001600000001040000000001040000000003046b65793101000000000000004500000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000005000000000000000000000068656c6c6f"},
		{"HDR", PartitionID(0), hdr, "7f000000650000001600000001040000000001040000000002040000000001000000000000005100000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000c00000005000000000000000000000068656c6c6f02010000006b020100000076"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := unhex(t, c.hex)
			b := NewBatch(NumericID(0), NumericID(0), c.p, 1)
			if err := b.Add(MessageID{Lo: 1}, 0, []byte("hello"), c.hdrs); err != nil {
				t.Fatal(err)
			}
			got, err := b.Frame()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("batch bytes\n got %x\nwant %x", got, want)
			}
			if b.Size() != len(want) {
				t.Fatalf("Size() = %d, want %d", b.Size(), len(want))
			}
			// Server side.
			var s SendMessages
			if err := s.Decode(want[8:]); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if s.Count != 1 || !reflect.DeepEqual(s.Partitioning.Validate(), c.p.Validate()) || s.Partitioning.Kind != c.p.Kind {
				t.Fatalf("decoded %+v", s)
			}
			m := s.Frame(0).Message()
			if string(m.Payload) != "hello" || m.ID != (MessageID{Lo: 1}) {
				t.Fatalf("message %+v", m)
			}
			hs, err := m.Headers()
			if err != nil || len(hs) != len(c.hdrs) {
				t.Fatalf("headers %v %v", hs, err)
			}
			// Re-encoding the decoded request gives the same payload.
			re, err := s.AppendPayload(nil)
			if err != nil || !bytes.Equal(re, want[8:]) {
				t.Fatalf("re-encode %x err %v", re, err)
			}
		})
	}
	if got := unhex(t, helloMsgHex); len(got) != 69 {
		t.Fatal("hello frame size")
	}
}

func TestResponseGoldens(t *testing.T) {
	errCases := []struct {
		err *Error
		hex string
	}{
		{ErrInvalidCommand, "0300000000000000"},
		{ErrUnauthenticated, "2800000000000000"},
		{ErrInvalidCredentials, "2a00000000000000"},
		{ErrStreamIdNotFound, "f103000000000000"},
		{ErrStreamNameAlreadyExists, "f403000000000000"},
	}
	for _, c := range errCases {
		want := unhex(t, c.hex)
		if got := AppendErrorResponse(nil, c.err.Code); !bytes.Equal(got, want) {
			t.Errorf("%v: got %x want %x", c.err, got, want)
		}
		st, n, err := ParseResponseHeader(want)
		if err != nil || n != 0 || ErrorFromCode(st) != c.err {
			t.Errorf("%v: parsed status %d len %d err %v", c.err, st, n, err)
		}
	}
	if got := AppendResponse(nil, nil); !bytes.Equal(got, unhex(t, "0000000000000000")) {
		t.Errorf("OK empty = %x", got)
	}

	check := func(name, hexs string, encode func([]byte) []byte, parse func([]byte) (any, error), want any) {
		t.Run(name, func(t *testing.T) {
			frame := unhex(t, hexs)
			out, start := BeginResponse(nil)
			out = encode(out)
			FinishResponse(out, start)
			if !bytes.Equal(out, frame) {
				t.Fatalf("server bytes\n got %x\nwant %x", out, frame)
			}
			st, n, err := ParseResponseHeader(frame)
			if err != nil || st != 0 || n != len(frame)-8 {
				t.Fatalf("header %d %d %v", st, n, err)
			}
			got, err := parse(frame[8:])
			if err != nil {
				t.Fatalf("client parse: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("client parsed\n %+v\nwant %+v", got, want)
			}
		})
	}

	id := Identity{UserID: 0}
	check("LOGIN OK", "000000000400000000000000", id.AppendTo,
		func(b []byte) (any, error) { return ParseIdentity(b) }, id)

	stream := Stream{ID: 0, CreatedAt: goldenT, Name: "test-stream"}
	check("CREATE_STREAM OK", "000000002c0000000000000000401e18240a060000000000000000000000000000000000000000000b746573742d73747265616d",
		stream.AppendTo, func(b []byte) (any, error) { return ParseStream(b) }, stream)

	topic := TopicDetails{
		Topic: Topic{ID: 0, CreatedAt: goldenT, PartitionsCount: 1, MessageExpiry: Unlimited, CompressionAlgorithm: 1,
			MaxTopicSize: Unlimited, ReplicationFactor: 1, Name: "test-topic"},
		Partitions: []Partition{{ID: 0, CreatedAt: goldenT}},
	}
	check("CREATE_TOPIC OK", "00000000650000000000000000401e18240a060001000000ffffffffffffffff01ffffffffffffffff01000000000000000000000000000000000a746573742d746f7069630000000000401e18240a060000000000000000000000000000000000000000000000000000000000",
		topic.AppendTo, func(b []byte) (any, error) { return ParseTopicDetails(b) }, topic)

	sd := StreamDetails{Stream: Stream{ID: 0, CreatedAt: goldenT, TopicsCount: 1, Name: "test-stream"}, Topics: []Topic{topic.Topic}}
	check("GET_STREAM OK", "00000000690000000000000000401e18240a060001000000000000000000000000000000000000000b746573742d73747265616d0000000000401e18240a060001000000ffffffffffffffff01ffffffffffffffff01000000000000000000000000000000000a746573742d746f706963",
		sd.AppendTo, func(b []byte) (any, error) { return ParseStreamDetails(b) }, sd)

	off := ConsumerOffset{PartitionID: 0, CurrentOffset: 9, StoredOffset: 5}
	check("GET_OFFSET OK", "00000000140000000000000009000000000000000500000000000000",
		off.AppendTo, func(b []byte) (any, error) { return ParseConsumerOffset(b) }, off)

	grp := ConsumerGroupDetails{ConsumerGroupInfo: ConsumerGroupInfo{ID: 0, PartitionsCount: 3, MembersCount: 0, Name: "g1"}}
	check("CREATE_GROUP OK", "000000000f000000000000000300000000000000026731",
		grp.AppendTo, func(b []byte) (any, error) { return ParseConsumerGroupDetails(b) }, grp)
}

func TestPollResponseGolden(t *testing.T) {
	frame := unhex(t, "000000005500000000000000000000000000000001000000b7ac617cec79dfa601000000000000000000000000000000000000000000000000401e18240a060000401e18240a06000000000005000000000000000000000068656c6c6f")
	// Server: header, then the stored frame with offset/timestamp/checksum.
	out, start := BeginResponse(nil)
	out = AppendPollHeader(out, 0, 0, 1)
	n := len(out)
	out = AppendMessage(out, MessageHeader{ID: MessageID{Lo: 1}, Timestamp: goldenT, OriginTimestamp: goldenT}, []byte("hello"), nil)
	Frame(out[n:]).UpdateChecksum()
	FinishResponse(out, start)
	if !bytes.Equal(out, frame) {
		t.Fatalf("server bytes\n got %x\nwant %x", out, frame)
	}
	if c := Frame(out[n:]).Checksum(); c != 0xa6df79ec7c61acb7 {
		t.Fatalf("checksum %x", c)
	}
	if sz := Frame(out[n:]).Size(); sz != len(out)-n {
		t.Fatalf("frame size %d, want %d", sz, len(out)-n)
	}
	// In place: reserve the prefix, copy the frame, fill the prefix last,
	// as a server copying stored frames does.
	in, start := BeginResponse(nil)
	head := len(in)
	in = AppendPollHeader(in, 0, 0, 0)
	in = append(in, out[n:]...)
	PutPollHeader(in[head:], 0, 0, 1)
	FinishResponse(in, start)
	if !bytes.Equal(in, frame) {
		t.Fatalf("in-place bytes\n got %x\nwant %x", in, frame)
	}
	var p PolledMessages
	if err := ParsePolledMessages(frame[8:], &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Messages) != 1 || p.PartitionID != 0 || p.CurrentOffset != 0 {
		t.Fatalf("parsed %+v", p)
	}
	m := p.Messages[0]
	if string(m.Payload) != "hello" || m.ID.Lo != 1 || m.Timestamp != goldenT || m.OriginTimestamp != goldenT ||
		m.Checksum != 0xa6df79ec7c61acb7 || m.Offset != 0 {
		t.Fatalf("message %+v", m)
	}
}

func TestChecksumVectors(t *testing.T) {
	// xxh3 of "" and "hello" (§5.5): Checksum hashes frame[8:].
	if got := Checksum(make([]byte, 8)); got != 0x2d06800538d394c2 {
		t.Errorf("empty: %x", got)
	}
	if got := Checksum(append(make([]byte, 8), "hello"...)); got != 0x9555e8555c62dcfd {
		t.Errorf("hello: %x", got)
	}
}

func TestErrorType(t *testing.T) {
	e := ErrorFromCode(1009)
	if e.Error() != "iggy: StreamIdNotFound (1009)" {
		t.Fatalf("Error() = %q", e.Error())
	}
	var target *Error
	wrapped := errors.Join(errors.New("ctx"), e)
	if !errors.As(wrapped, &target) || target.Code != 1009 {
		t.Fatal("errors.As failed")
	}
	if !errors.Is(wrapped, &Error{Code: 1009}) || errors.Is(wrapped, ErrTopicIdNotFound) {
		t.Fatal("errors.Is mismatch")
	}
	if u := ErrorFromCode(77777); u.Name != "Unknown" || u.Code != 77777 {
		t.Fatalf("unknown %v", u)
	}
	seen := map[uint32]bool{}
	for _, e := range AllErrors {
		if seen[e.Code] {
			t.Fatalf("duplicate code %d", e.Code)
		}
		seen[e.Code] = true
	}
}
