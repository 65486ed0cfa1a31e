package server

import (
	"encoding/binary"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func createUserPayload(name, pass string, status uint8, perms *Permissions) []byte {
	b := cat(name8(name), name8(pass), []byte{status})
	if perms == nil {
		return append(b, 0)
	}
	p := appendPermissions(nil, perms)
	return cat(b, []byte{1}, u32b(uint32(len(p))), p)
}

func TestPermissionsCodecRoundTrip(t *testing.T) {
	p := &Permissions{
		Global: GlobalPermissions{ReadServers: true, PollMessages: true},
		Streams: map[uint32]StreamPermissions{
			3: {ReadStream: true, Topics: map[uint32]TopicPermissions{1: {SendMessages: true}, 0: {ReadTopic: true}}},
			1: {ManageStream: true},
		},
	}
	b := appendPermissions(nil, p)
	got, ok := decodePermissions(b)
	if !ok {
		t.Fatalf("decode failed for %x", b)
	}
	if b2 := appendPermissions(nil, got); string(b2) != string(b) {
		t.Fatalf("round trip changed bytes:\n%x\n%x", b, b2)
	}
	if _, ok := decodePermissions(b[:len(b)-1]); ok {
		t.Fatal("truncated permissions decoded")
	}
}

func TestUsersLifecycle(t *testing.T) {
	srv := startServer(t, Config{})
	root := newClient(t, srv)
	if id := root.login("iggy", "iggy"); id != 0 {
		t.Fatalf("root id %d", id)
	}
	body := root.ok(cmdCreateUser, createUserPayload("alice", "secret1", 1, nil))
	aliceID := binary.LittleEndian.Uint32(body)
	if aliceID != 1 || body[12] != 1 || string(body[14:14+5]) != "alice" || body[len(body)-1] != 0 {
		t.Fatalf("create user response %x", body)
	}
	root.expect(StatusUserAlreadyExists, cmdCreateUser, createUserPayload("alice", "secret1", 1, nil))
	root.expect(StatusInvalidUsername, cmdCreateUser, createUserPayload("al", "secret1", 1, nil))
	root.expect(StatusInvalidPassword, cmdCreateUser, createUserPayload("bob", "s", 1, nil))
	root.expect(StatusInvalidUserStatus, cmdCreateUser, createUserPayload("bob", "secret1", 3, nil))

	users := root.ok(cmdGetUsers, nil)
	if n := len(users); n != (4+8+1+1+4)+(4+8+1+1+5) {
		t.Fatalf("users list %x", users)
	}
	if b := root.ok(cmdGetUser, idStr("alice")); binary.LittleEndian.Uint32(b) != aliceID {
		t.Fatalf("get user by name %x", b)
	}
	if b := root.ok(cmdGetUser, idNum(42)); len(b) != 0 {
		t.Fatalf("missing user: %x", b)
	}

	alice := newClient(t, srv)
	alice.login("alice", "secret1")
	// No permissions: cannot list streams, create, or read users.
	alice.expect(StatusUnauthorized, cmdCreateStream, name8("x"))
	alice.expect(StatusUnauthorized, cmdGetUsers, nil)
	alice.expect(StatusUnauthorized, cmdGetStats, nil)
	// But may read itself and change its own password.
	alice.ok(cmdGetUser, idNum(aliceID))
	alice.expect(StatusInvalidCredentials, cmdChangePassword, cat(idNum(aliceID), name8("wrong"), name8("secret2")))
	alice.ok(cmdChangePassword, cat(idNum(aliceID), name8("secret1"), name8("secret2")))
	alice.expect(StatusInvalidCredentials, cmdLoginUser, loginPayload("alice", "secret1"))
	alice.login("alice", "secret2")

	// Rename and deactivate.
	root.ok(cmdUpdateUser, cat(idNum(aliceID), []byte{1}, name8("alicia"), []byte{1, 2}))
	alice.expect(StatusInvalidCredentials, cmdLoginUser, loginPayload("alice", "secret2"))
	alice.expect(StatusUserInactive, cmdLoginUser, loginPayload("alicia", "secret2"))
	root.ok(cmdUpdateUser, cat(idNum(aliceID), []byte{0}, []byte{1, 1}))
	alice.login("alicia", "secret2")

	root.expect(StatusCannotDeleteUser, cmdDeleteUser, idNum(0))
	root.expect(StatusCannotChangePermissions, cmdUpdatePermissions, cat(idNum(0), []byte{0}))
	root.ok(cmdDeleteUser, idStr("alicia"))
	root.expect(StatusResourceNotFound, cmdDeleteUser, idStr("alicia"))
	// The deleted user's session is signed out.
	alice.expect(StatusUnauthenticated, cmdGetMe, nil)
}

func TestPermissionsLimitUser(t *testing.T) {
	srv := startServer(t, Config{})
	root := newClient(t, srv)
	root.login("iggy", "iggy")
	mine := root.createStream("mine")
	other := root.createStream("other")
	mt := root.createTopic(mine, "t", 1)
	ot := root.createTopic(other, "t", 1)
	root.send(other, ot, balanced(), []byte("secret"))

	perms := &Permissions{Streams: map[uint32]StreamPermissions{
		mine: {ReadStream: true, PollMessages: true, SendMessages: true},
	}}
	root.ok(cmdCreateUser, createUserPayload("limited", "secret1", 1, perms))
	u := newClient(t, srv)
	u.login("limited", "secret1")

	// Sees only its stream.
	list := u.ok(cmdGetStreams, nil)
	if len(list) != 33+len("mine") || binary.LittleEndian.Uint32(list) != mine {
		t.Fatalf("limited user sees streams %x", list)
	}
	u.expect(StatusUnauthorized, cmdGetStream, idNum(other))
	u.expect(StatusUnauthorized, cmdGetTopic, cat(idNum(other), idNum(ot)))
	u.expect(StatusUnauthorized, cmdPollMessages, pollPayload(consumerOf(1), other, ot, noPartition(), pollFirst, 0, 10, false))
	u.expect(StatusUnauthorized, cmdSendMessages, sendPayload(other, ot, balanced(), []byte("x")))
	u.expect(StatusUnauthorized, cmdDeleteStream, idNum(other))
	u.expect(StatusUnauthorized, cmdDeleteStream, idNum(mine))
	u.expect(StatusUnauthorized, cmdCreateTopic, topicPayload(idNum(mine), 1, 0, 0, "new"))
	u.expect(StatusUnauthorized, cmdStoreConsumerOffset, cat(consumerOf(1), idNum(other), idNum(ot), noPartition(), u64b(0)))
	// Works in its own stream.
	u.send(mine, mt, balanced(), []byte("hello"))
	if p := u.poll(consumerOf(1), mine, mt, noPartition(), pollFirst, 0, 10, false); len(p.payloads) != 1 {
		t.Fatalf("limited user polled %d messages from its stream", len(p.payloads))
	}
	u.ok(cmdGetTopic, cat(idNum(mine), idNum(mt)))

	// Revoking takes effect at once.
	root.ok(cmdUpdatePermissions, cat(idStr("limited"), []byte{0}))
	u.expect(StatusUnauthorized, cmdSendMessages, sendPayload(mine, mt, balanced(), []byte("x")))
	if b := u.ok(cmdGetStreams, nil); len(b) != 0 {
		t.Fatalf("revoked user still sees %x", b)
	}
}

func TestPersonalAccessTokens(t *testing.T) {
	var now atomic.Int64
	now.Store(goldenTime.UnixMicro())
	srv := startServer(t, Config{Now: func() time.Time { return time.UnixMicro(now.Load()) }})
	c := newClient(t, srv)
	c.login("iggy", "iggy")
	tokOf := func(b []byte) string { return string(b[1 : 1+b[0]]) }
	forever := tokOf(c.ok(cmdCreatePAT, cat(name8("forever"), u64b(0))))
	short := tokOf(c.ok(cmdCreatePAT, cat(name8("short"), u64b(uint64(time.Minute/time.Microsecond)))))
	if len(forever) != 50 || forever == short {
		t.Fatalf("tokens %q %q", forever, short)
	}
	c.expect(StatusPATAlreadyExists, cmdCreatePAT, cat(name8("short"), u64b(0)))
	c.expect(StatusInvalidPATName, cmdCreatePAT, cat(name8(strings.Repeat("x", 31)), u64b(0)))

	list := c.ok(cmdGetPATs, nil)
	wantExpiry := uint64(goldenTime.Add(time.Minute).UnixMicro())
	if string(list[1:8]) != "forever" || binary.LittleEndian.Uint64(list[8:]) != 0 ||
		string(list[17:22]) != "short" || binary.LittleEndian.Uint64(list[22:]) != wantExpiry {
		t.Fatalf("token list %x", list)
	}

	p := newClient(t, srv)
	p.expect(StatusUnauthenticated, cmdGetMe, nil)
	if b := p.ok(cmdLoginWithPAT, name8(short)); binary.LittleEndian.Uint32(b) != 0 {
		t.Fatalf("PAT login answered %x", b)
	}
	p.ok(cmdGetMe, nil)
	now.Add(int64(2 * time.Minute / time.Microsecond))
	p.expect(StatusPATExpired, cmdLoginWithPAT, name8(short))
	p.ok(cmdLoginWithPAT, name8(forever))
	p.expect(StatusInvalidPAT, cmdLoginWithPAT, name8(forever+"x"))

	c.ok(cmdDeletePAT, name8("forever"))
	c.expect(StatusResourceNotFound, cmdDeletePAT, name8("forever"))
	p.expect(StatusInvalidPAT, cmdLoginWithPAT, name8(forever))
}
