package binance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/log"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

// SourceConfig configures a Source. Zero values take the market defaults.
type SourceConfig struct {
	Market Market
	// WSURL and RESTURL override the base URLs (--ws-url, --rest-url).
	WSURL   string
	RESTURL string
	// TimeUnit of the websocket time fields (spot may use Microsecond).
	TimeUnit TimeUnit
	// HTTPClient, ExchangeInfoTTL and APIKey go to the REST client.
	HTTPClient      *http.Client
	ExchangeInfoTTL time.Duration
	APIKey          string
	// Budget is the REST weight budget; share one per IP and market.
	Budget *Budget
	Logger *log.Logger
	// NoBackfill turns off filling trade gaps from REST.
	NoBackfill bool
	// SkipValidation starts subscriptions without checking the symbols
	// against exchangeInfo (replays, offline tests).
	SkipValidation bool
	// Feed carries the websocket feed's tuning (sharding, rotation, stale
	// detection, recorder...). Market, WSURL, TimeUnit, Handler, Logger
	// and Backfill are set by the Source and ignored here.
	Feed FeedConfig
}

// Source is Binance as a source.Source for one market: symbols and
// validation come from the REST client's exchangeInfo, streams from the
// websocket Feed, with the client as the feed's gap backfill.
type Source struct {
	market   Market
	client   *Client
	feed     *Feed
	validate bool
	handler  atomic.Pointer[source.Handler]

	mu     sync.Mutex
	closed bool
}

var _ source.Source = (*Source)(nil)

// NewSource builds a Source; nothing connects until Run and Start.
func NewSource(cfg SourceConfig) (*Source, error) {
	m := cfg.Market
	if !m.Valid() {
		return nil, fmt.Errorf("binance source: %w %d", ErrUnknownMarket, m)
	}
	client, err := NewClient(m, ClientOptions{
		BaseURL: cfg.RESTURL, HTTPClient: cfg.HTTPClient, ExchangeInfoTTL: cfg.ExchangeInfoTTL,
		APIKey: cfg.APIKey, Budget: cfg.Budget,
	})
	if err != nil {
		return nil, fmt.Errorf("binance %s source: %w", m, err)
	}
	s := &Source{market: m, client: client, validate: !cfg.SkipValidation}
	fc := cfg.Feed
	fc.Market, fc.WSURL, fc.TimeUnit, fc.Logger = m, cfg.WSURL, cfg.TimeUnit, cfg.Logger
	fc.Handler = source.HandlerFunc(s.dispatch)
	fc.Backfill = nil
	if !cfg.NoBackfill {
		fc.Backfill = client
	}
	if fc.Logger == nil {
		fc.Logger = log.New(io.Discard)
	}
	if s.feed, err = NewFeed(fc); err != nil {
		return nil, fmt.Errorf("binance %s source: %w", m, err)
	}
	return s, nil
}

// dispatch forwards feed events to Run's handler; events arrive only while
// Run runs the feed.
func (s *Source) dispatch(ev *source.Event) {
	if h := s.handler.Load(); h != nil {
		(*h).HandleEvent(ev)
	}
}

// Name is "binance-<market>".
func (s *Source) Name() string { return s.market.SourceName() }

// Exchange is the market's ExchangeID.
func (s *Source) Exchange() market.ExchangeID { return s.market.Exchange() }

// Market is the source's market.
func (s *Source) Market() Market { return s.market }

// Channels lists the market's channels.
func (s *Source) Channels() []market.Channel { return s.market.Channels() }

// Client is the REST client (shared exchangeInfo cache and weight budget).
func (s *Source) Client() *Client { return s.client }

// Feed is the websocket feed, for its statistics and tuning.
func (s *Source) Feed() *Feed { return s.feed }

// Symbols lists every exchangeInfo symbol, sorted by name.
func (s *Source) Symbols(ctx context.Context) ([]source.SymbolInfo, error) {
	info, err := s.client.ExchangeInfo(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]source.SymbolInfo, len(info.Symbols))
	for i := range info.Symbols {
		out[i] = info.Symbols[i].SourceInfo()
	}
	return out, nil
}

// Validate looks symbols up case-insensitively (see source.Source).
func (s *Source) Validate(ctx context.Context, symbols []string) ([]source.SymbolInfo, error) {
	infos, err := s.client.ValidateSymbols(ctx, symbols)
	if err != nil {
		return nil, err
	}
	out := make([]source.SymbolInfo, len(infos))
	for i := range infos {
		out[i] = infos[i].SourceInfo()
	}
	return out, nil
}

// StreamNames converts subscriptions to stream names, checking each against
// the market's channels, intervals, levels and speeds.
func (s *Source) StreamNames(subs []source.Subscription) ([]StreamName, error) {
	out := make([]StreamName, 0, len(subs))
	for _, sub := range subs {
		n, err := s.market.NewStreamName(sub)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", s.Name(), sub, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// checkSymbols verifies the names exist: pairs for index price streams
// (COIN-M index price is per pair), symbols otherwise.
func (s *Source) checkSymbols(ctx context.Context, names []StreamName) error {
	if !s.validate || len(names) == 0 {
		return nil
	}
	info, err := s.client.ExchangeInfo(ctx)
	if err != nil {
		return fmt.Errorf("%s: validating symbols: %w", s.Name(), err)
	}
	var pairs map[string]bool
	var unknown []string
	for _, n := range names {
		if n.All || n.Control != ControlNone {
			continue
		}
		sym := n.Symbol.String()
		if n.Channel == market.ChannelIndexPrice {
			if pairs == nil {
				pairs = make(map[string]bool)
				for i := range info.Symbols {
					pairs[info.Symbols[i].Pair] = true
				}
			}
			if !pairs[sym] {
				unknown = append(unknown, sym)
			}
			continue
		}
		if _, ok := info.Lookup(sym); !ok {
			unknown = append(unknown, sym)
		}
	}
	if len(unknown) > 0 {
		return source.NewUnknownSymbolsError(s.Name(), unknown)
	}
	return nil
}

// Start subscribes; already-subscribed streams are ignored.
func (s *Source) Start(ctx context.Context, subs ...source.Subscription) error {
	if s.isClosed() {
		return fmt.Errorf("%s: start: %w", s.Name(), source.ErrClosed)
	}
	names, err := s.StreamNames(subs)
	if err != nil {
		return err
	}
	if err := s.checkSymbols(ctx, names); err != nil {
		return err
	}
	return s.feed.Subscribe(ctx, names...)
}

// Stop unsubscribes; streams not subscribed are ignored.
func (s *Source) Stop(ctx context.Context, subs ...source.Subscription) error {
	names, err := s.StreamNames(subs)
	if err != nil {
		return err
	}
	return s.feed.Unsubscribe(ctx, names...)
}

// Subscriptions lists the subscribed streams, sorted by name.
func (s *Source) Subscriptions() []StreamName { return s.feed.Streams() }

// Run delivers events to h until ctx ends or Close; calls for one
// connection shard are serialised, shards call h concurrently.
func (s *Source) Run(ctx context.Context, h source.Handler) error {
	if h == nil {
		return errors.New(s.Name() + ": run: no handler")
	}
	if !s.handler.CompareAndSwap(nil, &h) {
		return errors.New(s.Name() + ": run: already running")
	}
	defer s.handler.Store(nil)
	if err := s.feed.Run(ctx); err != nil {
		return fmt.Errorf("%s: %w", s.Name(), err)
	}
	return nil
}

// Close stops the feed; Run returns.
func (s *Source) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return s.feed.Close()
}

func (s *Source) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// ParseSubscription parses the CLI form of a subscription for market m:
// "SYMBOL@channel" in Binance's stream syntax, e.g. "btcusdt@trade",
// "BTCUSDT@kline_1m", "btcusdt@depth@100ms", "btcusdt@depth20".
func (m Market) ParseSubscription(s string) (source.Subscription, error) {
	n, err := ParseStreamNameString(strings.TrimSpace(s))
	if err != nil {
		return source.Subscription{}, err
	}
	if n.All || n.Control != ControlNone || n.UTC8 {
		return source.Subscription{}, fmt.Errorf("%q: only per-symbol streams can be subscribed", s)
	}
	if err := m.CheckStream(n); err != nil {
		return source.Subscription{}, fmt.Errorf("%q: %w", s, err)
	}
	sub := source.Subscription{Symbol: n.Symbol.String(), Channel: n.Channel, Interval: n.Interval, Levels: int(n.Levels), Speed: n.Speed.Duration()}
	return sub, nil
}
