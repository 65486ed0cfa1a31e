package binancetest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/market"
)

type restClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *restClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *restClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func recorded(t *testing.T, opts Options) *Server {
	t.Helper()
	s := NewServer(opts)
	t.Cleanup(s.Close)
	if err := s.LoadRecorded(filepath.Join("..", "testdata")); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRESTRecordedBooksAndLimits(t *testing.T) {
	s := recorded(t, Options{})
	code, h, body := get(t, s.URL()+"/api/v3/depth?symbol=nknusdt&limit=3")
	if code != 200 || h.Get("X-MBX-USED-WEIGHT-1M") != "5" {
		t.Fatalf("%d %v %s", code, h, body)
	}
	var b struct {
		LastUpdateID int64       `json:"lastUpdateId"`
		Bids         [][2]string `json:"bids"`
		Asks         [][2]string `json:"asks"`
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil || b.LastUpdateID != 499869752 || len(b.Bids) != 3 || b.Bids[0][0] != "0.35210000" {
		t.Fatalf("%v %+v", err, b)
	}
	// Futures reject limits outside their list and send E/T.
	if code, _, body := get(t, s.URL()+"/fapi/v1/depth?symbol=CTKUSDT&limit=7"); code != 400 || !strings.Contains(body, "-1130") {
		t.Errorf("limit 7: %d %s", code, body)
	}
	if code, _, body := get(t, s.URL()+"/fapi/v1/depth?symbol=CTKUSDT&limit=5"); code != 200 || !strings.Contains(body, `"E":`) {
		t.Errorf("futures book: %d %s", code, body)
	}
	if code, _, body := get(t, s.URL()+"/dapi/v1/depth?symbol=NOPE"); code != 400 || !strings.Contains(body, "-1121") {
		t.Errorf("unknown symbol: %d %s", code, body)
	}
	if code, _, _ := get(t, s.URL()+"/api/v3/nothing"); code != 404 {
		t.Errorf("unknown endpoint: %d", code)
	}
	if s.Count(APISpot, "depth") != 1 || s.Count("", "depth") != 4 {
		t.Errorf("counts %d %d", s.Count(APISpot, "depth"), s.Count("", "depth"))
	}
}

func TestRESTWeight429Then418(t *testing.T) {
	clock := &restClock{t: time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)}
	s := recorded(t, Options{WeightLimit: 25, Now: clock.Now, BanDuration: time.Hour})
	for i := range 5 {
		if code, _, _ := get(t, s.URL()+"/api/v3/depth?symbol=NKNUSDT"); code != 200 {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	code, h, _ := get(t, s.URL()+"/api/v3/depth?symbol=NKNUSDT")
	if code != 429 || h.Get("Retry-After") != "50" {
		t.Fatalf("over the limit: %d Retry-After %q", code, h.Get("Retry-After"))
	}
	// Ignoring the 429 earns a ban.
	code, h, _ = get(t, s.URL()+"/api/v3/exchangeInfo")
	if code != 418 || h.Get("Retry-After") != "3600" {
		t.Fatalf("during back-off: %d %q", code, h.Get("Retry-After"))
	}
	clock.Add(2 * time.Minute)
	if code, _, _ := get(t, s.URL()+"/api/v3/exchangeInfo"); code != 418 {
		t.Fatalf("ban lifted early: %d", code)
	}
	clock.Add(time.Hour)
	if code, h, _ := get(t, s.URL()+"/api/v3/exchangeInfo"); code != 200 || h.Get("X-MBX-USED-WEIGHT-1M") != "20" {
		t.Fatalf("after the ban: %d %q", code, h.Get("X-MBX-USED-WEIGHT-1M"))
	}
}

func TestRESTFaultsAndPause(t *testing.T) {
	s := recorded(t, Options{})
	s.Inject(Fault{API: APIUSDM, Endpoint: "exchangeInfo", Status: 503, Body: "down", Times: 2})
	for range 2 {
		if code, _, body := get(t, s.URL()+"/fapi/v1/exchangeInfo"); code != 503 || body != "down" {
			t.Fatalf("fault: %d %q", code, body)
		}
	}
	if code, _, _ := get(t, s.URL()+"/fapi/v1/exchangeInfo"); code != 200 {
		t.Fatalf("fault outlived Times: %d", code)
	}
	release := s.Pause("exchangeInfo")
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(s.URL() + "/dapi/v1/exchangeInfo")
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitRequests(ctx, "exchangeInfo", 4); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		t.Fatalf("paused request answered %d", code)
	default:
	}
	release()
	if code := <-done; code != 200 {
		t.Fatalf("released request: %d", code)
	}
}

func TestRESTTradeHistory(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	var trades []market.Trade
	var aggs []market.AggTrade
	for i := int64(1); i <= 20; i++ {
		trades = append(trades, market.Trade{TradeID: i, Price: market.MustDecimal("1.50"), Quantity: market.MustDecimal("2"), TradeTime: i * 1000, BuyerIsMaker: i%2 == 0})
		aggs = append(aggs, market.AggTrade{AggTradeID: 100 + i, Price: market.MustDecimal("3"), Quantity: market.MustDecimal("4"), FirstTradeID: i, LastTradeID: i, TradeTime: i * 1000})
	}
	s.SetTrades(APIUSDM, "btcusdt", trades)
	s.SetAggTrades(APISpot, "BTCUSDT", aggs)
	_, _, body := get(t, s.URL()+"/fapi/v1/historicalTrades?symbol=BTCUSDT&fromId=5&limit=3")
	var got []struct {
		ID    int64  `json:"id"`
		Price string `json:"price"`
		Time  int64  `json:"time"`
		Maker bool   `json:"isBuyerMaker"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got) != 3 || got[0].ID != 5 || got[0].Price != "1.50" || got[0].Time != 5 {
		t.Fatalf("%v %s", err, body)
	}
	_, _, body = get(t, s.URL()+"/fapi/v1/trades?symbol=BTCUSDT&limit=2&fromId=1")
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got) != 2 || got[0].ID != 19 {
		t.Fatalf("recent trades ignore fromId: %v %s", err, body)
	}
	_, _, body = get(t, s.URL()+"/api/v3/aggTrades?symbol=BTCUSDT&fromId=119")
	if !strings.HasPrefix(body, `[{"a":119,`) || !strings.Contains(body, `"M":true`) || strings.Count(body, `"a":`) != 2 {
		t.Fatalf("aggTrades: %s", body)
	}
	if code, _, _ := get(t, s.URL()+"/api/v3/aggTrades?symbol=BTCUSDT&limit=1001"); code != 400 {
		t.Errorf("limit 1001: %d", code)
	}
	if code, _, _ := get(t, s.URL()+"/api/v3/trades?symbol=ETHUSDT"); code != 400 {
		t.Errorf("unknown history: %d", code)
	}
}

func TestServerMountsWS(t *testing.T) {
	ws := NewWS(WSConfig{Routed: true, Futures: true})
	s := NewServer(Options{WS: ws})
	defer s.Close()
	c := dial(t, s.WSURL()+"/public/stream?streams=btcusdt@bookTicker")
	_ = c
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ws.Wait(ctx, func() bool { return ws.Subscribers("btcusdt@bookTicker") == 1 }); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := get(t, s.URL()+"/fapi/v1/exchangeInfo"); code != 500 {
		t.Errorf("no exchangeInfo loaded: %d", code)
	}
}

// Pausing an endpoint again while paused holds the new requests on the new
// pause; releasing the first still releases the requests it held (they
// used to hang until Close), and the second release frees the rest.
func TestRESTPauseTwice(t *testing.T) {
	s := recorded(t, Options{})
	first := s.Pause("exchangeInfo")
	done := make(chan int, 2)
	fetch := func() {
		resp, err := http.Get(s.URL() + "/api/v3/exchangeInfo")
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go fetch()
	if err := s.WaitRequests(ctx, "exchangeInfo", 1); err != nil {
		t.Fatal(err)
	}
	second := s.Pause("exchangeInfo")
	go fetch()
	if err := s.WaitRequests(ctx, "exchangeInfo", 2); err != nil {
		t.Fatal(err)
	}
	first()
	if code := <-done; code != 200 {
		t.Fatalf("request held by the first pause: %d", code)
	}
	select {
	case code := <-done:
		t.Fatalf("request held by the second pause answered %d", code)
	default:
	}
	first() // releasing twice is harmless
	second()
	if code := <-done; code != 200 {
		t.Fatalf("request held by the second pause: %d", code)
	}
}
