package storage

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// checkFrames verifies that b holds frames with offsets from..from+n-1 whose
// checksums are valid.
func checkFrames(t testing.TB, b []byte, from uint64, n int) {
	t.Helper()
	fs := splitFrames(t, b)
	if len(fs) != n {
		t.Fatalf("got %d frames, want %d", len(fs), n)
	}
	for i, f := range fs {
		if FrameOffset(f) != from+uint64(i) {
			t.Fatalf("frame %d has offset %d, want %d", i, FrameOffset(f), from+uint64(i))
		}
		if Checksum(f) != leU64(f) {
			t.Fatalf("frame %d checksum mismatch", i)
		}
	}
}

func leU64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func TestAppendReadAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{SegmentSize: 4096, Fsync: FsyncNever, Now: steppingClock(time.Unix(1700000000, 0), time.Millisecond)}
	p := mustOpen(t, dir, cfg)
	var payloads [][]byte
	next := uint64(0)
	for i := 0; i < 50; i++ {
		n := 1 + i%7
		b := makeBatch(n, 10+i*3, byte(i))
		for _, f := range splitFrames(t, b) {
			payloads = append(payloads, append([]byte{}, f[HeaderSize:]...))
		}
		r := mustAppend(t, p, b, n)
		if r.FirstOffset != next || r.LastOffset != next+uint64(n)-1 || r.Count != uint32(n) {
			t.Fatalf("batch %d: %+v, next %d", i, r, next)
		}
		next += uint64(n)
	}
	if p.Segments() < 5 {
		t.Fatalf("only %d segments", p.Segments())
	}
	for _, si := range p.SegmentInfos()[:p.Segments()-1] {
		if si.SizeBytes < 4096 {
			t.Fatalf("sealed segment below the segment size: %+v", si)
		}
	}
	check := func(p *Partition) {
		t.Helper()
		// Every window, including ones spanning segment boundaries.
		for from := uint64(0); from < next; from += 3 {
			for _, count := range []uint32{1, 2, 17, 1000} {
				buf, n, err := p.Read(nil, from, count)
				if err != nil {
					t.Fatalf("read %d+%d: %v", from, count, err)
				}
				want := min(uint64(count), next-from)
				if uint64(n) != want {
					t.Fatalf("read %d+%d: %d frames, want %d", from, count, n, want)
				}
				checkFrames(t, buf, from, int(n))
				for i, f := range splitFrames(t, buf) {
					if !bytes.Equal(f[HeaderSize:], payloads[from+uint64(i)]) {
						t.Fatalf("offset %d: payload differs", from+uint64(i))
					}
				}
			}
		}
	}
	check(p)
	st := p.Stats()
	if st.NextOffset != next || st.CurrentOffset != next-1 || st.MessagesCount != next || st.FirstOffset != 0 || st.SegmentsCount != p.Segments() {
		t.Fatalf("stats %+v", st)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = mustOpen(t, dir, cfg)
	defer p.Close()
	if r := p.Recovery(); !r.CleanShutdown || r.SegmentsScanned != 0 || len(r.Actions) != 0 {
		t.Fatalf("recovery after clean close: %+v", r)
	}
	if got := p.Stats(); got != st {
		t.Fatalf("stats after reopen %+v, want %+v", got, st)
	}
	check(p)
	// Appends continue where they left off.
	r := mustAppend(t, p, makeBatch(3, 5, 0), 3)
	if r.FirstOffset != next {
		t.Fatalf("first offset after reopen %d, want %d", r.FirstOffset, next)
	}
}

func TestReadEdges(t *testing.T) {
	p := mustOpen(t, t.TempDir(), Config{Fsync: FsyncNever})
	defer p.Close()
	if buf, n, err := p.Read(nil, 0, 10); err != nil || n != 0 || len(buf) != 0 {
		t.Fatalf("empty read: %d %v", n, err)
	}
	if buf, n, err := p.ReadLast(nil, 10); err != nil || n != 0 || len(buf) != 0 {
		t.Fatalf("empty last: %d %v", n, err)
	}
	st := p.Stats()
	if st.CurrentOffset != 0 || st.NextOffset != 0 || st.MessagesCount != 0 || st.SegmentsCount != 1 {
		t.Fatalf("empty stats %+v", st)
	}
	mustAppend(t, p, makeBatch(10, 20, 1), 10)
	prefix := []byte("keep")
	buf, n, err := p.Read(prefix, 4, 3)
	if err != nil || n != 3 || !bytes.Equal(buf[:4], []byte("keep")) {
		t.Fatalf("read with prefix: %d %v", n, err)
	}
	checkFrames(t, buf[4:], 4, 3)
	if _, n, _ := p.Read(nil, 10, 5); n != 0 {
		t.Fatalf("read at next offset: %d", n)
	}
	if _, n, _ := p.Read(nil, 1<<60, 5); n != 0 {
		t.Fatalf("read far past end: %d", n)
	}
	if _, n, _ := p.Read(nil, 3, 0); n != 0 {
		t.Fatalf("count 0: %d", n)
	}
	buf, n, _ = p.ReadFirst(nil, 2)
	checkFrames(t, buf, 0, int(n))
	if n != 2 {
		t.Fatalf("first: %d", n)
	}
	buf, n, _ = p.ReadLast(nil, 4)
	if n != 4 {
		t.Fatalf("last: %d", n)
	}
	checkFrames(t, buf, 6, 4)
	buf, n, _ = p.ReadLast(nil, 100)
	checkFrames(t, buf, 0, 10)
	_ = n
}

func TestTimestamps(t *testing.T) {
	base := time.UnixMicro(goldenT)
	now := base
	cfg := Config{SegmentSize: 2048, Fsync: FsyncNever, Now: func() time.Time { return now }}
	p := mustOpen(t, t.TempDir(), cfg)
	defer p.Close()
	var stamps []uint64 // per batch
	for i := 0; i < 40; i++ {
		now = base.Add(time.Duration(i) * time.Second)
		if i == 20 {
			now = base // the clock steps back: stamps must not
		}
		r := mustAppend(t, p, makeBatch(5, 30, byte(i)), 5)
		stamps = append(stamps, r.Timestamp)
		if i > 0 && r.Timestamp < stamps[i-1] {
			t.Fatalf("timestamp went back at batch %d", i)
		}
	}
	if stamps[20] != stamps[19] {
		t.Fatalf("clock step back not clamped: %d vs %d", stamps[20], stamps[19])
	}
	for i, ts := range stamps {
		off, ok, err := p.OffsetAtTimestamp(ts)
		// The first batch carrying ts (batch 19 and 20 share one).
		want := uint64(i) * 5
		if i == 20 {
			want = 19 * 5
		}
		if err != nil || !ok || off != want {
			t.Fatalf("batch %d ts %d: offset %d %v %v, want %d", i, ts, off, ok, err, want)
		}
		buf, n, err := p.ReadTimestamp(nil, ts+1, 3)
		if err != nil {
			t.Fatal(err)
		}
		if i < 39 && i != 19 {
			checkFrames(t, buf, uint64(i+1)*5, int(n))
		}
	}
	if _, ok, _ := p.OffsetAtTimestamp(stamps[39] + 1); ok {
		t.Fatal("found a message after the last timestamp")
	}
	if off, ok, _ := p.OffsetAtTimestamp(0); !ok || off != 0 {
		t.Fatalf("ts 0: %d %v", off, ok)
	}
	st := p.Stats()
	if st.LastTimestamp != stamps[39] {
		t.Fatalf("last timestamp %d", st.LastTimestamp)
	}
}

func TestBatchLargerThanSegmentStaysWhole(t *testing.T) {
	p := mustOpen(t, t.TempDir(), Config{SegmentSize: 1024, Fsync: FsyncNever})
	defer p.Close()
	mustAppend(t, p, makeBatch(3, 900, 0), 3) // 2892 bytes
	mustAppend(t, p, makeBatch(1, 10, 0), 1)
	infos := p.SegmentInfos()
	if len(infos) != 2 || infos[0].EndOffset != 3 || !infos[0].Sealed || infos[1].StartOffset != 3 || infos[1].EndOffset != 4 {
		t.Fatalf("segments %+v", infos)
	}
	buf, n, err := p.Read(nil, 0, 10)
	if err != nil || n != 4 {
		t.Fatal(n, err)
	}
	checkFrames(t, buf, 0, 4)
}

func TestInvalidAppendChangesNothing(t *testing.T) {
	p := mustOpen(t, t.TempDir(), Config{Fsync: FsyncNever})
	defer p.Close()
	mustAppend(t, p, makeBatch(2, 10, 0), 2)
	before := p.Stats()
	bad := makeBatch(2, 10, 0)
	bad[hdrReserved] = 9
	if _, err := p.Append(bad, 2); !errors.Is(err, ErrInvalidReservedField) {
		t.Fatal(err)
	}
	if _, err := p.Append(makeBatch(2, 10, 0), 3); !errors.Is(err, ErrInvalidMessagesCount) {
		t.Fatal(err)
	}
	if got := p.Stats(); got != before {
		t.Fatalf("stats changed: %+v", got)
	}
	if r := mustAppend(t, p, makeBatch(1, 10, 0), 1); r.FirstOffset != 2 {
		t.Fatalf("next offset %d", r.FirstOffset)
	}
}

func TestClosedPartition(t *testing.T) {
	p := mustOpen(t, t.TempDir(), Config{})
	mustAppend(t, p, makeBatch(1, 1, 0), 1)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal("second close:", err)
	}
	if _, err := p.Append(makeBatch(1, 1, 0), 1); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, _, err := p.Read(nil, 0, 1); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, _, err := p.ReadLast(nil, 1); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, _, err := p.ReadTimestamp(nil, 0, 1); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, _, err := p.OffsetAtTimestamp(0); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := p.Flush(true); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, err := p.DeleteSegments(1); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := p.Purge(); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := p.StoreOffset(Consumer, 1, 0); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{SegmentSize: 10},
		{SegmentSize: MaxSegmentSize + 1},
		{Fsync: 7},
		{FsyncInterval: -time.Second},
	} {
		if _, err := Open(t.TempDir(), cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}

func TestFsyncPolicies(t *testing.T) {
	for _, pol := range []FsyncPolicy{FsyncAlways, FsyncInterval, FsyncNever} {
		t.Run(pol.String(), func(t *testing.T) {
			dir := t.TempDir()
			p := mustOpen(t, dir, Config{Fsync: pol, FsyncInterval: time.Millisecond, SegmentSize: 2048})
			for i := 0; i < 30; i++ {
				mustAppend(t, p, makeBatch(4, 40, byte(i)), 4)
			}
			if err := p.Flush(true); err != nil {
				t.Fatal(err)
			}
			if err := p.Flush(false); err != nil {
				t.Fatal(err)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			p = mustOpen(t, dir, Config{Fsync: pol})
			defer p.Close()
			buf, n, err := p.Read(nil, 0, 1000)
			if err != nil || n != 120 {
				t.Fatal(n, err)
			}
			checkFrames(t, buf, 0, 120)
		})
	}
}

func TestIntervalSyncClearsDirty(t *testing.T) {
	p := mustOpen(t, t.TempDir(), Config{Fsync: FsyncInterval, FsyncInterval: time.Millisecond})
	defer p.Close()
	mustAppend(t, p, makeBatch(2, 10, 0), 2)
	deadline := time.Now().Add(10 * time.Second)
	for p.active.dirty.Load() {
		if time.Now().After(deadline) {
			t.Fatal("background fsync never ran")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestReadReusedBufferDoesNotAllocate(t *testing.T) {
	p := mustOpen(t, t.TempDir(), Config{Fsync: FsyncNever, SegmentSize: 64 << 10})
	defer p.Close()
	for i := 0; i < 20; i++ {
		mustAppend(t, p, makeBatch(100, 100, byte(i)), 100)
	}
	buf := make([]byte, 0, 1<<20)
	allocs := testing.AllocsPerRun(50, func() {
		var err error
		buf, _, err = p.Read(buf[:0], 150, 1000)
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Read allocates %.1f times per call", allocs)
	}
	// Appends between segment rolls allocate nothing, random ids included.
	q := mustOpen(t, t.TempDir(), Config{Fsync: FsyncNever})
	defer q.Close()
	batch := makeBatch(100, 100, 0)
	zeroIDs := make([]byte, 0, len(batch))
	for _, f := range splitFrames(t, batch) {
		zeroIDs = appendFrame(zeroIDs, 0, f[HeaderSize:], nil)
	}
	mustAppend(t, q, zeroIDs, 100)
	allocs = testing.AllocsPerRun(50, func() {
		b := batch
		if _, err := q.Append(b, 100); err != nil {
			t.Fatal(err)
		}
		for pos := 0; pos < len(zeroIDs); pos += int(frameLen(zeroIDs[pos:])) {
			clear(zeroIDs[pos+hdrID : pos+hdrID+16])
		}
		if _, err := q.Append(zeroIDs, 100); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Append allocates %.1f times per call", allocs)
	}
}
