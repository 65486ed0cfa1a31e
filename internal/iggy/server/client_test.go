package server

import (
	"encoding/binary"
	"testing"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// tclient speaks raw frames. It builds request payloads by hand from the
// spec rather than with package wire's encoders, so the server's decoding is
// checked against independent bytes; it reads responses with wire's
// client-side parsers, which wire's golden tests pin down.
type tclient struct {
	*rawConn
}

func newClient(t testing.TB, srv *Server) *tclient {
	return &tclient{dialRaw(t, srv.Addr())}
}

// serveTopic starts a server (startServer) with stream "s" holding topic
// "t" of the given partitions, and returns it with a root client and the
// stream and topic ids.
func serveTopic(t testing.TB, cfg Config, partitions uint32) (*Server, *tclient, uint32, uint32) {
	t.Helper()
	srv := startServer(t, cfg)
	c := rootClient(t, srv.Addr())
	s := c.createStream("s")
	return srv, c, s, c.createTopic(s, "t", partitions)
}

// rootClient connects to addr and logs in as the default root user.
func rootClient(t testing.TB, addr string) *tclient {
	t.Helper()
	c := &tclient{dialRaw(t, addr)}
	c.login("iggy", "iggy")
	return c
}

func idNum(v uint32) []byte { return binary.LittleEndian.AppendUint32([]byte{1, 4}, v) }
func idStr(s string) []byte { return append([]byte{2, byte(len(s))}, s...) }
func name8(s string) []byte { return append([]byte{byte(len(s))}, s...) }
func u32b(v uint32) []byte  { return binary.LittleEndian.AppendUint32(nil, v) }
func u64b(v uint64) []byte  { return binary.LittleEndian.AppendUint64(nil, v) }
func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// call sends code+payload and returns status and response payload.
func (c *tclient) call(code wire.Command, payload []byte) (*wire.Error, []byte) {
	resp := c.do(frame(code, payload))
	return statusOf(resp), resp[8:]
}

func (c *tclient) ok(code wire.Command, payload []byte) []byte {
	c.t.Helper()
	st, body := c.call(code, payload)
	if st != nil {
		c.t.Fatalf("command %v: %v", code, st)
	}
	return body
}

// expect sends a request and checks its status (nil: OK).
func (c *tclient) expect(want *wire.Error, code wire.Command, payload []byte) {
	c.t.Helper()
	if st, _ := c.call(code, payload); st != want {
		c.t.Fatalf("command %v: got %v, want %v", code, st, want)
	}
}

func loginPayload(user, pass string) []byte {
	return cat(name8(user), name8(pass), u32b(0), u32b(0))
}

func (c *tclient) login(user, pass string) uint32 {
	c.t.Helper()
	return binary.LittleEndian.Uint32(c.ok(wire.CmdLoginUser, loginPayload(user, pass)))
}

func (c *tclient) createStream(name string) uint32 {
	c.t.Helper()
	return binary.LittleEndian.Uint32(c.ok(wire.CmdCreateStream, name8(name)))
}

func topicPayload(stream []byte, partitions uint32, expiry, maxSize uint64, name string) []byte {
	return cat(stream, u32b(partitions), []byte{1}, u64b(expiry), u64b(maxSize), []byte{0}, name8(name))
}

func (c *tclient) createTopic(stream uint32, name string, partitions uint32) uint32 {
	c.t.Helper()
	return binary.LittleEndian.Uint32(c.ok(wire.CmdCreateTopic, topicPayload(idNum(stream), partitions, 0, 0, name)))
}

// partitioning kinds for sendPayload.
func balanced() []byte            { return []byte{1, 0} }
func partitionID(p uint32) []byte { return cat([]byte{2, 4}, u32b(p)) }

// sendPayload builds a SendMessages payload with the given message payloads
// (ids 0, no headers).
func sendPayload(stream, topic uint32, part []byte, payloads ...[]byte) []byte {
	meta := cat(idNum(stream), idNum(topic), part, u32b(uint32(len(payloads))))
	var idx, msgs []byte
	for _, p := range payloads {
		msgs = wire.AppendMessage(msgs, wire.MessageHeader{}, p, nil)
		idx = cat(idx, u32b(0), u32b(uint32(len(msgs))), u64b(0))
	}
	return cat(u32b(uint32(len(meta))), meta, idx, msgs)
}

func (c *tclient) send(stream, topic uint32, part []byte, payloads ...[]byte) {
	c.t.Helper()
	c.ok(wire.CmdSendMessages, sendPayload(stream, topic, part, payloads...))
}

// consumer kinds
func consumerOf(id uint32) []byte { return cat([]byte{1}, idNum(id)) }
func groupOf(id uint32) []byte    { return cat([]byte{2}, idNum(id)) }
func noPartition() []byte         { return []byte{0, 0, 0, 0, 0} }
func somePartition(p uint32) []byte {
	return cat([]byte{1}, u32b(p))
}

const (
	pollOffset    = 1
	pollTimestamp = 2
	pollFirst     = 3
	pollLast      = 4
	pollNext      = 5
)

type polled struct {
	partition uint32
	current   uint64
	offsets   []uint64
	payloads  [][]byte
}

func pollPayload(cons []byte, stream, topic uint32, part []byte, kind uint8, value uint64, count uint32, auto bool) []byte {
	a := byte(0)
	if auto {
		a = 1
	}
	return cat(cons, idNum(stream), idNum(topic), part, []byte{kind}, u64b(value), u32b(count), []byte{a})
}

func parsePolled(t testing.TB, b []byte) polled {
	t.Helper()
	if len(b) < wire.PollHeaderSize {
		t.Fatalf("poll response of %d bytes", len(b))
	}
	var pm wire.PolledMessages
	if err := wire.ParsePolledMessages(b, &pm); err != nil {
		t.Fatalf("malformed poll response %x: %v", b, err)
	}
	p := polled{partition: pm.PartitionID, current: pm.CurrentOffset}
	for _, m := range pm.Messages {
		p.offsets = append(p.offsets, m.Offset)
		p.payloads = append(p.payloads, m.Payload)
	}
	return p
}

func (c *tclient) poll(cons []byte, stream, topic uint32, part []byte, kind uint8, value uint64, count uint32, auto bool) polled {
	c.t.Helper()
	return parsePolled(c.t, c.ok(wire.CmdPollMessages, pollPayload(cons, stream, topic, part, kind, value, count, auto)))
}

func groupIDs(stream, topic, group uint32) []byte {
	return cat(idNum(stream), idNum(topic), idNum(group))
}

// groupMembers decodes GetConsumerGroup: member id → partitions.
func groupMembers(t testing.TB, b []byte) map[uint32][]uint32 {
	t.Helper()
	g, err := wire.ParseConsumerGroupDetails(b)
	if err != nil || len(g.Members) != int(g.MembersCount) {
		t.Fatalf("malformed group details %x: %v", b, err)
	}
	out := map[uint32][]uint32{}
	for _, m := range g.Members {
		out[m.ID] = append([]uint32{}, m.Partitions...)
	}
	return out
}
