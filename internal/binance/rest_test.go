package binance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/binance/binancetest"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

// fakeClock is shared by the client's budget and the fake server, so rate
// limit tests run instantly: sleeping advances the clock.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

func testdataDir() string { return "testdata" }

func newFake(t *testing.T, opts binancetest.Options) *binancetest.Server {
	t.Helper()
	srv := binancetest.NewServer(opts)
	t.Cleanup(srv.Close)
	if err := srv.LoadRecorded(testdataDir()); err != nil {
		t.Fatal(err)
	}
	return srv
}

func newTestClient(t *testing.T, m Market, srv *binancetest.Server, clock *fakeClock, opts ClientOptions) *Client {
	t.Helper()
	opts.BaseURL = srv.URL()
	c, err := NewClient(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	if clock != nil {
		c.now = clock.Now
		c.sleep = clock.Sleep
		c.budget.now = clock.Now
		c.budget.sleep = clock.Sleep
	}
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestExchangeInfoDifferential decodes the recorded exchangeInfo of each
// market through the client and, independently, with a generic JSON decode;
// every symbol's fields must agree.
func TestExchangeInfoDifferential(t *testing.T) {
	srv := newFake(t, binancetest.Options{})
	want := map[Market]int{Spot: 1695, USDM: 122, CoinM: 36}
	for m, n := range want {
		c := newTestClient(t, m, srv, nil, ClientOptions{})
		info, err := c.ExchangeInfo(ctxT(t))
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if len(info.Symbols) != n {
			t.Errorf("%s: %d symbols, want %d", m, len(info.Symbols), n)
		}
		body, err := binancetest.ReadSample(filepath.Join(testdataDir(), m.Family().String()+"-exchangeInfo.json"))
		if err != nil {
			t.Fatal(err)
		}
		var raw struct {
			Symbols []map[string]any `json:"symbols"`
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatal(err)
		}
		for _, rs := range raw.Symbols {
			name := rs["symbol"].(string)
			got, ok := info.Lookup(strings.ToLower(name))
			if !ok {
				t.Fatalf("%s: %s missing", m, name)
			}
			status, _ := rs["status"].(string)
			if cs, ok := rs["contractStatus"].(string); ok {
				status = cs
			}
			check := func(field string, got, want any) {
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s %s %s: got %v, want %v", m, name, field, got, want)
				}
			}
			check("status", got.Status, status)
			check("base", got.BaseAsset, rs["baseAsset"])
			check("quote", got.QuoteAsset, rs["quoteAsset"])
			str := func(k string) string { s, _ := rs[k].(string); return s }
			check("contractType", got.ContractType, str("contractType"))
			check("pair", got.Pair, str("pair"))
			check("marginAsset", got.MarginAsset, str("marginAsset"))
			for _, f := range rs["filters"].([]any) {
				fm := f.(map[string]any)
				switch fm["filterType"] {
				case "PRICE_FILTER":
					check("tickSize", got.TickSize.String(), fm["tickSize"])
					check("minPrice", got.MinPrice.String(), fm["minPrice"])
				case "LOT_SIZE":
					check("stepSize", got.StepSize.String(), fm["stepSize"])
					check("maxQty", got.MaxQty.String(), fm["maxQty"])
				}
			}
			if m == CoinM {
				check("contractSize", got.ContractSize.String(), fmt.Sprint(rs["contractSize"]))
			}
			if pp, ok := rs["pricePrecision"].(float64); ok {
				check("pricePrecision", got.PricePrecision, int(pp))
			} else {
				check("pricePrecision", got.PricePrecision, -1)
			}
		}
		for i := 1; i < len(info.Symbols); i++ {
			if info.Symbols[i-1].Symbol >= info.Symbols[i].Symbol {
				t.Fatalf("%s: symbols not sorted at %d", m, i)
			}
		}
	}
}

func TestExchangeInfoWeightAndLimit(t *testing.T) {
	clock := newFakeClock()
	srv := newFake(t, binancetest.Options{Now: clock.Now})
	c := newTestClient(t, Spot, srv, clock, ClientOptions{})
	if got := c.Budget().Limit(); got != 6000 {
		t.Fatalf("default spot limit %d", got)
	}
	if _, err := c.ExchangeInfo(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// The 2021 recording lists REQUEST_WEIGHT 1200/min.
	if got := c.Budget().Limit(); got != 1200 {
		t.Errorf("limit from rateLimits: %d", got)
	}
	if got := c.Budget().Used(); got != 20 {
		t.Errorf("used weight %d, want 20 (spot exchangeInfo)", got)
	}
	uc := newTestClient(t, USDM, srv, clock, ClientOptions{})
	if _, err := uc.ExchangeInfo(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// The fake counts one IP across families, as Binance does per market
	// API: the header is the authority.
	if got := uc.Budget().Used(); got != 21 {
		t.Errorf("usdm used %d, want 21 (header total)", got)
	}
	if got := uc.Budget().Limit(); got != 2400 {
		t.Errorf("usdm limit %d", got)
	}
}

func TestExchangeInfoCacheTTL(t *testing.T) {
	clock := newFakeClock()
	srv := newFake(t, binancetest.Options{Now: clock.Now})
	c := newTestClient(t, CoinM, srv, clock, ClientOptions{ExchangeInfoTTL: time.Minute})
	a, err := c.ExchangeInfo(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.ExchangeInfo(ctxT(t))
	if err != nil || a != b {
		t.Fatalf("second call: %v, same=%v", err, a == b)
	}
	if n := srv.Count(binancetest.APICoinM, "exchangeInfo"); n != 1 {
		t.Fatalf("%d requests within the TTL", n)
	}
	_ = clock.Sleep(context.Background(), 61*time.Second)
	if _, err := c.ExchangeInfo(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count(binancetest.APICoinM, "exchangeInfo"); n != 2 {
		t.Fatalf("%d requests after the TTL, want 2", n)
	}
	// A negative TTL disables caching.
	nc := newTestClient(t, CoinM, srv, clock, ClientOptions{ExchangeInfoTTL: -1})
	for range 2 {
		if _, err := nc.ExchangeInfo(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Count(binancetest.APICoinM, "exchangeInfo"); n != 4 {
		t.Fatalf("%d requests with caching off, want 4", n)
	}
}

// TestExchangeInfoSharedRequest: concurrent callers share one request, and
// a caller that gives up does not fail the others.
func TestExchangeInfoSharedRequest(t *testing.T) {
	srv := newFake(t, binancetest.Options{})
	c := newTestClient(t, USDM, srv, nil, ClientOptions{})
	release := srv.Pause("exchangeInfo")

	quitter, cancel := context.WithCancel(context.Background())
	quitErr := make(chan error, 1)
	go func() {
		_, err := c.ExchangeInfo(quitter)
		quitErr <- err
	}()
	if err := srv.WaitRequests(ctxT(t), "exchangeInfo", 1); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	results := make([]*ExchangeInfo, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = c.ExchangeInfo(ctxT(t))
		}()
	}
	cancel()
	if err := <-quitErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	release()
	wg.Wait()
	for i := range n {
		if errs[i] != nil || results[i] != results[0] {
			t.Fatalf("caller %d: %v (shared=%v)", i, errs[i], results[i] == results[0])
		}
	}
	if got := srv.Count(binancetest.APIUSDM, "exchangeInfo"); got != 1 {
		t.Fatalf("%d exchangeInfo requests, want 1", got)
	}
}

func TestValidateSymbols(t *testing.T) {
	srv := newFake(t, binancetest.Options{})
	c := newTestClient(t, Spot, srv, nil, ClientOptions{})
	got, err := c.ValidateSymbols(ctxT(t), []string{"btcusdt", " ETHbtc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Symbol != "BTCUSDT" || got[1].Symbol != "ETHBTC" || !got[0].Trading() {
		t.Fatalf("got %+v", got)
	}
	_, err = c.ValidateSymbols(ctxT(t), []string{"btcusdt", "nope", "ALSO_NOT", "nope"})
	var ue *source.UnknownSymbolsError
	if !errors.As(err, &ue) {
		t.Fatalf("want UnknownSymbolsError, got %v", err)
	}
	if want := "unknown symbols on binance-spot: ALSO_NOT, NOPE"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestDepthSnapshotRecorded(t *testing.T) {
	srv := newFake(t, binancetest.Options{})
	for fam, syms := range binancetest.RecordedDepthSymbols {
		m, _ := ParseMarket(fam)
		c := newTestClient(t, m, srv, nil, ClientOptions{})
		lines := readLinesT(t, filepath.Join(testdataDir(), fam+"-depthSnapshot.rest.jsonl"))
		for i, sym := range syms {
			var raw struct {
				LastUpdateID int64       `json:"lastUpdateId"`
				E, T         int64       `json:"-"`
				Bids         [][2]string `json:"bids"`
				Asks         [][2]string `json:"asks"`
			}
			if err := json.Unmarshal(lines[i], &raw); err != nil {
				t.Fatal(err)
			}
			var snap market.DepthSnapshot
			if err := c.Depth(ctxT(t), strings.ToLower(sym), 1000, &snap); err != nil {
				t.Fatalf("%s %s: %v", fam, sym, err)
			}
			if snap.Symbol.String() != sym || snap.LastUpdateID != raw.LastUpdateID || snap.Source != market.SnapshotREST || snap.Exchange != m.Exchange() {
				t.Errorf("%s %s: header %+v", fam, sym, snap.Header)
			}
			if m.IsFutures() && snap.EventTime == 0 {
				t.Errorf("%s %s: futures snapshot without E", fam, sym)
			}
			compareLevels(t, fam+" "+sym+" bids", snap.Bids, raw.Bids, 1000)
			compareLevels(t, fam+" "+sym+" asks", snap.Asks, raw.Asks, 1000)
			// A small book reuses the slices.
			before := &snap.Bids[0]
			if err := c.Depth(ctxT(t), sym, 5, &snap); err != nil {
				t.Fatal(err)
			}
			if len(snap.Bids) != min(5, len(raw.Bids)) || &snap.Bids[0] != before {
				t.Errorf("%s %s limit 5: %d bids, reused=%v", fam, sym, len(snap.Bids), &snap.Bids[0] == before)
			}
		}
	}
}

func compareLevels(t *testing.T, what string, got []market.Level, want [][2]string, limit int) {
	t.Helper()
	if len(want) > limit {
		want = want[:limit]
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d levels, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i].Price.String() != want[i][0] || got[i].Quantity.String() != want[i][1] {
			t.Fatalf("%s[%d]: got %v %v, want %v", what, i, got[i].Price, got[i].Quantity, want[i])
		}
	}
}

func TestDepthWeights(t *testing.T) {
	clock := newFakeClock()
	srv := newFake(t, binancetest.Options{Now: clock.Now})
	cases := []struct {
		m      Market
		sym    string
		limit  int
		weight int
	}{
		{Spot, "NKNUSDT", 0, 5}, {Spot, "NKNUSDT", 100, 5}, {Spot, "NKNUSDT", 101, 25}, {Spot, "NKNUSDT", 1000, 50}, {Spot, "NKNUSDT", 5000, 250},
		{USDM, "CTKUSDT", 5, 2}, {USDM, "CTKUSDT", 50, 2}, {USDM, "CTKUSDT", 100, 5}, {USDM, "CTKUSDT", 0, 10}, {CoinM, "BCHUSD_PERP", 1000, 20},
	}
	for _, tc := range cases {
		w, err := tc.m.DepthWeight(tc.limit)
		if err != nil || w != tc.weight {
			t.Errorf("%s DepthWeight(%d) = %d, %v; want %d", tc.m, tc.limit, w, err, tc.weight)
		}
		srv.ResetWeight()
		c := newTestClient(t, tc.m, srv, clock, ClientOptions{})
		var snap market.DepthSnapshot
		if err := c.Depth(ctxT(t), tc.sym, tc.limit, &snap); err != nil {
			t.Fatal(err)
		}
		if got := c.Budget().Used(); got != tc.weight {
			t.Errorf("%s limit %d: used %d, want %d (fake's table)", tc.m, tc.limit, got, tc.weight)
		}
	}
	for _, bad := range []struct {
		m     Market
		limit int
	}{{USDM, 7}, {CoinM, 5000}, {Spot, 5001}, {Spot, -1}} {
		before := srv.Count("", "depth")
		c := newTestClient(t, bad.m, srv, clock, ClientOptions{})
		var snap market.DepthSnapshot
		if err := c.Depth(ctxT(t), "BTCUSDT", bad.limit, &snap); err == nil || !strings.Contains(err.Error(), "depth limit") {
			t.Errorf("%s limit %d: %v", bad.m, bad.limit, err)
		}
		if srv.Count("", "depth") != before {
			t.Errorf("%s limit %d: a request was sent", bad.m, bad.limit)
		}
	}
}

func TestAPIErrorBody(t *testing.T) {
	srv := newFake(t, binancetest.Options{})
	c := newTestClient(t, Spot, srv, nil, ClientOptions{})
	var snap market.DepthSnapshot
	err := c.Depth(ctxT(t), "NOSUCH", 5, &snap)
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want *APIError, got %v", err)
	}
	if ae.Status != 400 || ae.Code != -1121 || ae.Msg != "Invalid symbol." || !strings.Contains(ae.URL, "/api/v3/depth?limit=5&symbol=NOSUCH") {
		t.Errorf("got %+v", ae)
	}
	if !strings.Contains(err.Error(), "HTTP 400 Bad Request: Binance error -1121: Invalid symbol.") {
		t.Errorf("message %q", err)
	}
	if srv.Count("", "depth") != 1 {
		t.Error("a 400 must not be retried")
	}
	srv.Inject(binancetest.Fault{Endpoint: "exchangeInfo", Status: 502, Body: "<html>bad gateway</html>", Times: 5})
	clock := newFakeClock()
	c2 := newTestClient(t, Spot, srv, clock, ClientOptions{MaxRetries: 2})
	_, err = c2.ExchangeInfo(ctxT(t))
	if !errors.As(err, &ae) || ae.Status != 502 || ae.Msg != "<html>bad gateway</html>" {
		t.Fatalf("502: %v", err)
	}
	if got := srv.Count(binancetest.APISpot, "exchangeInfo"); got != 3 {
		t.Errorf("%d attempts, want 3 (1 + 2 retries)", got)
	}
	if s := clock.Sleeps(); len(s) != 2 || s[0] != 250*time.Millisecond || s[1] != 500*time.Millisecond {
		t.Errorf("back-off sleeps %v", s)
	}
}

func Test429BacksOffAndRetries(t *testing.T) {
	clock := newFakeClock()
	srv := newFake(t, binancetest.Options{Now: clock.Now})
	c := newTestClient(t, USDM, srv, clock, ClientOptions{})
	srv.Inject(binancetest.Fault{Endpoint: "depth", Status: 429, RetryAfter: 7 * time.Second, Code: -1003, Msg: "Too many requests"})
	var snap market.DepthSnapshot
	if err := c.Depth(ctxT(t), "CTKUSDT", 5, &snap); err != nil {
		t.Fatal(err)
	}
	if s := clock.Sleeps(); len(s) != 1 || s[0] != 7*time.Second {
		t.Errorf("sleeps %v, want one of 7s (Retry-After)", s)
	}
	if got := srv.Count("", "depth"); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
	// With retries off the 429 surfaces, and matches ErrRateLimited.
	srv.Inject(binancetest.Fault{Endpoint: "depth", Status: 429, RetryAfter: 3 * time.Second})
	c0 := newTestClient(t, USDM, srv, clock, ClientOptions{MaxRetries: -1})
	err := c0.Depth(ctxT(t), "CTKUSDT", 5, &snap)
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("want ErrRateLimited, got %v", err)
	}
	if c0.Budget().CanSpend(1) {
		t.Error("CanSpend during the back-off")
	}
	_ = clock.Sleep(context.Background(), 3*time.Second)
	if !c0.Budget().CanSpend(1) {
		t.Error("CanSpend after the back-off")
	}
}

func Test418FailsFast(t *testing.T) {
	clock := newFakeClock()
	srv := newFake(t, binancetest.Options{Now: clock.Now})
	c := newTestClient(t, Spot, srv, clock, ClientOptions{})
	srv.Inject(binancetest.Fault{Status: 418, RetryAfter: 120 * time.Second, Code: -1003, Msg: "banned"})
	_, err := c.Trades(ctxT(t), "NKNUSDT", 10)
	var ae *APIError
	if !errors.Is(err, ErrBanned) || !errors.As(err, &ae) || ae.RetryAfter != 120*time.Second {
		t.Fatalf("want a 418 APIError, got %v", err)
	}
	n := len(srv.Requests())
	_, err = c.Trades(ctxT(t), "NKNUSDT", 10)
	var be *BannedError
	if !errors.As(err, &be) || !errors.Is(err, ErrBanned) || !be.Until.Equal(clock.Now().Add(120*time.Second)) {
		t.Fatalf("want BannedError, got %v", err)
	}
	if len(srv.Requests()) != n {
		t.Error("a request was sent during the ban")
	}
	if until, ok := c.Budget().Banned(); !ok || !until.Equal(be.Until) {
		t.Errorf("Banned() = %v %v", until, ok)
	}
	_ = clock.Sleep(context.Background(), 121*time.Second)
	srv.SetTrades(binancetest.APISpot, "NKNUSDT", nil)
	if _, err := c.Trades(ctxT(t), "NKNUSDT", 10); err != nil {
		t.Fatalf("after the ban: %v", err)
	}
}

// TestBudgetKeepsUnderServerLimit: when the budget knows the limit, the
// client waits for the next window instead of drawing a 429.
func TestBudgetKeepsUnderServerLimit(t *testing.T) {
	clock := newFakeClock()
	srv := newFake(t, binancetest.Options{Now: clock.Now, WeightLimit: 60})
	c := newTestClient(t, Spot, srv, clock, ClientOptions{})
	c.Budget().SetLimit(60)
	var snap market.DepthSnapshot
	for i := range 13 {
		if err := c.Depth(ctxT(t), "NKNUSDT", 100, &snap); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	for _, r := range srv.Requests() {
		if r.Status != http.StatusOK {
			t.Fatalf("server answered %d", r.Status)
		}
	}
	if s := clock.Sleeps(); len(s) != 1 || s[0] > time.Minute {
		t.Errorf("sleeps %v, want one wait for the next minute", s)
	}
}

// TestServerLimit429ThenRecover: a budget that does not know the limit gets
// a 429, backs off for Retry-After, and succeeds without being banned.
func TestServerLimit429ThenRecover(t *testing.T) {
	clock := newFakeClock()
	srv := newFake(t, binancetest.Options{Now: clock.Now, WeightLimit: 60})
	c := newTestClient(t, Spot, srv, clock, ClientOptions{})
	var snap market.DepthSnapshot
	for i := range 13 {
		if err := c.Depth(ctxT(t), "NKNUSDT", 100, &snap); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	var statuses []int
	for _, r := range srv.Requests() {
		statuses = append(statuses, r.Status)
	}
	if statuses[12] != 429 || statuses[13] != 200 || len(statuses) != 14 {
		t.Fatalf("statuses %v", statuses)
	}
	if c.Budget().Used() != 5 {
		t.Errorf("used %d in the new window", c.Budget().Used())
	}
}

func TestWaitRespectsContext(t *testing.T) {
	b := NewBudget(10)
	// A fixed clock: the window never rolls over during the test, so the
	// second Wait must sleep (for real, until the context ends).
	at := newFakeClock().Now()
	b.now = func() time.Time { return at }
	if err := b.Wait(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.Wait(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline, got %v", err)
	}
	if err := b.Wait(context.Background(), 11); !errors.Is(err, ErrWeightTooLarge) {
		t.Fatalf("want ErrWeightTooLarge, got %v", err)
	}
	done, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if err := b.Wait(done, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("want Canceled, got %v", err)
	}
}

func TestTradesEndpoints(t *testing.T) {
	srv := newFake(t, binancetest.Options{})
	var trades []market.Trade
	var aggs []market.AggTrade
	for i := int64(1); i <= 1500; i++ {
		trades = append(trades, market.Trade{TradeID: i, Price: market.MustDecimal("100." + strconv.FormatInt(i%100, 10)),
			Quantity: market.MustDecimal("0.001"), TradeTime: 1_600_000_000_000_000 + i*1000, BuyerIsMaker: i%2 == 0})
		aggs = append(aggs, market.AggTrade{AggTradeID: i + 10, Price: market.MustDecimal("7.5"), Quantity: market.MustDecimal("3"),
			FirstTradeID: 2 * i, LastTradeID: 2*i + 1, TradeTime: 1_600_000_000_000_000 + i*1000, BuyerIsMaker: i%3 == 0})
	}
	for _, m := range []Market{Spot, USDM} {
		api, _ := binancetest.APIFor(m.String())
		srv.SetTrades(api, "BTCUSDT", trades)
		srv.SetAggTrades(api, "BTCUSDT", aggs)
		c := newTestClient(t, m, srv, nil, ClientOptions{APIKey: "k"})
		hist, err := c.HistoricalTrades(ctxT(t), "btcusdt", 100, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 50 || hist[0].TradeID != 100 || hist[49].TradeID != 149 {
			t.Fatalf("%s historical: %d trades %d..%d", m, len(hist), hist[0].TradeID, hist[len(hist)-1].TradeID)
		}
		want := trades[99]
		want.Exchange, want.Symbol, want.EventTime, want.Type = m.Exchange(), hist[0].Symbol, want.TradeTime, market.TradeTypeMarket
		want.ReceiveTime = hist[0].ReceiveTime
		if !reflect.DeepEqual(hist[0], want) || hist[0].Symbol.String() != "BTCUSDT" {
			t.Errorf("%s trade: got %+v\nwant %+v", m, hist[0], want)
		}
		recent, err := c.Trades(ctxT(t), "BTCUSDT", 0)
		if err != nil || len(recent) != 500 || recent[499].TradeID != 1500 {
			t.Fatalf("%s recent: %v %d", m, err, len(recent))
		}
		ag, err := c.AggTrades(ctxT(t), "BTCUSDT", 1000, 1000)
		if err != nil || len(ag) != 511 || ag[0].AggTradeID != 1000 || ag[0].FirstTradeID != 1980 || ag[510].AggTradeID != 1510 {
			t.Fatalf("%s aggTrades: %v %d", m, err, len(ag))
		}
		if _, err := c.AggTrades(ctxT(t), "BTCUSDT", -1, 1001); err == nil {
			t.Errorf("%s: limit 1001 accepted", m)
		}
		last := srv.Requests()[len(srv.Requests())-1]
		if last.Header.Get("X-MBX-APIKEY") != "k" || last.Query.Get("fromId") != "1000" {
			t.Errorf("%s: request %+v", m, last)
		}
	}
}

func TestParseExchangeInfoErrors(t *testing.T) {
	cases := map[string]string{
		`not json`:                     "decoding spot exchangeInfo",
		`{"timezone":"UTC"}`:           "no symbols array",
		`{"symbols":[{"status":"X"}]}`: "has no name",
		`{"symbols":[{"symbol":"A","filters":[{"filterType":"PRICE_FILTER","tickSize":"0.0x1"}]}]}`: "PRICE_FILTER value \"0.0x1\"",
		`{"symbols":[{"symbol":"A","contractSize":1e400}]}`:                                         "decoding spot exchangeInfo",
	}
	for body, want := range cases {
		_, err := ParseExchangeInfo(Spot, []byte(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", body, err, want)
		}
	}
}

func TestNetworkErrorNamesURL(t *testing.T) {
	srv := binancetest.NewServer(binancetest.Options{})
	url := srv.URL()
	srv.Close()
	clock := newFakeClock()
	c, err := NewClient(CoinM, ClientOptions{BaseURL: url, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = clock.Sleep
	_, err = c.ExchangeInfo(ctxT(t))
	if err == nil || !strings.Contains(err.Error(), url+"/dapi/v1/exchangeInfo") {
		t.Fatalf("got %v", err)
	}
	if len(clock.Sleeps()) != 1 {
		t.Errorf("network errors are retried: sleeps %v", clock.Sleeps())
	}
}

func readLinesT(t *testing.T, path string) [][]byte {
	t.Helper()
	body, err := binancetest.ReadSample(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, l := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		out = append(out, []byte(l))
	}
	return out
}
