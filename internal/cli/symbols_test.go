package cli

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ims-dev/ims/internal/binance/binancetest"
)

// fakeBinance serves the recorded exchangeInfo files of all three markets.
func fakeBinance(t *testing.T) *binancetest.Server {
	t.Helper()
	srv := binancetest.NewServer(binancetest.Options{})
	t.Cleanup(srv.Close)
	if err := srv.LoadRecorded(filepath.Join("..", "binance", "testdata")); err != nil {
		t.Fatal(err)
	}
	return srv
}

type symbolJSON struct {
	Symbol       string `json:"symbol"`
	Status       string `json:"status"`
	Base         string `json:"base"`
	Quote        string `json:"quote"`
	ContractType string `json:"contractType"`
	Pair         string `json:"pair"`
	MarginAsset  string `json:"marginAsset"`
	ContractSize string `json:"contractSize"`
	TickSize     string `json:"tickSize"`
	StepSize     string `json:"stepSize"`
}

func TestSymbolsTable(t *testing.T) {
	srv := fakeBinance(t)
	code, out, errOut := runCLI(t, "", "symbols", "--rest-url", srv.URL(), "BTCUSD?")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("want header + BTCUSDC, BTCUSDP, BTCUSDS, BTCUSDT:\n%s", out)
	}
	if f := strings.Fields(lines[0]); strings.Join(f, " ") != "SYMBOL STATUS BASE QUOTE TICK SIZE STEP SIZE" {
		t.Errorf("header %q", lines[0])
	}
	if f := strings.Fields(lines[4]); strings.Join(f, " ") != "BTCUSDT TRADING BTC USDT 0.01 0.00001" {
		t.Errorf("row %q", lines[4])
	}
	if f := strings.Fields(lines[3]); strings.Join(f, " ") != "BTCUSDS BREAK BTC USDS 0.01 0.000001" {
		t.Errorf("row %q", lines[3])
	}
	for _, l := range lines {
		if strings.HasSuffix(l, " ") {
			t.Errorf("trailing spaces in %q", l)
		}
	}
	// Columns line up: every row's second field starts where the header's does.
	col := strings.Index(lines[0], "STATUS")
	for _, l := range lines[1:] {
		if l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("misaligned row %q", l)
		}
	}
	if srv.Count(binancetest.APISpot, "exchangeInfo") != 1 {
		t.Error("exchangeInfo not fetched once")
	}
}

func TestSymbolsJSONFilters(t *testing.T) {
	srv := fakeBinance(t)
	code, out, errOut := runCLI(t, "", "symbols", "--market", "usdm", "--rest-url", srv.URL(),
		"--contract", "perpetual", "--quote", "USDT", "--status", "TRADING", "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rows []symbolJSON
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, out)
	}
	if len(rows) < 100 {
		t.Fatalf("only %d USDT perpetuals", len(rows))
	}
	for i, r := range rows {
		if r.ContractType != "PERPETUAL" || r.Quote != "USDT" || r.Status != "TRADING" || r.MarginAsset != "USDT" || r.TickSize == "" || r.StepSize == "" {
			t.Fatalf("row %+v", r)
		}
		if i > 0 && rows[i-1].Symbol >= r.Symbol {
			t.Fatalf("not sorted at %s", r.Symbol)
		}
	}
	// One object per line between the brackets.
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != len(rows)+2 || lines[0] != "[" || lines[len(lines)-1] != "]" {
		t.Errorf("layout: %d lines for %d rows", len(lines), len(rows))
	}
	var btc *symbolJSON
	for i := range rows {
		if rows[i].Symbol == "BTCUSDT" {
			btc = &rows[i]
		}
	}
	if btc == nil || btc.TickSize != "0.01" || btc.StepSize != "0.001" || btc.Pair != "BTCUSDT" || btc.Base != "BTC" {
		t.Errorf("BTCUSDT %+v", btc)
	}
}

func TestSymbolsCSVCoinM(t *testing.T) {
	srv := fakeBinance(t)
	t.Setenv("IMS_BINANCE_REST_URL", srv.URL())
	code, out, errOut := runCLI(t, "", "symbols", "-m", "coinm", "-o", "csv", "btcusd_*")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"symbol", "status", "base", "quote", "contract_type", "pair", "margin_asset", "contract_size", "tick_size", "step_size"}
	if strings.Join(recs[0], ",") != strings.Join(want, ",") {
		t.Errorf("header %v", recs[0])
	}
	if len(recs) < 3 {
		t.Fatalf("records %v", recs)
	}
	for _, r := range recs[1:] {
		if !strings.HasPrefix(r[0], "BTCUSD_") || r[5] != "BTCUSD" || r[6] != "BTC" || r[7] != "100" {
			t.Errorf("record %v", r)
		}
	}
	if srv.Count(binancetest.APICoinM, "exchangeInfo") != 1 {
		t.Error("the environment's REST URL was not used")
	}
}

func TestSymbolsEmptyResult(t *testing.T) {
	srv := fakeBinance(t)
	for format, want := range map[string]string{
		"json":  "[]\n",
		"csv":   "symbol,status,base,quote,tick_size,step_size\n",
		"table": "SYMBOL  STATUS  BASE  QUOTE  TICK SIZE  STEP SIZE\n",
	} {
		code, out, errOut := runCLI(t, "", "symbols", "--rest-url", srv.URL(), "--format", format, "NOTHING*")
		if code != ExitOK || out != want {
			t.Errorf("%s: exit %d, out %q (stderr %s)", format, code, out, errOut)
		}
	}
}

func TestSymbolsFailures(t *testing.T) {
	srv := fakeBinance(t)
	usage := [][]string{
		{"symbols", "--market", "options"},
		{"symbols", "--format", "yaml"},
		{"symbols", "--contract", "PERPETUAL"}, // spot has no contracts
		{"symbols", "[bad"},
		{"symbols", "a", "b"},
		{"symbols", "--rest-url", "ftp://x"},
		{"symbols", "--timeout", "0s"},
	}
	for _, args := range usage {
		if args[1] != "--rest-url" {
			args = append(args, "--rest-url", srv.URL())
		}
		code, out, errOut := runCLI(t, "", args...)
		if code != ExitUsage || out != "" || !strings.Contains(errOut, "Error:") {
			t.Errorf("%v: exit %d out %q err %q", args, code, out, errOut)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("usage errors sent %d requests", n)
	}

	// Binance answers with an error body: exit 1 with the URL, status and message.
	srv.Inject(binancetest.Fault{Endpoint: "exchangeInfo", Status: 403, Code: -2015, Msg: "forbidden here"})
	code, out, errOut := runCLI(t, "", "symbols", "--rest-url", srv.URL())
	if code != ExitError || out != "" || !strings.Contains(errOut, "listing spot symbols") ||
		!strings.Contains(errOut, "/api/v3/exchangeInfo") || !strings.Contains(errOut, "403") || !strings.Contains(errOut, "forbidden here") {
		t.Errorf("API error: exit %d out %q err %q", code, out, errOut)
	}
	// A body that is not exchangeInfo.
	srv.SetExchangeInfo(binancetest.APIUSDM, []byte(`{"weird":true}`))
	code, _, errOut = runCLI(t, "", "symbols", "--market", "usdm", "--rest-url", srv.URL())
	if code != ExitError || !strings.Contains(errOut, "no symbols array") {
		t.Errorf("bad body: exit %d err %q", code, errOut)
	}
	// Nothing listening.
	dead := binancetest.NewServer(binancetest.Options{})
	url := dead.URL()
	dead.Close()
	code, _, errOut = runCLI(t, "", "symbols", "--market", "coinm", "--rest-url", url, "--timeout", "5s")
	if code != ExitError || !strings.Contains(errOut, url+"/dapi/v1/exchangeInfo") {
		t.Errorf("network error: exit %d err %q", code, errOut)
	}
}

// Every JSON object of one market has the same keys in the same order,
// whatever the symbol's values: the recorded USD-M exchangeInfo has a
// PENDING_TRADING symbol whose contractType is "", and its object lost
// the key (omitempty), so consumers keyed on it broke on that row.
func TestSymbolsJSONShapeStable(t *testing.T) {
	srv := fakeBinance(t)
	want := map[string]string{
		"spot":  "symbol,status,base,quote,tickSize,stepSize",
		"usdm":  "symbol,status,base,quote,contractType,pair,marginAsset,tickSize,stepSize",
		"coinm": "symbol,status,base,quote,contractType,pair,marginAsset,contractSize,tickSize,stepSize",
	}
	for m, keys := range want {
		code, out, errOut := runCLI(t, "", "symbols", "--market", m, "--format", "json", "--rest-url", srv.URL())
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", m, code, errOut)
		}
		var rows []json.RawMessage
		if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) == 0 {
			t.Fatalf("%s: %v (%d rows)", m, err, len(rows))
		}
		for _, r := range rows {
			dec := json.NewDecoder(strings.NewReader(string(r)))
			var got []string
			if _, err := dec.Token(); err != nil {
				t.Fatal(err)
			}
			for dec.More() {
				k, _ := dec.Token()
				got = append(got, k.(string))
				if _, err := dec.Token(); err != nil {
					t.Fatal(err)
				}
			}
			if strings.Join(got, ",") != keys {
				t.Errorf("%s: keys %v in %s, want %s", m, got, r, keys)
			}
		}
	}
}

// A reply that is not JSON (a proxy's or Cloudflare's HTML page) names
// the URL and says what came back, instead of a bare decoder message, and
// an HTML error page is not passed off as "Binance error 0".
func TestSymbolsHTMLReply(t *testing.T) {
	srv := fakeBinance(t)
	page := "<!DOCTYPE html>\n<html>\n  <head><title>Attention Required! | Cloudflare</title></head>\n</html>\n"
	srv.Inject(binancetest.Fault{Endpoint: "exchangeInfo", Status: 200, Body: page})
	code, out, errOut := runCLI(t, "", "symbols", "--rest-url", srv.URL())
	if code != ExitError || out != "" || !strings.Contains(errOut, srv.URL()+"/api/v3/exchangeInfo") ||
		!strings.Contains(errOut, "not JSON") || !strings.Contains(errOut, "Attention Required") {
		t.Errorf("200 HTML: exit %d out %q err %q", code, out, errOut)
	}
	srv.Inject(binancetest.Fault{Endpoint: "exchangeInfo", Status: 403, Body: page})
	code, _, errOut = runCLI(t, "", "symbols", "--rest-url", srv.URL())
	if code != ExitError || strings.Contains(errOut, "Binance error") || !strings.Contains(errOut, "403") ||
		!strings.Contains(errOut, "<html> <head><title>Attention Required!") {
		t.Errorf("403 HTML: exit %d err %q", code, errOut)
	}
}
