package record

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var created = time.Unix(1700000000, 123456789)

func sampleRecords(n int) []Record {
	recs := make([]Record, 0, n)
	t := int64(1633998512068000000)
	for i := range n {
		t += int64(i%7) * 1_000_003
		stream := fmt.Sprintf("sym%dusdt@trade", i%5)
		data := fmt.Sprintf(`{"stream":%q,"data":{"e":"trade","E":%d,"t":%d,"p":"0.0042%d","q":"1"}}`, stream, t/1e6, 1000+i, i%10)
		k := KindText
		switch {
		case i == 0:
			k, data, stream = KindOpen, "ws://127.0.0.1/stream?streams=a/b", ""
		case i%97 == 3:
			k = KindBinary
		case i%89 == 5:
			k, stream = KindREST, fmt.Sprintf("aggTrades?fromId=%d&limit=1000&symbol=SYM%dUSDT", 1000+i, i%5)
			data = fmt.Sprintf(`[{"a":%d,"p":"0.1","q":"2","f":1,"l":1,"T":1,"m":true}]`, 1000+i)
		case i%83 == 7:
			k, data = KindFill, fmt.Sprintf("start %d %d", 1000+i, 1010+i)
		}
		recs = append(recs, Record{Kind: k, Conn: uint32(i % 3), Time: t, Stream: []byte(stream), Data: []byte(data)})
	}
	return recs
}

func writeAll(t testing.TB, recs []Record, opts WriterOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if opts.Created.IsZero() {
		opts.Created = created
	}
	w, err := NewWriter(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(t testing.TB, b []byte) ([]Record, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []Record
	for {
		rec, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, Record{Kind: rec.Kind, Conn: rec.Conn, Time: rec.Time,
			Stream: bytes.Clone(rec.Stream), Data: bytes.Clone(rec.Data)})
	}
}

func equalRecords(t *testing.T, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Kind != w.Kind || g.Conn != w.Conn || g.Time != w.Time ||
			!bytes.Equal(g.Stream, w.Stream) || !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("record %d: got %+v, want %+v", i, g, w)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	recs := sampleRecords(3000)
	b := writeAll(t, recs, WriterOptions{Market: "usdm", FlushFrames: 256, FlushInterval: -1})
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.Market != "usdm" || h.Version != Version || h.Created != created.UnixNano() {
		t.Fatalf("header %+v", h)
	}
	got, err := readAll(t, b)
	if err != nil {
		t.Fatal(err)
	}
	equalRecords(t, got, recs)
}

func TestBlocksCloseOnBytes(t *testing.T) {
	recs := sampleRecords(500)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Created: created, FlushFrames: 1 << 20, FlushBytes: 4096, FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	st := w.Stats()
	if st.Blocks < 5 {
		t.Fatalf("only %d blocks for %d records with 4 KiB blocks", st.Blocks, len(recs))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	equalRecords(t, got, recs)
}

// Every cut of the file ends cleanly: whole blocks before the cut are read,
// and the reader reports the torn block instead of failing or inventing data.
func TestTruncatedAtEveryOffset(t *testing.T) {
	recs := sampleRecords(40)
	b := writeAll(t, recs, WriterOptions{FlushFrames: 8, FlushInterval: -1})
	hdrLen := len(AppendHeader(nil, Header{Version: Version, Created: created.UnixNano()}))
	// Block boundaries, from a full read.
	r, _ := NewReader(bytes.NewReader(b))
	bounds := map[int64]int{int64(hdrLen): 0}
	n := 0
	for {
		_, err := r.Next()
		if err != nil {
			break
		}
		n++
		if n%8 == 0 {
			bounds[r.Offset()] = n
		}
	}
	for cut := 0; cut < len(b); cut++ {
		got, err := readAll(t, b[:cut])
		if cut < hdrLen {
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("cut %d inside the header: err %v, want ErrTruncated", cut, err)
			}
			continue
		}
		if whole, ok := bounds[int64(cut)]; ok {
			if err != nil || len(got) != whole {
				t.Fatalf("cut %d on a block boundary: %d records, err %v; want %d, nil", cut, len(got), err, whole)
			}
			continue
		}
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut %d: err %v, want ErrTruncated", cut, err)
		}
		if len(got)%8 != 0 {
			t.Fatalf("cut %d: %d records, want whole blocks", cut, len(got))
		}
		equalRecords(t, got, recs[:len(got)])
	}
}

func TestCorruptBlockDetected(t *testing.T) {
	recs := sampleRecords(30)
	b := writeAll(t, recs, WriterOptions{FlushFrames: 10, FlushInterval: -1})
	hdrLen := len(AppendHeader(nil, Header{Version: Version, Created: created.UnixNano()}))
	for _, off := range []int{hdrLen + 2, hdrLen + 25, len(b) - 3} {
		c := bytes.Clone(b)
		c[off] ^= 0x40
		_, err := readAll(t, c)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("flipped byte %d: err %v, want ErrCorrupt", off, err)
		}
	}
	c := bytes.Clone(b)
	c[3] = 'X'
	if _, err := readAll(t, c); !errors.Is(err, ErrNotRecording) {
		t.Errorf("bad magic: err %v", err)
	}
	c = bytes.Clone(b)
	c[len(Magic)+13] ^= 1 // created time, covered by the header CRC
	if _, err := readAll(t, c); !errors.Is(err, ErrCorrupt) {
		t.Errorf("bad header crc: err %v", err)
	}
}

// A reader follows a file while it is written: whole blocks appear as soon
// as they are flushed, and a half-written block is reported and then read
// once the rest arrives.
func TestFollowWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.ims")
	w, err := Create(path, WriterOptions{Market: "spot", Created: created, FlushFrames: 5, FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	recs := sampleRecords(23)
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := 0
	drain := func() error {
		for {
			rec, err := r.Next()
			if err != nil {
				return err
			}
			want := recs[got]
			if rec.Time != want.Time || !bytes.Equal(rec.Data, want.Data) {
				t.Fatalf("record %d differs", got)
			}
			got++
		}
	}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
		if err := drain(); !errors.Is(err, io.EOF) {
			t.Fatalf("after %d writes: %v", i+1, err)
		}
		if want := (i + 1) / 5 * 5; got != want {
			t.Fatalf("after %d writes read %d, want %d", i+1, got, want)
		}
	}
	// Append half of a block by hand, as a writer killed mid-write would.
	var half bytes.Buffer
	hw, _ := NewWriter(&half, WriterOptions{Created: created, FlushInterval: -1})
	_ = hw.Write(&recs[0])
	_ = hw.Close()
	block := half.Bytes()[len(AppendHeader(nil, Header{Version: Version, Created: created.UnixNano()})):]
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	defer f.Close()
	if err := w.Flush(); err != nil { // the 3 buffered records
		t.Fatal(err)
	}
	if _, err := f.Write(block[:len(block)/2]); err != nil {
		t.Fatal(err)
	}
	if err := drain(); !errors.Is(err, ErrTruncated) {
		t.Fatalf("half block: err %v, want ErrTruncated", err)
	}
	if got != 23 {
		t.Fatalf("read %d records before the torn block, want 23", got)
	}
	if _, err := f.Write(block[len(block)/2:]); err != nil {
		t.Fatal(err)
	}
	recs = append(recs, recs[0])
	if err := drain(); !errors.Is(err, io.EOF) {
		t.Fatalf("completed block: err %v", err)
	}
	if got != 24 {
		t.Fatalf("read %d records, want 24", got)
	}
}

func TestTimedFlush(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Created: created, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	recs := sampleRecords(3)
	for i := range recs {
		_ = w.Write(&recs[i])
	}
	if st := w.Stats(); st.Blocks != 0 || st.Pending != 3 {
		t.Fatalf("before the timer: %+v", st)
	}
	w.timedFlush() // what the timer calls
	if st := w.Stats(); st.Blocks != 1 || st.Records != 3 || st.Pending != 0 {
		t.Fatalf("after the timer: %+v", st)
	}
	_ = w.Write(&recs[0])
	gen := w.timerGen
	_ = w.Flush()
	_ = w.Write(&recs[1])
	w.timerGen = gen // a stale timer firing for the flushed block
	w.timedFlush()
	if st := w.Stats(); st.Blocks != 2 || st.Pending != 1 {
		t.Fatalf("stale timer flushed the new block: %+v", st)
	}
	_ = w.Close()
	if err := w.Write(&recs[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestWriteErrorIsSticky(t *testing.T) {
	fw := &failWriter{after: 1}
	w, err := NewWriter(fw, WriterOptions{FlushFrames: 1, FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	recs := sampleRecords(2)
	if err := w.Write(&recs[0]); err == nil {
		t.Fatal("write to a failing writer succeeded")
	}
	if err := w.Write(&recs[1]); err == nil {
		t.Fatal("second write after a failure succeeded")
	}
	if err := w.Close(); err == nil {
		t.Fatal("close after a failure reported nothing")
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after == 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestPlayerPacing(t *testing.T) {
	recs := sampleRecords(50)
	b := writeAll(t, recs, WriterOptions{FlushFrames: 16})
	clock := time.Unix(0, 0)
	var slept time.Duration
	p := Player{
		Speed: 4,
		Now:   func() time.Time { return clock },
		Sleep: func(_ context.Context, d time.Duration) error { slept += d; clock = clock.Add(d); return nil },
	}
	r, _ := NewReader(bytes.NewReader(b))
	var times []int64
	err := p.Play(context.Background(), r, func(rec *Record) error {
		// Each record is released when the fake clock reaches its due time.
		want := time.Duration(float64(rec.Time-recs[0].Time) / 4)
		if got := clock.Sub(time.Unix(0, 0)); got != want {
			return fmt.Errorf("record at %v released at %v", want, got)
		}
		times = append(times, rec.Time)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 50 {
		t.Fatalf("played %d", len(times))
	}
	if want := time.Duration(float64(recs[49].Time-recs[0].Time) / 4); slept != want {
		t.Fatalf("slept %v, want %v", slept, want)
	}
	// As fast as possible never sleeps.
	r, _ = NewReader(bytes.NewReader(b))
	p = Player{Sleep: func(context.Context, time.Duration) error { t.Fatal("slept at speed 0"); return nil }}
	if err := p.Play(context.Background(), r, func(*Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	// A torn end stops cleanly when asked.
	r, _ = NewReader(bytes.NewReader(b[:len(b)-5]))
	p = Player{StopAtTruncation: true}
	n := 0
	if err := p.Play(context.Background(), r, func(*Record) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(p.Truncated(), ErrTruncated) || n != 48 {
		t.Fatalf("truncated play: %d records, truncated=%v", n, p.Truncated())
	}
}

func TestPlayerCancel(t *testing.T) {
	b := writeAll(t, sampleRecords(10), WriterOptions{})
	r, _ := NewReader(bytes.NewReader(b))
	ctx, cancel := context.WithCancel(context.Background())
	p := Player{Speed: 1}
	err := p.Play(ctx, r, func(*Record) error { cancel(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

// The golden file pins the format: if this fails, the writer changed the
// bytes it produces; bump Version if that is intended.
func TestGolden(t *testing.T) {
	recs := goldenRecords()
	b := writeAll(t, recs, WriterOptions{Market: "spot", FlushFrames: 2, FlushInterval: -1})
	path := filepath.Join("testdata", "golden.ims")
	if os.Getenv("IMS_UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("writer output differs from %s (IMS_UPDATE_GOLDEN=1 rewrites it)", path)
	}
	got, err := readAll(t, want)
	if err != nil {
		t.Fatal(err)
	}
	equalRecords(t, got, recs)
	// The header is plain bytes; pin them exactly.
	hdr := want[:len(AppendHeader(nil, Header{Version: Version, Market: "spot", Created: created.UnixNano()}))]
	wantHdr := []byte("IMSREC\x00\n\x01\x00\x11\x00\x04spot\x15\xcd\x85\x3d\xfe\x9c\x97\x17\x60\xb9\xd1\x4c")
	if !bytes.Equal(hdr[:len(wantHdr)], wantHdr) {
		t.Fatalf("header % x, want % x", hdr[:len(wantHdr)], wantHdr)
	}
	if string(want[len(hdr):len(hdr)+4]) != "IMSB" {
		t.Fatalf("first block magic % x", want[len(hdr):len(hdr)+4])
	}
}

func goldenRecords() []Record {
	return []Record{
		{Kind: KindOpen, Conn: 1, Time: 1633998512000000000, Data: []byte("wss://stream.binance.com:9443/stream?streams=bnbbtc@trade")},
		{Kind: KindText, Conn: 1, Time: 1633998512068123456, Stream: []byte("bnbbtc@trade"),
			Data: []byte(`{"stream":"bnbbtc@trade","data":{"e":"trade","E":1554076800945,"s":"BNBBTC","t":40756030,"p":"0.00426990","q":"33.82000000","b":133829535,"a":133829504,"T":1554076800940,"m":false,"M":true}}`)},
		{Kind: KindText, Conn: 1, Time: 1633998512068200000, Stream: []byte("bnbbtc@trade"),
			Data: []byte(`{"stream":"bnbbtc@trade","data":{"e":"trade","E":1567296001038,"s":"BNBBTC","t":60276726,"p":"0.00219650","q":"6.48000000","b":255533165,"a":255532831,"T":1567296001034,"m":true,"M":true}}`)},
		{Kind: KindClose, Conn: 1, Time: 1633998513000000000, Data: []byte("1000 normal closure")},
	}
}

func BenchmarkWrite(b *testing.B) {
	recs := sampleRecords(1024)
	var size int64
	for i := range recs {
		size += int64(len(recs[i].Data) + len(recs[i].Stream))
	}
	w, err := NewWriter(io.Discard, WriterOptions{FlushInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size / int64(len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := w.Write(&recs[i%len(recs)]); err != nil {
			b.Fatal(err)
		}
	}
	_ = w.Close()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

func BenchmarkRead(b *testing.B) {
	recs := sampleRecords(4096)
	var size int64
	for i := range recs {
		size += int64(len(recs[i].Data) + len(recs[i].Stream))
	}
	file := writeAll(b, recs, WriterOptions{FlushInterval: -1})
	br := bytes.NewReader(file)
	r, err := NewReader(br)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size / int64(len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Next(); err != nil {
			if !errors.Is(err, io.EOF) {
				b.Fatal(err)
			}
			br.Reset(file)
			if r, err = NewReader(br); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
