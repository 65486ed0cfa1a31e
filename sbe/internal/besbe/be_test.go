package besbe_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/ims-dev/ims/sbe/internal/besbe"
	"github.com/ims-dev/ims/sbe/internal/sbetest"
)

// tick is built by hand: big-endian, header order templateId, blockLength,
// version, schemaId.
func tick() []byte {
	be := binary.BigEndian
	var b []byte
	b = be.AppendUint16(b, 1) // templateId
	b = be.AppendUint16(b, 8) // blockLength
	b = be.AppendUint16(b, 0) // version
	b = be.AppendUint16(b, 9) // schemaId
	b = be.AppendUint32(b, uint32(0xfffffffe))
	b = be.AppendUint32(b, math.Float32bits(-2.5))
	b = be.AppendUint16(b, 8) // group blockLength
	b = be.AppendUint16(b, 2) // numInGroup
	b = be.AppendUint64(b, 1)
	b = be.AppendUint64(b, 1<<63)
	b = be.AppendUint32(b, 3)
	return append(b, "a\x00z"...)
}

func TestBigEndian(t *testing.T) {
	want := tick()
	buf := make([]byte, len(want))
	var m besbe.Tick
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	m.SetV(-2)
	m.SetF(-2.5)
	g, err := m.GCount(2)
	if err != nil {
		t.Fatal(err)
	}
	g.Next()
	g.SetX(1)
	g.Next()
	g.SetX(1 << 63)
	if err := m.SetSString("a\x00z"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, want) {
		t.Fatalf("encode:\n got %x\nwant %x", buf, want)
	}
	js, text := sbetest.CheckRender(t, besbe.Codec{}, want)
	if js != `{"name":"Tick","templateId":1,"schemaId":9,"version":0,"v":-2,"f":-2.5,"g":[{"x":1},{"x":9223372036854775808}],"s":"a\u0000z"}` {
		t.Fatalf("json %s", js)
	}
	if text != `Tick v=-2 f=-2.5 g=[{x=1} {x=9223372036854775808}] s="a\x00z"` {
		t.Fatalf("text %s", text)
	}
	h, err := besbe.ReadHeader(want)
	if err != nil || h.TemplateID != 1 || h.BlockLength != 8 || h.SchemaID != 9 || h.Version != 0 {
		t.Fatalf("header %+v %v", h, err)
	}
	// The var data maximum (100) is enforced both ways.
	if err := m.SetS(make([]byte, 101)); err == nil {
		t.Fatal("101 bytes accepted")
	}
	bad := append([]byte(nil), want...)
	binary.BigEndian.PutUint32(bad[len(bad)-7:], 101)
	if _, err := (besbe.Codec{}).Validate(bad); err == nil || err.Error() != "Tick data s: length 101 exceeds the maximum 100" {
		t.Fatalf("var data max: %v", err)
	}
	// A typed decoder checks the template through the non-standard header.
	var d besbe.Tick
	if err := d.WrapForDecodeHeader(want, 0); err != nil || d.V() != -2 || d.F() != -2.5 {
		t.Fatalf("decode: %v", err)
	}
	other := append([]byte(nil), want...)
	other[1] = 2
	if err := d.WrapForDecodeHeader(other, 0); err == nil {
		t.Fatal("template 2 accepted")
	}
}

func FuzzCodec(f *testing.F) {
	f.Add(tick())
	f.Fuzz(func(t *testing.T, data []byte) {
		sbetest.FuzzCodec(t, besbe.Codec{}, data)
	})
}

// TestBigEndianEntries writes and reads the group by index: its header is
// one big-endian word (blockLength high, numInGroup low).
func TestBigEndianEntries(t *testing.T) {
	want := tick()
	buf := make([]byte, len(want))
	var m besbe.Tick
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	m.SetV(-2)
	m.SetF(-2.5)
	g, err := m.PutG(2)
	if err != nil {
		t.Fatal(err)
	}
	g.Entry(1).SetX(1 << 63)
	g.Entry(0).SetX(1)
	if err := m.SetSString("a\x00z"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, want) {
		t.Fatalf("encode:\n got %x\nwant %x", buf, want)
	}
	var d besbe.Tick
	if err := d.WrapForDecodeHeader(want, 0); err != nil {
		t.Fatal(err)
	}
	if e := d.GEntries(); e.Count() != 2 || e.Entry(0).X() != 1 || e.Entry(1).X() != 1<<63 {
		t.Fatalf("entries: %d", e.Count())
	}
}
