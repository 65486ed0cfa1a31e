package server

import (
	"encoding/binary"
	"testing"
)

// tclient builds request payloads for tests; it is deliberately independent
// of the package's own parsers so the two check each other.
type tclient struct {
	*rawConn
}

func newClient(t testing.TB, srv *Server) *tclient {
	return &tclient{dialRaw(t, srv.Addr())}
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
func (c *tclient) call(code uint32, payload []byte) (Status, []byte) {
	resp := c.do(frame(code, payload))
	return statusOf(resp), resp[8:]
}

func (c *tclient) ok(code uint32, payload []byte) []byte {
	c.t.Helper()
	st, body := c.call(code, payload)
	if st != StatusOK {
		c.t.Fatalf("command %d: %v", code, st)
	}
	return body
}

func (c *tclient) expect(want Status, code uint32, payload []byte) {
	c.t.Helper()
	if st, _ := c.call(code, payload); st != want {
		c.t.Fatalf("command %d: got %v, want %v", code, st, want)
	}
}

func loginPayload(user, pass string) []byte {
	return cat(name8(user), name8(pass), u32b(0), u32b(0))
}

func (c *tclient) login(user, pass string) uint32 {
	c.t.Helper()
	return binary.LittleEndian.Uint32(c.ok(cmdLoginUser, loginPayload(user, pass)))
}

func (c *tclient) createStream(name string) uint32 {
	c.t.Helper()
	return binary.LittleEndian.Uint32(c.ok(cmdCreateStream, name8(name)))
}

func topicPayload(stream []byte, partitions uint32, expiry, maxSize uint64, name string) []byte {
	return cat(stream, u32b(partitions), []byte{1}, u64b(expiry), u64b(maxSize), []byte{0}, name8(name))
}

func (c *tclient) createTopic(stream uint32, name string, partitions uint32) uint32 {
	c.t.Helper()
	return binary.LittleEndian.Uint32(c.ok(cmdCreateTopic, topicPayload(idNum(stream), partitions, 0, 0, name)))
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
		h := make([]byte, 64)
		binary.LittleEndian.PutUint32(h[hdrPayloadLen:], uint32(len(p)))
		msgs = append(append(msgs, h...), p...)
		idx = cat(idx, u32b(0), u32b(uint32(len(msgs))), u64b(0))
	}
	return cat(u32b(uint32(len(meta))), meta, idx, msgs)
}

func (c *tclient) send(stream, topic uint32, part []byte, payloads ...[]byte) {
	c.t.Helper()
	c.ok(cmdSendMessages, sendPayload(stream, topic, part, payloads...))
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
	if len(b) < 16 {
		t.Fatalf("poll response of %d bytes", len(b))
	}
	p := polled{partition: binary.LittleEndian.Uint32(b), current: binary.LittleEndian.Uint64(b[4:])}
	n := binary.LittleEndian.Uint32(b[12:])
	off := 16
	for i := uint32(0); i < n; i++ {
		f := b[off:]
		pl := int(binary.LittleEndian.Uint32(f[hdrPayloadLen:]))
		hl := int(binary.LittleEndian.Uint32(f[hdrUserHeadersLen:]))
		p.offsets = append(p.offsets, binary.LittleEndian.Uint64(f[hdrOffset:]))
		p.payloads = append(p.payloads, f[64:64+pl])
		off += 64 + pl + hl
	}
	if off != len(b) {
		t.Fatalf("poll response has %d trailing bytes", len(b)-off)
	}
	return p
}

func (c *tclient) poll(cons []byte, stream, topic uint32, part []byte, kind uint8, value uint64, count uint32, auto bool) polled {
	c.t.Helper()
	return parsePolled(c.t, c.ok(cmdPollMessages, pollPayload(cons, stream, topic, part, kind, value, count, auto)))
}

func groupIDs(stream, topic, group uint32) []byte {
	return cat(idNum(stream), idNum(topic), idNum(group))
}

// groupMembers decodes GetConsumerGroup: member id → partitions.
func groupMembers(t testing.TB, b []byte) map[uint32][]uint32 {
	t.Helper()
	r := reader{b: b}
	r.u32()
	r.u32()
	n := r.u32()
	r.name(StatusInvalidFormat)
	out := map[uint32][]uint32{}
	for i := uint32(0); i < n; i++ {
		id := r.u32()
		k := r.u32()
		ps := []uint32{}
		for j := uint32(0); j < k; j++ {
			ps = append(ps, r.u32())
		}
		out[id] = ps
	}
	if r.err != 0 || r.off != len(b) {
		t.Fatalf("malformed group details %x", b)
	}
	return out
}
