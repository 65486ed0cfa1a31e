package watch

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

// Streams builds the streams to watch on m: every symbol with every channel
// ("BTCUSDT" × "depth@100ms" is btcusdt@depth@100ms), then the stream names
// given whole ("btcusdt@trade"), in that order and without duplicates. Each
// is checked with m.ParseSubscription, so a channel the market does not
// have, a bad interval, level count or speed is an error naming the stream.
// Channels are Binance's stream suffixes: trade, aggTrade, kline_1m,
// depth, depth@100ms, depth20, bookTicker, ticker, miniTicker, markPrice,
// markPrice@1s, forceOrder, indexPrice.
func Streams(m binance.Market, symbols, channels, names []string) ([]binance.StreamName, error) {
	var texts []string
	for _, s := range symbols {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, errors.New("empty symbol in the symbol list")
		}
		for _, ch := range channels {
			ch = strings.TrimSpace(ch)
			if ch == "" {
				return nil, errors.New("empty channel in the channel list")
			}
			if strings.Contains(ch, "!") || strings.HasPrefix(ch, "@") {
				return nil, fmt.Errorf("channel %q: give the channel alone, e.g. trade, kline_1m or depth@100ms", ch)
			}
			texts = append(texts, s+"@"+ch)
		}
	}
	texts = append(texts, names...)
	out := make([]binance.StreamName, 0, len(texts))
	seen := make(map[binance.StreamName]bool, len(texts))
	for _, t := range texts {
		sub, err := m.ParseSubscription(t)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", strings.TrimSpace(t), err)
		}
		n, err := m.NewStreamName(sub)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", strings.TrimSpace(t), err)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// CheckSymbols looks the symbols of streams up in info: pairs for index
// price streams (COIN-M index price is per pair, "BTCUSD"), symbols
// otherwise. Unknown names are a *source.UnknownSymbolsError naming all of
// them; names that exist but do not trade now are returned (with their
// status) for the caller to warn about, since they may resume.
func CheckSymbols(info *binance.ExchangeInfo, streams []binance.StreamName) (notTrading []string, err error) {
	var pairs map[string]bool
	var unknown []string
	seen := make(map[string]bool)
	for _, n := range streams {
		if n.All || n.Control != binance.ControlNone {
			continue
		}
		sym := n.Symbol.String()
		if seen[sym] {
			continue
		}
		seen[sym] = true
		if n.Channel == market.ChannelIndexPrice {
			if pairs == nil {
				pairs = make(map[string]bool)
				for i := range info.Symbols {
					if info.Symbols[i].Pair != "" {
						pairs[info.Symbols[i].Pair] = true
					}
				}
			}
			if !pairs[sym] {
				unknown = append(unknown, sym)
			}
			continue
		}
		si, ok := info.Lookup(sym)
		if !ok {
			unknown = append(unknown, sym)
			continue
		}
		if !si.Trading() {
			notTrading = append(notTrading, si.Symbol+" ("+si.Status+")")
		}
	}
	if len(unknown) > 0 {
		return nil, source.NewUnknownSymbolsError(info.Market.SourceName(), unknown)
	}
	return notTrading, nil
}

// StreamList joins stream names for logs.
func StreamList(streams []binance.StreamName) string {
	parts := make([]string, len(streams))
	for i, n := range streams {
		parts[i] = n.String()
	}
	return strings.Join(parts, ",")
}

// Filter selects the events a replay prints: those of the given streams.
// Events match on symbol, channel and (for klines) interval; update speeds
// and partial-depth level counts are not carried by the events and are not
// compared. Status markers without a symbol (connection state) always pass;
// the others pass when their symbol and channel match a stream.
type Filter struct {
	events  map[filterKey]bool
	markers map[filterKey]bool
}

type filterKey struct {
	symbol   market.Symbol
	channel  market.Channel
	interval market.KlineInterval
}

// NewFilter returns a filter passing the events of streams, or nil (which
// passes everything) when streams is empty.
func NewFilter(streams []binance.StreamName) *Filter {
	if len(streams) == 0 {
		return nil
	}
	f := &Filter{events: make(map[filterKey]bool), markers: make(map[filterKey]bool)}
	for _, n := range streams {
		k := filterKey{symbol: n.Symbol, channel: n.Channel, interval: n.Interval}
		f.events[k] = true
		f.markers[filterKey{symbol: n.Symbol, channel: n.Channel}] = true
		f.markers[filterKey{symbol: n.Symbol}] = true
	}
	return f
}

// Pass reports whether ev is one of the filter's streams. A nil filter
// passes everything.
func (f *Filter) Pass(ev *source.Event) bool {
	if f == nil {
		return true
	}
	if ev.Kind == source.KindStatus {
		if ev.Status == nil || ev.Status.Symbol.IsZero() {
			return true
		}
		return f.markers[filterKey{symbol: ev.Status.Symbol, channel: ev.Status.Channel}]
	}
	h := ev.Header()
	if h == nil {
		return false
	}
	k := filterKey{symbol: h.Symbol, channel: ev.Channel}
	if ev.Kind == source.KindKline && ev.Kline != nil {
		k.interval = ev.Kline.Interval
	}
	return f.events[k]
}
