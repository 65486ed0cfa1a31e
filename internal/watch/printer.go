package watch

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/charmbracelet/log"

	"github.com/ims-dev/ims/internal/source"
	"github.com/ims-dev/ims/sbe/imssbe"
	"github.com/ims-dev/ims/sbe/sbert"
)

// Format is how a Printer writes events.
type Format uint8

const (
	// Text is one readable line per event, exactly as `ims decode` prints
	// the event's ims SBE message.
	Text Format = iota
	// JSON is one JSON object per line (JSON Lines), as `ims decode -o json`
	// prints the message.
	JSON
	// SBE is the ims SBE messages themselves, back to back, as `ims decode`
	// reads them.
	SBE
)

var formatNames = [...]string{"text", "json", "sbe"}

func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", f)
}

// Formats lists the names ParseFormat accepts.
func Formats() []string { return formatNames[:] }

// ParseFormat accepts a format name, case-insensitively ("jsonl" is json).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "text":
		return Text, nil
	case "json", "jsonl":
		return JSON, nil
	case "sbe":
		return SBE, nil
	}
	return 0, fmt.Errorf("unknown format %q: want %s", s, strings.Join(Formats(), ", "))
}

// PrinterOptions configure a Printer.
type PrinterOptions struct {
	Format Format
	// Filter, when set, drops the events it does not pass.
	Filter *Filter
	// Count stops printing after this many market events (status markers
	// are printed but not counted); 0 prints everything. OnCount is called
	// once, from the handler, when the count is reached: it must not block.
	Count   int64
	OnCount func()
	// OnError is called once, from the handler, when writing fails; later
	// events are dropped. It must not block.
	OnError func(error)
	// Logger reports events that cannot be encoded (nil: discard).
	Logger *log.Logger
	// BufferSize is the output buffer (default 64 KiB).
	BufferSize int
}

// PrinterStats count what a Printer did.
type PrinterStats struct {
	Events      int64 // market events written
	Markers     int64 // status markers written
	Filtered    int64 // events the filter dropped
	Unencodable int64 // events that could not be encoded (and were logged)
}

// Printer is a source.Handler that writes every event it is handed, in its
// format, to a buffered writer. Events are encoded to their ims SBE
// message with the same encoder the relay uses, then rendered with the
// generated imssbe renderer `ims decode` uses, so the outputs of the two
// commands can be compared line for line. It is safe for concurrent use:
// feed shards call it concurrently and Flush comes from a timer. Steady
// state allocates nothing per event.
type Printer struct {
	opts PrinterOptions
	fmt  sbert.Format

	mu      sync.Mutex
	w       *bufio.Writer
	msg     []byte // the event's SBE message, reused
	line    []byte // its rendering, reused
	stats   PrinterStats
	stopped bool // count reached or output failed
	err     error
}

// NewPrinter returns a Printer writing to w.
func NewPrinter(w io.Writer, opts PrinterOptions) *Printer {
	if opts.BufferSize <= 0 {
		opts.BufferSize = 64 << 10
	}
	p := &Printer{opts: opts, w: bufio.NewWriterSize(w, opts.BufferSize),
		msg: make([]byte, 0, 1024), line: make([]byte, 0, 4096)}
	if opts.Format == JSON {
		p.fmt = sbert.FormatJSON
	}
	return p
}

// HandleEvent writes ev (see source.Handler).
func (p *Printer) HandleEvent(ev *source.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	if !p.opts.Filter.Pass(ev) {
		p.stats.Filtered++
		return
	}
	msg, err := AppendEvent(p.msg[:0], ev)
	p.msg = msg
	if err != nil {
		p.unencodable(ev, err)
		return
	}
	out := msg
	if p.opts.Format != SBE {
		line, _, err := imssbe.Codec{}.Append(p.line[:0], msg, p.fmt)
		if err != nil {
			// The encoder and the renderer disagree: a bug, not bad input.
			p.unencodable(ev, fmt.Errorf("rendering its SBE message: %w", err))
			return
		}
		p.line = append(line, '\n')
		out = p.line
	}
	if _, err := p.w.Write(out); err != nil {
		p.fail(err)
		return
	}
	if ev.Kind == source.KindStatus {
		p.stats.Markers++
		return
	}
	p.stats.Events++
	if p.opts.Count > 0 && p.stats.Events >= p.opts.Count {
		p.stopped = true
		if p.opts.OnCount != nil {
			p.opts.OnCount()
		}
	}
}

func (p *Printer) unencodable(ev *source.Event, err error) {
	p.stats.Unencodable++
	if p.opts.Logger == nil {
		return
	}
	sym := ""
	if h := ev.Header(); h != nil {
		sym = h.Symbol.String()
	}
	p.opts.Logger.Warn("event cannot be encoded; skipped", "kind", ev.Kind, "symbol", sym, "err", err)
}

// fail records a write error and stops printing; mu held.
func (p *Printer) fail(err error) {
	p.err = fmt.Errorf("writing output: %w", err)
	p.stopped = true
	if p.opts.OnError != nil {
		p.opts.OnError(p.err)
	}
}

// Flush writes what is buffered. After a write error it returns that error.
func (p *Printer) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if p.w.Buffered() == 0 {
		return nil
	}
	if err := p.w.Flush(); err != nil {
		p.fail(err)
		return p.err
	}
	return nil
}

// Err returns the first write error, if any.
func (p *Printer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Stats returns the printer's counters.
func (p *Printer) Stats() PrinterStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}
