package binance_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

func TestParseAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are slow to collect")
	}
	parsers := map[binance.Market]*binance.Parser{}
	for _, s := range streamSamples(t) {
		p := parsers[s.market]
		if p == nil {
			p = binance.NewParser(s.market, binance.ParserOptions{LevelCapacity: 256})
			parsers[s.market] = p
		}
		if raw := rawStreamFor(s.file); raw != "" {
			p = binance.NewParser(s.market, binance.ParserOptions{LevelCapacity: 256})
			p.SetRawStream(mustStream(t, raw))
		}
		if _, err := p.Parse(s.data, 1); err != nil {
			continue // unsupported samples: error path, may allocate
		}
		allocs := testing.AllocsPerRun(20, func() {
			fr, err := p.Parse(s.data, 1)
			if err != nil {
				t.Fatal(err)
			}
			for fr.More {
				if _, err := p.Next(); err != nil {
					t.Fatal(err)
				}
			}
		})
		if allocs != 0 {
			t.Errorf("%s:%d: %.1f allocations per frame", s.file, s.line, allocs)
		}
	}
}

func TestParseStreamNameAllocatesNothing(t *testing.T) {
	names := [][]byte{[]byte("btcusdt@depth@100ms"), []byte("btcusd_perp@markPrice@1s"), []byte("btcusdt@kline_1m"), []byte("!miniTicker@arr")}
	allocs := testing.AllocsPerRun(100, func() {
		for _, n := range names {
			if _, err := binance.ParseStreamName(n); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations", allocs)
	}
}

// reencode writes v as JSON with keys in random order and random whitespace
// between tokens; json.Number keeps numbers textually identical.
func reencode(buf *bytes.Buffer, v any, rng *rand.Rand) {
	ws := func() {
		for n := rng.Intn(3); n > 0; n-- {
			buf.WriteByte(" \t\n\r"[rng.Intn(4)])
		}
	}
	ws()
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			ws()
			kb, _ := json.Marshal(k)
			buf.Write(kb)
			ws()
			buf.WriteByte(':')
			reencode(buf, x[k], rng)
		}
		ws()
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			reencode(buf, e, rng)
		}
		ws()
		buf.WriteByte(']')
	case string:
		// Escape some characters as \u00XX to exercise the escape path.
		buf.WriteByte('"')
		for _, c := range []byte(x) {
			if rng.Intn(4) == 0 {
				fmt.Fprintf(buf, `\u%04x`, c)
			} else if c == '"' || c == '\\' {
				buf.WriteByte('\\')
				buf.WriteByte(c)
			} else {
				buf.WriteByte(c)
			}
		}
		buf.WriteByte('"')
	default:
		b, _ := json.Marshal(x)
		buf.Write(b)
	}
	ws()
}

// TestParseKeyOrderWhitespaceEscapes re-encodes every sample with shuffled
// keys, random whitespace and \u escapes, and checks the parser produces
// exactly what it produces for the original.
func TestParseKeyOrderWhitespaceEscapes(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var buf bytes.Buffer
	for _, s := range streamSamples(t) {
		var v any
		d := json.NewDecoder(bytes.NewReader(s.data))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		orig := binance.NewParser(s.market, binance.ParserOptions{})
		mixed := binance.NewParser(s.market, binance.ParserOptions{})
		if raw := rawStreamFor(s.file); raw != "" {
			orig.SetRawStream(mustStream(t, raw))
			mixed.SetRawStream(mustStream(t, raw))
		}
		for round := 0; round < 3; round++ {
			buf.Reset()
			reencode(&buf, v, rng)
			want, werr := collect(orig, s.data)
			got, gerr := collect(mixed, buf.Bytes())
			if (werr == nil) != (gerr == nil) || (werr != nil && errors.Is(werr, binance.ErrUnsupported) != errors.Is(gerr, binance.ErrUnsupported)) {
				t.Fatalf("%s:%d: original err %v, re-encoded err %v\n%s", s.file, s.line, werr, gerr, buf.Bytes())
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s:%d: re-encoded frame differs\n got %+v\nwant %+v\n%s", s.file, s.line, got, want, buf.Bytes())
			}
		}
	}
}

// collect parses a frame and deep-copies every event it yields.
func collect(p *binance.Parser, frame []byte) ([]any, error) {
	fr, err := p.Parse(frame, 7)
	if err != nil {
		return nil, err
	}
	var out []any
	for {
		out = append(out, fr.Type, fr.Event.Kind, fr.Event.Channel, normalize(copyEvent(eventValue(&fr.Event))), fr.Time)
		if !fr.More {
			return out, nil
		}
		if _, err := p.Next(); err != nil {
			return nil, err
		}
	}
}

func copyEvent(v any) any {
	switch e := v.(type) {
	case market.DepthUpdate:
		e.Bids = append([]market.Level(nil), e.Bids...)
		e.Asks = append([]market.Level(nil), e.Asks...)
		return e
	case market.DepthSnapshot:
		e.Bids = append([]market.Level(nil), e.Bids...)
		e.Asks = append([]market.Level(nil), e.Asks...)
		return e
	}
	return v
}

func TestParseMicrosecondTimeUnit(t *testing.T) {
	frame := []byte(`{"stream":"btcusdt@trade","data":{"e":"trade","E":1672515782136123,"s":"BTCUSDT","t":1,"p":"1.5","q":"2","T":1672515782136100,"m":false,"M":true}}`)
	p := binance.NewParser(binance.Spot, binance.ParserOptions{TimeUnit: binance.Microsecond})
	fr, err := p.Parse(frame, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := fr.Event.Trade.EventTime; got != 1672515782136123 {
		t.Errorf("EventTime %d", got)
	}
	if got := fr.Event.Trade.TradeTime; got != 1672515782136100 {
		t.Errorf("TradeTime %d", got)
	}
	huge := []byte(`{"e":"trade","E":9223372036854776,"s":"BTCUSDT","t":1,"p":"1.5","q":"2","T":1,"m":false}`)
	ms := binance.NewParser(binance.Spot, binance.ParserOptions{})
	if _, err := ms.Parse(huge, 0); err == nil || !strings.Contains(err.Error(), "time out of range") {
		t.Errorf("a ms time that overflows µs must fail clearly, got %v", err)
	}
}

func TestParseControlFrames(t *testing.T) {
	p := binance.NewParser(binance.USDM, binance.ParserOptions{})
	cases := []struct {
		frame string
		typ   binance.FrameType
		id    int64
		hasID bool
		code  int64
		msg   string
	}{
		{`{"result":null,"id":1}`, binance.FrameResponse, 1, true, 0, ""},
		{`{"id":7,"result":["btcusdt@aggTrade"]}`, binance.FrameResponse, 7, true, 0, ""},
		{`{"result":null,"id":"abc"}`, binance.FrameResponse, 0, false, 0, ""},
		{`{"code":2,"msg":"Invalid request: too many parameters"}`, binance.FrameError, 0, false, 2, "Invalid request: too many parameters"},
		{`{"code":0,"msg":"Unknown property","id":9}`, binance.FrameError, 9, true, 0, "Unknown property"},
		{`{"error":{"code":3,"msg":"Invalid JSON: \"x\""},"id":4}`, binance.FrameError, 4, true, 3, `Invalid JSON: "x"`},
	}
	for _, c := range cases {
		fr, err := p.Parse([]byte(c.frame), 0)
		if err != nil {
			t.Fatalf("%s: %v", c.frame, err)
		}
		if fr.Type != c.typ || fr.ID != c.id || fr.HasID != c.hasID || fr.Code != c.code || fr.MsgString() != c.msg {
			t.Errorf("%s: got type %v id %d/%v code %d msg %q", c.frame, fr.Type, fr.ID, fr.HasID, fr.Code, fr.MsgString())
		}
	}
	fr, err := p.Parse([]byte(`{"result":null,"id":"abc"}`), 0)
	if err != nil || string(fr.RawID) != `"abc"` || string(fr.Result) != "null" {
		t.Errorf("string id: %q %q %v", fr.RawID, fr.Result, err)
	}
}

func TestParseMalformed(t *testing.T) {
	cases := []struct {
		m     binance.Market
		frame string
		kind  string // substring of ParseError.Kind
		unsup bool
	}{
		{binance.Spot, ``, "frame: empty", false},
		{binance.Spot, `   `, "frame: empty", false},
		{binance.Spot, `"x"`, "not a JSON object", false},
		{binance.Spot, `{"e":"trade"`, "invalid JSON", false},
		{binance.Spot, `{"e":"trade","E":1,"s":"BTCUSDT","t":1,"q":"1","T":1,"m":true}`, "trade: missing p", false},
		{binance.Spot, `{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"x","q":"1","T":1,"m":true}`, "trade: p: invalid decimal", false},
		{binance.Spot, `{"e":"trade","E":1,"s":"BTCUSDT","t":1.5,"p":"1","q":"1","T":1,"m":true}`, "trade: t: not an int64", false},
		{binance.Spot, `{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":1,"q":"1","T":1,"m":true}`, "trade: p: invalid decimal", false},
		{binance.Spot, `{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":"yes"}`, "trade: m: not a boolean", false},
		{binance.Spot, `{"e":"trade","E":1,"s":"ABCDEFGHIJKLMNOPQRSTUVWXYZ","t":1,"p":"1","q":"1","T":1,"m":true}`, "trade: s: invalid symbol", false},
		{binance.Spot, `{"e":"trade","E":99999999999999999999,"s":"B","t":1,"p":"1","q":"1","T":1,"m":true}`, "trade: E: not an int64", false},
		{binance.Spot, `{"e":"trade","E":1,"s":"B","t":1,"p":"1","q":"1","T":1,"m":true} x`, "data after the JSON value", false},
		{binance.Spot, `{"e":"trade","E":1,"s":"B","t":1,"p":"1","q":"1","T":1,"m":true,}`, "invalid JSON", false},
		{binance.Spot, `{"stream":"btcusdt@aggTrade","data":{"e":"trade","E":1,"s":"B","t":1,"p":"1","q":"1","T":1,"m":true}}`, "does not match stream channel", false},
		{binance.Spot, `{"stream":"btcusdt@kline_5m","data":{"e":"kline","E":1,"s":"B","k":{"t":1,"T":2,"i":"1m","f":1,"L":2,"o":"1","c":"1","h":"1","l":"1","v":"1","n":1,"x":false,"q":"1","V":"1","Q":"1"}}}`, "interval does not match", false},
		{binance.Spot, `{"e":"kline","E":1,"s":"B","k":"x"}`, "k is not an object", false},
		{binance.Spot, `{"e":"kline","E":1,"s":"B","k":{"t":1}}`, "kline: k: missing", false},
		{binance.Spot, `{"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"b":"1","a":[]}`, "must be level arrays", false},
		{binance.Spot, `{"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"b":[["1"]],"a":[]}`, "expected ','", false},
		{binance.Spot, `{"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"b":[[1,2]],"a":[]}`, "levels: price and quantity must be strings", false},
		{binance.Spot, `{"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"b":[["1","1e5"]],"a":[]}`, "levels: invalid decimal", false},
		{binance.USDM, `{"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"b":[],"a":[]}`, "depthUpdate: missing pu", false},
		{binance.Spot, `{"lastUpdateId":1,"bids":[],"asks":[]}`, "no stream name", false},
		{binance.Spot, `{"foo":1}`, "unrecognized", false},
		{binance.Spot, `{"e":"continuous_kline","E":1}`, "unsupported type continuous_kline", true},
		{binance.Spot, `{"stream":"btcusdt@rpiDepth@500ms","data":{}}`, "unknown stream name", true},
		{binance.Spot, `[]`, "empty event array", false},
		{binance.Spot, `[1]`, "not an object", false},
		{binance.Spot, `{"e":"trade","s":"a` + "\x01" + `"}`, "invalid JSON", false},
		{binance.Spot, `{"e":"trade","s":"\x"}`, "invalid JSON", false},
		{binance.Spot, strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100), "nested too deeply", false},
	}
	for _, c := range cases {
		p := binance.NewParser(c.m, binance.ParserOptions{})
		_, err := p.Parse([]byte(c.frame), 0)
		var pe *binance.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q: want a *ParseError, got %v", c.frame, err)
			continue
		}
		if !strings.Contains(pe.Kind, c.kind) {
			t.Errorf("%q: kind %q, want it to contain %q", c.frame, pe.Kind, c.kind)
		}
		if errors.Is(err, binance.ErrUnsupported) != c.unsup || errors.Is(err, binance.ErrMalformed) == c.unsup {
			t.Errorf("%q: unsupported=%v, want %v (%v)", c.frame, errors.Is(err, binance.ErrUnsupported), c.unsup, err)
		}
	}
}

// TestParseToleratesNewFields checks optional and future fields are
// ignored and absent optional ones give null values.
func TestParseToleratesNewFields(t *testing.T) {
	p := binance.NewParser(binance.USDM, binance.ParserOptions{})
	frame := `{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"1.5","ap":"1.4","st":1,"ps":"BTCUSDT","new":{"x":[1,{"y":null}]},"r":"","T":0}}`
	fr, err := p.Parse([]byte(frame), 0)
	if err != nil {
		t.Fatal(err)
	}
	mp := fr.Event.MarkPrice
	if mp.MarkPrice != market.MustDecimal("1.5") || !mp.FundingRate.IsNull() || !mp.IndexPrice.IsNull() || mp.NextFundingTime != 0 {
		t.Errorf("got %+v", *mp)
	}
	if fr.Event.Kind != source.KindMarkPrice || !fr.HasStream || fr.Stream.Speed != binance.Speed1s {
		t.Errorf("frame %+v", fr)
	}
}

func TestParseEnumsAndSides(t *testing.T) {
	p := binance.NewParser(binance.CoinM, binance.ParserOptions{})
	frame := `{"e":"forceOrder","E":5,"o":{"s":"BTCUSD_PERP","ps":"BTCUSD","S":"BUY","o":"MARKET","f":"GTX","q":"1","p":"2","X":"NEW_STATUS","T":6}}`
	fr, err := p.Parse([]byte(frame), 0)
	if err != nil {
		t.Fatal(err)
	}
	l := fr.Event.Liquidation
	if l.Side != market.SideBuy || l.OrderType != market.OrderTypeMarket || l.TimeInForce != market.TimeInForceGTX ||
		l.Status != market.OrderStatusUnknown || !l.AveragePrice.IsNull() || l.TradeTime != 6000 || l.Symbol.String() != "BTCUSD_PERP" {
		t.Errorf("got %+v", *l)
	}
}

func TestParseArrayPayloadErrorsStopIteration(t *testing.T) {
	p := binance.NewParser(binance.USDM, binance.ParserOptions{})
	frame := `{"stream":"!markPrice@arr","data":[{"e":"markPriceUpdate","E":1,"s":"A","p":"1"},{"e":"markPriceUpdate","E":1,"s":"B"},{"e":"markPriceUpdate","E":1,"s":"C","p":"3"}]}`
	fr, err := p.Parse([]byte(frame), 0)
	if err != nil || !fr.More || fr.Event.MarkPrice.Symbol.String() != "A" {
		t.Fatalf("first: %v %+v", err, fr)
	}
	if ok, err := p.Next(); ok || err == nil || !strings.Contains(err.Error(), "missing p") {
		t.Fatalf("second: %v %v", ok, err)
	}
	if !fr.More {
		t.Fatal("a bad element must not end the array")
	}
	if ok, err := p.Next(); !ok || err != nil || fr.Event.MarkPrice.Symbol.String() != "C" || fr.More {
		t.Fatalf("third: %v %v %+v", ok, err, fr)
	}
	if ok, err := p.Next(); ok || err != nil {
		t.Fatalf("after the end: %v %v", ok, err)
	}
}

func TestParseLargeDecimalsFallBack(t *testing.T) {
	p := binance.NewParser(binance.Spot, binance.ParserOptions{})
	frame := `{"stream":"x@depth","data":{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[["1234567890.123456789","0.0000000000000000001"]],"a":[]}}`
	if _, err := p.Parse([]byte(frame), 0); err == nil || !strings.Contains(err.Error(), "levels: invalid decimal") {
		t.Errorf("19-digit scale must be rejected, got %v", err)
	}
	frame = `{"stream":"x@depth","data":{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[["1234567890.12345678","-922337203685477580.7"]],"a":[]}}`
	fr, err := p.Parse([]byte(frame), 0)
	if err != nil {
		t.Fatal(err)
	}
	b := fr.Event.DepthUpdate.Bids[0]
	if b.Price != (market.Decimal{Mantissa: 123456789012345678, Scale: 8}) || b.Quantity != (market.Decimal{Mantissa: -9223372036854775807, Scale: 1}) {
		t.Errorf("got %+v", b)
	}
}

// TestParseWrapperVariants covers combined frames the fast path hands to
// the generic one: extra wrapper keys, data before stream, array payloads,
// whitespace.
func TestParseWrapperVariants(t *testing.T) {
	payload := `{"e":"aggTrade","E":1,"a":7,"s":"BTCUSDT","p":"1.5","q":"2","f":1,"l":2,"T":3,"m":true}`
	frames := []string{
		`{"stream":"btcusdt@aggTrade","data":` + payload + `}`,
		`{"stream":"btcusdt@aggTrade","data":` + payload + `,"x":[1,2]}`,
		`{"data":` + payload + `,"stream":"btcusdt@aggTrade"}`,
		` { "stream" : "btcusdt@aggTrade" , "data" : ` + payload + ` } `,
		`{"stream":"btcusdt@aggTrade","data":[` + payload + `]}`,
	}
	p := binance.NewParser(binance.CoinM, binance.ParserOptions{})
	for _, f := range frames {
		fr, err := p.Parse([]byte(f), 0)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !fr.HasStream || fr.Stream.Channel != market.ChannelAggTrade || fr.Event.AggTrade.AggTradeID != 7 || fr.More {
			t.Errorf("%s: %+v", f, fr)
		}
	}
	// A frame that starts like the fast path but is broken fails clearly.
	for _, f := range []string{
		`{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade"`,
		`{"stream":"btcusdt@aggTrade","data":` + payload + `}}`,
		`{"stream":"btcusdt@aggTrade","data":` + payload,
	} {
		if _, err := p.Parse([]byte(f), 0); !errors.Is(err, binance.ErrMalformed) {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestParseDepthSnapshotSamples decodes every REST depth sample (recorded
// and docs) and compares with encoding/json.
func TestParseDepthSnapshotSamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*-depthSnapshot.*jsonl"))
	if len(files) != 6 {
		t.Fatalf("want 6 depth snapshot files, got %d", len(files))
	}
	var snap market.DepthSnapshot
	for _, path := range files {
		m := marketOfFile(filepath.Base(path))
		for i, line := range readLines(t, path) {
			var raw struct {
				LastUpdateID int64       `json:"lastUpdateId"`
				E            json.Number `json:"E"`
				T            json.Number `json:"T"`
				Bids         [][2]string `json:"bids"`
				Asks         [][2]string `json:"asks"`
			}
			d := json.NewDecoder(bytes.NewReader(line))
			d.UseNumber()
			if err := d.Decode(&raw); err != nil {
				t.Fatal(err)
			}
			if err := binance.ParseDepthSnapshot(m, line, 3, &snap); err != nil {
				t.Fatalf("%s:%d: %v", path, i+1, err)
			}
			wantE := int64(0)
			if raw.E != "" {
				wantE = i64(raw.E) * 1000
			}
			if snap.LastUpdateID != raw.LastUpdateID || snap.EventTime != wantE || snap.Source != market.SnapshotREST ||
				snap.Exchange != m.Exchange() || snap.ReceiveTime != 3 || len(snap.Bids) != len(raw.Bids) || len(snap.Asks) != len(raw.Asks) {
				t.Fatalf("%s:%d: %+v", path, i+1, snap.Header)
			}
			for j, l := range raw.Bids {
				if snap.Bids[j].Price != dec(l[0]) || snap.Bids[j].Quantity != dec(l[1]) {
					t.Fatalf("%s:%d: bid %d %+v, want %v", path, i+1, j, snap.Bids[j], l)
				}
			}
			for j, l := range raw.Asks {
				if snap.Asks[j].Price != dec(l[0]) || snap.Asks[j].Quantity != dec(l[1]) {
					t.Fatalf("%s:%d: ask %d %+v, want %v", path, i+1, j, snap.Asks[j], l)
				}
			}
		}
	}
	for _, bad := range []string{``, `[]`, `{"lastUpdateId":1,"bids":[]}`, `{"lastUpdateId":1,"bids":"x","asks":[]}`, `{"lastUpdateId":1,"bids":[],"asks":[]} 1`} {
		if err := binance.ParseDepthSnapshot(binance.Spot, []byte(bad), 0, &snap); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A bad first element of an array payload is reported like a bad later one:
// the error, and the rest of the array still comes through Next. Before,
// Parse returned only the error and every other symbol of the frame (a
// whole !markPrice@arr second) was lost.
func TestParseArrayPayloadBadFirstElement(t *testing.T) {
	for _, generic := range []bool{false, true} {
		p := binance.NewParser(binance.USDM, binance.ParserOptions{})
		if generic {
			binance.GenericOnly(p)
		}
		frame := `{"stream":"!markPrice@arr","data":[{"e":"markPriceUpdate","E":1,"s":"A"},{"e":"markPriceUpdate","E":1,"s":"B","p":"2"},{"e":"markPriceUpdate","E":1,"s":"C","p":"3"}]}`
		fr, err := p.Parse([]byte(frame), 0)
		if err == nil || !strings.Contains(err.Error(), "missing p") || fr == nil || !fr.More || fr.Type != binance.FrameNone {
			t.Fatalf("generic %v: first: %v %+v", generic, err, fr)
		}
		var got []string
		for fr.More {
			ok, err := p.Next()
			if err != nil || !ok || fr.Type != binance.FrameEvent {
				t.Fatalf("generic %v: next: %v %v", generic, ok, err)
			}
			got = append(got, fr.Event.MarkPrice.Symbol.String())
		}
		if strings.Join(got, ",") != "B,C" {
			t.Errorf("generic %v: got %v, want B,C", generic, got)
		}
		// A bad only element is an error with nothing more.
		fr, err = p.Parse([]byte(`{"stream":"!markPrice@arr","data":[{"e":"markPriceUpdate","E":1,"s":"A"}]}`), 0)
		if err == nil || fr != nil {
			t.Errorf("generic %v: single bad element: %v %+v", generic, err, fr)
		}
	}
}
