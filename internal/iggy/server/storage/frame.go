package storage

import (
	"encoding/binary"
	"fmt"

	"github.com/zeebo/xxh3"
)

// Message frame layout, exactly as the classic protocol carries it
// (docs/iggy-protocol.md §5.1): a 64-byte header, the payload, then the user
// headers. All integers little-endian.
const (
	HeaderSize         = 64         // fixed frame header
	MaxPayloadSize     = 64_000_000 // Iggy MAX_PAYLOAD_SIZE
	MaxUserHeadersSize = 100_000    // Iggy limit on user headers per message

	hdrChecksum        = 0  // u64 XXH3-64 of frame[8:]
	hdrID              = 8  // u128
	hdrOffset          = 24 // u64
	hdrTimestamp       = 32 // u64 µs, set on append
	hdrOriginTimestamp = 40 // u64 µs, set by the producer
	hdrUserHeadersLen  = 48 // u32
	hdrPayloadLen      = 52 // u32
	hdrReserved        = 56 // u64, must be 0
)

// frameLen returns the length of the frame whose header is h (len(h) >= 64)
// as its header declares it.
func frameLen(h []byte) uint64 {
	return HeaderSize + uint64(binary.LittleEndian.Uint32(h[hdrPayloadLen:])) +
		uint64(binary.LittleEndian.Uint32(h[hdrUserHeadersLen:]))
}

// Checksum returns the checksum a stored frame carries: XXH3-64 (seed 0) of
// everything after the checksum field (docs/iggy-protocol.md §5.5).
func Checksum(frame []byte) uint64 { return xxh3.Hash(frame[hdrChecksum+8:]) }

// FrameOffset, FrameTimestamp and FrameLen read fields of a stored frame
// header; h must hold at least HeaderSize bytes.
func FrameOffset(h []byte) uint64    { return binary.LittleEndian.Uint64(h[hdrOffset:]) }
func FrameTimestamp(h []byte) uint64 { return binary.LittleEndian.Uint64(h[hdrTimestamp:]) }
func FrameLen(h []byte) uint64       { return frameLen(h) }

// CheckBatch validates a batch of frames as SendMessages delivers them,
// without changing it: count > 0, every frame at least 64 bytes, lengths within
// Iggy's limits and adding up exactly to len(frames), reserved fields zero.
// It returns how many frames carry a zero id (the server assigns those).
// Append runs it; the server may call it first to reject a batch early.
func CheckBatch(frames []byte, count uint32) (zeroIDs int, err error) {
	if count == 0 || len(frames) == 0 {
		return 0, fmt.Errorf("batch of %d messages in %d bytes: %w", count, len(frames), ErrInvalidMessagesCount)
	}
	if uint64(len(frames)) > maxSegmentBytes {
		return 0, fmt.Errorf("batch of %d bytes exceeds %d: %w", len(frames), uint64(maxSegmentBytes), ErrInvalidMessagesSize)
	}
	pos := 0
	n := uint32(0)
	for pos < len(frames) {
		if n == count {
			return 0, fmt.Errorf("batch holds more than the %d messages declared (extra data at byte %d): %w", count, pos, ErrInvalidMessagesCount)
		}
		h := frames[pos:]
		if len(h) < HeaderSize {
			return 0, fmt.Errorf("message %d at byte %d has only %d bytes: %w", n, pos, len(h), ErrTooSmallMessage)
		}
		payload := binary.LittleEndian.Uint32(h[hdrPayloadLen:])
		headers := binary.LittleEndian.Uint32(h[hdrUserHeadersLen:])
		switch {
		case payload > MaxPayloadSize:
			return 0, fmt.Errorf("message %d: payload of %d bytes: %w", n, payload, ErrTooBigPayload)
		case headers > MaxUserHeadersSize:
			return 0, fmt.Errorf("message %d: %d bytes of user headers: %w", n, headers, ErrTooBigUserHeaders)
		case binary.LittleEndian.Uint64(h[hdrReserved:]) != 0:
			return 0, fmt.Errorf("message %d: %w", n, ErrInvalidReservedField)
		}
		fl := HeaderSize + int(payload) + int(headers)
		if fl > len(h) {
			return 0, fmt.Errorf("message %d at byte %d declares %d bytes, %d left in the batch: %w", n, pos, fl, len(h), ErrInvalidMessagesSize)
		}
		if binary.LittleEndian.Uint64(h[hdrID:]) == 0 && binary.LittleEndian.Uint64(h[hdrID+8:]) == 0 {
			zeroIDs++
		}
		pos += fl
		n++
	}
	if n != count {
		return 0, fmt.Errorf("batch holds %d messages, %d declared: %w", n, count, ErrInvalidMessagesCount)
	}
	return zeroIDs, nil
}

// stampBatch prepares a checked batch for storage in place: offsets from
// first, the append timestamp, random ids (from ids, 16 bytes each) where the
// producer sent 0, and the checksum. It appends one index entry per frame to
// idx (relative offsets from rel, positions from base) and returns idx.
func stampBatch(frames []byte, first, ts uint64, ids []byte, idx []byte, rel uint32, base uint32) []byte {
	pos := 0
	for off := first; pos < len(frames); off++ {
		f := frames[pos:]
		fl := int(frameLen(f))
		f = f[:fl]
		if binary.LittleEndian.Uint64(f[hdrID:]) == 0 && binary.LittleEndian.Uint64(f[hdrID+8:]) == 0 {
			copy(f[hdrID:hdrID+16], ids[:16])
			ids = ids[16:]
		}
		binary.LittleEndian.PutUint64(f[hdrOffset:], off)
		binary.LittleEndian.PutUint64(f[hdrTimestamp:], ts)
		binary.LittleEndian.PutUint64(f[hdrChecksum:], xxh3.Hash(f[hdrChecksum+8:]))
		idx = appendEntry(idx, rel, base+uint32(pos), ts)
		rel++
		pos += fl
	}
	return idx
}

// uuidV4 shapes 16 random bytes, used as a little-endian u128, into a version
// 4 UUID the way Iggy's Uuid::new_v4().as_u128() does: UUID byte k is byte
// 15-k of the little-endian value.
func uuidV4(b []byte) {
	b[15-6] = b[15-6]&0x0f | 0x40 // version 4
	b[15-8] = b[15-8]&0x3f | 0x80 // RFC 4122 variant
}

// walkFrames checks that buf starts with want well-formed frames with
// consecutive offsets from first, and returns the byte length of those
// frames. It catches an index pointing at the wrong place before garbage
// reaches a client; checksums are not verified on reads.
func walkFrames(buf []byte, first uint64, want uint64) (int, error) {
	pos := 0
	for i := uint64(0); i < want; i++ {
		h := buf[pos:]
		if len(h) < HeaderSize {
			return pos, fmt.Errorf("frame %d of %d: %d bytes left", i, want, len(h))
		}
		if got := binary.LittleEndian.Uint64(h[hdrOffset:]); got != first+i {
			return pos, fmt.Errorf("frame %d of %d has offset %d, want %d", i, want, got, first+i)
		}
		fl := frameLen(h)
		if fl > uint64(len(h)) {
			return pos, fmt.Errorf("frame %d of %d declares %d bytes, %d left", i, want, fl, len(h))
		}
		pos += int(fl)
	}
	return pos, nil
}
