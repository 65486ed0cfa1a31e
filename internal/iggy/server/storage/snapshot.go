package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zeebo/xxh3"
)

// A snapshot file holds one opaque blob, written atomically:
//
//	[0:8]    magic "IMSSNAP1"
//	[8:16]   data length u64
//	[16:16+n] data
//	[16+n:]  XXH3-64 u64 of everything before it
//
// A torn, truncated or bit-flipped file fails the length or checksum test.
const (
	snapshotMagic    = "IMSSNAP1"
	snapshotOverhead = 8 + 8 + 8
	// maxSnapshotSize keeps a damaged length field from allocating wildly.
	maxSnapshotSize = 1 << 31
)

// EncodeSnapshot frames data as a snapshot file image (magic, length, data,
// checksum), appending to dst.
func EncodeSnapshot(dst, data []byte) []byte {
	start := len(dst)
	dst = append(dst, snapshotMagic...)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(data)))
	dst = append(dst, data...)
	return binary.LittleEndian.AppendUint64(dst, xxh3.Hash(dst[start:]))
}

// DecodeSnapshot checks a snapshot file image and returns its data (a
// subslice of b). path only labels the error, a *CorruptionError.
func DecodeSnapshot(path string, b []byte) ([]byte, error) {
	bad := func(reason string, args ...any) error {
		return &CorruptionError{Path: path, Position: -1, Reason: fmt.Sprintf(reason, args...)}
	}
	if len(b) < snapshotOverhead {
		return nil, bad("snapshot of %d bytes is shorter than its %d-byte framing", len(b), snapshotOverhead)
	}
	if string(b[:8]) != snapshotMagic {
		return nil, bad("bad snapshot magic %q", b[:8])
	}
	n := binary.LittleEndian.Uint64(b[8:])
	if n != uint64(len(b)-snapshotOverhead) {
		return nil, bad("snapshot declares %d data bytes, file holds %d", n, len(b)-snapshotOverhead)
	}
	end := len(b) - 8
	if got, want := xxh3.Hash(b[:end]), binary.LittleEndian.Uint64(b[end:]); got != want {
		return nil, bad("snapshot checksum %016x, computed %016x", want, got)
	}
	return b[16:end], nil
}

// SaveSnapshot replaces the file at path with data, atomically and durably:
// it writes a temporary file in the same directory, fsyncs it, renames it over
// path and fsyncs the directory. After a crash the file holds either the old
// or the new data, never a mix. The file is created with mode 0600 (metadata
// holds credentials).
func SaveSnapshot(path string, data []byte) error {
	if len(data) > maxSnapshotSize {
		return fmt.Errorf("saving snapshot %s: %d bytes exceeds %d", path, len(data), maxSnapshotSize)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("saving snapshot %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("saving snapshot %s: %w", path, err)
	}
	tmpName := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmpName)
		return fmt.Errorf("saving snapshot %s: %w", path, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(EncodeSnapshot(make([]byte, 0, len(data)+snapshotOverhead), data)); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("saving snapshot %s: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("saving snapshot %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("saving snapshot %s: %w", path, err)
	}
	return nil
}

// LoadSnapshot reads the data last saved at path. A missing file gives an
// error matching fs.ErrNotExist; a damaged one a *CorruptionError (matching
// ErrCorrupt). Leftover temporary files of an interrupted save are ignored
// (RemoveSnapshotTemps deletes them).
func LoadSnapshot(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loading snapshot: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("loading snapshot %s: %w", path, err)
	}
	if st.Size() > maxSnapshotSize+snapshotOverhead {
		return nil, &CorruptionError{Path: path, Position: -1, Reason: fmt.Sprintf("snapshot file of %d bytes is larger than any snapshot", st.Size())}
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil {
		return nil, fmt.Errorf("loading snapshot %s: %w", path, err)
	}
	data, err := DecodeSnapshot(path, b)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// RemoveSnapshotTemps deletes temporary files a crash during SaveSnapshot(path)
// may have left next to path.
func RemoveSnapshotTemps(path string) error {
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(path), globEscape(filepath.Base(path))+".tmp-*"))
	if err != nil {
		return fmt.Errorf("removing snapshot temporaries of %s: %w", path, err)
	}
	var errs []error
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("removing snapshot temporaries of %s: %w", path, err)
	}
	return nil
}

// globEscape quotes the glob metacharacters of a literal file name.
func globEscape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '\\':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}

// syncDir fsyncs a directory so entries created, renamed or removed in it
// survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
