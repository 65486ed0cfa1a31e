package server

import "sort"

func appendGroup(w *writer, g *group, partitions int) {
	w.u32(g.id)
	w.u32(uint32(partitions))
	w.u32(uint32(len(g.members)))
	w.name8(g.name)
}

func appendGroupDetails(w *writer, g *group, partitions int) {
	appendGroup(w, g, partitions)
	ids := sortedKeys(g.members)
	for _, id := range ids {
		m := g.members[id]
		w.u32(m.clientID)
		w.u32(uint32(len(m.partitions)))
		for _, p := range m.partitions {
			w.u32(p)
		}
	}
}

// rebalanceTopicLocked reassigns every group of t after its partitions
// changed.
func (s *Server) rebalanceTopicLocked(t *topic) {
	for _, g := range t.groups {
		g.rebalance(len(t.partitions))
	}
}

func (s *Server) getConsumerGroup(perms *Permissions, r *reader, w *writer) Status {
	sid, tid, gid := r.ident(), r.ident(), r.ident()
	if r.err != 0 {
		return r.err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return StatusOK
	}
	if !perms.canReadTopic(t.streamID, t.id) {
		return StatusUnauthorized
	}
	g := t.findGroup(gid)
	if g == nil {
		return StatusOK
	}
	appendGroupDetails(w, g, len(t.partitions))
	return StatusOK
}

func (s *Server) getConsumerGroups(perms *Permissions, r *reader, w *writer) Status {
	sid, tid := r.ident(), r.ident()
	if r.err != 0 {
		return r.err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return StatusOK
	}
	if !perms.canReadTopic(t.streamID, t.id) {
		return StatusUnauthorized
	}
	for _, id := range sortedKeys(t.groups) {
		appendGroup(w, t.groups[id], len(t.partitions))
	}
	return StatusOK
}

func (s *Server) createConsumerGroup(perms *Permissions, r *reader, w *writer) Status {
	sid, tid := r.ident(), r.ident()
	name := r.name(StatusInvalidConsumerGroupName)
	if r.err != 0 {
		return r.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return ls
	}
	if !perms.canReadTopic(t.streamID, t.id) {
		return StatusUnauthorized
	}
	if _, ok := t.groupNames[name]; ok {
		return StatusConsumerGroupNameExists
	}
	g := &group{id: lowestFreeID(t.groups), name: name, members: map[uint32]*member{}}
	t.groups[g.id] = g
	t.groupNames[name] = g.id
	if err := s.saveMetadataLocked(); err != nil {
		delete(t.groups, g.id)
		delete(t.groupNames, name)
		return s.failed("saving metadata after creating a consumer group", err)
	}
	appendGroup(w, g, len(t.partitions))
	return StatusOK
}

func (s *Server) deleteConsumerGroup(perms *Permissions, r *reader) Status {
	sid, tid, gid := r.ident(), r.ident(), r.ident()
	if r.err != 0 {
		return r.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return ls
	}
	if !perms.canReadTopic(t.streamID, t.id) {
		return StatusUnauthorized
	}
	g := t.findGroup(gid)
	if g == nil {
		return StatusConsumerGroupIDNotFound
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
		if _, ok := p.log.Offset(2, g.id); ok {
			if err := p.log.DeleteOffset(2, g.id); err != nil {
				s.log.Error("deleting a deleted group's offset", "stream", t.streamID, "topic", t.id, "partition", p.id, "err", err)
			}
		}
	}
	return StatusOK
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

func (s *Server) joinConsumerGroup(c *session, perms *Permissions, r *reader) Status {
	sid, tid, gid := r.ident(), r.ident(), r.ident()
	if r.err != 0 {
		return r.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return ls
	}
	if !perms.canReadTopic(t.streamID, t.id) && !perms.canPoll(t.streamID, t.id) {
		return StatusUnauthorized
	}
	g := t.findGroup(gid)
	if g == nil {
		return StatusConsumerGroupIDNotFound
	}
	if _, ok := g.members[c.id]; ok {
		return StatusOK
	}
	g.members[c.id] = &member{clientID: c.id}
	g.rebalance(len(t.partitions))
	c.groups[groupKey{t.streamID, t.id, g.id}] = struct{}{}
	return StatusOK
}

func (s *Server) leaveConsumerGroup(c *session, perms *Permissions, r *reader) Status {
	sid, tid, gid := r.ident(), r.ident(), r.ident()
	if r.err != 0 {
		return r.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return ls
	}
	if !perms.canReadTopic(t.streamID, t.id) && !perms.canPoll(t.streamID, t.id) {
		return StatusUnauthorized
	}
	g := t.findGroup(gid)
	if g == nil {
		return StatusConsumerGroupIDNotFound
	}
	if _, ok := g.members[c.id]; !ok {
		return StatusConsumerGroupMemberMissing
	}
	s.leaveGroupLocked(c, groupKey{t.streamID, t.id, g.id})
	return StatusOK
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
func clientGroups(c *session) []groupKey {
	ks := make([]groupKey, 0, len(c.groups))
	for k := range c.groups {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if a.stream != b.stream {
			return a.stream < b.stream
		}
		if a.topic != b.topic {
			return a.topic < b.topic
		}
		return a.group < b.group
	})
	return ks
}
