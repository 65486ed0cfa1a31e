package storage

import "testing"

func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	p := mustOpen(t, dir, Config{SegmentSize: 4096})
	for i := 0; i < 20; i++ {
		mustAppend(t, p, makeBatch(10, 50, byte(i)), 10)
	}
	buf, n, err := p.Read(nil, 0, 1000)
	if err != nil || n != 200 {
		t.Fatalf("read %d %v", n, err)
	}
	fs := splitFrames(t, buf)
	for i, f := range fs {
		if FrameOffset(f) != uint64(i) || Checksum(f) != uint64FromLE(f) {
			t.Fatalf("frame %d bad", i)
		}
	}
	t.Logf("%+v", p.Stats())
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = mustOpen(t, dir, Config{SegmentSize: 4096})
	t.Logf("%+v %+v", p.Stats(), p.Recovery())
	p.Close()
}

func uint64FromLE(f []byte) uint64 {
	return uint64(f[0]) | uint64(f[1])<<8 | uint64(f[2])<<16 | uint64(f[3])<<24 | uint64(f[4])<<32 | uint64(f[5])<<40 | uint64(f[6])<<48 | uint64(f[7])<<56
}
