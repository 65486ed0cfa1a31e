package server

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
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
	c.ok(cmdDeleteStream, idStr("gone"))
	c.send(s, tp, partitionID(1), []byte("one"), []byte("two"), []byte("three"))
	c.ok(cmdStoreConsumerOffset, cat(consumerOf(9), idNum(s), idNum(tp), somePartition(1), u64b(1)))
	c.ok(cmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))
	c.ok(cmdCreateUser, createUserPayload("bob", "bobpass", 1, &Permissions{Global: GlobalPermissions{ReadStreams: true}}))
	tokB := c.ok(cmdCreatePAT, cat(name8("tok"), u64b(0)))
	token := string(tokB[1:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	// Default credentials now do not replace the stored root user.
	srv = startServer(t, Config{DataDir: dir})
	c = newClient(t, srv)
	c.expect(StatusInvalidCredentials, cmdLoginUser, loginPayload("iggy", "iggy"))
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
	if b := c.ok(cmdGetConsumerGroup, groupIDs(s, tp, 0)); len(b) == 0 {
		t.Fatal("group lost")
	}
	if b := c.ok(cmdGetStream, idStr("gone")); len(b) != 0 {
		t.Fatal("deleted stream came back")
	}
	bob := newClient(t, srv)
	bob.login("bob", "bobpass")
	bob.ok(cmdGetStreams, nil)
	bob.expect(StatusUnauthorized, cmdCreateStream, name8("x"))
	pat := newClient(t, srv)
	if b := pat.ok(cmdLoginWithPAT, name8(token)); binary.LittleEndian.Uint32(b) != 0 {
		t.Fatalf("PAT login as %x", b)
	}
}

func TestReconcileRemovesOrphanData(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, Config{DataDir: dir})
	c := newClient(t, srv)
	c.login("iggy", "iggy")
	s := c.createStream("s")
	c.createTopic(s, "t", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
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
