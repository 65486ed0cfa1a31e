//go:build unix

package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/iggy"
	"github.com/ims-dev/ims/internal/iggy/wire"
)

// TestChaosCrash is the chaos test's crash case: producers send with every
// partitioning to a server process with fsync=always and tiny segments, the
// server is killed with SIGKILL mid-stream and restarted on the same data,
// and invariant 1 must hold: every acknowledged message exactly once, with
// a valid checksum, in send order per producer per partition; a batch in
// flight at the kill whole or absent. Offsets then continue where the log
// ends. IMS_CHAOS_SEEDS=N runs N random seeds.
func TestChaosCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns server processes")
	}
	seeds := []uint64{1, 2}
	if n, _ := strconv.Atoi(os.Getenv("IMS_CHAOS_SEEDS")); n > 0 {
		seeds = make([]uint64, n)
		base := uint64(time.Now().UnixNano())
		for i := range seeds {
			seeds[i] = base + uint64(i)
		}
	}
	for _, seed := range seeds {
		if !t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runChaosCrash(t, seed) }) {
			t.Logf("reproduce with: go test ./internal/iggy/server -run 'TestChaosCrash/seed=%d$'", seed)
			return
		}
	}
}

func runChaosCrash(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x2026))
	t.Setenv(childSegmentEnv, strconv.Itoa(2<<10+rng.IntN(6<<10)))
	dir := t.TempDir()
	child, addr := startChild(t, dir)
	var cur atomic.Value
	cur.Store(addr)
	ctx := context.Background()
	dial := func(retries int) (*iggy.Client, error) {
		d := net.Dialer{}
		return iggy.Dial(ctx, iggy.Config{Addr: addr, Username: "iggy", Password: "iggy", PingInterval: -1,
			RequestTimeout: 20 * time.Second, MaxRetries: retries, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, cur.Load().(string))
			}})
	}
	admin, err := dial(50)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	st, err := admin.CreateStream(ctx, "chaos")
	if err != nil {
		t.Fatal(err)
	}
	sID := wire.NumericID(st.ID)
	tp, err := admin.CreateTopic(ctx, sID, iggy.TopicConfig{Name: "data", Partitions: chaosPartitions})
	if err != nil {
		t.Fatal(err)
	}
	dID := wire.NumericID(tp.ID)

	log := &chaosLog{producersOnly: true, seen: map[[2]uint64][2]uint64{}}
	killAt := int64(100 + rng.IntN(400))
	var acked atomic.Int64
	var killOnce sync.Once
	killed := make(chan struct{})
	kill := func() {
		killOnce.Do(func() {
			close(killed) // first, so no producer sees the kill's errors before it
			_ = child.Process.Signal(syscall.SIGKILL)
		})
	}
	// No retries: after the kill a producer's call fails and it stops.
	// All connect before any sends, so none dials a killed server.
	producers := make([]*iggy.Client, chaosProducers)
	for p := range producers {
		c, err := dial(-1)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		producers[p] = c
	}
	var wg sync.WaitGroup
	for p, c := range producers {
		prng := rand.New(rand.NewPCG(seed, uint64(100+p)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			msgs := make([]iggy.Message, 0, 16)
			for seq := 0; ; {
				n := 1 + prng.IntN(12)
				msgs = msgs[:0]
				for i := 0; i < n; i++ {
					msgs = append(msgs, iggy.Message{ID: chaosID(seed, p, seq+i), Payload: chaosPayload(p, seq+i)})
				}
				batch := chaosBatch{producer: p, first: seq, n: n, partition: -1, key: -1}
				var part wire.Partitioning
				switch prng.IntN(3) {
				case 0:
					part = wire.Balanced()
				case 1:
					batch.partition = prng.IntN(chaosPartitions)
					part = wire.PartitionID(uint32(batch.partition))
				default:
					batch.key = prng.IntN(5)
					part = wire.MessagesKey([]byte{'k', byte('0' + batch.key)})
				}
				err := c.SendMessages(ctx, sID, dID, part, msgs...)
				batch.acked = err == nil
				log.mu.Lock()
				log.batches = append(log.batches, batch)
				log.mu.Unlock()
				if err != nil {
					select {
					case <-killed:
					default:
						log.errorf("producer %d before the kill: %v", p, err)
					}
					return
				}
				seq += n
				if acked.Add(int64(n)) >= killAt {
					kill()
				}
			}
		}()
	}
	wg.Wait()
	kill()
	_ = child.Wait()

	_, addr = startChild(t, dir)
	cur.Store(addr)
	chaosCheck(t, ctx, admin, sID, dID, wire.Identifier{}, seed, log)
	// Offsets continue after the recovered end of each partition.
	d, found, err := admin.Topic(ctx, sID, dID)
	if err != nil || !found {
		t.Fatalf("topic after restart: found=%v %v", found, err)
	}
	for _, p := range d.Partitions {
		want := p.CurrentOffset + 1
		if p.MessagesCount == 0 {
			want = 0
		}
		if err := admin.SendMessages(ctx, sID, dID, wire.PartitionID(p.ID), iggy.Message{Payload: []byte("after")}); err != nil {
			t.Fatal(err)
		}
		var polled iggy.Polled
		err := admin.Poll(ctx, &iggy.PollRequest{Consumer: wire.NewConsumer(wire.NumericID(1)), TopicRef: wire.TopicRef{Stream: sID, Topic: dID},
			Partition: wire.SomePartition(p.ID), Strategy: wire.PollFromLast(), Count: 1}, &polled)
		if err != nil {
			t.Fatal(err)
		}
		if len(polled.Messages) != 1 || polled.Messages[0].Offset != want || string(polled.Messages[0].Payload) != "after" {
			t.Errorf("partition %d: the first message after recovery is not at offset %d: %+v", p.ID, want, polled.Messages)
		}
	}
}
