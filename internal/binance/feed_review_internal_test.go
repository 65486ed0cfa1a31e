package binance

import (
	"github.com/ims-dev/ims/internal/source"
	"testing"
	"time"
)

// A hold delays every attempt until it ends, and the attempts it delays
// count in the window from when they are made.
func TestConnectLimiterHold(t *testing.T) {
	now := time.Unix(0, 0)
	c := NewConnectLimiter(2, time.Minute)
	c.now = func() time.Time { return now }
	c.hold(10 * time.Second)
	c.hold(time.Second) // a shorter hold does not shorten the longer one
	if d := c.reserve(); d != 10*time.Second {
		t.Fatalf("first attempt under hold waits %v", d)
	}
	if d := c.reserve(); d != 10*time.Second {
		t.Fatalf("second attempt under hold waits %v", d)
	}
	// Both attempts were made at 10 s: the third waits for the first to
	// leave the window, at 70 s.
	if d := c.reserve(); d != 70*time.Second {
		t.Fatalf("third attempt waits %v, want 1m10s", d)
	}
}

// Frames of an all-market stream still in flight after its UNSUBSCRIBE are
// dropped, as for per-symbol streams: they must not bring the stream's
// per-symbol state back (which would then be flagged stale for ever).
func TestUnsubscribedAllMarketStreamStaysGone(t *testing.T) {
	var got []source.Event
	sh, c := offline(t, Spot, source.HandlerFunc(func(ev *source.Event) {
		got = append(got, source.Event{Kind: ev.Kind, Channel: ev.Channel})
	}), nil, "!miniTicker@arr", "btcusdt@trade")
	arr := []byte(`{"stream":"!miniTicker@arr","data":[{"e":"24hrMiniTicker","E":100,"s":"BTCUSDT","c":"1","o":"1","h":"1","l":"1","v":"1","q":"1"}]}`)
	sh.handleFrame(c, arr, 1)
	if len(got) != 1 {
		t.Fatalf("subscribed: %d events", len(got))
	}
	n, err := ParseStreamNameString("!miniTicker@arr")
	if err != nil {
		t.Fatal(err)
	}
	sh.feed.mu.Lock()
	sh.remove(n)
	sh.feed.mu.Unlock()
	got = got[:0]
	arr2 := []byte(`{"stream":"!miniTicker@arr","data":[{"e":"24hrMiniTicker","E":200,"s":"ETHUSDT","c":"1","o":"1","h":"1","l":"1","v":"1","q":"1"}]}`)
	sh.handleFrame(c, arr2, 2)
	if len(got) != 0 {
		t.Fatalf("after unsubscribe: %d events delivered", len(got))
	}
	sh.dmu.Lock()
	defer sh.dmu.Unlock()
	for k := range sh.states {
		if k.All {
			t.Fatalf("state for %s came back", k.String())
		}
	}
}
