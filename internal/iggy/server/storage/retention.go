package storage

import (
	"errors"
	"fmt"
	"math"
)

// Removed says what a deletion took away.
type Removed struct {
	Segments int
	Messages uint64
	Bytes    uint64
}

func (r *Removed) add(o Removed) {
	r.Segments += o.Segments
	r.Messages += o.Messages
	r.Bytes += o.Bytes
}

// DeleteSegments deletes up to n of the oldest sealed segments, as Iggy's
// DeleteSegments command does (server 0.8 and later): the active segment is
// never deleted, offsets are kept (NextOffset does not change), and a segment
// still holding messages some consumer has not committed is kept: it goes
// only when its last offset is at or below the lowest stored consumer or
// group offset (with no stored offsets there is no such barrier). Deletion
// stops at the first segment that may not go.
func (p *Partition) DeleteSegments(n uint32) (Removed, error) {
	barrier, hasBarrier := p.offsets.min()
	return p.removeOldest(func(i int, s *segment) bool {
		if i >= int(n) {
			return false
		}
		return !hasBarrier || s.endOffset()-1 <= barrier
	}, "deleting segments")
}

// DeleteExpired deletes the sealed segments whose newest message is at least
// expiry old at now (both µs), Iggy's message expiry. expiry 0 or
// math.MaxUint64 means never. The active segment is never deleted, so a
// partition keeps its newest messages until the segment fills.
func (p *Partition) DeleteExpired(now, expiry uint64) (Removed, error) {
	if expiry == 0 || expiry == math.MaxUint64 || expiry > now {
		return Removed{}, nil
	}
	cutoff := now - expiry
	return p.removeOldest(func(_ int, s *segment) bool {
		return s.lastTS.Load() <= cutoff
	}, "deleting expired segments")
}

// OldestSealedSegment describes the oldest sealed segment; false when only
// the active segment exists. EnforceMaxSize uses it to choose, across a
// topic's partitions, which segment to delete next.
func (p *Partition) OldestSealedSegment() (SegmentInfo, bool) {
	p.structMu.RLock()
	defer p.structMu.RUnlock()
	if len(p.segs) < 2 {
		return SegmentInfo{}, false
	}
	return p.segs[0].info(true), true
}

// DeleteOldestSegment deletes the oldest sealed segment, if there is one.
func (p *Partition) DeleteOldestSegment() (Removed, error) {
	return p.removeOldest(func(i int, _ *segment) bool { return i == 0 }, "deleting the oldest segment")
}

// EnforceMaxSize applies a topic's maximum size across its partitions the way
// Iggy does: while the partitions together hold at least 90% of maxBytes, the
// oldest sealed segment of the topic (by the timestamp of its first message)
// is deleted. Active segments are never deleted, so a topic may stay above the
// limit until they fill. maxBytes 0 or math.MaxUint64 means unlimited.
func EnforceMaxSize(parts []*Partition, maxBytes uint64) (Removed, error) {
	var total Removed
	if maxBytes == 0 || maxBytes == math.MaxUint64 {
		return total, nil
	}
	threshold := maxBytes / 10 * 9
	var size uint64
	for _, p := range parts {
		size += p.SizeBytes()
	}
	for size >= threshold {
		var victim *Partition
		var oldest SegmentInfo
		for _, p := range parts {
			si, ok := p.OldestSealedSegment()
			if ok && (victim == nil || si.FirstTimestamp < oldest.FirstTimestamp) {
				victim, oldest = p, si
			}
		}
		if victim == nil {
			break
		}
		r, err := victim.DeleteOldestSegment()
		total.add(r)
		if err != nil {
			return total, err
		}
		if r.Segments == 0 {
			break // raced with another deletion; try again next time
		}
		size -= min(size, r.Bytes)
	}
	return total, nil
}

// removeOldest deletes the longest run of sealed segments, oldest first, for
// which keep-going returns true.
func (p *Partition) removeOldest(take func(i int, s *segment) bool, what string) (Removed, error) {
	countLocked := func() int {
		k := 0
		for k < len(p.segs)-1 && take(k, p.segs[k]) {
			k++
		}
		return k
	}
	// The server may call this after every append: when nothing is due,
	// answer under the shared lock without stalling readers or writers.
	p.structMu.RLock()
	closed, k := p.closed, countLocked()
	p.structMu.RUnlock()
	if closed {
		return Removed{}, ErrClosed
	}
	if k == 0 {
		return Removed{}, nil
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.structMu.Lock()
	if p.closed {
		p.structMu.Unlock()
		return Removed{}, ErrClosed
	}
	k = countLocked()
	victims := make([]*segment, k)
	copy(victims, p.segs[:k])
	if k > 0 {
		p.segs = append(p.segs[:0:0], p.segs[k:]...)
	}
	p.structMu.Unlock()
	// No reader can still hold a victim: readers hold structMu shared, and the
	// exclusive lock above waited for them.
	var r Removed
	var errs []error
	for _, s := range victims {
		r.Segments++
		r.Messages += s.count.Load()
		r.Bytes += s.size.Load()
		if err := s.remove(); err != nil {
			errs = append(errs, err)
		}
	}
	if k > 0 {
		if err := syncDir(p.dir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return r, fmt.Errorf("%s in partition %s: %w", what, p.dir, err)
	}
	return r, nil
}

// Purge deletes every message and every consumer offset and restarts the
// partition at offset 0 with one empty segment: Iggy's PurgeTopic /
// PurgeStream (a full reset; consumers start over).
func (p *Partition) Purge() error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.structMu.Lock()
	defer p.structMu.Unlock()
	if p.closed {
		return ErrClosed
	}
	var errs []error
	for _, s := range p.segs {
		if err := s.remove(); err != nil {
			errs = append(errs, err)
		}
	}
	p.segs = nil
	p.active = nil
	if err := syncDir(p.dir); err != nil {
		errs = append(errs, err)
	}
	if err := p.offsets.purge(); err != nil {
		errs = append(errs, err)
	}
	ns, err := createSegment(p.dir, 0, &p.cfg)
	if err != nil {
		errs = append(errs, err)
	} else {
		p.segs = []*segment{ns}
		p.active = ns
		if err := syncDir(p.dir); err != nil {
			errs = append(errs, err)
		}
	}
	p.next = 0
	p.nextOffset.Store(0)
	if err := errors.Join(errs...); err != nil {
		err = fmt.Errorf("purging partition %s: %w", p.dir, err)
		p.fail(err)
		return err
	}
	return nil
}
