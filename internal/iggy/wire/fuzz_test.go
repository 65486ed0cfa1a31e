package wire

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
)

// Every decoder is fuzzed: it must never panic, and whatever it accepts must
// re-encode to something it decodes to the same value.

func FuzzRequest(f *testing.F) {
	for _, g := range requestGoldens() {
		b := unhex(f, g.hex)
		f.Add(binary.LittleEndian.Uint32(b[4:]), b[8:])
	}
	perms, _ := (&UpdatePermissions{User: NumericID(1), Permissions: &Permissions{Streams: map[uint32]StreamPermissions{
		1: {Topics: map[uint32]TopicPermissions{2: {}}}}}}).AppendPayload(nil)
	f.Add(uint32(CmdUpdatePermissions), perms)
	cu, _ := (&CreateUser{Username: "abc", Password: "def", Status: UserActive, Permissions: &Permissions{}}).AppendPayload(nil)
	f.Add(uint32(CmdCreateUser), cu)
	f.Fuzz(func(t *testing.T, code uint32, payload []byte) {
		r := NewRequest(Command(code))
		if r == nil || Command(code) == CmdSendMessages {
			return
		}
		if err := r.Decode(payload); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("non-wire error %T %v", err, err)
			}
			return
		}
		enc, err := r.AppendPayload(nil)
		if err != nil {
			t.Fatalf("decoded %+v but cannot encode: %v", r, err)
		}
		r2 := NewRequest(Command(code))
		if err := r2.Decode(enc); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("round trip %+v != %+v", r, r2)
		}
	})
}

func FuzzSendMessages(f *testing.F) {
	for _, h := range []string{
		"73000000650000001600000001040000000001040000000002040000000001000000000000004500000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000005000000000000000000000068656c6c6f",
		"7f000000650000001600000001040000000001040000000002040000000001000000000000005100000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000c00000005000000000000000000000068656c6c6f02010000006b020100000076",
	} {
		f.Add(unhex(f, h)[8:])
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var s SendMessages
		if err := s.Decode(payload); err != nil {
			return
		}
		total := 0
		for i := 0; i < int(s.Count); i++ {
			fr := s.Frame(i)
			if _, n, err := ParseFrame(fr); err != nil || n != len(fr) {
				t.Fatalf("frame %d: %v", i, err)
			}
			total += len(fr)
		}
		if total != len(s.Messages) {
			t.Fatalf("frames %d bytes, section %d", total, len(s.Messages))
		}
		enc, err := s.AppendPayload(nil)
		if err != nil || !bytes.Equal(enc, payload) {
			t.Fatalf("re-encode differs: %v", err)
		}
	})
}

func FuzzPolledMessages(f *testing.F) {
	f.Add(unhex(f, "00000000000000000000000001000000b7ac617cec79dfa601000000000000000000000000000000000000000000000000401e18240a060000401e18240a06000000000005000000000000000000000068656c6c6f"))
	f.Add([]byte{})
	var p PolledMessages
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := ParsePolledMessages(b, &p); err != nil {
			return
		}
		size := 0
		for i := range p.Messages {
			size += p.Messages[i].Size()
		}
		if len(b) > 0 && size != len(b)-PollHeaderSize {
			t.Fatalf("messages cover %d of %d bytes", size, len(b)-PollHeaderSize)
		}
	})
}

func FuzzUserHeaders(f *testing.F) {
	f.Add(unhex(f, "02010000006b020100000076"))
	f.Fuzz(func(t *testing.T, b []byte) {
		hs, err := ParseHeaders(b)
		if err != nil {
			return
		}
		enc, err := AppendHeaders(nil, hs)
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("re-encode %x != %x (%v)", enc, b, err)
		}
		for _, h := range hs {
			_ = h.Key.String() + h.Value.String()
		}
	})
}

func FuzzPermissions(f *testing.F) {
	f.Add(AppendPermissions(nil, &Permissions{Streams: map[uint32]StreamPermissions{1: {Topics: map[uint32]TopicPermissions{2: {ReadTopic: true}}}, 4: {}}}))
	f.Add(AppendPermissions(nil, &Permissions{Global: GlobalPermissions{true, true, true, true, true, true, true, true, true, true}}))
	f.Add(AppendPermissions(nil, &Permissions{Streams: map[uint32]StreamPermissions{
		1: {ReadStream: true, Topics: map[uint32]TopicPermissions{2: {PollMessages: true}, 3: {}}}, 4: {ManageStream: true},
	}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePermissions(b)
		if err != nil {
			return
		}
		// Map order is canonicalised on encode, so compare decoded values.
		back, err := ParsePermissions(AppendPermissions(nil, p))
		if err != nil || !reflect.DeepEqual(back, p) {
			t.Fatalf("round trip %+v %+v %v", p, back, err)
		}
	})
}

// FuzzResponses drives every response parser: the first byte picks it.
func FuzzResponses(f *testing.F) {
	seeds := map[byte]string{
		0: "00000000",
		1: "0000000000401e18240a060000000000000000000000000000000000000000000b746573742d73747265616d",
		2: "0000000000401e18240a060001000000000000000000000000000000000000000b746573742d73747265616d0000000000401e18240a060001000000ffffffffffffffff01ffffffffffffffff01000000000000000000000000000000000a746573742d746f706963",
		4: "0000000000401e18240a060001000000ffffffffffffffff01ffffffffffffffff01000000000000000000000000000000000a746573742d746f7069630000000000401e18240a060000000000000000000000000000000000000000000000000000000000",
		5: "000000000300000000000000026731",
		7: "0000000009000000000000000500000000000000",
	}
	for k, v := range seeds {
		f.Add(append([]byte{k}, unhex(f, v)...))
	}
	stats := Stats{Hostname: "h", ServerVersion: "v", CacheMetrics: []CacheMetrics{{}}}
	f.Add(append([]byte{8}, stats.AppendTo(nil)...))
	cm := ClusterMetadata{Name: "n", Nodes: []ClusterNode{{Name: "a", IP: "b"}}}
	f.Add(append([]byte{9}, cm.AppendTo(nil)...))
	cd := ClientDetails{ClientInfo: ClientInfo{Address: "x"}, ConsumerGroups: []ClientGroup{{}}}
	f.Add(append([]byte{10}, cd.AppendTo(nil)...))
	ud := UserDetails{UserInfo: UserInfo{Status: UserActive, Username: "abc"}, Permissions: &Permissions{}}
	f.Add(append([]byte{12}, ud.AppendTo(nil)...))
	f.Add(append([]byte{14}, (&AccessTokenInfo{Name: "t"}).AppendTo(nil)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		b := in[1:]
		switch in[0] % 16 {
		case 0:
			_, _ = ParseIdentity(b)
		case 1:
			if s, err := ParseStream(b); err == nil && !bytes.Equal(s.AppendTo(nil), b) {
				t.Fatal("stream round trip")
			}
		case 2:
			if s, err := ParseStreamDetails(b); err == nil && !bytes.Equal(s.AppendTo(nil), b) {
				t.Fatal("stream details round trip")
			}
		case 3:
			_, _ = ParseStreams(b)
		case 4:
			if s, err := ParseTopicDetails(b); err == nil && !bytes.Equal(s.AppendTo(nil), b) {
				t.Fatal("topic details round trip")
			}
		case 5:
			if g, err := ParseConsumerGroupDetails(b); err == nil && !bytes.Equal(g.AppendTo(nil), b) {
				t.Fatal("group round trip")
			}
		case 6:
			_, _ = ParseConsumerGroups(b)
			_, _ = ParseTopics(b)
		case 7:
			if o, err := ParseConsumerOffset(b); err == nil && !bytes.Equal(o.AppendTo(nil), b) {
				t.Fatal("offset round trip")
			}
		case 8:
			_, _ = ParseStats(b)
		case 9:
			if m, err := ParseClusterMetadata(b); err == nil && !bytes.Equal(m.AppendTo(nil), b) {
				t.Fatal("cluster round trip")
			}
		case 10:
			if c, err := ParseClientDetails(b); err == nil && !bytes.Equal(c.AppendTo(nil), b) {
				t.Fatal("client round trip")
			}
		case 11:
			_, _ = ParseClients(b)
		case 12:
			_, _ = ParseUserDetails(b)
		case 13:
			_, _ = ParseUsers(b)
		case 14:
			_, _ = ParseAccessTokens(b)
		case 15:
			_, _ = ParseRawAccessToken(b)
			_, _, _ = ParseResponseHeader(b)
			_, _, _ = ParseRequestHeader(b)
			_, _, _ = ParseMessage(b)
		}
	})
}
