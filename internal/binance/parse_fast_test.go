package binance_test

// The fast path (parse_fast.go) must give exactly what the generic path
// gives for every frame it accepts, and hand every other frame over
// untouched. These tests run both on the samples, on re-encodings of them
// in every key order, and on targeted corruptions of every member.

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ims-dev/ims/internal/binance"
)

// frameResult is everything a parse yields, deep-copied.
type frameResult struct {
	Err    string
	Type   binance.FrameType
	Stream binance.StreamName
	HasStr bool
	Kind   string
	Event  any
	ID     int64
	HasID  bool
	RawID  string
	Result string
	Code   int64
	Msg    string
	Time   int64
	More   bool
}

func results(p *binance.Parser, frame []byte) []frameResult {
	var out []frameResult
	fr, err := p.Parse(frame, 7)
	for n := 0; ; n++ {
		if err != nil {
			var pe *binance.ParseError
			if errors.As(err, &pe) {
				out = append(out, frameResult{Err: pe.Kind + "@" + strconv.Itoa(pe.Offset) + ":" + pe.Err.Error()})
			} else {
				out = append(out, frameResult{Err: err.Error()})
			}
			if fr == nil || !fr.More {
				return out
			}
		} else {
			stream := fr.Stream
			if !fr.HasStream {
				stream = binance.StreamName{} // stale, meaningless
			}
			out = append(out, frameResult{
				Type: fr.Type, Stream: stream, HasStr: fr.HasStream, Kind: fr.Event.Kind.String() + "/" + fr.Event.Channel.String(),
				Event: normalize(copyEvent(eventValue(&fr.Event))), ID: fr.ID, HasID: fr.HasID, RawID: string(fr.RawID),
				Result: string(fr.Result), Code: fr.Code, Msg: string(fr.Msg), Time: fr.Time, More: fr.More,
			})
			if !fr.More {
				return out
			}
		}
		if n > 1000 {
			return out
		}
		var ok bool
		ok, err = p.Next()
		if !ok && err == nil {
			return out
		}
	}
}

// checkSameAsGeneric parses frame with fast (a parser reused across
// frames, as a connection's is) and with a fresh generic-only parser.
func checkSameAsGeneric(t testing.TB, fast *binance.Parser, m binance.Market, raw string, frame []byte) {
	t.Helper()
	gen := binance.NewParser(m, binance.ParserOptions{})
	binance.GenericOnly(gen)
	if raw != "" {
		gen.SetRawStream(mustStream(t, raw))
	}
	got, want := results(fast, frame), results(gen, frame)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fast and generic paths differ on %s\nfast    %+v\ngeneric %+v", frame, got, want)
	}
}

// compact writes v as compact JSON with keys in the order given by order
// (nil: a random order from rng).
func compact(buf *bytes.Buffer, v any, rng *rand.Rand) {
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
			kb, _ := json.Marshal(k)
			buf.Write(kb)
			buf.WriteByte(':')
			compact(buf, x[k], rng)
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			compact(buf, e, rng)
		}
		buf.WriteByte(']')
	default:
		b, _ := json.Marshal(x)
		buf.Write(b)
	}
}

func decodeNumber(t testing.TB, b []byte) any {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestFastPathTakesRecordedFrames: every recorded market-data frame the
// parser maps, and every benchmark frame, goes through the fast path (a
// regression here is a silent slowdown, so it is a test failure).
func TestFastPathTakesRecordedFrames(t *testing.T) {
	n := 0
	for _, s := range streamSamples(t) {
		if strings.Contains(s.file, ".docs.") || strings.Contains(s.file, "-control") {
			continue
		}
		p := binance.NewParser(s.market, binance.ParserOptions{})
		if _, err := p.Parse(s.data, 1); err != nil {
			continue
		}
		if !binance.TakesFastPath(p, s.data) {
			t.Errorf("%s:%d: not taken by the fast path: %s", s.file, s.line, s.data)
		}
		n++
	}
	if n < 2500 {
		t.Fatalf("only %d recorded frames", n)
	}
	for _, set := range benchSets {
		p := binance.NewParser(set.market, binance.ParserOptions{})
		for _, f := range set.files {
			for _, line := range readLines(t, filepath.Join("testdata", f)) {
				if set.stream != "" {
					line = []byte(`{"stream":` + strconv.Quote(set.stream) + `,"data":` + string(line) + `}`)
				}
				if !binance.TakesFastPath(p, line) {
					t.Errorf("%s: benchmark frame not taken by the fast path: %s", set.name, line)
				}
			}
		}
	}
}

// TestFastPathMatchesGeneric compares the two paths on every sample, on
// compact re-encodings in random key orders, and on each member of each
// sample replaced by values of other types, removed or duplicated.
func TestFastPathMatchesGeneric(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	replacements := []string{`null`, `""`, `"x"`, `"1.5"`, `"-0.25"`, `1`, `-7`, `1.5`, `1e3`, `true`, `false`, `{}`, `[]`,
		`[["1","2"]]`, `"BTCUSDT"`, `"99999999999999999999"`, `12345678901234567890`, `"1m"`, `"tr\u0061de"`}
	parsers := map[binance.Market]*binance.Parser{}
	var buf bytes.Buffer
	checked := 0
	for _, s := range streamSamples(t) {
		raw := rawStreamFor(s.file)
		fast := parsers[s.market]
		if fast == nil || raw != "" {
			fast = binance.NewParser(s.market, binance.ParserOptions{})
			if raw != "" {
				fast.SetRawStream(mustStream(t, raw))
			} else {
				parsers[s.market] = fast
			}
		}
		checkSameAsGeneric(t, fast, s.market, raw, s.data)
		checked++
		v := decodeNumber(t, s.data)
		for round := 0; round < 2; round++ {
			buf.Reset()
			compact(&buf, v, rng)
			checkSameAsGeneric(t, fast, s.market, raw, buf.Bytes())
			checked++
		}
		// Corrupt each member of the event object (the payload of a
		// combined frame) and of its nested object.
		if s.line > 3 { // the first lines of each file are enough
			continue
		}
		top, ok := v.(map[string]any)
		if !ok {
			continue
		}
		ev := top
		if d, ok := top["data"].(map[string]any); ok {
			ev = d
		}
		objs := []map[string]any{ev}
		for _, k := range []string{"k", "o"} {
			if in, ok := ev[k].(map[string]any); ok {
				objs = append(objs, in)
			}
		}
		for _, o := range objs {
			keys := make([]string, 0, len(o))
			for k := range o {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				orig := o[k]
				delete(o, k)
				buf.Reset()
				compact(&buf, v, rand.New(rand.NewSource(int64(checked))))
				checkSameAsGeneric(t, fast, s.market, raw, buf.Bytes())
				for _, r := range replacements {
					o[k] = json.RawMessage(r)
					buf.Reset()
					compact(&buf, v, rand.New(rand.NewSource(int64(checked))))
					checkSameAsGeneric(t, fast, s.market, raw, buf.Bytes())
					// The same key twice: the last one counts.
					frame := buf.Bytes()
					dup := []byte(`,` + strconv.Quote(k) + `:` + string(mustJSON(t, orig)))
					if i := bytes.Index(frame, []byte(`"`+k+`":`+r)); i >= 0 {
						end := i + len(k) + 3 + len(r)
						twice := append(append(append([]byte(nil), frame[:end]...), dup...), frame[end:]...)
						checkSameAsGeneric(t, fast, s.market, raw, twice)
						checked++
					}
					checked++
				}
				o[k] = orig
			}
		}
		// Extra members of every kind, and truncations.
		for _, extra := range []string{`"st":1`, `"nq":"1"`, `"id":1`, `"result":null`, `"code":1`, `"zz":{}`, `"b":[]`, `"bids":[]`,
			`"lastUpdateId":1`, `"stream":"x"`, `"data":{}`, `"error":{"code":1}`, `"k":{"t":1}`, `"ps":"X"`, `"pu":5`, `"ap":"1"`} {
			buf.Reset()
			compact(&buf, v, rand.New(rand.NewSource(1)))
			frame := buf.Bytes()
			if i := bytes.LastIndex(frame, []byte("}")); i > 0 {
				for _, at := range []int{bytes.Index(frame, []byte(`,`)) + 1, i} {
					if at <= 0 {
						continue
					}
					sep := []byte(",")
					var f []byte
					if at == i {
						f = append(append(append(append([]byte(nil), frame[:at]...), sep...), extra...), frame[at:]...)
					} else {
						f = append(append(append(append([]byte(nil), frame[:at]...), extra...), sep...), frame[at:]...)
					}
					checkSameAsGeneric(t, fast, s.market, raw, f)
					checked++
				}
			}
		}
		for cut := 1; cut < len(s.data); cut += 1 + len(s.data)/40 {
			checkSameAsGeneric(t, fast, s.market, raw, s.data[:cut])
			checked++
		}
	}
	t.Logf("%d frames compared", checked)
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFastPathTimeUnitAndRawStream(t *testing.T) {
	frames := []string{
		`{"e":"trade","E":1672515782136123,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136456,"m":true,"M":true}`,
		`{"e":"trade","E":9223372036854775,"s":"BNBBTC","t":1,"p":"1","q":"1","T":9223372036854776,"m":true}`,
		`{"e":"bookTicker","u":1,"s":"BNBBTC","b":"1","B":"2","a":"3","A":"4"}`,
		`{"u":1,"s":"BNBBTC","b":"1","B":"2","a":"3","A":"4"}`,
		`{"u":1,"s":"BNBBTC","b":"1","B":"2","a":"3","A":"4","id":5}`,
		`{"e":"kline","E":1,"k":{"t":1,"T":2,"s":"BNBBTC","i":"1m","f":1,"L":2,"o":"1","c":"1","h":"1","l":"1","v":"1","n":1,"x":false,"q":"1","V":"1","Q":"1"}}`,
		`{"e":"kline","E":1,"s":"ABC","k":{"t":1,"T":2,"s":"BNBBTC","i":"1m","f":1,"L":2,"o":"1","c":"1","h":"1","l":"1","v":"1","n":1,"x":false,"q":"1","V":"1","Q":"1"}}`,
		`{"e":"kline","E":1,"k":{"t":1,"T":2,"i":"1m","f":1,"L":2,"o":"1","c":"1","h":"1","l":"1","v":"1","n":1,"x":false,"q":"1","V":"1","Q":"1"}}`,
		`{"e":"kline","E":1,"k":{"t":1,"T":2,"s":"","i":"1m","f":1,"L":2,"o":"1","c":"1","h":"1","l":"1","v":"1","n":1,"x":false,"q":"1","V":"1","Q":"1"}}`,
		`{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}`,
		`{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]],"E":5,"T":6,"x":1}`,
		`{"lastUpdateId":160,"bids":[],"asks":[],"b":[["1","1"]]}`,
		`{"lastUpdateId":160,"bids":[],"asks":[],"id":1}`,
		`{"lastUpdateId":160,"bids":[],"asks":[],"e":"depthUpdate"}`,
		`{"lastUpdateId":160,"bids":[]}`,
		`X"u":1,"s":"BNBBTC","b":"1","B":"2","a":"3","A":"4"}`,
		`X"lastUpdateId":160,"bids":[],"asks":[]}`,
		`{"u":1,"s":"BNBBTC","b":"1","B":"2","a":"3","A":"4"} `,
		`{"u":1,"s":"bnbbtc","b":"1","B":"2","a":"3","A":"4","e":"bookTicker"}`,
		`{"u":1,"s":"BNBBTC","b":"1","B":"2","a":"3","A":"4","e":"bookTicker","e":"bookTicker"}`,
	}
	for _, unit := range []binance.TimeUnit{binance.Millisecond, binance.Microsecond} {
		for _, raw := range []string{"", "bnbbtc@trade", "bnbbtc@bookTicker", "bnbbtc@kline_1m", "bnbbtc@kline_5m", "bnbbtc@depth5", "bnbbtc@depth20@100ms"} {
			for _, m := range []binance.Market{binance.Spot, binance.USDM} {
				for _, f := range frames {
					fast := binance.NewParser(m, binance.ParserOptions{TimeUnit: unit})
					gen := binance.NewParser(m, binance.ParserOptions{TimeUnit: unit})
					binance.GenericOnly(gen)
					if raw != "" {
						fast.SetRawStream(mustStream(t, raw))
						gen.SetRawStream(mustStream(t, raw))
					}
					got, want := results(fast, []byte(f)), results(gen, []byte(f))
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("unit %v raw %q %s\nfast    %+v\ngeneric %+v", unit, raw, f, got, want)
					}
				}
			}
		}
	}
}

func TestEventNameWords(t *testing.T) {
	for _, name := range []string{"trade", "aggTrade", "depthUpdate", "bookTicker", "kline", "24hrTicker", "24hrMiniTicker",
		"markPriceUpdate", "forceOrder", "indexPriceUpdate"} {
		frame := []byte(`{"e":"` + name + `","E":1}`)
		if !binance.KnownEventName(frame, 6) {
			t.Errorf("%s: not recognized", name)
		}
		for cut := 6; cut < 6+len(name)+3; cut++ {
			// Any other byte in the name or the `","` after it is not.
			other := append(append([]byte(nil), frame[:cut]...), 'X')
			other = append(other, frame[cut+1:]...)
			if binance.KnownEventName(other, 6) {
				t.Errorf("%s: %q recognized", name, other)
			}
		}
	}
}

// TestFastPathArrays: elements of all-market arrays go through the fast
// path one by one, falling back per element.
func TestFastPathArrays(t *testing.T) {
	mp := func(sym, p string) string {
		return `{"e":"markPriceUpdate","E":1562305380000,"s":"` + sym + `","p":"` + p + `","i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}`
	}
	frames := []string{
		`{"stream":"!markPrice@arr@1s","data":[` + mp("BTCUSDT", "11794.15000000") + `,` + mp("ETHUSDT", "300.1") + `]}`,
		`{"stream":"!markPrice@arr@1s","data":[` + mp("BTCUSDT", "11794.15000000") + ` , ` + mp("ETHUSDT", "300.1") + ` ]}`,
		`{"stream":"!markPrice@arr@1s","data":[` + mp("BTCUSDT", "1e5") + `,` + mp("ETHUSDT", "300.1") + `]}`,
		`{"stream":"!markPrice@arr@1s","data":[` + mp("BTCUSDT", "1") + `,{"e":"markPriceUpdate","E":1,"s":"X"},` + mp("ETHUSDT", "300.1") + `]}`,
		`{"stream":"!markPrice@arr@1s","data":[` + mp("BTCUSDT", "1") + `,` + mp("ETHUSDT", "300.1") + `,]}`,
		`{"stream":"!markPrice@arr@1s","data":[` + mp("BTCUSDT", "1") + `,{"e":"trade"}]}`,
		`{"stream":"!miniTicker@arr","data":[{"e":"24hrMiniTicker","E":123456789,"s":"BNBBTC","c":"0.0025","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"},{"e":"24hrMiniTicker","E":123456789,"s":"ETHBTC","c":"0.0025","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"}]}`,
		`[` + mp("BTCUSDT", "1") + `,` + mp("ETHUSDT", "2") + `]`,
	}
	for _, f := range frames {
		for _, m := range []binance.Market{binance.Spot, binance.USDM} {
			fast := binance.NewParser(m, binance.ParserOptions{})
			checkSameAsGeneric(t, fast, m, "", []byte(f))
		}
	}
}

func TestWrapperWords(t *testing.T) {
	p := binance.NewParser(binance.Spot, binance.ParserOptions{})
	good := `{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true}}`
	if !binance.TakesFastPath(p, []byte(good)) {
		t.Fatalf("not taken: %s", good)
	}
	// Any other byte in the wrapper's fixed text is not the fast path's.
	for _, at := range []int{0, 1, 5, 8, 9, 10, 25, 26, 30, 33, 34} {
		bad := []byte(good)
		bad[at] = 'X'
		if binance.TakesFastPath(p, bad) {
			t.Errorf("taken with byte %d changed: %s", at, bad)
		}
	}
}
