package binancetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WSConfig shapes a fake Binance websocket endpoint. Zero values take the
// defaults noted on each field; tests shorten the intervals.
type WSConfig struct {
	// Futures selects futures behaviour: depth diffs chained by pu, a
	// 10 msg/s default limit. Spot otherwise.
	Futures bool
	// Routed makes the server behave like USD-M: streams are split between
	// /public and /market, and a stream asked for on the wrong route (or on
	// an unrouted path) is accepted but never sent anything.
	Routed bool
	// PingInterval is how often the server pings (0: never).
	PingInterval time.Duration
	// PongTimeout closes a connection whose last ping went unanswered this
	// long (default 3 × PingInterval).
	PongTimeout time.Duration
	// MsgLimit is the most client messages (text frames, pings, pongs) per
	// MsgWindow before the server closes with 1008 "Too many requests".
	// Default 5 (spot) or 10 (futures); negative disables the check.
	MsgLimit  int
	MsgWindow time.Duration // default 1 s
	// Lifetime cuts every connection this long after it opened (0: never):
	// Binance's 24 h limit, shortened.
	Lifetime time.Duration
	// MaxStreams is the most streams per connection (default 1024).
	MaxStreams int
	// MaxURL is the longest request URI (path and query) an upgrade may
	// have (default 8000): Binance was measured to take URLs up to 8004
	// characters, host included, so 1024 streams do not fit in one; longer
	// requests are refused with 414.
	MaxURL int
}

// PublicChannel reports whether a USD-M stream goes on /public: book
// tickers, depth (diff and partial) and trades; everything else is /market.
// The fake keeps its own copy of this rule so tests check the feed's table
// against it rather than against itself.
func PublicChannel(stream string) bool {
	ch := streamChannel(stream)
	return ch == "bookTicker" || ch == "trade" || strings.HasPrefix(ch, "depth") || strings.HasPrefix(ch, "rpiDepth")
}

// streamChannel is the part of a stream name after '@' up to the next '@',
// or for an all-market stream ("!bookTicker", "!miniTicker@arr") the name
// after '!' up to the first '@'.
func streamChannel(stream string) string {
	if all, ok := strings.CutPrefix(stream, "!"); ok {
		ch, _, _ := strings.Cut(all, "@")
		return ch
	}
	_, ch, ok := strings.Cut(stream, "@")
	if !ok {
		return ""
	}
	ch, _, _ = strings.Cut(ch, "@")
	return ch
}

// Handshake is a rejection the server answers upgrades with.
type Handshake struct {
	Status     int           // 429, 418, ...
	RetryAfter time.Duration // Retry-After header (whole seconds); 0 omits it
}

// WS is a fake Binance websocket server. Mount it with httptest.NewServer or
// under another mux; it serves /ws/..., /stream?streams=... and, routed,
// /public/... and /market/... Every state change wakes Wait.
type WS struct {
	cfg      WSConfig
	upgrader websocket.Upgrader

	mu        sync.Mutex
	conns     map[int]*WSConn
	nextID    int
	attempts  int // upgrade requests seen
	attemptAt []time.Time
	pongs     int // pongs that answered a ping
	pings     int // pings from clients (answered unless the connection is silenced)
	connects  int // upgrades accepted
	rejects   []Handshake
	sources   map[string]*Source
	closes    []CloseEvent
	requests  []Request
	ackMode   AckMode
	heldAcks  []heldAck
	changed   chan struct{}
	closed    bool
	pacers    sync.WaitGroup
	stopPaced chan struct{}
}

// CloseEvent records why the server ended a connection.
type CloseEvent struct {
	Conn   int
	Code   int    // close code sent (0: dropped without a close frame)
	Reason string // close text or why it was dropped
}

// Request is a control message the server received.
type Request struct {
	Conn   int
	Method string
	Params []string
	ID     json.RawMessage
	At     time.Time
}

// AckMode controls how the server answers SUBSCRIBE and UNSUBSCRIBE.
type AckMode uint8

const (
	AckNormal AckMode = iota // {"result":null,"id":N}
	AckNone                  // apply the request, send no reply
	AckError                 // reply {"code":2,"msg":"Invalid request: ..."} and do not apply
	// AckHeld applies the request at once and holds the reply until
	// SetAckMode leaves AckHeld, then sends the held replies in order: a
	// slow ack.
	AckHeld
)

// NewWS returns a fake websocket server.
func NewWS(cfg WSConfig) *WS {
	if cfg.PongTimeout == 0 {
		cfg.PongTimeout = 3 * cfg.PingInterval
	}
	if cfg.MsgLimit == 0 {
		cfg.MsgLimit = 5
		if cfg.Futures {
			cfg.MsgLimit = 10
		}
	}
	if cfg.MsgWindow == 0 {
		cfg.MsgWindow = time.Second
	}
	if cfg.MaxStreams == 0 {
		cfg.MaxStreams = 1024
	}
	if cfg.MaxURL == 0 {
		cfg.MaxURL = 8000
	}
	return &WS{
		cfg:       cfg,
		upgrader:  websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
		conns:     make(map[int]*WSConn),
		sources:   make(map[string]*Source),
		changed:   make(chan struct{}),
		stopPaced: make(chan struct{}),
	}
}

// notify wakes every Wait; call with mu held.
func (s *WS) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Wait blocks until cond returns true, re-checking it after every state
// change (connect, subscribe, close, request). cond must not call Wait.
func (s *WS) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fake websocket: waiting: %w", ctx.Err())
		}
	}
}

// RejectHandshakes makes the next upgrades fail with the given answers, in
// order (one per attempt).
func (s *WS) RejectHandshakes(h ...Handshake) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects = append(s.rejects, h...)
}

// heldAck is a reply AckHeld keeps back.
type heldAck struct {
	c   *WSConn
	msg []byte
}

// SetAckMode changes how later SUBSCRIBE/UNSUBSCRIBE requests are answered;
// leaving AckHeld sends the replies held, in order.
func (s *WS) SetAckMode(m AckMode) {
	s.mu.Lock()
	s.ackMode = m
	var held []heldAck
	if m != AckHeld {
		held, s.heldAcks = s.heldAcks, nil
	}
	s.mu.Unlock()
	for _, h := range held {
		h.c.write(websocket.TextMessage, h.msg)
	}
}

// Attempts is the number of upgrade requests seen; Connects the number
// accepted.
func (s *WS) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// AttemptTimes returns when each upgrade request arrived.
func (s *WS) AttemptTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.attemptAt)
}

// Pongs counts pongs that answered the server's pings, on all connections.
func (s *WS) Pongs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pongs
}

// Pings counts the pings clients sent, on all connections.
func (s *WS) Pings() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pings
}

// Connects is the number of upgrades accepted.
func (s *WS) Connects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connects
}

// Conns returns the open connections, oldest first.
func (s *WS) Conns() []*WSConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*WSConn, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *WSConn) int { return a.ID - b.ID })
	return out
}

// Closes returns every connection end the server caused, in order.
func (s *WS) Closes() []CloseEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.closes)
}

// Requests returns every control message received, in order.
func (s *WS) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Subscribers counts open connections subscribed to stream (whether or not
// their route lets it deliver).
func (s *WS) Subscribers(stream string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conns {
		if c.subs[stream] {
			n++
		}
	}
	return n
}

// ServeHTTP upgrades websocket requests on the Binance paths.
func (s *WS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	route := ""
	for _, p := range []string{"/public", "/market", "/private"} {
		if strings.HasPrefix(path, p+"/") {
			route, path = p[1:], path[len(p):]
			break
		}
	}
	if !s.cfg.Routed && route != "" {
		http.NotFound(w, r)
		return
	}
	var streams []string
	combined := false
	switch {
	case path == "/stream":
		combined = true
		if v := r.URL.Query().Get("streams"); v != "" {
			streams = strings.Split(v, "/")
		}
	case path == "/ws":
	case strings.HasPrefix(path, "/ws/"):
		streams = strings.Split(path[len("/ws/"):], "/")
	default:
		http.NotFound(w, r)
		return
	}
	streams = slices.DeleteFunc(streams, func(s string) bool { return s == "" })

	s.mu.Lock()
	s.attempts++
	s.attemptAt = append(s.attemptAt, time.Now())
	if len(s.rejects) > 0 {
		h := s.rejects[0]
		s.rejects = s.rejects[1:]
		s.notify()
		s.mu.Unlock()
		if h.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((h.RetryAfter+time.Second-1)/time.Second)))
		}
		http.Error(w, http.StatusText(h.Status), h.Status)
		return
	}
	closed := s.closed
	s.mu.Unlock()
	if closed {
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	if len(r.RequestURI) > s.cfg.MaxURL {
		http.Error(w, http.StatusText(http.StatusRequestURITooLong), http.StatusRequestURITooLong)
		return
	}
	if len(streams) > s.cfg.MaxStreams {
		http.Error(w, fmt.Sprintf("too many streams: %d > %d", len(streams), s.cfg.MaxStreams), http.StatusBadRequest)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered already
	}
	c := &WSConn{srv: s, ws: ws, route: route, combined: combined, subs: make(map[string]bool),
		opened: time.Now(), done: make(chan struct{}), pongs: make(chan string, 4)}
	s.mu.Lock()
	s.nextID++
	c.ID = s.nextID
	s.connects++
	for _, st := range streams {
		c.subs[st] = true
		c.order = append(c.order, st)
	}
	s.conns[c.ID] = c
	s.notify()
	s.mu.Unlock()
	go c.run()
}

// Close ends every connection and stops the paced sources.
func (s *WS) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stopPaced)
	}
	conns := make([]*WSConn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Drop("server closed")
	}
	s.pacers.Wait()
}

// Shutdown sends a serverShutdown event on every connection, as spot does
// before maintenance.
func (s *WS) Shutdown() {
	payload := []byte(fmt.Sprintf(`{"e":"serverShutdown","E":%d}`, time.Now().UnixMilli()))
	for _, c := range s.Conns() {
		c.send("!serverShutdown", payload)
	}
}

// Push sends payload (a raw event) to every connection subscribed to stream
// whose route carries it, wrapped on combined connections. It returns how
// many connections it was written to.
func (s *WS) Push(stream string, payload []byte) int {
	n := 0
	for _, c := range s.Conns() {
		if c.delivers(stream) && c.send(stream, payload) {
			n++
		}
	}
	return n
}

// SetSource attaches a frame source to stream; Emit and Pace draw from it.
func (s *WS) SetSource(stream string, src *Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sources[stream] = src
}

// Emit sends the next n frames of stream's source to its subscribers and
// returns the frames sent (ids consecutive unless Skip was called).
func (s *WS) Emit(stream string, n int) [][]byte {
	s.mu.Lock()
	src := s.sources[stream]
	s.mu.Unlock()
	if src == nil {
		panic("binancetest: no source for stream " + stream)
	}
	out := make([][]byte, 0, n)
	for range n {
		f := src.Next()
		s.Push(stream, f)
		out = append(out, f)
	}
	return out
}

// Pace emits from stream's source every interval until Close.
func (s *WS) Pace(stream string, interval time.Duration) {
	s.pacers.Add(1)
	go func() {
		defer s.pacers.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stopPaced:
				return
			case <-t.C:
				s.Emit(stream, 1)
			}
		}
	}()
}

// WSConn is one client connection on the fake server.
type WSConn struct {
	ID       int
	srv      *WS
	ws       *websocket.Conn
	route    string // "", "public" or "market"
	combined bool
	opened   time.Time
	writeMu  sync.Mutex
	done     chan struct{}
	pongs    chan string

	// guarded by srv.mu
	subs   map[string]bool
	order  []string
	silent bool
	ended  bool
}

// Route is the routed path the connection came in on ("" when unrouted).
func (c *WSConn) Route() string { return c.route }

// Subscriptions lists the connection's streams in subscription order.
func (c *WSConn) Subscriptions() []string {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	return slices.Clone(c.order)
}

// delivers reports whether a push on stream reaches this connection: it is
// subscribed and, routed, the stream belongs to its route (an unrouted
// connection gets public streams only). A wrong route is silent.
func (c *WSConn) delivers(stream string) bool {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	if !c.subs[stream] || c.silent || c.ended {
		return false
	}
	if !c.srv.cfg.Routed {
		return true
	}
	public := PublicChannel(stream)
	switch c.route {
	case "market":
		return !public
	default: // "public" and unrouted
		return public
	}
}

// Silence stops the connection sending anything (frames, pings, acks)
// while keeping the socket open: a dead stream the client must detect.
func (c *WSConn) Silence() {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	c.silent = true
}

// Close sends a close frame with code and text, then ends the connection.
func (c *WSConn) Close(code int, text string) {
	c.writeMu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	c.writeMu.Unlock()
	c.end(code, text)
}

// Drop ends the connection without a close frame, as a network failure does.
func (c *WSConn) Drop(reason string) { c.end(0, reason) }

func (c *WSConn) end(code int, reason string) {
	s := c.srv
	s.mu.Lock()
	if c.ended {
		s.mu.Unlock()
		return
	}
	c.ended = true
	delete(s.conns, c.ID)
	s.closes = append(s.closes, CloseEvent{Conn: c.ID, Code: code, Reason: reason})
	s.notify()
	s.mu.Unlock()
	close(c.done)
	c.ws.Close()
}

func (c *WSConn) isSilent() bool {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	return c.silent
}

// send writes one event, wrapped when the connection is combined.
func (c *WSConn) send(stream string, payload []byte) bool {
	if c.isSilent() {
		return false
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	msg := payload
	if c.combined {
		msg = make([]byte, 0, len(payload)+len(stream)+22)
		msg = append(msg, `{"stream":"`...)
		msg = append(msg, stream...)
		msg = append(msg, `","data":`...)
		msg = append(msg, payload...)
		msg = append(msg, '}')
	}
	return c.writeLocked(websocket.TextMessage, msg)
}

func (c *WSConn) write(kind int, msg []byte) bool {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.writeLocked(kind, msg)
}

func (c *WSConn) writeLocked(kind int, msg []byte) bool {
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(kind, msg) == nil
}

// run is the connection's read loop; a helper goroutine pings and enforces
// the lifetime.
func (c *WSConn) run() {
	s := c.srv
	var (
		mu     sync.Mutex
		recent []time.Time // arrival times of the last MsgLimit messages
	)
	// count applies the incoming message limit; it reports false once the
	// connection was closed for exceeding it.
	count := func() bool {
		if s.cfg.MsgLimit < 0 {
			return true
		}
		mu.Lock()
		now := time.Now()
		recent = append(recent, now)
		over := len(recent) > s.cfg.MsgLimit && now.Sub(recent[len(recent)-1-s.cfg.MsgLimit]) < s.cfg.MsgWindow
		if len(recent) > 4*s.cfg.MsgLimit {
			recent = append(recent[:0], recent[len(recent)-s.cfg.MsgLimit:]...)
		}
		mu.Unlock()
		if over {
			c.Close(websocket.ClosePolicyViolation, "Too many requests")
			return false
		}
		return true
	}
	c.ws.SetPingHandler(func(data string) error {
		s.mu.Lock()
		s.pings++
		s.notify()
		s.mu.Unlock()
		if !count() || c.isSilent() {
			return nil // a silenced connection is a dead peer: no pongs either
		}
		c.writeMu.Lock()
		defer c.writeMu.Unlock()
		return c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	c.ws.SetPongHandler(func(data string) error {
		if !count() {
			return nil
		}
		select {
		case c.pongs <- data:
		default:
		}
		return nil
	})
	go c.keepalive()
	for {
		kind, msg, err := c.ws.ReadMessage()
		if err != nil {
			c.end(0, "read: "+err.Error())
			return
		}
		if !count() {
			return
		}
		if kind == websocket.TextMessage {
			c.handleRequest(msg)
		}
	}
}

func (c *WSConn) keepalive() {
	s := c.srv
	var ping, life <-chan time.Time
	if s.cfg.PingInterval > 0 {
		t := time.NewTicker(s.cfg.PingInterval)
		defer t.Stop()
		ping = t.C
	}
	if s.cfg.Lifetime > 0 {
		t := time.NewTimer(s.cfg.Lifetime)
		defer t.Stop()
		life = t.C
	}
	var (
		waiting  string // payload of the unanswered ping
		deadline <-chan time.Time
		seq      int
	)
	for {
		select {
		case <-c.done:
			return
		case <-life:
			c.Close(websocket.CloseGoingAway, "connection lifetime exceeded")
			return
		case <-ping:
			if c.isSilent() || waiting != "" {
				continue
			}
			seq++
			waiting = strconv.Itoa(seq)
			c.writeMu.Lock()
			err := c.ws.WriteControl(websocket.PingMessage, []byte(waiting), time.Now().Add(time.Second))
			c.writeMu.Unlock()
			if err != nil {
				c.end(0, "ping: "+err.Error())
				return
			}
			deadline = time.After(s.cfg.PongTimeout)
		case p := <-c.pongs:
			if p == waiting {
				waiting, deadline = "", nil
				s.mu.Lock()
				s.pongs++
				s.notify()
				s.mu.Unlock()
			}
		case <-deadline:
			c.Close(websocket.ClosePolicyViolation, "pong timeout")
			return
		}
	}
}

// The control protocol's error replies, exactly as Binance words them.
const (
	errUnknownProperty = `{"code":0,"msg":"Unknown property","id":%s}`
	errExpectedBoolean = `{"code":1,"msg":"Invalid value type: expected Boolean"}`
	errPropertyName    = `{"code":2,"msg":"Invalid request: property name must be a string"}`
	errRequestID       = `{"code":2,"msg":"Invalid request: request ID must be an unsigned integer"}`
	errUnknownVariant  = `{"code":2,"msg":"Invalid request: unknown variant %s, expected one of SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY at line 1 column 28"}`
	errTooManyParams   = `{"code":2,"msg":"Invalid request: too many parameters"}`
	errMissingMethod   = `{"code":2,"msg":"Invalid request: missing field method at line 1 column %d"}`
	errInvalidJSON     = `{"code":3,"msg":"Invalid JSON: expected value at line %d column %d"}`
)

func (c *WSConn) reply(format string, args ...any) {
	if c.isSilent() {
		return
	}
	c.write(websocket.TextMessage, []byte(fmt.Sprintf(format, args...)))
}

func (c *WSConn) handleRequest(msg []byte) {
	var req struct {
		Method *string           `json:"method"`
		Params []json.RawMessage `json:"params"`
		ID     json.RawMessage   `json:"id"`
	}
	if err := json.Unmarshal(msg, &req); err != nil {
		line, col := 1, 1
		if se, ok := err.(*json.SyntaxError); ok {
			col = int(se.Offset)
		}
		c.reply(errInvalidJSON, line, col)
		return
	}
	if req.Method == nil {
		c.reply(errMissingMethod, len(msg))
		return
	}
	id := req.ID
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	if string(id) != "null" {
		if _, err := strconv.ParseUint(string(id), 10, 64); err != nil {
			c.reply(errRequestID)
			return
		}
	}
	params := make([]string, 0, len(req.Params))
	for _, p := range req.Params {
		var str string
		if json.Unmarshal(p, &str) == nil {
			params = append(params, str)
		} else {
			params = append(params, string(p))
		}
	}
	s := c.srv
	s.mu.Lock()
	s.requests = append(s.requests, Request{Conn: c.ID, Method: *req.Method, Params: params, ID: bytes.Clone(id), At: time.Now()})
	mode := s.ackMode
	s.notify()
	s.mu.Unlock()

	switch *req.Method {
	case "SUBSCRIBE", "UNSUBSCRIBE":
		if mode == AckError {
			c.reply(`{"code":2,"msg":"Invalid request: %s rejected by the fake exchange","id":%s}`, *req.Method, id)
			return
		}
		s.mu.Lock()
		for _, st := range params {
			if *req.Method == "SUBSCRIBE" {
				if !c.subs[st] {
					if len(c.order) >= s.cfg.MaxStreams {
						continue
					}
					c.subs[st] = true
					c.order = append(c.order, st)
				}
			} else if c.subs[st] {
				delete(c.subs, st)
				c.order = slices.DeleteFunc(c.order, func(x string) bool { return x == st })
			}
		}
		reply := []byte(fmt.Sprintf(`{"result":null,"id":%s}`, id))
		held := false
		if s.ackMode == AckHeld {
			s.heldAcks = append(s.heldAcks, heldAck{c, reply})
			held = true
		}
		s.notify()
		s.mu.Unlock()
		if mode == AckNone || held {
			return
		}
		c.reply("%s", reply)
	case "LIST_SUBSCRIPTIONS":
		list, _ := json.Marshal(c.Subscriptions())
		c.reply(`{"result":%s,"id":%s}`, list, id)
	case "SET_PROPERTY":
		if len(req.Params) != 2 {
			c.reply(errTooManyParams)
			return
		}
		var name string
		if json.Unmarshal(req.Params[0], &name) != nil {
			c.reply(errPropertyName)
			return
		}
		if name != "combined" {
			c.reply(errUnknownProperty, id)
			return
		}
		var v bool
		if json.Unmarshal(req.Params[1], &v) != nil {
			c.reply(errExpectedBoolean)
			return
		}
		c.writeMu.Lock()
		c.combined = v
		c.writeMu.Unlock()
		c.reply(`{"result":null,"id":%s}`, id)
	case "GET_PROPERTY":
		if len(req.Params) != 1 {
			c.reply(errTooManyParams)
			return
		}
		var name string
		if json.Unmarshal(req.Params[0], &name) != nil {
			c.reply(errPropertyName)
			return
		}
		if name != "combined" {
			c.reply(errUnknownProperty, id)
			return
		}
		c.writeMu.Lock()
		v := c.combined
		c.writeMu.Unlock()
		c.reply(`{"result":%t,"id":%s}`, v, id)
	default:
		m, _ := json.Marshal(*req.Method)
		c.reply(errUnknownVariant, "`"+strings.Trim(string(m), `"`)+"`")
	}
}
