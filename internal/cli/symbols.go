package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ims-dev/ims/internal/binance"
)

type symbolsOptions struct {
	Market    string
	Statuses  []string
	Quotes    []string
	Bases     []string
	Contracts []string
	Pattern   string
	Format    string
	RESTURL   string
	Timeout   time.Duration
}

func newSymbolsCmd(g *Global) *cobra.Command {
	opts := &symbolsOptions{}
	cmd := &cobra.Command{
		Use:   "symbols [pattern]",
		Short: "List a Binance market's symbols from exchangeInfo",
		Long: `List the symbols of a Binance market, from its REST exchangeInfo, sorted by
name: status, base and quote asset, tick size (PRICE_FILTER) and step size
(LOT_SIZE); on futures also the contract type, pair and margin asset, and on
COIN-M the contract size. Sizes are shown without trailing zeros.

The optional pattern is a glob on the symbol name, case-insensitive: "btc*",
"*USDT", "BTCUSD_2?????". The filter flags take comma-separated values, each
matched case-insensitively; a symbol must pass every filter given.

Output formats: table (aligned columns for people), json (one array, one
symbol object per line; "[]" when nothing matches) and csv (with a header).
An empty result is not an error.`,
		Example: `  # USD-M perpetuals quoted in USDT
  ims symbols --market usdm --contract PERPETUAL --quote USDT

  # Every spot symbol starting with BTC that trades, as CSV
  ims symbols 'btc*' --status TRADING --format csv

  # COIN-M quarterly contracts as JSON
  ims symbols --market coinm --contract CURRENT_QUARTER,NEXT_QUARTER --format json

  # Against a local fake or a proxy
  IMS_BINANCE_REST_URL=http://127.0.0.1:8080 ims symbols --market usdm`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Pattern = args[0]
			}
			return runSymbols(cmd.Context(), g, opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.Market, "market", "m", "spot", "market: "+strings.Join(binance.MarketNames(), ", "))
	fs.StringSliceVar(&opts.Statuses, "status", nil, "only these statuses (TRADING, BREAK, PENDING_TRADING, ...)")
	fs.StringSliceVar(&opts.Quotes, "quote", nil, "only these quote assets (USDT, BTC, USD, ...)")
	fs.StringSliceVar(&opts.Bases, "base", nil, "only these base assets")
	fs.StringSliceVar(&opts.Contracts, "contract", nil, "only these futures contract types (PERPETUAL, CURRENT_QUARTER, ...)")
	fs.StringVarP(&opts.Format, "format", "o", binance.FormatTable, "output format: "+strings.Join(binance.SymbolFormats(), ", "))
	fs.StringVar(&opts.RESTURL, "rest-url", "", "Binance REST base URL (default: the market's, e.g. https://api.binance.com; a trailing API prefix such as /api is ignored)")
	fs.DurationVar(&opts.Timeout, "timeout", 30*time.Second, "give up on exchangeInfo after this long")
	setEnvName(fs, "rest-url", "IMS_BINANCE_REST_URL")
	_ = cmd.RegisterFlagCompletionFunc("market", fixedCompletion(binance.MarketNames()))
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletion(binance.SymbolFormats()))
	_ = cmd.RegisterFlagCompletionFunc("status", fixedCompletion([]string{"TRADING", "BREAK", "HALT", "END_OF_DAY", "PENDING_TRADING", "PRE_DELIVERING", "DELIVERING", "DELIVERED", "PRE_SETTLE", "SETTLING", "CLOSE"}))
	_ = cmd.RegisterFlagCompletionFunc("contract", fixedCompletion([]string{"PERPETUAL", "CURRENT_MONTH", "NEXT_MONTH", "CURRENT_QUARTER", "NEXT_QUARTER", "PERPETUAL_DELIVERING", "CURRENT_QUARTER_DELIVERING", "NEXT_QUARTER_DELIVERING", "TRADIFI_PERPETUAL"}))
	return cmd
}

func fixedCompletion(values []string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

func runSymbols(ctx context.Context, g *Global, opts *symbolsOptions) error {
	m, err := binance.ParseMarket(opts.Market)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("--market: %w", err)}
	}
	format := strings.ToLower(opts.Format)
	if !binance.ValidFormat(format) {
		return usageErrorf("invalid --format %q: want %s", opts.Format, strings.Join(binance.SymbolFormats(), ", "))
	}
	if len(opts.Contracts) > 0 && !m.IsFutures() {
		return usageErrorf("--contract filters futures contract types; %s has none", m)
	}
	if opts.Timeout <= 0 {
		return usageErrorf("--timeout must be positive, not %s", opts.Timeout)
	}
	filter := binance.SymbolFilter{Statuses: opts.Statuses, Bases: opts.Bases, Quotes: opts.Quotes, Contracts: opts.Contracts, Pattern: opts.Pattern}
	if err := filter.Check(); err != nil {
		return &UsageError{Err: err}
	}
	client, err := binance.NewClient(m, binance.ClientOptions{BaseURL: opts.RESTURL, Timeout: opts.Timeout, ExchangeInfoTTL: -1})
	if err != nil {
		return &UsageError{Err: fmt.Errorf("--rest-url: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	g.Logger.Debug("fetching exchangeInfo", "market", m, "url", client.BaseURL()+m.RESTPrefix()+"/exchangeInfo")
	all, err := client.Symbols(ctx)
	if err != nil {
		return fmt.Errorf("listing %s symbols: %w", m, err)
	}
	picked, err := binance.FilterSymbols(all, filter)
	if err != nil {
		return &UsageError{Err: err}
	}
	g.Logger.Debug("symbols", "market", m, "listed", len(all), "matched", len(picked))
	if err := binance.WriteSymbols(g.IO.Out, m, picked, format); err != nil {
		return fmt.Errorf("writing symbols: %w", err)
	}
	return nil
}
