package binancetest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func startWS(t *testing.T, cfg WSConfig) (*WS, string) {
	t.Helper()
	ws := NewWS(cfg)
	srv := httptest.NewServer(ws)
	t.Cleanup(func() { ws.Close(); srv.Close() })
	return ws, "ws" + strings.TrimPrefix(srv.URL, "http")
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", url, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func readText(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(msg)
}

func TestCombinedAndRawDelivery(t *testing.T) {
	ws, url := startWS(t, WSConfig{})
	comb := dial(t, url+"/stream?streams=btcusdt@trade/ethusdt@trade")
	raw := dial(t, url+"/ws/btcusdt@trade")
	ctx := ctxT(t)
	if err := ws.Wait(ctx, func() bool { return ws.Subscribers("btcusdt@trade") == 2 }); err != nil {
		t.Fatal(err)
	}
	if n := ws.Push("btcusdt@trade", []byte(`{"e":"trade","t":1}`)); n != 2 {
		t.Fatalf("pushed to %d conns", n)
	}
	if got := readText(t, comb); got != `{"stream":"btcusdt@trade","data":{"e":"trade","t":1}}` {
		t.Fatalf("combined frame %s", got)
	}
	if got := readText(t, raw); got != `{"e":"trade","t":1}` {
		t.Fatalf("raw frame %s", got)
	}
}

func TestControlProtocol(t *testing.T) {
	ws, url := startWS(t, WSConfig{MsgLimit: -1})
	c := dial(t, url+"/ws")
	cases := []struct{ req, want string }{
		{`{"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@depth"],"id":1}`, `{"result":null,"id":1}`},
		{`{"method":"UNSUBSCRIBE","params":["btcusdt@depth"],"id":312}`, `{"result":null,"id":312}`},
		{`{"method":"LIST_SUBSCRIPTIONS","id":3}`, `{"result":["btcusdt@aggTrade"],"id":3}`},
		{`{"method":"SET_PROPERTY","params":["combined",true],"id":5}`, `{"result":null,"id":5}`},
		{`{"method":"GET_PROPERTY","params":["combined"],"id":2}`, `{"result":true,"id":2}`},
		{`{"method":"GET_PROPERTY","params":["color"],"id":7}`, `{"code":0,"msg":"Unknown property","id":7}`},
		{`{"method":"SET_PROPERTY","params":["combined","yes"],"id":8}`, `{"code":1,"msg":"Invalid value type: expected Boolean"}`},
		{`{"method":"SET_PROPERTY","params":[5,true],"id":9}`, `{"code":2,"msg":"Invalid request: property name must be a string"}`},
		{`{"method":"SUBSCRIBE","params":["x@trade"],"id":-1}`, `{"code":2,"msg":"Invalid request: request ID must be an unsigned integer"}`},
		{`{"method":"PUBLISH","params":[],"id":10}`, "{\"code\":2,\"msg\":\"Invalid request: unknown variant `PUBLISH`, expected one of SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY at line 1 column 28\"}"},
		{`{"method":"GET_PROPERTY","params":["combined","x"],"id":11}`, `{"code":2,"msg":"Invalid request: too many parameters"}`},
		{`{"params":[],"id":12}`, `{"code":2,"msg":"Invalid request: missing field method at line 1 column 21"}`},
		{`{"method":`, `{"code":3,"msg":"Invalid JSON: expected value at line 1 column 10"}`},
	}
	for _, tc := range cases {
		if err := c.WriteMessage(websocket.TextMessage, []byte(tc.req)); err != nil {
			t.Fatal(err)
		}
		if got := readText(t, c); got != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.req, got, tc.want)
		}
	}
	if n := len(ws.Requests()); n != 10 {
		t.Errorf("recorded %d requests, want 10 (unparsable ones and bad ids are not recorded)", n)
	}
	// Acks can be withheld or refused.
	ws.SetAckMode(AckError)
	_ = c.WriteMessage(websocket.TextMessage, []byte(`{"method":"SUBSCRIBE","params":["a@trade"],"id":20}`))
	if got := readText(t, c); !strings.HasPrefix(got, `{"code":2,"msg":"Invalid request:`) || !strings.HasSuffix(got, `"id":20}`) {
		t.Errorf("error ack %s", got)
	}
}

func TestMessageRateLimitCloses1008(t *testing.T) {
	ws, url := startWS(t, WSConfig{MsgLimit: 5, MsgWindow: time.Hour})
	c := dial(t, url+"/ws")
	for i := range 6 {
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"method":"LIST_SUBSCRIPTIONS","id":1}`))
		if i < 5 {
			readText(t, c)
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || ce.Text != "Too many requests" {
		t.Fatalf("read after the 6th message: %v, want close 1008 Too many requests", err)
	}
	_ = ws.Wait(ctxT(t), func() bool { return len(ws.Closes()) == 1 })
	if cl := ws.Closes(); len(cl) != 1 || cl[0].Code != 1008 {
		t.Fatalf("closes %+v", cl)
	}
}

func TestRoutedWrongRouteIsSilent(t *testing.T) {
	ws, url := startWS(t, WSConfig{Futures: true, Routed: true})
	pub := dial(t, url+"/public/stream?streams=btcusdt@aggTrade/btcusdt@bookTicker")
	mkt := dial(t, url+"/market/stream?streams=btcusdt@aggTrade")
	unrouted := dial(t, url+"/stream?streams=btcusdt@aggTrade")
	ctx := ctxT(t)
	if err := ws.Wait(ctx, func() bool { return ws.Subscribers("btcusdt@aggTrade") == 3 }); err != nil {
		t.Fatal(err)
	}
	if n := ws.Push("btcusdt@aggTrade", []byte(`{"a":1}`)); n != 1 {
		t.Fatalf("aggTrade reached %d conns, want only /market", n)
	}
	if got := readText(t, mkt); !strings.Contains(got, `"a":1`) {
		t.Fatalf("market got %s", got)
	}
	ws.Push("btcusdt@bookTicker", []byte(`{"u":9}`))
	if got := readText(t, pub); !strings.Contains(got, `"u":9`) {
		t.Fatalf("public got %s (an aggTrade on /public must be silent)", got)
	}
	_ = unrouted.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, msg, err := unrouted.ReadMessage(); err == nil {
		t.Fatalf("unrouted connection received %s", msg)
	}
	if PublicChannel("btcusdt@markPrice@1s") || !PublicChannel("btcusdt@depth20@100ms") {
		t.Fatal("route table")
	}
}

func TestPingExpectsPong(t *testing.T) {
	ws, url := startWS(t, WSConfig{PingInterval: 20 * time.Millisecond, PongTimeout: 100 * time.Millisecond, MsgLimit: -1})
	good := dial(t, url+"/ws")
	bad := dial(t, url+"/ws")
	pings := make(chan string, 16)
	good.SetPingHandler(func(d string) error {
		pings <- d
		return good.WriteControl(websocket.PongMessage, []byte(d), time.Now().Add(time.Second))
	})
	bad.SetPingHandler(func(string) error { return nil }) // never answers
	go func() {
		for {
			if _, _, err := good.ReadMessage(); err != nil {
				return
			}
		}
	}()
	_ = bad.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := bad.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || ce.Text != "pong timeout" {
		t.Fatalf("silent client: %v, want close for pong timeout", err)
	}
	for range 3 {
		<-pings
	}
	if err := ws.Wait(ctxT(t), func() bool { return len(ws.Closes()) == 1 }); err != nil {
		t.Fatal(err)
	}
	if n := len(ws.Conns()); n != 1 {
		t.Fatalf("%d conns open, want the answering one", n)
	}
}

func TestHandshakeRejection(t *testing.T) {
	ws, url := startWS(t, WSConfig{})
	ws.RejectHandshakes(Handshake{Status: 429, RetryAfter: 2 * time.Second}, Handshake{Status: 418})
	_, resp, err := websocket.DefaultDialer.Dial(url+"/ws", nil)
	if err == nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("first: err %v resp %+v", err, resp)
	}
	_, resp, err = websocket.DefaultDialer.Dial(url+"/ws", nil)
	if err == nil || resp.StatusCode != http.StatusTeapot {
		t.Fatalf("second: err %v", err)
	}
	dial(t, url+"/ws")
	// The client's handshake completes before the server's handler counts the
	// connection, so wait for the count rather than read it at once.
	if err := ws.Wait(ctxT(t), func() bool { return ws.Connects() == 1 }); err != nil {
		t.Fatalf("attempts %d connects %d: %v", ws.Attempts(), ws.Connects(), err)
	}
	if ws.Attempts() != 3 {
		t.Fatalf("attempts %d connects %d", ws.Attempts(), ws.Connects())
	}
}

func TestLifetimeAndShutdown(t *testing.T) {
	ws, url := startWS(t, WSConfig{Lifetime: 50 * time.Millisecond})
	c := dial(t, url+"/stream?streams=btcusdt@trade")
	ctx := ctxT(t)
	_ = ws.Wait(ctx, func() bool { return len(ws.Conns()) == 1 })
	ws.Shutdown()
	if got := readText(t, c); !strings.HasPrefix(got, `{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":`) {
		t.Fatalf("shutdown frame %s", got)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("after lifetime: %v", err)
	}
}

func TestSourceRewritesIDs(t *testing.T) {
	samples, err := LoadSamples(filepath.Join("..", "testdata", "usdm-aggTrade.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	p := Payloads(samples, "ctkusdt@aggTrade")
	if len(p) < 2 {
		t.Fatalf("%d ctkusdt samples", len(p))
	}
	src := NewSource(p, SchemeFor("ctkusdt@aggTrade", true))
	var prevA, prevL, prevE int64
	for i := range 3 * len(p) {
		if i == 5 {
			src.Skip(3)
		}
		f := src.Next()
		var ev struct{ E, A, F, L int64 }
		ev.E, _ = intField(f, "E")
		ev.A, _ = intField(f, "a")
		ev.F, _ = intField(f, "f")
		ev.L, _ = intField(f, "l")
		if i > 0 {
			want := prevA + 1
			if i == 5 {
				want += 3
			}
			if ev.A != want || ev.E <= prevE || ev.F <= prevL || ev.L < ev.F {
				t.Fatalf("frame %d: %s after a=%d l=%d E=%d", i, f, prevA, prevL, prevE)
			}
		}
		prevA, prevL, prevE = ev.A, ev.L, ev.E
	}
	// Futures depth chains pu to the previous u; a skip breaks the chain.
	fd := NewSource([][]byte{[]byte(`{"e":"depthUpdate","E":1,"U":100,"u":103,"pu":90,"b":[],"a":[]}`)}, IDsFuturesDepth)
	var prevU int64
	for i := range 4 {
		if i == 3 {
			fd.Skip(1)
		}
		f := fd.Next()
		pu, _ := intField(f, "pu")
		u, _ := intField(f, "u")
		if i > 0 && (pu == prevU) == (i == 3) {
			t.Fatalf("frame %d: %s after u=%d", i, f, prevU)
		}
		prevU = u
	}
}
