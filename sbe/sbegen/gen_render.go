package main

import (
	"strconv"
)

// renderField writes the statements appending key and then f's value (JSON
// or text) to dst.
func (g *gen) renderField(sc scope, f *field, json bool, key string) {
	g.p("dst = append(dst, %s...)", lit(key))
	t := f.t
	get := sc.recv + "." + f.goName + "()"
	guard := f.sinceVersion > 0 && sc.ver != ""
	if guard {
		g.p("if %s < %d { dst = append(dst, \"null\"...) } else {", sc.ver, f.sinceVersion)
		defer g.p("}")
	}
	switch {
	case f.presence == constant && f.constEnum != nil:
		g.p("dst = %s.%s(dst)", get, appendMethod(json))
	case f.presence == constant:
		if t.prim.char {
			if json {
				g.p("dst = sbert.AppendJSONString(dst, []byte(%s), false)", strconv.Quote(string(constChars(f))))
			} else {
				g.p("dst = sbert.AppendTextString(dst, []byte(%s), false)", strconv.Quote(string(constChars(f))))
			}
			return
		}
		g.p("dst = %s", g.scalarAppend(sc, f, get, json))
	case t.kind == kindEncoded && t.length == 1:
		if f.presence == optional {
			g.p("if v := %s; %s { dst = append(dst, \"null\"...) } else { dst = %s }",
				get, isNullCond(t, "v"), g.scalarAppend(sc, f, "v", json))
			return
		}
		g.p("dst = %s", g.scalarAppend(sc, f, get, json))
	case t.kind == kindEncoded && t.prim.char:
		if json {
			g.p("dst = sbert.AppendJSONChars(dst, %s, %t)", get, t.upper)
		} else {
			g.p("dst = sbert.AppendTextChars(dst, %s, %t)", get, t.upper)
		}
	case t.kind == kindEncoded:
		sep := "','"
		if !json {
			sep = "' '"
		}
		g.p("dst = append(dst, '[')")
		g.p("for i := 0; i < %d; i++ {", t.length)
		g.p("if i > 0 { dst = append(dst, %s) }", sep)
		elem := sc.recv + "." + f.goName + "(i)"
		if f.presence == optional {
			g.p("if v := %s; %s { dst = append(dst, \"null\"...) } else { dst = %s }",
				elem, isNullCond(t, "v"), g.scalarAppend(sc, f, "v", json))
		} else {
			g.p("dst = %s", g.scalarAppend(sc, f, elem, json))
		}
		g.p("}")
		g.p("dst = append(dst, ']')")
	case t.kind == kindEnum && f.presence == optional:
		g.p("if v := %s; v == %s(%s) { dst = append(dst, \"null\"...) } else { dst = v.%s(dst) }",
			get, t.goName, nullExpr(t.enc), appendMethod(json))
	default: // enums, sets, composites
		g.p("dst = %s.%s(dst)", get, appendMethod(json))
	}
}

func appendMethod(json bool) string {
	if json {
		return "AppendJSON"
	}
	return "AppendText"
}

// constChars is a constant char array's value.
func constChars(f *field) []byte {
	if f.t.length == 1 {
		v, _ := strconv.Atoi(f.t.prim.mustLiteral(f.constText))
		return []byte{byte(v)}
	}
	return []byte(f.constText)
}

func (p *primitive) mustLiteral(s string) string {
	v, err := p.parseLiteral(s)
	if err != nil {
		return "0"
	}
	return v
}

// scalarAppend is the expression appending the scalar v of field f.
func (g *gen) scalarAppend(sc scope, f *field, v string, json bool) string {
	p := f.t.prim
	switch {
	case f.exp != nil:
		e := sc.exp[f.expOwner] + "." + f.exp.goName + "()"
		if json {
			return "sbert.AppendJSONDecimal(dst, int64(" + v + "), -int(" + e + "))"
		}
		return "sbert.AppendDecimal(dst, int64(" + v + "), -int(" + e + "))"
	case p.char:
		if json {
			return "sbert.AppendJSONChars(dst, []byte{" + v + "}, " + strconv.FormatBool(f.t.upper) + ")"
		}
		return "sbert.AppendTextChars(dst, []byte{" + v + "}, " + strconv.FormatBool(f.t.upper) + ")"
	case p.float:
		bits := strconv.Itoa(p.size * 8)
		if json {
			return "sbert.AppendJSONFloat(dst, float64(" + v + "), " + bits + ")"
		}
		return "sbert.AppendTextFloat(dst, float64(" + v + "), " + bits + ")"
	case !json && f.t.unit != "":
		return "sbert.AppendTimestamp(dst, int64(" + v + "), " + unitConst(f.t.unit) + ")"
	case p.signed:
		return "strconv.AppendInt(dst, int64(" + v + "), 10)"
	default:
		return "strconv.AppendUint(dst, uint64(" + v + "), 10)"
	}
}
