package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGoIdent(t *testing.T) {
	for in, want := range map[string]string{
		"symbolID":          "SymbolID",
		"tradeId":           "TradeID",
		"id":                "ID",
		"Identifier":        "Identifier",
		"isBuyerMaker":      "IsBuyerMaker",
		"firstBookUpdateId": "FirstBookUpdateID",
		"spot_stream":       "SpotStream",
		"COINBASE":          "COINBASE",
		"Interval1s":        "Interval1s",
		"1m":                "X1m",
		"hidden":            "Hidden",
		"idx":               "Idx",
		"orderId2":          "OrderID2",
	} {
		if got := goIdent(in); got != want {
			t.Errorf("goIdent(%q) = %q, want %q", in, got, want)
		}
	}
}

const header = `<composite name="messageHeader">
  <type name="blockLength" primitiveType="uint16"/><type name="templateId" primitiveType="uint16"/>
  <type name="schemaId" primitiveType="uint16"/><type name="version" primitiveType="uint16"/></composite>
<composite name="groupSizeEncoding"><type name="blockLength" primitiveType="uint16"/><type name="numInGroup" primitiveType="uint16"/></composite>
<composite name="varString"><type name="length" primitiveType="uint16"/><type name="varData" primitiveType="uint8" length="0"/></composite>`

func schemaXML(types, messages string) string {
	return `<sbe:messageSchema xmlns:sbe="http://fixprotocol.io/2016/sbe" xmlns:ims="https://github.com/ims-dev/ims/sbe" package="x" id="1" version="0">` +
		`<types>` + header + types + `</types>` + messages + `</sbe:messageSchema>`
}

func TestSchemaErrors(t *testing.T) {
	for _, tc := range []struct {
		name, types, messages, want string
	}{
		{"unknown type", "", `<sbe:message name="M" id="1"><field name="a" id="1" type="Nope"/></sbe:message>`, `unknown type "Nope"`},
		{"bad primitive", `<type name="T" primitiveType="int128"/>`, `<sbe:message name="M" id="1"/>`, `unknown primitiveType "int128"`},
		{"duplicate type", `<type name="T" primitiveType="int8"/><type name="T" primitiveType="int8"/>`, `<sbe:message name="M" id="1"/>`, `type "T" defined twice`},
		{"duplicate id", "", `<sbe:message name="A" id="1"/><sbe:message name="B" id="1"/>`, `id 1 already used by A`},
		{"duplicate field", "", `<sbe:message name="M" id="1"><field name="a" id="1" type="int8"/><field name="a" id="2" type="int8"/></sbe:message>`, `a defined twice`},
		{"field after group", "", `<sbe:message name="M" id="1"><group name="g" id="1"><field name="x" id="1" type="int8"/></group><field name="a" id="2" type="int8"/></sbe:message>`, `field a after a group`},
		{"group after data", "", `<sbe:message name="M" id="1"><data name="d" id="1" type="varString"/><group name="g" id="2"/></sbe:message>`, `group g after a var-data`},
		{"overlap", "", `<sbe:message name="M" id="1"><field name="a" id="1" type="int64"/><field name="b" id="2" type="int8" offset="4"/></sbe:message>`, `overlaps the previous field`},
		{"short blockLength", "", `<sbe:message name="M" id="1" blockLength="2"><field name="a" id="1" type="int64"/></sbe:message>`, `blockLength 2 is less than its fields' 8 bytes`},
		{"bad enum value", `<enum name="E" encodingType="uint8"><validValue name="A">300</validValue></enum>`, `<sbe:message name="M" id="1"/>`, `enum E: value A`},
		{"duplicate enum value", `<enum name="E" encodingType="uint8"><validValue name="A">1</validValue><validValue name="B">1</validValue></enum>`, `<sbe:message name="M" id="1"/>`, `A and B share the value 1`},
		{"bad set bit", `<set name="S" encodingType="uint8"><choice name="A">8</choice></set>`, `<sbe:message name="M" id="1"/>`, `bit 8 does not fit uint8`},
		{"bad valueRef", `<enum name="E" encodingType="uint8"><validValue name="A">1</validValue></enum>`, `<sbe:message name="M" id="1"><field name="a" id="1" type="E" presence="constant" valueRef="E.B"/></sbe:message>`, `enum E has no value B`},
		{"constant without value", "", `<sbe:message name="M" id="1"><field name="a" id="1" type="int8" presence="constant"/></sbe:message>`, `needs a valueRef or a constant type`},
		{"var data as field", "", `<sbe:message name="M" id="1"><field name="a" id="1" type="varString"/></sbe:message>`, `use <data>`},
		{"bad dimension", `<type name="T" primitiveType="int8"/>`, `<sbe:message name="M" id="1"><group name="g" id="1" dimensionType="T"/></sbe:message>`, `dimensionType T is not a composite`},
		{"bad decimal", `<composite name="D" ims:decimal="true"><type name="a" primitiveType="int64"/><type name="scale" primitiveType="uint8"/></composite>`, `<sbe:message name="M" id="1"/>`, `first member must be num or mantissa`},
		{"bad unit", `<type name="T" primitiveType="int64" ims:unit="days"/>`, `<sbe:message name="M" id="1"/>`, `unit "days"`},
		{"no messages", "", "", `the schema has no messages`},
		{"recursive", `<composite name="C"><ref name="c" type="C"/></composite>`, `<sbe:message name="M" id="1"/>`, `type C contains itself`},
		{"name collision", `<enum name="Side" encodingType="uint8"><validValue name="Buy">1</validValue></enum>`, `<sbe:message name="SideBuy" id="1"/>`, `collides with`},
		{"method collision", "", `<sbe:message name="M" id="1"><field name="count" id="1" type="int8"/><field name="setCount" id="2" type="int8"/></sbe:message>`, `collides with`},
		{"entries method collision", "", `<sbe:message name="M" id="1"><field name="putG" id="1" type="int8"/><group name="g" id="2"><field name="x" id="1" type="int8"/></group></sbe:message>`, `generated name PutG of group g of M collides with field putG of M`},
		{"entries type collision", "", `<sbe:message name="MGEntries" id="2"/><sbe:message name="M" id="1"><group name="g" id="2"><field name="x" id="1" type="int8"/></group></sbe:message>`, `generated name MGEntries of group M.g collides with message MGEntries`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := loadSchema("t.xml", strings.NewReader(schemaXML(tc.types, tc.messages)), options{})
			if err == nil {
				_, err = generate(s)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "t.xml") {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
}

func TestMalformedXML(t *testing.T) {
	for _, in := range []string{"", "<a>", "<sbe:messageSchema xmlns:sbe='x'", "<notSchema/>"} {
		if _, err := loadSchema("t.xml", strings.NewReader(in), options{}); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// schemas are the go:generate lines of ../generate.go.
var schemas = []struct {
	xml, out, doc string
	opts          options
}{
	{"../ims.xml", "../imssbe", "../../docs/sbe-ims.md", options{name: "ims", pkg: "imssbe"}},
	{"../stream_1_0.xml", "../binancesbe", "../../docs/sbe-binance-stream.md", options{name: "binance-stream", pkg: "binancesbe",
		units: map[string]string{"utcTimestampUs": "us"}, expSpace: "https://developers.binance.com/docs/binance-spot-api-docs", expLocal: "exponent"}},
	{"testdata/full.xml", "../internal/fullsbe", "", options{pkg: "fullsbe"}},
	{"testdata/bigendian.xml", "../internal/besbe", "", options{pkg: "besbe"}},
}

func generateFile(path string, opts options) (map[string][]byte, error) {
	s, err := loadFile(path, opts)
	if err != nil {
		return nil, err
	}
	return generate(s)
}

// TestCommittedUpToDate regenerates every package in memory and compares
// with the committed files (CI also checks this through go generate), and
// checks that generation is deterministic.
func TestCommittedUpToDate(t *testing.T) {
	for _, sc := range schemas {
		t.Run(filepath.Base(sc.out), func(t *testing.T) {
			a, err := generateFile(sc.xml, sc.opts)
			if err != nil {
				t.Fatal(err)
			}
			b, err := generateFile(sc.xml, sc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for name, src := range a {
				if !bytes.Equal(src, b[name]) {
					t.Fatalf("%s: two runs differ", name)
				}
				if !bytes.HasPrefix(src, []byte("// Code generated by sbegen from ")) || !bytes.Contains(src, []byte("; DO NOT EDIT.\n")) {
					t.Fatalf("%s: no generated-code header", name)
				}
				old, err := os.ReadFile(filepath.Join(sc.out, name))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(old, src) {
					t.Fatalf("%s/%s is stale; run go generate ./sbe", sc.out, name)
				}
			}
			s, err := loadFile(sc.xml, sc.opts)
			if err != nil {
				t.Fatal(err)
			}
			doc := markdown(s)
			if !bytes.Equal(doc, markdown(s)) {
				t.Fatal("Markdown differs between runs")
			}
			if sc.doc != "" {
				old, err := os.ReadFile(sc.doc)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(old, doc) {
					t.Fatalf("%s is stale; run go generate ./sbe", sc.doc)
				}
			}
		})
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "gen", "imssbe")
	if err := run([]string{"-schema", "../ims.xml", "-out", out, "-name", "ims"}); err != nil {
		t.Fatal(err)
	}
	// A stale sbegen file is removed; other files are kept.
	stale := filepath.Join(out, "old_gen.go")
	keep := filepath.Join(out, "x_test.go")
	if err := os.WriteFile(stale, []byte("// Code generated by sbegen from x; DO NOT EDIT.\npackage imssbe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keep, []byte("package imssbe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-schema", "../ims.xml", "-out", out, "-name", "ims"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale file kept: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("test file removed: %v", err)
	}
	for _, args := range [][]string{
		{},
		{"-schema", "../ims.xml"},
		{"-schema", "nope.xml", "-out", out},
		{"-schema", "../ims.xml", "-out", out, "-unit", "x"},
		{"-schema", "../ims.xml", "-out", out, "-exponent-attr", "noColon"},
		{"-schema", "../ims.xml", "-out", out, "-package", "Not-Go"},
	} {
		if err := run(args); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
