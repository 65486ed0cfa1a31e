package server

import (
	"encoding/binary"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/zeebo/xxh3"
)

// PartitionLog stores the messages of one partition as 64-byte-header frames
// (docs/iggy-protocol.md §5.1), offsets dense from FirstOffset to
// NextOffset-1. The server serialises appends per partition; reads may run
// beside an append, so implementations synchronise their own state.
type PartitionLog interface {
	// Append stores count validated frames laid end to end, stamping them in
	// place as Iggy does: consecutive offsets from NextOffset(), one append
	// timestamp (µs) for the batch, a random id where the producer sent 0,
	// and the XXH3 checksum. It must not keep frames.
	Append(frames []byte, count uint32) error
	// Read appends up to count frames starting at offset to dst. An offset
	// below FirstOffset starts at FirstOffset.
	Read(dst []byte, offset uint64, count uint32) ([]byte, uint32, error)
	// OffsetAtTimestamp returns the first offset stamped at or after ts (µs).
	OffsetAtTimestamp(ts uint64) (uint64, bool, error)
	FirstOffset() uint64
	NextOffset() uint64
	SizeBytes() uint64
	Segments() uint32
	// Flush writes buffered data out and, when fsync, to stable storage.
	Flush(fsync bool) error
	// DeleteSegments removes the n oldest segments (the open one included
	// only when it is the last one left and holds data).
	DeleteSegments(n uint32) error
	// Expire removes whole segments whose newest message is older than ts.
	Expire(ts uint64) error
	// Trim removes oldest segments while the log is larger than maxBytes.
	Trim(maxBytes uint64) error
	// Purge removes every message; offsets continue from NextOffset.
	Purge() error
	Close() error
}

// Storage opens the logs of partitions and keeps consumer offsets.
type Storage interface {
	OpenPartition(stream, topic, partition uint32) (PartitionLog, error)
	// RemovePartition deletes a partition's data (the log is closed first).
	RemovePartition(stream, topic, partition uint32) error
	// RemoveTopic and RemoveStream delete what is left of their directories.
	RemoveTopic(stream, topic uint32) error
	RemoveStream(stream uint32) error
	Close() error
}

// memStorage keeps everything in memory; used by tests and by embedders that
// want a throwaway server (Config.InMemory).
type memStorage struct {
	segmentSize uint64
	now         func() time.Time
}

func (m *memStorage) OpenPartition(_, _, _ uint32) (PartitionLog, error) {
	return &memLog{segmentSize: m.segmentSize, now: m.now}, nil
}
func (m *memStorage) RemovePartition(_, _, _ uint32) error { return nil }
func (m *memStorage) RemoveTopic(_, _ uint32) error        { return nil }
func (m *memStorage) RemoveStream(uint32) error            { return nil }
func (m *memStorage) Close() error                         { return nil }

type memSegment struct {
	base  uint64   // offset of the first frame
	data  []byte   // frames back to back
	pos   []uint32 // start of each frame in data
	maxTS uint64
}

// memLog is an in-memory PartitionLog split into segments of segmentSize so
// retention and DeleteSegments behave as on disk.
type memLog struct {
	mu          sync.RWMutex
	now         func() time.Time
	lastTS      uint64
	segmentSize uint64
	segs        []*memSegment
	next        uint64
	size        uint64
}

func (l *memLog) Append(frames []byte, count uint32) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var seg *memSegment
	if n := len(l.segs); n > 0 && uint64(len(l.segs[n-1].data)) < l.segmentSize {
		seg = l.segs[n-1]
	} else {
		seg = &memSegment{base: l.next}
		l.segs = append(l.segs, seg)
	}
	ts := uint64(l.now().UnixMicro())
	if ts < l.lastTS {
		ts = l.lastTS // timestamps never go back, so timestamp polls stay ordered
	}
	l.lastTS = ts
	off := stampBatch(frames, count, l.next, ts, func(i int) {
		seg.pos = append(seg.pos, uint32(len(seg.data)+i))
	})
	seg.maxTS = ts
	seg.data = append(seg.data, frames[:off]...)
	l.next += uint64(count)
	l.size += uint64(off)
	return nil
}

// stampBatch stamps count frames as PartitionLog.Append describes and
// returns their total length; at is called with each frame's position.
func stampBatch(frames []byte, count uint32, first, ts uint64, at func(int)) int {
	off := 0
	for i := uint32(0); i < count; i++ {
		f := frames[off:]
		fl := frameLen(f)
		at(off)
		binary.LittleEndian.PutUint64(f[hdrOffset:], first+uint64(i))
		binary.LittleEndian.PutUint64(f[hdrTimestamp:], ts)
		if binary.LittleEndian.Uint64(f[hdrID:]) == 0 && binary.LittleEndian.Uint64(f[hdrID+8:]) == 0 {
			binary.LittleEndian.PutUint64(f[hdrID:], rand.Uint64())
			binary.LittleEndian.PutUint64(f[hdrID+8:], rand.Uint64())
		}
		binary.LittleEndian.PutUint64(f[hdrChecksum:], xxh3.Hash(f[8:fl]))
		off += fl
	}
	return off
}

func frameLen(f []byte) int {
	return messageHeaderSize + int(binary.LittleEndian.Uint32(f[hdrPayloadLen:])) + int(binary.LittleEndian.Uint32(f[hdrUserHeadersLen:]))
}

func (l *memLog) Read(dst []byte, offset uint64, count uint32) ([]byte, uint32, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.segs) == 0 {
		return dst, 0, nil
	}
	if offset < l.segs[0].base {
		offset = l.segs[0].base
	}
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset }) - 1
	var n uint32
	for ; i < len(l.segs) && n < count; i++ {
		seg := l.segs[i]
		rel := int(offset - seg.base)
		if rel >= len(seg.pos) {
			continue
		}
		take := len(seg.pos) - rel
		if uint32(take) > count-n {
			take = int(count - n)
		}
		start := seg.pos[rel]
		end := uint32(len(seg.data))
		if rel+take < len(seg.pos) {
			end = seg.pos[rel+take]
		}
		dst = append(dst, seg.data[start:end]...)
		n += uint32(take)
		offset += uint64(take)
	}
	return dst, n, nil
}

func (l *memLog) OffsetAtTimestamp(ts uint64) (uint64, bool, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, seg := range l.segs {
		if seg.maxTS < ts {
			continue
		}
		j := sort.Search(len(seg.pos), func(j int) bool {
			return binary.LittleEndian.Uint64(seg.data[seg.pos[j]+hdrTimestamp:]) >= ts
		})
		if j < len(seg.pos) {
			return seg.base + uint64(j), true, nil
		}
	}
	return 0, false, nil
}

func (l *memLog) FirstOffset() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.segs) == 0 {
		return l.next
	}
	return l.segs[0].base
}

func (l *memLog) NextOffset() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.next
}

func (l *memLog) SizeBytes() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.size
}

func (l *memLog) Segments() uint32 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return uint32(len(l.segs))
}

func (l *memLog) Flush(bool) error { return nil }

func (l *memLog) dropFirst(n int) {
	for _, s := range l.segs[:n] {
		l.size -= uint64(len(s.data))
	}
	l.segs = append(l.segs[:0:0], l.segs[n:]...)
}

func (l *memLog) DeleteSegments(n uint32) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if int(n) > len(l.segs) {
		n = uint32(len(l.segs))
	}
	l.dropFirst(int(n))
	return nil
}

func (l *memLog) Expire(ts uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	// The open (last) segment is kept so appends continue in it.
	for n < len(l.segs)-1 && l.segs[n].maxTS < ts {
		n++
	}
	l.dropFirst(n)
	return nil
}

func (l *memLog) Trim(maxBytes uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	size := l.size
	for n < len(l.segs)-1 && size > maxBytes {
		size -= uint64(len(l.segs[n].data))
		n++
	}
	l.dropFirst(n)
	return nil
}

func (l *memLog) Purge() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.segs = nil
	l.size = 0
	return nil
}

func (l *memLog) Close() error { return nil }
