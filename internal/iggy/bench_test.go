package iggy

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// okPeer answers every request with the same canned reply as fast as it
// can, so benchmarks measure the client's own overhead (plus loopback TCP).
func okPeer(b *testing.B, resp func(code wire.Command) []byte) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	b.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 1<<20)
				b.Cleanup(func() { c.Close() })
				for {
					if _, err := io.ReadFull(c, buf[:8]); err != nil {
						return
					}
					n, code, err := wire.ParseRequestHeader(buf[:8])
					if err != nil {
						return
					}
					if n > len(buf) {
						buf = make([]byte, n)
					}
					if _, err := io.ReadFull(c, buf[:n]); err != nil {
						return
					}
					if _, err := c.Write(resp(code)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func benchClient(b *testing.B, addr string) *Client {
	c, err := Dial(context.Background(), Config{Addr: addr, Username: "iggy", Password: "iggy", PingInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

var (
	okEmpty = wire.AppendResponse(nil, nil)
	okLogin = wire.AppendResponse(nil, []byte{0, 0, 0, 0})
)

func simpleResp(code wire.Command) []byte {
	if code == wire.CmdLoginUser {
		return okLogin
	}
	return okEmpty
}

// BenchmarkSendBatch1000x100 builds and sends a batch of 1000 messages of
// 100 bytes per op and waits for the server's OK.
func BenchmarkSendBatch1000x100(b *testing.B) {
	c := benchClient(b, okPeer(b, simpleResp))
	ctx := context.Background()
	payload := make([]byte, 100)
	batch := NewBatch(Name("binance-spot"), Name("trade"), wire.Balanced(), 1000)
	b.SetBytes(1000 * 100)
	b.ReportAllocs()
	for b.Loop() {
		batch.Reset(Name("binance-spot"), Name("trade"), wire.Balanced())
		for i := 0; i < 1000; i++ {
			if err := batch.Add(wire.MessageID{Lo: uint64(i + 1)}, 1, payload, nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := c.Send(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkPing is one lock-step round trip with an empty reply.
func BenchmarkPing(b *testing.B) {
	c := benchClient(b, okPeer(b, simpleResp))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Ping(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPingParallel shares one client between goroutines (calls are
// serialised on the connection).
func BenchmarkPingParallel(b *testing.B) {
	c := benchClient(b, okPeer(b, simpleResp))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := c.Ping(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPoll1000x100 polls a canned reply of 1000 messages of 100 bytes
// into a reused Polled.
func BenchmarkPoll1000x100(b *testing.B) {
	body := wire.AppendPollHeader(nil, 0, 999, 1000)
	payload := make([]byte, 100)
	for i := 0; i < 1000; i++ {
		body = wire.AppendMessage(body, wire.MessageHeader{Offset: uint64(i), Timestamp: goldenT}, payload, nil)
	}
	pollResp := wire.AppendResponse(nil, body)
	c := benchClient(b, okPeer(b, func(code wire.Command) []byte {
		if code == wire.CmdPollMessages {
			return pollResp
		}
		return simpleResp(code)
	}))
	ctx := context.Background()
	req := &PollRequest{Consumer: wire.NewConsumer(ID(1)), TopicRef: wire.TopicRef{Stream: ID(0), Topic: ID(0)},
		Partition: wire.SomePartition(0), Strategy: wire.PollFromOffset(0), Count: 1000}
	var res Polled
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Poll(ctx, req, &res); err != nil {
			b.Fatal(err)
		}
		if len(res.Messages) != 1000 {
			b.Fatal("short poll")
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkPingParallelPool2 spreads parallel callers over two clients,
// to measure what a connection pool would buy over one serialised
// connection (compare with BenchmarkPingParallel).
func BenchmarkPingParallelPool2(b *testing.B) {
	addr := okPeer(b, simpleResp)
	cs := []*Client{benchClient(b, addr), benchClient(b, addr)}
	var next atomic.Uint32
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		c := cs[next.Add(1)%2]
		ctx := context.Background()
		for pb.Next() {
			if err := c.Ping(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
