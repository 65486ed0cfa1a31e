package cli

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// buildIMS builds the ims binary once per test run.
func buildIMS(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the ims binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build ims with")
	}
	bin := filepath.Join(t.TempDir(), "ims")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/ims-dev/ims/cmd/ims")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building ims: %v\n%s", err, out)
	}
	return bin
}

// serverProc is `ims server` running as a child process.
type serverProc struct {
	cmd  *exec.Cmd
	addr string
	logs *syncBuffer
	// lines receives stderr lines as they come (buffered; extra ones are
	// only kept in logs).
	lines chan string
	done  chan struct{}
}

func startServerProc(t *testing.T, bin string, env []string, args ...string) *serverProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"server"}, args...)...)
	cmd.Env = append(os.Environ(), "IGGY_ROOT_USERNAME=", "IGGY_ROOT_PASSWORD=", "NO_COLOR=1")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serverProc{cmd: cmd, logs: &syncBuffer{}, lines: make(chan string, 1000), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			_, _ = p.logs.Write(append(sc.Bytes(), '\n'))
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
	}()
	go func() { wg.Wait(); _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	p.addr = p.waitLine(t, "iggy server listening")
	m := listenRE.FindStringSubmatch(p.addr)
	if m == nil {
		t.Fatalf("no address in %q", p.addr)
	}
	p.addr = m[1]
	return p
}

// waitLine returns the first stderr line (not yet consumed) containing s.
func (p *serverProc) waitLine(t *testing.T, s string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("ims server ended before logging %q: %s", s, p.logs.String())
			}
			if strings.Contains(l, s) {
				return l
			}
		case <-timeout:
			t.Fatalf("ims server did not log %q: %s", s, p.logs.String())
		}
	}
}

// wait returns the exit status once the process ends.
func (p *serverProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("ims server did not exit: %s", p.logs.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

func reqFrame(code wire.Command, payload []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(4+len(payload)))
	b = binary.LittleEndian.AppendUint32(b, uint32(code))
	return append(b, payload...)
}

// roundTrip writes req and reads one response: status and payload.
func roundTrip(t *testing.T, c net.Conn, req []byte) (uint32, []byte) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(req); err != nil {
		t.Fatalf("write: %v", err)
	}
	return readResponse(t, c)
}

func readResponse(t *testing.T, c net.Conn) (uint32, []byte) {
	t.Helper()
	var hdr [8]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	body := make([]byte, binary.LittleEndian.Uint32(hdr[4:]))
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	return binary.LittleEndian.Uint32(hdr[:]), body
}

func str8(s string) []byte { return append([]byte{byte(len(s))}, s...) }

func loginReq(user, pass string) []byte {
	return reqFrame(wire.CmdLoginUser, append(append(str8(user), str8(pass)...), 0, 0, 0, 0, 0, 0, 0, 0))
}

func mustOK(t *testing.T, c net.Conn, what string, req []byte) []byte {
	t.Helper()
	st, body := roundTrip(t, c, req)
	if st != 0 {
		t.Fatalf("%s: status %d", what, st)
	}
	return body
}

// TestServerProcessSignals runs the built ims binary: defaults (address
// flag, data directory under XDG_DATA_HOME, iggy/iggy with a warning),
// credentials from the environment, and SIGTERM/SIGINT arriving while a
// request is half sent: the request is answered, the listener closes, the
// data is flushed and the process exits 0.
func TestServerProcessSignals(t *testing.T) {
	bin := buildIMS(t)

	help, err := exec.Command(bin, "server", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(help), `--addr string`) || !strings.Contains(string(help), `(default "127.0.0.1:8090")`) {
		t.Fatalf("server --help (%v): %s", err, help)
	}
	if out, err := exec.Command(bin, "server", "--fsync", "sometimes").CombinedOutput(); err == nil || err.(*exec.ExitError).ExitCode() != ExitUsage {
		t.Fatalf("--fsync sometimes: %v %s", err, out)
	}

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			xdg := t.TempDir()
			dataDir := filepath.Join(xdg, "ims", "iggy")
			p := startServerProc(t, bin, []string{"XDG_DATA_HOME=" + xdg}, "--addr", "127.0.0.1:0", "--fsync", "never")
			if !strings.Contains(p.logs.String(), "root credentials not set") {
				t.Errorf("no warning about the default credentials: %s", p.logs.String())
			}
			if _, err := os.Stat(dataDir); err != nil {
				t.Fatalf("default data directory not used: %v", err)
			}
			c, err := net.Dial("tcp", p.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			mustOK(t, c, "login iggy/iggy", loginReq("iggy", "iggy"))
			mustOK(t, c, "create stream", reqFrame(wire.CmdCreateStream, str8("s")))
			mustOK(t, c, "create topic", reqFrame(wire.CmdCreateTopic, append([]byte{1, 4, 0, 0, 0, 0, 1, 0, 0, 0, 1}, append(make([]byte, 17), str8("t")...)...)))

			// A send request, half written when the signal arrives.
			msgs := wire.AppendMessage(nil, wire.MessageHeader{}, []byte("in flight"), nil)
			meta := []byte{1, 4, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 2, 4, 0, 0, 0, 0, 1, 0, 0, 0}
			payload := binary.LittleEndian.AppendUint32(nil, uint32(len(meta)))
			payload = append(payload, meta...)
			payload = binary.LittleEndian.AppendUint32(payload, 0)
			payload = binary.LittleEndian.AppendUint32(payload, uint32(len(msgs)))
			payload = binary.LittleEndian.AppendUint64(payload, 0)
			payload = append(payload, msgs...)
			req := reqFrame(wire.CmdSendMessages, payload)
			half := len(req) / 2
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := c.Write(req[:half]); err != nil {
				t.Fatal(err)
			}
			// An idle second connection is closed by the shutdown.
			idle, err := net.Dial("tcp", p.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer idle.Close()
			mustOK(t, idle, "ping", reqFrame(wire.CmdPing, nil))

			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			p.waitLine(t, "shutting down")
			if _, err := c.Write(req[half:]); err != nil {
				t.Fatalf("finishing the in-flight request: %v", err)
			}
			if st, _ := readResponse(t, c); st != 0 {
				t.Fatalf("in-flight send answered with status %d", st)
			}
			_ = idle.SetReadDeadline(time.Now().Add(20 * time.Second))
			if n, err := idle.Read(make([]byte, 1)); n != 0 || err == nil {
				t.Fatalf("idle connection not closed: %d %v", n, err)
			}
			if code := p.wait(t); code != 0 {
				t.Fatalf("exit %d after %s: %s", code, sig, p.logs.String())
			}
			if _, err := net.DialTimeout("tcp", p.addr, 5*time.Second); err == nil {
				t.Fatal("still accepting connections after exit")
			}

			// Restarted with credentials from the environment (kept from the
			// first start, so iggy/iggy still logs in): the acknowledged
			// message was flushed and survives.
			p = startServerProc(t, bin, []string{"XDG_DATA_HOME=" + xdg, "IGGY_ROOT_USERNAME=admin", "IGGY_ROOT_PASSWORD=secret"}, "--addr", "127.0.0.1:0")
			if strings.Contains(p.logs.String(), "root credentials not set") {
				t.Errorf("warned although IGGY_ROOT_USERNAME/IGGY_ROOT_PASSWORD are set: %s", p.logs.String())
			}
			c2, err := net.Dial("tcp", p.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c2.Close()
			mustOK(t, c2, "login iggy/iggy after restart", loginReq("iggy", "iggy"))
			poll := []byte{1, 1, 4, 1, 0, 0, 0, 1, 4, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0}
			body := mustOK(t, c2, "poll", reqFrame(wire.CmdPollMessages, poll))
			var pm wire.PolledMessages
			if err := wire.ParsePolledMessages(body, &pm); err != nil || len(pm.Messages) != 1 || string(pm.Messages[0].Payload) != "in flight" {
				t.Fatalf("after restart: %d messages, %v", len(pm.Messages), err)
			}
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if code := p.wait(t); code != 0 {
				t.Fatalf("exit %d: %s", code, p.logs.String())
			}
		})
	}

	// Credentials from the environment on a new data directory are the
	// root user's.
	p := startServerProc(t, bin, []string{"IGGY_ROOT_USERNAME=admin", "IGGY_ROOT_PASSWORD=secret"}, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--fsync", "always")
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st, _ := roundTrip(t, c, loginReq("iggy", "iggy")); st != wire.ErrInvalidCredentials.Code {
		t.Errorf("iggy/iggy with env credentials: status %d", st)
	}
	mustOK(t, c, "login admin", loginReq("admin", "secret"))
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, p.logs.String())
	}
}
