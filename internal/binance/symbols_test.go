package binance_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/market"
)

func TestTrimDecimal(t *testing.T) {
	cases := map[string]string{
		"0.01000000": "0.01", "1.00000000": "1", "0.00000000": "0", "100": "100", "10.50": "10.5",
		"-0.000": "0", "-1.20": "-1.2", "0.00000100": "0.000001",
	}
	for in, want := range cases {
		if got := binance.TrimDecimal(market.MustDecimal(in)); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
	if binance.TrimDecimal(market.NullDecimal) != "" {
		t.Error("null decimal")
	}
}

func TestFilterSymbols(t *testing.T) {
	infos := []binance.SymbolInfo{
		{Symbol: "BTCUSDT", Status: "TRADING", BaseAsset: "BTC", QuoteAsset: "USDT", ContractType: "PERPETUAL"},
		{Symbol: "BTCUSDT_240329", Status: "DELIVERED", BaseAsset: "BTC", QuoteAsset: "USDT", ContractType: "CURRENT_QUARTER"},
		{Symbol: "ETHBTC", Status: "BREAK", BaseAsset: "ETH", QuoteAsset: "BTC"},
	}
	names := func(f binance.SymbolFilter) string {
		out, err := binance.FilterSymbols(infos, f)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, i := range out {
			s = append(s, i.Symbol)
		}
		return strings.Join(s, ",")
	}
	cases := []struct {
		f    binance.SymbolFilter
		want string
	}{
		{binance.SymbolFilter{}, "BTCUSDT,BTCUSDT_240329,ETHBTC"},
		{binance.SymbolFilter{Pattern: "btc*"}, "BTCUSDT,BTCUSDT_240329"},
		{binance.SymbolFilter{Pattern: "*_??????"}, "BTCUSDT_240329"},
		{binance.SymbolFilter{Statuses: []string{"trading", "break"}}, "BTCUSDT,ETHBTC"},
		{binance.SymbolFilter{Quotes: []string{"btc"}}, "ETHBTC"},
		{binance.SymbolFilter{Bases: []string{"BTC"}, Contracts: []string{" perpetual "}}, "BTCUSDT"},
		{binance.SymbolFilter{Bases: []string{"XRP"}}, ""},
	}
	for _, c := range cases {
		if got := names(c.f); got != c.want {
			t.Errorf("%+v: %q, want %q", c.f, got, c.want)
		}
	}
	if _, err := binance.FilterSymbols(infos, binance.SymbolFilter{Pattern: "[x"}); err == nil {
		t.Error("bad pattern accepted")
	}
}

func TestWriteSymbolsUnknownFormat(t *testing.T) {
	var b bytes.Buffer
	if err := binance.WriteSymbols(&b, binance.Spot, nil, "yaml"); err == nil || b.Len() != 0 {
		t.Errorf("yaml: %v %q", err, b.String())
	}
}
