package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/binance/binancetest"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/record"
)

// Raw payloads the fake exchange streams (from the recorded samples).
const (
	wSpotTrade = `{"e":"trade","E":1554076800945,"s":"BTCUSDT","t":40756030,"p":"0.00426990","q":"33.82000000","T":1554076800940,"m":false,"M":true}`
	wEthTrade  = `{"e":"trade","E":1554076800945,"s":"ETHUSDT","t":90756030,"p":"2034.5","q":"0.125","T":1554076800940,"m":true,"M":true}`
	wSpotKline = `{"e":"kline","E":1672515782136,"s":"BTCUSDT","k":{"t":1672515780000,"T":1672515839999,"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}`
	wSpotDepth = `{"e":"depthUpdate","E":1633998512068,"s":"BTCUSDT","U":499869750,"u":499869752,"b":[["0.35130000","6195.00000000"]],"a":[]}`

	watchTestTimeout = 60 * time.Second
)

// wSpotInfo is three symbols of the recorded spot exchangeInfo
// (testdata/spot-exchangeInfo.json.gz, 2021) with their price and lot
// filters: the full 1.8 MB reply makes every test slow under -race.
const wSpotInfo = `{"timezone":"UTC","serverTime":1633998511098,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":1200},{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50},{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":160000},{"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":6100}],"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","baseAssetPrecision":8,"quoteAsset":"USDT","quoteAssetPrecision":8,"filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01000000","maxPrice":"1000000.00000000","tickSize":"0.01000000"},{"filterType":"LOT_SIZE","minQty":"0.00001000","maxQty":"9000.00000000","stepSize":"0.00001000"}]},{"symbol":"ETHUSDT","status":"TRADING","baseAsset":"ETH","baseAssetPrecision":8,"quoteAsset":"USDT","quoteAssetPrecision":8,"filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01000000","maxPrice":"1000000.00000000","tickSize":"0.01000000"},{"filterType":"LOT_SIZE","minQty":"0.00010000","maxQty":"9000.00000000","stepSize":"0.00010000"}]},{"symbol":"BTCUSDS","status":"BREAK","baseAsset":"BTC","baseAssetPrecision":8,"quoteAsset":"USDS","quoteAssetPrecision":8,"filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01000000","maxPrice":"1000000.00000000","tickSize":"0.01000000"},{"filterType":"LOT_SIZE","minQty":"0.00000100","maxQty":"9000.00000000","stepSize":"0.00000100"}]}]}`

// watchExchange is a fake Binance spot (REST with wSpotInfo, and
// websocket) on one address.
func watchExchange(t *testing.T) (*binancetest.Server, *binancetest.WS) {
	t.Helper()
	ws := binancetest.NewWS(binancetest.WSConfig{})
	srv := binancetest.NewServer(binancetest.Options{WS: ws})
	t.Cleanup(srv.Close)
	srv.SetExchangeInfo(binancetest.APISpot, []byte(wSpotInfo))
	return srv, ws
}

// watchRun is an ims command running in the background.
type watchRun struct {
	cancel      context.CancelFunc
	done        chan struct{}
	code        int
	out, errOut bytes.Buffer
}

// startCLI runs ims with args in the background; wait collects it.
func startCLI(t *testing.T, stdin []byte, args ...string) *watchRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &watchRun{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.code = Run(ctx, IO{In: bytes.NewReader(stdin), Out: &r.out, ErrOut: &r.errOut}, BuildInfo{Version: "test"}, args)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// wait returns the exit status once the command ends.
func (r *watchRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.done:
		return r.code
	case <-time.After(watchTestTimeout):
		r.cancel()
		<-r.done
		t.Fatalf("command did not end; stderr:\n%s", r.errOut.String())
		return -1
	}
}

// waitConns waits until the fake has n open connections.
func waitConns(t *testing.T, ws *binancetest.WS, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), watchTestTimeout)
	defer cancel()
	if err := ws.Wait(ctx, func() bool { return len(ws.Conns()) == n }); err != nil {
		t.Fatal(err)
	}
}

// jsonLines splits JSON Lines output into objects (fields kept raw).
func jsonLines(t *testing.T, out string) []map[string]json.RawMessage {
	t.Helper()
	var objs []map[string]json.RawMessage
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var o map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", len(objs)+1, err, sc.Text())
		}
		objs = append(objs, o)
	}
	return objs
}

func str(t *testing.T, o map[string]json.RawMessage, key string) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(o[key], &s); err != nil {
		t.Fatalf("field %s of %v: %v", key, o, err)
	}
	return s
}

func num(t *testing.T, o map[string]json.RawMessage, key string) int64 {
	t.Helper()
	var n int64
	if err := json.Unmarshal(o[key], &n); err != nil {
		t.Fatalf("field %s of %v: %v", key, o, err)
	}
	return n
}

// split separates market events from status markers.
func split(t *testing.T, objs []map[string]json.RawMessage) (events, statuses []map[string]json.RawMessage) {
	t.Helper()
	for _, o := range objs {
		if str(t, o, "name") == "Status" {
			statuses = append(statuses, o)
		} else {
			events = append(events, o)
		}
	}
	return events, statuses
}

func statusKinds(t *testing.T, statuses []map[string]json.RawMessage) []string {
	t.Helper()
	var out []string
	for _, s := range statuses {
		out = append(out, str(t, s, "kind"))
	}
	return out
}

// Two symbols' trades, live from the fake exchange, as JSON Lines; --count
// stops after exactly that many trades.
func TestWatchTradesJSON(t *testing.T) {
	srv, ws := watchExchange(t)
	btc := binancetest.NewSource([][]byte{[]byte(wSpotTrade)}, binancetest.IDsTrade)
	eth := binancetest.NewSource([][]byte{[]byte(wEthTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", btc)
	ws.SetSource("ethusdt@trade", eth)
	r := startCLI(t, nil, "watch", "--ws-url", srv.WSURL(), "--rest-url", srv.URL(),
		"--symbols", "btcusdt,ETHUSDT", "--channels", "trade", "-o", "json", "--count", "6")
	waitConns(t, ws, 1)
	if got := ws.Conns()[0].Subscriptions(); !slices.Equal(got, []string{"btcusdt@trade", "ethusdt@trade"}) {
		t.Fatalf("subscribed %v", got)
	}
	var sent [][]byte
	for range 3 {
		sent = append(sent, ws.Emit("btcusdt@trade", 1)...)
		sent = append(sent, ws.Emit("ethusdt@trade", 1)...)
	}
	if code := r.wait(t); code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, r.errOut.String())
	}
	events, statuses := split(t, jsonLines(t, r.out.String()))
	if len(events) != 6 {
		t.Fatalf("%d events, want 6:\n%s", len(events), r.out.String())
	}
	if kinds := statusKinds(t, statuses); !slices.Equal(kinds, []string{"Connected"}) {
		t.Fatalf("statuses %v", kinds)
	}
	for i, ev := range events {
		// Keys differ only by case ("e" and "E"): decode to a map.
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(sent[i], &raw); err != nil {
			t.Fatal(err)
		}
		frame := struct{ E, T, ID int64 }{num(t, raw, "E"), num(t, raw, "T"), num(t, raw, "t")}
		wantSym, wantPrice, wantQty, wantMaker := "BTCUSDT", "0.00426990", "33.82000000", "False"
		if i%2 == 1 {
			wantSym, wantPrice, wantQty, wantMaker = "ETHUSDT", "2034.5", "0.125", "True"
		}
		checks := []struct{ field, got, want string }{
			{"name", str(t, ev, "name"), "Trade"},
			{"symbolID", str(t, ev, "symbolID"), wantSym},
			{"exchangeID", str(t, ev, "exchangeID"), "BinanceSpot"},
			{"price", str(t, ev, "price"), wantPrice},
			{"quantity", str(t, ev, "quantity"), wantQty},
			{"buyerIsMaker", str(t, ev, "buyerIsMaker"), wantMaker},
			{"tradeId", fmt.Sprint(num(t, ev, "tradeId")), fmt.Sprint(frame.ID)},
			{"eventTime", fmt.Sprint(num(t, ev, "eventTime")), fmt.Sprint(frame.E * 1000)},
			{"tradeTime", fmt.Sprint(num(t, ev, "tradeTime")), fmt.Sprint(frame.T * 1000)},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("event %d %s = %q, want %q", i, c.field, c.got, c.want)
			}
		}
		if rt := num(t, ev, "receiveTime"); rt < time.Now().Add(-time.Hour).UnixNano() {
			t.Errorf("event %d receiveTime %d is not a recent ns time", i, rt)
		}
	}
	// The summary on stderr.
	for _, want := range []string{"watch stopped", `stopped="count reached"`, "printed=6", `by_channel="trade=6"`} {
		if !strings.Contains(r.errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.errOut.String())
		}
	}
}

// USD-M splits streams across /public (trade) and /market (aggTrade): the
// watch opens both connections, waits for both before the connect
// deadline, and prints both streams.
func TestWatchUSDMRoutes(t *testing.T) {
	ws := binancetest.NewWS(binancetest.WSConfig{Futures: true, Routed: true})
	srv := binancetest.NewServer(binancetest.Options{WS: ws})
	t.Cleanup(srv.Close)
	info, err := os.ReadFile(filepath.Join("..", "binance", "testdata", "usdm-exchangeInfo.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv.SetExchangeInfo(binancetest.APIUSDM, info)
	ws.SetSource("btcusdt@trade", binancetest.NewSource([][]byte{[]byte(
		`{"e":"trade","E":1574381164089,"T":1574381164086,"s":"BTCUSDT","t":10934580,"p":"7627.60","q":"0.044","m":false}`)}, binancetest.IDsTrade))
	ws.SetSource("btcusdt@aggTrade", binancetest.NewSource([][]byte{[]byte(
		`{"e":"aggTrade","E":1626992741575,"a":16599292,"s":"BTCUSDT","p":"1.01100","q":"10","f":23961322,"l":23961322,"T":1626992741421,"m":false}`)}, binancetest.IDsAggTrade))
	r := startCLI(t, nil, "watch", "-m", "usdm", "--ws-url", srv.WSURL(), "--rest-url", srv.URL(),
		"-s", "BTCUSDT", "-c", "trade,aggTrade", "-o", "json", "--count", "4", "--connect-timeout", "1m")
	waitConns(t, ws, 2)
	routes := map[string][]string{}
	for _, c := range ws.Conns() {
		routes[c.Route()] = c.Subscriptions()
	}
	if fmt.Sprint(routes) != "map[market:[btcusdt@aggTrade] public:[btcusdt@trade]]" {
		t.Fatalf("connections by route %v", routes)
	}
	ws.Emit("btcusdt@trade", 2)
	ws.Emit("btcusdt@aggTrade", 2)
	if code := r.wait(t); code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, r.errOut.String())
	}
	events, statuses := split(t, jsonLines(t, r.out.String()))
	got := map[string]int{}
	for _, e := range events {
		got[str(t, e, "name")]++
		if str(t, e, "exchangeID") != "BinanceUsdMarginFuture" || str(t, e, "symbolID") != "BTCUSDT" {
			t.Fatalf("event %v", e)
		}
	}
	if got["Trade"] != 2 || got["AggTrade"] != 2 {
		t.Fatalf("events %v", got)
	}
	if k := statusKinds(t, statuses); !slices.Equal(k, []string{"Connected", "Connected"}) {
		t.Fatalf("statuses %v", k)
	}
	if !strings.Contains(r.errOut.String(), "connections=2") {
		t.Fatalf("stderr:\n%s", r.errOut.String())
	}
}

// tradesWithHistory serves btcusdt@trade on ws and, on srv's REST
// historicalTrades, its first 20 trades (price 0.00430000), so gaps in them
// can be filled; first is the first id the stream sends.
func tradesWithHistory(srv *binancetest.Server, ws *binancetest.WS) (src *binancetest.Source, first int64) {
	src = binancetest.NewSource([][]byte{[]byte(wSpotTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", src)
	first = src.NextID()
	var history []market.Trade
	for id := first; id < first+20; id++ {
		history = append(history, market.Trade{TradeID: id, Price: market.MustDecimal("0.00430000"),
			Quantity: market.MustDecimal("2.00000000"), TradeTime: 1554076800950000})
	}
	srv.SetTrades(binancetest.APISpot, "BTCUSDT", history)
	return src, first
}

// A hole in the trade ids is reported, filled from the fake's REST
// historicalTrades and delivered in order before the live trades after it.
func TestWatchGapBackfill(t *testing.T) {
	srv, ws := watchExchange(t)
	src, first := tradesWithHistory(srv, ws)
	r := startCLI(t, nil, "watch", "--ws-url", srv.WSURL(), "--rest-url", srv.URL(),
		"btcusdt@trade", "-o", "json", "--count", "11")
	waitConns(t, ws, 1)
	ws.Emit("btcusdt@trade", 3)
	src.Skip(5)
	ws.Emit("btcusdt@trade", 3)
	if code := r.wait(t); code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, r.errOut.String())
	}
	objs := jsonLines(t, r.out.String())
	var seq []string
	for _, o := range objs {
		switch str(t, o, "name") {
		case "Status":
			s := str(t, o, "kind")
			if s == "Gap" || s == "GapFilled" {
				s += fmt.Sprintf("[%d..%d]", num(t, o, "gapFrom")-first, num(t, o, "gapTo")-first)
			}
			seq = append(seq, s)
		case "Trade":
			seq = append(seq, fmt.Sprint(num(t, o, "tradeId")-first))
			if id := num(t, o, "tradeId") - first; id >= 3 && id < 8 && str(t, o, "price") != "0.00430000" {
				t.Errorf("backfilled trade %d has price %s", id, str(t, o, "price"))
			}
			if str(t, o, "symbolID") != "BTCUSDT" {
				t.Errorf("trade symbol %s", str(t, o, "symbolID"))
			}
		}
	}
	want := []string{"Connected", "0", "1", "2", "Gap[3..7]", "3", "4", "5", "6", "7", "GapFilled[3..7]", "8", "9", "10"}
	if !slices.Equal(seq, want) {
		t.Fatalf("output sequence (ids relative to the first)\n got %v\nwant %v", seq, want)
	}
	if !strings.Contains(r.errOut.String(), "backfilled=5") || !strings.Contains(r.errOut.String(), "gaps=1 filled=1") {
		t.Errorf("summary lacks the gap counters:\n%s", r.errOut.String())
	}
}

// With --backfill=false the same hole is reported unfilled, and nothing
// asks REST for trades.
func TestWatchNoBackfill(t *testing.T) {
	srv, ws := watchExchange(t)
	src := binancetest.NewSource([][]byte{[]byte(wSpotTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", src)
	r := startCLI(t, nil, "watch", "--ws-url", srv.WSURL(), "--rest-url", srv.URL(),
		"btcusdt@trade", "-o", "json", "--count", "4", "--backfill=false")
	waitConns(t, ws, 1)
	ws.Emit("btcusdt@trade", 2)
	src.Skip(5)
	ws.Emit("btcusdt@trade", 2)
	if code := r.wait(t); code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, r.errOut.String())
	}
	_, statuses := split(t, jsonLines(t, r.out.String()))
	if kinds := statusKinds(t, statuses); !slices.Equal(kinds, []string{"Connected", "Gap", "GapUnfilled"}) {
		t.Fatalf("statuses %v", kinds)
	}
	if n := srv.Count(binancetest.APISpot, "historicalTrades"); n != 0 {
		t.Fatalf("%d historicalTrades requests with --backfill=false", n)
	}
}

// --depth-snapshots without trade backfill: a depth gap brings a REST order
// book into the output as a DepthSnapshot.
func TestWatchDepthSnapshotOnGap(t *testing.T) {
	srv, ws := watchExchange(t)
	src := binancetest.NewSource([][]byte{[]byte(wSpotDepth)}, binancetest.IDsSpotDepth)
	ws.SetSource("btcusdt@depth@100ms", src)
	srv.SetBook(binancetest.APISpot, "BTCUSDT", market.DepthSnapshot{
		LastUpdateID: 42,
		Bids:         []market.Level{{Price: market.MustDecimal("0.35120000"), Quantity: market.MustDecimal("10.00000000")}},
		Asks:         []market.Level{{Price: market.MustDecimal("0.35140000"), Quantity: market.MustDecimal("3.50000000")}},
	})
	r := startCLI(t, nil, "watch", "--ws-url", srv.WSURL(), "--rest-url", srv.URL(),
		"btcusdt@depth@100ms", "-o", "json", "--count", "5", "--backfill=false", "--depth-snapshots", "20")
	waitConns(t, ws, 1)
	ws.Emit("btcusdt@depth@100ms", 2)
	src.Skip(10)
	ws.Emit("btcusdt@depth@100ms", 2)
	if code := r.wait(t); code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, r.errOut.String())
	}
	events, statuses := split(t, jsonLines(t, r.out.String()))
	if kinds := statusKinds(t, statuses); !slices.Equal(kinds, []string{"Connected", "Gap"}) {
		t.Fatalf("statuses %v", kinds)
	}
	var snaps []map[string]json.RawMessage
	for _, e := range events {
		if str(t, e, "name") == "DepthSnapshot" {
			snaps = append(snaps, e)
		}
	}
	if len(snaps) != 1 || num(t, snaps[0], "lastUpdateId") != 42 || !strings.Contains(string(snaps[0]["bids"]), `"0.35120000"`) {
		t.Fatalf("snapshots %v\n%s", snaps, r.out.String())
	}
	if n := srv.Count(binancetest.APISpot, "depth"); n != 1 {
		t.Fatalf("%d depth requests", n)
	}
}

// A live session recorded with --record replays to the same market events,
// byte for byte (receive times are the recorded ones); status markers are
// the same kinds.
func TestWatchRecordThenReplay(t *testing.T) {
	srv, ws := watchExchange(t)
	ws.SetSource("btcusdt@trade", binancetest.NewSource([][]byte{[]byte(wSpotTrade)}, binancetest.IDsTrade))
	ws.SetSource("btcusdt@kline_1m", binancetest.NewSource([][]byte{[]byte(wSpotKline)}, binancetest.IDsNone))
	path := filepath.Join(t.TempDir(), "session.ims")
	live := startCLI(t, nil, "watch", "--ws-url", srv.WSURL(), "--rest-url", srv.URL(),
		"-s", "BTCUSDT", "-c", "trade,kline_1m", "-o", "json", "--count", "12", "--record", path)
	waitConns(t, ws, 1)
	for range 4 {
		ws.Emit("btcusdt@trade", 2)
		ws.Emit("btcusdt@kline_1m", 1)
	}
	if code := live.wait(t); code != ExitOK {
		t.Fatalf("live: exit %d; stderr:\n%s", code, live.errOut.String())
	}
	if !strings.Contains(live.errOut.String(), "recorded_frames=") {
		t.Errorf("summary lacks the recording: %s", live.errOut.String())
	}
	rd, err := record.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if h := rd.Header(); h.Market != "spot" {
		t.Fatalf("recording header %+v", h)
	}
	rd.Close()

	code, out, errOut := runCLI(t, "", "watch", "--replay", path, "--speed", "0", "-o", "json")
	if code != ExitOK {
		t.Fatalf("replay: exit %d; stderr:\n%s", code, errOut)
	}
	liveEv, liveSt := split(t, jsonLines(t, live.out.String()))
	repEv, repSt := split(t, jsonLines(t, out))
	if len(liveEv) != 12 || len(repEv) != len(liveEv) {
		t.Fatalf("%d live events, %d replayed", len(liveEv), len(repEv))
	}
	liveLines := marketLines(live.out.String())
	repLines := marketLines(out)
	if !slices.Equal(liveLines, repLines) {
		t.Fatalf("replayed events differ:\nlive:\n%s\nreplay:\n%s", strings.Join(liveLines, "\n"), strings.Join(repLines, "\n"))
	}
	// Live: connected. Replay: the recorded open and close of the connection.
	if k := statusKinds(t, liveSt); !slices.Equal(k, []string{"Connected"}) {
		t.Errorf("live statuses %v", k)
	}
	if k := statusKinds(t, repSt); !slices.Equal(k, []string{"Connected", "Disconnected"}) {
		t.Errorf("replayed statuses %v", k)
	}
	if !strings.Contains(errOut, `stopped="end of recording"`) {
		t.Errorf("replay summary: %s", errOut)
	}

	// The text rendering of the replay is the same events.
	code, text, errOut := runCLI(t, "", "watch", "--replay", path, "--speed", "0")
	if code != ExitOK {
		t.Fatalf("replay text: exit %d; %s", code, errOut)
	}
	if n := strings.Count(text, "\nTrade ") + strings.Count(text, "\nKline "); n != 12 {
		t.Fatalf("text replay has %d trade and kline lines:\n%s", n, text)
	}
}

// A gap filled from REST while recording is filled the same way in the
// replay, from the recording alone: same trades byte for byte, same gap
// statuses.
func TestWatchRecordThenReplayBackfill(t *testing.T) {
	srv, ws := watchExchange(t)
	src, _ := tradesWithHistory(srv, ws)
	path := filepath.Join(t.TempDir(), "session.ims")
	live := startCLI(t, nil, "watch", "--ws-url", srv.WSURL(), "--rest-url", srv.URL(),
		"btcusdt@trade", "-o", "json", "--count", "11", "--record", path)
	waitConns(t, ws, 1)
	ws.Emit("btcusdt@trade", 3)
	src.Skip(5)
	ws.Emit("btcusdt@trade", 3)
	if code := live.wait(t); code != ExitOK {
		t.Fatalf("live: exit %d; stderr:\n%s", code, live.errOut.String())
	}
	code, out, errOut := runCLI(t, "", "watch", "--replay", path, "--speed", "0", "-o", "json")
	if code != ExitOK {
		t.Fatalf("replay: exit %d; stderr:\n%s", code, errOut)
	}
	liveLines, repLines := marketLines(live.out.String()), marketLines(out)
	if len(liveLines) != 11 || !slices.Equal(liveLines, repLines) {
		t.Fatalf("replayed events differ:\nlive:\n%s\nreplay:\n%s", strings.Join(liveLines, "\n"), strings.Join(repLines, "\n"))
	}
	_, repSt := split(t, jsonLines(t, out))
	if k := statusKinds(t, repSt); !slices.Equal(k, []string{"Connected", "Gap", "GapFilled", "Disconnected"}) {
		t.Fatalf("replayed statuses %v", k)
	}
	if n := srv.Count(binancetest.APISpot, "historicalTrades"); n != 1 {
		t.Fatalf("%d historicalTrades requests; the replay must not ask REST", n)
	}
}

// marketLines returns the output lines that are not status markers.
func marketLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if !strings.HasPrefix(l, `{"name":"Status"`) && !strings.HasPrefix(l, "Status ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// sampleCounts counts the recorded (combined-wrapped) sample frames of a
// market family per event kind: what the shipped recording was built from.
func sampleCounts(t *testing.T, family string) map[string]int {
	t.Helper()
	names := map[string]string{
		"trade": "Trade", "aggTrade": "AggTrade", "kline": "Kline", "bookTicker": "BookTicker",
		"depthUpdate": "DepthUpdate", "ticker": "Ticker", "markPrice": "MarkPrice",
		"forceOrder": "Liquidation", "indexPrice": "IndexPrice",
	}
	out := map[string]int{}
	for event, name := range names {
		b, err := os.ReadFile(filepath.Join("..", "binance", "testdata", family+"-"+event+".jsonl"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out[name] = bytes.Count(b, []byte("\n"))
	}
	return out
}

// Every shipped recording replays offline: every recorded frame comes out
// as its event, nothing malformed, JSON well formed with upper-case symbols.
func TestWatchReplayShippedRecordings(t *testing.T) {
	for _, m := range []string{"spot", "usdm", "coinm"} {
		t.Run(m, func(t *testing.T) {
			path := filepath.Join("..", "binance", "testdata", "recording-"+m+".ims")
			code, out, errOut := runCLI(t, "", "watch", "--replay", path, "--speed", "0", "-o", "json")
			if code != ExitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, errOut)
			}
			events, statuses := split(t, jsonLines(t, out))
			got := map[string]int{}
			for _, e := range events {
				got[str(t, e, "name")]++
				sym := str(t, e, "symbolID")
				if sym == "" || sym != strings.ToUpper(sym) {
					t.Fatalf("symbol %q in %v", sym, e)
				}
			}
			if want := sampleCounts(t, m); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("events by message\n got %v\nwant %v (the recorded samples)", got, want)
			}
			kinds := statusKinds(t, statuses)
			if kinds[0] != "Connected" || kinds[len(kinds)-1] != "Disconnected" {
				t.Fatalf("statuses %v", kinds)
			}
			if !strings.Contains(errOut, "malformed=0") || !strings.Contains(errOut, "market="+m) {
				t.Fatalf("stderr:\n%s", errOut)
			}
		})
	}
}

// -o sbe piped into ims decode prints what -o json prints.
func TestWatchSBEIntoDecode(t *testing.T) {
	for _, m := range []string{"spot", "usdm"} {
		path := filepath.Join("..", "binance", "testdata", "recording-"+m+".ims")
		code, sbe, errOut := runCLI(t, "", "watch", "--replay", path, "--speed", "0", "-o", "sbe")
		if code != ExitOK {
			t.Fatalf("%s sbe: exit %d; %s", m, code, errOut)
		}
		code, decoded, errOut := runCLI(t, sbe, "decode", "-o", "json")
		if code != ExitOK {
			t.Fatalf("%s decode: exit %d; %s", m, code, errOut)
		}
		code, direct, errOut := runCLI(t, "", "watch", "--replay", path, "--speed", "0", "-o", "json")
		if code != ExitOK {
			t.Fatalf("%s json: exit %d; %s", m, code, errOut)
		}
		if strings.Count(decoded, "\n") != strings.Count(direct, "\n") {
			t.Fatalf("%s: decode printed %d lines, watch %d", m, strings.Count(decoded, "\n"), strings.Count(direct, "\n"))
		}
		// Status markers carry the replay's clock, so only market events
		// compare byte for byte.
		if a, b := marketLines(decoded), marketLines(direct); !slices.Equal(a, b) || len(a) < 100 {
			t.Fatalf("%s: decode of -o sbe differs from -o json (%d and %d lines)", m, len(a), len(b))
		}
		// And the text format is decode's text format.
		code, decodedText, _ := runCLI(t, sbe, "decode")
		_, directText, _ := runCLI(t, "", "watch", "--replay", path, "--speed", "0")
		if code != ExitOK || !slices.Equal(marketLines(decodedText), marketLines(directText)) {
			t.Fatalf("%s: text output differs from ims decode's", m)
		}
	}
}

// Stream arguments filter a replay: only that symbol's depth, plus the
// connection markers.
func TestWatchReplayFilter(t *testing.T) {
	path := filepath.Join("..", "binance", "testdata", "recording-usdm.ims")
	code, out, errOut := runCLI(t, "", "watch", "--replay", path, "--speed", "0", "-o", "json", "sushiusdt@depth@100ms", "--count", "100")
	if code != ExitOK {
		t.Fatalf("exit %d; %s", code, errOut)
	}
	events, statuses := split(t, jsonLines(t, out))
	if len(events) != 100 {
		t.Fatalf("%d events", len(events))
	}
	for _, e := range events {
		if str(t, e, "name") != "DepthUpdate" || str(t, e, "symbolID") != "SUSHIUSDT" {
			t.Fatalf("event %v passed the filter", e)
		}
	}
	for _, s := range statuses {
		if sym := str(t, s, "symbolID"); sym != "" && sym != "SUSHIUSDT" {
			t.Fatalf("status %v passed the filter", s)
		}
	}
	if !strings.Contains(errOut, `stopped="count reached"`) || !strings.Contains(errOut, "filtered=") {
		t.Fatalf("summary: %s", errOut)
	}
}

// A replay at the recorded pace logs the counters periodically.
func TestWatchReplayPacedStats(t *testing.T) {
	path := filepath.Join("..", "binance", "testdata", "recording-spot.ims")
	start := time.Now()
	code, out, errOut := runCLI(t, "", "watch", "--replay", path, "--speed", "2", "--stats-interval", "20ms", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d; %s", code, errOut)
	}
	// 268 frames recorded 1 ms apart, at twice the pace: at least 130 ms.
	if el := time.Since(start); el < 130*time.Millisecond {
		t.Fatalf("replay at speed 2 took %v", el)
	}
	if !strings.Contains(errOut, "watch stats") {
		t.Fatalf("no periodic stats:\n%s", errOut)
	}
	if n := len(marketLines(out)); n != 268 {
		t.Fatalf("%d events", n)
	}
}

// Unknown symbols fail before anything connects, naming all of them.
func TestWatchUnknownSymbols(t *testing.T) {
	srv, ws := watchExchange(t)
	code, out, errOut := runCLI(t, "", "watch", "--ws-url", srv.WSURL(), "--rest-url", srv.URL(),
		"--symbols", "BTCUSDT,nosuchcoin,ZZZUSDT", "--channels", "trade,aggTrade")
	if code != ExitError {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitError, errOut)
	}
	if !strings.Contains(errOut, "unknown symbols on binance-spot: NOSUCHCOIN, ZZZUSDT") {
		t.Fatalf("stderr lacks the unknown symbols:\n%s", errOut)
	}
	if out != "" || ws.Attempts() != 0 {
		t.Fatalf("output %q, %d websocket attempts", out, ws.Attempts())
	}
}

// Bad streams and flag combinations are usage errors (exit 2) found before
// any network access.
func TestWatchUsageErrors(t *testing.T) {
	srv, ws := watchExchange(t)
	base := []string{"watch", "--ws-url", srv.WSURL(), "--rest-url", srv.URL()}
	rec := filepath.Join("..", "binance", "testdata", "recording-spot.ims")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-s", "BTCUSDT", "-c", "tradez"}, "tradez"},
		{[]string{"btcusdt@kline_7m"}, "kline_7m"},
		{[]string{"btcusdt"}, "btcusdt"},
		{[]string{"-s", "BTCUSDT", "-c", "markPrice"}, "markPrice"}, // not on spot
		{[]string{"-s", "BTCUSDT", "-c", "depth7"}, "depth7"},
		{[]string{"-s", "BTC/USDT"}, "BTC/USDT"},
		{[]string{"-c", "trade"}, "--channels applies to --symbols"},
		{nil, "nothing to watch"},
		{[]string{"-m", "mars", "btcusdt@trade"}, "mars"},
		{[]string{"-o", "yaml", "btcusdt@trade"}, "yaml"},
		{[]string{"--count", "-1", "btcusdt@trade"}, "--count"},
		{[]string{"--speed", "2", "btcusdt@trade"}, "--speed applies to --replay"},
		{[]string{"--depth-snapshots", "7", "-m", "usdm", "btcusdt@depth"}, "depth limit 7"},
		{[]string{"--ws-url", "http://x", "btcusdt@trade"}, "websocket URL"},
		{[]string{"--replay", rec, "--record", "x.ims"}, "exclude each other"},
		{[]string{"--replay", rec, "-m", "usdm"}, "is a recording of spot"},
		{[]string{"--replay", rec, "--speed", "-1"}, "--speed"},
		{[]string{"--replay", rec, "btcusdt@nothing"}, "nothing"},
	} {
		code, out, errOut := runCLI(t, "", append(slices.Clone(base), tc.args...)...)
		if code != ExitUsage || out != "" || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, out %q, stderr %q; want exit 2 mentioning %q", tc.args, code, out, errOut, tc.msg)
		}
	}
	if ws.Attempts() != 0 || srv.Count(binancetest.APISpot, "exchangeInfo") != 0 {
		t.Fatalf("usage errors reached the network")
	}
}

// A websocket that never opens fails the command after --connect-timeout.
func TestWatchConnectTimeout(t *testing.T) {
	srv := binancetest.NewServer(binancetest.Options{}) // REST only: upgrades get 404
	t.Cleanup(srv.Close)
	srv.SetExchangeInfo(binancetest.APISpot, []byte(wSpotInfo))
	code, _, errOut := runCLI(t, "", "watch", "--ws-url", srv.WSURL(), "--rest-url", srv.URL(),
		"btcusdt@trade", "--connect-timeout", "500ms")
	if code != ExitError {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "0 of 1 connections") || !strings.Contains(errOut, "not established in time") {
		t.Fatalf("stderr:\n%s", errOut)
	}
}

// --duration ends a quiet watch cleanly; so does cancelling (Ctrl-C). A
// symbol that exists but does not trade is watched, with a warning.
func TestWatchDurationAndCancel(t *testing.T) {
	srv, ws := watchExchange(t)
	code, _, errOut := runCLI(t, "", "watch", "--ws-url", srv.WSURL(), "--rest-url", srv.URL(),
		"btcusds@trade", "--duration", "200ms")
	if code != ExitOK || !strings.Contains(errOut, `stopped="duration elapsed"`) || !strings.Contains(errOut, "BTCUSDS (BREAK)") {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	waitConns(t, ws, 0)
	before := ws.Connects()
	r := startCLI(t, nil, "watch", "--ws-url", srv.WSURL(), "--rest-url", srv.URL(), "btcusdt@trade")
	ctx, cancel := context.WithTimeout(context.Background(), watchTestTimeout)
	defer cancel()
	if err := ws.Wait(ctx, func() bool { return ws.Connects() == before+1 && len(ws.Conns()) == 1 }); err != nil {
		t.Fatal(err)
	}
	ws.SetSource("btcusdt@trade", binancetest.NewSource([][]byte{[]byte(wSpotTrade)}, binancetest.IDsTrade))
	ws.Emit("btcusdt@trade", 1)
	r.cancel()
	if code := r.wait(t); code != ExitOK {
		t.Fatalf("cancelled: exit %d; stderr:\n%s", code, r.errOut.String())
	}
	if !strings.Contains(r.errOut.String(), "stopped=canceled") {
		t.Fatalf("stderr:\n%s", r.errOut.String())
	}
}

// A replay of a recording cut inside a block prints everything before the
// cut and ends cleanly; a corrupt one fails after printing what it could.
func TestWatchReplayDamaged(t *testing.T) {
	full, err := os.ReadFile(filepath.Join("..", "binance", "testdata", "recording-usdm.ims"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	torn := filepath.Join(dir, "torn.ims")
	if err := os.WriteFile(torn, full[:len(full)-100], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "watch", "--replay", torn, "--speed", "0", "-o", "json")
	if code != ExitOK || !strings.Contains(errOut, "torn block") {
		t.Fatalf("torn: exit %d; stderr:\n%s", code, errOut)
	}
	if n := len(marketLines(out)); n == 0 || n >= 1544 {
		t.Fatalf("torn recording printed %d events", n)
	}
	bad := slices.Clone(full)
	bad[len(bad)-100] ^= 0xff // inside the last block's compressed bytes
	corrupt := filepath.Join(dir, "corrupt.ims")
	if err := os.WriteFile(corrupt, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "", "watch", "--replay", corrupt, "--speed", "0", "-o", "json")
	if code != ExitError || !strings.Contains(errOut, "corrupt") {
		t.Fatalf("corrupt: exit %d; stderr:\n%s", code, errOut)
	}
	if len(marketLines(out)) == 0 {
		t.Fatalf("nothing printed before the corrupt block")
	}
	code, _, errOut = runCLI(t, "", "watch", "--replay", filepath.Join(dir, "missing.ims"))
	if code != ExitError || !strings.Contains(errOut, "missing.ims") {
		t.Fatalf("missing: exit %d; stderr:\n%s", code, errOut)
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// An output that cannot be written ends the command with status 1.
func TestWatchOutputError(t *testing.T) {
	path := filepath.Join("..", "binance", "testdata", "recording-usdm.ims")
	var errOut bytes.Buffer
	code := Run(context.Background(), IO{In: strings.NewReader(""), Out: failingWriter{}, ErrOut: &errOut},
		BuildInfo{Version: "test"}, []string{"watch", "--replay", path, "--speed", "0", "-o", "json"})
	if code != ExitError || !strings.Contains(errOut.String(), "disk full") {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}
}

// -o sbe to a file (an *os.File that is not a terminal) is allowed, and
// the file decodes.
func TestWatchSBEToFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out.sbe"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) || isTerminal(&bytes.Buffer{}) {
		t.Fatal("a file or a buffer taken for a terminal")
	}
	var errOut bytes.Buffer
	path := filepath.Join("..", "binance", "testdata", "recording-coinm.ims")
	code := Run(context.Background(), IO{In: strings.NewReader(""), Out: f, ErrOut: &errOut},
		BuildInfo{Version: "test"}, []string{"watch", "--replay", path, "--speed", "0", "-o", "sbe"})
	if code != ExitOK {
		t.Fatalf("exit %d; %s", code, errOut.String())
	}
	code, out, stderr := runCLI(t, "", "decode", f.Name(), "-o", "json")
	if code != ExitOK || strings.Count(out, "\n") != 733 {
		t.Fatalf("decode: exit %d, %d lines; %s", code, strings.Count(out, "\n"), stderr)
	}
}

// exchangeInfo refused (a 418 ban is not retried): exit 1 with Binance's
// message, and no websocket attempt.
func TestWatchExchangeInfoFails(t *testing.T) {
	srv, ws := watchExchange(t)
	srv.Inject(binancetest.Fault{Endpoint: "exchangeInfo", Status: 418, Code: -1003, Msg: "Way too many requests; IP banned."})
	code, out, errOut := runCLI(t, "", "watch", "--ws-url", srv.WSURL(), "--rest-url", srv.URL(), "btcusdt@trade")
	if code != ExitError || out != "" || !strings.Contains(errOut, "exchangeInfo") || !strings.Contains(errOut, "IP banned") {
		t.Fatalf("exit %d, out %q; stderr:\n%s", code, out, errOut)
	}
	if ws.Attempts() != 0 {
		t.Fatal("connected although the symbols could not be checked")
	}
}
