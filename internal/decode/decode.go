// Package decode turns a stream of SBE messages into text or JSON Lines:
// the logic of `ims decode`. It knows the ims schema and Binance's market
// data stream schema, picks one per message from its header (or uses the
// one the caller forces), and reports every message it cannot decode with
// its byte offset (raw input) or line number (hex and base64 input).
package decode

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/ims-dev/ims/sbe/binancesbe"
	"github.com/ims-dev/ims/sbe/imssbe"
	"github.com/ims-dev/ims/sbe/sbert"
)

// Input is how messages are laid out in the input.
type Input uint8

const (
	// Raw is a concatenation of binary messages, each delimited by its
	// header, block length, groups and var data.
	Raw Input = iota
	// Hex is one hex-encoded message per line.
	Hex
	// Base64 is one base64-encoded message per line (standard or URL
	// alphabet, padded or not).
	Base64
)

func (in Input) String() string {
	switch in {
	case Raw:
		return "raw"
	case Hex:
		return "hex"
	case Base64:
		return "base64"
	}
	return "Input(" + strconv.Itoa(int(in)) + ")"
}

// DefaultMaxMessageSize bounds the length a message may declare (through
// its block length, group counts and var-data lengths). A larger
// declaration is treated as corrupt rather than buffered.
const DefaultMaxMessageSize = 16 << 20

// AutoSchema chooses the schema of each message from its header.
const AutoSchema = "auto"

// Codecs returns the schemas decode knows, in the order auto selection
// tries them.
func Codecs() []sbert.Codec {
	return []sbert.Codec{imssbe.Codec{}, binancesbe.Codec{}}
}

// SchemaNames lists the values Options.Schema accepts.
func SchemaNames() []string {
	names := []string{AutoSchema}
	for _, c := range Codecs() {
		names = append(names, c.Name())
	}
	return names
}

// CodecByName returns the codec of the schema called name.
func CodecByName(name string) (sbert.Codec, bool) {
	for _, c := range Codecs() {
		if c.Name() == name {
			return c, true
		}
	}
	return nil, false
}

// Options control a decode run.
type Options struct {
	Format sbert.Format
	Input  Input
	// Schema is AutoSchema (or "") to choose per message, or a schema name
	// to decode every message with it whatever its header's schema id.
	Schema string
	// Count stops after this many messages have been written; 0 means all.
	Count int
	// MaxMessageSize bounds declared message lengths; 0 means
	// DefaultMaxMessageSize.
	MaxMessageSize int
}

// Error is a message that could not be decoded: where it is and why.
type Error struct {
	Offset int64 // byte offset of the message (raw input)
	Line   int   // line number, from 1 (hex and base64 input); 0 for raw
	Err    error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return "line " + strconv.Itoa(e.Line) + ": " + e.Err.Error()
	}
	return "offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// UnknownMessageError reports a header no known schema defines.
type UnknownMessageError struct {
	Header  sbert.Header
	Schemas []string
}

func (e *UnknownMessageError) Error() string {
	return fmt.Sprintf("unknown message: schema id %d, template %d (version %d, blockLength %d) is not an %s message",
		e.Header.SchemaID, e.Header.TemplateID, e.Header.Version, e.Header.BlockLength, joinOr(e.Schemas))
}

func joinOr(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	s := names[0]
	for _, n := range names[1 : len(names)-1] {
		s += ", " + n
	}
	return s + " or " + names[len(names)-1]
}

// OversizeError reports a message that declares more bytes than the limit.
type OversizeError struct {
	// Need is a lower bound of the declared length: how far the walk
	// through the message got depends on how much input had been read, so
	// it is not part of the error text.
	Need  int
	Limit int
}

func (e *OversizeError) Error() string {
	return fmt.Sprintf("message declares more than the %d-byte limit", e.Limit)
}

// Result counts what a run did.
type Result struct {
	Messages int   // messages written
	Errors   int   // messages reported as errors
	Bytes    int64 // input bytes read (raw) or message bytes decoded (hex, base64)
}

// decoder holds one run's state.
type decoder struct {
	opts   Options
	codecs []sbert.Codec
	forced sbert.Codec
	out    *bufio.Writer
	report func(*Error)
	dst    []byte
	res    Result
}

// Run decodes the messages read from r and writes one line per message to
// w. Each message that cannot be decoded is passed to report after
// everything decoded before it has been flushed to w. In raw mode such a
// message ends the run, since what follows cannot be delimited; in the line
// modes decoding continues with the next line. Run returns an error only
// when reading or writing fails or ctx is done; per-message failures are
// counted in Result.Errors.
func Run(ctx context.Context, r io.Reader, w io.Writer, opts Options, report func(*Error)) (Result, error) {
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = DefaultMaxMessageSize
	}
	d := &decoder{opts: opts, codecs: Codecs(), out: bufio.NewWriterSize(w, 64<<10), report: report, dst: make([]byte, 0, 4096)}
	if opts.Schema != "" && opts.Schema != AutoSchema {
		c, ok := CodecByName(opts.Schema)
		if !ok {
			return Result{}, fmt.Errorf("unknown schema %q: want one of %v", opts.Schema, SchemaNames())
		}
		d.forced = c
	}
	var err error
	switch opts.Input {
	case Raw:
		err = d.raw(ctx, r)
	case Hex, Base64:
		err = d.lines(ctx, r)
	default:
		err = fmt.Errorf("unknown input kind %v", opts.Input)
	}
	if ferr := d.out.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("writing output: %w", ferr)
	}
	return d.res, err
}

// fail flushes what was decoded so far and reports e.
func (d *decoder) fail(e *Error) error {
	d.res.Errors++
	if err := d.out.Flush(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if d.report != nil {
		d.report(e)
	}
	return nil
}

// codecFor picks the schema of the message at msg[0:].
func (d *decoder) codecFor(msg []byte) (sbert.Codec, error) {
	if d.forced != nil {
		return d.forced, nil
	}
	var h sbert.Header
	var err error
	for _, c := range d.codecs {
		if h, err = c.Header(msg); err != nil {
			return nil, err
		}
		if h.SchemaID == c.SchemaID() && c.TemplateName(h.TemplateID) != "" {
			return c, nil
		}
	}
	names := make([]string, len(d.codecs))
	for i, c := range d.codecs {
		names[i] = c.Name()
	}
	return nil, &UnknownMessageError{Header: h, Schemas: names}
}

// render decodes the message at msg[0:] and writes its line. It returns the
// message's length.
func (d *decoder) render(msg []byte) (int, error) {
	c, err := d.codecFor(msg)
	if err != nil {
		return 0, err
	}
	out, n, err := c.Append(d.dst[:0], msg, d.opts.Format)
	if err != nil {
		return 0, err
	}
	d.dst = append(out, '\n')
	if _, err := d.out.Write(d.dst); err != nil {
		return n, &writeError{err}
	}
	d.res.Messages++
	return n, nil
}

// writeError marks an output failure, which ends the run.
type writeError struct{ err error }

func (e *writeError) Error() string { return "writing output: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

func (d *decoder) done() bool { return d.opts.Count > 0 && d.res.Messages >= d.opts.Count }

// raw decodes concatenated binary messages, reading the input in chunks and
// keeping only the message being decoded (and what follows it in the last
// chunk) in memory.
func (d *decoder) raw(ctx context.Context, r io.Reader) error {
	buf := make([]byte, 0, 64<<10)
	var base int64 // input offset of buf[0]
	pos := 0       // start of the next message in buf
	eof := false
	need := 0 // bytes the message at pos needs before it can be decoded
	for {
		if d.done() {
			return nil
		}
		avail := len(buf) - pos
		if !eof && (avail == 0 || avail < need) {
			// Keep the unread tail and read more.
			if pos > 0 {
				n := copy(buf, buf[pos:])
				buf = buf[:n]
				base += int64(pos)
				pos = 0
			}
			if want := max(need, 4096); cap(buf) < want {
				buf = append(make([]byte, 0, max(want, 2*cap(buf))), buf...)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			d.res.Bytes += int64(n)
			if errors.Is(err, io.EOF) {
				eof = true
			} else if err != nil {
				return fmt.Errorf("reading input at offset %d: %w", base+int64(len(buf)), err)
			}
			continue
		}
		if avail == 0 { // end of input at a message boundary
			return nil
		}
		msg := buf[pos:]
		n, err := d.render(msg)
		if err != nil {
			// (errors.As only here: its target escapes, and this loop must
			// not allocate per message.)
			var we *writeError
			if errors.As(err, &we) {
				return we
			}
			var te *sbert.TruncatedError
			if errors.As(err, &te) {
				// A declaration beyond the limit is corrupt, whether or not
				// the input happens to end here.
				if te.Need > d.opts.MaxMessageSize {
					return d.fail(&Error{Offset: base + int64(pos), Err: &OversizeError{Need: te.Need, Limit: d.opts.MaxMessageSize}})
				}
				if !eof {
					need = max(te.Need, avail+1)
					continue
				}
			}
			return d.fail(&Error{Offset: base + int64(pos), Err: err})
		}
		need = 0
		pos += n
		if d.res.Messages%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
}

// maxLine bounds one input line (a hex-encoded maximum-size message plus
// room for spaces).
func (d *decoder) maxLine() int { return 3*d.opts.MaxMessageSize + 1024 }

// lines decodes one hex or base64 message per line.
func (d *decoder) lines(ctx context.Context, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var line, packed, msg []byte
	for n := 1; ; n++ {
		if d.done() {
			return nil
		}
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var tooLong bool
		var err error
		line, tooLong, err = readLine(br, line[:0], d.maxLine())
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading input line %d: %w", n, err)
		}
		last := errors.Is(err, io.EOF)
		if tooLong {
			if ferr := d.fail(&Error{Line: n, Err: fmt.Errorf("line longer than %d bytes", d.maxLine())}); ferr != nil {
				return ferr
			}
		} else if packed = d.pack(packed[:0], line, n == 1); len(packed) > 0 {
			var derr error
			msg, derr = d.decodeText(msg[:0], packed)
			if derr == nil {
				d.res.Bytes += int64(len(msg))
				derr = d.line(msg)
			}
			if derr != nil {
				var we *writeError
				if errors.As(derr, &we) {
					return we
				}
				if ferr := d.fail(&Error{Line: n, Err: derr}); ferr != nil {
					return ferr
				}
			}
		}
		if last {
			return nil
		}
	}
}

// line decodes one message that must fill msg exactly.
func (d *decoder) line(msg []byte) error {
	n, err := d.render(msg)
	if err != nil {
		return err
	}
	if n < len(msg) {
		extra := len(msg) - n
		unit := "bytes"
		if extra == 1 {
			unit = "byte"
		}
		return fmt.Errorf("%d %s after the end of the message (one message per line)", extra, unit)
	}
	return nil
}

// decodeText decodes packed (a line without whitespace) into dst.
func (d *decoder) decodeText(dst, packed []byte) ([]byte, error) {
	if d.opts.Input == Hex {
		if len(packed)%2 != 0 {
			return dst, errors.New("invalid hex: odd number of digits")
		}
		dst = growTo(dst, len(packed)/2)
		if _, err := hex.Decode(dst, packed); err != nil {
			return dst, fmt.Errorf("invalid hex: %w", err)
		}
		return dst, nil
	}
	enc := base64Encoding(packed)
	dst = growTo(dst, enc.DecodedLen(len(packed)))
	n, err := enc.Decode(dst, packed)
	if err != nil {
		return dst, fmt.Errorf("invalid base64: %w", err)
	}
	return dst[:n], nil
}

// base64Encoding picks the alphabet and padding the text uses.
func base64Encoding(b []byte) *base64.Encoding {
	url := bytes.ContainsAny(b, "-_")
	padded := bytes.IndexByte(b, '=') >= 0
	switch {
	case url && padded:
		return base64.URLEncoding
	case url:
		return base64.RawURLEncoding
	case padded:
		return base64.StdEncoding
	}
	return base64.RawStdEncoding
}

func growTo(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// utf8BOM is the byte order mark some editors put at the start of a file.
const utf8BOM = "\xef\xbb\xbf"

// pack appends the encoded bytes of line to dst: without whitespace, and
// for hex also without commas and without the 0x (0X) that may start each
// group ("0x30, 0x00" as in C arrays). first drops a leading byte order
// mark.
func (d *decoder) pack(dst, line []byte, first bool) []byte {
	if first {
		line = bytes.TrimPrefix(line, []byte(utf8BOM))
	}
	if d.opts.Input != Hex {
		return stripSpace(dst, line)
	}
	group := true // at the start of a group
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case ' ', '\t', '\r', '\n', '\v', '\f', ',':
			group = true
		case '0':
			if group && i+1 < len(line) && (line[i+1] == 'x' || line[i+1] == 'X') {
				i++
			} else {
				dst = append(dst, c)
			}
			group = false
		default:
			dst = append(dst, c)
			group = false
		}
	}
	return dst
}

// stripSpace appends line without any ASCII whitespace to dst.
func stripSpace(dst, line []byte) []byte {
	for _, c := range line {
		switch c {
		case ' ', '\t', '\r', '\n', '\v', '\f':
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// readLine reads one line (without its newline) into dst. A line longer
// than limit is consumed and reported with tooLong rather than buffered.
func readLine(br *bufio.Reader, dst []byte, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(dst)+len(chunk) > limit+1 {
				tooLong = true
				dst = dst[:0]
			} else {
				dst = append(dst, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(dst) > 0 && dst[len(dst)-1] == '\n' {
			dst = dst[:len(dst)-1]
		}
		return dst, tooLong, err
	}
}
