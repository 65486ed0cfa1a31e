package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestRequestRoundTrips(t *testing.T) {
	name := "alice"
	inactive := UserInactive
	perms := &Permissions{
		Global: GlobalPermissions{ReadServers: true, PollMessages: true},
		Streams: map[uint32]StreamPermissions{
			1: {ReadStream: true, Topics: map[uint32]TopicPermissions{2: {ReadTopic: true}, 7: {SendMessages: true}}},
			3: {ManageStream: true},
		},
	}
	reqs := []Request{
		&GetClient{ClientID: 7},
		&PurgeStream{Stream: StringID("s")},
		&PurgeTopic{TopicRef{StringID("s"), StringID("t")}},
		&GetConsumerGroups{s0t0()},
		&UpdateTopic{TopicRef: s0t0(), CompressionAlgorithm: 2, MessageExpiry: 5, MaxTopicSize: Unlimited, ReplicationFactor: 1, Name: "x"},
		&DeleteSegments{TopicRef: s0t0(), PartitionID: 2, SegmentsCount: 3},
		&DeleteConsumerOffset{ConsumerOffsetRef{NewGroupConsumer(StringID("g")), s0t0(), OptionalPartition{}}},
		&PollMessages{Consumer: NewConsumer(StringID("c")), TopicRef: s0t0(), Strategy: PollFromTimestamp(goldenT), Count: 1},
		&GetUser{User: StringID("iggy")},
		&DeleteUser{User: NumericID(3)},
		&CreateUser{Username: "alice", Password: "secret", Status: UserActive},
		&CreateUser{Username: "alice", Password: "secret", Status: UserInactive, Permissions: perms},
		&UpdateUser{User: NumericID(1), Username: &name, Status: &inactive},
		&UpdateUser{User: NumericID(1)},
		&UpdatePermissions{User: NumericID(1), Permissions: perms},
		&UpdatePermissions{User: NumericID(1)},
		&ChangePassword{User: NumericID(1), CurrentPassword: "old-pw", NewPassword: "new-pw"},
		&LoginUser{Username: "iggy", Password: "iggy", Version: "ims", Context: "ctx"},
		&CreateAccessToken{Name: "token1", Expiry: Unlimited},
		&DeleteAccessToken{Name: "token1"},
	}
	for _, r := range reqs {
		t.Run(fmt.Sprintf("%v", r.Command()), func(t *testing.T) {
			p, err := r.AppendPayload(nil)
			if err != nil {
				t.Fatal(err)
			}
			got := NewRequest(r.Command())
			if err := got.Decode(p); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, r) {
				t.Fatalf("got %+v want %+v", got, r)
			}
			// Every strict prefix must fail cleanly (no panic), except where
			// the format makes the tail optional (login version/context).
			for i := 0; i < len(p); i++ {
				if err := NewRequest(r.Command()).Decode(p[:i]); err == nil {
					t.Fatalf("prefix %d of %x decoded", i, p)
				}
			}
		})
	}
}

func TestPermissionsLayout(t *testing.T) {
	// Hand-built from the Go SDK / Rust layout: 10 global flags, has_streams,
	// stream id, 6 flags, has_topics, topic id, 4 flags, more_topics=0,
	// more_streams=0.
	p := &Permissions{
		Global:  GlobalPermissions{ManageServers: true, SendMessages: true},
		Streams: map[uint32]StreamPermissions{5: {ReadStream: true, Topics: map[uint32]TopicPermissions{9: {PollMessages: true}}}},
	}
	want := []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 5, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 9, 0, 0, 0, 0, 0, 1, 0, 0, 0}
	got := AppendPermissions(nil, p)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	back, err := ParsePermissions(got)
	if err != nil || !reflect.DeepEqual(back, p) {
		t.Fatalf("parse %+v %v", back, err)
	}
	if got := AppendPermissions(nil, &Permissions{}); len(got) != 11 || got[10] != 0 {
		t.Fatalf("empty permissions %v", got)
	}
}

func TestPermissionsRoundTrip(t *testing.T) {
	// Several streams and topics, given out of id order: the encoding is
	// canonical, so decode-encode reproduces the bytes, and every prefix is
	// refused.
	p := &Permissions{
		Global: GlobalPermissions{ReadServers: true, PollMessages: true},
		Streams: map[uint32]StreamPermissions{
			3: {ReadStream: true, Topics: map[uint32]TopicPermissions{1: {SendMessages: true}, 0: {ReadTopic: true}}},
			1: {ManageStream: true},
		},
	}
	b := AppendPermissions(nil, p)
	got, err := ParsePermissions(b)
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("decode %x: %+v %v", b, got, err)
	}
	if b2 := AppendPermissions(nil, got); !bytes.Equal(b2, b) {
		t.Fatalf("round trip changed bytes:\n%x\n%x", b, b2)
	}
	for i := range b {
		if _, err := ParsePermissions(b[:i]); err == nil {
			t.Fatalf("prefix of %d bytes decoded", i)
		}
	}
}

func TestRequestValidation(t *testing.T) {
	long := strings.Repeat("x", 256)
	cases := []struct {
		r    Request
		want *Error
	}{
		{&CreateStream{Name: ""}, ErrInvalidStreamName},
		{&CreateStream{Name: long}, ErrInvalidStreamName},
		{&CreateStream{Name: "\xff"}, ErrInvalidStreamName},
		{&UpdateStream{Stream: NumericID(1), Name: ""}, ErrInvalidStreamName},
		{&CreateTopic{Stream: NumericID(0), PartitionsCount: 1001, CompressionAlgorithm: 1, Name: "t"}, ErrTooManyPartitions},
		{&CreateTopic{Stream: NumericID(0), PartitionsCount: 1, CompressionAlgorithm: 0, Name: "t"}, ErrInvalidCommand},
		{&CreateTopic{Stream: NumericID(0), PartitionsCount: 1, CompressionAlgorithm: 3, Name: "t"}, ErrInvalidCommand},
		{&CreateTopic{Stream: NumericID(0), PartitionsCount: 1, CompressionAlgorithm: 1, Name: ""}, ErrInvalidTopicName},
		{&CreatePartitions{s0t0(), 0}, ErrInvalidPartitionsCount},
		{&CreatePartitions{s0t0(), 1001}, ErrTooManyPartitions},
		{&CreateConsumerGroup{s0t0(), ""}, ErrInvalidConsumerGroupName},
		{&CreateUser{Username: "ab", Password: "secret", Status: UserActive}, ErrInvalidUsername},
		{&CreateUser{Username: strings.Repeat("a", 51), Password: "secret", Status: UserActive}, ErrInvalidUsername},
		{&CreateUser{Username: "abc", Password: "pw", Status: UserActive}, ErrInvalidPassword},
		{&CreateUser{Username: "abc", Password: strings.Repeat("p", 101), Status: UserActive}, ErrInvalidPassword},
		{&CreateUser{Username: "abc", Password: "pwd", Status: 3}, ErrInvalidUserStatus},
		{&LoginUser{Username: "ab", Password: "iggy"}, ErrInvalidUsername},
		{&LoginUser{Username: "iggy", Password: "ig"}, ErrInvalidPassword},
		{&CreateAccessToken{Name: "ab"}, ErrInvalidPersonalAccessTokenName},
		{&CreateAccessToken{Name: strings.Repeat("n", 31)}, ErrInvalidPersonalAccessTokenName},
		{&GetStream{Stream: StringID("")}, ErrInvalidIdentifier},
		{&GetStream{Stream: StringID(long)}, ErrInvalidIdentifier},
		{&GetStream{Stream: Identifier{}}, ErrInvalidIdentifier},
	}
	for i, c := range cases {
		if _, err := c.r.AppendPayload(nil); !errors.Is(err, c.want) {
			t.Errorf("%d %v encode: err %v, want %v", i, c.r.Command(), err, c.want)
		}
	}
	// Server side: hand-built payloads that a careless client might send.
	server := []struct {
		r    Request
		p    []byte
		want *Error
	}{
		// Decode errors map as Iggy 0.8 maps them: validation → InvalidFormat,
		// bad UTF-8, unknown kinds and truncation → InvalidCommand.
		{&CreateStream{}, []byte{0}, ErrInvalidFormat},
		{&CreateStream{}, []byte{2, 'a'}, ErrInvalidCommand},
		{&CreateStream{}, []byte{1, 0xff}, ErrInvalidCommand},
		{&GetStream{}, []byte{1, 3, 0, 0, 0}, ErrInvalidFormat},
		{&GetStream{}, []byte{2, 0}, ErrInvalidFormat},
		{&GetStream{}, []byte{3, 4, 0, 0, 0, 0}, ErrInvalidCommand},
		{&GetStream{}, []byte{2, 2, 0xff, 0xfe}, ErrInvalidCommand},
		{&CreateTopic{}, append(unhex(t, "010400000000"+"01000000"+"00"+"0000000000000000"+"0000000000000000"+"00"), 1, 't'), ErrInvalidCommand},
		{&PollMessages{}, pollWith(t, 0, 3), ErrInvalidCommand},  // consumer kind
		{&PollMessages{}, pollWith(t, 19, 2), ErrInvalidFormat},  // partition flag
		{&PollMessages{}, pollWith(t, 24, 9), ErrInvalidCommand}, // strategy kind
		{&PollMessages{}, pollWith(t, 37, 2), ErrInvalidFormat},  // auto commit
		{&FlushUnsavedBuffer{}, unhex(t, "0104000000000104000000000000000002"), ErrInvalidFormat},
		{&LoginUser{}, []byte{4, 'i', 'g', 'g', 'y', 4, 'i', 'g', 'g', 'y', 9, 0, 0, 0}, ErrInvalidCommand},
	}
	for i, c := range server {
		if err := c.r.Decode(c.p); !errors.Is(err, c.want) {
			t.Errorf("server %d %v: err %v, want %v", i, c.r.Command(), err, c.want)
		}
	}
	// Version and context lengths are mandatory (Iggy 0.8 decodes so).
	var l LoginUser
	if err := l.Decode([]byte{4, 'i', 'g', 'g', 'y', 4, 'i', 'g', 'g', 'y'}); err != ErrInvalidCommand {
		t.Fatalf("short login: %v %+v", err, l)
	}
	// Upstream's wire_layout_no_optionals vector parses; its 1-byte
	// username then fails the username rule.
	if err := l.Decode([]byte{1, 'u', 1, 'p', 0, 0, 0, 0, 0, 0, 0, 0}); err != ErrInvalidUsername {
		t.Fatalf("upstream layout vector: %v", err)
	}
	if NewRequest(9999) != nil {
		t.Fatal("unknown command decoded")
	}
}

func TestFraming(t *testing.T) {
	if _, _, err := ParseRequestHeader([]byte{3, 0, 0, 0, 1, 0, 0, 0}); err != ErrInvalidCommand {
		t.Fatalf("len<4: %v", err)
	}
	if _, _, err := ParseRequestHeader([]byte{4, 0}); err != ErrInvalidCommand {
		t.Fatalf("short: %v", err)
	}
	f := AppendRequest(nil, CmdGetClient, []byte{7, 0, 0, 0})
	n, c, err := ParseRequestHeader(f)
	if err != nil || n != 4 || c != CmdGetClient {
		t.Fatalf("%d %v %v", n, c, err)
	}
	if CmdSendMessages.String() != "message.send" || Command(77).String() != "command(77)" {
		t.Fatal("command names")
	}
	if CmdPing.RequiresAuth() || !CmdGetStreams.RequiresAuth() || CmdSendMessages.Idempotent() || !CmdGetStream.Idempotent() {
		t.Fatal("command properties")
	}
}

func TestBatchManyAndReuse(t *testing.T) {
	b := NewBatch(StringID("binance-spot"), StringID("trade"), MessagesKey([]byte("BTCUSDT")), 1)
	for round := 0; round < 3; round++ {
		n := 50 + round*100 // forces index growth in round 0 and 1
		for i := 0; i < n; i++ {
			payload := bytes.Repeat([]byte{byte(i)}, 1+i%7)
			var hs []Header
			if i%3 == 0 {
				hs = []Header{{HeaderStr("i"), HeaderU64(uint64(i))}}
			}
			if err := b.Add(MessageID{Lo: uint64(i + 1)}, uint64(i), payload, hs); err != nil {
				t.Fatal(err)
			}
		}
		frame, err := b.Frame()
		if err != nil {
			t.Fatal(err)
		}
		if len(frame) != b.Size() {
			t.Fatalf("size %d vs %d", len(frame), b.Size())
		}
		pl, code, err := ParseRequestHeader(frame)
		if err != nil || code != CmdSendMessages || pl != len(frame)-8 {
			t.Fatal("header", pl, code, err)
		}
		var s SendMessages
		if err := s.Decode(frame[8:]); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if int(s.Count) != n || s.Stream.Str != "binance-spot" || string(s.Partitioning.Key) != "BTCUSDT" {
			t.Fatalf("decoded %+v", s)
		}
		for i := 0; i < n; i++ {
			m := s.Frame(i).Message()
			if m.ID.Lo != uint64(i+1) || m.OriginTimestamp != uint64(i) || len(m.Payload) != 1+i%7 || m.Payload[0] != byte(i) {
				t.Fatalf("msg %d: %+v", i, m)
			}
			if i%3 == 0 {
				hs, err := m.Headers()
				if err != nil || len(hs) != 1 || hs[0].Value.String() != fmt.Sprint(i) {
					t.Fatalf("headers %d: %v %v", i, hs, err)
				}
			}
		}
		b.Reset(StringID("binance-spot"), StringID("trade"), MessagesKey([]byte("BTCUSDT")))
	}
}

func TestBatchErrors(t *testing.T) {
	b := NewBatch(NumericID(0), NumericID(0), Balanced(), 4)
	if _, err := b.Frame(); err != ErrInvalidMessagesCount {
		t.Fatalf("empty: %v", err)
	}
	if err := b.Add(MessageID{}, 0, nil, nil); err != ErrEmptyMessagePayload {
		t.Fatalf("empty payload: %v", err)
	}
	if err := b.Add(MessageID{}, 0, []byte("x"), []Header{{Key: HeaderValue{Kind: 0, Value: []byte("k")}, Value: HeaderStr("v")}}); err != ErrInvalidHeaderKey {
		t.Fatalf("bad header: %v", err)
	}
	if err := b.Add(MessageID{}, 0, []byte("ok"), nil); err != nil {
		t.Fatal(err)
	}
	frame, err := b.Frame()
	if err != nil {
		t.Fatal(err)
	}
	var s SendMessages
	if err := s.Decode(frame[8:]); err != nil || s.Count != 1 {
		t.Fatalf("after rejected messages: %v %+v", err, s)
	}
	// Adding after Frame continues the same batch.
	if err := b.Add(MessageID{}, 0, []byte("two"), nil); err != nil {
		t.Fatal(err)
	}
	frame, _ = b.Frame()
	if err := s.Decode(frame[8:]); err != nil || s.Count != 2 || string(s.Frame(1).Payload()) != "two" {
		t.Fatalf("after add: %v %+v", err, s)
	}
	bad := NewBatch(StringID(""), NumericID(0), Balanced(), 1)
	_ = bad.Add(MessageID{}, 0, []byte("x"), nil)
	if _, err := bad.Frame(); err != ErrInvalidStreamId {
		t.Fatalf("bad stream: %v", err)
	}
	// A FinishMessage with a foreign buffer drops the begun message.
	b.Reset(NumericID(1), NumericID(2), PartitionID(3))
	_ = b.StartMessage(MessageID{}, 0)
	if err := b.FinishMessage(nil, nil); err != ErrInvalidCommand || b.Size() != len(b.prefix) {
		t.Fatalf("foreign buffer: %v size %d", err, b.Size())
	}
	if err := b.FinishMessage(nil, nil); err != ErrInvalidCommand {
		t.Fatalf("finish without start: %v", err)
	}
	// StartMessage/FinishMessage encode in place.
	b.Reset(NumericID(1), NumericID(2), PartitionID(3))
	buf := b.StartMessage(MessageID{Lo: 9}, 42)
	buf = binary.LittleEndian.AppendUint64(buf, 0xdeadbeef)
	if err := b.FinishMessage(buf, nil); err != nil {
		t.Fatal(err)
	}
	frame, _ = b.Frame()
	if err := s.Decode(frame[8:]); err != nil || binary.LittleEndian.Uint64(s.Frame(0).Payload()) != 0xdeadbeef {
		t.Fatalf("in place: %v", err)
	}
}

func TestSendMessagesServerChecks(t *testing.T) {
	b := NewBatch(NumericID(0), NumericID(0), PartitionID(0), 2)
	_ = b.Add(MessageID{Lo: 1}, 0, []byte("hello"), nil)
	_ = b.Add(MessageID{Lo: 2}, 0, []byte("world!"), nil)
	good, _ := b.Frame()
	payload := append([]byte(nil), good[8:]...)
	idx := 4 + 22 // metadata length + metadata
	mutate := func(f func(p []byte) []byte) []byte { return f(append([]byte(nil), payload...)) }
	cases := []struct {
		name string
		p    []byte
		want *Error
	}{
		{"metadata length", mutate(func(p []byte) []byte { p[0] = 21; return p }), ErrInvalidFormat},
		{"count zero", mutate(func(p []byte) []byte { binary.LittleEndian.PutUint32(p[idx-4:], 0); return p }), ErrInvalidMessagesCount},
		{"count huge", mutate(func(p []byte) []byte { binary.LittleEndian.PutUint32(p[idx-4:], 1<<30); return p }), ErrInvalidIndexesCount},
		{"nonzero offset", mutate(func(p []byte) []byte { p[idx] = 1; return p }), ErrNonZeroOffset},
		{"nonzero timestamp", mutate(func(p []byte) []byte { p[idx+8] = 1; return p }), ErrNonZeroTimestamp},
		{"index past end", mutate(func(p []byte) []byte { binary.LittleEndian.PutUint32(p[idx+20:], 9999); return p }), ErrInvalidMessagesSize},
		{"short section", mutate(func(p []byte) []byte { return p[:len(p)-1] }), ErrInvalidMessagesSize},
		{"long section", mutate(func(p []byte) []byte { return append(p, 0) }), ErrInvalidMessagesSize},
		{"tiny message", mutate(func(p []byte) []byte { binary.LittleEndian.PutUint32(p[idx+4:], 10); return p }), ErrTooSmallMessage},
		{"reserved", mutate(func(p []byte) []byte { p[idx+32+56] = 1; return p }), ErrInvalidReservedField},
		{"payload len", mutate(func(p []byte) []byte { p[idx+32+52] = 4; return p }), ErrInvalidMessagePayloadLength},
	}
	for _, c := range cases {
		var s SendMessages
		if err := s.Decode(c.p); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestResponseRoundTrips(t *testing.T) {
	stats := Stats{ProcessID: 1, CPUUsage: 1.5, MemoryUsage: 10, StreamsCount: 2, Hostname: "h", OSName: "linux",
		OSVersion: "12", KernelVersion: "6", ServerVersion: "0.8.0", ServerSemver: 8000,
		CacheMetrics: []CacheMetrics{{StreamID: 1, TopicID: 2, PartitionID: 3, Hits: 4, Misses: 5, HitRatio: 0.5}},
		ThreadsCount: 4, FreeDiskSpace: 100, TotalDiskSpace: 200}
	if got, err := ParseStats(stats.AppendTo(nil)); err != nil || !reflect.DeepEqual(got, stats) {
		t.Fatalf("stats %+v %v", got, err)
	}
	cm := ClusterMetadata{Name: "single-node", Nodes: []ClusterNode{{Name: "iggy-node", IP: "127.0.0.1", TCPPort: 8090, QUICPort: 8080, HTTPPort: 3000, WSPort: 8092}}}
	if got, err := ParseClusterMetadata(cm.AppendTo(nil)); err != nil || !reflect.DeepEqual(got, cm) {
		t.Fatalf("cluster %+v %v", got, err)
	}
	cd := ClientDetails{ClientInfo: ClientInfo{ClientID: 1, UserID: AnonymousUserID, Transport: TransportTCP, Address: "127.0.0.1:5000", ConsumerGroupsCount: 1},
		ConsumerGroups: []ClientGroup{{1, 2, 3}}}
	if got, err := ParseClientDetails(cd.AppendTo(nil)); err != nil || !reflect.DeepEqual(got, cd) {
		t.Fatalf("client %+v %v", got, err)
	}
	if got, err := ParseClients(append(cd.ClientInfo.AppendTo(nil), cd.ClientInfo.AppendTo(nil)...)); err != nil || len(got) != 2 {
		t.Fatalf("clients %+v %v", got, err)
	}
	ud := UserDetails{UserInfo: UserInfo{ID: 1, CreatedAt: goldenT, Status: UserActive, Username: "alice"},
		Permissions: &Permissions{Global: GlobalPermissions{ReadStreams: true}}}
	if got, err := ParseUserDetails(ud.AppendTo(nil)); err != nil || !reflect.DeepEqual(got, ud) {
		t.Fatalf("user %+v %v", got, err)
	}
	ud.Permissions = nil
	enc := ud.AppendTo(nil)
	if !bytes.Equal(enc[len(enc)-4:], []byte{0, 0, 0, 0}) {
		t.Fatalf("no-permissions padding %x", enc)
	}
	if got, err := ParseUserDetails(enc); err != nil || !reflect.DeepEqual(got, ud) {
		t.Fatalf("user %+v %v", got, err)
	}
	users := append(ud.UserInfo.AppendTo(nil), (&UserInfo{ID: 2, Status: UserInactive, Username: "bob"}).AppendTo(nil)...)
	if got, err := ParseUsers(users); err != nil || len(got) != 2 || got[1].Username != "bob" {
		t.Fatalf("users %+v %v", got, err)
	}
	pats := append((&AccessTokenInfo{Name: "a", ExpiryAt: 5}).AppendTo(nil), (&AccessTokenInfo{Name: "b"}).AppendTo(nil)...)
	if got, err := ParseAccessTokens(pats); err != nil || len(got) != 2 || got[0].ExpiryAt != 5 {
		t.Fatalf("pats %+v %v", got, err)
	}
	if got, err := ParseRawAccessToken((&RawAccessToken{Token: "tok"}).AppendTo(nil)); err != nil || got.Token != "tok" {
		t.Fatalf("raw pat %+v %v", got, err)
	}
	g := ConsumerGroupDetails{ConsumerGroupInfo: ConsumerGroupInfo{ID: 1, PartitionsCount: 3, MembersCount: 2, Name: "g"},
		Members: []ConsumerGroupMember{{ID: 1, Partitions: []uint32{0, 2}}, {ID: 2, Partitions: []uint32{1}}}}
	if got, err := ParseConsumerGroupDetails(g.AppendTo(nil)); err != nil || !reflect.DeepEqual(got, g) {
		t.Fatalf("group %+v %v", got, err)
	}
	if got, err := ParseConsumerGroups(append(g.ConsumerGroupInfo.AppendTo(nil), g.ConsumerGroupInfo.AppendTo(nil)...)); err != nil || len(got) != 2 {
		t.Fatalf("groups %+v %v", got, err)
	}
	st := []Stream{{ID: 1, Name: "a"}, {ID: 2, Name: "b"}}
	if got, err := ParseStreams(append(st[0].AppendTo(nil), st[1].AppendTo(nil)...)); err != nil || !reflect.DeepEqual(got, st) {
		t.Fatalf("streams %+v %v", got, err)
	}
	tp := []Topic{{ID: 1, Name: "a"}}
	if got, err := ParseTopics(tp[0].AppendTo(nil)); err != nil || !reflect.DeepEqual(got, tp) {
		t.Fatalf("topics %+v %v", got, err)
	}
	if got, err := ParseStreams(nil); err != nil || got != nil {
		t.Fatal("empty streams")
	}
}

func TestHeaderKinds(t *testing.T) {
	hs := []Header{
		{HeaderStr("s"), HeaderStr("text")},
		{HeaderStr("b"), HeaderBoolean(true)},
		{HeaderStr("i"), HeaderI64(-5)},
		{HeaderStr("u32"), HeaderU32(7)},
		{HeaderStr("f"), HeaderF64(1.5)},
		{HeaderStr("raw"), HeaderBytes([]byte{0xab})},
		{HeaderU64(1), HeaderValue{HeaderInt128, make([]byte, 16)}},
	}
	enc, err := AppendHeaders(nil, hs)
	if err != nil || len(enc) != HeadersSize(hs) {
		t.Fatal(err, len(enc), HeadersSize(hs))
	}
	got, err := ParseHeaders(enc)
	if err != nil || !reflect.DeepEqual(got, hs) {
		t.Fatalf("%v %v", got, err)
	}
	want := []string{"text", "true", "-5", "7", "1.5", "ab", "00000000000000000000000000000000"}
	for i, h := range got {
		if h.Value.String() != want[i] {
			t.Errorf("%d: %q want %q", i, h.Value.String(), want[i])
		}
	}
	// Wrong width for a numeric kind.
	if _, err := AppendHeaders(nil, []Header{{HeaderStr("k"), HeaderValue{HeaderUint32, []byte{1}}}}); err != ErrInvalidHeaderValue {
		t.Fatal(err)
	}
	if err := ValidateHeaders([]byte{2, 1, 0, 0, 0, 'k', 2, 9, 0, 0, 0, 'v'}); err == nil {
		t.Fatal("truncated value accepted")
	}
}

func TestPollParseErrors(t *testing.T) {
	var p PolledMessages
	if err := ParsePolledMessages([]byte{1, 2, 3}, &p); err == nil {
		t.Fatal("short header accepted")
	}
	hdr := AppendPollHeader(nil, 1, 5, 2)
	one := AppendMessage(hdr, MessageHeader{Offset: 5}, []byte("x"), nil)
	if err := ParsePolledMessages(one, &p); err != ErrInvalidMessagesCount {
		t.Fatalf("count mismatch: %v", err)
	}
	two := AppendMessage(one, MessageHeader{Offset: 6}, []byte("y"), nil)
	if err := ParsePolledMessages(two, &p); err != nil || len(p.Messages) != 2 || p.Messages[1].Offset != 6 {
		t.Fatalf("%v %+v", err, p)
	}
	c := p.Messages[1].Clone()
	two[len(two)-1] = 'z'
	if string(c.Payload) != "y" || string(p.Messages[1].Payload) != "z" {
		t.Fatal("clone shares memory")
	}
	if err := ParsePolledMessages(nil, &p); err != nil || len(p.Messages) != 0 {
		t.Fatal("empty poll")
	}
}

// pollWith returns a valid PollMessages payload with byte i set to v.
func pollWith(t *testing.T, i int, v byte) []byte {
	p, err := (&PollMessages{Consumer: NewConsumer(NumericID(1)), TopicRef: s0t0(), Partition: SomePartition(0),
		Strategy: PollFromOffset(0), Count: 1}).AppendPayload(nil)
	if err != nil || len(p) != 38 {
		t.Fatalf("poll payload %d %v", len(p), err)
	}
	p[i] = v
	return p
}
