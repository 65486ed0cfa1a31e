package server

import (
	"fmt"
	"math"
	"sort"
)

// Lookups; callers hold s.mu.

func (s *Server) findStream(id ident) *stream {
	if id.isS {
		sid, ok := s.streamNames[id.str]
		if !ok {
			return nil
		}
		return s.streams[sid]
	}
	return s.streams[id.num]
}

func (st *stream) findTopic(id ident) *topic {
	if id.isS {
		tid, ok := st.topicNames[id.str]
		if !ok {
			return nil
		}
		return st.topics[tid]
	}
	return st.topics[id.num]
}

func (t *topic) findGroup(id ident) *group {
	if id.isS {
		gid, ok := t.groupNames[id.str]
		if !ok {
			return nil
		}
		return t.groups[gid]
	}
	return t.groups[id.num]
}

// lookupTopic resolves stream and topic identifiers with the matching
// not-found statuses.
func (s *Server) lookupTopic(sid, tid ident) (*stream, *topic, Status) {
	st := s.findStream(sid)
	if st == nil {
		return nil, nil, StatusStreamIDNotFound
	}
	t := st.findTopic(tid)
	if t == nil {
		return st, nil, StatusTopicIDNotFound
	}
	return st, t, StatusOK
}

// Encoders of §4.

func lastOffset(l PartitionLog) uint64 {
	if n := l.NextOffset(); n > 0 {
		return n - 1
	}
	return 0
}

func appendStream(w *writer, st *stream) {
	size, count := st.stats()
	w.u32(st.id)
	w.u64(st.createdAt)
	w.u32(uint32(len(st.topics)))
	w.u64(size)
	w.u64(count)
	w.name8(st.name)
}

func appendTopicHeader(w *writer, t *topic) {
	size, count := t.stats()
	w.u32(t.id)
	w.u64(t.createdAt)
	w.u32(uint32(len(t.partitions)))
	w.u64(t.messageExpiry)
	w.u8(t.compression)
	w.u64(t.maxTopicSize)
	w.u8(t.replicationFactor)
	w.u64(size)
	w.u64(count)
	w.name8(t.name)
}

func appendTopicDetails(w *writer, t *topic) {
	appendTopicHeader(w, t)
	for _, p := range t.partitions {
		w.u32(p.id)
		w.u64(p.createdAt)
		w.u32(p.log.Segments())
		w.u64(lastOffset(p.log))
		w.u64(p.log.SizeBytes())
		w.u64(p.log.NextOffset() - p.log.FirstOffset())
	}
}

func sortedTopics(st *stream) []*topic {
	ts := make([]*topic, 0, len(st.topics))
	for _, t := range st.topics {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].id < ts[j].id })
	return ts
}

// failed logs an internal error and turns it into the generic Error status.
func (s *Server) failed(what string, err error) Status {
	s.log.Error(what, "err", err)
	return StatusError
}

func (s *Server) getStream(perms *Permissions, r *reader, w *writer) Status {
	id := r.ident()
	if r.err != 0 {
		return r.err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.findStream(id)
	if st == nil {
		return StatusOK
	}
	if !perms.canReadStream(st.id) {
		return StatusUnauthorized
	}
	appendStream(w, st)
	for _, t := range sortedTopics(st) {
		appendTopicHeader(w, t)
	}
	return StatusOK
}

func (s *Server) getStreams(perms *Permissions, w *writer) Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := sortedKeys(s.streams)
	for _, id := range ids {
		if perms.canReadStream(id) {
			appendStream(w, s.streams[id])
		}
	}
	return StatusOK
}

func (s *Server) createStream(perms *Permissions, r *reader, w *writer) Status {
	name := r.name(StatusInvalidStreamName)
	if r.err != 0 {
		return r.err
	}
	if !perms.canCreateStream() {
		return StatusUnauthorized
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.streamNames[name]; ok {
		return StatusStreamNameAlreadyExists
	}
	st := &stream{
		id:         lowestFreeID(s.streams),
		name:       name,
		createdAt:  s.nowMicros(),
		topics:     map[uint32]*topic{},
		topicNames: map[string]uint32{},
	}
	s.streams[st.id] = st
	s.streamNames[name] = st.id
	if err := s.saveMetadataLocked(); err != nil {
		delete(s.streams, st.id)
		delete(s.streamNames, name)
		return s.failed("saving metadata after creating a stream", err)
	}
	appendStream(w, st)
	return StatusOK
}

func (s *Server) updateStream(perms *Permissions, r *reader) Status {
	id := r.ident()
	name := r.name(StatusInvalidStreamName)
	if r.err != 0 {
		return r.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.findStream(id)
	if st == nil {
		return StatusStreamIDNotFound
	}
	if !perms.canManageStream(st.id) {
		return StatusUnauthorized
	}
	if st.name == name {
		return StatusOK
	}
	if _, ok := s.streamNames[name]; ok {
		return StatusStreamNameAlreadyExists
	}
	old := st.name
	delete(s.streamNames, old)
	st.name = name
	s.streamNames[name] = st.id
	if err := s.saveMetadataLocked(); err != nil {
		delete(s.streamNames, name)
		st.name = old
		s.streamNames[old] = st.id
		return s.failed("saving metadata after renaming a stream", err)
	}
	return StatusOK
}

func (s *Server) deleteStream(perms *Permissions, r *reader) Status {
	id := r.ident()
	if r.err != 0 {
		return r.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.findStream(id)
	if st == nil {
		return StatusStreamIDNotFound
	}
	if !perms.canManageStream(st.id) {
		return StatusUnauthorized
	}
	delete(s.streams, st.id)
	delete(s.streamNames, st.name)
	if err := s.saveMetadataLocked(); err != nil {
		s.streams[st.id] = st
		s.streamNames[st.name] = st.id
		return s.failed("saving metadata after deleting a stream", err)
	}
	for _, t := range st.topics {
		s.dropTopicLocked(st, t)
	}
	if err := s.storage.RemoveStream(st.id); err != nil {
		s.log.Error("removing stream data", "stream", st.id, "err", err)
	}
	return StatusOK
}

// dropTopicLocked releases a deleted topic: members leave its groups and its
// partitions' data is removed.
func (s *Server) dropTopicLocked(st *stream, t *topic) {
	for _, g := range t.groups {
		s.dropGroupMembersLocked(st.id, t.id, g)
	}
	for _, p := range t.partitions {
		s.dropPartition(t, p)
	}
	if err := s.storage.RemoveTopic(st.id, t.id); err != nil {
		s.log.Error("removing topic data", "stream", st.id, "topic", t.id, "err", err)
	}
}

func (s *Server) dropPartition(t *topic, p *partition) {
	if err := p.log.Close(); err != nil {
		s.log.Error("closing partition", "stream", t.streamID, "topic", t.id, "partition", p.id, "err", err)
	}
	if err := s.storage.RemovePartition(t.streamID, t.id, p.id); err != nil {
		s.log.Error("removing partition data", "stream", t.streamID, "topic", t.id, "partition", p.id, "err", err)
	}
}

func (s *Server) purgeStream(perms *Permissions, r *reader) Status {
	id := r.ident()
	if r.err != 0 {
		return r.err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.findStream(id)
	if st == nil {
		return StatusStreamIDNotFound
	}
	if !perms.canManageStream(st.id) {
		return StatusUnauthorized
	}
	for _, t := range st.topics {
		if status := s.purgeTopicLocked(t); status != StatusOK {
			return status
		}
	}
	return StatusOK
}

func (s *Server) purgeTopicLocked(t *topic) Status {
	for _, p := range t.partitions {
		if err := p.log.Purge(); err != nil {
			return s.storageStatus(fmt.Sprintf("purging partition %d/%d/%d", t.streamID, t.id, p.id), err)
		}
	}
	return StatusOK
}

func (s *Server) getTopic(perms *Permissions, r *reader, w *writer) Status {
	sid, tid := r.ident(), r.ident()
	if r.err != 0 {
		return r.err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, t, st := s.lookupTopic(sid, tid)
	if st != StatusOK {
		return StatusOK
	}
	if !perms.canReadTopic(t.streamID, t.id) {
		return StatusUnauthorized
	}
	appendTopicDetails(w, t)
	return StatusOK
}

func (s *Server) getTopics(perms *Permissions, r *reader, w *writer) Status {
	sid := r.ident()
	if r.err != 0 {
		return r.err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.findStream(sid)
	if st == nil {
		return StatusOK
	}
	all := perms.canReadTopics(st.id)
	if !all && !perms.canSeeStream(st.id) {
		return StatusUnauthorized
	}
	for _, t := range sortedTopics(st) {
		if all || perms.canReadTopic(st.id, t.id) {
			appendTopicHeader(w, t)
		}
	}
	return StatusOK
}

// topicParams are the settings shared by CreateTopic and UpdateTopic.
type topicParams struct {
	compression uint8
	expiry      uint64
	maxSize     uint64
	rf          uint8
	name        string
}

func (s *Server) readTopicParams(r *reader, withPartitions bool) (partitions uint32, tp topicParams, status Status) {
	if withPartitions {
		partitions = r.u32()
	}
	tp.compression = r.u8()
	tp.expiry = r.u64()
	tp.maxSize = r.u64()
	tp.rf = r.u8()
	tp.name = r.name(StatusInvalidTopicName)
	if r.err != 0 {
		return 0, tp, r.err
	}
	if tp.compression != 1 && tp.compression != 2 {
		return 0, tp, StatusInvalidCommand
	}
	if partitions > maxPartitionsCreate {
		return 0, tp, StatusTooManyPartitions
	}
	maxSize, st := s.resolveMaxSize(tp.maxSize)
	if st != StatusOK {
		return 0, tp, st
	}
	tp.maxSize = maxSize
	tp.expiry = s.resolveExpiry(tp.expiry)
	if tp.rf == 0 {
		tp.rf = 1
	}
	return partitions, tp, StatusOK
}

func (s *Server) createTopic(perms *Permissions, r *reader, w *writer) Status {
	sid := r.ident()
	n, tp, status := s.readTopicParams(r, true)
	if r.err != 0 {
		return r.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.findStream(sid)
	if st == nil {
		return StatusStreamIDNotFound
	}
	if !perms.canCreateTopic(st.id) {
		return StatusUnauthorized
	}
	if status != StatusOK {
		return status
	}
	if _, ok := st.topicNames[tp.name]; ok {
		return StatusTopicNameAlreadyExists
	}
	now := s.nowMicros()
	t := &topic{
		id:                lowestFreeID(st.topics),
		streamID:          st.id,
		name:              tp.name,
		createdAt:         now,
		compression:       tp.compression,
		messageExpiry:     tp.expiry,
		maxTopicSize:      tp.maxSize,
		replicationFactor: tp.rf,
		groups:            map[uint32]*group{},
		groupNames:        map[string]uint32{},
	}
	if err := s.addPartitions(t, n, now); err != nil {
		for _, p := range t.partitions {
			s.dropPartition(t, p)
		}
		return s.failed("creating partitions", err)
	}
	st.topics[t.id] = t
	st.topicNames[t.name] = t.id
	if err := s.saveMetadataLocked(); err != nil {
		delete(st.topics, t.id)
		delete(st.topicNames, t.name)
		for _, p := range t.partitions {
			s.dropPartition(t, p)
		}
		return s.failed("saving metadata after creating a topic", err)
	}
	appendTopicDetails(w, t)
	return StatusOK
}

// addPartitions opens n new partitions after the existing ones.
func (s *Server) addPartitions(t *topic, n uint32, now uint64) error {
	for i := uint32(0); i < n; i++ {
		id := uint32(len(t.partitions))
		l, err := s.storage.OpenPartition(t.streamID, t.id, id)
		if err != nil {
			return fmt.Errorf("opening partition %d/%d/%d: %w", t.streamID, t.id, id, err)
		}
		t.partitions = append(t.partitions, &partition{id: id, createdAt: now, log: l})
	}
	return nil
}

func (s *Server) updateTopic(perms *Permissions, r *reader) Status {
	sid, tid := r.ident(), r.ident()
	_, tp, status := s.readTopicParams(r, false)
	if r.err != 0 {
		return r.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return ls
	}
	if !perms.canManageTopic(st.id, t.id) {
		return StatusUnauthorized
	}
	if status != StatusOK {
		return status
	}
	if other, ok := st.topicNames[tp.name]; ok && other != t.id {
		return StatusTopicNameAlreadyExists
	}
	old := topicParams{compression: t.compression, expiry: t.messageExpiry, maxSize: t.maxTopicSize, rf: t.replicationFactor, name: t.name}
	delete(st.topicNames, t.name)
	t.name, t.compression, t.messageExpiry, t.maxTopicSize, t.replicationFactor = tp.name, tp.compression, tp.expiry, tp.maxSize, tp.rf
	st.topicNames[t.name] = t.id
	if err := s.saveMetadataLocked(); err != nil {
		delete(st.topicNames, t.name)
		t.name, t.compression, t.messageExpiry, t.maxTopicSize, t.replicationFactor = old.name, old.compression, old.expiry, old.maxSize, old.rf
		st.topicNames[t.name] = t.id
		return s.failed("saving metadata after updating a topic", err)
	}
	return StatusOK
}

func (s *Server) deleteTopic(perms *Permissions, r *reader) Status {
	sid, tid := r.ident(), r.ident()
	if r.err != 0 {
		return r.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return ls
	}
	if !perms.canManageTopic(st.id, t.id) {
		return StatusUnauthorized
	}
	delete(st.topics, t.id)
	delete(st.topicNames, t.name)
	if err := s.saveMetadataLocked(); err != nil {
		st.topics[t.id] = t
		st.topicNames[t.name] = t.id
		return s.failed("saving metadata after deleting a topic", err)
	}
	s.dropTopicLocked(st, t)
	return StatusOK
}

func (s *Server) purgeTopic(perms *Permissions, r *reader) Status {
	sid, tid := r.ident(), r.ident()
	if r.err != 0 {
		return r.err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return ls
	}
	if !perms.canManageTopic(st.id, t.id) {
		return StatusUnauthorized
	}
	return s.purgeTopicLocked(t)
}

func (s *Server) createPartitions(perms *Permissions, r *reader) Status {
	sid, tid := r.ident(), r.ident()
	n := r.u32()
	if r.err != 0 {
		return r.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return ls
	}
	if !perms.canManageTopic(st.id, t.id) {
		return StatusUnauthorized
	}
	if n == 0 {
		return StatusInvalidPartitionsCount
	}
	if n > maxPartitionsCreate || uint64(len(t.partitions))+uint64(n) > math.MaxUint32 {
		return StatusTooManyPartitions
	}
	before := len(t.partitions)
	if err := s.addPartitions(t, n, s.nowMicros()); err != nil {
		for _, p := range t.partitions[before:] {
			s.dropPartition(t, p)
		}
		t.partitions = t.partitions[:before]
		return s.failed("creating partitions", err)
	}
	if err := s.saveMetadataLocked(); err != nil {
		for _, p := range t.partitions[before:] {
			s.dropPartition(t, p)
		}
		t.partitions = t.partitions[:before]
		return s.failed("saving metadata after creating partitions", err)
	}
	s.rebalanceTopicLocked(t)
	return StatusOK
}

func (s *Server) deletePartitions(perms *Permissions, r *reader) Status {
	sid, tid := r.ident(), r.ident()
	n := r.u32()
	if r.err != 0 {
		return r.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return ls
	}
	if !perms.canManageTopic(st.id, t.id) {
		return StatusUnauthorized
	}
	if n == 0 || int(n) > len(t.partitions) {
		return StatusInvalidPartitionsCount
	}
	keep := len(t.partitions) - int(n)
	removed := append([]*partition(nil), t.partitions[keep:]...)
	t.partitions = t.partitions[:keep]
	if err := s.saveMetadataLocked(); err != nil {
		t.partitions = append(t.partitions, removed...)
		return s.failed("saving metadata after deleting partitions", err)
	}
	for _, p := range removed {
		s.dropPartition(t, p)
	}
	s.rebalanceTopicLocked(t)
	return StatusOK
}

func (s *Server) deleteSegments(perms *Permissions, r *reader) Status {
	sid, tid := r.ident(), r.ident()
	pid := r.u32()
	n := r.u32()
	if r.err != 0 {
		return r.err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return ls
	}
	if !perms.canManageTopic(st.id, t.id) {
		return StatusUnauthorized
	}
	if int(pid) >= len(t.partitions) {
		return StatusPartitionNotFound
	}
	if err := t.partitions[pid].log.DeleteSegments(n); err != nil {
		return s.storageStatus("deleting segments", err)
	}
	return StatusOK
}
