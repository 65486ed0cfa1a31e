package storage

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// crash closes p the way a killed process leaves it: no fsync, no clean mark.
func crash(t testing.TB, p *Partition) {
	t.Helper()
	if err := p.close(false); err != nil {
		t.Fatalf("crash close: %v", err)
	}
}

// copyDir copies a partition directory (files and the offsets subdirectory).
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// fixture is a crashed partition with n messages in one segment; lastPos is
// where its last frame starts.
type fixture struct {
	dir     string
	n       uint64
	logPath string
	idxPath string
	logSize int64
	lastPos int64
	posOf   []int64
}

func newFixture(t testing.TB, cfg Config) fixture {
	t.Helper()
	dir := t.TempDir()
	p := mustOpen(t, dir, cfg)
	for i := 0; i < 4; i++ {
		mustAppend(t, p, makeBatch(3, 20+i*7, byte(i)), 3)
	}
	f := fixture{dir: dir, n: 12}
	f.logPath, f.idxPath = segmentPaths(dir, 0)
	buf, _, err := p.Read(nil, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	pos := int64(0)
	for _, fr := range splitFrames(t, buf) {
		f.posOf = append(f.posOf, pos)
		pos += int64(len(fr))
	}
	f.logSize = pos
	f.lastPos = f.posOf[len(f.posOf)-1]
	crash(t, p)
	return f
}

// expectPrefix opens dir and checks it holds exactly offsets 0..n-1, intact,
// and that appends continue at n.
func expectPrefix(t testing.TB, dir string, cfg Config, n uint64) *Partition {
	t.Helper()
	p, err := Open(dir, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if p.NextOffset() != n {
		t.Fatalf("recovered next offset %d, want %d (report %+v)", p.NextOffset(), n, p.Recovery())
	}
	buf, got, err := p.Read(nil, 0, 1000)
	if err != nil || uint64(got) != n {
		t.Fatalf("read %d frames, err %v; want %d", got, err, n)
	}
	checkFrames(t, buf, 0, int(n))
	r := mustAppend(t, p, makeBatch(2, 9, 0), 2)
	if r.FirstOffset != n {
		t.Fatalf("append after recovery at %d, want %d", r.FirstOffset, n)
	}
	buf, got, err = p.Read(nil, 0, 1000)
	if err != nil || uint64(got) != n+2 {
		t.Fatalf("after append: %d frames, %v", got, err)
	}
	checkFrames(t, buf, 0, int(n+2))
	return p
}

func TestRecoverTornTailAtEveryByte(t *testing.T) {
	cfg := Config{Fsync: FsyncNever}
	f := newFixture(t, cfg)
	for cut := f.lastPos; cut < f.logSize; cut++ {
		dir := copyDir(t, f.dir)
		logPath, _ := segmentPaths(dir, 0)
		if err := os.Truncate(logPath, cut); err != nil {
			t.Fatal(err)
		}
		p := expectPrefix(t, dir, cfg, f.n-1)
		rep := p.Recovery()
		if rep.CleanShutdown || rep.TruncatedBytes != cut-f.lastPos || rep.SegmentsScanned != 1 {
			t.Fatalf("cut at %d: report %+v", cut, rep)
		}
		p.Close()
	}
}

func TestRecoverFlippedByteInLastFrame(t *testing.T) {
	cfg := Config{Fsync: FsyncNever}
	f := newFixture(t, cfg)
	for pos := f.lastPos; pos < f.logSize; pos++ {
		dir := copyDir(t, f.dir)
		logPath, _ := segmentPaths(dir, 0)
		flipByte(t, logPath, pos)
		p := expectPrefix(t, dir, cfg, f.n-1)
		if p.Recovery().TruncatedBytes != f.logSize-f.lastPos {
			t.Fatalf("flip at %d: report %+v", pos, p.Recovery())
		}
		p.Close()
	}
}

func TestRecoverCorruptFrameInsideActiveSegment(t *testing.T) {
	cfg := Config{Fsync: FsyncNever}
	f := newFixture(t, cfg)
	for i, pos := range f.posOf {
		dir := copyDir(t, f.dir)
		logPath, _ := segmentPaths(dir, 0)
		flipByte(t, logPath, pos+HeaderSize) // first payload byte
		p := expectPrefix(t, dir, cfg, uint64(i))
		if !strings.Contains(strings.Join(p.Recovery().Actions, "\n"), "checksum") {
			t.Fatalf("frame %d: actions %q", i, p.Recovery().Actions)
		}
		p.Close()
	}
}

func flipByte(t testing.TB, path string, pos int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], pos); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b[:], pos); err != nil {
		t.Fatal(err)
	}
}

func TestRecoverIndexDamage(t *testing.T) {
	cfg := Config{Fsync: FsyncNever}
	f := newFixture(t, cfg)
	idxSize := int64(f.n) * indexEntrySize
	t.Run("lost tail", func(t *testing.T) {
		for k := int64(0); k <= int64(f.n); k++ {
			dir := copyDir(t, f.dir)
			_, idxPath := segmentPaths(dir, 0)
			os.Truncate(idxPath, k*indexEntrySize)
			p := expectPrefix(t, dir, cfg, f.n)
			if p.Recovery().IndexEntriesRebuilt != f.n-uint64(k) {
				t.Fatalf("k=%d: %+v", k, p.Recovery())
			}
			p.Close()
		}
	})
	t.Run("half-written entry", func(t *testing.T) {
		for r := int64(1); r < indexEntrySize; r++ {
			dir := copyDir(t, f.dir)
			_, idxPath := segmentPaths(dir, 0)
			os.Truncate(idxPath, idxSize-indexEntrySize+r)
			p := expectPrefix(t, dir, cfg, f.n)
			p.Close()
		}
	})
	t.Run("zeroed entries", func(t *testing.T) {
		for j := int64(0); j < int64(f.n); j++ {
			dir := copyDir(t, f.dir)
			_, idxPath := segmentPaths(dir, 0)
			writeAt(t, idxPath, j*indexEntrySize, make([]byte, indexEntrySize))
			p := expectPrefix(t, dir, cfg, f.n)
			p.Close()
		}
	})
	t.Run("ahead of the log", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		logPath, idxPath := segmentPaths(dir, 0)
		os.Truncate(logPath, f.lastPos) // the last frame is gone entirely
		p := expectPrefix(t, dir, cfg, f.n-1)
		p.Close()
		if st, _ := os.Stat(idxPath); st.Size() != int64(f.n+1)*indexEntrySize {
			t.Fatalf("index size %d", st.Size())
		}
	})
	t.Run("missing", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		_, idxPath := segmentPaths(dir, 0)
		os.Remove(idxPath)
		p := expectPrefix(t, dir, cfg, f.n)
		p.Close()
	})
	t.Run("garbage after entries", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		_, idxPath := segmentPaths(dir, 0)
		writeAt(t, idxPath, idxSize, []byte("garbage garbage garbage"))
		p := expectPrefix(t, dir, cfg, f.n)
		p.Close()
	})
}

func writeAt(t testing.TB, path string, pos int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, pos); err != nil {
		t.Fatal(err)
	}
}

// multiSegment builds a cleanly closed partition of several segments.
func multiSegment(t testing.TB, cfg Config) (dir string, infos []SegmentInfo) {
	t.Helper()
	dir = t.TempDir()
	p := mustOpen(t, dir, cfg)
	for i := 0; i < 30; i++ {
		mustAppend(t, p, makeBatch(3, 40, byte(i)), 3)
	}
	infos = p.SegmentInfos()
	if len(infos) < 4 {
		t.Fatalf("want several segments, got %d", len(infos))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, infos
}

func TestRecoverCorruptSealedSegment(t *testing.T) {
	cfg := Config{Fsync: FsyncNever, SegmentSize: 2048}
	dir, infos := multiSegment(t, cfg)
	seg := infos[1]
	// The last frame of segment 1 starts where the last index entry points.
	_, idxPath := segmentPaths(dir, seg.StartOffset)
	idx, _ := os.ReadFile(idxPath)
	last := decodeEntry(idx[len(idx)-indexEntrySize:])
	flipByte(t, seg.Path, int64(last.pos)+HeaderSize+1)

	_, err := Open(dir, cfg)
	var ce *CorruptionError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: %v, want a CorruptionError", err)
	}
	if ce.Path != seg.Path || ce.Position != int64(last.pos) || ce.Offset != seg.EndOffset-1 {
		t.Fatalf("corruption reported at %s:%d offset %d, want %s:%d offset %d", ce.Path, ce.Position, ce.Offset, seg.Path, last.pos, seg.EndOffset-1)
	}
	// The refusal changed nothing: later segments are still there.
	for _, si := range infos[2:] {
		if _, err := os.Stat(si.Path); err != nil {
			t.Fatalf("segment %s gone after a refused open", si.Path)
		}
	}

	cfg.Repair = true
	p := expectPrefix(t, dir, cfg, seg.EndOffset-1)
	rep := p.Recovery()
	if rep.SegmentsRemoved != len(infos)-2 || rep.MessagesLost != infos[len(infos)-1].EndOffset-seg.EndOffset {
		t.Fatalf("repair report %+v", rep)
	}
	p.Close()
}

func TestVerifyOnOpenFindsDamageInsideSealedSegment(t *testing.T) {
	cfg := Config{Fsync: FsyncNever, SegmentSize: 2048}
	dir, infos := multiSegment(t, cfg)
	flipByte(t, infos[0].Path, HeaderSize+3) // payload of the first frame
	// Without verification a clean partition is only spot-checked.
	p := mustOpen(t, dir, cfg)
	p.Close()
	cfg.VerifyOnOpen = true
	_, err := Open(dir, cfg)
	var ce *CorruptionError
	if !errors.As(err, &ce) || ce.Path != infos[0].Path || ce.Position != 0 {
		t.Fatalf("Open with verification: %v", err)
	}
}

func TestRecoverGapBetweenSegments(t *testing.T) {
	cfg := Config{Fsync: FsyncNever, SegmentSize: 2048}
	dir, infos := multiSegment(t, cfg)
	os.Remove(infos[1].Path)
	_, idx1 := segmentPaths(dir, infos[1].StartOffset)
	os.Remove(idx1)
	_, err := Open(dir, cfg)
	var ce *CorruptionError
	if !errors.As(err, &ce) || ce.Path != infos[2].Path {
		t.Fatalf("Open over a gap: %v", err)
	}
	cfg.Repair = true
	p := expectPrefix(t, dir, cfg, infos[0].EndOffset)
	p.Close()
}

func TestRecoverTornSealedSegmentBeforeEmptyActive(t *testing.T) {
	// Under FsyncNever a power loss can tear the sealed segment although the
	// empty active segment that followed it survived. Nothing was written
	// after the tear, so the partition recovers to the intact prefix.
	cfg := Config{Fsync: FsyncNever, SegmentSize: 1024}
	dir := t.TempDir()
	p := mustOpen(t, dir, cfg)
	mustAppend(t, p, makeBatch(7, 100, 1), 7) // 1148 bytes: sealed, new empty segment at 7
	infos := p.SegmentInfos()
	if len(infos) != 2 || infos[1].StartOffset != 7 || infos[1].EndOffset != 7 {
		t.Fatalf("segments %+v", infos)
	}
	crash(t, p)
	os.Truncate(infos[0].Path, int64(infos[0].SizeBytes)-10)
	p = expectPrefix(t, dir, cfg, 6)
	rep := p.Recovery()
	if rep.SegmentsRemoved != 1 || rep.TruncatedBytes != 164-10 {
		t.Fatalf("report %+v", rep)
	}
	p.Close()
}

func TestRecoverCleanShutdownTamperedTail(t *testing.T) {
	// After a clean close only the spot check runs; it still notices a
	// damaged last frame in the active segment and falls back to a scan.
	cfg := Config{Fsync: FsyncNever}
	dir := t.TempDir()
	p := mustOpen(t, dir, cfg)
	mustAppend(t, p, makeBatch(5, 30, 1), 5)
	p.Close()
	logPath, _ := segmentPaths(dir, 0)
	st, _ := os.Stat(logPath)
	flipByte(t, logPath, st.Size()-1)
	p = expectPrefix(t, dir, cfg, 4)
	if rep := p.Recovery(); !rep.CleanShutdown || rep.SegmentsScanned != 1 {
		t.Fatalf("report %+v", rep)
	}
	p.Close()
}

func TestReadDetectsIndexDisagreeingWithLog(t *testing.T) {
	cfg := Config{Fsync: FsyncNever}
	dir := t.TempDir()
	p := mustOpen(t, dir, cfg)
	mustAppend(t, p, makeBatch(10, 30, 1), 10)
	p.Close()
	// Damage a middle entry after a clean close: the spot check cannot see it,
	// but a read through it must fail instead of returning garbage.
	_, idxPath := segmentPaths(dir, 0)
	var e [indexEntrySize]byte
	binary.LittleEndian.PutUint32(e[0:], 5)
	binary.LittleEndian.PutUint32(e[4:], 17) // a position inside frame 0
	writeAt(t, idxPath, 5*indexEntrySize, e[:])
	p = mustOpen(t, dir, cfg)
	defer p.Close()
	_, _, err := p.Read(nil, 5, 2)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("read through a bad entry: %v", err)
	}
	if _, _, err := p.Read(nil, 0, 4); err != nil { // entry 4 is the end
		t.Fatalf("read before the bad entry: %v", err)
	}
	binary.LittleEndian.PutUint32(e[0:], 9) // wrong relative offset
	writeAt(t, idxPath, 5*indexEntrySize, e[:])
	if _, _, err := p.Read(nil, 5, 1); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("read of an entry with the wrong relative offset: %v", err)
	}
}

func TestRecoverOrphanIndexAndBadMeta(t *testing.T) {
	cfg := Config{Fsync: FsyncNever}
	dir := t.TempDir()
	p := mustOpen(t, dir, cfg)
	mustAppend(t, p, makeBatch(3, 30, 1), 3)
	created := p.CreatedAt()
	p.Close()
	_, orphan := segmentPaths(dir, 999)
	os.WriteFile(orphan, []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, metaFile), []byte("garbage"), 0o644)
	os.WriteFile(filepath.Join(dir, metaFile+".tmp-123"), []byte("partial"), 0o644)
	p = expectPrefix(t, dir, cfg, 3)
	defer p.Close()
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("orphan index left behind")
	}
	if _, err := os.Stat(filepath.Join(dir, metaFile+".tmp-123")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("metadata temporary left behind")
	}
	rep := p.Recovery()
	if rep.CleanShutdown || rep.SegmentsScanned != 1 || len(rep.Actions) < 2 {
		t.Fatalf("report %+v", rep)
	}
	if p.CreatedAt() == created {
		t.Fatal("created-at kept from a corrupt metadata file")
	}
}

func TestCrashRightAfterOpenAndEmptyPartition(t *testing.T) {
	dir := t.TempDir()
	p := mustOpen(t, dir, Config{})
	crash(t, p)
	p = expectPrefix(t, dir, Config{}, 0)
	p.Close()
}

func TestAcknowledgedAppendsSurviveCrash(t *testing.T) {
	for _, pol := range []FsyncPolicy{FsyncAlways, FsyncInterval, FsyncNever} {
		t.Run(pol.String(), func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{Fsync: pol, SegmentSize: 4096}
			p := mustOpen(t, dir, cfg)
			for i := 0; i < 20; i++ {
				mustAppend(t, p, makeBatch(5, 50, byte(i)), 5)
			}
			crash(t, p)
			p = expectPrefix(t, dir, cfg, 100)
			p.Close()
		})
	}
}
