package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/ims-dev/ims/internal/binance"
	"github.com/ims-dev/ims/internal/record"
	"github.com/ims-dev/ims/internal/watch"
)

type watchOptions struct {
	Market         string
	marketSet      bool
	Symbols        []string
	Channels       []string
	channelsSet    bool
	Streams        []string
	Format         string
	Record         string
	Replay         string
	Speed          float64
	speedSet       bool
	WSURL          string
	RESTURL        string
	Backfill       bool
	DepthSnapshots int
	Timeout        time.Duration
	ConnectTimeout time.Duration
	Count          int64
	Duration       time.Duration
	StatsInterval  time.Duration
}

// watchChannels are the channel suffixes offered for completion.
var watchChannels = []string{
	"trade", "aggTrade", "bookTicker", "depth", "depth@100ms", "depth@500ms", "depth@0ms",
	"depth5", "depth10", "depth20", "depth20@100ms", "kline_1m", "kline_5m", "kline_1h", "kline_1d",
	"ticker", "miniTicker", "markPrice", "markPrice@1s", "forceOrder", "indexPrice", "indexPrice@1s",
}

func newWatchCmd(g *Global) *cobra.Command {
	opts := &watchOptions{}
	cmd := &cobra.Command{
		Use:   "watch [stream...]",
		Short: "Watch a Binance market's normalized events live, or replay a recording",
		Long: `Connect to a Binance market, subscribe to streams and print every normalized
event as it arrives, with the feed's status markers (connected, disconnected,
reconnected, stale, recovered, gap, gap filled, gap unfilled) in line.

Streams are the cross product of --symbols and --channels (Binance's stream
suffixes: trade, aggTrade, kline_1m, depth, depth@100ms, depth20, bookTicker,
ticker, miniTicker, markPrice, markPrice@1s, forceOrder, indexPrice), plus any
stream names given as arguments (btcusdt@trade btcusdt@depth@100ms). Symbols
are checked against the market's exchangeInfo before anything connects: an
unknown symbol fails the command (exit status 1) naming every unknown one. A
channel the market lacks, or bad stream syntax, is a usage error (exit 2).

Each event is encoded to its ims SBE message and rendered by the same code as
'ims decode', so the two commands print the same format: text (one line per
event), json (JSON Lines) or sbe (the binary messages back to back, for
'ims decode' or a file; refused when stdout is a terminal). Output is buffered
and flushed at least every 100 ms.

The feed reconnects after losses with backoff, without limit, and rotates
connections before Binance's 24 h cut. Trade and aggTrade gaps are filled from
REST (--backfill, on by default) and reported with gap and gap-filled markers;
--depth-snapshots N fetches an N-level REST order book after a depth gap. The
first connections must open within --connect-timeout, or the command fails.

--record FILE writes every raw frame with its receive time to a compressed
recording (readable while it grows; a crash loses at most the last 200 ms).
--replay FILE plays a recording back through the same parser, sequencing and
gap checks, with no network: at the recorded pace (--speed 1), faster
(--speed 10) or as fast as possible (--speed 0). The market comes from the
recording; stream arguments, --symbols and --channels then select what is
printed (by symbol, channel and kline interval). Replayed events carry their
recorded receive times, so a replay prints the market events of the live
session byte for byte; status markers carry the replay's clock. Gaps are
filled as the live session filled them: the recording keeps the REST replies
the --backfill and --depth-snapshots fetched, and the replay uses those, with
no network.

The command stops on Ctrl-C or SIGTERM, after --count market events (status
markers are printed but not counted), after --duration, or at the end of a
replay; it then closes the connections, finishes the recording, flushes the
output and logs a summary of the feed's counters on stderr (--stats-interval
logs them periodically too). Exit status 0 on such a stop, 1 when the feed
could not run.`,
		Example: `  # BTC and ETH trades on spot, as text
  ims watch --symbols BTCUSDT,ETHUSDT --channels trade

  # USD-M book tickers and 100 ms depth diffs for one symbol, as JSON Lines
  ims watch -m usdm btcusdt@bookTicker btcusdt@depth@100ms -o json

  # The first 100 aggregate trades, recorded for later
  ims watch -s BTCUSDT -c aggTrade --count 100 --record btc.ims

  # Offline: replay the recording shipped with the repository, as fast as possible
  ims watch --replay internal/binance/testdata/recording-spot.ims --speed 0 -o json

  # Only SUSHIUSDT's depth diffs from a USD-M recording, at ten times the recorded pace
  ims watch --replay internal/binance/testdata/recording-usdm.ims --speed 10 sushiusdt@depth@100ms

  # Binary SBE into ims decode (the same JSON as -o json)
  ims watch -s BTCUSDT -c trade -o sbe | ims decode -o json

  # Against a local fake exchange or a proxy
  IMS_BINANCE_WS_URL=ws://127.0.0.1:8080 IMS_BINANCE_REST_URL=http://127.0.0.1:8080 ims watch btcusdt@trade`,
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := cmd.Flags()
			opts.Streams = args
			opts.marketSet = fs.Changed("market")
			opts.channelsSet = fs.Changed("channels")
			opts.speedSet = fs.Changed("speed")
			return runWatch(cmd.Context(), g, opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.Market, "market", "m", "spot", "market: "+strings.Join(binance.MarketNames(), ", ")+" (with --replay: from the recording)")
	fs.StringSliceVarP(&opts.Symbols, "symbols", "s", nil, "symbols to watch, comma-separated (BTCUSDT,ETHUSDT), each with every --channels")
	fs.StringSliceVarP(&opts.Channels, "channels", "c", []string{"trade"}, "channels for --symbols: trade, aggTrade, kline_1m, depth@100ms, depth20, bookTicker, ...")
	fs.StringVarP(&opts.Format, "format", "o", "text", "output format: text, json (JSON Lines) or sbe (binary, not to a terminal)")
	fs.StringVar(&opts.Record, "record", "", "record every raw frame to this file (a compressed ims recording)")
	fs.StringVar(&opts.Replay, "replay", "", "replay this recording instead of connecting (no network)")
	fs.Float64Var(&opts.Speed, "speed", 1, "replay pace: 1 as recorded, 2 twice as fast, 0 as fast as possible")
	fs.StringVar(&opts.WSURL, "ws-url", "", "Binance websocket base URL (default: the market's, e.g. wss://stream.binance.com:9443; a trailing /ws or /stream is ignored)")
	fs.StringVar(&opts.RESTURL, "rest-url", "", "Binance REST base URL (default: the market's, e.g. https://api.binance.com; a trailing API prefix such as /api is ignored)")
	fs.BoolVar(&opts.Backfill, "backfill", true, "fill trade and aggTrade gaps from REST")
	fs.IntVar(&opts.DepthSnapshots, "depth-snapshots", 0, "after a depth gap, fetch a REST order book of this many levels (0: off)")
	fs.DurationVar(&opts.Timeout, "timeout", 30*time.Second, "bound on each REST request and on the symbol check")
	fs.DurationVar(&opts.ConnectTimeout, "connect-timeout", 30*time.Second, "fail when the first connections are not open after this long (0: keep retrying)")
	fs.Int64VarP(&opts.Count, "count", "n", 0, "stop after this many market events (0: no limit)")
	fs.DurationVar(&opts.Duration, "duration", 0, "stop after this long (0: no limit)")
	fs.DurationVar(&opts.StatsInterval, "stats-interval", 0, "log the feed's counters this often (0: only at the end)")
	setEnvName(fs, "ws-url", "IMS_BINANCE_WS_URL")
	setEnvName(fs, "rest-url", "IMS_BINANCE_REST_URL")
	_ = cmd.MarkFlagFilename("record", "ims")
	_ = cmd.MarkFlagFilename("replay", "ims")
	_ = cmd.RegisterFlagCompletionFunc("market", fixedCompletion(binance.MarketNames()))
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletion(watch.Formats()))
	_ = cmd.RegisterFlagCompletionFunc("channels", fixedCompletion(watchChannels))
	return cmd
}

func runWatch(ctx context.Context, g *Global, opts *watchOptions) error {
	format, err := watch.ParseFormat(opts.Format)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("--format: %w", err)}
	}
	if format == watch.SBE && isTerminal(g.IO.Out) {
		return usageErrorf("refusing to write binary SBE to a terminal: redirect stdout to a file or pipe it (ims watch -o sbe ... | ims decode)")
	}
	switch {
	case opts.Count < 0:
		return usageErrorf("--count must not be negative")
	case opts.Duration < 0:
		return usageErrorf("--duration must not be negative")
	case opts.StatsInterval < 0:
		return usageErrorf("--stats-interval must not be negative")
	case opts.Timeout <= 0:
		return usageErrorf("--timeout must be positive, not %s", opts.Timeout)
	case opts.ConnectTimeout < 0:
		return usageErrorf("--connect-timeout must not be negative")
	case opts.DepthSnapshots < 0:
		return usageErrorf("--depth-snapshots must not be negative")
	case opts.Speed < 0:
		return usageErrorf("--speed must not be negative (0 replays as fast as possible)")
	case opts.channelsSet && len(opts.Symbols) == 0:
		return usageErrorf("--channels applies to --symbols; give --symbols too, or stream names as arguments")
	}
	cfg := watch.Config{
		Out:           g.IO.Out,
		Format:        format,
		Count:         opts.Count,
		Duration:      opts.Duration,
		Logger:        g.Logger,
		StatsInterval: opts.StatsInterval,
	}

	if opts.Replay != "" {
		if opts.Record != "" {
			return usageErrorf("--record and --replay exclude each other (a replay reads no new frames)")
		}
		r, err := record.Open(opts.Replay)
		if err != nil {
			return fmt.Errorf("opening the recording: %w", err)
		}
		defer r.Close()
		m, err := replayMarket(r.Header(), opts)
		if err != nil {
			return err
		}
		streams, err := watch.Streams(m, opts.Symbols, opts.Channels, opts.Streams)
		if err != nil {
			return &UsageError{Err: err}
		}
		cfg.Market, cfg.Streams, cfg.Replay, cfg.Speed = m, streams, r, opts.Speed
		_, err = watch.Run(ctx, cfg)
		if err != nil {
			return fmt.Errorf("replaying %s: %w", opts.Replay, err)
		}
		return nil
	}

	if opts.speedSet {
		return usageErrorf("--speed applies to --replay")
	}
	m, err := binance.ParseMarket(opts.Market)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("--market: %w", err)}
	}
	streams, err := watch.Streams(m, opts.Symbols, opts.Channels, opts.Streams)
	if err != nil {
		return &UsageError{Err: err}
	}
	if len(streams) == 0 {
		return usageErrorf("nothing to watch: give --symbols (with --channels) or stream names such as btcusdt@trade")
	}
	if opts.DepthSnapshots > 0 {
		if _, err := m.DepthWeight(opts.DepthSnapshots); err != nil {
			return &UsageError{Err: fmt.Errorf("--depth-snapshots: %w", err)}
		}
	}
	if _, err := (binance.Endpoints{WS: opts.WSURL, REST: opts.RESTURL}).Resolve(m); err != nil {
		return &UsageError{Err: err}
	}
	cfg.Market, cfg.Streams = m, streams
	cfg.WSURL, cfg.RESTURL = opts.WSURL, opts.RESTURL
	cfg.RESTTimeout, cfg.ConnectTimeout = opts.Timeout, opts.ConnectTimeout
	cfg.Backfill, cfg.DepthSnapshots = opts.Backfill, opts.DepthSnapshots
	cfg.RecordPath = opts.Record
	if _, err := watch.Run(ctx, cfg); err != nil {
		return fmt.Errorf("watching %s: %w", m, err)
	}
	return nil
}

// replayMarket is the recording's market; --market, when given, must agree.
func replayMarket(h record.Header, opts *watchOptions) (binance.Market, error) {
	if h.Market == "" {
		m, err := binance.ParseMarket(opts.Market)
		if err != nil {
			return 0, &UsageError{Err: fmt.Errorf("--market: %w", err)}
		}
		return m, nil
	}
	m, err := binance.ParseMarket(h.Market)
	if err != nil {
		return 0, fmt.Errorf("recording %s: %w", opts.Replay, err)
	}
	if opts.marketSet {
		given, err := binance.ParseMarket(opts.Market)
		if err != nil {
			return 0, &UsageError{Err: fmt.Errorf("--market: %w", err)}
		}
		if given != m {
			return 0, usageErrorf("--market %s, but %s is a recording of %s", given, opts.Replay, m)
		}
	}
	return m, nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
