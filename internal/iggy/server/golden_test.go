package server

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/OneOfOne/xxhash"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// Golden frames of docs/iggy-protocol.md §10, exchanged with a real server
// over TCP. Each step writes the request bytes and expects exactly the
// response bytes.
const (
	gPing            = "0400000001000000"
	gLoginRust       = "1600000026000000046967677904696767790000000000000000"
	gLoginGo         = "1b000000260000000469676779046967677905000000302e382e3000000000"
	gLogout          = "0400000027000000"
	gLoginPAT        = "080000002c00000003616263"
	gCreateStream    = "10000000ca0000000b746573742d73747265616d"
	gGetStream0      = "0a000000c8000000010400000000"
	gGetStreamName   = "11000000c8000000020b746573742d73747265616d"
	gGetStreams      = "04000000c9000000"
	gDeleteStream0   = "0a000000cb000000010400000000"
	gUpdateStream    = "12000000cc0000000104000000000772656e616d6564"
	gCreateTopic3    = "2b0000002e010000010400000000030000000100000000000000000000000000000000000a746573742d746f706963"
	gGetTopic        = "100000002c010000010400000000010400000000"
	gGetTopics       = "0a0000002d010000010400000000"
	gDeleteTopic     = "100000002f010000010400000000010400000000"
	gCreatePartition = "140000009201000001040000000001040000000002000000"
	gDeletePartition = "140000009301000001040000000001040000000002000000"
	gFlush           = "15000000660000000104000000000104000000000000000001"
	gPollOffset      = "2a000000640000000101040100000001040000000001040000000001000000000100000000000000000a00000000"
	gPollGroupNext   = "2a000000640000000201040000000001040000000001040000000000000000000500000000000000000a00000001"
	gStoreOffset     = "24000000790000000101040100000001040000000001040000000001000000000500000000000000"
	gGetOffset       = "1c00000078000000010104010000000104000000000104000000000100000000"
	gCreateGroup     = "130000005a020000010400000000010400000000026731"
	gGetGroup        = "1600000058020000010400000000010400000000010400000000"
	gJoinGroup       = "160000005c020000010400000000010400000000010400000000"
	gLeaveGroup      = "160000005d020000010400000000010400000000010400000000"
	gDeleteGroup     = "160000005b020000010400000000010400000000010400000000"
	gGetStats        = "040000000a000000"
	gGetCluster      = "040000000c000000"
	gSend1P0         = "73000000650000001600000001040000000001040000000002040000000001000000000000004500000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000005000000000000000000000068656c6c6f"
	gSend1Bal        = "6f0000006500000012000000010400000000010400000000010001000000000000004500000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000005000000000000000000000068656c6c6f"
	gSend1Key        = "73000000650000001600000001040000000001040000000003046b65793101000000000000004500000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000005000000000000000000000068656c6c6f"
	gSend1Hdr        = "7f000000650000001600000001040000000001040000000002040000000001000000000000005100000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000c00000005000000000000000000000068656c6c6f02010000006b020100000076"

	rOK             = "0000000000000000"
	rInvalidCommand = "0300000000000000"
	rUnauthn        = "2800000000000000"
	rBadCreds       = "2a00000000000000"
	rStreamNotFound = "f103000000000000"
	rStreamExists   = "f403000000000000"
	rLoginOK        = "000000000400000000000000"
	rCreateStream   = "000000002c0000000000000000401e18240a060000000000000000000000000000000000000000000b746573742d73747265616d"
	// §10's CREATE_TOPIC OK: the new partition reports segments_count 0, as
	// the server counts only segments that hold messages.
	rCreateTopic1 = "00000000650000000000000000401e18240a060001000000ffffffffffffffff01ffffffffffffffff01000000000000000000000000000000000a746573742d746f7069630000000000401e18240a060000000000000000000000000000000000000000000000000000000000"
	rGetStream    = "00000000690000000000000000401e18240a060001000000000000000000000000000000000000000b746573742d73747265616d0000000000401e18240a060001000000ffffffffffffffff01ffffffffffffffff01000000000000000000000000000000000a746573742d746f706963"
	rGetOffset    = "00000000140000000000000009000000000000000500000000000000"
	rCreateGroup  = "000000000f000000000000000300000000000000026731"
	rPoll         = "000000005500000000000000000000000000000001000000b7ac617cec79dfa601000000000000000000000000000000000000000000000000401e18240a060000401e18240a06000000000005000000000000000000000068656c6c6f"
)

type goldenStep struct {
	name string
	req  string
	resp string
}

func runGolden(t *testing.T, c *rawConn, steps []goldenStep) {
	t.Helper()
	for _, s := range steps {
		got := c.do(unhex(t, s.req))
		if want := unhex(t, s.resp); !bytes.Equal(got, want) {
			t.Fatalf("%s:\n got %x\nwant %x", s.name, got, want)
		}
	}
}

// withTopicPartitions rewrites the partitions_count of gCreateTopic3.
func withTopicPartitions(t *testing.T, n uint32) string {
	b := unhex(t, gCreateTopic3)
	binary.LittleEndian.PutUint32(b[14:], n)
	return hex.EncodeToString(b)
}

// withOrigin sets origin_timestamp of the single message in a send frame.
func withOrigin(t *testing.T, send string, origin uint64) string {
	b := unhex(t, send)
	metaLen := binary.LittleEndian.Uint32(b[8:])
	msg := 8 + 4 + int(metaLen) + 16
	wire.Frame(b[msg:]).SetOriginTimestamp(origin)
	return hex.EncodeToString(b)
}

func TestGoldenFrames(t *testing.T) {
	srv := startServer(t, Config{Now: fixedClock})
	c := dialRaw(t, srv.Addr())
	T := uint64(goldenTime.UnixMicro())
	runGolden(t, c, []goldenStep{
		{"ping before login", gPing, rOK},
		{"get streams before login", gGetStreams, rUnauthn},
		{"login as the Go SDK does", gLoginGo, rLoginOK},
		{"login as the Rust SDK does", gLoginRust, rLoginOK},
		{"get streams, none", gGetStreams, rOK},
		{"get missing stream", gGetStream0, rOK},
		{"create stream", gCreateStream, rCreateStream},
		{"create stream twice", gCreateStream, rStreamExists},
		{"create topic", withTopicPartitions(t, 1), rCreateTopic1},
		{"get stream by id", gGetStream0, rGetStream},
		{"get stream by name", gGetStreamName, rGetStream},
		{"send one message", withOrigin(t, gSend1P0, T), rOK},
		{"poll it", gPollOffset, rPoll},
	})
	for i := 0; i < 9; i++ {
		runGolden(t, c, []goldenStep{{"send more", gSend1P0, rOK}})
	}
	runGolden(t, c, []goldenStep{
		{"store offset", gStoreOffset, rOK},
		{"get offset", gGetOffset, rGetOffset},
		{"flush", gFlush, rOK},
		{"create partitions", gCreatePartition, rOK},
		{"create group", gCreateGroup, rCreateGroup},
		{"join group", gJoinGroup, rOK},
		{"leave group", gLeaveGroup, rOK},
		{"leave group again", gLeaveGroup, "8e13000000000000"},
		{"delete group", gDeleteGroup, rOK},
		{"delete group again", gDeleteGroup, "8813000000000000"},
		{"unknown command", "04000000e7030000", rInvalidCommand},
		{"still usable after unknown command", gPing, rOK},
		{"delete partitions", gDeletePartition, rOK},
		{"delete topic", gDeleteTopic, rOK},
		{"delete topic again", gDeleteTopic, "da07000000000000"},
		{"rename stream", gUpdateStream, rOK},
		{"old name gone", gGetStreamName, rOK},
		{"delete stream", gDeleteStream0, rOK},
		{"delete stream again", gDeleteStream0, rStreamNotFound},
		{"logout", gLogout, rOK},
		{"get streams after logout", gGetStreams, rUnauthn},
		{"login with unknown token", gLoginPAT, "3500000000000000"},
	})
	bad := unhex(t, gLoginGo)
	bad[len(bad)-14] = 'x' // last byte of the password
	runGolden(t, c, []goldenStep{{"wrong password", hex.EncodeToString(bad), rBadCreds}})
}

func mustOK(t *testing.T, c *rawConn, name, req string) []byte {
	t.Helper()
	resp := c.do(unhex(t, req))
	if st := statusOf(resp); st != nil {
		t.Fatalf("%s: status %v", name, st)
	}
	return resp[8:]
}

// pollRaw polls count messages of partition p from offset 0 as consumer 1.
func pollRaw(t *testing.T, c *rawConn, p uint32) (uint32, []byte) {
	t.Helper()
	req := unhex(t, gPollOffset)
	binary.LittleEndian.PutUint32(req[28:], p)
	body := mustOK(t, c, "poll", hex.EncodeToString(req))
	return binary.LittleEndian.Uint32(body[12:]), body[16:]
}

func TestGoldenSendVariants(t *testing.T) {
	srv := startServer(t, Config{Now: fixedClock})
	c := dialRaw(t, srv.Addr())
	runGolden(t, c, []goldenStep{
		{"login", gLoginGo, rLoginOK},
		{"create stream", gCreateStream, rCreateStream},
	})
	mustOK(t, c, "create topic with 3 partitions", gCreateTopic3)
	for i := 0; i < 3; i++ {
		mustOK(t, c, "send balanced", gSend1Bal)
	}
	for p := uint32(0); p < 3; p++ {
		if n, _ := pollRaw(t, c, p); n != 1 {
			t.Fatalf("balanced: partition %d holds %d messages, want 1", p, n)
		}
	}
	mustOK(t, c, "send keyed", gSend1Key)
	keyed := xxhash.ChecksumString32("key1") % 3
	if n, _ := pollRaw(t, c, keyed); n != 2 {
		t.Fatalf("messages key: partition %d holds %d messages, want 2", keyed, n)
	}
	mustOK(t, c, "send with headers", gSend1Hdr)
	n, frames := pollRaw(t, c, 0)
	last := frames[len(frames)-(64+5+12):]
	if n < 2 || !bytes.Equal(last[64:], unhex(t, "68656c6c6f02010000006b020100000076")) {
		t.Fatalf("headers not returned after the payload: %x", last)
	}
	if got := wire.Frame(last).UserHeadersLength(); got != 12 {
		t.Fatalf("user_headers_length %d, want 12", got)
	}
}
