package server

import (
	"encoding/binary"
	"unicode/utf8"
)

// Command codes of the classic protocol (docs/iggy-protocol.md §3).
const (
	cmdPing                 = 1
	cmdGetStats             = 10
	cmdGetSnapshot          = 11
	cmdGetClusterMetadata   = 12
	cmdGetMe                = 20
	cmdGetClient            = 21
	cmdGetClients           = 22
	cmdGetUser              = 31
	cmdGetUsers             = 32
	cmdCreateUser           = 33
	cmdDeleteUser           = 34
	cmdUpdateUser           = 35
	cmdUpdatePermissions    = 36
	cmdChangePassword       = 37
	cmdLoginUser            = 38
	cmdLogoutUser           = 39
	cmdGetPATs              = 41
	cmdCreatePAT            = 42
	cmdDeletePAT            = 43
	cmdLoginWithPAT         = 44
	cmdPollMessages         = 100
	cmdSendMessages         = 101
	cmdFlushUnsavedBuffer   = 102
	cmdGetConsumerOffset    = 120
	cmdStoreConsumerOffset  = 121
	cmdDeleteConsumerOffset = 122
	cmdGetStream            = 200
	cmdGetStreams           = 201
	cmdCreateStream         = 202
	cmdDeleteStream         = 203
	cmdUpdateStream         = 204
	cmdPurgeStream          = 205
	cmdGetTopic             = 300
	cmdGetTopics            = 301
	cmdCreateTopic          = 302
	cmdDeleteTopic          = 303
	cmdUpdateTopic          = 304
	cmdPurgeTopic           = 305
	cmdCreatePartitions     = 402
	cmdDeletePartitions     = 403
	cmdDeleteSegments       = 503
	cmdGetConsumerGroup     = 600
	cmdGetConsumerGroups    = 601
	cmdCreateConsumerGroup  = 602
	cmdDeleteConsumerGroup  = 603
	cmdJoinConsumerGroup    = 604
	cmdLeaveConsumerGroup   = 605
)

// Protocol limits (docs/iggy-protocol.md §8).
const (
	maxControlPayload   = 10_000_000 // non-send frames
	maxNameLength       = 255
	maxPartitionsCreate = 1000
	maxMessagePayload   = 64_000_000
	maxUserHeaders      = 100_000
	messageHeaderSize   = 64
	indexEntrySize      = 16
	minUsernameLen      = 3
	maxUsernameLen      = 50
	minPasswordLen      = 3
	maxPasswordLen      = 100
	maxPATNameLen       = 30
	minPATNameLen       = 3
)

// Offsets of the fields of a 64-byte message header (§5.1).
const (
	hdrChecksum       = 0
	hdrID             = 8
	hdrOffset         = 24
	hdrTimestamp      = 32
	hdrOriginTS       = 40
	hdrUserHeadersLen = 48
	hdrPayloadLen     = 52
	hdrReserved       = 56
)

// ident is a decoded Identifier: numeric when str is empty.
type ident struct {
	num uint32
	str string
	isS bool
}

// reader is a bounds-checked cursor over a request payload. The first
// failure sticks in err and every later read returns zero values, so
// handlers read all fields and check once.
type reader struct {
	b   []byte
	off int
	err Status
}

func (r *reader) fail(s Status) {
	if r.err == 0 {
		r.err = s
	}
}

func (r *reader) need(n int) bool {
	if r.err != 0 {
		return false
	}
	if n < 0 || len(r.b)-r.off < n {
		// Iggy answers a truncated payload with InvalidCommand.
		r.fail(StatusInvalidCommand)
		return false
	}
	return true
}

func (r *reader) u8() uint8 {
	if !r.need(1) {
		return 0
	}
	v := r.b[r.off]
	r.off++
	return v
}

func (r *reader) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) u64() uint64 {
	if !r.need(8) {
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v
}

func (r *reader) bytes(n int) []byte {
	if !r.need(n) {
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

func (r *reader) rest() []byte {
	if r.err != 0 {
		return nil
	}
	v := r.b[r.off:]
	r.off = len(r.b)
	return v
}

// ident reads an Identifier: kind u8 (1 numeric, 2 string), len u8, value.
func (r *reader) ident() ident {
	kind := r.u8()
	n := int(r.u8())
	if r.err != 0 {
		return ident{}
	}
	switch kind {
	case 1:
		if n != 4 {
			r.fail(StatusInvalidIdentifier)
			return ident{}
		}
		return ident{num: r.u32()}
	case 2:
		if n == 0 {
			r.fail(StatusInvalidIdentifier)
			return ident{}
		}
		b := r.bytes(n)
		if r.err != 0 {
			return ident{}
		}
		if !utf8.Valid(b) {
			r.fail(StatusInvalidIdentifier)
			return ident{}
		}
		return ident{str: string(b), isS: true}
	default:
		r.fail(StatusInvalidIdentifier)
		return ident{}
	}
}

// name reads a u8-length-prefixed UTF-8 name of 1..255 bytes; bad answers
// with the given status.
func (r *reader) name(bad Status) string {
	n := int(r.u8())
	if r.err != 0 {
		return ""
	}
	if n == 0 {
		r.fail(bad)
		return ""
	}
	b := r.bytes(n)
	if r.err != 0 {
		return ""
	}
	if !utf8.Valid(b) {
		r.fail(bad)
		return ""
	}
	return string(b)
}

// u8str reads a u8-length-prefixed string that may be empty.
func (r *reader) u8str() string {
	n := int(r.u8())
	return string(r.bytes(n))
}

// u32str reads a u32-length-prefixed byte string (LoginUser version/context).
func (r *reader) u32str() []byte {
	n := r.u32()
	if r.err != 0 {
		return nil
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.fail(StatusInvalidCommand)
		return nil
	}
	return r.bytes(int(n))
}

// consumer is a decoded Consumer: kind 1 = consumer, 2 = consumer group.
type consumer struct {
	kind uint8
	id   ident
}

func (r *reader) consumer() consumer {
	k := r.u8()
	id := r.ident()
	if r.err == 0 && k != 1 && k != 2 {
		r.fail(StatusInvalidFormat)
	}
	return consumer{kind: k, id: id}
}

// optPartition reads the 5-byte optional partition id (flag u8, u32).
func (r *reader) optPartition() (uint32, bool) {
	flag := r.u8()
	v := r.u32()
	if r.err == 0 && flag > 1 {
		r.fail(StatusInvalidFormat)
	}
	return v, flag == 1
}

// writer appends little-endian fields to a response payload.
type writer struct{ b []byte }

func (w *writer) u8(v uint8)   { w.b = append(w.b, v) }
func (w *writer) u16(v uint16) { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *writer) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *writer) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }
func (w *writer) f32(v float32) {
	w.u32(float32bits(v))
}
func (w *writer) name8(s string) { w.b = append(append(w.b, byte(len(s))), s...) }
func (w *writer) str32(s string) { w.u32(uint32(len(s))); w.b = append(w.b, s...) }
