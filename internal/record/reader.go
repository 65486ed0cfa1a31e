package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
)

// Reader reads a recording block by block. After io.EOF or ErrTruncated the
// reader keeps its place: calling Next again picks up bytes appended since,
// which is how a file still being written is followed.
type Reader struct {
	r       io.Reader
	closer  io.Closer
	hdr     Header
	dec     *zstd.Decoder
	pending []byte // bytes of the block being assembled
	raw     []byte // decoded block
	pos     int    // read position in raw
	left    int    // records left in raw
	prevT   int64
	off     int64 // file offset of pending[0]
	rec     Record
	blocks  int64
	records int64
}

// NewReader reads the header from r. A file shorter than its header is
// ErrTruncated; one with another magic is ErrNotRecording.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{r: r}
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(MaxBlockLen),
		zstd.WithDecodeAllCapLimit(true))
	if err != nil {
		return nil, fmt.Errorf("record: creating zstd decoder: %w", err)
	}
	rd.dec = dec
	return rd, nil
}

// Open opens the recording at path; Close closes the file.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("record: reading %s: %w", path, err)
	}
	r.closer = f
	return r, nil
}

func (r *Reader) readHeader() error {
	var fixed [12]byte
	n, err := io.ReadFull(r.r, fixed[:])
	if m := min(n, len(Magic)); string(fixed[:m]) != Magic[:m] {
		return ErrNotRecording
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fmt.Errorf("record: header: %w", ErrTruncated)
		}
		return fmt.Errorf("record: reading header: %w", err)
	}
	r.hdr.Version = binary.LittleEndian.Uint16(fixed[8:])
	if r.hdr.Version != Version {
		return fmt.Errorf("record: unsupported version %d (this build reads %d)", r.hdr.Version, Version)
	}
	bodyLen := int(binary.LittleEndian.Uint16(fixed[10:]))
	if bodyLen < 1+8+4 || bodyLen > 1+maxMarketLen+8+4 {
		return fmt.Errorf("record: header length %d: %w", bodyLen, ErrCorrupt)
	}
	buf := make([]byte, 12+bodyLen)
	copy(buf, fixed[:])
	if _, err := io.ReadFull(r.r, buf[12:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fmt.Errorf("record: header: %w", ErrTruncated)
		}
		return fmt.Errorf("record: reading header: %w", err)
	}
	body := buf[12:]
	ml := int(body[0])
	if 1+ml+8+4 != bodyLen {
		return fmt.Errorf("record: header market length %d: %w", ml, ErrCorrupt)
	}
	sum := binary.LittleEndian.Uint32(buf[len(buf)-4:])
	if crc32.Checksum(buf[:len(buf)-4], castagnoli) != sum {
		return fmt.Errorf("record: header checksum: %w", ErrCorrupt)
	}
	r.hdr.Market = string(body[1 : 1+ml])
	r.hdr.Created = int64(binary.LittleEndian.Uint64(body[1+ml:]))
	r.off = int64(len(buf))
	return nil
}

// Header returns the recording's header.
func (r *Reader) Header() Header { return r.hdr }

// Offset is the file offset of the next unread block.
func (r *Reader) Offset() int64 { return r.off }

// Next returns the next record, valid until the following call. At the end
// it returns io.EOF when the file ends on a block boundary and an error
// wrapping ErrTruncated when it ends inside a block; every complete block
// before either was delivered. A block that fails its checks is ErrCorrupt.
func (r *Reader) Next() (*Record, error) {
	for r.left == 0 {
		if err := r.nextBlock(); err != nil {
			return nil, err
		}
	}
	if err := r.decodeRecord(); err != nil {
		// The rest of the block is unusable; drop it so a caller that
		// carries on starts at the next block.
		r.left = 0
		return nil, err
	}
	r.left--
	r.records++
	return &r.rec, nil
}

// fill reads until pending holds n bytes. It returns io.EOF if nothing more
// is available and pending is empty, ErrTruncated if it ends part way.
func (r *Reader) fill(n int) error {
	if cap(r.pending) < n {
		p := make([]byte, len(r.pending), n)
		copy(p, r.pending)
		r.pending = p
	}
	for len(r.pending) < n {
		m, err := r.r.Read(r.pending[len(r.pending):n])
		r.pending = r.pending[:len(r.pending)+m]
		if err != nil {
			if len(r.pending) >= n {
				break
			}
			if errors.Is(err, io.EOF) {
				if len(r.pending) == 0 {
					return io.EOF
				}
				return fmt.Errorf("record: block at offset %d (%d of %d bytes): %w", r.off, len(r.pending), n, ErrTruncated)
			}
			return fmt.Errorf("record: reading block at offset %d: %w", r.off, err)
		}
		if m == 0 {
			// A reader that returns 0, nil repeatedly would spin; treat
			// it as no data for now.
			if len(r.pending) == 0 {
				return io.EOF
			}
			return fmt.Errorf("record: block at offset %d (%d of %d bytes): %w", r.off, len(r.pending), n, ErrTruncated)
		}
	}
	return nil
}

func (r *Reader) nextBlock() error {
	if err := r.fill(blockHeaderLen); err != nil {
		return err
	}
	h := r.pending[:blockHeaderLen]
	if string(h[:4]) != blockMagic {
		return fmt.Errorf("record: block magic at offset %d: %w", r.off, ErrCorrupt)
	}
	rawLen := binary.LittleEndian.Uint32(h[4:])
	zLen := binary.LittleEndian.Uint32(h[8:])
	count := binary.LittleEndian.Uint32(h[12:])
	sum := binary.LittleEndian.Uint32(h[16:])
	if rawLen > MaxBlockLen || zLen > MaxBlockLen || count == 0 || uint64(count) > uint64(rawLen) {
		return fmt.Errorf("record: block at offset %d has raw %d, compressed %d, %d records: %w",
			r.off, rawLen, zLen, count, ErrCorrupt)
	}
	total := blockHeaderLen + int(zLen)
	if err := r.fill(total); err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("record: block at offset %d: %w", r.off, ErrTruncated)
		}
		return err
	}
	z := r.pending[blockHeaderLen:total]
	if crc32.Checksum(z, castagnoli) != sum {
		r.skipBlock(total)
		return fmt.Errorf("record: block at offset %d checksum: %w", r.off-int64(total), ErrCorrupt)
	}
	if cap(r.raw) < int(rawLen) {
		r.raw = make([]byte, 0, rawLen)
	}
	raw, err := r.dec.DecodeAll(z, r.raw[:0:rawLen])
	if err != nil || len(raw) != int(rawLen) {
		r.skipBlock(total)
		if err == nil {
			err = fmt.Errorf("decoded %d bytes, header says %d", len(raw), rawLen)
		}
		return fmt.Errorf("record: block at offset %d: %w: %v", r.off-int64(total), ErrCorrupt, err)
	}
	r.raw = raw
	r.pos = 0
	r.left = int(count)
	r.prevT = 0
	r.skipBlock(total)
	r.blocks++
	return nil
}

// skipBlock consumes a complete block from pending.
func (r *Reader) skipBlock(total int) {
	r.off += int64(total)
	r.pending = r.pending[:0]
}

func (r *Reader) decodeRecord() error {
	b := r.raw[r.pos:]
	if len(b) < 1 {
		return r.corrupt("record past the end of its block")
	}
	kind := Kind(b[0])
	if !kind.valid() {
		return r.corrupt(fmt.Sprintf("record kind %d", kind))
	}
	i := 1
	conn, n := binary.Uvarint(b[i:])
	if n <= 0 || conn > 1<<32-1 {
		return r.corrupt("connection id")
	}
	i += n
	dt, n := binary.Varint(b[i:])
	if n <= 0 {
		return r.corrupt("time")
	}
	i += n
	sl, n := binary.Uvarint(b[i:])
	if n <= 0 || sl > uint64(len(b)-i-n) {
		return r.corrupt("stream length")
	}
	i += n
	stream := b[i : i+int(sl)]
	i += int(sl)
	dl, n := binary.Uvarint(b[i:])
	if n <= 0 || dl > uint64(len(b)-i-n) {
		return r.corrupt("data length")
	}
	i += n
	data := b[i : i+int(dl)]
	i += int(dl)
	r.pos += i
	r.prevT += dt
	r.rec = Record{Kind: kind, Conn: uint32(conn), Time: r.prevT, Stream: stream, Data: data}
	return nil
}

func (r *Reader) corrupt(what string) error {
	return fmt.Errorf("record: block %d, record at byte %d: bad %s: %w", r.blocks-1, r.pos, what, ErrCorrupt)
}

// ReaderStats counts what was read.
type ReaderStats struct {
	Blocks  int64
	Records int64
	Offset  int64 // end of the last complete block
}

// Stats returns the reader's counters.
func (r *Reader) Stats() ReaderStats {
	return ReaderStats{Blocks: r.blocks, Records: r.records, Offset: r.off}
}

// Close releases the decoder and, for a Reader from Open, closes the file.
func (r *Reader) Close() error {
	r.dec.Close()
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}
