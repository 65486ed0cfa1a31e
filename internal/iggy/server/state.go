package server

import (
	"maps"
	"slices"
	"sync/atomic"

	"github.com/ims-dev/ims/internal/iggy/wire"
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

// offsetKey names a stored consumer offset: a consumer's (its id, or the
// XXH32 of its name) or a consumer group's (the group id).
type offsetKey struct {
	kind wire.ConsumerKind
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
	for _, m := range g.members {
		m.partitions = m.partitions[:0]
		m.cursor = 0
	}
	if len(g.members) == 0 {
		return
	}
	ids := sortedKeys(g.members)
	for p := 0; p < partitions; p++ {
		m := g.members[ids[p%len(ids)]]
		m.partitions = append(m.partitions, uint32(p))
	}
}

func (t *topic) stats() (size, count uint64) {
	for _, p := range t.partitions {
		size += p.log.SizeBytes()
		count += messagesIn(p.log)
	}
	return size, count
}

// messagesIn is the number of messages a partition holds.
func messagesIn(l PartitionLog) uint64 { return l.NextOffset() - l.FirstOffset() }

// lastOffset is a partition's current offset as the protocol reports it: the
// newest message's, 0 when it holds none.
func lastOffset(l PartitionLog) uint64 {
	if n := l.NextOffset(); n > 0 {
		return n - 1
	}
	return 0
}

func (st *stream) stats() (size, count uint64) {
	for _, t := range st.topics {
		s, c := t.stats()
		size += s
		count += c
	}
	return size, count
}

// sortedKeys returns the keys of m in ascending order, for responses and
// metadata that list entities by id.
func sortedKeys[V any](m map[uint32]V) []uint32 { return slices.Sorted(maps.Keys(m)) }

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
	status       wire.UserStatus
	createdAt    uint64
	perms        *wire.Permissions // replaced, never changed in place (see rights)
	tokens       map[string]*token // by name
}

type token struct {
	name   string
	hash   [32]byte
	expiry uint64 // absolute µs, 0 = never
}
