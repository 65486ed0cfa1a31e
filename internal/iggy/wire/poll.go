package wire

import "encoding/binary"

// PollHeaderSize is the fixed prefix of a PollMessages response:
// partition_id u32 · current_offset u64 · messages_count u32.
const PollHeaderSize = 16

// AppendPollHeader appends the PollMessages response prefix; the server then
// appends count message frames (as stored, with offsets, timestamps and
// checksums set).
func AppendPollHeader(dst []byte, partitionID uint32, currentOffset uint64, count uint32) []byte {
	dst = appendU32(dst, partitionID)
	dst = appendU64(dst, currentOffset)
	return appendU32(dst, count)
}

// PutPollHeader writes the PollMessages response prefix into b[:16]. A
// server that copies stored frames straight into its response buffer
// reserves the prefix first (AppendPollHeader with zeros) and fills it in
// once it knows how many frames it copied.
func PutPollHeader(b []byte, partitionID uint32, currentOffset uint64, count uint32) {
	_ = b[PollHeaderSize-1]
	binary.LittleEndian.PutUint32(b, partitionID)
	binary.LittleEndian.PutUint64(b[4:], currentOffset)
	binary.LittleEndian.PutUint32(b[12:], count)
}

// PolledMessages is a decoded PollMessages response. Messages are views
// into the response buffer: valid until the buffer is reused. Use
// Message.Clone to keep one.
type PolledMessages struct {
	PartitionID   uint32
	CurrentOffset uint64
	Messages      []Message
}

// ParsePolledMessages decodes a PollMessages response into p, reusing
// p.Messages' storage (no allocation once it has grown). An empty payload is
// an empty result. The frame count must match messages_count and every
// frame must be well-formed.
func ParsePolledMessages(b []byte, p *PolledMessages) error {
	p.Messages = p.Messages[:0]
	p.PartitionID, p.CurrentOffset = 0, 0
	if len(b) == 0 {
		return nil
	}
	if len(b) < PollHeaderSize {
		return ErrInvalidCommand
	}
	p.PartitionID = binary.LittleEndian.Uint32(b)
	p.CurrentOffset = binary.LittleEndian.Uint64(b[4:])
	count := binary.LittleEndian.Uint32(b[12:])
	rest := b[PollHeaderSize:]
	if uint64(count)*MessageHeaderSize > uint64(len(rest)) {
		return ErrInvalidMessagesCount
	}
	for len(rest) > 0 {
		f, n, err := ParseFrame(rest)
		if err != nil {
			p.Messages = p.Messages[:0]
			return err
		}
		p.Messages = append(p.Messages, f.Message())
		rest = rest[n:]
	}
	if uint32(len(p.Messages)) != count {
		p.Messages = p.Messages[:0]
		return ErrInvalidMessagesCount
	}
	return nil
}
