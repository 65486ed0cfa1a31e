package storage

import (
	"os"
	"testing"
)

// A crash can lose the tail of the log while the consumer offsets (separate
// files, flushed on their own) survive. Offsets past the recovered end must
// not make consumers skip the messages appended after the restart, which
// reuse those offsets.
func TestRecoveryClampsOffsetsPastTheEnd(t *testing.T) {
	for _, tc := range []struct {
		name string
		keep int // messages left in the log after the crash
	}{{"tail lost", 4}, {"everything lost", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{Fsync: FsyncNever}
			p := mustOpen(t, dir, cfg)
			mustAppend(t, p, makeBatch(10, 10, 0), 10)
			for _, o := range []struct {
				kind ConsumerKind
				off  uint64
			}{{Consumer, 9}, {ConsumerGroup, 5}, {Consumer, 1}} {
				id := uint32(o.off)
				if err := p.StoreOffset(o.kind, id, o.off); err != nil {
					t.Fatal(err)
				}
			}
			logPath := p.SegmentInfos()[0].Path
			crash(t, p)
			frame := int64(HeaderSize + 10)
			if err := os.Truncate(logPath, int64(tc.keep)*frame); err != nil {
				t.Fatal(err)
			}
			p = mustOpen(t, dir, cfg)
			defer p.Close()
			if n := p.NextOffset(); n != uint64(tc.keep) {
				t.Fatalf("recovered next offset %d, want %d", n, tc.keep)
			}
			for _, c := range []struct {
				kind ConsumerKind
				id   uint32
				was  uint64
			}{{Consumer, 9, 9}, {ConsumerGroup, 5, 5}, {Consumer, 1, 1}} {
				off, ok := p.Offset(c.kind, c.id)
				switch {
				case c.was < uint64(tc.keep):
					if !ok || off != c.was {
						t.Errorf("%v %d: offset %d %v, want the intact %d", c.kind, c.id, off, ok, c.was)
					}
				case tc.keep == 0:
					if ok {
						t.Errorf("%v %d: offset %d kept in an empty partition", c.kind, c.id, off)
					}
				default:
					if !ok || off != uint64(tc.keep-1) {
						t.Errorf("%v %d: offset %d %v, want %d (the last recovered message)", c.kind, c.id, off, ok, tc.keep-1)
					}
				}
			}
			if len(p.Recovery().Actions) == 0 {
				t.Error("recovery reports no action")
			}
			// Reopening keeps the corrected offsets (they were rewritten).
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			p = mustOpen(t, dir, cfg)
			if off, ok := p.Offset(Consumer, 9); tc.keep > 0 && (!ok || off != uint64(tc.keep-1)) || tc.keep == 0 && ok {
				t.Errorf("after reopen: consumer 9 offset %d %v", off, ok)
			}
		})
	}
}

// ReadMax stops at the byte budget, across segments, and always returns at
// least one frame.
func TestReadMaxBoundsBytes(t *testing.T) {
	p := mustOpen(t, t.TempDir(), Config{SegmentSize: 1024})
	defer p.Close()
	const size = HeaderSize + 100
	for i := 0; i < 30; i++ {
		mustAppend(t, p, makeBatch(1, 100, byte(i)), 1)
	}
	if p.Segments() < 3 {
		t.Fatalf("%d segments, want several", p.Segments())
	}
	for _, tc := range []struct {
		from     uint64
		count    uint32
		max, n   int
		wantNext uint64
	}{
		{0, 30, 5 * size, 5, 5},
		{3, 30, 5*size + size - 1, 5, 8},
		{0, 30, 1, 1, 1},            // one frame even when it is larger
		{0, 30, 0, 30, 30},          // no limit
		{25, 30, 100 * size, 5, 30}, // fewer stored than the budget allows
		{0, 2, 100 * size, 2, 2},
		{7, 30, 12 * size, 12, 19}, // crosses segment boundaries
	} {
		b, n, err := p.ReadMax(nil, tc.from, tc.count, tc.max)
		if err != nil {
			t.Fatal(err)
		}
		if int(n) != tc.n || len(b) != tc.n*size {
			t.Errorf("ReadMax(%d, %d, %d): %d frames, %d bytes; want %d frames", tc.from, tc.count, tc.max, n, len(b), tc.n)
			continue
		}
		fs := splitFrames(t, b)
		if got := FrameOffset(fs[len(fs)-1]) + 1; got != tc.wantNext {
			t.Errorf("ReadMax(%d, %d, %d) ends before %d, want %d", tc.from, tc.count, tc.max, got, tc.wantNext)
		}
	}
}
