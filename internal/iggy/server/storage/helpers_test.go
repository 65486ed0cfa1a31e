package storage

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"
)

// appendFrame appends a client-side frame (checksum, offset, timestamp 0) to dst.
func appendFrame(dst []byte, idLo uint64, payload, headers []byte) []byte {
	var h [HeaderSize]byte
	binary.LittleEndian.PutUint64(h[hdrID:], idLo)
	binary.LittleEndian.PutUint64(h[hdrOriginTimestamp:], 1700000000000000)
	binary.LittleEndian.PutUint32(h[hdrUserHeadersLen:], uint32(len(headers)))
	binary.LittleEndian.PutUint32(h[hdrPayloadLen:], uint32(len(payload)))
	dst = append(dst, h[:]...)
	dst = append(dst, payload...)
	return append(dst, headers...)
}

// makeBatch builds n frames whose payloads are size bytes derived from tag+i.
func makeBatch(n, size int, tag byte) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		p := make([]byte, size)
		for j := range p {
			p[j] = tag + byte(i) + byte(j)
		}
		b = appendFrame(b, uint64(i)+1, p, nil)
	}
	return b
}

// frames splits a read result into its frames.
func splitFrames(t testing.TB, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		if len(b) < HeaderSize {
			t.Fatalf("trailing %d bytes", len(b))
		}
		fl := int(frameLen(b))
		if fl > len(b) {
			t.Fatalf("frame of %d bytes, %d left", fl, len(b))
		}
		out = append(out, b[:fl])
		b = b[fl:]
	}
	return out
}

func mustOpen(t testing.TB, dir string, cfg Config) *Partition {
	t.Helper()
	p, err := Open(dir, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return p
}

func mustAppend(t testing.TB, p *Partition, frames []byte, n int) AppendResult {
	t.Helper()
	r, err := p.Append(frames, uint32(n))
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return r
}

type timeT = time.Time

func timeAtMicros(us int64) time.Time { return time.UnixMicro(us) }

// steppingClock returns a Now func that advances by step on every call.
func steppingClock(start time.Time, step time.Duration) func() time.Time {
	var mu sync.Mutex
	t := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(step)
		return t
	}
}
