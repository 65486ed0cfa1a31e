package server

import (
	"github.com/OneOfOne/xxhash"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// consumerID maps a consumer identifier to the number offsets are stored
// under: numeric ids as they are, names hashed with XXH32 as Iggy does.
func consumerID(id wire.Identifier) uint32 {
	if id.Kind == wire.IDString {
		return xxhash.ChecksumString32(id.Str)
	}
	return id.Num
}

// sendMessages appends a batch that wire.SendMessages.Decode has validated
// (§5.2); its frames are stamped in place in the request buffer.
func (s *Server) sendMessages(acc *rights, r *wire.SendMessages) *wire.Error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, werr := s.topicFor(r.Stream, r.Topic, acc.canSend)
	if werr != nil {
		return werr
	}
	n := uint32(len(t.partitions))
	if n == 0 {
		return wire.ErrNoPartitions
	}
	var pid uint32
	switch r.Partitioning.Kind {
	case wire.PartitionBalanced:
		pid = (t.balanced.Add(1) - 1) % n
	case wire.PartitionByID:
		pid = r.Partitioning.PartitionID
		if pid >= n {
			return wire.ErrPartitionNotFound
		}
	case wire.PartitionByMessageKey:
		pid = xxhash.Checksum32(r.Partitioning.Key) % n
	default:
		return wire.ErrInvalidCommand
	}
	if err := t.partitions[pid].log.Append(r.Messages, r.Count); err != nil {
		return s.storageError("appending messages", err)
	}
	if t.maxTopicSize != wire.Unlimited || t.messageExpiry != wire.Unlimited {
		s.retainTopic(t)
	}
	return nil
}

// resolveConsumer finds the partition a consumer works on and the key its
// offset is stored under. For a group member without an explicit partition
// it takes the member's assigned partitions in turn when advance is set.
// A nil partition without an error means "nothing to read" (a member with
// no partitions, or an explicit partition the member does not own).
func (s *Server) resolveConsumer(c *session, t *topic, cons wire.Consumer, p wire.OptionalPartition, advance, mustOwn bool) (*partition, offsetKey, *wire.Error) {
	if cons.Kind == wire.ConsumerSingle {
		pid := uint32(0)
		if p.Valid {
			pid = p.ID
		}
		if int(pid) >= len(t.partitions) {
			return nil, offsetKey{}, wire.ErrPartitionNotFound
		}
		return t.partitions[pid], offsetKey{kind: wire.ConsumerSingle, id: consumerID(cons.ID)}, nil
	}
	g := t.findGroup(cons.ID)
	if g == nil {
		return nil, offsetKey{}, wire.ErrConsumerGroupIdNotFound
	}
	key := offsetKey{kind: wire.ConsumerGroup, id: g.id}
	// Only members act for a group, whatever the command and whether or
	// not a partition is named (Iggy 0.8's resolve_consumer_with_partition_id
	// checks membership first).
	m := g.members[c.id]
	if m == nil {
		return nil, key, wire.ErrConsumerGroupMemberNotFound
	}
	if p.Valid {
		if int(p.ID) >= len(t.partitions) {
			return nil, key, wire.ErrPartitionNotFound
		}
		if !mustOwn {
			return t.partitions[p.ID], key, nil
		}
		for _, q := range m.partitions {
			if q == p.ID {
				return t.partitions[p.ID], key, nil
			}
		}
		return nil, key, nil
	}
	if len(m.partitions) == 0 {
		return nil, key, nil
	}
	q := m.partitions[m.cursor%len(m.partitions)]
	if advance {
		m.cursor = (m.cursor + 1) % len(m.partitions)
	}
	return t.partitions[q], key, nil
}

// pollChunk is how many messages a poll reads at a time.
const pollChunk = 4096

// pollMessages answers a poll by copying stored frames straight into the
// response buffer behind a reserved header, which is filled in last.
func (s *Server) pollMessages(c *session, acc *rights, r *wire.PollMessages, out []byte) ([]byte, *wire.Error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, werr := s.topicFor(r.TopicRef.Stream, r.TopicRef.Topic, acc.canPoll)
	if werr != nil {
		return out, werr
	}
	part, key, werr := s.resolveConsumer(c, t, r.Consumer, r.Partition, true, true)
	if werr != nil {
		return out, werr
	}
	head := len(out)
	out = wire.AppendPollHeader(out, 0, 0, 0)
	if part == nil {
		return out, nil
	}
	l := part.log
	// One look at the end: current must be the newest message of the
	// same snapshot the strategies below read up to.
	next := l.NextOffset()
	current := uint64(0)
	if next > 0 {
		current = next - 1
	}
	wire.PutPollHeader(out[head:], part.id, current, 0)
	if r.Count == 0 || next == 0 {
		return out, nil
	}
	var start uint64
	switch r.Strategy.Kind {
	case wire.PollOffset:
		start = r.Strategy.Value
	case wire.PollTimestamp:
		off, ok, err := l.OffsetAtTimestamp(r.Strategy.Value)
		if err != nil {
			return out, s.storageError("finding the offset for a timestamp", err)
		}
		if !ok {
			return out, nil
		}
		start = off
	case wire.PollFirst:
		start = l.FirstOffset()
	case wire.PollLast:
		start = l.FirstOffset()
		if next-start > uint64(r.Count) {
			start = next - uint64(r.Count)
		}
	case wire.PollNext:
		if off, ok := l.Offset(key.kind, key.id); ok {
			start = off + 1
		} else {
			start = l.FirstOffset()
		}
	}
	if start >= next {
		return out, nil
	}
	// A response holds at most MaxPollBytes of messages (at least one
	// message), so a huge count or huge messages cannot make it, and the
	// memory behind it, unbounded; clients poll again for the rest.
	var n uint32
	var last uint64
	from := start
	for n < r.Count && from < next {
		used := len(out) - head - wire.PollHeaderSize
		if used >= s.cfg.MaxPollBytes {
			break
		}
		before := len(out)
		var got uint32
		var err error
		// Read no further than the end seen above: messages appended since
		// would lie past the reply's current offset.
		want := uint32(min(uint64(r.Count-n), pollChunk, next-from))
		out, got, err = l.Read(out, from, want, s.cfg.MaxPollBytes-used)
		if err != nil {
			return out, s.storageError("reading messages", err)
		}
		if got == 0 {
			break
		}
		if first := wire.Frame(out[before:]).Offset(); first+uint64(got) > next {
			// The read began above from (retention moved the first
			// offset meanwhile) and ran into messages appended since:
			// drop those.
			keep, end := uint32(0), before
			for first+uint64(keep) < next {
				end += wire.Frame(out[end:]).Size()
				keep++
			}
			out, got = out[:end], keep
			if got == 0 {
				break
			}
		}
		// The frames read carry consecutive offsets from the first one's (a
		// read below the first retained offset starts at it, so start+n
		// could repeat frames); continue after the last.
		last = wire.Frame(out[before:]).Offset() + uint64(got) - 1
		from = last + 1
		n += got
	}
	wire.PutPollHeader(out[head:], part.id, current, n)
	if r.AutoCommit && n > 0 {
		if err := l.StoreOffset(key.kind, key.id, last); err != nil {
			return out, s.storageError("committing a consumer offset", err)
		}
	}
	return out, nil
}

func (s *Server) flushUnsavedBuffer(acc *rights, r *wire.FlushUnsavedBuffer) *wire.Error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, werr := s.topicFor(r.Stream, r.Topic, acc.canSend)
	if werr != nil {
		return werr
	}
	p, werr := partitionOf(t, r.PartitionID)
	if werr != nil {
		return werr
	}
	if err := p.log.Flush(r.Fsync); err != nil {
		return s.storageError("flushing a partition", err)
	}
	return nil
}

// offsetTarget resolves the partition and key of a consumer-offset request;
// caller holds s.mu.
func (s *Server) offsetTarget(c *session, acc *rights, r *wire.ConsumerOffsetRef) (*partition, offsetKey, *wire.Error) {
	t, werr := s.topicFor(r.TopicRef.Stream, r.TopicRef.Topic, acc.canPoll)
	if werr != nil {
		return nil, offsetKey{}, werr
	}
	return s.resolveConsumer(c, t, r.Consumer, r.Partition, false, false)
}

func (s *Server) getConsumerOffset(c *session, acc *rights, r *wire.GetConsumerOffset, out []byte) ([]byte, *wire.Error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	// As in Iggy 0.8, an offset that cannot be read (missing stream, topic,
	// partition or group, not a member, no permission) is answered as "no
	// offset".
	p, key, werr := s.offsetTarget(c, acc, &r.ConsumerOffsetRef)
	if werr != nil || p == nil {
		return out, nil
	}
	off, ok := p.log.Offset(key.kind, key.id)
	if !ok {
		return out, nil
	}
	co := wire.ConsumerOffset{PartitionID: p.id, CurrentOffset: lastOffset(p.log), StoredOffset: off}
	return co.AppendTo(out), nil
}

// offsetToChange is offsetTarget for a store or delete, which needs a
// partition: a group member's "nothing to read" is PartitionNotFound.
func (s *Server) offsetToChange(c *session, acc *rights, r *wire.ConsumerOffsetRef) (*partition, offsetKey, *wire.Error) {
	p, key, werr := s.offsetTarget(c, acc, r)
	if werr == nil && p == nil {
		werr = wire.ErrPartitionNotFound
	}
	return p, key, werr
}

func (s *Server) storeConsumerOffset(c *session, acc *rights, r *wire.StoreConsumerOffset) *wire.Error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, key, werr := s.offsetToChange(c, acc, &r.ConsumerOffsetRef)
	if werr != nil {
		return werr
	}
	if err := p.log.StoreOffset(key.kind, key.id, r.Offset); err != nil {
		return s.storageError("storing a consumer offset", err)
	}
	return nil
}

func (s *Server) deleteConsumerOffset(c *session, acc *rights, r *wire.DeleteConsumerOffset) *wire.Error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, key, werr := s.offsetToChange(c, acc, &r.ConsumerOffsetRef)
	if werr != nil {
		return werr
	}
	if err := p.log.DeleteOffset(key.kind, key.id); err != nil {
		return s.storageError("deleting a consumer offset", err)
	}
	return nil
}
