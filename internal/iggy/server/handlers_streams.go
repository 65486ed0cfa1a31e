package server

import (
	"fmt"
	"math"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// Lookups; callers hold s.mu.

// find resolves an identifier among one parent's entities: a numeric id
// directly, a name through byName. Nil when there is none.
func find[T any](id wire.Identifier, byID map[uint32]*T, byName map[string]uint32) *T {
	if id.Kind == wire.IDString {
		n, ok := byName[id.Str]
		if !ok {
			return nil
		}
		return byID[n]
	}
	return byID[id.Num]
}

func (s *Server) findStream(id wire.Identifier) *stream { return find(id, s.streams, s.streamNames) }
func (st *stream) findTopic(id wire.Identifier) *topic  { return find(id, st.topics, st.topicNames) }
func (t *topic) findGroup(id wire.Identifier) *group    { return find(id, t.groups, t.groupNames) }

// topicFor resolves the topic a command acts on and checks that the caller
// may (may gets the stream and topic ids): a missing stream or topic is
// StreamIdNotFound or TopicIdNotFound (Iggy 0.8 answers those for names
// too), a refusal Unauthorized.
func (s *Server) topicFor(sid, tid wire.Identifier, may func(sid, tid uint32) bool) (*topic, *wire.Error) {
	st := s.findStream(sid)
	if st == nil {
		return nil, wire.ErrStreamIdNotFound
	}
	t := st.findTopic(tid)
	if t == nil {
		return nil, wire.ErrTopicIdNotFound
	}
	if !may(t.streamID, t.id) {
		return nil, wire.ErrUnauthorized
	}
	return t, nil
}

// readableTopic resolves the topic of a GET, which answers a missing one
// with an empty OK: nil without an error then.
func (s *Server) readableTopic(acc *rights, sid, tid wire.Identifier) (*topic, *wire.Error) {
	t, werr := s.topicFor(sid, tid, acc.canReadTopic)
	if werr == wire.ErrStreamIdNotFound || werr == wire.ErrTopicIdNotFound {
		return nil, nil
	}
	return t, werr
}

// partitionOf returns the partition of t with the given id, or
// PartitionNotFound.
func partitionOf(t *topic, id uint32) (*partition, *wire.Error) {
	if int64(id) >= int64(len(t.partitions)) {
		return nil, wire.ErrPartitionNotFound
	}
	return t.partitions[id], nil
}

// Response values (§4).

func streamInfo(st *stream) wire.Stream {
	size, count := st.stats()
	return wire.Stream{ID: st.id, CreatedAt: st.createdAt, TopicsCount: uint32(len(st.topics)),
		SizeBytes: size, MessagesCount: count, Name: st.name}
}

func topicInfo(t *topic) wire.Topic {
	size, count := t.stats()
	return wire.Topic{ID: t.id, CreatedAt: t.createdAt, PartitionsCount: uint32(len(t.partitions)),
		MessageExpiry: t.messageExpiry, CompressionAlgorithm: t.compression, MaxTopicSize: t.maxTopicSize,
		ReplicationFactor: t.replicationFactor, SizeBytes: size, MessagesCount: count, Name: t.name}
}

// partitionInfo reports a partition. SegmentsCount counts the segments that
// hold messages, so a partition that never received one reports 0, as the
// golden CreateTopic response of docs/iggy-protocol.md §10 does.
func partitionInfo(p *partition) wire.Partition {
	l := p.log
	return wire.Partition{ID: p.id, CreatedAt: p.createdAt, SegmentsCount: l.Segments(),
		CurrentOffset: lastOffset(l), SizeBytes: l.SizeBytes(), MessagesCount: messagesIn(l)}
}

// appendTopicDetails appends a TopicDetails: the topic, then its partitions.
func appendTopicDetails(out []byte, t *topic) []byte {
	ti := topicInfo(t)
	out = ti.AppendTo(out)
	for _, p := range t.partitions {
		pi := partitionInfo(p)
		out = pi.AppendTo(out)
	}
	return out
}

func sortedTopics(st *stream) []*topic {
	ts := make([]*topic, 0, len(st.topics))
	for _, id := range sortedKeys(st.topics) {
		ts = append(ts, st.topics[id])
	}
	return ts
}

// failed logs an internal error and answers with the generic Error status.
func (s *Server) failed(what string, err error) *wire.Error {
	s.log.Error(what, "err", err)
	return wire.ErrError
}

func (s *Server) getStream(acc *rights, r *wire.GetStream, out []byte) ([]byte, *wire.Error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.findStream(r.Stream)
	if st == nil {
		return out, nil
	}
	if !acc.canReadStream(st.id) {
		return out, wire.ErrUnauthorized
	}
	si := streamInfo(st)
	out = si.AppendTo(out)
	for _, t := range sortedTopics(st) {
		ti := topicInfo(t)
		out = ti.AppendTo(out)
	}
	return out, nil
}

func (s *Server) getStreams(acc *rights, out []byte) []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, id := range sortedKeys(s.streams) {
		if acc.canReadStream(id) {
			si := streamInfo(s.streams[id])
			out = si.AppendTo(out)
		}
	}
	return out
}

func (s *Server) createStream(acc *rights, r *wire.CreateStream, out []byte) ([]byte, *wire.Error) {
	if !acc.canCreateStream() {
		return out, wire.ErrUnauthorized
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.streamNames[r.Name]; ok {
		return out, wire.ErrStreamNameAlreadyExists
	}
	st := &stream{
		id:         lowestFreeID(s.streams),
		name:       r.Name,
		createdAt:  s.nowMicros(),
		topics:     map[uint32]*topic{},
		topicNames: map[string]uint32{},
	}
	s.streams[st.id] = st
	s.streamNames[st.name] = st.id
	if err := s.saveMetadataLocked(); err != nil {
		delete(s.streams, st.id)
		delete(s.streamNames, st.name)
		return out, s.failed("saving metadata after creating a stream", err)
	}
	si := streamInfo(st)
	return si.AppendTo(out), nil
}

func (s *Server) updateStream(acc *rights, r *wire.UpdateStream) *wire.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.findStream(r.Stream)
	if st == nil {
		return wire.ErrStreamIdNotFound
	}
	if !acc.canManageStream(st.id) {
		return wire.ErrUnauthorized
	}
	if st.name == r.Name {
		return nil
	}
	if _, ok := s.streamNames[r.Name]; ok {
		return wire.ErrStreamNameAlreadyExists
	}
	old := st.name
	delete(s.streamNames, old)
	st.name = r.Name
	s.streamNames[st.name] = st.id
	if err := s.saveMetadataLocked(); err != nil {
		delete(s.streamNames, st.name)
		st.name = old
		s.streamNames[old] = st.id
		return s.failed("saving metadata after renaming a stream", err)
	}
	return nil
}

func (s *Server) deleteStream(acc *rights, r *wire.DeleteStream) *wire.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.findStream(r.Stream)
	if st == nil {
		return wire.ErrStreamIdNotFound
	}
	if !acc.canManageStream(st.id) {
		return wire.ErrUnauthorized
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
	return nil
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

func (s *Server) purgeStream(acc *rights, r *wire.PurgeStream) *wire.Error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.findStream(r.Stream)
	if st == nil {
		return wire.ErrStreamIdNotFound
	}
	if !acc.canManageStream(st.id) {
		return wire.ErrUnauthorized
	}
	for _, t := range st.topics {
		if err := s.purgeTopicLocked(t); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) purgeTopicLocked(t *topic) *wire.Error {
	for _, p := range t.partitions {
		if err := p.log.Purge(); err != nil {
			return s.storageError(fmt.Sprintf("purging partition %d/%d/%d", t.streamID, t.id, p.id), err)
		}
	}
	return nil
}

func (s *Server) getTopic(acc *rights, r *wire.GetTopic, out []byte) ([]byte, *wire.Error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, werr := s.readableTopic(acc, r.Stream, r.Topic)
	if werr != nil || t == nil {
		return out, werr
	}
	return appendTopicDetails(out, t), nil
}

func (s *Server) getTopics(acc *rights, r *wire.GetTopics, out []byte) ([]byte, *wire.Error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.findStream(r.Stream)
	if st == nil {
		return out, nil
	}
	all := acc.canReadTopics(st.id)
	if !all && !acc.canSeeStream(st.id) {
		return out, wire.ErrUnauthorized
	}
	for _, t := range sortedTopics(st) {
		if all || acc.canReadTopic(st.id, t.id) {
			ti := topicInfo(t)
			out = ti.AppendTo(out)
		}
	}
	return out, nil
}

// topicSettings are a topic's settings with the server defaults resolved.
type topicSettings struct {
	compression uint8
	expiry      uint64
	maxSize     uint64
	rf          uint8
}

// resolveTopicSettings applies the server's defaults to the settings of a
// CreateTopic or UpdateTopic (whose decoder checked compression).
func (s *Server) resolveTopicSettings(compression uint8, expiry, maxSize uint64, rf uint8) (topicSettings, *wire.Error) {
	size, err := s.resolveMaxSize(maxSize)
	if err != nil {
		return topicSettings{}, err
	}
	if rf == 0 {
		rf = 1
	}
	return topicSettings{compression: compression, expiry: s.resolveExpiry(expiry), maxSize: size, rf: rf}, nil
}

func (t *topic) settings() topicSettings {
	return topicSettings{compression: t.compression, expiry: t.messageExpiry, maxSize: t.maxTopicSize, rf: t.replicationFactor}
}

func (t *topic) apply(ts topicSettings) {
	t.compression, t.messageExpiry, t.maxTopicSize, t.replicationFactor = ts.compression, ts.expiry, ts.maxSize, ts.rf
}

func (s *Server) createTopic(acc *rights, r *wire.CreateTopic, out []byte) ([]byte, *wire.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.findStream(r.Stream)
	if st == nil {
		return out, wire.ErrStreamIdNotFound
	}
	if !acc.canCreateTopic(st.id) {
		return out, wire.ErrUnauthorized
	}
	ts, werr := s.resolveTopicSettings(r.CompressionAlgorithm, r.MessageExpiry, r.MaxTopicSize, r.ReplicationFactor)
	if werr != nil {
		return out, werr
	}
	if _, ok := st.topicNames[r.Name]; ok {
		return out, wire.ErrTopicNameAlreadyExists
	}
	now := s.nowMicros()
	t := &topic{
		id:         lowestFreeID(st.topics),
		streamID:   st.id,
		name:       r.Name,
		createdAt:  now,
		groups:     map[uint32]*group{},
		groupNames: map[string]uint32{},
	}
	t.apply(ts)
	if err := s.addPartitions(t, r.PartitionsCount, now); err != nil {
		for _, p := range t.partitions {
			s.dropPartition(t, p)
		}
		return out, s.failed("creating partitions", err)
	}
	st.topics[t.id] = t
	st.topicNames[t.name] = t.id
	if err := s.saveMetadataLocked(); err != nil {
		delete(st.topics, t.id)
		delete(st.topicNames, t.name)
		for _, p := range t.partitions {
			s.dropPartition(t, p)
		}
		return out, s.failed("saving metadata after creating a topic", err)
	}
	return appendTopicDetails(out, t), nil
}

// addPartitions opens n new partitions after the existing ones.
func (s *Server) addPartitions(t *topic, n uint32, now uint64) error {
	for i := uint32(0); i < n; i++ {
		id := uint32(len(t.partitions))
		// A new partition starts empty: clear what a deleted one with the
		// same ids may have left behind (a removal that failed).
		if err := s.storage.RemovePartition(t.streamID, t.id, id); err != nil {
			return fmt.Errorf("clearing leftover data of partition %d/%d/%d: %w", t.streamID, t.id, id, err)
		}
		l, err := s.storage.OpenPartition(t.streamID, t.id, id)
		if err != nil {
			return fmt.Errorf("opening partition %d/%d/%d: %w", t.streamID, t.id, id, err)
		}
		t.partitions = append(t.partitions, &partition{id: id, createdAt: now, log: l})
	}
	return nil
}

func (s *Server) updateTopic(acc *rights, r *wire.UpdateTopic) *wire.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, werr := s.topicFor(r.Stream, r.Topic, acc.canManageTopic)
	if werr != nil {
		return werr
	}
	st := s.streams[t.streamID]
	ts, werr := s.resolveTopicSettings(r.CompressionAlgorithm, r.MessageExpiry, r.MaxTopicSize, r.ReplicationFactor)
	if werr != nil {
		return werr
	}
	if other, ok := st.topicNames[r.Name]; ok && other != t.id {
		return wire.ErrTopicNameAlreadyExists
	}
	oldName, old := t.name, t.settings()
	delete(st.topicNames, t.name)
	t.name = r.Name
	t.apply(ts)
	st.topicNames[t.name] = t.id
	if err := s.saveMetadataLocked(); err != nil {
		delete(st.topicNames, t.name)
		t.name = oldName
		t.apply(old)
		st.topicNames[t.name] = t.id
		return s.failed("saving metadata after updating a topic", err)
	}
	return nil
}

func (s *Server) deleteTopic(acc *rights, r *wire.DeleteTopic) *wire.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, werr := s.topicFor(r.Stream, r.Topic, acc.canManageTopic)
	if werr != nil {
		return werr
	}
	st := s.streams[t.streamID]
	delete(st.topics, t.id)
	delete(st.topicNames, t.name)
	if err := s.saveMetadataLocked(); err != nil {
		st.topics[t.id] = t
		st.topicNames[t.name] = t.id
		return s.failed("saving metadata after deleting a topic", err)
	}
	s.dropTopicLocked(st, t)
	return nil
}

func (s *Server) purgeTopic(acc *rights, r *wire.PurgeTopic) *wire.Error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, werr := s.topicFor(r.Stream, r.Topic, acc.canManageTopic)
	if werr != nil {
		return werr
	}
	return s.purgeTopicLocked(t)
}

func (s *Server) createPartitions(acc *rights, r *wire.CreatePartitions) *wire.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, werr := s.topicFor(r.Stream, r.Topic, acc.canManageTopic)
	if werr != nil {
		return werr
	}
	if uint64(len(t.partitions))+uint64(r.PartitionsCount) > math.MaxUint32 {
		return wire.ErrTooManyPartitions
	}
	before := len(t.partitions)
	undo := func() {
		for _, p := range t.partitions[before:] {
			s.dropPartition(t, p)
		}
		t.partitions = t.partitions[:before]
	}
	if err := s.addPartitions(t, r.PartitionsCount, s.nowMicros()); err != nil {
		undo()
		return s.failed("creating partitions", err)
	}
	if err := s.saveMetadataLocked(); err != nil {
		undo()
		return s.failed("saving metadata after creating partitions", err)
	}
	s.rebalanceTopicLocked(t)
	return nil
}

func (s *Server) deletePartitions(acc *rights, r *wire.DeletePartitions) *wire.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, werr := s.topicFor(r.Stream, r.Topic, acc.canManageTopic)
	if werr != nil {
		return werr
	}
	if int(r.PartitionsCount) > len(t.partitions) {
		return wire.ErrInvalidPartitionsCount
	}
	keep := len(t.partitions) - int(r.PartitionsCount)
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
	return nil
}

func (s *Server) deleteSegments(acc *rights, r *wire.DeleteSegments) *wire.Error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, werr := s.topicFor(r.Stream, r.Topic, acc.canManageTopic)
	if werr != nil {
		return werr
	}
	p, werr := partitionOf(t, r.PartitionID)
	if werr != nil {
		return werr
	}
	if err := p.log.DeleteSegments(r.SegmentsCount); err != nil {
		return s.storageError("deleting segments", err)
	}
	return nil
}
