package storage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestStoreLayoutAndRemoval(t *testing.T) {
	root := t.TempDir()
	s, err := OpenStore(root, Config{SegmentSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.PartitionDir(1, 2, 3), filepath.Join(root, "streams", "1", "topics", "2", "partitions", "3"); got != want {
		t.Fatalf("partition dir %s, want %s", got, want)
	}
	if s.MetadataPath() != filepath.Join(root, "metadata.snap") || s.Root() != root || s.Config().SegmentSize != 4096 {
		t.Fatal("store accessors")
	}
	for part := uint32(0); part < 2; part++ {
		p, err := s.OpenPartition(1, 2, part)
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, p, makeBatch(2, 10, 0), 2)
		p.StoreOffset(Consumer, 1, 1)
		p.Close()
	}
	p, err := s.OpenPartitionConfig(1, 3, 0, Config{SegmentSize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if err := SaveSnapshot(s.MetadataPath(), []byte("meta")); err != nil {
		t.Fatal(err)
	}
	if err := s.RemovePartition(1, 2, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.PartitionDir(1, 2, 1)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("partition dir left")
	}
	if _, err := os.Stat(s.PartitionDir(1, 2, 0)); err != nil {
		t.Fatal("sibling partition removed")
	}
	if err := s.RemovePartition(1, 2, 1); err != nil {
		t.Fatal("removing a missing partition:", err)
	}
	if err := s.RemoveTopic(1, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveStream(1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.StreamDir(1)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("stream dir left")
	}
	// An interrupted removal leaves trash that OpenStore empties.
	os.MkdirAll(filepath.Join(root, trashDir, "3-abc", "x"), 0o755)
	os.WriteFile(s.MetadataPath()+".tmp-9", nil, 0o600)
	if _, err := OpenStore(root, Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, trashDir)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("trash left")
	}
	if _, err := os.Stat(s.MetadataPath() + ".tmp-9"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("metadata temporary left")
	}
	if b, err := LoadSnapshot(s.MetadataPath()); err != nil || string(b) != "meta" {
		t.Fatal("metadata lost", err)
	}
	if _, err := OpenStore(root, Config{SegmentSize: 1}); err == nil {
		t.Fatal("bad config accepted")
	}
}

func TestPartitionIsLocked(t *testing.T) {
	dir := t.TempDir()
	p := mustOpen(t, dir, Config{})
	if _, err := Open(dir, Config{}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open of a partition: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = mustOpen(t, dir, Config{}) // released by Close
	crash(t, p)
	p = mustOpen(t, dir, Config{}) // and by a crash close
	p.Close()

	l, err := LockDir(filepath.Join(dir, "root"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockDir(filepath.Join(dir, "root"))
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal("second unlock:", err)
	}
	l, err = LockDir(filepath.Join(dir, "root"))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}
