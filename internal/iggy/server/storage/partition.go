package storage

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Partition is the append-only log of one Iggy partition: a directory of
// segments plus the partition's consumer offsets. Appends are serialised;
// reads run concurrently with appends and with each other and see only
// messages whose append has completed (and, under FsyncAlways, been fsynced).
// All methods are safe for concurrent use.
type Partition struct {
	dir  string
	cfg  Config
	lock *DirLock // held from Open to Close

	// wmu serialises writers: Append, roll, DeleteSegments, Purge, Close.
	wmu       sync.Mutex
	active    *segment // last segment; changes under wmu and structMu
	next      uint64   // next offset to assign (under wmu)
	lastTS    uint64   // last append timestamp, for monotonic stamps (under wmu)
	idxBuf    []byte   // index entries of the batch being appended (under wmu)
	idBuf     []byte   // random ids for the batch being appended (under wmu)
	createdAt uint64   // µs
	report    RecoveryReport

	// structMu guards the segment list: readers hold it shared while they
	// read, so a segment is never closed under a read; roll, delete and purge
	// hold it exclusively while they change the list.
	structMu sync.RWMutex
	segs     []*segment
	closed   bool

	nextOffset atomic.Uint64 // published next offset, for lock-free stats

	failure atomic.Pointer[error] // set when the partition must refuse writes

	offsets offsetStore

	// syncMu serialises fsync passes (the interval task and Flush).
	syncMu      sync.Mutex
	syncScratch []*segment
	stop        chan struct{}
	stopped     chan struct{}
}

// AppendResult describes a stored batch.
type AppendResult struct {
	FirstOffset uint64 // offset of the first message
	LastOffset  uint64 // offset of the last message
	Timestamp   uint64 // append timestamp stamped on every message (µs)
	Count       uint32 // messages stored
	Bytes       uint64 // bytes of frames stored
}

// Stats describes a partition at one moment.
type Stats struct {
	CreatedAt     uint64 // µs since the epoch
	FirstOffset   uint64 // offset of the oldest stored message (= NextOffset when empty)
	NextOffset    uint64 // offset the next message will get
	CurrentOffset uint64 // offset of the newest message; 0 when none was ever stored (as Iggy reports)
	MessagesCount uint64 // messages stored
	SizeBytes     uint64 // bytes of stored frames (log files; indexes not counted)
	SegmentsCount uint32
	LastTimestamp uint64 // append timestamp of the newest message, 0 when empty
}

// Dir returns the partition's directory.
func (p *Partition) Dir() string { return p.dir }

// Recovery returns what Open found and repaired.
func (p *Partition) Recovery() RecoveryReport { return p.report }

// CreatedAt returns when the partition was first created, in µs since the epoch.
func (p *Partition) CreatedAt() uint64 { return p.createdAt }

// NextOffset returns the offset the next appended message will get.
func (p *Partition) NextOffset() uint64 { return p.nextOffset.Load() }

// CurrentOffset returns the offset of the newest message, or 0 when the
// partition never stored one: the current_offset Iggy reports.
func (p *Partition) CurrentOffset() uint64 {
	if n := p.nextOffset.Load(); n > 0 {
		return n - 1
	}
	return 0
}

// FirstOffset returns the offset of the oldest stored message (NextOffset
// when the partition is empty).
func (p *Partition) FirstOffset() uint64 {
	p.structMu.RLock()
	defer p.structMu.RUnlock()
	if len(p.segs) == 0 {
		return p.nextOffset.Load()
	}
	return p.segs[0].start
}

// Stats returns the partition's counters.
func (p *Partition) Stats() Stats {
	p.structMu.RLock()
	defer p.structMu.RUnlock()
	st := Stats{CreatedAt: p.createdAt, SegmentsCount: uint32(len(p.segs))}
	var end uint64
	for _, s := range p.segs {
		c := s.count.Load()
		st.SizeBytes += s.size.Load()
		if c > 0 {
			st.LastTimestamp = s.lastTS.Load()
		}
		end = s.start + c
	}
	if len(p.segs) > 0 {
		st.FirstOffset = p.segs[0].start
	}
	st.NextOffset = end
	st.MessagesCount = end - st.FirstOffset
	if end > 0 {
		st.CurrentOffset = end - 1
	}
	return st
}

// SizeBytes returns the bytes of stored frames.
func (p *Partition) SizeBytes() uint64 {
	p.structMu.RLock()
	defer p.structMu.RUnlock()
	var n uint64
	for _, s := range p.segs {
		n += s.size.Load()
	}
	return n
}

// Segments returns the number of segments, the active one included.
func (p *Partition) Segments() uint32 {
	p.structMu.RLock()
	defer p.structMu.RUnlock()
	return uint32(len(p.segs))
}

// SegmentInfo describes one segment.
type SegmentInfo struct {
	StartOffset    uint64 // offset of its first message (its file name)
	EndOffset      uint64 // offset after its last message
	SizeBytes      uint64
	FirstTimestamp uint64 // µs; 0 when empty
	LastTimestamp  uint64 // µs; 0 when empty
	Sealed         bool   // every segment but the last is sealed
	Path           string // the log file
}

// SegmentInfos describes every segment, oldest first.
func (p *Partition) SegmentInfos() []SegmentInfo {
	p.structMu.RLock()
	defer p.structMu.RUnlock()
	out := make([]SegmentInfo, len(p.segs))
	for i, s := range p.segs {
		out[i] = s.info(i < len(p.segs)-1)
	}
	return out
}

func (s *segment) info(sealed bool) SegmentInfo {
	c := s.count.Load()
	si := SegmentInfo{StartOffset: s.start, EndOffset: s.start + c, SizeBytes: s.size.Load(), Sealed: sealed, Path: s.logPath}
	if c > 0 {
		si.FirstTimestamp, si.LastTimestamp = s.firstTS.Load(), s.lastTS.Load()
	}
	return si
}

func (p *Partition) fail(err error) {
	p.failure.CompareAndSwap(nil, &err)
}

// failed returns the error that put the partition into the failed state.
func (p *Partition) failed() error {
	if e := p.failure.Load(); e != nil {
		return fmt.Errorf("partition %s: %w (cause: %w)", p.dir, ErrFailed, *e)
	}
	return nil
}

func (p *Partition) nowMicros() uint64 {
	t := p.cfg.Now().UnixMicro()
	if t < 0 {
		return 0
	}
	return uint64(t)
}

// Append stores one SendMessages batch: count frames laid end to end in
// frames, exactly as the request carries them. It validates the frames
// (CheckBatch) and then stamps them in place: consecutive offsets from
// NextOffset, one append timestamp for the batch (µs, never earlier than the
// previous batch's), a random version-4 UUID as id where the producer sent 0,
// and the checksum. The batch is written with one write to the log and one to
// the index; a failed write is truncated away and reported, leaving the
// partition as it was. The frames slice is not retained.
//
// Invalid batches return errors wrapping the sentinels of this package
// (IggyCode maps them to Iggy status codes) and change nothing.
func (p *Partition) Append(frames []byte, count uint32) (AppendResult, error) {
	zeroIDs, err := CheckBatch(frames, count)
	if err != nil {
		return AppendResult{}, err
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.closed {
		return AppendResult{}, ErrClosed
	}
	if err := p.failed(); err != nil {
		return AppendResult{}, err
	}
	s := p.active
	size := s.size.Load()
	// The active segment is sealed once full; a failed roll is retried here.
	// A batch that would overflow 32-bit positions also starts a new one.
	if size > 0 && (size >= p.cfg.SegmentSize || size+uint64(len(frames)) > maxSegmentBytes) {
		if err := p.roll(); err != nil {
			return AppendResult{}, fmt.Errorf("appending to partition %s: %w", p.dir, err)
		}
		s, size = p.active, 0
	}
	ts := p.nowMicros()
	if ts < p.lastTS {
		ts = p.lastTS // keep timestamps monotonic for the time index
	}
	var ids []byte
	if zeroIDs > 0 {
		p.idBuf = slices.Grow(p.idBuf[:0], 16*zeroIDs)[:16*zeroIDs]
		ids = p.idBuf
		rand.Read(ids) // never fails (crypto/rand since Go 1.24)
		for i := 0; i < len(ids); i += 16 {
			uuidV4(ids[i : i+16])
		}
	}
	rel := s.count.Load()
	first := p.next
	p.idxBuf = stampBatch(frames, first, ts, ids, slices.Grow(p.idxBuf[:0], int(count)*indexEntrySize), uint32(rel), uint32(size))
	idxPos := int64(rel) * indexEntrySize
	if _, err := s.log.WriteAt(frames, int64(size)); err != nil {
		return AppendResult{}, p.undo(s, int64(size), idxPos, fmt.Errorf("writing %s: %w", s.logPath, err))
	}
	if _, err := s.idx.WriteAt(p.idxBuf, idxPos); err != nil {
		return AppendResult{}, p.undo(s, int64(size), idxPos, fmt.Errorf("writing %s: %w", s.idxPath, err))
	}
	switch p.cfg.Fsync {
	case FsyncAlways:
		// The index is derived data: recovery rebuilds it from the log, so
		// only the log is fsynced per batch.
		if err := s.log.Sync(); err != nil {
			err = fmt.Errorf("fsync %s: %w", s.logPath, err)
			// After a failed fsync the page cache state is unknown; refuse
			// further writes until Open has recovered the partition.
			p.fail(err)
			return AppendResult{}, p.undo(s, int64(size), idxPos, err)
		}
	default:
		// Interval: the background task fsyncs it; never: Flush and Close do.
		s.dirty.Store(true)
	}
	// Publish: timestamps before counts, size before count, so a reader that
	// sees the new count sees everything it covers.
	if rel == 0 {
		s.firstTS.Store(ts)
	}
	s.lastTS.Store(ts)
	s.size.Store(size + uint64(len(frames)))
	s.count.Store(rel + uint64(count))
	p.next = first + uint64(count)
	p.lastTS = ts
	p.nextOffset.Store(p.next)

	res := AppendResult{FirstOffset: first, LastOffset: p.next - 1, Timestamp: ts, Count: count, Bytes: uint64(len(frames))}
	if s.size.Load() >= p.cfg.SegmentSize {
		// Seal now so the full segment becomes eligible for retention while
		// the partition is idle. The batch is stored either way; a failure
		// here is retried, and reported, by the next Append.
		_ = p.roll()
	}
	return res, nil
}

// undo truncates a failed append away. If that fails too the partition is
// marked failed: its files may hold bytes past the committed end.
func (p *Partition) undo(s *segment, logSize, idxSize int64, cause error) error {
	terr := errors.Join(s.log.Truncate(logSize), s.idx.Truncate(idxSize))
	if terr != nil {
		p.fail(fmt.Errorf("%w; truncating after it: %w", cause, terr))
	}
	return fmt.Errorf("appending to partition %s: %w", p.dir, cause)
}

// roll seals the active segment and starts a new one at the next offset.
// Called with wmu held.
func (p *Partition) roll() error {
	old := p.active
	if p.cfg.Fsync != FsyncNever {
		// Sealed segments are durable, so a crash can only tear the last one.
		old.dirty.Store(false)
		if err := old.sync(); err != nil {
			old.dirty.Store(true)
			return fmt.Errorf("sealing segment: %w", err)
		}
	}
	ns, err := createSegment(p.dir, p.next, &p.cfg)
	if err != nil {
		return err
	}
	if p.cfg.Fsync != FsyncNever {
		if err := syncDir(p.dir); err != nil {
			ns.remove()
			return err
		}
	}
	p.structMu.Lock()
	p.segs = append(p.segs, ns)
	p.active = ns
	p.structMu.Unlock()
	return nil
}

// Read appends to dst up to count frames starting at offset, exactly as
// stored (ready to be written into a poll response), and returns the extended
// slice and the number of frames. An offset below the oldest stored message
// reads from the oldest; one at or past NextOffset reads nothing. dst grows
// only when its capacity is short, so a reused buffer makes reads
// allocation-free. Frames are checked for consistent lengths and offsets (not
// checksums); an index that disagrees with its log gives a *CorruptionError.
func (p *Partition) Read(dst []byte, offset uint64, count uint32) ([]byte, uint32, error) {
	return p.ReadMax(dst, offset, count, 0)
}

// ReadMax is Read that also stops before the frames appended to dst would
// exceed maxBytes (0 or less: no limit), so large messages cannot make one
// read unbounded. It returns at least one frame when one is available,
// however large, so a reader always makes progress.
func (p *Partition) ReadMax(dst []byte, offset uint64, count uint32, maxBytes int) ([]byte, uint32, error) {
	p.structMu.RLock()
	defer p.structMu.RUnlock()
	if p.closed {
		return dst, 0, ErrClosed
	}
	return p.readLocked(dst, offset, count, maxBytes)
}

// ReadFirst reads up to count frames from the oldest stored message.
func (p *Partition) ReadFirst(dst []byte, count uint32) ([]byte, uint32, error) {
	return p.Read(dst, 0, count)
}

// ReadLast reads the newest count frames (fewer when fewer are stored).
func (p *Partition) ReadLast(dst []byte, count uint32) ([]byte, uint32, error) {
	p.structMu.RLock()
	defer p.structMu.RUnlock()
	if p.closed {
		return dst, 0, ErrClosed
	}
	if len(p.segs) == 0 {
		return dst, 0, p.failed()
	}
	end := p.segs[len(p.segs)-1].endOffset()
	from := uint64(0)
	if end > uint64(count) {
		from = end - uint64(count)
	}
	return p.readLocked(dst, from, count, 0)
}

// ReadTimestamp reads up to count frames from the first message whose append
// timestamp is at or after ts (µs).
func (p *Partition) ReadTimestamp(dst []byte, ts uint64, count uint32) ([]byte, uint32, error) {
	p.structMu.RLock()
	defer p.structMu.RUnlock()
	if p.closed {
		return dst, 0, ErrClosed
	}
	if count == 0 {
		return dst, 0, nil
	}
	dst = slices.Grow(dst, indexEntrySize)
	off, ok, err := p.offsetAtTimestampLocked(dst[len(dst):len(dst)+indexEntrySize], ts)
	if err != nil || !ok {
		return dst, 0, err
	}
	return p.readLocked(dst, off, count, 0)
}

// OffsetAtTimestamp returns the offset of the first message whose append
// timestamp is at or after ts (µs); false when every stored message is older.
func (p *Partition) OffsetAtTimestamp(ts uint64) (uint64, bool, error) {
	p.structMu.RLock()
	defer p.structMu.RUnlock()
	if p.closed {
		return 0, false, ErrClosed
	}
	var scratch [indexEntrySize]byte
	return p.offsetAtTimestampLocked(scratch[:], ts)
}

func (p *Partition) offsetAtTimestampLocked(scratch []byte, ts uint64) (uint64, bool, error) {
	for _, s := range p.segs {
		c := s.count.Load()
		if c == 0 || s.lastTS.Load() < ts {
			continue
		}
		if s.firstTS.Load() >= ts {
			return s.start, true, nil
		}
		rel, err := s.searchTimestamp(scratch, ts, c)
		if err != nil {
			return 0, false, err
		}
		if rel < c {
			return s.start + rel, true, nil
		}
	}
	return 0, false, nil
}

// readLocked implements ReadMax; structMu is held shared.
func (p *Partition) readLocked(dst []byte, offset uint64, count uint32, maxBytes int) ([]byte, uint32, error) {
	budget := uint64(math.MaxUint64)
	if maxBytes > 0 {
		budget = uint64(maxBytes)
	}
	if count == 0 {
		return dst, 0, nil
	}
	segs := p.segs
	if len(segs) == 0 {
		return dst, 0, p.failed() // only after a failed Purge
	}
	if offset < segs[0].start {
		offset = segs[0].start
	}
	// Last segment starting at or before offset.
	lo, hi := 0, len(segs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if segs[m].start <= offset {
			lo = m + 1
		} else {
			hi = m
		}
	}
	var n uint32
	for i := lo - 1; i < len(segs) && n < count; i++ {
		s := segs[i]
		c := s.count.Load() // load count before size: size covers at least count frames
		size := s.size.Load()
		if offset < s.start {
			offset = s.start
		}
		rel := offset - s.start
		if rel >= c {
			continue
		}
		take := min(c-rel, uint64(count-n))
		// The spare capacity of dst is scratch for index entries.
		dst = slices.Grow(dst, indexEntrySize)
		scratch := dst[len(dst) : len(dst)+indexEntrySize]
		from, err := s.position(scratch, rel, c, size)
		if err != nil {
			return dst, n, err
		}
		to, err := s.position(scratch, rel+take, c, size)
		if err != nil {
			return dst, n, err
		}
		if to <= from {
			return dst, n, &CorruptionError{Path: s.idxPath, Position: int64(rel * indexEntrySize), Offset: offset,
				Reason: fmt.Sprintf("index positions %d..%d are not increasing", from, to)}
		}
		if to-from > budget {
			// Too many bytes: the most frames that fit (binary search over
			// the index), at least one when nothing was read yet.
			lo, hi := uint64(0), take-1 // frames known to fit, and at most
			if n == 0 {
				lo = 1
			}
			for lo < hi {
				m := lo + (hi-lo+1)/2
				pos, err := s.position(scratch, rel+m, c, size)
				if err != nil {
					return dst, n, err
				}
				if pos-from <= budget {
					lo = m
				} else {
					hi = m - 1
				}
			}
			if lo == 0 {
				break
			}
			take = lo
			if to, err = s.position(scratch, rel+take, c, size); err != nil {
				return dst, n, err
			}
			if to <= from {
				return dst, n, &CorruptionError{Path: s.idxPath, Position: int64(rel * indexEntrySize), Offset: offset,
					Reason: fmt.Sprintf("index positions %d..%d are not increasing", from, to)}
			}
			budget = 0 // full: stop after these
		} else {
			budget -= to - from
		}
		l := len(dst)
		dst = slices.Grow(dst, int(to-from))[:l+int(to-from)]
		if _, err := s.log.ReadAt(dst[l:], int64(from)); err != nil {
			return dst[:l], n, fmt.Errorf("reading %s: %w", s.logPath, err)
		}
		got, err := walkFrames(dst[l:], offset, take)
		if err != nil {
			return dst[:l], n, &CorruptionError{Path: s.logPath, Position: int64(from), Offset: offset, Reason: err.Error()}
		}
		dst = dst[:l+got]
		n += uint32(take)
		offset += take
		if budget == 0 {
			break
		}
	}
	return dst, n, nil
}

// Flush makes every appended message durable when fsync is true (appends
// are written through, so there is nothing else to flush): the server's
// FlushUnsavedBuffer. With fsync false it is a no-op.
func (p *Partition) Flush(fsync bool) error {
	if !fsync {
		return nil
	}
	if err := p.syncDirty(true); err != nil {
		return err
	}
	return p.offsets.sync()
}

// syncDirty fsyncs segments written since their last fsync (all of them when
// all is set, as a dirty flag is only kept under FsyncInterval). A failure
// puts the partition in the failed state.
func (p *Partition) syncDirty(all bool) error {
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	p.structMu.RLock()
	if p.closed {
		p.structMu.RUnlock()
		return ErrClosed
	}
	p.syncScratch = p.syncScratch[:0]
	for _, s := range p.segs {
		if s.dirty.Swap(false) || (all && s == p.segs[len(p.segs)-1]) {
			p.syncScratch = append(p.syncScratch, s)
		}
	}
	p.structMu.RUnlock()
	// Fsync without the lock: it may take long, and a segment deleted
	// meanwhile only makes its sync a no-op (closed files are skipped).
	for i, s := range p.syncScratch {
		if err := s.sync(); err != nil {
			s.dirty.Store(true)
			p.fail(err)
			clear(p.syncScratch[i:])
			return fmt.Errorf("partition %s: %w", p.dir, err)
		}
	}
	clear(p.syncScratch)
	return nil
}

// syncLoop is the FsyncInterval background task.
func (p *Partition) syncLoop(every time.Duration) {
	defer close(p.stopped)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			// A failure is recorded in p.failure and returned by the next
			// Append; there is no one to return it to here.
			_ = p.syncDirty(false)
			_ = p.offsets.syncDirtyLogged(p)
		}
	}
}

// Close fsyncs everything (whatever the policy), closes the files and marks
// the shutdown clean, so the next Open trusts the segments without scanning
// them. Reads and writes after Close return ErrClosed. Close is idempotent.
func (p *Partition) Close() error {
	return p.close(true)
}

// close shuts the partition; clean=false skips the fsync and the clean
// marker, leaving the partition as a crash would (tests use it).
func (p *Partition) close(clean bool) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.structMu.Lock()
	if p.closed {
		p.structMu.Unlock()
		return nil
	}
	p.closed = true
	segs := p.segs
	p.structMu.Unlock()
	if p.stop != nil {
		close(p.stop)
		<-p.stopped
	}
	var errs []error
	if clean && p.failure.Load() == nil {
		for _, s := range segs {
			if s.dirty.Load() || s == p.active {
				if err := s.sync(); err != nil {
					errs = append(errs, err)
				}
			}
		}
		if err := p.offsets.sync(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range segs {
		if err := s.close(); err != nil {
			errs = append(errs, fmt.Errorf("closing %s: %w", s.logPath, err))
		}
	}
	if err := p.offsets.close(); err != nil {
		errs = append(errs, err)
	}
	if clean && len(errs) == 0 && p.failure.Load() == nil {
		if err := saveMeta(p.dir, partitionMeta{createdAt: p.createdAt, clean: true}); err != nil {
			errs = append(errs, err)
		}
	}
	if err := p.lock.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing partition %s: %w", p.dir, err)
	}
	return nil
}
