package binance_test

import (
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/binance/binancetest"
	"github.com/ims-dev/ims/internal/market"
)

// fdExchange is the whole fake Binance: REST and websocket on one address.
func fdExchange(t *testing.T, wsCfg binancetest.WSConfig, opts binancetest.Options) (*binancetest.Server, *binancetest.WS) {
	t.Helper()
	ws := binancetest.NewWS(wsCfg)
	opts.WS = ws
	srv := binancetest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv, ws
}

func fdRESTClient(t *testing.T, m binance.Market, srv *binancetest.Server) *binance.Client {
	t.Helper()
	c, err := binance.NewClient(m, binance.ClientOptions{BaseURL: srv.URL(), HTTPClient: srv.Client(), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The full path: a websocket gap is filled from the fake's REST
// /historicalTrades through the real REST client, in order.
func TestBackfillThroughRESTClient(t *testing.T) {
	srv, ws := fdExchange(t, binancetest.WSConfig{}, binancetest.Options{})
	src := binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", src)
	first := src.NextID()
	var history []market.Trade
	for id := first; id < first+2000; id++ {
		tr := market.Trade{TradeID: id, Price: market.MustDecimal("0.00426990"), Quantity: market.MustDecimal("1.00000000"), TradeTime: 1554076800940000}
		history = append(history, tr)
	}
	srv.SetTrades(binancetest.APISpot, "BTCUSDT", history)

	e := newEnv(t, ws, srv.WSURL(), binance.FeedConfig{Market: binance.Spot, Backfill: fdRESTClient(t, binance.Spot, srv)}, "btcusdt@trade")
	e.run(t)
	e.waitConnected(t)
	ws.Emit("btcusdt@trade", 3)
	src.Skip(1200)
	ws.Emit("btcusdt@trade", 3)
	e.col.wait(t, "trades", func() bool { return len(e.col.trades) == 1206 })
	e.col.wantTradesFrom(t, first)
	e.col.mu.Lock()
	filled := e.col.trades[3]
	e.col.mu.Unlock()
	if filled.Exchange != market.ExchangeBinanceSpot || filled.Symbol.String() != "BTCUSDT" || filled.Price.String() != "0.00426990" || filled.ReceiveTime == 0 {
		t.Fatalf("backfilled trade %+v", filled)
	}
	if n := srv.Count(binancetest.APISpot, "historicalTrades"); n != 2 {
		t.Fatalf("%d historicalTrades requests, want 2 pages", n)
	}
	st := e.col.snapshotStatuses()
	if st[len(st)-1].Kind != market.StatusGapFilled || st[len(st)-1].GapFrom != first+3 || st[len(st)-1].GapTo != first+1202 {
		t.Fatalf("statuses %s", fmtStatuses(st))
	}
}

// A gap the REST side cannot serve (weight budget spent: 429, then the
// client gives up) is reported unfilled and the live stream carries on.
func TestBackfillUnfilledOnRateLimit(t *testing.T) {
	srv, ws := fdExchange(t, binancetest.WSConfig{Futures: true, Routed: true},
		binancetest.Options{WeightLimit: 1, WeightWindow: time.Hour})
	src := binancetest.NewSource([][]byte{[]byte(fdUSDMAgg)}, binancetest.IDsAggTrade)
	ws.SetSource("btcusdt@aggTrade", src)
	srv.SetAggTrades(binancetest.APIUSDM, "BTCUSDT", []market.AggTrade{{AggTradeID: src.NextID()}})
	e := newEnv(t, ws, srv.WSURL(), binance.FeedConfig{Market: binance.USDM, Backfill: fdRESTClient(t, binance.USDM, srv)}, "btcusdt@aggTrade")
	e.run(t)
	e.waitConnected(t)
	ws.Emit("btcusdt@aggTrade", 2)
	from := src.NextID()
	src.Skip(10)
	ws.Emit("btcusdt@aggTrade", 2)
	e.col.wait(t, "unfilled", func() bool { return e.col.countStatus(market.StatusGapUnfilled) == 1 })
	e.col.wait(t, "aggs after the gap", func() bool { return len(e.col.aggs) == 4 })
	st := e.col.snapshotStatuses()
	u := st[len(st)-1]
	if u.Kind != market.StatusGapUnfilled || u.GapFrom != from || u.GapTo != from+9 || u.Detail == "" {
		t.Fatalf("statuses %s", fmtStatuses(st))
	}
	if s := e.feed.Stats(); s.GapsUnfilled != 1 || s.GapsFilled != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// Trades published while the feed was disconnected are fetched from REST
// after the reconnect, so the relayed stream has no hole.
func TestBackfillAfterReconnect(t *testing.T) {
	srv, ws := fdExchange(t, binancetest.WSConfig{}, binancetest.Options{})
	src := binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", src)
	first := src.NextID()
	var history []market.Trade
	for id := first; id < first+100; id++ {
		history = append(history, market.Trade{TradeID: id, Price: market.MustDecimal("1"), Quantity: market.MustDecimal("1")})
	}
	srv.SetTrades(binancetest.APISpot, "BTCUSDT", history)
	e := newEnv(t, ws, srv.WSURL(), binance.FeedConfig{Market: binance.Spot, Backfill: fdRESTClient(t, binance.Spot, srv)}, "btcusdt@trade")
	e.run(t)
	e.waitConnected(t)
	ws.Emit("btcusdt@trade", 5)
	e.col.wait(t, "5 trades", func() bool { return len(e.col.trades) == 5 })
	ws.Conns()[0].Drop("network failure")
	e.waitWS(t, "disconnected", func() bool { return len(ws.Conns()) == 0 })
	ws.Emit("btcusdt@trade", 7) // nobody hears these
	e.col.wait(t, "reconnected", func() bool { return e.col.countStatus(market.StatusReconnected) == 1 })
	e.waitWS(t, "the fake to register the new connection", func() bool { return len(ws.Conns()) == 1 })
	ws.Emit("btcusdt@trade", 3)
	e.col.wait(t, "15 trades", func() bool { return len(e.col.trades) == 15 })
	e.col.wantTradesFrom(t, first)
	if s := e.feed.Stats(); s.Gaps != 1 || s.GapsFilled != 1 || s.Backfilled != 7 {
		t.Fatalf("stats %+v", s)
	}
}
