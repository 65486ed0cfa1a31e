// Package record writes and reads ims recordings: every raw websocket frame a
// feed received, with its connection id, stream name and local receive time,
// so a session can be replayed offline through the same parser.
//
// A recording is a small header followed by independent blocks. Each block is
// one complete zstd frame with its own length and CRC, written with a single
// write call, so a file is readable while it is still being written and a
// crash loses at most the block that was being filled.
//
// File layout (little-endian):
//
//	header  magic "IMSREC\x00\n" (8) | version u16 | length u16 (of what follows)
//	        | market: u8 length + bytes | created i64 ns | crc32c u32 (of all before it)
//	block   magic "IMSB" (4) | raw length u32 | compressed length u32
//	        | record count u32 | crc32c u32 of the compressed bytes | zstd frame
//	record  kind u8 | conn uvarint | time varint (delta ns from the previous
//	        record in the block; the first from 0) | stream uvarint length + bytes
//	        | data uvarint length + bytes
package record

import (
	"errors"
	"hash/crc32"
)

// Version is the format version this package writes and reads.
const Version = 1

// Magic opens every recording.
const Magic = "IMSREC\x00\n"

// blockMagic opens every block.
const blockMagic = "IMSB"

const (
	blockHeaderLen = 20
	// MaxBlockLen bounds a block's raw and compressed sizes, so a corrupt
	// length cannot make the reader allocate without limit.
	MaxBlockLen = 64 << 20
	// maxMarketLen bounds the market name in the header.
	maxMarketLen = 64
)

// Kind says what a record holds.
type Kind uint8

const (
	// KindText is a websocket text frame.
	KindText Kind = 1
	// KindBinary is a websocket binary frame.
	KindBinary Kind = 2
	// KindOpen marks a connection opening; Data is its URL, Stream names
	// the feed's shard ("shard 2") so a replay groups a shard's successive
	// connections even when their URLs differ (empty in older recordings).
	KindOpen Kind = 3
	// KindClose marks a connection ending; Data is the reason.
	KindClose Kind = 4
	// KindREST is a REST reply the feed used to fill a gap or snapshot a
	// book; Stream is the request (endpoint and query, "aggTrades?fromId=
	// 5&limit=1000&symbol=BTCUSDT") and Data the 200 body, so a replay
	// fills the same gaps with the same data.
	KindREST Kind = 5
	// KindFill is the feed's decision about a gap on a stream (Stream is
	// its name): Data is "start FROM TO", "unfilled FROM TO REASON",
	// "end [REASON]", "abandon REASON" or, for a depth gap, "fetch FROM TO"
	// (a REST snapshot is fetched), "snapshot ID RECV" (the reply with that
	// lastUpdateId and receive time was delivered) and "nosnapshot FROM TO
	// REASON" (it failed). Conn is the connection the gap was seen on. The
	// feed also writes "promote" (Conn becomes its shard's primary) and
	// "unsubscribe" (the stream was dropped).
	KindFill Kind = 6
)

func (k Kind) String() string {
	switch k {
	case KindText:
		return "text"
	case KindBinary:
		return "binary"
	case KindOpen:
		return "open"
	case KindClose:
		return "close"
	case KindREST:
		return "rest"
	case KindFill:
		return "fill"
	}
	return "unknown"
}

func (k Kind) valid() bool { return k >= KindText && k <= KindFill }

// Record is one recorded frame or connection event. A Record returned by
// Reader.Next aliases the reader's buffers and is valid until the next call.
type Record struct {
	Kind   Kind
	Conn   uint32 // connection id, unique within the recording
	Time   int64  // local receive time, ns since the Unix epoch
	Stream []byte // stream name ("btcusdt@trade"); empty when not known
	Data   []byte // the frame exactly as received
}

// Header is a recording's file header.
type Header struct {
	Version uint16
	Market  string // the market the feed ran against ("spot", "usdm", ...)
	Created int64  // ns since the Unix epoch
}

// Errors a Reader returns; they are wrapped with the byte offset.
var (
	// ErrTruncated is a torn final block: the file ends inside a block, as
	// after a crash or while the writer is still filling it. Everything
	// before it was delivered.
	ErrTruncated = errors.New("recording ends inside a block")
	// ErrCorrupt is a block or header that fails its checks.
	ErrCorrupt = errors.New("corrupt recording")
	// ErrNotRecording is a file that does not start with Magic.
	ErrNotRecording = errors.New("not an ims recording")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)
