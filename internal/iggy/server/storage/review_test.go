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
