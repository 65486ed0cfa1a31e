package fullsbe_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/ims-dev/ims/sbe/internal/fullsbe"
	"github.com/ims-dev/ims/sbe/internal/sbetest"
	"github.com/ims-dev/ims/sbe/sbert"
)

// everything encodes a fixed Everything message into a dirty buffer. With
// v3 false it leaves out the parts added in version 3 (the tags group and
// the late var data), so that patching the header's version to 2 gives a
// valid version-2 message.
func everything(t testing.TB, v3 bool) []byte {
	t.Helper()
	buf := bytes.Repeat([]byte{0xee}, 512)
	var m fullsbe.Everything
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	m.SetID(math.MaxUint64 - 1)
	m.SetPrice(-42)
	m.SetQty(1.5)
	m.SetOpt(math.MinInt32) // null
	m.SetOptU(7)
	if err := m.SetCodeString("AB"); err != nil {
		t.Fatal(err)
	}
	m.SetLetter('q')
	for i := 0; i < m.TicksLen(); i++ {
		m.SetTicks(i, uint32(i*10))
	}
	m.SetAt(1700000000123)
	m.SetColor(fullsbe.ColorRed)
	m.SetLevel(255) // null
	m.SetFlags(fullsbe.FlagsA | fullsbe.FlagsC | 1<<5)
	m.D9().SetMantissa(1500000000)
	m.Point().SetX(-1)
	m.Point().SetY(2)
	m.Point().SetKind(fullsbe.PointKindFancy)
	m.Point().SetFlags(fullsbe.FlagsB)
	m.Amount().Set(math.MinInt64, 255) // null
	m.Exp().Set(12345, -3)
	m.SetAdded(99)
	legs, err := m.LegsCount(2)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if !legs.Next() {
			t.Fatal("legs.Next")
		}
		legs.SetLegID(uint32(100 + i))
		legs.SetRatio(0.25)
		fills, err := legs.FillsCount(i + 1)
		if err != nil {
			t.Fatal(err)
		}
		for fills.Next() {
			fills.SetFillQty(int16(-fills.Index()))
			if err := fills.SetNoteString("n" + string(rune('0'+fills.Index()))); err != nil {
				t.Fatal(err)
			}
		}
		if err := legs.SetLegNameString("leg \"" + string(rune('a'+i)) + "\""); err != nil {
			t.Fatal(err)
		}
	}
	if v3 {
		tags, err := m.TagsCount(1)
		if err != nil {
			t.Fatal(err)
		}
		tags.Next()
		tags.SetTag('x')
	}
	if err := m.SetTextString("héllo\n"); err != nil {
		t.Fatal(err)
	}
	if err := m.SetBlob([]byte{0, 1, 0xfe}); err != nil {
		t.Fatal(err)
	}
	if v3 {
		if err := m.SetLateString(""); err != nil {
			t.Fatal(err)
		}
	}
	return buf[:fullsbe.HeaderLength+m.EncodedLength()]
}

const (
	wantJSON = `{"name":"Everything","templateId":1,"schemaId":7,"version":3,"id":18446744073709551614,"price":-42,"qty":1.5,` +
		`"opt":null,"optU":7,"code":"AB","letter":"q","ticks":[0,10,20],"at":1700000000123,"magic":4242,"venue":"XNY","color":"Red",` +
		`"level":null,"flags":["A","C",5],"d9":"1.500000000","point":{"x":-1,"y":2,"kind":"Fancy","flags":["B"]},"amount":null,` +
		`"exp":"12.345","added":99,"fixedColor":"Green","legs":[{"legId":100,"ratio":0.25,"fills":[{"fillQty":0,"note":"n0"}],` +
		`"legName":"leg \"a\""},{"legId":101,"ratio":0.25,"fills":[{"fillQty":0,"note":"n0"},{"fillQty":-1,"note":"n1"}],` +
		`"legName":"leg \"b\""}],"tags":[{"tag":"x"}],"text":"héllo\n","blob":"0001fe","late":""}`
	wantText = `Everything id=18446744073709551614 price=-42 qty=1.5 opt=null optU=7 code=AB letter=q ticks=[0 10 20] ` +
		`at=2023-11-14T22:13:20.123Z magic=4242 venue=XNY color=Red level=null flags=[A,C,5] d9=1.500000000 ` +
		`point={x=-1 y=2 kind=Fancy flags=[B]} amount=null exp=12.345 added=99 fixedColor=Green ` +
		`legs=[{legId=100 ratio=0.25 fills=[{fillQty=0 note=n0}] legName="leg \"a\""} ` +
		`{legId=101 ratio=0.25 fills=[{fillQty=0 note=n0} {fillQty=-1 note=n1}] legName="leg \"b\""}] ` +
		`tags=[{tag=x}] text="héllo\n" blob=0001fe late=""`
)

func TestEverythingRender(t *testing.T) {
	msg := everything(t, true)
	js, text := sbetest.CheckRender(t, fullsbe.Codec{}, msg)
	if js != wantJSON {
		t.Errorf("json:\n got %s\nwant %s", js, wantJSON)
	}
	if text != wantText {
		t.Errorf("text:\n got %s\nwant %s", text, wantText)
	}
	// Padding (between fields, inside the Point composite and after the
	// last field) is zeroed although the buffer was dirty.
	block := msg[8 : 8+120]
	for _, r := range [][2]int{{67, 80}, {84, 88}, {113, 120}} {
		for i := r[0]; i < r[1]; i++ {
			if block[i] != 0 {
				t.Fatalf("padding byte %d = %#x", i, block[i])
			}
		}
	}
	// Layout spot checks: the explicit offset of point, the constant
	// exponent of d9 taking no room.
	le := binary.LittleEndian
	if int32(le.Uint32(block[80:])) != -1 || int32(le.Uint32(block[88:])) != 2 || le.Uint64(block[59:]) != 1500000000 {
		t.Fatalf("layout: % x", block)
	}
}

func TestEverythingFields(t *testing.T) {
	msg := everything(t, true)
	var m fullsbe.Everything
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		t.Fatal(err)
	}
	if !m.OptIsNull() || m.OptUIsNull() || !m.Amount().IsNull() || m.Magic() != 4242 || m.Venue() != "XNY" ||
		m.FixedColor() != fullsbe.ColorGreen || m.D9().Exponent() != -9 || !m.Flags().Has(fullsbe.FlagsA|fullsbe.FlagsC) ||
		m.Flags().Has(fullsbe.FlagsB) || *m.CodeArray() != [4]byte{'A', 'B'} {
		t.Fatal("fixed fields")
	}
	legs := m.Legs()
	var names []string
	for legs.Next() {
		fills := legs.Fills()
		n := 0
		for fills.Next() {
			if string(fills.Note()) != "n"+string(rune('0'+n)) || fills.FillQty() != int16(-n) {
				t.Fatalf("leg %d fill %d", legs.Index(), n)
			}
			n++
		}
		if n != legs.Index()+1 {
			t.Fatalf("leg %d has %d fills", legs.Index(), n)
		}
		names = append(names, string(legs.LegName()))
	}
	if strings.Join(names, ",") != `leg "a",leg "b"` {
		t.Fatalf("leg names %q", names)
	}
	if string(m.Text()) != "héllo\n" || !bytes.Equal(m.Blob(), []byte{0, 1, 0xfe}) || m.Late() == nil || len(m.Late()) != 0 {
		t.Fatal("var data")
	}
	if c, ok := fullsbe.ParseColor("Green"); !ok || c != 'G' || fullsbe.Color('Z').String() != "Color(90)" {
		t.Fatal("char enum")
	}
	if f, ok := fullsbe.ParseFlagsChoice("C"); !ok || f != 1<<15 || (fullsbe.FlagsB|1<<6).String() != "[B,6]" {
		t.Fatal("set")
	}
}

// TestActingVersions decodes Everything as a version 2 and a version 1
// sender would have written it: parts added later are absent and render as
// null, and a version 1 root block may stop after the version 1 fields.
func TestActingVersions(t *testing.T) {
	v2 := everything(t, false)
	binary.LittleEndian.PutUint16(v2[6:], 2)
	js, _ := sbetest.CheckRender(t, fullsbe.Codec{}, v2)
	if !strings.Contains(js, `"version":2,`) || !strings.Contains(js, `"added":99,`) || !strings.Contains(js, `"tags":null,`) ||
		!strings.HasSuffix(js, `"blob":"0001fe","late":null}`) {
		t.Fatalf("v2: %s", js)
	}
	var m fullsbe.Everything
	if err := m.WrapForDecodeHeader(v2, 0); err != nil {
		t.Fatal(err)
	}
	if m.Tags().Count() != 0 || m.Late() != nil || !m.AddedInActingVersion() {
		t.Fatal("v2 parts")
	}

	// Version 1, with the root block cut to the version 1 fields.
	v1 := append(append([]byte(nil), v2[:8+109]...), v2[8+120:]...)
	binary.LittleEndian.PutUint16(v1[0:], 109)
	binary.LittleEndian.PutUint16(v1[6:], 1)
	js, _ = sbetest.CheckRender(t, fullsbe.Codec{}, v1)
	if !strings.Contains(js, `"version":1,`) || !strings.Contains(js, `"exp":"12.345","added":null,`) {
		t.Fatalf("v1: %s", js)
	}
	if err := m.WrapForDecodeHeader(v1, 0); err != nil {
		t.Fatal(err)
	}
	if m.AddedInActingVersion() || m.Added() != math.MaxUint32 {
		t.Fatal("v1 added")
	}
	// A version 2 header on that short block is an error: added is missing.
	binary.LittleEndian.PutUint16(v1[6:], 2)
	if _, err := (fullsbe.Codec{}).Validate(v1); err == nil || err.Error() != "Everything: blockLength 109 is below the minimum 113" {
		t.Fatalf("v2 short block: %v", err)
	}
}

func TestVersioned(t *testing.T) {
	buf := make([]byte, 64)
	var m fullsbe.Versioned
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	m.SetA(-1)
	m.SetB(7)
	m.C().Set(15, 1)
	full := buf[:8+m.EncodedLength()]
	if len(full) != 8+18 {
		t.Fatalf("length %d", len(full))
	}
	for _, tc := range []struct {
		version, bl int
		want        string
	}{
		{3, 18, `"a":-1,"b":7,"c":"1.5"}`},
		{2, 9, `"a":-1,"b":7,"c":null}`},
		{1, 1, `"a":-1,"b":null,"c":null}`},
		{0, 1, `"a":-1,"b":null,"c":null}`},
		{7, 20, `"a":-1,"b":7,"c":"1.5"}`}, // a later sender with a longer block
	} {
		msg := append([]byte(nil), full[:8]...)
		binary.LittleEndian.PutUint16(msg[0:], uint16(tc.bl))
		binary.LittleEndian.PutUint16(msg[6:], uint16(tc.version))
		msg = append(msg, full[8:]...)
		msg = append(msg, 0, 0)
		msg = msg[:8+tc.bl]
		js, _ := sbetest.CheckRender(t, fullsbe.Codec{}, msg)
		if !strings.HasSuffix(js, tc.want) {
			t.Errorf("version %d: %s", tc.version, js)
		}
	}
}

func TestEmpty(t *testing.T) {
	buf := make([]byte, 8)
	var m fullsbe.Empty
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	js, text := sbetest.CheckRender(t, fullsbe.Codec{}, buf)
	if js != `{"name":"Empty","templateId":2,"schemaId":7,"version":3}` || text != "Empty" {
		t.Fatalf("%s / %s", js, text)
	}
}

func TestEverythingFill(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, 1024)
	var m fullsbe.Everything
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	verify := sbetest.Fill(t, rng, &m, "SetText", "SetBlob", "SetLate")
	legs, _ := m.LegsCount(1)
	legs.Next()
	vl := sbetest.Fill(t, rng, &legs, "SetLegName")
	fills, _ := legs.FillsCount(1)
	fills.Next()
	vf := sbetest.Fill(t, rng, &fills, "SetNote")
	_ = fills.SetNote([]byte("z"))
	_ = legs.SetLegName(nil)
	tags, _ := m.TagsCount(1)
	tags.Next()
	vt := sbetest.Fill(t, rng, &tags)
	_ = m.SetText(nil)
	_ = m.SetBlob(nil)
	_ = m.SetLate(nil)
	verify()
	vl()
	vf()
	vt()
	sbetest.CheckRender(t, fullsbe.Codec{}, buf[:8+m.EncodedLength()])
}

func TestNestedErrors(t *testing.T) {
	msg := everything(t, true)
	for n := 0; n < len(msg); n++ {
		if _, err := (fullsbe.Codec{}).Validate(msg[:n]); !errors.As(err, new(*sbert.TruncatedError)) {
			t.Fatalf("%d of %d bytes: %v", n, len(msg), err)
		}
	}
	// Cut inside the note of the second leg's first fill: legs start at
	// 128; the first leg is 12 (block) + 2 (fills header) + 5 (one fill:
	// 2 + note 1+2) + 8 (name) = 27 bytes; the second leg's block and fills
	// header take 14, its first fill 2, the note's length 1.
	legs := 8 + 120
	noteAt := legs + 4 + 27 + 14 + 2
	if _, err := (fullsbe.Codec{}).Validate(msg[:noteAt+1]); err == nil ||
		err.Error() != "truncated Everything group legs.fills data note: need "+strconv.Itoa(noteAt+3)+" bytes, have "+strconv.Itoa(noteAt+1) {
		t.Fatalf("nested cut: %v", err)
	}
	// numInGroup above the dimension's maxValue (10).
	bad := append([]byte(nil), msg...)
	bad[legs+4+12+1] = 11
	if _, err := (fullsbe.Codec{}).Validate(bad); err == nil ||
		err.Error() != "Everything group legs.fills: numInGroup 11 exceeds the maximum 10" {
		t.Fatalf("fills count: %v", err)
	}
	// Writing more fills than the maximum fails.
	var m fullsbe.Everything
	buf := make([]byte, 512)
	_ = m.WrapAndApplyHeader(buf, 0)
	l, _ := m.LegsCount(1)
	l.Next()
	if _, err := l.FillsCount(11); !errors.Is(err, sbert.ErrGroupCount) {
		t.Fatalf("FillsCount(11): %v", err)
	}
	// A decoding iterator cannot write.
	var d fullsbe.Everything
	if err := d.WrapForDecodeHeader(msg, 0); err != nil {
		t.Fatal(err)
	}
	dl := d.Legs()
	dl.Next()
	if _, err := dl.FillsCount(1); !errors.Is(err, sbert.ErrNotEncoding) {
		t.Fatalf("decoder FillsCount: %v", err)
	}
	if err := dl.SetLegName(nil); !errors.Is(err, sbert.ErrNotEncoding) {
		t.Fatalf("decoder SetLegName: %v", err)
	}
}

func FuzzCodec(f *testing.F) {
	f.Add(everything(f, true))
	f.Add(everything(f, false))
	f.Add(book(f, true))
	f.Add(relayout(book(f, true), 19, 2))
	f.Fuzz(func(t *testing.T, data []byte) {
		sbetest.FuzzCodec(t, fullsbe.Codec{}, data)
	})
}
