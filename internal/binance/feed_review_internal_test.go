package binance

import (
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
