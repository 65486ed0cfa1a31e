package server

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
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
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return srv
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
func frame(code uint32, payload []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(4+len(payload)))
	b = binary.LittleEndian.AppendUint32(b, code)
	return append(b, payload...)
}

func statusOf(resp []byte) Status { return Status(binary.LittleEndian.Uint32(resp)) }
