package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockFileName is the lock file of a partition directory (and of a data
// directory locked with LockDir).
const lockFileName = ".lock"

// DirLock is an exclusive lock on a directory, held until Close. It keeps a
// second process (a second `ims server` on the same data directory, say) from
// writing the same files.
type DirLock struct {
	f    *os.File
	path string
}

// LockDir takes the exclusive lock of dir (creating dir if needed), failing
// at once with an error naming the holder's pid when another process, or
// another DirLock or open Partition in this one, holds it.
func LockDir(dir string) (*DirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	if err := lockFile(f); err != nil {
		holder := ""
		if b, rerr := os.ReadFile(path); rerr == nil && len(b) > 0 {
			holder = " (held by pid " + strings.TrimSpace(string(b)) + ")"
		}
		f.Close()
		return nil, fmt.Errorf("%s is in use by another process%s: %w", dir, holder, err)
	}
	// The pid is only a hint for that error message.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &DirLock{f: f, path: path}, nil
}

// Close releases the lock.
func (l *DirLock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlockFile(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("unlocking %s: %w", l.path, err)
	}
	return nil
}
