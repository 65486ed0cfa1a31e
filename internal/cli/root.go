// Package cli holds the ims command tree. Each command is an options struct,
// flag wiring and a run function over domain packages; nothing below this
// package knows about Cobra.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/charmbracelet/log"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit statuses shared by every command.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// BuildInfo is stamped into the binary by the release build.
type BuildInfo struct {
	Version string
	Commit  string
	Date    string
}

func (b BuildInfo) resolved() BuildInfo {
	if b.Version != "" {
		return b
	}
	b.Version = "dev"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.time":
				b.Date = s.Value
			}
		}
	}
	return b
}

func (b BuildInfo) String() string {
	s := "ims version " + b.Version
	var extra []string
	if b.Commit != "" {
		extra = append(extra, "commit "+b.Commit)
	}
	if b.Date != "" {
		extra = append(extra, "built "+b.Date)
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

// IO is where a command reads input and writes data and logs. Tests replace it.
type IO struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// Global holds the state every command shares: streams, the logger and the
// persistent flags.
type Global struct {
	IO       IO
	Build    BuildInfo
	LogLevel string
	LogFmt   string
	Logger   *log.Logger
}

// UsageError marks an error as the caller's mistake (exit status 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// Main runs ims with args and returns the exit status.
func Main(build BuildInfo, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, IO{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, build, args)
}

// Run executes the command line with the given streams; it is Main without
// process globals, so tests can drive the whole CLI.
func Run(ctx context.Context, stdio IO, build BuildInfo, args []string) int {
	g := &Global{IO: stdio, Build: build.resolved()}
	root := NewRootCmd(g)
	root.SetArgs(args)
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stdio.ErrOut, "Error: %v\nRun '%s --help' for usage.\n", err, commandPathFor(root, args))
		return ExitUsage
	}
	var se *silentError
	if errors.As(err, &se) {
		return se.status
	}
	logger := g.Logger
	if logger == nil {
		logger = newLogger(stdio.ErrOut, "info", "text")
	}
	logger.Error(err.Error())
	return ExitError
}

// silentError carries an exit status for a failure that was already reported.
type silentError struct{ status int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.status) }

// errReported ends a command with status 1 after it has printed its own errors.
var errReported = &silentError{status: ExitError}

func commandPathFor(root *cobra.Command, args []string) string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		return root.CommandPath()
	}
	return cmd.CommandPath()
}

// NewRootCmd builds the whole command tree around g.
func NewRootCmd(g *Global) *cobra.Command {
	root := &cobra.Command{
		Use:   "ims",
		Short: "Relay Binance market data through Apache Iggy as SBE, and the tools around it",
		Long: `ims takes Binance public market data (spot, USD-M and COIN-M futures and their
testnets), encodes it with SBE (Simple Binary Encoding) and relays it through
Apache Iggy. It also decodes SBE, tails Iggy topics, benchmarks the pipeline,
lists exchange symbols and runs an embedded Iggy-compatible server.

Every flag can also be set through an environment variable: IMS_ followed by
the flag name in upper case with dashes as underscores (IMS_LOG_LEVEL for
--log-level). A flag given on the command line wins over the environment.

Logs go to stderr; data goes to stdout.`,
		Example: `  # Decode one SBE message given as hex
  ims decode --hex 3000cd0001000100cd00425443555344540000000000000000000000000000401e18240a06005275380000000000027d0000000000000004

  # Start the embedded Iggy-compatible server
  ims server --data-dir ./iggy-data

  # List USD-M perpetual symbols quoted in USDT
  ims symbols --market usdm --contract PERPETUAL --quote USDT`,
		Version:           g.Build.Version,
		SilenceUsage:      true,
		SilenceErrors:     true,
		DisableAutoGenTag: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnv(cmd); err != nil {
				return err
			}
			if _, err := log.ParseLevel(g.LogLevel); err != nil {
				return usageErrorf("invalid --log-level %q: want debug, info, warn, error or fatal", g.LogLevel)
			}
			switch g.LogFmt {
			case "text", "json", "logfmt":
			default:
				return usageErrorf("invalid --log-format %q: want text, json or logfmt", g.LogFmt)
			}
			g.Logger = newLogger(g.IO.ErrOut, g.LogLevel, g.LogFmt)
			return nil
		},
	}
	root.SetVersionTemplate(g.Build.String() + "\n")
	root.PersistentFlags().StringVar(&g.LogLevel, "log-level", "info", "log verbosity: debug, info, warn or error")
	root.PersistentFlags().StringVar(&g.LogFmt, "log-format", "text", "log format on stderr: text, json or logfmt")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })

	for _, c := range subcommands(g) {
		root.AddCommand(c)
	}
	root.AddCommand(newCompletionCmd(g))
	finishTree(root)
	return root
}

// subcommands lists the domain commands, one constructor per file of this
// package.
func subcommands(g *Global) []*cobra.Command {
	return []*cobra.Command{
		newVersionCmd(g),
		newServerCmd(g),
		newSymbolsCmd(g),
		newDecodeCmd(g),
		newWatchCmd(g),
	}
}

// finishTree wires behaviour every command shares: usage errors for bad
// arguments and the environment-variable names in flag help.
func finishTree(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })
	if cmd.Args != nil {
		validate := cmd.Args
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := validate(c, args); err != nil {
				return &UsageError{Err: err}
			}
			return nil
		}
	}
	annotateEnv(cmd.LocalNonPersistentFlags())
	annotateEnv(cmd.PersistentFlags())
	for _, c := range cmd.Commands() {
		finishTree(c)
	}
}

// envAnnotation names a flag's environment variable when it is not the
// default IMS_<FLAG_NAME>.
const envAnnotation = "ims_env"

// EnvName returns the environment variable bound to f.
func EnvName(f *pflag.Flag) string {
	if v, ok := f.Annotations[envAnnotation]; ok && len(v) > 0 {
		return v[0]
	}
	return "IMS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
}

// setEnvName binds flag name of fs to the environment variable env.
func setEnvName(fs *pflag.FlagSet, name, env string) {
	if err := fs.SetAnnotation(name, envAnnotation, []string{env}); err != nil {
		panic(fmt.Sprintf("cli: no flag %q to bind to %s", name, env))
	}
}

func annotateEnv(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" || f.Name == "version" || strings.Contains(f.Usage, "[$") {
			return
		}
		f.Usage += " [$" + EnvName(f) + "]"
	})
}

// applyEnv sets every flag of cmd that was not given on the command line from
// its environment variable, when that is set.
func applyEnv(cmd *cobra.Command) error {
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" || f.Name == "version" || firstErr != nil {
			return
		}
		env := EnvName(f)
		v, ok := os.LookupEnv(env)
		if !ok {
			return
		}
		if err := cmd.Flags().Set(f.Name, v); err != nil {
			firstErr = usageErrorf("invalid value %q in %s for --%s: %v", v, env, f.Name, err)
		}
	})
	return firstErr
}

func newLogger(w io.Writer, level, format string) *log.Logger {
	l := log.NewWithOptions(w, log.Options{ReportTimestamp: true, TimeFormat: "15:04:05.000"})
	if lv, err := log.ParseLevel(level); err == nil {
		l.SetLevel(lv)
	}
	switch format {
	case "json":
		l.SetFormatter(log.JSONFormatter)
	case "logfmt":
		l.SetFormatter(log.LogfmtFormatter)
	}
	return l
}
