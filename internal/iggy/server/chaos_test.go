package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/iggy"
	"github.com/ims-dev/ims/internal/iggy/wire"
)

// The chaos test runs producers, consumers (single and consumer-group
// members joining and leaving), an admin churning other topics, cancelled
// calls and graceful server restarts at once against one server on disk
// with tiny segments, then checks these invariants:
//
//  1. Every message acknowledged to a producer on the data topic is in the
//     log exactly once, with a valid checksum, and a producer's
//     acknowledged batches keep its send order in each partition. A batch
//     whose outcome is unknown (cancelled, or the reply lost) is there whole
//     and contiguous, or not at all.
//     On the expiring topic the retained acknowledged messages are a
//     complete suffix of what was acknowledged.
//  2. Offsets in every partition are contiguous from the first retained
//     one; polls by offset, timestamp, first, last and next return what the
//     log holds at those offsets.
//  3. The auto-committing consumer group reads every message of the data
//     topic exactly once (no partition is owned by two members at once), and
//     the explicitly committing group reads every message at least once.
//  4. Nothing panics, Shutdown leaves no server or client goroutine behind,
//     and every reply answers its own request (partition, offsets, names).
//
// IMS_CHAOS_SEEDS=N runs N random seeds instead of the fixed ones.

// chaosFixedSeeds run in the normal suite.
var chaosFixedSeeds = []uint64{1, 2, 3, 4, 1795905847781962588}

func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test")
	}
	seeds := chaosFixedSeeds
	if n, _ := strconv.Atoi(os.Getenv("IMS_CHAOS_SEEDS")); n > 0 {
		seeds = make([]uint64, n)
		base := uint64(time.Now().UnixNano())
		for i := range seeds {
			seeds[i] = base + uint64(i)
		}
	}
	for _, seed := range seeds {
		if !t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runChaos(t, seed) }) {
			t.Logf("reproduce with: go test ./internal/iggy/server -run 'TestChaos/seed=%d$' (add the seed to chaosFixedSeeds)", seed)
			if len(seeds) > len(chaosFixedSeeds) {
				return
			}
		}
	}
}

// chaosHarness owns the server across restarts; clients dial its current
// address.
type chaosHarness struct {
	cfg  Config
	mu   sync.Mutex
	srv  *Server
	addr atomic.Value // string
}

func (h *chaosHarness) start() error {
	srv, err := New(h.cfg)
	if err != nil {
		return fmt.Errorf("new server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	h.srv = srv
	h.addr.Store(srv.Addr())
	return nil
}

// restart shuts the server down gracefully and starts a new one on the same
// data directory.
func (h *chaosHarness) restart() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return h.start()
}

func (h *chaosHarness) shutdown() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return h.srv.Shutdown(ctx)
}

func (h *chaosHarness) dial(ctx context.Context) (*iggy.Client, error) {
	d := net.Dialer{}
	return iggy.Dial(ctx, iggy.Config{
		Addr:           h.addr.Load().(string),
		Username:       "iggy",
		Password:       "iggy",
		RequestTimeout: 20 * time.Second,
		PingInterval:   -1,
		MaxRetries:     200,
		MinBackoff:     time.Millisecond,
		MaxBackoff:     20 * time.Millisecond,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, h.addr.Load().(string))
		},
	})
}

// chaosBatch is one send of a producer.
type chaosBatch struct {
	producer  int
	first, n  int // sequence numbers first..first+n-1
	partition int // -1 unless sent by partition id
	key       int // -1 unless sent by key
	acked     bool
}

// chaosLog records what the workers saw, for the checks at the end.
type chaosLog struct {
	mu       sync.Mutex
	errs     []string
	batches  []chaosBatch
	expAcked []int // sequence numbers acknowledged on the expiring topic
	// seen maps partition/offset to the id and checksum a poll returned.
	seen map[[2]uint64][2]uint64
	// groupAuto counts reads of each partition/offset by the
	// auto-committing group; groupStore by the explicitly committing one.
	groupAuto, groupStore map[[2]uint64]int
	producersOnly         bool // check invariant 1 only (the crash test)
	autoUnknown           int  // auto-commit group polls with a lost reply
	autoMaxCount          int
	tsPolls               []chaosTSPoll
}

type chaosTSPoll struct {
	partition   uint32
	ts          uint64
	firstOffset uint64
}

func (l *chaosLog) errorf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) < 20 {
		l.errs = append(l.errs, fmt.Sprintf(format, args...))
	}
}

// observe checks one poll response against its request and records what it
// returned.
func (l *chaosLog) observe(who string, req *iggy.PollRequest, p *iggy.Polled) {
	if req.Partition.Valid && len(p.Messages) > 0 && p.PartitionID != req.Partition.ID {
		l.errorf("%s: polled partition %d, reply is for partition %d", who, req.Partition.ID, p.PartitionID)
		return
	}
	for i := range p.Messages {
		m := &p.Messages[i]
		frame := wire.AppendMessage(nil, m.MessageHeader, m.Payload, m.UserHeaders)
		if wire.Checksum(frame) != m.Checksum {
			l.errorf("%s: partition %d offset %d: bad checksum", who, p.PartitionID, m.Offset)
		}
		if i > 0 && m.Offset != p.Messages[i-1].Offset+1 {
			l.errorf("%s: partition %d: offset %d follows %d in one reply", who, p.PartitionID, m.Offset, p.Messages[i-1].Offset)
		}
	}
	if n := len(p.Messages); n > 0 {
		first, last := p.Messages[0].Offset, p.Messages[n-1].Offset
		switch req.Strategy.Kind {
		case wire.PollOffset:
			// The data topic keeps everything, so the reply starts where asked.
			if first != req.Strategy.Value {
				l.errorf("%s: poll from offset %d returned offsets from %d", who, req.Strategy.Value, first)
			}
		case wire.PollFirst:
			if first != 0 {
				l.errorf("%s: poll from first returned offsets from %d", who, first)
			}
		case wire.PollLast:
			if last != p.CurrentOffset {
				l.errorf("%s: poll from last ended at %d, current offset %d", who, last, p.CurrentOffset)
			}
		case wire.PollTimestamp:
			for i := range p.Messages {
				if p.Messages[i].Timestamp < req.Strategy.Value {
					l.errorf("%s: poll from timestamp %d returned offset %d stamped %d", who, req.Strategy.Value, p.Messages[i].Offset, p.Messages[i].Timestamp)
				}
			}
		}
		if last > p.CurrentOffset {
			l.errorf("%s: offset %d past the partition's current offset %d", who, last, p.CurrentOffset)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if req.Strategy.Kind == wire.PollTimestamp && len(p.Messages) > 0 {
		l.tsPolls = append(l.tsPolls, chaosTSPoll{p.PartitionID, req.Strategy.Value, p.Messages[0].Offset})
	}
	for i := range p.Messages {
		m := &p.Messages[i]
		k := [2]uint64{uint64(p.PartitionID), m.Offset}
		v := [2]uint64{m.ID.Lo, m.Checksum}
		if old, ok := l.seen[k]; ok && old != v {
			l.errorf("%s: partition %d offset %d changed from id %x to %x", who, p.PartitionID, m.Offset, old[0], v[0])
		}
		l.seen[k] = v
	}
}

const (
	chaosPartitions = 3
	chaosProducers  = 3
)

func chaosPayload(producer, seq int) []byte {
	return fmt.Appendf(nil, "p%d-s%d-%s", producer, seq, strings.Repeat("x", (producer*7+seq*13)%90))
}

func chaosID(seed uint64, producer, seq int) wire.MessageID {
	return wire.MessageID{Lo: uint64(producer)<<32 | uint64(seq+1), Hi: seed}
}

func runChaos(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x1995))
	fsync := []FsyncMode{FsyncAlways, FsyncInterval, FsyncNever}[rng.IntN(3)]
	logs := &logBuffer{}
	h := &chaosHarness{cfg: Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), PasswordCost: 4,
		Fsync: fsync, FsyncInterval: 5 * time.Millisecond,
		SegmentSize:       uint64(2<<10 + rng.IntN(6<<10)),
		RetentionInterval: 5 * time.Millisecond,
		Logger:            slog.New(slog.NewTextHandler(logs, nil)),
	}}
	t.Logf("seed %d: fsync=%v segment=%d", seed, fsync, h.cfg.SegmentSize)
	baseG := chaosGoroutines()
	if err := h.start(); err != nil {
		t.Fatal(err)
	}
	shut := false
	defer func() {
		if !shut {
			_ = h.shutdown()
		}
	}()

	ctx := context.Background()
	admin, err := h.dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	st, err := admin.CreateStream(ctx, "chaos")
	if err != nil {
		t.Fatal(err)
	}
	sID := wire.NumericID(st.ID)
	data, err := admin.CreateTopic(ctx, sID, iggy.TopicConfig{Name: "data", Partitions: chaosPartitions})
	if err != nil {
		t.Fatal(err)
	}
	dID := wire.NumericID(data.ID)
	const expiryUS = 3000
	exp, err := admin.CreateTopic(ctx, sID, iggy.TopicConfig{Name: "exp", Partitions: 1, MessageExpiry: expiryUS})
	if err != nil {
		t.Fatal(err)
	}
	eID := wire.NumericID(exp.ID)
	for _, g := range []string{"auto", "store"} {
		if _, err := admin.CreateGroup(ctx, sID, dID, g); err != nil {
			t.Fatal(err)
		}
	}
	adm, err := admin.CreateStream(ctx, "adm")
	if err != nil {
		t.Fatal(err)
	}

	log := &chaosLog{seen: map[[2]uint64][2]uint64{}, groupAuto: map[[2]uint64]int{}, groupStore: map[[2]uint64]int{}}
	var (
		work      sync.WaitGroup // producers
		bg        sync.WaitGroup // everyone else
		clientsMu sync.Mutex
		clients   []*iggy.Client
	)
	stop := make(chan struct{})
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	// ready counts the workers still dialling: restarts wait for them, as
	// Dial itself does not retry.
	var ready sync.WaitGroup
	newClient := func(who string) *iggy.Client {
		defer ready.Done()
		c, err := h.dial(ctx)
		if err != nil {
			log.errorf("%s: dial: %v", who, err)
			return nil
		}
		clientsMu.Lock()
		clients = append(clients, c)
		clientsMu.Unlock()
		return c
	}
	// unsure reports whether err leaves a non-idempotent call's outcome
	// unknown (cancelled by us, or the connection lost mid-call).
	unsure := func(err error) bool {
		return errors.Is(err, iggy.ErrOutcomeUnknown) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	}

	// Producers.
	batchesPer := 15 + rng.IntN(15)
	for p := 0; p < chaosProducers; p++ {
		prng := rand.New(rand.NewPCG(seed, uint64(100+p)))
		work.Add(1)
		ready.Add(1)
		go func() {
			defer work.Done()
			c := newClient(fmt.Sprintf("producer %d", p))
			if c == nil {
				return
			}
			seq := 0
			msgs := make([]iggy.Message, 0, 16)
			for b := 0; b < batchesPer; b++ {
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
				cctx, cancel := ctx, context.CancelFunc(func() {})
				if prng.IntN(8) == 0 {
					cctx, cancel = context.WithTimeout(ctx, time.Duration(prng.IntN(400))*time.Microsecond)
				}
				err := c.SendMessages(cctx, sID, dID, part, msgs...)
				cancel()
				switch {
				case err == nil:
					batch.acked = true
				case unsure(err):
				default:
					log.errorf("producer %d: %v", p, err)
				}
				log.mu.Lock()
				log.batches = append(log.batches, batch)
				log.mu.Unlock()
				seq += n
			}
		}()
	}
	// A producer on the expiring topic.
	work.Add(1)
	ready.Add(1)
	go func() {
		defer work.Done()
		c := newClient("expiry producer")
		if c == nil {
			return
		}
		for seq := 0; seq < 60; seq++ {
			err := c.SendMessages(ctx, sID, eID, wire.PartitionID(0), iggy.Message{Payload: chaosPayload(9, seq)})
			if err == nil {
				log.mu.Lock()
				log.expAcked = append(log.expAcked, seq)
				log.mu.Unlock()
			} else if !unsure(err) {
				log.errorf("expiry producer: %v", err)
			}
		}
	}()

	// Single consumers polling with every strategy.
	for k := 0; k < 2; k++ {
		krng := rand.New(rand.NewPCG(seed, uint64(200+k)))
		bg.Add(1)
		ready.Add(1)
		go func() {
			defer bg.Done()
			who := fmt.Sprintf("poller %d", k)
			c := newClient(who)
			if c == nil {
				return
			}
			var polled iggy.Polled
			next := map[uint32]uint64{} // expected next offset of Next+commit polls
			tainted := map[uint32]bool{}
			consumer := wire.NewConsumer(wire.NumericID(uint32(10 + k)))
			for !stopped() {
				part := uint32(krng.IntN(chaosPartitions))
				req := iggy.PollRequest{Consumer: consumer, TopicRef: wire.TopicRef{Stream: sID, Topic: dID},
					Partition: wire.SomePartition(part), Count: uint32(1 + krng.IntN(30))}
				switch krng.IntN(5) {
				case 0:
					req.Strategy = wire.PollFromOffset(uint64(krng.IntN(40)))
				case 1:
					req.Strategy = wire.PollFromTimestamp(uint64(time.Now().Add(-time.Duration(krng.IntN(20)) * time.Millisecond).UnixMicro()))
				case 2:
					req.Strategy = wire.PollFromFirst()
				case 3:
					req.Strategy = wire.PollFromLast()
				default:
					req.Strategy = wire.PollFromNext()
					req.AutoCommit = true
				}
				cctx, cancel := ctx, context.CancelFunc(func() {})
				if krng.IntN(10) == 0 {
					cctx, cancel = context.WithTimeout(ctx, time.Duration(krng.IntN(300))*time.Microsecond)
				}
				err := c.Poll(cctx, &req, &polled)
				cancel()
				if err != nil {
					if !unsure(err) {
						log.errorf("%s: %v", who, err)
					}
					// An abandoned auto-commit poll may still commit,
					// even after later polls: stop checking this
					// partition's positions.
					tainted[part] = true
					continue
				}
				log.observe(who, &req, &polled)
				if req.AutoCommit {
					if want, ok := next[part]; ok && !tainted[part] && len(polled.Messages) > 0 && polled.Messages[0].Offset != want {
						log.errorf("%s: next poll of partition %d started at %d, committed position was %d", who, part, polled.Messages[0].Offset, want)
					}
					if n := len(polled.Messages); n > 0 {
						next[part] = polled.Messages[n-1].Offset + 1
					}
				}
			}
		}()
	}

	// Consumer group members. The auto group commits on every poll; the
	// store group stores the offset after processing.
	total := func() (uint64, error) {
		d, found, err := admin.Topic(ctx, sID, dID)
		if err != nil || !found {
			return 0, fmt.Errorf("get data topic: found=%v: %w", found, err)
		}
		if d.Name != "data" {
			return 0, fmt.Errorf("asked for topic data, got %q", d.Name)
		}
		return d.MessagesCount, nil
	}
	var producersDone atomic.Bool
	member := func(group string, m int) {
		defer bg.Done()
		mrng := rand.New(rand.NewPCG(seed, uint64(300+m)))
		who := fmt.Sprintf("group %s member %d", group, m)
		c := newClient(who)
		if c == nil {
			return
		}
		gID := wire.StringID(group)
		counts := log.groupAuto
		if group == "store" {
			counts = log.groupStore
		}
		joined := false
		var polled iggy.Polled
		for {
			if producersDone.Load() {
				// Drain: stay joined until the group has read everything.
				n, err := total()
				if err != nil {
					log.errorf("%s: %v", who, err)
					return
				}
				log.mu.Lock()
				read := len(counts)
				log.mu.Unlock()
				if uint64(read) >= n || stopped() {
					if joined {
						if err := c.LeaveGroup(ctx, sID, dID, gID); err != nil {
							log.errorf("%s: leave: %v", who, err)
						}
					}
					return
				}
				if !joined {
					if err := c.JoinGroup(ctx, sID, dID, gID); err != nil {
						log.errorf("%s: join: %v", who, err)
						return
					}
					joined = true
				}
			} else if mrng.IntN(6) == 0 {
				var err error
				if joined {
					err = c.LeaveGroup(ctx, sID, dID, gID)
				} else {
					err = c.JoinGroup(ctx, sID, dID, gID)
				}
				if err != nil {
					log.errorf("%s: join/leave: %v", who, err)
					return
				}
				joined = !joined
			}
			count := 1 + mrng.IntN(10)
			req := iggy.PollRequest{Consumer: wire.NewGroupConsumer(gID), TopicRef: wire.TopicRef{Stream: sID, Topic: dID},
				Strategy: wire.PollFromNext(), Count: uint32(count), AutoCommit: group == "auto"}
			err := c.Poll(ctx, &req, &polled)
			if err != nil {
				switch {
				case !joined && errors.Is(err, wire.ErrConsumerGroupMemberNotFound):
				case group == "auto" && errors.Is(err, iggy.ErrOutcomeUnknown):
					log.mu.Lock()
					log.autoUnknown++
					log.autoMaxCount = max(log.autoMaxCount, count)
					log.mu.Unlock()
				default:
					log.errorf("%s (joined=%v): %v", who, joined, err)
				}
				continue
			}
			if !joined && len(polled.Messages) > 0 {
				log.errorf("%s: a non-member polled %d messages", who, len(polled.Messages))
			}
			log.observe(who, &req, &polled)
			log.mu.Lock()
			for i := range polled.Messages {
				counts[[2]uint64{uint64(polled.PartitionID), polled.Messages[i].Offset}]++
			}
			log.mu.Unlock()
			if n := len(polled.Messages); n > 0 && group == "store" {
				err := c.StoreOffset(ctx, wire.NewGroupConsumer(gID), sID, dID, wire.SomePartition(polled.PartitionID), polled.Messages[n-1].Offset)
				if err != nil {
					log.errorf("%s: store offset: %v", who, err)
				}
			}
			if len(polled.Messages) == 0 && !producersDone.Load() {
				runtime.Gosched()
			}
		}
	}
	for m := 0; m < 3; m++ {
		bg.Add(2)
		ready.Add(2)
		go member("auto", m)
		go member("store", 10+m)
	}

	// Group watcher: no partition is owned by two members at once.
	bg.Add(1)
	ready.Add(1)
	go func() {
		defer bg.Done()
		c := newClient("group watcher")
		if c == nil {
			return
		}
		for !stopped() {
			for _, g := range []string{"auto", "store"} {
				d, found, err := c.Group(ctx, sID, dID, wire.StringID(g))
				if err != nil || !found {
					log.errorf("group watcher: %s: found=%v %v", g, found, err)
					return
				}
				if d.Name != g {
					log.errorf("group watcher: asked for group %s, got %q", g, d.Name)
				}
				owner := map[uint32]uint32{}
				for _, mem := range d.Members {
					for _, p := range mem.Partitions {
						if o, dup := owner[p]; dup {
							log.errorf("group %s: partition %d owned by members %d and %d", g, p, o, mem.ID)
						}
						if p >= chaosPartitions {
							log.errorf("group %s: member %d owns partition %d of %d", g, mem.ID, p, chaosPartitions)
						}
						owner[p] = mem.ID
					}
				}
				if len(d.Members) > 0 && len(owner) != chaosPartitions {
					log.errorf("group %s: %d members own %d of %d partitions", g, len(d.Members), len(owner), chaosPartitions)
				}
			}
		}
	}()

	// Admin churning other topics.
	arng := rand.New(rand.NewPCG(seed, 400))
	bg.Add(1)
	ready.Add(1)
	go func() {
		defer bg.Done()
		c := newClient("admin")
		if c == nil {
			return
		}
		chaosAdmin(ctx, c, arng, wire.NumericID(adm.ID), log, stopped, unsure)
	}()

	// Restarts while the producers run.
	restarts := 1 + rng.IntN(3)
	bg.Add(1)
	go func() {
		defer bg.Done()
		ready.Wait()
		for i := 0; i < restarts && !stopped(); i++ {
			time.Sleep(time.Duration(5+rng.IntN(40)) * time.Millisecond)
			if err := h.restart(); err != nil {
				log.errorf("restart: %v", err)
				return
			}
		}
	}()

	work.Wait()
	producersDone.Store(true)
	// Let the group members drain, bounded in case of a bug.
	drained := make(chan struct{})
	go func() {
		deadline := time.After(30 * time.Second)
		for {
			n, err := total()
			log.mu.Lock()
			a, s := len(log.groupAuto), len(log.groupStore)
			lost := log.autoUnknown * log.autoMaxCount
			log.mu.Unlock()
			if err == nil && uint64(a+lost) >= n && uint64(s) >= n {
				close(drained)
				return
			}
			select {
			case <-deadline:
				close(drained)
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	<-drained
	close(stop)
	bg.Wait()

	// A final restart, so the checks read what the disk holds.
	if err := h.restart(); err != nil {
		t.Fatal(err)
	}
	chaosCheck(t, ctx, admin, sID, dID, eID, seed, log)

	clientsMu.Lock()
	for _, c := range clients {
		c.Close()
	}
	clientsMu.Unlock()
	admin.Close()
	shut = true
	if err := h.shutdown(); err != nil {
		t.Errorf("final shutdown: %v", err)
	}
	if s := logs.String(); strings.Contains(s, "panic") {
		t.Errorf("server log mentions a panic:\n%s", s)
	}
	chaosCheckLeaks(t, baseG)
}

// chaosAdmin creates, fills, grows, shrinks, purges, trims and deletes
// topics of stream adm until stopped, checking each topic's offsets after
// every change.
func chaosAdmin(ctx context.Context, c *iggy.Client, rng *rand.Rand, adm wire.Identifier, log *chaosLog, stopped func() bool, unsure func(error) bool) {
	for i := 0; !stopped(); i++ {
		name := fmt.Sprintf("a%d", rng.IntN(3))
		tID := wire.StringID(name)
		d, found, err := c.Topic(ctx, adm, tID)
		if err != nil {
			log.errorf("admin: %v", err)
			return
		}
		if found && d.Name != name {
			log.errorf("admin: asked for topic %s, got %q", name, d.Name)
			return
		}
		if !found {
			_, err = c.CreateTopic(ctx, adm, iggy.TopicConfig{Name: name, Partitions: uint32(1 + rng.IntN(3))})
			if err != nil && !unsure(err) {
				log.errorf("admin: %v", err)
			}
			continue
		}
		parts := uint32(len(d.Partitions))
		var op string
		switch rng.IntN(8) {
		case 0, 1, 2:
			op = "send"
			msgs := make([]iggy.Message, 1+rng.IntN(30))
			for j := range msgs {
				msgs[j].Payload = fmt.Appendf(nil, "adm-%d-%d-%s", i, j, strings.Repeat("y", rng.IntN(200)))
			}
			err = c.SendMessages(ctx, adm, tID, wire.Balanced(), msgs...)
		case 3:
			op = "create partitions"
			err = c.CreatePartitions(ctx, adm, tID, uint32(1+rng.IntN(2)))
		case 4:
			op = "delete partitions"
			if parts > 1 {
				err = c.DeletePartitions(ctx, adm, tID, 1)
			}
		case 5:
			op = "purge"
			err = c.PurgeTopic(ctx, adm, tID)
		case 6:
			op = "delete segments"
			if parts > 0 {
				err = c.DeleteSegments(ctx, adm, tID, uint32(rng.IntN(int(parts))), uint32(1+rng.IntN(3)))
			}
		default:
			op = "delete topic"
			err = c.DeleteTopic(ctx, adm, tID)
			if err == nil {
				continue
			}
		}
		if err != nil {
			if !unsure(err) {
				log.errorf("admin: %s on %s: %v", op, name, err)
			}
			continue
		}
		if op == "purge" || op == "send" {
			if err := chaosCheckContiguous(ctx, c, adm, tID, op == "purge"); err != nil {
				log.errorf("admin: after %s on %s: %v", op, name, err)
			}
		}
	}
}

// chaosCheckContiguous reads every partition of a topic and checks its
// offsets are contiguous and end at the partition's current offset (and,
// after a purge, that it is empty).
func chaosCheckContiguous(ctx context.Context, c *iggy.Client, stream, topic wire.Identifier, empty bool) error {
	d, found, err := c.Topic(ctx, stream, topic)
	if err != nil || !found {
		return fmt.Errorf("get topic: found=%v: %w", found, err)
	}
	for _, p := range d.Partitions {
		msgs, err := chaosReadAll(ctx, c, stream, topic, p.ID)
		if err != nil {
			return err
		}
		if empty && len(msgs) > 0 {
			return fmt.Errorf("partition %d holds %d messages after a purge", p.ID, len(msgs))
		}
		if err := contiguous(msgs); err != nil {
			return fmt.Errorf("partition %d: %w", p.ID, err)
		}
		if n := len(msgs); n > 0 && msgs[n-1].Offset != p.CurrentOffset {
			return fmt.Errorf("partition %d: last offset %d, current offset %d", p.ID, msgs[n-1].Offset, p.CurrentOffset)
		}
		if uint64(len(msgs)) != p.MessagesCount {
			return fmt.Errorf("partition %d: read %d messages, partition counts %d", p.ID, len(msgs), p.MessagesCount)
		}
	}
	return nil
}

func contiguous(msgs []wire.Message) error {
	for i := 1; i < len(msgs); i++ {
		if msgs[i].Offset != msgs[i-1].Offset+1 {
			return fmt.Errorf("offset %d follows %d", msgs[i].Offset, msgs[i-1].Offset)
		}
	}
	for i := range msgs {
		m := &msgs[i]
		if wire.Checksum(wire.AppendMessage(nil, m.MessageHeader, m.Payload, m.UserHeaders)) != m.Checksum {
			return fmt.Errorf("offset %d: bad checksum", m.Offset)
		}
	}
	return nil
}

// chaosReadAll reads a partition from its first offset to its end.
func chaosReadAll(ctx context.Context, c *iggy.Client, stream, topic wire.Identifier, partition uint32) ([]wire.Message, error) {
	var out []wire.Message
	var polled iggy.Polled
	req := iggy.PollRequest{Consumer: wire.NewConsumer(wire.NumericID(999)), TopicRef: wire.TopicRef{Stream: stream, Topic: topic},
		Partition: wire.SomePartition(partition), Strategy: wire.PollFromFirst(), Count: 500}
	for {
		if err := c.Poll(ctx, &req, &polled); err != nil {
			return nil, fmt.Errorf("read partition %d: %w", partition, err)
		}
		if len(polled.Messages) > 0 && polled.PartitionID != partition {
			return nil, fmt.Errorf("read partition %d: reply is for partition %d", partition, polled.PartitionID)
		}
		if len(polled.Messages) == 0 {
			return out, nil
		}
		out = append(out, polled.Copy()...)
		req.Strategy = wire.PollFromOffset(out[len(out)-1].Offset + 1)
	}
}

// chaosCheck reads the data and expiring topics back and checks the
// invariants against what the workers recorded.
func chaosCheck(t *testing.T, ctx context.Context, c *iggy.Client, sID, dID, eID wire.Identifier, seed uint64, log *chaosLog) {
	t.Helper()
	for _, e := range log.errs {
		t.Error(e)
	}
	type loc struct {
		partition uint32
		offset    uint64
	}
	where := map[wire.MessageID]loc{}
	byPartition := make([][]wire.Message, chaosPartitions)
	var total int
	for p := uint32(0); p < chaosPartitions; p++ {
		msgs, err := chaosReadAll(ctx, c, sID, dID, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := contiguous(msgs); err != nil {
			t.Errorf("data partition %d: %v", p, err)
		}
		if len(msgs) > 0 && msgs[0].Offset != 0 {
			t.Errorf("data partition %d starts at offset %d; nothing deletes from it", p, msgs[0].Offset)
		}
		byPartition[p] = msgs
		total += len(msgs)
		for i := range msgs {
			m := &msgs[i]
			if old, dup := where[m.ID]; dup {
				t.Errorf("message id %x/%x at partition %d offset %d and partition %d offset %d", m.ID.Hi, m.ID.Lo, old.partition, old.offset, p, m.Offset)
			}
			where[m.ID] = loc{p, m.Offset}
			if seen, ok := log.seen[[2]uint64{uint64(p), m.Offset}]; ok && seen != [2]uint64{m.ID.Lo, m.Checksum} {
				t.Errorf("partition %d offset %d: a poll returned id %x, the log holds %x", p, m.Offset, seen[0], m.ID.Lo)
			}
		}
	}
	// Every poll saw what the log holds.
	for k := range log.seen {
		if k[0] >= chaosPartitions || k[1] >= uint64(len(byPartition[k[0]])) {
			t.Errorf("a poll returned partition %d offset %d, which the log does not hold", k[0], k[1])
		}
	}
	for _, tp := range log.tsPolls {
		msgs := byPartition[tp.partition]
		if tp.firstOffset > 0 && tp.firstOffset <= uint64(len(msgs)) && msgs[tp.firstOffset-1].Timestamp >= tp.ts {
			t.Errorf("poll from timestamp %d on partition %d started at offset %d, but offset %d is stamped %d", tp.ts, tp.partition, tp.firstOffset, tp.firstOffset-1, msgs[tp.firstOffset-1].Timestamp)
		}
	}
	// Invariant 1.
	acked, keyPart := 0, map[int]uint32{}
	lastOffset := map[[2]int]uint64{} // producer, partition → offset of its last message
	for _, b := range log.batches {
		var present, part []loc
		for s := b.first; s < b.first+b.n; s++ {
			l, ok := where[chaosID(seed, b.producer, s)]
			if ok {
				present = append(present, l)
				m := byPartition[l.partition][l.offset]
				if string(m.Payload) != string(chaosPayload(b.producer, s)) {
					t.Errorf("producer %d seq %d: payload %q", b.producer, s, m.Payload)
				}
			}
		}
		part = present
		if b.acked {
			acked += b.n
			if len(present) != b.n {
				t.Errorf("producer %d: acknowledged batch of seq %d..%d: %d of %d messages in the log", b.producer, b.first, b.first+b.n-1, len(present), b.n)
				continue
			}
		} else if len(present) != 0 && len(present) != b.n {
			// A server killed while writing a batch (the crash test) keeps
			// the whole messages written before the kill, a prefix of the
			// batch, as a torn tail is cut by checksum: a write is not
			// atomic (a fatal signal can cut a long write short). A server
			// that was not killed stores a batch whole or not at all.
			prefix := true
			for s := b.first; s < b.first+len(present); s++ {
				if _, ok := where[chaosID(seed, b.producer, s)]; !ok {
					prefix = false
				}
			}
			if !log.producersOnly || !prefix {
				t.Errorf("producer %d: unacknowledged batch of seq %d..%d partly stored: %d of %d", b.producer, b.first, b.first+b.n-1, len(present), b.n)
				continue
			}
		}
		if len(part) == 0 {
			continue
		}
		for i := 1; i < len(part); i++ {
			if part[i].partition != part[0].partition || part[i].offset != part[i-1].offset+1 {
				t.Errorf("producer %d: batch of seq %d..%d not stored together: %v", b.producer, b.first, b.first+b.n-1, part)
				break
			}
		}
		p := part[0].partition
		if b.partition >= 0 && p != uint32(b.partition) {
			t.Errorf("producer %d: batch sent to partition %d stored in %d", b.producer, b.partition, p)
		}
		if b.key >= 0 {
			if kp, ok := keyPart[b.key]; ok && kp != p {
				t.Errorf("key %d: batches in partitions %d and %d", b.key, kp, p)
			}
			keyPart[b.key] = p
		}
		// Send order holds between acknowledged batches only: a batch
		// whose call was abandoned may still be appended after later ones
		// (the server finishes the old connection's request on its own).
		if !b.acked {
			continue
		}
		k := [2]int{b.producer, int(p)}
		if last, ok := lastOffset[k]; ok && part[0].offset <= last {
			t.Errorf("producer %d: seq %d at partition %d offset %d, before an earlier acknowledged message at %d", b.producer, b.first, p, part[0].offset, last)
		}
		lastOffset[k] = part[len(part)-1].offset
	}
	if total > len(where) {
		t.Errorf("%d messages in the data topic, %d distinct ids", total, len(where))
	}
	if log.producersOnly {
		t.Logf("acked %d data messages; %d stored", acked, total)
		return
	}
	// Invariant 3.
	lost := 0
	for p := range byPartition {
		for o := range byPartition[p] {
			k := [2]uint64{uint64(p), uint64(o)}
			if n := log.groupAuto[k]; n > 1 {
				t.Errorf("auto-commit group read partition %d offset %d %d times", p, o, n)
			} else if n == 0 {
				lost++
			}
			if log.groupStore[k] == 0 {
				t.Errorf("store-offset group never read partition %d offset %d", p, o)
			}
		}
	}
	if lost > log.autoUnknown*log.autoMaxCount {
		t.Errorf("auto-commit group missed %d messages; %d polls lost their reply (at most %d messages each)", lost, log.autoUnknown, log.autoMaxCount)
	}
	// The expiring topic: contiguous, and the acknowledged messages it
	// retains are a complete suffix of those acknowledged.
	msgs, err := chaosReadAll(ctx, c, sID, eID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := contiguous(msgs); err != nil {
		t.Errorf("expiring topic: %v", err)
	}
	seqAt := map[string]int{}
	for i := range msgs {
		if _, dup := seqAt[string(msgs[i].Payload)]; dup {
			t.Errorf("expiring topic: %q stored twice", msgs[i].Payload)
		}
		seqAt[string(msgs[i].Payload)] = i
	}
	retained := false
	prev := -1
	for _, s := range log.expAcked {
		i, ok := seqAt[string(chaosPayload(9, s))]
		if retained && !ok {
			t.Errorf("expiring topic: acknowledged seq %d missing after an earlier one was retained", s)
		}
		if ok {
			if i <= prev {
				t.Errorf("expiring topic: seq %d out of order", s)
			}
			retained, prev = true, i
		}
	}
	t.Logf("acked %d data messages; %d stored; auto group read %d (%d lost replies), store group %d; expiring topic keeps %d of %d",
		acked, total, len(log.groupAuto), log.autoUnknown, len(log.groupStore), len(msgs), len(log.expAcked))
}

// chaosGoroutines counts the goroutines running server or client code.
func chaosGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if slices.ContainsFunc([]string{"iggy/server.(*", "iggy/server/storage.", "internal/iggy.(*Client)"}, func(s string) bool { return strings.Contains(g, s) }) &&
			!strings.Contains(g, "server.runChaos") && !strings.Contains(g, "server.TestChaos") {
			count++
		}
	}
	return count
}

// chaosCheckLeaks waits briefly for goroutines to finish exiting, then
// fails if server or client goroutines remain.
func chaosCheckLeaks(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := chaosGoroutines()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Errorf("%d server or client goroutines left after Shutdown (%d before):\n%s", n, base, buf[:runtime.Stack(buf, true)])
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// growingStorage is in-memory storage whose logs, while grow is set, take
// one more message just before each read: a send landing between a poll's
// look at the partition and its read.
type growingStorage struct {
	memStorage
	grow *atomic.Bool
	// growAfterNext, while set, appends one message after each NextOffset
	// answer: a send landing right after a poll looked at the end.
	growAfterNext *atomic.Bool
}

func (g *growingStorage) OpenPartition(s, t, p uint32) (PartitionLog, error) {
	l, err := g.memStorage.OpenPartition(s, t, p)
	return &growingLog{PartitionLog: l, grow: g.grow, growAfterNext: g.growAfterNext}, err
}

type growingLog struct {
	PartitionLog
	grow, growAfterNext *atomic.Bool
}

func (l *growingLog) NextOffset() uint64 {
	n := l.PartitionLog.NextOffset()
	if l.growAfterNext.Load() {
		f := wire.AppendMessage(nil, wire.MessageHeader{PayloadLength: 4}, []byte("late"), nil)
		_ = l.Append(f, 1)
	}
	return n
}

func (l *growingLog) Read(dst []byte, offset uint64, count uint32, maxBytes int) ([]byte, uint32, error) {
	if l.grow.Load() {
		f := wire.AppendMessage(nil, wire.MessageHeader{PayloadLength: 4}, []byte("late"), nil)
		if err := l.Append(f, 1); err != nil {
			return dst, 0, err
		}
	}
	return l.PartitionLog.Read(dst, offset, count, maxBytes)
}

// TestPollReplyIsASnapshot: found by the chaos test (a poll returned
// offset 4 with current offset 0). A poll read on past the partition's
// end as it stood when the poll began, so messages appended meanwhile came
// back with offsets beyond the current offset in the same reply.
func TestPollReplyIsASnapshot(t *testing.T) {
	grow := new(atomic.Bool)
	_, c, s, tp := serveTopic(t, Config{Storage: &growingStorage{memStorage: memStorage{now: time.Now}, grow: grow, growAfterNext: new(atomic.Bool)}}, 1)
	c.send(s, tp, partitionID(0), []byte("a"), []byte("b"))
	grow.Store(true)
	for _, kind := range []uint8{pollOffset, pollFirst, pollNext, pollLast} {
		p := c.poll(consumerOf(1), s, tp, somePartition(0), kind, 0, 100, false)
		if len(p.offsets) == 0 {
			t.Fatalf("strategy %d: no messages", kind)
		}
		if last := p.offsets[len(p.offsets)-1]; last > p.current {
			t.Fatalf("strategy %d: offsets %v with current offset %d", kind, p.offsets, p.current)
		}
	}
}

// TestPollLastEndsAtCurrent: found by the chaos test (a poll from last
// ended at offset 108 and reported current offset 117). The poll looked at
// the partition's end twice, once for what to read and once for the
// reply's current offset, so a send landing in between made the newest
// messages of the reply older than its current offset.
func TestPollLastEndsAtCurrent(t *testing.T) {
	after := new(atomic.Bool)
	_, c, s, tp := serveTopic(t, Config{Storage: &growingStorage{memStorage: memStorage{now: time.Now}, grow: new(atomic.Bool), growAfterNext: after}}, 1)
	c.send(s, tp, partitionID(0), []byte("a"), []byte("b"))
	after.Store(true)
	p := c.poll(consumerOf(1), s, tp, somePartition(0), pollLast, 0, 1, false)
	after.Store(false)
	if len(p.offsets) != 1 || p.offsets[0] != p.current {
		t.Fatalf("poll from last returned offsets %v with current offset %d", p.offsets, p.current)
	}
}
