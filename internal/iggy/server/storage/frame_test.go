package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
)

// goldenPollFrame is the stored frame of docs/iggy-protocol.md §10 "POLL OK":
// offset 0, timestamp and origin T = 1700000000000000 µs, id 1, payload
// "hello", checksum XXH3_64(frame[8:]) = 0xa6df79ec7c61acb7.
const goldenPollFrame = "b7ac617cec79dfa6" + "01000000000000000000000000000000" + "0000000000000000" +
	"00401e18240a0600" + "00401e18240a0600" + "00000000" + "05000000" + "0000000000000000" + "68656c6c6f"

const goldenT = 1700000000000000

func TestStampGolden(t *testing.T) {
	want, _ := hex.DecodeString(goldenPollFrame)
	// As the client sends it: checksum, offset and timestamp zero.
	frame := appendFrame(nil, 1, []byte("hello"), nil)
	binary.LittleEndian.PutUint64(frame[hdrOriginTimestamp:], goldenT)
	if _, err := CheckBatch(frame, 1); err != nil {
		t.Fatal(err)
	}
	idx := stampBatch(frame, 0, goldenT, nil, nil, 0, 0)
	if !bytes.Equal(frame, want) {
		t.Fatalf("stamped frame\n got %x\nwant %x", frame, want)
	}
	if Checksum(frame) != 0xa6df79ec7c61acb7 {
		t.Fatalf("checksum %x", Checksum(frame))
	}
	if e := decodeEntry(idx); e != (indexEntry{rel: 0, pos: 0, ts: goldenT}) || len(idx) != indexEntrySize {
		t.Fatalf("index entry %+v (%d bytes)", e, len(idx))
	}
}

func TestAppendGoldenThroughPartition(t *testing.T) {
	want, _ := hex.DecodeString(goldenPollFrame)
	cfg := Config{Fsync: FsyncNever}
	cfg.Now = func() timeT { return timeAtMicros(goldenT) }
	p := mustOpen(t, t.TempDir(), cfg)
	defer p.Close()
	frame := appendFrame(nil, 1, []byte("hello"), nil)
	binary.LittleEndian.PutUint64(frame[hdrOriginTimestamp:], goldenT)
	r := mustAppend(t, p, frame, 1)
	if r != (AppendResult{FirstOffset: 0, LastOffset: 0, Timestamp: goldenT, Count: 1, Bytes: 69}) {
		t.Fatalf("result %+v", r)
	}
	got, n, err := p.Read(nil, 0, 10)
	if err != nil || n != 1 || !bytes.Equal(got, want) {
		t.Fatalf("read n=%d err=%v\n got %x\nwant %x", n, err, got, want)
	}
}

func TestCheckBatchErrors(t *testing.T) {
	good := appendFrame(nil, 1, []byte("abc"), []byte("hh"))
	two := append(append([]byte{}, good...), good...)
	withReserved := append([]byte{}, good...)
	withReserved[hdrReserved] = 1
	bigPayload := append([]byte{}, good...)
	binary.LittleEndian.PutUint32(bigPayload[hdrPayloadLen:], MaxPayloadSize+1)
	bigHeaders := append([]byte{}, good...)
	binary.LittleEndian.PutUint32(bigHeaders[hdrUserHeadersLen:], MaxUserHeadersSize+1)
	long := append([]byte{}, good...)
	binary.LittleEndian.PutUint32(long[hdrPayloadLen:], 4) // one byte past the batch
	tests := []struct {
		name   string
		frames []byte
		count  uint32
		want   error
		code   uint32
	}{
		{"empty", nil, 0, ErrInvalidMessagesCount, 4009},
		{"zero count", good, 0, ErrInvalidMessagesCount, 4009},
		{"count too high", good, 2, ErrInvalidMessagesCount, 4009},
		{"count too low", two, 1, ErrInvalidMessagesCount, 4009},
		{"short frame", good[:63], 1, ErrTooSmallMessage, 4037},
		{"trailing bytes", append(append([]byte{}, good...), 1, 2, 3), 2, ErrTooSmallMessage, 4037},
		{"reserved", withReserved, 1, ErrInvalidReservedField, 4101},
		{"payload limit", bigPayload, 1, ErrTooBigPayload, 4022},
		{"headers limit", bigHeaders, 1, ErrTooBigUserHeaders, 4017},
		{"length past end", long, 1, ErrInvalidMessagesSize, 4036},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CheckBatch(tc.frames, tc.count)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if code, ok := IggyCode(err); !ok || code != tc.code {
				t.Fatalf("IggyCode = %d %v, want %d", code, ok, tc.code)
			}
		})
	}
	if z, err := CheckBatch(two, 2); err != nil || z != 0 {
		t.Fatalf("good batch: %d %v", z, err)
	}
}

func TestStampAssignsUUIDv4WhereIDIsZero(t *testing.T) {
	b := appendFrame(nil, 0, []byte("a"), nil)
	b = appendFrame(b, 77, []byte("b"), nil)
	b = appendFrame(b, 0, []byte("c"), nil)
	z, err := CheckBatch(b, 3)
	if err != nil || z != 2 {
		t.Fatalf("zero ids %d %v", z, err)
	}
	ids := bytes.Repeat([]byte{0xff}, 32)
	uuidV4(ids[:16])
	uuidV4(ids[16:])
	stampBatch(b, 10, 5, ids, nil, 0, 0)
	fs := splitFrames(t, b)
	for i, f := range fs {
		id := f[hdrID : hdrID+16]
		if i == 1 {
			if binary.LittleEndian.Uint64(id) != 77 {
				t.Fatalf("producer id overwritten: %x", id)
			}
			continue
		}
		// Big-endian UUID bytes are the reverse of the little-endian u128.
		var u [16]byte
		for k := range u {
			u[k] = id[15-k]
		}
		if u[6]>>4 != 4 || u[8]>>6 != 2 {
			t.Fatalf("frame %d id %x is not a v4 UUID", i, u)
		}
		if FrameOffset(f) != 10+uint64(i) || FrameTimestamp(f) != 5 || Checksum(f) != binary.LittleEndian.Uint64(f) {
			t.Fatalf("frame %d not stamped", i)
		}
	}
}

func TestDecodeIndex(t *testing.T) {
	var b []byte
	b = appendEntry(b, 0, 0, 10)
	b = appendEntry(b, 1, 100, 10)
	b = appendEntry(b, 2, 250, 11)
	if n, pos, ts, err := DecodeIndex(b); err != nil || n != 3 || pos != 250 || ts != 11 {
		t.Fatalf("%d %d %d %v", n, pos, ts, err)
	}
	bad := [][]byte{
		appendEntry(nil, 1, 0, 0),                       // relative offset
		appendEntry(nil, 0, 5, 0),                       // first position
		appendEntry(appendEntry(nil, 0, 0, 9), 1, 0, 9), // position not increasing
		appendEntry(appendEntry(nil, 0, 0, 9), 1, 8, 8), // timestamp going back
		append(append([]byte{}, b...), 1, 2, 3),         // partial entry
	}
	for i, c := range bad {
		if _, _, _, err := DecodeIndex(c); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
}

func TestIggyCodeOfPlainError(t *testing.T) {
	if _, ok := IggyCode(errors.New("x")); ok {
		t.Fatal("plain error has a code")
	}
	if c, ok := IggyCode(&CorruptionError{Path: "p", Position: -1, Reason: "r"}); !ok || c != 1 {
		t.Fatal("corruption code")
	}
	if !errors.Is(&CorruptionError{}, ErrCorrupt) {
		t.Fatal("CorruptionError is not ErrCorrupt")
	}
}

func TestParseFsyncPolicy(t *testing.T) {
	for _, p := range []FsyncPolicy{FsyncAlways, FsyncInterval, FsyncNever} {
		got, err := ParseFsyncPolicy(p.String())
		if err != nil || got != p {
			t.Fatalf("%v: %v %v", p, got, err)
		}
	}
	if _, err := ParseFsyncPolicy("sometimes"); err == nil {
		t.Fatal("accepted sometimes")
	}
	if FsyncPolicy(9).String() == "" {
		t.Fatal("empty name")
	}
}
