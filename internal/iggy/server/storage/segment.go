package storage

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/zeebo/xxh3"
)

const (
	logExt   = ".log"
	indexExt = ".index"
	// segmentNameDigits is the width of the zero-padded start offset in
	// segment file names, so names sort like offsets (as in Iggy).
	segmentNameDigits = 20
)

// segment is one log file and its index. The partition's write lock guards
// the files' contents; the atomics publish what readers may see: count
// messages in size bytes, all fully written (and fsynced under FsyncAlways).
type segment struct {
	start   uint64 // offset of the first message; also the file name
	logPath string
	idxPath string
	log     file
	idx     file

	size    atomic.Uint64 // committed log bytes
	count   atomic.Uint64 // committed messages
	firstTS atomic.Uint64 // timestamp of the first message (valid when count > 0)
	lastTS  atomic.Uint64 // timestamp of the last message (valid when count > 0)
	dirty   atomic.Bool   // written since the last fsync
}

func segmentPaths(dir string, start uint64) (logPath, idxPath string) {
	base := filepath.Join(dir, fmt.Sprintf("%0*d", segmentNameDigits, start))
	return base + logExt, base + indexExt
}

// parseSegmentName returns the start offset of a segment file name such as
// "00000000000000001000.log" (ext ".log" or ".index").
func parseSegmentName(name, ext string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, ext)
	if !ok || len(base) != segmentNameDigits {
		return 0, false
	}
	for i := 0; i < len(base); i++ {
		if base[i] < '0' || base[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(base, 10, 64)
	return v, err == nil
}

// createSegment creates (or empties) the files of a segment starting at start.
func createSegment(dir string, start uint64, cfg *Config) (*segment, error) {
	s := &segment{start: start}
	s.logPath, s.idxPath = segmentPaths(dir, start)
	var err error
	if s.log, err = cfg.openFile(s.logPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644); err != nil {
		return nil, fmt.Errorf("creating segment: %w", err)
	}
	if s.idx, err = cfg.openFile(s.idxPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644); err != nil {
		s.log.Close()
		os.Remove(s.logPath)
		return nil, fmt.Errorf("creating segment index: %w", err)
	}
	return s, nil
}

// openSegmentFiles opens the files of an existing segment; a missing index is
// created empty (recovery rebuilds it).
func openSegmentFiles(dir string, start uint64, cfg *Config) (*segment, error) {
	s := &segment{start: start}
	s.logPath, s.idxPath = segmentPaths(dir, start)
	var err error
	if s.log, err = cfg.openFile(s.logPath, os.O_RDWR, 0); err != nil {
		return nil, fmt.Errorf("opening segment: %w", err)
	}
	if s.idx, err = cfg.openFile(s.idxPath, os.O_RDWR|os.O_CREATE, 0o644); err != nil {
		s.log.Close()
		return nil, fmt.Errorf("opening segment index: %w", err)
	}
	return s, nil
}

func (s *segment) close() error {
	return errors.Join(s.log.Close(), s.idx.Close())
}

// sync fsyncs the log and the index. A file closed meanwhile (the segment
// was deleted) is not an error.
func (s *segment) sync() error {
	if err := s.log.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("fsync %s: %w", s.logPath, err)
	}
	if err := s.idx.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("fsync %s: %w", s.idxPath, err)
	}
	return nil
}

// endOffset returns the offset after the last committed message.
func (s *segment) endOffset() uint64 { return s.start + s.count.Load() }

// readEntry reads index entry i into scratch (at least 16 bytes) and checks
// it is the entry for relative offset i.
func (s *segment) readEntry(scratch []byte, i uint64) (indexEntry, error) {
	b := scratch[:indexEntrySize]
	if _, err := s.idx.ReadAt(b, int64(i*indexEntrySize)); err != nil {
		return indexEntry{}, fmt.Errorf("reading entry %d of %s: %w", i, s.idxPath, err)
	}
	e := decodeEntry(b)
	if uint64(e.rel) != i {
		return e, &CorruptionError{Path: s.idxPath, Position: int64(i * indexEntrySize), Offset: s.start + i,
			Reason: fmt.Sprintf("index entry %d holds relative offset %d", i, e.rel)}
	}
	return e, nil
}

// position returns the log position of relative message i (i <= count; i ==
// count is the end of the committed log).
func (s *segment) position(scratch []byte, i, count, size uint64) (uint64, error) {
	switch {
	case i == 0:
		return 0, nil
	case i >= count:
		return size, nil
	}
	e, err := s.readEntry(scratch, i)
	if err != nil {
		return 0, err
	}
	if uint64(e.pos) >= size {
		return 0, &CorruptionError{Path: s.idxPath, Position: int64(i * indexEntrySize), Offset: s.start + i,
			Reason: fmt.Sprintf("index entry points at byte %d, log holds %d", e.pos, size)}
	}
	return uint64(e.pos), nil
}

// searchTimestamp returns the relative offset of the first of the first count
// messages with a timestamp >= ts, or count when there is none.
func (s *segment) searchTimestamp(scratch []byte, ts, count uint64) (uint64, error) {
	lo, hi := uint64(0), count
	for lo < hi {
		mid := lo + (hi-lo)/2
		e, err := s.readEntry(scratch, mid)
		if err != nil {
			return 0, err
		}
		if e.ts >= ts {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// quickCheck verifies a segment without reading it all: the index is a whole
// number of entries, its first entry is at position 0 and its last entry
// points at a frame that carries the expected offset and timestamp, passes its
// checksum and ends exactly at the end of the log. On success the segment's
// counters are set. A false result (with the reason) calls for a full scan.
func (s *segment) quickCheck(logSize, idxSize int64) (bool, string, error) {
	if idxSize%indexEntrySize != 0 {
		return false, fmt.Sprintf("index size %d is not a multiple of %d", idxSize, indexEntrySize), nil
	}
	count := uint64(idxSize / indexEntrySize)
	if count == 0 || logSize == 0 {
		if count == 0 && logSize == 0 {
			return true, "", nil
		}
		return false, fmt.Sprintf("index has %d entries for a log of %d bytes", count, logSize), nil
	}
	var scratch [indexEntrySize]byte
	first, err := s.readEntry(scratch[:], 0)
	if err != nil {
		return false, err.Error(), nil
	}
	if first.pos != 0 {
		return false, fmt.Sprintf("first index entry points at byte %d", first.pos), nil
	}
	last, err := s.readEntry(scratch[:], count-1)
	if err != nil {
		return false, err.Error(), nil
	}
	if int64(last.pos)+HeaderSize > logSize {
		return false, fmt.Sprintf("last index entry points at byte %d of a %d-byte log", last.pos, logSize), nil
	}
	var h [HeaderSize]byte
	if _, err := s.log.ReadAt(h[:], int64(last.pos)); err != nil {
		return false, "", fmt.Errorf("reading %s: %w", s.logPath, err)
	}
	fl := frameLen(h[:])
	switch {
	case int64(last.pos)+int64(fl) != logSize:
		return false, fmt.Sprintf("last frame at byte %d ends at %d, log holds %d", last.pos, int64(last.pos)+int64(fl), logSize), nil
	case FrameOffset(h[:]) != s.start+count-1:
		return false, fmt.Sprintf("last frame holds offset %d, index says %d", FrameOffset(h[:]), s.start+count-1), nil
	case FrameTimestamp(h[:]) != last.ts:
		return false, "last frame's timestamp differs from its index entry", nil
	}
	hs := xxh3.New()
	if _, err := io.Copy(hs, io.NewSectionReader(s.log, int64(last.pos)+8, int64(fl)-8)); err != nil {
		return false, "", fmt.Errorf("reading %s: %w", s.logPath, err)
	}
	if hs.Sum64() != binary.LittleEndian.Uint64(h[hdrChecksum:]) {
		return false, fmt.Sprintf("last frame at byte %d fails its checksum", last.pos), nil
	}
	s.size.Store(uint64(logSize))
	s.count.Store(count)
	s.firstTS.Store(first.ts)
	s.lastTS.Store(last.ts)
	return true, "", nil
}

// scanResult is what a full scan of a segment found.
type scanResult struct {
	count   uint64 // valid frames
	end     int64  // bytes they occupy; the log is valid up to here
	badPos  int64  // position of the first invalid frame, -1 when the log is valid to its end
	reason  string // why the frame at badPos is invalid
	rebuilt uint64 // index entries (re)written
	trimmed bool   // index held entries past the valid frames, or a partial entry
}

// scanBufSize is the read buffer of a full scan; frames that fit are hashed
// in one call, larger ones are streamed through the hasher.
const scanBufSize = 1 << 20

// scan reads the whole log, verifying each frame's length, offset and
// checksum, and makes the index match the valid frames: entries that disagree
// are rewritten, entries past the last valid frame are cut. It stops at the
// first invalid frame; the log itself is not changed. The segment's counters
// are set to the valid prefix.
func (s *segment) scan(logSize, idxSize int64) (scanResult, error) {
	res := scanResult{badPos: -1}
	lr := bufio.NewReaderSize(io.NewSectionReader(s.log, 0, logSize), scanBufSize)
	ir := bufio.NewReaderSize(io.NewSectionReader(s.idx, 0, idxSize), 64<<10)
	matching := true
	var wbuf []byte
	var wpos int64
	flush := func() error {
		if len(wbuf) == 0 {
			return nil
		}
		if _, err := s.idx.WriteAt(wbuf, wpos); err != nil {
			return fmt.Errorf("rewriting %s: %w", s.idxPath, err)
		}
		wpos += int64(len(wbuf))
		wbuf = wbuf[:0]
		return nil
	}
	var hs *xxh3.Hasher
	var have [indexEntrySize]byte
	var want []byte
	pos := int64(0)
	var firstTS, lastTS uint64
	bad := func(format string, args ...any) {
		res.badPos = pos
		res.reason = fmt.Sprintf(format, args...)
	}
	for pos < logSize {
		h, err := lr.Peek(HeaderSize)
		if len(h) < HeaderSize {
			if err != nil && err != io.EOF {
				return res, fmt.Errorf("reading %s: %w", s.logPath, err)
			}
			bad("%d bytes left, less than a frame header", logSize-pos)
			break
		}
		payload := binary.LittleEndian.Uint32(h[hdrPayloadLen:])
		headers := binary.LittleEndian.Uint32(h[hdrUserHeadersLen:])
		if payload > MaxPayloadSize || headers > MaxUserHeadersSize || binary.LittleEndian.Uint64(h[hdrReserved:]) != 0 {
			bad("impossible frame header (payload %d, user headers %d bytes)", payload, headers)
			break
		}
		fl := int64(frameLen(h))
		if pos+fl > logSize {
			bad("frame of %d bytes runs past the end of the log (%d bytes)", fl, logSize)
			break
		}
		off, ts := FrameOffset(h), FrameTimestamp(h)
		stored := binary.LittleEndian.Uint64(h[hdrChecksum:])
		if wantOff := s.start + res.count; off != wantOff {
			bad("frame holds offset %d, want %d", off, wantOff)
			break
		}
		var sum uint64
		if fl <= scanBufSize {
			b, err := lr.Peek(int(fl))
			if err != nil {
				return res, fmt.Errorf("reading %s: %w", s.logPath, err)
			}
			sum = xxh3.Hash(b[8:])
			lr.Discard(int(fl))
		} else {
			if hs == nil {
				hs = xxh3.New()
			}
			hs.Reset()
			hs.Write(h[8:])
			lr.Discard(HeaderSize)
			if _, err := io.CopyN(hs, lr, fl-HeaderSize); err != nil {
				return res, fmt.Errorf("reading %s: %w", s.logPath, err)
			}
			sum = hs.Sum64()
		}
		if sum != stored {
			// The reader has moved on; the bad frame is reported at pos.
			bad("checksum %016x, computed %016x", stored, sum)
			break
		}
		want = appendEntry(want[:0], uint32(res.count), uint32(pos), ts)
		if matching {
			if _, err := io.ReadFull(ir, have[:]); err != nil || string(have[:]) != string(want) {
				matching = false
				wpos = int64(res.count) * indexEntrySize
			}
		}
		if !matching {
			wbuf = append(wbuf, want...)
			res.rebuilt++
			if len(wbuf) >= 64<<10 {
				if err := flush(); err != nil {
					return res, err
				}
			}
		}
		if res.count == 0 {
			firstTS = ts
		}
		lastTS = ts
		res.count++
		pos += fl
	}
	if err := flush(); err != nil {
		return res, err
	}
	res.end = pos
	if want := int64(res.count) * indexEntrySize; idxSize > want {
		res.trimmed = true
		if err := s.idx.Truncate(want); err != nil {
			return res, fmt.Errorf("truncating %s: %w", s.idxPath, err)
		}
	}
	s.size.Store(uint64(pos))
	s.count.Store(res.count)
	s.firstTS.Store(firstTS)
	s.lastTS.Store(lastTS)
	return res, nil
}

// truncateLog cuts the log at end (after a scan found invalid data there).
func (s *segment) truncateLog(end int64) error {
	if err := s.log.Truncate(end); err != nil {
		return fmt.Errorf("truncating %s: %w", s.logPath, err)
	}
	return nil
}

// remove closes and deletes the segment's files, log first: a crash in
// between leaves an index without a log, which Open deletes.
func (s *segment) remove() error {
	cerr := s.close()
	var errs []error
	if cerr != nil {
		errs = append(errs, fmt.Errorf("closing segment %s: %w", s.logPath, cerr))
	}
	for _, p := range []string{s.logPath, s.idxPath} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing segment file: %w", err))
		}
	}
	return errors.Join(errs...)
}
