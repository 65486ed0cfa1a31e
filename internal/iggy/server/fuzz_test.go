package server

import (
	"encoding/binary"
	"net"
	"reflect"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// fuzzServer builds an unstarted in-memory server with a stream, a topic of
// three partitions holding messages, and a consumer group, so requests reach
// deep into the handlers.
func fuzzServer(t testing.TB) (*Server, *session) {
	srv, err := New(Config{InMemory: true, PasswordCost: bcrypt.MinCost, Now: fixedClock, SegmentSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	c := srv.newSession(a)
	c.userID.Store(0)
	w := &writer{}
	run := func(code uint32, p []byte) {
		w.b = w.b[:0]
		if st := srv.dispatch(c, code, p, w); st != StatusOK {
			t.Fatalf("setup command %d: %v", code, st)
		}
	}
	run(cmdCreateStream, name8("s"))
	run(cmdCreateTopic, topicPayload(idNum(0), 3, 0, 0, "t"))
	run(cmdSendMessages, sendPayload(0, 0, balanced(), []byte("a"), []byte("bb"), []byte("ccc")))
	run(cmdCreateConsumerGroup, cat(idNum(0), idNum(0), name8("g")))
	run(cmdJoinConsumerGroup, groupIDs(0, 0, 0))
	return srv, c
}

// FuzzDispatch feeds arbitrary command codes and payloads to the request
// dispatcher of a signed-in client and of an anonymous one. Nothing may
// panic, and an OK answer to a GET must be well-formed enough to be sent.
func FuzzDispatch(f *testing.F) {
	for _, g := range []string{gPing, gLoginGo, gLoginRust, gLogout, gLoginPAT, gCreateStream, gGetStream0, gGetStreamName,
		gGetStreams, gDeleteStream0, gUpdateStream, gCreateTopic3, gGetTopic, gGetTopics, gDeleteTopic, gCreatePartition,
		gDeletePartition, gFlush, gPollOffset, gPollGroupNext, gStoreOffset, gGetOffset, gCreateGroup, gGetGroup,
		gJoinGroup, gLeaveGroup, gDeleteGroup, gGetStats, gGetCluster, gSend1P0, gSend1Bal, gSend1Key, gSend1Hdr} {
		b := unhex(f, g)
		f.Add(binary.LittleEndian.Uint32(b[4:]), b[8:])
	}
	f.Add(uint32(cmdCreateUser), createUserPayload("user", "password", 1, &Permissions{Streams: map[uint32]StreamPermissions{0: {Topics: map[uint32]TopicPermissions{0: {}}}}}))
	f.Add(uint32(cmdUpdatePermissions), cat(idNum(0), []byte{1}, u32b(3), []byte{1, 1, 1}))
	f.Add(uint32(cmdCreatePAT), cat(name8("token"), u64b(10)))
	f.Add(uint32(cmdDeleteSegments), cat(idNum(0), idNum(0), u32b(0), u32b(1)))
	f.Add(uint32(cmdPurgeStream), idNum(0))
	f.Fuzz(func(t *testing.T, code uint32, payload []byte) {
		srv, c := fuzzServer(t)
		w := &writer{}
		_ = srv.dispatch(c, code, append([]byte(nil), payload...), w)
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		anon := srv.newSession(a)
		w.b = w.b[:0]
		st := srv.dispatch(anon, code, append([]byte(nil), payload...), w)
		switch {
		case code == cmdPing || code == cmdLoginUser || code == cmdLoginWithPAT:
		case code == cmdGetConsumerOffset:
			if st != StatusOK || len(w.b) != 0 {
				t.Fatalf("anonymous offset query answered %v %x", st, w.b)
			}
		case st == StatusOK:
			t.Fatalf("anonymous command %d succeeded", code)
		}
	})
}

// FuzzPermissions decodes arbitrary permission bytes; what decodes must
// encode back to the same bytes.
func FuzzPermissions(f *testing.F) {
	f.Add(appendPermissions(nil, rootPermissions()))
	f.Add(appendPermissions(nil, &Permissions{Streams: map[uint32]StreamPermissions{
		1: {ReadStream: true, Topics: map[uint32]TopicPermissions{2: {PollMessages: true}, 3: {}}}, 4: {ManageStream: true},
	}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := decodePermissions(b)
		if !ok {
			return
		}
		if again := appendPermissions(nil, p); string(again) != string(b) {
			// Bytes other than 0/1 decode as false/true; compare decoded values.
			p2, ok := decodePermissions(again)
			if !ok || !reflect.DeepEqual(p, p2) {
				t.Fatalf("permissions do not round-trip: %x -> %+v -> %x", b, p, again)
			}
		}
	})
}
