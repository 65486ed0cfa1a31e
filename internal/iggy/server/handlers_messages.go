package server

import (
	"encoding/binary"

	"github.com/OneOfOne/xxhash"
)

// consumerID maps a consumer identifier to the number offsets are stored
// under: numeric ids as they are, names hashed with XXH32 as Iggy does.
func consumerID(id ident) uint32 {
	if id.isS {
		return xxhash.Checksum32([]byte(id.str))
	}
	return id.num
}

// validateBatch checks the index and message sections of a SendMessages
// request as Iggy 0.8 does (§5.2).
func validateBatch(count uint32, idx, msgs []byte) Status {
	prev := uint32(0)
	for i := uint32(0); i < count; i++ {
		e := idx[i*indexEntrySize:]
		if binary.LittleEndian.Uint32(e) != 0 {
			return StatusNonZeroOffset
		}
		if binary.LittleEndian.Uint64(e[8:]) != 0 {
			return StatusNonZeroTimestamp
		}
		end := binary.LittleEndian.Uint32(e[4:])
		if end <= prev || uint64(end) > uint64(len(msgs)) {
			return StatusInvalidMessagesSize
		}
		if end-prev < messageHeaderSize {
			return StatusTooSmallMessage
		}
		f := msgs[prev:end]
		pl := binary.LittleEndian.Uint32(f[hdrPayloadLen:])
		hl := binary.LittleEndian.Uint32(f[hdrUserHeadersLen:])
		if uint64(messageHeaderSize)+uint64(pl)+uint64(hl) != uint64(len(f)) {
			return StatusInvalidMessagePayloadLen
		}
		if pl == 0 {
			return StatusEmptyMessagePayload
		}
		if pl > maxMessagePayload {
			return StatusTooBigMessagePayload
		}
		if hl > maxUserHeaders {
			return StatusTooBigUserHeaders
		}
		if binary.LittleEndian.Uint64(f[hdrReserved:]) != 0 {
			return StatusInvalidReservedField
		}
		prev = end
	}
	if uint64(prev) != uint64(len(msgs)) {
		return StatusInvalidMessagesSize
	}
	return StatusOK
}

func (s *Server) sendMessages(c *session, perms *Permissions, p []byte) Status {
	r := reader{b: p}
	metaLen := r.u32()
	sid, tid := r.ident(), r.ident()
	pkind := r.u8()
	pval := r.bytes(int(r.u8()))
	count := r.u32()
	if r.err != 0 {
		return r.err
	}
	if uint64(metaLen) != uint64(r.off-4) {
		return StatusInvalidFormat
	}
	switch {
	case pkind == 1 && len(pval) == 0, pkind == 2 && len(pval) == 4, pkind == 3 && len(pval) > 0:
	default:
		return StatusInvalidFormat
	}
	if count == 0 {
		return StatusInvalidMessagesCount
	}
	if uint64(count)*indexEntrySize > uint64(len(p)-r.off) {
		return StatusInvalidIndexesByteSize
	}
	idx := r.bytes(int(count) * indexEntrySize)
	msgs := r.rest()
	if st := validateBatch(count, idx, msgs); st != StatusOK {
		return st
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	_, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return ls
	}
	if !perms.canSend(t.streamID, t.id) {
		return StatusUnauthorized
	}
	n := uint32(len(t.partitions))
	if n == 0 {
		return StatusNoPartitions
	}
	var pid uint32
	switch pkind {
	case 1:
		pid = (t.balanced.Add(1) - 1) % n
	case 2:
		pid = binary.LittleEndian.Uint32(pval)
		if pid >= n {
			return StatusPartitionNotFound
		}
	case 3:
		pid = xxhash.Checksum32(pval) % n
	}
	part := t.partitions[pid]

	if err := part.log.Append(msgs, count); err != nil {
		return s.storageStatus("appending messages", err)
	}
	if t.maxTopicSize != maxU64 || t.messageExpiry != maxU64 {
		s.retainTopic(t)
	}
	return StatusOK
}

const maxU64 = ^uint64(0)

// resolveConsumer finds the partition a consumer works on and the key its
// offset is stored under. For a group member without an explicit partition
// it takes the member's assigned partitions in turn when advance is set.
// A nil partition with StatusOK means "nothing to read" (a member with no
// partitions, or an explicit partition the member does not own).
func (s *Server) resolveConsumer(c *session, t *topic, cons consumer, pid uint32, hasP, advance, mustOwn bool) (*partition, offsetKey, Status) {
	if cons.kind == 1 {
		if !hasP {
			pid = 0
		}
		if int(pid) >= len(t.partitions) {
			return nil, offsetKey{}, StatusPartitionNotFound
		}
		return t.partitions[pid], offsetKey{kind: 1, id: consumerID(cons.id)}, StatusOK
	}
	g := t.findGroup(cons.id)
	if g == nil {
		return nil, offsetKey{}, StatusConsumerGroupIDNotFound
	}
	key := offsetKey{kind: 2, id: g.id}
	m := g.members[c.id]
	if hasP {
		if int(pid) >= len(t.partitions) {
			return nil, key, StatusPartitionNotFound
		}
		if !mustOwn {
			return t.partitions[pid], key, StatusOK
		}
		if m == nil {
			return nil, key, StatusConsumerGroupMemberMissing
		}
		for _, q := range m.partitions {
			if q == pid {
				return t.partitions[pid], key, StatusOK
			}
		}
		return nil, key, StatusOK
	}
	if m == nil {
		return nil, key, StatusConsumerGroupMemberMissing
	}
	if len(m.partitions) == 0 {
		return nil, key, StatusOK
	}
	q := m.partitions[m.cursor%len(m.partitions)]
	if advance {
		m.cursor = (m.cursor + 1) % len(m.partitions)
	}
	return t.partitions[q], key, StatusOK
}

func (s *Server) pollMessages(c *session, perms *Permissions, r *reader, w *writer) Status {
	cons := r.consumer()
	sid, tid := r.ident(), r.ident()
	pid, hasP := r.optPartition()
	kind := r.u8()
	value := r.u64()
	count := r.u32()
	auto := r.u8()
	if r.err != 0 {
		return r.err
	}
	if kind < 1 || kind > 5 || auto > 1 {
		return StatusInvalidFormat
	}
	return s.poll(c, perms, cons, sid, tid, pid, hasP, kind, value, count, auto == 1, w)
}

func (s *Server) poll(c *session, perms *Permissions, cons consumer, sid, tid ident, pid uint32, hasP bool,
	kind uint8, value uint64, count uint32, auto bool, w *writer) Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return ls
	}
	if !perms.canPoll(t.streamID, t.id) {
		return StatusUnauthorized
	}
	part, key, st := s.resolveConsumer(c, t, cons, pid, hasP, true, true)
	if st != StatusOK {
		return st
	}
	head := len(w.b)
	w.u32(0)
	w.u64(0)
	w.u32(0)
	if part == nil {
		return StatusOK
	}
	l := part.log
	next := l.NextOffset()
	binary.LittleEndian.PutUint32(w.b[head:], part.id)
	binary.LittleEndian.PutUint64(w.b[head+4:], lastOffset(l))
	if count == 0 || next == 0 {
		return StatusOK
	}
	var start uint64
	switch kind {
	case 1:
		start = value
	case 2:
		off, ok, err := l.OffsetAtTimestamp(value)
		if err != nil {
			return s.storageStatus("finding the offset for a timestamp", err)
		}
		if !ok {
			return StatusOK
		}
		start = off
	case 3:
		start = l.FirstOffset()
	case 4:
		start = l.FirstOffset()
		if next-start > uint64(count) {
			start = next - uint64(count)
		}
	case 5:
		off, ok := part.log.Offset(key.kind, key.id)
		if ok {
			start = off + 1
		} else {
			start = l.FirstOffset()
		}
	}
	if start >= next {
		return StatusOK
	}
	// Read in chunks so a huge count cannot make one response (and the
	// memory behind it) unbounded: stop once maxPollBytes are collected.
	var n uint32
	lastAt := -1
	from := start
	for n < count && len(w.b)-head < maxPollBytes {
		before := len(w.b)
		var got uint32
		var err error
		w.b, got, err = l.Read(w.b, from, min(count-n, pollChunk))
		if err != nil {
			w.b = w.b[:head+16]
			return s.storageStatus("reading messages", err)
		}
		if got == 0 {
			break
		}
		lastAt = len(w.b) - lastFrameLen(w.b[before:], got)
		// Continue after the last frame read (a read below the first
		// retained offset starts at it, so start+n could repeat frames).
		from = binary.LittleEndian.Uint64(w.b[lastAt+hdrOffset:]) + 1
		n += got
	}
	binary.LittleEndian.PutUint32(w.b[head+12:], n)
	if auto && n > 0 {
		last := binary.LittleEndian.Uint64(w.b[lastAt+hdrOffset:])
		if err := part.log.StoreOffset(key.kind, key.id, last); err != nil {
			return s.storageStatus("committing a consumer offset", err)
		}
	}
	return StatusOK
}

// Poll reads stop after pollChunk messages at a time once maxPollBytes are
// in the response; clients poll again for the rest.
const (
	pollChunk    = 4096
	maxPollBytes = 64 << 20
)

// lastFrameLen returns the length of the last of n frames in b.
func lastFrameLen(b []byte, n uint32) int {
	off, fl := 0, 0
	for i := uint32(0); i < n; i++ {
		fl = frameLen(b[off:])
		off += fl
	}
	return fl
}

func (s *Server) flushUnsavedBuffer(perms *Permissions, r *reader) Status {
	sid, tid := r.ident(), r.ident()
	pid := r.u32()
	fsync := r.u8()
	if r.err != 0 {
		return r.err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return ls
	}
	if !perms.canSend(t.streamID, t.id) {
		return StatusUnauthorized
	}
	if int(pid) >= len(t.partitions) {
		return StatusPartitionNotFound
	}
	if err := t.partitions[pid].log.Flush(fsync == 1); err != nil {
		return s.storageStatus("flushing a partition", err)
	}
	return StatusOK
}

func (s *Server) offsetTarget(c *session, perms *Permissions, r *reader) (*topic, *partition, offsetKey, Status) {
	cons := r.consumer()
	sid, tid := r.ident(), r.ident()
	pid, hasP := r.optPartition()
	if r.err != 0 {
		return nil, nil, offsetKey{}, r.err
	}
	_, t, ls := s.lookupTopic(sid, tid)
	if ls != StatusOK {
		return nil, nil, offsetKey{}, ls
	}
	if !perms.canPoll(t.streamID, t.id) {
		return nil, nil, offsetKey{}, StatusUnauthorized
	}
	p, key, st := s.resolveConsumer(c, t, cons, pid, hasP, false, false)
	return t, p, key, st
}

func (s *Server) getConsumerOffset(c *session, perms *Permissions, r *reader, w *writer) Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, p, key, st := s.offsetTarget(c, perms, r)
	if st != StatusOK {
		if r.err != 0 {
			return r.err
		}
		// As in Iggy 0.8, an offset that cannot be read (missing stream,
		// topic, partition or group, not a member, no permission) is
		// answered as "no offset".
		return StatusOK
	}
	if p == nil {
		return StatusOK
	}
	off, ok := p.log.Offset(key.kind, key.id)
	if !ok {
		return StatusOK
	}
	w.u32(p.id)
	w.u64(lastOffset(p.log))
	w.u64(off)
	return StatusOK
}

func (s *Server) storeConsumerOffset(c *session, perms *Permissions, r *reader) Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, p, key, st := s.offsetTarget(c, perms, r)
	off := r.u64()
	if r.err != 0 {
		return r.err
	}
	if st != StatusOK {
		return st
	}
	if p == nil {
		return StatusPartitionNotFound
	}
	if err := p.log.StoreOffset(key.kind, key.id, off); err != nil {
		return s.storageStatus("storing a consumer offset", err)
	}
	return StatusOK
}

func (s *Server) deleteConsumerOffset(c *session, perms *Permissions, r *reader) Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, p, key, st := s.offsetTarget(c, perms, r)
	if st != StatusOK {
		return st
	}
	if p == nil {
		return StatusPartitionNotFound
	}
	if err := p.log.DeleteOffset(key.kind, key.id); err != nil {
		return s.storageStatus("deleting a consumer offset", err)
	}
	return StatusOK
}
