package binance_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/binance/binancetest"
	"github.com/ims-dev/ims/internal/market"
)

// A quiet futures connection whose peer vanished (no close, no RST) is
// found by the feed's own ping, long before the read timeout that waits
// for the server's 3-minute pings.
func TestFeedProbeFindsDeadPeer(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{Futures: true, Routed: true})
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.USDM, ReadTimeout: time.Hour,
		ProbeAfter: 30 * time.Millisecond, ProbeTimeout: 100 * time.Millisecond}, "btcusdt@aggTrade")
	e.run(t)
	e.waitWS(t, "connection", func() bool { return len(ws.Conns()) == 1 })
	ws.Conns()[0].Silence() // the socket stays open; nothing comes back, pongs included
	e.col.wait(t, "reconnect", func() bool { return e.col.countStatus(market.StatusReconnected) == 1 })
	var detail string
	for _, s := range e.col.snapshotStatuses() {
		if s.Kind == market.StatusDisconnected {
			detail = s.Detail
		}
	}
	if !strings.Contains(detail, "dead connection") {
		t.Fatalf("disconnect detail %q", detail)
	}
}

// A quiet connection whose peer answers the pings stays up, and the pings
// stay inside the message budget.
func TestFeedProbeKeepsQuietLiveConnection(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{Futures: true, Routed: true, MsgLimit: 10, MsgWindow: time.Second})
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.USDM, ReadTimeout: time.Hour,
		ProbeAfter: 20 * time.Millisecond, ProbeTimeout: 400 * time.Millisecond}, "btcusdt@aggTrade")
	e.run(t)
	e.waitConnected(t)
	// Each probe waits out its ProbeTimeout before the next quiet spell.
	e.waitWS(t, "four probes", func() bool { return ws.Pings() >= 4 })
	if cl := ws.Closes(); len(cl) != 0 || ws.Connects() != 1 {
		t.Fatalf("closes %+v, connects %d", cl, ws.Connects())
	}
	if s := e.feed.Stats(); s.Disconnects != 0 {
		t.Fatalf("stats %+v", s)
	}
}
