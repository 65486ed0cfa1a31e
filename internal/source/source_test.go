package source

import (
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/market"
)

func TestEventHeader(t *testing.T) {
	var (
		tr market.Trade
		st market.Status
		dp market.DepthSnapshot
	)
	cases := []struct {
		ev   Event
		want *market.Header
	}{
		{Event{Kind: KindTrade, Trade: &tr}, &tr.Header},
		{Event{Kind: KindStatus, Status: &st}, &st.Header},
		{Event{Kind: KindDepthSnapshot, DepthSnapshot: &dp}, &dp.Header},
		{Event{Kind: KindTrade}, nil},                // pointer unset
		{Event{Kind: KindNone, Trade: &tr}, nil},     // no kind
		{Event{Kind: Kind(99), Trade: &tr}, nil},     // unknown kind
		{Event{Kind: KindAggTrade, Trade: &tr}, nil}, // kind and pointer disagree
	}
	for i, c := range cases {
		if got := c.ev.Header(); got != c.want {
			t.Errorf("case %d: got %p, want %p", i, got, c.want)
		}
	}
	if KindDepthUpdate.String() != "depthUpdate" || Kind(200).String() != "unknown" {
		t.Error("kind names")
	}
}

func TestUnknownSymbolsError(t *testing.T) {
	e := NewUnknownSymbolsError("binance-spot", []string{"zzz", "abc", "ZZZ"})
	if got := e.Error(); got != "unknown symbols on binance-spot: ABC, ZZZ" {
		t.Errorf("%q", got)
	}
	if got := NewUnknownSymbolsError("x", []string{"a"}).Error(); got != "unknown symbol on x: A" {
		t.Errorf("%q", got)
	}
}

func TestSubscriptionString(t *testing.T) {
	cases := map[string]Subscription{
		"BTCUSDT trade":                         {Symbol: "btcusdt", Channel: market.ChannelTrade},
		"BTCUSDT kline 1h":                      {Symbol: "BTCUSDT", Channel: market.ChannelKline, Interval: market.Interval1h},
		"ETHUSDT partialDepth 10 levels @100ms": {Symbol: "ETHUSDT", Channel: market.ChannelPartialDepth, Levels: 10, Speed: 100 * time.Millisecond},
		"BTCUSDT depth realtime":                {Symbol: "BTCUSDT", Channel: market.ChannelDepth, Speed: RealTime},
	}
	for want, s := range cases {
		if got := s.String(); got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}

func TestHandlerFunc(t *testing.T) {
	n := 0
	var h Handler = HandlerFunc(func(*Event) { n++ })
	h.HandleEvent(&Event{})
	if n != 1 {
		t.Fatal("HandlerFunc not called")
	}
}

// A clone shares nothing with the event it was made from: the source reuses
// those buffers for the next event.
func TestEventClone(t *testing.T) {
	snap := &market.DepthSnapshot{LastUpdateID: 7, Bids: []market.Level{{Price: market.Decimal{Mantissa: 1, Scale: 1}}}, Asks: []market.Level{{}}}
	ev := Event{Kind: KindDepthSnapshot, Channel: market.ChannelPartialDepth, DepthSnapshot: snap}
	cp := ev.Clone()
	snap.LastUpdateID = 8
	snap.Bids[0].Price.Mantissa = 2
	if cp.Kind != ev.Kind || cp.Channel != ev.Channel || cp.DepthSnapshot == snap ||
		cp.DepthSnapshot.LastUpdateID != 7 || cp.DepthSnapshot.Bids[0].Price.Mantissa != 1 || len(cp.DepthSnapshot.Asks) != 1 {
		t.Fatalf("clone shares the source's buffers: %+v", cp.DepthSnapshot)
	}
	bt := &market.BookTicker{UpdateID: 1}
	ev = Event{Kind: KindBookTicker, BookTicker: bt, Trade: &market.Trade{}}
	cp = ev.Clone()
	bt.UpdateID = 2
	if cp.BookTicker == bt || cp.BookTicker.UpdateID != 1 || cp.Trade != nil {
		t.Fatalf("book ticker clone %+v (trade %v)", cp.BookTicker, cp.Trade)
	}
	if cp := (&Event{Kind: KindKline}).Clone(); cp.Kline != nil {
		t.Fatal("a nil pointer cloned to a value")
	}
}
