package storage

import (
	"errors"
	"fmt"
)

// codedError is a sentinel error that carries the Iggy status code the server
// answers with (docs/iggy-protocol.md §6).
type codedError struct {
	code uint32
	msg  string
}

func (e *codedError) Error() string { return e.msg }

// IggyCode returns the Iggy status code for the error.
func (e *codedError) IggyCode() uint32 { return e.code }

// Sentinel errors. Errors returned by this package wrap them with context;
// match them with errors.Is, and map any of them to an Iggy status code with
// IggyCode.
var (
	// ErrInvalidMessagesCount: the batch is empty or its frames do not number
	// the declared count.
	ErrInvalidMessagesCount error = &codedError{4009, "storage: invalid messages count"}
	// ErrTooBigUserHeaders: a frame declares more than MaxUserHeadersSize bytes of user headers.
	ErrTooBigUserHeaders error = &codedError{4017, "storage: user headers too big"}
	// ErrTooBigPayload: a frame declares more than MaxPayloadSize payload bytes.
	ErrTooBigPayload error = &codedError{4022, "storage: message payload too big"}
	// ErrInvalidMessagesSize: the frame lengths declared in the headers do not
	// add up to the batch length.
	ErrInvalidMessagesSize error = &codedError{4036, "storage: message sizes do not add up to the batch size"}
	// ErrTooSmallMessage: a frame is shorter than the 64-byte header.
	ErrTooSmallMessage error = &codedError{4037, "storage: message shorter than its 64-byte header"}
	// ErrInvalidReservedField: the reserved header field is not zero.
	ErrInvalidReservedField error = &codedError{4101, "storage: reserved header field is not zero"}
	// ErrInvalidOffset: a consumer offset beyond the partition's current offset.
	ErrInvalidOffset error = &codedError{4100, "storage: offset beyond the partition's current offset"}
	// ErrConsumerOffsetNotFound: no offset is stored for the consumer.
	ErrConsumerOffsetNotFound error = &codedError{3021, "storage: consumer offset not found"}
	// ErrClosed: the partition was closed.
	ErrClosed error = &codedError{1, "storage: partition closed"}
	// ErrFailed: an earlier write or fsync failed in a way that leaves the
	// on-disk state uncertain; the partition refuses writes until reopened
	// (Open runs recovery).
	ErrFailed error = &codedError{1, "storage: partition failed; reopen to recover"}
	// ErrCorrupt: stored data failed verification. Returned wrapped in a
	// *CorruptionError.
	ErrCorrupt error = &codedError{1, "storage: corrupt data"}
)

// IggyCode returns the Iggy status code carried by err (or by an error it
// wraps), and false when err carries none (I/O errors, for example; the server
// then answers with its generic error).
func IggyCode(err error) (uint32, bool) {
	var c interface{ IggyCode() uint32 }
	if errors.As(err, &c) {
		return c.IggyCode(), true
	}
	return 0, false
}

// CorruptionError reports stored data that failed verification: a frame with
// a bad length or checksum, an index that disagrees with its log, a gap between
// segments, or a damaged metadata or offset file.
type CorruptionError struct {
	Path     string // file that holds the bad data
	Position int64  // byte position in Path, -1 when not known
	Offset   uint64 // message offset expected at Position, when it applies
	Reason   string
}

func (e *CorruptionError) Error() string {
	if e.Position < 0 {
		return fmt.Sprintf("storage: corrupt %s: %s", e.Path, e.Reason)
	}
	return fmt.Sprintf("storage: corrupt %s at byte %d (offset %d): %s", e.Path, e.Position, e.Offset, e.Reason)
}

// Is makes errors.Is(err, ErrCorrupt) true for every *CorruptionError.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt }

// IggyCode is the generic error; corruption has no dedicated Iggy code.
func (e *CorruptionError) IggyCode() uint32 { return 1 }
