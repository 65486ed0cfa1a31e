package binance_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/binance/binancetest"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

// srcEvents copies the market events a source delivers (statuses dropped).
type srcEvents struct {
	mu      sync.Mutex
	changed chan struct{}
	got     []any
}

func (c *srcEvents) HandleEvent(ev *source.Event) {
	var v any
	switch ev.Kind {
	case source.KindTrade:
		v = *ev.Trade
	case source.KindAggTrade:
		v = *ev.AggTrade
	case source.KindBookTicker:
		v = *ev.BookTicker
	case source.KindIndexPrice:
		v = *ev.IndexPrice
	default:
		return
	}
	c.mu.Lock()
	c.got = append(c.got, v)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

func (c *srcEvents) waitN(t *testing.T, n int) []any {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		if len(c.got) >= n {
			out := append([]any(nil), c.got...)
			c.mu.Unlock()
			return out
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("waited for %d events", n)
		}
	}
}

type fakeExchange struct {
	srv *binancetest.Server
	ws  *binancetest.WS
}

func startFakeExchange(t *testing.T, cfg binancetest.WSConfig) fakeExchange {
	t.Helper()
	ws := binancetest.NewWS(cfg)
	srv := binancetest.NewServer(binancetest.Options{WS: ws})
	t.Cleanup(srv.Close)
	if err := srv.LoadRecorded("testdata"); err != nil {
		t.Fatal(err)
	}
	return fakeExchange{srv: srv, ws: ws}
}

func srcCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func runSource(t *testing.T, src *binance.Source) *srcEvents {
	t.Helper()
	h := &srcEvents{changed: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return h
}

func TestSourceSpotEndToEnd(t *testing.T) {
	fx := startFakeExchange(t, binancetest.WSConfig{})
	src, err := binance.NewSource(binance.SourceConfig{Market: binance.Spot, WSURL: fx.srv.WSURL(), RESTURL: fx.srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if src.Name() != "binance-spot" || src.Exchange() != market.ExchangeBinanceSpot {
		t.Fatalf("name %s exchange %v", src.Name(), src.Exchange())
	}
	h := runSource(t, src)
	ctx := srcCtx(t)

	infos, err := src.Validate(ctx, []string{"nknusdt", "LRCBTC"})
	if err != nil || len(infos) != 2 || infos[0].Symbol != "NKNUSDT" || !infos[0].Trading || infos[0].TickSize.String() != "0.00010000" {
		t.Fatalf("validate: %v %+v", err, infos)
	}
	err = src.Start(ctx, source.Subscription{Symbol: "nknusdt", Channel: market.ChannelTrade},
		source.Subscription{Symbol: "NOPE", Channel: market.ChannelTrade})
	var ue *source.UnknownSymbolsError
	if !errors.As(err, &ue) || len(ue.Symbols) != 1 || ue.Symbols[0] != "NOPE" {
		t.Fatalf("start with an unknown symbol: %v", err)
	}
	if err := src.Start(ctx, source.Subscription{Symbol: "nknusdt", Channel: market.ChannelTrade}); err != nil {
		t.Fatal(err)
	}
	if err := fx.ws.Wait(ctx, func() bool { return fx.ws.Subscribers("nknusdt@trade") == 1 }); err != nil {
		t.Fatal(err)
	}
	fx.ws.Push("nknusdt@trade", []byte(`{"e":"trade","E":1633998523963,"s":"NKNUSDT","t":5,"p":"0.35280000","q":"58.00000000","T":1633998523960,"m":false,"M":true}`))
	got := h.waitN(t, 1)[0].(market.Trade)
	if got.Symbol.String() != "NKNUSDT" || got.TradeID != 5 || got.Price != market.MustDecimal("0.35280000") || got.Exchange != market.ExchangeBinanceSpot {
		t.Errorf("trade %+v", got)
	}
	if err := src.Stop(ctx, source.Subscription{Symbol: "NKNUSDT", Channel: market.ChannelTrade}); err != nil {
		t.Fatal(err)
	}
	if err := fx.ws.Wait(ctx, func() bool { return fx.ws.Subscribers("nknusdt@trade") == 0 }); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := src.Start(ctx, source.Subscription{Symbol: "nknusdt", Channel: market.ChannelTrade}); !errors.Is(err, source.ErrClosed) {
		t.Errorf("start after close: %v", err)
	}
}

func TestSourceUSDMRoutes(t *testing.T) {
	fx := startFakeExchange(t, binancetest.WSConfig{Futures: true, Routed: true})
	src, err := binance.NewSource(binance.SourceConfig{Market: binance.USDM, WSURL: fx.srv.WSURL(), RESTURL: fx.srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	h := runSource(t, src)
	ctx := srcCtx(t)
	if err := src.Start(ctx,
		source.Subscription{Symbol: "SUSHIUSDT", Channel: market.ChannelBookTicker},
		source.Subscription{Symbol: "SUSHIUSDT", Channel: market.ChannelAggTrade}); err != nil {
		t.Fatal(err)
	}
	if err := fx.ws.Wait(ctx, func() bool {
		return fx.ws.Subscribers("sushiusdt@bookTicker") == 1 && fx.ws.Subscribers("sushiusdt@aggTrade") == 1
	}); err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, c := range fx.ws.Conns() {
		routes[c.Route()+":"+strings.Join(c.Subscriptions(), ",")] = true
	}
	if !routes["public:sushiusdt@bookTicker"] || !routes["market:sushiusdt@aggTrade"] {
		t.Fatalf("connections %v", routes)
	}
	// The fake only delivers a stream on its route; both arrive.
	if fx.ws.Push("sushiusdt@bookTicker", []byte(`{"e":"bookTicker","u":1,"s":"SUSHIUSDT","b":"7.6110","B":"2","a":"7.6120","A":"297","T":1626992741012,"E":1626992741017}`)) != 1 {
		t.Fatal("bookTicker not delivered")
	}
	if fx.ws.Push("sushiusdt@aggTrade", []byte(`{"e":"aggTrade","E":1626992741575,"a":16599292,"s":"SUSHIUSDT","p":"7.61100","q":"10","f":23961322,"l":23961322,"T":1626992741421,"m":false}`)) != 1 {
		t.Fatal("aggTrade not delivered")
	}
	kinds := map[string]bool{}
	for _, v := range h.waitN(t, 2) {
		switch e := v.(type) {
		case market.BookTicker:
			kinds["book"] = e.TransactionTime == 1626992741012000
		case market.AggTrade:
			kinds["agg"] = e.AggTradeID == 16599292
		}
	}
	if !kinds["book"] || !kinds["agg"] {
		t.Errorf("events %v", kinds)
	}
}

func TestSourceSubscriptionChecks(t *testing.T) {
	fx := startFakeExchange(t, binancetest.WSConfig{Futures: true})
	src, err := binance.NewSource(binance.SourceConfig{Market: binance.CoinM, WSURL: fx.srv.WSURL(), RESTURL: fx.srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := srcCtx(t)
	bad := []source.Subscription{
		{Symbol: "BTCUSD_PERP", Channel: market.ChannelKline, Interval: market.Interval1s},
		{Symbol: "BTCUSD_PERP", Channel: market.ChannelPartialDepth, Levels: 7},
		{Symbol: "BTCUSD_PERP", Channel: market.ChannelDepth, Speed: 200 * time.Millisecond},
		{Symbol: "BTCUSD_PERP", Channel: market.ChannelDepthSnapshot},
		{Symbol: "", Channel: market.ChannelTrade},
	}
	for _, sub := range bad {
		if err := src.Start(ctx, sub); err == nil {
			t.Errorf("%+v accepted", sub)
		}
	}
	// Index price takes a pair, checked against the symbols' pairs.
	if err := src.Start(ctx, source.Subscription{Symbol: "btcusd", Channel: market.ChannelIndexPrice, Speed: time.Second}); err != nil {
		t.Errorf("index price on a pair: %v", err)
	}
	if err := src.Start(ctx, source.Subscription{Symbol: "NOPEUSD", Channel: market.ChannelIndexPrice}); err == nil {
		t.Error("index price on an unknown pair accepted")
	}
	names := src.Subscriptions()
	if len(names) != 1 || names[0].String() != "btcusd@indexPrice@1s" {
		t.Errorf("subscriptions %v", names)
	}
}

func TestParseSubscription(t *testing.T) {
	cases := map[string]string{
		"btcusdt@trade":         "BTCUSDT trade",
		"BTCUSDT@kline_1m":      "BTCUSDT kline 1m",
		"btcusdt@depth@100ms":   "BTCUSDT depth @100ms",
		"btcusdt@depth20@100ms": "BTCUSDT partialDepth 20 levels @100ms",
	}
	for in, want := range cases {
		sub, err := binance.Spot.ParseSubscription(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if sub.String() != want {
			t.Errorf("%s: %q, want %q", in, sub.String(), want)
		}
		n, err := binance.Spot.NewStreamName(sub)
		if err != nil || !strings.EqualFold(n.String(), in) {
			t.Errorf("%s: round trip %q %v", in, n.String(), err)
		}
	}
	sub, err := binance.USDM.ParseSubscription("btcusdt@depth@0ms")
	if err != nil || sub.Speed != source.RealTime {
		t.Errorf("0ms: %+v %v", sub, err)
	}
	for _, bad := range []string{"!miniTicker@arr", "btcusdt@markPrice", "btcusdt@kline_1m@+08:00", "x"} {
		if _, err := binance.Spot.ParseSubscription(bad); err == nil {
			t.Errorf("%q accepted on spot", bad)
		}
	}
}
