package server

import (
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// PartitionLog stores the messages of one partition as 64-byte-header frames
// (docs/iggy-protocol.md §5.1), offsets dense from FirstOffset to
// NextOffset-1, plus the partition's consumer offsets. Implementations are
// safe for concurrent use. Errors that carry an Iggy status (a *wire.Error,
// or an error with an IggyCode method) are answered with that status.
type PartitionLog interface {
	// Append stores count validated frames laid end to end, stamping them in
	// place as Iggy does: consecutive offsets from NextOffset(), one append
	// timestamp (µs) for the batch, a random id where the producer sent 0,
	// and the XXH3 checksum. It must not keep frames.
	Append(frames []byte, count uint32) error
	// Read appends up to count frames starting at offset to dst. An offset
	// below FirstOffset starts at FirstOffset. It stops before the frames
	// appended would exceed maxBytes, but returns at least one frame when
	// one is available.
	Read(dst []byte, offset uint64, count uint32, maxBytes int) ([]byte, uint32, error)
	// OffsetAtTimestamp returns the first offset stamped at or after ts (µs).
	OffsetAtTimestamp(ts uint64) (uint64, bool, error)
	FirstOffset() uint64
	NextOffset() uint64
	SizeBytes() uint64
	// Segments counts the segments that hold messages: 0 for a partition
	// that never received one (or was purged), whatever empty segment file
	// the storage keeps open for the next append.
	Segments() uint32
	// Flush makes appended messages durable when fsync is set.
	Flush(fsync bool) error
	// DeleteSegments removes up to n of the oldest sealed segments.
	DeleteSegments(n uint32) error
	// DeleteExpired removes sealed segments whose newest message is at least
	// expiry µs old at now.
	DeleteExpired(now, expiry uint64) error
	// Purge removes every message and consumer offset; offsets restart at 0.
	Purge() error
	// StoreOffset records a consumer's or a consumer group's offset; one
	// beyond the newest message is refused (InvalidOffset).
	StoreOffset(kind wire.ConsumerKind, id uint32, offset uint64) error
	Offset(kind wire.ConsumerKind, id uint32) (uint64, bool)
	// DeleteOffset forgets an offset; ConsumerOffsetNotFound when none.
	DeleteOffset(kind wire.ConsumerKind, id uint32) error
	Close() error
}

// Storage opens the logs of partitions.
type Storage interface {
	OpenPartition(stream, topic, partition uint32) (PartitionLog, error)
	// RemovePartition deletes a partition's data (the log is closed first).
	RemovePartition(stream, topic, partition uint32) error
	// RemoveTopic and RemoveStream delete what is left of their directories.
	RemoveTopic(stream, topic uint32) error
	RemoveStream(stream uint32) error
	// EnforceMaxSize deletes the oldest sealed segments of a topic's
	// partitions while together they hold about maxBytes or more.
	EnforceMaxSize(parts []PartitionLog, maxBytes uint64) error
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

// EnforceMaxSize drops the oldest segment across the partitions while they
// hold 90% of maxBytes or more, as Iggy does.
func (m *memStorage) EnforceMaxSize(parts []PartitionLog, maxBytes uint64) error {
	if maxBytes == 0 || maxBytes == ^uint64(0) {
		return nil
	}
	for {
		var size uint64
		var victim *memLog
		var oldest uint64
		for _, p := range parts {
			l := p.(*memLog)
			l.mu.RLock()
			size += l.size
			if len(l.segs) > 1 && (victim == nil || l.segs[0].firstTS < oldest) {
				victim, oldest = l, l.segs[0].firstTS
			}
			l.mu.RUnlock()
		}
		if size < maxBytes/10*9 || victim == nil {
			return nil
		}
		victim.mu.Lock()
		if len(victim.segs) > 1 {
			victim.dropFirst(1)
		}
		victim.mu.Unlock()
	}
}
func (m *memStorage) RemoveTopic(_, _ uint32) error { return nil }
func (m *memStorage) RemoveStream(uint32) error     { return nil }
func (m *memStorage) Close() error                  { return nil }

type memSegment struct {
	base    uint64 // offset of the first frame
	firstTS uint64
	data    []byte   // frames back to back
	pos     []uint32 // start of each frame in data
	maxTS   uint64
}

// maxMemSegment caps in-memory segments so appends never copy more than this
// when a segment's buffer grows.
const maxMemSegment = 16 << 20

// memLog is an in-memory PartitionLog split into segments of segmentSize
// (at most maxMemSegment) so retention and DeleteSegments behave as on disk.
type memLog struct {
	mu          sync.RWMutex
	now         func() time.Time
	lastTS      uint64
	segmentSize uint64
	segs        []*memSegment
	next        uint64
	size        uint64
	offsets     map[offsetKey]uint64
}

func (l *memLog) Append(frames []byte, count uint32) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := uint64(l.now().UnixMicro())
	if ts < l.lastTS {
		ts = l.lastTS // timestamps never go back, so timestamp polls stay ordered
	}
	l.lastTS = ts
	var seg *memSegment
	if n := len(l.segs); n > 0 && uint64(len(l.segs[n-1].data)) < min(l.segmentSize, maxMemSegment) {
		seg = l.segs[n-1]
	} else {
		// Size the new buffer after the previous segment so a busy
		// partition does not regrow (and copy) every segment from zero.
		c := 64 << 10
		if n := len(l.segs); n > 0 {
			c = max(c, len(l.segs[n-1].data))
		}
		c = max(min(c, int(min(l.segmentSize, maxMemSegment))), len(frames))
		seg = &memSegment{base: l.next, firstTS: ts, data: make([]byte, 0, c)}
		l.segs = append(l.segs, seg)
	}
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
		f := wire.Frame(frames[off:])
		f = f[:f.Size()]
		at(off)
		f.SetOffset(first + uint64(i))
		f.SetTimestamp(ts)
		if f.ID().IsZero() {
			f.SetID(wire.MessageID{Lo: rand.Uint64(), Hi: rand.Uint64()})
		}
		f.UpdateChecksum()
		off += len(f)
	}
	return off
}

func (l *memLog) Read(dst []byte, offset uint64, count uint32, maxBytes int) ([]byte, uint32, error) {
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
		end := func(k int) int {
			if rel+k < len(seg.pos) {
				return int(seg.pos[rel+k])
			}
			return len(seg.data)
		}
		full := false
		if end(take)-int(start) > maxBytes {
			// The most frames within maxBytes; at least one overall.
			k := sort.Search(take+1, func(k int) bool { return end(k)-int(start) > maxBytes }) - 1
			if k == 0 && n == 0 {
				k = 1
			}
			take, full = k, true
		}
		if take == 0 {
			break
		}
		dst = append(dst, seg.data[start:end(take)]...)
		maxBytes -= end(take) - int(start)
		n += uint32(take)
		offset += uint64(take)
		if full {
			break
		}
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
			return wire.Frame(seg.data[seg.pos[j]:]).Timestamp() >= ts
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

// Segments counts the segments that hold messages; a memLog makes a segment
// only to append to it.
func (l *memLog) Segments() uint32 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	n := 0
	for _, seg := range l.segs {
		if len(seg.pos) > 0 {
			n++
		}
	}
	return uint32(n)
}

func (l *memLog) Flush(bool) error { return nil }

func (l *memLog) dropFirst(n int) {
	for _, s := range l.segs[:n] {
		l.size -= uint64(len(s.data))
	}
	l.segs = append(l.segs[:0:0], l.segs[n:]...)
}

// DeleteSegments drops up to n of the oldest sealed segments; the open
// (last) segment stays so appends continue in it. As on disk (and in Iggy
// 0.8), a segment holding offsets past the lowest stored consumer or group
// offset is kept, and deletion stops there.
func (l *memLog) DeleteSegments(n uint32) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := min(int(n), max(len(l.segs)-1, 0))
	if len(l.offsets) > 0 {
		barrier := uint64(math.MaxUint64)
		for _, off := range l.offsets {
			barrier = min(barrier, off)
		}
		i := 0
		// A sealed segment's last offset is the next segment's base - 1.
		for i < k && l.segs[i+1].base-1 <= barrier {
			i++
		}
		k = i
	}
	l.dropFirst(k)
	return nil
}

func (l *memLog) DeleteExpired(now, expiry uint64) error {
	if expiry == 0 || expiry == ^uint64(0) || expiry > now {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for n < len(l.segs)-1 && l.segs[n].maxTS <= now-expiry {
		n++
	}
	l.dropFirst(n)
	return nil
}

// Purge empties the log and forgets its consumer offsets; offsets restart at
// 0, as on disk and in Iggy.
func (l *memLog) Purge() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.segs = nil
	l.size = 0
	l.next = 0
	clear(l.offsets)
	return nil
}

func (l *memLog) StoreOffset(kind wire.ConsumerKind, id uint32, offset uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Iggy refuses only an offset past the current one, which is 0 for an
	// empty partition too (as the disk store does).
	if cur := max(l.next, 1) - 1; offset > cur {
		return wire.ErrInvalidOffset
	}
	if l.offsets == nil {
		l.offsets = map[offsetKey]uint64{}
	}
	l.offsets[offsetKey{kind, id}] = offset
	return nil
}

func (l *memLog) Offset(kind wire.ConsumerKind, id uint32) (uint64, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	v, ok := l.offsets[offsetKey{kind, id}]
	return v, ok
}

func (l *memLog) DeleteOffset(kind wire.ConsumerKind, id uint32) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.offsets[offsetKey{kind, id}]; !ok {
		return wire.ErrConsumerOffsetNotFound
	}
	delete(l.offsets, offsetKey{kind, id})
	return nil
}

func (l *memLog) Close() error { return nil }
