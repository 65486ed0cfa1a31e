package binance_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/binance/binancetest"
)

// subscribesOf counts the SUBSCRIBE requests the fake received for stream.
func subscribesOf(ws *binancetest.WS, stream string) int {
	n := 0
	for _, r := range ws.Requests() {
		if r.Method == "SUBSCRIBE" && slices.Contains(r.Params, stream) {
			n++
		}
	}
	return n
}

// The old connection ends while the rotation's connection is still
// subscribing the streams beyond its URL, and that SUBSCRIBE then fails
// (no reply here): the rotation's connection is all the shard has, so the
// streams it lacks are asked for again once the failure is known. Before,
// they were asked for again at once, while the first SUBSCRIBE was still
// pending (so nothing was sent), and its failure then left them on no
// connection until the next rotation.
func TestFeedRotationOldLostWhileSubscribing(t *testing.T) {
	ws, url := startFake(t, binancetest.WSConfig{MsgLimit: -1})
	streams := make([]string, 400)
	for i := range streams {
		streams[i] = fmt.Sprintf("s%04dusdt@trade", i)
	}
	last := streams[len(streams)-1]
	e := newEnv(t, ws, url, binance.FeedConfig{Market: binance.Spot, MessagesPerSecond: 100,
		AckTimeout: 2 * time.Second, RotationOverlap: 10 * time.Millisecond, MaxOverlap: time.Hour}, streams...)
	e.run(t)
	e.waitConnected(t)
	e.waitWS(t, "the streams beyond the URL", func() bool { return ws.Subscribers(last) == 1 })
	old := ws.Conns()[0]
	ws.SetAckMode(binancetest.AckNone)
	ws.Shutdown()
	e.waitWS(t, "the rotation's SUBSCRIBE", func() bool { return subscribesOf(ws, last) == 2 })
	ws.SetAckMode(binancetest.AckNormal)
	old.Drop("lost")
	e.waitWS(t, "the streams asked for again", func() bool { return subscribesOf(ws, last) == 3 })
}
