package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"net"
	"testing"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// plainPasswords hashes with one SHA-256: worthless against a stolen hash
// but free, so a fuzz input that creates a server, logs in or changes a
// password costs microseconds. bcrypt, even at its minimum cost, takes about
// a millisecond a hash, and that (two hashes in every New) was what held
// FuzzDispatch to a few hundred runs a second.
type plainPasswords struct{}

func (plainPasswords) hash(pw string) ([]byte, error) {
	h := sha256.Sum256([]byte(pw))
	return h[:], nil
}

func (plainPasswords) matches(hash []byte, pw string) bool {
	h := sha256.Sum256([]byte(pw))
	return subtle.ConstantTimeCompare(hash, h[:]) == 1
}

// fuzzServer builds an unstarted in-memory server with a stream, a topic of
// three partitions holding messages, and a consumer group, so requests reach
// deep into the handlers.
func fuzzServer(t testing.TB) (*Server, *session) {
	srv, err := newServer(Config{InMemory: true, Now: fixedClock, SegmentSize: 4096}, plainPasswords{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	c := srv.newSession(a)
	c.userID.Store(0)
	run := func(code wire.Command, p []byte) {
		if _, st := srv.dispatch(c, code, p, nil); st != nil {
			t.Fatalf("setup command %v: %v", code, st)
		}
	}
	run(wire.CmdCreateStream, name8("s"))
	run(wire.CmdCreateTopic, topicPayload(idNum(0), 3, 0, 0, "t"))
	run(wire.CmdSendMessages, sendPayload(0, 0, balanced(), []byte("a"), []byte("bb"), []byte("ccc")))
	run(wire.CmdCreateConsumerGroup, cat(idNum(0), idNum(0), name8("g")))
	run(wire.CmdJoinConsumerGroup, groupIDs(0, 0, 0))
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
	f.Add(uint32(wire.CmdCreateUser), createUserPayload("user", "password", 1, &wire.Permissions{Streams: map[uint32]wire.StreamPermissions{0: {Topics: map[uint32]wire.TopicPermissions{0: {}}}}}))
	f.Add(uint32(wire.CmdUpdatePermissions), cat(idNum(0), []byte{1}, u32b(3), []byte{1, 1, 1}))
	f.Add(uint32(wire.CmdCreateAccessToken), cat(name8("token"), u64b(10)))
	f.Add(uint32(wire.CmdDeleteSegments), cat(idNum(0), idNum(0), u32b(0), u32b(1)))
	f.Add(uint32(wire.CmdPurgeStream), idNum(0))
	f.Fuzz(func(t *testing.T, code uint32, payload []byte) {
		srv, c := fuzzServer(t)
		cmd := wire.Command(code)
		_, _ = srv.dispatch(c, cmd, append([]byte(nil), payload...), nil)
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		anon := srv.newSession(a)
		out, st := srv.dispatch(anon, cmd, append([]byte(nil), payload...), nil)
		switch {
		case cmd == wire.CmdPing || cmd == wire.CmdLoginUser || cmd == wire.CmdLoginWithAccessToken:
		case cmd == wire.CmdGetConsumerOffset:
			if st != nil || len(out) != 0 {
				t.Fatalf("anonymous offset query answered %v %x", st, out)
			}
		case st == nil:
			t.Fatalf("anonymous command %d succeeded", code)
		}
	})
}
