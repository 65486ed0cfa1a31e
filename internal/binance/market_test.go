package binance_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/binance/binancetest"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

func TestMarketTable(t *testing.T) {
	cases := []struct {
		name     string
		m        binance.Market
		exchange market.ExchangeID
		ws, rest string
		prefix   string
		futures  bool
		testnet  bool
	}{
		{"spot", binance.Spot, 4, "wss://stream.binance.com:9443", "https://api.binance.com", "/api/v3", false, false},
		{"spot-testnet", binance.SpotTestnet, 5, "wss://stream.testnet.binance.vision", "https://testnet.binance.vision", "/api/v3", false, true},
		{"coinm", binance.CoinM, 6, "wss://dstream.binance.com", "https://dapi.binance.com", "/dapi/v1", true, false},
		{"coinm-testnet", binance.CoinMTestnet, 7, "wss://dstream.binancefuture.com", "https://testnet.binancefuture.com", "/dapi/v1", true, true},
		{"usdm", binance.USDM, 8, "wss://fstream.binance.com", "https://fapi.binance.com", "/fapi/v1", true, false},
		{"usdm-testnet", binance.USDMTestnet, 9, "wss://fstream.binancefuture.com", "https://demo-fapi.binance.com", "/fapi/v1", true, true},
	}
	if len(binance.Markets()) != len(cases) {
		t.Fatalf("%d markets", len(binance.Markets()))
	}
	for _, c := range cases {
		m, err := binance.ParseMarket(strings.ToUpper(c.name))
		if err != nil || m != c.m {
			t.Fatalf("ParseMarket(%q) = %v, %v", c.name, m, err)
		}
		if m.String() != c.name || m.Exchange() != c.exchange || m.DefaultWSBase() != c.ws || m.DefaultRESTBase() != c.rest ||
			m.RESTPrefix() != c.prefix || m.IsFutures() != c.futures || m.Testnet() != c.testnet {
			t.Errorf("%s: table row wrong", c.name)
		}
		if got, ok := binance.MarketFor(c.exchange); !ok || got != m {
			t.Errorf("MarketFor(%d) = %v", c.exchange, got)
		}
		// The original system's exchange names parse too.
		if got, err := binance.ParseMarket(c.exchange.String()); err != nil || got != m {
			t.Errorf("ParseMarket(%q) = %v %v", c.exchange.String(), got, err)
		}
		if m.SourceName() != "binance-"+c.name {
			t.Errorf("source name %s", m.SourceName())
		}
		api, ok := binancetest.APIFor(c.name)
		if !ok || string(api) != c.prefix {
			t.Errorf("fake API for %s: %s", c.name, api)
		}
		lim := m.Limits()
		if lim.StreamsPerConn != 1024 || lim.Lifetime != 24*time.Hour {
			t.Errorf("%s limits %+v", c.name, lim)
		}
		if c.futures && (lim.MessagesPerSecond != 10 || lim.PingInterval != 3*time.Minute || lim.PongTimeout != 10*time.Minute) {
			t.Errorf("%s futures limits %+v", c.name, lim)
		}
		if !c.futures && (lim.MessagesPerSecond != 5 || lim.PingInterval != 20*time.Second || lim.PongTimeout != time.Minute) {
			t.Errorf("%s spot limits %+v", c.name, lim)
		}
	}
	if _, err := binance.ParseMarket("options"); !errors.Is(err, binance.ErrUnknownMarket) || !strings.Contains(err.Error(), "spot, spot-testnet, usdm") {
		t.Errorf("unknown market: %v", err)
	}
	if binance.Market(0).Valid() || binance.Market(7).Valid() {
		t.Error("invalid markets report valid")
	}
}

func TestChannelsAndIntervals(t *testing.T) {
	if binance.Spot.Supports(market.ChannelMarkPrice) || binance.Spot.Supports(market.ChannelIndexPrice) {
		t.Error("spot has no mark or index price")
	}
	if binance.USDM.Supports(market.ChannelIndexPrice) || !binance.USDM.Supports(market.ChannelLiquidation) {
		t.Error("usdm channels")
	}
	if !binance.CoinMTestnet.Supports(market.ChannelIndexPrice) {
		t.Error("coinm has index price")
	}
	if !binance.Spot.SupportsInterval(market.Interval1s) || binance.USDM.SupportsInterval(market.Interval1s) {
		t.Error("1s klines are spot only")
	}
	if n := len(binance.USDM.Intervals()); n != 15 {
		t.Errorf("usdm has %d intervals", n)
	}
	if n := len(binance.Spot.Intervals()); n != 16 {
		t.Errorf("spot has %d intervals", n)
	}
	if got := binance.Spot.Speeds(market.ChannelDepth); len(got) != 2 || got[1] != binance.Speed100ms {
		t.Errorf("spot depth speeds %v", got)
	}
	if got := binance.CoinM.Speeds(market.ChannelDepth); len(got) != 4 {
		t.Errorf("coinm depth speeds %v", got)
	}
	if binance.USDM.DefaultSpeed(market.ChannelDepth) != 250*time.Millisecond || binance.Spot.DefaultSpeed(market.ChannelDepth) != time.Second {
		t.Error("default depth speeds")
	}
}

func TestRoutes(t *testing.T) {
	for _, ch := range []market.Channel{market.ChannelBookTicker, market.ChannelDepth, market.ChannelPartialDepth, market.ChannelTrade} {
		if binance.USDM.Route(ch) != binance.RoutePublic || binance.USDMTestnet.Route(ch) != binance.RoutePublic {
			t.Errorf("usdm %s not on /public", ch)
		}
	}
	for _, ch := range []market.Channel{market.ChannelAggTrade, market.ChannelKline, market.ChannelMarkPrice, market.ChannelTicker,
		market.ChannelMiniTicker, market.ChannelLiquidation} {
		if binance.USDM.Route(ch) != binance.RouteMarket {
			t.Errorf("usdm %s not on /market", ch)
		}
	}
	// The fake's independent copy of the rule agrees.
	for _, ch := range binance.USDM.Channels() {
		n, err := binance.USDM.NewStreamName(subFor(ch))
		if err != nil {
			t.Fatal(err)
		}
		if (binance.USDM.StreamRoute(n) == binance.RoutePublic) != binancetest.PublicChannel(n.String()) {
			t.Errorf("%s: route disagrees with the fake", n)
		}
	}
	if binance.CoinM.Route(market.ChannelDepth) != binance.RouteNone || binance.Spot.Routed() {
		t.Error("only usdm is routed")
	}
}

func subFor(ch market.Channel) source.Subscription {
	sub := source.Subscription{Symbol: "BTCUSDT", Channel: ch}
	switch ch {
	case market.ChannelKline:
		sub.Interval = market.Interval1m
	case market.ChannelPartialDepth:
		sub.Levels = 10
	}
	return sub
}

func TestStreamURLs(t *testing.T) {
	cases := []struct {
		m       binance.Market
		base    string
		r       binance.Route
		streams []string
		unit    binance.TimeUnit
		want    string
	}{
		{binance.Spot, "", binance.RouteNone, []string{"btcusdt@trade", "ethusdt@depth@100ms"}, binance.Millisecond,
			"wss://stream.binance.com:9443/stream?streams=btcusdt@trade/ethusdt@depth@100ms"},
		{binance.Spot, "", binance.RouteNone, []string{"btcusdt@trade"}, binance.Microsecond,
			"wss://stream.binance.com:9443/stream?streams=btcusdt@trade&timeUnit=MICROSECOND"},
		{binance.Spot, "", binance.RouteNone, nil, binance.Microsecond, "wss://stream.binance.com:9443/stream?timeUnit=MICROSECOND"},
		{binance.USDM, "", binance.RoutePublic, []string{"btcusdt@bookTicker"}, binance.Millisecond,
			"wss://fstream.binance.com/public/stream?streams=btcusdt@bookTicker"},
		{binance.USDM, "ws://127.0.0.1:1234/", binance.RouteMarket, []string{"btcusdt@aggTrade"}, binance.Millisecond,
			"ws://127.0.0.1:1234/market/stream?streams=btcusdt@aggTrade"},
		{binance.USDM, "ws://127.0.0.1:1234", binance.RoutePublic, nil, binance.Millisecond, "ws://127.0.0.1:1234/public/stream"},
		{binance.CoinMTestnet, "", binance.RouteNone, []string{"btcusd_perp@markPrice@1s"}, binance.Millisecond,
			"wss://dstream.binancefuture.com/stream?streams=btcusd_perp@markPrice@1s"},
	}
	for _, c := range cases {
		got, err := c.m.StreamURL(c.base, c.r, c.streams, c.unit)
		if err != nil || got != c.want {
			t.Errorf("%s %v: %q %v, want %q", c.m, c.streams, got, err, c.want)
		}
	}
	raw, err := binance.USDM.RawStreamURL("ws://h:1", binance.RouteMarket, []string{"a@aggTrade", "b@aggTrade"}, binance.Millisecond)
	if err != nil || raw != "ws://h:1/market/ws/a@aggTrade/b@aggTrade" {
		t.Errorf("raw %q %v", raw, err)
	}
	bad := []struct {
		m    binance.Market
		base string
		r    binance.Route
		unit binance.TimeUnit
	}{
		{binance.USDM, "", binance.RouteNone, binance.Millisecond},         // unrouted usdm receives nothing
		{binance.Spot, "", binance.RoutePublic, binance.Millisecond},       // spot is not routed
		{binance.CoinM, "", binance.RouteNone, binance.Microsecond},        // futures have no µs
		{binance.Spot, "http://h", binance.RouteNone, binance.Millisecond}, // not a websocket URL
		{binance.Spot, "ws://h/?x=1", binance.RouteNone, binance.Millisecond},
		{binance.Spot, "ws://", binance.RouteNone, binance.Millisecond},
	}
	for _, b := range bad {
		if u, err := b.m.StreamURL(b.base, b.r, []string{"x@trade"}, b.unit); err == nil {
			t.Errorf("%s %q %v: accepted %q", b.m, b.base, b.r, u)
		}
	}
	// Bases as Binance's documents print them, with a path already on.
	pathed := []struct {
		m    binance.Market
		base string
		r    binance.Route
		want string
	}{
		{binance.SpotTestnet, "wss://stream.testnet.binance.vision/ws", binance.RouteNone,
			"wss://stream.testnet.binance.vision/stream?streams=x@trade"},
		{binance.Spot, "ws://h:1/stream/", binance.RouteNone, "ws://h:1/stream?streams=x@trade"},
		{binance.Spot, "ws://h:1/proxy/ws", binance.RouteNone, "ws://h:1/proxy/stream?streams=x@trade"},
		{binance.USDM, "wss://fstream.binance.com/market", binance.RoutePublic,
			"wss://fstream.binance.com/public/stream?streams=x@trade"},
		{binance.USDM, "ws://h:1/public/stream", binance.RouteMarket, "ws://h:1/market/stream?streams=x@trade"},
		{binance.Spot, "ws://ws", binance.RouteNone, "ws://ws/stream?streams=x@trade"}, // a host named ws
		{binance.CoinM, "ws://h:1/public", binance.RouteNone, "ws://h:1/public/stream?streams=x@trade"},
	}
	for _, c := range pathed {
		got, err := c.m.StreamURL(c.base, c.r, []string{"x@trade"}, binance.Millisecond)
		if err != nil || got != c.want {
			t.Errorf("%s %q: %q %v, want %q", c.m, c.base, got, err, c.want)
		}
	}
	for _, c := range []struct {
		m          binance.Market
		base, want string
	}{
		{binance.SpotTestnet, "https://testnet.binance.vision/api", "https://testnet.binance.vision/api/v3/depth"},
		{binance.Spot, "http://h:1/api/v3/", "http://h:1/api/v3/depth"},
		{binance.USDM, "http://h:1/fapi", "http://h:1/fapi/v1/depth"},
		{binance.CoinM, "http://h:1/x/dapi/v1", "http://h:1/x/dapi/v1/depth"},
		{binance.CoinM, "http://h:1/api", "http://h:1/api/dapi/v1/depth"}, // not this market's prefix
		{binance.Spot, "http://api", "http://api/api/v3/depth"},
	} {
		got, err := c.m.RESTURL(c.base, "depth")
		if err != nil || got != c.want {
			t.Errorf("%s REST %q: %q %v, want %q", c.m, c.base, got, err, c.want)
		}
	}
	u, err := binance.CoinM.RESTURL("http://127.0.0.1:9/", "exchangeInfo")
	if err != nil || u != "http://127.0.0.1:9/dapi/v1/exchangeInfo" {
		t.Errorf("REST URL %q %v", u, err)
	}
	if _, err := binance.Spot.RESTURL("ftp://x", "depth"); err == nil {
		t.Error("ftp REST base accepted")
	}
}

func TestStreamNames(t *testing.T) {
	cases := []struct {
		in   string
		want binance.StreamName
	}{
		{"btcusdt@depth@100ms", binance.StreamName{Symbol: sym("BTCUSDT"), Channel: market.ChannelDepth, Speed: binance.Speed100ms}},
		{"btcusdt@kline_1m", binance.StreamName{Symbol: sym("BTCUSDT"), Channel: market.ChannelKline, Interval: market.Interval1m}},
		{"bnbbtc@kline_1M@+08:00", binance.StreamName{Symbol: sym("BNBBTC"), Channel: market.ChannelKline, Interval: market.Interval1M, UTC8: true}},
		{"btcusd_perp@markPrice@1s", binance.StreamName{Symbol: sym("BTCUSD_PERP"), Channel: market.ChannelMarkPrice, Speed: binance.Speed1s}},
		{"btcusd@indexPrice", binance.StreamName{Symbol: sym("BTCUSD"), Channel: market.ChannelIndexPrice}},
		{"btcusdt@depth20@100ms", binance.StreamName{Symbol: sym("BTCUSDT"), Channel: market.ChannelPartialDepth, Levels: 20, Speed: binance.Speed100ms}},
		{"btcusdt@depth@0ms", binance.StreamName{Symbol: sym("BTCUSDT"), Channel: market.ChannelDepth, Speed: binance.Speed0ms}},
		{"btcusdt@forceOrder", binance.StreamName{Symbol: sym("BTCUSDT"), Channel: market.ChannelLiquidation}},
		{"btcusdt@miniTicker", binance.StreamName{Symbol: sym("BTCUSDT"), Channel: market.ChannelMiniTicker}},
		{"!serverShutdown", binance.StreamName{Control: binance.ControlServerShutdown}},
		{"!miniTicker@arr", binance.StreamName{All: true, Channel: market.ChannelMiniTicker}},
		{"!markPrice@arr@1s", binance.StreamName{All: true, Channel: market.ChannelMarkPrice, Speed: binance.Speed1s}},
		{"!bookTicker", binance.StreamName{All: true, Channel: market.ChannelBookTicker}},
		{"!forceOrder@arr", binance.StreamName{All: true, Channel: market.ChannelLiquidation}},
	}
	for _, c := range cases {
		got, err := binance.ParseStreamNameString(c.in)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v %v", c.in, got, err)
			continue
		}
		if got.String() != c.in {
			t.Errorf("%s renders as %s", c.in, got.String())
		}
	}
	for _, bad := range []string{"", "@trade", "btcusdt", "btcusdt@", "btcusdt@trade@", "btcusdt@trades", "btcusdt@kline_2m",
		"btcusdt@depth7", "btcusdt@depth@200ms", "btcusdt@depth@100ms@100ms", "!miniTicker", "!trade", "btc usdt@trade",
		"abcdefghijklmnopqrstu@trade", "btcusdt@trade@arr", "btcusdt@depth@+08:00", "!contractInfo", "btcusdt@rpiDepth@500ms"} {
		if n, err := binance.ParseStreamNameString(bad); err == nil {
			t.Errorf("%q parsed as %+v", bad, n)
		} else if !errors.Is(err, binance.ErrStreamName) {
			t.Errorf("%q: untyped error %v", bad, err)
		}
	}
}

func sym(s string) market.Symbol {
	v, _ := market.NewSymbol(s)
	return v
}

func TestCheckStream(t *testing.T) {
	ok := map[binance.Market][]string{
		binance.Spot:        {"btcusdt@trade", "btcusdt@kline_1s", "btcusdt@depth@100ms", "btcusdt@depth5", "bnbbtc@kline_1m@+08:00", "!serverShutdown"},
		binance.USDM:        {"btcusdt@trade", "btcusdt@markPrice@1s", "btcusdt@depth@0ms", "btcusdt@depth10@500ms", "btcusdt@forceOrder"},
		binance.CoinM:       {"btcusd@indexPrice@1s", "btcusd_perp@depth@500ms"},
		binance.USDMTestnet: {"btcusdt@aggTrade"},
	}
	for m, names := range ok {
		for _, s := range names {
			if err := m.CheckStream(mustStream(t, s)); err != nil {
				t.Errorf("%s %s: %v", m, s, err)
			}
		}
	}
	bad := map[binance.Market][]string{
		binance.Spot:  {"btcusdt@markPrice", "btcusdt@depth@500ms", "btcusdt@depth@0ms", "btcusdt@forceOrder", "btcusd@indexPrice"},
		binance.USDM:  {"btcusdt@kline_1s", "btcusdt@indexPrice", "bnbbtc@kline_1m@+08:00", "!serverShutdown", "btcusdt@depth5@0ms"},
		binance.CoinM: {"btcusdt@kline_1s"},
	}
	for m, names := range bad {
		for _, s := range names {
			if err := m.CheckStream(mustStream(t, s)); err == nil {
				t.Errorf("%s %s accepted", m, s)
			}
		}
	}
}

func TestSpeedFor(t *testing.T) {
	sp, err := binance.USDM.SpeedFor(market.ChannelDepth, 250*time.Millisecond)
	if err != nil || sp != binance.SpeedDefault {
		t.Errorf("250ms on usdm depth is the default: %v %v", sp, err)
	}
	if _, err := binance.Spot.SpeedFor(market.ChannelDepth, source.RealTime); err == nil || !strings.Contains(err.Error(), "realtime") {
		t.Errorf("spot has no real-time depth: %v", err)
	}
	if sp, err := binance.CoinM.SpeedFor(market.ChannelIndexPrice, time.Second); err != nil || sp != binance.Speed1s {
		t.Errorf("coinm index 1s: %v %v", sp, err)
	}
}
