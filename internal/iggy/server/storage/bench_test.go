package storage

import (
	"fmt"
	"testing"
)

// benchBatch is 1000 frames with 100-byte payloads (164 bytes each), ids set
// by the producer (zeroIDs false) or left 0 for the server to assign.
func benchBatch(zeroIDs bool) []byte {
	b := makeBatch(1000, 100, 7)
	if zeroIDs {
		for pos := 0; pos < len(b); pos += int(frameLen(b[pos:])) {
			clear(b[pos+hdrID : pos+hdrID+16])
		}
	}
	return b
}

func BenchmarkAppend(b *testing.B) {
	for _, pol := range []FsyncPolicy{FsyncNever, FsyncInterval, FsyncAlways} {
		for _, serverIDs := range []bool{false, true} {
			name := fmt.Sprintf("fsync=%s/ids=client", pol)
			if serverIDs {
				name = fmt.Sprintf("fsync=%s/ids=server", pol)
			}
			b.Run(name, func(b *testing.B) {
				p := mustOpen(b, b.TempDir(), Config{Fsync: pol})
				defer p.Close()
				batch := benchBatch(serverIDs)
				b.SetBytes(int64(len(batch)))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if serverIDs {
						// Append stamped ids into the batch; zero them again
						// (timed: about 1µs per 1000 frames).
						for pos := 0; pos < len(batch); pos += HeaderSize + 100 {
							clear(batch[pos+hdrID : pos+hdrID+16])
						}
					}
					if _, err := p.Append(batch, 1000); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer() // the deferred Close fsyncs everything: not an append cost
				b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

// fill appends n batches of 1000 messages.
func fill(b *testing.B, p *Partition, n int) {
	batch := benchBatch(false)
	for i := 0; i < n; i++ {
		if _, err := p.Append(batch, 1000); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	p := mustOpen(b, b.TempDir(), Config{Fsync: FsyncNever, SegmentSize: 16 << 20})
	defer p.Close()
	fill(b, p, 200) // 200k messages over 3 segments
	buf := make([]byte, 0, 1<<20)
	next := p.NextOffset()
	b.SetBytes(1000 * 164)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		off := uint64(i*1000+i%997) % (next - 1000)
		var n uint32
		var err error
		buf, n, err = p.Read(buf[:0], off, 1000)
		if err != nil || n != 1000 {
			b.Fatal(n, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkReadTail(b *testing.B) {
	// A consumer keeping up: reads the newest 1000 messages of the active segment.
	p := mustOpen(b, b.TempDir(), Config{Fsync: FsyncNever})
	defer p.Close()
	fill(b, p, 10)
	buf := make([]byte, 0, 1<<20)
	b.SetBytes(1000 * 164)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var n uint32
		var err error
		buf, n, err = p.ReadLast(buf[:0], 1000)
		if err != nil || n != 1000 {
			b.Fatal(n, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkOffsetAtTimestamp(b *testing.B) {
	p := mustOpen(b, b.TempDir(), Config{Fsync: FsyncNever, SegmentSize: 16 << 20})
	defer p.Close()
	fill(b, p, 200)
	infos := p.SegmentInfos()
	ts := (infos[1].FirstTimestamp + infos[1].LastTimestamp) / 2
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok, err := p.OffsetAtTimestamp(ts); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkStoreOffset(b *testing.B) {
	for _, pol := range []FsyncPolicy{FsyncNever, FsyncAlways} {
		b.Run("fsync="+pol.String(), func(b *testing.B) {
			p := mustOpen(b, b.TempDir(), Config{Fsync: pol})
			defer p.Close()
			fill(b, p, 1)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.StoreOffset(ConsumerGroup, 1, uint64(i%1000)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRecoveryScan(b *testing.B) {
	// Opening after a crash reads and checksums the whole active segment.
	dir := b.TempDir()
	p := mustOpen(b, dir, Config{Fsync: FsyncNever})
	fill(b, p, 200)
	size := p.SizeBytes()
	crash(b, p)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := Open(dir, Config{Fsync: FsyncNever})
		if err != nil {
			b.Fatal(err)
		}
		if p.Recovery().SegmentsScanned != 1 {
			b.Fatal("no scan")
		}
		crash(b, p)
	}
	b.StopTimer()
}

func BenchmarkRetentionNothingDue(b *testing.B) {
	// The server checks retention after every append; the common answer is
	// "nothing to delete" and must be cheap.
	p := mustOpen(b, b.TempDir(), Config{Fsync: FsyncNever, SegmentSize: 1 << 20})
	defer p.Close()
	fill(b, p, 20)
	parts := []*Partition{p}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r, err := p.DeleteExpired(goldenT, 1); err != nil || r.Segments != 0 {
			b.Fatal(r, err)
		}
		if r, err := EnforceMaxSize(parts, 1<<40); err != nil || r.Segments != 0 {
			b.Fatal(r, err)
		}
	}
}
