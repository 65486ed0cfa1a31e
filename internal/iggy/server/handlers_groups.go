package server

import (
	"cmp"
	"maps"
	"slices"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

func groupInfo(g *group, partitions int) wire.ConsumerGroupInfo {
	return wire.ConsumerGroupInfo{ID: g.id, PartitionsCount: uint32(partitions),
		MembersCount: uint32(len(g.members)), Name: g.name}
}

// appendGroupDetails appends the group and its members by client id.
func appendGroupDetails(out []byte, g *group, partitions int) []byte {
	d := wire.ConsumerGroupDetails{ConsumerGroupInfo: groupInfo(g, partitions)}
	for _, id := range sortedKeys(g.members) {
		d.Members = append(d.Members, wire.ConsumerGroupMember{ID: id, Partitions: g.members[id].partitions})
	}
	return d.AppendTo(out)
}

// rebalanceTopicLocked reassigns every group of t after its partitions
// changed.
func (s *Server) rebalanceTopicLocked(t *topic) {
	for _, g := range t.groups {
		g.rebalance(len(t.partitions))
	}
}

// lookupGroup resolves a group reference in this order: stream and topic,
// the caller's right on the topic (may), then the group; caller holds s.mu.
func (s *Server) lookupGroup(r *wire.GroupRef, may func(sid, tid uint32) bool) (*topic, *group, *wire.Error) {
	t, werr := s.topicFor(r.Stream, r.Topic, may)
	if werr != nil {
		return nil, nil, werr
	}
	g := t.findGroup(r.Group)
	if g == nil {
		return nil, nil, wire.ErrConsumerGroupIdNotFound
	}
	return t, g, nil
}

func (s *Server) getConsumerGroup(acc *rights, r *wire.GetConsumerGroup, out []byte) ([]byte, *wire.Error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, werr := s.readableTopic(acc, r.Stream, r.Topic)
	if werr != nil || t == nil {
		return out, werr
	}
	g := t.findGroup(r.Group)
	if g == nil {
		return out, nil
	}
	return appendGroupDetails(out, g, len(t.partitions)), nil
}

func (s *Server) getConsumerGroups(acc *rights, r *wire.GetConsumerGroups, out []byte) ([]byte, *wire.Error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, werr := s.readableTopic(acc, r.Stream, r.Topic)
	if werr != nil || t == nil {
		return out, werr
	}
	for _, id := range sortedKeys(t.groups) {
		gi := groupInfo(t.groups[id], len(t.partitions))
		out = gi.AppendTo(out)
	}
	return out, nil
}

func (s *Server) createConsumerGroup(acc *rights, r *wire.CreateConsumerGroup, out []byte) ([]byte, *wire.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, werr := s.topicFor(r.Stream, r.Topic, acc.canReadTopic)
	if werr != nil {
		return out, werr
	}
	if _, ok := t.groupNames[r.Name]; ok {
		return out, wire.ErrConsumerGroupNameAlreadyExists
	}
	g := &group{id: lowestFreeID(t.groups), name: r.Name, members: map[uint32]*member{}}
	// A new group starts without offsets: drop any a deleted group with
	// this id left behind (a crash or failure between deleting it from the
	// metadata and deleting its offsets).
	for _, p := range t.partitions {
		if _, ok := p.log.Offset(wire.ConsumerGroup, g.id); ok {
			if err := p.log.DeleteOffset(wire.ConsumerGroup, g.id); err != nil {
				return out, s.storageError("clearing a deleted group's offset", err)
			}
		}
	}
	t.groups[g.id] = g
	t.groupNames[g.name] = g.id
	if err := s.saveMetadataLocked(); err != nil {
		delete(t.groups, g.id)
		delete(t.groupNames, g.name)
		return out, s.failed("saving metadata after creating a consumer group", err)
	}
	return appendGroupDetails(out, g, len(t.partitions)), nil
}

func (s *Server) deleteConsumerGroup(acc *rights, r *wire.DeleteConsumerGroup) *wire.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, g, werr := s.lookupGroup(&r.GroupRef, acc.canReadTopic)
	if werr != nil {
		return werr
	}
	delete(t.groups, g.id)
	delete(t.groupNames, g.name)
	if err := s.saveMetadataLocked(); err != nil {
		t.groups[g.id] = g
		t.groupNames[g.name] = g.id
		return s.failed("saving metadata after deleting a consumer group", err)
	}
	s.dropGroupMembersLocked(t.streamID, t.id, g)
	// The group's stored offsets go with it.
	for _, p := range t.partitions {
		if _, ok := p.log.Offset(wire.ConsumerGroup, g.id); ok {
			if err := p.log.DeleteOffset(wire.ConsumerGroup, g.id); err != nil {
				s.log.Error("deleting a deleted group's offset", "stream", t.streamID, "topic", t.id, "partition", p.id, "err", err)
			}
		}
	}
	return nil
}

// dropGroupMembersLocked forgets a deleted group in its members' sessions.
func (s *Server) dropGroupMembersLocked(streamID, topicID uint32, g *group) {
	if len(g.members) == 0 {
		return
	}
	k := groupKey{streamID, topicID, g.id}
	s.sessMu.Lock()
	for id := range g.members {
		if sess := s.sessions[id]; sess != nil {
			delete(sess.groups, k)
		}
	}
	s.sessMu.Unlock()
	clear(g.members)
}

func (s *Server) joinConsumerGroup(c *session, acc *rights, r *wire.JoinConsumerGroup) *wire.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, g, werr := s.lookupGroup(&r.GroupRef, acc.canJoinGroup)
	if werr != nil {
		return werr
	}
	if _, ok := g.members[c.id]; ok {
		return nil
	}
	g.members[c.id] = &member{clientID: c.id}
	g.rebalance(len(t.partitions))
	c.groups[groupKey{t.streamID, t.id, g.id}] = struct{}{}
	return nil
}

func (s *Server) leaveConsumerGroup(c *session, acc *rights, r *wire.LeaveConsumerGroup) *wire.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, g, werr := s.lookupGroup(&r.GroupRef, acc.canJoinGroup)
	if werr != nil {
		return werr
	}
	if _, ok := g.members[c.id]; !ok {
		return wire.ErrConsumerGroupMemberNotFound
	}
	s.leaveGroupLocked(c, groupKey{t.streamID, t.id, g.id})
	return nil
}

// leaveGroupLocked removes c from a group (if both still exist) and
// rebalances the rest.
func (s *Server) leaveGroupLocked(c *session, k groupKey) {
	delete(c.groups, k)
	st := s.streams[k.stream]
	if st == nil {
		return
	}
	t := st.topics[k.topic]
	if t == nil {
		return
	}
	g := t.groups[k.group]
	if g == nil {
		return
	}
	if _, ok := g.members[c.id]; !ok {
		return
	}
	delete(g.members, c.id)
	g.rebalance(len(t.partitions))
}

// clientGroups lists the groups a client joined, sorted; caller holds s.mu.
func clientGroups(c *session) []wire.ClientGroup {
	ks := slices.SortedFunc(maps.Keys(c.groups), func(a, b groupKey) int {
		return cmp.Or(cmp.Compare(a.stream, b.stream), cmp.Compare(a.topic, b.topic), cmp.Compare(a.group, b.group))
	})
	out := make([]wire.ClientGroup, len(ks))
	for i, k := range ks {
		out[i] = wire.ClientGroup{StreamID: k.stream, TopicID: k.topic, GroupID: k.group}
	}
	return out
}
