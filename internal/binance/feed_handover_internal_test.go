package binance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/log"
	"github.com/gorilla/websocket"

	"github.com/ims-dev/ims/internal/binance/binancetest"
	"github.com/ims-dev/ims/internal/record"
	"github.com/ims-dev/ims/internal/source"
)

// bookFrame is a spot combined-stream book ticker frame of sym with update
// id u.
func bookFrame(sym string, u int64) []byte {
	return []byte(`{"stream":"` + strings.ToLower(sym) + `@bookTicker","data":{"u":` + strconv.FormatInt(u, 10) +
		`,"s":"` + sym + `","b":"1","B":"1","a":"2","A":"1"}}`)
}

// bookLog records delivered book tickers with their receive times, to
// compare a live run with its replay.
type bookLog struct{ got []string }

func (l *bookLog) HandleEvent(ev *source.Event) {
	if ev.Kind == source.KindBookTicker {
		l.got = append(l.got, fmt.Sprintf("%+v", *ev.BookTicker))
	}
}

// wsConn dials a websocket the test owns (nothing reads it): a conn given
// it closes on purpose without ending its read loop, as live, where the
// frames read before the close still arrive after it.
func wsConn(t *testing.T) *websocket.Conn {
	t.Helper()
	ws := binancetest.NewWS(binancetest.WSConfig{})
	srv := httptest.NewServer(ws)
	t.Cleanup(func() { ws.Close(); srv.Close() })
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws/btcusdt@bookTicker", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// replayInto plays rec's recording through a new feed of market m into h.
func replayInto(t *testing.T, buf *bytes.Buffer, m Market, h source.Handler) {
	t.Helper()
	f, err := NewFeed(FeedConfig{Market: m, Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	r, err := record.NewReader(buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Replay(context.Background(), r, 0); err != nil {
		t.Fatal(err)
	}
}

// recordedRotation is a shard recording into memory, with its primary c1
// and a rotation's connection c2 opened (both with their Open records),
// for tests that compare what live delivered with what its replay does.
type recordedRotation struct {
	t      *testing.T
	buf    bytes.Buffer
	rec    *record.Writer
	live   bookLog
	sh     *shard
	c1, c2 *conn
}

// newRecordedRotation sets one up on streams; c2 carries only the first
// when withWS is set (a websocket the test owns, for abandon and close).
func newRecordedRotation(t *testing.T, withWS bool, streams ...string) *recordedRotation {
	t.Helper()
	r := &recordedRotation{t: t}
	var err error
	if r.rec, err = record.NewWriter(&r.buf, record.WriterOptions{FlushInterval: -1}); err != nil {
		t.Fatal(err)
	}
	r.sh, r.c1 = offline(t, Spot, &r.live, r.rec, streams...)
	f := r.sh.feed
	f.recordEvent(r.c1, record.KindOpen, shardKey(r.sh.id), []byte("c1"))
	r.c2 = newConn(f, r.sh, 2, "c2")
	if withWS {
		r.c2.ws = wsConn(t)
		f.mu.Lock()
		r.c2.streams[r.sh.streams[0]] = true // the others were refused
		f.mu.Unlock()
	}
	r.sh.setSecondary(r.c2)
	f.recordEvent(r.c2, record.KindOpen, shardKey(r.sh.id), []byte("c2"))
	return r
}

// replayMatches closes the recording, replays it and checks that the
// replay delivers what live did, n book tickers.
func (r *recordedRotation) replayMatches(n int) {
	r.t.Helper()
	if err := r.rec.Close(); err != nil {
		r.t.Fatal(err)
	}
	var replayed bookLog
	replayInto(r.t, &r.buf, Spot, &replayed)
	if len(r.live.got) != n || !slices.Equal(r.live.got, replayed.got) {
		r.t.Fatalf("live delivered\n%s\nthe replay\n%s", strings.Join(r.live.got, "\n"), strings.Join(replayed.got, "\n"))
	}
}

// A rotation abandoned (its connection lacks a stream) goes on reading
// until its close: frames already in flight arrive after the decision. The
// replay knows of the abandonment only by the close record, so live must
// keep the connection's role until then too; before, live dropped its
// book tickers from the decision on (no longer the secondary) while the
// replay delivered them (still the secondary, proved overlapping), so the
// replay's events came from another connection, with other receive times.
func TestReplayAbandonedRotation(t *testing.T) {
	r := newRecordedRotation(t, true, "btcusdt@bookTicker", "ethusdt@bookTicker") // ethusdt refused on c2
	sh, c1, c2 := r.sh, r.c1, r.c2

	sh.handleFrame(c1, bookFrame("BTCUSDT", 1), 10)
	sh.handleFrame(c2, bookFrame("BTCUSDT", 2), 11) // ahead
	sh.handleFrame(c1, bookFrame("BTCUSDT", 2), 12) // c2 proved it overlaps
	reconciled := make(chan struct{})
	close(reconciled)
	if !sh.abandonRotation(context.Background(), c1, c2, reconciled) {
		t.Fatal("rotation lacking a stream not abandoned")
	}
	sh.handleFrame(c2, bookFrame("BTCUSDT", 3), 13) // in flight on the abandoned connection
	c2.finish(errors.New("rotation abandoned"))
	sh.handleFrame(c1, bookFrame("BTCUSDT", 3), 14)
	sh.handleFrame(c1, bookFrame("BTCUSDT", 4), 15)
	r.replayMatches(4)
}

// A rotation abandoned, then the old connection lost before the abandoned
// one has closed: the abandoned one is the shard's only connection, so it
// takes over as with any lost primary (its values ahead of the old one go
// out), live and in the replay alike. Before, live had it neither primary
// nor secondary and dropped them, while the replay, seeing it the only open
// connection at the old one's close record, promoted it and delivered them.
func TestReplayAbandonedRotationThenPrimaryLost(t *testing.T) {
	r := newRecordedRotation(t, true, "btcusdt@bookTicker", "ethusdt@bookTicker") // ethusdt refused on c2
	sh, c1, c2 := r.sh, r.c1, r.c2

	sh.handleFrame(c1, bookFrame("BTCUSDT", 1), 10)
	sh.handleFrame(c2, bookFrame("BTCUSDT", 2), 11) // ahead of the old one
	reconciled := make(chan struct{})
	close(reconciled)
	if !sh.abandonRotation(context.Background(), c1, c2, reconciled) {
		t.Fatal("rotation lacking a stream not abandoned")
	}
	c1.finish(errors.New("lost"))
	sh.handleFrame(c2, bookFrame("BTCUSDT", 3), 12) // in flight on the abandoned connection
	c2.finish(errors.New("rotation abandoned"))
	r.replayMatches(3)
}

// The rotation's connection ends just after the rotation last looked and
// before it hands over: the hand-over does not happen (the replay, which
// has the connection's close record before the promote record, cannot
// make it happen). Before, live made the ended connection primary and
// delivered the values it had shown ahead of the old one, which the replay
// did not, and the old one was closed for a connection already gone.
func TestRotationLostBeforeHandOver(t *testing.T) {
	r := newRecordedRotation(t, false, "btcusdt@bookTicker")
	sh, c1, c2 := r.sh, r.c1, r.c2
	sh.handleFrame(c1, bookFrame("BTCUSDT", 1), 10)
	sh.handleFrame(c2, bookFrame("BTCUSDT", 2), 11) // ahead of the old one
	c2.finish(errors.New("lost"))
	if sh.promote(c2) {
		t.Fatal("an ended connection was handed the shard")
	}
	if sh.primaryConn() != c1 {
		t.Fatal("the old connection is not primary any more")
	}
	sh.handleFrame(c1, bookFrame("BTCUSDT", 2), 12)
	r.replayMatches(2)
}

// The old connection ends as the rotation decides whether to abandon its
// connection: its end has already handed the shard over (primaryLost runs
// before the read loop is marked done), so the rotation's connection is
// the primary and must not be closed. Before, only the old connection's
// done mark was looked at, and the shard lost its one connection to a
// reconnect.
func TestRotationNotAbandonedOnceItTookOver(t *testing.T) {
	sh, c1 := offline(t, Spot, source.HandlerFunc(func(*source.Event) {}), nil, "btcusdt@bookTicker", "ethusdt@bookTicker")
	c2 := newConn(sh.feed, sh, 2, "c2")
	sh.setSecondary(c2)
	sh.primaryLost(c1) // c1's finish, before its done mark
	reconciled := make(chan struct{})
	close(reconciled)
	if sh.abandonRotation(context.Background(), c1, c2, reconciled) {
		t.Fatal("the rotation's connection was abandoned after it took over")
	}
	if c2.isDone() || sh.primaryConn() != c2 {
		t.Fatal("the rotation's connection is not the live primary")
	}
	sh.feed.wg.Wait() // the reconcile it started (c2 has no socket: fails at once)
}

// A rotation's connection far ahead of a stalled primary keeps at most
// maxAhead copies per stream (the newest), hands them over in order, and
// after the hand-over nothing of them stays allocated: not the copies, not
// the slice that held them (up to maxAhead events per symbol of an
// all-market stream, for the life of the feed).
func TestRotationAheadCappedAndFreed(t *testing.T) {
	var got []int64
	sh, c1 := offline(t, Spot, source.HandlerFunc(func(ev *source.Event) {
		if ev.Kind == source.KindBookTicker {
			got = append(got, ev.BookTicker.UpdateID)
		}
	}), nil, "!bookTicker")
	var logged bytes.Buffer
	sh.feed.logger = log.New(&logged)
	sh.handleFrame(c1, []byte(`{"stream":"!bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}}`), 1)
	c2 := newConn(sh.feed, sh, 2, "")
	sh.setSecondary(c2)
	const n = maxAhead + 500
	for u := int64(2); u < 2+n; u++ {
		sh.handleFrame(c2, []byte(`{"stream":"!bookTicker","data":{"u":`+strconv.FormatInt(u, 10)+
			`,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}}`), u)
	}
	if len(got) != 1 {
		t.Fatalf("delivered %d before the hand-over", len(got))
	}
	sh.dmu.Lock()
	for _, st := range sh.states {
		if len(st.ahead) > maxAhead {
			t.Errorf("%d copies kept", len(st.ahead))
		}
	}
	sh.dmu.Unlock()
	sh.promote(c2)
	if len(got) != 1+maxAhead || got[1] != 2+n-maxAhead || got[len(got)-1] != 1+n {
		t.Fatalf("delivered %d values, %v … %v", len(got), got[:min(3, len(got))], got[max(0, len(got)-2):])
	}
	for i := 2; i < len(got); i++ {
		if got[i] != got[i-1]+1 {
			t.Fatalf("update id %d after %d", got[i], got[i-1])
		}
	}
	// What the cap dropped is said, not lost silently.
	if !strings.Contains(logged.String(), "were dropped") || !strings.Contains(logged.String(), "dropped_to="+strconv.FormatInt(1+n-maxAhead, 10)) {
		t.Fatalf("log: %q", logged.String())
	}
	sh.dmu.Lock()
	defer sh.dmu.Unlock()
	for k, st := range sh.states {
		if cap(st.ahead) != 0 {
			t.Fatalf("%s: room for %d copies kept after the hand-over", k.String(), cap(st.ahead))
		}
	}
}

// An abandoned rotation's connection, still the secondary until its read
// loop ends, gets no more requests: a Subscribe in that window would fail
// on it (connection closed) though the primary carries the stream.
func TestAbandonedRotationGetsNoRequests(t *testing.T) {
	sh, c1 := offline(t, Spot, source.HandlerFunc(func(*source.Event) {}), nil, "btcusdt@bookTicker", "ethusdt@bookTicker")
	c1.ws = wsConn(t)
	c2 := newConn(sh.feed, sh, 2, "c2")
	c2.ws = wsConn(t)
	sh.setSecondary(c2)
	reconciled := make(chan struct{})
	close(reconciled)
	if !sh.abandonRotation(context.Background(), c1, c2, reconciled) {
		t.Fatal("rotation lacking streams not abandoned")
	}
	if got := sh.liveConns(); len(got) != 1 || got[0] != c1 {
		t.Fatalf("requests go to %d connections", len(got))
	}
}
