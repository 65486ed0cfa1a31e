// Package binancetest is a fake Binance for tests: REST (exchangeInfo, depth,
// trades, weights, 429/418) and websocket streams, on one local address, so
// every ims test runs without the internet. It deliberately does not import
// package binance: the fake keeps its own copy of Binance's rules (paths,
// weights, routes), so tests check the client against an independent model,
// and package binance's own tests can use it without an import cycle.
package binancetest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. Zero values take the defaults.
type Options struct {
	// WS, when set, serves the websocket paths (/ws, /stream, and the
	// routed /public, /market, /private) on the same address.
	WS *WS
	// WeightLimit is the request weight allowed per WeightWindow; a request
	// that goes over is answered 429 with Retry-After, and a request during
	// that back-off 418 (as Binance bans IPs that ignore 429s). 0 disables
	// the check (the used weight is still reported).
	WeightLimit int
	// WeightWindow is the weight accounting window (default 1 minute).
	WeightWindow time.Duration
	// BanDuration is the Retry-After of a 418 (default 2 minutes).
	BanDuration time.Duration
	// Now is the clock for weight windows, back-offs and bans (default
	// time.Now); tests share a fake clock with the client under test.
	Now func() time.Time
}

// Server is a fake Binance exchange on a local httptest server. It answers
// the REST API of all three families at once (/api/v3, /fapi/v1, /dapi/v1);
// every market of a family (e.g. spot and spot-testnet) shares its data.
type Server struct {
	srv  *httptest.Server
	opts Options

	mu     sync.Mutex
	ws     http.Handler
	extra  *http.ServeMux
	rest   restState
	closed bool
}

// NewServer starts a fake exchange. Close it when done.
func NewServer(opts Options) *Server {
	if opts.WeightWindow <= 0 {
		opts.WeightWindow = time.Minute
	}
	if opts.BanDuration <= 0 {
		opts.BanDuration = 2 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, extra: http.NewServeMux()}
	s.rest.init()
	if opts.WS != nil {
		s.ws = opts.WS
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the REST base URL, e.g. http://127.0.0.1:41234 (pass it as
// --rest-url).
func (s *Server) URL() string { return s.srv.URL }

// WSURL is the websocket base URL, e.g. ws://127.0.0.1:41234 (pass it as
// --ws-url).
func (s *Server) WSURL() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// HandleWS serves the websocket paths with h (normally a *WS).
func (s *Server) HandleWS(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ws = h
}

// Handle adds a route for paths the fake does not serve itself.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.extra.Handle(pattern, h)
}

// Close stops the server (and the websocket side when it is a *WS).
func (s *Server) Close() {
	s.mu.Lock()
	ws := s.ws
	s.closed = true
	s.rest.releaseAll()
	s.mu.Unlock()
	if w, ok := ws.(*WS); ok {
		w.Close()
	}
	s.srv.Close()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if api, endpoint, ok := splitAPI(p); ok {
		s.serveREST(w, r, api, endpoint)
		return
	}
	if isWSPath(p) {
		s.mu.Lock()
		ws := s.ws
		s.mu.Unlock()
		if ws != nil {
			ws.ServeHTTP(w, r)
			return
		}
	}
	s.extra.ServeHTTP(w, r)
}

func isWSPath(p string) bool {
	for _, r := range []string{"/public", "/market", "/private"} {
		if strings.HasPrefix(p, r+"/") {
			p = p[len(r):]
			break
		}
	}
	return p == "/ws" || p == "/stream" || strings.HasPrefix(p, "/ws/")
}
