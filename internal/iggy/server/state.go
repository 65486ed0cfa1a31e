package server

import (
	"sort"
	"sync/atomic"
)

// stream, topic, partition and group are the server's metadata, guarded by
// Server.mu. A partition's log (messages and consumer offsets) synchronises
// itself, so sends and polls on different partitions never contend.

type stream struct {
	id         uint32
	name       string
	createdAt  uint64
	topics     map[uint32]*topic
	topicNames map[string]uint32
}

type topic struct {
	id                uint32
	streamID          uint32
	name              string
	createdAt         uint64
	compression       uint8
	messageExpiry     uint64 // µs, resolved (math.MaxUint64 = never)
	maxTopicSize      uint64 // bytes, resolved (math.MaxUint64 = unlimited)
	replicationFactor uint8
	partitions        []*partition // index is the partition id
	groups            map[uint32]*group
	groupNames        map[string]uint32
	balanced          atomic.Uint32 // round-robin cursor for Balanced partitioning
}

// offsetKey names a stored consumer offset: kind 1 consumer, 2 group.
type offsetKey struct {
	kind uint8
	id   uint32
}

type partition struct {
	id        uint32
	createdAt uint64
	log       PartitionLog // safe for concurrent use; holds consumer offsets
}

type member struct {
	clientID   uint32
	partitions []uint32
	cursor     int // next index into partitions for group polls
}

type group struct {
	id      uint32
	name    string
	members map[uint32]*member // by client id
}

// rebalance assigns the topic's partitions to the members round-robin by
// ascending client id (as Iggy does): partition p goes to member p % n.
func (g *group) rebalance(partitions int) {
	ids := make([]uint32, 0, len(g.members))
	for id, m := range g.members {
		ids = append(ids, id)
		m.partitions = m.partitions[:0]
		m.cursor = 0
	}
	if len(ids) == 0 {
		return
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for p := 0; p < partitions; p++ {
		m := g.members[ids[p%len(ids)]]
		m.partitions = append(m.partitions, uint32(p))
	}
}

func (t *topic) stats() (size, count uint64) {
	for _, p := range t.partitions {
		size += p.log.SizeBytes()
		count += p.log.NextOffset() - p.log.FirstOffset()
	}
	return size, count
}

func (st *stream) stats() (size, count uint64) {
	for _, t := range st.topics {
		s, c := t.stats()
		size += s
		count += c
	}
	return size, count
}

// lowestFreeID returns the smallest id not in use; ids are 0-based and a
// deleted entity's id is reused, as in Iggy 0.8.
func lowestFreeID[V any](m map[uint32]V) uint32 {
	for id := uint32(0); ; id++ {
		if _, ok := m[id]; !ok {
			return id
		}
	}
}

type user struct {
	id           uint32
	username     string
	passwordHash []byte
	status       uint8 // 1 active, 2 inactive
	createdAt    uint64
	perms        *Permissions
	tokens       map[string]*token // by name
}

type token struct {
	name   string
	hash   [32]byte
	expiry uint64 // absolute µs, 0 = never
}
