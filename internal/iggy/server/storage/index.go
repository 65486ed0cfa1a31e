package storage

import (
	"encoding/binary"
	"fmt"
)

// An index file holds one 16-byte entry per message of its segment, in offset
// order, so entry i describes offset start+i:
//
//	[0:4]  relative offset u32 (= i; lets recovery and reads validate the entry)
//	[4:8]  byte position of the frame in the segment's log u32
//	[8:16] append timestamp u64 (µs), non-decreasing within a partition
//
// Offset lookups are direct (entry i at byte 16*i), timestamp lookups are a
// binary search over the entries.
const indexEntrySize = 16

// maxSegmentBytes is the largest log a segment may hold: positions are u32.
const maxSegmentBytes = 1<<32 - 1

func appendEntry(b []byte, rel, pos uint32, ts uint64) []byte {
	b = binary.LittleEndian.AppendUint32(b, rel)
	b = binary.LittleEndian.AppendUint32(b, pos)
	return binary.LittleEndian.AppendUint64(b, ts)
}

// indexEntry is one decoded index entry.
type indexEntry struct {
	rel uint32
	pos uint32
	ts  uint64
}

func decodeEntry(b []byte) indexEntry {
	return indexEntry{
		rel: binary.LittleEndian.Uint32(b),
		pos: binary.LittleEndian.Uint32(b[4:]),
		ts:  binary.LittleEndian.Uint64(b[8:]),
	}
}

// DecodeIndex decodes a whole index file image, checking that entries are
// dense (entry i has relative offset i), positions strictly increase from 0
// and timestamps never decrease. It stops at the first bad entry and returns
// the entries before it with an error; a trailing partial entry is an error
// too. Used by tools and fuzzing; the partition reads entries one at a time.
func DecodeIndex(b []byte) (n int, lastPos uint32, lastTS uint64, err error) {
	for len(b) >= indexEntrySize {
		e := decodeEntry(b)
		switch {
		case e.rel != uint32(n):
			return n, lastPos, lastTS, fmt.Errorf("index entry %d has relative offset %d", n, e.rel)
		case n == 0 && e.pos != 0:
			return n, lastPos, lastTS, fmt.Errorf("index entry 0 has position %d, want 0", e.pos)
		case n > 0 && e.pos <= lastPos:
			return n, lastPos, lastTS, fmt.Errorf("index entry %d has position %d, not after %d", n, e.pos, lastPos)
		case n > 0 && e.ts < lastTS:
			return n, lastPos, lastTS, fmt.Errorf("index entry %d has timestamp %d, before %d", n, e.ts, lastTS)
		}
		lastPos, lastTS = e.pos, e.ts
		n++
		b = b[indexEntrySize:]
	}
	if len(b) != 0 {
		return n, lastPos, lastTS, fmt.Errorf("index ends with a partial entry of %d bytes", len(b))
	}
	return n, lastPos, lastTS, nil
}
