package storage

import (
	"errors"
	"math"
	"os"
	"testing"
	"time"
)

// segmented returns an open partition whose segments each hold 5 messages
// of 100-byte payloads (sealed at 5*164 = 820 >= 800 bytes).
func segmented(t testing.TB, dir string, batches int, now func() time.Time) *Partition {
	t.Helper()
	p := mustOpen(t, dir, Config{SegmentSize: 1024, Fsync: FsyncNever, Now: now})
	for i := 0; i < batches; i++ {
		mustAppend(t, p, makeBatch(7, 100, byte(i)), 7) // 1148 bytes: one segment per batch
	}
	return p
}

func TestDeleteSegmentsOldestSealedOnly(t *testing.T) {
	dir := t.TempDir()
	p := segmented(t, dir, 5, nil) // 5 sealed + empty active at 35
	defer p.Close()
	if got := p.Segments(); got != 6 {
		t.Fatalf("%d segments", got)
	}
	r, err := p.DeleteSegments(2)
	if err != nil || r.Segments != 2 || r.Messages != 14 || r.Bytes != 2*1148 {
		t.Fatalf("delete 2: %+v %v", r, err)
	}
	st := p.Stats()
	if st.FirstOffset != 14 || st.NextOffset != 35 || st.CurrentOffset != 34 || st.MessagesCount != 21 || st.SegmentsCount != 4 {
		t.Fatalf("stats %+v", st)
	}
	// Reads below the first offset start at it.
	buf, n, err := p.Read(nil, 0, 3)
	if err != nil || n != 3 {
		t.Fatal(n, err)
	}
	checkFrames(t, buf, 14, 3)
	// delete(0) is a no-op; a huge count never touches the active segment.
	if r, _ := p.DeleteSegments(0); r.Segments != 0 {
		t.Fatalf("delete 0 removed %+v", r)
	}
	if r, _ := p.DeleteSegments(math.MaxUint32); r.Segments != 3 {
		t.Fatalf("delete all removed %+v", r)
	}
	infos := p.SegmentInfos()
	if len(infos) != 1 || infos[0].StartOffset != 35 {
		t.Fatalf("segments %+v", infos)
	}
	if r, _ := p.DeleteSegments(1); r.Segments != 0 {
		t.Fatal("deleted the active segment")
	}
	// Offsets continue; files of deleted segments are gone.
	if r := mustAppend(t, p, makeBatch(1, 1, 0), 1); r.FirstOffset != 35 {
		t.Fatalf("next offset %d", r.FirstOffset)
	}
	entries, _ := os.ReadDir(dir)
	logs := 0
	for _, e := range entries {
		if _, ok := parseSegmentName(e.Name(), logExt); ok {
			logs++
		}
		if _, ok := parseSegmentName(e.Name(), indexExt); ok {
			logs++
		}
	}
	if logs != 2 {
		t.Fatalf("%d segment files left", logs)
	}
	// State survives a reopen.
	p.Close()
	p = mustOpen(t, dir, Config{SegmentSize: 1024})
	if st := p.Stats(); st.FirstOffset != 35 || st.NextOffset != 36 {
		t.Fatalf("after reopen %+v", st)
	}
}

func TestDeleteSegmentsConsumerBarrier(t *testing.T) {
	p := segmented(t, t.TempDir(), 5, nil) // segments end at offsets 6, 13, 20, 27, 34
	defer p.Close()
	if err := p.StoreOffset(Consumer, 1, 7); err != nil {
		t.Fatal(err)
	}
	if err := p.StoreOffset(ConsumerGroup, 3, 30); err != nil {
		t.Fatal(err)
	}
	// Barrier = min(7, 30) = 7: only the segment ending at 6 may go.
	if r, _ := p.DeleteSegments(math.MaxUint32); r.Segments != 1 {
		t.Fatalf("removed %+v", r)
	}
	if r, _ := p.DeleteSegments(1); r.Segments != 0 {
		t.Fatal("removed a segment with uncommitted messages")
	}
	p.StoreOffset(Consumer, 1, 12)
	if r, _ := p.DeleteSegments(1); r.Segments != 0 {
		t.Fatal("removed a segment one message early")
	}
	p.StoreOffset(Consumer, 1, 13)
	if r, _ := p.DeleteSegments(1); r.Segments != 1 {
		t.Fatal("segment ending at the barrier kept")
	}
	if err := p.DeleteOffset(Consumer, 1); err != nil {
		t.Fatal(err)
	}
	// The group at 30 now gates: segments ending at 20 and 27 go, 34 is active.
	if r, _ := p.DeleteSegments(10); r.Segments != 2 {
		t.Fatalf("removed %+v", r)
	}
}

func TestDeleteExpired(t *testing.T) {
	base := time.UnixMicro(goldenT)
	now := base
	p := segmented(t, t.TempDir(), 0, func() time.Time { return now })
	defer p.Close()
	for i := 0; i < 4; i++ {
		now = base.Add(time.Duration(i) * time.Minute)
		mustAppend(t, p, makeBatch(7, 100, byte(i)), 7)
	}
	mustAppend(t, p, makeBatch(1, 10, 0), 1) // the active segment holds one message
	nowUS := uint64(base.Add(10 * time.Minute).UnixMicro())
	for _, never := range []uint64{0, math.MaxUint64, nowUS + 1} {
		if r, err := p.DeleteExpired(nowUS, never); err != nil || r.Segments != 0 {
			t.Fatalf("expiry %d removed %+v %v", never, r, err)
		}
	}
	// Expiry 8.5 min at +10 min: segments stamped at +0 and +1 min are expired.
	r, err := p.DeleteExpired(nowUS, uint64((8*time.Minute + 30*time.Second).Microseconds()))
	if err != nil || r.Segments != 2 || r.Messages != 14 {
		t.Fatalf("removed %+v %v", r, err)
	}
	// Exactly at the boundary counts as expired (newest + expiry <= now).
	r, _ = p.DeleteExpired(nowUS, uint64((8 * time.Minute).Microseconds()))
	if r.Segments != 1 {
		t.Fatalf("boundary: %+v", r)
	}
	// Everything is old, but the active segment stays.
	r, _ = p.DeleteExpired(nowUS+uint64(time.Hour.Microseconds()), 1)
	if r.Segments != 1 || p.Segments() != 1 || p.Stats().MessagesCount != 1 {
		t.Fatalf("final: %+v %+v", r, p.Stats())
	}
}

func TestEnforceMaxSize(t *testing.T) {
	base := time.UnixMicro(goldenT)
	now := base
	clock := func() time.Time { now = now.Add(time.Second); return now }
	var parts []*Partition
	for i := 0; i < 3; i++ {
		parts = append(parts, mustOpen(t, t.TempDir(), Config{SegmentSize: 1024, Fsync: FsyncNever, Now: clock}))
		defer parts[i].Close()
	}
	// Interleave so the oldest segments alternate between partitions.
	for round := 0; round < 4; round++ {
		for _, p := range parts {
			mustAppend(t, p, makeBatch(7, 100, byte(round)), 7)
		}
	}
	total := func() (n uint64) {
		for _, p := range parts {
			n += p.SizeBytes()
		}
		return n
	}
	if total() != 12*1148 {
		t.Fatalf("total %d", total())
	}
	if r, _ := EnforceMaxSize(parts, 0); r.Segments != 0 {
		t.Fatal("unlimited removed segments")
	}
	if r, _ := EnforceMaxSize(parts, math.MaxUint64); r.Segments != 0 {
		t.Fatal("unlimited removed segments")
	}
	// Limit 10000: keep going while size >= 9000, i.e. remove 5 of 12.
	r, err := EnforceMaxSize(parts, 10000)
	if err != nil || r.Segments != 5 || total() != 7*1148 {
		t.Fatalf("removed %+v %v, total %d", r, err, total())
	}
	// Oldest first across partitions: rounds 0 and 1 of partitions 0,1 went
	// first, then partition 2's round 0.
	wantFirst := []uint64{14, 14, 7}
	for i, p := range parts {
		if got := p.FirstOffset(); got != wantFirst[i] {
			t.Fatalf("partition %d first offset %d, want %d", i, got, wantFirst[i])
		}
	}
	// Only active segments left: nothing more to delete, no endless loop.
	r, _ = EnforceMaxSize(parts, 1024)
	if r.Segments != 7 || total() != 0 {
		t.Fatalf("removed %+v, total %d", r, total())
	}
}

func TestPurge(t *testing.T) {
	dir := t.TempDir()
	p := segmented(t, dir, 3, nil)
	mustAppend(t, p, makeBatch(2, 10, 0), 2)
	p.StoreOffset(Consumer, 1, 5)
	p.StoreOffset(ConsumerGroup, 2, 9)
	if err := p.Purge(); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.FirstOffset != 0 || st.NextOffset != 0 || st.MessagesCount != 0 || st.SizeBytes != 0 || st.SegmentsCount != 1 {
		t.Fatalf("stats after purge %+v", st)
	}
	if _, ok := p.Offset(Consumer, 1); ok {
		t.Fatal("consumer offset survived purge")
	}
	if len(p.Offsets()) != 0 {
		t.Fatal("offsets survived purge")
	}
	if r := mustAppend(t, p, makeBatch(2, 10, 0), 2); r.FirstOffset != 0 {
		t.Fatalf("first offset after purge %d", r.FirstOffset)
	}
	p.StoreOffset(Consumer, 1, 1)
	p.Close()
	p = mustOpen(t, dir, Config{SegmentSize: 1024})
	defer p.Close()
	if st := p.Stats(); st.NextOffset != 2 || st.SegmentsCount != 1 {
		t.Fatalf("after reopen %+v", st)
	}
	if off, ok := p.Offset(Consumer, 1); !ok || off != 1 {
		t.Fatalf("offset after purge+store+reopen %d %v", off, ok)
	}
	if _, ok := p.Offset(ConsumerGroup, 2); ok {
		t.Fatal("purged group offset came back")
	}
	buf, n, err := p.Read(nil, 0, 10)
	if err != nil || n != 2 {
		t.Fatal(n, err)
	}
	checkFrames(t, buf, 0, 2)
}

func TestOldestSealedSegment(t *testing.T) {
	p := segmented(t, t.TempDir(), 0, nil)
	defer p.Close()
	if _, ok := p.OldestSealedSegment(); ok {
		t.Fatal("sealed segment in an empty partition")
	}
	if r, err := p.DeleteOldestSegment(); err != nil || r.Segments != 0 {
		t.Fatal("deleted the active segment")
	}
	mustAppend(t, p, makeBatch(7, 100, 0), 7)
	si, ok := p.OldestSealedSegment()
	if !ok || si.StartOffset != 0 || si.EndOffset != 7 || !si.Sealed || si.FirstTimestamp == 0 {
		t.Fatalf("%+v %v", si, ok)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DeleteOldestSegment(); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}
