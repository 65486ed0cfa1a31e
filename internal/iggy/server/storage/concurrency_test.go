package storage

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentAppendReadRetention runs one writer against readers that
// follow the tail, readers that jump around, and retention, stats and flushes
// racing them. Payloads carry their own offset so readers can check that
// every frame they get is the right, complete message.
func TestConcurrentAppendReadRetention(t *testing.T) {
	const batches, perBatch = 300, 20
	p := mustOpen(t, t.TempDir(), Config{SegmentSize: 16 << 10, Fsync: FsyncInterval, FsyncInterval: time.Millisecond})
	defer p.Close()
	var done atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan string, 16)
	report := func(msg string) {
		select {
		case errc <- msg:
		default:
		}
	}
	verify := func(buf []byte, from uint64, n uint32) bool {
		pos := 0
		for i := uint32(0); i < n; i++ {
			f := buf[pos:]
			fl := int(frameLen(f))
			f = f[:fl]
			off := FrameOffset(f)
			if off != from+uint64(i) || binary.LittleEndian.Uint64(f[HeaderSize:]) != off || Checksum(f) != binary.LittleEndian.Uint64(f) {
				return false
			}
			pos += fl
		}
		return pos == len(buf)
	}

	wg.Add(1)
	go func() { // writer
		defer wg.Done()
		defer done.Store(true)
		next := uint64(0)
		var batch []byte
		for b := 0; b < batches; b++ {
			batch = batch[:0]
			for i := 0; i < perBatch; i++ {
				var pl [40]byte
				binary.LittleEndian.PutUint64(pl[:], next+uint64(i))
				batch = appendFrame(batch, 0, pl[:], nil)
			}
			r, err := p.Append(batch, perBatch)
			if err != nil || r.FirstOffset != next {
				report("append failed")
				return
			}
			next += perBatch
		}
	}()
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() { // tailing reader
			defer wg.Done()
			buf := make([]byte, 0, 64<<10)
			off := uint64(0)
			for {
				finished := done.Load()
				var n uint32
				var err error
				buf, n, err = p.Read(buf[:0], off, 100)
				if err != nil {
					report("tail read: " + err.Error())
					return
				}
				if n > 0 {
					first := FrameOffset(buf)
					if first < off || !verify(buf, first, n) {
						report("tail read returned bad frames")
						return
					}
					off = first + uint64(n)
				} else if finished {
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // random reader, timestamps, stats
		defer wg.Done()
		buf := make([]byte, 0, 64<<10)
		for i := uint64(0); !done.Load(); i++ {
			next := p.NextOffset()
			if next == 0 {
				continue
			}
			var n uint32
			var err error
			switch i % 3 {
			case 0:
				buf, n, err = p.Read(buf[:0], (i*7919)%next, 37)
			case 1:
				buf, n, err = p.ReadLast(buf[:0], 10)
			case 2:
				buf, n, err = p.ReadTimestamp(buf[:0], p.Stats().LastTimestamp, 5)
			}
			if err != nil {
				report("random read: " + err.Error())
				return
			}
			if n > 0 && !verify(buf, FrameOffset(buf), n) {
				report("random read returned bad frames")
				return
			}
			st := p.Stats()
			if st.MessagesCount != st.NextOffset-st.FirstOffset || st.SegmentsCount == 0 {
				report("inconsistent stats")
				return
			}
		}
	}()
	wg.Add(1)
	go func() { // retention and flushes
		defer wg.Done()
		for !done.Load() {
			cur := p.CurrentOffset()
			if err := p.StoreOffset(ConsumerGroup, 1, cur/2); err != nil {
				report("store offset: " + err.Error())
				return
			}
			if _, err := p.DeleteSegments(1); err != nil {
				report("delete segments: " + err.Error())
				return
			}
			if err := p.Flush(true); err != nil {
				report("flush: " + err.Error())
				return
			}
		}
	}()
	wg.Wait()
	close(errc)
	for msg := range errc {
		t.Error(msg)
	}
	if p.NextOffset() != batches*perBatch {
		t.Fatalf("next offset %d", p.NextOffset())
	}
}

// TestStoreOffsetRacingPurge: an offset checked against the current offset
// before a purge must not be stored after it, where it would point past the
// emptied log until the next restart.
func TestStoreOffsetRacingPurge(t *testing.T) {
	dir := t.TempDir()
	p := mustOpen(t, dir, Config{SegmentSize: 1 << 20, Fsync: FsyncNever})
	defer p.Close()
	for round := range 200 {
		mustAppend(t, p, makeBatch(10, 8, byte(round)), 10)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 20 {
				_ = p.StoreOffset(Consumer, 1, 9)
			}
		}()
		go func() {
			defer wg.Done()
			if err := p.Purge(); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		if off, ok := p.Offset(Consumer, 1); ok && off > p.CurrentOffset() {
			t.Fatalf("round %d: stored offset %d past current offset %d after a purge", round, off, p.CurrentOffset())
		}
		_ = p.DeleteOffset(Consumer, 1)
		if err := p.Purge(); err != nil {
			t.Fatal(err)
		}
	}
}
