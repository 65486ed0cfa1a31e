package storage

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestConsumerOffsets(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Fsync: FsyncAlways}
	p := mustOpen(t, dir, cfg)
	mustAppend(t, p, makeBatch(10, 10, 0), 10)
	if _, ok := p.Offset(Consumer, 1); ok {
		t.Fatal("offset before store")
	}
	if err := p.StoreOffset(Consumer, 1, 10); !errors.Is(err, ErrInvalidOffset) {
		t.Fatalf("offset past current: %v", err)
	}
	if code, _ := IggyCode(p.StoreOffset(Consumer, 1, 99)); code != 4100 {
		t.Fatalf("code %d", code)
	}
	for off := uint64(0); off <= 9; off++ {
		if err := p.StoreOffset(Consumer, 1, off); err != nil {
			t.Fatal(err)
		}
	}
	p.StoreOffset(ConsumerGroup, 1, 4) // same id, other kind
	p.StoreOffset(Consumer, 4000000000, 2)
	if off, ok := p.Offset(Consumer, 1); !ok || off != 9 {
		t.Fatalf("consumer 1: %d %v", off, ok)
	}
	if off, ok := p.Offset(ConsumerGroup, 1); !ok || off != 4 {
		t.Fatalf("group 1: %d %v", off, ok)
	}
	want := []ConsumerOffset{{Consumer, 1, 9}, {Consumer, 4000000000, 2}, {ConsumerGroup, 1, 4}}
	if got := p.Offsets(); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("offsets %+v", got)
	}
	if err := p.DeleteOffset(Consumer, 7); !errors.Is(err, ErrConsumerOffsetNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	if code, _ := IggyCode(p.DeleteOffset(Consumer, 7)); code != 3021 {
		t.Fatal("code")
	}
	if err := p.DeleteOffset(Consumer, 4000000000); err != nil {
		t.Fatal(err)
	}
	crash(t, p) // offsets fsynced per store survive without Close
	p = mustOpen(t, dir, cfg)
	if off, ok := p.Offset(Consumer, 1); !ok || off != 9 {
		t.Fatalf("after reopen consumer 1: %d %v", off, ok)
	}
	if off, ok := p.Offset(ConsumerGroup, 1); !ok || off != 4 {
		t.Fatalf("after reopen group 1: %d %v", off, ok)
	}
	if _, ok := p.Offset(Consumer, 4000000000); ok {
		t.Fatal("deleted offset came back")
	}
	p.StoreOffset(Consumer, 1, 3) // going back is allowed
	p.Close()
	p = mustOpen(t, dir, Config{})
	defer p.Close()
	if off, _ := p.Offset(Consumer, 1); off != 3 {
		t.Fatalf("offset %d after moving back", off)
	}
}

func TestOffsetTornWriteKeepsPreviousValue(t *testing.T) {
	dir := t.TempDir()
	p := mustOpen(t, dir, Config{Fsync: FsyncNever})
	mustAppend(t, p, makeBatch(10, 10, 0), 10)
	p.StoreOffset(Consumer, 5, 3) // seq 1, slot 1
	p.StoreOffset(Consumer, 5, 6) // seq 2, slot 0
	p.Close()
	path := filepath.Join(dir, offsetsDir, "consumer-5")
	// Tear the newest slot (slot 0) at every byte: the older value wins.
	orig, _ := os.ReadFile(path)
	for i := 0; i < slotSize; i++ {
		b := append([]byte{}, orig...)
		b[i] ^= 0x55
		os.WriteFile(path, b, 0o644)
		p = mustOpen(t, dir, Config{})
		if off, ok := p.Offset(Consumer, 5); !ok || off != 3 {
			t.Fatalf("byte %d torn: offset %d %v, want 3", i, off, ok)
		}
		p.Close()
	}
	// Both slots damaged: reported, offset unknown, next store works.
	b := append([]byte{}, orig...)
	b[3] ^= 1
	b[slotSize+3] ^= 1
	os.WriteFile(path, b, 0o644)
	p = mustOpen(t, dir, Config{})
	if _, ok := p.Offset(Consumer, 5); ok {
		t.Fatal("offset from a damaged file")
	}
	if len(p.Recovery().Actions) == 0 {
		t.Fatal("damaged offset file not reported")
	}
	if err := p.StoreOffset(Consumer, 5, 8); err != nil {
		t.Fatal(err)
	}
	p.Close()
	p = mustOpen(t, dir, Config{})
	defer p.Close()
	if off, ok := p.Offset(Consumer, 5); !ok || off != 8 {
		t.Fatalf("offset after rewrite %d %v", off, ok)
	}
	// A file that is too short, and unrelated names, are ignored.
	os.WriteFile(filepath.Join(dir, offsetsDir, "consumer-6"), []byte{1, 2}, 0o644)
	os.WriteFile(filepath.Join(dir, offsetsDir, "consumer-x"), []byte{1, 2}, 0o644)
	os.WriteFile(filepath.Join(dir, offsetsDir, "consumer-07"), []byte{1, 2}, 0o644)
}

func TestOffsetSlotCodec(t *testing.T) {
	var b [2 * slotSize]byte
	EncodeOffsetSlot(b[slotSize:], 1, 100, ConsumerGroup, 9)
	if off, seq, ok := DecodeOffsetFile(b[:], ConsumerGroup, 9); !ok || off != 100 || seq != 1 {
		t.Fatalf("%d %d %v", off, seq, ok)
	}
	if _, _, ok := DecodeOffsetFile(b[:], Consumer, 9); ok {
		t.Fatal("slot for another kind accepted")
	}
	if _, _, ok := DecodeOffsetFile(b[:], ConsumerGroup, 8); ok {
		t.Fatal("slot for another id accepted")
	}
	EncodeOffsetSlot(b[:], 2, 200, ConsumerGroup, 9)
	if off, _, _ := DecodeOffsetFile(b[:], ConsumerGroup, 9); off != 200 {
		t.Fatal("newer slot not chosen")
	}
	// A slot in the wrong place (seq parity) is rejected.
	var c [2 * slotSize]byte
	EncodeOffsetSlot(c[:], 3, 1, Consumer, 1)
	if _, _, ok := DecodeOffsetFile(c[:], Consumer, 1); ok {
		t.Fatal("odd sequence in slot 0 accepted")
	}
	for _, name := range []string{"consumer-1", "group-4294967295"} {
		k, id, ok := parseOffsetFileName(name)
		if !ok || offsetFileName(k, id) != name {
			t.Fatalf("%s: %v %d %v", name, k, id, ok)
		}
	}
	for _, name := range []string{"consumer-", "group-4294967296", "x-1", "consumer-01", "consumer1"} {
		if _, _, ok := parseOffsetFileName(name); ok {
			t.Fatalf("%s accepted", name)
		}
	}
	if ConsumerKind(9).String() != "kind9" {
		t.Fatal(ConsumerKind(9).String())
	}
}
