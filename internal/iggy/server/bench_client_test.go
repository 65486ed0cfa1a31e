package server_test

import (
	"context"
	"testing"

	"github.com/ims-dev/ims/internal/iggy"
	"github.com/ims-dev/ims/internal/iggy/server"
	"github.com/ims-dev/ims/internal/iggy/wire"
)

// End-to-end throughput with the ims client over loopback TCP: 100-byte
// messages in batches of 1000, one producer or consumer connection.

const (
	batchLen   = 1000
	payloadLen = 100
)

func benchTopic(b *testing.B, cfg server.Config) (*iggy.Client, wire.Identifier, wire.Identifier) {
	b.Helper()
	srv := serve(b, cfg)
	c := dial(b, srv, "iggy", "iggy")
	ctx := context.Background()
	st, err := c.CreateStream(ctx, "bench")
	must(b, err)
	td, err := c.CreateTopic(ctx, id(st.ID), iggy.TopicConfig{Name: "t", Partitions: 1})
	must(b, err)
	return c, id(st.ID), id(td.ID)
}

func newBenchBatch(stream, topic wire.Identifier) *wire.Batch {
	batch := iggy.NewBatch(stream, topic, wire.PartitionID(0), batchLen)
	payload := make([]byte, payloadLen)
	for i := 0; i < batchLen; i++ {
		payload[0] = byte(i)
		if err := batch.Add(wire.MessageID{}, 0, payload, nil); err != nil {
			panic(err)
		}
	}
	return batch
}

func benchClientSend(b *testing.B, cfg server.Config) {
	c, stream, topic := benchTopic(b, cfg)
	batch := newBenchBatch(stream, topic)
	ctx := context.Background()
	b.SetBytes(batchLen * payloadLen)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.Send(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*batchLen)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkClientSendFsyncNever(b *testing.B) {
	benchClientSend(b, server.Config{DataDir: b.TempDir(), Fsync: server.FsyncNever})
}

func BenchmarkClientSendFsyncAlways(b *testing.B) {
	benchClientSend(b, server.Config{DataDir: b.TempDir(), Fsync: server.FsyncAlways})
}

func BenchmarkClientSendInMemory(b *testing.B) { benchClientSend(b, server.Config{}) }

func benchClientPoll(b *testing.B, cfg server.Config) {
	c, stream, topic := benchTopic(b, cfg)
	batch := newBenchBatch(stream, topic)
	ctx := context.Background()
	const stored = 200
	for i := 0; i < stored; i++ {
		must(b, c.Send(ctx, batch))
	}
	req := &iggy.PollRequest{Consumer: wire.NewConsumer(id(1)), TopicRef: wire.TopicRef{Stream: stream, Topic: topic},
		Partition: wire.SomePartition(0), Count: batchLen}
	var p iggy.Polled
	b.SetBytes(batchLen * payloadLen)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req.Strategy = wire.PollFromOffset(uint64(i%stored) * batchLen)
		if err := c.Poll(ctx, req, &p); err != nil {
			b.Fatal(err)
		}
		if len(p.Messages) != batchLen {
			b.Fatalf("polled %d", len(p.Messages))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*batchLen)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkClientPollFsyncNever(b *testing.B) {
	benchClientPoll(b, server.Config{DataDir: b.TempDir(), Fsync: server.FsyncNever})
}

func BenchmarkClientPollFsyncAlways(b *testing.B) {
	benchClientPoll(b, server.Config{DataDir: b.TempDir(), Fsync: server.FsyncAlways})
}
