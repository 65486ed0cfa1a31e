package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ims-dev/ims/internal/iggy/server/storage"
	"github.com/ims-dev/ims/internal/iggy/wire"
)

// diskStorage keeps partitions in segment files under the data directory
// (package storage; layout in docs/iggy-storage.md).
type diskStorage struct {
	store *storage.Store
}

func openDiskStorage(dir string, cfg Config) (*diskStorage, error) {
	var policy storage.FsyncPolicy
	switch cfg.Fsync {
	case FsyncAlways:
		policy = storage.FsyncAlways
	case FsyncNever:
		policy = storage.FsyncNever
	default:
		policy = storage.FsyncInterval
	}
	st, err := storage.OpenStore(dir, storage.Config{
		SegmentSize:   cfg.SegmentSize,
		Fsync:         policy,
		FsyncInterval: cfg.FsyncInterval,
		Now:           cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	return &diskStorage{store: st}, nil
}

func (d *diskStorage) OpenPartition(stream, topic, partition uint32) (PartitionLog, error) {
	p, err := d.store.OpenPartition(stream, topic, partition)
	if err != nil {
		return nil, err
	}
	return diskLog{p}, nil
}

func (d *diskStorage) RemovePartition(stream, topic, partition uint32) error {
	return d.store.RemovePartition(stream, topic, partition)
}

func (d *diskStorage) RemoveTopic(stream, topic uint32) error {
	return d.store.RemoveTopic(stream, topic)
}
func (d *diskStorage) RemoveStream(stream uint32) error { return d.store.RemoveStream(stream) }
func (d *diskStorage) Close() error                     { return nil }

func (d *diskStorage) EnforceMaxSize(parts []PartitionLog, maxBytes uint64) error {
	ps := make([]*storage.Partition, len(parts))
	for i, p := range parts {
		ps[i] = p.(diskLog).Partition
	}
	_, err := storage.EnforceMaxSize(ps, maxBytes)
	return err
}

// Reconcile deletes partition, topic and stream directories the metadata
// does not name: what a crash between creating data and saving metadata (or
// between saving metadata and deleting data) leaves behind.
func (d *diskStorage) Reconcile(known map[[3]uint32]bool) error {
	streams := map[uint32]bool{}
	topics := map[[2]uint32]bool{}
	for k := range known {
		streams[k[0]] = true
		topics[[2]uint32{k[0], k[1]}] = true
	}
	var errs []error
	for _, sid := range listIDs(filepath.Join(d.store.Root(), "streams"), &errs) {
		if !streams[sid] {
			errs = append(errs, d.store.RemoveStream(sid))
			continue
		}
		for _, tid := range listIDs(filepath.Join(d.store.StreamDir(sid), "topics"), &errs) {
			if !topics[[2]uint32{sid, tid}] {
				errs = append(errs, d.store.RemoveTopic(sid, tid))
				continue
			}
			for _, pid := range listIDs(filepath.Join(d.store.TopicDir(sid, tid), "partitions"), &errs) {
				if !known[[3]uint32{sid, tid, pid}] {
					errs = append(errs, d.store.RemovePartition(sid, tid, pid))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// listIDs returns the numeric directory names in dir.
func listIDs(dir string, errs *[]error) []uint32 {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			*errs = append(*errs, fmt.Errorf("listing %s: %w", dir, err))
		}
		return nil
	}
	var ids []uint32
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if n, err := strconv.ParseUint(e.Name(), 10, 32); err == nil {
			ids = append(ids, uint32(n))
		}
	}
	return ids
}

// storageKind maps the wire's consumer kind to the storage's.
func storageKind(k wire.ConsumerKind) storage.ConsumerKind {
	if k == wire.ConsumerGroup {
		return storage.ConsumerGroup
	}
	return storage.Consumer
}

// diskLog adapts a storage.Partition to PartitionLog.
type diskLog struct{ *storage.Partition }

func (l diskLog) Append(frames []byte, count uint32) error {
	_, err := l.Partition.Append(frames, count)
	return err
}

func (l diskLog) Read(dst []byte, offset uint64, count uint32, maxBytes int) ([]byte, uint32, error) {
	return l.Partition.ReadMax(dst, offset, count, maxBytes)
}

func (l diskLog) DeleteSegments(n uint32) error {
	_, err := l.Partition.DeleteSegments(n)
	return err
}

func (l diskLog) DeleteExpired(now, expiry uint64) error {
	_, err := l.Partition.DeleteExpired(now, expiry)
	return err
}

// Segments counts the segments that hold messages: the storage keeps an
// empty active segment open in a new or purged partition (and right after a
// segment is sealed), which the protocol does not report.
func (l diskLog) Segments() uint32 {
	var n uint32
	for _, si := range l.Partition.SegmentInfos() {
		if si.EndOffset > si.StartOffset {
			n++
		}
	}
	return n
}

func (l diskLog) StoreOffset(kind wire.ConsumerKind, id uint32, offset uint64) error {
	return l.Partition.StoreOffset(storageKind(kind), id, offset)
}

func (l diskLog) Offset(kind wire.ConsumerKind, id uint32) (uint64, bool) {
	return l.Partition.Offset(storageKind(kind), id)
}

func (l diskLog) DeleteOffset(kind wire.ConsumerKind, id uint32) error {
	return l.Partition.DeleteOffset(storageKind(kind), id)
}
