package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ims-dev/ims/internal/iggy/server"
)

type serverOptions struct {
	addr          string
	dataDir       string
	inMemory      bool
	rootUser      string
	rootPassword  string
	fsync         string
	fsyncInterval time.Duration
	segmentSize   string
	messageExpiry string
	maxTopicSize  string
	tlsCert       string
	tlsKey        string
	shutdownGrace time.Duration
}

func newServerCmd(g *Global) *cobra.Command {
	opts := &serverOptions{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the embedded Iggy-compatible server",
		Long: `Run an Apache Iggy-compatible server speaking the classic binary TCP protocol of
Iggy 0.7/0.8, so the official SDKs, the Iggy CLI and ims itself can use it.

It keeps streams, topics, partitions, consumer offsets, consumer groups, users
and personal access tokens, persisted under --data-dir (metadata is replaced
atomically on every change; messages live in segment files; a crash loses at
most what --fsync allows). Consumer groups assign partitions to members and
rebalance as members join, leave or disconnect. Permissions are enforced as
Iggy does.

The root user is created on first start from --root-username/--root-password
(or IGGY_ROOT_USERNAME/IGGY_ROOT_PASSWORD); without them it is iggy/iggy, with
a warning. Later starts keep the stored users.

--fsync says when appended messages reach stable storage: "always" before each
send is acknowledged, "interval" (the default) every --fsync-interval, "never"
when the operating system decides. A process crash loses nothing acknowledged
in any mode; a power loss may lose up to one interval (or more with never).

The data directory is locked while the server runs: a second server on the
same directory fails to start with an error naming the process that holds it.

SIGINT or SIGTERM stops accepting connections, finishes requests in flight,
flushes, closes files and exits 0.`,
		Example: `  # Serve on the default 127.0.0.1:8090 with data in the user's data directory
  ims server

  # Serve on all interfaces with data in ./iggy-data, fsync before every ack
  ims server --addr 0.0.0.0:8090 --data-dir ./iggy-data --fsync always

  # Custom root credentials and one-day retention of 64 MiB segments
  IGGY_ROOT_USERNAME=admin IGGY_ROOT_PASSWORD=secret ims server --segment-size 64MiB --message-expiry 24h

  # A throwaway server for tests
  ims server --addr 127.0.0.1:0 --in-memory`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServer(cmd.Context(), g, opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.addr, "addr", server.DefaultAddr, "TCP address to listen on (port 0 picks a free one)")
	fs.StringVar(&opts.dataDir, "data-dir", "", "directory for metadata and messages (default: the user's data directory + ims/iggy)")
	fs.BoolVar(&opts.inMemory, "in-memory", false, "keep everything in memory and nothing on disk")
	fs.StringVar(&opts.rootUser, "root-username", "", "root user's name on first start (default iggy)")
	fs.StringVar(&opts.rootPassword, "root-password", "", "root user's password on first start (default iggy)")
	fs.StringVar(&opts.fsync, "fsync", "interval", "when messages are fsynced: always, interval or never")
	fs.DurationVar(&opts.fsyncInterval, "fsync-interval", server.DefaultFsyncInterval, "fsync period for --fsync interval")
	fs.StringVar(&opts.segmentSize, "segment-size", "1GiB", "segment file size (e.g. 1GiB, 256MiB)")
	fs.StringVar(&opts.messageExpiry, "message-expiry", "never", "default message expiry of new topics (e.g. 24h, 7d, never)")
	fs.StringVar(&opts.maxTopicSize, "max-topic-size", "unlimited", "default size cap of new topics (e.g. 10GiB, unlimited)")
	fs.StringVar(&opts.tlsCert, "tls-cert", "", "PEM certificate file; serve TLS when set with --tls-key")
	fs.StringVar(&opts.tlsKey, "tls-key", "", "PEM private key file for --tls-cert")
	fs.DurationVar(&opts.shutdownGrace, "shutdown-timeout", 30*time.Second, "how long a shutdown waits for requests in flight")
	setEnvName(fs, "root-username", "IGGY_ROOT_USERNAME")
	setEnvName(fs, "root-password", "IGGY_ROOT_PASSWORD")
	return cmd
}

// parseSize reads a byte size: a number with an optional B, KB/MB/GB/TB
// (powers of 1000) or KiB/MiB/GiB/TiB (powers of 1024) suffix.
func parseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   uint64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	mult := uint64(1)
	for _, u := range units { // longer suffixes first, so "GiB" wins over "B"
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			mult = u.mult
			t = strings.TrimSpace(t[:len(t)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: want a number with an optional unit such as MiB or GB", s)
	}
	if n > math.MaxUint64/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// parseExpiry reads a duration, a number of days ("7d") or never/0.
func parseExpiry(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" || t == "0" || strings.EqualFold(t, "never") || strings.EqualFold(t, "none") {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(t, "d"); ok {
		n, err := strconv.ParseUint(d, 10, 32)
		if err == nil && n > 0 && n < 100_000 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid expiry %q: want a duration such as 1h30m, a day count such as 7d, or never", s)
	}
	if d > 0 && d < time.Microsecond {
		return 0, fmt.Errorf("expiry %q is shorter than a microsecond", s)
	}
	return d, nil
}

func serverConfig(g *Global, opts *serverOptions) (server.Config, error) {
	cfg := server.Config{
		Addr:          opts.addr,
		DataDir:       opts.dataDir,
		InMemory:      opts.inMemory,
		RootUsername:  opts.rootUser,
		RootPassword:  opts.rootPassword,
		FsyncInterval: opts.fsyncInterval,
	}
	var err error
	if cfg.Fsync, err = server.ParseFsyncMode(opts.fsync); err != nil {
		return cfg, &UsageError{Err: fmt.Errorf("--fsync: %w", err)}
	}
	if opts.fsyncInterval <= 0 {
		return cfg, usageErrorf("--fsync-interval must be positive, got %s", opts.fsyncInterval)
	}
	if cfg.SegmentSize, err = parseSize(opts.segmentSize); err != nil || cfg.SegmentSize == 0 {
		if err == nil {
			err = errors.New("must be positive")
		}
		return cfg, usageErrorf("--segment-size: %v", err)
	}
	if cfg.SegmentSize < 1024 || cfg.SegmentSize > math.MaxUint32 {
		return cfg, usageErrorf("--segment-size must be between 1KiB and 4GiB, got %s", opts.segmentSize)
	}
	if cfg.MessageExpiry, err = parseExpiry(opts.messageExpiry); err != nil {
		return cfg, usageErrorf("--message-expiry: %v", err)
	}
	if !strings.EqualFold(strings.TrimSpace(opts.maxTopicSize), "unlimited") && opts.maxTopicSize != "0" {
		if cfg.MaxTopicSize, err = parseSize(opts.maxTopicSize); err != nil {
			return cfg, usageErrorf("--max-topic-size: %v", err)
		}
		if cfg.MaxTopicSize < cfg.SegmentSize {
			return cfg, usageErrorf("--max-topic-size (%s) must be at least --segment-size (%s)", opts.maxTopicSize, opts.segmentSize)
		}
	}
	if (opts.tlsCert == "") != (opts.tlsKey == "") {
		return cfg, usageErrorf("--tls-cert and --tls-key go together")
	}
	if opts.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(opts.tlsCert, opts.tlsKey)
		if err != nil {
			return cfg, fmt.Errorf("loading the TLS certificate: %w", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if cfg.DataDir == "" && !cfg.InMemory {
		if cfg.DataDir, err = server.DefaultDataDir(); err != nil {
			return cfg, fmt.Errorf("finding the default data directory (set --data-dir): %w", err)
		}
	}
	if opts.dataDir != "" && opts.inMemory {
		return cfg, usageErrorf("--data-dir and --in-memory exclude each other")
	}
	return cfg, nil
}

func runServer(ctx context.Context, g *Global, opts *serverOptions) error {
	cfg, err := serverConfig(g, opts)
	if err != nil {
		return err
	}
	cfg.Logger = slog.New(g.Logger)
	if opts.rootUser == "" || opts.rootPassword == "" {
		g.Logger.Warn("root credentials not set (--root-username/--root-password or IGGY_ROOT_USERNAME/IGGY_ROOT_PASSWORD); a new data directory gets the default root user",
			"username", server.DefaultRootUsername, "password", server.DefaultRootPassword)
	}
	srv, err := server.New(cfg)
	if err != nil {
		return fmt.Errorf("starting the server (data in %s): %w", cfg.DataDir, err)
	}
	if err := srv.Start(); err != nil {
		_ = srv.Shutdown(context.Background())
		return err
	}
	<-ctx.Done()
	g.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), opts.shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}
