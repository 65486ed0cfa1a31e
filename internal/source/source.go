// Package source is the seam between market-data sources (Binance today) and
// the code that consumes them (the relay and the service mode). A source lists
// and validates its symbols, starts and stops channels per symbol, and delivers
// normalized internal/market events to a Handler without allocating per event.
// Another exchange plugs in as one new package implementing Source.
package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ims-dev/ims/internal/market"
)

// Kind says which event an Event carries.
type Kind uint8

// Event kinds. Values are stable; they are not a wire format.
const (
	KindNone Kind = iota
	KindTrade
	KindAggTrade
	KindKline
	KindBookTicker
	KindDepthUpdate
	KindDepthSnapshot
	KindTicker
	KindMarkPrice
	KindLiquidation
	KindIndexPrice
	KindStatus
)

var kindNames = [...]string{
	"none", "trade", "aggTrade", "kline", "bookTicker", "depthUpdate", "depthSnapshot",
	"ticker", "markPrice", "liquidation", "indexPrice", "status",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Event is a typed union over the market events: Kind names the one pointer
// field that is set. It exists so one Handler method can take every event
// without an interface conversion (which would allocate) per event.
//
// Ownership: an Event and everything it points to (including depth level
// slices) belong to the source and are reused for the next event. They are
// valid only during the Handler call; copy what you keep.
type Event struct {
	Kind Kind
	// Channel is the subscription channel the event came from; it differs
	// from Kind for partial depth (KindDepthSnapshot) and mini tickers
	// (KindTicker).
	Channel market.Channel

	Trade         *market.Trade
	AggTrade      *market.AggTrade
	Kline         *market.Kline
	BookTicker    *market.BookTicker
	DepthUpdate   *market.DepthUpdate
	DepthSnapshot *market.DepthSnapshot
	Ticker        *market.Ticker
	MarkPrice     *market.MarkPrice
	Liquidation   *market.Liquidation
	IndexPrice    *market.IndexPrice
	Status        *market.Status
}

// Header returns the header of the event Kind names, or nil for KindNone or
// a Kind whose pointer is unset.
func (e *Event) Header() *market.Header {
	switch e.Kind {
	case KindTrade:
		if e.Trade != nil {
			return &e.Trade.Header
		}
	case KindAggTrade:
		if e.AggTrade != nil {
			return &e.AggTrade.Header
		}
	case KindKline:
		if e.Kline != nil {
			return &e.Kline.Header
		}
	case KindBookTicker:
		if e.BookTicker != nil {
			return &e.BookTicker.Header
		}
	case KindDepthUpdate:
		if e.DepthUpdate != nil {
			return &e.DepthUpdate.Header
		}
	case KindDepthSnapshot:
		if e.DepthSnapshot != nil {
			return &e.DepthSnapshot.Header
		}
	case KindTicker:
		if e.Ticker != nil {
			return &e.Ticker.Header
		}
	case KindMarkPrice:
		if e.MarkPrice != nil {
			return &e.MarkPrice.Header
		}
	case KindLiquidation:
		if e.Liquidation != nil {
			return &e.Liquidation.Header
		}
	case KindIndexPrice:
		if e.IndexPrice != nil {
			return &e.IndexPrice.Header
		}
	case KindStatus:
		if e.Status != nil {
			return &e.Status.Header
		}
	}
	return nil
}

// Handler receives events. A source calls HandleEvent from its own
// goroutine(s); see Source.Run for ordering. The call must not retain ev or
// anything it points to, and should return quickly: a slow handler is
// backpressure on the websocket reader.
type Handler interface {
	HandleEvent(ev *Event)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ev *Event)

// HandleEvent calls f(ev).
func (f HandlerFunc) HandleEvent(ev *Event) { f(ev) }

// RealTime asks for unthrottled updates where the exchange offers them
// (Binance futures "@depth@0ms"); 0 means the exchange's default speed.
const RealTime time.Duration = -1

// Subscription names one channel for one symbol.
type Subscription struct {
	// Symbol as the exchange lists it, any case; sources upper-case it.
	Symbol  string
	Channel market.Channel
	// Interval is the kline width (ChannelKline only).
	Interval market.KlineInterval
	// Levels is the book depth for ChannelPartialDepth (Binance: 5, 10, 20).
	Levels int
	// Speed is the update interval: 0 for the exchange default, RealTime, or
	// a speed the source supports (Binance depth: 100ms, 500ms; mark and
	// index price: 1s).
	Speed time.Duration
}

// String renders the subscription as "SYMBOL channel[ param]".
func (s Subscription) String() string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(s.Symbol))
	b.WriteByte(' ')
	b.WriteString(s.Channel.String())
	if s.Channel == market.ChannelKline {
		b.WriteByte(' ')
		b.WriteString(s.Interval.String())
	}
	if s.Levels > 0 {
		fmt.Fprintf(&b, " %d levels", s.Levels)
	}
	switch {
	case s.Speed == RealTime:
		b.WriteString(" realtime")
	case s.Speed > 0:
		b.WriteString(" @" + s.Speed.String())
	}
	return b.String()
}

// SymbolInfo is what a source knows about one symbol.
type SymbolInfo struct {
	Symbol string // upper case, as the exchange lists it
	// Status is the exchange's own status text (Binance: TRADING, BREAK,
	// PENDING_TRADING, ...).
	Status string
	// Trading reports whether the symbol currently trades.
	Trading      bool
	Base         string
	Quote        string
	ContractType string // futures: PERPETUAL, CURRENT_QUARTER, ...; "" for spot
	Pair         string // futures underlying pair; "" for spot
	MarginAsset  string // futures margin asset; "" for spot
	TickSize     market.Decimal
	StepSize     market.Decimal
}

// UnknownSymbolsError reports symbols a source does not list.
type UnknownSymbolsError struct {
	Source  string   // e.g. "binance-spot"
	Symbols []string // upper case, sorted
}

func (e *UnknownSymbolsError) Error() string {
	noun := "symbols"
	if len(e.Symbols) == 1 {
		noun = "symbol"
	}
	return fmt.Sprintf("unknown %s on %s: %s", noun, e.Source, strings.Join(e.Symbols, ", "))
}

// ErrClosed is returned by a Source used after Close.
var ErrClosed = errors.New("source closed")

// Source is one market-data source (an exchange market).
//
// Lifecycle: create, call Run in its own goroutine with the handler, then
// Start and Stop subscriptions from any goroutine while Run delivers events;
// cancel Run's context or call Close to shut down. Events of one symbol and
// channel are delivered in exchange order; different subscriptions may be
// delivered from different goroutines concurrently, so handlers must be safe
// for concurrent use unless the source documents otherwise.
type Source interface {
	// Name is the source's stable name, e.g. "binance-spot".
	Name() string
	// Exchange is the market's ExchangeID, stamped on every event.
	Exchange() market.ExchangeID
	// Channels lists the channels the source supports.
	Channels() []market.Channel
	// Symbols lists every symbol the exchange reports, sorted by name.
	Symbols(ctx context.Context) ([]SymbolInfo, error)
	// Validate looks symbols up case-insensitively and returns their infos
	// in the order given. If any is unknown it returns an
	// *UnknownSymbolsError listing all of them (and no infos). Symbols that
	// exist but do not trade are returned with Trading false; the caller
	// decides whether that is an error.
	Validate(ctx context.Context, symbols []string) ([]SymbolInfo, error)
	// Start subscribes; Stop unsubscribes. Both validate their arguments
	// and are idempotent per subscription.
	Start(ctx context.Context, subs ...Subscription) error
	Stop(ctx context.Context, subs ...Subscription) error
	// Run delivers events (including KindStatus markers for connection
	// state and sequence gaps) to h until ctx is done or Close is called.
	// It returns nil after Close or context cancellation, and an error
	// only when the source cannot continue.
	Run(ctx context.Context, h Handler) error
	// Close stops every subscription and releases resources.
	Close() error
}

// NewUnknownSymbolsError builds the error from the unknown names (any case,
// duplicates allowed).
func NewUnknownSymbolsError(source string, symbols []string) *UnknownSymbolsError {
	seen := make(map[string]bool, len(symbols))
	out := make([]string, 0, len(symbols))
	for _, s := range symbols {
		u := strings.ToUpper(s)
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	sort.Strings(out)
	return &UnknownSymbolsError{Source: source, Symbols: out}
}

// Clone returns a deep copy of e that shares nothing with the source's
// reused buffers, for a consumer that must keep an event past the Handler
// call. Only the pointer Kind names is copied.
func (e *Event) Clone() Event {
	out := Event{Kind: e.Kind, Channel: e.Channel}
	switch e.Kind {
	case KindTrade:
		out.Trade = clonePtr(e.Trade)
	case KindAggTrade:
		out.AggTrade = clonePtr(e.AggTrade)
	case KindKline:
		out.Kline = clonePtr(e.Kline)
	case KindBookTicker:
		out.BookTicker = clonePtr(e.BookTicker)
	case KindDepthUpdate:
		if out.DepthUpdate = clonePtr(e.DepthUpdate); out.DepthUpdate != nil {
			out.DepthUpdate.Bids = slices.Clone(out.DepthUpdate.Bids)
			out.DepthUpdate.Asks = slices.Clone(out.DepthUpdate.Asks)
		}
	case KindDepthSnapshot:
		if out.DepthSnapshot = clonePtr(e.DepthSnapshot); out.DepthSnapshot != nil {
			out.DepthSnapshot.Bids = slices.Clone(out.DepthSnapshot.Bids)
			out.DepthSnapshot.Asks = slices.Clone(out.DepthSnapshot.Asks)
		}
	case KindTicker:
		out.Ticker = clonePtr(e.Ticker)
	case KindMarkPrice:
		out.MarkPrice = clonePtr(e.MarkPrice)
	case KindLiquidation:
		out.Liquidation = clonePtr(e.Liquidation)
	case KindIndexPrice:
		out.IndexPrice = clonePtr(e.IndexPrice)
	case KindStatus:
		out.Status = clonePtr(e.Status)
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
