package wire

import (
	"encoding/binary"
	"slices"
)

// IndexSize is the size of one SendMessages index entry.
const IndexSize = 16

// Batch builds a SendMessages request frame (header included) in one
// reusable buffer, with no allocation per message once the buffer has grown
// to the batch's size. The layout is
//
//	[len u32][code u32][metadata_length u32][stream][topic][partitioning]
//	[count u32][count × 16-byte index][count × message frame]
//
// The index precedes the messages but its size is known only at the end, so
// the buffer keeps room for an index of a reserved capacity ahead of the
// messages (grown by doubling, which moves the messages; a reused batch keeps
// its capacity and never moves them again). Frame copies the short prefix and
// the index (16 bytes a message) in front of the first message; the messages
// themselves are written once, in place.
//
// A Batch is not safe for concurrent use.
type Batch struct {
	buf      []byte
	prefix   []byte // frame header, metadata and count placeholder
	index    []byte // count × 16-byte index entries
	msgStart int    // offset of the first message in buf
	reserved int    // index entries that fit before msgStart
	count    int
	pending  int // start of the message begun by StartMessage, or -1
	err      error
}

// headroom is the largest possible prefix: header 8, metadata length 4, two
// string identifiers, a 255-byte key partitioning, count 4.
const headroom = 8 + 4 + 2*(2+MaxNameLength) + 2 + MaxMessagesKeyLength + 4

// NewBatch returns a batch for stream/topic/partitioning with room reserved
// for sizeHint messages.
func NewBatch(stream, topic Identifier, p Partitioning, sizeHint int) *Batch {
	b := &Batch{}
	if sizeHint < 16 {
		sizeHint = 16
	}
	b.reserved = sizeHint
	b.Reset(stream, topic, p)
	return b
}

// Reset empties the batch and sets its destination, keeping its buffers.
// Errors in the destination are reported by Frame.
func (b *Batch) Reset(stream, topic Identifier, p Partitioning) {
	b.err = nil
	b.count = 0
	b.pending = -1
	b.index = b.index[:0]
	pre, start := BeginRequest(b.prefix[:0], CmdSendMessages)
	_ = start
	pre = appendU32(pre, uint32(stream.Size()+topic.Size()+p.Size()+4))
	var err error
	if pre, err = AppendIdentifier(pre, stream); err != nil {
		b.err = ErrInvalidStreamId
	} else if pre, err = AppendIdentifier(pre, topic); err != nil {
		b.err = ErrInvalidTopicId
	} else if pre, err = AppendPartitioning(pre, p); err != nil {
		b.err = err
	}
	pre = appendU32(pre, 0) // count, set by Frame
	b.prefix = pre
	if b.reserved < 16 {
		b.reserved = 16
	}
	b.msgStart = headroom + b.reserved*IndexSize
	if cap(b.index) < b.reserved*IndexSize {
		b.index = make([]byte, 0, b.reserved*IndexSize)
	}
	if cap(b.buf) < b.msgStart {
		b.buf = make([]byte, b.msgStart, b.msgStart+64*1024)
	}
	b.buf = b.buf[:b.msgStart]
}

// Len is the number of messages in the batch.
func (b *Batch) Len() int { return b.count }

// Size is the size in bytes the frame will have.
func (b *Batch) Size() int {
	return len(b.prefix) + b.count*IndexSize + len(b.buf) - b.msgStart
}

// Err returns the first error met while building.
func (b *Batch) Err() error { return b.err }

// grow makes room for one more index entry, moving the messages when the
// reserved index space is full.
func (b *Batch) grow() {
	if b.count < b.reserved {
		return
	}
	nr := 2 * b.reserved
	shift := (nr - b.reserved) * IndexSize
	n := len(b.buf)
	if cap(b.buf) < n+shift {
		nb := make([]byte, n+shift, 2*(n+shift))
		copy(nb, b.buf[:b.msgStart])
		copy(nb[b.msgStart+shift:], b.buf[b.msgStart:n])
		b.buf = nb
	} else {
		b.buf = b.buf[:n+shift]
		copy(b.buf[b.msgStart+shift:], b.buf[b.msgStart:n])
	}
	if b.pending >= 0 {
		b.pending += shift
	}
	b.msgStart += shift
	b.reserved = nr
}

// Add appends one message: id (zero ⇒ the server assigns one), the
// producer's timestamp in µs, the payload (copied) and optional user headers.
func (b *Batch) Add(id MessageID, originTimestamp uint64, payload []byte, headers []Header) error {
	dst := b.StartMessage(id, originTimestamp)
	return b.FinishMessage(append(dst, payload...), headers)
}

// StartMessage begins a message and returns the batch buffer; append the
// payload to it (for example encode straight into it) and pass the result
// to FinishMessage. No other batch method may be called in between.
func (b *Batch) StartMessage(id MessageID, originTimestamp uint64) []byte {
	b.grow()
	n := len(b.buf)
	b.pending = n
	if cap(b.buf)-n < MessageHeaderSize {
		b.buf = slices.Grow(b.buf, MessageHeaderSize)
	}
	b.buf = b.buf[:n+MessageHeaderSize]
	h := b.buf[n:]
	clear(h)
	binary.LittleEndian.PutUint64(h[offID:], id.Lo)
	binary.LittleEndian.PutUint64(h[offID+8:], id.Hi)
	binary.LittleEndian.PutUint64(h[offOriginTimestamp:], originTimestamp)
	return b.buf
}

// FinishMessage completes the message begun by StartMessage; buf is the
// buffer StartMessage returned with the payload appended. An invalid message
// (empty or too large payload, bad headers) is removed again and reported;
// the batch stays usable.
func (b *Batch) FinishMessage(buf []byte, headers []Header) error {
	start := b.pending
	if start < 0 {
		return ErrInvalidCommand
	}
	b.pending = -1
	if len(buf) < start+MessageHeaderSize {
		// Not the buffer StartMessage returned: drop the begun message.
		b.buf = b.buf[:start]
		return ErrInvalidCommand
	}
	plen := len(buf) - start - MessageHeaderSize
	switch {
	case plen == 0:
		b.buf = buf[:start]
		return ErrEmptyMessagePayload
	case plen > MaxMessagePayload:
		b.buf = buf[:start]
		return ErrTooBigMessagePayload
	}
	var err error
	if buf, err = AppendHeaders(buf, headers); err != nil {
		b.buf = buf[:start]
		return err
	}
	hlen := len(buf) - start - MessageHeaderSize - plen
	if hlen > MaxUserHeadersSize {
		b.buf = buf[:start]
		return ErrTooBigUserHeaders
	}
	if uint64(len(buf)-b.msgStart) > 1<<32-1 {
		// Index positions are u32: the batch is full.
		b.buf = buf[:start]
		return ErrTooManyMessages
	}
	binary.LittleEndian.PutUint32(buf[start+offHeadersLen:], uint32(hlen))
	binary.LittleEndian.PutUint32(buf[start+offPayloadLen:], uint32(plen))
	// Index entry: 0, end position within the message section, 0.
	b.index = appendU32(b.index, 0)
	b.index = appendU32(b.index, uint32(len(buf)-b.msgStart))
	b.index = appendU64(b.index, 0)
	b.buf = buf
	b.count++
	return nil
}

// Frame returns the complete request frame, valid until the next change to
// the batch. It fails for an empty batch (InvalidMessagesCount, as the
// server would) or an invalid destination.
func (b *Batch) Frame() ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	if b.count == 0 {
		return nil, ErrInvalidMessagesCount
	}
	idx := b.msgStart - len(b.index)
	start := idx - len(b.prefix)
	copy(b.buf[idx:], b.index)
	copy(b.buf[start:], b.prefix)
	binary.LittleEndian.PutUint32(b.buf[idx-4:], uint32(b.count))
	frame := b.buf[start:]
	FinishRequest(frame, 0)
	return frame, nil
}

// SendMessages is a decoded SendMessages request (server side). Indexes and
// Messages are views into the request payload.
type SendMessages struct {
	Stream       Identifier
	Topic        Identifier
	Partitioning Partitioning
	Count        uint32
	Indexes      []byte // Count × 16 bytes
	Messages     []byte // the message section
}

// Decode parses and validates a SendMessages payload as the Iggy server
// does: metadata length, index entries (zero relative offset and timestamp,
// increasing end positions within the section), section size, every frame at
// least 64 bytes with lengths matching its index span, reserved zero, and
// payload and header size limits.
func (s *SendMessages) Decode(payload []byte) error {
	d := decoder{b: payload}
	metaLen := d.u32()
	metaStart := d.off
	s.Stream = d.identifier()
	s.Topic = d.identifier()
	s.Partitioning = d.partitioning()
	s.Count = d.u32()
	if d.err != nil {
		return d.err
	}
	if uint64(metaLen) != uint64(d.off-metaStart) {
		return ErrInvalidFormat
	}
	if s.Count == 0 {
		return ErrInvalidMessagesCount
	}
	if uint64(s.Count)*IndexSize > uint64(d.remaining()) {
		return ErrInvalidIndexesCount
	}
	s.Indexes = d.bytes(int(s.Count) * IndexSize)
	s.Messages = payload[d.off:len(payload):len(payload)]
	prev := uint32(0)
	for i := 0; i < int(s.Count); i++ {
		e := s.Indexes[i*IndexSize:]
		if binary.LittleEndian.Uint32(e) != 0 {
			return ErrNonZeroOffset
		}
		if binary.LittleEndian.Uint64(e[8:]) != 0 {
			return ErrNonZeroTimestamp
		}
		end := binary.LittleEndian.Uint32(e[4:])
		if end > uint32(len(s.Messages)) || end < prev {
			return ErrInvalidMessagesSize
		}
		if end-prev < MessageHeaderSize {
			return ErrTooSmallMessage
		}
		f := s.Messages[prev:end]
		size, err := checkHeader(f)
		if err != nil {
			return err
		}
		if size != uint64(len(f)) {
			return ErrInvalidMessagePayloadLength
		}
		if Frame(f).PayloadLength() == 0 {
			return ErrEmptyMessagePayload
		}
		prev = end
	}
	if int(prev) != len(s.Messages) {
		return ErrInvalidMessagesSize
	}
	return nil
}

// Frame returns message i (0 ≤ i < Count) of a decoded request.
func (s *SendMessages) Frame(i int) Frame {
	start := uint32(0)
	if i > 0 {
		start = binary.LittleEndian.Uint32(s.Indexes[(i-1)*IndexSize+4:])
	}
	end := binary.LittleEndian.Uint32(s.Indexes[i*IndexSize+4:])
	return Frame(s.Messages[start:end:end])
}

// AppendPayload appends the SendMessages payload for already-encoded
// message frames (used by tests and tools; producers use Batch).
func (s *SendMessages) AppendPayload(dst []byte) ([]byte, error) {
	dst = appendU32(dst, uint32(s.Stream.Size()+s.Topic.Size()+s.Partitioning.Size()+4))
	var err error
	if dst, err = AppendIdentifier(dst, s.Stream); err != nil {
		return dst, err
	}
	if dst, err = AppendIdentifier(dst, s.Topic); err != nil {
		return dst, err
	}
	if dst, err = AppendPartitioning(dst, s.Partitioning); err != nil {
		return dst, err
	}
	count := 0
	for off := 0; off < len(s.Messages); count++ {
		_, n, err := ParseFrame(s.Messages[off:])
		if err != nil {
			return dst, err
		}
		off += n
	}
	dst = appendU32(dst, uint32(count))
	for off := 0; off < len(s.Messages); {
		_, n, _ := ParseFrame(s.Messages[off:])
		off += n
		dst = appendU32(dst, 0)
		dst = appendU32(dst, uint32(off))
		dst = appendU64(dst, 0)
	}
	return append(dst, s.Messages...), nil
}
