// Package storage is the persistence layer of the embedded Iggy server: each
// partition is an append-only log of message frames kept in segment files
// with a per-message index, plus the partition's consumer offsets; a small
// helper stores the server's metadata snapshot atomically.
//
// # Partitions
//
// Open(dir, cfg) creates or recovers a partition (Store.OpenPartition names
// the directory from stream/topic/partition ids). Append takes the frames of
// one SendMessages batch as the wire carries them and stamps them in place
// (offset, timestamp, id, checksum) before one write to the log and one to
// the index. Read, ReadFirst, ReadLast and ReadTimestamp append stored frames
// to a caller's buffer, ready to be copied into a poll response; with a reused
// buffer neither side allocates. Reads run concurrently with appends and see
// only complete appends.
//
// Segments are sealed at Config.SegmentSize. Retention is explicit so the
// server decides when it runs: DeleteExpired (message expiry), EnforceMaxSize
// across a topic's partitions (maximum topic size), DeleteSegments (the
// DeleteSegments command), Purge (PurgeTopic/PurgeStream: everything deleted,
// offsets restart at 0, consumer offsets forgotten).
//
// Durability follows Config.Fsync: FsyncInterval (default, background fsync
// every Config.FsyncInterval), FsyncAlways (fsync before Append returns) or
// FsyncNever. Under every policy an acknowledged append survives a crash of
// the process, since data is written to the OS before Append returns.
//
// # Recovery
//
// Close marks a partition clean. Opening a partition that was not closed
// cleanly reads its active segment in full, verifying every frame, cuts a torn
// tail and repairs the index, so the partition resumes after its last intact
// message. Damage inside sealed segments is reported as a *CorruptionError
// (Config.Repair cuts there instead). Partition.Recovery says what was done.
//
// # Errors
//
// Invalid batches and consumer-offset errors wrap sentinel errors that carry
// Iggy status codes; IggyCode(err) returns the code to answer with.
//
// The on-disk formats and the directory layout are described in
// docs/iggy-storage.md.
package storage
