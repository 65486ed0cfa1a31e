package binance

import (
	"encoding/binary"
	"errors"
	"strconv"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

// FrameType says what a websocket text frame was.
type FrameType uint8

// Frame types.
const (
	FrameNone     FrameType = iota
	FrameEvent              // market data: Frame.Event is set
	FrameResponse           // reply to SUBSCRIBE & co: {"result":...,"id":n}
	FrameError              // request error: {"code":n,"msg":"..."}
	FrameShutdown           // spot serverShutdown: reconnect soon
)

func (t FrameType) String() string {
	switch t {
	case FrameEvent:
		return "event"
	case FrameResponse:
		return "response"
	case FrameError:
		return "error"
	case FrameShutdown:
		return "shutdown"
	}
	return "none"
}

// Frame is the result of parsing one websocket frame. It is owned by the
// Parser and valid until the next Parse or Next call; its byte slices alias
// the input frame.
type Frame struct {
	Type FrameType
	// Stream is the stream the frame came on: from the combined wrapper, or
	// the parser's raw stream (SetRawStream). HasStream is false otherwise.
	Stream    StreamName
	HasStream bool
	// Event is the market event (FrameEvent). Its pointers point into the
	// Parser: they are reused by the next Parse.
	Event source.Event
	// ID is the request id of a response or error. HasID is false when the
	// frame has none or it is not an integer; RawID then holds its raw JSON
	// (e.g. "\"abc\"" for a string id).
	ID    int64
	HasID bool
	RawID []byte
	// Result is the raw JSON of a response's "result" ("null" on success).
	Result []byte
	// Code and Msg are a request error's code and message. Msg is the raw
	// JSON string body (escapes not decoded; use MsgString).
	Code int64
	Msg  []byte
	// Time is the event time (µs) of a shutdown notice.
	Time int64
	// More reports that the payload is an array (an all-market stream) with
	// further events: call Parser.Next for each.
	More bool
}

// MsgString returns Msg with JSON escapes decoded.
func (f *Frame) MsgString() string {
	if out, ok := unescape(nil, f.Msg); ok {
		return string(out)
	}
	return string(f.Msg)
}

// Errors wrapped by ParseError: errors.Is(err, ErrMalformed) for bad input,
// ErrUnsupported for well-formed frames of a kind the parser does not map
// (e.g. a continuous_kline event).
var (
	ErrMalformed   = errors.New("malformed frame")
	ErrUnsupported = errors.New("unsupported frame")
)

// ParseError is what Parse returns for a frame it cannot map. Kind is a short,
// stable, low-cardinality description ("trade: missing p", "frame: invalid
// JSON: expected ':'") meant for counting and for logging once per kind;
// Offset is the byte offset in the frame where the problem was found.
type ParseError struct {
	Kind   string
	Offset int
	Err    error // ErrMalformed or ErrUnsupported
}

func (e *ParseError) Error() string {
	return "binance: " + e.Err.Error() + ": " + e.Kind + " (at byte " + strconv.Itoa(e.Offset) + ")"
}

func (e *ParseError) Unwrap() error { return e.Err }

// ParserOptions configure a Parser.
type ParserOptions struct {
	// TimeUnit is the unit of the connection's time fields: Millisecond
	// (the default) or Microsecond for spot streams opened with
	// timeUnit=MICROSECOND.
	TimeUnit TimeUnit
	// LevelCapacity presizes the reused depth-level slices (per side) so
	// the first frames do not grow them. Default 64.
	LevelCapacity int
}

// Parser turns the websocket frames of one connection into market events.
// It reuses one struct per event type and the depth-level slices, so after
// warm-up it allocates nothing per frame. A Parser is not safe for
// concurrent use; use one per connection (or per reading goroutine).
type Parser struct {
	market   Market
	exchange market.ExchangeID
	unit     TimeUnit
	futures  bool

	raw    StreamName
	hasRaw bool

	frame Frame
	top   table
	inner table
	bids  []market.Level
	asks  []market.Level
	err   error
	// b is the frame being parsed and what the event being extracted, for
	// the field getters.
	b    []byte
	what string
	// scratch holds decoded escaped strings (enum values, symbols).
	scratch [64]byte
	// discard takes the values of keys the parser does not use.
	discard span
	// kSym is where a kline's inner symbol is (fast path).
	kSym span
	// hint is the symbol of the frame's stream (nil: none), the fast
	// path's guess at the payload's symbol.
	hint *symbolHint
	// rawHint is the raw stream's symbol (SetRawStream).
	rawHint symbolHint
	// generic turns the fast path off (tests compare the two paths).
	generic bool
	// streams caches parsed stream names (see lookupStream).
	streams    [streamCacheSize]streamCacheEntry
	streamLong streamCacheEntry

	// Array payload state for Next.
	buf    []byte
	arrPos int
	recv   int64

	trade       market.Trade
	aggTrade    market.AggTrade
	kline       market.Kline
	bookTicker  market.BookTicker
	depth       market.DepthUpdate
	snapshot    market.DepthSnapshot
	ticker      market.Ticker
	markPrice   market.MarkPrice
	liquidation market.Liquidation
	indexPrice  market.IndexPrice
}

// NewParser returns a parser for frames from market m.
func NewParser(m Market, opts ParserOptions) *Parser {
	capacity := opts.LevelCapacity
	if capacity <= 0 {
		capacity = 64
	}
	p := &Parser{
		market:   m,
		exchange: m.Exchange(),
		unit:     opts.TimeUnit,
		futures:  m.IsFutures(),
		bids:     make([]market.Level, 0, capacity),
		asks:     make([]market.Level, 0, capacity),
	}
	ev := &p.frame.Event
	ev.Trade = &p.trade
	ev.AggTrade = &p.aggTrade
	ev.Kline = &p.kline
	ev.BookTicker = &p.bookTicker
	ev.DepthUpdate = &p.depth
	ev.DepthSnapshot = &p.snapshot
	ev.Ticker = &p.ticker
	ev.MarkPrice = &p.markPrice
	ev.Liquidation = &p.liquidation
	ev.IndexPrice = &p.indexPrice
	return p
}

// Market is the market the parser was made for.
func (p *Parser) Market() Market { return p.market }

// SetRawStream tells the parser which stream unwrapped frames belong to, for
// a raw /ws/<stream> connection carrying one stream. Wrapped frames still
// use their own stream name.
func (p *Parser) SetRawStream(n StreamName) {
	p.raw, p.hasRaw = n, true
	p.rawHint.set(&n.Symbol)
}

// Parse parses one websocket text frame received at recvTime (ns since the
// Unix epoch). On success the returned Frame (owned by p) says what it was.
// A frame that cannot be mapped returns a *ParseError. When the first
// element of an array payload is bad but more follow, Parse returns the
// error and a Frame (Type FrameNone) with More set: count the error and
// call Next for the rest, as for a bad element further on.
func (p *Parser) Parse(frame []byte, recvTime int64) (*Frame, error) {
	f := &p.frame
	f.Type = FrameNone
	f.Event.Kind, f.Event.Channel = source.KindNone, market.ChannelNone
	f.HasStream, f.HasID, f.More = false, false, false
	f.ID, f.Code, f.Time = 0, 0, 0
	f.RawID, f.Result, f.Msg = nil, nil, nil
	p.top.present, p.inner.present = 0, 0
	p.err = nil
	p.buf, p.arrPos, p.recv = nil, 0, recvTime
	p.b = frame

	if !p.generic {
		if p.parseFast(frame) {
			return f, nil
		}
		// Not a frame the fast path takes: start again.
		f.Type = FrameNone
		f.Event.Kind, f.Event.Channel = source.KindNone, market.ChannelNone
		f.HasStream = false
	}

	// Fast path for the usual combined frame, {"stream":"...","data":{...}}:
	// no generic member loop for the wrapper.
	if ok, err := p.parseWrapped(frame); ok {
		if err != nil {
			return nil, err
		}
		return f, nil
	}

	i := skipWS(frame, 0)
	if i >= len(frame) {
		return nil, p.malformed(i, "frame: empty")
	}
	var err error
	switch frame[i] {
	case '{':
		i, err = p.scanObject(frame, i, &p.top, levelFrame)
	case '[':
		// An unwrapped array payload (all-market stream on /ws).
		start := i
		if i, err = p.skipValue(frame, i, 0); err == nil {
			p.top.set(fData, start, i, vArray)
		}
	default:
		return nil, p.malformed(i, "frame: not a JSON object")
	}
	if err != nil {
		return nil, err
	}
	if i = skipWS(frame, i); i != len(frame) {
		return nil, p.malformed(i, "frame: data after the JSON value")
	}

	if s, ok := p.top.get(fStream); ok {
		if err := p.streamName(frame, s); err != nil {
			return nil, err
		}
	} else if p.hasRaw {
		f.Stream, f.HasStream = p.raw, true
	}
	if d, ok := p.top.get(fData); ok && d.kind == vArray {
		p.buf, p.arrPos = frame, int(d.start)+1
		ok, err := p.Next()
		if err != nil {
			if f.More {
				// A bad first element must not lose the rest of the
				// array: the caller counts the error and calls Next.
				f.Type = FrameNone
				f.Event.Kind, f.Event.Channel = source.KindNone, market.ChannelNone
				return f, err
			}
			return nil, err
		}
		if !ok {
			return nil, p.malformed(int(d.start), "frame: empty event array")
		}
		return f, nil
	}
	if err := p.interpret(frame, &p.top); err != nil {
		return nil, err
	}
	return f, nil
}

// parseWrapped parses a combined frame laid out exactly as Binance sends
// it. ok false means the frame has another shape and nothing was decided:
// the generic path parses it (and reports its errors).
func (p *Parser) parseWrapped(frame []byte) (ok bool, err error) {
	const head, data = `{"stream":`, `,"data":`
	if !hasPrefix(frame, head) {
		return false, nil
	}
	t := &p.top
	sp := &t.v[fStream]
	i := len(head)
	if i >= len(frame) || frame[i] != '"' || !scanStringValue(frame, i, sp) || sp.kind != vString {
		return false, nil
	}
	i = int(sp.end) + 1
	if !hasPrefix(frame[i:], data) {
		return false, nil
	}
	i += len(data)
	if i >= len(frame) || frame[i] != '{' {
		return false, nil
	}
	t.present = 1 << fStream
	end, err := p.scanObject(frame, i, t, levelPayload)
	if err != nil {
		return true, err
	}
	end = skipWS(frame, end)
	if end >= len(frame) || frame[end] != '}' || skipWS(frame, end+1) != len(frame) {
		t.present, p.inner.present = 0, 0
		return false, nil
	}
	t.set(fData, i, end, vObject)
	if err := p.streamName(frame, sp); err != nil {
		return true, err
	}
	return true, p.interpret(frame, t)
}

// Next parses the next element of an array payload (Frame.More). It reports
// false when there are no more. The Frame returned by Parse is updated in
// place.
func (p *Parser) Next() (bool, error) {
	f := &p.frame
	b := p.buf
	if b == nil {
		f.More = false
		return false, nil
	}
	i := skipWS(b, p.arrPos)
	if i < len(b) && b[i] == ']' {
		p.buf, f.More = nil, false
		return false, nil
	}
	if i >= len(b) || b[i] != '{' {
		p.buf, f.More = nil, false
		return false, p.malformed(i, "frame: event array element is not an object")
	}
	if !p.generic {
		// All-market arrays hold events as the fast path knows them.
		p.hint = nil
		if end, ok := p.fastPayload(b, i); ok && end < len(b) && (b[end] == ',' || b[end] == ']') {
			if b[end] == ',' {
				p.arrPos, f.More = end+1, true
			} else {
				p.buf, f.More = nil, false
			}
			return true, nil
		}
		f.Type = FrameNone
		f.Event.Kind, f.Event.Channel = source.KindNone, market.ChannelNone
	}
	p.top.present, p.inner.present = 0, 0
	p.err = nil
	end, err := p.scanObject(b, i, &p.top, levelPayload)
	if err != nil {
		p.buf, f.More = nil, false
		return false, err
	}
	end = skipWS(b, end)
	switch {
	case end < len(b) && b[end] == ',':
		p.arrPos, f.More = end+1, true
	case end < len(b) && b[end] == ']':
		p.buf, f.More = nil, false
	default:
		p.buf, f.More = nil, false
		return false, p.syntax(end, "expected ',' or ']' in the event array")
	}
	if err := p.interpret(b, &p.top); err != nil {
		f.More = p.buf != nil
		return false, err
	}
	return true, nil
}

func (p *Parser) streamName(b []byte, s *span) error {
	f := &p.frame
	text := b[s.start:s.end]
	if s.kind == vStringEsc {
		var buf [96]byte
		var ok bool
		if text, ok = unescape(buf[:0], text); !ok || len(text) > len(buf) {
			return p.malformed(int(s.start), "frame: invalid stream name")
		}
		f.Stream = StreamName{}
		if err := f.Stream.parse(text); err != nil {
			return p.unsupported(int(s.start), "frame: unknown stream name")
		}
	} else {
		if s.kind != vString {
			return p.malformed(int(s.start), "frame: stream is not a string")
		}
		e, ok := p.lookupStream(text)
		if !ok {
			return p.unsupported(int(s.start), "frame: unknown stream name")
		}
		f.Stream = e.name
	}
	f.HasStream = true
	return nil
}

// lookupStream parses a stream name (without escapes). A connection carries
// a few streams (at most 1024), interleaved frame by frame: a small
// direct-mapped cache of parsed names turns nearly every lookup into one
// compare.
func (p *Parser) lookupStream(text []byte) (*streamCacheEntry, bool) {
	e := &p.streams[streamHash(text)]
	if e.n != 0 && int(e.n) == len(text) && string(text) == string(e.text[:e.n]) {
		return e, true
	}
	if len(text) > len(e.text) {
		// Too long to cache (no real stream name is): parse into the
		// spare entry.
		e = &p.streamLong
	}
	var n StreamName
	if err := n.parse(text); err != nil {
		return nil, false
	}
	e.n = uint8(min(len(text), len(e.text)))
	copy(e.text[:], text)
	e.setName(&n)
	return e, true
}

// The stream-name cache holds 1<<streamCacheBits names.
const (
	streamCacheBits = 5
	streamCacheSize = 1 << streamCacheBits
)

// streamCacheEntry is a parsed stream name and its text; n == 0 is empty.
// It also keeps what the fast path matches payload symbols with.
type streamCacheEntry struct {
	n    uint8
	text [47]byte
	name StreamName
	sym  symbolHint
}

func (e *streamCacheEntry) setName(n *StreamName) {
	e.name = *n
	e.sym.set(&n.Symbol)
}

// symbolHint is a symbol as the fast path compares payload text with it:
// its length and its first 16 bytes as words.
type symbolHint struct {
	n   int
	w   [2]uint64
	sym market.Symbol
}

func (h *symbolHint) set(s *market.Symbol) {
	h.sym, h.n = *s, s.Len()
	h.w[0] = binary.LittleEndian.Uint64(s[0:])
	h.w[1] = binary.LittleEndian.Uint64(s[8:])
}

// streamHash picks the cache entry of a stream name from its length and its
// first and last 8 bytes, which tell apart the symbols and the channels.
func streamHash(text []byte) int {
	h := load8(text, 0)*0x9e3779b97f4a7c15 ^ load8(text, len(text)-8)*0xc2b2ae3d27d4eb4f ^ uint64(len(text))
	return int(h * 0xff51afd7ed558ccd >> (64 - streamCacheBits))
}

// syntax reports invalid JSON.
func (p *Parser) syntax(i int, what string) error {
	return &ParseError{Kind: "frame: invalid JSON: " + what, Offset: i, Err: ErrMalformed}
}

func (p *Parser) malformed(i int, kind string) error {
	return &ParseError{Kind: kind, Offset: i, Err: ErrMalformed}
}

func (p *Parser) unsupported(i int, kind string) error {
	return &ParseError{Kind: kind, Offset: i, Err: ErrUnsupported}
}
