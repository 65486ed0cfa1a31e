package imssbe_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ims-dev/ims/sbe/imssbe"
	"github.com/ims-dev/ims/sbe/sbert"
)

// unhex decodes hex with any spacing.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// Vectors from docs/original-system.md: §1.3 examples, §1.4 worked
// TradeBar (and the lowercase live-path variant), §6 the repo's own tests.
const (
	clientLogin120 = "04 00 65 00 01 00 01 00 65 00 78 00"
	clientLogin42  = "04 00 65 00 01 00 01 00 65 00 2a 00"
	clientLogout42 = "04 00 66 00 01 00 01 00 66 00 2a 00"
	// StartData(client 120, BinanceSpot, "BTCUSDT", OneMin, OHLCVData).
	startDataBTC = "1b00c90001000100 c900 7800 04 4254435553445400000000000000000000000000 01 02"
	// StartData(1, Kraken, "APPL", NoValue, TradeData) — the repo test.
	startDataAPPL = "1b00c90001000100 c900 0100 01 4150504c00000000000000000000000000000000 00 01"
	// StopData(1, Kraken, "APPL", TradeData).
	stopDataAPPL = "1a00ca0001000100 ca00 0100 01 4150504c00000000000000000000000000000000 01"
	// StopAllData(1, Kraken).
	stopAll = "0500cb0001000100 cb00 0100 01"
	// TradeBar BTCUSDT @ 1700000000000 ms, 37000.50, 0.0125 (§1.4).
	tradeBarBTC = "30 00 cd 00 01 00 01 00 cd 00" +
		"42 54 43 55 53 44 54 00 00 00 00 00 00 00 00 00 00 00 00 00" +
		"00 40 1e 18 24 0a 06 00 52 75 38 00 00 00 00 00 02 7d 00 00 00 00 00 00 00 04"
	// The same trade as the original live path emitted it: lower-case
	// symbol, Binance's 8 decimal places.
	tradeBarBTCLive = "3000cd0001000100 cd00 6274637573647400000000000000000000000000" +
		"00401e18240a0600 80782a7c5d030000 08 d012130000000000 08"
	// TradeBar "APPL" @ 2022-04-12T20:10:57Z, 250.50, 100 (the repo test).
	tradeBarAPPL = "3000cd0001000100 cd00 4150504c00000000000000000000000000000000" +
		"4016a4a87adc0500 da61000000000000 02 6400000000000000 00"
	// ClientError(120, ClientLogInError) and DataError(120, DataClientNotLoggedInError).
	clientError = "0500210301000100 2103 7800 02"
	dataError   = "0500220301000100 2203 7800 08"
)

func TestGoldenClientLoginLogout(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hex    string
		logout bool
		id     uint16
	}{
		{"login120", clientLogin120, false, 120},
		{"login42", clientLogin42, false, 42},
		{"logout42", clientLogout42, true, 42},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.hex)
			buf := make([]byte, 12)
			if tc.logout {
				var m imssbe.ClientLogout
				if err := m.WrapAndApplyHeader(buf, 0); err != nil {
					t.Fatal(err)
				}
				m.SetMessageType(imssbe.MessageTypeClientLogout)
				m.SetClientID(tc.id)
			} else {
				var m imssbe.ClientLogin
				if err := m.WrapAndApplyHeader(buf, 0); err != nil {
					t.Fatal(err)
				}
				m.SetMessageType(imssbe.MessageTypeClientLogin)
				m.SetClientID(tc.id)
				if got := imssbe.HeaderLength + m.EncodedLength(); got != 12 {
					t.Fatalf("length %d, want 12", got)
				}
			}
			if !bytes.Equal(buf, want) {
				t.Fatalf("encode:\n got %x\nwant %x", buf, want)
			}
			if tc.logout {
				var m imssbe.ClientLogout
				if err := m.WrapForDecodeHeader(want, 0); err != nil {
					t.Fatal(err)
				}
				if m.MessageType() != imssbe.MessageTypeClientLogout || m.ClientID() != tc.id {
					t.Fatalf("decode: %v %d", m.MessageType(), m.ClientID())
				}
			} else {
				var m imssbe.ClientLogin
				if err := m.WrapForDecodeHeader(want, 0); err != nil {
					t.Fatal(err)
				}
				if m.MessageType() != imssbe.MessageTypeClientLogin || m.ClientID() != tc.id {
					t.Fatalf("decode: %v %d", m.MessageType(), m.ClientID())
				}
			}
		})
	}
}

func TestGoldenStartData(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hex   string
		id    uint16
		ex    imssbe.ExchangeID
		sym   string
		res   imssbe.TimeResolution
		dtype imssbe.DataType
	}{
		{"btc", startDataBTC, 120, imssbe.ExchangeIDBinanceSpot, "BTCUSDT", imssbe.TimeResolutionOneMin, imssbe.DataTypeOHLCVData},
		{"appl", startDataAPPL, 1, imssbe.ExchangeIDKraken, "APPL", imssbe.TimeResolutionNoValue, imssbe.DataTypeTradeData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.hex)
			if len(want) != 35 {
				t.Fatalf("vector is %d bytes, want 35", len(want))
			}
			buf := bytes.Repeat([]byte{0xee}, 35) // dirty: every byte must be written
			var m imssbe.StartDataMsg
			if err := m.WrapAndApplyHeader(buf, 0); err != nil {
				t.Fatal(err)
			}
			m.SetMessageType(imssbe.MessageTypeStartData)
			m.SetClientID(tc.id)
			m.SetExchangeID(tc.ex)
			if err := m.SetSymbolIDString(tc.sym); err != nil {
				t.Fatal(err)
			}
			m.SetTimeResolution(tc.res)
			m.SetDataTypeID(tc.dtype)
			if !bytes.Equal(buf, want) {
				t.Fatalf("encode:\n got %x\nwant %x", buf, want)
			}
			var d imssbe.StartDataMsg
			if err := d.WrapForDecodeHeader(want, 0); err != nil {
				t.Fatal(err)
			}
			if d.MessageType() != imssbe.MessageTypeStartData || d.ClientID() != tc.id || d.ExchangeID() != tc.ex ||
				string(sbert.TrimNUL(d.SymbolID())) != tc.sym || d.TimeResolution() != tc.res || d.DataTypeID() != tc.dtype {
				t.Fatalf("decode: %s", d.AppendText(nil))
			}
		})
	}
}

func TestGoldenStopData(t *testing.T) {
	want := unhex(t, stopDataAPPL)
	buf := bytes.Repeat([]byte{0xee}, 34)
	var m imssbe.StopDataMsg
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	m.SetMessageType(imssbe.MessageTypeStopData)
	m.SetClientID(1)
	m.SetExchangeID(imssbe.ExchangeIDKraken)
	if err := m.SetSymbolID([]byte("APPL")); err != nil {
		t.Fatal(err)
	}
	m.SetDataTypeID(imssbe.DataTypeTradeData)
	if !bytes.Equal(buf, want) {
		t.Fatalf("encode:\n got %x\nwant %x", buf, want)
	}
	var d imssbe.StopDataMsg
	if err := d.WrapForDecodeHeader(want, 0); err != nil {
		t.Fatal(err)
	}
	if got := string(d.AppendText(nil)); got != "StopDataMsg messageType=StopData clientID=1 exchangeID=Kraken symbolID=APPL dataTypeID=TradeData" {
		t.Fatalf("text %q", got)
	}
}

func TestGoldenStopAll(t *testing.T) {
	want := unhex(t, stopAll)
	buf := make([]byte, 13)
	var m imssbe.StopAllDataMsg
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	m.SetMessageType(imssbe.MessageTypeStopAllData)
	m.SetClientID(1)
	m.SetExchangeID(imssbe.ExchangeIDKraken)
	if !bytes.Equal(buf, want) {
		t.Fatalf("encode:\n got %x\nwant %x", buf, want)
	}
	var d imssbe.StopAllDataMsg
	if err := d.WrapForDecodeHeader(want, 0); err != nil {
		t.Fatal(err)
	}
	if d.ClientID() != 1 || d.ExchangeID() != imssbe.ExchangeIDKraken {
		t.Fatalf("decode: %s", d.AppendText(nil))
	}
}

func encodeTradeBar(t testing.TB, buf []byte, sym string, us, pm int64, ps uint8, vm int64, vs uint8) {
	t.Helper()
	var m imssbe.TradeBar
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	m.SetMessageType(imssbe.MessageTypeTradeBar)
	if err := m.SetSymbolIDString(sym); err != nil {
		t.Fatal(err)
	}
	m.SetDateTime(us)
	m.Price().Set(pm, ps)
	m.Volume().Set(vm, vs)
}

func TestGoldenTradeBar(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hex    string
		sym    string
		us     int64
		pm     int64
		ps     uint8
		vm     int64
		vs     uint8
		json   string
		text   string
		dsym   string // decoded (upper-cased) symbol
		dprice string
	}{
		{
			name: "worked-example", hex: tradeBarBTC, sym: "BTCUSDT", us: 1700000000000000, pm: 3700050, ps: 2, vm: 125, vs: 4,
			json: `{"name":"TradeBar","templateId":205,"schemaId":1,"version":1,"messageType":"TradeBar","symbolID":"BTCUSDT","dateTime":1700000000000000,"price":"37000.50","volume":"0.0125"}`,
			text: `TradeBar messageType=TradeBar symbolID=BTCUSDT dateTime=2023-11-14T22:13:20.000000Z price=37000.50 volume=0.0125`,
		},
		{
			name: "live-lowercase", hex: tradeBarBTCLive, sym: "btcusdt", us: 1700000000000000, pm: 3700050000000, ps: 8, vm: 1250000, vs: 8,
			json: `{"name":"TradeBar","templateId":205,"schemaId":1,"version":1,"messageType":"TradeBar","symbolID":"BTCUSDT","dateTime":1700000000000000,"price":"37000.50000000","volume":"0.01250000"}`,
			text: `TradeBar messageType=TradeBar symbolID=BTCUSDT dateTime=2023-11-14T22:13:20.000000Z price=37000.50000000 volume=0.01250000`,
		},
		{
			name: "repo-appl", hex: tradeBarAPPL, sym: "APPL", us: 1649794257000000, pm: 25050, ps: 2, vm: 100, vs: 0,
			json: `{"name":"TradeBar","templateId":205,"schemaId":1,"version":1,"messageType":"TradeBar","symbolID":"APPL","dateTime":1649794257000000,"price":"250.50","volume":"100"}`,
			text: `TradeBar messageType=TradeBar symbolID=APPL dateTime=2022-04-12T20:10:57.000000Z price=250.50 volume=100`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.hex)
			if len(want) != 56 {
				t.Fatalf("vector is %d bytes, want 56", len(want))
			}
			buf := bytes.Repeat([]byte{0xee}, 56)
			encodeTradeBar(t, buf, tc.sym, tc.us, tc.pm, tc.ps, tc.vm, tc.vs)
			if !bytes.Equal(buf, want) {
				t.Fatalf("encode:\n got %x\nwant %x", buf, want)
			}
			var m imssbe.TradeBar
			if err := m.WrapForDecodeHeader(want, 0); err != nil {
				t.Fatal(err)
			}
			if m.DateTime() != tc.us || m.Price().Num() != tc.pm || m.Price().Scale() != tc.ps ||
				m.Volume().Num() != tc.vm || m.Volume().Scale() != tc.vs || string(sbert.TrimNUL(m.SymbolID())) != tc.sym {
				t.Fatalf("decode: %s", m.AppendText(nil))
			}
			if got := string(m.AppendJSON(nil)); got != tc.json {
				t.Errorf("json:\n got %s\nwant %s", got, tc.json)
			}
			if got := string(m.AppendText(nil)); got != tc.text {
				t.Errorf("text:\n got %s\nwant %s", got, tc.text)
			}
			// The dispatcher renders the same.
			out, n, err := imssbe.Codec{}.Append(nil, want, sbert.FormatJSON)
			if err != nil || n != 56 || string(out) != tc.json {
				t.Errorf("Codec.Append = %s, %d, %v", out, n, err)
			}
		})
	}
}

func TestGoldenDataBar(t *testing.T) {
	// The original only asserts the size (83) and round trip of a bar; build
	// the full vector by hand from the §1.3 layout.
	var want []byte
	want = append(want, unhex(t, "4b00cc0001000100 cc00")...)
	want = append(want, "ETHUSDT"...)
	want = append(want, make([]byte, 13)...)
	want = append(want, unhex(t, "00401e18240a0600")...) // 1700000000000000 µs
	for _, d := range []string{
		"a08601000000000002", // open 1000.00 = (100000, 2)
		"08a901000000000002", // high 1088.08
		"98a101000000000002", // low 1069.04
		"50a401000000000002", // close 1076.00
		"393000000000000003", // volume 12.345
	} {
		want = append(want, unhex(t, d)...)
	}
	if len(want) != 83 {
		t.Fatalf("vector %d bytes", len(want))
	}
	var d imssbe.DataBar
	if err := d.WrapForDecodeHeader(want, 0); err != nil {
		t.Fatal(err)
	}
	buf := bytes.Repeat([]byte{0xee}, 83)
	var m imssbe.DataBar
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	m.SetMessageType(imssbe.MessageTypeDataBar)
	if err := m.SetSymbolID([]byte("ETHUSDT")); err != nil {
		t.Fatal(err)
	}
	m.SetDateTime(d.DateTime())
	m.OpenPrice().Set(d.OpenPrice().Num(), d.OpenPrice().Scale())
	m.HighPrice().Set(d.HighPrice().Num(), d.HighPrice().Scale())
	m.LowPrice().Set(d.LowPrice().Num(), d.LowPrice().Scale())
	m.ClosePrice().Set(d.ClosePrice().Num(), d.ClosePrice().Scale())
	m.Volume().Set(d.Volume().Num(), d.Volume().Scale())
	if imssbe.HeaderLength+m.EncodedLength() != 83 || !bytes.Equal(buf, want) {
		t.Fatalf("encode:\n got %x\nwant %x", buf, want)
	}
	wantJSON := `{"name":"DataBar","templateId":204,"schemaId":1,"version":1,"messageType":"DataBar","symbolID":"ETHUSDT",` +
		`"dateTime":1700000000000000,"openPrice":"1000.00","highPrice":"1088.08","lowPrice":"1069.04","closePrice":"1076.00","volume":"12.345"}`
	if got := string(d.AppendJSON(nil)); got != wantJSON {
		t.Fatalf("json:\n got %s\nwant %s", got, wantJSON)
	}
}

func TestGoldenErrors(t *testing.T) {
	ce := unhex(t, clientError)
	buf := make([]byte, 13)
	var c imssbe.ClientError
	if err := c.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	c.SetMessageType(imssbe.MessageTypeClientError)
	c.SetClientID(120)
	c.SetClientErrorType(imssbe.ClientErrorTypeClientLogInError)
	if !bytes.Equal(buf, ce) {
		t.Fatalf("ClientError:\n got %x\nwant %x", buf, ce)
	}
	out, _, err := imssbe.Codec{}.Append(nil, ce, sbert.FormatJSON)
	if want := `{"name":"ClientError","templateId":801,"schemaId":1,"version":1,"messageType":"ClientError","clientID":120,"clientErrorType":"ClientLogInError"}`; err != nil || string(out) != want {
		t.Fatalf("ClientError json %s, %v", out, err)
	}

	de := unhex(t, dataError)
	var d imssbe.DataError
	if err := d.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	d.SetMessageType(imssbe.MessageTypeDataError)
	d.SetClientID(120)
	d.SetDataErrorType(imssbe.DataErrorTypeDataClientNotLoggedInError)
	if !bytes.Equal(buf, de) {
		t.Fatalf("DataError:\n got %x\nwant %x", buf, de)
	}
	out, _, err = imssbe.Codec{}.Append(nil, de, sbert.FormatText)
	if want := `DataError messageType=DataError clientID=120 dataErrorType=DataClientNotLoggedInError`; err != nil || string(out) != want {
		t.Fatalf("DataError text %s, %v", out, err)
	}
}

// The original schema's order messages (docs/original-system.md §1.3: its
// generated codec has them, blockLengths 67, 83, 29, 5 and 29; nothing in
// the original sent them). Vectors laid out by hand from the schema.
func TestGoldenOrderMessages(t *testing.T) {
	for _, tc := range []struct {
		name, hex, json, text string
	}{
		{"OrderCreate",
			"4300910101000100 9101 04 7800 0700000000000000 0100000000000000 0200000000000000 01 02 03" +
				" ffffffffffffffff 7d00000000000000 04 5275380000000000 02 0000000000000080 ff",
			`{"name":"OrderCreate","templateId":401,"schemaId":1,"version":1,"messageType":"OrderCreate","exchangeID":"BinanceSpot","clientID":120,` +
				`"clientOrderID":7,"exchangeSymbolID":{"first":1,"second":2},"orderType":1,"orderSide":2,"orderTimeInForce":3,"orderTimeExpiry":null,` +
				`"orderQty":"0.0125","orderPrice":"37000.50","orderStopPrice":null}`,
			""},
		{"OrderUpdate",
			"5300920101000100 9201 08 7800 0700000000000000 0300000000000000 0400000000000000 0100000000000000 0200000000000000 01 01 01" +
				" 40420f0000000000 7d00000000000000 04 5275380000000000 02 5175380000000000 02",
			`{"name":"OrderUpdate","templateId":402,"schemaId":1,"version":1,"messageType":"OrderUpdate","exchangeID":"BinanceUsdMarginFuture","clientID":120,` +
				`"clientOrderID":7,"exchangeOrderID":{"first":3,"second":4},"exchangeSymbolID":{"first":1,"second":2},"orderType":1,"orderSide":1,"timeInForce":1,"timeExpiry":1000000,` +
				`"orderQty":"0.0125","orderPrice":"37000.50","orderStopPrice":"37000.49"}`,
			""},
		{"OrderCancel",
			"1d00930101000100 9301 04 7800 0700000000000000 0300000000000000 0400000000000000",
			`{"name":"OrderCancel","templateId":403,"schemaId":1,"version":1,"messageType":"OrderCancel","exchangeID":"BinanceSpot","clientID":120,` +
				`"clientOrderID":7,"exchangeOrderID":{"first":3,"second":4}}`,
			""},
		{"OrderCancelAll",
			"0500940101000100 9401 04 7800",
			`{"name":"OrderCancelAll","templateId":404,"schemaId":1,"version":1,"messageType":"OrderCancelAll","exchangeID":"BinanceSpot","clientID":120}`,
			"OrderCancelAll messageType=OrderCancelAll exchangeID=BinanceSpot clientID=120"},
		{"OrderError",
			"1d00230301000100 2303 7800 0700000000000000 0300000000000000 0400000000000000 05",
			`{"name":"OrderError","templateId":803,"schemaId":1,"version":1,"messageType":"OrderError","clientID":120,` +
				`"clientOrderID":7,"exchangeOrderID":{"first":3,"second":4},"orderErrorType":5}`,
			""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := unhex(t, tc.hex)
			out, n, err := imssbe.Codec{}.Append(nil, msg, sbert.FormatJSON)
			if err != nil || n != len(msg) {
				t.Fatalf("Append = %d, %v; want %d bytes", n, err, len(msg))
			}
			if string(out) != tc.json {
				t.Fatalf("JSON\n got %s\nwant %s", out, tc.json)
			}
			if tc.text != "" {
				out, _, _ = imssbe.Codec{}.Append(nil, msg, sbert.FormatText)
				if string(out) != tc.text {
					t.Fatalf("text\n got %s\nwant %s", out, tc.text)
				}
			}
		})
	}
}
