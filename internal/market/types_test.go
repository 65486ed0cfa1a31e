package market

import "testing"

func TestSymbol(t *testing.T) {
	var s Symbol
	if !s.Set([]byte("btcusdt")) || s.String() != "BTCUSDT" || s.Len() != 7 {
		t.Fatalf("Set(btcusdt) = %q", s.String())
	}
	if s[7] != 0 || s[19] != 0 {
		t.Fatal("symbol must be NUL-padded")
	}
	if !s.SetString("BTCUSD_PERP") || s.String() != "BTCUSD_PERP" {
		t.Fatalf("overwrite left %q", s.String())
	}
	if s.Set(make([]byte, 21)) || s.Set(nil) {
		t.Fatal("out-of-range symbols must be refused")
	}
	full, ok := NewSymbol("ABCDEFGHIJKLMNOPQRST")
	if !ok || full.Len() != 20 || full.String() != "ABCDEFGHIJKLMNOPQRST" {
		t.Fatalf("20-byte symbol: %q %v", full.String(), ok)
	}
}

func TestExchangeIDDisplay(t *testing.T) {
	// The original system's Display strings are part of its Iggy names.
	want := map[ExchangeID]string{
		ExchangeNull: "nullval", ExchangeKraken: "kraken", ExchangeVex: "vex",
		ExchangeBinanceSpot: "binancespot", ExchangeBinanceUSDMTestnet: "binanceusdmarginfuturetestnet",
		ExchangeBinanceCoinM: "binancecoinmarginfuture", 200: "nullval",
	}
	for id, s := range want {
		if id.String() != s {
			t.Errorf("%d.String() = %q, want %q", id, id.String(), s)
		}
	}
	if id, ok := ParseExchangeID("BinanceSpot"); !ok || id != ExchangeBinanceSpot {
		t.Errorf("ParseExchangeID(BinanceSpot) = %v %v", id, ok)
	}
}

func TestKlineInterval(t *testing.T) {
	for _, k := range KlineIntervals() {
		got, ok := ParseKlineInterval([]byte(k.String()))
		if !ok || got != k || k.Millis() <= 0 {
			t.Errorf("interval %v: parse %v %v, millis %d", k, got, ok, k.Millis())
		}
	}
	if m, _ := ParseKlineInterval([]byte("1M")); m != Interval1M {
		t.Error("1M is a month")
	}
	if m, _ := ParseKlineInterval([]byte("1m")); m != Interval1m {
		t.Error("1m is a minute")
	}
	if _, ok := ParseKlineInterval([]byte("7m")); ok {
		t.Error("7m is not an interval")
	}
}

func TestChannelNames(t *testing.T) {
	for c := ChannelNone; c <= ChannelDepthSnapshot; c++ {
		got, ok := ParseChannel(c.String())
		if !ok || got != c {
			t.Errorf("channel %d round trip: %v %v", c, got, ok)
		}
	}
}
