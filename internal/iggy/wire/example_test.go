package wire_test

import (
	"fmt"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// A producer builds a SendMessages frame in a reusable batch; a server
// decodes it and walks the messages without copying them.
func ExampleBatch() {
	b := wire.NewBatch(wire.StringID("binance-spot"), wire.StringID("trade"), wire.MessagesKey([]byte("BTCUSDT")), 2)
	_ = b.Add(wire.MessageID{Lo: 1}, 1700000000000000, []byte("first"), nil)
	_ = b.Add(wire.MessageID{Lo: 2}, 1700000000000001, []byte("second"),
		[]wire.Header{{Key: wire.HeaderStr("seq"), Value: wire.HeaderU64(42)}})
	frame, err := b.Frame()
	if err != nil {
		panic(err)
	}

	n, code, _ := wire.ParseRequestHeader(frame)
	var req wire.SendMessages
	if err := req.Decode(frame[wire.RequestHeaderSize : wire.RequestHeaderSize+n]); err != nil {
		panic(err)
	}
	fmt.Println(code, req.Stream, req.Topic, string(req.Partitioning.Key), req.Count)
	for i := 0; i < int(req.Count); i++ {
		m := req.Frame(i).Message()
		hs, _ := m.Headers()
		fmt.Println(m.ID.Lo, string(m.Payload), len(hs))
	}
	// Output:
	// message.send "binance-spot" "trade" BTCUSDT 2
	// 1 first 0
	// 2 second 1
}

// Every request type encodes for a client and decodes for a server.
func ExampleNewRequest() {
	frame, _ := wire.AppendRequestFrame(nil, &wire.CreateStream{Name: "binance-spot"})
	n, code, _ := wire.ParseRequestHeader(frame)
	req := wire.NewRequest(code)
	err := req.Decode(frame[8 : 8+n])
	fmt.Printf("%x\n%v %+v %v\n", frame, code, req, err)
	// Output:
	// 11000000ca0000000c62696e616e63652d73706f74
	// stream.create &{Name:binance-spot} <nil>
}
