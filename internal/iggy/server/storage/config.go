package storage

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// FsyncPolicy says when appended data is forced to stable storage.
type FsyncPolicy uint8

const (
	// FsyncInterval (the zero value and the recommended default): appends
	// return once the data is in the OS page cache; a background task fsyncs
	// what was written every Config.FsyncInterval. A process crash loses
	// nothing that was acknowledged; a power loss or kernel crash loses at most
	// the last interval. Segments are also fsynced when they are sealed, so
	// recovery never finds a gap between segments.
	FsyncInterval FsyncPolicy = iota
	// FsyncAlways: every append is fsynced before it returns (and before
	// readers can see it), so nothing acknowledged is lost even on power loss.
	// Costs one fsync per batch.
	FsyncAlways
	// FsyncNever: data is fsynced only on Flush(true), Close and Purge; the OS
	// writes it back when it likes. A process crash still loses nothing
	// acknowledged; a power loss may lose recent data and, rarely, leave a
	// sealed segment short, which Open reports as corruption (see Config.Repair).
	FsyncNever
)

// DefaultSegmentSize is Iggy's default segment size (1 GiB).
const DefaultSegmentSize = 1 << 30

// DefaultFsyncInterval is the period of FsyncInterval when Config leaves it 0.
const DefaultFsyncInterval = time.Second

// MaxSegmentSize is the largest segment size: index positions are 32-bit.
const MaxSegmentSize = maxSegmentBytes

// MinSegmentSize keeps a misconfiguration from creating a segment per batch
// with thousands of files; tests use small segments, so it is small.
const MinSegmentSize = 1024

func (p FsyncPolicy) String() string {
	switch p {
	case FsyncInterval:
		return "interval"
	case FsyncAlways:
		return "always"
	case FsyncNever:
		return "never"
	}
	return fmt.Sprintf("FsyncPolicy(%d)", uint8(p))
}

// ParseFsyncPolicy parses "always", "interval" or "never" (case-insensitive).
func ParseFsyncPolicy(s string) (FsyncPolicy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "interval":
		return FsyncInterval, nil
	case "always":
		return FsyncAlways, nil
	case "never":
		return FsyncNever, nil
	}
	return 0, fmt.Errorf("unknown fsync policy %q (want always, interval or never)", s)
}

// Config configures a partition. The zero value is valid: 1 GiB segments,
// fsync every second.
type Config struct {
	// SegmentSize is the log size at which the active segment is sealed and a
	// new one started (the batch that crosses it stays whole in the old one).
	// 0 means DefaultSegmentSize; valid range MinSegmentSize..MaxSegmentSize.
	SegmentSize uint64
	// Fsync is the durability policy; see FsyncPolicy.
	Fsync FsyncPolicy
	// FsyncInterval is the background fsync period for FsyncInterval; 0 means
	// DefaultFsyncInterval.
	FsyncInterval time.Duration
	// VerifyOnOpen makes Open read and checksum every segment, not only the
	// active one after an unclean shutdown. Slow on large partitions.
	VerifyOnOpen bool
	// Repair makes Open cut a partition at the first corrupt frame of a sealed
	// segment, deleting everything after it, instead of failing with a
	// *CorruptionError. It loses data; the RecoveryReport says what.
	Repair bool
	// Now is the clock for append timestamps and created-at; nil is time.Now.
	Now func() time.Time

	// openFile replaces os.OpenFile in tests to inject I/O faults.
	openFile func(name string, flag int, perm os.FileMode) (file, error)
}

// file is what the partition needs of an open segment, index or offset file;
// *os.File implements it.
type file interface {
	io.ReaderAt
	io.WriterAt
	Truncate(size int64) error
	Sync() error
	Close() error
	Stat() (os.FileInfo, error)
}

func (c Config) withDefaults() (Config, error) {
	if c.SegmentSize == 0 {
		c.SegmentSize = DefaultSegmentSize
	}
	if c.SegmentSize < MinSegmentSize || c.SegmentSize > MaxSegmentSize {
		return c, fmt.Errorf("segment size %d out of range %d..%d", c.SegmentSize, MinSegmentSize, uint64(MaxSegmentSize))
	}
	switch c.Fsync {
	case FsyncInterval, FsyncAlways, FsyncNever:
	default:
		return c, fmt.Errorf("invalid fsync policy %d", c.Fsync)
	}
	if c.FsyncInterval == 0 {
		c.FsyncInterval = DefaultFsyncInterval
	}
	if c.FsyncInterval < 0 {
		return c, fmt.Errorf("negative fsync interval %v", c.FsyncInterval)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.openFile == nil {
		c.openFile = openOSFile
	}
	return c, nil
}

func openOSFile(name string, flag int, perm os.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // a nil *os.File must not become a non-nil file
	}
	return f, nil
}
