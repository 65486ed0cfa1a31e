package storage

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// Directory layout under a Store's root (see docs/iggy-storage.md):
//
//	<root>/metadata.snap                          server metadata (SaveSnapshot)
//	<root>/streams/<stream>/topics/<topic>/partitions/<partition>/
//	    .lock                                     flock held while open
//	    partition.meta                            created-at, clean-shutdown flag
//	    <20-digit start offset>.log               message frames as on the wire
//	    <20-digit start offset>.index             16-byte entry per message
//	    offsets/consumer-<id>, offsets/group-<id> consumer offsets
//	<root>/.trash/                                directories being deleted
const (
	trashDir         = ".trash"
	metadataFileName = "metadata.snap"
)

// Store names and manages the directories of a server's data root. It holds
// no open files; partitions are opened with OpenPartition (or Open) and closed
// by their owner.
type Store struct {
	root string
	cfg  Config
}

// OpenStore prepares root (creating it if needed) and finishes deletions a
// crash interrupted. cfg is the default partition configuration.
func OpenStore(root string, cfg Config) (*Store, error) {
	if _, err := cfg.withDefaults(); err != nil {
		return nil, fmt.Errorf("opening data directory %s: %w", root, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("opening data directory: %w", err)
	}
	if err := os.RemoveAll(filepath.Join(root, trashDir)); err != nil {
		return nil, fmt.Errorf("opening data directory %s: emptying trash: %w", root, err)
	}
	if err := RemoveSnapshotTemps(filepath.Join(root, metadataFileName)); err != nil {
		return nil, fmt.Errorf("opening data directory %s: %w", root, err)
	}
	return &Store{root: root, cfg: cfg}, nil
}

// Root returns the data directory.
func (s *Store) Root() string { return s.root }

// Config returns the default partition configuration.
func (s *Store) Config() Config { return s.cfg }

// MetadataPath is where the server keeps its metadata snapshot
// (SaveSnapshot / LoadSnapshot).
func (s *Store) MetadataPath() string { return filepath.Join(s.root, metadataFileName) }

// StreamDir returns the directory of a stream.
func (s *Store) StreamDir(stream uint32) string {
	return filepath.Join(s.root, "streams", strconv.FormatUint(uint64(stream), 10))
}

// TopicDir returns the directory of a topic.
func (s *Store) TopicDir(stream, topic uint32) string {
	return filepath.Join(s.StreamDir(stream), "topics", strconv.FormatUint(uint64(topic), 10))
}

// PartitionDir returns the directory of a partition.
func (s *Store) PartitionDir(stream, topic, partition uint32) string {
	return filepath.Join(s.TopicDir(stream, topic), "partitions", strconv.FormatUint(uint64(partition), 10))
}

// OpenPartition opens (creating or recovering) a partition with the store's
// default configuration.
func (s *Store) OpenPartition(stream, topic, partition uint32) (*Partition, error) {
	return Open(s.PartitionDir(stream, topic, partition), s.cfg)
}

// OpenPartitionConfig opens a partition with its own configuration (a topic's
// segment size, say).
func (s *Store) OpenPartitionConfig(stream, topic, partition uint32, cfg Config) (*Partition, error) {
	return Open(s.PartitionDir(stream, topic, partition), cfg)
}

// RemovePartition deletes a partition's directory; close the partition first.
func (s *Store) RemovePartition(stream, topic, partition uint32) error {
	return s.removeDir(s.PartitionDir(stream, topic, partition))
}

// RemoveTopic deletes a topic's directory with all its partitions; close them first.
func (s *Store) RemoveTopic(stream, topic uint32) error {
	return s.removeDir(s.TopicDir(stream, topic))
}

// RemoveStream deletes a stream's directory with all its topics; close their partitions first.
func (s *Store) RemoveStream(stream uint32) error {
	return s.removeDir(s.StreamDir(stream))
}

// removeDir deletes dir so that a crash cannot leave it half deleted under
// its name (where Open would find a damaged partition): it is first renamed
// into the trash (atomic) and the rename made durable, then removed. A crash
// during the removal leaves only trash, which OpenStore empties.
func (s *Store) removeDir(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	trash := filepath.Join(s.root, trashDir)
	if err := os.MkdirAll(trash, 0o755); err != nil {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	var r [8]byte
	rand.Read(r[:])
	dst := filepath.Join(trash, filepath.Base(dir)+"-"+hex.EncodeToString(r[:]))
	if err := os.Rename(dir, dst); err != nil {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("removing %s (moved to %s): %w", dir, dst, err)
	}
	return nil
}
