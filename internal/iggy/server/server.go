// Package server is an embedded Apache Iggy-compatible server speaking the
// classic binary protocol of Iggy 0.7/0.8 over TCP (docs/iggy-protocol.md):
// streams, topics, partitions, messages, consumer offsets, consumer groups
// with rebalancing, users, permissions and personal access tokens, with
// metadata and messages persisted under a data directory.
//
// Use New, then Start, then Shutdown:
//
//	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", DataDir: dir})
//	if err := srv.Start(); err != nil { ... }
//	defer srv.Shutdown(ctx)
//	addr := srv.Addr()
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ims-dev/ims/internal/iggy/server/storage"
	"github.com/ims-dev/ims/internal/iggy/wire"
)

// FsyncMode says when appended messages are forced to stable storage.
type FsyncMode int

const (
	// FsyncInterval fsyncs every Config.FsyncInterval (the default): a crash
	// loses at most that window of acknowledged messages.
	FsyncInterval FsyncMode = iota
	// FsyncAlways fsyncs before a send is acknowledged: nothing acknowledged
	// is lost on a crash, at the cost of throughput.
	FsyncAlways
	// FsyncNever leaves flushing to the operating system.
	FsyncNever
)

// ParseFsyncMode reads "always", "interval" or "never".
func ParseFsyncMode(s string) (FsyncMode, error) {
	switch s {
	case "always":
		return FsyncAlways, nil
	case "interval":
		return FsyncInterval, nil
	case "never":
		return FsyncNever, nil
	}
	return 0, fmt.Errorf("invalid fsync mode %q: want always, interval or never", s)
}

func (m FsyncMode) String() string {
	switch m {
	case FsyncAlways:
		return "always"
	case FsyncNever:
		return "never"
	}
	return "interval"
}

// Defaults used when a Config field is zero.
const (
	DefaultAddr              = "127.0.0.1:8090"
	DefaultRootUsername      = "iggy"
	DefaultRootPassword      = "iggy"
	DefaultFsyncInterval     = time.Second
	DefaultSegmentSize       = 1 << 30
	DefaultRetentionInterval = 10 * time.Second
	DefaultMaxBatchBytes     = 128 << 20
	DefaultMaxPollBytes      = 64 << 20
	defaultMaxPATsPerUser    = 100
)

// Config configures a Server. The zero value is usable with DataDir or
// InMemory set.
type Config struct {
	Addr string // listen address; DefaultAddr when empty, "127.0.0.1:0" for tests
	// DataDir holds metadata and messages. Required unless InMemory. The
	// server locks it while it runs: a second server on the same directory
	// fails to start.
	DataDir  string
	InMemory bool // keep everything in memory (tests, throwaway servers)
	// Storage, when set, replaces the built-in storage for partition logs.
	Storage Storage

	RootUsername string // DefaultRootUsername when empty
	RootPassword string // DefaultRootPassword when empty

	Fsync         FsyncMode
	FsyncInterval time.Duration // DefaultFsyncInterval when zero

	SegmentSize   uint64        // bytes per segment; DefaultSegmentSize when zero
	MessageExpiry time.Duration // default topic message expiry; 0 = never
	MaxTopicSize  uint64        // default topic size cap in bytes; 0 = unlimited

	// RetentionInterval is how often expiry and size caps are enforced in
	// the background (they are also enforced on append).
	RetentionInterval time.Duration
	// MaxBatchBytes caps one SendMessages frame; larger ones are refused
	// with InvalidSizeBytes and drained. DefaultMaxBatchBytes when zero.
	MaxBatchBytes int
	// MaxPollBytes caps the messages of one poll response (a single larger
	// message is still returned, alone); clients poll again for the rest.
	// DefaultMaxPollBytes when zero.
	MaxPollBytes int

	TLS    *tls.Config  // serve TLS when set
	Logger *slog.Logger // discard when nil
	// Now is the clock (tests inject a fixed one); time.Now when nil.
	Now func() time.Time
	// PasswordCost is the bcrypt cost; bcrypt.DefaultCost when zero. Tests
	// use bcrypt.MinCost to keep logins cheap.
	PasswordCost int
}

// Server is one embedded Iggy-compatible server.
type Server struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	storage Storage
	lock    *storage.DirLock // the data directory's, when persistent
	started time.Time
	pw      passwords
	// dummyHash is a password hash compared against for unknown usernames.
	dummyHash []byte

	// mu guards the metadata below and the groups of every session.
	mu          sync.RWMutex
	streams     map[uint32]*stream
	streamNames map[string]uint32
	users       map[uint32]*user
	userNames   map[string]uint32
	tokens      map[[32]byte]*tokenRef

	sessMu       sync.Mutex
	sessions     map[uint32]*session
	nextClientID uint32

	ln     net.Listener
	connWG sync.WaitGroup
	bgWG   sync.WaitGroup
	stopBG chan struct{}
	// acceptDone closes when the accept loop has returned: Shutdown waits
	// for it before waiting for connections, or a connection accepted as
	// Shutdown began could be added to connWG while it is being waited on
	// and be served against closed partitions.
	acceptDone chan struct{}
	closing    atomic.Bool
	graceEnd   atomic.Int64 // unix ns until which requests already sent are still read
	shutOnce   sync.Once
	shutErr    error

	// counters for stats
	readBytes    atomic.Uint64
	writtenBytes atomic.Uint64
	cpu          cpuSampler
}

type tokenRef struct {
	userID uint32
	tok    *token
}

// New validates cfg, locks and opens (or creates) the data directory,
// recovers metadata, messages and consumer offsets, and creates the root user
// on first start. It does not listen yet: call Start.
func New(cfg Config) (*Server, error) {
	if cfg.PasswordCost == 0 {
		cfg.PasswordCost = bcrypt.DefaultCost
	}
	return newServer(cfg, bcryptPasswords{cost: cfg.PasswordCost})
}

func newServer(cfg Config, pw passwords) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.RootUsername == "" {
		cfg.RootUsername = DefaultRootUsername
	}
	if cfg.RootPassword == "" {
		cfg.RootPassword = DefaultRootPassword
	}
	if cfg.FsyncInterval <= 0 {
		cfg.FsyncInterval = DefaultFsyncInterval
	}
	if cfg.SegmentSize == 0 {
		cfg.SegmentSize = DefaultSegmentSize
	}
	if cfg.RetentionInterval <= 0 {
		cfg.RetentionInterval = DefaultRetentionInterval
	}
	if cfg.MaxBatchBytes <= 0 {
		cfg.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if cfg.MaxPollBytes <= 0 {
		cfg.MaxPollBytes = DefaultMaxPollBytes
	}
	// The root credentials must be ones a client can log in with.
	login := wire.LoginUser{Username: cfg.RootUsername, Password: cfg.RootPassword}
	if _, err := login.AppendPayload(nil); errors.Is(err, wire.ErrInvalidUsername) {
		return nil, fmt.Errorf("root username must be %d..%d bytes of UTF-8, got %d bytes",
			wire.MinUsernameLength, wire.MaxUsernameLength, len(cfg.RootUsername))
	} else if err != nil {
		return nil, fmt.Errorf("root password must be %d..%d bytes of UTF-8, got %d bytes",
			wire.MinPasswordLength, wire.MaxPasswordLength, len(cfg.RootPassword))
	}
	if cfg.MaxTopicSize != 0 && cfg.MaxTopicSize < cfg.SegmentSize {
		return nil, fmt.Errorf("max topic size %d is smaller than the segment size %d", cfg.MaxTopicSize, cfg.SegmentSize)
	}
	s := &Server{
		cfg:         cfg,
		log:         cfg.Logger,
		now:         cfg.Now,
		streams:     map[uint32]*stream{},
		streamNames: map[string]uint32{},
		users:       map[uint32]*user{},
		userNames:   map[string]uint32{},
		tokens:      map[[32]byte]*tokenRef{},
		sessions:    map[uint32]*session{},
		stopBG:      make(chan struct{}),
		acceptDone:  make(chan struct{}),
		pw:          pw,
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.started = s.now()
	dh, err := s.pw.hash("not-a-password")
	if err != nil {
		return nil, fmt.Errorf("preparing password hashing: %w", err)
	}
	s.dummyHash = dh
	if s.persistent() {
		lock, err := storage.LockDir(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("locking the data directory: %w", err)
		}
		s.lock = lock
	}
	switch {
	case cfg.Storage != nil:
		s.storage = cfg.Storage
	case cfg.InMemory:
		s.storage = &memStorage{segmentSize: cfg.SegmentSize, now: s.now}
	default:
		if cfg.DataDir == "" {
			return nil, errors.New("no data directory: set DataDir or InMemory")
		}
		st, err := openDiskStorage(cfg.DataDir, cfg)
		if err != nil {
			_ = s.lock.Close()
			return nil, err
		}
		s.storage = st
	}
	if err := s.recover(); err != nil {
		_ = s.closePartitions()
		_ = s.storage.Close()
		_ = s.lock.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) nowMicros() uint64 { return uint64(s.now().UnixMicro()) }

// defaultExpiry resolves a topic's message_expiry of 0 to the server default.
func (s *Server) resolveExpiry(v uint64) uint64 {
	if v != wire.ServerDefault {
		return v
	}
	if s.cfg.MessageExpiry <= 0 {
		return wire.Unlimited
	}
	return uint64(s.cfg.MessageExpiry / time.Microsecond)
}

// resolveMaxSize resolves a topic's max_topic_size; a cap below one segment
// is InvalidTopicSize, as in Iggy.
func (s *Server) resolveMaxSize(v uint64) (uint64, *wire.Error) {
	if v == wire.ServerDefault {
		if s.cfg.MaxTopicSize == 0 {
			return wire.Unlimited, nil
		}
		return s.cfg.MaxTopicSize, nil
	}
	if v != wire.Unlimited && v < s.cfg.SegmentSize {
		return 0, wire.ErrInvalidTopicSize
	}
	return v, nil
}

// Start listens on Config.Addr and serves connections in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.cfg.Addr, err)
	}
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, s.cfg.TLS)
	}
	s.ln = ln
	s.bgWG.Add(1)
	go s.acceptLoop()
	go s.background()
	data := s.cfg.DataDir
	if !s.persistent() {
		data = "memory"
	}
	s.log.Info("iggy server listening", "addr", ln.Addr().String(), "data", data, "tls", s.cfg.TLS != nil, "fsync", s.cfg.Fsync.String())
	return nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

func (s *Server) acceptLoop() {
	defer close(s.acceptDone)
	var delay time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				// Out of descriptors or a transient fault: back off, keep serving.
				if delay == 0 {
					delay = 5 * time.Millisecond
				} else if delay < time.Second {
					delay *= 2
				}
				s.log.Warn("accept failed, retrying", "err", err, "in", delay)
				time.Sleep(delay)
				continue
			}
			s.log.Error("accept failed, no longer accepting connections", "err", err)
			return
		}
		delay = 0
		if s.closing.Load() {
			_ = c.Close()
			return
		}
		sess := s.newSession(c)
		s.connWG.Add(1)
		go func() {
			defer s.connWG.Done()
			s.serve(sess)
		}()
	}
}

// background enforces message expiry and topic size caps periodically.
func (s *Server) background() {
	defer s.bgWG.Done()
	retention := time.NewTicker(s.cfg.RetentionInterval)
	defer retention.Stop()
	for {
		select {
		case <-s.stopBG:
			return
		case <-retention.C:
			s.enforceRetention()
		}
	}
}

func (s *Server) eachPartition(fn func(t *topic, p *partition)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, st := range s.streams {
		for _, t := range st.topics {
			for _, p := range t.partitions {
				fn(t, p)
			}
		}
	}
}

func (s *Server) flushAll(fsync bool) {
	s.eachPartition(func(t *topic, p *partition) {
		if err := p.log.Flush(fsync); err != nil {
			s.log.Error("flushing partition", "stream", t.streamID, "topic", t.id, "partition", p.id, "err", err)
		}
	})
}

func (s *Server) enforceRetention() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, st := range s.streams {
		for _, t := range st.topics {
			s.retainTopic(t)
		}
	}
}

// retainTopic applies a topic's message expiry and size cap; the caller
// holds s.mu.
func (s *Server) retainTopic(t *topic) {
	if t.messageExpiry != wire.Unlimited {
		now := s.nowMicros()
		for _, p := range t.partitions {
			if err := p.log.DeleteExpired(now, t.messageExpiry); err != nil {
				s.log.Error("deleting expired messages", "stream", t.streamID, "topic", t.id, "partition", p.id, "err", err)
			}
		}
	}
	if t.maxTopicSize != wire.Unlimited && len(t.partitions) > 0 {
		logs := make([]PartitionLog, len(t.partitions))
		for i, p := range t.partitions {
			logs[i] = p.log
		}
		if err := s.storage.EnforceMaxSize(logs, t.maxTopicSize); err != nil {
			s.log.Error("enforcing the topic size cap", "stream", t.streamID, "topic", t.id, "err", err)
		}
	}
}

// storageError maps an error of a partition log to the status Iggy answers
// with, logging those that are the server's fault.
func (s *Server) storageError(what string, err error) *wire.Error {
	var e *wire.Error
	if errors.As(err, &e) {
		return e
	}
	if code, ok := storage.IggyCode(err); ok && code != wire.ErrError.Code {
		return wire.ErrorFromCode(code)
	}
	return s.failed(what, err)
}

// Shutdown stops accepting, lets requests in flight finish (until ctx ends,
// then closes connections), flushes and fsyncs every partition, persists
// offsets and closes files. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutOnce.Do(func() { s.shutErr = s.shutdown(ctx) })
	return s.shutErr
}

func (s *Server) shutdown(ctx context.Context) error {
	graceEnd := time.Now().Add(shutdownGrace)
	s.graceEnd.Store(graceEnd.UnixNano())
	s.closing.Store(true)
	if s.ln != nil {
		_ = s.ln.Close()
		<-s.acceptDone // every accepted connection is registered and counted
	}
	// Idle connections are blocked reading the next request: wake them.
	// A connection mid-request finishes it and sees closing before reading
	// again.
	s.sessMu.Lock()
	for _, sess := range s.sessions {
		sess.interruptIdle(graceEnd)
	}
	s.sessMu.Unlock()
	done := make(chan struct{})
	go func() { s.connWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.sessMu.Lock()
		for _, sess := range s.sessions {
			_ = sess.conn.Close()
		}
		s.sessMu.Unlock()
		<-done
	}
	if s.ln != nil {
		close(s.stopBG)
		s.bgWG.Wait()
	}
	var errs []error
	s.flushAll(s.cfg.Fsync != FsyncNever)
	if err := s.closePartitions(); err != nil {
		errs = append(errs, err)
	}
	if err := s.storage.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := s.lock.Close(); err != nil {
		errs = append(errs, err)
	}
	s.log.Info("iggy server stopped")
	return errors.Join(errs...)
}

func (s *Server) closePartitions() error {
	var errs []error
	s.eachPartition(func(t *topic, p *partition) {
		if err := p.log.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing partition %d/%d/%d: %w", t.streamID, t.id, p.id, err))
		}
	})
	return errors.Join(errs...)
}

// osHostname is split out for stats.
func osHostname() string {
	h, _ := os.Hostname()
	return h
}
