package server

import "github.com/ims-dev/ims/internal/iggy/wire"

// rights is a user's permission set (exactly what the wire carries,
// wire.Permissions) with the rules that decide what it allows. A user's
// *wire.Permissions is replaced, never changed in place, so a handler may
// keep using the one it read after releasing Server.mu.
type rights wire.Permissions

// rootPermissions grants everything.
func rootPermissions() *wire.Permissions {
	return &wire.Permissions{Global: wire.GlobalPermissions{
		ManageServers: true, ReadServers: true, ManageUsers: true, ReadUsers: true, ManageStreams: true,
		ReadStreams: true, ManageTopics: true, ReadTopics: true, PollMessages: true, SendMessages: true,
	}}
}

// The rules below follow Iggy's permissioner: a right granted globally holds
// for every stream, one granted on a stream holds for its topics, and the
// "manage" rights include the matching "read" rights (manage_streams ⊇
// read_streams ⊇ read_topics ⊇ poll_messages; manage_topics ⊇ read_topics).

func (p *rights) stream(id uint32) (wire.StreamPermissions, bool) {
	s, ok := p.Streams[id]
	return s, ok
}

func (p *rights) topic(sid, tid uint32) (wire.TopicPermissions, bool) {
	s, ok := p.Streams[sid]
	if !ok {
		return wire.TopicPermissions{}, false
	}
	t, ok := s.Topics[tid]
	return t, ok
}

func (p *rights) canReadServers() bool  { return p.Global.ManageServers || p.Global.ReadServers }
func (p *rights) canReadUsers() bool    { return p.Global.ManageUsers || p.Global.ReadUsers }
func (p *rights) canManageUsers() bool  { return p.Global.ManageUsers }
func (p *rights) canCreateStream() bool { return p.Global.ManageStreams }
func (p *rights) canListStreams() bool  { return p.Global.ManageStreams || p.Global.ReadStreams }

func (p *rights) canReadStream(sid uint32) bool {
	if p.canListStreams() {
		return true
	}
	s, ok := p.stream(sid)
	return ok && (s.ManageStream || s.ReadStream)
}

// canSeeStream says whether a stream may appear in GetStreams for a user
// without global read rights: any right on it makes it visible.
func (p *rights) canSeeStream(sid uint32) bool {
	if p.canReadStream(sid) {
		return true
	}
	_, ok := p.stream(sid)
	return ok
}

func (p *rights) canManageStream(sid uint32) bool {
	if p.Global.ManageStreams {
		return true
	}
	s, ok := p.stream(sid)
	return ok && s.ManageStream
}

func (p *rights) canReadTopics(sid uint32) bool {
	g := p.Global
	if g.ManageStreams || g.ReadStreams || g.ManageTopics || g.ReadTopics {
		return true
	}
	s, ok := p.stream(sid)
	return ok && (s.ManageStream || s.ReadStream || s.ManageTopics || s.ReadTopics)
}

func (p *rights) canReadTopic(sid, tid uint32) bool {
	if p.canReadTopics(sid) {
		return true
	}
	t, ok := p.topic(sid, tid)
	return ok && (t.ManageTopic || t.ReadTopic)
}

// canJoinGroup says whether the user may join or leave a topic's groups.
func (p *rights) canJoinGroup(sid, tid uint32) bool {
	return p.canReadTopic(sid, tid) || p.canPoll(sid, tid)
}

func (p *rights) canCreateTopic(sid uint32) bool {
	if p.Global.ManageStreams || p.Global.ManageTopics {
		return true
	}
	s, ok := p.stream(sid)
	return ok && (s.ManageStream || s.ManageTopics)
}

func (p *rights) canManageTopic(sid, tid uint32) bool {
	if p.canCreateTopic(sid) {
		return true
	}
	t, ok := p.topic(sid, tid)
	return ok && t.ManageTopic
}

func (p *rights) canPoll(sid, tid uint32) bool {
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

func (p *rights) canSend(sid, tid uint32) bool {
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
