package main

import (
	"fmt"
	"strconv"
	"strings"
)

// scope is where field accessors and renderers are generated: a message, a
// group iterator or a composite.
type scope struct {
	typ  string // Go receiver type
	recv string // receiver name
	decl string // receiver declaration
	b    string // expression of the fixed block bytes
	ver  string // acting version expression; "" in composites
	blk  *block // nil in composites
	// exp maps blocks to the receiver expression holding their fields,
	// for mantissa fields whose exponent lives in an enclosing block.
	exp map[*block]string
}

func (g *gen) enum(t *typ, ns names) error {
	if err := ns.add(g.s, t.goName, "enum "+t.name); err != nil {
		return err
	}
	if err := ns.add(g.s, "Parse"+t.goName, "enum "+t.name); err != nil {
		return err
	}
	gt := t.enc.prim.goType
	g.p("// %s is the %s enum (%s).", t.goName, t.name, t.enc.prim.name)
	if t.desc != "" {
		g.p("// %s", comment(t.desc))
	}
	g.p("type %s %s", t.goName, gt)
	g.p("")
	g.p("// %s values.", t.goName)
	g.p("const (")
	for _, v := range t.values {
		if err := ns.add(g.s, v.goName, "enum value "+t.name+"."+v.name); err != nil {
			return err
		}
		c := ""
		if v.desc != "" {
			c = " // " + comment(v.desc)
		}
		g.p("%s %s = %s%s", v.goName, t.goName, v.lit, c)
	}
	g.p(")")
	g.p("")
	g.p("func (v %s) name() (string, bool) {", t.goName)
	g.p("switch v {")
	for _, v := range t.values {
		g.p("case %s: return %s, true", v.goName, lit(v.name))
	}
	g.p("}")
	g.p("return \"\", false")
	g.p("}")
	g.p("")
	num := "strconv.FormatUint(uint64(v), 10)"
	appendNum := "strconv.AppendUint(dst, uint64(v), 10)"
	if t.enc.prim.signed {
		num = "strconv.FormatInt(int64(v), 10)"
		appendNum = "strconv.AppendInt(dst, int64(v), 10)"
	}
	g.p("// String returns the schema name of v, or %s(n) for a value the schema does not define.", t.goName)
	g.p("func (v %s) String() string {", t.goName)
	g.p("if n, ok := v.name(); ok { return n }")
	g.p("return %s + %s + \")\"", lit(t.goName+"("), num)
	g.p("}")
	g.p("")
	g.p("// IsValid reports whether the schema defines v.")
	g.p("func (v %s) IsValid() bool { _, ok := v.name(); return ok }", t.goName)
	g.p("")
	g.p("// Parse%s returns the value with the schema name name (case-sensitive).", t.goName)
	g.p("func Parse%s(name string) (%s, bool) {", t.goName, t.goName)
	g.p("switch name {")
	for _, v := range t.values {
		g.p("case %s: return %s, true", lit(v.name), v.goName)
	}
	g.p("}")
	g.p("return 0, false")
	g.p("}")
	g.p("")
	g.p("// AppendJSON appends v's name as a JSON string, or its number when the schema does not define it.")
	g.p("func (v %s) AppendJSON(dst []byte) []byte {", t.goName)
	g.p("if n, ok := v.name(); ok { dst = append(dst, '\"'); dst = append(dst, n...); return append(dst, '\"') }")
	g.p("return %s", appendNum)
	g.p("}")
	g.p("")
	g.p("// AppendText appends v's name, or its number when the schema does not define it.")
	g.p("func (v %s) AppendText(dst []byte) []byte {", t.goName)
	g.p("if n, ok := v.name(); ok { return append(dst, n...) }")
	g.p("return %s", appendNum)
	g.p("}")
	g.p("")
	return nil
}

func (g *gen) set(t *typ, ns names) error {
	if err := ns.add(g.s, t.goName, "set "+t.name); err != nil {
		return err
	}
	if err := ns.add(g.s, "Parse"+t.goName+"Choice", "set "+t.name); err != nil {
		return err
	}
	gt := t.enc.prim.goType
	g.p("// %s is the %s set: a bit set over %s.", t.goName, t.name, t.enc.prim.name)
	if t.desc != "" {
		g.p("// %s", comment(t.desc))
	}
	g.p("type %s %s", t.goName, gt)
	g.p("")
	var all []string
	if len(t.choices) > 0 {
		g.p("// %s choices.", t.goName)
		g.p("const (")
		for _, c := range t.choices {
			if err := ns.add(g.s, c.goName, "set choice "+t.name+"."+c.name); err != nil {
				return err
			}
			cm := ""
			if c.desc != "" {
				cm = " // " + comment(c.desc)
			}
			g.p("%s %s = 1 << %d%s", c.goName, t.goName, c.bit, cm)
			all = append(all, c.goName)
		}
		g.p(")")
		g.p("")
	}
	known := "0"
	if len(all) > 0 {
		known = strings.Join(all, " | ")
	}
	g.p("// Has reports whether every choice in c is set in s.")
	g.p("func (s %s) Has(c %s) bool { return s&c == c }", t.goName, t.goName)
	g.p("")
	g.p("// Parse%sChoice returns the choice with the schema name name.", t.goName)
	g.p("func Parse%sChoice(name string) (%s, bool) {", t.goName, t.goName)
	if len(t.choices) > 0 {
		g.p("switch name {")
		for _, c := range t.choices {
			g.p("case %s: return %s, true", lit(c.name), c.goName)
		}
		g.p("}")
	}
	g.p("return 0, false")
	g.p("}")
	g.p("")
	for _, json := range []bool{true, false} {
		if json {
			g.p("// AppendJSON appends s as a JSON array of its choices' names; bits the schema does not name appear as their bit numbers.")
			g.p("func (s %s) AppendJSON(dst []byte) []byte {", t.goName)
		} else {
			g.p("// AppendText appends s as [A,B]; bits the schema does not name appear as their bit numbers.")
			g.p("func (s %s) AppendText(dst []byte) []byte {", t.goName)
		}
		g.p("dst = append(dst, '[')")
		g.p("n := 0")
		for _, c := range t.choices {
			name := c.name
			if json {
				name = `"` + c.name + `"`
			}
			g.p("if s&%s != 0 { if n > 0 { dst = append(dst, ',') }; dst = append(dst, %s...); n++ }", c.goName, lit(name))
		}
		g.p("for rest := uint64(s &^ (%s)); rest != 0; rest &= rest - 1 {", known)
		g.p("if n > 0 { dst = append(dst, ',') }")
		g.p("dst = strconv.AppendInt(dst, int64(bits.TrailingZeros64(rest)), 10)")
		g.p("n++")
		g.p("}")
		g.p("return append(dst, ']')")
		g.p("}")
		g.p("")
	}
	g.p("// String returns s as AppendText writes it.")
	g.p("func (s %s) String() string { return string(s.AppendText(nil)) }", t.goName)
	g.p("")
	return nil
}

// memberField presents a composite member as a field, so composites share
// the field accessors and renderers.
func memberField(m *member) *field {
	f := &field{name: m.name, goName: m.goName, t: m.t, offset: m.offset, line: m.line}
	if m.t.kind == kindEncoded {
		f.presence = m.t.presence
		if f.presence == constant {
			f.constText = m.t.constVal
		}
	}
	return f
}

func (g *gen) composite(t *typ, ns names) error {
	if err := ns.add(g.s, t.goName, "composite "+t.name); err != nil {
		return err
	}
	if err := ns.add(g.s, t.goName+"EncodedLength", "composite "+t.name); err != nil {
		return err
	}
	g.p("// %s is a flyweight over the %s composite (%d bytes).", t.goName, t.name, t.size)
	if t.desc != "" {
		g.p("// %s", comment(t.desc))
	}
	g.p("type %s struct{ b *[%d]byte }", t.goName, t.size)
	g.p("")
	g.p("// %sEncodedLength is the encoded size of %s in bytes.", t.goName, t.name)
	g.p("const %sEncodedLength = %d", t.goName, t.size)
	g.p("")
	ms := names{}
	for _, n := range []string{"Wrap", "AppendJSON", "AppendText"} {
		ms[n] = "a generated method"
	}
	g.p("// Wrap points c at buf[offset:offset+%d].", t.size)
	g.p("func (c *%s) Wrap(buf []byte, offset int) error {", t.goName)
	g.p("if offset < 0 || offset > len(buf) || len(buf)-offset < %d { return sbert.ErrShortBuffer }", t.size)
	g.p("c.b = (*[%d]byte)(buf[offset : offset+%d])", t.size, t.size)
	g.p("return nil")
	g.p("}")
	g.p("")
	sc := scope{typ: t.goName, recv: "c", decl: "(c " + t.goName + ")", b: "c.b"}
	var fields []*field
	for _, m := range t.members {
		f := memberField(m)
		fields = append(fields, f)
		if err := g.accessors(sc, f, ms); err != nil {
			return err
		}
	}
	if d := t.dec; d != nil {
		mf, sf := memberField(d.mantissa), memberField(d.scale)
		nullConds := []string{}
		for _, f := range []*field{sf, mf} {
			if f.presence == optional {
				nullConds = append(nullConds, isNullCond(f.t, "c."+f.goName+"()"))
				break // the scale (or exponent) alone decides; else the mantissa
			}
		}
		scaleExpr := "int(c." + sf.goName + "())"
		if d.exponent {
			scaleExpr = "-int(c." + sf.goName + "())"
		}
		if mf.presence != constant && sf.presence != constant {
			if err := ms.add(g.s, "Set", "composite "+t.name); err != nil {
				return err
			}
			word := "scale"
			if d.exponent {
				word = "exponent"
			}
			g.p("// Set stores the decimal (%s, %s).", mf.name, sf.name)
			g.p("func (c %s) Set(%s %s, %s %s) { c.Set%s(%s); c.Set%s(%s) }", t.goName,
				"mantissa", mf.t.prim.goType, word, sf.t.prim.goType, mf.goName, "mantissa", sf.goName, word)
			g.p("")
		}
		if len(nullConds) > 0 {
			if err := ms.add(g.s, "IsNull", "composite "+t.name); err != nil {
				return err
			}
			g.p("// IsNull reports whether c holds the null decimal.")
			g.p("func (c %s) IsNull() bool { return %s }", t.goName, nullConds[0])
			g.p("")
		}
		for _, json := range []bool{true, false} {
			if json {
				g.p("// AppendJSON appends the decimal as a JSON string with exactly its encoded scale (\"37000.50\"), or null.")
				g.p("func (c %s) AppendJSON(dst []byte) []byte {", t.goName)
			} else {
				g.p("// AppendText appends the decimal as text with exactly its encoded scale, or null.")
				g.p("func (c %s) AppendText(dst []byte) []byte {", t.goName)
			}
			if len(nullConds) > 0 {
				g.p("if c.IsNull() { return append(dst, \"null\"...) }")
			}
			fn := "sbert.AppendDecimal"
			if json {
				fn = "sbert.AppendJSONDecimal"
			}
			g.p("return %s(dst, int64(c.%s()), %s)", fn, mf.goName, scaleExpr)
			g.p("}")
			g.p("")
		}
		return nil
	}
	for _, json := range []bool{true, false} {
		if json {
			g.p("// AppendJSON appends c as a JSON object of its members.")
			g.p("func (c %s) AppendJSON(dst []byte) []byte {", t.goName)
		} else {
			g.p("// AppendText appends c as {member=value ...}.")
			g.p("func (c %s) AppendText(dst []byte) []byte {", t.goName)
		}
		for i, f := range fields {
			g.renderField(sc, f, json, keyPrefix(f.name, json, i == 0, true))
		}
		g.p("return append(dst, '}')")
		g.p("}")
		g.p("")
	}
	return nil
}

// keyPrefix is what goes before a value: `{"name":`, `,"name":`, `{name=`
// or ` name=`. open says whether the first key opens the object.
func keyPrefix(name string, json, first, open bool) string {
	switch {
	case json && first && open:
		return `{"` + name + `":`
	case json:
		return `,"` + name + `":`
	case first && open:
		return "{" + name + "="
	}
	return " " + name + "="
}

// accessors writes the getter and setters of one field.
func (g *gen) accessors(sc scope, f *field, ms names) error {
	add := func(n string) error { return ms.add(g.s, n, "field "+f.name+" of "+sc.typ) }
	if err := add(f.goName); err != nil {
		return err
	}
	t := f.t
	doc := ""
	if f.desc != "" {
		doc = ": " + strings.TrimSuffix(comment(f.desc), ".")
	}
	guard := f.sinceVersion > 0 && sc.ver != ""
	guardLine := func(ret string) {
		if guard {
			g.p("if %s < %d { return %s }", sc.ver, f.sinceVersion, ret)
		}
	}
	if guard {
		if err := add(f.goName + "InActingVersion"); err != nil {
			return err
		}
		g.p("// %sInActingVersion reports whether %s is present (it is since version %d).", f.goName, f.name, f.sinceVersion)
		g.p("func %s %sInActingVersion() bool { return %s >= %d }", sc.decl, f.goName, sc.ver, f.sinceVersion)
		g.p("")
	}
	off := f.offset
	switch {
	case f.presence == constant && f.constEnum != nil:
		g.p("// %s returns the constant %s (%s.%s)%s.", f.goName, f.name, t.name, f.constEnum.name, doc)
		g.p("func %s %s() %s { return %s }", sc.decl, f.goName, t.goName, f.constEnum.goName)
	case f.presence == constant:
		if t.prim.char && t.length > 1 {
			g.p("// %s returns the constant %s%s.", f.goName, f.name, doc)
			g.p("func %s %s() string { return %s }", sc.decl, f.goName, strconv.Quote(f.constText))
		} else {
			v, err := t.prim.parseLiteral(f.constText)
			if err != nil {
				return g.s.errf(f.line, "field %s: constant: %v", f.name, err)
			}
			if t.prim.float && v == "NaN" {
				v = nullExpr(t)
			}
			g.p("// %s returns the constant %s%s.", f.goName, f.name, doc)
			g.p("func %s %s() %s { return %s }", sc.decl, f.goName, t.prim.goType, v)
		}
	case t.kind == kindEncoded && t.length == 1:
		p := t.prim
		g.p("// %s returns %s%s.", f.goName, f.name, doc)
		g.p("func %s %s() %s {", sc.decl, f.goName, p.goType)
		guardLine(nullExpr(t))
		g.p("return %s", g.get(p, sc.b, strconv.Itoa(off)))
		g.p("}")
		g.p("")
		if err := add("Set" + f.goName); err != nil {
			return err
		}
		g.p("// Set%s sets %s.", f.goName, f.name)
		g.p("func %s Set%s(v %s) { %s }", sc.decl, f.goName, p.goType, g.put(p, sc.b, strconv.Itoa(off), "v"))
		if f.presence == optional {
			if err := add(f.goName + "IsNull"); err != nil {
				return err
			}
			g.p("")
			g.p("// %sIsNull reports whether %s holds its null value.", f.goName, f.name)
			g.p("func %s %sIsNull() bool { return %s }", sc.decl, f.goName, isNullCond(t, sc.recv+"."+f.goName+"()"))
		}
	case t.kind == kindEncoded && t.prim.char:
		n := t.length
		g.p("// %s returns %s, a view of its %d bytes (NUL-padded)%s.", f.goName, f.name, n, doc)
		g.p("func %s %s() []byte {", sc.decl, f.goName)
		guardLine("nil")
		g.p("return %s[%d:%d:%d]", sc.b, off, off+n, off+n)
		g.p("}")
		g.p("")
		if !guard {
			if err := add(f.goName + "Array"); err != nil {
				return err
			}
			g.p("// %sArray returns %s as a pointer to its %d bytes in the buffer, for fixed-size copies in and out.", f.goName, f.name, n)
			g.p("func %s %sArray() *[%d]byte { return (*[%d]byte)(%s[%d:%d]) }", sc.decl, f.goName, n, n, sc.b, off, off+n)
			g.p("")
		}
		for _, suffix := range []string{"", "String"} {
			if err := add("Set" + f.goName + suffix); err != nil {
				return err
			}
			typ := "[]byte"
			if suffix == "String" {
				typ = "string"
			}
			g.p("// Set%s%s stores v in %s, NUL-padded; it fails when v is longer than %d bytes.", f.goName, suffix, f.name, n)
			g.p("func %s Set%s%s(v %s) error {", sc.decl, f.goName, suffix, typ)
			g.p("if len(v) > %d { return sbert.ErrValueTooLong }", n)
			g.p("b := %s[%d:%d]", sc.b, off, off+n)
			g.p("clear(b[copy(b, v):])")
			g.p("return nil")
			g.p("}")
			g.p("")
		}
		return nil
	case t.kind == kindEncoded:
		p := t.prim
		if err := add(f.goName + "Len"); err != nil {
			return err
		}
		g.p("// %sLen is the number of elements of %s.", f.goName, f.name)
		g.p("func %s %sLen() int { return %d }", sc.decl, f.goName, t.length)
		g.p("")
		g.p("// %s returns element i (0 <= i < %d) of %s%s.", f.goName, t.length, f.name, doc)
		g.p("func %s %s(i int) %s {", sc.decl, f.goName, p.goType)
		guardLine(nullExpr(t))
		g.p("o := %d + i*%d", off, p.size)
		g.p("return %s", g.get(p, sc.b, "o"))
		g.p("}")
		g.p("")
		if err := add("Set" + f.goName); err != nil {
			return err
		}
		g.p("// Set%s sets element i (0 <= i < %d) of %s.", f.goName, t.length, f.name)
		g.p("func %s Set%s(i int, v %s) {", sc.decl, f.goName, p.goType)
		g.p("o := %d + i*%d", off, p.size)
		g.p("%s", g.put(p, sc.b, "o", "v"))
		g.p("}")
	case t.kind == kindEnum || t.kind == kindSet:
		p := t.enc.prim
		g.p("// %s returns %s%s.", f.goName, f.name, doc)
		g.p("func %s %s() %s {", sc.decl, f.goName, t.goName)
		guardLine(t.goName + "(" + nullExpr(t.enc) + ")")
		g.p("return %s(%s)", t.goName, g.get(p, sc.b, strconv.Itoa(off)))
		g.p("}")
		g.p("")
		if err := add("Set" + f.goName); err != nil {
			return err
		}
		g.p("// Set%s sets %s.", f.goName, f.name)
		g.p("func %s Set%s(v %s) { %s }", sc.decl, f.goName, t.goName, g.put(p, sc.b, strconv.Itoa(off), p.goType+"(v)"))
	case t.kind == kindComposite:
		g.p("// %s returns %s, a flyweight over its %d bytes%s.", f.goName, f.name, t.size, doc)
		g.p("func %s %s() %s {", sc.decl, f.goName, t.goName)
		guardLine(fmt.Sprintf("%s{b: new([%d]byte)}", t.goName, t.size))
		g.p("return %s{b: (*[%d]byte)(%s[%d:%d])}", t.goName, t.size, sc.b, off, off+t.size)
		g.p("}")
	default:
		return g.s.errf(f.line, "field %s: unsupported type %s", f.name, t.name)
	}
	g.p("")
	return nil
}
