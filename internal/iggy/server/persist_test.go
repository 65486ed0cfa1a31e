package server

import (
	"encoding/binary"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

func TestGoldenFramesOnDisk(t *testing.T) {
	srv := startServer(t, Config{Now: fixedClock, DataDir: t.TempDir(), Fsync: FsyncAlways})
	c := dialRaw(t, srv.Addr())
	T := uint64(goldenTime.UnixMicro())
	runGolden(t, c, []goldenStep{
		{"login", gLoginGo, rLoginOK},
		{"create stream", gCreateStream, rCreateStream},
		{"create topic", withTopicPartitions(t, 1), rCreateTopic1},
		{"get stream", gGetStream0, rGetStream},
		{"send", withOrigin(t, gSend1P0, T), rOK},
		{"poll", gPollOffset, rPoll},
	})
}

func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Addr: "127.0.0.1:0", PasswordCost: bcrypt.MinCost, RootUsername: "admin", RootPassword: "secret"}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv)
	c.login("admin", "secret")
	s := c.createStream("s")
	tp := c.createTopic(s, "t", 2)
	c.createStream("gone")
	c.ok(wire.CmdDeleteStream, idStr("gone"))
	c.send(s, tp, partitionID(1), []byte("one"), []byte("two"), []byte("three"))
	c.ok(wire.CmdStoreConsumerOffset, cat(consumerOf(9), idNum(s), idNum(tp), somePartition(1), u64b(1)))
	c.ok(wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	c.ok(wire.CmdCreateUser, createUserPayload("bob", "bobpass", 1, &wire.Permissions{Global: wire.GlobalPermissions{ReadStreams: true}}))
	tokB := c.ok(wire.CmdCreateAccessToken, cat(name8("tok"), u64b(0)))
	token := string(tokB[1:])
	stopServer(t, srv)

	// Default credentials now do not replace the stored root user.
	srv = startServer(t, Config{DataDir: dir})
	c = newClient(t, srv)
	c.expect(wire.ErrInvalidCredentials, wire.CmdLoginUser, loginPayload("iggy", "iggy"))
	c.login("admin", "secret")
	p := c.poll(consumerOf(9), s, tp, somePartition(1), pollNext, 0, 10, false)
	if len(p.payloads) != 1 || string(p.payloads[0]) != "three" || p.current != 2 {
		t.Fatalf("after restart: next poll %q current %d", p.payloads, p.current)
	}
	c.send(s, tp, partitionID(1), []byte("four"))
	p = c.poll(consumerOf(1), s, tp, somePartition(1), pollOffset, 3, 10, false)
	if len(p.offsets) != 1 || p.offsets[0] != 3 {
		t.Fatalf("offsets do not continue: %v", p.offsets)
	}
	if b := c.ok(wire.CmdGetConsumerGroup, groupIDs(s, tp, 0)); len(b) == 0 {
		t.Fatal("group lost")
	}
	if b := c.ok(wire.CmdGetStream, idStr("gone")); len(b) != 0 {
		t.Fatal("deleted stream came back")
	}
	bob := newClient(t, srv)
	bob.login("bob", "bobpass")
	bob.ok(wire.CmdGetStreams, nil)
	bob.expect(wire.ErrUnauthorized, wire.CmdCreateStream, name8("x"))
	pat := newClient(t, srv)
	if b := pat.ok(wire.CmdLoginWithAccessToken, name8(token)); binary.LittleEndian.Uint32(b) != 0 {
		t.Fatalf("PAT login as %x", b)
	}
}

func TestReconcileRemovesOrphanData(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, Config{DataDir: dir})
	c := rootClient(t, srv.Addr())
	s := c.createStream("s")
	c.createTopic(s, "t", 1)
	stopServer(t, srv)
	// Data a crash could leave behind: a partition, topic and stream the
	// metadata does not know.
	for _, d := range []string{"streams/0/topics/0/partitions/5", "streams/0/topics/3/partitions/0", "streams/7/topics/0/partitions/0"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	startServer(t, Config{DataDir: dir})
	for _, d := range []string{"streams/0/topics/0/partitions/5", "streams/0/topics/3", "streams/7"} {
		if _, err := os.Stat(filepath.Join(dir, d)); !os.IsNotExist(err) {
			t.Errorf("%s still there: %v", d, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "streams/0/topics/0/partitions/0")); err != nil {
		t.Errorf("known partition removed: %v", err)
	}
}

func TestCorruptMetadataRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, Config{DataDir: dir})
	stopServer(t, srv)
	path := filepath.Join(dir, metadataFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{DataDir: dir, PasswordCost: bcrypt.MinCost}); err == nil {
		t.Fatal("server started over damaged metadata")
	}
}

// TestDataDirLocked checks that a second server on a data directory in use
// fails with an error naming the directory, and that the lock goes with the
// first server.
func TestDataDirLocked(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, Config{DataDir: dir})
	_, err := New(Config{DataDir: dir, PasswordCost: bcrypt.MinCost})
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second server on %s: %v", dir, err)
	}
	stopServer(t, srv)
	startServer(t, Config{DataDir: dir})
}

// TestRecoveryIsLogged tears the tail of a segment as a crash in the middle
// of a write would, and checks the restart says what recovery did and keeps
// the intact messages.
func TestRecoveryIsLogged(t *testing.T) {
	dir := t.TempDir()
	srv, c, s, tp := serveTopic(t, Config{DataDir: dir}, 1)
	c.send(s, tp, partitionID(0), []byte("kept"))
	stopServer(t, srv)
	segs, err := filepath.Glob(filepath.Join(dir, "streams", "0", "topics", "0", "partitions", "0", "*.log"))
	if err != nil || len(segs) != 1 {
		t.Fatalf("segment files %v %v", segs, err)
	}
	f, err := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("torn frame")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	var logs logBuffer
	srv = startServer(t, Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	out := logs.String()
	if !strings.Contains(out, `msg="partition recovered" partition=0/0/0`) || !strings.Contains(out, "cut 10 bytes") {
		t.Fatalf("recovery not logged:\n%s", out)
	}
	c = rootClient(t, srv.Addr())
	if p := c.poll(consumerOf(1), s, tp, somePartition(0), pollFirst, 0, 10, false); len(p.payloads) != 1 || string(p.payloads[0]) != "kept" {
		t.Fatalf("after recovery: %q", p.payloads)
	}
}
