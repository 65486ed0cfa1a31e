package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// runCLI drives the whole command line the way main does and returns the
// exit status, stdout and stderr.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), IO{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut},
		BuildInfo{Version: "1.2.3", Commit: "abc123", Date: "2026-11-28"}, args)
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, _ := runCLI(t, "", args...)
		if code != ExitOK || out != "ims version 1.2.3 (commit abc123, built 2026-11-28)\n" {
			t.Errorf("%v: code %d, out %q", args, code, out)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"--no-such-flag"},
		{"completion"},
		{"completion", "tcsh"},
		{"version", "extra"},
		{"--log-level", "loud", "version"},
	} {
		code, out, errOut := runCLI(t, "", args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, ExitUsage, errOut)
		}
		if out != "" {
			t.Errorf("%v: usage error wrote to stdout: %q", args, out)
		}
		if !strings.Contains(errOut, "Error:") {
			t.Errorf("%v: stderr lacks the error: %q", args, errOut)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash":       "__start_ims",
		"zsh":        "#compdef ims",
		"fish":       "complete -c ims",
		"powershell": "Register-ArgumentCompleter",
	} {
		code, out, errOut := runCLI(t, "", "completion", shell)
		if code != ExitOK || !strings.Contains(out, marker) {
			t.Errorf("completion %s: code %d, stderr %q, output lacks %q", shell, code, errOut, marker)
		}
	}
}

func TestEnvBinding(t *testing.T) {
	t.Setenv("IMS_LOG_LEVEL", "shout")
	code, _, errOut := runCLI(t, "", "version")
	if code != ExitUsage || !strings.Contains(errOut, "shout") {
		t.Fatalf("IMS_LOG_LEVEL must reach --log-level: code %d, stderr %q", code, errOut)
	}
	// The command line wins over the environment.
	code, _, errOut = runCLI(t, "", "--log-level", "debug", "version")
	if code != ExitOK {
		t.Fatalf("flag must override env: code %d, stderr %q", code, errOut)
	}
}

func TestEveryCommandHasHelpAndExamples(t *testing.T) {
	root := NewRootCmd(&Global{Build: BuildInfo{Version: "test"}})
	var check func(c *cobra.Command)
	check = func(c *cobra.Command) {
		if c.Name() == "help" {
			return
		}
		if c.Short == "" || c.Example == "" {
			t.Errorf("command %q lacks Short or Example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			check(sub)
		}
	}
	check(root)
}

func TestFlagHelpNamesEnv(t *testing.T) {
	code, out, _ := runCLI(t, "", "--help")
	if code != ExitOK || !strings.Contains(out, "[$IMS_LOG_LEVEL]") {
		t.Fatalf("help should name the env variable: %q", out)
	}
}
