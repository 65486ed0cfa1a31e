package binance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ims-dev/ims/internal/record"
)

// HandshakeError is a websocket upgrade the server refused with an HTTP
// status: 429 (too many requests) and 418 (IP banned) carry Retry-After.
type HandshakeError struct {
	URL        string
	Status     int
	RetryAfter time.Duration // 0 when the server sent none
	Err        error
}

func (e *HandshakeError) Error() string {
	s := fmt.Sprintf("websocket handshake with %s refused: HTTP %d", e.URL, e.Status)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %v)", e.RetryAfter)
	}
	return s
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// RequestError is an error reply to SUBSCRIBE, UNSUBSCRIBE or
// LIST_SUBSCRIPTIONS ({"code":2,"msg":"Invalid request: ..."}).
type RequestError struct {
	Method string
	Code   int64
	Msg    string
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("binance %s: error %d: %s", e.Method, e.Code, e.Msg)
}

// ErrAckTimeout is returned when a control request gets no reply in time.
var ErrAckTimeout = errors.New("no reply to websocket request")

// errConnClosed is returned by requests on a connection that ended.
var errConnClosed = errors.New("websocket connection closed")

type ackResult struct {
	result []byte
	err    error
}

type pendingAck struct {
	id     int64
	method string
	ch     chan ackResult
}

// conn is one websocket connection of a shard. Its read loop owns the
// parser and the read buffer; writes are serialised by writeMu and paced by
// the message limiter.
type conn struct {
	id     uint32
	feed   *Feed
	sh     *shard
	ws     *websocket.Conn // nil for replayed connections
	url    string
	parser *Parser
	lim    *msgLimiter
	opened time.Time

	writeMu sync.Mutex

	mu      sync.Mutex
	pending []pendingAck // in request order
	ended   bool

	done      chan struct{} // closed when the read loop ends
	endErr    error         // why, valid after done
	firstData chan struct{} // closed at the first market-data frame
	synced    chan struct{} // closed once the connection proved it overlaps the primary
	shutdown  chan struct{} // closed at a serverShutdown notice
	dataOnce  sync.Once
	syncOnce  sync.Once
	shutOnce  sync.Once
	closing   atomic.Bool           // we closed it on purpose (rotation, unsubscribe, stop)
	lastSeen  atomic.Int64          // unix ns of the last frame, ping or pong from the server
	deadErr   atomic.Pointer[error] // why the probe ended the connection

	streams map[StreamName]bool // what the connection carries (guarded by feed.mu)
	initial int                 // streams in its URL
	buf     []byte
}

func newConn(f *Feed, sh *shard, id uint32, url string) *conn {
	return &conn{
		id:        id,
		feed:      f,
		sh:        sh,
		url:       url,
		parser:    NewParser(f.cfg.Market, ParserOptions{TimeUnit: f.cfg.TimeUnit}),
		lim:       newMsgLimiter(f.msgRate, 1),
		opened:    f.now(),
		done:      make(chan struct{}),
		firstData: make(chan struct{}),
		synced:    make(chan struct{}),
		shutdown:  make(chan struct{}),
		streams:   make(map[StreamName]bool),
		buf:       make([]byte, 0, 4096),
	}
}

// dial opens the websocket at url. A refused upgrade is a *HandshakeError.
func (f *Feed) dial(ctx context.Context, url string) (*websocket.Conn, error) {
	d := websocket.Dialer{
		HandshakeTimeout: f.cfg.HandshakeTimeout,
		ReadBufferSize:   64 << 10,
		WriteBufferSize:  4 << 10,
		Proxy:            http.ProxyFromEnvironment,
	}
	ws, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			he := &HandshakeError{URL: redactURL(url), Status: resp.StatusCode, Err: err}
			if ra := resp.Header.Get("Retry-After"); ra != "" {
				if secs, perr := strconv.Atoi(strings.TrimSpace(ra)); perr == nil && secs > 0 {
					he.RetryAfter = time.Duration(secs) * time.Second
				} else if t, perr := http.ParseTime(ra); perr == nil {
					he.RetryAfter = max(time.Until(t), 0)
				}
			}
			return nil, he
		}
		return nil, fmt.Errorf("connecting to %s: %w", redactURL(url), err)
	}
	ws.SetReadLimit(f.cfg.MaxFrameSize)
	return ws, nil
}

// redactURL shortens a stream URL for logs: a 1024-stream query is noise.
func redactURL(u string) string {
	if len(u) <= 160 {
		return u
	}
	return u[:150] + "…(" + strconv.Itoa(len(u)) + " bytes)"
}

// start starts the read loop of a dialled connection (c.ws is set before
// the connection is registered, and never changes).
func (c *conn) start(ctx context.Context) {
	ws := c.ws
	f := c.feed
	timeout := f.cfg.ReadTimeout
	c.lastSeen.Store(time.Now().UnixNano())
	ws.SetPongHandler(func(string) error {
		c.lastSeen.Store(time.Now().UnixNano())
		if timeout > 0 {
			_ = ws.SetReadDeadline(time.Now().Add(timeout))
		}
		return nil
	})
	ws.SetPingHandler(func(data string) error {
		c.lastSeen.Store(time.Now().UnixNano())
		if timeout > 0 {
			_ = ws.SetReadDeadline(time.Now().Add(timeout))
		}
		// Pongs count against the connection's message limit.
		if err := c.lim.wait(ctx); err != nil {
			return nil
		}
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			return err
		}
		return nil
	})
	// The Open record names the shard (its Stream), so a replay keeps a
	// shard's connections together even when a successor's URL differs
	// (streams subscribed live go in the next connection's URL).
	f.recordEvent(c, record.KindOpen, shardKey(c.sh.id), []byte(c.url))
	// Run waits for every read loop, a rotated-out connection's included,
	// so no handler call or recorder write happens after it returns.
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		c.readLoop()
	}()
	if f.cfg.ProbeAfter > 0 {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			c.probe(ctx)
		}()
	}
}

// probe pings the server whenever the connection has been quiet for
// ProbeAfter and ends it when nothing at all (a frame, a ping, the pong)
// arrives within ProbeTimeout of that ping: the peer is gone. Binance
// answers pings with pongs; the ping counts against the message budget.
func (c *conn) probe(ctx context.Context) {
	f := c.feed
	after, timeout := f.cfg.ProbeAfter, f.cfg.ProbeTimeout
	t := time.NewTimer(after)
	defer t.Stop()
	var (
		seq     uint64
		payload []byte
	)
	wait := func() bool {
		select {
		case <-t.C:
			return true
		case <-c.done:
		case <-ctx.Done():
		}
		return false
	}
	for wait() {
		if quiet := time.Duration(time.Now().UnixNano() - c.lastSeen.Load()); quiet < after {
			t.Reset(after - quiet)
			continue
		}
		if err := c.lim.wait(ctx); err != nil {
			return
		}
		sent := time.Now().UnixNano()
		seq++
		payload = strconv.AppendUint(payload[:0], seq, 10)
		if err := c.ws.WriteControl(websocket.PingMessage, payload, time.Now().Add(timeout)); err != nil {
			return // a broken socket: the read loop sees it too
		}
		t.Reset(timeout)
		if !wait() {
			return
		}
		if c.lastSeen.Load() < sent {
			err := fmt.Errorf("nothing from the server within %v of a ping after %v quiet (dead connection)", timeout, after)
			c.deadErr.Store(&err)
			c.ws.Close() // the read loop ends and calls finish with err
			return
		}
		t.Reset(max(after-time.Duration(time.Now().UnixNano()-c.lastSeen.Load()), 0))
	}
}

func (c *conn) readLoop() {
	f := c.feed
	timeout := f.cfg.ReadTimeout
	var err error
	for {
		if timeout > 0 {
			_ = c.ws.SetReadDeadline(time.Now().Add(timeout))
		}
		var (
			typ int
			r   io.Reader
		)
		typ, r, err = c.ws.NextReader()
		if err != nil {
			break
		}
		if err = c.readFrame(r); err != nil {
			break
		}
		recv := time.Now().UnixNano()
		c.lastSeen.Store(recv)
		switch typ {
		case websocket.TextMessage:
			// handleFrame records it: under the shard's lock, so the
			// recording has a shard's frames in the order they were
			// sequenced, whichever connection they came from.
			c.sh.handleFrame(c, c.buf, recv)
		case websocket.BinaryMessage:
			f.recordFrame(c, record.KindBinary, c.buf, recv)
			f.malformed(c, "frame: binary frame on a JSON stream", c.buf)
		}
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		err = fmt.Errorf("no frame or ping for %v (silent connection): %w", timeout, err)
	}
	if dead := c.deadErr.Load(); dead != nil {
		err = *dead
	}
	c.finish(err)
}

// readFrame reads one message into the reused buffer.
func (c *conn) readFrame(r io.Reader) error {
	b := c.buf[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			c.buf = b
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// finish marks the connection ended, fails its pending requests and
// records the close.
func (c *conn) finish(err error) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	if err == nil {
		err = errConnClosed
	}
	c.endErr = err
	pend := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, p := range pend {
		p.ch <- ackResult{err: fmt.Errorf("%s id %d: %w", p.method, p.id, errConnClosed)}
	}
	if c.ws != nil {
		c.ws.Close()
	}
	if c.sh != nil {
		c.sh.primaryLost(c)
	}
	c.feed.recordEvent(c, record.KindClose, nil, []byte(err.Error()))
	close(c.done)
}

// close ends the connection on purpose with a normal close frame.
func (c *conn) close(reason string) {
	c.closing.Store(true)
	if c.ws != nil {
		_ = c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, reason), time.Now().Add(time.Second))
		c.ws.Close() // the read loop ends and calls finish
	} else {
		c.finish(errors.New(reason))
	}
}

// isDone reports whether the read loop ended.
func (c *conn) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// request sends a control message and waits for its reply.
func (c *conn) request(ctx context.Context, method string, params []string) ([]byte, error) {
	if c.ws == nil {
		return nil, fmt.Errorf("%s: %w", method, errConnClosed)
	}
	f := c.feed
	id := f.reqID.Add(1)
	msg := make([]byte, 0, 64+len(params)*24)
	msg = append(msg, `{"method":"`...)
	msg = append(msg, method...)
	msg = append(msg, '"')
	if params != nil {
		msg = append(msg, `,"params":[`...)
		for i, p := range params {
			if i > 0 {
				msg = append(msg, ',')
			}
			msg = strconv.AppendQuote(msg, p)
		}
		msg = append(msg, ']')
	}
	msg = append(msg, `,"id":`...)
	msg = strconv.AppendInt(msg, id, 10)
	msg = append(msg, '}')

	ch := make(chan ackResult, 1)
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", method, errConnClosed)
	}
	c.pending = append(c.pending, pendingAck{id: id, method: method, ch: ch})
	c.mu.Unlock()

	if err := c.lim.wait(ctx); err != nil {
		c.dropPending(id)
		return nil, err
	}
	c.writeMu.Lock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	err := c.ws.WriteMessage(websocket.TextMessage, msg)
	c.writeMu.Unlock()
	if err != nil {
		c.dropPending(id)
		return nil, fmt.Errorf("sending %s: %w", method, err)
	}
	t := time.NewTimer(f.cfg.AckTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.result, r.err
	case <-t.C:
		c.dropPending(id)
		f.stats.ackTimeouts.Add(1)
		return nil, fmt.Errorf("%s id %d on connection %d: %w after %v", method, id, c.id, ErrAckTimeout, f.cfg.AckTimeout)
	case <-ctx.Done():
		c.dropPending(id)
		return nil, ctx.Err()
	}
}

func (c *conn) dropPending(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range c.pending {
		if p.id == id {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return
		}
	}
}

// ack delivers a reply. A reply without an id (Binance's error replies to
// requests it could not parse) answers the oldest pending request.
func (c *conn) ack(fr *Frame) {
	c.mu.Lock()
	idx := -1
	if fr.HasID {
		for i, p := range c.pending {
			if p.id == fr.ID {
				idx = i
				break
			}
		}
	} else if len(c.pending) > 0 {
		idx = 0
	}
	if idx < 0 {
		c.mu.Unlock()
		c.feed.log().Debug("reply to no pending request", "conn", c.id, "id", fr.ID)
		return
	}
	p := c.pending[idx]
	c.pending = append(c.pending[:idx], c.pending[idx+1:]...)
	c.mu.Unlock()
	if fr.Type == FrameError {
		p.ch <- ackResult{err: &RequestError{Method: p.method, Code: fr.Code, Msg: fr.MsgString()}}
		return
	}
	p.ch <- ackResult{result: bytes.Clone(fr.Result)}
}

func (c *conn) markData() {
	c.dataOnce.Do(func() { close(c.firstData) })
}

func (c *conn) markSynced() {
	c.syncOnce.Do(func() { close(c.synced) })
}

func (c *conn) markShutdown() {
	c.shutOnce.Do(func() { close(c.shutdown) })
}
