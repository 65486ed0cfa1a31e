// Package sbert is the small runtime the generated SBE codecs share: the
// message header, the decode errors, the Codec interface generic tools use
// to decode any generated schema, and the zero-allocation text and JSON
// appenders the generated renderers call.
//
// Nothing here keeps state; every function appends to or reads from the
// caller's buffers.
package sbert

import (
	"errors"
	"strconv"
)

// Header is an SBE message header (the standard 8-byte messageHeader
// composite: blockLength, templateId, schemaId, version, each a uint16).
type Header struct {
	BlockLength uint16
	TemplateID  uint16
	SchemaID    uint16
	Version     uint16
}

// Format selects how a Codec renders a message.
type Format uint8

const (
	// FormatText is one readable line: the message name, then field=value pairs.
	FormatText Format = iota
	// FormatJSON is one JSON object (a JSON Lines record without the newline).
	FormatJSON
)

func (f Format) String() string {
	switch f {
	case FormatText:
		return "text"
	case FormatJSON:
		return "json"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// Codec is what every generated schema package offers generic tools (ims
// decode, ims tail): header parsing, template lookup, bounds-checked
// validation and rendering of whole messages. Implementations are stateless
// zero-size values.
type Codec interface {
	// Name is the schema's short name ("ims", "binance-stream").
	Name() string
	// SchemaID and SchemaVersion are the schema's id and version attributes.
	SchemaID() uint16
	SchemaVersion() uint16
	// HeaderLength is the encoded size of the message header.
	HeaderLength() int
	// Header reads the message header at msg[0:].
	Header(msg []byte) (Header, error)
	// TemplateName is the name of the message with templateID, or "".
	TemplateName(templateID uint16) string
	// Validate checks the whole message at msg[0:] (header first) against
	// the buffer and the schema and returns its encoded length.
	Validate(msg []byte) (int, error)
	// Append validates the message at msg[0:] and appends its rendering to
	// dst. It returns the extended buffer and the message's encoded length;
	// on error dst is returned unchanged.
	Append(dst, msg []byte, f Format) ([]byte, int, error)
}

// Errors returned by the generated encoders. They are sentinel values so the
// encode path never allocates, even when it fails.
var (
	// ErrShortBuffer means the buffer cannot hold what is being written.
	ErrShortBuffer = errors.New("sbe: buffer too short")
	// ErrValueTooLong means a char array or var-data value exceeds its
	// field's capacity.
	ErrValueTooLong = errors.New("sbe: value too long for field")
	// ErrGroupCount means a repeating-group count is negative or exceeds the
	// dimension type's maximum.
	ErrGroupCount = errors.New("sbe: repeating group count out of range")
	// ErrNotEncoding means a group entry was asked to write although its
	// iterator came from a decoder, not from <Group>Count.
	ErrNotEncoding = errors.New("sbe: group iterator is not encoding")
)

// TruncatedError reports a message that extends past the end of the buffer.
// Need and Have count bytes from the start of the buffer handed to the
// decoder (the message start, when the message is at offset 0).
type TruncatedError struct {
	Message string // message name
	Part    string // "" for the root block, else e.g. "group bids" or "data detail"
	Need    int
	Have    int
}

func (e *TruncatedError) Error() string {
	b := make([]byte, 0, 64)
	b = append(b, "truncated "...)
	b = appendWhat(b, e.Message, e.Part)
	b = append(b, ": need "...)
	b = strconv.AppendInt(b, int64(e.Need), 10)
	b = append(b, " bytes, have "...)
	b = strconv.AppendInt(b, int64(e.Have), 10)
	return string(b)
}

// LimitError reports a declared length or count outside what the schema
// allows: a block length below the fields it must hold, a group count above
// its dimension's maximum, a var-data length above its maximum.
type LimitError struct {
	Message string // message name
	Part    string // "" for the root block, else e.g. "group bids"
	Field   string // "blockLength", "numInGroup", "length"
	Value   int64
	Limit   int64
	Min     bool // Limit is a minimum (else a maximum)
}

func (e *LimitError) Error() string {
	b := make([]byte, 0, 96)
	b = appendWhat(b, e.Message, e.Part)
	b = append(b, ": "...)
	b = append(b, e.Field...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, e.Value, 10)
	if e.Min {
		b = append(b, " is below the minimum "...)
	} else {
		b = append(b, " exceeds the maximum "...)
	}
	b = strconv.AppendInt(b, e.Limit, 10)
	return string(b)
}

// UnknownTemplateError reports a header whose template id the schema does
// not define.
type UnknownTemplateError struct {
	Schema string // schema name
	Header Header
}

func (e *UnknownTemplateError) Error() string {
	b := make([]byte, 0, 96)
	b = append(b, "unknown message: template "...)
	b = strconv.AppendUint(b, uint64(e.Header.TemplateID), 10)
	b = append(b, " (schema id "...)
	b = strconv.AppendUint(b, uint64(e.Header.SchemaID), 10)
	b = append(b, ", version "...)
	b = strconv.AppendUint(b, uint64(e.Header.Version), 10)
	b = append(b, ", blockLength "...)
	b = strconv.AppendUint(b, uint64(e.Header.BlockLength), 10)
	b = append(b, ')')
	if e.Schema != "" {
		b = append(b, " is not in schema "...)
		b = append(b, e.Schema...)
	}
	return string(b)
}

// WrongTemplateError reports a header that announces another message than
// the one the caller asked to decode.
type WrongTemplateError struct {
	Want           string
	WantTemplateID uint16
	WantSchemaID   uint16
	Header         Header
}

func (e *WrongTemplateError) Error() string {
	b := make([]byte, 0, 96)
	b = append(b, "header announces template "...)
	b = strconv.AppendUint(b, uint64(e.Header.TemplateID), 10)
	b = append(b, " of schema "...)
	b = strconv.AppendUint(b, uint64(e.Header.SchemaID), 10)
	b = append(b, ", want "...)
	b = append(b, e.Want...)
	b = append(b, " (template "...)
	b = strconv.AppendUint(b, uint64(e.WantTemplateID), 10)
	b = append(b, " of schema "...)
	b = strconv.AppendUint(b, uint64(e.WantSchemaID), 10)
	b = append(b, ')')
	return string(b)
}

func appendWhat(b []byte, msg, part string) []byte {
	if msg == "" {
		msg = "message"
	}
	b = append(b, msg...)
	if part != "" {
		b = append(b, ' ')
		b = append(b, part...)
	}
	return b
}

// Truncated returns a *TruncatedError; the generated decoders call it on
// their (cold) error paths.
func Truncated(msg, part string, need, have int) error {
	return &TruncatedError{Message: msg, Part: part, Need: need, Have: have}
}

// BelowMinimum returns a *LimitError for a value below its minimum.
func BelowMinimum(msg, part, field string, value, min int64) error {
	return &LimitError{Message: msg, Part: part, Field: field, Value: value, Limit: min, Min: true}
}

// AboveMaximum returns a *LimitError for a value above its maximum.
func AboveMaximum(msg, part, field string, value, max int64) error {
	return &LimitError{Message: msg, Part: part, Field: field, Value: value, Limit: max}
}
