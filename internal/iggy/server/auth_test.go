package server

import (
	"encoding/binary"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

func createUserPayload(name, pass string, status uint8, perms *wire.Permissions) []byte {
	b := cat(name8(name), name8(pass), []byte{status})
	if perms == nil {
		return append(b, 0)
	}
	p := wire.AppendPermissions(nil, perms)
	return cat(b, []byte{1}, u32b(uint32(len(p))), p)
}

func TestUsersLifecycle(t *testing.T) {
	srv := startServer(t, Config{})
	root := newClient(t, srv)
	if id := root.login("iggy", "iggy"); id != 0 {
		t.Fatalf("root id %d", id)
	}
	body := root.ok(wire.CmdCreateUser, createUserPayload("alice", "secret1", 1, nil))
	aliceID := binary.LittleEndian.Uint32(body)
	if aliceID != 1 || body[12] != 1 || string(body[14:14+5]) != "alice" || body[len(body)-1] != 0 {
		t.Fatalf("create user response %x", body)
	}
	root.expect(wire.ErrUserAlreadyExists, wire.CmdCreateUser, createUserPayload("alice", "secret1", 1, nil))
	root.expect(wire.ErrInvalidUsername, wire.CmdCreateUser, createUserPayload("al", "secret1", 1, nil))
	root.expect(wire.ErrInvalidPassword, wire.CmdCreateUser, createUserPayload("bob", "s", 1, nil))
	root.expect(wire.ErrInvalidUserStatus, wire.CmdCreateUser, createUserPayload("bob", "secret1", 3, nil))

	users := root.ok(wire.CmdGetUsers, nil)
	if n := len(users); n != (4+8+1+1+4)+(4+8+1+1+5) {
		t.Fatalf("users list %x", users)
	}
	if b := root.ok(wire.CmdGetUser, idStr("alice")); binary.LittleEndian.Uint32(b) != aliceID {
		t.Fatalf("get user by name %x", b)
	}
	if b := root.ok(wire.CmdGetUser, idNum(42)); len(b) != 0 {
		t.Fatalf("missing user: %x", b)
	}

	alice := newClient(t, srv)
	alice.login("alice", "secret1")
	// No permissions: cannot list streams, create, or read users.
	alice.expect(wire.ErrUnauthorized, wire.CmdCreateStream, name8("x"))
	alice.expect(wire.ErrUnauthorized, wire.CmdGetUsers, nil)
	alice.expect(wire.ErrUnauthorized, wire.CmdGetStats, nil)
	// But may read itself and change its own password.
	alice.ok(wire.CmdGetUser, idNum(aliceID))
	alice.expect(wire.ErrInvalidCredentials, wire.CmdChangePassword, cat(idNum(aliceID), name8("wrong"), name8("secret2")))
	alice.ok(wire.CmdChangePassword, cat(idNum(aliceID), name8("secret1"), name8("secret2")))
	alice.expect(wire.ErrInvalidCredentials, wire.CmdLoginUser, loginPayload("alice", "secret1"))
	alice.login("alice", "secret2")

	// Rename and deactivate.
	root.ok(wire.CmdUpdateUser, cat(idNum(aliceID), []byte{1}, name8("alicia"), []byte{1, 2}))
	alice.expect(wire.ErrInvalidCredentials, wire.CmdLoginUser, loginPayload("alice", "secret2"))
	alice.expect(wire.ErrUserInactive, wire.CmdLoginUser, loginPayload("alicia", "secret2"))
	root.ok(wire.CmdUpdateUser, cat(idNum(aliceID), []byte{0}, []byte{1, 1}))
	alice.login("alicia", "secret2")

	root.expect(wire.ErrCannotDeleteUser, wire.CmdDeleteUser, idNum(0))
	root.expect(wire.ErrCannotChangePermissions, wire.CmdUpdatePermissions, cat(idNum(0), []byte{0}))
	root.ok(wire.CmdDeleteUser, idStr("alicia"))
	root.expect(wire.ErrResourceNotFound, wire.CmdDeleteUser, idStr("alicia"))
	// The deleted user's session is signed out.
	alice.expect(wire.ErrUnauthenticated, wire.CmdGetMe, nil)
}

func TestPermissionsLimitUser(t *testing.T) {
	srv := startServer(t, Config{})
	root := rootClient(t, srv.Addr())
	mine := root.createStream("mine")
	other := root.createStream("other")
	mt := root.createTopic(mine, "t", 1)
	ot := root.createTopic(other, "t", 1)
	root.send(other, ot, balanced(), []byte("secret"))

	perms := &wire.Permissions{Streams: map[uint32]wire.StreamPermissions{
		mine: {ReadStream: true, PollMessages: true, SendMessages: true},
	}}
	root.ok(wire.CmdCreateUser, createUserPayload("limited", "secret1", 1, perms))
	u := newClient(t, srv)
	u.login("limited", "secret1")

	// Sees only its stream.
	list := u.ok(wire.CmdGetStreams, nil)
	if len(list) != 33+len("mine") || binary.LittleEndian.Uint32(list) != mine {
		t.Fatalf("limited user sees streams %x", list)
	}
	u.expect(wire.ErrUnauthorized, wire.CmdGetStream, idNum(other))
	u.expect(wire.ErrUnauthorized, wire.CmdGetTopic, cat(idNum(other), idNum(ot)))
	u.expect(wire.ErrUnauthorized, wire.CmdPollMessages, pollPayload(consumerOf(1), other, ot, noPartition(), pollFirst, 0, 10, false))
	u.expect(wire.ErrUnauthorized, wire.CmdSendMessages, sendPayload(other, ot, balanced(), []byte("x")))
	u.expect(wire.ErrUnauthorized, wire.CmdDeleteStream, idNum(other))
	u.expect(wire.ErrUnauthorized, wire.CmdDeleteStream, idNum(mine))
	u.expect(wire.ErrUnauthorized, wire.CmdCreateTopic, topicPayload(idNum(mine), 1, 0, 0, "new"))
	u.expect(wire.ErrUnauthorized, wire.CmdStoreConsumerOffset, cat(consumerOf(1), idNum(other), idNum(ot), noPartition(), u64b(0)))
	// Works in its own stream.
	u.send(mine, mt, balanced(), []byte("hello"))
	if p := u.poll(consumerOf(1), mine, mt, noPartition(), pollFirst, 0, 10, false); len(p.payloads) != 1 {
		t.Fatalf("limited user polled %d messages from its stream", len(p.payloads))
	}
	u.ok(wire.CmdGetTopic, cat(idNum(mine), idNum(mt)))

	// Revoking takes effect at once.
	root.ok(wire.CmdUpdatePermissions, cat(idStr("limited"), []byte{0}))
	u.expect(wire.ErrUnauthorized, wire.CmdSendMessages, sendPayload(mine, mt, balanced(), []byte("x")))
	if b := u.ok(wire.CmdGetStreams, nil); len(b) != 0 {
		t.Fatalf("revoked user still sees %x", b)
	}
}

func TestPersonalAccessTokens(t *testing.T) {
	var now atomic.Int64
	now.Store(goldenTime.UnixMicro())
	srv := startServer(t, Config{Now: func() time.Time { return time.UnixMicro(now.Load()) }})
	c := rootClient(t, srv.Addr())
	tokOf := func(b []byte) string { return string(b[1 : 1+b[0]]) }
	forever := tokOf(c.ok(wire.CmdCreateAccessToken, cat(name8("forever"), u64b(0))))
	short := tokOf(c.ok(wire.CmdCreateAccessToken, cat(name8("short"), u64b(uint64(time.Minute/time.Microsecond)))))
	if len(forever) != 50 || forever == short {
		t.Fatalf("tokens %q %q", forever, short)
	}
	c.expect(wire.ErrPersonalAccessTokenAlreadyExists, wire.CmdCreateAccessToken, cat(name8("short"), u64b(0)))
	c.expect(wire.ErrInvalidPersonalAccessTokenName, wire.CmdCreateAccessToken, cat(name8(strings.Repeat("x", 31)), u64b(0)))

	list := c.ok(wire.CmdGetAccessTokens, nil)
	wantExpiry := uint64(goldenTime.Add(time.Minute).UnixMicro())
	if string(list[1:8]) != "forever" || binary.LittleEndian.Uint64(list[8:]) != 0 ||
		string(list[17:22]) != "short" || binary.LittleEndian.Uint64(list[22:]) != wantExpiry {
		t.Fatalf("token list %x", list)
	}

	p := newClient(t, srv)
	p.expect(wire.ErrUnauthenticated, wire.CmdGetMe, nil)
	if b := p.ok(wire.CmdLoginWithAccessToken, name8(short)); binary.LittleEndian.Uint32(b) != 0 {
		t.Fatalf("PAT login answered %x", b)
	}
	p.ok(wire.CmdGetMe, nil)
	now.Add(int64(2 * time.Minute / time.Microsecond))
	p.expect(wire.ErrPersonalAccessTokenExpired, wire.CmdLoginWithAccessToken, name8(short))
	p.ok(wire.CmdLoginWithAccessToken, name8(forever))
	p.expect(wire.ErrInvalidPersonalAccessToken, wire.CmdLoginWithAccessToken, name8(forever+"x"))

	c.ok(wire.CmdDeleteAccessToken, name8("forever"))
	c.expect(wire.ErrResourceNotFound, wire.CmdDeleteAccessToken, name8("forever"))
	p.expect(wire.ErrInvalidPersonalAccessToken, wire.CmdLoginWithAccessToken, name8(forever))
}
