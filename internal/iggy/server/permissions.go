package server

import (
	"encoding/binary"
	"sort"
)

// GlobalPermissions are the server-wide rights of a user, in wire order.
type GlobalPermissions struct {
	ManageServers bool `json:"manage_servers"`
	ReadServers   bool `json:"read_servers"`
	ManageUsers   bool `json:"manage_users"`
	ReadUsers     bool `json:"read_users"`
	ManageStreams bool `json:"manage_streams"`
	ReadStreams   bool `json:"read_streams"`
	ManageTopics  bool `json:"manage_topics"`
	ReadTopics    bool `json:"read_topics"`
	PollMessages  bool `json:"poll_messages"`
	SendMessages  bool `json:"send_messages"`
}

// StreamPermissions are a user's rights on one stream and, optionally, on
// single topics of it.
type StreamPermissions struct {
	ManageStream bool                        `json:"manage_stream"`
	ReadStream   bool                        `json:"read_stream"`
	ManageTopics bool                        `json:"manage_topics"`
	ReadTopics   bool                        `json:"read_topics"`
	PollMessages bool                        `json:"poll_messages"`
	SendMessages bool                        `json:"send_messages"`
	Topics       map[uint32]TopicPermissions `json:"topics,omitempty"`
}

// TopicPermissions are a user's rights on one topic.
type TopicPermissions struct {
	ManageTopic  bool `json:"manage_topic"`
	ReadTopic    bool `json:"read_topic"`
	PollMessages bool `json:"poll_messages"`
	SendMessages bool `json:"send_messages"`
}

// Permissions is what the wire carries for a user (Iggy
// core/common/src/types/permissions): global rights plus per-stream maps.
type Permissions struct {
	Global  GlobalPermissions            `json:"global"`
	Streams map[uint32]StreamPermissions `json:"streams,omitempty"`
}

// rootPermissions grants everything.
func rootPermissions() *Permissions {
	return &Permissions{Global: GlobalPermissions{true, true, true, true, true, true, true, true, true, true}}
}

// decodePermissions parses the wire layout: 10 global bools, then a
// has-streams flag and per stream (id u32, 6 bools, has-topics flag, per topic
// (id u32, 4 bools, more flag)), more flag).
func decodePermissions(b []byte) (*Permissions, bool) {
	r := reader{b: b}
	p := &Permissions{}
	g := &p.Global
	for _, f := range []*bool{&g.ManageServers, &g.ReadServers, &g.ManageUsers, &g.ReadUsers, &g.ManageStreams,
		&g.ReadStreams, &g.ManageTopics, &g.ReadTopics, &g.PollMessages, &g.SendMessages} {
		*f = r.u8() == 1
	}
	if r.u8() == 1 {
		p.Streams = map[uint32]StreamPermissions{}
		for r.err == 0 {
			id := r.u32()
			var s StreamPermissions
			for _, f := range []*bool{&s.ManageStream, &s.ReadStream, &s.ManageTopics, &s.ReadTopics, &s.PollMessages, &s.SendMessages} {
				*f = r.u8() == 1
			}
			if r.u8() == 1 {
				s.Topics = map[uint32]TopicPermissions{}
				for r.err == 0 {
					tid := r.u32()
					var t TopicPermissions
					for _, f := range []*bool{&t.ManageTopic, &t.ReadTopic, &t.PollMessages, &t.SendMessages} {
						*f = r.u8() == 1
					}
					s.Topics[tid] = t
					if r.u8() == 0 {
						break
					}
				}
			}
			p.Streams[id] = s
			if r.u8() == 0 {
				break
			}
		}
	}
	if r.err != 0 || r.off != len(b) {
		return nil, false
	}
	return p, true
}

// appendPermissions writes p in the wire layout, streams and topics sorted
// by id so the bytes are deterministic.
func appendPermissions(b []byte, p *Permissions) []byte {
	g := p.Global
	for _, v := range []bool{g.ManageServers, g.ReadServers, g.ManageUsers, g.ReadUsers, g.ManageStreams,
		g.ReadStreams, g.ManageTopics, g.ReadTopics, g.PollMessages, g.SendMessages} {
		b = appendBool(b, v)
	}
	if len(p.Streams) == 0 {
		return append(b, 0)
	}
	b = append(b, 1)
	sids := sortedKeys(p.Streams)
	for i, sid := range sids {
		s := p.Streams[sid]
		b = binary.LittleEndian.AppendUint32(b, sid)
		for _, v := range []bool{s.ManageStream, s.ReadStream, s.ManageTopics, s.ReadTopics, s.PollMessages, s.SendMessages} {
			b = appendBool(b, v)
		}
		if len(s.Topics) == 0 {
			b = append(b, 0)
		} else {
			b = append(b, 1)
			tids := sortedKeys(s.Topics)
			for j, tid := range tids {
				t := s.Topics[tid]
				b = binary.LittleEndian.AppendUint32(b, tid)
				for _, v := range []bool{t.ManageTopic, t.ReadTopic, t.PollMessages, t.SendMessages} {
					b = appendBool(b, v)
				}
				b = appendBool(b, j < len(tids)-1)
			}
		}
		b = appendBool(b, i < len(sids)-1)
	}
	return b
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func sortedKeys[V any](m map[uint32]V) []uint32 {
	ks := make([]uint32, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// The rules below follow Iggy's permissioner: a right granted globally holds
// for every stream, one granted on a stream holds for its topics, and the
// "manage" rights include the matching "read" rights (manage_streams ⊇
// read_streams ⊇ read_topics ⊇ poll_messages; manage_topics ⊇ read_topics).

func (p *Permissions) stream(id uint32) (StreamPermissions, bool) {
	s, ok := p.Streams[id]
	return s, ok
}

func (p *Permissions) topic(sid, tid uint32) (TopicPermissions, bool) {
	s, ok := p.Streams[sid]
	if !ok {
		return TopicPermissions{}, false
	}
	t, ok := s.Topics[tid]
	return t, ok
}

func (p *Permissions) canReadServers() bool  { return p.Global.ManageServers || p.Global.ReadServers }
func (p *Permissions) canReadUsers() bool    { return p.Global.ManageUsers || p.Global.ReadUsers }
func (p *Permissions) canManageUsers() bool  { return p.Global.ManageUsers }
func (p *Permissions) canCreateStream() bool { return p.Global.ManageStreams }
func (p *Permissions) canListStreams() bool  { return p.Global.ManageStreams || p.Global.ReadStreams }

func (p *Permissions) canReadStream(sid uint32) bool {
	if p.canListStreams() {
		return true
	}
	s, ok := p.stream(sid)
	return ok && (s.ManageStream || s.ReadStream)
}

// canSeeStream says whether a stream may appear in GetStreams for a user
// without global read rights: any right on it makes it visible.
func (p *Permissions) canSeeStream(sid uint32) bool {
	if p.canReadStream(sid) {
		return true
	}
	_, ok := p.stream(sid)
	return ok
}

func (p *Permissions) canManageStream(sid uint32) bool {
	if p.Global.ManageStreams {
		return true
	}
	s, ok := p.stream(sid)
	return ok && s.ManageStream
}

func (p *Permissions) canReadTopics(sid uint32) bool {
	g := p.Global
	if g.ManageStreams || g.ReadStreams || g.ManageTopics || g.ReadTopics {
		return true
	}
	s, ok := p.stream(sid)
	return ok && (s.ManageStream || s.ReadStream || s.ManageTopics || s.ReadTopics)
}

func (p *Permissions) canReadTopic(sid, tid uint32) bool {
	if p.canReadTopics(sid) {
		return true
	}
	t, ok := p.topic(sid, tid)
	return ok && (t.ManageTopic || t.ReadTopic)
}

func (p *Permissions) canCreateTopic(sid uint32) bool {
	if p.Global.ManageStreams || p.Global.ManageTopics {
		return true
	}
	s, ok := p.stream(sid)
	return ok && (s.ManageStream || s.ManageTopics)
}

func (p *Permissions) canManageTopic(sid, tid uint32) bool {
	if p.canCreateTopic(sid) {
		return true
	}
	t, ok := p.topic(sid, tid)
	return ok && t.ManageTopic
}

func (p *Permissions) canPoll(sid, tid uint32) bool {
	g := p.Global
	if g.PollMessages || g.ManageStreams || g.ReadStreams || g.ManageTopics || g.ReadTopics {
		return true
	}
	if s, ok := p.stream(sid); ok && (s.PollMessages || s.ManageStream || s.ReadStream || s.ManageTopics || s.ReadTopics) {
		return true
	}
	t, ok := p.topic(sid, tid)
	return ok && (t.PollMessages || t.ManageTopic || t.ReadTopic)
}

func (p *Permissions) canSend(sid, tid uint32) bool {
	g := p.Global
	if g.SendMessages || g.ManageStreams || g.ManageTopics {
		return true
	}
	if s, ok := p.stream(sid); ok && (s.SendMessages || s.ManageStream || s.ManageTopics) {
		return true
	}
	t, ok := p.topic(sid, tid)
	return ok && (t.SendMessages || t.ManageTopic)
}
