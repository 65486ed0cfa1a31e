//go:build unix

package server

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// startChild runs the test binary as a server on dir and returns it with
// its address.
func startChild(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("child server did not start: %v", err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ADDR ")
	if !ok {
		t.Fatalf("child server said %q", line)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return cmd, addr
}

// TestCrashRecovery kills a server with SIGKILL while a producer is sending
// with fsync=always, restarts it on the same data and checks that every
// acknowledged message is there, in order, with a valid checksum, and that
// offsets continue after the last stored message.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns server processes")
	}
	dir := t.TempDir()
	child, addr := startChild(t, dir)
	c := rootClient(t, addr)
	s := c.createStream("crash")
	tp := c.createTopic(s, "t", 1)

	const batch = 50
	var acked uint64
	killAfter := uint64(batch * 40)
	killed := make(chan struct{})
	payload := func(seq uint64) []byte {
		return []byte(fmt.Sprintf("msg-%08d-%s", seq, strings.Repeat("x", int(seq%97))))
	}
	for seq := uint64(0); ; {
		msgs := make([][]byte, batch)
		for i := range msgs {
			msgs[i] = payload(seq + uint64(i))
		}
		if acked == killAfter {
			// Kill while this batch is in flight.
			go func() {
				_ = child.Process.Signal(syscall.SIGKILL)
				close(killed)
			}()
		}
		_ = c.c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.c.Write(frame(wire.CmdSendMessages, sendPayload(s, tp, partitionID(0), msgs...))); err != nil {
			break
		}
		var hdr [8]byte
		if _, err := io.ReadFull(c.c, hdr[:]); err != nil {
			break
		}
		if st := statusOf(hdr[:]); st != nil {
			t.Fatalf("send failed before the kill: %v", st)
		}
		seq += batch
		acked = seq
		if acked > killAfter+batch*1000 {
			t.Fatal("server survived SIGKILL")
		}
	}
	<-killed
	_ = child.Wait()
	if acked < killAfter {
		t.Fatalf("only %d messages acknowledged before the kill", acked)
	}

	_, addr = startChild(t, dir)
	c = rootClient(t, addr)
	var next uint64
	for {
		b := c.ok(wire.CmdPollMessages, pollPayload(consumerOf(1), s, tp, somePartition(0), pollOffset, next, 1000, false))
		n := binary.LittleEndian.Uint32(b[12:])
		if n == 0 {
			break
		}
		off := 16
		for i := uint32(0); i < n; i++ {
			f := wire.Frame(b[off:])
			fl := f.Size()
			if got := f.Offset(); got != next {
				t.Fatalf("offset %d where %d was expected", got, next)
			}
			if binary.LittleEndian.Uint64(f) != xxh3.Hash(f[8:fl]) {
				t.Fatalf("message %d has a bad checksum", next)
			}
			if want := payload(next); string(f[64:fl]) != string(want) {
				t.Fatalf("message %d holds %q, want %q", next, f[64:fl], want)
			}
			next++
			off += fl
		}
	}
	if next < acked {
		t.Fatalf("recovered %d messages, %d were acknowledged", next, acked)
	}
	// Unacknowledged messages may survive only as whole batches.
	if (next-acked)%batch != 0 {
		t.Fatalf("recovered %d messages, not a whole number of batches past the %d acknowledged", next, acked)
	}
	c.send(s, tp, partitionID(0), []byte("after"))
	p := c.poll(consumerOf(1), s, tp, somePartition(0), pollLast, 0, 1, false)
	if len(p.offsets) != 1 || p.offsets[0] != next {
		t.Fatalf("offsets do not continue after recovery: got %v, want [%d]", p.offsets, next)
	}
	t.Logf("acknowledged %d, recovered %d", acked, next)
}

// TestGracefulShutdownSignal checks that SIGTERM makes the server finish,
// close cleanly and exit 0, and that the data is there afterwards.
func TestGracefulShutdownSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns server processes")
	}
	dir := t.TempDir()
	child, addr := startChild(t, dir)
	c := rootClient(t, addr)
	s := c.createStream("s")
	tp := c.createTopic(s, "t", 1)
	c.send(s, tp, balanced(), []byte("kept"))
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("server exited with %v after SIGTERM", err)
	}
	_, addr = startChild(t, dir)
	c = rootClient(t, addr)
	if p := c.poll(consumerOf(1), s, tp, noPartition(), pollFirst, 0, 10, false); len(p.payloads) != 1 || string(p.payloads[0]) != "kept" {
		t.Fatalf("after restart: %q", p.payloads)
	}
}
