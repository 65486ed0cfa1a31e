package binance

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/ims-dev/ims/internal/market"
)

// futuresDepthLimits are the only limits futures /depth accepts.
var futuresDepthLimits = []int{5, 10, 20, 50, 100, 500, 1000}

// DefaultDepthLimit is the number of levels /depth returns without a limit.
func (m Market) DefaultDepthLimit() int {
	if m.IsFutures() {
		return 500
	}
	return 100
}

// MaxDepthLimit is the largest /depth limit.
func (m Market) MaxDepthLimit() int {
	if m.IsFutures() {
		return 1000
	}
	return 5000
}

// DepthWeight is the request weight of a /depth call with limit levels (0:
// the default). Spot takes any limit 1..5000 (weight 5, 25, 50, 250 by
// band); futures only 5, 10, 20, 50, 100, 500, 1000 (weight 2, 5, 10, 20).
func (m Market) DepthWeight(limit int) (int, error) {
	if limit == 0 {
		limit = m.DefaultDepthLimit()
	}
	if m.IsFutures() {
		switch limit {
		case 5, 10, 20, 50:
			return 2, nil
		case 100:
			return 5, nil
		case 500:
			return 10, nil
		case 1000:
			return 20, nil
		}
		parts := make([]string, len(futuresDepthLimits))
		for i, l := range futuresDepthLimits {
			parts[i] = strconv.Itoa(l)
		}
		return 0, fmt.Errorf("%s depth limit %d: must be one of %s", m, limit, strings.Join(parts, ", "))
	}
	switch {
	case limit < 1 || limit > 5000:
		return 0, fmt.Errorf("%s depth limit %d: must be 1 to 5000", m, limit)
	case limit <= 100:
		return 5, nil
	case limit <= 500:
		return 25, nil
	case limit <= 1000:
		return 50, nil
	}
	return 250, nil
}

// Depth fetches an order-book snapshot of symbol with limit levels per side
// (0: the market default) into dst, reusing dst's level slices. dst.Source
// is SnapshotREST; EventTime and TransactionTime are set when the market
// sends them (futures), else 0.
func (c *Client) Depth(ctx context.Context, symbol string, limit int, dst *market.DepthSnapshot) error {
	weight, err := c.market.DepthWeight(limit)
	if err != nil {
		return err
	}
	var sym market.Symbol
	if !sym.SetString(symbol) {
		return fmt.Errorf("%s depth: invalid symbol %q", c.market, symbol)
	}
	params := url.Values{"symbol": {sym.String()}}
	if limit > 0 {
		params.Set("limit", strconv.Itoa(limit))
	}
	body, recv, err := c.get(ctx, "depth", params, weight)
	if err != nil {
		return err
	}
	if err := ParseDepthSnapshot(c.market, body, recv, dst); err != nil {
		return fmt.Errorf("GET %s: %s depth %s: %w", c.url("depth", params), c.market, sym, err)
	}
	dst.Symbol = sym
	return nil
}

// ParseDepthSnapshot decodes a REST /depth body ({"lastUpdateId":..,
// "bids":[..],"asks":[..]}, futures also "E" and "T") into dst, reusing
// dst's level slices. It uses the frame scanner, so a 5000-level book is
// read once without building a tree. The symbol is left to the caller (the
// body does not always carry it).
func ParseDepthSnapshot(m Market, body []byte, recvTime int64, dst *market.DepthSnapshot) error {
	p := NewParser(m, ParserOptions{LevelCapacity: 1})
	p.bids, p.asks = dst.Bids[:0], dst.Asks[:0]
	p.recv, p.b, p.what = recvTime, body, "depth"
	i := skipWS(body, 0)
	if i >= len(body) || body[i] != '{' {
		return p.malformed(i, "depth: not a JSON object")
	}
	end, err := p.scanObject(body, i, &p.top, levelPayload)
	if err != nil {
		return err
	}
	if end = skipWS(body, end); end != len(body) {
		return p.malformed(end, "depth: data after the JSON value")
	}
	t := &p.top
	if err := p.require(t, reqSpotPartial, "depth"); err != nil {
		return err
	}
	if t.v[fBids].kind != vArray || t.v[fAsks].kind != vArray {
		return p.malformed(0, "depth: bids and asks must be level arrays")
	}
	dst.Exchange = m.Exchange()
	dst.ReceiveTime = recvTime
	dst.Source = market.SnapshotREST
	dst.LastUpdateID = p.reqInt(t, fLastUpdateID)
	dst.EventTime = p.optTime(t, fE)
	dst.TransactionTime = p.optTime(t, fT)
	dst.Bids, dst.Asks = p.bids, p.asks
	return p.err
}

// DepthSnapshot is Depth under the Backfiller name.
func (c *Client) DepthSnapshot(ctx context.Context, symbol string, limit int, dst *market.DepthSnapshot) error {
	return c.Depth(ctx, symbol, limit, dst)
}
