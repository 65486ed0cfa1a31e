// Package iggy is a client for Apache Iggy's classic binary protocol over
// TCP or TLS (server 0.7.x–0.8.x, and ims's embedded server).
//
// A Client holds one connection and is safe for concurrent use; the
// protocol is lock-step, so calls are serialised. After a dropped
// connection the next call reconnects, logs in again with the configured
// credentials and rejoins the consumer groups it had joined. The call that
// met the failure is retried when that is safe: when the request never left
// the client, or when it is idempotent (reads, offset stores, flushes,
// renames). A SendMessages whose reply was lost is not resent (the server may
// have appended it; a resend would duplicate the messages) unless
// Config.RetrySends is set, which suits producers that use deterministic
// message ids with server-side deduplication. Such a call fails with an error
// matching ErrOutcomeUnknown.
//
// Every call takes a context. Cancelling it abandons the call; if a request
// was written and its reply is still pending the connection is closed, so
// the next call starts clean on a new one.
//
// Server errors are *wire.Error values carrying Iggy's code and name,
// wrapped with the operation: errors.As(err, &werr) recovers them and
// errors.Is(err, wire.ErrStreamIdNotFound) tests for one. A GET of something
// that does not exist is not an error: the Get methods return found=false.
package iggy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// Version is the client version sent in LoginUser. The server ignores it;
// it is empty, as the Rust SDK's wire type sends it, so the login frame
// matches the protocol's golden vector.
const Version = ""

// Defaults for a zero Config.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 30 * time.Second
	DefaultPingInterval   = 5 * time.Second
	DefaultMaxRetries     = 5
	DefaultMinBackoff     = 100 * time.Millisecond
	DefaultMaxBackoff     = 3 * time.Second
)

// Config says where and how to connect.
type Config struct {
	Addr     string      // host:port
	TLS      *tls.Config // nil for plain TCP
	Username string      // with Password: logs in on every connect
	Password string
	Token    string // personal access token; used instead of Username/Password

	DialTimeout    time.Duration // per connection attempt (default 5s)
	RequestTimeout time.Duration // per call when ctx has no deadline (default 30s; <0 none)
	PingInterval   time.Duration // keepalive on an idle connection (default 5s; <0 off)
	MaxRetries     int           // reconnect attempts per call (default 5; <0 none)
	MinBackoff     time.Duration // first pause between attempts (default 100ms)
	MaxBackoff     time.Duration // longest pause (default 3s)
	RetrySends     bool          // resend SendMessages whose outcome is unknown

	// Codec frames requests (default ClassicCodec).
	Codec Codec
	// Dial opens the raw connection (default net.Dialer.DialContext).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logf, if set, receives reconnect and keepalive notices.
	Logf func(format string, args ...any)
}

func (c *Config) defaults() {
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Codec == nil {
		c.Codec = ClassicCodec{}
	}
	if c.Dial == nil {
		d := &net.Dialer{KeepAlive: 30 * time.Second}
		c.Dial = d.DialContext
	}
}

// Sentinel errors of the client itself.
var (
	// ErrClosed is returned by calls on a closed Client.
	ErrClosed = errors.New("iggy: client closed")
	// ErrOutcomeUnknown marks a non-idempotent call whose request was sent
	// but whose reply was lost: the server may or may not have applied it.
	ErrOutcomeUnknown = errors.New("iggy: connection lost after the request was sent; outcome unknown")
)

// Client is a connection to an Iggy server. It is safe for concurrent use.
type Client struct {
	cfg Config

	sem    chan struct{} // the connection lock, a channel so waits honour ctx
	done   chan struct{} // closed by Close
	ctx    context.Context
	cancel context.CancelFunc // cancels ctx (background work) on Close
	wg     sync.WaitGroup

	// Guarded by sem.
	conn     net.Conn
	br       *bufio.Reader
	wbuf     []byte
	rbuf     []byte
	cbuf     []byte // requests made while connecting (login, rejoin)
	creds    credentials
	batch    *wire.Batch     // SendMessages' reusable batch
	groups   []wire.GroupRef // joined, rejoined after reconnect
	userID   uint32
	loggedIn bool

	// live mirrors conn for Close, which must interrupt an exchange in
	// progress without waiting for the connection lock.
	liveMu sync.Mutex
	live   net.Conn

	lastUse    atomic.Int64  // unix nanoseconds of the last exchange
	probeAfter time.Duration // idle time after which a risky request first checks the conn
	connects   atomic.Int64
	closeOnce  sync.Once
}

type credentials struct {
	username, password, token string
}

// Dial connects to cfg.Addr, logs in when credentials are configured, and
// starts the keepalive. The connection is made now so configuration errors
// surface here; later drops are repaired transparently.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Addr == "" {
		return nil, errors.New("iggy: no server address")
	}
	cfg.defaults()
	c := &Client{
		cfg:   cfg,
		sem:   make(chan struct{}, 1),
		done:  make(chan struct{}),
		creds: credentials{cfg.Username, cfg.Password, cfg.Token},
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.probeAfter = time.Second
	c.sem <- struct{}{}
	err := c.connectLocked(ctx)
	<-c.sem
	if err != nil {
		c.cancel()
		return nil, err
	}
	if cfg.PingInterval > 0 {
		c.wg.Add(1)
		go c.keepalive()
	}
	return c, nil
}

// DialURL parses a connection string (see ParseURL) and dials it.
func DialURL(ctx context.Context, s string) (*Client, error) {
	cfg, err := ParseURL(s)
	if err != nil {
		return nil, err
	}
	return Dial(ctx, cfg)
}

// Close stops the keepalive and closes the connection. Calls in progress
// fail with ErrClosed or a connection error.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		c.cancel()
		c.liveMu.Lock()
		if c.live != nil {
			_ = c.live.SetDeadline(time.Unix(1, 0))
		}
		c.liveMu.Unlock()
	})
	c.wg.Wait()
	// Take the lock so no exchange is mid-way when the conn goes.
	c.sem <- struct{}{}
	err := c.dropLocked()
	<-c.sem
	return err
}

// Addr returns the server address.
func (c *Client) Addr() string { return c.cfg.Addr }

// UserID returns the id the server reported at the last login.
func (c *Client) UserID() (uint32, bool) {
	if err := c.lock(context.Background()); err != nil {
		return 0, false
	}
	defer c.unlock()
	return c.userID, c.loggedIn
}

// Connects counts the connections made so far (1 after Dial; more after
// reconnects).
func (c *Client) Connects() int64 { return c.connects.Load() }

func (c *Client) setLive(conn net.Conn) {
	c.liveMu.Lock()
	c.live = conn
	select {
	case <-c.done:
		if conn != nil {
			_ = conn.SetDeadline(time.Unix(1, 0))
		}
	default:
	}
	c.liveMu.Unlock()
}

func (c *Client) logf(format string, args ...any) {
	if c.cfg.Logf != nil {
		c.cfg.Logf(format, args...)
	}
}

func (c *Client) lock(ctx context.Context) error {
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return ErrClosed
	}
}

func (c *Client) unlock() { <-c.sem }

func (c *Client) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *Client) dropLocked() error {
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	c.br = nil
	c.setLive(nil)
	return err
}

// connectLocked dials, logs in and rejoins groups. On failure the
// connection is left closed.
func (c *Client) connectLocked(ctx context.Context) error {
	c.dropLocked()
	dctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	conn, err := c.cfg.Dial(dctx, "tcp", c.cfg.Addr)
	if err != nil {
		return fmt.Errorf("connecting to iggy at %s: %w", c.cfg.Addr, err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if c.cfg.TLS != nil {
		tconn := tls.Client(conn, c.cfg.TLS)
		if err := tconn.HandshakeContext(dctx); err != nil {
			conn.Close()
			return fmt.Errorf("TLS handshake with iggy at %s: %w", c.cfg.Addr, err)
		}
		conn = tconn
	}
	c.conn = conn
	c.br = bufio.NewReaderSize(conn, 64<<10)
	c.setLive(conn)
	c.connects.Add(1)
	c.loggedIn = false
	if err := c.loginLocked(ctx); err != nil {
		c.dropLocked()
		return err
	}
	kept := c.groups[:0]
	for i, g := range c.groups {
		req := wire.JoinConsumerGroup{GroupRef: g}
		_, err := c.simpleLocked(ctx, &req)
		var werr *wire.Error
		if errors.As(err, &werr) {
			// The server refused (the group, its topic or the right to join
			// is gone): no later reconnect will do better, and failing here
			// would fail every call. Forget the group; polls with it now get
			// the server's error.
			c.logf("iggy: cannot rejoin consumer group %v of %v/%v, forgetting it: %v", g.Group, g.Stream, g.Topic, err)
			continue
		}
		if err != nil {
			// Keep this group and the rest for the next attempt.
			kept = append(kept, c.groups[i:]...)
			c.groups = kept
			c.dropLocked()
			return fmt.Errorf("rejoining consumer group %v of %v/%v: %w", g.Group, g.Stream, g.Topic, err)
		}
		kept = append(kept, g)
	}
	c.groups = kept
	return nil
}

// loginLocked logs in on the current connection with the stored
// credentials, if any.
func (c *Client) loginLocked(ctx context.Context) error {
	var req wire.Request
	switch {
	case c.creds.token != "":
		req = &wire.LoginWithAccessToken{Token: c.creds.token}
	case c.creds.username != "":
		req = &wire.LoginUser{Username: c.creds.username, Password: c.creds.password, Version: Version}
	default:
		return nil
	}
	p, err := c.simpleLocked(ctx, req)
	if err != nil {
		return fmt.Errorf("logging in to iggy at %s: %w", c.cfg.Addr, err)
	}
	id, err := wire.ParseIdentity(p)
	if err != nil {
		return fmt.Errorf("logging in to iggy at %s: reading identity: %w", c.cfg.Addr, err)
	}
	c.userID, c.loggedIn = id.UserID, true
	return nil
}

// simpleLocked does one exchange on the current connection without retry
// (used while connecting).
func (c *Client) simpleLocked(ctx context.Context, req wire.Request) ([]byte, error) {
	var err error
	// Its own buffer: a retried request's frame may be in wbuf.
	c.cbuf, err = wire.AppendRequestFrame(c.cbuf[:0], req)
	if err != nil {
		return nil, err
	}
	status, p, _, err := c.exchangeLocked(ctx, c.cbuf, &c.rbuf)
	if err != nil {
		c.dropLocked()
		return nil, err
	}
	if status != 0 {
		return nil, wire.ErrorFromCode(status)
	}
	return p, nil
}

// exchangeLocked writes frame and reads the reply into *buf. sent reports
// whether any byte of the request was written. Deadlines come from ctx or
// the request timeout; a cancelled ctx interrupts blocked I/O.
func (c *Client) exchangeLocked(ctx context.Context, frame []byte, buf *[]byte) (status uint32, payload []byte, sent bool, err error) {
	conn := c.conn
	if conn == nil {
		// A call cancelled as an earlier reply (its reconnect's login)
		// arrived has dropped the connection: see below.
		err := expired(ctx)
		if err == nil {
			err = errors.New("iggy: connection dropped")
		}
		return 0, nil, false, err
	}
	deadline, has := ctx.Deadline()
	if !has && c.cfg.RequestTimeout > 0 {
		deadline, has = time.Now().Add(c.cfg.RequestTimeout), true
	}
	if has {
		_ = conn.SetDeadline(deadline)
	} else {
		_ = conn.SetDeadline(time.Time{})
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	}
	n, err := c.cfg.Codec.WriteRequest(conn, frame)
	sent = n > 0
	if err == nil {
		status, payload, *buf, err = c.cfg.Codec.ReadResponse(c.br, *buf)
	}
	c.lastUse.Store(time.Now().UnixNano())
	if stop != nil && !stop() {
		// ctx fired: its callback may still be about to poison the
		// deadline, so this connection cannot be trusted for the next call.
		// A reply that arrived in full still stands.
		c.dropLocked()
	}
	if err != nil {
		if cerr := asExpired(ctx, err); cerr != nil {
			err = cerr
		} else if c.isClosed() {
			err = fmt.Errorf("%w (%v)", ErrClosed, err)
		}
		return 0, nil, sent, err
	}
	return status, payload, sent, nil
}

// expired returns ctx's error, or context.DeadlineExceeded once ctx's
// deadline has passed even if its timer has not fired yet: the connection's
// deadline, set from it, can fire first, and the call must then fail as
// the caller's timeout rather than be retried as a network error.
func expired(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// asExpired returns err as the caller's cancellation or timeout when ctx
// has expired (naming err too, unless it already is that), else nil.
func asExpired(ctx context.Context, err error) error {
	cerr := expired(ctx)
	switch {
	case cerr == nil:
		return nil
	case errors.Is(err, cerr):
		return err
	}
	return fmt.Errorf("%w (%v)", cerr, err)
}

// roundTrip sends frame (a complete classic request for code) and returns
// the reply payload read into *buf, reconnecting and retrying as the package
// doc describes. A non-zero status becomes a *wire.Error.
// retryable says whether the request may be sent again after a reply was
// lost.
func (c *Client) roundTripLocked(ctx context.Context, code wire.Command, frame []byte, buf *[]byte, retryable bool) ([]byte, error) {
	backoff := c.cfg.MinBackoff
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if c.cfg.MaxRetries < 0 || attempt > c.cfg.MaxRetries {
				return nil, lastErr
			}
			if err := c.sleep(ctx, backoff); err != nil {
				return nil, fmt.Errorf("%w (after %v)", err, lastErr)
			}
			backoff = min(2*backoff, c.cfg.MaxBackoff)
		}
		if c.conn == nil {
			if err := c.connectLocked(ctx); err != nil {
				var werr *wire.Error
				if cerr := asExpired(ctx, err); cerr != nil {
					// A cancelled call: say so (the dial's own error may
					// not), and stop.
					return nil, cerr
				}
				if errors.As(err, &werr) {
					// Bad credentials: retrying won't help.
					return nil, err
				}
				lastErr = err
				c.logf("iggy: reconnect to %s failed (attempt %d): %v", c.cfg.Addr, attempt+1, err)
				continue
			}
			if attempt > 0 || c.connects.Load() > 1 {
				c.logf("iggy: reconnected to %s", c.cfg.Addr)
			}
		}
		if !retryable && !c.probeLocked() {
			c.logf("iggy: connection to %s was closed while idle; reconnecting", c.cfg.Addr)
			continue
		}
		status, p, sent, err := c.exchangeLocked(ctx, frame, buf)
		if err == nil {
			if status == 0 {
				return p, nil
			}
			werr := wire.ErrorFromCode(status)
			if status == wire.ErrStaleClient.Code || status == wire.ErrClientNotFound.Code {
				// The server closes the session after these.
				c.dropLocked()
			}
			return nil, werr
		}
		c.dropLocked()
		if cerr := asExpired(ctx, err); cerr != nil {
			// The deadline may have passed since the exchange looked.
			return nil, cerr
		}
		if c.isClosed() {
			return nil, err
		}
		var perr *ProtocolError
		if errors.As(err, &perr) {
			return nil, err
		}
		if sent && !retryable {
			return nil, fmt.Errorf("%w: %v", ErrOutcomeUnknown, err)
		}
		lastErr = err
		c.logf("iggy: connection to %s lost during %v: %v", c.cfg.Addr, code, err)
	}
}

// probeLocked checks, before a request that cannot be retried, whether an
// idle connection was closed by the peer (a server restart, an idle
// timeout): writing to it would fail only after the request left, leaving
// the outcome unknown although the server never saw it. A short read
// tells: a timeout means alive, EOF or an error means closed (the conn is
// dropped and false returned), data means the peer broke the lock-step
// protocol (dropped too). It costs up to a millisecond, and recently used
// connections are not probed, so a busy producer pays nothing.
func (c *Client) probeLocked() bool {
	if c.conn == nil || time.Since(time.Unix(0, c.lastUse.Load())) < c.probeAfter {
		return true
	}
	// A deadline already past fails before reading; a millisecond lets
	// the read see a pending EOF or reset.
	_ = c.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := c.br.Peek(1)
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return true
	}
	c.dropLocked()
	return false
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return ErrClosed
	}
}

// do runs one request and returns a copy-free view of the reply payload
// that is valid until the lock is released; callers parse it inside.
func (c *Client) do(ctx context.Context, req wire.Request, parse func(p []byte) error) error {
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.unlock()
	var err error
	c.wbuf, err = wire.AppendRequestFrame(c.wbuf[:0], req)
	if err != nil {
		return err
	}
	p, err := c.roundTripLocked(ctx, req.Command(), c.wbuf, &c.rbuf, req.Command().Idempotent())
	if err != nil {
		return err
	}
	if parse != nil {
		return parse(p)
	}
	return nil
}

// keepalive pings an idle connection every PingInterval so dead peers are
// noticed (and the connection repaired) before the next real call.
func (c *Client) keepalive() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		idle := time.Since(time.Unix(0, c.lastUse.Load()))
		if idle < c.cfg.PingInterval {
			continue
		}
		ctx, cancel := context.WithTimeout(c.ctx, c.cfg.PingInterval)
		if err := c.Ping(ctx); err != nil && !errors.Is(err, ErrClosed) {
			c.logf("iggy: keepalive ping to %s failed: %v", c.cfg.Addr, err)
		}
		cancel()
	}
}
