package record

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the reader: it must never panic, never
// allocate past its bounds, and end every input with EOF, ErrTruncated,
// ErrCorrupt or ErrNotRecording (or a version error).
func FuzzReader(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "golden.ims"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(golden[:len(golden)-7])
	f.Add(golden[:40])
	f.Add(writeAll(f, sampleRecords(20), WriterOptions{FlushFrames: 3, FlushInterval: -1}))
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		defer r.Close()
		for range 1 << 16 {
			rec, err := r.Next()
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, ErrTruncated) || errors.Is(err, ErrCorrupt) {
					return
				}
				t.Fatalf("unexpected error kind: %v", err)
			}
			if !rec.Kind.valid() {
				t.Fatalf("invalid kind %d delivered", rec.Kind)
			}
		}
	})
}
