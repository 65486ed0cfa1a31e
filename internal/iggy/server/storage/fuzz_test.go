package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"testing"
)

func goldenFrame() []byte {
	b, _ := hex.DecodeString(goldenPollFrame)
	return b
}

// FuzzCheckBatch: any input is either rejected or stamped into frames that
// walk, index and checksum consistently.
func FuzzCheckBatch(f *testing.F) {
	f.Add(goldenFrame(), uint32(1))
	f.Add(makeBatch(3, 5, 1), uint32(3))
	f.Add(appendFrame(appendFrame(nil, 0, []byte("p"), []byte("hdr")), 0, nil, nil), uint32(2))
	f.Add([]byte{}, uint32(0))
	f.Fuzz(func(t *testing.T, frames []byte, count uint32) {
		zero, err := CheckBatch(frames, count)
		if err != nil {
			if _, ok := IggyCode(err); !ok {
				t.Fatalf("error without an Iggy code: %v", err)
			}
			return
		}
		ids := make([]byte, 16*zero)
		for i := range ids {
			ids[i] = byte(i) | 1
		}
		idx := stampBatch(frames, 100, 5, ids, nil, 0, 0)
		n, err := walkFrames(frames, 100, uint64(count))
		if err != nil || n != len(frames) {
			t.Fatalf("stamped batch does not walk: %d of %d, %v", n, len(frames), err)
		}
		if k, _, _, err := DecodeIndex(idx); err != nil || k != int(count) {
			t.Fatalf("index of %d entries: %d, %v", count, k, err)
		}
		for pos := 0; pos < len(frames); pos += int(frameLen(frames[pos:])) {
			fr := frames[pos : pos+int(frameLen(frames[pos:]))]
			if Checksum(fr) != binary.LittleEndian.Uint64(fr) {
				t.Fatal("checksum not stamped")
			}
		}
	})
}

// FuzzRecover writes arbitrary bytes as the log and index of an uncleanly
// closed partition: Open must not panic, and whatever it keeps must be
// intact frames with consecutive offsets that the partition can extend.
func FuzzRecover(f *testing.F) {
	valid := func(n int) (log, idx []byte) {
		b := makeBatch(n, 11, 3)
		idx = stampBatch(b, 0, 42, nil, nil, 0, 0)
		return b, idx
	}
	l, i := valid(3)
	f.Add(l, i)
	f.Add(l[:len(l)-5], i)
	f.Add(l, i[:20])
	f.Add(goldenFrame(), appendEntry(nil, 0, 0, goldenT))
	f.Add([]byte{}, []byte{})
	f.Add(make([]byte, 200), make([]byte, 48))
	f.Fuzz(func(t *testing.T, log, idx []byte) {
		dir := t.TempDir()
		logPath, idxPath := segmentPaths(dir, 0)
		if err := os.WriteFile(logPath, log, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(idxPath, idx, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Open(dir, Config{Fsync: FsyncNever})
		if err != nil {
			t.Fatalf("Open of a single damaged segment must recover: %v", err)
		}
		defer p.Close()
		next := p.NextOffset()
		buf, n, err := p.Read(nil, 0, uint32(next)+1)
		if err != nil || uint64(n) != next {
			t.Fatalf("read %d of %d: %v", n, next, err)
		}
		if next > 0 {
			checkFrames(t, buf, 0, int(n))
			if !bytes.Equal(buf, log[:len(buf)]) {
				t.Fatal("recovered frames differ from the log prefix")
			}
		}
		if r, err := p.Append(makeBatch(1, 3, 0), 1); err != nil || r.FirstOffset != next {
			t.Fatalf("append after recovery: %+v %v", r, err)
		}
		if st, _ := os.Stat(idxPath); st.Size() != int64(next+1)*indexEntrySize {
			t.Fatalf("index holds %d bytes for %d messages", st.Size(), next+1)
		}
	})
}

func FuzzDecodeIndex(f *testing.F) {
	f.Add(appendEntry(appendEntry(nil, 0, 0, 1), 1, 69, 1))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, _, _, err := DecodeIndex(b)
		if err == nil && n*indexEntrySize != len(b) {
			t.Fatalf("accepted %d entries from %d bytes", n, len(b))
		}
		if n*indexEntrySize > len(b) {
			t.Fatal("more entries than bytes")
		}
	})
}

func FuzzDecodeOffsetFile(f *testing.F) {
	var b [2 * slotSize]byte
	EncodeOffsetSlot(b[slotSize:], 1, 77, Consumer, 3)
	f.Add(b[:], uint8(1), uint32(3))
	EncodeOffsetSlot(b[:], 2, 78, Consumer, 3)
	f.Add(b[:], uint8(1), uint32(3))
	f.Add([]byte{}, uint8(2), uint32(0))
	f.Fuzz(func(t *testing.T, img []byte, kind uint8, id uint32) {
		off, seq, ok := DecodeOffsetFile(img, ConsumerKind(kind), id)
		if !ok {
			return
		}
		// Re-encoding the chosen slot reproduces it.
		var s [slotSize]byte
		EncodeOffsetSlot(s[:], seq, off, ConsumerKind(kind), id)
		at := int(seq%2) * slotSize
		if !bytes.Equal(img[at:at+slotSize], s[:]) {
			t.Fatal("decoded slot does not re-encode")
		}
	})
}

func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(EncodeSnapshot(nil, []byte("state")))
	f.Add(EncodeSnapshot(nil, nil))
	f.Add([]byte("IMSSNAP1"))
	f.Fuzz(func(t *testing.T, img []byte) {
		data, err := DecodeSnapshot("fuzz", img)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodeSnapshot(nil, data), img) {
			t.Fatal("accepted snapshot does not re-encode")
		}
	})
}

// FuzzWalkFrames: the read-side structural check never panics and never
// claims more bytes than it was given.
func FuzzWalkFrames(f *testing.F) {
	f.Add(goldenFrame(), uint64(0), uint64(1))
	f.Add(makeBatch(2, 1, 0), uint64(0), uint64(2))
	f.Fuzz(func(t *testing.T, b []byte, first, want uint64) {
		n, err := walkFrames(b, first, want%1000)
		if n > len(b) || (err == nil && want%1000 > 0 && n == 0) {
			t.Fatalf("walked %d of %d bytes, err %v", n, len(b), err)
		}
	})
}
