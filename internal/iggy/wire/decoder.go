package wire

import (
	"encoding/binary"
	"unicode/utf8"
)

// decoder reads little-endian fields from a payload with bounds checks. The
// first short read sets err (InvalidCommand, as Iggy reports truncated
// frames) and every later read returns zero, so callers check err once.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(e error) {
	if d.err == nil {
		d.err = e
	}
}

func (d *decoder) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || len(d.b)-d.off < n {
		d.err = ErrInvalidCommand
		return false
	}
	return true
}

func (d *decoder) remaining() int { return len(d.b) - d.off }

func (d *decoder) u8() uint8 {
	if !d.need(1) {
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *decoder) u16() uint16 {
	if !d.need(2) {
		return 0
	}
	v := binary.LittleEndian.Uint16(d.b[d.off:])
	d.off += 2
	return v
}

func (d *decoder) u32() uint32 {
	if !d.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v
}

func (d *decoder) u64() uint64 {
	if !d.need(8) {
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}

// bytes returns the next n bytes as a sub-slice (no copy).
func (d *decoder) bytes(n int) []byte {
	if !d.need(n) {
		return nil
	}
	v := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return v
}

// bool8 reads a flag byte; only 0 and 1 are valid (InvalidFormat otherwise).
func (d *decoder) bool8() bool {
	v := d.u8()
	if v > 1 {
		d.fail(ErrInvalidFormat)
	}
	return v == 1
}

// str8 reads a u8-length-prefixed UTF-8 string.
func (d *decoder) str8() string {
	n := int(d.u8())
	return d.utf8(d.bytes(n))
}

// str32 reads a u32-length-prefixed UTF-8 string, bounded by the payload.
func (d *decoder) str32() string {
	n := d.u32()
	if d.err == nil && uint64(n) > uint64(d.remaining()) {
		d.fail(ErrInvalidCommand)
		return ""
	}
	return d.utf8(d.bytes(int(n)))
}

func (d *decoder) utf8(b []byte) string {
	if d.err != nil {
		return ""
	}
	if !utf8.Valid(b) {
		d.fail(ErrInvalidCommand) // Iggy: InvalidUtf8 maps to InvalidCommand
		return ""
	}
	return string(b)
}

// readAll reads items until the payload is used up or an item fails.
func readAll[T any](d *decoder, item func(*decoder) T) []T {
	var out []T
	for d.err == nil && d.remaining() > 0 {
		out = append(out, item(d))
	}
	return out
}

// parseList decodes a response that is a bare sequence of items (GetStreams,
// GetTopics, ...): nil and the error when any item is malformed.
func parseList[T any](b []byte, item func(*decoder) T) ([]T, error) {
	d := decoder{b: b}
	out := readAll(&d, item)
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}

// end checks that the whole payload was consumed. Iggy only logs trailing
// bytes, so servers may ignore them; client-side response parsers call it to
// catch layout drift.
func (d *decoder) end() error {
	if d.err == nil && d.off != len(d.b) {
		d.err = ErrInvalidFormat
	}
	return d.err
}

// Appenders shared by every encoder.

func appendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func appendU64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendStr8 appends a u8-length string; callers validate len ≤ 255.
func appendStr8(b []byte, s string) []byte {
	b = append(b, byte(len(s)))
	return append(b, s...)
}

func appendStr32(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}

func putU32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }

// appendName appends a u8-length name, cutting it at 255 bytes so a frame
// stays well-formed even for a name that was never validated.
func appendName(b []byte, s string) []byte {
	if len(s) > MaxNameLength {
		s = s[:MaxNameLength]
	}
	return appendStr8(b, s)
}
