package binance

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

// RateLimit is one entry of exchangeInfo's rateLimits.
type RateLimit struct {
	Type        string `json:"rateLimitType"` // REQUEST_WEIGHT, ORDERS, RAW_REQUESTS
	Interval    string `json:"interval"`      // SECOND, MINUTE, DAY
	IntervalNum int    `json:"intervalNum"`
	Limit       int    `json:"limit"`
}

// SymbolInfo is one exchangeInfo symbol, with the filters decoded by name.
type SymbolInfo struct {
	Symbol string
	// Status is "status" (spot, USD-M) or "contractStatus" (COIN-M).
	Status       string
	BaseAsset    string
	QuoteAsset   string
	ContractType string // futures; "" on spot
	Pair         string // futures; "" on spot
	MarginAsset  string // futures; "" on spot
	// ContractSize is the COIN-M contract value in quote units; null
	// elsewhere.
	ContractSize market.Decimal
	// Precisions as sent; -1 when the market does not send them (spot has
	// asset precisions, futures price and quantity precisions).
	PricePrecision      int
	QuantityPrecision   int
	BaseAssetPrecision  int
	QuoteAssetPrecision int
	// DeliveryDate and OnboardDate are futures times in ms (0 if absent).
	DeliveryDate int64
	OnboardDate  int64
	// From PRICE_FILTER and LOT_SIZE; null when the filter is absent.
	TickSize market.Decimal
	MinPrice market.Decimal
	MaxPrice market.Decimal
	StepSize market.Decimal
	MinQty   market.Decimal
	MaxQty   market.Decimal
}

// Trading reports whether the symbol's status is TRADING.
func (s *SymbolInfo) Trading() bool { return s.Status == "TRADING" }

// SourceInfo converts s to the exchange-neutral form.
func (s *SymbolInfo) SourceInfo() source.SymbolInfo {
	return source.SymbolInfo{
		Symbol: s.Symbol, Status: s.Status, Trading: s.Trading(),
		Base: s.BaseAsset, Quote: s.QuoteAsset, ContractType: s.ContractType,
		Pair: s.Pair, MarginAsset: s.MarginAsset, TickSize: s.TickSize, StepSize: s.StepSize,
	}
}

// ExchangeInfo is a decoded exchangeInfo reply. Treat it as read-only: the
// client shares one value between callers.
type ExchangeInfo struct {
	Market     Market
	Timezone   string
	ServerTime int64 // ms
	RateLimits []RateLimit
	// Symbols are sorted by name.
	Symbols []SymbolInfo
	index   map[string]int
}

// Lookup finds a symbol case-insensitively.
func (e *ExchangeInfo) Lookup(symbol string) (*SymbolInfo, bool) {
	i, ok := e.index[strings.ToUpper(strings.TrimSpace(symbol))]
	if !ok {
		return nil, false
	}
	return &e.Symbols[i], true
}

// RequestWeightLimit is the REQUEST_WEIGHT limit per minute, if listed.
func (e *ExchangeInfo) RequestWeightLimit() (int, bool) {
	for _, r := range e.RateLimits {
		if r.Type == "REQUEST_WEIGHT" && r.Interval == "MINUTE" && r.IntervalNum == 1 && r.Limit > 0 {
			return r.Limit, true
		}
	}
	return 0, false
}

// Validate looks symbols up and returns their infos in order, or a
// *source.UnknownSymbolsError naming every unknown one.
func (e *ExchangeInfo) Validate(symbols []string) ([]SymbolInfo, error) {
	out := make([]SymbolInfo, 0, len(symbols))
	var unknown []string
	for _, s := range symbols {
		if info, ok := e.Lookup(s); ok {
			out = append(out, *info)
		} else {
			unknown = append(unknown, s)
		}
	}
	if len(unknown) > 0 {
		return nil, source.NewUnknownSymbolsError(e.Market.SourceName(), unknown)
	}
	return out, nil
}

type exchangeInfoJSON struct {
	Timezone   string       `json:"timezone"`
	ServerTime int64        `json:"serverTime"`
	RateLimits []RateLimit  `json:"rateLimits"`
	Symbols    []symbolJSON `json:"symbols"`
}

type symbolJSON struct {
	Symbol              string            `json:"symbol"`
	Status              string            `json:"status"`
	ContractStatus      string            `json:"contractStatus"`
	BaseAsset           string            `json:"baseAsset"`
	QuoteAsset          string            `json:"quoteAsset"`
	MarginAsset         string            `json:"marginAsset"`
	Pair                string            `json:"pair"`
	ContractType        string            `json:"contractType"`
	ContractSize        json.Number       `json:"contractSize"`
	DeliveryDate        int64             `json:"deliveryDate"`
	OnboardDate         int64             `json:"onboardDate"`
	PricePrecision      *int              `json:"pricePrecision"`
	QuantityPrecision   *int              `json:"quantityPrecision"`
	BaseAssetPrecision  *int              `json:"baseAssetPrecision"`
	QuoteAssetPrecision *int              `json:"quoteAssetPrecision"`
	Filters             []json.RawMessage `json:"filters"`
}

type filterJSON struct {
	FilterType string `json:"filterType"`
	TickSize   string `json:"tickSize"`
	MinPrice   string `json:"minPrice"`
	MaxPrice   string `json:"maxPrice"`
	StepSize   string `json:"stepSize"`
	MinQty     string `json:"minQty"`
	MaxQty     string `json:"maxQty"`
}

// ParseExchangeInfo decodes an exchangeInfo body of market m. Filters are
// matched by filterType, not position, and unknown fields are ignored.
func ParseExchangeInfo(m Market, body []byte) (*ExchangeInfo, error) {
	var raw exchangeInfoJSON
	if err := notJSON(body); err != nil {
		return nil, fmt.Errorf("decoding %s exchangeInfo: %w", m, err)
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("decoding %s exchangeInfo: %w", m, err)
	}
	if raw.Symbols == nil {
		return nil, fmt.Errorf("decoding %s exchangeInfo: no symbols array", m)
	}
	info := &ExchangeInfo{
		Market: m, Timezone: raw.Timezone, ServerTime: raw.ServerTime, RateLimits: raw.RateLimits,
		Symbols: make([]SymbolInfo, 0, len(raw.Symbols)),
		index:   make(map[string]int, len(raw.Symbols)),
	}
	for i := range raw.Symbols {
		rs := &raw.Symbols[i]
		if rs.Symbol == "" {
			return nil, fmt.Errorf("decoding %s exchangeInfo: symbol #%d has no name", m, i)
		}
		s := SymbolInfo{
			Symbol: strings.ToUpper(rs.Symbol), Status: rs.Status,
			BaseAsset: rs.BaseAsset, QuoteAsset: rs.QuoteAsset, MarginAsset: rs.MarginAsset,
			Pair: rs.Pair, ContractType: rs.ContractType,
			DeliveryDate: rs.DeliveryDate, OnboardDate: rs.OnboardDate,
			ContractSize:   market.NullDecimal,
			PricePrecision: intOr(rs.PricePrecision), QuantityPrecision: intOr(rs.QuantityPrecision),
			BaseAssetPrecision: intOr(rs.BaseAssetPrecision), QuoteAssetPrecision: intOr(rs.QuoteAssetPrecision),
			TickSize: market.NullDecimal, MinPrice: market.NullDecimal, MaxPrice: market.NullDecimal,
			StepSize: market.NullDecimal, MinQty: market.NullDecimal, MaxQty: market.NullDecimal,
		}
		if s.Status == "" {
			s.Status = rs.ContractStatus
		}
		if rs.ContractSize != "" {
			d, err := market.ParseDecimalString(string(rs.ContractSize))
			if err != nil {
				return nil, fmt.Errorf("decoding %s exchangeInfo: %s contractSize %q: %w", m, rs.Symbol, rs.ContractSize, err)
			}
			s.ContractSize = d
		}
		for _, fr := range rs.Filters {
			var f filterJSON
			if err := json.Unmarshal(fr, &f); err != nil {
				return nil, fmt.Errorf("decoding %s exchangeInfo: %s filter: %w", m, rs.Symbol, err)
			}
			var err error
			switch f.FilterType {
			case "PRICE_FILTER":
				err = decimals(rs.Symbol, f.FilterType, []string{f.TickSize, f.MinPrice, f.MaxPrice}, &s.TickSize, &s.MinPrice, &s.MaxPrice)
			case "LOT_SIZE":
				err = decimals(rs.Symbol, f.FilterType, []string{f.StepSize, f.MinQty, f.MaxQty}, &s.StepSize, &s.MinQty, &s.MaxQty)
			}
			if err != nil {
				return nil, fmt.Errorf("decoding %s exchangeInfo: %w", m, err)
			}
		}
		info.Symbols = append(info.Symbols, s)
	}
	sort.SliceStable(info.Symbols, func(i, j int) bool { return info.Symbols[i].Symbol < info.Symbols[j].Symbol })
	for i := range info.Symbols {
		info.index[info.Symbols[i].Symbol] = i
	}
	return info, nil
}

func intOr(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

func decimals(symbol, filter string, texts []string, dst ...*market.Decimal) error {
	for i, t := range texts {
		if t == "" {
			continue
		}
		d, err := market.ParseDecimalString(t)
		if err != nil {
			return fmt.Errorf("%s %s value %q: %w", symbol, filter, t, err)
		}
		*dst[i] = d
	}
	return nil
}

// exchangeInfoWeight is the request weight of exchangeInfo.
func (m Market) exchangeInfoWeight() int {
	if m.Family() == FamilySpot {
		return 20
	}
	return 1
}

type infoCall struct {
	done chan struct{}
	info *ExchangeInfo
	err  error
}

// ExchangeInfo returns the market's exchangeInfo, from the cache while it is
// younger than the TTL. Concurrent callers share one request, which runs to
// completion even if the caller that started it gives up. It also updates
// the weight budget's limit from rateLimits.
func (c *Client) ExchangeInfo(ctx context.Context) (*ExchangeInfo, error) {
	c.mu.Lock()
	if c.info != nil && c.ttl > 0 && c.now().Sub(c.infoAt) < c.ttl {
		info := c.info
		c.mu.Unlock()
		return info, nil
	}
	call := c.inflight
	if call == nil {
		call = &infoCall{done: make(chan struct{})}
		c.inflight = call
		go c.fetchExchangeInfo(context.WithoutCancel(ctx), call)
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.info, call.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%s exchangeInfo: %w", c.market, ctx.Err())
	}
}

func (c *Client) fetchExchangeInfo(ctx context.Context, call *infoCall) {
	// The shared request outlives its first caller, so bound it here.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	body, _, err := c.get(ctx, "exchangeInfo", nil, c.market.exchangeInfoWeight())
	var info *ExchangeInfo
	if err == nil {
		if info, err = ParseExchangeInfo(c.market, body); err != nil {
			err = fmt.Errorf("GET %s: %w", c.url("exchangeInfo", nil), err)
		}
	}
	if err == nil {
		if limit, ok := info.RequestWeightLimit(); ok {
			c.budget.SetLimit(limit)
		}
	}
	c.mu.Lock()
	if err == nil {
		c.info, c.infoAt = info, c.now()
	}
	c.inflight = nil
	c.mu.Unlock()
	call.info, call.err = info, err
	close(call.done)
}

// Symbols returns every symbol (sorted by name) from exchangeInfo.
func (c *Client) Symbols(ctx context.Context) ([]SymbolInfo, error) {
	info, err := c.ExchangeInfo(ctx)
	if err != nil {
		return nil, err
	}
	return append([]SymbolInfo(nil), info.Symbols...), nil
}

// ValidateSymbols looks symbols up case-insensitively in exchangeInfo.
func (c *Client) ValidateSymbols(ctx context.Context, symbols []string) ([]SymbolInfo, error) {
	info, err := c.ExchangeInfo(ctx)
	if err != nil {
		return nil, err
	}
	return info.Validate(symbols)
}
