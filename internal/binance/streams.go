package binance

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

// Speed is a stream's update-speed suffix.
type Speed uint8

// The speeds Binance offers. SpeedDefault is the bare stream name, whose
// speed depends on the market and channel (Market.DefaultSpeed).
const (
	SpeedDefault Speed = iota
	Speed0ms           // "@0ms": futures depth, real time (undocumented, used by tardis)
	Speed100ms         // "@100ms": depth and partial depth
	Speed500ms         // "@500ms": futures depth and partial depth
	Speed1s            // "@1s": futures mark price, COIN-M index price
)

var speedSuffix = [...]string{"", "0ms", "100ms", "500ms", "1s"}

// Suffix is the text after "@" ("" for SpeedDefault).
func (s Speed) Suffix() string {
	if int(s) < len(speedSuffix) {
		return speedSuffix[s]
	}
	return ""
}

func (s Speed) String() string {
	if s == SpeedDefault {
		return "default"
	}
	return s.Suffix()
}

// Duration is the speed as a source.Subscription speed: 0 for the default,
// source.RealTime for 0ms.
func (s Speed) Duration() time.Duration {
	switch s {
	case Speed0ms:
		return source.RealTime
	case Speed100ms:
		return 100 * time.Millisecond
	case Speed500ms:
		return 500 * time.Millisecond
	case Speed1s:
		return time.Second
	}
	return 0
}

// SpeedFor maps a source.Subscription speed to the Binance suffix for ch on
// m: 0 and the channel's default interval give SpeedDefault.
func (m Market) SpeedFor(ch market.Channel, d time.Duration) (Speed, error) {
	if d == 0 || (d > 0 && d == m.DefaultSpeed(ch)) {
		return SpeedDefault, nil
	}
	for _, sp := range m.Speeds(ch) {
		if sp != SpeedDefault && sp.Duration() == d {
			return sp, nil
		}
	}
	want := ""
	for i, sp := range m.Speeds(ch) {
		if i > 0 {
			want += ", "
		}
		if sp == SpeedDefault {
			want += "default"
		} else {
			want += sp.Suffix()
		}
	}
	got := d.String()
	if d == source.RealTime {
		got = "realtime (0ms)"
	}
	return 0, fmt.Errorf("%s %s has no update speed %s (have %s)", m, ch, got, want)
}

// Control names a stream that carries no market data.
type Control uint8

// Control streams.
const (
	ControlNone           Control = iota
	ControlServerShutdown         // "!serverShutdown" (spot maintenance notice)
)

// StreamName is a parsed Binance stream name such as "btcusdt@depth@100ms",
// "btcusdt@kline_1m", "btcusd_perp@markPrice@1s", "btcusdt@depth20@100ms",
// "!miniTicker@arr" or "!serverShutdown". It is a value type with a fixed
// size, so parsing one allocates nothing.
type StreamName struct {
	// Symbol is upper case (the wire form is lower case); zero for
	// all-market and control streams. For COIN-M index price it is a pair.
	Symbol  market.Symbol
	Channel market.Channel
	// Interval is set for ChannelKline.
	Interval market.KlineInterval
	// Levels is 5, 10 or 20 for ChannelPartialDepth.
	Levels uint8
	Speed  Speed
	// All marks an all-market stream ("!ticker@arr", "!bookTicker").
	All bool
	// UTC8 marks a spot kline with UTC+8 interval boundaries
	// ("@kline_1m@+08:00").
	UTC8 bool
	// Control is set for streams that carry no market data.
	Control Control
}

// channelWire maps channels to their stream-name text; kline and partial
// depth have parameters appended.
var channelWire = [...]string{
	market.ChannelTrade:        "trade",
	market.ChannelAggTrade:     "aggTrade",
	market.ChannelKline:        "kline_",
	market.ChannelBookTicker:   "bookTicker",
	market.ChannelDepth:        "depth",
	market.ChannelPartialDepth: "depth",
	market.ChannelMiniTicker:   "miniTicker",
	market.ChannelTicker:       "ticker",
	market.ChannelMarkPrice:    "markPrice",
	market.ChannelLiquidation:  "forceOrder",
	market.ChannelIndexPrice:   "indexPrice",
}

// NewStreamName builds the stream name of a subscription, validated against
// m (channel, interval, levels and speed must exist on the market).
func (m Market) NewStreamName(sub source.Subscription) (StreamName, error) {
	var n StreamName
	if !n.Symbol.SetString(sub.Symbol) {
		return n, fmt.Errorf("stream for %q: symbol must be 1 to %d bytes", sub.Symbol, market.SymbolLen)
	}
	n.Channel = sub.Channel
	if sub.Channel == market.ChannelKline {
		n.Interval = sub.Interval
	}
	if sub.Channel == market.ChannelPartialDepth {
		n.Levels = uint8(sub.Levels)
		if sub.Levels != int(n.Levels) {
			n.Levels = 0
		}
	}
	sp, err := m.SpeedFor(sub.Channel, sub.Speed)
	if err != nil {
		return n, err
	}
	n.Speed = sp
	if err := m.CheckStream(n); err != nil {
		return n, err
	}
	return n, nil
}

// CheckStream reports whether n is a stream m serves.
func (m Market) CheckStream(n StreamName) error {
	if n.Control != ControlNone {
		if n.Control == ControlServerShutdown && m.Family() == FamilySpot {
			return nil
		}
		return fmt.Errorf("%s has no control stream %s", m, n)
	}
	if !m.Supports(n.Channel) {
		return fmt.Errorf("%s has no %s channel", m, n.Channel)
	}
	if !n.All && n.Symbol.IsZero() {
		return fmt.Errorf("%s stream without a symbol", n.Channel)
	}
	if n.Channel == market.ChannelKline && !m.SupportsInterval(n.Interval) {
		return fmt.Errorf("%s has no kline interval %q", m, n.Interval)
	}
	if n.Channel != market.ChannelKline && n.Interval != market.IntervalNone {
		return fmt.Errorf("%s stream with an interval", n.Channel)
	}
	if n.UTC8 && (n.Channel != market.ChannelKline || m.Family() != FamilySpot) {
		return fmt.Errorf("%s has no UTC+8 %s stream", m, n.Channel)
	}
	if n.Channel == market.ChannelPartialDepth {
		if n.Levels != 5 && n.Levels != 10 && n.Levels != 20 {
			return fmt.Errorf("partial depth levels must be 5, 10 or 20, not %d", n.Levels)
		}
	} else if n.Levels != 0 {
		return fmt.Errorf("%s stream with depth levels", n.Channel)
	}
	if !m.SupportsSpeed(n.Channel, n.Speed) {
		return fmt.Errorf("%s %s has no update speed %s", m, n.Channel, n.Speed.Suffix())
	}
	return nil
}

// StreamRoute is the routed path n's connection must use on m.
func (m Market) StreamRoute(n StreamName) Route {
	if n.Control != ControlNone {
		return RouteNone
	}
	return m.Route(n.Channel)
}

// AppendTo appends the wire form of n (lower-case symbol).
func (n *StreamName) AppendTo(dst []byte) []byte {
	if n.Control == ControlServerShutdown {
		return append(dst, "!serverShutdown"...)
	}
	if n.All {
		dst = append(dst, '!')
	} else {
		for _, c := range n.Symbol.Bytes() {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		}
		dst = append(dst, '@')
	}
	if int(n.Channel) < len(channelWire) {
		dst = append(dst, channelWire[n.Channel]...)
	}
	switch n.Channel {
	case market.ChannelKline:
		dst = append(dst, n.Interval.String()...)
	case market.ChannelPartialDepth:
		dst = strconv.AppendUint(dst, uint64(n.Levels), 10)
	}
	if n.All {
		switch n.Channel {
		case market.ChannelMiniTicker, market.ChannelTicker, market.ChannelLiquidation, market.ChannelMarkPrice:
			dst = append(dst, "@arr"...)
		}
	}
	if n.Speed != SpeedDefault {
		dst = append(dst, '@')
		dst = append(dst, n.Speed.Suffix()...)
	}
	if n.UTC8 {
		dst = append(dst, "@+08:00"...)
	}
	return dst
}

// String is the wire form of n, e.g. "btcusdt@depth@100ms".
func (n StreamName) String() string { return string(n.AppendTo(nil)) }

// ErrStreamName is wrapped by every stream-name parse error.
var ErrStreamName = errors.New("invalid stream name")

// ParseStreamName parses a stream name. It does not allocate on success.
func ParseStreamName(b []byte) (StreamName, error) {
	var n StreamName
	if err := n.parse(b); err != nil {
		return StreamName{}, err
	}
	return n, nil
}

// ParseStreamNameString is ParseStreamName for a string.
func ParseStreamNameString(s string) (StreamName, error) { return ParseStreamName([]byte(s)) }

func streamErr(b []byte, why string) error {
	return fmt.Errorf("%w %q: %s", ErrStreamName, b, why)
}

// parse fills n (which must be zero) from b.
func (n *StreamName) parse(b []byte) error {
	if len(b) == 0 {
		return streamErr(b, "empty")
	}
	rest := b
	if b[0] == '!' {
		n.All = true
		rest = b[1:]
		if string(rest) == "serverShutdown" {
			n.All = false
			n.Control = ControlServerShutdown
			return nil
		}
	} else {
		at := indexByte(b, '@')
		if at <= 0 {
			return streamErr(b, "no symbol@channel")
		}
		if !n.Symbol.Set(b[:at]) {
			return streamErr(b, "symbol too long")
		}
		for _, c := range b[:at] {
			if !isSymbolByte(c) {
				return streamErr(b, "bad symbol character")
			}
		}
		rest = b[at+1:]
	}
	// Split the channel word from its "@" suffixes.
	at := indexByte(rest, '@')
	word, suffixes := rest, []byte(nil)
	if at >= 0 {
		word, suffixes = rest[:at], rest[at+1:]
		if len(suffixes) == 0 {
			return streamErr(b, "empty suffix")
		}
	}
	switch {
	case string(word) == "trade":
		n.Channel = market.ChannelTrade
	case string(word) == "aggTrade":
		n.Channel = market.ChannelAggTrade
	case string(word) == "bookTicker":
		n.Channel = market.ChannelBookTicker
	case string(word) == "depth":
		n.Channel = market.ChannelDepth
	case string(word) == "depth5":
		n.Channel, n.Levels = market.ChannelPartialDepth, 5
	case string(word) == "depth10":
		n.Channel, n.Levels = market.ChannelPartialDepth, 10
	case string(word) == "depth20":
		n.Channel, n.Levels = market.ChannelPartialDepth, 20
	case string(word) == "miniTicker":
		n.Channel = market.ChannelMiniTicker
	case string(word) == "ticker":
		n.Channel = market.ChannelTicker
	case string(word) == "markPrice":
		n.Channel = market.ChannelMarkPrice
	case string(word) == "forceOrder":
		n.Channel = market.ChannelLiquidation
	case string(word) == "indexPrice":
		n.Channel = market.ChannelIndexPrice
	case len(word) > 6 && string(word[:6]) == "kline_":
		iv, ok := market.ParseKlineInterval(word[6:])
		if !ok {
			return streamErr(b, "unknown kline interval")
		}
		n.Channel, n.Interval = market.ChannelKline, iv
	default:
		return streamErr(b, "unknown channel")
	}
	arr := false
	for len(suffixes) > 0 {
		var s []byte
		if at := indexByte(suffixes, '@'); at >= 0 {
			s, suffixes = suffixes[:at], suffixes[at+1:]
			if len(suffixes) == 0 {
				return streamErr(b, "empty suffix")
			}
		} else {
			s, suffixes = suffixes, nil
		}
		switch string(s) {
		case "arr":
			if !n.All || arr || n.Speed != SpeedDefault {
				return streamErr(b, "misplaced @arr")
			}
			arr = true
		case "0ms", "100ms", "500ms", "1s":
			if n.Speed != SpeedDefault || n.UTC8 {
				return streamErr(b, "misplaced speed")
			}
			switch string(s) {
			case "0ms":
				n.Speed = Speed0ms
			case "100ms":
				n.Speed = Speed100ms
			case "500ms":
				n.Speed = Speed500ms
			default:
				n.Speed = Speed1s
			}
		case "+08:00":
			if n.Channel != market.ChannelKline || n.UTC8 {
				return streamErr(b, "misplaced timezone")
			}
			n.UTC8 = true
		default:
			return streamErr(b, "unknown suffix")
		}
	}
	if n.All {
		switch n.Channel {
		case market.ChannelMiniTicker, market.ChannelTicker, market.ChannelLiquidation, market.ChannelMarkPrice:
			if !arr {
				return streamErr(b, "all-market stream needs @arr")
			}
		case market.ChannelBookTicker:
		default:
			return streamErr(b, "no all-market form")
		}
	}
	return nil
}

func isSymbolByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
