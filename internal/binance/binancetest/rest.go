package binancetest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ims-dev/ims/internal/market"
)

// API is a Binance REST API family, named by its path prefix. Spot and the
// spot testnet share APISpot, and so on.
type API string

// The three REST APIs.
const (
	APISpot  API = "/api/v3"
	APIUSDM  API = "/fapi/v1"
	APICoinM API = "/dapi/v1"
)

func (a API) futures() bool { return a == APIUSDM || a == APICoinM }

// APIFor maps a market name (spot, spot-testnet, usdm, usdm-testnet,
// coinm, coinm-testnet) to its API.
func APIFor(marketName string) (API, bool) {
	switch strings.TrimSuffix(strings.ToLower(marketName), "-testnet") {
	case "spot":
		return APISpot, true
	case "usdm":
		return APIUSDM, true
	case "coinm":
		return APICoinM, true
	}
	return "", false
}

func splitAPI(p string) (API, string, bool) {
	for _, a := range []API{APISpot, APIUSDM, APICoinM} {
		if strings.HasPrefix(p, string(a)+"/") {
			return a, p[len(a)+1:], true
		}
	}
	return "", "", false
}

// Fault is a canned reply for the next matching requests.
type Fault struct {
	// Endpoint is the path after the API prefix ("depth", "exchangeInfo");
	// "" matches every endpoint. API "" matches every API.
	API      API
	Endpoint string
	// Status is the HTTP status (429, 418, 500, 400...).
	Status int
	// RetryAfter is sent as Retry-After in whole seconds when > 0.
	RetryAfter time.Duration
	// Code and Msg make the Binance error body {"code":..,"msg":..};
	// Body, when set, is sent verbatim instead.
	Code int
	Msg  string
	Body string
	// Times is how many requests the fault answers (default 1).
	Times int
}

// RESTRequest is one REST request the server received.
type RESTRequest struct {
	API      API
	Endpoint string
	Query    url.Values
	Header   http.Header
	Status   int
	Weight   int
	At       time.Time
}

type bookKey struct {
	api    API
	symbol string
}

// book is an order book as served: levels as text, best first.
type book struct {
	lastUpdateID int64
	eventTime    int64 // ms; futures only
	txTime       int64 // ms; futures only
	bids, asks   [][2]string
}

type restState struct {
	exchangeInfo map[API][]byte
	books        map[bookKey]*book
	trades       map[bookKey][]market.Trade
	aggTrades    map[bookKey][]market.AggTrade
	faults       []Fault
	pauses       map[string]chan struct{}
	log          []RESTRequest
	changed      chan struct{}

	winStart     time.Time
	used         int
	backoffUntil time.Time
	bannedUntil  time.Time
}

func (r *restState) init() {
	r.exchangeInfo = make(map[API][]byte)
	r.books = make(map[bookKey]*book)
	r.trades = make(map[bookKey][]market.Trade)
	r.aggTrades = make(map[bookKey][]market.AggTrade)
	r.pauses = make(map[string]chan struct{})
	r.changed = make(chan struct{})
}

func (r *restState) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *restState) releaseAll() {
	for k, ch := range r.pauses {
		close(ch)
		delete(r.pauses, k)
	}
}

// SetExchangeInfo makes api's /exchangeInfo answer body.
func (s *Server) SetExchangeInfo(api API, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rest.exchangeInfo[api] = slices.Clone(body)
}

// SetBook makes api's /depth answer snap for symbol (upper case). Levels are
// served best first as given; times are sent on futures APIs.
func (s *Server) SetBook(api API, symbol string, snap market.DepthSnapshot) {
	b := &book{lastUpdateID: snap.LastUpdateID, eventTime: snap.EventTime / 1000, txTime: snap.TransactionTime / 1000}
	for _, l := range snap.Bids {
		b.bids = append(b.bids, [2]string{l.Price.String(), l.Quantity.String()})
	}
	for _, l := range snap.Asks {
		b.asks = append(b.asks, [2]string{l.Price.String(), l.Quantity.String()})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rest.books[bookKey{api, strings.ToUpper(symbol)}] = b
}

// SetTrades sets symbol's trade history on api (served by /trades and
// /historicalTrades); it is sorted by id.
func (s *Server) SetTrades(api API, symbol string, trades []market.Trade) {
	ts := slices.Clone(trades)
	sort.Slice(ts, func(i, j int) bool { return ts[i].TradeID < ts[j].TradeID })
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rest.trades[bookKey{api, strings.ToUpper(symbol)}] = ts
}

// SetAggTrades sets symbol's aggregate trade history on api (/aggTrades);
// it is sorted by aggregate id.
func (s *Server) SetAggTrades(api API, symbol string, trades []market.AggTrade) {
	ts := slices.Clone(trades)
	sort.Slice(ts, func(i, j int) bool { return ts[i].AggTradeID < ts[j].AggTradeID })
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rest.aggTrades[bookKey{api, strings.ToUpper(symbol)}] = ts
}

// Inject queues canned replies; they answer matching requests in order
// before any normal handling (weight is still counted).
func (s *Server) Inject(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rest.faults = append(s.rest.faults, f...)
}

// Pause holds every request to endpoint (any API) until release is called
// (or the server closes). Requests are logged before they block, so a test
// can wait for them with WaitRequests.
func (s *Server) Pause(endpoint string) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.rest.pauses[endpoint] = ch
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		// A later Pause of the same endpoint replaced ch in the map; the
		// requests held by ch are still released here. Every close
		// happens under mu, so the check cannot race.
		select {
		case <-ch:
		default:
			close(ch)
		}
		if cur, ok := s.rest.pauses[endpoint]; ok && cur == ch {
			delete(s.rest.pauses, endpoint)
		}
	}
}

// ResetWeight clears the used weight, back-off and ban.
func (s *Server) ResetWeight() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rest.used = 0
	s.rest.backoffUntil, s.rest.bannedUntil = time.Time{}, time.Time{}
}

// UsedWeight is the weight counted in the current window.
func (s *Server) UsedWeight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollLocked(s.opts.Now())
	return s.rest.used
}

// Requests returns every REST request received, in order.
func (s *Server) Requests() []RESTRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rest.log)
}

// Count is the number of requests to endpoint on api ("" matches any API).
func (s *Server) Count(api API, endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.rest.log {
		if (api == "" || r.API == api) && r.Endpoint == endpoint {
			n++
		}
	}
	return n
}

// WaitRequests blocks until at least n requests to endpoint (any API) have
// arrived.
func (s *Server) WaitRequests(ctx context.Context, endpoint string, n int) error {
	for {
		s.mu.Lock()
		ch := s.rest.changed
		got := 0
		for _, r := range s.rest.log {
			if r.Endpoint == endpoint {
				got++
			}
		}
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fake REST: waiting for %d %s requests (have %d): %w", n, endpoint, got, ctx.Err())
		}
	}
}

// RecordedDepthSymbols are the symbols of the recorded REST depth
// snapshots, in line order (see testdata/README.md: the request URLs).
var RecordedDepthSymbols = map[string][]string{
	"spot":  {"NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"},
	"usdm":  {"SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"},
	"coinm": {"BCHUSD_PERP", "BTCUSD_211231"},
}

// LoadRecorded serves the recorded samples in dir (internal/binance/testdata
// layout): <family>-exchangeInfo.json[.gz] and the books of
// <family>-depthSnapshot.rest.jsonl.
func (s *Server) LoadRecorded(dir string) error {
	for _, fam := range []string{"spot", "usdm", "coinm"} {
		api, _ := APIFor(fam)
		body, err := readMaybeGzip(filepath.Join(dir, fam+"-exchangeInfo.json"))
		if err != nil {
			return err
		}
		s.SetExchangeInfo(api, body)
		raw, err := os.ReadFile(filepath.Join(dir, fam+"-depthSnapshot.rest.jsonl"))
		if err != nil {
			return fmt.Errorf("loading recorded books: %w", err)
		}
		lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
		syms := RecordedDepthSymbols[fam]
		if len(lines) != len(syms) {
			return fmt.Errorf("loading recorded books: %s has %d lines, want %d", fam, len(lines), len(syms))
		}
		for i, line := range lines {
			b, err := decodeBook(line)
			if err != nil {
				return fmt.Errorf("loading recorded book %s %s: %w", fam, syms[i], err)
			}
			s.mu.Lock()
			s.rest.books[bookKey{api, syms[i]}] = b
			s.mu.Unlock()
		}
	}
	return nil
}

// readMaybeGzip reads path, or path+".gz" decompressed.
func readMaybeGzip(path string) ([]byte, error) {
	body, err := os.ReadFile(path)
	if err == nil {
		return body, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	f, err := os.Open(path + ".gz")
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("loading %s.gz: %w", path, err)
	}
	body, err = io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("loading %s.gz: %w", path, err)
	}
	return body, nil
}

// ReadSample reads a testdata file, transparently gunzipping a ".gz"
// sibling; for tests that need the recorded bodies themselves.
func ReadSample(path string) ([]byte, error) { return readMaybeGzip(path) }

func decodeBook(line []byte) (*book, error) {
	var raw struct {
		LastUpdateID int64       `json:"lastUpdateId"`
		E            int64       `json:"E"`
		T            int64       `json:"T"`
		Bids         [][2]string `json:"bids"`
		Asks         [][2]string `json:"asks"`
	}
	if err := json.Unmarshal(line, &raw); err != nil {
		return nil, err
	}
	return &book{lastUpdateID: raw.LastUpdateID, eventTime: raw.E, txTime: raw.T, bids: raw.Bids, asks: raw.Asks}, nil
}

// weightOf is Binance's request weight for an endpoint (the fake's own
// table; docs/binance.md §4 and the REST docs).
func weightOf(api API, endpoint string, limit int) int {
	fut := api.futures()
	switch endpoint {
	case "exchangeInfo":
		if fut {
			return 1
		}
		return 20
	case "depth":
		if fut {
			switch {
			case limit <= 50:
				return 2
			case limit <= 100:
				return 5
			case limit <= 500:
				return 10
			}
			return 20
		}
		switch {
		case limit <= 100:
			return 5
		case limit <= 500:
			return 25
		case limit <= 1000:
			return 50
		}
		return 250
	case "trades":
		if fut {
			return 5
		}
		return 25
	case "historicalTrades":
		if fut {
			return 20
		}
		return 25
	case "aggTrades":
		if fut {
			return 20
		}
		return 4
	}
	return 1
}

func (s *Server) rollLocked(now time.Time) {
	start := now.Truncate(s.opts.WeightWindow)
	if !start.Equal(s.rest.winStart) {
		s.rest.winStart = start
		s.rest.used = 0
	}
}

func writeJSONError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}{code, msg})
	_, _ = w.Write(b)
}

func seconds(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request, api API, endpoint string) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	depthLimit := limit
	if endpoint == "depth" && depthLimit == 0 {
		depthLimit = 100
		if api.futures() {
			depthLimit = 500
		}
	}
	weight := weightOf(api, endpoint, depthLimit)

	s.mu.Lock()
	now := s.opts.Now()
	s.rollLocked(now)
	req := RESTRequest{API: api, Endpoint: endpoint, Query: q, Header: r.Header.Clone(), Weight: weight, At: now}
	idx := len(s.rest.log)
	s.rest.log = append(s.rest.log, req)
	s.rest.notify()
	gate := s.rest.pauses[endpoint]
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}

	status := s.answer(w, r, api, endpoint, q, limit, depthLimit, weight)
	s.mu.Lock()
	s.rest.log[idx].Status = status
	s.rest.notify()
	s.mu.Unlock()
}

// answer writes the reply and returns its status.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, api API, endpoint string, q url.Values, limit, depthLimit, weight int) int {
	s.mu.Lock()
	now := s.opts.Now()
	s.rollLocked(now)
	// Ban and back-off first, as Binance does: ignoring a 429 earns a 418.
	if now.Before(s.rest.bannedUntil) {
		wait := s.rest.bannedUntil.Sub(now)
		s.mu.Unlock()
		w.Header().Set("Retry-After", seconds(wait))
		writeJSONError(w, http.StatusTeapot, -1003, "Way too much request weight used; IP banned until later.")
		return http.StatusTeapot
	}
	if now.Before(s.rest.backoffUntil) {
		s.rest.bannedUntil = now.Add(s.opts.BanDuration)
		s.mu.Unlock()
		w.Header().Set("Retry-After", seconds(s.opts.BanDuration))
		writeJSONError(w, http.StatusTeapot, -1003, "Way too much request weight used; IP banned after ignoring 429.")
		return http.StatusTeapot
	}
	s.rest.used += weight
	used := s.rest.used
	w.Header().Set("X-MBX-USED-WEIGHT-1M", strconv.Itoa(used))
	// Canned faults.
	for i, f := range s.rest.faults {
		if (f.API == "" || f.API == api) && (f.Endpoint == "" || f.Endpoint == endpoint) {
			if f.Times <= 1 {
				s.rest.faults = slices.Delete(s.rest.faults, i, i+1)
			} else {
				s.rest.faults[i].Times--
			}
			s.mu.Unlock()
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", seconds(f.RetryAfter))
			}
			if f.Body != "" {
				w.WriteHeader(f.Status)
				_, _ = io.WriteString(w, f.Body)
			} else {
				writeJSONError(w, f.Status, f.Code, f.Msg)
			}
			return f.Status
		}
	}
	if s.opts.WeightLimit > 0 && used > s.opts.WeightLimit {
		wait := s.rest.winStart.Add(s.opts.WeightWindow).Sub(now)
		if wait < time.Second {
			wait = time.Second
		}
		s.rest.backoffUntil = now.Add(wait)
		s.mu.Unlock()
		w.Header().Set("Retry-After", seconds(wait))
		writeJSONError(w, http.StatusTooManyRequests, -1003, "Too much request weight used; current limit is "+strconv.Itoa(s.opts.WeightLimit)+" request weight per minute.")
		return http.StatusTooManyRequests
	}

	var body []byte
	status := http.StatusOK
	symbol := strings.ToUpper(q.Get("symbol"))
	errCode, errMsg := 0, ""
	switch endpoint {
	case "exchangeInfo":
		body = s.rest.exchangeInfo[api]
		if body == nil {
			status, errCode, errMsg = http.StatusInternalServerError, -1000, "fake: no exchangeInfo loaded for "+string(api)
		}
	case "depth":
		switch {
		case symbol == "":
			status, errCode, errMsg = http.StatusBadRequest, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
		case !validDepthLimit(api, depthLimit):
			status, errCode, errMsg = http.StatusBadRequest, -1130, "Data sent for parameter 'limit' is not valid."
		default:
			b := s.rest.books[bookKey{api, symbol}]
			if b == nil {
				status, errCode, errMsg = http.StatusBadRequest, -1121, "Invalid symbol."
			} else {
				body = renderBook(api, b, depthLimit)
			}
		}
	case "trades", "historicalTrades", "aggTrades":
		body, status, errCode, errMsg = s.renderTrades(api, endpoint, symbol, q, limit)
	default:
		status, errCode, errMsg = http.StatusNotFound, -1000, "fake: unknown endpoint "+endpoint
	}
	s.mu.Unlock()
	if status != http.StatusOK {
		writeJSONError(w, status, errCode, errMsg)
		return status
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
	return status
}

func validDepthLimit(api API, limit int) bool {
	if api.futures() {
		return slices.Contains([]int{5, 10, 20, 50, 100, 500, 1000}, limit)
	}
	return limit >= 1 && limit <= 5000
}

func renderBook(api API, b *book, limit int) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `{"lastUpdateId":%d`, b.lastUpdateID)
	if api.futures() {
		fmt.Fprintf(&buf, `,"E":%d,"T":%d`, b.eventTime, b.txTime)
	}
	side := func(name string, levels [][2]string) {
		fmt.Fprintf(&buf, `,%q:[`, name)
		for i, l := range levels {
			if i == limit {
				break
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `[%q,%q]`, l[0], l[1])
		}
		buf.WriteByte(']')
	}
	side("bids", b.bids)
	side("asks", b.asks)
	buf.WriteByte('}')
	return buf.Bytes()
}

// renderTrades answers the trade endpoints; mu held.
func (s *Server) renderTrades(api API, endpoint, symbol string, q url.Values, limit int) ([]byte, int, int, string) {
	if symbol == "" {
		return nil, http.StatusBadRequest, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
	}
	if limit == 0 {
		limit = 500
	}
	if limit < 1 || limit > 1000 {
		return nil, http.StatusBadRequest, -1130, "Data sent for parameter 'limit' is not valid."
	}
	fromID, hasFrom := int64(0), false
	if v := q.Get("fromId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, http.StatusBadRequest, -1100, "Illegal characters found in parameter 'fromId'."
		}
		fromID, hasFrom = n, endpoint != "trades"
	}
	key := bookKey{api, symbol}
	var buf bytes.Buffer
	buf.WriteByte('[')
	if endpoint == "aggTrades" {
		ts, ok := s.rest.aggTrades[key]
		if !ok {
			return nil, http.StatusBadRequest, -1121, "Invalid symbol."
		}
		lo, hi := window(len(ts), limit, hasFrom, func(i int) bool { return ts[i].AggTradeID >= fromID })
		for i, t := range ts[lo:hi] {
			if i > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"a":%d,"p":%q,"q":%q,"f":%d,"l":%d,"T":%d,"m":%t`,
				t.AggTradeID, t.Price.String(), t.Quantity.String(), t.FirstTradeID, t.LastTradeID, t.TradeTime/1000, t.BuyerIsMaker)
			if !api.futures() {
				buf.WriteString(`,"M":true`)
			}
			buf.WriteByte('}')
		}
	} else {
		ts, ok := s.rest.trades[key]
		if !ok {
			return nil, http.StatusBadRequest, -1121, "Invalid symbol."
		}
		lo, hi := window(len(ts), limit, hasFrom, func(i int) bool { return ts[i].TradeID >= fromID })
		for i, t := range ts[lo:hi] {
			if i > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"id":%d,"price":%q,"qty":%q,"time":%d,"isBuyerMaker":%t`,
				t.TradeID, t.Price.String(), t.Quantity.String(), t.TradeTime/1000, t.BuyerIsMaker)
			if !api.futures() {
				buf.WriteString(`,"isBestMatch":true`)
			}
			buf.WriteByte('}')
		}
	}
	buf.WriteByte(']')
	return buf.Bytes(), http.StatusOK, 0, ""
}

// window picks [lo, hi) of a sorted history: from the first id >= fromId
// when hasFrom, else the most recent limit entries.
func window(n, limit int, hasFrom bool, atOrAfter func(int) bool) (int, int) {
	if !hasFrom {
		lo := max(n-limit, 0)
		return lo, n
	}
	lo := sort.Search(n, atOrAfter)
	return lo, min(lo+limit, n)
}
