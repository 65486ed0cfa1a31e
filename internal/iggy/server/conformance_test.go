package server

// Conformance pass against docs/iggy-protocol.md (../shared/docs), section
// by section: every request here is raw bytes built from the document over
// TCP to a real server, and responses are checked byte for byte where the
// document fixes them and by status code elsewhere. Statements that other
// tests already pin down (golden frames §10, TestSendValidation for §5.2,
// TestPollStrategies for §5.4) are not repeated.

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math"
	"testing"
	"time"

	"github.com/OneOfOne/xxhash"
	"github.com/zeebo/xxh3"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// exact sends one frame and fails unless the whole response is want (hex).
func (r *rawConn) exact(name string, req []byte, want string) {
	r.t.Helper()
	if got := hex.EncodeToString(r.do(req)); got != want {
		r.t.Errorf("%s: response %s, want %s", name, got, want)
	}
}

// errFrame is the exact response of a failed request (§1): status, zero
// length, no payload.
func errFrame(e *wire.Error) string {
	return hex.EncodeToString(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, e.Code), 0))
}

const okEmpty = "0000000000000000"

// §1 Framing.
func TestConformanceFraming(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv)

	// The server speaks only when spoken to: the first bytes read after a
	// Ping are its response, not a greeting.
	c.exact("ping on a fresh connection", frame(wire.CmdPing, nil), okEmpty)

	// Unknown codes answer InvalidCommand (§7.4), before authentication
	// too, with the payload consumed: the connection stays in step.
	for _, code := range []uint32{0, 2, 13, 40, 45, 103, 206, 306, 401, 404, 502, 606, 999, math.MaxUint32} {
		c.exact("unknown code", frame(wire.Command(code), []byte{1, 2, 3}), errFrame(wire.ErrInvalidCommand))
		c.exact("ping after unknown code", frame(wire.CmdPing, nil), okEmpty)
	}

	// Responses come one per request, in order, even when the requests
	// arrive in one segment.
	var batch []byte
	batch = append(batch, frame(wire.CmdLoginUser, loginPayload("iggy", "iggy"))...)
	batch = append(batch, frame(wire.CmdCreateStream, name8("pipelined"))...)
	batch = append(batch, frame(wire.CmdCreateStream, name8("pipelined"))...)
	batch = append(batch, frame(wire.CmdPing, nil)...)
	batch = append(batch, frame(wire.Command(999), nil)...)
	batch = append(batch, frame(wire.CmdDeleteStream, idNum(0))...)
	if _, err := c.c.Write(batch); err != nil {
		t.Fatal(err)
	}
	wants := []string{
		"000000000400000000000000",
		"", // CreateStream OK: checked by status below
		errFrame(wire.ErrStreamNameAlreadyExists),
		okEmpty,
		errFrame(wire.ErrInvalidCommand),
		okEmpty,
	}
	for i, want := range wants {
		got := c.read()
		if want == "" {
			if statusOf(got) != nil || len(got) != 8+33+len("pipelined") {
				t.Errorf("pipelined response %d: %x", i, got)
			}
			continue
		}
		if hex.EncodeToString(got) != want {
			t.Errorf("pipelined response %d: %x, want %s", i, got, want)
		}
	}

	// Trailing bytes after a complete payload are only logged by Iggy: the
	// request succeeds.
	c.exact("ping with a payload", frame(wire.CmdPing, []byte("extra")), okEmpty)
	c.exact("get streams with trailing bytes", frame(wire.CmdGetStreams, []byte{0}), okEmpty)
	c.exact("get missing stream with trailing bytes", frame(wire.CmdGetStream, cat(idNum(7), []byte{9, 9})), okEmpty)

	// A truncated control payload is a decode failure (InvalidCommand) and
	// the connection stays open.
	c.exact("truncated get stream", frame(wire.CmdGetStream, []byte{1, 4, 0}), errFrame(wire.ErrInvalidCommand))
	c.exact("truncated create topic", frame(wire.CmdCreateTopic, idNum(0)), errFrame(wire.ErrInvalidCommand))
	c.exact("ping after decode errors", frame(wire.CmdPing, nil), okEmpty)

	// A frame cut short by the client ending its side: the server closes
	// without answering (there is no complete request to answer).
	c2 := newClient(t, srv)
	if _, err := c2.c.Write([]byte{10, 0, 0, 0, 1, 0, 0, 0, 1}); err != nil {
		t.Fatal(err)
	}
	_ = c2.c.(interface{ CloseWrite() error }).CloseWrite()
	_ = c2.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(c2.c); err != nil || len(b) != 0 {
		t.Errorf("half frame then EOF: read %x, %v; want a silent close", b, err)
	}
}

// §3 Auth: every command except Ping, LoginUser and LoginWithPAT needs a
// login, and is refused before its payload is looked at.
func TestConformanceAuthRequired(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv)
	for _, code := range []wire.Command{
		wire.CmdGetStats, wire.CmdGetSnapshotFile, wire.CmdGetClusterMetadata, wire.CmdGetMe, wire.CmdGetClient, wire.CmdGetClients,
		wire.CmdGetUser, wire.CmdGetUsers, wire.CmdCreateUser, wire.CmdDeleteUser, wire.CmdUpdateUser, wire.CmdUpdatePermissions,
		wire.CmdChangePassword, wire.CmdLogoutUser, wire.CmdGetAccessTokens, wire.CmdCreateAccessToken, wire.CmdDeleteAccessToken,
		wire.CmdPollMessages, wire.CmdSendMessages, wire.CmdFlushUnsavedBuffer, wire.CmdStoreConsumerOffset, wire.CmdDeleteConsumerOffset,
		wire.CmdGetStream, wire.CmdGetStreams, wire.CmdCreateStream, wire.CmdDeleteStream, wire.CmdUpdateStream, wire.CmdPurgeStream,
		wire.CmdGetTopic, wire.CmdGetTopics, wire.CmdCreateTopic, wire.CmdDeleteTopic, wire.CmdUpdateTopic, wire.CmdPurgeTopic,
		wire.CmdCreatePartitions, wire.CmdDeletePartitions, wire.CmdDeleteSegments,
		wire.CmdGetConsumerGroup, wire.CmdGetConsumerGroups, wire.CmdCreateConsumerGroup, wire.CmdDeleteConsumerGroup,
		wire.CmdJoinConsumerGroup, wire.CmdLeaveConsumerGroup,
	} {
		c.exact(code.String()+" anonymous, no payload", frame(code, nil), errFrame(wire.ErrUnauthenticated))
		c.exact(code.String()+" anonymous, valid payload", frame(code, idNum(0)), errFrame(wire.ErrUnauthenticated))
	}
	c.exact("ping anonymous", frame(wire.CmdPing, nil), okEmpty)

	// Logout ends the session's rights; logging in again restores them.
	c.exact("login", frame(wire.CmdLoginUser, loginPayload("iggy", "iggy")), "000000000400000000000000")
	c.exact("get streams", frame(wire.CmdGetStreams, nil), okEmpty)
	c.exact("logout", frame(wire.CmdLogoutUser, nil), okEmpty)
	c.exact("get streams after logout", frame(wire.CmdGetStreams, nil), errFrame(wire.ErrUnauthenticated))
	c.exact("login again", frame(wire.CmdLoginUser, loginPayload("iggy", "iggy")), "000000000400000000000000")
	c.exact("get streams after login", frame(wire.CmdGetStreams, nil), okEmpty)
}

// §3 LoginUser (38) and LoginWithPersonalAccessToken (44), §4.6 identity.
func TestConformanceLogin(t *testing.T) {
	srv := startServer(t, Config{})
	root := rootClient(t, srv.Addr())
	root.ok(wire.CmdCreateUser, createUserPayload("sleepy", "secret", 2, nil)) // status 2: inactive
	root.ok(wire.CmdCreateUser, createUserPayload("alice", "secret", 1, nil))
	c := newClient(t, srv)
	login := func(user, pass, version, context string) []byte {
		return frame(wire.CmdLoginUser, cat(name8(user), name8(pass), u32b(uint32(len(version))), []byte(version), u32b(uint32(len(context))), []byte(context)))
	}
	c.exact("unknown user", login("nobody", "iggy", "", ""), errFrame(wire.ErrInvalidCredentials))
	c.exact("wrong password", login("iggy", "iggz", "", ""), errFrame(wire.ErrInvalidCredentials))
	c.exact("inactive user", login("sleepy", "secret", "", ""), errFrame(wire.ErrUserInactive))
	c.exact("username too short", login("ab", "secret", "", ""), errFrame(wire.ErrInvalidUsername))
	c.exact("username too long", login(string(bytes.Repeat([]byte("u"), 51)), "secret", "", ""), errFrame(wire.ErrInvalidUsername))
	c.exact("password too short", login("iggy", "ab", "", ""), errFrame(wire.ErrInvalidPassword))
	c.exact("password too long", login("iggy", string(bytes.Repeat([]byte("p"), 101)), "", ""), errFrame(wire.ErrInvalidPassword))
	// Login decodes as Iggy 0.8's LoginUserRequest: an empty username fails
	// WireName validation (InvalidFormat), an empty password the length
	// check, and version_len/context_len are always present.
	c.exact("empty username", login("", "secret", "", ""), errFrame(wire.ErrInvalidFormat))
	c.exact("empty password", login("iggy", "", "", ""), errFrame(wire.ErrInvalidPassword))
	c.exact("no version/context lengths", frame(wire.CmdLoginUser, cat(name8("iggy"), name8("iggy"))), errFrame(wire.ErrInvalidCommand))
	c.exact("version longer than the payload", frame(wire.CmdLoginUser, cat(name8("iggy"), name8("iggy"), u32b(math.MaxUint32), u32b(0))), errFrame(wire.ErrInvalidCommand))
	c.exact("still anonymous", frame(wire.CmdGetStreams, nil), errFrame(wire.ErrUnauthenticated))
	// version and context are free-form and ignored.
	c.exact("login with version and context", login("alice", "secret", "whatever 9.9", "ctx"), "000000000400000002000000") // alice is user 2
	c.exact("root login replaces the session's user", login("iggy", "iggy", "0.8.0", ""), "000000000400000000000000")
	// A failed login leaves the session signed in as it was.
	c.exact("wrong password while signed in", login("iggy", "wrong", "", ""), errFrame(wire.ErrInvalidCredentials))
	c.exact("still signed in", frame(wire.CmdGetStreams, nil), okEmpty)

	// A personal access token logs in as its owner; an unknown one fails.
	tok := root.ok(wire.CmdCreateAccessToken, cat(name8("tok1"), u64b(0)))
	token := tok[1 : 1+int(tok[0])]
	p := newClient(t, srv)
	p.exact("login with token", frame(wire.CmdLoginWithAccessToken, name8(string(token))), "000000000400000000000000")
	p.exact("token session is authenticated", frame(wire.CmdGetStreams, nil), okEmpty)
	q := newClient(t, srv)
	q.exact("unknown token", frame(wire.CmdLoginWithAccessToken, name8("not-a-token")), errFrame(wire.ErrInvalidPersonalAccessToken))
	q.exact("empty token", frame(wire.CmdLoginWithAccessToken, []byte{0}), errFrame(wire.ErrInvalidFormat))
}

// §2 Identifier, Name, Consumer, Partitioning, PollingStrategy, optional
// partition id, compression: malformed primitives are refused with the
// status Iggy's decoder gives and the connection stays open.
func TestConformancePrimitives(t *testing.T) {
	_, c, s, tp := serveTopic(t, Config{}, 2)
	// Identifiers: numeric 0 is a valid id (0-based), a string id names.
	if s != 0 || tp != 0 {
		t.Fatalf("first stream/topic ids %d/%d, want 0/0", s, tp)
	}
	if b := c.ok(wire.CmdGetStream, idStr("s")); binary.LittleEndian.Uint32(b) != 0 {
		t.Errorf("stream by name: %x", b)
	}
	bad := []struct {
		name string
		id   []byte
	}{
		{"numeric len 3", []byte{1, 3, 0, 0, 0}},
		{"numeric len 8", []byte{1, 8, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"numeric len 0", []byte{1, 0}},
		{"string len 0", []byte{2, 0}},
		{"kind 0", []byte{0, 4, 0, 0, 0, 0}},
		{"kind 3", []byte{3, 4, 0, 0, 0, 0}},
	}
	for _, b := range bad {
		st, _ := c.call(wire.CmdGetStream, b.id)
		if st == nil {
			t.Errorf("identifier %s accepted", b.name)
		}
		if st, _ := c.call(wire.CmdDeleteStream, b.id); st == nil || st == wire.ErrStreamIdNotFound {
			t.Errorf("identifier %s on delete: %v, want a decode error", b.name, st)
		}
		c.ok(wire.CmdPing, nil)
	}
	// A string identifier of 255 bytes is valid (and names nothing here).
	if b := c.ok(wire.CmdGetStream, idStr(string(bytes.Repeat([]byte("x"), 255)))); len(b) != 0 {
		t.Errorf("255-byte name found a stream: %x", b)
	}
	// Non-UTF-8 names are refused.
	c.expect(wire.ErrInvalidCommand, wire.CmdCreateStream, []byte{2, 0xff, 0xfe})
	// A name of 255 bytes is accepted.
	long := string(bytes.Repeat([]byte("n"), 255))
	c.ok(wire.CmdCreateStream, name8(long))

	// Consumer kinds: 1 consumer, 2 group; anything else is an unknown
	// discriminant.
	for _, kind := range []byte{0, 3} {
		c.expect(wire.ErrInvalidCommand, wire.CmdPollMessages, pollPayload(cat([]byte{kind}, idNum(1)), s, tp, somePartition(0), pollFirst, 0, 1, false))
		c.expect(wire.ErrInvalidCommand, wire.CmdGetConsumerOffset, cat([]byte{kind}, idNum(1), idNum(s), idNum(tp), somePartition(0)))
	}
	// Optional partition id: flag 0 means none whatever follows; another
	// flag value is not a bool.
	c.ok(wire.CmdPollMessages, pollPayload(consumerOf(1), s, tp, []byte{0, 9, 9, 9, 9}, pollFirst, 0, 1, false))
	c.expect(wire.ErrInvalidFormat, wire.CmdPollMessages, pollPayload(consumerOf(1), s, tp, []byte{2, 0, 0, 0, 0}, pollFirst, 0, 1, false))
	// Polling strategy kinds 1..5; 0 and 6 are unknown. Next ignores its value.
	for _, kind := range []byte{0, 6} {
		c.expect(wire.ErrInvalidCommand, wire.CmdPollMessages, pollPayload(consumerOf(1), s, tp, somePartition(0), kind, 0, 1, false))
	}
	c.ok(wire.CmdPollMessages, pollPayload(consumerOf(1), s, tp, somePartition(0), pollNext, 12345, 1, false))

	// Partitioning: Balanced len 0, PartitionId len 4, MessagesKey len 1..255.
	one := []byte("x")
	for _, p := range []struct {
		name string
		part []byte
	}{
		{"balanced with a value", []byte{1, 4, 0, 0, 0, 0}},
		{"partition id len 3", []byte{2, 3, 0, 0, 0}},
		{"messages key len 0", []byte{3, 0}},
		{"kind 0", []byte{0, 0}},
	} {
		if st, _ := c.call(wire.CmdSendMessages, sendPayload(s, tp, p.part, one)); st == nil {
			t.Errorf("partitioning %s accepted", p.name)
		}
		c.ok(wire.CmdPing, nil)
	}
	c.send(s, tp, cat([]byte{3, 255}, bytes.Repeat([]byte("k"), 255)), one)

	// Compression: 1 none, 2 gzip; 0 and 3 are refused.
	c.ok(wire.CmdCreateTopic, cat(idNum(s), u32b(1), []byte{2}, u64b(0), u64b(0), []byte{0}, name8("gz")))
	for _, comp := range []byte{0, 3} {
		c.expect(wire.ErrInvalidCommand, wire.CmdCreateTopic, cat(idNum(s), u32b(1), []byte{comp}, u64b(0), u64b(0), []byte{0}, name8("bad")))
		c.expect(wire.ErrInvalidCommand, wire.CmdUpdateTopic, cat(idNum(s), idNum(tp), []byte{comp}, u64b(0), u64b(0), []byte{0}, name8("t")))
	}
}

// §3/§4: GETs of missing entities answer an empty OK; mutations of missing
// entities answer 1009/2010/3007/5000, for numeric and string ids alike.
func TestConformanceMissingEntities(t *testing.T) {
	_, c, s, tp := serveTopic(t, Config{}, 1)
	for _, ids := range []struct {
		name                string
		stream, topic, grp  []byte
		noStream, noTopic   []byte
		noGroup, realStream []byte
	}{
		{name: "numeric", noStream: idNum(9), noTopic: idNum(9), noGroup: idNum(9), realStream: idNum(s), topic: idNum(tp)},
		{name: "string", noStream: idStr("nope"), noTopic: idStr("nope"), noGroup: idStr("nope"), realStream: idStr("s"), topic: idStr("t")},
	} {
		t.Run(ids.name, func(t *testing.T) {
			empty := func(what string, code wire.Command, payload []byte) {
				t.Helper()
				if got := hex.EncodeToString(c.do(frame(code, payload))); got != okEmpty {
					t.Errorf("%s: %s, want empty OK", what, got)
				}
			}
			fails := func(what string, want *wire.Error, code wire.Command, payload []byte) {
				t.Helper()
				if got := hex.EncodeToString(c.do(frame(code, payload))); got != errFrame(want) {
					t.Errorf("%s: %s, want %s", what, got, errFrame(want))
				}
			}
			st, tpc := ids.realStream, ids.topic
			empty("get stream", wire.CmdGetStream, ids.noStream)
			empty("get topic, stream missing", wire.CmdGetTopic, cat(ids.noStream, tpc))
			empty("get topic, topic missing", wire.CmdGetTopic, cat(st, ids.noTopic))
			empty("get topics, stream missing", wire.CmdGetTopics, ids.noStream)
			empty("get group, stream missing", wire.CmdGetConsumerGroup, cat(ids.noStream, tpc, ids.noGroup))
			empty("get group, topic missing", wire.CmdGetConsumerGroup, cat(st, ids.noTopic, ids.noGroup))
			empty("get group, group missing", wire.CmdGetConsumerGroup, cat(st, tpc, ids.noGroup))
			empty("get groups, topic missing", wire.CmdGetConsumerGroups, cat(st, ids.noTopic))
			empty("get offset, none stored", wire.CmdGetConsumerOffset, cat(consumerOf(1), st, tpc, somePartition(0)))
			empty("get offset, topic missing", wire.CmdGetConsumerOffset, cat(consumerOf(1), st, ids.noTopic, somePartition(0)))
			empty("get user, missing", wire.CmdGetUser, ids.noGroup)

			fails("delete stream", wire.ErrStreamIdNotFound, wire.CmdDeleteStream, ids.noStream)
			fails("update stream", wire.ErrStreamIdNotFound, wire.CmdUpdateStream, cat(ids.noStream, name8("x")))
			fails("purge stream", wire.ErrStreamIdNotFound, wire.CmdPurgeStream, ids.noStream)
			fails("create topic", wire.ErrStreamIdNotFound, wire.CmdCreateTopic, topicPayload(ids.noStream, 1, 0, 0, "x"))
			fails("delete topic, stream missing", wire.ErrStreamIdNotFound, wire.CmdDeleteTopic, cat(ids.noStream, tpc))
			fails("delete topic", wire.ErrTopicIdNotFound, wire.CmdDeleteTopic, cat(st, ids.noTopic))
			fails("update topic", wire.ErrTopicIdNotFound, wire.CmdUpdateTopic, cat(st, ids.noTopic, []byte{1}, u64b(0), u64b(0), []byte{0}, name8("x")))
			fails("purge topic", wire.ErrTopicIdNotFound, wire.CmdPurgeTopic, cat(st, ids.noTopic))
			fails("create partitions", wire.ErrTopicIdNotFound, wire.CmdCreatePartitions, cat(st, ids.noTopic, u32b(1)))
			fails("delete partitions", wire.ErrTopicIdNotFound, wire.CmdDeletePartitions, cat(st, ids.noTopic, u32b(1)))
			fails("delete segments, topic", wire.ErrTopicIdNotFound, wire.CmdDeleteSegments, cat(st, ids.noTopic, u32b(0), u32b(1)))
			fails("delete segments, partition", wire.ErrPartitionNotFound, wire.CmdDeleteSegments, cat(st, tpc, u32b(5), u32b(1)))
			fails("flush, partition", wire.ErrPartitionNotFound, wire.CmdFlushUnsavedBuffer, cat(st, tpc, u32b(5), []byte{1}))
			fails("flush, topic", wire.ErrTopicIdNotFound, wire.CmdFlushUnsavedBuffer, cat(st, ids.noTopic, u32b(0), []byte{0}))
			fails("send, stream", wire.ErrStreamIdNotFound, wire.CmdSendMessages, sendPayload(9, tp, balanced(), []byte("x")))
			fails("poll, topic", wire.ErrTopicIdNotFound, wire.CmdPollMessages, cat(consumerOf(1), st, ids.noTopic, somePartition(0), []byte{pollFirst}, u64b(0), u32b(1), []byte{0}))
			fails("poll, partition", wire.ErrPartitionNotFound, wire.CmdPollMessages, cat(consumerOf(1), st, tpc, somePartition(7), []byte{pollFirst}, u64b(0), u32b(1), []byte{0}))
			fails("store offset, topic", wire.ErrTopicIdNotFound, wire.CmdStoreConsumerOffset, cat(consumerOf(1), st, ids.noTopic, somePartition(0), u64b(0)))
			fails("store offset, partition", wire.ErrPartitionNotFound, wire.CmdStoreConsumerOffset, cat(consumerOf(1), st, tpc, somePartition(7), u64b(0)))
			fails("create group", wire.ErrTopicIdNotFound, wire.CmdCreateConsumerGroup, cat(st, ids.noTopic, name8("g")))
			fails("delete group", wire.ErrConsumerGroupIdNotFound, wire.CmdDeleteConsumerGroup, cat(st, tpc, ids.noGroup))
			fails("join group", wire.ErrConsumerGroupIdNotFound, wire.CmdJoinConsumerGroup, cat(st, tpc, ids.noGroup))
			fails("leave group", wire.ErrConsumerGroupIdNotFound, wire.CmdLeaveConsumerGroup, cat(st, tpc, ids.noGroup))
		})
	}
}

// §3/§8: names are unique per parent, on create and on rename; limits.
func TestConformanceNamesAndLimits(t *testing.T) {
	_, c, s, tp := serveTopic(t, Config{}, 1)
	other := c.createStream("other")
	c.expect(wire.ErrStreamNameAlreadyExists, wire.CmdCreateStream, name8("s"))
	c.expect(wire.ErrStreamNameAlreadyExists, wire.CmdUpdateStream, cat(idNum(other), name8("s")))
	c.ok(wire.CmdUpdateStream, cat(idNum(s), name8("s"))) // renaming to its own name
	c.createTopic(s, "t2", 1)
	c.expect(wire.ErrTopicNameAlreadyExists, wire.CmdCreateTopic, topicPayload(idNum(s), 1, 0, 0, "t"))
	c.expect(wire.ErrTopicNameAlreadyExists, wire.CmdUpdateTopic, cat(idNum(s), idStr("t2"), []byte{1}, u64b(0), u64b(0), []byte{0}, name8("t")))
	c.createTopic(other, "t", 1) // the same topic name in another stream
	c.ok(wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	c.expect(wire.ErrConsumerGroupNameAlreadyExists, wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	// Partitions: at most 1000 per request.
	c.expect(wire.ErrTooManyPartitions, wire.CmdCreatePartitions, cat(idNum(s), idNum(tp), u32b(1001)))
	c.ok(wire.CmdCreatePartitions, cat(idNum(s), idNum(tp), u32b(1000)))
	td, err := wire.ParseTopicDetails(c.ok(wire.CmdGetTopic, cat(idNum(s), idNum(tp))))
	if err != nil || td.PartitionsCount != 1001 || td.Partitions[1000].ID != 1000 {
		t.Fatalf("after adding 1000 partitions: %+v %v", td.Topic, err)
	}
	c.ok(wire.CmdDeletePartitions, cat(idNum(s), idNum(tp), u32b(1000)))
	td, _ = wire.ParseTopicDetails(c.ok(wire.CmdGetTopic, cat(idNum(s), idNum(tp))))
	if td.PartitionsCount != 1 || td.Partitions[0].ID != 0 {
		t.Fatalf("after deleting 1000 partitions: %d", td.PartitionsCount)
	}
	// The replication factor 0 is stored as 1 and echoed (§2).
	b := c.ok(wire.CmdCreateTopic, topicPayload(idNum(s), 1, math.MaxUint64, math.MaxUint64, "rf"))
	if b[33] != 1 || binary.LittleEndian.Uint64(b[16:]) != math.MaxUint64 || binary.LittleEndian.Uint64(b[25:]) != math.MaxUint64 {
		t.Fatalf("topic header %x", b[:51])
	}
}

// §5.1–§5.5: the server stamps offset, timestamp (one per batch), id (when
// 0) and the XXH3-64 checksum; it keeps the client's id, origin timestamp,
// payload and user headers byte for byte, without parsing the headers.
func TestConformanceMessageFrame(t *testing.T) {
	_, c, s, tp := serveTopic(t, Config{Now: fixedClock}, 1)
	hdrs := []byte{2, 1, 0, 0, 0, 'k', 2, 1, 0, 0, 0, 'v'}
	garbage := []byte{0, 0, 0} // not valid TLV: stored as sent
	var msgs, idx []byte
	add := func(id uint64, origin uint64, payload, headers []byte) {
		msgs = wire.AppendMessage(msgs, wire.MessageHeader{ID: wire.MessageID{Lo: id}, OriginTimestamp: origin, Checksum: 0xdead}, payload, headers)
		idx = cat(idx, u32b(0), u32b(uint32(len(msgs))), u64b(0))
	}
	add(42, 7, []byte("a"), hdrs)
	add(0, 8, []byte("bb"), nil)
	add(43, 9, []byte("ccc"), garbage)
	meta := cat(idNum(s), idNum(tp), partitionID(0), u32b(3))
	c.ok(wire.CmdSendMessages, cat(u32b(uint32(len(meta))), meta, idx, msgs))

	body := c.ok(wire.CmdPollMessages, pollPayload(consumerOf(1), s, tp, somePartition(0), pollOffset, 0, 10, false))
	if binary.LittleEndian.Uint32(body) != 0 || binary.LittleEndian.Uint64(body[4:]) != 2 || binary.LittleEndian.Uint32(body[12:]) != 3 {
		t.Fatalf("poll header %x", body[:16])
	}
	off := 16
	for i, want := range []struct {
		id      uint64
		origin  uint64
		payload string
		headers []byte
	}{{42, 7, "a", hdrs}, {0, 8, "bb", nil}, {43, 9, "ccc", garbage}} {
		f := wire.Frame(body[off:])
		n := f.Size()
		if f.Checksum() != xxh3.Hash(f[8:n]) {
			t.Errorf("message %d: checksum %x, want XXH3 %x", i, f.Checksum(), xxh3.Hash(f[8:n]))
		}
		id := f.ID()
		if want.id != 0 && (id.Lo != want.id || id.Hi != 0) {
			t.Errorf("message %d: id %v, want the client's %d", i, id, want.id)
		}
		if want.id == 0 && id.IsZero() {
			t.Errorf("message %d: id 0 not replaced", i)
		}
		if f.Offset() != uint64(i) || f.Timestamp() != uint64(goldenTime.UnixMicro()) || f.OriginTimestamp() != want.origin || f.Reserved() != 0 {
			t.Errorf("message %d: offset %d timestamp %d origin %d reserved %d", i, f.Offset(), f.Timestamp(), f.OriginTimestamp(), f.Reserved())
		}
		if string(f.Payload()) != want.payload || !bytes.Equal(f.UserHeaders(), want.headers) {
			t.Errorf("message %d: payload %q headers %x", i, f.Payload(), f.UserHeaders())
		}
		off += n
	}
	if off != len(body) {
		t.Fatalf("poll response has %d bytes after its messages", len(body)-off)
	}
}

// §5.2 limits: payload ≤ 64,000,000 B (4022), user headers ≤ 100,000 B
// (4017); the limits themselves are accepted.
func TestConformanceMessageLimits(t *testing.T) {
	_, c, s, tp := serveTopic(t, Config{MaxBatchBytes: 70 << 20}, 1)
	hdrs := func(n int) []byte { // one Raw→Raw pair of total size n
		v := n - 1 - 4 - 1 - 1 - 4
		return cat([]byte{1}, u32b(1), []byte{'k'}, []byte{1}, u32b(uint32(v)), bytes.Repeat([]byte{'v'}, v))
	}
	send := func(payload, headers []byte) *wire.Error {
		msgs := wire.AppendMessage(nil, wire.MessageHeader{}, payload, headers)
		meta := cat(idNum(s), idNum(tp), partitionID(0), u32b(1))
		st, _ := c.call(wire.CmdSendMessages, cat(u32b(uint32(len(meta))), meta, u32b(0), u32b(uint32(len(msgs))), u64b(0), msgs))
		return st
	}
	if st := send([]byte("x"), hdrs(100_000)); st != nil {
		t.Errorf("100,000 B of user headers: %v", st)
	}
	if st := send([]byte("x"), hdrs(100_001)); st != wire.ErrTooBigUserHeaders {
		t.Errorf("100,001 B of user headers: %v, want TooBigUserHeaders", st)
	}
	if st := send(make([]byte, 64_000_001), nil); st != wire.ErrTooBigMessagePayload {
		t.Errorf("64,000,001 B payload: %v, want TooBigMessagePayload", st)
	}
	c.ok(wire.CmdPing, nil)
}

// §5.2 partition selection: Balanced is round-robin over the partitions,
// MessagesKey is XXH32(seed 0, key) % partitions.
func TestConformancePartitioning(t *testing.T) {
	const n = 3
	_, c, s, tp := serveTopic(t, Config{}, n)
	for i := 0; i < 2*n; i++ {
		c.send(s, tp, balanced(), []byte{byte(i)})
	}
	for p := uint32(0); p < n; p++ {
		got := c.poll(consumerOf(1), s, tp, somePartition(p), pollFirst, 0, 10, false)
		if len(got.offsets) != 2 {
			t.Errorf("balanced: partition %d holds %d messages, want 2", p, len(got.offsets))
		}
	}
	if xxhash.Checksum32S(nil, 0) != 0x02CC5D05 {
		t.Fatal("XXH32 vector of §5.2 does not hold")
	}
	keys := []string{"key1", "BTCUSDT", "ETHUSDT", "a", "binance:spot:trade", "zz", "0", "k"}
	want := map[uint32][]string{}
	for _, k := range keys {
		c.send(s, tp, cat([]byte{3, byte(len(k))}, []byte(k)), []byte(k))
		p := xxhash.Checksum32S([]byte(k), 0) % n
		want[p] = append(want[p], k)
	}
	for p := uint32(0); p < n; p++ {
		got := c.poll(consumerOf(1), s, tp, somePartition(p), pollOffset, 2, 100, false)
		var names []string
		for _, pl := range got.payloads {
			names = append(names, string(pl))
		}
		if len(names) != len(want[p]) {
			t.Errorf("key partitioning: partition %d holds %q, want %q", p, names, want[p])
			continue
		}
		for i := range names {
			if names[i] != want[p][i] {
				t.Errorf("key partitioning: partition %d holds %q, want %q", p, names, want[p])
				break
			}
		}
	}
}

// §5.4 consumer groups in polls and offsets: a non-member is refused
// (5006); a member reads its assigned partition; an explicit partition it
// does not own yields nothing.
func TestConformanceGroupPolling(t *testing.T) {
	srv, c, s, tp := serveTopic(t, Config{}, 2)
	c.send(s, tp, partitionID(0), []byte("p0"))
	c.send(s, tp, partitionID(1), []byte("p1"))
	c.ok(wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	c.expect(wire.ErrConsumerGroupMemberNotFound, wire.CmdPollMessages, pollPayload(groupOf(0), s, tp, noPartition(), pollNext, 0, 10, false))
	c.expect(wire.ErrConsumerGroupIdNotFound, wire.CmdPollMessages, pollPayload(groupOf(5), s, tp, noPartition(), pollNext, 0, 10, false))
	// Offsets of a group are the members' business too, named partition or
	// not (Iggy 0.8 checks membership first); GetConsumerOffset answers
	// "no offset" for anything it cannot serve.
	groupOffset := func(p []byte) []byte { return cat(groupOf(0), idNum(s), idNum(tp), p) }
	c.exact("non-member stores a group offset", frame(wire.CmdStoreConsumerOffset, cat(groupOffset(somePartition(0)), u64b(0))), errFrame(wire.ErrConsumerGroupMemberNotFound))
	c.exact("non-member stores for a missing partition", frame(wire.CmdStoreConsumerOffset, cat(groupOffset(somePartition(9)), u64b(0))), errFrame(wire.ErrConsumerGroupMemberNotFound))
	c.exact("non-member deletes a group offset", frame(wire.CmdDeleteConsumerOffset, groupOffset(somePartition(0))), errFrame(wire.ErrConsumerGroupMemberNotFound))
	c.exact("non-member reads a group offset", frame(wire.CmdGetConsumerOffset, groupOffset(somePartition(0))), okEmpty)
	c.exact("non-member polls a named partition", frame(wire.CmdPollMessages, pollPayload(groupOf(0), s, tp, somePartition(0), pollFirst, 0, 10, false)), errFrame(wire.ErrConsumerGroupMemberNotFound))

	a := rootClient(t, srv.Addr())
	a.ok(wire.CmdJoinConsumerGroup, groupIDs(s, tp, 0))
	b := rootClient(t, srv.Addr())
	b.ok(wire.CmdJoinConsumerGroup, groupIDs(s, tp, 0))
	pa := a.poll(groupOf(0), s, tp, noPartition(), pollNext, 0, 10, true)
	pb := b.poll(groupOf(0), s, tp, noPartition(), pollNext, 0, 10, true)
	if len(pa.offsets) != 1 || len(pb.offsets) != 1 || pa.partition == pb.partition {
		t.Fatalf("members read partitions %d (%q) and %d (%q)", pa.partition, pa.payloads, pb.partition, pb.payloads)
	}
	// a asks for b's partition explicitly: nothing.
	if p := a.poll(groupOf(0), s, tp, somePartition(pb.partition), pollFirst, 0, 10, false); len(p.offsets) != 0 {
		t.Fatalf("member read a partition it does not own: %q", p.payloads)
	}
	// Auto-commit stored each member's offset for its partition.
	for _, m := range []struct {
		c *tclient
		p uint32
	}{{a, pa.partition}, {b, pb.partition}} {
		off := m.c.ok(wire.CmdGetConsumerOffset, cat(groupOf(0), idNum(s), idNum(tp), somePartition(m.p)))
		if len(off) != 20 || binary.LittleEndian.Uint32(off) != m.p || binary.LittleEndian.Uint64(off[12:]) != 0 {
			t.Fatalf("group offset for partition %d: %x", m.p, off)
		}
	}
}

// §1: after an ordinary error the connection stays open; §6: the codes of
// the errors the document lists, each leaving the connection usable.
func TestConformanceErrorsKeepConnection(t *testing.T) {
	_, c, s, tp := serveTopic(t, Config{}, 1)
	c.send(s, tp, partitionID(0), []byte("m"))
	steps := []struct {
		name string
		want *wire.Error
		code wire.Command
		p    []byte
	}{
		{"stream exists", wire.ErrStreamNameAlreadyExists, wire.CmdCreateStream, name8("s")},
		{"too many partitions", wire.ErrTooManyPartitions, wire.CmdCreateTopic, topicPayload(idNum(s), 1001, 0, 0, "x")},
		{"topic size below segment", wire.ErrInvalidTopicSize, wire.CmdCreateTopic, topicPayload(idNum(s), 1, 0, 1, "x")},
		{"offset beyond end", wire.ErrInvalidOffset, wire.CmdStoreConsumerOffset, cat(consumerOf(1), idNum(s), idNum(tp), somePartition(0), u64b(5))},
		{"no offset to delete", wire.ErrConsumerOffsetNotFound, wire.CmdDeleteConsumerOffset, cat(consumerOf(1), idNum(s), idNum(tp), somePartition(0))},
		{"empty batch", wire.ErrInvalidMessagesCount, wire.CmdSendMessages, sendPayload(s, tp, balanced())},
		{"unknown user", wire.ErrResourceNotFound, wire.CmdDeleteUser, idStr("ghost")},
		{"snapshot", wire.ErrFeatureUnavailable, wire.CmdGetSnapshotFile, nil},
	}
	for _, st := range steps {
		c.exact(st.name, frame(st.code, st.p), errFrame(st.want))
		c.exact(st.name+": ping after", frame(wire.CmdPing, nil), okEmpty)
	}
}

// §4.1–§4.3, §4.7, §5.4: the counters of the response layouts agree with
// what was sent (sizes are whole 64-byte frames), lists come sorted by id,
// and GetMe names the groups the client joined.
func TestConformanceResponseCounters(t *testing.T) {
	_, c, s, tp := serveTopic(t, Config{}, 2)
	tp2 := c.createTopic(s, "a-second", 1)
	s2 := c.createStream("another")
	if p := c.poll(consumerOf(1), s, tp, somePartition(1), pollFirst, 0, 10, false); p.partition != 1 || p.current != 0 || len(p.offsets) != 0 {
		t.Fatalf("empty partition poll: %+v", p)
	}
	c.send(s, tp, partitionID(0), []byte("a"), []byte("bb"), []byte("ccc"))
	c.send(s, tp, partitionID(1), []byte("dddd"))
	c.send(s, tp2, partitionID(0), []byte("eeeee"))
	frameBytes := func(payloads ...int) uint64 {
		n := 0
		for _, p := range payloads {
			n += wire.MessageHeaderSize + p
		}
		return uint64(n)
	}

	td, err := wire.ParseTopicDetails(c.ok(wire.CmdGetTopic, cat(idNum(s), idNum(tp))))
	if err != nil {
		t.Fatal(err)
	}
	want := []wire.Partition{
		{ID: 0, SegmentsCount: 1, CurrentOffset: 2, SizeBytes: frameBytes(1, 2, 3), MessagesCount: 3},
		{ID: 1, SegmentsCount: 1, CurrentOffset: 0, SizeBytes: frameBytes(4), MessagesCount: 1},
	}
	if len(td.Partitions) != 2 || td.PartitionsCount != 2 {
		t.Fatalf("partitions %+v", td.Partitions)
	}
	for i, w := range want {
		g := td.Partitions[i]
		w.CreatedAt = g.CreatedAt
		if g != w || g.CreatedAt == 0 {
			t.Errorf("partition %d: %+v, want %+v", i, g, w)
		}
	}
	if td.SizeBytes != frameBytes(1, 2, 3, 4) || td.MessagesCount != 4 {
		t.Errorf("topic counters: %d bytes, %d messages", td.SizeBytes, td.MessagesCount)
	}

	sd, err := wire.ParseStreamDetails(c.ok(wire.CmdGetStream, idNum(s)))
	if err != nil {
		t.Fatal(err)
	}
	if sd.TopicsCount != 2 || len(sd.Topics) != 2 || sd.Topics[0].ID != tp || sd.Topics[1].ID != tp2 ||
		sd.SizeBytes != frameBytes(1, 2, 3, 4, 5) || sd.MessagesCount != 5 {
		t.Errorf("stream details: %+v", sd)
	}
	topics, err := wire.ParseTopics(c.ok(wire.CmdGetTopics, idNum(s)))
	if err != nil || len(topics) != 2 || topics[0].ID != tp || topics[1].ID != tp2 || topics[1].MessagesCount != 1 {
		t.Errorf("topics: %+v %v", topics, err)
	}
	streams, err := wire.ParseStreams(c.ok(wire.CmdGetStreams, nil))
	if err != nil || len(streams) != 2 || streams[0].ID != s || streams[1].ID != s2 || streams[0].TopicsCount != 2 || streams[1].TopicsCount != 0 {
		t.Errorf("streams: %+v %v", streams, err)
	}

	// GetMe: transport TCP, the joined groups as (stream, topic, group).
	c.ok(wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	c.ok(wire.CmdJoinConsumerGroup, groupIDs(s, tp, 0))
	me, err := wire.ParseClientDetails(c.ok(wire.CmdGetMe, nil))
	if err != nil {
		t.Fatal(err)
	}
	if me.Transport != 1 || me.UserID != 0 || me.ConsumerGroupsCount != 1 || len(me.ConsumerGroups) != 1 ||
		me.ConsumerGroups[0] != (wire.ClientGroup{StreamID: s, TopicID: tp, GroupID: 0}) {
		t.Errorf("GetMe: %+v", me)
	}
	c.ok(wire.CmdLeaveConsumerGroup, groupIDs(s, tp, 0))
	if me, _ := wire.ParseClientDetails(c.ok(wire.CmdGetMe, nil)); me.ConsumerGroupsCount != 0 {
		t.Errorf("GetMe after leaving: %+v", me)
	}
}
