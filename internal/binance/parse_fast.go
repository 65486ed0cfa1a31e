package binance

import (
	"encoding/binary"
	"math"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

// The fast path. Binance writes every frame the same way: compact JSON, the
// combined wrapper first ({"stream":"...","data":{...}}), "e" first in the
// payload, one- or two-letter keys, prices as plain decimal strings. For
// such frames the fast path decodes each member straight into the reused
// event struct, keeping positions and values in registers, instead of
// recording spans for a second pass (parse_scan.go, parse_events.go).
//
// It accepts only what it fully understands and gives up on anything else
// — whitespace, escapes, null, a value of an unexpected type, a nested
// value under a key it does not use, a missing field, an error of any kind
// — returning false before it has reported anything. Parse then parses the
// frame again with the generic path, which handles every valid frame and
// reports every error. So the fast path decides performance only: a frame
// it accepts gives exactly what the generic path gives (the tests and
// FuzzParse check this), and a frame it rejects is still parsed right.

// Packed keys: a one-letter key is its byte, a two-letter key 'x'|'y'<<8.
const (
	keyBad   = 0 // not a key the fast path can take: give up
	keyOther = 1 // a plain key of 3+ bytes that no table slot uses: skip its value
)

// key2 packs a two-letter key.
func key2(s string) uint32 { return uint32(s[0]) | uint32(s[1])<<8 }

var (
	kAp = key2("ap")
	kPu = key2("pu")
)

// keyBits is the presence bit of each one-letter key (the table slots of
// parse_scan.go, so the req* masks apply); 0 for other bytes.
var keyBits = func() (t [256]uint64) {
	for c := range t {
		if s := letterSlot[c]; s >= 0 {
			t[c] = 1 << uint(s)
		}
	}
	return t
}()

// key1 reads the usual one-letter member key at b[i] (small enough to be
// inlined into the member loops); anything else gives keyBad, and the loop
// asks fastKey.
func key1(b []byte, i int) (uint32, int) {
	if uint(i)+4 <= uint(len(b)) {
		// '"', a plain byte (c > '"' and not '\\' is a subset: no
		// quote, backslash or control byte), '"', ':'.
		w := binary.LittleEndian.Uint32(b[i:])
		if c := byte(w >> 8); w&0xffff00ff == 0x3a220022 && c > '"' && c != '\\' {
			return uint32(c), i + 4
		}
	}
	return keyBad, i
}

// fastKey reads the member key at b[i], `"x":` or `"xy":` with no
// whitespace, and returns it packed and the index of the value.
func fastKey(b []byte, i int) (uint32, int) {
	w := load8(b, i)
	if w&0xffff00ff == 0x3a220022 {
		if c := byte(w >> 8); letterSlot[c] >= 0 {
			return uint32(c), i + 4
		}
		return keyBad, i
	}
	if w&0xffff0000ff == 0x3a22000022 {
		c1, c2 := byte(w>>8), byte(w>>16)
		if letterSlot[c1] >= 0 && letterSlot[c2] >= 0 {
			k := uint32(c1) | uint32(c2)<<8
			if k == key2("id") { // a table slot: a response's id
				return keyBad, i
			}
			return k, i + 5
		}
		return keyBad, i
	}
	if byte(w) != '"' {
		return keyBad, i
	}
	j := i + 1
	for j < len(b) && strPlain[b[j]] {
		j++
	}
	if j+1 >= len(b) || b[j] != '"' || b[j+1] != ':' || slotOf(b[i+1:j]) >= 0 {
		return keyBad, i
	}
	return keyOther, j + 2
}

// fastInt reads an integer of at most 15 digits (anything longer, or with
// a fraction or exponent, is left to the generic path). Binance's ids and
// times have 9 to 13 digits: they are converted 8 digits at a time.
func fastInt(b []byte, i int) (int64, int, bool) {
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	w := load8(b, i)
	v, n := digitRun(w)
	next := w >> (8 * uint(n) & 63)
	if n == 8 {
		w2 := load8(b, i+8)
		v2, n2 := digitRun(w2)
		if n2 == 8 {
			return 0, i, false
		}
		v = v*pow10[n2] + v2
		n += n2
		next = w2 >> (8 * uint(n2))
	}
	// No digits, a leading zero, or a fraction or exponent follows.
	if c := byte(next); n == 0 || n > 1 && byte(w) == '0' || c == '.' || c|0x20 == 'e' {
		return 0, i, false
	}
	if neg {
		return -int64(v), i + n, true
	}
	return int64(v), i + n, true
}

// us converts a time read by fastInt to µs (ok false: out of range).
func (p *Parser) us(v int64, ok bool) (int64, bool) {
	if p.unit == Microsecond {
		return v, ok
	}
	if v > math.MaxInt64/1000 || v < math.MinInt64/1000 {
		return 0, false
	}
	return v * 1000, ok
}

// fastDec reads a decimal string.
func fastDec(b []byte, i int) (market.Decimal, int, bool) {
	d, end, ok := plainDecimal(b, i+1)
	return d, end + 1, ok && i < len(b) && b[i] == '"'
}

// fastOptDec reads an optional decimal string: "" is NullDecimal.
func fastOptDec(b []byte, i int) (market.Decimal, int, bool) {
	if i+1 < len(b) && b[i] == '"' && b[i+1] == '"' {
		return market.NullDecimal, i + 2, true
	}
	return fastDec(b, i)
}

// fastStr reads a string without escapes and returns its content's bounds
// and the index of its closing quote.
func fastStr(b []byte, i int) (start, end int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return i, i, false
	}
	// Word at a time: the strings here (stream names, event types,
	// symbols) are 5 to 30 bytes, so the loop runs 1 to 4 times, and
	// predictably so.
	j := stringEnd(b, i+1)
	if j >= len(b) || b[j] != '"' {
		return i, j, false
	}
	return i + 1, j, true
}

// fastEnum reads an enum string.
func fastEnum[E any](b []byte, i int, of func([]byte) E) (E, int, bool) {
	s, e, ok := fastStr(b, i)
	if !ok {
		var zero E
		return zero, e, false
	}
	return of(b[s:e]), e + 1, true
}

// fastSymbol reads a symbol string into dst. The payload's symbol is
// nearly always the stream's, upper-cased: that is two word compares.
func (p *Parser) fastSymbol(b []byte, i int, dst *market.Symbol) (int, bool) {
	if h := p.hint; h != nil && h.n > 0 && h.n <= 16 && i+h.n+1 < len(b) && b[i] == '"' && b[i+h.n+1] == '"' {
		n := h.n
		lo, hi := load8(b, i+1)^h.w[0], load8(b, i+9)^h.w[1]
		if n < 8 {
			lo &= 1<<(8*uint(n)) - 1
			hi = 0
		} else {
			hi &= 1<<(8*uint(n-8)) - 1
		}
		if lo|hi == 0 {
			*dst = h.sym
			return i + n + 2, true
		}
	}
	s, e, ok := fastStr(b, i)
	if !ok || !setSymbol(dst, b[s:e]) {
		return e, false
	}
	return e + 1, true
}

// fastBool reads true or false.
func fastBool(b []byte, i int) (bool, int, bool) {
	if hasPrefix(b[i:], "true") {
		return true, i + 4, true
	}
	if hasPrefix(b[i:], "false") {
		return false, i + 5, true
	}
	return false, i, false
}

// fastSkip skips the scalar value of a key the event does not use,
// validating it as the generic scanner would. Objects and arrays give up:
// the generic scanner gives some of them meaning (levels, nested objects).
func (p *Parser) fastSkip(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		_, e, ok := fastStr(b, i)
		return e + 1, ok
	case c == '-' || c-'0' <= 9:
		if !scanNumberValue(b, i, &p.discard) {
			return i, false
		}
		return int(p.discard.end), true
	case c == 't' || c == 'f' || c == 'n':
		end, _, ok := scanLiteral(b, i)
		return end, ok
	}
	return i, false
}

// fastNext reads the separator after a member's value: more reports a ','
// (b[i] is then the next key), and done a '}' (i is then past it).
func fastNext(b []byte, i int) (next int, more, done bool) {
	if i < len(b) {
		switch b[i] {
		case ',':
			return i + 1, true, false
		case '}':
			return i + 1, false, true
		}
	}
	return i, false, false
}

// fastEvent is event for the fast path: false if the stream disagrees.
func (p *Parser) fastEvent(k source.Kind, ch market.Channel) bool {
	f := &p.frame
	if f.HasStream && f.Stream.Control == ControlNone && f.Stream.Channel != ch {
		return false
	}
	f.Type = FrameEvent
	f.Event.Kind = k
	f.Event.Channel = ch
	return true
}

// parseFast tries the fast path on a whole frame: a combined frame with an
// object payload, or an unwrapped event object.
func (p *Parser) parseFast(frame []byte) bool {
	const head, data = `{"stream":"`, `","data":{`
	f := &p.frame
	// `{"stream":"`, compared as words (TestWrapperWords checks them).
	if load8(frame, 0) != 0x6d6165727473227b || load8(frame, 8)&0xffffff != 0x223a22 {
		// An unwrapped event: from a raw /ws/<stream> connection (the
		// stream given by SetRawStream), or a bare one with "e" first.
		p.hint = nil
		if p.hasRaw {
			f.Stream, f.HasStream, p.hint = p.raw, true, &p.rawHint
		} else if !hasPrefix(frame, `{"e":"`) {
			return false
		}
		end, ok := p.fastPayload(frame, 0)
		return ok && end == len(frame)
	}
	s, e, ok := fastStr(frame, len(head)-1)
	// `","data":{`
	if !ok || load8(frame, e) != 0x2261746164222c22 || load8(frame, e+8)&0xffff != 0x7b3a {
		return false
	}
	se, ok := p.lookupStream(frame[s:e])
	if !ok {
		return false
	}
	f.Stream, f.HasStream, p.hint = se.name, true, &se.sym
	end, ok := p.fastPayload(frame, e+len(data)-1)
	return ok && end == len(frame)-1 && frame[end] == '}'
}

// fastPayload parses the event object at b[i] ('{') and returns the index
// after it.
func (p *Parser) fastPayload(b []byte, i int) (int, bool) {
	f := &p.frame
	const e = `{"e":"`
	if i >= len(b) || b[i] != '{' {
		return i, false
	}
	if !hasPrefix(b[i:], e) {
		// Spot book tickers and partial depths have no "e".
		if f.HasStream && f.Stream.Control == ControlNone {
			switch f.Stream.Channel {
			case market.ChannelBookTicker:
				return p.fastBookTicker(b, i+1, false)
			case market.ChannelPartialDepth:
				return p.fastSpotPartial(b, i+1)
			}
		}
		return i, false
	}
	ev, i := eventName(b, i+len(e))
	switch ev {
	case evTrade:
		return p.fastTrade(b, i)
	case evAggTrade:
		return p.fastAggTrade(b, i)
	case evDepthUpdate:
		return p.fastDepth(b, i)
	case evBookTicker:
		return p.fastBookTicker(b, i, true)
	case evKline:
		return p.fastKline(b, i)
	case evTicker:
		return p.fastTicker(b, i, market.TickerFull)
	case evMiniTicker:
		return p.fastTicker(b, i, market.TickerMini)
	case evMarkPrice:
		return p.fastMarkPrice(b, i)
	case evForceOrder:
		return p.fastForceOrder(b, i)
	case evIndexPrice:
		return p.fastIndexPrice(b, i)
	}
	return i, false
}

// Event types of the fast path, named by their "e" values.
const (
	evNone = iota
	evTrade
	evAggTrade
	evDepthUpdate
	evBookTicker
	evKline
	evTicker
	evMiniTicker
	evMarkPrice
	evForceOrder
	evIndexPrice
	nEvents
)

// eventText is each event's "e" value followed by `","`: the closing quote,
// the comma and the next key's opening quote, as Binance writes them.
var eventText = [nEvents]string{
	evTrade:       `trade","`,
	evAggTrade:    `aggTrade","`,
	evDepthUpdate: `depthUpdate","`,
	evBookTicker:  `bookTicker","`,
	evKline:       `kline","`,
	evTicker:      `24hrTicker","`,
	evMiniTicker:  `24hrMiniTicker","`,
	evMarkPrice:   `markPriceUpdate","`,
	evForceOrder:  `forceOrder","`,
	evIndexPrice:  `indexPriceUpdate","`,
}

// eventTail is the part of eventText after its first 8 bytes, as two
// little-endian words and masks.
var eventTail = func() (t [nEvents]struct{ w, m [2]uint64 }) {
	for ev, s := range eventText {
		for k := 8; k < len(s); k++ {
			t[ev].w[(k-8)/8] |= uint64(s[k]) << (8 * uint((k-8)%8))
			t[ev].m[(k-8)/8] |= 0xff << (8 * uint((k-8)%8))
		}
	}
	return t
}()

// eventName identifies the "e" value starting at b[j] from its first 8
// bytes (one switch on a loaded word instead of finding the closing quote
// and comparing strings), checks the rest of eventText, and returns the
// event and the index of the next key.
func eventName(b []byte, j int) (int, int) {
	var ev int
	// The cases are eventText[ev][:8] as little-endian words
	// (TestEventNameWords checks them).
	switch load8(b, j) {
	case 0x222c226564617274:
		ev = evTrade
	case 0x6564617254676761:
		ev = evAggTrade
	case 0x6470556874706564:
		ev = evDepthUpdate
	case 0x6b6369546b6f6f62:
		ev = evBookTicker
	case 0x222c22656e696c6b:
		ev = evKline
	case 0x6b63695472683432:
		ev = evTicker
	case 0x696e694d72683432:
		ev = evMiniTicker
	case 0x636972506b72616d:
		ev = evMarkPrice
	case 0x64724f6563726f66:
		ev = evForceOrder
	case 0x6972507865646e69:
		ev = evIndexPrice
	default:
		return evNone, j
	}
	t := &eventTail[ev]
	if (load8(b, j+8)^t.w[0])&t.m[0]|(load8(b, j+16)^t.w[1])&t.m[1] != 0 {
		return evNone, j
	}
	// Past the closing quote and the comma: at the next key's quote.
	return ev, j + len(eventText[ev]) - 1
}

// Each event parser below starts at the first key after "e" and returns
// the index after the payload's '}'. A second "e" gives up (the generic
// path takes the last).

func (p *Parser) fastTrade(b []byte, i int) (int, bool) {
	ev := &p.trade
	var have uint64
	typ := market.TradeTypeUnknown
	for {
		k, j := key1(b, i)
		if k == keyBad {
			k, j = fastKey(b, i)
		}
		ok := true
		switch k {
		case 'E':
			ev.EventTime, i, ok = fastInt(b, j)
			ev.EventTime, ok = p.us(ev.EventTime, ok)
		case 's':
			i, ok = p.fastSymbol(b, j, &ev.Symbol)
		case 't':
			ev.TradeID, i, ok = fastInt(b, j)
		case 'p':
			ev.Price, i, ok = fastDec(b, j)
		case 'q':
			ev.Quantity, i, ok = fastDec(b, j)
		case 'T':
			ev.TradeTime, i, ok = fastInt(b, j)
			ev.TradeTime, ok = p.us(ev.TradeTime, ok)
		case 'm':
			ev.BuyerIsMaker, i, ok = fastBool(b, j)
		case 'X':
			if !p.futures {
				i, ok = p.fastSkip(b, j)
				break
			}
			typ, i, ok = fastEnum(b, j, tradeTypeOf)
		case keyBad, 'e':
			return i, false
		default:
			i, ok = p.fastSkip(b, j)
		}
		if !ok {
			return i, false
		}
		if k < 256 {
			have |= keyBits[k]
		}
		var more, done bool
		if i, more, done = fastNext(b, i); !more {
			if !done || have&reqTrade != reqTrade {
				return i, false
			}
			break
		}
	}
	ev.Exchange, ev.ReceiveTime = p.exchange, p.recv
	ev.Type = market.TradeTypeMarket
	if p.futures {
		ev.Type = typ
	}
	return i, p.fastEvent(source.KindTrade, market.ChannelTrade)
}

func (p *Parser) fastAggTrade(b []byte, i int) (int, bool) {
	ev := &p.aggTrade
	var have uint64
	ev.AggTradeID = -1
	for {
		k, j := key1(b, i)
		if k == keyBad {
			k, j = fastKey(b, i)
		}
		ok := true
		switch k {
		case 'E':
			ev.EventTime, i, ok = fastInt(b, j)
			ev.EventTime, ok = p.us(ev.EventTime, ok)
		case 's':
			i, ok = p.fastSymbol(b, j, &ev.Symbol)
		case 'a':
			ev.AggTradeID, i, ok = fastInt(b, j)
		case 'p':
			ev.Price, i, ok = fastDec(b, j)
		case 'q':
			ev.Quantity, i, ok = fastDec(b, j)
		case 'f':
			ev.FirstTradeID, i, ok = fastInt(b, j)
		case 'l':
			ev.LastTradeID, i, ok = fastInt(b, j)
		case 'T':
			ev.TradeTime, i, ok = fastInt(b, j)
			ev.TradeTime, ok = p.us(ev.TradeTime, ok)
		case 'm':
			ev.BuyerIsMaker, i, ok = fastBool(b, j)
		case keyBad, 'e':
			return i, false
		default:
			i, ok = p.fastSkip(b, j)
		}
		if !ok {
			return i, false
		}
		if k < 256 {
			have |= keyBits[k]
		}
		var more, done bool
		if i, more, done = fastNext(b, i); !more {
			if !done || have&reqAggTrade != reqAggTrade {
				return i, false
			}
			break
		}
	}
	ev.Exchange, ev.ReceiveTime = p.exchange, p.recv
	return i, p.fastEvent(source.KindAggTrade, market.ChannelAggTrade)
}

// fastDepth parses a depthUpdate: a diff, or on a futures partial-depth
// stream a snapshot of the top levels.
func (p *Parser) fastDepth(b []byte, i int) (int, bool) {
	// Fields go straight into the event the frame will be: a diff, or
	// on a futures partial-depth stream a snapshot (which has no U or pu;
	// they land in the unused diff struct).
	f := &p.frame
	partial := f.HasStream && f.Stream.Channel == market.ChannelPartialDepth
	h, tx, last := &p.depth.Header, &p.depth.TransactionTime, &p.depth.LastUpdateID
	if partial {
		h, tx, last = &p.snapshot.Header, &p.snapshot.TransactionTime, &p.snapshot.LastUpdateID
	}
	*tx = 0
	var have uint64
	for {
		k, j := key1(b, i)
		if k == keyBad {
			k, j = fastKey(b, i)
		}
		ok := true
		switch k {
		case 'E':
			h.EventTime, i, ok = fastInt(b, j)
			h.EventTime, ok = p.us(h.EventTime, ok)
		case 'T':
			*tx, i, ok = fastInt(b, j)
			*tx, ok = p.us(*tx, ok)
		case 's':
			i, ok = p.fastSymbol(b, j, &h.Symbol)
		case 'U':
			p.depth.FirstUpdateID, i, ok = fastInt(b, j)
		case 'u':
			*last, i, ok = fastInt(b, j)
		case kPu:
			p.depth.PrevLastUpdateID, i, ok = fastInt(b, j)
			have |= 1 << fPu
		case 'b':
			p.bids, i, ok = fastLevels(b, j, p.bids[:0])
		case 'a':
			p.asks, i, ok = fastLevels(b, j, p.asks[:0])
		case keyBad, 'e':
			return i, false
		default:
			i, ok = p.fastSkip(b, j)
		}
		if !ok {
			return i, false
		}
		if k < 256 {
			have |= keyBits[k]
		}
		var more, done bool
		if i, more, done = fastNext(b, i); !more {
			if !done || have&reqDepth != reqDepth {
				return i, false
			}
			break
		}
	}
	h.Exchange, h.ReceiveTime = p.exchange, p.recv
	if partial {
		ev := &p.snapshot
		ev.Source = market.SnapshotPartial
		ev.Bids, ev.Asks = p.bids, p.asks
		return i, p.fastEvent(source.KindDepthSnapshot, market.ChannelPartialDepth)
	}
	ev := &p.depth
	if !p.futures {
		ev.PrevLastUpdateID = 0
	} else if have&(1<<fPu) == 0 {
		return i, false
	}
	ev.Bids, ev.Asks = p.bids, p.asks
	return i, p.fastEvent(source.KindDepthUpdate, market.ChannelDepth)
}

// fastSpotPartial parses a spot partial-depth snapshot, {"lastUpdateId":
// n,"bids":[...],"asks":[...]}, which has no symbol: it comes from the
// stream name. Without "e", some keys (id, result, code, error, e, and the
// one-letter level keys b and a) would make the generic path read the frame
// differently: they give up.
func (p *Parser) fastSpotPartial(b []byte, i int) (int, bool) {
	f := &p.frame
	ev := &p.snapshot
	if f.Stream.Symbol.IsZero() {
		return i, false
	}
	ev.EventTime, ev.TransactionTime = 0, 0
	var have uint64
	for {
		var ok bool
		switch {
		case hasPrefix(b[i:], `"lastUpdateId":`):
			ev.LastUpdateID, i, ok = fastInt(b, i+len(`"lastUpdateId":`))
			have |= 1 << fLastUpdateID
		case hasPrefix(b[i:], `"bids":`):
			p.bids, i, ok = fastLevels(b, i+len(`"bids":`), p.bids[:0])
			have |= 1 << fBids
		case hasPrefix(b[i:], `"asks":`):
			p.asks, i, ok = fastLevels(b, i+len(`"asks":`), p.asks[:0])
			have |= 1 << fAsks
		default:
			k, j := key1(b, i)
			if k == keyBad {
				k, j = fastKey(b, i)
			}
			switch k {
			case 'E':
				ev.EventTime, i, ok = fastInt(b, j)
				ev.EventTime, ok = p.us(ev.EventTime, ok)
			case 'T':
				ev.TransactionTime, i, ok = fastInt(b, j)
				ev.TransactionTime, ok = p.us(ev.TransactionTime, ok)
			case keyBad, 'e', 'b', 'a':
				return i, false
			default:
				i, ok = p.fastSkip(b, j)
			}
		}
		if !ok {
			return i, false
		}
		var more, done bool
		if i, more, done = fastNext(b, i); !more {
			if !done || have&reqSpotPartial != reqSpotPartial {
				return i, false
			}
			break
		}
	}
	ev.Exchange, ev.ReceiveTime, ev.Symbol = p.exchange, p.recv, f.Stream.Symbol
	ev.Source = market.SnapshotPartial
	ev.Bids, ev.Asks = p.bids, p.asks
	return i, p.fastEvent(source.KindDepthSnapshot, market.ChannelPartialDepth)
}

// fastLevels reads an order-book side written compactly:
// [["price","qty"],...].
func fastLevels(b []byte, i int, dst []market.Level) ([]market.Level, int, bool) {
	if i+1 >= len(b) || b[i] != '[' {
		return dst, i, false
	}
	i++
	if b[i] == ']' {
		return dst, i + 1, true
	}
	for {
		if i+1 >= len(b) || b[i] != '[' || b[i+1] != '"' {
			return dst, i, false
		}
		price, j, ok := plainDecimal(b, i+2)
		if !ok || j+2 >= len(b) || b[j+1] != ',' || b[j+2] != '"' {
			return dst, i, false
		}
		qty, j, ok := plainDecimal(b, j+3)
		if !ok || j+2 >= len(b) || b[j+1] != ']' {
			return dst, i, false
		}
		dst = append(dst, market.Level{Price: price, Quantity: qty})
		i = j + 3
		switch b[j+2] {
		case ',':
		case ']':
			return dst, i, true
		default:
			return dst, i, false
		}
	}
}

// fastBookTicker parses a book ticker; sawE says "e" was read already.
func (p *Parser) fastBookTicker(b []byte, i int, sawE bool) (int, bool) {
	ev := &p.bookTicker
	var have uint64
	ev.EventTime, ev.TransactionTime = 0, 0
	for {
		k, j := key1(b, i)
		if k == keyBad {
			k, j = fastKey(b, i)
		}
		ok := true
		switch k {
		case 'E':
			ev.EventTime, i, ok = fastInt(b, j)
			ev.EventTime, ok = p.us(ev.EventTime, ok)
		case 'T':
			ev.TransactionTime, i, ok = fastInt(b, j)
			ev.TransactionTime, ok = p.us(ev.TransactionTime, ok)
		case 's':
			i, ok = p.fastSymbol(b, j, &ev.Symbol)
		case 'u':
			ev.UpdateID, i, ok = fastInt(b, j)
		case 'b':
			ev.BidPrice, i, ok = fastDec(b, j)
		case 'B':
			ev.BidQty, i, ok = fastDec(b, j)
		case 'a':
			ev.AskPrice, i, ok = fastDec(b, j)
		case 'A':
			ev.AskQty, i, ok = fastDec(b, j)
		case 'e':
			// Spot book tickers have no "e"; COIN-M ones may have it
			// after "u". Either way it must name this event, once.
			if sawE {
				return i, false
			}
			var s, e int
			if s, e, ok = fastStr(b, j); ok && string(b[s:e]) == "bookTicker" {
				sawE, i = true, e+1
			} else {
				return i, false
			}
		case keyBad:
			// Including id, result, code, error and lastUpdateId, which
			// without "e" make the frame something else.
			return i, false
		default:
			i, ok = p.fastSkip(b, j)
		}
		if !ok {
			return i, false
		}
		if k < 256 {
			have |= keyBits[k]
		}
		var more, done bool
		if i, more, done = fastNext(b, i); !more {
			if !done || have&reqBookTicker != reqBookTicker {
				return i, false
			}
			break
		}
	}
	ev.Exchange, ev.ReceiveTime = p.exchange, p.recv
	return i, p.fastEvent(source.KindBookTicker, market.ChannelBookTicker)
}

func (p *Parser) fastKline(b []byte, i int) (int, bool) {
	ev := &p.kline
	var have uint64
	for {
		k, j := key1(b, i)
		if k == keyBad {
			k, j = fastKey(b, i)
		}
		ok := true
		switch k {
		case 'E':
			ev.EventTime, i, ok = fastInt(b, j)
			ev.EventTime, ok = p.us(ev.EventTime, ok)
		case 's':
			i, ok = p.fastSymbol(b, j, &ev.Symbol)
		case 'k':
			i, ok = p.fastKlineInner(b, j)
		case keyBad, 'e':
			return i, false
		default:
			i, ok = p.fastSkip(b, j)
		}
		if !ok {
			return i, false
		}
		if k < 256 {
			have |= keyBits[k]
		}
		var more, done bool
		if i, more, done = fastNext(b, i); !more {
			if !done || have&reqKline != reqKline {
				return i, false
			}
			break
		}
	}
	// The symbol is the payload's s, or else k's.
	if have&keyBits['s'] == 0 {
		if !setSymbol(&ev.Symbol, b[p.kSym.start:p.kSym.end]) {
			return i, false
		}
	}
	f := &p.frame
	if f.HasStream && f.Stream.Channel == market.ChannelKline && f.Stream.Interval != ev.Interval {
		return i, false
	}
	ev.Exchange, ev.ReceiveTime = p.exchange, p.recv
	return i, p.fastEvent(source.KindKline, market.ChannelKline)
}

// fastKlineInner parses a kline's "k" object. Its symbol is recorded in
// p.kSym (the payload's s wins when present: then it is only checked).
func (p *Parser) fastKlineInner(b []byte, i int) (int, bool) {
	ev := &p.kline
	if i+1 >= len(b) || b[i] != '{' || b[i+1] == '}' {
		return i, false
	}
	i++
	var have uint64
	p.kSym = span{}
	for {
		k, j := key1(b, i)
		if k == keyBad {
			k, j = fastKey(b, i)
		}
		ok := true
		switch k {
		case 't':
			ev.OpenTime, i, ok = fastInt(b, j)
			ev.OpenTime, ok = p.us(ev.OpenTime, ok)
		case 'T':
			ev.CloseTime, i, ok = fastInt(b, j)
			ev.CloseTime, ok = p.us(ev.CloseTime, ok)
		case 's':
			var s, e int
			if s, e, ok = fastStr(b, j); ok {
				p.kSym.start, p.kSym.end = int32(s), int32(e)
				i = e + 1
			}
		case 'i':
			var s, e int
			if s, e, ok = fastStr(b, j); ok {
				ev.Interval, ok = market.ParseKlineInterval(b[s:e])
				i = e + 1
			}
		case 'f':
			ev.FirstTradeID, i, ok = fastInt(b, j)
		case 'L':
			ev.LastTradeID, i, ok = fastInt(b, j)
		case 'o':
			ev.Open, i, ok = fastDec(b, j)
		case 'c':
			ev.Close, i, ok = fastDec(b, j)
		case 'h':
			ev.High, i, ok = fastDec(b, j)
		case 'l':
			ev.Low, i, ok = fastDec(b, j)
		case 'v':
			ev.Volume, i, ok = fastDec(b, j)
		case 'n':
			ev.TradeCount, i, ok = fastInt(b, j)
		case 'x':
			ev.Closed, i, ok = fastBool(b, j)
		case 'q':
			ev.QuoteVolume, i, ok = fastDec(b, j)
		case 'V':
			ev.TakerBuyVolume, i, ok = fastDec(b, j)
		case 'Q':
			ev.TakerBuyQuoteVolume, i, ok = fastDec(b, j)
		case keyBad:
			return i, false
		default:
			i, ok = p.fastSkip(b, j)
		}
		if !ok {
			return i, false
		}
		if k < 256 {
			have |= keyBits[k]
		}
		var more, done bool
		if i, more, done = fastNext(b, i); !more {
			if !done || have&reqKlineInner != reqKlineInner {
				return i, false
			}
			break
		}
	}
	if have&keyBits['s'] == 0 {
		p.kSym = span{}
	}
	return i, true
}

func (p *Parser) fastTicker(b []byte, i int, kind market.TickerKind) (int, bool) {
	ev := &p.ticker
	full := kind == market.TickerFull
	var have uint64
	ev.BidPrice, ev.BidQty = market.NullDecimal, market.NullDecimal
	ev.AskPrice, ev.AskQty = market.NullDecimal, market.NullDecimal
	for {
		k, j := key1(b, i)
		if k == keyBad {
			k, j = fastKey(b, i)
		}
		ok := true
		switch k {
		case 'E':
			ev.EventTime, i, ok = fastInt(b, j)
			ev.EventTime, ok = p.us(ev.EventTime, ok)
		case 's':
			i, ok = p.fastSymbol(b, j, &ev.Symbol)
		case 'c':
			ev.LastPrice, i, ok = fastDec(b, j)
		case 'o':
			ev.OpenPrice, i, ok = fastDec(b, j)
		case 'h':
			ev.HighPrice, i, ok = fastDec(b, j)
		case 'l':
			ev.LowPrice, i, ok = fastDec(b, j)
		case 'v':
			ev.Volume, i, ok = fastDec(b, j)
		case 'q':
			ev.QuoteVolume, i, ok = fastDec(b, j)
		case keyBad, 'e':
			return i, false
		default:
			if !full {
				i, ok = p.fastSkip(b, j)
				break
			}
			switch k {
			case 'p':
				ev.PriceChange, i, ok = fastDec(b, j)
			case 'P':
				ev.PriceChangePercent, i, ok = fastDec(b, j)
			case 'w':
				ev.WeightedAvgPrice, i, ok = fastDec(b, j)
			case 'Q':
				ev.LastQty, i, ok = fastDec(b, j)
			case 'b':
				ev.BidPrice, i, ok = fastOptDec(b, j)
			case 'B':
				ev.BidQty, i, ok = fastOptDec(b, j)
			case 'a':
				ev.AskPrice, i, ok = fastOptDec(b, j)
			case 'A':
				ev.AskQty, i, ok = fastOptDec(b, j)
			case 'O':
				ev.OpenTime, i, ok = fastInt(b, j)
				ev.OpenTime, ok = p.us(ev.OpenTime, ok)
			case 'C':
				ev.CloseTime, i, ok = fastInt(b, j)
				ev.CloseTime, ok = p.us(ev.CloseTime, ok)
			case 'F':
				ev.FirstTradeID, i, ok = fastInt(b, j)
			case 'L':
				ev.LastTradeID, i, ok = fastInt(b, j)
			case 'n':
				ev.TradeCount, i, ok = fastInt(b, j)
			default:
				i, ok = p.fastSkip(b, j)
			}
		}
		if !ok {
			return i, false
		}
		if k < 256 {
			have |= keyBits[k]
		}
		var more, done bool
		if i, more, done = fastNext(b, i); !more {
			req := reqMini
			if full {
				req = reqTicker
			}
			if !done || have&req != req {
				return i, false
			}
			break
		}
	}
	ev.Exchange, ev.ReceiveTime = p.exchange, p.recv
	ev.Kind = kind
	ch := market.ChannelTicker
	if !full {
		ch = market.ChannelMiniTicker
		ev.PriceChange = market.NullDecimal
		ev.PriceChangePercent = market.NullDecimal
		ev.WeightedAvgPrice = market.NullDecimal
		ev.LastQty = market.NullDecimal
		ev.OpenTime, ev.CloseTime = 0, 0
		ev.FirstTradeID, ev.LastTradeID, ev.TradeCount = 0, 0, 0
	}
	return i, p.fastEvent(source.KindTicker, ch)
}

func (p *Parser) fastMarkPrice(b []byte, i int) (int, bool) {
	ev := &p.markPrice
	var have uint64
	ev.IndexPrice, ev.EstimatedSettlePrice, ev.FundingRate = market.NullDecimal, market.NullDecimal, market.NullDecimal
	ev.NextFundingTime = 0
	for {
		k, j := key1(b, i)
		if k == keyBad {
			k, j = fastKey(b, i)
		}
		ok := true
		switch k {
		case 'E':
			ev.EventTime, i, ok = fastInt(b, j)
			ev.EventTime, ok = p.us(ev.EventTime, ok)
		case 's':
			i, ok = p.fastSymbol(b, j, &ev.Symbol)
		case 'p':
			ev.MarkPrice, i, ok = fastDec(b, j)
		case 'i':
			ev.IndexPrice, i, ok = fastOptDec(b, j)
		case 'P':
			ev.EstimatedSettlePrice, i, ok = fastOptDec(b, j)
		case 'r':
			ev.FundingRate, i, ok = fastOptDec(b, j)
		case 'T':
			ev.NextFundingTime, i, ok = fastInt(b, j)
			ev.NextFundingTime, ok = p.us(ev.NextFundingTime, ok)
		case keyBad, 'e':
			return i, false
		default:
			i, ok = p.fastSkip(b, j)
		}
		if !ok {
			return i, false
		}
		if k < 256 {
			have |= keyBits[k]
		}
		var more, done bool
		if i, more, done = fastNext(b, i); !more {
			if !done || have&reqMarkPrice != reqMarkPrice {
				return i, false
			}
			break
		}
	}
	ev.Exchange, ev.ReceiveTime = p.exchange, p.recv
	return i, p.fastEvent(source.KindMarkPrice, market.ChannelMarkPrice)
}

func (p *Parser) fastForceOrder(b []byte, i int) (int, bool) {
	ev := &p.liquidation
	var have uint64
	for {
		k, j := key1(b, i)
		if k == keyBad {
			k, j = fastKey(b, i)
		}
		ok := true
		switch k {
		case 'E':
			ev.EventTime, i, ok = fastInt(b, j)
			ev.EventTime, ok = p.us(ev.EventTime, ok)
		case 'o':
			i, ok = p.fastForceOrderInner(b, j)
		case keyBad, 'e':
			return i, false
		default:
			i, ok = p.fastSkip(b, j)
		}
		if !ok {
			return i, false
		}
		if k < 256 {
			have |= keyBits[k]
		}
		var more, done bool
		if i, more, done = fastNext(b, i); !more {
			if !done || have&reqForceOrder != reqForceOrder {
				return i, false
			}
			break
		}
	}
	ev.Exchange, ev.ReceiveTime = p.exchange, p.recv
	return i, p.fastEvent(source.KindLiquidation, market.ChannelLiquidation)
}

func (p *Parser) fastForceOrderInner(b []byte, i int) (int, bool) {
	ev := &p.liquidation
	if i+1 >= len(b) || b[i] != '{' || b[i+1] == '}' {
		return i, false
	}
	i++
	var have uint64
	ev.Side, ev.OrderType, ev.TimeInForce, ev.Status = market.SideUnknown, market.OrderTypeUnknown, market.TimeInForceUnknown, market.OrderStatusUnknown
	ev.AveragePrice, ev.LastFilledQty, ev.FilledQty = market.NullDecimal, market.NullDecimal, market.NullDecimal
	for {
		k, j := key1(b, i)
		if k == keyBad {
			k, j = fastKey(b, i)
		}
		ok := true
		switch k {
		case 's':
			i, ok = p.fastSymbol(b, j, &ev.Symbol)
		case 'S':
			ev.Side, i, ok = fastEnum(b, j, sideOf)
		case 'o':
			ev.OrderType, i, ok = fastEnum(b, j, orderTypeOf)
		case 'f':
			ev.TimeInForce, i, ok = fastEnum(b, j, timeInForceOf)
		case 'X':
			ev.Status, i, ok = fastEnum(b, j, orderStatusOf)
		case 'p':
			ev.Price, i, ok = fastDec(b, j)
		case 'q':
			ev.Quantity, i, ok = fastDec(b, j)
		case kAp:
			ev.AveragePrice, i, ok = fastOptDec(b, j)
		case 'l':
			ev.LastFilledQty, i, ok = fastOptDec(b, j)
		case 'z':
			ev.FilledQty, i, ok = fastOptDec(b, j)
		case 'T':
			ev.TradeTime, i, ok = fastInt(b, j)
			ev.TradeTime, ok = p.us(ev.TradeTime, ok)
		case keyBad:
			return i, false
		default:
			i, ok = p.fastSkip(b, j)
		}
		if !ok {
			return i, false
		}
		if k < 256 {
			have |= keyBits[k]
		}
		var more, done bool
		if i, more, done = fastNext(b, i); !more {
			if !done || have&reqForceInner != reqForceInner {
				return i, false
			}
			break
		}
	}
	return i, true
}

func (p *Parser) fastIndexPrice(b []byte, i int) (int, bool) {
	ev := &p.indexPrice
	var have uint64
	for {
		k, j := key1(b, i)
		if k == keyBad {
			k, j = fastKey(b, i)
		}
		ok := true
		switch k {
		case 'E':
			ev.EventTime, i, ok = fastInt(b, j)
			ev.EventTime, ok = p.us(ev.EventTime, ok)
		case 'i':
			i, ok = p.fastSymbol(b, j, &ev.Symbol)
		case 'p':
			ev.Price, i, ok = fastDec(b, j)
		case keyBad, 'e':
			return i, false
		default:
			i, ok = p.fastSkip(b, j)
		}
		if !ok {
			return i, false
		}
		if k < 256 {
			have |= keyBits[k]
		}
		var more, done bool
		if i, more, done = fastNext(b, i); !more {
			if !done || have&reqIndexPrice != reqIndexPrice {
				return i, false
			}
			break
		}
	}
	ev.Exchange, ev.ReceiveTime = p.exchange, p.recv
	return i, p.fastEvent(source.KindIndexPrice, market.ChannelIndexPrice)
}
