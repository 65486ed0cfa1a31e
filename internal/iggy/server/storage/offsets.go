package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/zeebo/xxh3"
)

// ConsumerKind is who an offset belongs to, with the wire values of Iggy's
// Consumer kind byte.
type ConsumerKind uint8

const (
	// Consumer is a standalone consumer.
	Consumer ConsumerKind = 1
	// ConsumerGroup is a consumer group.
	ConsumerGroup ConsumerKind = 2
)

func (k ConsumerKind) String() string {
	switch k {
	case Consumer:
		return "consumer"
	case ConsumerGroup:
		return "group"
	}
	return "kind" + strconv.Itoa(int(k))
}

// ConsumerOffset is one stored offset.
type ConsumerOffset struct {
	Kind   ConsumerKind
	ID     uint32
	Offset uint64
}

// Consumer offsets live in <partition>/offsets/, one file per consumer named
// "consumer-<id>" or "group-<id>". A file holds two 32-byte slots that are
// overwritten alternately, so a torn write can only damage the slot being
// written while the other keeps the previous value:
//
//	[0:8]   sequence u64 (the slot with the higher valid sequence wins)
//	[8:16]  offset u64
//	[16]    kind u8
//	[17:20] zero
//	[20:24] consumer id u32
//	[24:32] XXH3-64 u64 of [0:24]
//
// Slot s is at byte 32*s and holds the sequences with s == seq%2. A store is
// one 32-byte pwrite; fsync follows the partition's policy.
const (
	offsetsDir = "offsets"
	slotSize   = 32
)

// EncodeOffsetSlot encodes one offset file slot into b (32 bytes).
func EncodeOffsetSlot(b []byte, seq, offset uint64, kind ConsumerKind, id uint32) {
	b = b[:slotSize]
	binary.LittleEndian.PutUint64(b[0:], seq)
	binary.LittleEndian.PutUint64(b[8:], offset)
	b[16], b[17], b[18], b[19] = byte(kind), 0, 0, 0
	binary.LittleEndian.PutUint32(b[20:], id)
	binary.LittleEndian.PutUint64(b[24:], xxh3.Hash(b[:24]))
}

// DecodeOffsetFile picks the newest valid slot of an offset file image for
// the given consumer. It returns false when no slot is valid.
func DecodeOffsetFile(b []byte, kind ConsumerKind, id uint32) (offset, seq uint64, ok bool) {
	for s := 0; s < 2 && len(b) >= (s+1)*slotSize; s++ {
		slot := b[s*slotSize : (s+1)*slotSize]
		if binary.LittleEndian.Uint64(slot[24:]) != xxh3.Hash(slot[:24]) {
			continue
		}
		sq := binary.LittleEndian.Uint64(slot[0:])
		if ConsumerKind(slot[16]) != kind || binary.LittleEndian.Uint32(slot[20:]) != id || sq%2 != uint64(s) || sq == 0 {
			continue
		}
		if !ok || sq > seq {
			offset, seq, ok = binary.LittleEndian.Uint64(slot[8:]), sq, true
		}
	}
	return offset, seq, ok
}

func offsetFileName(kind ConsumerKind, id uint32) string {
	return kind.String() + "-" + strconv.FormatUint(uint64(id), 10)
}

func parseOffsetFileName(name string) (ConsumerKind, uint32, bool) {
	k, idText, ok := strings.Cut(name, "-")
	if !ok {
		return 0, 0, false
	}
	var kind ConsumerKind
	switch k {
	case "consumer":
		kind = Consumer
	case "group":
		kind = ConsumerGroup
	default:
		return 0, 0, false
	}
	id, err := strconv.ParseUint(idText, 10, 32)
	if err != nil || strconv.FormatUint(id, 10) != idText {
		return 0, 0, false
	}
	return kind, uint32(id), true
}

type offsetKey struct {
	kind ConsumerKind
	id   uint32
}

type offsetEntry struct {
	offset uint64
	seq    uint64
	f      file // opened on first store
	dirty  bool
}

// offsetStore keeps the consumer offsets of one partition.
type offsetStore struct {
	mu       sync.Mutex
	dir      string
	cfg      *Config
	m        map[offsetKey]*offsetEntry
	dirReady bool
	slot     [slotSize]byte
	// syncMu serialises sync: it owns syncList, which each sync walks
	// outside mu.
	syncMu   sync.Mutex
	syncList []file
}

func (o *offsetStore) load(dir string, cfg *Config, rep *RecoveryReport) error {
	o.dir, o.cfg = dir, cfg
	o.m = map[offsetKey]*offsetEntry{}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("loading consumer offsets: %w", err)
	}
	o.dirReady = true
	var buf [2 * slotSize]byte
	for _, e := range entries {
		kind, id, ok := parseOffsetFileName(e.Name())
		if !ok || e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := readSmallFile(path, buf[:])
		if err != nil {
			return fmt.Errorf("loading consumer offsets: %w", err)
		}
		off, seq, ok := DecodeOffsetFile(b, kind, id)
		if !ok {
			// Both slots bad: only possible if the disk damaged the file.
			// Keep the file (the next store overwrites it) and report it.
			rep.add("%v; the offset of %s %d is lost", &CorruptionError{Path: path, Position: -1, Reason: "no valid offset slot"}, kind, id)
			continue
		}
		o.m[offsetKey{kind, id}] = &offsetEntry{offset: off, seq: seq}
	}
	return nil
}

func readSmallFile(path string, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return buf[:n], nil
}

func (o *offsetStore) get(kind ConsumerKind, id uint32) (uint64, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e := o.m[offsetKey{kind, id}]; e != nil {
		return e.offset, true
	}
	return 0, false
}

func (o *offsetStore) store(kind ConsumerKind, id uint32, offset uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		return ErrClosed
	}
	key := offsetKey{kind, id}
	e := o.m[key]
	if e == nil {
		e = &offsetEntry{}
	}
	if e.f == nil {
		if !o.dirReady {
			if err := os.MkdirAll(o.dir, 0o755); err != nil {
				return fmt.Errorf("storing consumer offset: %w", err)
			}
			if o.cfg.Fsync != FsyncNever {
				if err := syncDir(filepath.Dir(o.dir)); err != nil {
					return fmt.Errorf("storing consumer offset: %w", err)
				}
			}
			o.dirReady = true
		}
		path := filepath.Join(o.dir, offsetFileName(kind, id))
		f, err := o.cfg.openFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("storing consumer offset: %w", err)
		}
		if e.seq == 0 && o.cfg.Fsync != FsyncNever {
			// A new file: make its directory entry durable.
			if err := syncDir(o.dir); err != nil {
				f.Close()
				return fmt.Errorf("storing consumer offset: %w", err)
			}
		}
		e.f = f
		o.m[key] = e
	}
	seq := e.seq + 1
	EncodeOffsetSlot(o.slot[:], seq, offset, kind, id)
	if _, err := e.f.WriteAt(o.slot[:], int64(seq%2)*slotSize); err != nil {
		// The slot may be torn; the next attempt rewrites the same slot, so
		// the other one keeps the last good value.
		return fmt.Errorf("storing offset of %s %d: %w", kind, id, err)
	}
	if o.cfg.Fsync == FsyncAlways {
		if err := e.f.Sync(); err != nil {
			return fmt.Errorf("storing offset of %s %d: fsync: %w", kind, id, err)
		}
	} else {
		e.dirty = true
	}
	e.seq, e.offset = seq, offset
	return nil
}

func (o *offsetStore) delete(kind ConsumerKind, id uint32) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	key := offsetKey{kind, id}
	e := o.m[key]
	if e == nil {
		return fmt.Errorf("deleting offset of %s %d: %w", kind, id, ErrConsumerOffsetNotFound)
	}
	delete(o.m, key)
	if e.f != nil {
		e.f.Close()
	}
	if err := os.Remove(filepath.Join(o.dir, offsetFileName(kind, id))); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting offset of %s %d: %w", kind, id, err)
	}
	if o.cfg.Fsync != FsyncNever {
		if err := syncDir(o.dir); err != nil {
			return fmt.Errorf("deleting offset of %s %d: %w", kind, id, err)
		}
	}
	return nil
}

// min returns the lowest stored offset; false when none is stored.
func (o *offsetStore) min() (uint64, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var m uint64
	found := false
	for _, e := range o.m {
		if !found || e.offset < m {
			m, found = e.offset, true
		}
	}
	return m, found
}

func (o *offsetStore) list() []ConsumerOffset {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]ConsumerOffset, 0, len(o.m))
	for k, e := range o.m {
		out = append(out, ConsumerOffset{Kind: k.kind, ID: k.id, Offset: e.offset})
	}
	slices.SortFunc(out, func(a, b ConsumerOffset) int {
		if a.Kind != b.Kind {
			return int(a.Kind) - int(b.Kind)
		}
		return int(int64(a.ID) - int64(b.ID))
	})
	return out
}

// sync fsyncs the offset files written since their last fsync.
func (o *offsetStore) sync() error {
	o.syncMu.Lock()
	defer o.syncMu.Unlock()
	o.mu.Lock()
	o.syncList = o.syncList[:0]
	for _, e := range o.m {
		if e.dirty && e.f != nil {
			e.dirty = false
			o.syncList = append(o.syncList, e.f)
		}
	}
	list := o.syncList
	o.mu.Unlock()
	// Fsync outside the lock so stores are not held up; a file closed by a
	// concurrent delete is skipped.
	var errs []error
	for _, f := range list {
		if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("fsync consumer offsets in %s: %w", o.dir, err)
	}
	return nil
}

// syncDirtyLogged is the interval task's offset fsync; a failure puts the
// partition in the failed state.
func (o *offsetStore) syncDirtyLogged(p *Partition) error {
	err := o.sync()
	if err != nil {
		p.fail(err)
	}
	return err
}

// purge deletes every stored offset (the partition was purged).
func (o *offsetStore) purge() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range o.m {
		if e.f != nil {
			e.f.Close()
		}
	}
	clear(o.m)
	if err := os.RemoveAll(o.dir); err != nil {
		return fmt.Errorf("purging consumer offsets: %w", err)
	}
	o.dirReady = false
	return nil
}

func (o *offsetStore) close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var errs []error
	for _, e := range o.m {
		if e.f != nil {
			if err := e.f.Close(); err != nil {
				errs = append(errs, err)
			}
			e.f = nil
		}
	}
	o.m = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing consumer offsets: %w", err)
	}
	return nil
}

// StoreOffset durably records offset for a consumer or consumer group
// (subject to the fsync policy). An offset beyond CurrentOffset is refused
// with ErrInvalidOffset, as Iggy does.
func (p *Partition) StoreOffset(kind ConsumerKind, id uint32, offset uint64) error {
	// Shared against Purge (which holds structMu exclusively while it resets
	// the log and forgets the offsets), so a store checked against the old
	// current offset cannot land after the purge.
	p.structMu.RLock()
	defer p.structMu.RUnlock()
	if offset > p.CurrentOffset() {
		return fmt.Errorf("storing offset %d of %s %d, current offset %d: %w", offset, kind, id, p.CurrentOffset(), ErrInvalidOffset)
	}
	if err := p.offsets.store(kind, id, offset); err != nil {
		return fmt.Errorf("partition %s: %w", p.dir, err)
	}
	return nil
}

// Offset returns the stored offset of a consumer or consumer group.
func (p *Partition) Offset(kind ConsumerKind, id uint32) (uint64, bool) {
	return p.offsets.get(kind, id)
}

// DeleteOffset forgets the offset of a consumer or consumer group;
// ErrConsumerOffsetNotFound when none is stored.
func (p *Partition) DeleteOffset(kind ConsumerKind, id uint32) error {
	if err := p.offsets.delete(kind, id); err != nil {
		return fmt.Errorf("partition %s: %w", p.dir, err)
	}
	return nil
}

// Offsets lists the stored offsets, consumers first, by id.
func (p *Partition) Offsets() []ConsumerOffset { return p.offsets.list() }
