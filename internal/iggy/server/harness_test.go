package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// T is the fixed clock of the golden vectors: 1700000000000000 µs.
var goldenTime = time.UnixMicro(1700000000000000)

func fixedClock() time.Time { return goldenTime }

// startServer runs a server on a free loopback port and stops it when the
// test ends.
func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.DataDir == "" && cfg.Storage == nil {
		cfg.InMemory = true
	}
	if cfg.PasswordCost == 0 {
		cfg.PasswordCost = bcrypt.MinCost
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { stopServer(t, srv) })
	return srv
}

// StartTestServer is startServer for the package's external tests
// (package server_test), so both kinds share one harness.
func StartTestServer(t testing.TB, cfg Config) *Server { return startServer(t, cfg) }

// stopServer shuts srv down (again, harmlessly, when it already is),
// failing the test on an error.
func stopServer(t testing.TB, srv *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// forEachStorage runs f as a subtest with in-memory storage and with
// storage on disk (cfg with a fresh DataDir).
func forEachStorage(t *testing.T, cfg Config, f func(t *testing.T, cfg Config)) {
	t.Run("memory", func(t *testing.T) { f(t, cfg) })
	t.Run("disk", func(t *testing.T) {
		cfg.DataDir = t.TempDir()
		f(t, cfg)
	})
}

// logBuffer collects a server's log; the server writes it from its own
// goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rawConn speaks raw frames to a server.
type rawConn struct {
	t testing.TB
	c net.Conn
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c}
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// do writes one request frame and returns the whole response frame.
func (r *rawConn) do(req []byte) []byte {
	r.t.Helper()
	_ = r.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.c.Write(req); err != nil {
		r.t.Fatalf("write: %v", err)
	}
	return r.read()
}

func (r *rawConn) read() []byte {
	r.t.Helper()
	hdr := make([]byte, 8)
	if _, err := io.ReadFull(r.c, hdr); err != nil {
		r.t.Fatalf("read response header: %v", err)
	}
	n := binary.LittleEndian.Uint32(hdr[4:])
	body := make([]byte, n)
	if _, err := io.ReadFull(r.c, body); err != nil {
		r.t.Fatalf("read response body: %v", err)
	}
	return append(hdr, body...)
}

// frame builds a request frame from a code and payload.
func frame(code wire.Command, payload []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(4+len(payload)))
	b = binary.LittleEndian.AppendUint32(b, uint32(code))
	return append(b, payload...)
}

// statusOf reads a response's status: nil for OK, else the error it names.
func statusOf(resp []byte) *wire.Error {
	if code := binary.LittleEndian.Uint32(resp); code != 0 {
		return wire.ErrorFromCode(code)
	}
	return nil
}
