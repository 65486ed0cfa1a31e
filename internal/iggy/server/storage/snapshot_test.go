package storage

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestSnapshotRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "metadata.snap")
	if _, err := LoadSnapshot(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing snapshot: %v", err)
	}
	for _, data := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("state"), 10000)} {
		if err := SaveSnapshot(path, data); err != nil {
			t.Fatal(err)
		}
		got, err := LoadSnapshot(path)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("round trip of %d bytes: %v", len(data), err)
		}
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("leftover files: %v", entries)
	}
}

func TestSnapshotDetectsDamage(t *testing.T) {
	img := EncodeSnapshot(nil, []byte("streams, topics, users"))
	if _, err := DecodeSnapshot("p", img); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(img); n++ {
		if _, err := DecodeSnapshot("p", img[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	for i := range img {
		b := append([]byte{}, img...)
		b[i] ^= 0x20
		if _, err := DecodeSnapshot("p", b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flip at %d: %v", i, err)
		}
	}
	if _, err := DecodeSnapshot("p", append(append([]byte{}, img...), 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatal("trailing byte accepted")
	}
	path := filepath.Join(t.TempDir(), "m")
	os.WriteFile(path, img[:len(img)-1], 0o600)
	_, err := LoadSnapshot(path)
	var ce *CorruptionError
	if !errors.As(err, &ce) || ce.Path != path {
		t.Fatalf("damaged file: %v", err)
	}
}

func TestSnapshotTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "meta[1].snap")
	os.WriteFile(path+".tmp-123", []byte("partial"), 0o600)
	os.WriteFile(filepath.Join(dir, "other.tmp-1"), []byte("keep"), 0o600)
	if err := RemoveSnapshotTemps(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".tmp-123"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("temporary kept")
	}
	if _, err := os.Stat(filepath.Join(dir, "other.tmp-1")); err != nil {
		t.Fatal("unrelated file removed")
	}
}
