package wire

import "testing"

// BenchmarkBatchBuild1000x100 builds a SendMessages frame of 1000 messages
// of 100 bytes into a reused batch.
func BenchmarkBatchBuild1000x100(b *testing.B) {
	payload := make([]byte, 100)
	batch := NewBatch(StringID("binance-spot"), StringID("trade"), MessagesKey([]byte("BTCUSDT")), 1000)
	b.SetBytes(1000 * 100)
	b.ReportAllocs()
	for b.Loop() {
		batch.Reset(StringID("binance-spot"), StringID("trade"), MessagesKey([]byte("BTCUSDT")))
		for i := 0; i < 1000; i++ {
			if err := batch.Add(MessageID{Lo: uint64(i)}, 1, payload, nil); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := batch.Frame(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBatchAdd measures appending one 100-byte message (0 allocs/op).
func BenchmarkBatchAdd(b *testing.B) {
	payload := make([]byte, 100)
	batch := NewBatch(NumericID(0), NumericID(0), Balanced(), 1024)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n == 1024 {
			batch.Reset(NumericID(0), NumericID(0), Balanced())
			n = 0
		}
		if err := batch.Add(MessageID{}, 1, payload, nil); err != nil {
			b.Fatal(err)
		}
		n++
	}
}

func pollResponse1000x100() []byte {
	out := AppendPollHeader(nil, 0, 999, 1000)
	payload := make([]byte, 100)
	for i := 0; i < 1000; i++ {
		out = AppendMessage(out, MessageHeader{Offset: uint64(i), Timestamp: goldenT, ID: MessageID{Lo: uint64(i)}}, payload, nil)
	}
	return out
}

// BenchmarkParsePoll1000x100 parses a poll response of 1000 messages of 100
// bytes into a reused result.
func BenchmarkParsePoll1000x100(b *testing.B) {
	resp := pollResponse1000x100()
	var p PolledMessages
	b.SetBytes(int64(len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ParsePolledMessages(resp, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSend1000x100 is the server side: validate a 1000-message
// SendMessages payload.
func BenchmarkDecodeSend1000x100(b *testing.B) {
	batch := NewBatch(NumericID(0), NumericID(0), Balanced(), 1000)
	payload := make([]byte, 100)
	for i := 0; i < 1000; i++ {
		_ = batch.Add(MessageID{}, 1, payload, nil)
	}
	frame, _ := batch.Frame()
	var s SendMessages
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Decode(frame[8:]); err != nil {
			b.Fatal(err)
		}
	}
}
