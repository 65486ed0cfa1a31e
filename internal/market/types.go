package market

import "strings"

// ExchangeID identifies a venue and market. The values are the original
// system's ExchangeID enum (a u8 on the wire) and must not change.
type ExchangeID uint8

const (
	ExchangeNull                ExchangeID = 0
	ExchangeKraken              ExchangeID = 1
	ExchangeCoinbase            ExchangeID = 2
	ExchangeVex                 ExchangeID = 3
	ExchangeBinanceSpot         ExchangeID = 4
	ExchangeBinanceSpotTestnet  ExchangeID = 5
	ExchangeBinanceCoinM        ExchangeID = 6
	ExchangeBinanceCoinMTestnet ExchangeID = 7
	ExchangeBinanceUSDM         ExchangeID = 8
	ExchangeBinanceUSDMTestnet  ExchangeID = 9
)

var exchangeNames = [...]string{
	"nullval", "kraken", "coinbase", "vex",
	"binancespot", "binancespottestnet",
	"binancecoinmarginfuture", "binancecoinmarginfuturetestnet",
	"binanceusdmarginfuture", "binanceusdmarginfuturetestnet",
}

// String is the original system's Display text (lower case), which it used
// in every Iggy stream and topic name.
func (e ExchangeID) String() string {
	if int(e) < len(exchangeNames) {
		return exchangeNames[e]
	}
	return "nullval"
}

// ParseExchangeID accepts the Display text, case-insensitively.
func ParseExchangeID(s string) (ExchangeID, bool) {
	s = strings.ToLower(s)
	for i, n := range exchangeNames {
		if n == s {
			return ExchangeID(i), true
		}
	}
	return ExchangeNull, false
}

// SymbolLen is the width of the SBE SymbolID field (char[20], NUL-padded).
const SymbolLen = 20

// Symbol is an exchange symbol stored the way SBE carries it: upper case,
// NUL-padded to 20 bytes. It is a value type so events never allocate for it.
type Symbol [SymbolLen]byte

// Set stores b upper-cased. It reports false (and stores nothing) when b is
// empty or longer than 20 bytes.
func (s *Symbol) Set(b []byte) bool {
	if len(b) == 0 || len(b) > SymbolLen {
		return false
	}
	for i := range s {
		if i < len(b) {
			c := b[i]
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			s[i] = c
		} else {
			s[i] = 0
		}
	}
	return true
}

// SetString is Set for a string.
func (s *Symbol) SetString(v string) bool { return s.Set([]byte(v)) }

// NewSymbol returns v as a Symbol; ok is false when v does not fit.
func NewSymbol(v string) (sym Symbol, ok bool) {
	ok = sym.SetString(v)
	return sym, ok
}

// Len is the number of bytes before the padding.
func (s *Symbol) Len() int {
	for i, c := range s {
		if c == 0 {
			return i
		}
	}
	return SymbolLen
}

// Bytes returns the symbol without padding, aliasing s.
func (s *Symbol) Bytes() []byte { return s[:s.Len()] }

// String returns the symbol without padding.
func (s Symbol) String() string { return string(s[:s.Len()]) }

// IsZero reports whether no symbol is set.
func (s *Symbol) IsZero() bool { return s[0] == 0 }

// Channel is a kind of market-data stream. Its values are the SBE Channel enum.
type Channel uint8

const (
	ChannelNone          Channel = 0
	ChannelTrade         Channel = 1
	ChannelAggTrade      Channel = 2
	ChannelKline         Channel = 3
	ChannelBookTicker    Channel = 4
	ChannelDepth         Channel = 5
	ChannelPartialDepth  Channel = 6
	ChannelMiniTicker    Channel = 7
	ChannelTicker        Channel = 8
	ChannelMarkPrice     Channel = 9
	ChannelLiquidation   Channel = 10
	ChannelIndexPrice    Channel = 11
	ChannelDepthSnapshot Channel = 12
)

var channelNames = [...]string{
	"none", "trade", "aggTrade", "kline", "bookTicker", "depth", "partialDepth",
	"miniTicker", "ticker", "markPrice", "liquidation", "indexPrice", "depthSnapshot",
}

func (c Channel) String() string {
	if int(c) < len(channelNames) {
		return channelNames[c]
	}
	return "unknown"
}

// ParseChannel accepts the names String returns, case-insensitively.
func ParseChannel(s string) (Channel, bool) {
	for i, n := range channelNames {
		if strings.EqualFold(n, s) {
			return Channel(i), true
		}
	}
	return ChannelNone, false
}

// KlineInterval is a candle width. Values are the SBE KlineInterval enum.
type KlineInterval uint8

const (
	IntervalNone KlineInterval = iota
	Interval1s
	Interval1m
	Interval3m
	Interval5m
	Interval15m
	Interval30m
	Interval1h
	Interval2h
	Interval4h
	Interval6h
	Interval8h
	Interval12h
	Interval1d
	Interval3d
	Interval1w
	Interval1M
)

var intervalNames = [...]string{
	"", "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M",
}

// intervalMillis is each interval's nominal length (1M as 30 days).
var intervalMillis = [...]int64{
	0, 1e3, 60e3, 180e3, 300e3, 900e3, 1800e3, 3600e3, 7200e3, 14400e3, 21600e3, 28800e3,
	43200e3, 86400e3, 259200e3, 604800e3, 2592000e3,
}

// String is Binance's interval text ("1m", "1M").
func (k KlineInterval) String() string {
	if int(k) < len(intervalNames) {
		return intervalNames[k]
	}
	return ""
}

// Millis is the nominal interval length in milliseconds.
func (k KlineInterval) Millis() int64 {
	if int(k) < len(intervalMillis) {
		return intervalMillis[k]
	}
	return 0
}

// ParseKlineInterval parses Binance's interval text; it is case-sensitive
// because "1m" (minute) and "1M" (month) differ only in case.
func ParseKlineInterval(b []byte) (KlineInterval, bool) {
	for i := 1; i < len(intervalNames); i++ {
		if string(b) == intervalNames[i] {
			return KlineInterval(i), true
		}
	}
	return IntervalNone, false
}

// KlineIntervals lists every interval in order.
func KlineIntervals() []KlineInterval {
	out := make([]KlineInterval, 0, len(intervalNames)-1)
	for i := 1; i < len(intervalNames); i++ {
		out = append(out, KlineInterval(i))
	}
	return out
}

// Side of an order.
type Side uint8

const (
	SideUnknown Side = 0
	SideBuy     Side = 1
	SideSell    Side = 2
)

// OrderType of a liquidation order.
type OrderType uint8

const (
	OrderTypeUnknown OrderType = 0
	OrderTypeLimit   OrderType = 1
	OrderTypeMarket  OrderType = 2
)

// TimeInForce of a liquidation order.
type TimeInForce uint8

const (
	TimeInForceUnknown TimeInForce = 0
	TimeInForceGTC     TimeInForce = 1
	TimeInForceIOC     TimeInForce = 2
	TimeInForceFOK     TimeInForce = 3
	TimeInForceGTX     TimeInForce = 4
	TimeInForceGTD     TimeInForce = 5
)

// OrderStatus of a liquidation order.
type OrderStatus uint8

const (
	OrderStatusUnknown         OrderStatus = 0
	OrderStatusNew             OrderStatus = 1
	OrderStatusPartiallyFilled OrderStatus = 2
	OrderStatusFilled          OrderStatus = 3
	OrderStatusCanceled        OrderStatus = 4
	OrderStatusExpired         OrderStatus = 5
)

// TradeType is the futures trade type (field X); spot trades are Market.
type TradeType uint8

const (
	TradeTypeUnknown       TradeType = 0
	TradeTypeMarket        TradeType = 1
	TradeTypeInsuranceFund TradeType = 2
	TradeTypeADL           TradeType = 3
)

// TickerKind tells a full 24h ticker from a mini ticker.
type TickerKind uint8

const (
	TickerFull TickerKind = 1
	TickerMini TickerKind = 2
)

// SnapshotSource tells where a DepthSnapshot came from.
type SnapshotSource uint8

const (
	SnapshotREST    SnapshotSource = 1 // REST /depth
	SnapshotPartial SnapshotSource = 2 // partial depth stream (top N)
)

// StatusKind is the in-band marker a Status event carries.
type StatusKind uint8

const (
	StatusConnected    StatusKind = 1
	StatusDisconnected StatusKind = 2
	StatusReconnected  StatusKind = 3
	StatusStale        StatusKind = 4
	StatusRecovered    StatusKind = 5
	StatusGap          StatusKind = 6
	StatusGapFilled    StatusKind = 7
	StatusGapUnfilled  StatusKind = 8
)

var statusNames = [...]string{
	"", "connected", "disconnected", "reconnected", "stale", "recovered", "gap", "gapFilled", "gapUnfilled",
}

func (k StatusKind) String() string {
	if int(k) < len(statusNames) && k != 0 {
		return statusNames[k]
	}
	return "unknown"
}
