package decode

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/sbecodec"
	"github.com/ims-dev/ims/sbe/binancesbe"
	"github.com/ims-dev/ims/sbe/sbert"
)

// tradeBarHex is the worked example of docs/original-system.md §1.4.
const tradeBarHex = "3000cd0001000100cd00425443555344540000000000000000000000000000401e18240a06005275380000000000027d0000000000000004"

const tradeBarJSON = `{"name":"TradeBar","templateId":205,"schemaId":1,"version":1,"messageType":"TradeBar","symbolID":"BTCUSDT","dateTime":1700000000000000,"price":"37000.50","volume":"0.0125"}`

func tradeBar(t testing.TB) []byte {
	b, err := hex.DecodeString(tradeBarHex)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// binanceTrades builds a TradesStreamEvent with n trades.
func binanceTrades(t testing.TB, n int) []byte {
	buf := make([]byte, 8+18+6+25*n+1+7)
	var m binancesbe.TradesStreamEvent
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	m.SetEventTime(1700000000123456)
	m.SetTransactTime(1700000000123000)
	m.SetPriceExponent(-2)
	m.SetQtyExponent(-3)
	g, err := m.TradesCount(n)
	if err != nil {
		t.Fatal(err)
	}
	for g.Next() {
		g.SetID(int64(g.Index() + 1))
		g.SetPrice(3700050)
		g.SetQty(125)
		g.SetIsBuyerMaker(binancesbe.BoolEnumFalse)
	}
	if err := m.SetSymbolString("BTCUSDT"); err != nil {
		t.Fatal(err)
	}
	return buf
}

// mixed is a stream of messages of both schemas, with groups and var data.
func mixed(t testing.TB) ([]byte, []string) {
	var stream []byte
	var names []string
	add := func(msg []byte, name string) {
		stream = append(stream, msg...)
		names = append(names, name)
	}
	add(tradeBar(t), "TradeBar")
	sym, _ := market.NewSymbol("ETHUSDT")
	tr := market.Trade{Header: market.Header{Exchange: market.ExchangeBinanceSpot, Symbol: sym}, TradeID: 7, Price: market.MustDecimal("2000.5")}
	add(sbecodec.AppendTrade(nil, &tr), "Trade")
	add(binanceTrades(t, 3), "TradesStreamEvent")
	d := market.DepthUpdate{Header: tr.Header, Bids: make([]market.Level, 20), Asks: make([]market.Level, 1)}
	msg, _ := sbecodec.AppendDepthUpdate(nil, &d)
	add(msg, "DepthUpdate")
	st := market.Status{Header: tr.Header, Kind: market.StatusReconnected, Detail: "after 2 attempts"}
	msg, _ = sbecodec.AppendStatus(nil, &st)
	add(msg, "Status")
	add(tradeBar(t), "TradeBar")
	return stream, names
}

type run struct {
	out    string
	errs   []string
	res    Result
	err    error
	before []string // output already written when each error was reported
}

func decodeAll(t testing.TB, r io.Reader, opts Options) run {
	var out bytes.Buffer
	var rr run
	rr.res, rr.err = Run(context.Background(), r, &out, opts, func(e *Error) {
		rr.errs = append(rr.errs, e.Error())
		rr.before = append(rr.before, out.String())
	})
	rr.out = out.String()
	return rr
}

func names(t testing.TB, out string) []string {
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var v struct{ Name string }
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("invalid JSON line %q: %v", line, err)
		}
		got = append(got, v.Name)
	}
	return got
}

func TestRawStream(t *testing.T) {
	stream, want := mixed(t)
	for name, r := range map[string]func() io.Reader{
		"whole":     func() io.Reader { return bytes.NewReader(stream) },
		"one byte":  func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"half":      func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) },
		"data+err":  func() io.Reader { return iotest.DataErrReader(bytes.NewReader(stream)) },
		"multipart": func() io.Reader { return io.MultiReader(bytes.NewReader(stream[:30]), bytes.NewReader(stream[30:])) },
	} {
		t.Run(name, func(t *testing.T) {
			rr := decodeAll(t, r(), Options{Format: sbert.FormatJSON})
			if rr.err != nil || len(rr.errs) > 0 {
				t.Fatalf("err %v, reports %v", rr.err, rr.errs)
			}
			if got := names(t, rr.out); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("messages %v, want %v", got, want)
			}
			if rr.res.Messages != len(want) || rr.res.Bytes != int64(len(stream)) {
				t.Fatalf("result %+v", rr.res)
			}
		})
	}
	rr := decodeAll(t, bytes.NewReader(stream), Options{Format: sbert.FormatText})
	lines := strings.Split(strings.TrimSuffix(rr.out, "\n"), "\n")
	if len(lines) != len(want) || !strings.HasPrefix(lines[2], "TradesStreamEvent eventTime=2023-11-14T22:13:20.123456Z ") ||
		!strings.Contains(lines[2], "trades=[{id=1 price=37000.50 qty=0.125 isBuyerMaker=False isBestMatch=True} ") ||
		!strings.HasSuffix(lines[4], ` kind=Reconnected gapFrom=0 gapTo=0 detail="after 2 attempts"`) {
		t.Fatalf("text:\n%s", rr.out)
	}
}

func TestRawTruncated(t *testing.T) {
	stream, want := mixed(t)
	last := len(stream) - 56
	for _, cut := range []int{last + 12, last + 1, last + 55} {
		rr := decodeAll(t, iotest.OneByteReader(bytes.NewReader(stream[:cut])), Options{Format: sbert.FormatJSON})
		if rr.err != nil {
			t.Fatal(rr.err)
		}
		if got := names(t, rr.out); len(got) != len(want)-1 {
			t.Fatalf("cut %d: %d messages before the error", cut, len(got))
		}
		wantErr := "offset " + strconv.Itoa(last) + ": truncated TradeBar: need 56 bytes, have " + strconv.Itoa(cut-last)
		if cut-last < 8 {
			wantErr = "offset " + strconv.Itoa(last) + ": truncated message header: need 8 bytes, have " + strconv.Itoa(cut-last)
		}
		if len(rr.errs) != 1 || rr.errs[0] != wantErr {
			t.Fatalf("cut %d: errors %q, want %q", cut, rr.errs, wantErr)
		}
		if rr.before[0] != rr.out {
			t.Fatal("output not flushed before the error was reported")
		}
	}
	// Truncated inside a group of the middle message.
	rr := decodeAll(t, bytes.NewReader(stream[:56+81+40]), Options{})
	if len(rr.errs) != 1 || rr.errs[0] != "offset 137: truncated TradesStreamEvent group trades: need 107 bytes, have 40" {
		t.Fatalf("errors %q", rr.errs)
	}
}

func TestRawUnknownStops(t *testing.T) {
	tb := tradeBar(t)
	unk := append([]byte(nil), tb...)
	binary.LittleEndian.PutUint16(unk[2:], 999)
	stream := append(append(append([]byte(nil), tb...), unk...), tb...)
	rr := decodeAll(t, bytes.NewReader(stream), Options{Format: sbert.FormatJSON})
	if rr.out != tradeBarJSON+"\n" || rr.res.Messages != 1 || rr.res.Errors != 1 {
		t.Fatalf("out %q, res %+v", rr.out, rr.res)
	}
	want := "offset 56: unknown message: schema id 1, template 999 (version 1, blockLength 48) is not an ims or binance-stream message"
	if len(rr.errs) != 1 || rr.errs[0] != want {
		t.Fatalf("errors %q", rr.errs)
	}
	// A wrong schema id is unknown too.
	other := append([]byte(nil), tb...)
	binary.LittleEndian.PutUint16(other[4:], 3)
	rr = decodeAll(t, bytes.NewReader(other), Options{})
	if len(rr.errs) != 1 || !strings.Contains(rr.errs[0], "schema id 3, template 205") {
		t.Fatalf("errors %q", rr.errs)
	}
	// Forcing the schema decodes it anyway and reports the header's values.
	rr = decodeAll(t, bytes.NewReader(other), Options{Format: sbert.FormatJSON, Schema: "ims"})
	if len(rr.errs) != 0 || !strings.HasPrefix(rr.out, `{"name":"TradeBar","templateId":205,"schemaId":3,"version":1,`) {
		t.Fatalf("forced: %q %q", rr.out, rr.errs)
	}
	// Forcing the other schema fails on the template.
	rr = decodeAll(t, bytes.NewReader(tb), Options{Schema: "binance-stream"})
	if len(rr.errs) != 1 || !strings.Contains(rr.errs[0], "is not in schema binance-stream") {
		t.Fatalf("forced other: %q", rr.errs)
	}
}

func TestRawOversize(t *testing.T) {
	msg := binanceTrades(t, 1)
	binary.LittleEndian.PutUint32(msg[8+18+2:], 1<<31-1) // numInGroup: legal, huge
	endless := io.MultiReader(bytes.NewReader(msg), zeros{})
	rr := decodeAll(t, endless, Options{MaxMessageSize: 1 << 20})
	want := "offset 0: message declares more than the 1048576-byte limit"
	if len(rr.errs) != 1 || rr.errs[0] != want {
		t.Fatalf("errors %q", rr.errs)
	}
	if rr.res.Bytes > 1<<20 {
		t.Fatalf("read %d bytes", rr.res.Bytes)
	}
	// The same when the input ends there, however it is read.
	for _, r := range []io.Reader{bytes.NewReader(msg), iotest.OneByteReader(bytes.NewReader(msg))} {
		rr = decodeAll(t, r, Options{MaxMessageSize: 1 << 20})
		if len(rr.errs) != 1 || rr.errs[0] != want {
			t.Fatalf("errors %q", rr.errs)
		}
	}
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestCount(t *testing.T) {
	stream, _ := mixed(t)
	rr := decodeAll(t, bytes.NewReader(stream), Options{Format: sbert.FormatJSON, Count: 2})
	if got := names(t, rr.out); strings.Join(got, ",") != "TradeBar,Trade" || rr.res.Messages != 2 {
		t.Fatalf("messages %v", got)
	}
	lines := tradeBarHex + "\n" + tradeBarHex + "\n" + tradeBarHex + "\n"
	rr = decodeAll(t, strings.NewReader(lines), Options{Input: Hex, Count: 1})
	if strings.Count(rr.out, "\n") != 1 {
		t.Fatalf("hex count: %q", rr.out)
	}
}

func TestHexLines(t *testing.T) {
	spaced := tradeBarHex[:16] + " " + tradeBarHex[16:40] + "\t" + tradeBarHex[40:]
	in := strings.Join([]string{
		tradeBarHex,                         // 1
		"",                                  // 2 blank
		"   ",                               // 3 blank
		"  " + spaced + " ",                 // 4
		"0x" + strings.ToUpper(tradeBarHex), // 5
		"zz",                                // 6 bad
		tradeBarHex + "00",                  // 7 trailing byte
		"3000",                              // 8 short
		"abc",                               // 9 odd
		tradeBarHex + "\r",                  // 10 CRLF
	}, "\n") // no final newline
	rr := decodeAll(t, strings.NewReader(in), Options{Format: sbert.FormatJSON, Input: Hex})
	if rr.err != nil {
		t.Fatal(rr.err)
	}
	if strings.Count(rr.out, tradeBarJSON+"\n") != 5 {
		t.Fatalf("out:\n%s", rr.out)
	}
	want := []string{
		"line 6: invalid hex: encoding/hex: invalid byte: U+007A 'z'",
		"line 7: 1 byte after the end of the message (one message per line)",
		"line 8: truncated message header: need 8 bytes, have 2",
		"line 9: invalid hex: odd number of digits",
	}
	if strings.Join(rr.errs, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(rr.errs, "\n"), strings.Join(want, "\n"))
	}
	if rr.res.Errors != 4 || rr.res.Messages != 5 {
		t.Fatalf("result %+v", rr.res)
	}
}

// TestHexTokenPrefixes: hex copied from C arrays, debuggers and packet
// dumps puts 0x before every byte or word ("0x30 0x00", "0x30, 0x00,");
// every group's prefix is dropped, not only the line's. A UTF-8 byte order
// mark that editors put at the start of a file is ignored.
func TestHexTokenPrefixes(t *testing.T) {
	b := tradeBar(t)
	var perByte, commas, words []string
	for i, c := range b {
		perByte = append(perByte, "0x"+hex.EncodeToString([]byte{c}))
		commas = append(commas, "0X"+strings.ToUpper(hex.EncodeToString([]byte{c}))+",")
		if i%4 == 0 {
			words = append(words, "0x"+hex.EncodeToString(b[i:min(i+4, len(b))]))
		}
	}
	in := strings.Join([]string{
		"\ufeff" + tradeBarHex,     // 1 BOM
		strings.Join(perByte, " "), // 2
		strings.Join(commas, " "),  // 3
		strings.Join(words, "\t"),  // 4
		"0x30 0x0x00",              // 5 bad: 0x inside a group
		"30x0",                     // 6 bad: x inside a group
	}, "\r\n")
	rr := decodeAll(t, strings.NewReader(in), Options{Format: sbert.FormatJSON, Input: Hex})
	if rr.err != nil {
		t.Fatal(rr.err)
	}
	if strings.Count(rr.out, tradeBarJSON+"\n") != 4 || rr.res.Messages != 4 {
		t.Fatalf("out:\n%s\nerrors %q", rr.out, rr.errs)
	}
	if len(rr.errs) != 2 || !strings.HasPrefix(rr.errs[0], "line 5: invalid hex") || !strings.HasPrefix(rr.errs[1], "line 6: invalid hex") {
		t.Fatalf("errors %q", rr.errs)
	}
	// A BOM before base64 is ignored too.
	rr = decodeAll(t, strings.NewReader("\ufeff"+base64.StdEncoding.EncodeToString(b)+"\n"), Options{Format: sbert.FormatJSON, Input: Base64})
	if rr.out != tradeBarJSON+"\n" || len(rr.errs) != 0 {
		t.Fatalf("base64 with BOM: %q %q", rr.out, rr.errs)
	}
}

func TestBase64Lines(t *testing.T) {
	tb := tradeBar(t)
	bin := binanceTrades(t, 2)
	in := strings.Join([]string{
		base64.StdEncoding.EncodeToString(tb),
		base64.RawStdEncoding.EncodeToString(bin),
		base64.URLEncoding.EncodeToString(bin),
		base64.RawURLEncoding.EncodeToString(tb),
		"!!!",
	}, "\n") + "\n"
	rr := decodeAll(t, strings.NewReader(in), Options{Format: sbert.FormatJSON, Input: Base64})
	if got := names(t, rr.out); strings.Join(got, ",") != "TradeBar,TradesStreamEvent,TradesStreamEvent,TradeBar" {
		t.Fatalf("messages %v", got)
	}
	if len(rr.errs) != 1 || !strings.HasPrefix(rr.errs[0], "line 5: invalid base64: ") {
		t.Fatalf("errors %q", rr.errs)
	}
}

func TestLongLine(t *testing.T) {
	in := strings.Repeat("ab", 5000) + "\n" + tradeBarHex + "\n"
	rr := decodeAll(t, strings.NewReader(in), Options{Input: Hex, MaxMessageSize: 1000})
	if len(rr.errs) != 1 || rr.errs[0] != "line 1: line longer than 4024 bytes" || rr.res.Messages != 1 {
		t.Fatalf("errors %q, result %+v", rr.errs, rr.res)
	}
}

func TestEmptyInput(t *testing.T) {
	for _, in := range []Input{Raw, Hex, Base64} {
		rr := decodeAll(t, strings.NewReader(""), Options{Input: in})
		if rr.err != nil || rr.out != "" || len(rr.errs) != 0 {
			t.Fatalf("%v: %+v", in, rr)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestIOErrors(t *testing.T) {
	stream, _ := mixed(t)
	_, err := Run(context.Background(), iotest.ErrReader(errors.New("boom")), io.Discard, Options{}, nil)
	if err == nil || err.Error() != "reading input at offset 0: boom" {
		t.Fatalf("read error: %v", err)
	}
	big := bytes.Repeat(stream, 2000) // more than the output buffer
	_, err = Run(context.Background(), bytes.NewReader(big), failWriter{}, Options{}, nil)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("write error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, bytes.NewReader(stream), io.Discard, Options{}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
	if _, err := Run(context.Background(), bytes.NewReader(stream), io.Discard, Options{Schema: "nope"}, nil); err == nil {
		t.Fatal("unknown schema accepted")
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	// A file whose name is valid hex: the file wins.
	name := filepath.Join(dir, "abcd")
	if err := os.WriteFile(name, []byte("file"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Open(name, Hex, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(src)
	src.Close()
	if string(b) != "file" || src.Name != name {
		t.Fatalf("file: %q %q", b, src.Name)
	}
	// Hex that is not a file is data.
	src, err = Open(tradeBarHex, Hex, nil)
	if err != nil || src.Name != "argument" {
		t.Fatalf("hex argument: %v", err)
	}
	// Base64 likewise, but only when valid.
	src, err = Open(base64.StdEncoding.EncodeToString(tradeBar(t)), Base64, nil)
	if err != nil || src.Name != "argument" {
		t.Fatalf("base64 argument: %v", err)
	}
	for _, tc := range []struct {
		arg  string
		in   Input
		want string
	}{
		{tradeBarHex, Raw, "no such file"},
		{"not-hex", Hex, `"not-hex" is neither an existing file nor valid hex data`},
		{"???", Base64, "nor valid base64 data"},
		{dir, Hex, "is a directory"},
		{"   ", Hex, "neither an existing file"},
	} {
		if _, err := Open(tc.arg, tc.in, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q, %v) = %v, want %q", tc.arg, tc.in, err, tc.want)
		}
	}
	stdin := strings.NewReader("x")
	for _, arg := range []string{"", "-"} {
		if src, err := Open(arg, Raw, stdin); err != nil || src.Reader != io.Reader(stdin) || src.Name != "stdin" || src.Close() != nil {
			t.Fatalf("stdin %q: %v", arg, err)
		}
	}
}

func FuzzRaw(f *testing.F) {
	stream, _ := mixed(f)
	f.Add(stream)
	f.Add(tradeBar(f)[:20])
	f.Fuzz(func(t *testing.T, data []byte) {
		rr := decodeAll(t, bytes.NewReader(data), Options{Format: sbert.FormatJSON, MaxMessageSize: 1 << 16})
		if rr.err != nil {
			t.Fatal(rr.err)
		}
		if len(rr.errs) > 1 {
			t.Fatalf("raw mode reported %d errors", len(rr.errs))
		}
		if n := strings.Count(rr.out, "\n"); n != rr.res.Messages {
			t.Fatalf("%d lines for %d messages", n, rr.res.Messages)
		}
		for _, line := range strings.Split(strings.TrimSuffix(rr.out, "\n"), "\n") {
			if line != "" && !json.Valid([]byte(line)) {
				t.Fatalf("invalid JSON %q", line)
			}
		}
		// The same input one byte at a time gives the same result.
		rr2 := decodeAll(t, iotest.OneByteReader(bytes.NewReader(data)), Options{Format: sbert.FormatJSON, MaxMessageSize: 1 << 16})
		if rr2.out != rr.out || strings.Join(rr2.errs, "|") != strings.Join(rr.errs, "|") {
			t.Fatalf("chunking changed the result:\n%q %q\n%q %q", rr.out, rr.errs, rr2.out, rr2.errs)
		}
	})
}

func FuzzLines(f *testing.F) {
	f.Add([]byte(tradeBarHex + "\n\nzz\n0x" + tradeBarHex))
	f.Add([]byte(base64.StdEncoding.EncodeToString(tradeBar(f))))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range []Input{Hex, Base64} {
			rr := decodeAll(t, bytes.NewReader(data), Options{Input: in, MaxMessageSize: 1 << 12})
			if rr.err != nil {
				t.Fatal(rr.err)
			}
			if n := strings.Count(rr.out, "\n"); n != rr.res.Messages {
				t.Fatalf("%d lines for %d messages", n, rr.res.Messages)
			}
		}
	})
}

func BenchmarkRawJSON(b *testing.B) {
	one, _ := mixed(b)
	stream := bytes.Repeat(one, 1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		res, err := Run(context.Background(), bytes.NewReader(stream), io.Discard, Options{Format: sbert.FormatJSON}, nil)
		if err != nil || res.Messages != 6000 {
			b.Fatal(res, err)
		}
	}
}

func BenchmarkHexText(b *testing.B) {
	lines := strings.Repeat(tradeBarHex+"\n", 1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(lines)))
	for b.Loop() {
		res, err := Run(context.Background(), strings.NewReader(lines), io.Discard, Options{Input: Hex}, nil)
		if err != nil || res.Messages != 1000 {
			b.Fatal(res, err)
		}
	}
}

// TestNoPerMessageAllocations: a run allocates its buffers once; decoding
// more messages does not allocate more.
func TestNoPerMessageAllocations(t *testing.T) {
	one, _ := mixed(t)
	small, large := bytes.Repeat(one, 10), bytes.Repeat(one, 100)
	hexSmall, hexLarge := strings.Repeat(tradeBarHex+"\n", 60), strings.Repeat(tradeBarHex+"\n", 600)
	for _, tc := range []struct {
		name         string
		opts         Options
		small, large func() io.Reader
	}{
		{"raw json", Options{Format: sbert.FormatJSON}, func() io.Reader { return bytes.NewReader(small) }, func() io.Reader { return bytes.NewReader(large) }},
		{"raw text", Options{}, func() io.Reader { return bytes.NewReader(small) }, func() io.Reader { return bytes.NewReader(large) }},
		{"hex", Options{Input: Hex}, func() io.Reader { return strings.NewReader(hexSmall) }, func() io.Reader { return strings.NewReader(hexLarge) }},
	} {
		allocs := func(r func() io.Reader) float64 {
			return testing.AllocsPerRun(5, func() {
				if _, err := Run(context.Background(), r(), io.Discard, tc.opts, nil); err != nil {
					t.Fatal(err)
				}
			})
		}
		// A message straddling a 64 KiB read boundary costs a truncation
		// error (a few allocations) before more input is read; that scales
		// with the input's chunks, never with its messages.
		chunks := float64(len(large)/(64<<10) + 1)
		if s, l := allocs(tc.small), allocs(tc.large); l > s+4*chunks {
			t.Errorf("%s: %v allocations for 10x the messages, %v for 1x", tc.name, l, s)
		}
	}
}
