package main

import (
	"fmt"
	"strconv"
	"strings"
)

func depth(b *block) int {
	d := 0
	for p := b.parent; p != nil; p = p.parent {
		d++
	}
	return d
}

// gaps are the byte ranges of b's block that no field covers; encoders
// clear them so the encoding is deterministic.
func gaps(b *block) [][2]int {
	covered := make([]bool, b.blockLength)
	for _, f := range b.fields {
		if f.presence != constant {
			cover(covered, f.offset, f.t)
		}
	}
	var out [][2]int
	for i := 0; i < len(covered); {
		if covered[i] {
			i++
			continue
		}
		j := i
		for j < len(covered) && !covered[j] {
			j++
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

// cover marks the bytes type t occupies at off, descending into
// composites so that padding between their members counts as a gap.
func cover(covered []bool, off int, t *typ) {
	if t.kind == kindComposite {
		for _, m := range t.members {
			cover(covered, off+m.offset, m.t)
		}
		return
	}
	for i := off; i < off+t.size; i++ {
		covered[i] = true
	}
}

// fixedLen reports whether b's fields can be reached through a *[n]byte:
// none depends on the acting version, so every valid block holds at least
// the n bytes up to the end of its last field, and constant offsets into it
// need no bounds checks.
//
// Groups with variable entries keep a slice: their iterators point into the
// message (its write position), and only the slice self-assignment
// g.block = g.buf[...] keeps escape analysis from moving the message to the
// heap. A message's root block is fixed whatever follows it.
func fixedLen(b *block) (int, bool) {
	if len(b.versions()) > 0 || (b.isGroup && b.variable()) {
		return 0, false
	}
	return b.minBlockLength(1 << 30), true
}

// blockType is the Go type of b's block field.
func blockType(b *block) string {
	if n, ok := fixedLen(b); ok {
		return fmt.Sprintf("*[%d]byte", n)
	}
	return "[]byte"
}

// setBlock is the statement pointing recv.block at the block of length bl
// (an expression, at least the block's minimum) at buf[start:].
func setBlock(b *block, recv, buf, start, bl string) string {
	if n, ok := fixedLen(b); ok {
		return fmt.Sprintf("%s.block = (*[%d]byte)(%s[%s : %s+%d])", recv, n, buf, start, start, n)
	}
	return fmt.Sprintf("%s.block = %s[%s : %s+%s : %s+%s]", recv, buf, start, start, bl, start, bl)
}

// clearGaps writes the clearing of b's padding, addressed in buf from start.
func (g *gen) clearGaps(b *block, buf, start string) {
	for _, gp := range gaps(b) {
		g.p("clear(%s[%s+%d : %s+%d])", buf, start, gp[0], start, gp[1])
	}
}

// minExpr is the expression of b's minimum block length in acting version v.
func minExpr(b *block, v string) string {
	if len(b.versions()) == 0 {
		return strconv.Itoa(b.minBlockLength(1 << 30))
	}
	return "minBlockLength" + b.goName + "(" + v + ")"
}

func (g *gen) minFunc(b *block) {
	vs := b.versions()
	if len(vs) == 0 {
		return
	}
	g.p("// minBlockLength%s is the smallest %s block that holds every field of acting version v.", b.goName, b.name)
	g.p("func minBlockLength%s(v uint16) int {", b.goName)
	g.p("switch {")
	for i := len(vs) - 1; i >= 0; i-- {
		g.p("case v >= %d: return %d", vs[i], b.minBlockLength(vs[i]))
	}
	g.p("}")
	g.p("return %d", b.minBlockLength(0))
	g.p("}")
	g.p("")
}

// offName is the struct field holding where a group or var data starts.
func offName(name string) string {
	return strings.ToLower(name[:1]) + name[1:] + "Off"
}

func (g *gen) resetOffs(b *block, recv string) {
	for _, c := range b.groups {
		g.p("%s.%s = -1", recv, offName(c.goName[len(b.goName):]))
	}
	for _, d := range b.datas {
		g.p("%s.%s = -1", recv, offName(d.goName))
	}
}

func (g *gen) offFields(b *block) {
	for _, c := range b.groups {
		g.p("%s int", offName(c.goName[len(b.goName):]))
	}
	for _, d := range b.datas {
		g.p("%s int", offName(d.goName))
	}
}

func (g *gen) message(b *block, ns names) error {
	for _, n := range []string{b.goName, b.goName + "TemplateID", b.goName + "BlockLength"} {
		if err := ns.add(g.s, n, "message "+b.name); err != nil {
			return err
		}
	}
	g.p("// %sTemplateID is the template id of %s.", b.goName, b.name)
	g.p("const %sTemplateID uint16 = %d", b.goName, b.id)
	g.p("")
	g.p("// %sBlockLength is the length of the %s root block.", b.goName, b.name)
	g.p("const %sBlockLength = %d", b.goName, b.blockLength)
	g.p("")
	g.p("// %s is a flyweight over the %s message (template %d, %d-byte root block).", b.goName, b.name, b.id, b.blockLength)
	if b.desc != "" {
		g.p("// %s.", strings.TrimSuffix(comment(b.desc), "."))
	}
	g.p("type %s struct {", b.goName)
	g.p("buf []byte")
	g.p("block %s // the root block", blockType(b))
	g.p("offset, limit, actingBlockLength int")
	g.p("actingVersion uint16")
	g.offFields(b)
	g.p("}")
	g.p("")
	ms := names{}
	for _, n := range []string{"WrapForEncode", "WrapAndApplyHeader", "WrapForDecode", "WrapForDecodeHeader",
		"EncodedLength", "ActingVersion", "ActingBlockLength", "AppendJSON", "AppendText"} {
		ms[n] = "a generated method"
	}
	name := lit(b.name)
	g.p("// WrapForEncode points m at buf[offset:] to write a %s root block (without header).", b.name)
	g.p("func (m *%s) WrapForEncode(buf []byte, offset int) error {", b.goName)
	g.p("if offset < 0 || offset > len(buf) || len(buf)-offset < %d { return sbert.ErrShortBuffer }", b.blockLength)
	g.p("m.buf = buf")
	g.p("%s", setBlock(b, "m", "buf", "offset", strconv.Itoa(b.blockLength)))
	g.p("m.offset, m.limit, m.actingBlockLength, m.actingVersion = offset, offset+%d, %d, SchemaVersion", b.blockLength, b.blockLength)
	g.resetOffs(b, "m")
	g.clearGaps(b, "buf", "offset")
	g.p("return nil")
	g.p("}")
	g.p("")
	hm := func(m *member, v string) string {
		return g.put(m.t.prim, "h", strconv.Itoa(m.offset), v)
	}
	g.p("// WrapAndApplyHeader writes the %s message header at buf[offset:] and wraps the root block after it for encoding.", b.name)
	g.p("func (m *%s) WrapAndApplyHeader(buf []byte, offset int) error {", b.goName)
	g.p("if offset < 0 || offset > len(buf) || len(buf)-offset < HeaderLength+%d { return sbert.ErrShortBuffer }", b.blockLength)
	if hv, ok := g.stdHeader(b); ok {
		// The standard header is one 64-bit constant per message.
		g.p("%s.PutUint64(buf[offset:offset+8], %#016x)", g.bo(), hv)
		g.p("start := offset + HeaderLength")
		g.p("m.buf = buf")
		g.p("%s", setBlock(b, "m", "buf", "start", strconv.Itoa(b.blockLength)))
		g.p("m.offset, m.limit, m.actingBlockLength, m.actingVersion = start, start+%d, %d, SchemaVersion", b.blockLength, b.blockLength)
		g.resetOffs(b, "m")
		g.clearGaps(b, "buf", "start")
		g.p("return nil")
	} else {
		g.p("h := buf[offset : offset+HeaderLength]")
		g.p("%s", hm(g.s.hdrBL, strconv.Itoa(b.blockLength)))
		g.p("%s", hm(g.s.hdrTID, strconv.Itoa(b.id)))
		g.p("%s", hm(g.s.hdrSID, g.s.hdrSID.t.prim.goType+"(SchemaID)"))
		g.p("%s", hm(g.s.hdrVer, g.s.hdrVer.t.prim.goType+"(SchemaVersion)"))
		g.p("return m.WrapForEncode(buf, offset+HeaderLength)")
	}
	g.p("}")
	g.p("")
	g.p("// WrapForDecode points m at the root block at buf[offset:] with the header's block length and version,")
	g.p("// and checks the whole message (groups and var data included) against buf. After it succeeds no getter")
	g.p("// reads outside buf; EncodedLength is then the message's length without header.")
	g.p("func (m *%s) WrapForDecode(buf []byte, offset int, actingBlockLength, actingVersion uint16) error {", b.goName)
	g.p("m.buf, m.block = buf, nil")
	g.p("m.offset, m.limit, m.actingBlockLength, m.actingVersion = offset, offset, int(actingBlockLength), actingVersion")
	g.resetOffs(b, "m")
	g.p("bl := int(actingBlockLength)")
	g.p("if lo := %s; bl < lo { return sbert.BelowMinimum(%s, \"\", \"blockLength\", int64(bl), int64(lo)) }", minExpr(b, "actingVersion"), name)
	g.p("if offset < 0 || offset > len(buf) || len(buf)-offset < bl { return sbert.Truncated(%s, \"\", offset+bl, len(buf)) }", name)
	g.p("pos := offset + bl")
	g.p("%s", setBlock(b, "m", "buf", "offset", "bl"))
	g.walkParts(b, "m", false, "actingVersion", "return ")
	g.p("m.limit = pos")
	g.p("return nil")
	g.p("}")
	g.p("")
	g.p("// WrapForDecodeHeader reads the message header at buf[offset:], checks that it announces %s", b.name)
	g.p("// of this schema, and wraps the message for decoding as WrapForDecode does.")
	g.p("func (m *%s) WrapForDecodeHeader(buf []byte, offset int) error {", b.goName)
	g.p("if offset < 0 || offset > len(buf) || len(buf)-offset < HeaderLength { return sbert.Truncated(%s, \"header\", offset+HeaderLength, len(buf)) }", name)
	if _, ok := g.stdHeader(b); ok {
		// One 64-bit load; template and schema checked together.
		mask, want := g.idMask(b)
		g.p("h := %s.Uint64(buf[offset : offset+8])", g.bo())
		g.p("if h&%#016x != %#016x { return wrongTemplate(%s, %d, buf[offset:]) }", mask, want, name, b.id)
		bl, ver := g.hdrField(g.s.hdrBL, "h"), g.hdrField(g.s.hdrVer, "h")
		if len(b.groups) == 0 && len(b.datas) == 0 {
			g.p("bl, start := int(%s), offset+HeaderLength", bl)
			g.p("if lo := %s; bl < lo { return sbert.BelowMinimum(%s, \"\", \"blockLength\", int64(bl), int64(lo)) }", minExpr(b, ver), name)
			g.p("if len(buf)-start < bl { return sbert.Truncated(%s, \"\", start+bl, len(buf)) }", name)
			g.p("m.buf = buf")
			g.p("%s", setBlock(b, "m", "buf", "start", "bl"))
			g.p("m.offset, m.limit, m.actingBlockLength, m.actingVersion = start, start+bl, bl, %s", ver)
			g.p("return nil")
		} else {
			g.p("return m.WrapForDecode(buf, offset+HeaderLength, %s, %s)", bl, ver)
		}
	} else {
		g.p("h, _ := ReadHeader(buf[offset:])")
		g.p("if h.TemplateID != %d || h.SchemaID != SchemaID { return wrongTemplate(%s, %d, buf[offset:]) }", b.id, name, b.id)
		g.p("return m.WrapForDecode(buf, offset+HeaderLength, h.BlockLength, h.Version)")
	}
	g.p("}")
	g.p("")
	g.p("// EncodedLength is the length of the message without header: the root block,")
	g.p("// groups and var data written (encoding) or checked (decoding) so far.")
	g.p("func (m *%s) EncodedLength() int { return m.limit - m.offset }", b.goName)
	g.p("")
	g.p("// ActingVersion is the schema version the message was encoded with.")
	g.p("func (m *%s) ActingVersion() uint16 { return m.actingVersion }", b.goName)
	g.p("")
	g.p("// ActingBlockLength is the length of the root block on the wire.")
	g.p("func (m *%s) ActingBlockLength() int { return m.actingBlockLength }", b.goName)
	g.p("")
	g.minFunc(b)
	sc := scope{typ: b.goName, recv: "m", decl: "(m *" + b.goName + ")", b: "m.block", ver: "m.actingVersion", blk: b,
		exp: map[*block]string{b: "m"}}
	if err := g.blockAccessors(sc, b, ms); err != nil {
		return err
	}
	g.renderMessage(b, sc)
	for _, c := range b.groups {
		if err := g.group(c, ns); err != nil {
			return err
		}
	}
	return nil
}

// blockAccessors writes the accessors of b's fields, groups and var data.
func (g *gen) blockAccessors(sc scope, b *block, ms names) error {
	for _, f := range b.fields {
		if err := g.accessors(sc, f, ms); err != nil {
			return err
		}
	}
	for _, c := range b.groups {
		if err := g.groupAccessors(sc, b, c, ms); err != nil {
			return err
		}
	}
	for _, d := range b.datas {
		if err := g.dataAccessors(sc, b, d, ms); err != nil {
			return err
		}
	}
	return nil
}

// limitExpr is how a receiver reaches the message's write position.
func limitLines(g *gen, sc scope, zero string) {
	if sc.blk.isGroup {
		g.p("lim := %s.limit", sc.recv)
		g.p("if lim == nil { return %sErrNotEncoding }", zero)
	} else {
		g.p("lim := &%s.limit", sc.recv)
	}
}

func (g *gen) groupAccessors(sc scope, b, c *block, ms names) error {
	short := c.goName[len(b.goName):]
	for _, n := range []string{short, short + "Count"} {
		if err := ms.add(g.s, n, "group "+c.name+" of "+sc.typ); err != nil {
			return err
		}
	}
	if !c.variable() {
		// Fixed-size entries: the iterator walks the Entries view.
		if err := g.entriesAccessors(sc, c, short, ms); err != nil {
			return err
		}
		g.p("// %s returns an iterator over the %s group (decoding).", short, c.name)
		g.p("func %s %s() %s {", sc.decl, short, c.goName)
		g.p("return %s{entries: %s.%sEntries(), index: -1, actingVersion: %s}", c.goName, sc.recv, short, sc.ver)
		g.p("}")
		g.p("")
		g.p("// %sCount writes the %s group header for n entries at the write position (encoding);", short, c.name)
		g.p("// call Next on the result before writing each of the n entries.")
		g.p("func %s %sCount(n int) (%s, error) {", sc.decl, short, c.goName)
		g.p("es, err := %s.Put%s(n)", sc.recv, short)
		g.p("if err != nil { return %s{}, err }", c.goName)
		g.p("return %s{entries: es, index: -1, actingVersion: %s}, nil", c.goName, sc.ver)
		g.p("}")
		g.p("")
		return nil
	}
	off := sc.recv + "." + offName(short)
	buf := sc.recv + ".buf"
	dim := c.dim.size
	g.p("// %s returns an iterator over the %s group (decoding).", short, c.name)
	g.p("func %s %s() %s {", sc.decl, short, c.goName)
	g.p("it := %s{buf: %s, index: -1, actingVersion: %s}", c.goName, buf, sc.ver)
	g.resetOffs(c, "it")
	g.p("p := %s", off)
	g.p("if p < 0 || len(%s)-p < %d { return it }", buf, dim)
	g.p("it.blockLength = int(%s)", g.get(c.dimBL.t.prim, buf, plus("p", c.dimBL.offset)))
	g.p("n := int64(%s)", g.get(c.dimN.t.prim, buf, plus("p", c.dimN.offset)))
	g.p("if n > %d { return it }", c.numMax)
	g.p("it.count, it.next = int(n), p+%d", dim)
	g.p("return it")
	g.p("}")
	g.p("")
	g.p("// %sCount writes the %s group header for n entries at the write position (encoding);", short, c.name)
	g.p("// call Next on the result before writing each of the n entries.")
	g.p("func %s %sCount(n int) (%s, error) {", sc.decl, short, c.goName)
	limitLines(g, sc, c.goName+"{}, sbert.")
	g.p("if n < 0 || int64(n) > %d { return %s{}, sbert.ErrGroupCount }", c.numMax, c.goName)
	g.p("p := *lim")
	g.p("if p < 0 || len(%s)-p < %d { return %s{}, sbert.ErrShortBuffer }", buf, dim, c.goName)
	for _, st := range g.dimPut(c, buf, "p", strconv.Itoa(c.blockLength), "n") {
		g.p("%s", st)
	}
	g.p("%s = p", off)
	g.p("*lim = p + %d", dim)
	g.p("it := %s{buf: %s, limit: lim, blockLength: %d, count: n, index: -1, next: p + %d, actingVersion: %s}", c.goName, buf, c.blockLength, dim, sc.ver)
	g.resetOffs(c, "it")
	g.p("return it, nil")
	g.p("}")
	g.p("")
	return nil
}

// entriesAccessors writes <Group>Entries and Put<Group>: random access to
// the entries of a group whose entries are all the same size, the cheap
// way to read or write many of them (one bounds check per entry, no
// iterator state; see the Entries type).
func (g *gen) entriesAccessors(sc scope, c *block, short string, ms names) error {
	for _, n := range []string{short + "Entries", "Put" + short} {
		if err := ms.add(g.s, n, "group "+c.name+" of "+sc.typ); err != nil {
			return err
		}
	}
	typ := c.goName + "Entries"
	off := sc.recv + "." + offName(short)
	buf := sc.recv + ".buf"
	dim := c.dim.size
	ver := ""
	if len(c.versions()) > 0 {
		ver = ", actingVersion: " + sc.ver
	}
	g.p("// %sEntries returns the entries of the %s group for access by index (decoding, or encoding after Put%s);", short, c.name, short)
	g.p("// it has no entries when the message lacks the group or it does not fit the buffer.")
	g.p("func %s %sEntries() %s {", sc.decl, short, typ)
	g.p("p := %s", off)
	g.p("if p < 0 || len(%s)-p < %d { return %s{} }", buf, dim, typ)
	bl, n := g.dimGet(c, buf, "p")
	g.p("bl, n := int(%s), int(%s)", bl, n)
	g.p("p += %d", dim)
	g.p("if bl < %s || int64(n) > %d || int64(len(%s)-p) < int64(n)*int64(bl) { return %s{} }", minExpr(c, sc.ver), c.numMax, buf, typ)
	g.p("e := p + n*bl")
	g.p("return %s{b: %s[p:e:e], n: uint32(n), bl: uint16(bl)%s}", typ, buf, ver)
	g.p("}")
	g.p("")
	g.p("// Put%s writes the %s group header for n entries at the write position (encoding) and returns", short, c.name)
	g.p("// the entries, to be filled by index. It is %sCount without the per-entry iterator.", short)
	g.p("func %s Put%s(n int) (%s, error) {", sc.decl, short, typ)
	// Small enough to inline for the usual dimensions: two cheap tests
	// with their own sentinel errors, and the end of the group computed
	// once (the write position is never negative nor past the buffer).
	g.p("if uint(n) > %d { return %s{}, sbert.ErrGroupCount }", c.numMax, typ)
	if sc.blk.isGroup {
		g.p("if %s.limit == nil { return %s{}, sbert.ErrNotEncoding }", sc.recv, typ)
		g.p("p := *%s.limit", sc.recv)
	} else {
		g.p("p := %s.limit", sc.recv)
	}
	if c.numMax*int64(c.blockLength)+int64(dim) <= 1<<30 {
		// No overflow even with a 32-bit int: p < 1<<31, the group < 1<<30.
		g.p("e := p + %d + n*%d", dim, c.blockLength)
		g.p("if uint(e) > uint(len(%s)) { return %s{}, sbert.ErrShortBuffer }", buf, typ)
	} else {
		g.p("if int64(len(%s)-p) < %d+int64(n)*%d { return %s{}, sbert.ErrShortBuffer }", buf, dim, c.blockLength, typ)
		g.p("e := p + %d + n*%d", dim, c.blockLength)
	}
	g.p("b := %s[p:e:e]", buf)
	for _, st := range g.dimPut(c, "b", "0", strconv.Itoa(c.blockLength), "n") {
		g.p("%s", st)
	}
	if sc.blk.isGroup {
		g.p("%s, *%s.limit = p, e", off, sc.recv)
	} else {
		g.p("%s, %s.limit = p, e", off, sc.recv)
	}
	if len(gaps(c)) > 0 {
		// The padding between fields must be zero; Next used to clear it
		// entry by entry, here it goes all at once.
		g.p("clear(b[%d:])", dim)
	}
	g.p("return %s{b: b[%d:], n: uint32(n), bl: %d%s}, nil", typ, dim, c.blockLength, ver)
	g.p("}")
	g.p("")
	return nil
}

// dimWord reports whether c's dimension is blockLength and numInGroup as
// two uint16 at offsets 0 and 2, read and written as one uint32; if so it
// returns where each sits in that word.
func (g *gen) dimWord(c *block) (blShift, nShift int, ok bool) {
	if c.dim.size != 4 || c.dimBL.offset != 0 || c.dimN.offset != 2 ||
		c.dimBL.t.prim.size != 2 || c.dimN.t.prim.size != 2 {
		return 0, 0, false
	}
	if g.s.bigEndian {
		return 16, 0, true
	}
	return 0, 16, true
}

// dimGet returns the expressions of c's blockLength and numInGroup at
// buf[p:], after the statement it writes.
func (g *gen) dimGet(c *block, buf, p string) (bl, n string) {
	if bs, ns, ok := g.dimWord(c); ok {
		g.p("h := %s.Uint32(%s)", g.bo(), slice(buf, p, 4))
		return shifted("uint16(h", ">>", bs) + ")", shifted("uint16(h", ">>", ns) + ")"
	}
	return g.get(c.dimBL.t.prim, buf, plus(p, c.dimBL.offset)), g.get(c.dimN.t.prim, buf, plus(p, c.dimN.offset))
}

// shifted is the expression x op s, or x when s is 0.
func shifted(x, op string, s int) string {
	if s == 0 {
		return x
	}
	return fmt.Sprintf("%s%s%d", x, op, s)
}

// dimPut returns the statements writing c's group header at buf[p:].
func (g *gen) dimPut(c *block, buf, p, bl, n string) []string {
	if bs, ns, ok := g.dimWord(c); ok {
		return []string{fmt.Sprintf("%s.PutUint32(%s, %s|%s)", g.bo(), slice(buf, p, 4),
			shifted("uint32("+bl+")", "<<", bs), shifted("uint32("+n+")", "<<", ns))}
	}
	return []string{
		g.put(c.dimBL.t.prim, buf, plus(p, c.dimBL.offset), bl),
		g.put(c.dimN.t.prim, buf, plus(p, c.dimN.offset), c.dimN.t.prim.goType+"("+n+")"),
	}
}

// entryTypes writes, for a group whose entries are all the same size, the
// Entry flyweight over one entry and the Entries view of all of them.
// Reading or writing entry i is then one bounds check and the field
// accessors' fixed-offset loads and stores, all inlinable: what a
// hand-written loop over the buffer would do.
func (g *gen) entryTypes(b *block, ns names) error {
	entry, entries := b.goName+"Entry", b.goName+"Entries"
	for _, n := range []string{entry, entries} {
		if err := ns.add(g.s, n, "group "+b.msg.name+"."+b.path); err != nil {
			return err
		}
	}
	versioned := len(b.versions()) > 0
	n, fixed := fixedLen(b)
	g.p("// %s is a flyweight over one entry of the %s group of %s.", entry, b.path, b.msg.name)
	g.p("type %s struct {", entry)
	g.p("b %s", blockType(b))
	if versioned {
		g.p("actingVersion uint16")
	}
	g.p("}")
	g.p("")
	g.p("// %s are the entries of one %s group of %s, laid out one after another in the", entries, b.path, b.msg.name)
	g.p("// buffer: Entry(i) is entry i. The zero value has no entries.")
	// At most 32 bytes in at most four fields, so that the compiler keeps
	// it in registers (a bigger struct is copied through memory on every
	// call of Entry). numInGroup has at most 32 bits, blockLength 16.
	g.p("type %s struct {", entries)
	g.p("b []byte // the entries, n*bl bytes")
	g.p("n uint32")
	g.p("bl uint16")
	if versioned {
		g.p("actingVersion uint16")
	}
	g.p("}")
	g.p("")
	g.p("// Count is the number of entries.")
	g.p("func (g %s) Count() int { return int(g.n) }", entries)
	g.p("")
	g.p("// Entry returns entry i; it panics unless 0 <= i < Count(), as indexing a slice does.")
	g.p("func (g %s) Entry(i int) %s {", entries, entry)
	g.p("o := i * int(g.bl)")
	ver := ""
	if versioned {
		ver = ", actingVersion: g.actingVersion"
	}
	if fixed && n == 0 {
		// Entries without bytes of their own: no slicing would catch a bad index.
		g.p("if uint(i) >= uint(g.n) { panic(\"sbe: entry index out of range\") }")
		g.p("return %s{b: (*[0]byte)(g.b[o:o])%s}", entry, ver)
	} else if fixed {
		g.p("return %s{b: (*[%d]byte)(g.b[o : o+%d])%s}", entry, n, n, ver)
	} else {
		g.p("return %s{b: g.b[o : o+int(g.bl) : o+int(g.bl)]%s}", entry, ver)
	}
	g.p("}")
	g.p("")
	sc := scope{typ: entry, recv: "e", decl: "(e " + entry + ")", b: "e.b", blk: b}
	if versioned {
		sc.ver = "e.actingVersion"
	}
	ms := names{}
	for _, f := range b.fields {
		if err := g.accessors(sc, f, ms); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) dataAccessors(sc scope, b *block, d *data, ms names) error {
	for _, n := range []string{d.goName, "Set" + d.goName, "Set" + d.goName + "String"} {
		if err := ms.add(g.s, n, "var data "+d.name+" of "+sc.typ); err != nil {
			return err
		}
	}
	off := sc.recv + "." + offName(d.goName)
	buf := sc.recv + ".buf"
	lp := d.lenM.t.prim
	L := lp.size
	g.p("// %s returns the %s var data, a view of the buffer (nil when absent).", d.goName, d.name)
	g.p("func %s %s() []byte {", sc.decl, d.goName)
	g.p("p := %s", off)
	g.p("if p < 0 || len(%s)-p < %d { return nil }", buf, L)
	g.p("n := int(%s)", g.get(lp, buf, "p"))
	g.p("if len(%s)-p-%d < n { return nil }", buf, L)
	g.p("return %s[p+%d : p+%d+n : p+%d+n]", buf, L, L, L)
	g.p("}")
	g.p("")
	for _, suffix := range []string{"", "String"} {
		typ := "[]byte"
		if suffix == "String" {
			typ = "string"
		}
		g.p("// Set%s%s writes v as the %s var data at the write position (encoding, after the fields and groups before it).", d.goName, suffix, d.name)
		g.p("func %s Set%s%s(v %s) error {", sc.decl, d.goName, suffix, typ)
		limitLines(g, sc, "sbert.")
		g.p("if int64(len(v)) > %d { return sbert.ErrValueTooLong }", d.maxLen)
		g.p("p := *lim")
		g.p("if p < 0 || len(%s)-p-%d < len(v) { return sbert.ErrShortBuffer }", buf, L)
		g.p("%s", g.put(lp, buf, "p", lp.goType+"(len(v))"))
		g.p("copy(%s[p+%d:], v)", buf, L)
		g.p("%s = p", off)
		g.p("*lim = p + %d + len(v)", L)
		g.p("return nil")
		g.p("}")
		g.p("")
	}
	return nil
}

// walkParts writes the checks of b's groups and var data from pos onwards,
// recording where each starts in rec (which may be a nil *group when
// recNil). fail prefixes the error return.
func (g *gen) walkParts(b *block, rec string, recNil bool, ver, fail string) {
	msgName := lit(b.msg.name)
	record := func(name string) {
		if recNil {
			g.p("if %s != nil { %s.%s = pos }", rec, rec, name)
		} else {
			g.p("%s.%s = pos", rec, name)
		}
	}
	if len(b.groups) > 0 {
		g.p("var err error")
	}
	for _, c := range b.groups {
		if c.sinceVersion > 0 {
			g.p("if %s >= %d {", ver, c.sinceVersion)
		}
		record(offName(c.goName[len(b.goName):]))
		g.p("if pos, err = walk%s(buf, pos, %s); err != nil { %serr }", c.goName, ver, fail)
		if c.sinceVersion > 0 {
			g.p("}")
		}
	}
	for _, d := range b.datas {
		part := lit("data " + d.name)
		if b.isGroup {
			part = lit("group " + b.path + " data " + d.name)
		}
		L := d.lenM.t.prim.size
		g.p("{")
		if d.sinceVersion > 0 {
			g.p("if %s >= %d {", ver, d.sinceVersion)
		}
		record(offName(d.goName))
		g.p("if len(buf)-pos < %d { %ssbert.Truncated(%s, %s, pos+%d, len(buf)) }", L, fail, msgName, part, L)
		g.p("n := int64(%s)", g.get(d.lenM.t.prim, "buf", "pos"))
		g.p("if n > %d { %ssbert.AboveMaximum(%s, %s, \"length\", n, %d) }", d.maxLen, fail, msgName, part, d.maxLen)
		g.p("if int64(len(buf)-pos-%d) < n { %ssbert.Truncated(%s, %s, pos+%d+int(n), len(buf)) }", L, fail, msgName, part, L)
		g.p("pos += %d + int(n)", L)
		if d.sinceVersion > 0 {
			g.p("}")
		}
		g.p("}")
	}
}

func (g *gen) group(b *block, ns names) error {
	for _, n := range []string{b.goName, b.goName + "BlockLength"} {
		if err := ns.add(g.s, n, "group "+b.msg.name+"."+b.path); err != nil {
			return err
		}
	}
	msgName := lit(b.msg.name)
	part := lit("group " + b.path)
	dim := b.dim.size
	g.p("// %sBlockLength is the block length of one %s entry.", b.goName, b.path)
	g.p("const %sBlockLength = %d", b.goName, b.blockLength)
	g.p("")
	g.p("// %s iterates over the %s group of %s (decoding) or writes its entries (encoding).", b.goName, b.path, b.msg.name)
	if b.desc != "" {
		g.p("// %s.", strings.TrimSuffix(comment(b.desc), "."))
	}
	g.p("type %s struct {", b.goName)
	if b.variable() {
		g.p("buf []byte")
		g.p("block %s // the current entry", blockType(b))
		g.p("limit *int // the message's write position when encoding")
		g.p("blockLength, count, index, next int")
		g.p("actingVersion uint16")
		g.offFields(b)
	} else {
		g.p("entries %sEntries", b.goName)
		g.p("block %s // the current entry", blockType(b))
		g.p("index int")
		g.p("actingVersion uint16")
	}
	g.p("}")
	g.p("")
	g.minFunc(b)
	g.p("// walk%s checks the %s group at buf[pos:] and returns the offset just past it.", b.goName, b.path)
	g.p("func walk%s(buf []byte, pos int, v uint16) (int, error) {", b.goName)
	g.p("if pos < 0 || len(buf)-pos < %d { return 0, sbert.Truncated(%s, %s, pos+%d, len(buf)) }", dim, msgName, part, dim)
	g.p("bl := int(%s)", g.get(b.dimBL.t.prim, "buf", plus("pos", b.dimBL.offset)))
	g.p("n := int64(%s)", g.get(b.dimN.t.prim, "buf", plus("pos", b.dimN.offset)))
	g.p("if lo := %s; bl < lo { return 0, sbert.BelowMinimum(%s, %s, \"blockLength\", int64(bl), int64(lo)) }", minExpr(b, "v"), msgName, part)
	g.p("if n > %d { return 0, sbert.AboveMaximum(%s, %s, \"numInGroup\", n, %d) }", b.numMax, msgName, part, b.numMax)
	g.p("pos += %d", dim)
	if !b.variable() {
		g.p("if int64(len(buf)-pos) < n*int64(bl) { return 0, sbert.Truncated(%s, %s, pos+int(n)*bl, len(buf)) }", msgName, part)
		g.p("return pos + int(n)*bl, nil")
	} else {
		g.p("var err error")
		g.p("for i := int64(0); i < n; i++ {")
		g.p("if pos, err = walk%sEntry(buf, pos, bl, v, nil); err != nil { return 0, err }", b.goName)
		g.p("}")
		g.p("return pos, nil")
	}
	g.p("}")
	g.p("")
	if b.variable() {
		g.p("// walk%sEntry checks one %s entry with block length bl at buf[pos:] and returns the offset just", b.goName, b.path)
		g.p("// past it; with it non-nil it records where the entry's groups and var data start.")
		g.p("func walk%sEntry(buf []byte, pos, bl int, v uint16, it *%s) (int, error) {", b.goName, b.goName)
		g.p("if pos < 0 || len(buf)-pos < bl { return 0, sbert.Truncated(%s, %s, pos+bl, len(buf)) }", msgName, part)
		g.p("pos += bl")
		g.walkParts(b, "it", true, "v", "return 0, ")
		g.p("return pos, nil")
		g.p("}")
		g.p("")
	}
	ms := names{}
	for _, n := range []string{"Count", "Index", "Next"} {
		ms[n] = "a generated method"
	}
	g.p("// Count is the number of entries in the group.")
	if b.variable() {
		g.p("func (g %s) Count() int { return g.count }", b.goName)
	} else {
		g.p("func (g %s) Count() int { return int(g.entries.n) }", b.goName)
	}
	g.p("")
	g.p("// Index is the position of the current entry, -1 before the first Next.")
	g.p("func (g %s) Index() int { return g.index }", b.goName)
	g.p("")
	if b.variable() {
		g.p("// Next moves to the next entry. It returns false after the last one, and, when")
		g.p("// encoding, when the buffer cannot hold another entry.")
	} else {
		g.p("// Next moves to the next entry. It returns false after the last one.")
	}
	g.p("func (g *%s) Next() bool {", b.goName)
	if !b.variable() {
		// Reading and writing share one path: entries are fixed-size, and
		// <Group>Entries checked (or Put<Group> took and cleared) the room
		// for all of them.
		g.p("i := g.index + 1")
		g.p("if i >= int(g.entries.n) { return false }")
		g.p("g.block = g.entries.Entry(i).b")
		g.p("g.index = i")
		g.p("return true")
		g.p("}")
		g.p("")
	} else {
		g.p("if g.index+1 >= g.count { return false }")
		g.p("if g.limit != nil {")
		g.p("p := *g.limit")
		g.p("if p < 0 || len(g.buf)-p < %d { return false }", b.blockLength)
		g.p("%s", setBlock(b, "g", "g.buf", "p", strconv.Itoa(b.blockLength)))
		g.clearGaps(b, "g.buf", "p")
		g.p("*g.limit = p + %d", b.blockLength)
		g.resetOffs(b, "g")
		g.p("} else {")
		g.p("p := g.next")
		if n, ok := fixedLen(b); ok && n > 0 {
			g.p("if g.blockLength < %d { return false }", n)
		}
		g.p("end, err := walk%sEntry(g.buf, p, g.blockLength, g.actingVersion, g)", b.goName)
		g.p("if err != nil { return false }")
		g.p("%s", setBlock(b, "g", "g.buf", "p", "g.blockLength"))
		g.p("g.next = end")
		g.p("}")
		g.p("g.index++")
		g.p("return true")
		g.p("}")
		g.p("")
	}
	exp := map[*block]string{b.msg: "m", b: "g"}
	for p, d := b.parent, depth(b)-1; p != nil && p.isGroup; p, d = p.parent, d-1 {
		exp[p] = "p" + strconv.Itoa(d)
	}
	sc := scope{typ: b.goName, recv: "g", decl: "(g *" + b.goName + ")", b: "g.block", ver: "g.actingVersion", blk: b, exp: exp}
	if err := g.blockAccessors(sc, b, ms); err != nil {
		return err
	}
	if !b.variable() {
		if err := g.entryTypes(b, ns); err != nil {
			return err
		}
	}
	g.renderGroup(b, sc)
	for _, c := range b.groups {
		if err := g.group(c, ns); err != nil {
			return err
		}
	}
	return nil
}

// renderMessage writes AppendJSON and AppendText of a message.
func (g *gen) renderMessage(b *block, sc scope) {
	g.p("// AppendJSON appends the message as one JSON object: name, templateId, schemaId, version,")
	g.p("// then every field in schema order.")
	g.p("func (m *%s) AppendJSON(dst []byte) []byte { return m.appendJSON(dst, SchemaID, m.actingVersion) }", b.goName)
	g.p("")
	g.p("func (m *%s) appendJSON(dst []byte, schemaID, version uint16) []byte {", b.goName)
	g.p("dst = append(dst, %s...)", lit(fmt.Sprintf(`{"name":"%s","templateId":%d,"schemaId":`, b.name, b.id)))
	g.p("dst = strconv.AppendUint(dst, uint64(schemaID), 10)")
	g.p("dst = append(dst, `,\"version\":`...)")
	g.p("dst = strconv.AppendUint(dst, uint64(version), 10)")
	g.renderParts(b, sc, true, false)
	g.p("return append(dst, '}')")
	g.p("}")
	g.p("")
	g.p("// AppendText appends the message as one line: its name, then field=value pairs.")
	g.p("func (m *%s) AppendText(dst []byte) []byte {", b.goName)
	g.p("dst = append(dst, %s...)", lit(b.name))
	g.renderParts(b, sc, false, false)
	g.p("return dst")
	g.p("}")
	g.p("")
}

// readsEntry reports whether rendering an entry of b calls its accessors:
// only constant char arrays render without them.
func readsEntry(b *block) bool {
	for _, f := range b.fields {
		if f.presence != constant || f.constEnum != nil || !f.t.prim.char {
			return true
		}
	}
	return false
}

// renderName prefixes the unexported group renderers.
func renderName(json bool) string {
	if json {
		return "appendJSON"
	}
	return "appendText"
}

// groupParams lists the parameters of a group renderer: the iterators of
// the enclosing groups.
func groupParams(b *block) (decl, args string) {
	var ds, as []string
	for p, d := b.parent, depth(b)-1; p != nil && p.isGroup; p, d = p.parent, d-1 {
		ds = append([]string{fmt.Sprintf("p%d *%s", d, p.goName)}, ds...)
		as = append([]string{fmt.Sprintf("p%d", d)}, as...)
	}
	if len(ds) == 0 {
		return "", ""
	}
	return ", " + strings.Join(ds, ", "), ", " + strings.Join(as, ", ")
}

// renderParts writes the rendering of b's fields, groups and var data;
// inGroup says the first key opens an entry object.
func (g *gen) renderParts(b *block, sc scope, json, inGroup bool) {
	i := 0
	for _, f := range b.fields {
		g.renderField(sc, f, json, keyPrefix(f.name, json, i == 0, inGroup))
		i++
	}
	// absent opens a branch rendering null for a part the acting version lacks.
	absent := func(since int) func() {
		if since == 0 {
			return func() {}
		}
		g.p("if %s < %d { dst = append(dst, \"null\"...) } else {", sc.ver, since)
		return func() { g.p("}") }
	}
	for _, c := range b.groups {
		g.p("dst = append(dst, %s...)", lit(keyPrefix(c.name, json, i == 0, inGroup)))
		_, args := groupParams(c)
		self := ""
		if inGroup {
			self = ", &g"
			args = strings.TrimSuffix(args, ", p"+strconv.Itoa(depth(c)-1))
		}
		end := absent(c.sinceVersion)
		g.p("dst = m.%s%s(dst%s%s)", renderName(json), c.goName, args, self)
		end()
		i++
	}
	for _, d := range b.datas {
		g.p("dst = append(dst, %s...)", lit(keyPrefix(d.name, json, i == 0, inGroup)))
		get := sc.recv + "." + d.goName + "()"
		end := absent(d.sinceVersion)
		switch {
		case d.text && json:
			g.p("dst = sbert.AppendJSONString(dst, %s, false)", get)
		case d.text:
			g.p("dst = sbert.AppendTextString(dst, %s, false)", get)
		case json:
			g.p("dst = append(dst, '\"')")
			g.p("dst = sbert.AppendHex(dst, %s)", get)
			g.p("dst = append(dst, '\"')")
		default:
			g.p("if v := %s; len(v) == 0 { dst = append(dst, `\"\"`...) } else { dst = sbert.AppendHex(dst, v) }", get)
		}
		end()
		i++
	}
	if inGroup && i == 0 {
		g.p("dst = append(dst, '{')")
	}
}

// renderGroup writes the JSON and text renderers of a group: methods of the
// message taking the enclosing iterators.
func (g *gen) renderGroup(b *block, sc scope) {
	decl, _ := groupParams(b)
	src := "m"
	if d := depth(b); d > 1 {
		src = "p" + strconv.Itoa(d-1)
	}
	short := b.goName[len(b.parent.goName):]
	// A group of fixed-size entries renders them by index: the entry
	// flyweight has the iterator's accessors, so the fields render the same
	// through g.
	fixed := !b.variable()
	for _, json := range []bool{true, false} {
		g.p("func (m *%s) %s%s(dst []byte%s) []byte {", b.msg.goName, renderName(json), b.goName, decl)
		sep := "','"
		if !json {
			sep = "' '"
		}
		if fixed {
			g.p("es := %s.%sEntries()", src, short)
			g.p("dst = append(dst, '[')")
			g.p("for i := range es.Count() {")
			if readsEntry(b) {
				g.p("g := es.Entry(i)")
			}
			g.p("if i > 0 { dst = append(dst, %s) }", sep)
		} else {
			g.p("g := %s.%s()", src, short)
			g.p("dst = append(dst, '[')")
			g.p("for g.Next() {")
			g.p("if g.index > 0 { dst = append(dst, %s) }", sep)
		}
		g.renderParts(b, sc, json, true)
		g.p("dst = append(dst, '}')")
		g.p("}")
		g.p("return append(dst, ']')")
		g.p("}")
		g.p("")
	}
}
