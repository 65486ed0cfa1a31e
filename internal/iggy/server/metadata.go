package server

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ims-dev/ims/internal/iggy/server/storage"
	"github.com/ims-dev/ims/internal/iggy/wire"
)

// On-disk metadata: one JSON document (streams, topics, partitions, groups,
// users, tokens) saved as a checksummed snapshot replaced atomically on every
// change (storage.SaveSnapshot), so a crash leaves the old or the new version
// and a damaged file is detected. Messages and consumer offsets are the
// partitions' own (package storage).
const (
	metadataFile = "metadata.snap"
	metaVersion  = 1
)

type metaDoc struct {
	Version int          `json:"version"`
	Streams []metaStream `json:"streams"`
	Users   []metaUser   `json:"users"`
}

type metaStream struct {
	ID        uint32      `json:"id"`
	Name      string      `json:"name"`
	CreatedAt uint64      `json:"created_at"`
	Topics    []metaTopic `json:"topics"`
}

type metaTopic struct {
	ID                uint32          `json:"id"`
	Name              string          `json:"name"`
	CreatedAt         uint64          `json:"created_at"`
	Compression       uint8           `json:"compression"`
	MessageExpiry     uint64          `json:"message_expiry"`
	MaxTopicSize      uint64          `json:"max_topic_size"`
	ReplicationFactor uint8           `json:"replication_factor"`
	Partitions        []metaPartition `json:"partitions"`
	Groups            []metaGroup     `json:"groups"`
}

type metaPartition struct {
	ID        uint32 `json:"id"`
	CreatedAt uint64 `json:"created_at"`
}

type metaGroup struct {
	ID   uint32 `json:"id"`
	Name string `json:"name"`
}

type metaUser struct {
	ID           uint32            `json:"id"`
	Username     string            `json:"username"`
	PasswordHash string            `json:"password_hash"`
	Status       uint8             `json:"status"` // wire.UserStatus
	CreatedAt    uint64            `json:"created_at"`
	Permissions  *wire.Permissions `json:"permissions,omitempty"`
	Tokens       []metaToken       `json:"tokens,omitempty"`
}

type metaToken struct {
	Name   string `json:"name"`
	Hash   string `json:"sha256"`
	Expiry uint64 `json:"expiry"`
}

func (s *Server) persistent() bool { return !s.cfg.InMemory && s.cfg.DataDir != "" }

// snapshotLocked builds the metadata document; caller holds s.mu.
func (s *Server) snapshotLocked() *metaDoc {
	doc := &metaDoc{Version: metaVersion, Streams: []metaStream{}, Users: []metaUser{}}
	for _, sid := range sortedKeys(s.streams) {
		st := s.streams[sid]
		ms := metaStream{ID: st.id, Name: st.name, CreatedAt: st.createdAt, Topics: []metaTopic{}}
		for _, t := range sortedTopics(st) {
			mt := metaTopic{ID: t.id, Name: t.name, CreatedAt: t.createdAt, Compression: t.compression,
				MessageExpiry: t.messageExpiry, MaxTopicSize: t.maxTopicSize, ReplicationFactor: t.replicationFactor,
				Partitions: []metaPartition{}, Groups: []metaGroup{}}
			for _, p := range t.partitions {
				mt.Partitions = append(mt.Partitions, metaPartition{ID: p.id, CreatedAt: p.createdAt})
			}
			for _, gid := range sortedKeys(t.groups) {
				mt.Groups = append(mt.Groups, metaGroup{ID: gid, Name: t.groups[gid].name})
			}
			ms.Topics = append(ms.Topics, mt)
		}
		doc.Streams = append(doc.Streams, ms)
	}
	for _, uid := range sortedKeys(s.users) {
		u := s.users[uid]
		mu := metaUser{ID: u.id, Username: u.username, PasswordHash: string(u.passwordHash), Status: uint8(u.status),
			CreatedAt: u.createdAt, Permissions: u.perms}
		for _, t := range sortedTokens(u) {
			mu.Tokens = append(mu.Tokens, metaToken{Name: t.name, Hash: hex.EncodeToString(t.hash[:]), Expiry: t.expiry})
		}
		doc.Users = append(doc.Users, mu)
	}
	return doc
}

// saveMetadataLocked persists the metadata; caller holds s.mu for writing.
func (s *Server) saveMetadataLocked() error {
	if !s.persistent() {
		return nil
	}
	b, err := json.MarshalIndent(s.snapshotLocked(), "", " ")
	if err != nil {
		return fmt.Errorf("encoding metadata: %w", err)
	}
	if err := storage.SaveSnapshot(filepath.Join(s.cfg.DataDir, metadataFile), b); err != nil {
		return fmt.Errorf("saving metadata: %w", err)
	}
	return nil
}

// recover loads metadata and opens (recovering) every partition; on a first
// start it creates the root user.
func (s *Server) recover() error {
	if s.persistent() {
		if err := os.MkdirAll(s.cfg.DataDir, 0o755); err != nil {
			return fmt.Errorf("creating data directory: %w", err)
		}
		b, err := storage.LoadSnapshot(filepath.Join(s.cfg.DataDir, metadataFile))
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("reading metadata: %w", err)
		default:
			var doc metaDoc
			if err := json.Unmarshal(b, &doc); err != nil {
				return fmt.Errorf("reading metadata %s: %w", filepath.Join(s.cfg.DataDir, metadataFile), err)
			}
			if doc.Version != metaVersion {
				return fmt.Errorf("metadata %s has version %d, this server reads %d", metadataFile, doc.Version, metaVersion)
			}
			if err := s.load(&doc); err != nil {
				return err
			}
		}
		if rc, ok := s.storage.(reconciler); ok {
			known := map[[3]uint32]bool{}
			s.eachPartition(func(t *topic, p *partition) { known[[3]uint32{t.streamID, t.id, p.id}] = true })
			if err := rc.Reconcile(known); err != nil {
				return fmt.Errorf("removing data of deleted partitions: %w", err)
			}
		}
	}
	if len(s.users) == 0 {
		hash, err := s.pw.hash(s.cfg.RootPassword)
		if err != nil {
			return fmt.Errorf("hashing the root password: %w", err)
		}
		root := &user{id: 0, username: s.cfg.RootUsername, passwordHash: hash, status: wire.UserActive,
			createdAt: s.nowMicros(), perms: rootPermissions(), tokens: map[string]*token{}}
		s.users[0] = root
		s.userNames[root.username] = 0
		s.mu.Lock()
		err = s.saveMetadataLocked()
		s.mu.Unlock()
		if err != nil {
			return err
		}
		s.log.Info("created the root user", "username", root.username)
	}
	return nil
}

// recoveryReporter is implemented by partition logs that recover their data
// when opened (the disk storage's).
type recoveryReporter interface {
	Recovery() storage.RecoveryReport
}

// logRecovery logs what opening a partition found and repaired: every
// finding as a warning, a clean open at debug level.
func (s *Server) logRecovery(sid, tid, pid uint32, r storage.RecoveryReport) {
	part := fmt.Sprintf("%d/%d/%d", sid, tid, pid)
	switch {
	case len(r.Actions) > 0:
		s.log.Warn("partition recovered", "partition", part, "clean_shutdown", r.CleanShutdown,
			"segments_scanned", r.SegmentsScanned, "index_entries_rebuilt", r.IndexEntriesRebuilt,
			"truncated_bytes", r.TruncatedBytes, "segments_removed", r.SegmentsRemoved, "messages_lost", r.MessagesLost)
		for _, a := range r.Actions {
			s.log.Warn("partition recovery", "partition", part, "action", a)
		}
	case !r.CleanShutdown:
		s.log.Info("partition recovered after an unclean shutdown; nothing to repair", "partition", part,
			"segments_scanned", r.SegmentsScanned)
	default:
		s.log.Debug("partition opened", "partition", part)
	}
}

// reconciler is implemented by storage that can delete partition data the
// metadata no longer names (left by a crash between the two).
type reconciler interface {
	Reconcile(known map[[3]uint32]bool) error
}

func (s *Server) load(doc *metaDoc) error {
	for _, ms := range doc.Streams {
		st := &stream{id: ms.ID, name: ms.Name, createdAt: ms.CreatedAt, topics: map[uint32]*topic{}, topicNames: map[string]uint32{}}
		for _, mt := range ms.Topics {
			t := &topic{id: mt.ID, streamID: st.id, name: mt.Name, createdAt: mt.CreatedAt, compression: mt.Compression,
				messageExpiry: mt.MessageExpiry, maxTopicSize: mt.MaxTopicSize, replicationFactor: mt.ReplicationFactor,
				groups: map[uint32]*group{}, groupNames: map[string]uint32{}}
			for i, mp := range mt.Partitions {
				if mp.ID != uint32(i) {
					return fmt.Errorf("metadata: topic %d/%d lists partition %d at position %d", st.id, t.id, mp.ID, i)
				}
				l, err := s.storage.OpenPartition(st.id, t.id, mp.ID)
				if err != nil {
					return fmt.Errorf("recovering partition %d/%d/%d: %w", st.id, t.id, mp.ID, err)
				}
				if r, ok := l.(recoveryReporter); ok {
					s.logRecovery(st.id, t.id, mp.ID, r.Recovery())
				}
				t.partitions = append(t.partitions, &partition{id: mp.ID, createdAt: mp.CreatedAt, log: l})
			}
			for _, mg := range mt.Groups {
				t.groups[mg.ID] = &group{id: mg.ID, name: mg.Name, members: map[uint32]*member{}}
				t.groupNames[mg.Name] = mg.ID
			}
			st.topics[t.id] = t
			st.topicNames[t.name] = t.id
		}
		s.streams[st.id] = st
		s.streamNames[st.name] = st.id
	}
	for _, mu := range doc.Users {
		u := &user{id: mu.ID, username: mu.Username, passwordHash: []byte(mu.PasswordHash), status: wire.UserStatus(mu.Status),
			createdAt: mu.CreatedAt, perms: mu.Permissions, tokens: map[string]*token{}}
		for _, mt := range mu.Tokens {
			h, err := hex.DecodeString(mt.Hash)
			if err != nil || len(h) != 32 {
				return fmt.Errorf("metadata: user %q has a malformed token hash", mu.Username)
			}
			t := &token{name: mt.Name, expiry: mt.Expiry}
			copy(t.hash[:], h)
			u.tokens[t.name] = t
			s.tokens[t.hash] = &tokenRef{userID: u.id, tok: t}
		}
		s.users[u.id] = u
		s.userNames[u.username] = u.id
	}
	return nil
}
