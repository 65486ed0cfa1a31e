// Command docgen writes the CLI reference (Markdown) and the shell completion
// scripts from the command tree, so both stay in step with the code. It runs
// through go generate; CI fails when its output differs from what is committed.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ims-dev/ims/internal/cli"
	"github.com/spf13/cobra/doc"
)

func main() {
	docsDir := flag.String("docs", "docs/cli", "directory for the Markdown CLI reference")
	compDir := flag.String("completions", "completions", "directory for shell completion scripts")
	flag.Parse()
	if err := run(*docsDir, *compDir); err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}

func run(docsDir, compDir string) error {
	g := &cli.Global{IO: cli.IO{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, Build: cli.BuildInfo{Version: "dev"}}
	root := cli.NewRootCmd(g)
	root.SetContext(context.Background())

	if err := os.RemoveAll(docsDir); err != nil {
		return err
	}
	if err := os.MkdirAll(docsDir, 0o755); err != nil {
		return err
	}
	if err := doc.GenMarkdownTree(root, docsDir); err != nil {
		return fmt.Errorf("writing CLI reference: %w", err)
	}
	if err := os.MkdirAll(compDir, 0o755); err != nil {
		return err
	}
	scripts := map[string]func(*bytes.Buffer) error{
		"ims.bash": func(b *bytes.Buffer) error { return root.GenBashCompletionV2(b, true) },
		"_ims":     func(b *bytes.Buffer) error { return root.GenZshCompletion(b) },
		"ims.fish": func(b *bytes.Buffer) error { return root.GenFishCompletion(b, true) },
		"ims.ps1":  func(b *bytes.Buffer) error { return root.GenPowerShellCompletionWithDesc(b) },
	}
	for name, gen := range scripts {
		var b bytes.Buffer
		if err := gen(&b); err != nil {
			return fmt.Errorf("generating %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(compDir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
