package binance

import (
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ims-dev/ims/internal/market"
)

// The scanner is a single pass over one JSON object that records where each
// member's value is (a span) in a fixed table indexed by key, instead of
// building a tree. Binance keys are one letter (case-sensitive) or one of a
// few words, so the table is 64 slots and a bitmask says which are present:
// nothing is cleared or allocated per frame. Order-book level arrays are
// decoded straight into reused slices while scanning, so a depth frame is
// read once. Event extraction (parse_events.go) then reads the spans.

// Value kinds recorded in a span.
const (
	vString    uint8 = iota + 1 // span is the string content, no escapes
	vStringEsc                  // span is the string content, with escapes
	vNumber                     // span is the number text
	vTrue
	vFalse
	vNull
	vObject // span covers {...}
	vArray  // span covers [...]
)

// span is where a member's value is. Numbers and strings are decoded while
// scanning when that is cheap: an integer that fits int64 has isInt and its
// value in num; a string that is a plain decimal of at most 18 digits has
// isDec and its mantissa and scale in num and scale. Extraction then reads
// them without a second pass.
type span struct {
	start, end int32
	num        int64
	kind       uint8
	isInt      bool
	isDec      bool
	scale      uint8
}

// Key slots: 0..25 are 'a'..'z', 26..51 'A'..'Z', then the word keys.
const (
	fa = iota
	fb
	fc
	fd
	fe
	ff
	fg
	fh
	fi
	fj
	fk
	fl
	fm
	fn
	fo
	fp
	fq
	fr
	fs
	ft
	fu
	fv
	fw
	fx
	fy
	fz
	fA
	fB
	fC
	fD
	fE
	fF
	fG
	fH
	fI
	fJ
	fK
	fL
	fM
	fN
	fO
	fP
	fQ
	fR
	fS
	fT
	fU
	fV
	fW
	fX
	fY
	fZ
	fAp           // "ap"
	fPu           // "pu"
	fLastUpdateID // "lastUpdateId"
	fBids         // "bids"
	fAsks         // "asks"
	fStream       // "stream"
	fData         // "data"
	fResult       // "result"
	fID           // "id"
	fCode         // "code"
	fMsg          // "msg"
	fError        // "error"
	nSlots
)

// slotNames are the keys, for error messages.
var slotNames = [nSlots]string{
	"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z",
	"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z",
	"ap", "pu", "lastUpdateId", "bids", "asks", "stream", "data", "result", "id", "code", "msg", "error",
}

// table holds the spans of one object's members.
type table struct {
	present uint64
	v       [nSlots]span
}

func (t *table) has(f int) bool { return t.present&(1<<uint(f)) != 0 }

// get returns the span of f and whether f is present and not null. The
// pointer is valid (possibly stale) even when f is absent.
func (t *table) get(f int) (*span, bool) {
	s := &t.v[f]
	return s, t.present&(1<<uint(f)) != 0 && s.kind != vNull
}

func (t *table) set(f int, start, end int, kind uint8) {
	if f < 0 {
		return
	}
	t.v[f] = span{start: int32(start), end: int32(end), kind: kind}
	t.present |= 1 << uint(f)
}

// letterSlot is the slot of each one-letter key (-1: not a letter).
var letterSlot = func() (t [256]int8) {
	for c := range t {
		switch {
		case c >= 'a' && c <= 'z':
			t[c] = int8(c - 'a')
		case c >= 'A' && c <= 'Z':
			t[c] = int8(26 + c - 'A')
		default:
			t[c] = -1
		}
	}
	return t
}()

// strPlain marks the bytes a JSON string holds without escaping: not '"',
// not '\\' and not a control character.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func slotOf(k []byte) int {
	if len(k) == 1 {
		c := k[0]
		switch {
		case c >= 'a' && c <= 'z':
			return int(c - 'a')
		case c >= 'A' && c <= 'Z':
			return 26 + int(c-'A')
		}
		return -1
	}
	switch string(k) {
	case "ap":
		return fAp
	case "pu":
		return fPu
	case "id":
		return fID
	case "msg":
		return fMsg
	case "code":
		return fCode
	case "bids":
		return fBids
	case "asks":
		return fAsks
	case "data":
		return fData
	case "error":
		return fError
	case "stream":
		return fStream
	case "result":
		return fResult
	case "lastUpdateId":
		return fLastUpdateID
	}
	return -1
}

// Scan levels: the frame itself, the "data" payload of a combined frame, and
// an object nested in the payload ("k" of a kline, "o" of a liquidation).
const (
	levelFrame = iota
	levelPayload
	levelNested
)

// maxSkipDepth bounds the nesting of skipped values, so hostile input cannot
// exhaust the stack.
const maxSkipDepth = 64

func isWS(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isWS(b[i]) {
		i++
	}
	return i
}

// scanObject scans the object starting at b[i] ('{') into t and returns the
// index after its '}'. Whitespace is checked for with one compare (every
// JSON token starts above ' ') and skipped only where present.
func (p *Parser) scanObject(b []byte, i int, t *table, level int) (int, error) {
	i++ // '{'
	if i < len(b) && b[i] <= ' ' {
		i = skipWS(b, i)
	}
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		// The key. Binance keys are mostly one letter, so `"x":` is
		// matched with one compare of a loaded word; anything else goes
		// through scanKey.
		var slot int
		if w := load8(b, i); w&0xffff00ff == 0x3a220022 && strPlain[byte(w>>8)] {
			slot = int(letterSlot[byte(w>>8)])
			i += 4
		} else {
			var err error
			if slot, i, err = p.scanKey(b, i); err != nil {
				return i, err
			}
		}
		if i < len(b) && b[i] <= ' ' {
			i = skipWS(b, i)
		}
		if i >= len(b) {
			return i, p.syntax(i, "expected a value")
		}
		// Scalars are decoded straight into their slot (or a scratch span
		// for keys the parser does not use).
		sp := &p.discard
		if slot >= 0 {
			sp = &t.v[slot]
			t.present |= 1 << uint(slot)
		}
		start := i
		var err error
		switch c := b[i]; {
		case c == '"':
			if !scanStringValue(b, i, sp) {
				return i, p.syntax(i, "invalid string")
			}
			i = int(sp.end) + 1
		case c == '-' || c >= '0' && c <= '9':
			if !scanNumberValue(b, i, sp) {
				return i, p.syntax(i, "invalid number")
			}
			i = int(sp.end)
		case c == '[':
			switch {
			case level < levelNested && (slot == fb || slot == fBids):
				p.bids, i, err = p.scanLevels(b, i, p.bids[:0])
			case level < levelNested && (slot == fa || slot == fAsks):
				p.asks, i, err = p.scanLevels(b, i, p.asks[:0])
			default:
				i, err = p.skipValue(b, i, 0)
			}
			if err != nil {
				return i, err
			}
			t.set(slot, start, i, vArray)
		case c == '{':
			switch {
			case slot == fData && level == levelFrame:
				i, err = p.scanObject(b, i, t, levelPayload)
			case (slot == fk || slot == fo || slot == fError) && level < levelNested:
				p.inner.present = 0
				i, err = p.scanObject(b, i, &p.inner, levelNested)
			default:
				i, err = p.skipValue(b, i, 0)
			}
			if err != nil {
				return i, err
			}
			t.set(slot, start, i, vObject)
		default:
			end, kind, ok := scanLiteral(b, i)
			if !ok {
				return i, p.syntax(i, "invalid value")
			}
			*sp = span{start: int32(start), end: int32(end), kind: kind}
			i = end
		}
		if i < len(b) && b[i] <= ' ' {
			i = skipWS(b, i)
		}
		if i >= len(b) {
			return i, p.syntax(i, "unterminated object")
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i + 1, nil
		default:
			return i, p.syntax(i, "expected ',' or '}'")
		}
	}
}

// scanKey scans a member's key at b[i] (after optional whitespace) and its
// ':', and returns the key's slot (-1: a key the parser does not use) and
// the index after the ':'.
func (p *Parser) scanKey(b []byte, i int) (slot, next int, err error) {
	i = skipWS(b, i)
	if i >= len(b) || b[i] != '"' {
		return -1, i, p.syntax(i, "expected a key")
	}
	ks := i + 1
	j := stringEnd(b, ks)
	if j >= len(b) {
		return -1, j, p.syntax(j, "unterminated key")
	}
	if b[j] == '"' {
		slot = slotOf(b[ks:j])
		i = j + 1
	} else {
		end, ok := scanString(b, i)
		if !ok {
			return -1, i, p.syntax(i, "invalid key")
		}
		slot = -1
		var kb [16]byte
		if k, ok := unescape(kb[:0], b[ks:end-1]); ok && len(k) <= len(kb) {
			slot = slotOf(k)
		}
		i = end
	}
	if i < len(b) && b[i] == ':' {
		return slot, i + 1, nil
	}
	i = skipWS(b, i)
	if i >= len(b) || b[i] != ':' {
		return slot, i, p.syntax(i, "expected ':'")
	}
	return slot, i + 1, nil
}

// scanLevels decodes an order-book side, [["price","qty"],...], appending to
// dst. Extra elements in a level (old APIs sent a third, ignored one) are
// skipped.
func (p *Parser) scanLevels(b []byte, i int, dst []market.Level) ([]market.Level, int, error) {
	i++ // '['
	if i < len(b) && b[i] <= ' ' {
		i = skipWS(b, i)
	}
	if i < len(b) && b[i] == ']' {
		return dst, i + 1, nil
	}
	for {
		if i < len(b) && b[i] <= ' ' {
			i = skipWS(b, i)
		}
		if i >= len(b) || b[i] != '[' {
			return dst, i, p.syntax(i, "expected a [price, quantity] level")
		}
		i++
		if i < len(b) && b[i] <= ' ' {
			i = skipWS(b, i)
		}
		price, j, ok := p.decimalAt(b, i)
		if !ok {
			return dst, i, p.levelErr(i, b)
		}
		i = j
		if i < len(b) && b[i] <= ' ' {
			i = skipWS(b, i)
		}
		if i >= len(b) || b[i] != ',' {
			return dst, i, p.syntax(i, "expected ',' in a level")
		}
		i++
		if i < len(b) && b[i] <= ' ' {
			i = skipWS(b, i)
		}
		qty, j, ok := p.decimalAt(b, i)
		if !ok {
			return dst, i, p.levelErr(i, b)
		}
		i = j
		if i < len(b) && b[i] <= ' ' {
			i = skipWS(b, i)
		}
		for i < len(b) && b[i] == ',' {
			var err error
			if i, err = p.skipValue(b, skipWS(b, i+1), 0); err != nil {
				return dst, i, err
			}
			i = skipWS(b, i)
		}
		if i >= len(b) || b[i] != ']' {
			return dst, i, p.syntax(i, "expected ']' after a level")
		}
		dst = append(dst, market.Level{Price: price, Quantity: qty})
		i++
		if i < len(b) && b[i] <= ' ' {
			i = skipWS(b, i)
		}
		if i >= len(b) {
			return dst, i, p.syntax(i, "unterminated level array")
		}
		switch b[i] {
		case ',':
			i++
		case ']':
			return dst, i + 1, nil
		default:
			return dst, i, p.syntax(i, "expected ',' or ']' between levels")
		}
	}
}

func (p *Parser) levelErr(i int, b []byte) error {
	if i < len(b) && b[i] == '"' {
		return p.malformed(i, "levels: invalid decimal")
	}
	return p.malformed(i, "levels: price and quantity must be strings")
}

// plainDecimal decodes the common decimal string body at b[j:] (after the
// opening quote): an optional '-', digits with at most one '.', at most 18
// digits, then '"'. It returns the decimal and the index of the closing
// quote; ok is false for anything else (the caller then takes the general
// path, which applies market.ParseDecimal's rules), with end at the first
// byte it did not take.
func plainDecimal(b []byte, j int) (d market.Decimal, end int, ok bool) {
	neg := j < len(b) && b[j] == '-'
	if neg {
		j++
	}
	start := j
	var u uint64
	for ; j < len(b); j++ {
		c := b[j] - '0'
		if c > 9 {
			break
		}
		u = u*10 + uint64(c)
	}
	nd, scale := j-start, 0
	if j < len(b) && b[j] == '.' {
		j++
		f := j
		for ; j < len(b); j++ {
			c := b[j] - '0'
			if c > 9 {
				break
			}
			u = u*10 + uint64(c)
		}
		scale = j - f
		nd += scale
	}
	if j >= len(b) || b[j] != '"' || nd == 0 || nd > 18 {
		return market.Decimal{}, j, false
	}
	v := int64(u) // < 10^18
	if neg {
		v = -v
	}
	return market.Decimal{Mantissa: v, Scale: uint8(scale)}, j, true
}

// decimalAt decodes the JSON string at b[i] as a decimal and returns the
// index after its closing quote. The common case goes through plainDecimal;
// anything else through market.ParseDecimal so the rules are the same
// everywhere.
func (p *Parser) decimalAt(b []byte, i int) (market.Decimal, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return market.Decimal{}, i, false
	}
	if d, end, ok := plainDecimal(b, i+1); ok {
		return d, end + 1, true
	}
	// Slow path: escapes, long mantissas, or invalid text.
	end, esc, ok := scanStringEsc(b, i)
	if !ok {
		return market.Decimal{}, i, false
	}
	d, ok := p.decimalSpan(b, &span{start: int32(i + 1), end: int32(end - 1), kind: pick(esc, vStringEsc, vString)})
	return d, end, ok
}

func pick(c bool, a, b uint8) uint8 {
	if c {
		return a
	}
	return b
}

// decimalSpan decodes a string span as a decimal.
func (p *Parser) decimalSpan(b []byte, s *span) (market.Decimal, bool) {
	if s.isDec {
		return market.Decimal{Mantissa: s.num, Scale: s.scale}, true
	}
	text := b[s.start:s.end]
	if s.kind == vStringEsc {
		var buf [64]byte
		var ok bool
		if text, ok = unescape(buf[:0], text); !ok || len(text) > len(buf) {
			return market.Decimal{}, false
		}
		d, err := market.ParseDecimal(text)
		return d, err == nil
	}
	if s.kind != vString {
		return market.Decimal{}, false
	}
	d, err := market.ParseDecimal(text)
	return d, err == nil
}

// scanStringValue scans the string at b[i] ('"') and returns its span
// (the content, without quotes). A plain decimal of at most 18 digits is
// decoded on the way.
func scanStringValue(b []byte, i int, sp *span) bool {
	sp.start, sp.kind, sp.isInt = int32(i+1), vString, false
	d, j, ok := plainDecimal(b, i+1)
	if ok {
		sp.end, sp.num, sp.scale, sp.isDec = int32(j), d.Mantissa, d.Scale, true
		return true
	}
	sp.isDec = false
	// b[i+1:j] is plain (digits, '-', '.'): find the end from there.
	if j = stringEnd(b, j); j < len(b) && b[j] == '"' {
		sp.end = int32(j)
		return true
	}
	end, esc, ok := scanStringEsc(b, i)
	if !ok {
		return false
	}
	sp.end, sp.kind = int32(end-1), pick(esc, vStringEsc, vString)
	return true
}

// scanNumberValue scans the number at b[i], validating the JSON grammar,
// and decodes it when it is an integer that fits int64.
func scanNumberValue(b []byte, i int, sp *span) bool {
	j := i
	neg := j < len(b) && b[j] == '-'
	if neg {
		j++
	}
	u, n, c := digits(b, j)
	if n == 0 {
		return false
	}
	if n > 1 && b[j] == '0' {
		// A leading zero ends the number ("01" is "0" then junk the
		// caller rejects).
		u, n, c = 0, 1, b[j+1]
	}
	sp.start, sp.kind, sp.isInt, sp.isDec = int32(i), vNumber, false, false
	if c == '.' || c == 'e' || c == 'E' {
		end, ok := scanNumber(b, i)
		sp.end = int32(end)
		return ok
	}
	sp.end = int32(j + n)
	if n <= 19 { // 19 digits cannot wrap a uint64
		switch {
		case neg && u <= 1<<63:
			sp.num, sp.isInt = -int64(u), true
		case !neg && u <= 1<<63-1:
			sp.num, sp.isInt = int64(u), true
		}
	}
	return true
}

// scanString returns the index after the string starting at b[i] ('"').
func scanString(b []byte, i int) (int, bool) {
	end, _, ok := scanStringEsc(b, i)
	return end, ok
}

// scanStringEsc is scanString that also reports whether the string has
// escapes. It validates escapes and rejects raw control characters, as JSON
// requires.
func scanStringEsc(b []byte, i int) (end int, esc, ok bool) {
	j := i + 1
	for j < len(b) {
		c := b[j]
		switch {
		case c == '"':
			return j + 1, esc, true
		case c == '\\':
			esc = true
			if j+1 >= len(b) {
				return j, esc, false
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(b) {
					return j, esc, false
				}
				for _, h := range b[j+2 : j+6] {
					if hexVal(h) < 0 {
						return j, esc, false
					}
				}
				j += 6
			default:
				return j, esc, false
			}
		case c < 0x20:
			return j, esc, false
		default:
			j++
		}
	}
	return j, esc, false
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// unescape appends the decoded form of a validated string body to dst. It
// reports false for malformed escapes. Invalid surrogates decode to U+FFFD,
// as encoding/json does.
func unescape(dst, s []byte) ([]byte, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return dst, false
		}
		switch s[i+1] {
		case '"', '\\', '/':
			dst = append(dst, s[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s, i+2)
			if !ok {
				return dst, false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(s, i+2); ok && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						i += 6
						dst = utf8.AppendRune(dst, dec)
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			return dst, false
		}
		i += 2
	}
	return dst, true
}

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		v := hexVal(c)
		if v < 0 {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// scanNumber returns the index after the JSON number at b[i], validating the
// JSON grammar.
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return i, false
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return i, false
		}
	}
	return i, true
}

func scanLiteral(b []byte, i int) (int, uint8, bool) {
	switch {
	case hasPrefix(b[i:], "true"):
		return i + 4, vTrue, true
	case hasPrefix(b[i:], "false"):
		return i + 5, vFalse, true
	case hasPrefix(b[i:], "null"):
		return i + 4, vNull, true
	}
	return i, 0, false
}

func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

// skipValue validates and skips the value at b[i].
func (p *Parser) skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, p.syntax(i, "expected a value")
	}
	switch c := b[i]; {
	case c == '"':
		end, ok := scanString(b, i)
		if !ok {
			return i, p.syntax(i, "invalid string")
		}
		return end, nil
	case c == '-' || c >= '0' && c <= '9':
		end, ok := scanNumber(b, i)
		if !ok {
			return i, p.syntax(i, "invalid number")
		}
		return end, nil
	case c == '{' || c == '[':
		if depth >= maxSkipDepth {
			return i, p.malformed(i, "frame: nested too deeply")
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, nil
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return i, p.syntax(i, "expected a key")
				}
				end, ok := scanString(b, i)
				if !ok {
					return i, p.syntax(i, "invalid key")
				}
				i = skipWS(b, end)
				if i >= len(b) || b[i] != ':' {
					return i, p.syntax(i, "expected ':'")
				}
				i = skipWS(b, i+1)
			}
			var err error
			if i, err = p.skipValue(b, i, depth+1); err != nil {
				return i, err
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return i, p.syntax(i, "unterminated value")
			}
			if b[i] == closer {
				return i + 1, nil
			}
			if b[i] != ',' {
				return i, p.syntax(i, "expected ','")
			}
			i = skipWS(b, i+1)
		}
	default:
		end, _, ok := scanLiteral(b, i)
		if !ok {
			return i, p.syntax(i, "invalid value")
		}
		return end, nil
	}
}
