package wire

import "encoding/binary"

// Frame sizes and limits of the classic protocol.
const (
	// RequestHeaderSize is the [length u32][code u32] prefix of a request.
	RequestHeaderSize = 8
	// ResponseHeaderSize is the [status u32][length u32] prefix of a response.
	ResponseHeaderSize = 8
	// MaxControlPayload is the largest payload the server accepts for any
	// command other than SendMessages (MAX_CONTROL_FRAME_PAYLOAD).
	MaxControlPayload = 10_000_000
)

// AppendRequest appends a whole request frame: header then payload.
func AppendRequest(dst []byte, code Command, payload []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(4+len(payload)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(code))
	return append(dst, payload...)
}

// BeginRequest appends a request header with a placeholder length and
// returns the extended buffer and the header's offset. Append the payload in
// place, then call FinishRequest: no intermediate payload buffer is needed.
func BeginRequest(dst []byte, code Command) ([]byte, int) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(code))
	return dst, start
}

// FinishRequest writes the length field of the request begun at start.
func FinishRequest(frame []byte, start int) {
	binary.LittleEndian.PutUint32(frame[start:], uint32(len(frame)-start-4))
}

// ParseRequestHeader reads the 8-byte request header: the payload length
// (length field minus the code) and the command code. A length field below 4
// is InvalidCommand, as in Iggy.
func ParseRequestHeader(h []byte) (payloadLen int, code Command, err error) {
	if len(h) < RequestHeaderSize {
		return 0, 0, ErrInvalidCommand
	}
	l := binary.LittleEndian.Uint32(h)
	if l < 4 {
		return 0, 0, ErrInvalidCommand
	}
	return int(l - 4), Command(binary.LittleEndian.Uint32(h[4:])), nil
}

// AppendResponse appends an OK response frame carrying payload.
func AppendResponse(dst []byte, payload []byte) []byte {
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}

// AppendErrorResponse appends an error response: [code][0].
func AppendErrorResponse(dst []byte, code uint32) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, code)
	return append(dst, 0, 0, 0, 0)
}

// BeginResponse appends an OK response header with a placeholder length;
// append the payload in place and call FinishResponse.
func BeginResponse(dst []byte) ([]byte, int) {
	start := len(dst)
	return append(dst, 0, 0, 0, 0, 0, 0, 0, 0), start
}

// FinishResponse writes the length of the response begun at start.
func FinishResponse(frame []byte, start int) {
	binary.LittleEndian.PutUint32(frame[start+4:], uint32(len(frame)-start-ResponseHeaderSize))
}

// ParseResponseHeader reads the 8-byte response header.
func ParseResponseHeader(h []byte) (status uint32, payloadLen int, err error) {
	if len(h) < ResponseHeaderSize {
		return 0, 0, ErrInvalidCommand
	}
	return binary.LittleEndian.Uint32(h), int(binary.LittleEndian.Uint32(h[4:])), nil
}
