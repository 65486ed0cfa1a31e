package storage

import (
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// faultSet is what fails.
type faultSet struct {
	suffix    string // only files whose name ends with this
	writeKeep int    // bytes a failing write still writes
	writeErr  error
	syncErr   error
	truncErr  error
	openErr   error
}

// faults makes the files of a partition fail on demand.
type faults struct {
	mu sync.Mutex
	fs faultSet
}

func (f *faults) set(fn func(f *faultSet)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.fs)
}

func (f *faults) get() faultSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fs
}

type faultyFile struct {
	*os.File
	f *faults
}

func (ff *faultyFile) hit() (faultSet, bool) {
	c := ff.f.get()
	return c, c.suffix == "" || strings.HasSuffix(ff.Name(), c.suffix)
}

func (ff *faultyFile) WriteAt(b []byte, off int64) (int, error) {
	if c, ok := ff.hit(); ok && c.writeErr != nil {
		n, _ := ff.File.WriteAt(b[:min(c.writeKeep, len(b))], off)
		return n, c.writeErr
	}
	return ff.File.WriteAt(b, off)
}

func (ff *faultyFile) Sync() error {
	if c, ok := ff.hit(); ok && c.syncErr != nil {
		return c.syncErr
	}
	return ff.File.Sync()
}

func (ff *faultyFile) Truncate(n int64) error {
	if c, ok := ff.hit(); ok && c.truncErr != nil {
		return c.truncErr
	}
	return ff.File.Truncate(n)
}

func (f *faults) config(cfg Config) Config {
	cfg.openFile = func(name string, flag int, perm os.FileMode) (file, error) {
		if c := f.get(); c.openErr != nil && (c.suffix == "" || strings.HasSuffix(name, c.suffix)) {
			return nil, c.openErr
		}
		of, err := os.OpenFile(name, flag, perm)
		if err != nil {
			return nil, err
		}
		return &faultyFile{File: of, f: f}, nil
	}
	return cfg
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func TestDiskFullLeavesPartitionConsistent(t *testing.T) {
	for _, target := range []string{logExt, indexExt} {
		t.Run(target, func(t *testing.T) {
			fl := &faults{}
			dir := t.TempDir()
			cfg := fl.config(Config{Fsync: FsyncNever})
			p := mustOpen(t, dir, cfg)
			mustAppend(t, p, makeBatch(5, 50, 1), 5)
			logPath, idxPath := segmentPaths(dir, 0)
			logSize, idxSize := fileSize(t, logPath), fileSize(t, idxPath)
			before := p.Stats()

			fl.set(func(f *faultSet) { f.suffix, f.writeKeep, f.writeErr = target, 100, syscall.ENOSPC })
			_, err := p.Append(makeBatch(5, 50, 2), 5)
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("append on a full disk: %v", err)
			}
			if p.Stats() != before || fileSize(t, logPath) != logSize || fileSize(t, idxPath) != idxSize {
				t.Fatalf("state changed: %+v, files %d/%d", p.Stats(), fileSize(t, logPath), fileSize(t, idxPath))
			}
			if _, n, _ := p.Read(nil, 0, 100); n != 5 {
				t.Fatalf("read %d", n)
			}
			fl.set(func(f *faultSet) { f.writeErr = nil })
			if r := mustAppend(t, p, makeBatch(5, 50, 3), 5); r.FirstOffset != 5 {
				t.Fatalf("next append at %d", r.FirstOffset)
			}
			crash(t, p)
			p = expectPrefix(t, dir, Config{}, 10)
			p.Close()
		})
	}
}

func TestTruncateFailureMarksPartitionFailed(t *testing.T) {
	fl := &faults{}
	dir := t.TempDir()
	p := mustOpen(t, dir, fl.config(Config{Fsync: FsyncNever}))
	mustAppend(t, p, makeBatch(3, 10, 1), 3)
	fl.set(func(f *faultSet) {
		f.suffix, f.writeKeep, f.writeErr, f.truncErr = logExt, 70, syscall.ENOSPC, syscall.EIO
	})
	if _, err := p.Append(makeBatch(3, 10, 2), 3); !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
	fl.set(func(f *faultSet) { f.writeErr, f.truncErr = nil, nil })
	if _, err := p.Append(makeBatch(3, 10, 3), 3); !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("append after a failed truncate: %v", err)
	}
	// Reads still serve what was committed.
	if _, n, err := p.Read(nil, 0, 10); err != nil || n != 3 {
		t.Fatal(n, err)
	}
	p.Close()
	// Reopening recovers: the partial frame left behind is cut.
	p = expectPrefix(t, dir, Config{}, 3)
	p.Close()
}

func TestFsyncFailure(t *testing.T) {
	t.Run("always", func(t *testing.T) {
		fl := &faults{}
		dir := t.TempDir()
		p := mustOpen(t, dir, fl.config(Config{Fsync: FsyncAlways}))
		mustAppend(t, p, makeBatch(3, 10, 1), 3)
		fl.set(func(f *faultSet) { f.suffix, f.syncErr = logExt, syscall.EIO })
		if _, err := p.Append(makeBatch(3, 10, 2), 3); !errors.Is(err, syscall.EIO) {
			t.Fatal(err)
		}
		if _, n, _ := p.Read(nil, 0, 10); n != 3 {
			t.Fatalf("unacknowledged messages visible: %d", n)
		}
		fl.set(func(f *faultSet) { f.syncErr = nil })
		if _, err := p.Append(makeBatch(3, 10, 3), 3); !errors.Is(err, ErrFailed) {
			t.Fatalf("append after failed fsync: %v", err)
		}
		p.Close()
		p = expectPrefix(t, dir, Config{}, 3)
		p.Close()
	})
	t.Run("interval", func(t *testing.T) {
		fl := &faults{}
		p := mustOpen(t, t.TempDir(), fl.config(Config{Fsync: FsyncInterval, FsyncInterval: time.Millisecond}))
		defer p.Close()
		fl.set(func(f *faultSet) { f.suffix, f.syncErr = logExt, syscall.EIO })
		mustAppend(t, p, makeBatch(3, 10, 1), 3)
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err := p.Append(makeBatch(1, 10, 1), 1)
			if errors.Is(err, ErrFailed) {
				if !errors.Is(err, syscall.EIO) {
					t.Fatalf("cause lost: %v", err)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("background fsync failure never surfaced")
			}
			time.Sleep(time.Millisecond)
		}
	})
	t.Run("flush", func(t *testing.T) {
		fl := &faults{}
		p := mustOpen(t, t.TempDir(), fl.config(Config{Fsync: FsyncNever}))
		defer p.Close()
		mustAppend(t, p, makeBatch(3, 10, 1), 3)
		fl.set(func(f *faultSet) { f.suffix, f.syncErr = indexExt, syscall.EIO })
		if err := p.Flush(true); !errors.Is(err, syscall.EIO) {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Fatal("close of a failed partition:", err)
		}
	})
}

func TestRollFailureIsRetried(t *testing.T) {
	fl := &faults{}
	dir := t.TempDir()
	p := mustOpen(t, dir, fl.config(Config{Fsync: FsyncNever, SegmentSize: 1024}))
	defer p.Close()
	fl.set(func(f *faultSet) { f.suffix, f.openErr = "00000000000000000007.log", syscall.EMFILE })
	// The batch fills the segment; sealing it fails, the batch is stored.
	if r := mustAppend(t, p, makeBatch(7, 100, 1), 7); r.LastOffset != 6 {
		t.Fatal(r)
	}
	if p.Segments() != 1 {
		t.Fatalf("%d segments", p.Segments())
	}
	// The next append retries the roll and reports its failure.
	if _, err := p.Append(makeBatch(1, 10, 1), 1); !errors.Is(err, syscall.EMFILE) {
		t.Fatalf("append: %v", err)
	}
	fl.set(func(f *faultSet) { f.openErr = nil })
	if r := mustAppend(t, p, makeBatch(1, 10, 1), 1); r.FirstOffset != 7 || p.Segments() != 2 {
		t.Fatalf("%+v, %d segments", r, p.Segments())
	}
}

func TestOffsetStoreFailures(t *testing.T) {
	fl := &faults{}
	dir := t.TempDir()
	p := mustOpen(t, dir, fl.config(Config{Fsync: FsyncAlways}))
	mustAppend(t, p, makeBatch(5, 10, 1), 5)
	if err := p.StoreOffset(Consumer, 1, 2); err != nil {
		t.Fatal(err)
	}
	fl.set(func(f *faultSet) { f.suffix, f.writeKeep, f.writeErr = "consumer-1", 7, syscall.ENOSPC })
	if err := p.StoreOffset(Consumer, 1, 4); !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
	if off, _ := p.Offset(Consumer, 1); off != 2 {
		t.Fatalf("offset %d after a failed store", off)
	}
	fl.set(func(f *faultSet) { f.writeErr, f.syncErr = nil, syscall.EIO })
	if err := p.StoreOffset(Consumer, 1, 4); !errors.Is(err, syscall.EIO) {
		t.Fatal(err)
	}
	fl.set(func(f *faultSet) { f.syncErr, f.openErr = nil, syscall.EACCES; f.suffix = "" })
	if err := p.StoreOffset(Consumer, 9, 1); !errors.Is(err, syscall.EACCES) {
		t.Fatal(err)
	}
	fl.set(func(f *faultSet) { f.openErr = nil })
	crash(t, p)
	// The torn write at the same slot cannot have destroyed the value 2.
	p = mustOpen(t, dir, Config{})
	defer p.Close()
	if off, ok := p.Offset(Consumer, 1); !ok || (off != 2 && off != 4) {
		t.Fatalf("offset %d %v", off, ok)
	}
}
