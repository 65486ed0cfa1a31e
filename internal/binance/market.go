// Package binance is the Binance market-data source: the table of markets
// (spot, USD-M and COIN-M futures and their testnets) with their endpoints and
// limits, stream names, zero-allocation parsers from websocket frames to
// internal/market events, the REST client (exchangeInfo, depth snapshots,
// trades) with request-weight tracking, and the websocket feed.
//
// Everything is one implementation parameterised by Market; the markets differ
// only in the data of the table below. Facts come from docs/binance.md.
package binance

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ims-dev/ims/internal/market"
)

// Market is one Binance market. The zero value is invalid.
type Market uint8

// The markets. Their order is not a wire format; use Exchange for that.
const (
	Spot Market = iota + 1
	SpotTestnet
	USDM
	USDMTestnet
	CoinM
	CoinMTestnet
)

// Family groups a market with its testnet: they share the API.
type Family uint8

// The families.
const (
	FamilySpot Family = iota + 1
	FamilyUSDM
	FamilyCoinM
)

func (f Family) String() string {
	switch f {
	case FamilySpot:
		return "spot"
	case FamilyUSDM:
		return "usdm"
	case FamilyCoinM:
		return "coinm"
	}
	return "unknown"
}

// Route is a USD-M websocket routed path. Other markets are unrouted.
type Route uint8

// The routes. USD-M streams must use RoutePublic or RouteMarket: an unrouted
// USD-M connection silently receives nothing for /market streams.
const (
	RouteNone   Route = iota // unrouted: spot, COIN-M
	RoutePublic              // "/public": bookTicker, depth, partial depth, trade
	RouteMarket              // "/market": everything else
)

// Path is the URL path segment of the route ("" for RouteNone).
func (r Route) Path() string {
	switch r {
	case RoutePublic:
		return "/public"
	case RouteMarket:
		return "/market"
	}
	return ""
}

func (r Route) String() string {
	switch r {
	case RoutePublic:
		return "public"
	case RouteMarket:
		return "market"
	}
	return "none"
}

// TimeUnit is the unit of a connection's JSON time fields.
type TimeUnit uint8

// Time units. Only spot streams can switch to microseconds (URL parameter
// timeUnit=MICROSECOND); futures are always milliseconds.
const (
	Millisecond TimeUnit = iota
	Microsecond
)

func (u TimeUnit) String() string {
	if u == Microsecond {
		return "MICROSECOND"
	}
	return "MILLISECOND"
}

// Limits are a market's connection and request limits.
type Limits struct {
	// StreamsPerConn is the most streams one websocket connection may carry.
	StreamsPerConn int
	// MessagesPerSecond is the most client→server messages (pings, pongs,
	// SUBSCRIBE...) per second per connection.
	MessagesPerSecond int
	// PingInterval is how often the server pings; PongTimeout is how long it
	// waits for the pong before disconnecting.
	PingInterval time.Duration
	PongTimeout  time.Duration
	// Lifetime is the longest a connection lives before the server cuts it.
	Lifetime time.Duration
	// ConnectAttempts per ConnectWindow per IP (documented for spot only;
	// the same bound is applied to futures to be safe).
	ConnectAttempts int
	ConnectWindow   time.Duration
	// RequestWeightPerMinute is the default REST IP weight limit, used until
	// exchangeInfo's rateLimits says otherwise.
	RequestWeightPerMinute int
}

// marketInfo is one row of the market table.
type marketInfo struct {
	name       string
	exchange   market.ExchangeID
	family     Family
	testnet    bool
	wsBase     string
	restBase   string
	restPrefix string
}

// markets is the read-only market table, indexed by Market.
var markets = [...]marketInfo{
	Spot: {
		name: "spot", exchange: market.ExchangeBinanceSpot, family: FamilySpot,
		wsBase: "wss://stream.binance.com:9443", restBase: "https://api.binance.com", restPrefix: "/api/v3",
	},
	SpotTestnet: {
		name: "spot-testnet", exchange: market.ExchangeBinanceSpotTestnet, family: FamilySpot, testnet: true,
		wsBase: "wss://stream.testnet.binance.vision", restBase: "https://testnet.binance.vision", restPrefix: "/api/v3",
	},
	USDM: {
		name: "usdm", exchange: market.ExchangeBinanceUSDM, family: FamilyUSDM,
		wsBase: "wss://fstream.binance.com", restBase: "https://fapi.binance.com", restPrefix: "/fapi/v1",
	},
	USDMTestnet: {
		name: "usdm-testnet", exchange: market.ExchangeBinanceUSDMTestnet, family: FamilyUSDM, testnet: true,
		wsBase: "wss://fstream.binancefuture.com", restBase: "https://demo-fapi.binance.com", restPrefix: "/fapi/v1",
	},
	CoinM: {
		name: "coinm", exchange: market.ExchangeBinanceCoinM, family: FamilyCoinM,
		wsBase: "wss://dstream.binance.com", restBase: "https://dapi.binance.com", restPrefix: "/dapi/v1",
	},
	CoinMTestnet: {
		name: "coinm-testnet", exchange: market.ExchangeBinanceCoinMTestnet, family: FamilyCoinM, testnet: true,
		wsBase: "wss://dstream.binancefuture.com", restBase: "https://testnet.binancefuture.com", restPrefix: "/dapi/v1",
	},
}

var spotLimits = Limits{
	StreamsPerConn:         1024,
	MessagesPerSecond:      5,
	PingInterval:           20 * time.Second,
	PongTimeout:            time.Minute,
	Lifetime:               24 * time.Hour,
	ConnectAttempts:        300,
	ConnectWindow:          5 * time.Minute,
	RequestWeightPerMinute: 6000,
}

var futuresLimits = Limits{
	StreamsPerConn:         1024,
	MessagesPerSecond:      10,
	PingInterval:           3 * time.Minute,
	PongTimeout:            10 * time.Minute,
	Lifetime:               24 * time.Hour,
	ConnectAttempts:        300,
	ConnectWindow:          5 * time.Minute,
	RequestWeightPerMinute: 2400,
}

// Markets lists every market in table order.
func Markets() []Market {
	return []Market{Spot, SpotTestnet, USDM, USDMTestnet, CoinM, CoinMTestnet}
}

// MarketNames lists the names ParseMarket accepts, for help texts.
func MarketNames() []string {
	ms := Markets()
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

// ErrUnknownMarket is returned by ParseMarket.
var ErrUnknownMarket = errors.New("unknown Binance market")

// ParseMarket accepts a market name ("spot", "usdm-testnet", ...),
// case-insensitively. It also accepts the original system's exchange names
// ("binancespot", "binanceusdmarginfuture", ...).
func ParseMarket(s string) (Market, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, m := range Markets() {
		if s == markets[m].name {
			return m, nil
		}
	}
	if id, ok := market.ParseExchangeID(s); ok {
		if m, ok := MarketFor(id); ok {
			return m, nil
		}
	}
	return 0, fmt.Errorf("%w %q (want one of %s)", ErrUnknownMarket, s, strings.Join(MarketNames(), ", "))
}

// MarketFor returns the market an ExchangeID stands for.
func MarketFor(id market.ExchangeID) (Market, bool) {
	for _, m := range Markets() {
		if markets[m].exchange == id {
			return m, true
		}
	}
	return 0, false
}

// Valid reports whether m is one of the markets.
func (m Market) Valid() bool { return m >= Spot && m <= CoinMTestnet }

func (m Market) info() *marketInfo {
	if !m.Valid() {
		return &markets[0]
	}
	return &markets[m]
}

// String is the market's name: spot, spot-testnet, usdm, usdm-testnet,
// coinm, coinm-testnet.
func (m Market) String() string {
	if !m.Valid() {
		return fmt.Sprintf("Market(%d)", uint8(m))
	}
	return m.info().name
}

// SourceName is the market's source name, "binance-" + String(); it is also
// the default Iggy stream name.
func (m Market) SourceName() string { return "binance-" + m.String() }

// Exchange is the market's ExchangeID (the original system's enum).
func (m Market) Exchange() market.ExchangeID { return m.info().exchange }

// Family is the API family the market belongs to.
func (m Market) Family() Family { return m.info().family }

// Testnet reports whether m is a testnet.
func (m Market) Testnet() bool { return m.info().testnet }

// IsFutures reports whether m is a USD-M or COIN-M market.
func (m Market) IsFutures() bool {
	f := m.Family()
	return f == FamilyUSDM || f == FamilyCoinM
}

// Limits returns the market's connection and request limits.
func (m Market) Limits() Limits {
	if m.Family() == FamilySpot {
		return spotLimits
	}
	return futuresLimits
}

// DefaultWSBase is the websocket base URL (scheme, host and port).
func (m Market) DefaultWSBase() string { return m.info().wsBase }

// DefaultRESTBase is the REST base URL (scheme and host).
func (m Market) DefaultRESTBase() string { return m.info().restBase }

// RESTPrefix is the API path prefix: /api/v3, /fapi/v1 or /dapi/v1.
func (m Market) RESTPrefix() string { return m.info().restPrefix }

// Routed reports whether the market's websocket streams use routed paths.
func (m Market) Routed() bool { return m.Family() == FamilyUSDM }

// Route returns the routed path a channel's streams use on m. USD-M puts the
// high-frequency book data (bookTicker, depth, partial depth) on /public and
// everything else on /market. USD-M @trade is undocumented; it is routed to
// /public, as tardis-machine does in production (its live test receives
// trades there) — see docs/binance.md.
func (m Market) Route(ch market.Channel) Route {
	if !m.Routed() {
		return RouteNone
	}
	switch ch {
	case market.ChannelBookTicker, market.ChannelDepth, market.ChannelPartialDepth, market.ChannelTrade:
		return RoutePublic
	}
	return RouteMarket
}

// Routes lists the routes a market's connections use.
func (m Market) Routes() []Route {
	if m.Routed() {
		return []Route{RoutePublic, RouteMarket}
	}
	return []Route{RouteNone}
}

var spotChannels = []market.Channel{
	market.ChannelTrade, market.ChannelAggTrade, market.ChannelKline, market.ChannelBookTicker,
	market.ChannelDepth, market.ChannelPartialDepth, market.ChannelMiniTicker, market.ChannelTicker,
}

var usdmChannels = []market.Channel{
	market.ChannelTrade, market.ChannelAggTrade, market.ChannelKline, market.ChannelBookTicker,
	market.ChannelDepth, market.ChannelPartialDepth, market.ChannelMiniTicker, market.ChannelTicker,
	market.ChannelMarkPrice, market.ChannelLiquidation,
}

var coinmChannels = []market.Channel{
	market.ChannelTrade, market.ChannelAggTrade, market.ChannelKline, market.ChannelBookTicker,
	market.ChannelDepth, market.ChannelPartialDepth, market.ChannelMiniTicker, market.ChannelTicker,
	market.ChannelMarkPrice, market.ChannelLiquidation, market.ChannelIndexPrice,
}

// Channels lists the stream channels m supports (a fresh slice).
func (m Market) Channels() []market.Channel {
	var src []market.Channel
	switch m.Family() {
	case FamilySpot:
		src = spotChannels
	case FamilyUSDM:
		src = usdmChannels
	case FamilyCoinM:
		src = coinmChannels
	}
	return append([]market.Channel(nil), src...)
}

// Supports reports whether m has the channel.
func (m Market) Supports(ch market.Channel) bool {
	for _, c := range m.Channels() {
		if c == ch {
			return true
		}
	}
	return false
}

// Intervals lists the kline intervals m supports: futures lack 1s.
func (m Market) Intervals() []market.KlineInterval {
	all := market.KlineIntervals()
	if m.Family() == FamilySpot {
		return all
	}
	out := all[:0]
	for _, iv := range all {
		if iv != market.Interval1s {
			out = append(out, iv)
		}
	}
	return out
}

// SupportsInterval reports whether m has klines of width iv.
func (m Market) SupportsInterval(iv market.KlineInterval) bool {
	if iv == market.IntervalNone || iv.String() == "" {
		return false
	}
	return iv != market.Interval1s || m.Family() == FamilySpot
}

// PartialDepthLevels are the partial book depths every market offers.
func PartialDepthLevels() []int { return []int{5, 10, 20} }

// Speeds lists the update speeds m offers for a channel; SpeedDefault is
// always first. Channels without a speed choice return just SpeedDefault.
func (m Market) Speeds(ch market.Channel) []Speed {
	switch ch {
	case market.ChannelDepth:
		if m.IsFutures() {
			return []Speed{SpeedDefault, Speed0ms, Speed100ms, Speed500ms}
		}
		return []Speed{SpeedDefault, Speed100ms}
	case market.ChannelPartialDepth:
		if m.IsFutures() {
			return []Speed{SpeedDefault, Speed100ms, Speed500ms}
		}
		return []Speed{SpeedDefault, Speed100ms}
	case market.ChannelMarkPrice, market.ChannelIndexPrice:
		if m.IsFutures() {
			return []Speed{SpeedDefault, Speed1s}
		}
	}
	return []Speed{SpeedDefault}
}

// DefaultSpeed is the update interval a channel has without a speed suffix
// (0 for real-time channels).
func (m Market) DefaultSpeed(ch market.Channel) time.Duration {
	switch ch {
	case market.ChannelDepth, market.ChannelPartialDepth:
		if m.IsFutures() {
			return 250 * time.Millisecond
		}
		return time.Second
	case market.ChannelMarkPrice, market.ChannelIndexPrice:
		return 3 * time.Second
	case market.ChannelKline:
		if m.IsFutures() {
			return 250 * time.Millisecond
		}
		return 2 * time.Second
	case market.ChannelAggTrade:
		if m.IsFutures() {
			return 100 * time.Millisecond
		}
	case market.ChannelMiniTicker, market.ChannelTicker:
		switch m.Family() {
		case FamilySpot:
			return time.Second
		case FamilyUSDM:
			return 2 * time.Second
		case FamilyCoinM:
			return 500 * time.Millisecond
		}
	case market.ChannelLiquidation:
		return time.Second
	}
	return 0
}

// SupportsSpeed reports whether m offers speed sp for ch.
func (m Market) SupportsSpeed(ch market.Channel, sp Speed) bool {
	for _, s := range m.Speeds(ch) {
		if s == sp {
			return true
		}
	}
	return false
}

// Endpoints are the base URLs a client uses. Empty fields mean the market's
// defaults. An override is scheme://host[:port][/path]; the API paths
// (/api/v3/..., /stream, and for USD-M the routed /public and /market) are
// appended to it, so a fake exchange on one address serves every route.
// Because Binance's own documents give some bases with a path already on
// (wss://stream.testnet.binance.vision/ws, https://testnet.binance.vision/api),
// a trailing /ws or /stream (after it /public or /market on USD-M) and a
// trailing REST prefix (/api, /api/v3, /fapi/v1, ...) are taken off first.
type Endpoints struct {
	WS   string
	REST string
}

// Resolve fills empty fields with m's defaults and checks the URLs.
func (e Endpoints) Resolve(m Market) (Endpoints, error) {
	if !m.Valid() {
		return Endpoints{}, fmt.Errorf("endpoints: %w %d", ErrUnknownMarket, m)
	}
	out := Endpoints{WS: e.WS, REST: e.REST}
	if out.WS == "" {
		out.WS = m.DefaultWSBase()
	}
	if out.REST == "" {
		out.REST = m.DefaultRESTBase()
	}
	var err error
	if out.WS, err = cleanBase(out.WS, "ws", "wss"); err != nil {
		return Endpoints{}, fmt.Errorf("websocket URL: %w", err)
	}
	if out.REST, err = cleanBase(out.REST, "http", "https"); err != nil {
		return Endpoints{}, fmt.Errorf("REST URL: %w", err)
	}
	out.WS = trimSuffixes(out.WS, "/ws", "/stream")
	if m.Routed() {
		out.WS = trimSuffixes(out.WS, RoutePublic.Path(), RouteMarket.Path())
	}
	prefix := m.RESTPrefix()
	out.REST = trimSuffixes(out.REST, prefix, prefix[:strings.LastIndexByte(prefix, '/')])
	return out, nil
}

// trimSuffixes takes the first of suffixes that base ends with off it,
// keeping at least scheme://host.
func trimSuffixes(base string, suffixes ...string) string {
	for _, s := range suffixes {
		rest, ok := strings.CutSuffix(base, s)
		if !ok || s == "" || strings.HasSuffix(rest, "/") {
			continue
		}
		if u, err := url.Parse(rest); err == nil && u.Host != "" {
			return rest
		}
	}
	return base
}

// cleanBase validates a base URL and strips a trailing slash, query and
// fragment are rejected because paths are appended to it.
func cleanBase(raw string, schemes ...string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parsing %q: %w", raw, err)
	}
	ok := false
	for _, s := range schemes {
		if strings.EqualFold(u.Scheme, s) {
			ok = true
		}
	}
	if !ok {
		return "", fmt.Errorf("%q: scheme must be %s", raw, strings.Join(schemes, " or "))
	}
	if u.Host == "" {
		return "", fmt.Errorf("%q: no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q: a base URL takes no query or fragment", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// StreamURL returns the combined-stream URL (frames wrapped as
// {"stream":..,"data":..}) for streams on route r under the websocket base
// (the market default when base is ""). unit Microsecond adds
// timeUnit=MICROSECOND (spot only). With no streams the URL has no streams
// parameter, for connections that SUBSCRIBE later.
func (m Market) StreamURL(base string, r Route, streams []string, unit TimeUnit) (string, error) {
	eps, err := Endpoints{WS: base}.Resolve(m)
	if err != nil {
		return "", err
	}
	if err := m.checkRoute(r); err != nil {
		return "", err
	}
	if unit == Microsecond && m.Family() != FamilySpot {
		return "", fmt.Errorf("%s streams have no microsecond time unit", m)
	}
	var b strings.Builder
	b.WriteString(eps.WS)
	b.WriteString(r.Path())
	b.WriteString("/stream")
	sep := byte('?')
	if len(streams) > 0 {
		b.WriteString("?streams=")
		b.WriteString(strings.Join(streams, "/"))
		sep = '&'
	}
	if unit == Microsecond {
		b.WriteByte(sep)
		b.WriteString("timeUnit=MICROSECOND")
	}
	return b.String(), nil
}

// RawStreamURL returns the raw-stream URL (/ws/<s1>/<s2>, unwrapped
// payloads) for streams on route r.
func (m Market) RawStreamURL(base string, r Route, streams []string, unit TimeUnit) (string, error) {
	eps, err := Endpoints{WS: base}.Resolve(m)
	if err != nil {
		return "", err
	}
	if err := m.checkRoute(r); err != nil {
		return "", err
	}
	if unit == Microsecond && m.Family() != FamilySpot {
		return "", fmt.Errorf("%s streams have no microsecond time unit", m)
	}
	s := eps.WS + r.Path() + "/ws"
	if len(streams) > 0 {
		s += "/" + strings.Join(streams, "/")
	}
	if unit == Microsecond {
		s += "?timeUnit=MICROSECOND"
	}
	return s, nil
}

func (m Market) checkRoute(r Route) error {
	if m.Routed() && r == RouteNone {
		return fmt.Errorf("%s streams need a routed path (/public or /market)", m)
	}
	if !m.Routed() && r != RouteNone {
		return fmt.Errorf("%s streams have no routed paths (got %s)", m, r)
	}
	return nil
}

// RESTURL returns base + the market's API prefix + endpoint (e.g.
// "exchangeInfo"), base defaulting to the market's.
func (m Market) RESTURL(base, endpoint string) (string, error) {
	eps, err := Endpoints{REST: base}.Resolve(m)
	if err != nil {
		return "", err
	}
	return eps.REST + m.RESTPrefix() + "/" + strings.TrimLeft(endpoint, "/"), nil
}
