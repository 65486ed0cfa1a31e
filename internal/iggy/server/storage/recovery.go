package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// metaFile is the partition's own small state file (a snapshot file): its
// creation time and whether it was closed cleanly.
const metaFile = "partition.meta"

type partitionMeta struct {
	createdAt uint64 // µs
	clean     bool   // closed by Close, everything fsynced
}

const metaVersion = 1

func encodeMeta(m partitionMeta) []byte {
	b := []byte{metaVersion, 0}
	if m.clean {
		b[1] = 1
	}
	return binary.LittleEndian.AppendUint64(b, m.createdAt)
}

func decodeMeta(path string, b []byte) (partitionMeta, error) {
	if len(b) != 10 || b[0] != metaVersion || b[1] > 1 {
		return partitionMeta{}, &CorruptionError{Path: path, Position: -1, Reason: fmt.Sprintf("unknown partition metadata (%d bytes, version %d)", len(b), firstByte(b))}
	}
	return partitionMeta{clean: b[1] == 1, createdAt: binary.LittleEndian.Uint64(b[2:])}, nil
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

func saveMeta(dir string, m partitionMeta) error {
	return SaveSnapshot(filepath.Join(dir, metaFile), encodeMeta(m))
}

func loadMeta(dir string) (partitionMeta, error) {
	path := filepath.Join(dir, metaFile)
	b, err := LoadSnapshot(path)
	if err != nil {
		return partitionMeta{}, err
	}
	return decodeMeta(path, b)
}

// RecoveryReport says what Open found and what it repaired, for the log.
type RecoveryReport struct {
	CleanShutdown       bool     // the previous Close completed; segments were trusted
	SegmentsScanned     int      // segments read and checksummed in full
	IndexEntriesRebuilt uint64   // index entries rewritten from the log
	TruncatedBytes      int64    // torn or corrupt bytes cut from segment tails
	SegmentsRemoved     int      // empty or (with Config.Repair) unreachable segments deleted
	MessagesLost        uint64   // messages deleted by Config.Repair
	Actions             []string // one line per finding or repair
}

func (r *RecoveryReport) add(format string, args ...any) {
	r.Actions = append(r.Actions, fmt.Sprintf(format, args...))
}

// Open opens the partition stored in dir, creating it when dir holds none.
//
// After a clean Close the segments are only spot-checked (each index against
// the last frame of its log). After a crash the active segment is read in
// full: every frame's length, offset and checksum is verified, a torn or
// corrupt tail is cut off, and the index is rebuilt where it is behind, ahead
// of, or disagrees with the log, so the partition resumes after its last
// intact message. Sealed segments that fail the spot check are read in full
// too; a bad frame inside one, or a gap between segments, makes Open fail with
// a *CorruptionError naming the file and position (Config.Repair cuts there
// instead). Recovery returns what was done.
func Open(dir string, cfg Config) (*Partition, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("opening partition %s: %w", dir, err)
	}
	lock, err := LockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("opening partition: %w", err)
	}
	p := &Partition{dir: dir, cfg: cfg, lock: lock}
	fail := func(err error) (*Partition, error) {
		for _, s := range p.segs {
			s.close()
		}
		lock.Close()
		return nil, err
	}
	if err := p.recover(); err != nil {
		return fail(err)
	}
	if err := p.offsets.load(filepath.Join(dir, offsetsDir), &p.cfg, &p.report); err != nil {
		return fail(fmt.Errorf("opening partition %s: %w", dir, err))
	}
	if err := p.clampOffsets(); err != nil {
		p.offsets.close()
		return fail(fmt.Errorf("opening partition %s: %w", dir, err))
	}
	if cfg.Fsync == FsyncInterval {
		p.stop = make(chan struct{})
		p.stopped = make(chan struct{})
		go p.syncLoop(cfg.FsyncInterval)
	}
	return p, nil
}

// scanState is what the checks found for one segment.
type scanState struct {
	seg    *segment
	badPos int64 // first invalid byte, -1 when valid to the end
	end    int64 // valid length
	size   int64 // log length found
	reason string
}

func (p *Partition) recover() error {
	rep := &p.report
	meta, err := loadMeta(p.dir)
	fresh := false
	switch {
	case err == nil:
		rep.CleanShutdown = meta.clean
	case errors.Is(err, fs.ErrNotExist):
		fresh = true
	case errors.Is(err, ErrCorrupt):
		rep.add("%v; treating the shutdown as unclean and resetting created-at", err)
	default:
		return fmt.Errorf("opening partition %s: %w", p.dir, err)
	}
	if err := RemoveSnapshotTemps(filepath.Join(p.dir, metaFile)); err != nil {
		return err
	}

	entries, err := os.ReadDir(p.dir)
	if err != nil {
		return fmt.Errorf("opening partition: %w", err)
	}
	var logs []uint64
	indexes := map[uint64]bool{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if v, ok := parseSegmentName(e.Name(), logExt); ok {
			logs = append(logs, v)
		} else if v, ok := parseSegmentName(e.Name(), indexExt); ok {
			indexes[v] = true
		}
	}
	slices.Sort(logs)
	for start := range indexes {
		if _, found := slices.BinarySearch(logs, start); !found {
			// Left by a segment deletion interrupted between its two unlinks.
			_, idxPath := segmentPaths(p.dir, start)
			if err := os.Remove(idxPath); err != nil {
				return fmt.Errorf("opening partition: removing orphan index: %w", err)
			}
			rep.add("removed index %s that had no log", idxPath)
		}
	}

	if fresh && len(logs) > 0 {
		rep.add("partition metadata missing; created-at reset")
	}
	if fresh || meta.createdAt == 0 {
		meta.createdAt = p.nowMicros()
	}
	p.createdAt = meta.createdAt
	// Mark the partition open (unclean) before changing anything, so a crash
	// from here on is followed by a full check.
	if err := saveMeta(p.dir, partitionMeta{createdAt: p.createdAt}); err != nil {
		return fmt.Errorf("opening partition: %w", err)
	}

	if len(logs) == 0 {
		s, err := createSegment(p.dir, 0, &p.cfg)
		if err != nil {
			return fmt.Errorf("opening partition %s: %w", p.dir, err)
		}
		p.segs = []*segment{s}
		if err := syncDir(p.dir); err != nil {
			return fmt.Errorf("opening partition: %w", err)
		}
		p.active = s
		return nil
	}

	states := make([]scanState, 0, len(logs))
	for i, start := range logs {
		s, err := openSegmentFiles(p.dir, start, &p.cfg)
		if err != nil {
			return fmt.Errorf("opening partition %s: %w", p.dir, err)
		}
		p.segs = append(p.segs, s)
		st, err := p.check(s, i == len(logs)-1)
		if err != nil {
			return fmt.Errorf("opening partition %s: %w", p.dir, err)
		}
		states = append(states, st)
	}
	if err := p.resolve(states); err != nil {
		return err
	}
	p.active = p.segs[len(p.segs)-1]
	p.next = p.active.endOffset()
	p.nextOffset.Store(p.next)
	for _, s := range p.segs {
		if s.count.Load() > 0 {
			p.lastTS = s.lastTS.Load()
		}
	}
	if len(rep.Actions) > 0 {
		// Make the repairs durable before accepting writes.
		for _, s := range p.segs {
			if err := s.sync(); err != nil {
				return fmt.Errorf("opening partition %s: %w", p.dir, err)
			}
		}
		if err := syncDir(p.dir); err != nil {
			return fmt.Errorf("opening partition: %w", err)
		}
	}
	return nil
}

// check verifies one segment: a spot check when the shutdown was clean (or
// the segment is sealed), a full scan otherwise or when the spot check fails.
func (p *Partition) check(s *segment, last bool) (scanState, error) {
	rep := &p.report
	st := scanState{seg: s, badPos: -1}
	logInfo, err := s.log.Stat()
	if err != nil {
		return st, fmt.Errorf("stat %s: %w", s.logPath, err)
	}
	idxInfo, err := s.idx.Stat()
	if err != nil {
		return st, fmt.Errorf("stat %s: %w", s.idxPath, err)
	}
	logSize, idxSize := logInfo.Size(), idxInfo.Size()
	st.size = logSize
	if logSize > maxSegmentBytes {
		return st, &CorruptionError{Path: s.logPath, Position: -1, Reason: fmt.Sprintf("log of %d bytes exceeds the segment limit", logSize)}
	}
	full := p.cfg.VerifyOnOpen || (last && !rep.CleanShutdown)
	if !full {
		ok, reason, err := s.quickCheck(logSize, idxSize)
		if err != nil {
			return st, err
		}
		if ok {
			st.end = logSize
			return st, nil
		}
		rep.add("segment %s: %s; scanning it", s.logPath, reason)
	}
	res, err := s.scan(logSize, idxSize)
	if err != nil {
		return st, err
	}
	rep.SegmentsScanned++
	if res.rebuilt > 0 || res.trimmed {
		rep.IndexEntriesRebuilt += res.rebuilt
		rep.add("index %s: rewrote %d entries, trimmed=%v", s.idxPath, res.rebuilt, res.trimmed)
	}
	st.badPos, st.end, st.reason = res.badPos, res.end, res.reason
	return st, nil
}

// resolve acts on the checks: it cuts torn tails, drops segments that cannot
// follow their predecessor, and reports corruption it may not repair.
func (p *Partition) resolve(states []scanState) error {
	rep := &p.report
	for i, st := range states {
		s := st.seg
		breaks := i > 0 && states[i-1].seg.endOffset() != s.start
		if !breaks && st.badPos < 0 {
			continue
		}
		// From cut on, segments go; everything before i stays.
		cut := i + 1
		if breaks {
			cut = i
		}
		rest := states[cut:]
		restEmpty := true
		var lost uint64
		for _, r := range rest {
			if r.seg.count.Load() > 0 || r.badPos >= 0 {
				restEmpty = false
			}
			lost += r.seg.count.Load()
		}
		if !restEmpty && !p.cfg.Repair {
			if breaks {
				return &CorruptionError{Path: s.logPath, Position: -1, Offset: s.start,
					Reason: fmt.Sprintf("segment starts at offset %d but the one before it ends before offset %d (set Repair to drop it and every later segment)", s.start, states[i-1].seg.endOffset())}
			}
			return &CorruptionError{Path: s.logPath, Position: st.badPos, Offset: s.endOffset(),
				Reason: st.reason + fmt.Sprintf(" (inside sealed segment; set Repair to cut the partition here, dropping %d later messages)", lost)}
		}
		for _, r := range rest {
			if err := r.seg.remove(); err != nil {
				return fmt.Errorf("opening partition %s: %w", p.dir, err)
			}
			rep.SegmentsRemoved++
			rep.add("removed segment %s (%d messages)", r.seg.logPath, r.seg.count.Load())
		}
		rep.MessagesLost += lost
		p.segs = p.segs[:cut]
		if !breaks {
			if err := s.truncateLog(st.end); err != nil {
				return fmt.Errorf("opening partition %s: %w", p.dir, err)
			}
			rep.TruncatedBytes += st.size - st.end
			rep.add("cut %d bytes from %s at byte %d (offset %d): %s", st.size-st.end, s.logPath, st.end, s.endOffset(), st.reason)
		}
		if len(p.segs) == 0 {
			// The first segment did not start where an earlier cut left
			// off; impossible with cut == i > 0, kept for safety.
			ns, err := createSegment(p.dir, 0, &p.cfg)
			if err != nil {
				return fmt.Errorf("opening partition %s: %w", p.dir, err)
			}
			p.segs = []*segment{ns}
		}
		return nil
	}
	return nil
}

// clampOffsets corrects stored consumer offsets that point past the
// recovered log. Offset files are written and flushed apart from the log, so
// a crash (or one during Purge) can keep an offset whose messages were lost;
// left as it is, it would make its consumer skip the messages appended next,
// which get those offsets again. Such an offset moves back to the last
// message kept, or is deleted when the partition holds none.
func (p *Partition) clampOffsets() error {
	for _, co := range p.offsets.list() {
		if co.Offset < p.next {
			continue
		}
		var err error
		if p.next == 0 {
			err = p.offsets.delete(co.Kind, co.ID)
			p.report.add("offset %d of %s %d is past the end of the log (no messages); deleted", co.Offset, co.Kind, co.ID)
		} else {
			err = p.offsets.store(co.Kind, co.ID, p.next-1)
			p.report.add("offset %d of %s %d is past the end of the log; moved back to %d", co.Offset, co.Kind, co.ID, p.next-1)
		}
		if err != nil {
			return fmt.Errorf("correcting a consumer offset past the end of the log: %w", err)
		}
	}
	return p.offsets.sync()
}
