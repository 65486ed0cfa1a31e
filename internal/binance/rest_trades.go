package binance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/ims-dev/ims/internal/market"
)

// MaxTradesLimit is the most trades one /trades, /historicalTrades or
// /aggTrades call returns.
const MaxTradesLimit = 1000

// Request weights of the trade endpoints.
func (m Market) tradesWeight() int {
	if m.IsFutures() {
		return 5
	}
	return 25
}

func (m Market) historicalTradesWeight() int {
	if m.IsFutures() {
		return 20
	}
	return 25
}

func (m Market) aggTradesWeight() int {
	if m.IsFutures() {
		return 20
	}
	return 4
}

type tradeJSON struct {
	ID           *int64 `json:"id"`
	Price        string `json:"price"`
	Qty          string `json:"qty"`
	Time         *int64 `json:"time"`
	IsBuyerMaker *bool  `json:"isBuyerMaker"`
}

type aggTradeJSON struct {
	A *int64 `json:"a"`
	P string `json:"p"`
	Q string `json:"q"`
	F *int64 `json:"f"`
	L *int64 `json:"l"`
	T *int64 `json:"T"`
	M *bool  `json:"m"`
}

func tradeParams(symbol string, fromID int64, limit int) (market.Symbol, url.Values, error) {
	var sym market.Symbol
	if !sym.SetString(symbol) {
		return sym, nil, fmt.Errorf("invalid symbol %q", symbol)
	}
	if limit < 0 || limit > MaxTradesLimit {
		return sym, nil, fmt.Errorf("trade limit %d: must be 0 (default 500) to %d", limit, MaxTradesLimit)
	}
	v := url.Values{"symbol": {sym.String()}}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	if fromID >= 0 {
		v.Set("fromId", strconv.FormatInt(fromID, 10))
	}
	return sym, v, nil
}

// Trades returns the most recent trades of symbol (limit 0: 500).
func (c *Client) Trades(ctx context.Context, symbol string, limit int) ([]market.Trade, error) {
	return c.trades(ctx, "trades", c.market.tradesWeight(), symbol, -1, limit)
}

// HistoricalTrades returns trades of symbol from trade id fromID on (a
// negative fromID: the most recent), oldest first; limit 0 means 500. USD-M
// and COIN-M serve only about the last month, and may want an API key.
func (c *Client) HistoricalTrades(ctx context.Context, symbol string, fromID int64, limit int) ([]market.Trade, error) {
	return c.trades(ctx, "historicalTrades", c.market.historicalTradesWeight(), symbol, fromID, limit)
}

func (c *Client) trades(ctx context.Context, endpoint string, weight int, symbol string, fromID int64, limit int) ([]market.Trade, error) {
	sym, params, err := tradeParams(symbol, fromID, limit)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", c.market, endpoint, err)
	}
	body, recv, err := c.get(ctx, endpoint, params, weight)
	if err != nil {
		return nil, err
	}
	out, err := ParseTrades(c.market, sym, body, recv)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %s %s %s: %w", c.url(endpoint, params), c.market, endpoint, sym, err)
	}
	return out, nil
}

// ParseTrades decodes a /trades or /historicalTrades body. REST trades are
// order-book (MARKET) trades; EventTime is the trade time.
func ParseTrades(m Market, sym market.Symbol, body []byte, recvTime int64) ([]market.Trade, error) {
	var raw []tradeJSON
	if err := notJSON(body); err != nil {
		return nil, fmt.Errorf("decoding trades: %w", err)
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("decoding trades: %w", err)
	}
	out := make([]market.Trade, len(raw))
	for i, r := range raw {
		if r.ID == nil || r.Time == nil || r.IsBuyerMaker == nil {
			return nil, fmt.Errorf("decoding trades: trade #%d lacks id, time or isBuyerMaker", i)
		}
		price, err := market.ParseDecimalString(r.Price)
		if err != nil {
			return nil, fmt.Errorf("decoding trades: trade %d price %q: %w", *r.ID, r.Price, err)
		}
		qty, err := market.ParseDecimalString(r.Qty)
		if err != nil {
			return nil, fmt.Errorf("decoding trades: trade %d qty %q: %w", *r.ID, r.Qty, err)
		}
		us, ok := msToMicros(*r.Time)
		if !ok {
			return nil, fmt.Errorf("decoding trades: trade %d time %d out of range", *r.ID, *r.Time)
		}
		out[i] = market.Trade{
			Header:  market.Header{Exchange: m.Exchange(), Symbol: sym, EventTime: us, ReceiveTime: recvTime},
			TradeID: *r.ID, Price: price, Quantity: qty, TradeTime: us,
			BuyerIsMaker: *r.IsBuyerMaker, Type: market.TradeTypeMarket,
		}
	}
	return out, nil
}

// AggTrades returns aggregate trades of symbol from aggregate id fromID on
// (negative: the most recent), oldest first; limit 0 means 500.
func (c *Client) AggTrades(ctx context.Context, symbol string, fromID int64, limit int) ([]market.AggTrade, error) {
	sym, params, err := tradeParams(symbol, fromID, limit)
	if err != nil {
		return nil, fmt.Errorf("%s aggTrades: %w", c.market, err)
	}
	body, recv, err := c.get(ctx, "aggTrades", params, c.market.aggTradesWeight())
	if err != nil {
		return nil, err
	}
	out, err := ParseAggTrades(c.market, sym, body, recv)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %s aggTrades %s: %w", c.url("aggTrades", params), c.market, sym, err)
	}
	return out, nil
}

// ParseAggTrades decodes an /aggTrades body; EventTime is the trade time.
func ParseAggTrades(m Market, sym market.Symbol, body []byte, recvTime int64) ([]market.AggTrade, error) {
	var raw []aggTradeJSON
	if err := notJSON(body); err != nil {
		return nil, fmt.Errorf("decoding aggTrades: %w", err)
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("decoding aggTrades: %w", err)
	}
	out := make([]market.AggTrade, len(raw))
	for i, r := range raw {
		if r.A == nil || r.F == nil || r.L == nil || r.T == nil || r.M == nil {
			return nil, fmt.Errorf("decoding aggTrades: entry #%d lacks a, f, l, T or m", i)
		}
		price, err := market.ParseDecimalString(r.P)
		if err != nil {
			return nil, fmt.Errorf("decoding aggTrades: %d price %q: %w", *r.A, r.P, err)
		}
		qty, err := market.ParseDecimalString(r.Q)
		if err != nil {
			return nil, fmt.Errorf("decoding aggTrades: %d qty %q: %w", *r.A, r.Q, err)
		}
		us, ok := msToMicros(*r.T)
		if !ok {
			return nil, fmt.Errorf("decoding aggTrades: %d time %d out of range", *r.A, *r.T)
		}
		out[i] = market.AggTrade{
			Header:     market.Header{Exchange: m.Exchange(), Symbol: sym, EventTime: us, ReceiveTime: recvTime},
			AggTradeID: *r.A, Price: price, Quantity: qty, FirstTradeID: *r.F, LastTradeID: *r.L,
			TradeTime: us, BuyerIsMaker: *r.M,
		}
	}
	return out, nil
}

func msToMicros(v int64) (int64, bool) {
	const lim = 1<<63/1000 - 1
	if v > lim || v < -lim {
		return 0, false
	}
	return v * 1000, true
}

// The Client is the feed's REST backfill.
var _ Backfiller = (*Client)(nil)

// TradesFrom appends up to limit trades of symbol with ids from fromID on
// (oldest first) to dst, via /historicalTrades. It implements Backfiller.
func (c *Client) TradesFrom(ctx context.Context, symbol string, fromID int64, limit int, dst []market.Trade) ([]market.Trade, error) {
	if fromID < 0 {
		return dst, fmt.Errorf("%s historicalTrades: negative fromId %d", c.market, fromID)
	}
	ts, err := c.HistoricalTrades(ctx, symbol, fromID, limit)
	if err != nil {
		return dst, err
	}
	return append(dst, ts...), nil
}

// AggTradesFrom appends up to limit aggregate trades of symbol with ids from
// fromID on (oldest first) to dst, via /aggTrades. It implements Backfiller.
func (c *Client) AggTradesFrom(ctx context.Context, symbol string, fromID int64, limit int, dst []market.AggTrade) ([]market.AggTrade, error) {
	if fromID < 0 {
		return dst, fmt.Errorf("%s aggTrades: negative fromId %d", c.market, fromID)
	}
	ts, err := c.AggTrades(ctx, symbol, fromID, limit)
	if err != nil {
		return dst, err
	}
	return append(dst, ts...), nil
}
