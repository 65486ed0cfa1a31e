package storage

import (
	"sync"
	"testing"
	"time"
)

// TestConcurrentOffsetSync: found by the server chaos test under -race (a
// graceful shutdown's Flush racing the FsyncInterval loop). Two offset
// syncs at once shared one scratch list: the second rebuilt it while the
// first was still walking it outside the lock, so the first could fsync
// the second's files instead of its own, whose dirty marks it had already
// cleared — offsets acknowledged as stored were never fsynced. The race
// detector reports the shared list (run with -race).
func TestConcurrentOffsetSync(t *testing.T) {
	p := mustOpen(t, t.TempDir(), Config{Fsync: FsyncInterval, FsyncInterval: time.Hour})
	mustAppend(t, p, makeBatch(10, 10, 0), 10)
	for round := 0; round < 50; round++ {
		for id := uint32(1); id <= 8; id++ {
			if err := p.StoreOffset(Consumer, id, uint64(round%10)); err != nil {
				t.Fatal(err)
			}
		}
		// Two flushes while offsets keep being stored, so each finds
		// dirty files.
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for range 5 {
					if err := p.Flush(true); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Go(func() {
			for id := uint32(1); id <= 64; id++ {
				if err := p.StoreOffset(Consumer, 1+id%8, uint64(id%10)); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Wait()
	}
}
