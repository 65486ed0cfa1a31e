package cli

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const decodeTradeBarHex = "3000cd0001000100cd00425443555344540000000000000000000000000000401e18240a06005275380000000000027d0000000000000004"

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeAcceptance is the brief's acceptance check.
func TestDecodeAcceptance(t *testing.T) {
	code, out, errOut := runCLI(t, "", "decode", "--hex", decodeTradeBarHex, "--format", "json")
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	want := map[string]any{
		"name": "TradeBar", "templateId": 205.0, "schemaId": 1.0, "version": 1.0, "messageType": "TradeBar",
		"symbolID": "BTCUSDT", "dateTime": 1700000000000000.0, "price": "37000.50", "volume": "0.0125",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	if len(m) != len(want) {
		t.Errorf("fields %v", m)
	}
	if !strings.HasSuffix(out, "}\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("not one JSON line: %q", out)
	}
	// dateTime must be an exact integer in the text, not a float.
	if !strings.Contains(out, `"dateTime":1700000000000000,`) {
		t.Errorf("dateTime rendering: %s", out)
	}
}

// TestDecodeOriginalVectors decodes every vector of docs/original-system.md
// and compares field by field, with the schema's field and enum names.
func TestDecodeOriginalVectors(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		want map[string]any
	}{
		{"04 00 65 00 01 00 01 00 65 00 78 00", map[string]any{"name": "ClientLogin", "templateId": 101.0, "messageType": "ClientLogin", "clientID": 120.0}},
		{"04 00 66 00 01 00 01 00 66 00 2a 00", map[string]any{"name": "ClientLogout", "messageType": "ClientLogout", "clientID": 42.0}},
		{"1b00c90001000100 c900 7800 04 4254435553445400000000000000000000000000 01 02", map[string]any{
			"name": "StartDataMsg", "templateId": 201.0, "messageType": "StartData", "clientID": 120.0, "exchangeID": "BinanceSpot",
			"symbolID": "BTCUSDT", "timeResolution": "OneMin", "dataTypeID": "OHLCVData"}},
		{"1b00c90001000100 c900 0100 01 4150504c00000000000000000000000000000000 00 01", map[string]any{
			"name": "StartDataMsg", "clientID": 1.0, "exchangeID": "Kraken", "symbolID": "APPL", "timeResolution": "NoValue", "dataTypeID": "TradeData"}},
		{"1a00ca0001000100 ca00 0100 01 4150504c00000000000000000000000000000000 01", map[string]any{
			"name": "StopDataMsg", "templateId": 202.0, "messageType": "StopData", "clientID": 1.0, "exchangeID": "Kraken", "symbolID": "APPL", "dataTypeID": "TradeData"}},
		{"0500cb0001000100 cb00 0100 01", map[string]any{"name": "StopAllDataMsg", "messageType": "StopAllData", "clientID": 1.0, "exchangeID": "Kraken"}},
		{"3000cd0001000100 cd00 6274637573647400000000000000000000000000 00401e18240a0600 80782a7c5d030000 08 d012130000000000 08", map[string]any{
			"name": "TradeBar", "symbolID": "BTCUSDT", "dateTime": 1700000000000000.0, "price": "37000.50000000", "volume": "0.01250000"}},
		{"3000cd0001000100 cd00 4150504c00000000000000000000000000000000 4016a4a87adc0500 da61000000000000 02 6400000000000000 00", map[string]any{
			"name": "TradeBar", "symbolID": "APPL", "dateTime": 1649794257000000.0, "price": "250.50", "volume": "100"}},
		{"0500210301000100 2103 7800 02", map[string]any{"name": "ClientError", "templateId": 801.0, "messageType": "ClientError", "clientID": 120.0, "clientErrorType": "ClientLogInError"}},
		{"0500220301000100 2203 7800 08", map[string]any{"name": "DataError", "templateId": 802.0, "messageType": "DataError", "clientID": 120.0, "dataErrorType": "DataClientNotLoggedInError"}},
		{"4b00cc0001000100 cc00 4554485553445400000000000000000000000000 00401e18240a0600 a08601000000000002 08a901000000000002 98a101000000000002 50a401000000000002 393000000000000003",
			map[string]any{"name": "DataBar", "templateId": 204.0, "messageType": "DataBar", "symbolID": "ETHUSDT", "dateTime": 1700000000000000.0,
				"openPrice": "1000.00", "highPrice": "1088.08", "lowPrice": "1069.04", "closePrice": "1076.00", "volume": "12.345"}},
	} {
		msg := mustHex(t, tc.hex)
		code, out, errOut := runCLI(t, "", "decode", "--hex", "-o", "json", hex.EncodeToString(msg))
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", tc.want["name"], code, errOut)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		for k, v := range tc.want {
			if m[k] != v {
				t.Errorf("%s: %s = %#v, want %#v", tc.want["name"], k, m[k], v)
			}
		}
	}
}

func TestDecodeConcatenatedFile(t *testing.T) {
	tb := mustHex(t, decodeTradeBarHex)
	login := mustHex(t, "04 00 65 00 01 00 01 00 65 00 78 00")
	errMsg := mustHex(t, "0500220301000100 2203 7800 08")
	var data []byte
	data = append(data, login...)
	data = append(data, tb...)
	data = append(data, errMsg...)
	data = append(data, tb...)
	path := filepath.Join(t.TempDir(), "messages.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "decode", path)
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "ClientLogin messageType=ClientLogin clientID=120\n" +
		"TradeBar messageType=TradeBar symbolID=BTCUSDT dateTime=2023-11-14T22:13:20.000000Z price=37000.50 volume=0.0125\n" +
		"DataError messageType=DataError clientID=120 dataErrorType=DataClientNotLoggedInError\n" +
		"TradeBar messageType=TradeBar symbolID=BTCUSDT dateTime=2023-11-14T22:13:20.000000Z price=37000.50 volume=0.0125\n"
	if out != want {
		t.Fatalf("out:\n%s\nwant:\n%s", out, want)
	}
	// The same from stdin, JSON, limited to 2.
	code, out, _ = runCLI(t, string(data), "decode", "-o", "json", "-n", "2")
	if code != ExitOK || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"name":"ClientLogin"`) {
		t.Fatalf("stdin: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, string(data), "decode", "-")
	if code != ExitOK || strings.Count(out, "\n") != 4 {
		t.Fatalf("stdin '-': exit %d, %q", code, out)
	}
}

func TestDecodeBadInput(t *testing.T) {
	tb := mustHex(t, decodeTradeBarHex)
	data := append(append(append([]byte(nil), tb...), tb...), tb[:12]...)
	path := filepath.Join(t.TempDir(), "truncated.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "decode", path)
	if code != ExitError || strings.Count(out, "\n") != 2 {
		t.Fatalf("exit %d, out %q", code, out)
	}
	if errOut != "decode: offset 112: truncated TradeBar: need 56 bytes, have 12\n" {
		t.Fatalf("stderr %q", errOut)
	}

	// Hex lines: bad lines are reported and skipped; the good ones print.
	in := decodeTradeBarHex + "\nnot hex\n\n" + decodeTradeBarHex[:30] + "\n" + decodeTradeBarHex + "\n"
	code, out, errOut = runCLI(t, in, "decode", "--hex")
	if code != ExitError || strings.Count(out, "\n") != 2 {
		t.Fatalf("hex: exit %d, out %q", code, out)
	}
	if errOut != "decode: line 2: invalid hex: encoding/hex: invalid byte: U+006E 'n'\n"+
		"decode: line 4: truncated TradeBar: need 56 bytes, have 15\n" {
		t.Fatalf("hex stderr %q", errOut)
	}

	// An unknown template stops raw decoding.
	unk := append([]byte(nil), tb...)
	unk[2], unk[3] = 0x39, 0x30 // template 12345
	code, out, errOut = runCLI(t, string(append(append(append([]byte(nil), tb...), unk...), tb...)), "decode", "-o", "json")
	if code != ExitError || strings.Count(out, "\n") != 1 ||
		!strings.HasPrefix(errOut, "decode: offset 56: unknown message: schema id 1, template 12345") {
		t.Fatalf("unknown: exit %d, out %q, err %q", code, out, errOut)
	}

	code, _, errOut = runCLI(t, "", "decode", filepath.Join(t.TempDir(), "missing.bin"))
	if code != ExitError || !strings.Contains(errOut, "no such file") {
		t.Fatalf("missing file: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "decode", "--hex", "xyz")
	if code != ExitError || !strings.Contains(errOut, `"xyz" is neither an existing file nor valid hex data`) {
		t.Fatalf("bad hex argument: exit %d, %q", code, errOut)
	}
}

func TestDecodeBase64AndSchema(t *testing.T) {
	tb := mustHex(t, decodeTradeBarHex)
	b64 := base64.StdEncoding.EncodeToString(tb)
	code, out, _ := runCLI(t, "", "decode", "--base64", b64)
	if code != ExitOK || !strings.HasPrefix(out, "TradeBar messageType=TradeBar symbolID=BTCUSDT ") {
		t.Fatalf("base64 argument: exit %d, %q", code, out)
	}
	code, out, errOut := runCLI(t, b64+"\n", "decode", "--base64", "--schema", "binance-stream")
	if code != ExitError || out != "" || !strings.Contains(errOut, "decode: line 1: unknown message: template 205") {
		t.Fatalf("forced schema: exit %d, %q, %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, b64+"\n", "decode", "--base64", "--schema", "ims", "--format", "json")
	if code != ExitOK || !strings.HasPrefix(out, `{"name":"TradeBar"`) {
		t.Fatalf("--schema ims: exit %d, %q", code, out)
	}
}

func TestDecodeUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"decode", "--hex", "--base64", decodeTradeBarHex},
		{"decode", "--format", "xml"},
		{"decode", "--schema", "fix"},
		{"decode", "--count", "-1"},
		{"decode", "a", "b"},
	} {
		code, _, errOut := runCLI(t, "", args...)
		if code != ExitUsage || !strings.Contains(errOut, "Run 'ims decode --help' for usage.") {
			t.Errorf("%v: exit %d, %q", args, code, errOut)
		}
	}
}

func TestDecodeEnv(t *testing.T) {
	t.Setenv("IMS_FORMAT", "json")
	t.Setenv("IMS_HEX", "true")
	code, out, errOut := runCLI(t, "", "decode", decodeTradeBarHex)
	if code != ExitOK || !strings.HasPrefix(out, `{"name":"TradeBar"`) {
		t.Fatalf("exit %d, %q, %q", code, out, errOut)
	}
}
