package server

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// On-disk metadata: one JSON document replaced atomically (write a temporary
// file, fsync, rename, fsync the directory) on every change, so a crash
// leaves either the old or the new version, never a torn one. Consumer
// offsets change far more often and live in their own file.
const (
	metadataFile = "metadata.json"
	offsetsFile  = "offsets.json"
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
	ID           uint32       `json:"id"`
	Username     string       `json:"username"`
	PasswordHash string       `json:"password_hash"`
	Status       uint8        `json:"status"`
	CreatedAt    uint64       `json:"created_at"`
	Permissions  *Permissions `json:"permissions,omitempty"`
	Tokens       []metaToken  `json:"tokens,omitempty"`
}

type metaToken struct {
	Name   string `json:"name"`
	Hash   string `json:"sha256"`
	Expiry uint64 `json:"expiry"`
}

type metaOffset struct {
	Stream    uint32 `json:"stream"`
	Topic     uint32 `json:"topic"`
	Partition uint32 `json:"partition"`
	Kind      uint8  `json:"kind"`
	ID        uint32 `json:"id"`
	Offset    uint64 `json:"offset"`
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
		mu := metaUser{ID: u.id, Username: u.username, PasswordHash: string(u.passwordHash), Status: u.status,
			CreatedAt: u.createdAt, Permissions: u.perms}
		names := make([]string, 0, len(u.tokens))
		for n := range u.tokens {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			t := u.tokens[n]
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
	return writeFileAtomic(filepath.Join(s.cfg.DataDir, metadataFile), b)
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old or the new content.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		_ = os.Remove(name)
		return fmt.Errorf("writing %s: %w", path, werr)
	}
	if d, err := os.Open(dir); err == nil {
		// Make the rename itself durable.
		serr := d.Sync()
		_ = d.Close()
		if serr != nil && !errors.Is(serr, fs.ErrInvalid) {
			return fmt.Errorf("syncing directory %s: %w", dir, serr)
		}
	}
	return nil
}

// persistOffsets writes every consumer offset when any changed (or when
// force is set). It takes s.mu for reading itself.
func (s *Server) persistOffsets(force bool) error {
	if !s.persistent() {
		return nil
	}
	s.offFileMu.Lock()
	defer s.offFileMu.Unlock()
	var list []metaOffset
	dirty := force
	s.mu.RLock()
	for _, sid := range sortedKeys(s.streams) {
		st := s.streams[sid]
		for _, t := range sortedTopics(st) {
			for _, p := range t.partitions {
				p.offMu.Lock()
				if p.dirty {
					dirty = true
					p.dirty = false
				}
				for k, v := range p.offsets {
					list = append(list, metaOffset{Stream: st.id, Topic: t.id, Partition: p.id, Kind: k.kind, ID: k.id, Offset: v})
				}
				p.offMu.Unlock()
			}
		}
	}
	s.mu.RUnlock()
	if !dirty && !s.offsetsFailed {
		return nil
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.Stream != b.Stream {
			return a.Stream < b.Stream
		}
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		if a.Partition != b.Partition {
			return a.Partition < b.Partition
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.ID < b.ID
	})
	if list == nil {
		list = []metaOffset{}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("encoding consumer offsets: %w", err)
	}
	err = writeFileAtomic(filepath.Join(s.cfg.DataDir, offsetsFile), b)
	// Retry on the next tick after a failure even if nothing changes.
	s.offsetsFailed = err != nil
	return err
}

// recover loads metadata, opens every partition and loads consumer offsets;
// on a first start it creates the root user.
func (s *Server) recover() error {
	if s.persistent() {
		if err := os.MkdirAll(s.cfg.DataDir, 0o755); err != nil {
			return fmt.Errorf("creating data directory: %w", err)
		}
		b, err := os.ReadFile(filepath.Join(s.cfg.DataDir, metadataFile))
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
		if err := s.loadOffsets(); err != nil {
			return err
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
		hash, err := s.hashPassword(s.cfg.RootPassword)
		if err != nil {
			return fmt.Errorf("hashing the root password: %w", err)
		}
		root := &user{id: 0, username: s.cfg.RootUsername, passwordHash: hash, status: 1,
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
				t.partitions = append(t.partitions, &partition{id: mp.ID, createdAt: mp.CreatedAt, log: l, offsets: map[offsetKey]uint64{}})
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
		u := &user{id: mu.ID, username: mu.Username, passwordHash: []byte(mu.PasswordHash), status: mu.Status,
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

func (s *Server) loadOffsets() error {
	b, err := os.ReadFile(filepath.Join(s.cfg.DataDir, offsetsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading consumer offsets: %w", err)
	}
	var list []metaOffset
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("reading consumer offsets %s: %w", filepath.Join(s.cfg.DataDir, offsetsFile), err)
	}
	for _, o := range list {
		st := s.streams[o.Stream]
		if st == nil {
			continue
		}
		t := st.topics[o.Topic]
		if t == nil || int(o.Partition) >= len(t.partitions) {
			continue
		}
		if o.Kind == 2 && t.groups[o.ID] == nil {
			continue
		}
		t.partitions[o.Partition].offsets[offsetKey{kind: o.Kind, id: o.ID}] = o.Offset
	}
	return nil
}
