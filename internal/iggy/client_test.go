package iggy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

const goldenT = 1700000000000000

// TestGoldenRequests checks that each client call writes exactly the §10
// golden request and decodes the canned reply.
func TestGoldenRequests(t *testing.T) {
	ctx := context.Background()
	replies := map[wire.Command]reply{
		wire.CmdCreateStream:        {frame: unhexT(t, "000000002c0000000000000000401e18240a060000000000000000000000000000000000000000000b746573742d73747265616d")},
		wire.CmdGetStream:           {frame: unhexT(t, "00000000690000000000000000401e18240a060001000000000000000000000000000000000000000b746573742d73747265616d0000000000401e18240a060001000000ffffffffffffffff01ffffffffffffffff01000000000000000000000000000000000a746573742d746f706963")},
		wire.CmdCreateTopic:         {frame: unhexT(t, "00000000650000000000000000401e18240a060001000000ffffffffffffffff01ffffffffffffffff01000000000000000000000000000000000a746573742d746f7069630000000000401e18240a060000000000000000000000000000000000000000000000000000000000")},
		wire.CmdGetConsumerOffset:   {frame: unhexT(t, "00000000140000000000000009000000000000000500000000000000")},
		wire.CmdCreateConsumerGroup: {frame: unhexT(t, "000000000f000000000000000300000000000000026731")},
		wire.CmdGetStats:            ok((&wire.Stats{Hostname: "h"}).AppendTo(nil)),
		wire.CmdGetClusterMetadata:  ok((&wire.ClusterMetadata{Name: "single-node"}).AppendTo(nil)),
		wire.CmdPollMessages:        {frame: unhexT(t, "000000005500000000000000000000000000000001000000b7ac617cec79dfa601000000000000000000000000000000000000000000000000401e18240a060000401e18240a06000000000005000000000000000000000068656c6c6f")},
	}
	p := newFakePeer(t, func(r request) reply {
		switch r.code {
		case wire.CmdLoginUser:
			return reply{frame: unhexT(t, "000000000400000000000000")}
		}
		if rep, ok := replies[r.code]; ok {
			return rep
		}
		return ok(nil)
	})
	c := dialTest(t, p, nil)
	s0, t0 := ID(0), ID(0)
	steps := []struct {
		name string
		call func() error
		hex  string
	}{
		{"PING", func() error { return c.Ping(ctx) }, "0400000001000000"},
		{"CREATE_STREAM", func() error {
			s, err := c.CreateStream(ctx, "test-stream")
			if err == nil && (s.Name != "test-stream" || s.CreatedAt != goldenT) {
				t.Errorf("stream %+v", s)
			}
			return err
		}, "10000000ca0000000b746573742d73747265616d"},
		{"GET_STREAM", func() error {
			d, found, err := c.Stream(ctx, s0)
			if err == nil && (!found || len(d.Topics) != 1 || d.Topics[0].Name != "test-topic") {
				t.Errorf("stream details %+v %v", d, found)
			}
			return err
		}, "0a000000c8000000010400000000"},
		{"GET_STREAM name", func() error { _, _, err := c.Stream(ctx, Name("test-stream")); return err }, "11000000c8000000020b746573742d73747265616d"},
		{"GET_STREAMS", func() error { _, err := c.Streams(ctx); return err }, "04000000c9000000"},
		{"DELETE_STREAM", func() error { return c.DeleteStream(ctx, s0) }, "0a000000cb000000010400000000"},
		{"UPDATE_STREAM", func() error { return c.UpdateStream(ctx, s0, "renamed") }, "12000000cc0000000104000000000772656e616d6564"},
		{"CREATE_TOPIC", func() error {
			d, err := c.CreateTopic(ctx, s0, TopicConfig{Name: "test-topic", Partitions: 3})
			if err == nil && (len(d.Partitions) != 1 || d.MessageExpiry != wire.Unlimited) {
				t.Errorf("topic %+v", d)
			}
			return err
		}, "2b0000002e010000010400000000030000000100000000000000000000000000000000000a746573742d746f706963"},
		{"GET_TOPIC", func() error { _, _, err := c.Topic(ctx, s0, t0); return err }, "100000002c010000010400000000010400000000"},
		{"GET_TOPICS", func() error { _, err := c.Topics(ctx, s0); return err }, "0a0000002d010000010400000000"},
		{"DELETE_TOPIC", func() error { return c.DeleteTopic(ctx, s0, t0) }, "100000002f010000010400000000010400000000"},
		{"CREATE_PARTITIONS", func() error { return c.CreatePartitions(ctx, s0, t0, 2) }, "140000009201000001040000000001040000000002000000"},
		{"DELETE_PARTITIONS", func() error { return c.DeletePartitions(ctx, s0, t0, 2) }, "140000009301000001040000000001040000000002000000"},
		{"FLUSH", func() error { return c.Flush(ctx, s0, t0, 0, true) }, "15000000660000000104000000000104000000000000000001"},
		{"POLL consumer", func() error {
			var res Polled
			err := c.Poll(ctx, &PollRequest{Consumer: wire.NewConsumer(ID(1)), TopicRef: wire.TopicRef{Stream: s0, Topic: t0},
				Partition: wire.SomePartition(0), Strategy: wire.PollFromOffset(0), Count: 10}, &res)
			if err == nil && (len(res.Messages) != 1 || string(res.Messages[0].Payload) != "hello" || res.Messages[0].Timestamp != goldenT) {
				t.Errorf("polled %+v", res)
			}
			return err
		}, "2a000000640000000101040100000001040000000001040000000001000000000100000000000000000a00000000"},
		{"POLL group", func() error {
			var res Polled
			return c.Poll(ctx, &PollRequest{Consumer: wire.NewGroupConsumer(ID(0)), TopicRef: wire.TopicRef{Stream: s0, Topic: t0},
				Strategy: wire.PollFromNext(), Count: 10, AutoCommit: true}, &res)
		}, "2a000000640000000201040000000001040000000001040000000000000000000500000000000000000a00000001"},
		{"STORE_OFFSET", func() error { return c.StoreOffset(ctx, wire.NewConsumer(ID(1)), s0, t0, wire.SomePartition(0), 5) },
			"24000000790000000101040100000001040000000001040000000001000000000500000000000000"},
		{"GET_OFFSET", func() error {
			o, found, err := c.Offset(ctx, wire.NewConsumer(ID(1)), s0, t0, wire.SomePartition(0))
			if err == nil && (!found || o.CurrentOffset != 9 || o.StoredOffset != 5) {
				t.Errorf("offset %+v", o)
			}
			return err
		}, "1c00000078000000010104010000000104000000000104000000000100000000"},
		{"CREATE_GROUP", func() error {
			g, err := c.CreateGroup(ctx, s0, t0, "g1")
			if err == nil && (g.Name != "g1" || g.PartitionsCount != 3) {
				t.Errorf("group %+v", g)
			}
			return err
		}, "130000005a020000010400000000010400000000026731"},
		{"GET_GROUP", func() error { _, _, err := c.Group(ctx, s0, t0, ID(0)); return err }, "1600000058020000010400000000010400000000010400000000"},
		{"JOIN_GROUP", func() error { return c.JoinGroup(ctx, s0, t0, ID(0)) }, "160000005c020000010400000000010400000000010400000000"},
		{"LEAVE_GROUP", func() error { return c.LeaveGroup(ctx, s0, t0, ID(0)) }, "160000005d020000010400000000010400000000010400000000"},
		{"DELETE_GROUP", func() error { return c.DeleteGroup(ctx, s0, t0, ID(0)) }, "160000005b020000010400000000010400000000010400000000"},
		{"GET_STATS", func() error { _, err := c.Stats(ctx); return err }, "040000000a000000"},
		{"GET_CLUSTER_METADATA", func() error { _, err := c.ClusterMetadata(ctx); return err }, "040000000c000000"},
		{"SEND_1MSG_P0", func() error {
			return c.SendMessages(ctx, s0, t0, wire.PartitionID(0), Message{ID: wire.MessageID{Lo: 1}, Payload: []byte("hello")})
		}, "73000000650000001600000001040000000001040000000002040000000001000000000000004500000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000005000000000000000000000068656c6c6f"},
		{"SEND_1MSG_HDR", func() error {
			return c.SendMessages(ctx, s0, t0, wire.PartitionID(0), Message{ID: wire.MessageID{Lo: 1}, Payload: []byte("hello"),
				Headers: []wire.Header{{Key: wire.HeaderStr("k"), Value: wire.HeaderStr("v")}}})
		}, "7f000000650000001600000001040000000001040000000002040000000001000000000000005100000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000c00000005000000000000000000000068656c6c6f02010000006b020100000076"},
		{"LOGOUT", func() error { return c.Logout(ctx) }, "0400000027000000"},
	}
	for _, s := range steps {
		before := len(p.requests())
		if err := s.call(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		reqs := p.requests()
		if len(reqs) != before+1 {
			t.Fatalf("%s: %d requests, want 1", s.name, len(reqs)-before)
		}
		t.Run(s.name, func(t *testing.T) { frameEq(t, reqs[len(reqs)-1].frame, s.hex) })
	}
	// The first request was the login, as in the golden vector.
	frameEq(t, p.requests()[0].frame, "1600000026000000046967677904696767790000000000000000")
}

func TestLoginWithToken(t *testing.T) {
	p := newFakePeer(t, loginOK(func(r request) reply { return ok(nil) }))
	c := dialTest(t, p, func(c *Config) { c.Username, c.Token = "", "abc" })
	frameEq(t, p.requests()[0].frame, "080000002c00000003616263")
	if id, in := c.UserID(); !in || id != 0 {
		t.Fatalf("user id %d %v", id, in)
	}
}

func TestServerErrorsAreTyped(t *testing.T) {
	p := newFakePeer(t, loginOK(func(r request) reply { return fail(wire.ErrStreamNameAlreadyExists) }))
	c := dialTest(t, p, nil)
	_, err := c.CreateStream(context.Background(), "x")
	var werr *wire.Error
	if !errors.As(err, &werr) || werr.Code != 1012 || werr.Name != "StreamNameAlreadyExists" {
		t.Fatalf("err %v", err)
	}
	if err.Error() != `create stream "x": iggy: StreamNameAlreadyExists (1012)` {
		t.Fatalf("message %q", err.Error())
	}
	if !errors.Is(err, wire.ErrStreamNameAlreadyExists) {
		t.Fatal("errors.Is")
	}
	// A server error keeps the connection.
	if p.connCount() != 1 {
		t.Fatal("reconnected after a server error")
	}
}

func TestBadCredentials(t *testing.T) {
	p := newFakePeer(t, func(r request) reply { return fail(wire.ErrInvalidCredentials) })
	_, err := Dial(context.Background(), Config{Addr: p.addr(), Username: "iggy", Password: "nope", PingInterval: -1})
	if !errors.Is(err, wire.ErrInvalidCredentials) {
		t.Fatalf("err %v", err)
	}
	if p.connCount() != 1 {
		t.Fatalf("retried bad credentials: %d connections", p.connCount())
	}
}

func TestGetMissingIsNotFound(t *testing.T) {
	p := newFakePeer(t, loginOK(func(r request) reply { return ok(nil) }))
	c := dialTest(t, p, nil)
	ctx := context.Background()
	if _, found, err := c.Stream(ctx, Name("nope")); err != nil || found {
		t.Fatalf("stream %v %v", found, err)
	}
	if _, found, err := c.Topic(ctx, ID(1), ID(2)); err != nil || found {
		t.Fatalf("topic %v %v", found, err)
	}
	if _, found, err := c.Group(ctx, ID(1), ID(2), ID(3)); err != nil || found {
		t.Fatalf("group %v %v", found, err)
	}
	if _, found, err := c.Offset(ctx, wire.NewConsumer(ID(1)), ID(1), ID(2), wire.OptionalPartition{}); err != nil || found {
		t.Fatalf("offset %v %v", found, err)
	}
	if _, found, err := c.User(ctx, ID(9)); err != nil || found {
		t.Fatalf("user %v %v", found, err)
	}
	if _, found, err := c.ClientInfo(ctx, 9); err != nil || found {
		t.Fatalf("client %v %v", found, err)
	}
	var res Polled
	if err := c.Poll(ctx, &PollRequest{Consumer: wire.NewConsumer(ID(1)), TopicRef: wire.TopicRef{Stream: ID(0), Topic: ID(0)},
		Strategy: wire.PollFromFirst(), Count: 1}, &res); err != nil || len(res.Messages) != 0 {
		t.Fatalf("poll %v %v", res, err)
	}
}

func TestEnsureStreamRace(t *testing.T) {
	var gets atomic.Int32
	stream := wire.Stream{ID: 4, Name: "binance-spot"}
	p := newFakePeer(t, loginOK(func(r request) reply {
		switch r.code {
		case wire.CmdGetStream:
			if gets.Add(1) == 1 {
				return ok(nil) // not there yet
			}
			return ok(stream.AppendTo(nil))
		case wire.CmdCreateStream:
			return fail(wire.ErrStreamNameAlreadyExists) // another client won
		}
		return fail(wire.ErrInvalidCommand)
	}))
	c := dialTest(t, p, nil)
	s, created, err := c.EnsureStream(context.Background(), "binance-spot")
	if err != nil || created || s.ID != 4 {
		t.Fatalf("%+v %v %v", s, created, err)
	}
}

func TestEnsureTopicCreates(t *testing.T) {
	topic := wire.TopicDetails{Topic: wire.Topic{ID: 1, Name: "trade", PartitionsCount: 1}, Partitions: []wire.Partition{{}}}
	p := newFakePeer(t, loginOK(func(r request) reply {
		switch r.code {
		case wire.CmdGetTopic:
			return ok(nil)
		case wire.CmdCreateTopic:
			var ct wire.CreateTopic
			if err := ct.Decode(r.payload); err != nil || ct.Name != "trade" || ct.PartitionsCount != 1 || ct.CompressionAlgorithm != 1 {
				return fail(wire.ErrInvalidCommand)
			}
			return ok(topic.AppendTo(nil))
		}
		return fail(wire.ErrInvalidCommand)
	}))
	c := dialTest(t, p, nil)
	d, created, err := c.EnsureTopic(context.Background(), Name("binance-spot"), TopicConfig{Name: "trade", Partitions: 1})
	if err != nil || !created || d.ID != 1 {
		t.Fatalf("%+v %v %v", d, created, err)
	}
}

func TestReconnectAndRelogin(t *testing.T) {
	var n atomic.Int32
	p := newFakePeer(t, loginOK(func(r request) reply {
		if r.code == wire.CmdGetStreams && n.Add(1) == 1 {
			return reply{close: true} // drop mid-session, request unanswered
		}
		return ok(nil)
	}))
	var logs []string
	var mu sync.Mutex
	c := dialTest(t, p, func(cfg *Config) {
		cfg.Logf = func(f string, a ...any) { mu.Lock(); logs = append(logs, f); mu.Unlock() }
	})
	// GetStreams is idempotent: retried on a new connection after re-login.
	if _, err := c.Streams(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := p.requests()
	var codes []wire.Command
	for _, r := range reqs {
		codes = append(codes, r.code)
	}
	want := []wire.Command{wire.CmdLoginUser, wire.CmdGetStreams, wire.CmdLoginUser, wire.CmdGetStreams}
	if len(codes) != len(want) {
		t.Fatalf("codes %v", codes)
	}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("codes %v want %v", codes, want)
		}
	}
	if reqs[3].conn != 2 || c.Connects() != 2 {
		t.Fatalf("conn %d connects %d", reqs[3].conn, c.Connects())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logs) == 0 {
		t.Fatal("no reconnect notice")
	}
}

func TestReconnectAfterPeerClosedIdle(t *testing.T) {
	// The peer closes the connection between calls; the next call notices
	// on write or read and repairs it.
	var first atomic.Bool
	p := newFakePeer(t, loginOK(func(r request) reply {
		if r.code == wire.CmdGetStats && !first.Swap(true) {
			return reply{frame: wire.AppendResponse(nil, (&wire.Stats{}).AppendTo(nil)), close: true}
		}
		return ok(nil)
	}))
	c := dialTest(t, p, nil)
	ctx := context.Background()
	if _, err := c.Stats(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Users(ctx); err != nil {
		t.Fatalf("after drop: %v", err)
	}
	if c.Connects() != 2 {
		t.Fatalf("connects %d", c.Connects())
	}
}

func TestSendNotRetriedWhenOutcomeUnknown(t *testing.T) {
	var sends atomic.Int32
	handler := loginOK(func(r request) reply {
		if r.code == wire.CmdSendMessages && sends.Add(1) == 1 {
			return reply{close: true}
		}
		return ok(nil)
	})
	p := newFakePeer(t, handler)
	c := dialTest(t, p, nil)
	ctx := context.Background()
	b := NewBatch(ID(0), ID(0), wire.Balanced(), 1)
	_ = b.Add(wire.MessageID{Lo: 7}, 0, []byte("x"), nil)
	err := c.Send(ctx, b)
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err %v", err)
	}
	if sends.Load() != 1 {
		t.Fatalf("sent %d times", sends.Load())
	}
	// The next send works on a fresh connection.
	if err := c.Send(ctx, b); err != nil {
		t.Fatal(err)
	}

	// With RetrySends the batch is resent after the reconnect.
	sends.Store(0)
	p2 := newFakePeer(t, handler)
	c2 := dialTest(t, p2, func(cfg *Config) { cfg.RetrySends = true })
	if err := c2.Send(ctx, b); err != nil {
		t.Fatal(err)
	}
	if sends.Load() != 2 {
		t.Fatalf("sent %d times", sends.Load())
	}
}

func TestServerDown(t *testing.T) {
	p := newFakePeer(t, loginOK(func(r request) reply { return ok(nil) }))
	c := dialTest(t, p, func(cfg *Config) { cfg.MaxRetries = 2 })
	p.close()
	_, err := c.Streams(context.Background())
	if err == nil || !strings.Contains(err.Error(), "connecting to iggy") {
		t.Fatalf("err %v", err)
	}
	var werr *wire.Error
	if errors.As(err, &werr) {
		t.Fatal("transport failure reported as server error")
	}
}

func TestRequestTimeout(t *testing.T) {
	var hung atomic.Bool
	p := newFakePeer(t, loginOK(func(r request) reply {
		if r.code == wire.CmdGetStats && !hung.Swap(true) {
			return reply{hang: true}
		}
		return ok(nil)
	}))
	c := dialTest(t, p, func(cfg *Config) { cfg.RequestTimeout = 50 * time.Millisecond; cfg.MaxRetries = -1 })
	_, err := c.Stats(context.Background())
	var nerr net.Error
	if !errors.As(err, &nerr) || !nerr.Timeout() {
		t.Fatalf("err %v", err)
	}
	// The connection was dropped; the next call gets a new one.
	if _, err := c.Users(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.Connects() != 2 {
		t.Fatalf("connects %d", c.Connects())
	}
}

func TestContextCancel(t *testing.T) {
	p := newFakePeer(t, loginOK(func(r request) reply {
		if r.code == wire.CmdGetStats {
			return reply{hang: true}
		}
		return ok(nil)
	}))
	c := dialTest(t, p, nil)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.Stats(ctx); errc <- err }()
	// Cancel once the peer holds the request.
	for r := range p.seen {
		if r.code == wire.CmdGetStats {
			break
		}
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	// The pending reply can never be read: the connection was replaced.
	if _, err := c.Users(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.Connects() != 2 {
		t.Fatalf("connects %d", c.Connects())
	}
	// A call waiting for the lock honours its ctx too.
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := c.Ping(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before start: %v", err)
	}
}

func TestConcurrentCalls(t *testing.T) {
	var inFlight, maxInFlight atomic.Int32
	p := newFakePeer(t, loginOK(func(r request) reply {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		if r.code == wire.CmdPollMessages {
			var pm wire.PollMessages
			_ = pm.Decode(r.payload)
			out := wire.AppendPollHeader(nil, 0, 0, 1)
			out = wire.AppendMessage(out, wire.MessageHeader{Offset: pm.Strategy.Value}, []byte("m"), nil)
			return ok(out)
		}
		return ok(nil)
	}))
	c := dialTest(t, p, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res Polled
			for i := 0; i < 100; i++ {
				off := uint64(g*1000 + i)
				err := c.Poll(context.Background(), &PollRequest{Consumer: wire.NewConsumer(ID(1)),
					TopicRef: wire.TopicRef{Stream: ID(0), Topic: ID(0)}, Strategy: wire.PollFromOffset(off), Count: 1}, &res)
				if err != nil {
					errs <- err
					return
				}
				if len(res.Messages) != 1 || res.Messages[0].Offset != off {
					errs <- errors.New("reply mixed up between callers")
					return
				}
				if err := c.Ping(context.Background()); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if maxInFlight.Load() != 1 {
		t.Fatalf("%d requests in flight at once on a lock-step protocol", maxInFlight.Load())
	}
}

func TestRejoinGroupsAfterReconnect(t *testing.T) {
	var polls atomic.Int32
	p := newFakePeer(t, loginOK(func(r request) reply {
		if r.code == wire.CmdPollMessages && polls.Add(1) == 1 {
			return reply{close: true}
		}
		return ok(nil)
	}))
	c := dialTest(t, p, nil)
	ctx := context.Background()
	if err := c.JoinGroup(ctx, ID(1), ID(2), Name("workers")); err != nil {
		t.Fatal(err)
	}
	var res Polled
	if err := c.Poll(ctx, &PollRequest{Consumer: wire.NewGroupConsumer(Name("workers")), TopicRef: wire.TopicRef{Stream: ID(1), Topic: ID(2)},
		Strategy: wire.PollFromNext(), Count: 10}, &res); err != nil {
		t.Fatal(err)
	}
	var codes []wire.Command
	for _, r := range p.requests() {
		codes = append(codes, r.code)
	}
	want := []wire.Command{wire.CmdLoginUser, wire.CmdJoinConsumerGroup, wire.CmdPollMessages,
		wire.CmdLoginUser, wire.CmdJoinConsumerGroup, wire.CmdPollMessages}
	if len(codes) != len(want) {
		t.Fatalf("codes %v", codes)
	}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("codes %v want %v", codes, want)
		}
	}
	// An auto-commit poll is not repeated after a lost reply.
	polls.Store(0)
	err := c.Poll(ctx, &PollRequest{Consumer: wire.NewGroupConsumer(Name("workers")), TopicRef: wire.TopicRef{Stream: ID(1), Topic: ID(2)},
		Strategy: wire.PollFromNext(), Count: 10, AutoCommit: true}, &res)
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("auto-commit poll: %v", err)
	}
}

func TestKeepalive(t *testing.T) {
	p := newFakePeer(t, loginOK(func(r request) reply { return ok(nil) }))
	c := dialTest(t, p, func(cfg *Config) { cfg.PingInterval = 10 * time.Millisecond })
	pings := 0
	timeout := time.After(10 * time.Second)
	for pings < 2 {
		select {
		case r := <-p.seen:
			if r.code == wire.CmdPing {
				pings++
			}
		case <-timeout:
			t.Fatal("no keepalive pings")
		}
	}
	c.Close()
	if err := c.Ping(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

func TestPolledCopy(t *testing.T) {
	out := wire.AppendPollHeader(nil, 3, 9, 2)
	out = wire.AppendMessage(out, wire.MessageHeader{Offset: 8}, []byte("a"), nil)
	hdr, _ := wire.AppendHeaders(nil, []wire.Header{{Key: wire.HeaderStr("k"), Value: wire.HeaderStr("v")}})
	out = wire.AppendMessage(out, wire.MessageHeader{Offset: 9}, []byte("bc"), hdr)
	p := newFakePeer(t, loginOK(func(r request) reply { return ok(out) }))
	c := dialTest(t, p, nil)
	var res Polled
	req := &PollRequest{Consumer: wire.NewConsumer(ID(1)), TopicRef: wire.TopicRef{Stream: ID(0), Topic: ID(0)}, Strategy: wire.PollFromFirst(), Count: 2}
	if err := c.Poll(context.Background(), req, &res); err != nil {
		t.Fatal(err)
	}
	kept := res.Copy()
	if res.PartitionID != 3 || res.CurrentOffset != 9 || len(kept) != 2 {
		t.Fatalf("%+v", res)
	}
	res.Messages[1].Payload[0] = 'X' // the poll buffer may be overwritten
	if string(kept[1].Payload) != "bc" || string(kept[0].Payload) != "a" {
		t.Fatalf("copy shares memory: %q", kept[1].Payload)
	}
	hs, err := kept[1].Headers()
	if err != nil || len(hs) != 1 || hs[0].Value.String() != "v" {
		t.Fatalf("headers %v %v", hs, err)
	}
}

func TestUsersAndTokens(t *testing.T) {
	user := wire.UserDetails{UserInfo: wire.UserInfo{ID: 2, Status: wire.UserActive, Username: "alice"},
		Permissions: &wire.Permissions{Global: wire.GlobalPermissions{PollMessages: true}}}
	p := newFakePeer(t, loginOK(func(r request) reply {
		switch r.code {
		case wire.CmdCreateUser, wire.CmdGetUser:
			return ok(user.AppendTo(nil))
		case wire.CmdGetUsers:
			return ok(user.UserInfo.AppendTo(nil))
		case wire.CmdCreateAccessToken:
			return ok((&wire.RawAccessToken{Token: "secret-token"}).AppendTo(nil))
		case wire.CmdGetAccessTokens:
			return ok((&wire.AccessTokenInfo{Name: "ci", ExpiryAt: 5}).AppendTo(nil))
		case wire.CmdGetMe:
			return ok((&wire.ClientDetails{ClientInfo: wire.ClientInfo{ClientID: 1, Transport: wire.TransportTCP, Address: "127.0.0.1:1"}}).AppendTo(nil))
		case wire.CmdGetClients:
			return ok((&wire.ClientInfo{ClientID: 1, Address: "a"}).AppendTo(nil))
		}
		return ok(nil)
	}))
	c := dialTest(t, p, nil)
	ctx := context.Background()
	u, err := c.CreateUser(ctx, wire.CreateUser{Username: "alice", Password: "secret", Status: wire.UserActive, Permissions: user.Permissions})
	if err != nil || u.Username != "alice" || !u.Permissions.Global.PollMessages {
		t.Fatalf("%+v %v", u, err)
	}
	if _, err := c.CreateUser(ctx, wire.CreateUser{Username: "al", Password: "secret", Status: wire.UserActive}); !errors.Is(err, wire.ErrInvalidUsername) {
		t.Fatalf("short username: %v", err)
	}
	if l, err := c.Users(ctx); err != nil || len(l) != 1 {
		t.Fatalf("%v %v", l, err)
	}
	name := "bob"
	if err := c.UpdateUser(ctx, ID(2), &name, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdatePermissions(ctx, ID(2), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.ChangePassword(ctx, ID(2), "secret", "secret2"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(ctx, ID(2)); err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateAccessToken(ctx, "ci-token", wire.Unlimited)
	if err != nil || tok != "secret-token" {
		t.Fatalf("%q %v", tok, err)
	}
	if l, err := c.AccessTokens(ctx); err != nil || len(l) != 1 || l[0].ExpiryAt != 5 {
		t.Fatalf("%v %v", l, err)
	}
	if err := c.DeleteAccessToken(ctx, "ci-token"); err != nil {
		t.Fatal(err)
	}
	if me, err := c.Me(ctx); err != nil || me.ClientID != 1 {
		t.Fatalf("%+v %v", me, err)
	}
	if l, err := c.Clients(ctx); err != nil || len(l) != 1 {
		t.Fatalf("%v %v", l, err)
	}
	if err := c.DeleteSegments(ctx, ID(0), ID(0), 0, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.PurgeStream(ctx, ID(0)); err != nil {
		t.Fatal(err)
	}
	if err := c.PurgeTopic(ctx, ID(0), ID(0)); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateTopic(ctx, ID(0), ID(0), TopicConfig{Name: "t2"}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteOffset(ctx, wire.NewConsumer(ID(1)), ID(0), ID(0), wire.OptionalPartition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Groups(ctx, ID(0), ID(0)); err != nil {
		t.Fatal(err)
	}
	// Login switches credentials; later reconnects use the new ones.
	if _, err := c.LoginWithToken(ctx, "secret-token"); err != nil {
		t.Fatal(err)
	}
	reqs := p.requests()
	if last := reqs[len(reqs)-1]; last.code != wire.CmdLoginWithAccessToken {
		t.Fatalf("last %v", last.code)
	}
}

// TestTLS runs the client against a TLS peer with a CA file, and checks
// that verification is on by default.
func TestTLS(t *testing.T) {
	certPEM, keyPEM := selfSigned(t, "iggy.test")
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	p := newFakePeerTLS(t, &tls.Config{Certificates: []tls.Certificate{cert}}, loginOK(func(r request) reply { return ok(nil) }))
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(p.addr())
	cfg, err := ParseURL("iggy+tls://iggy:iggy@127.0.0.1:" + port + "?tls_ca=" + ca + "&tls_server_name=iggy.test&ping=0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Streams(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Without the CA the handshake must fail.
	cfg2, _ := ParseURL("iggy+tls://iggy:iggy@127.0.0.1:" + port + "?tls_server_name=iggy.test&ping=0&retries=-1")
	if _, err := Dial(context.Background(), cfg2); err == nil || !strings.Contains(err.Error(), "TLS handshake") {
		t.Fatalf("unverified server accepted: %v", err)
	}
	cfg3, _ := ParseURL("iggy+tls://iggy:iggy@127.0.0.1:" + port + "?tls_skip_verify=true&ping=0")
	c3, err := Dial(context.Background(), cfg3)
	if err != nil {
		t.Fatal(err)
	}
	c3.Close()
}

func selfSigned(t *testing.T, host string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func TestParseURL(t *testing.T) {
	cfg, err := ParseURL("iggy://user:p%40ss@example.com?timeout=2s&ping=1s&retries=3&dial_timeout=1s&retry_sends=true")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "example.com:8090" || cfg.Username != "user" || cfg.Password != "p@ss" || cfg.RequestTimeout != 2*time.Second ||
		cfg.PingInterval != time.Second || cfg.MaxRetries != 3 || cfg.DialTimeout != time.Second || !cfg.RetrySends || cfg.TLS != nil {
		t.Fatalf("%+v", cfg)
	}
	cfg, err = ParseURL("iggy+tls://h:9000?pat=tok")
	if err != nil || cfg.Token != "tok" || cfg.TLS == nil || cfg.TLS.ServerName != "h" || cfg.Addr != "h:9000" {
		t.Fatalf("%+v %v", cfg, err)
	}
	cfg, err = ParseURL("localhost")
	if err != nil || cfg.Addr != "localhost:8090" {
		t.Fatalf("%+v %v", cfg, err)
	}
	cfg, err = ParseURL("[::1]:8090")
	if err != nil || cfg.Addr != "[::1]:8090" {
		t.Fatalf("%+v %v", cfg, err)
	}
	for _, bad := range []string{"http://h", "iggy://", "iggy://h?bogus=1", "iggy://h?timeout=x", "iggy://h?tls_skip_verify=true", "iggy+tls://h?tls_ca=/nonexistent"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCloseInterruptsCall(t *testing.T) {
	p := newFakePeer(t, loginOK(func(r request) reply {
		if r.code == wire.CmdGetStats {
			return reply{hang: true}
		}
		return ok(nil)
	}))
	c, err := Dial(context.Background(), Config{Addr: p.addr(), Username: "iggy", Password: "iggy", PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := c.Stats(context.Background()); errc <- err }()
	for r := range p.seen {
		if r.code == wire.CmdGetStats {
			break
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("in-flight call: %v", err)
	}
	if _, err := c.Streams(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

// A server that closed an idle connection must not turn the next
// non-idempotent call into "outcome unknown": the client notices the close
// before sending and reconnects first.
func TestIdleCloseBeforeNonIdempotentCall(t *testing.T) {
	var first atomic.Bool
	stream := wire.Stream{ID: 1, Name: "s"}
	p := newFakePeer(t, loginOK(func(r request) reply {
		if r.code == wire.CmdGetStreams && !first.Swap(true) {
			return reply{frame: wire.AppendResponse(nil, nil), close: true}
		}
		if r.code == wire.CmdCreateStream {
			return ok(stream.AppendTo(nil))
		}
		return ok(nil)
	}))
	c := dialTest(t, p, nil)
	c.probeAfter = 0
	ctx := context.Background()
	if _, err := c.Streams(ctx); err != nil {
		t.Fatal(err)
	}
	if n := <-p.gone; n != 1 {
		t.Fatalf("closed conn %d", n)
	}
	s, err := c.CreateStream(ctx, "s")
	if err != nil || s.ID != 1 {
		t.Fatalf("%+v %v", s, err)
	}
	if c.Connects() != 2 {
		t.Fatalf("connects %d", c.Connects())
	}
	var creates int
	for _, r := range p.requests() {
		if r.code == wire.CmdCreateStream {
			creates++
		}
	}
	if creates != 1 {
		t.Fatalf("%d creates", creates)
	}
}
