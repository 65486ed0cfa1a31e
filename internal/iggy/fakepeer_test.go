package iggy

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// request is one request the fake peer received.
type request struct {
	conn    int // connection number, from 1
	code    wire.Command
	frame   []byte // the whole frame as received
	payload []byte
}

// reply tells the fake peer what to do with a request.
type reply struct {
	frame []byte        // bytes to send back (nil: nothing)
	close bool          // close the connection after sending frame
	hang  bool          // never answer; keep the connection open until the test ends
	delay time.Duration // wait before answering
}

func ok(payload []byte) reply  { return reply{frame: wire.AppendResponse(nil, payload)} }
func fail(e *wire.Error) reply { return reply{frame: wire.AppendErrorResponse(nil, e.Code)} }

// fakePeer is a scripted Iggy server: it reads classic request frames and
// answers each with whatever handle returns. It records every request.
type fakePeer struct {
	t      testing.TB
	ln     net.Listener
	handle func(r request) reply

	once  sync.Once
	mu    sync.Mutex
	reqs  []request
	conns int
	open  []net.Conn
	seen  chan request
	gone  chan int // connection numbers, as the peer closes them
	done  chan struct{}
	wg    sync.WaitGroup
}

func newFakePeer(t testing.TB, handle func(r request) reply) *fakePeer {
	return newFakePeerTLS(t, nil, handle)
}

func newFakePeerTLS(t testing.TB, tc *tls.Config, handle func(r request) reply) *fakePeer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	p := &fakePeer{t: t, ln: ln, handle: handle, seen: make(chan request, 1024), gone: make(chan int, 64), done: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *fakePeer) addr() string { return p.ln.Addr().String() }

func (p *fakePeer) close() { p.once.Do(p.shutdown) }

func (p *fakePeer) shutdown() {
	close(p.done)
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.open {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *fakePeer) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns++
		n := p.conns
		p.open = append(p.open, c)
		p.mu.Unlock()
		p.wg.Add(1)
		go p.serve(c, n)
	}
}

func (p *fakePeer) serve(c net.Conn, n int) {
	defer p.wg.Done()
	defer func() {
		c.Close()
		select {
		case p.gone <- n:
		default:
		}
	}()
	for {
		var h [8]byte
		if _, err := io.ReadFull(c, h[:]); err != nil {
			return
		}
		plen, code, err := wire.ParseRequestHeader(h[:])
		if err != nil {
			return
		}
		frame := make([]byte, 8+plen)
		copy(frame, h[:])
		if _, err := io.ReadFull(c, frame[8:]); err != nil {
			return
		}
		r := request{conn: n, code: code, frame: frame, payload: frame[8:]}
		p.mu.Lock()
		p.reqs = append(p.reqs, r)
		p.mu.Unlock()
		select {
		case p.seen <- r:
		default:
		}
		rep := p.handle(r)
		if rep.hang {
			<-p.done
			return
		}
		if rep.delay > 0 {
			select {
			case <-time.After(rep.delay):
			case <-p.done:
				return
			}
		}
		if rep.frame != nil {
			if _, err := c.Write(rep.frame); err != nil {
				return
			}
		}
		if rep.close {
			return
		}
	}
}

func (p *fakePeer) requests() []request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]request(nil), p.reqs...)
}

func (p *fakePeer) connCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns
}

// loginOK answers logins with user id 0 and lets next handle the rest.
func loginOK(next func(r request) reply) func(r request) reply {
	return func(r request) reply {
		switch r.code {
		case wire.CmdLoginUser, wire.CmdLoginWithAccessToken:
			return ok((&wire.Identity{UserID: 0}).AppendTo(nil))
		case wire.CmdPing:
			return ok(nil)
		}
		return next(r)
	}
}

func unhexT(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dialTest connects a client with keepalive off and short backoff.
func dialTest(t testing.TB, p *fakePeer, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{Addr: p.addr(), Username: "iggy", Password: "iggy", PingInterval: -1,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, RequestTimeout: 10 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func frameEq(t testing.TB, got []byte, wantHex string) {
	t.Helper()
	if want := unhexT(t, wantHex); !bytes.Equal(got, want) {
		t.Fatalf("request bytes\n got %x\nwant %x", got, want)
	}
}
