package server

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// callErr is a goroutine-safe request/response exchange for concurrency
// tests (tclient fails the test directly, which only the test goroutine may).
func callErr(conn net.Conn, code wire.Command, payload []byte) (*wire.Error, []byte, error) {
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Write(frame(code, payload)); err != nil {
		return nil, nil, err
	}
	var hdr [8]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return nil, nil, err
	}
	body := make([]byte, binary.LittleEndian.Uint32(hdr[4:]))
	if _, err := io.ReadFull(conn, body); err != nil {
		return nil, nil, err
	}
	return statusOf(hdr[:]), body, nil
}

// TestConcurrentProducersConsumersAndAdmin runs producers, consumers, group
// churn and metadata changes at once (run it with -race) and then checks
// every partition holds dense, unique offsets and every message once.
func TestConcurrentProducersConsumersAndAdmin(t *testing.T) {
	srv, admin, s, tp := serveTopic(t, Config{DataDir: t.TempDir(), Fsync: FsyncNever, SegmentSize: 32 << 10}, 3)
	admin.ok(wire.CmdCreateConsumerGroup, cat(idNum(s), idNum(tp), name8("g")))

	const producers, batches, perBatch = 4, 40, 10
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	dial := func() net.Conn {
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			errs <- err
			return nil
		}
		if st, _, err := callErr(c, wire.CmdLoginUser, loginPayload("iggy", "iggy")); err != nil || st != nil {
			errs <- fmt.Errorf("login: %v %v", st, err)
		}
		return c
	}
	// spawn runs f on a logged-in connection of its own.
	spawn := func(f func(c net.Conn)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dial()
			if c == nil {
				return
			}
			defer c.Close()
			f(c)
		}()
	}
	for p := 0; p < producers; p++ {
		spawn(func(c net.Conn) {
			for b := 0; b < batches; b++ {
				msgs := make([][]byte, perBatch)
				for i := range msgs {
					msgs[i] = []byte(fmt.Sprintf("p%d-b%d-m%d", p, b, i))
				}
				if st, _, err := callErr(c, wire.CmdSendMessages, sendPayload(s, tp, balanced(), msgs...)); err != nil || st != nil {
					errs <- fmt.Errorf("send: %v %v", st, err)
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	// Group members joining, polling and leaving while data arrives.
	for m := 0; m < 2; m++ {
		spawn(func(c net.Conn) {
			for {
				select {
				case <-stop:
					return
				default:
				}
				callErr(c, wire.CmdJoinConsumerGroup, groupIDs(s, tp, 0))
				if st, _, err := callErr(c, wire.CmdPollMessages, pollPayload(groupOf(0), s, tp, noPartition(), pollNext, 0, 50, true)); err != nil || (st != nil && st != wire.ErrConsumerGroupMemberNotFound) {
					errs <- fmt.Errorf("group poll: %v %v", st, err)
					return
				}
				callErr(c, wire.CmdLeaveConsumerGroup, groupIDs(s, tp, 0))
			}
		})
	}
	// Metadata churn elsewhere.
	spawn(func(c net.Conn) {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			name := fmt.Sprintf("tmp-%d", i)
			callErr(c, wire.CmdCreateStream, name8(name))
			callErr(c, wire.CmdCreateTopic, topicPayload(idStr(name), 2, 0, 0, "t"))
			callErr(c, wire.CmdGetStats, nil)
			callErr(c, wire.CmdGetStreams, nil)
			callErr(c, wire.CmdDeleteStream, idStr(name))
		}
	})
	// Wait until the producers' messages are all stored, then stop the
	// churners.
	deadline := time.Now().Add(60 * time.Second)
	for {
		b := admin.ok(wire.CmdGetTopic, cat(idNum(s), idNum(tp)))
		if binary.LittleEndian.Uint64(b[42:]) == producers*batches*perBatch {
			break
		}
		select {
		case err := <-errs:
			close(stop)
			wg.Wait()
			t.Fatal(err)
		default:
		}
		if time.Now().After(deadline) {
			close(stop)
			wg.Wait()
			t.Fatalf("only %d messages stored", binary.LittleEndian.Uint64(b[42:]))
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for p := uint32(0); p < 3; p++ {
		var next uint64
		for {
			got := admin.poll(consumerOf(1), s, tp, somePartition(p), pollOffset, next, 500, false)
			if len(got.offsets) == 0 {
				break
			}
			for i, o := range got.offsets {
				if o != next {
					t.Fatalf("partition %d: offset %d where %d was expected", p, o, next)
				}
				if seen[string(got.payloads[i])] {
					t.Fatalf("message %s stored twice", got.payloads[i])
				}
				seen[string(got.payloads[i])] = true
				next++
			}
		}
	}
	if len(seen) != producers*batches*perBatch {
		t.Fatalf("%d distinct messages stored", len(seen))
	}
}
