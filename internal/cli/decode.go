package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ims-dev/ims/internal/decode"
	"github.com/ims-dev/ims/sbe/sbert"
)

type decodeOptions struct {
	Format string
	Hex    bool
	Base64 bool
	Schema string
	Count  int
	Input  string
}

func newDecodeCmd(g *Global) *cobra.Command {
	opts := &decodeOptions{}
	cmd := &cobra.Command{
		Use:   "decode [file | hex | base64]",
		Short: "Decode SBE messages (ims schema and Binance's stream schema) to text or JSON",
		Long: `Decode SBE messages from a file, or from stdin when no file (or "-") is
given, and print one line per message: readable text, or with --format json
one JSON object per line (JSON Lines).

Input, by default, is raw binary: messages back to back, each delimited by
its own header, block length, repeating groups and var data. With --hex or
--base64 the input has one encoded message per line; whitespace inside a
line is ignored, blank lines are skipped, and a leading byte order mark is
dropped. Hex may be split into groups by spaces or commas, each group
optionally starting with 0x ("0x30, 0x00, ..."). Base64 may use the
standard or the URL alphabet, padded or not. With --hex (or
--base64) the argument may be the message itself rather than a file: when no
file of that name exists and the argument is valid hex (base64), it is
decoded as data.

The schema of each message is chosen from its header: schema id 1 with an
ims template (101-205, 301-320, 401-404, 801-803) is the ims schema, schema id 1 with
a template of 10000-10003 is Binance's market data stream schema
(stream_1_0.xml). --schema ims or --schema binance-stream decodes every
message with that schema whatever its header's schema id says.

JSON objects start with name, templateId, schemaId and version (from the
header), then every field under its schema name in schema order. Decimals
are strings with exactly their encoded scale ("37000.50"); absent optional
values are null; timestamps are the encoded integers (microseconds, or
nanoseconds for receiveTime); enums are names, or numbers for values the
schema does not define; symbols lose their NUL padding (ims symbols are
upper-cased, as the original system's decoder did); repeating groups are
arrays of objects. Text lines show timestamps in RFC 3339 (UTC, full
precision; a time outside the years 0000-9999 as its integer) and groups
as [{field=value ...} ...].

A message that is truncated, declares lengths beyond the input or beyond
sane limits (16 MiB per message), or has an unknown template is reported on
stderr with its byte offset (raw) or line number (--hex, --base64), after
the messages before it have been printed; the exit status is then 1. Raw
input stops at the first such message, since what follows cannot be
delimited; line input goes on with the next line.`,
		Example: `  # One TradeBar given as hex on the command line, as JSON
  ims decode --hex 3000cd0001000100cd00425443555344540000000000000000000000000000401e18240a06005275380000000000027d0000000000000004 --format json

  # A file of concatenated binary messages
  ims decode messages.bin

  # Hex lines from another tool, first 10 messages
  some-tool | ims decode --hex --count 10

  # Binance SBE market data frames saved as base64 lines, as JSON Lines
  ims decode --base64 --schema binance-stream -o json frames.b64`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Input = args[0]
			}
			return runDecode(cmd.Context(), g, opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.Format, "format", "o", "text", "output format: text or json (JSON Lines)")
	fs.BoolVar(&opts.Hex, "hex", false, "input is one hex-encoded message per line (or the argument is the hex)")
	fs.BoolVar(&opts.Base64, "base64", false, "input is one base64-encoded message per line (or the argument is the base64)")
	fs.StringVar(&opts.Schema, "schema", decode.AutoSchema, "schema: "+strings.Join(decode.SchemaNames(), ", ")+" (auto: from each header)")
	fs.IntVarP(&opts.Count, "count", "n", 0, "stop after this many messages (0: all)")
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletion([]string{"text", "json"}))
	_ = cmd.RegisterFlagCompletionFunc("schema", fixedCompletion(decode.SchemaNames()))
	return cmd
}

func runDecode(ctx context.Context, g *Global, opts *decodeOptions) error {
	var o decode.Options
	switch strings.ToLower(opts.Format) {
	case "text":
		o.Format = sbert.FormatText
	case "json", "jsonl":
		o.Format = sbert.FormatJSON
	default:
		return usageErrorf("invalid --format %q: want text or json", opts.Format)
	}
	switch {
	case opts.Hex && opts.Base64:
		return usageErrorf("--hex and --base64 exclude each other")
	case opts.Hex:
		o.Input = decode.Hex
	case opts.Base64:
		o.Input = decode.Base64
	}
	if _, ok := decode.CodecByName(opts.Schema); !ok && opts.Schema != decode.AutoSchema {
		return usageErrorf("invalid --schema %q: want %s", opts.Schema, strings.Join(decode.SchemaNames(), ", "))
	}
	o.Schema = opts.Schema
	if opts.Count < 0 {
		return usageErrorf("--count must not be negative")
	}
	o.Count = opts.Count

	src, err := decode.Open(opts.Input, o.Input, g.IO.In)
	if err != nil {
		return fmt.Errorf("opening input: %w", err)
	}
	defer src.Close()
	g.Logger.Debug("decoding", "input", src.Name, "as", o.Input, "schema", o.Schema, "format", o.Format)
	res, err := decode.Run(ctx, src, g.IO.Out, o, func(e *decode.Error) {
		fmt.Fprintf(g.IO.ErrOut, "decode: %v\n", e)
	})
	g.Logger.Debug("decoded", "messages", res.Messages, "errors", res.Errors, "bytes", res.Bytes)
	if err != nil {
		return fmt.Errorf("decoding %s: %w", src.Name, err)
	}
	if res.Errors > 0 {
		return errReported
	}
	return nil
}
