package server

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// Benchmarks over loopback TCP with pre-built frames: they measure the
// server (framing, validation, stamping, storage, poll copies) without any
// client-side encoding cost. 100-byte messages in batches of 1000, as in the
// brief's throughput targets.

const (
	benchBatch   = 1000
	benchPayload = 100
)

func benchSetup(b *testing.B, cfg Config) (*tclient, []byte) {
	b.Helper()
	srv := startServer(b, cfg)
	c := newClient(b, srv)
	c.login("iggy", "iggy")
	s := c.createStream("bench")
	tp := c.createTopic(s, "t", 1)
	msgs := make([][]byte, benchBatch)
	for i := range msgs {
		msgs[i] = make([]byte, benchPayload)
	}
	return c, frame(wire.CmdSendMessages, sendPayload(s, tp, partitionID(0), msgs...))
}

// roundTrip writes req and discards the response, failing on a bad status.
func roundTrip(b *testing.B, conn net.Conn, req []byte, buf []byte) []byte {
	if _, err := conn.Write(req); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(conn, buf[:8]); err != nil {
		b.Fatal(err)
	}
	if st := statusOf(buf); st != nil {
		b.Fatalf("status %v", st)
	}
	n := int(binary.LittleEndian.Uint32(buf[4:]))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	if _, err := io.ReadFull(conn, buf[:n]); err != nil {
		b.Fatal(err)
	}
	return buf
}

func benchSend(b *testing.B, cfg Config) {
	c, req := benchSetup(b, cfg)
	_ = c.c.SetDeadline(time.Time{})
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(benchBatch * benchPayload))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = roundTrip(b, c.c, req, buf)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkRawSendMemory(b *testing.B) { benchSend(b, Config{}) }
func BenchmarkRawSendDiskFsyncNever(b *testing.B) {
	benchSend(b, Config{DataDir: b.TempDir(), Fsync: FsyncNever})
}
func BenchmarkRawSendDiskFsyncAlways(b *testing.B) {
	benchSend(b, Config{DataDir: b.TempDir(), Fsync: FsyncAlways})
}

func benchPoll(b *testing.B, cfg Config) {
	c, req := benchSetup(b, cfg)
	_ = c.c.SetDeadline(time.Time{})
	const batches = 100
	buf := make([]byte, 256<<10)
	for i := 0; i < batches; i++ {
		buf = roundTrip(b, c.c, req, buf)
	}
	polls := make([][]byte, batches)
	for i := range polls {
		polls[i] = frame(wire.CmdPollMessages, pollPayload(consumerOf(1), 0, 0, somePartition(0), pollOffset, uint64(i*benchBatch), benchBatch, false))
	}
	b.SetBytes(int64(benchBatch * benchPayload))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = roundTrip(b, c.c, polls[i%batches], buf)
		if n := binary.LittleEndian.Uint32(buf[12:]); n != benchBatch {
			b.Fatalf("polled %d messages", n)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkRawPollMemory(b *testing.B) { benchPoll(b, Config{}) }
func BenchmarkRawPollDisk(b *testing.B) {
	benchPoll(b, Config{DataDir: b.TempDir(), Fsync: FsyncNever})
}
