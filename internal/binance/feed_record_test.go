package binance_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/binance/binancetest"
	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/record"
	"github.com/ims-dev/ims/internal/source"
)

// A live session recorded with --record replays to the same events.
func TestFeedRecordAndReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "session.ims")
	rec, err := record.Create(path, record.WriterOptions{Market: "spot", FlushFrames: 4})
	if err != nil {
		t.Fatal(err)
	}
	ws, url := startFake(t, binancetest.WSConfig{})
	src := binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", src)
	ws.SetSource("btcusdt@kline_1m", binancetest.NewSource([][]byte{[]byte(fdSpotKline)}, binancetest.IDsNone))
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, Recorder: rec}, "btcusdt@trade", "btcusdt@kline_1m")
	e.run(t)
	e.waitConnected(t)
	ws.Emit("btcusdt@trade", 10)
	ws.Emit("btcusdt@kline_1m", 3)
	src.Skip(2)
	ws.Emit("btcusdt@trade", 5)
	ws.Push("btcusdt@trade", []byte(`{"e":"trade","oops"`))
	e.col.wait(t, "live events", func() bool { return len(e.col.trades) == 15 && len(e.col.klines) == 3 })
	e.shutdown(t)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	r, err := record.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Header().Market != "spot" {
		t.Fatalf("header %+v", r.Header())
	}
	col := newCollector()
	f, err := binance.NewFeed(binance.FeedConfig{Market: binance.Spot, Handler: col})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Replay(context.Background(), r, 0); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(col.tradeIDs(), e.col.tradeIDs()) || len(col.klines) != 3 {
		t.Fatalf("replayed trades %v, live %v", col.tradeIDs(), e.col.tradeIDs())
	}
	for i := range col.trades {
		if col.trades[i] != e.col.trades[i] {
			t.Fatalf("trade %d differs: replay %+v live %+v", i, col.trades[i], e.col.trades[i])
		}
	}
	kinds := func(st []market.Status) []market.StatusKind {
		var out []market.StatusKind
		for _, s := range st {
			out = append(out, s.Kind)
		}
		return out
	}
	want := []market.StatusKind{market.StatusConnected, market.StatusGap, market.StatusGapUnfilled, market.StatusDisconnected}
	if got := kinds(col.statuses); !slices.Equal(got, want) {
		t.Fatalf("replayed statuses %s, want kinds %v", fmtStatuses(col.statuses), want)
	}
	if s := f.Stats(); s.Malformed != 1 || s.Frames != 18 {
		t.Fatalf("replay stats %+v", s)
	}
}

// The shipped recordings (testdata/recording-<market>.ims) are built from
// the recorded samples in testdata; this test rebuilds them and fails if
// the committed files are stale (IMS_UPDATE_RECORDING=1 rewrites them),
// then replays each through the feed.
func TestShippedRecordings(t *testing.T) {
	for _, m := range []binance.Market{binance.Spot, binance.USDM, binance.CoinM} {
		t.Run(m.String(), func(t *testing.T) {
			built, frames := buildRecording(t, m)
			path := filepath.Join("testdata", "recording-"+m.String()+".ims")
			if os.Getenv("IMS_UPDATE_RECORDING") != "" {
				if err := os.WriteFile(path, built, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			shipped, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (IMS_UPDATE_RECORDING=1 builds it)", err)
			}
			if !bytes.Equal(shipped, built) {
				t.Fatalf("%s is not what the samples build (IMS_UPDATE_RECORDING=1 rebuilds it)", path)
			}
			r, err := record.NewReader(bytes.NewReader(shipped))
			if err != nil {
				t.Fatal(err)
			}
			counts := map[source.Kind]int{}
			f, err := binance.NewFeed(binance.FeedConfig{Market: m, Handler: source.HandlerFunc(func(ev *source.Event) { counts[ev.Kind]++ })})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Replay(context.Background(), r, 0); err != nil {
				t.Fatal(err)
			}
			s := f.Stats()
			if s.Frames != int64(frames) {
				t.Fatalf("replayed %d frames of %d; stats %+v", s.Frames, frames, s)
			}
			if s.Malformed != 0 {
				t.Fatalf("malformed frames in the shipped recording: %v", s.MalformedByKind)
			}
			if counts[source.KindTrade]+counts[source.KindAggTrade] == 0 || counts[source.KindDepthUpdate] == 0 || counts[source.KindBookTicker] == 0 {
				t.Fatalf("event kinds %v", counts)
			}
			t.Logf("%s: %d bytes, %d frames, events %v, gaps %d, duplicates %d", path, len(shipped), frames, counts, s.Gaps, s.Duplicates)
		})
	}
}

// buildRecording turns the recorded (combined-wrapped) samples of market m
// into a recording: frames ordered by event time (frames without one keep
// their place in their file), received 1 ms apart, one recorded connection
// per route.
func buildRecording(t *testing.T, m binance.Market) ([]byte, int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", m.Family().String()+"-*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	type frame struct {
		e      int64
		seq    int
		stream string
		data   []byte
	}
	var frames []frame
	for _, file := range files {
		base := filepath.Base(file)
		// Recorded frames only: no docs examples, REST bodies or raw forms.
		if strings.Count(base, ".") != 1 {
			continue
		}
		fh, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		var lastE int64
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			// Keys are case-sensitive here ("e" is not "E"): decode to a map.
			var w struct {
				Stream string                     `json:"stream"`
				Data   map[string]json.RawMessage `json:"data"`
			}
			if len(line) == 0 || json.Unmarshal(line, &w) != nil || w.Stream == "" {
				continue
			}
			var e int64
			if json.Unmarshal(w.Data["E"], &e) == nil && e != 0 {
				lastE = e
			}
			frames = append(frames, frame{e: lastE, seq: len(frames), stream: w.Stream, data: bytes.Clone(line)})
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	sort.SliceStable(frames, func(i, j int) bool { return frames[i].e < frames[j].e })
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	w, err := record.NewWriter(&buf, record.WriterOptions{Market: m.String(), Created: start, FlushFrames: 256, FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	connOf := func(stream string) uint32 {
		if m.Routed() && !binancetest.PublicChannel(stream) {
			return 2
		}
		return 1
	}
	streams := map[uint32][]string{}
	for _, fr := range frames {
		c := connOf(fr.stream)
		if !slices.Contains(streams[c], fr.stream) {
			streams[c] = append(streams[c], fr.stream)
		}
	}
	ts := start.UnixNano()
	write := func(rec record.Record) {
		ts += int64(time.Millisecond)
		rec.Time = ts
		if err := w.Write(&rec); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []uint32{1, 2} {
		if len(streams[c]) == 0 {
			continue
		}
		route := binance.RouteNone
		if m.Routed() {
			route = map[uint32]binance.Route{1: binance.RoutePublic, 2: binance.RouteMarket}[c]
		}
		u, err := m.StreamURL("", route, streams[c], binance.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		write(record.Record{Kind: record.KindOpen, Conn: c, Data: []byte(u)})
	}
	for _, fr := range frames {
		write(record.Record{Kind: record.KindText, Conn: connOf(fr.stream), Stream: []byte(fr.stream), Data: fr.data})
	}
	for _, c := range []uint32{1, 2} {
		if len(streams[c]) > 0 {
			write(record.Record{Kind: record.KindClose, Conn: c, Data: []byte("end of recording")})
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), len(frames)
}

// A recording keeps the REST replies a gap was filled with and the feed's
// fill decisions, so its replay has the same trades, backfilled ones
// included, and the same gap statuses, without any REST access.
func TestFeedRecordReplayFillsGapsFromRecording(t *testing.T) {
	path := filepath.Join(t.TempDir(), "session.ims")
	rec, err := record.Create(path, record.WriterOptions{Market: "spot", FlushFrames: 8})
	if err != nil {
		t.Fatal(err)
	}
	srv, ws := fdExchange(t, binancetest.WSConfig{}, binancetest.Options{})
	src := binancetest.NewSource([][]byte{[]byte(fdSpotTrade)}, binancetest.IDsTrade)
	ws.SetSource("btcusdt@trade", src)
	first := src.NextID()
	var history []market.Trade
	for id := first; id < first+5000; id++ {
		history = append(history, market.Trade{TradeID: id, Price: market.MustDecimal("0.00426990"),
			Quantity: market.MustDecimal("1.00000000"), TradeTime: 1554076800940000 + id})
	}
	srv.SetTrades(binancetest.APISpot, "BTCUSDT", history)

	var feed atomic.Pointer[binance.Feed]
	client, err := binance.NewClient(binance.Spot, binance.ClientOptions{BaseURL: srv.URL(), HTTPClient: srv.Client(), MaxRetries: -1,
		OnReply: func(request string, body []byte, recv int64) {
			if f := feed.Load(); f != nil {
				f.RecordReply(request, body, recv)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, ws, srv.WSURL(), binance.FeedConfig{Market: binance.Spot, Backfill: client, MaxBackfill: 1500, Recorder: rec}, "btcusdt@trade")
	feed.Store(e.feed)
	e.run(t)
	e.waitConnected(t)
	ws.Emit("btcusdt@trade", 3)
	src.Skip(1200) // filled from two REST pages
	ws.Emit("btcusdt@trade", 3)
	e.col.wait(t, "the filled gap", func() bool { return len(e.col.trades) == 1206 })
	src.Skip(2000) // over MaxBackfill: reported unfilled
	ws.Emit("btcusdt@trade", 2)
	e.col.wait(t, "the unfilled gap", func() bool { return len(e.col.trades) == 1208 })
	e.shutdown(t)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	col, f := replayFile(t, path, binance.Spot)
	if len(col.trades) != len(e.col.trades) {
		t.Fatalf("replayed %d trades, live %d", len(col.trades), len(e.col.trades))
	}
	for i := range col.trades {
		if col.trades[i] != e.col.trades[i] {
			t.Fatalf("trade %d differs: replay %+v live %+v", i, col.trades[i], e.col.trades[i])
		}
	}
	gapStatuses := func(st []market.Status) []market.Status {
		var out []market.Status
		for _, s := range st {
			if s.Kind != market.StatusConnected && s.Kind != market.StatusDisconnected {
				s.Header = market.Header{}
				out = append(out, s)
			}
		}
		return out
	}
	live, replayed := gapStatuses(e.col.snapshotStatuses()), gapStatuses(col.statuses)
	if !slices.Equal(live, replayed) || len(live) != 4 {
		t.Fatalf("replayed gap statuses %s, live %s", fmtStatuses(replayed), fmtStatuses(live))
	}
	if s := f.Stats(); s.Gaps != 2 || s.GapsFilled != 1 || s.GapsUnfilled != 1 || s.Backfilled != 1200 {
		t.Fatalf("replay stats %+v", s)
	}
}

// A recording without fill records (made before ims recorded them, or
// cut) still replays every trade in order: the gap is settled unfilled at
// the connection's next record, or at the end. A recorded depth reply
// comes back as the REST snapshot the live feed delivered.
func TestReplayGapWithoutFillRecordAndDepthReply(t *testing.T) {
	rec := newMemRecording(t, "spot", time.Millisecond)
	rec.put(record.KindOpen, 1, "", "wss://stream.binance.com:9443/stream?streams=btcusdt@trade/btcusdt@depth")
	rec.put(record.KindText, 1, "btcusdt@trade", combinedTrade(10))
	rec.put(record.KindText, 1, "btcusdt@trade", combinedTrade(11))
	rec.put(record.KindText, 1, "btcusdt@trade", combinedTrade(15)) // 12..14 missing, no fill record follows
	rec.put(record.KindText, 1, "btcusdt@trade", combinedTrade(16))
	rec.put(record.KindText, 1, "btcusdt@depth", `{"stream":"btcusdt@depth","data":`+fdSpotDepth+`}`)
	rec.put(record.KindREST, 0, "depth?limit=5&symbol=BTCUSDT", `{"lastUpdateId":499869752,"bids":[["0.35210000","672.00000000"]],"asks":[["0.35230000","1.00000000"]]}`)
	rec.put(record.KindText, 1, "btcusdt@trade", combinedTrade(20)) // the recording ends before the next frame
	col, _ := rec.replay(binance.Spot)
	if got, want := col.tradeIDs(), []int64{10, 11, 15, 16, 20}; !slices.Equal(got, want) {
		t.Fatalf("replayed trades %v, want %v", got, want)
	}
	var gaps []string
	for _, s := range col.statuses {
		if s.Kind == market.StatusGap || s.Kind == market.StatusGapUnfilled {
			gaps = append(gaps, s.Kind.String()+" "+strconv.FormatInt(s.GapFrom, 10)+".."+strconv.FormatInt(s.GapTo, 10)+" "+s.Detail)
		}
	}
	want := []string{
		"gap 12..14 btcusdt@trade", "gapUnfilled 12..14 the recording holds no fill for this gap",
		"gap 17..19 btcusdt@trade", "gapUnfilled 17..19 the recording holds no fill for this gap",
	}
	if !slices.Equal(gaps, want) {
		t.Fatalf("gap statuses %q, want %q", gaps, want)
	}
	if len(col.snaps) != 1 || col.snaps[0].LastUpdateID != 499869752 || col.snaps[0].Source != market.SnapshotREST ||
		col.snaps[0].Symbol.String() != "BTCUSDT" || col.snaps[0].ReceiveTime != 1700000000007000000 {
		t.Fatalf("snapshots %+v", col.snaps)
	}
}

// Two REST snapshots fetched close together can answer in one order (the
// order their replies are recorded) and be delivered in the other, the
// older then dropped; the recording marks which went out ("snapshot ID")
// and the replay delivers exactly those (found by TestFeedChaos: the replay
// delivered the older reply too, first).
func TestReplayDepthSnapshotsDeliveredOutOfReplyOrder(t *testing.T) {
	depth := func(id int) string {
		return `{"lastUpdateId":` + strconv.Itoa(id) + `,"bids":[["1.0","2"]],"asks":[["1.1","3"]]}`
	}
	rec := newMemRecording(t, "spot", time.Millisecond)
	rec.put(record.KindOpen, 1, "", "wss://stream.binance.com:9443/stream?streams=btcusdt@depth")
	rec.put(record.KindText, 1, "btcusdt@depth", `{"stream":"btcusdt@depth","data":`+fdSpotDepth+`}`)
	rec.put(record.KindFill, 1, "btcusdt@depth", "fetch 1 2")
	rec.put(record.KindFill, 1, "btcusdt@depth", "fetch 3 4")
	rec.put(record.KindREST, 0, "depth?limit=5&symbol=BTCUSDT", depth(186))
	rec.put(record.KindREST, 0, "depth?limit=5&symbol=BTCUSDT", depth(266))
	rec.put(record.KindFill, 1, "btcusdt@depth", "snapshot 266") // 186 was dropped live: older (a mark without the time)
	rec.put(record.KindREST, 0, "depth?limit=5&symbol=BTCUSDT", depth(300))
	rec.put(record.KindREST, 0, "depth?limit=5&symbol=BTCUSDT", depth(300)) // the same id again, received later
	rec.put(record.KindREST, 0, "depth?limit=5&symbol=BTCUSDT", depth(400)) // fetched, never delivered live
	rec.put(record.KindFill, 1, "btcusdt@depth", "snapshot 300 1700000000009000000")
	col, _ := rec.replay(binance.Spot)
	var got []string
	for _, s := range col.snaps {
		got = append(got, strconv.FormatInt(s.LastUpdateID, 10)+"@"+strconv.FormatInt(s.ReceiveTime, 10))
	}
	if want := []string{"266@1700000000006000000", "300@1700000000009000000"}; !slices.Equal(got, want) {
		t.Fatalf("replayed snapshots %v, want %v", got, want)
	}
}

// FuzzReplayFills replays a recording whose fill and REST records are
// arbitrary: the replay must not panic, and every live trade must still come
// out, in increasing id order, whatever those records say.
func FuzzReplayFills(f *testing.F) {
	f.Add([]byte("start 12 14"), []byte("historicalTrades?fromId=12&limit=3&symbol=BTCUSDT"),
		[]byte(`[{"id":12,"price":"1.0","qty":"2.0","quoteQty":"2.0","time":1554076800940,"isBuyerMaker":true,"isBestMatch":true},`+
			`{"id":13,"price":"1.0","qty":"2.0","quoteQty":"2.0","time":1554076800940,"isBuyerMaker":true,"isBestMatch":true}]`),
		[]byte("end"))
	f.Add([]byte("unfilled 12 14 no REST backfill configured"), []byte("depth?symbol=BTCUSDT"), []byte(`{"lastUpdateId":1,"bids":[],"asks":[]}`), []byte("abandon x"))
	f.Add([]byte("start"), []byte("aggTrades?%zz"), []byte(`[`), []byte("end boom"))
	f.Add([]byte("fetch 1 2"), []byte("depth?limit=5&symbol=BTCUSDT"), []byte(`{"lastUpdateId":7,"bids":[["1","1"]],"asks":[]}`), []byte("snapshot 7"))
	f.Add([]byte("fetch"), []byte("depth?symbol=BTCUSDT"), []byte(`{"lastUpdateId":7}`), []byte("snapshot x"))
	f.Fuzz(func(t *testing.T, fill1, req, body, fill2 []byte) {
		rec := newMemRecording(t, "spot", time.Millisecond)
		rec.put(record.KindOpen, 1, "", "wss://stream.binance.com:9443/stream?streams=btcusdt@trade")
		rec.put(record.KindText, 1, "btcusdt@trade", combinedTrade(10))
		rec.put(record.KindText, 1, "btcusdt@trade", combinedTrade(11))
		rec.put(record.KindText, 1, "btcusdt@trade", combinedTrade(15))
		rec.put(record.KindFill, 1, "btcusdt@trade", string(fill1))
		rec.put(record.KindREST, 0, string(req), string(body))
		rec.put(record.KindFill, 1, "btcusdt@trade", string(fill2))
		rec.put(record.KindText, 1, "btcusdt@trade", combinedTrade(16))
		col, _ := rec.replay(binance.Spot)
		ids := col.tradeIDs()
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				t.Fatalf("trade ids out of order: %v", ids)
			}
		}
		for _, want := range []int64{10, 11, 15, 16} {
			if !slices.Contains(ids, want) {
				t.Fatalf("live trade %d lost: %v", want, ids)
			}
		}
	})
}
