package binance

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/ims-dev/ims/internal/market"
)

// SymbolFilter selects exchangeInfo symbols. Every set criterion must
// match; each list matches any of its values, case-insensitively.
type SymbolFilter struct {
	Statuses  []string
	Bases     []string
	Quotes    []string
	Contracts []string
	// Pattern is a glob on the symbol name ("BTC*", "*USD_2?????"),
	// case-insensitive; "" matches all.
	Pattern string
}

// Check validates the pattern.
func (f SymbolFilter) Check() error {
	if f.Pattern == "" {
		return nil
	}
	if _, err := path.Match(strings.ToUpper(f.Pattern), ""); err != nil {
		return fmt.Errorf("symbol pattern %q: %w", f.Pattern, err)
	}
	return nil
}

// Match reports whether s passes the filter (the pattern must be valid).
func (f SymbolFilter) Match(s *SymbolInfo) bool {
	if !anyFold(f.Statuses, s.Status) || !anyFold(f.Bases, s.BaseAsset) || !anyFold(f.Quotes, s.QuoteAsset) || !anyFold(f.Contracts, s.ContractType) {
		return false
	}
	if f.Pattern != "" {
		ok, err := path.Match(strings.ToUpper(f.Pattern), strings.ToUpper(s.Symbol))
		return err == nil && ok
	}
	return true
}

func anyFold(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), v) {
			return true
		}
	}
	return false
}

// FilterSymbols returns the symbols passing f, keeping their order.
func FilterSymbols(infos []SymbolInfo, f SymbolFilter) ([]SymbolInfo, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	out := make([]SymbolInfo, 0, len(infos))
	for i := range infos {
		if f.Match(&infos[i]) {
			out = append(out, infos[i])
		}
	}
	return out, nil
}

// Output formats of WriteSymbols.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatCSV   = "csv"
)

// SymbolFormats lists the formats WriteSymbols accepts.
func SymbolFormats() []string { return []string{FormatTable, FormatJSON, FormatCSV} }

// symbolRow is one output record. Sizes are decimal text with trailing zeros
// dropped ("0.01", not "0.01000000"); futures-only fields are empty on spot.
type symbolRow struct {
	Symbol, Status, Base, Quote      string
	ContractType, Pair, MarginAsset  string
	ContractSize, TickSize, StepSize string
}

func rowOf(s *SymbolInfo) symbolRow {
	return symbolRow{
		Symbol: s.Symbol, Status: s.Status, Base: s.BaseAsset, Quote: s.QuoteAsset,
		ContractType: s.ContractType, Pair: s.Pair, MarginAsset: s.MarginAsset,
		ContractSize: TrimDecimal(s.ContractSize), TickSize: TrimDecimal(s.TickSize), StepSize: TrimDecimal(s.StepSize),
	}
}

// TrimDecimal renders d without trailing fraction zeros ("0.01000000" →
// "0.01", "1.00" → "1"); the null decimal renders as "".
func TrimDecimal(d market.Decimal) string {
	if d.IsNull() {
		return ""
	}
	s := string(d.AppendText(nil))
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// columns returns the column names (table and CSV headers), the JSON keys
// and the row cells for m: futures add the contract type, pair and margin
// asset, COIN-M the contract size. The columns depend on the market only,
// never on a row's values, so every JSON object of a market has the same
// keys (an empty value is "", not a missing key).
func columns(m Market) (header, keys []string, cells func(r *symbolRow) []string) {
	header = []string{"symbol", "status", "base", "quote"}
	keys = []string{"symbol", "status", "base", "quote"}
	fut, coin := m.IsFutures(), m.Family() == FamilyCoinM
	if fut {
		header = append(header, "contract_type", "pair", "margin_asset")
		keys = append(keys, "contractType", "pair", "marginAsset")
	}
	if coin {
		header = append(header, "contract_size")
		keys = append(keys, "contractSize")
	}
	header = append(header, "tick_size", "step_size")
	keys = append(keys, "tickSize", "stepSize")
	cells = func(r *symbolRow) []string {
		c := []string{r.Symbol, r.Status, r.Base, r.Quote}
		if fut {
			c = append(c, r.ContractType, r.Pair, r.MarginAsset)
		}
		if coin {
			c = append(c, r.ContractSize)
		}
		return append(c, r.TickSize, r.StepSize)
	}
	return header, keys, cells
}

// appendJSONObject appends {"k0":"v0",...} with the keys in order.
func appendJSONObject(dst []byte, keys, values []string) []byte {
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(values[i])
		dst = append(append(append(dst, kb...), ':'), vb...)
	}
	return append(dst, '}')
}

// WriteSymbols writes symbols of market m to w as a table (aligned columns,
// header in upper case), JSON (one array, one symbol object per line; "[]"
// when empty) or CSV (with a header line).
func WriteSymbols(w io.Writer, m Market, infos []SymbolInfo, format string) error {
	header, keys, cells := columns(m)
	switch format {
	case FormatJSON:
		bw := bufio.NewWriter(w)
		if len(infos) == 0 {
			bw.WriteString("[]\n")
			return bw.Flush()
		}
		var b []byte
		for i := range infos {
			r := rowOf(&infos[i])
			b = appendJSONObject(b[:0], keys, cells(&r))
			if i == 0 {
				bw.WriteString("[\n")
			} else {
				bw.WriteString(",\n")
			}
			bw.Write(b)
		}
		bw.WriteString("\n]\n")
		return bw.Flush()
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(header); err != nil {
			return err
		}
		for i := range infos {
			r := rowOf(&infos[i])
			if err := cw.Write(cells(&r)); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case FormatTable:
		var buf bytes.Buffer
		table := tablewriter.NewTable(&buf,
			tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
				Borders: tw.BorderNone,
				Symbols: tw.NewSymbols(tw.StyleNone),
				Settings: tw.Settings{
					Separators: tw.Separators{BetweenColumns: tw.Off, BetweenRows: tw.Off, ShowHeader: tw.Off},
					Lines:      tw.Lines{ShowHeaderLine: tw.Off},
				},
			})),
			tablewriter.WithHeaderAlignment(tw.AlignLeft),
			tablewriter.WithRowAlignment(tw.AlignLeft),
			tablewriter.WithHeaderAutoFormat(tw.Off),
			tablewriter.WithTrimSpace(tw.Off),
			tablewriter.WithPadding(tw.Padding{Left: "", Right: "  ", Overwrite: true}),
		)
		up := make([]any, len(header))
		for i, h := range header {
			up[i] = strings.ToUpper(strings.ReplaceAll(h, "_", " "))
		}
		table.Header(up...)
		for i := range infos {
			r := rowOf(&infos[i])
			if err := table.Append(cells(&r)); err != nil {
				return fmt.Errorf("rendering table: %w", err)
			}
		}
		if err := table.Render(); err != nil {
			return fmt.Errorf("rendering table: %w", err)
		}
		// Columns are padded on the right; drop the padding at line ends.
		lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
		var out strings.Builder
		for _, l := range lines {
			out.WriteString(strings.TrimRight(l, " "))
			out.WriteByte('\n')
		}
		_, err := io.WriteString(w, out.String())
		return err
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(SymbolFormats(), ", "))
}

// ValidFormat reports whether WriteSymbols accepts format.
func ValidFormat(format string) bool { return slices.Contains(SymbolFormats(), format) }
