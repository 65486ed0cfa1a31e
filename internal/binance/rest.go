package binance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// ClientOptions configure a REST Client. Zero values take the defaults.
type ClientOptions struct {
	// BaseURL overrides the market's REST base (scheme://host[:port][/path];
	// the API path such as /api/v3/exchangeInfo is appended).
	BaseURL string
	// HTTPClient sends the requests (default: a client with Timeout).
	HTTPClient *http.Client
	// Timeout bounds each request when HTTPClient is nil (default 10 s).
	Timeout time.Duration
	// ExchangeInfoTTL is how long an exchangeInfo reply is reused (default
	// 10 min; negative disables the cache).
	ExchangeInfoTTL time.Duration
	// MaxRetries is how often a request is retried after a 429, a 5xx or a
	// network error (default 2; negative: never). 418 is never retried.
	MaxRetries int
	// APIKey, when set, is sent as X-MBX-APIKEY (futures /historicalTrades
	// is a MARKET_DATA endpoint that wants one).
	APIKey string
	// UserAgent overrides the User-Agent header.
	UserAgent string
	// Budget tracks request weight; share one per IP across clients of the
	// same market (default: a new budget with the market's default limit).
	Budget *Budget
	// OnReply, when set, is called with every 200 reply before it is
	// parsed: the request (endpoint and query, "aggTrades?fromId=5&
	// limit=1000&symbol=BTCUSDT"), the body and its receive time (ns). A
	// recording feed keeps the backfill replies this way (Feed.RecordReply).
	// It must not keep body past the call.
	OnReply func(request string, body []byte, recv int64)
}

// maxBody bounds a REST reply (spot exchangeInfo is tens of MB at most).
const maxBody = 256 << 20

// Client is a Binance REST client for one market. It is safe for concurrent
// use.
type Client struct {
	market  Market
	base    string
	http    *http.Client
	retries int
	ttl     time.Duration
	apiKey  string
	ua      string
	budget  *Budget
	onReply func(request string, body []byte, recv int64)

	mu       sync.Mutex
	info     *ExchangeInfo
	infoAt   time.Time
	inflight *infoCall
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
}

// NewClient returns a REST client for market m.
func NewClient(m Market, opts ClientOptions) (*Client, error) {
	eps, err := Endpoints{REST: opts.BaseURL}.Resolve(m)
	if err != nil {
		return nil, err
	}
	c := &Client{
		market:  m,
		base:    eps.REST,
		http:    opts.HTTPClient,
		retries: opts.MaxRetries,
		ttl:     opts.ExchangeInfoTTL,
		apiKey:  opts.APIKey,
		ua:      opts.UserAgent,
		budget:  opts.Budget,
		onReply: opts.OnReply,
		now:     time.Now,
		sleep:   restSleep,
	}
	if c.http == nil {
		timeout := opts.Timeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		c.http = &http.Client{Timeout: timeout}
	}
	if c.retries == 0 {
		c.retries = 2
	} else if c.retries < 0 {
		c.retries = 0
	}
	if c.ttl == 0 {
		c.ttl = 10 * time.Minute
	}
	if c.ua == "" {
		c.ua = "ims (+https://github.com/ims-dev/ims)"
	}
	if c.budget == nil {
		c.budget = NewBudget(m.Limits().RequestWeightPerMinute)
	}
	return c, nil
}

// Market is the client's market.
func (c *Client) Market() Market { return c.market }

// BaseURL is the resolved REST base URL.
func (c *Client) BaseURL() string { return c.base }

// Budget is the client's request-weight budget.
func (c *Client) Budget() *Budget { return c.budget }

// APIError is a Binance REST failure: an HTTP status other than 200, with
// Binance's {"code":..,"msg":..} body when it sent one.
type APIError struct {
	Method     string
	URL        string
	Status     int    // HTTP status
	Code       int    // Binance error code; 0 when the body had none
	Msg        string // Binance message, or the start of a non-JSON body
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	switch {
	case e.Code != 0:
		fmt.Fprintf(&b, ": Binance error %d: %s", e.Code, e.Msg)
	case e.Msg != "":
		// Not a Binance error body (a proxy's or CDN's page): its start.
		fmt.Fprintf(&b, ": %s", e.Msg)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Is matches ErrRateLimited for 429 and ErrBanned for 418.
func (e *APIError) Is(target error) bool {
	return (target == ErrRateLimited && e.Status == http.StatusTooManyRequests) ||
		(target == ErrBanned && e.Status == http.StatusTeapot)
}

// get performs a GET of endpoint (relative to the market's API prefix) with
// params, after reserving weight, and returns the 200 body and the time it
// arrived (ns; the receive time of what is parsed from it).
func (c *Client) get(ctx context.Context, endpoint string, params url.Values, weight int) ([]byte, int64, error) {
	req := request(endpoint, params)
	u := c.base + c.market.RESTPrefix() + "/" + req
	for attempt := 0; ; attempt++ {
		if err := c.budget.Wait(ctx, weight); err != nil {
			return nil, 0, fmt.Errorf("GET %s: %w", u, err)
		}
		body, retry, err := c.do(ctx, u)
		if err == nil {
			recv := c.now().UnixNano()
			if c.onReply != nil {
				c.onReply(req, body, recv)
			}
			return body, recv, nil
		}
		if !retry || attempt >= c.retries || ctx.Err() != nil {
			return nil, 0, err
		}
		// 429s wait in Budget.Wait (Retry-After); others back off briefly.
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests {
			if serr := c.sleep(ctx, time.Duration(250<<attempt)*time.Millisecond); serr != nil {
				return nil, 0, err
			}
		}
	}
}

// bodyStart returns the start of a reply that is not what was expected (an
// HTML page from a proxy or Cloudflare), on one line: whitespace runs
// become one space and the text is cut at a character boundary.
func bodyStart(body []byte) string {
	const limit = 200
	var b strings.Builder
	space := false
	for _, r := range strings.TrimSpace(string(body[:min(len(body), 4*limit)])) {
		if b.Len() >= limit {
			b.WriteString("...")
			break
		}
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case r == utf8.RuneError || !unicode.IsPrint(r):
			r = '?'
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// notJSON reports a 200 reply that is not JSON at all (an HTML page from
// a proxy or Cloudflare), or nil when it starts like JSON.
func notJSON(body []byte) error {
	i := skipWS(body, 0)
	if i < len(body) && (body[i] == '{' || body[i] == '[') {
		return nil
	}
	if i == len(body) {
		return errors.New("reply is empty, not JSON")
	}
	return fmt.Errorf("reply is not JSON: %q", bodyStart(body))
}

// url is the URL of endpoint with params, as get requests it.
func (c *Client) url(endpoint string, params url.Values) string {
	return c.base + c.market.RESTPrefix() + "/" + request(endpoint, params)
}

// request is endpoint with its query, relative to the market's API prefix
// ("aggTrades?fromId=5&limit=1000&symbol=BTCUSDT").
func request(endpoint string, params url.Values) string {
	if len(params) == 0 {
		return endpoint
	}
	return endpoint + "?" + params.Encode()
}

// do sends one request. retry reports whether the failure is worth
// retrying.
func (c *Client) do(ctx context.Context, u string) (body []byte, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, fmt.Errorf("GET %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if c.apiKey != "" {
		req.Header.Set("X-MBX-APIKEY", c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error repeats the method and URL this error already names.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, ctx.Err() == nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	c.budget.ObserveHeader(resp.Header)
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, ctx.Err() == nil, fmt.Errorf("GET %s: reading body: %w", u, err)
	}
	if len(body) > maxBody {
		return nil, false, fmt.Errorf("GET %s: body larger than %d bytes", u, maxBody)
	}
	if resp.StatusCode == http.StatusOK {
		return body, false, nil
	}
	ae := &APIError{Method: http.MethodGet, URL: u, Status: resp.StatusCode}
	var msg struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}
	if json.Unmarshal(body, &msg) == nil && (msg.Code != 0 || msg.Msg != "") {
		ae.Code, ae.Msg = msg.Code, msg.Msg
	} else if len(body) > 0 {
		ae.Msg = bodyStart(body)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		ae.RetryAfter = retryAfter(resp.Header, c.now(), time.Minute)
		c.budget.Backoff(ae.RetryAfter)
		return nil, true, ae
	case http.StatusTeapot:
		ae.RetryAfter = retryAfter(resp.Header, c.now(), 2*time.Minute)
		c.budget.Ban(ae.RetryAfter)
		return nil, false, ae
	}
	return nil, resp.StatusCode >= 500, ae
}
