package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// WriterOptions tune a Writer. Zero values take the defaults.
type WriterOptions struct {
	// Market names the market in the header ("spot", "usdm", "coinm", ...).
	Market string
	// Created is the header's creation time; zero means now. Set it for a
	// byte-identical file from identical input.
	Created time.Time
	// FlushFrames closes a block after this many records (default 1024).
	FlushFrames int
	// FlushBytes closes a block once its raw size reaches this (default 1 MiB).
	FlushBytes int
	// FlushInterval closes a non-empty block this long after its first record
	// (default 200 ms), so a reader following the file lags by at most this.
	// Negative disables the timer: blocks close on size or Flush only.
	FlushInterval time.Duration
	// Level is the zstd level (default zstd.SpeedDefault).
	Level zstd.EncoderLevel
	// Sync makes every block write fsync the file (Create only): a machine
	// crash then loses at most the last block too, at a cost per block.
	Sync bool
}

func (o *WriterOptions) defaults() {
	if o.FlushFrames <= 0 {
		o.FlushFrames = 1024
	}
	if o.FlushBytes <= 0 {
		o.FlushBytes = 1 << 20
	}
	if o.FlushBytes > MaxBlockLen/2 {
		o.FlushBytes = MaxBlockLen / 2
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = 200 * time.Millisecond
	}
	if o.Level == 0 {
		o.Level = zstd.SpeedDefault
	}
	if o.Created.IsZero() {
		o.Created = time.Now()
	}
}

// Writer appends records to a recording. It is safe for concurrent use: the
// feed's connections write from their own goroutines.
type Writer struct {
	mu       sync.Mutex
	w        io.Writer
	sync     func() error // fsync after each block, or nil
	closer   io.Closer    // the file Create opened, or nil
	opts     WriterOptions
	enc      *zstd.Encoder
	raw      []byte // the block being filled
	count    int    // records in raw
	prevT    int64  // time of the previous record in raw
	out      []byte // header + compressed block, reused
	gen      uint64 // bumps on every flush; the timer checks it
	timerGen uint64
	timer    *time.Timer
	err      error // sticky: the first write error
	closed   bool
	written  int64 // bytes written to w
	blocks   int64
	records  int64
}

// NewWriter writes a recording header to w and returns a Writer appending
// blocks to it. Close flushes; it does not close w.
func NewWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	opts.defaults()
	if len(opts.Market) > maxMarketLen {
		return nil, fmt.Errorf("record: market name %q longer than %d bytes", opts.Market, maxMarketLen)
	}
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(opts.Level),
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(false), // the block CRC covers it
		zstd.WithZeroFrames(true))
	if err != nil {
		return nil, fmt.Errorf("record: creating zstd encoder: %w", err)
	}
	wr := &Writer{w: w, opts: opts, enc: enc, raw: make([]byte, 0, opts.FlushBytes+4096)}
	hdr := AppendHeader(nil, Header{Version: Version, Market: opts.Market, Created: opts.Created.UnixNano()})
	n, err := w.Write(hdr)
	wr.written += int64(n)
	if err != nil {
		return nil, fmt.Errorf("record: writing header: %w", err)
	}
	return wr, nil
}

// Create creates (or truncates) the file at path and returns a Writer whose
// Close also closes the file.
func Create(path string, opts WriterOptions) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("record: creating %s: %w", path, err)
	}
	w, err := NewWriter(f, opts)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("record: %s: %w", path, err)
	}
	w.closer = f
	if opts.Sync {
		w.sync = f.Sync
	}
	return w, nil
}

// AppendHeader appends the encoded file header h to dst.
func AppendHeader(dst []byte, h Header) []byte {
	start := len(dst)
	dst = append(dst, Magic...)
	dst = binary.LittleEndian.AppendUint16(dst, h.Version)
	body := 1 + len(h.Market) + 8 + 4
	dst = binary.LittleEndian.AppendUint16(dst, uint16(body))
	dst = append(dst, byte(len(h.Market)))
	dst = append(dst, h.Market...)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(h.Created))
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// ErrClosed is returned by a Writer used after Close.
var ErrClosed = errors.New("record: writer closed")

// Write appends one record. It copies what it needs; rec may be reused at
// once. It allocates nothing in steady state.
func (w *Writer) Write(rec *Record) error {
	if !rec.Kind.valid() {
		return fmt.Errorf("record: invalid record kind %d", rec.Kind)
	}
	if len(rec.Data)+len(rec.Stream) > MaxBlockLen/2 {
		return fmt.Errorf("record: frame of %d bytes is too large to record", len(rec.Data)+len(rec.Stream))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if len(w.raw)+len(rec.Data)+len(rec.Stream)+32 > MaxBlockLen && w.count > 0 {
		if err := w.flushLocked(); err != nil {
			return err
		}
	}
	w.raw = append(w.raw, byte(rec.Kind))
	w.raw = binary.AppendUvarint(w.raw, uint64(rec.Conn))
	w.raw = binary.AppendVarint(w.raw, rec.Time-w.prevT)
	w.prevT = rec.Time
	w.raw = binary.AppendUvarint(w.raw, uint64(len(rec.Stream)))
	w.raw = append(w.raw, rec.Stream...)
	w.raw = binary.AppendUvarint(w.raw, uint64(len(rec.Data)))
	w.raw = append(w.raw, rec.Data...)
	w.count++
	if w.count >= w.opts.FlushFrames || len(w.raw) >= w.opts.FlushBytes {
		return w.flushLocked()
	}
	if w.count == 1 && w.opts.FlushInterval > 0 {
		w.armTimer()
	}
	return nil
}

// armTimer schedules a flush of the block just started. A flush in between
// bumps gen, which turns the timer's flush into a no-op; an early flush from a
// stale firing is harmless.
func (w *Writer) armTimer() {
	w.timerGen = w.gen
	if w.timer == nil {
		w.timer = time.AfterFunc(w.opts.FlushInterval, w.timedFlush)
		return
	}
	w.timer.Reset(w.opts.FlushInterval)
}

func (w *Writer) timedFlush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.gen != w.timerGen || w.count == 0 {
		return
	}
	_ = w.flushLocked() // a failure is sticky and surfaces on the next Write
}

// Flush writes the block being filled, if any.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if w.count == 0 {
		return nil
	}
	w.gen++
	w.out = append(w.out[:0], blockMagic...)
	w.out = binary.LittleEndian.AppendUint32(w.out, uint32(len(w.raw)))
	w.out = append(w.out, 0, 0, 0, 0) // compressed length, below
	w.out = binary.LittleEndian.AppendUint32(w.out, uint32(w.count))
	w.out = append(w.out, 0, 0, 0, 0) // crc, below
	w.out = w.enc.EncodeAll(w.raw, w.out)
	z := w.out[blockHeaderLen:]
	binary.LittleEndian.PutUint32(w.out[8:], uint32(len(z)))
	binary.LittleEndian.PutUint32(w.out[16:], crc32.Checksum(z, castagnoli))
	n, err := w.w.Write(w.out)
	w.written += int64(n)
	if err == nil && w.sync != nil {
		err = w.sync()
	}
	if err != nil {
		w.err = fmt.Errorf("record: writing block %d: %w", w.blocks, err)
		return w.err
	}
	w.blocks++
	w.records += int64(w.count)
	w.raw = w.raw[:0]
	w.count = 0
	w.prevT = 0
	return nil
}

// Stats reports what the writer has written so far.
type Stats struct {
	Bytes   int64 // bytes written, header included
	Blocks  int64
	Records int64 // records in written blocks
	Pending int   // records buffered in the open block
}

// Stats returns the writer's counters.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Stats{Bytes: w.written, Blocks: w.blocks, Records: w.records, Pending: w.count}
}

// Close flushes the open block and stops the timer; a Writer from Create also
// closes its file. Close is idempotent.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	var err error
	if w.err == nil {
		err = w.flushLocked()
	} else {
		err = w.err
	}
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.enc.Close()
	if w.closer != nil {
		if cerr := w.closer.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("record: closing file: %w", cerr)
		}
	}
	return err
}
