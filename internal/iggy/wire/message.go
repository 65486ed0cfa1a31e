package wire

import (
	"encoding/binary"

	"github.com/zeebo/xxh3"
)

// MessageHeaderSize is the size of the fixed message header (classic 0.7+).
const MessageHeaderSize = 64

// Offsets of the message header fields (§5.1).
const (
	offChecksum        = 0
	offID              = 8
	offOffset          = 24
	offTimestamp       = 32
	offOriginTimestamp = 40
	offHeadersLen      = 48
	offPayloadLen      = 52
	offReserved        = 56
)

// MessageID is the u128 message id, little-endian on the wire (Lo first).
// Zero asks the server to assign one.
type MessageID struct {
	Lo, Hi uint64
}

// IsZero reports whether id is 0.
func (id MessageID) IsZero() bool { return id.Lo == 0 && id.Hi == 0 }

// MessageHeader is the decoded 64-byte header of a message frame.
type MessageHeader struct {
	Checksum          uint64
	ID                MessageID
	Offset            uint64
	Timestamp         uint64 // µs, set by the server on append
	OriginTimestamp   uint64 // µs, set by the producer
	UserHeadersLength uint32
	PayloadLength     uint32
	Reserved          uint64
}

// Message is a decoded message frame. Payload and UserHeaders are views
// into the buffer the message was parsed from.
type Message struct {
	MessageHeader
	Payload     []byte
	UserHeaders []byte
}

// Size is the encoded size of the message frame.
func (m *Message) Size() int { return MessageHeaderSize + len(m.Payload) + len(m.UserHeaders) }

// Clone returns a copy of m that owns its payload and headers, for callers
// that keep messages after the poll buffer is reused.
func (m *Message) Clone() Message {
	c := *m
	buf := make([]byte, len(m.Payload)+len(m.UserHeaders))
	n := copy(buf, m.Payload)
	copy(buf[n:], m.UserHeaders)
	c.Payload = buf[:n:n]
	if len(m.UserHeaders) > 0 {
		c.UserHeaders = buf[n:]
	} else {
		c.UserHeaders = nil
	}
	return c
}

// Headers decodes the message's user headers.
func (m *Message) Headers() ([]Header, error) { return ParseHeaders(m.UserHeaders) }

// Frame is one encoded message frame (64-byte header, payload, user
// headers). Its accessors do not check bounds beyond the 64-byte header; use
// it on frames that ParseMessage, SendMessages.Frame or a batch produced.
// Servers use the setters to stamp offset, timestamp and id in place before
// UpdateChecksum.
type Frame []byte

func (f Frame) Checksum() uint64 { return binary.LittleEndian.Uint64(f[offChecksum:]) }
func (f Frame) ID() MessageID {
	return MessageID{binary.LittleEndian.Uint64(f[offID:]), binary.LittleEndian.Uint64(f[offID+8:])}
}
func (f Frame) Offset() uint64          { return binary.LittleEndian.Uint64(f[offOffset:]) }
func (f Frame) Timestamp() uint64       { return binary.LittleEndian.Uint64(f[offTimestamp:]) }
func (f Frame) OriginTimestamp() uint64 { return binary.LittleEndian.Uint64(f[offOriginTimestamp:]) }
func (f Frame) UserHeadersLength() uint32 {
	return binary.LittleEndian.Uint32(f[offHeadersLen:])
}
func (f Frame) PayloadLength() uint32 { return binary.LittleEndian.Uint32(f[offPayloadLen:]) }
func (f Frame) Reserved() uint64      { return binary.LittleEndian.Uint64(f[offReserved:]) }

// Size is the length of the whole frame as its header declares it: 64 bytes
// plus payload plus user headers. It lets a reader walk frames laid end to
// end (a poll response, a stored segment) without parsing them.
func (f Frame) Size() int {
	return MessageHeaderSize + int(f.PayloadLength()) + int(f.UserHeadersLength())
}

// Payload returns the payload view.
func (f Frame) Payload() []byte {
	n := int(f.PayloadLength())
	return f[MessageHeaderSize : MessageHeaderSize+n : MessageHeaderSize+n]
}

// UserHeaders returns the encoded user headers view (nil when none).
func (f Frame) UserHeaders() []byte {
	h := int(f.UserHeadersLength())
	if h == 0 {
		return nil
	}
	p := MessageHeaderSize + int(f.PayloadLength())
	return f[p : p+h : p+h]
}

func (f Frame) SetID(id MessageID) {
	binary.LittleEndian.PutUint64(f[offID:], id.Lo)
	binary.LittleEndian.PutUint64(f[offID+8:], id.Hi)
}
func (f Frame) SetOffset(o uint64)     { binary.LittleEndian.PutUint64(f[offOffset:], o) }
func (f Frame) SetTimestamp(us uint64) { binary.LittleEndian.PutUint64(f[offTimestamp:], us) }
func (f Frame) SetOriginTimestamp(us uint64) {
	binary.LittleEndian.PutUint64(f[offOriginTimestamp:], us)
}

// UpdateChecksum stores XXH3-64 of frame[8:] in the checksum field.
func (f Frame) UpdateChecksum() { binary.LittleEndian.PutUint64(f, xxh3.Hash(f[8:])) }

// Message decodes f's header and returns views of its payload and headers.
func (f Frame) Message() Message {
	return Message{
		MessageHeader: MessageHeader{
			Checksum:          f.Checksum(),
			ID:                f.ID(),
			Offset:            f.Offset(),
			Timestamp:         f.Timestamp(),
			OriginTimestamp:   f.OriginTimestamp(),
			UserHeadersLength: f.UserHeadersLength(),
			PayloadLength:     f.PayloadLength(),
			Reserved:          f.Reserved(),
		},
		Payload:     f.Payload(),
		UserHeaders: f.UserHeaders(),
	}
}

// Checksum returns XXH3-64 (seed 0) of frame[8:], Iggy's message checksum.
func Checksum(frame []byte) uint64 {
	if len(frame) < 8 {
		return xxh3.Hash(nil)
	}
	return xxh3.Hash(frame[8:])
}

// PutMessageHeader writes h into the first 64 bytes of b.
func PutMessageHeader(b []byte, h *MessageHeader) {
	_ = b[MessageHeaderSize-1]
	binary.LittleEndian.PutUint64(b[offChecksum:], h.Checksum)
	binary.LittleEndian.PutUint64(b[offID:], h.ID.Lo)
	binary.LittleEndian.PutUint64(b[offID+8:], h.ID.Hi)
	binary.LittleEndian.PutUint64(b[offOffset:], h.Offset)
	binary.LittleEndian.PutUint64(b[offTimestamp:], h.Timestamp)
	binary.LittleEndian.PutUint64(b[offOriginTimestamp:], h.OriginTimestamp)
	binary.LittleEndian.PutUint32(b[offHeadersLen:], h.UserHeadersLength)
	binary.LittleEndian.PutUint32(b[offPayloadLen:], h.PayloadLength)
	binary.LittleEndian.PutUint64(b[offReserved:], h.Reserved)
}

// AppendMessage appends a complete frame (header, payload, user headers).
// Lengths in h are replaced by the real ones.
func AppendMessage(dst []byte, h MessageHeader, payload []byte, userHeaders []byte) []byte {
	h.PayloadLength = uint32(len(payload))
	h.UserHeadersLength = uint32(len(userHeaders))
	n := len(dst)
	dst = append(dst, make([]byte, MessageHeaderSize)...)
	PutMessageHeader(dst[n:], &h)
	dst = append(dst, payload...)
	return append(dst, userHeaders...)
}

// ParseFrame checks that b starts with a well-formed frame and returns it and
// its size: the header fits, the lengths fit in b, reserved is 0, and the
// payload and header sizes are within Iggy's limits. User headers are not
// decoded (servers only size-check them); call ValidateHeaders for that.
func ParseFrame(b []byte) (Frame, int, error) {
	if len(b) < MessageHeaderSize {
		return nil, 0, ErrTooSmallMessage
	}
	size, err := checkHeader(b)
	if err != nil {
		return nil, 0, err
	}
	if size > uint64(len(b)) {
		return nil, 0, ErrInvalidMessagePayloadLength
	}
	return Frame(b[:size:size]), int(size), nil
}

// checkHeader checks the 64-byte header at the start of h (which must hold
// it): reserved zero, payload and user headers within Iggy's limits. It
// returns the frame size the header declares.
func checkHeader(h []byte) (uint64, *Error) {
	h = h[:MessageHeaderSize]
	if binary.LittleEndian.Uint64(h[offReserved:]) != 0 {
		return 0, ErrInvalidReservedField
	}
	p := uint64(binary.LittleEndian.Uint32(h[offPayloadLen:]))
	u := uint64(binary.LittleEndian.Uint32(h[offHeadersLen:]))
	if p > MaxMessagePayload {
		return 0, ErrTooBigMessagePayload
	}
	if u > MaxUserHeadersSize {
		return 0, ErrTooBigUserHeaders
	}
	return MessageHeaderSize + p + u, nil
}

// ParseMessage decodes the frame at the start of b.
func ParseMessage(b []byte) (Message, int, error) {
	f, n, err := ParseFrame(b)
	if err != nil {
		return Message{}, 0, err
	}
	return f.Message(), n, nil
}
