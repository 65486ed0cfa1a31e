package server

import (
	"testing"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// A session of a deleted user must not inherit the rights of a user created
// afterwards with the reused id.
func TestDeletedUserSessionDoesNotInheritReusedID(t *testing.T) {
	srv := startServer(t, Config{})
	root := rootClient(t, srv.Addr())
	root.ok(wire.CmdCreateUser, createUserPayload("alice", "secret1", 1, nil))
	alice := newClient(t, srv)
	aliceID := alice.login("alice", "secret1")
	alice.expect(wire.ErrUnauthorized, wire.CmdGetUsers, nil)

	root.ok(wire.CmdDeleteUser, idStr("alice"))
	all := wire.Permissions{Global: wire.GlobalPermissions{ManageUsers: true, ReadUsers: true}}
	body := root.ok(wire.CmdCreateUser, createUserPayload("mallory", "secret2", 1, &all))
	if id := uint32(body[0]) | uint32(body[1])<<8 | uint32(body[2])<<16 | uint32(body[3])<<24; id != aliceID {
		t.Fatalf("new user got id %d, want the reused %d (test premise)", id, aliceID)
	}
	alice.expect(wire.ErrUnauthenticated, wire.CmdGetUsers, nil)
}
