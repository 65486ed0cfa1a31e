package fullsbe_test

// The Entries API of groups with fixed-size entries (Put<Group>,
// <Group>Entries, Entry(i)) against the iterators, on a message whose
// groups have padding, a field added in a later version, a non-standard
// dimension (groupSize8) and nesting inside a group with var data.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/ims-dev/ims/sbe/internal/fullsbe"
	"github.com/ims-dev/ims/sbe/internal/sbetest"
	"github.com/ims-dev/ims/sbe/sbert"
)

// book encodes a Book into a dirty buffer, through the Entries API
// (byIndex, filling entries out of order) or through the iterators.
func book(t testing.TB, byIndex bool) []byte {
	t.Helper()
	buf := bytes.Repeat([]byte{0xee}, 512)
	var m fullsbe.Book
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	m.SetSeq(7)
	level := func(i int, price func(int64), qty fullsbe.Amount, flags func(fullsbe.Flags)) {
		price(int64(100 - i))
		qty.Set(int64(5*i), 1)
		flags(fullsbe.Flags(1 << i))
	}
	small := func(i int, code func(string) error, color func(fullsbe.Color)) {
		if err := code("C" + strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
		color([]fullsbe.Color{fullsbe.ColorRed, fullsbe.ColorGreen}[i])
	}
	mark := func(i, j int, set func(int32), p fullsbe.Point) {
		set(int32(-10*i - j))
		p.SetX(int32(j))
		p.SetY(int32(i))
		p.SetKind(fullsbe.PointKindFancy)
		p.SetFlags(fullsbe.FlagsC)
	}
	if byIndex {
		lv, err := m.PutLevels(3)
		if err != nil || lv.Count() != 3 {
			t.Fatalf("PutLevels: %d %v", lv.Count(), err)
		}
		for i := 2; i >= 0; i-- {
			e := lv.Entry(i)
			level(i, e.SetPrice, e.Qty(), e.SetFlags)
		}
		sm, err := m.PutSmall(2)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i >= 0; i-- {
			e := sm.Entry(i)
			small(i, e.SetCodeString, e.SetColor)
		}
	} else {
		lv, err := m.LevelsCount(3)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; lv.Next(); i++ {
			level(i, lv.SetPrice, lv.Qty(), lv.SetFlags)
		}
		sm, err := m.SmallCount(2)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; sm.Next(); i++ {
			small(i, sm.SetCodeString, sm.SetColor)
		}
	}
	sides, err := m.SidesCount(2)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; sides.Next(); i++ {
		sides.SetLevel(fullsbe.Level(i))
		if byIndex {
			mk, err := sides.PutMarks(i + 1)
			if err != nil {
				t.Fatal(err)
			}
			for j := range mk.Count() {
				e := mk.Entry(j)
				mark(i, j, e.SetMark, e.Point())
			}
		} else {
			mk, err := sides.MarksCount(i + 1)
			if err != nil {
				t.Fatal(err)
			}
			for j := 0; mk.Next(); j++ {
				mark(i, j, mk.SetMark, mk.Point())
			}
		}
		if err := sides.SetLabelString("s" + strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Entries of no bytes: only the count goes on the wire.
	if byIndex {
		if mk, err := m.PutMarks(2); err != nil || mk.Count() != 2 || mk.Entry(1).Venue() != "XNY" {
			t.Fatalf("PutMarks: %v", err)
		}
	} else if _, err := m.MarksCount(2); err != nil {
		t.Fatal(err)
	}
	return buf[:fullsbe.HeaderLength+m.EncodedLength()]
}

const (
	bookJSON = `{"name":"Book","templateId":4,"schemaId":7,"version":3,"seq":7,` +
		`"levels":[{"price":100,"qty":"0.0","flags":["A"]},{"price":99,"qty":"0.5","flags":[1]},{"price":98,"qty":"1.0","flags":[2]}],` +
		`"small":[{"code":"C0","color":"Red"},{"code":"C1","color":"Green"}],` +
		`"sides":[{"level":"Low","marks":[{"mark":0,"point":{"x":0,"y":0,"kind":"Fancy","flags":["C"]}}],"label":"s0"},` +
		`{"level":"High","marks":[{"mark":-10,"point":{"x":0,"y":1,"kind":"Fancy","flags":["C"]}},` +
		`{"mark":-11,"point":{"x":1,"y":1,"kind":"Fancy","flags":["C"]}}],"label":"s1"}],"marks":[{"venue":"XNY"},{"venue":"XNY"}]}`
	// Where the levels group starts: header, then the 4-byte root block.
	levelsAt = fullsbe.HeaderLength + fullsbe.BookBlockLength
)

func TestBookEntries(t *testing.T) {
	msg := book(t, true)
	if iter := book(t, false); !bytes.Equal(msg, iter) {
		t.Fatalf("entries and iterators encode differently:\n%x\n%x", msg, iter)
	}
	js, text := sbetest.CheckRender(t, fullsbe.Codec{}, msg)
	if js != bookJSON {
		t.Fatalf("json:\n got %s\nwant %s", js, bookJSON)
	}
	if want := `Book seq=7 levels=[{price=100 qty=0.0 flags=[A]} {price=99 qty=0.5 flags=[1]} {price=98 qty=1.0 flags=[2]}] ` +
		`small=[{code=C0 color=Red} {code=C1 color=Green}] sides=[{level=Low marks=[{mark=0 point={x=0 y=0 kind=Fancy flags=[C]}}] label=s0} ` +
		`{level=High marks=[{mark=-10 point={x=0 y=1 kind=Fancy flags=[C]}} {mark=-11 point={x=1 y=1 kind=Fancy flags=[C]}}] label=s1}] marks=[{venue=XNY} {venue=XNY}]`; text != want {
		t.Fatalf("text:\n got %s\nwant %s", text, want)
	}
	// Padding inside the 24-byte level entries (8..10 and 21..24) is zero
	// although the buffer was dirty.
	for i := range 3 {
		e := msg[levelsAt+4+24*i:][:24]
		if e[8]|e[9]|e[21]|e[22]|e[23] != 0 {
			t.Fatalf("level %d padding: % x", i, e)
		}
	}

	var m fullsbe.Book
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		t.Fatal(err)
	}
	lv := m.LevelsEntries()
	it := m.Levels()
	if lv.Count() != 3 || it.Count() != 3 {
		t.Fatalf("levels: %d entries, iterator %d", lv.Count(), it.Count())
	}
	for it.Next() {
		e := lv.Entry(it.Index())
		if e.Price() != it.Price() || e.Qty().Num() != it.Qty().Num() || e.Qty().Scale() != 1 || e.Flags() != it.Flags() ||
			e.Flags() != fullsbe.Flags(1<<it.Index()) || !e.FlagsInActingVersion() {
			t.Fatalf("level %d: entry %d %v %v, iterator %d %v", it.Index(), e.Price(), e.Qty().Num(), e.Flags(), it.Price(), it.Flags())
		}
	}
	sm := m.SmallEntries()
	if sm.Count() != 2 || string(sm.Entry(1).Code()) != "C1\x00\x00" || *sm.Entry(0).CodeArray() != [4]byte{'C', '0'} ||
		sm.Entry(1).Color() != fullsbe.ColorGreen {
		t.Fatalf("small: %d", sm.Count())
	}
	sides := m.Sides()
	for sides.Next() {
		i := sides.Index()
		mk := sides.MarksEntries()
		if mk.Count() != i+1 || string(sides.Label()) != "s"+strconv.Itoa(i) {
			t.Fatalf("side %d: %d marks, label %q", i, mk.Count(), sides.Label())
		}
		for j := range mk.Count() {
			if e := mk.Entry(j); e.Mark() != int32(-10*i-j) || e.Point().X() != int32(j) || e.Point().Flags() != fullsbe.FlagsC {
				t.Fatalf("side %d mark %d: %d", i, j, e.Mark())
			}
		}
		// A decoding iterator cannot write.
		if _, err := sides.PutMarks(1); !errors.Is(err, sbert.ErrNotEncoding) {
			t.Fatalf("decoder PutMarks: %v", err)
		}
	}
}

// relayout rewrites the levels group of a Book with entries of bl bytes
// (cut or zero-extended) and stamps version v in the header.
func relayout(msg []byte, bl, v int) []byte {
	le := binary.LittleEndian
	n := int(le.Uint16(msg[levelsAt+2:]))
	out := append([]byte(nil), msg[:levelsAt]...)
	le.PutUint16(out[6:], uint16(v))
	out = le.AppendUint16(out, uint16(bl))
	out = le.AppendUint16(out, uint16(n))
	for i := range n {
		e := msg[levelsAt+4+24*i:][:24]
		out = append(out, e[:min(bl, 24)]...)
		out = append(out, make([]byte, max(0, bl-24))...)
	}
	return append(out, msg[levelsAt+4+24*n:]...)
}

func TestBookEntriesVersions(t *testing.T) {
	msg := book(t, true)
	for _, tc := range []struct {
		bl, version int
		flags       bool
	}{
		{24, 2, false}, // a version 2 sender with the full block: flags is not read
		{19, 2, false}, // a version 2 sender with only its own fields
		{30, 4, true},  // a later sender with longer entries
		{21, 3, true},  // no trailing padding
	} {
		v := relayout(msg, tc.bl, tc.version)
		js, _ := sbetest.CheckRender(t, fullsbe.Codec{}, v)
		var m fullsbe.Book
		if err := m.WrapForDecodeHeader(v, 0); err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		lv := m.LevelsEntries()
		if lv.Count() != 3 {
			t.Fatalf("%+v: %d levels", tc, lv.Count())
		}
		for i := range 3 {
			e := lv.Entry(i)
			if e.Price() != int64(100-i) || e.Qty().Num() != int64(5*i) || e.FlagsInActingVersion() != tc.flags {
				t.Fatalf("%+v: level %d: %d %d", tc, i, e.Price(), e.Qty().Num())
			}
			if want := fullsbe.Flags(1 << i); !tc.flags {
				if e.Flags() != 65535 {
					t.Fatalf("%+v: level %d flags %v, want null", tc, i, e.Flags())
				}
			} else if e.Flags() != want {
				t.Fatalf("%+v: level %d flags %v", tc, i, e.Flags())
			}
		}
		if !tc.flags && !bytes.Contains([]byte(js), []byte(`{"price":99,"qty":"0.5","flags":null}`)) {
			t.Fatalf("%+v: %s", tc, js)
		}
		if tc.flags && !bytes.Contains([]byte(js), []byte(`{"price":99,"qty":"0.5","flags":[1]}`)) {
			t.Fatalf("%+v: %s", tc, js)
		}
	}
	// Version 3 entries must hold flags.
	if _, err := (fullsbe.Codec{}).Validate(relayout(msg, 19, 3)); err == nil ||
		err.Error() != "Book group levels: blockLength 19 is below the minimum 21" {
		t.Fatalf("short v3 entries: %v", err)
	}
}

func TestBookEntriesErrors(t *testing.T) {
	buf := bytes.Repeat([]byte{0xee}, levelsAt+4+24+10)
	var m fullsbe.Book
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{-1, 65535, 1 << 40} {
		if lv, err := m.PutLevels(n); !errors.Is(err, sbert.ErrGroupCount) || lv.Count() != 0 {
			t.Fatalf("PutLevels(%d): %d %v", n, lv.Count(), err)
		}
	}
	if _, err := m.PutSmall(11); !errors.Is(err, sbert.ErrGroupCount) { // groupSize8 maxValue 10
		t.Fatalf("PutSmall(11): %v", err)
	}
	// Two entries do not fit: nothing is written, the position stays.
	before := bytes.Clone(buf)
	if _, err := m.PutLevels(2); !errors.Is(err, sbert.ErrShortBuffer) {
		t.Fatalf("PutLevels(2): %v", err)
	}
	if !bytes.Equal(buf, before) || m.EncodedLength() != fullsbe.BookBlockLength {
		t.Fatalf("failed PutLevels wrote: %d", m.EncodedLength())
	}
	lv, err := m.PutLevels(1)
	if err != nil || m.EncodedLength() != fullsbe.BookBlockLength+4+24 {
		t.Fatalf("PutLevels(1): %v, length %d", err, m.EncodedLength())
	}
	// Entry out of range panics, as slice indexing does; it never reaches
	// past the group.
	for _, i := range []int{-1, 1, 2} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Entry(%d) of 1 did not panic", i)
				}
			}()
			lv.Entry(i).SetPrice(1)
		}()
	}
	// Entries of no bytes panic out of range too.
	mk, err := m.PutMarks(0)
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Entry(0) of no marks did not panic")
			}
		}()
		_ = mk.Entry(0)
	}()
	// The zero values have no entries.
	var z fullsbe.Book
	if z.LevelsEntries().Count() != 0 || (fullsbe.BookLevelsEntries{}).Count() != 0 {
		t.Fatal("zero values have entries")
	}
	// A group header changed after the check no longer fits the buffer:
	// no entries rather than a read past it.
	msg := book(t, true)
	var d fullsbe.Book
	if err := d.WrapForDecodeHeader(msg, 0); err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint16(msg[levelsAt+2:], 60000)
	if n := d.LevelsEntries().Count(); n != 0 {
		t.Fatalf("damaged group: %d entries", n)
	}
	binary.LittleEndian.PutUint16(msg[levelsAt:], 5) // below the minimum block length
	binary.LittleEndian.PutUint16(msg[levelsAt+2:], 3)
	if n := d.LevelsEntries().Count(); n != 0 {
		t.Fatalf("short entries: %d entries", n)
	}
}

func TestBookEntriesFill(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	buf := make([]byte, 512)
	var m fullsbe.Book
	if err := m.WrapAndApplyHeader(buf, 0); err != nil {
		t.Fatal(err)
	}
	lv, _ := m.PutLevels(2)
	var verify []func()
	for i := range lv.Count() {
		verify = append(verify, sbetest.Fill(t, rng, lv.Entry(i)))
	}
	sm, _ := m.PutSmall(3)
	for i := range sm.Count() {
		verify = append(verify, sbetest.Fill(t, rng, sm.Entry(i)))
	}
	sides, _ := m.SidesCount(1)
	sides.Next()
	mk, _ := sides.PutMarks(2)
	for i := range mk.Count() {
		verify = append(verify, sbetest.Fill(t, rng, mk.Entry(i)))
	}
	_ = sides.SetLabel(nil)
	if _, err := m.MarksCount(1); err != nil {
		t.Fatal(err)
	}
	for _, v := range verify {
		v()
	}
	sbetest.CheckRender(t, fullsbe.Codec{}, buf[:8+m.EncodedLength()])
}

func TestBookNoAllocations(t *testing.T) {
	buf := make([]byte, 512)
	msg := book(t, true)
	var sink int64
	if n := testing.AllocsPerRun(100, func() {
		var m fullsbe.Book
		_ = m.WrapAndApplyHeader(buf, 0)
		lv, _ := m.PutLevels(3)
		for i := range lv.Count() {
			lv.Entry(i).SetPrice(int64(i))
			lv.Entry(i).Qty().Set(1, 2)
		}
		var d fullsbe.Book
		_ = d.WrapForDecodeHeader(msg, 0)
		dl := d.LevelsEntries()
		for i := range dl.Count() {
			sink += dl.Entry(i).Price() + int64(dl.Entry(i).Flags())
		}
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
	_ = sink
}
