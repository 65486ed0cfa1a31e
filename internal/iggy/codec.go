package iggy

import (
	"io"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// Codec moves requests and responses over a connection. The client builds
// every request as a classic frame with package wire and hands it to the
// codec; the codec writes it in its framing and reads the reply back as a
// status and a classic payload.
//
// ClassicCodec is the only implementation: server 0.7/0.8 framing, where the
// bytes on the wire are the classic frame itself. A VSR codec for server
// 0.9+ (docs/iggy-protocol.md §7.5) would plug in here: WriteRequest would
// wrap the classic payload in a 256-byte request header (operation from the
// command code, NonReplicated with the code in the reserved bytes for
// reads), keep the session and request numbers, and convert SendMessages
// batches to the VSR batch layout; ReadResponse would check the reply
// header's checksum and map its status back. Login would go through the
// register handshake. Nothing else in the client changes.
type Codec interface {
	// WriteRequest writes one request given as a complete classic frame.
	// It reports how many bytes reached w, so the client knows whether the
	// server can have seen the request.
	WriteRequest(w io.Writer, frame []byte) (int, error)
	// ReadResponse reads one response. The payload is read into buf
	// (grown if needed) and returned with the grown buffer.
	ReadResponse(r io.Reader, buf []byte) (status uint32, payload, grown []byte, err error)
}

// ClassicCodec speaks the classic framing of server 0.7.x–0.8.x.
type ClassicCodec struct {
	// MaxResponse bounds a response payload (0 = 256 MiB); a larger length
	// is treated as a corrupt stream.
	MaxResponse int
}

// WriteRequest writes frame as is.
func (ClassicCodec) WriteRequest(w io.Writer, frame []byte) (int, error) {
	return w.Write(frame)
}

// ReadResponse reads [status][length][payload].
func (c ClassicCodec) ReadResponse(r io.Reader, buf []byte) (uint32, []byte, []byte, error) {
	// The header is read into buf too: a local array would escape
	// through io.Reader and cost an allocation per response.
	if cap(buf) < wire.ResponseHeaderSize {
		buf = make([]byte, wire.ResponseHeaderSize, 512)
	}
	h := buf[:wire.ResponseHeaderSize]
	if _, err := io.ReadFull(r, h); err != nil {
		return 0, nil, buf, err
	}
	status, n, _ := wire.ParseResponseHeader(h)
	max := c.MaxResponse
	if max <= 0 {
		max = 256 << 20
	}
	if n > max {
		return 0, nil, buf, &ProtocolError{Msg: "response payload of " + itoa(n) + " bytes exceeds the limit"}
	}
	if cap(buf) < n {
		buf = make([]byte, n, n+n/4)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, buf, err
	}
	return status, buf, buf, nil
}

// ProtocolError reports a response that does not follow the protocol; the
// connection is dropped when one is seen.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "iggy protocol error: " + e.Msg }
