package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// imsNS is the namespace of the ims rendering hints (ims:unit, ims:decimal,
// ims:upper) in the ims schema.
const imsNS = "https://github.com/ims-dev/ims/sbe"

type presence int

const (
	required presence = iota
	optional
	constant
)

func parsePresence(s string) (presence, error) {
	switch s {
	case "", "required":
		return required, nil
	case "optional":
		return optional, nil
	case "constant":
		return constant, nil
	}
	return required, fmt.Errorf("unknown presence %q", s)
}

// primitive is an SBE primitive type.
type primitive struct {
	name   string
	size   int
	goType string
	signed bool
	float  bool
	char   bool
	// SBE defaults (Go literals) for the null, minimum and maximum values.
	null, min, max string
}

// primitives are the SBE 1.0 primitive types with their spec defaults.
var primitives = map[string]*primitive{
	"char":   {name: "char", size: 1, goType: "byte", char: true, null: "0", min: "32", max: "126"},
	"int8":   {name: "int8", size: 1, goType: "int8", signed: true, null: "-128", min: "-127", max: "127"},
	"int16":  {name: "int16", size: 2, goType: "int16", signed: true, null: "-32768", min: "-32767", max: "32767"},
	"int32":  {name: "int32", size: 4, goType: "int32", signed: true, null: "-2147483648", min: "-2147483647", max: "2147483647"},
	"int64":  {name: "int64", size: 8, goType: "int64", signed: true, null: "-9223372036854775808", min: "-9223372036854775807", max: "9223372036854775807"},
	"uint8":  {name: "uint8", size: 1, goType: "uint8", null: "255", min: "0", max: "254"},
	"uint16": {name: "uint16", size: 2, goType: "uint16", null: "65535", min: "0", max: "65534"},
	"uint32": {name: "uint32", size: 4, goType: "uint32", null: "4294967295", min: "0", max: "4294967294"},
	"uint64": {name: "uint64", size: 8, goType: "uint64", null: "18446744073709551615", min: "0", max: "18446744073709551614"},
	"float":  {name: "float", size: 4, goType: "float32", signed: true, float: true, null: "NaN"},
	"double": {name: "double", size: 8, goType: "float64", signed: true, float: true, null: "NaN"},
}

func (p *primitive) integer() bool { return !p.float && !p.char }

// parseLiteral checks that s is a value of p and returns it as a Go literal.
func (p *primitive) parseLiteral(s string) (string, error) {
	switch {
	case p.char:
		if len(s) == 1 {
			return strconv.Itoa(int(s[0])), nil
		}
		if v, err := strconv.ParseUint(s, 0, 8); err == nil {
			return strconv.FormatUint(v, 10), nil
		}
		return "", fmt.Errorf("%q is not a char", s)
	case p.float:
		if strings.EqualFold(s, "nan") {
			return "NaN", nil
		}
		if _, err := strconv.ParseFloat(s, p.size*8); err != nil {
			return "", fmt.Errorf("%q is not a %s", s, p.name)
		}
		return s, nil
	case p.signed:
		v, err := strconv.ParseInt(s, 0, p.size*8)
		if err != nil {
			return "", fmt.Errorf("%q is not an %s", s, p.name)
		}
		return strconv.FormatInt(v, 10), nil
	default:
		v, err := strconv.ParseUint(s, 0, p.size*8)
		if err != nil {
			return "", fmt.Errorf("%q is not a %s", s, p.name)
		}
		return strconv.FormatUint(v, 10), nil
	}
}

type kind int

const (
	kindEncoded kind = iota
	kindComposite
	kindEnum
	kindSet
)

// typ is a schema type: an encoded data type, a composite, an enum or a set.
type typ struct {
	kind         kind
	name         string
	goName       string // the Go type for composites, enums and sets
	desc         string
	line         int
	sinceVersion int
	offset       int // explicit offset inside a composite, or -1

	// Encoded data types.
	prim     *primitive
	length   int // 1 for a scalar, n for an array, 0 for var data
	presence presence
	nullLit  string // Go literal of the null value
	maxLit   string // Go literal of the maximum value
	constVal string // the constant (presence="constant")
	charEnc  string
	unit     string // timestamp unit: s, ms, us, ns
	upper    bool   // render upper-cased (ims:upper)

	// Composites.
	members []*member
	dec     *decimal

	// Enums and sets.
	enc     *typ
	values  []*enumValue
	choices []*choice

	refName   string // a <ref> member's target, until resolved
	size      int
	sized     bool
	sizing    bool
	inline    bool // declared inside a composite
	varData   bool // a var-data encoding (has a length-0 member)
	dimension bool // used as a group dimension
}

type member struct {
	name, goName string
	t            *typ
	offset       int
	line         int
}

// decimal describes a composite rendered as a decimal number.
type decimal struct {
	mantissa *member
	scale    *member
	exponent bool // scale is a power-of-ten exponent (value = m×10^e), not digits after the point
}

type enumValue struct {
	name, goName, desc string
	lit                string
	sinceVersion       int
}

type choice struct {
	name, goName, desc string
	bit                int
	sinceVersion       int
}

// field is a fixed-size field of a message or group block.
type field struct {
	name, goName, desc string
	id                 int
	t                  *typ
	offset             int
	presence           presence
	constEnum          *enumValue // presence="constant" valueRef
	constText          string     // presence="constant" on an encoded type
	sinceVersion       int
	expName            string
	exp                *field // the field holding this mantissa's exponent
	expOwner           *block
	line               int
}

func (f *field) size() int {
	if f.presence == constant {
		return 0
	}
	return f.t.size
}

// data is a var-data field.
type data struct {
	name, goName, desc string
	id                 int
	t                  *typ
	lenM, dataM        *member
	maxLen             int64
	sinceVersion       int
	text               bool // character data (else binary)
	line               int
}

// block is a message or a repeating group.
type block struct {
	name, goName, desc string
	id                 int
	line               int
	fields             []*field
	groups             []*block
	datas              []*data
	blockLength        int
	sinceVersion       int
	parent             *block // nil for a message
	msg                *block
	isGroup            bool
	path               string // "bids", "bids.legs" (groups)

	// Groups.
	dim          *typ
	dimBL, dimN  *member
	numMax       int64
	semanticType string
}

// variable reports whether a group's entries vary in size.
func (b *block) variable() bool { return len(b.groups) > 0 || len(b.datas) > 0 }

// minBlockLength is the smallest block that holds every field present in
// acting version v.
func (b *block) minBlockLength(v int) int {
	n := 0
	for _, f := range b.fields {
		if f.sinceVersion <= v && f.presence != constant {
			n = max(n, f.offset+f.size())
		}
	}
	return n
}

// versions lists the distinct sinceVersion values of b's fields above 0.
func (b *block) versions() []int {
	var vs []int
	for _, f := range b.fields {
		if f.sinceVersion > 0 && !slices.Contains(vs, f.sinceVersion) {
			vs = append(vs, f.sinceVersion)
		}
	}
	slices.Sort(vs)
	return vs
}

type options struct {
	name     string            // tool name of the schema ("ims")
	pkg      string            // Go package name
	units    map[string]string // type name -> timestamp unit
	expSpace string            // namespace of the exponent attribute
	expLocal string            // local name of the exponent attribute
}

type schema struct {
	file       string
	pkg        string
	name       string
	id         int
	version    int
	semVersion string
	desc       string
	bigEndian  bool
	header     *typ
	hdrBL      *member
	hdrTID     *member
	hdrSID     *member
	hdrVer     *member
	types      []*typ // composites, enums and sets to emit, in schema order
	byName     map[string]*typ
	messages   []*block
	opts       options
}

type schemaError struct {
	file string
	line int
	msg  string
}

func (e *schemaError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg)
	}
	return e.file + ": " + e.msg
}

func (s *schema) errf(line int, format string, args ...any) error {
	return &schemaError{file: s.file, line: line, msg: fmt.Sprintf(format, args...)}
}

// loadSchema parses and resolves an SBE schema.
func loadSchema(file string, r io.Reader, opts options) (*schema, error) {
	root, err := parseXML(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	s := &schema{file: file, byName: map[string]*typ{}, opts: opts}
	if root.name.Local != "messageSchema" {
		return nil, s.errf(root.line, "root element is <%s>, want <messageSchema>", root.name.Local)
	}
	if err := s.parseRoot(root); err != nil {
		return nil, err
	}
	if err := s.resolve(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *schema) atoi(n *node, attr string, def int) (int, error) {
	v, ok := n.attr(attr)
	if !ok || v == "" {
		return def, nil
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return 0, s.errf(n.line, "%s=%q is not a non-negative integer", attr, v)
	}
	return i, nil
}

func (s *schema) parseRoot(root *node) error {
	var err error
	if s.id, err = s.atoi(root, "id", -1); err != nil {
		return err
	}
	if s.id < 0 || s.id > math.MaxUint16 {
		return s.errf(root.line, "messageSchema needs an id between 0 and 65535")
	}
	if s.version, err = s.atoi(root, "version", 0); err != nil {
		return err
	}
	if s.version > math.MaxUint16 {
		return s.errf(root.line, "version %d does not fit a uint16", s.version)
	}
	s.semVersion = root.attrOr("semanticVersion", "")
	s.desc = root.attrOr("description", "")
	s.pkg = s.opts.pkg
	if s.pkg == "" {
		s.pkg = root.attrOr("package", "")
	}
	if !token(s.pkg) || strings.ToLower(s.pkg) != s.pkg {
		return s.errf(root.line, "package %q is not a valid Go package name; pass -package", s.pkg)
	}
	s.name = s.opts.name
	if s.name == "" {
		s.name = s.pkg
	}
	switch bo := root.attrOr("byteOrder", "littleEndian"); bo {
	case "littleEndian":
	case "bigEndian":
		s.bigEndian = true
	default:
		return s.errf(root.line, "unknown byteOrder %q", bo)
	}
	headerName := root.attrOr("headerType", "messageHeader")

	for _, n := range root.kids {
		switch n.name.Local {
		case "types":
			for _, c := range n.kids {
				t, err := s.parseType(c, nil)
				if err != nil {
					return err
				}
				if _, dup := s.byName[t.name]; dup {
					return s.errf(c.line, "type %q defined twice", t.name)
				}
				s.byName[t.name] = t
			}
		case "message":
			m, err := s.parseBlock(n, nil, nil)
			if err != nil {
				return err
			}
			s.messages = append(s.messages, m)
		case "include":
			return s.errf(n.line, "xi:include is not supported; inline the included types")
		default:
			return s.errf(n.line, "unexpected <%s> in <messageSchema>", n.name.Local)
		}
	}
	h, ok := s.byName[headerName]
	if !ok || h.kind != kindComposite {
		return s.errf(root.line, "header type %q is not a composite of the schema", headerName)
	}
	s.header = h
	if len(s.messages) == 0 {
		return s.errf(root.line, "the schema has no messages")
	}
	return nil
}

// token reports whether s is a Go identifier.
func token(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return true
}

// parseType parses a <type>, <composite>, <enum>, <set> or <ref> element.
// owner is the enclosing composite for members.
func (s *schema) parseType(n *node, owner *typ) (*typ, error) {
	name, _ := n.attr("name")
	if name == "" {
		return nil, s.errf(n.line, "<%s> without a name", n.name.Local)
	}
	t := &typ{name: name, desc: n.attrOr("description", ""), line: n.line, offset: -1, length: 1, inline: owner != nil}
	var err error
	if t.sinceVersion, err = s.atoi(n, "sinceVersion", 0); err != nil {
		return nil, err
	}
	if owner != nil {
		if t.offset, err = s.atoi(n, "offset", -1); err != nil {
			return nil, err
		}
	}
	t.goName = goIdent(name)
	if owner != nil {
		t.goName = owner.goName + goIdent(name)
	}
	switch n.name.Local {
	case "type":
		t.kind = kindEncoded
		pt := n.attrOr("primitiveType", "")
		p, ok := primitives[pt]
		if !ok {
			return nil, s.errf(n.line, "type %s: unknown primitiveType %q", name, pt)
		}
		t.prim = p
		if t.length, err = s.atoi(n, "length", 1); err != nil {
			return nil, err
		}
		if t.presence, err = parsePresence(n.attrOr("presence", "")); err != nil {
			return nil, s.errf(n.line, "type %s: %v", name, err)
		}
		t.charEnc = n.attrOr("characterEncoding", "")
		if v, ok := n.attr("nullValue"); ok {
			if t.nullLit, err = p.parseLiteral(v); err != nil {
				return nil, s.errf(n.line, "type %s: nullValue: %v", name, err)
			}
		}
		if v, ok := n.attr("maxValue"); ok {
			if t.maxLit, err = p.parseLiteral(v); err != nil {
				return nil, s.errf(n.line, "type %s: maxValue: %v", name, err)
			}
		}
		if v, ok := n.attr("minValue"); ok {
			if _, err = p.parseLiteral(v); err != nil {
				return nil, s.errf(n.line, "type %s: minValue: %v", name, err)
			}
		}
		if t.presence == constant {
			t.constVal = n.textValue()
			if t.constVal == "" {
				return nil, s.errf(n.line, "type %s: constant without a value", name)
			}
			if !p.char || t.length == 1 {
				if _, err := p.parseLiteral(t.constVal); err != nil {
					return nil, s.errf(n.line, "type %s: constant: %v", name, err)
				}
			} else if len(t.constVal) > t.length {
				return nil, s.errf(n.line, "type %s: constant %q longer than %d", name, t.constVal, t.length)
			}
		}
		if u, ok := n.attrNS(imsNS, "unit"); ok {
			t.unit = u
		}
		if u, ok := s.opts.units[name]; ok && owner == nil {
			t.unit = u
		}
		if t.unit != "" {
			switch t.unit {
			case "s", "ms", "us", "ns":
			default:
				return nil, s.errf(n.line, "type %s: unit %q: want s, ms, us or ns", name, t.unit)
			}
			if !p.integer() || t.length != 1 {
				return nil, s.errf(n.line, "type %s: a timestamp unit needs an integer scalar", name)
			}
		}
		if v, ok := n.attrNS(imsNS, "upper"); ok && v == "true" {
			if !p.char {
				return nil, s.errf(n.line, "type %s: ims:upper needs a char type", name)
			}
			t.upper = true
		}
	case "composite":
		t.kind = kindComposite
		for _, c := range n.kids {
			m := &member{line: c.line}
			mt, err := s.parseType(c, t)
			if err != nil {
				return nil, err
			}
			m.name, m.goName, m.t = mt.name, goIdent(mt.name), mt
			if mt.refName == "" && mt.kind != kindEncoded {
				s.types = append(s.types, mt)
			}
			for _, o := range t.members {
				if o.name == m.name {
					return nil, s.errf(c.line, "composite %s: member %s defined twice", name, m.name)
				}
			}
			t.members = append(t.members, m)
		}
		if len(t.members) == 0 {
			return nil, s.errf(n.line, "composite %s has no members", name)
		}
		if v, ok := n.attrNS(imsNS, "decimal"); ok && v == "true" {
			t.dec = &decimal{}
		}
		if owner == nil {
			s.types = append(s.types, t)
		}
	case "enum":
		t.kind = kindEnum
		t.refName = ""
		enc := n.attrOr("encodingType", "")
		if p, ok := primitives[enc]; ok {
			t.enc = &typ{kind: kindEncoded, name: enc, prim: p, length: 1, nullLit: p.null, offset: -1}
		} else {
			t.enc = &typ{name: enc, refName: enc, offset: -1} // resolved later
		}
		for _, c := range n.kids {
			if c.name.Local != "validValue" {
				return nil, s.errf(c.line, "enum %s: unexpected <%s>", name, c.name.Local)
			}
			v := &enumValue{name: c.attrOr("name", ""), desc: c.attrOr("description", ""), lit: c.textValue()}
			if v.name == "" {
				return nil, s.errf(c.line, "enum %s: validValue without a name", name)
			}
			v.goName = t.goName + goIdent(v.name)
			if v.sinceVersion, err = s.atoi(c, "sinceVersion", 0); err != nil {
				return nil, err
			}
			t.values = append(t.values, v)
		}
		if len(t.values) == 0 {
			return nil, s.errf(n.line, "enum %s has no values", name)
		}
		if owner == nil {
			s.types = append(s.types, t)
		}
	case "set":
		t.kind = kindSet
		enc := n.attrOr("encodingType", "")
		if p, ok := primitives[enc]; ok {
			t.enc = &typ{kind: kindEncoded, name: enc, prim: p, length: 1, offset: -1}
		} else {
			t.enc = &typ{name: enc, refName: enc, offset: -1}
		}
		for _, c := range n.kids {
			if c.name.Local != "choice" {
				return nil, s.errf(c.line, "set %s: unexpected <%s>", name, c.name.Local)
			}
			ch := &choice{name: c.attrOr("name", ""), desc: c.attrOr("description", "")}
			if ch.name == "" {
				return nil, s.errf(c.line, "set %s: choice without a name", name)
			}
			ch.goName = t.goName + goIdent(ch.name)
			bit, err := strconv.Atoi(c.textValue())
			if err != nil || bit < 0 || bit > 63 {
				return nil, s.errf(c.line, "set %s: choice %s: bit %q is not 0..63", name, ch.name, c.textValue())
			}
			ch.bit = bit
			if ch.sinceVersion, err = s.atoi(c, "sinceVersion", 0); err != nil {
				return nil, err
			}
			t.choices = append(t.choices, ch)
		}
		if owner == nil {
			s.types = append(s.types, t)
		}
	case "ref":
		if owner == nil {
			return nil, s.errf(n.line, "<ref> outside a composite")
		}
		t.refName = n.attrOr("type", "")
		if t.refName == "" {
			return nil, s.errf(n.line, "ref %s without a type", name)
		}
	default:
		return nil, s.errf(n.line, "unexpected <%s> in types", n.name.Local)
	}
	return t, nil
}

// parseBlock parses a <message> or a <group>.
func (s *schema) parseBlock(n *node, parent, msg *block) (*block, error) {
	b := &block{name: n.attrOr("name", ""), desc: n.attrOr("description", ""), line: n.line, parent: parent, msg: msg}
	if b.name == "" {
		return nil, s.errf(n.line, "<%s> without a name", n.name.Local)
	}
	var err error
	if b.id, err = s.atoi(n, "id", -1); err != nil {
		return nil, err
	}
	if b.sinceVersion, err = s.atoi(n, "sinceVersion", 0); err != nil {
		return nil, err
	}
	if b.blockLength, err = s.atoi(n, "blockLength", -1); err != nil {
		return nil, err
	}
	b.semanticType = n.attrOr("semanticType", "")
	if parent == nil {
		if b.id < 0 || b.id > math.MaxUint16 {
			return nil, s.errf(n.line, "message %s needs an id between 0 and 65535", b.name)
		}
		b.goName = goIdent(b.name)
		b.msg = b
	} else {
		b.isGroup = true
		b.goName = parent.goName + goIdent(b.name)
		b.path = b.name
		if parent.isGroup {
			b.path = parent.path + "." + b.name
		}
		b.dim = &typ{refName: n.attrOr("dimensionType", "groupSizeEncoding")}
	}
	where := func() string {
		if b.isGroup {
			return b.msg.name + " group " + b.path
		}
		return "message " + b.name
	}
	seen := map[string]bool{}
	for _, c := range n.kids {
		name := c.attrOr("name", "")
		if seen[name] {
			return nil, s.errf(c.line, "%s: %s defined twice", where(), name)
		}
		seen[name] = true
		switch c.name.Local {
		case "field":
			if len(b.groups) > 0 || len(b.datas) > 0 {
				return nil, s.errf(c.line, "%s: field %s after a group or var-data field", where(), name)
			}
			f, err := s.parseField(c, where())
			if err != nil {
				return nil, err
			}
			b.fields = append(b.fields, f)
		case "group":
			if len(b.datas) > 0 {
				return nil, s.errf(c.line, "%s: group %s after a var-data field", where(), name)
			}
			g, err := s.parseBlock(c, b, b.msg)
			if err != nil {
				return nil, err
			}
			b.groups = append(b.groups, g)
		case "data":
			d := &data{name: name, goName: goIdent(name), desc: c.attrOr("description", ""), line: c.line}
			if d.name == "" {
				return nil, s.errf(c.line, "%s: data without a name", where())
			}
			if d.id, err = s.atoi(c, "id", 0); err != nil {
				return nil, err
			}
			if d.sinceVersion, err = s.atoi(c, "sinceVersion", 0); err != nil {
				return nil, err
			}
			d.t = &typ{refName: c.attrOr("type", "")}
			b.datas = append(b.datas, d)
		default:
			return nil, s.errf(c.line, "%s: unexpected <%s>", where(), c.name.Local)
		}
	}
	return b, nil
}

func (s *schema) parseField(n *node, where string) (*field, error) {
	f := &field{name: n.attrOr("name", ""), desc: n.attrOr("description", ""), line: n.line}
	if f.name == "" {
		return nil, s.errf(n.line, "%s: field without a name", where)
	}
	f.goName = goIdent(f.name)
	var err error
	if f.id, err = s.atoi(n, "id", 0); err != nil {
		return nil, err
	}
	if f.offset, err = s.atoi(n, "offset", -1); err != nil {
		return nil, err
	}
	if f.sinceVersion, err = s.atoi(n, "sinceVersion", 0); err != nil {
		return nil, err
	}
	p, err := parsePresence(n.attrOr("presence", ""))
	if err != nil {
		return nil, s.errf(n.line, "%s: field %s: %v", where, f.name, err)
	}
	f.presence = p
	tn := n.attrOr("type", "")
	if tn == "" {
		return nil, s.errf(n.line, "%s: field %s without a type", where, f.name)
	}
	f.t = &typ{refName: tn}
	if v, ok := n.attr("valueRef"); ok {
		f.constText = v // resolved later
	}
	if s.opts.expLocal != "" {
		if v, ok := n.attrNS(s.opts.expSpace, s.opts.expLocal); ok {
			f.expName = v
		}
	}
	return f, nil
}

// goIdent turns a schema name into an exported Go identifier: "symbolID" is
// SymbolID, "tradeId" TradeID, "spot_stream" SpotStream.
func goIdent(name string) string {
	var b strings.Builder
	up := true
	rs := []rune(name)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if b.Len() == 0 && unicode.IsDigit(r) {
			b.WriteByte('X')
		}
		// "Id" as a whole word (start, or after a lower-case letter or digit,
		// and followed by the end, an upper-case letter, a digit or a
		// separator) is the Go initialism ID.
		if (r == 'I' || (up && r == 'i')) && i+1 < len(rs) && rs[i+1] == 'd' &&
			(i+2 == len(rs) || !unicode.IsLower(rs[i+2])) &&
			(up || i == 0 || unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])) {
			b.WriteString("ID")
			i++
			up = false
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// resolve links names to types and computes every size and offset.
func (s *schema) resolve() error {
	top := make([]*typ, 0, len(s.byName))
	for _, t := range s.byName {
		top = append(top, t)
	}
	slices.SortFunc(top, func(a, b *typ) int { return a.line - b.line })
	for _, t := range top {
		if err := s.resolveType(t); err != nil {
			return err
		}
	}
	if err := s.checkHeader(); err != nil {
		return err
	}
	ids := map[int]string{}
	names := map[string]bool{}
	for _, m := range s.messages {
		if prev, dup := ids[m.id]; dup {
			return s.errf(m.line, "message %s: id %d already used by %s", m.name, m.id, prev)
		}
		ids[m.id] = m.name
		if names[m.name] {
			return s.errf(m.line, "message %s defined twice", m.name)
		}
		names[m.name] = true
		if err := s.resolveBlock(m); err != nil {
			return err
		}
	}
	return nil
}

func (s *schema) lookup(name string, line int) (*typ, error) {
	if t, ok := s.byName[name]; ok {
		return t, nil
	}
	if p, ok := primitives[name]; ok {
		return &typ{kind: kindEncoded, name: name, prim: p, length: 1, offset: -1, size: p.size, sized: true,
			nullLit: p.null, maxLit: p.max}, nil
	}
	return nil, s.errf(line, "unknown type %q", name)
}

func (s *schema) resolveType(t *typ) error {
	if t.sized {
		return nil
	}
	if t.sizing {
		return s.errf(t.line, "type %s contains itself", t.name)
	}
	t.sizing = true
	defer func() { t.sizing = false }()
	switch t.kind {
	case kindEncoded:
		if t.nullLit == "" {
			t.nullLit = t.prim.null
		}
		if t.maxLit == "" {
			t.maxLit = t.prim.max
		}
		if t.presence == constant {
			t.size = 0
		} else {
			t.size = t.prim.size * t.length
		}
	case kindEnum, kindSet:
		if t.enc.refName != "" {
			e, err := s.lookup(t.enc.refName, t.line)
			if err != nil {
				return err
			}
			if e.kind != kindEncoded || e.length != 1 {
				return s.errf(t.line, "%s: encodingType %s is not a scalar primitive type", t.name, t.enc.refName)
			}
			if err := s.resolveType(e); err != nil {
				return err
			}
			t.enc = e
		} else if t.enc.name == "" {
			return s.errf(t.line, "%s without an encodingType", t.name)
		}
		if t.enc.nullLit == "" {
			t.enc.nullLit = t.enc.prim.null
		}
		p := t.enc.prim
		if t.kind == kindEnum {
			if !p.char && !p.integer() {
				return s.errf(t.line, "enum %s: encoding %s is not an integer or char", t.name, p.name)
			}
			seen := map[string]string{}
			for _, v := range t.values {
				lit, err := p.parseLiteral(v.lit)
				if err != nil {
					return s.errf(t.line, "enum %s: value %s: %v", t.name, v.name, err)
				}
				if prev, dup := seen[lit]; dup {
					return s.errf(t.line, "enum %s: %s and %s share the value %s", t.name, prev, v.name, v.lit)
				}
				seen[lit] = v.name
				v.lit = lit
			}
		} else {
			if !p.integer() || p.signed {
				return s.errf(t.line, "set %s: encoding %s is not an unsigned integer", t.name, p.name)
			}
			for _, c := range t.choices {
				if c.bit >= p.size*8 {
					return s.errf(t.line, "set %s: choice %s: bit %d does not fit %s", t.name, c.name, c.bit, p.name)
				}
			}
		}
		t.size = p.size
	case kindComposite:
		off := 0
		for _, m := range t.members {
			if m.t.refName != "" {
				ref, err := s.lookup(m.t.refName, m.line)
				if err != nil {
					return err
				}
				explicit := m.t.offset
				m.t = ref
				if explicit >= 0 {
					m.offset = explicit
				} else {
					m.offset = -1
				}
			} else {
				m.offset = m.t.offset
			}
			if err := s.resolveType(m.t); err != nil {
				return err
			}
			if m.t.kind == kindEncoded && m.t.length == 0 {
				t.varData = true
			}
			if m.offset >= 0 {
				if m.offset < off {
					return s.errf(m.line, "composite %s: member %s at offset %d overlaps the previous member", t.name, m.name, m.offset)
				}
				off = m.offset
			}
			m.offset = off
			off += m.t.size
		}
		t.size = off
		if err := s.resolveDecimal(t); err != nil {
			return err
		}
	}
	t.sized = true
	return nil
}

func (s *schema) resolveDecimal(t *typ) error {
	if t.dec == nil {
		// The FIX convention: a composite of exactly mantissa and exponent.
		if len(t.members) == 2 && t.members[0].name == "mantissa" && t.members[1].name == "exponent" {
			t.dec = &decimal{}
		} else {
			return nil
		}
	}
	if len(t.members) != 2 {
		return s.errf(t.line, "decimal composite %s needs exactly two members", t.name)
	}
	m, e := t.members[0], t.members[1]
	switch m.name {
	case "num", "mantissa":
	default:
		return s.errf(t.line, "decimal composite %s: first member must be num or mantissa, not %s", t.name, m.name)
	}
	switch e.name {
	case "scale":
	case "exponent", "exp":
		t.dec.exponent = true
	default:
		return s.errf(t.line, "decimal composite %s: second member must be scale or exponent, not %s", t.name, e.name)
	}
	for _, x := range []*member{m, e} {
		if x.t.kind != kindEncoded || x.t.length != 1 || !x.t.prim.integer() {
			return s.errf(t.line, "decimal composite %s: member %s is not an integer scalar", t.name, x.name)
		}
	}
	t.dec.mantissa, t.dec.scale = m, e
	return nil
}

func (s *schema) checkHeader() error {
	h := s.header
	get := func(name string) (*member, error) {
		for _, m := range h.members {
			if m.name == name {
				if m.t.kind != kindEncoded || m.t.length != 1 || !m.t.prim.integer() || m.t.prim.signed || m.t.prim.size > 2 || m.t.presence == constant {
					return nil, s.errf(h.line, "header %s: %s must be a uint8 or uint16", h.name, name)
				}
				return m, nil
			}
		}
		return nil, s.errf(h.line, "header %s has no %s member", h.name, name)
	}
	var err error
	if s.hdrBL, err = get("blockLength"); err != nil {
		return err
	}
	if s.hdrTID, err = get("templateId"); err != nil {
		return err
	}
	if s.hdrSID, err = get("schemaId"); err != nil {
		return err
	}
	if s.hdrVer, err = get("version"); err != nil {
		return err
	}
	for _, m := range s.messages {
		if m.id > maxOf(s.hdrTID.t.prim) {
			return s.errf(m.line, "message %s: id %d does not fit the header's templateId", m.name, m.id)
		}
	}
	return nil
}

func maxOf(p *primitive) int {
	return 1<<(8*p.size) - 1
}

func (s *schema) resolveBlock(b *block) error {
	where := "message " + b.name
	if b.isGroup {
		where = b.msg.name + " group " + b.path
		dim, err := s.lookup(b.dim.refName, b.line)
		if err != nil {
			return err
		}
		if dim.kind != kindComposite {
			return s.errf(b.line, "%s: dimensionType %s is not a composite", where, dim.name)
		}
		b.dim = dim
		dim.dimension = true
		for _, m := range dim.members {
			switch m.name {
			case "blockLength":
				b.dimBL = m
			case "numInGroup":
				b.dimN = m
			}
		}
		if b.dimBL == nil || b.dimN == nil {
			return s.errf(b.line, "%s: dimensionType %s needs blockLength and numInGroup", where, dim.name)
		}
		for _, m := range []*member{b.dimBL, b.dimN} {
			p := m.t.prim
			if m.t.kind != kindEncoded || m.t.length != 1 || !p.integer() || p.signed || p.size > 4 || m.t.presence == constant {
				return s.errf(b.line, "%s: %s.%s must be an unsigned integer of at most 32 bits", where, dim.name, m.name)
			}
		}
		if b.dimBL.t.prim.size > 2 {
			return s.errf(b.line, "%s: %s.blockLength must be a uint8 or uint16", where, dim.name)
		}
		n, err := strconv.ParseInt(b.dimN.t.maxLit, 10, 64)
		if err != nil {
			return s.errf(b.line, "%s: numInGroup maximum %q: %v", where, b.dimN.t.maxLit, err)
		}
		b.numMax = n
	}
	off := 0
	for _, f := range b.fields {
		t, err := s.lookup(f.t.refName, f.line)
		if err != nil {
			return err
		}
		f.t = t
		if t.varData {
			return s.errf(f.line, "%s: field %s has the var-data type %s; use <data>", where, f.name, t.name)
		}
		if f.presence == required && t.kind == kindEncoded {
			f.presence = t.presence
		}
		if f.presence == constant {
			if err := s.resolveConstant(f, where); err != nil {
				return err
			}
			f.offset = off
			continue
		}
		if t.kind == kindEncoded && t.presence == constant {
			f.presence = constant
			f.constText = t.constVal
			f.offset = off
			continue
		}
		if f.constText != "" {
			return s.errf(f.line, "%s: field %s has a valueRef but is not constant", where, f.name)
		}
		if f.offset >= 0 {
			if f.offset < off {
				return s.errf(f.line, "%s: field %s at offset %d overlaps the previous field", where, f.name, f.offset)
			}
			off = f.offset
		}
		f.offset = off
		off += t.size
	}
	if b.blockLength < 0 {
		b.blockLength = off
	} else if b.blockLength < off {
		return s.errf(b.line, "%s: blockLength %d is less than its fields' %d bytes", where, b.blockLength, off)
	}
	if b.blockLength > maxOf(s.hdrBL.t.prim) || (b.isGroup && b.blockLength > maxOf(b.dimBL.t.prim)) {
		return s.errf(b.line, "%s: blockLength %d does not fit its length field", where, b.blockLength)
	}
	for _, f := range b.fields {
		if f.expName == "" {
			continue
		}
		if f.t.kind != kindEncoded || f.t.length != 1 || !f.t.prim.integer() {
			return s.errf(f.line, "%s: mantissa field %s is not an integer scalar", where, f.name)
		}
		for o := b; o != nil && f.exp == nil; o = o.parent {
			for _, e := range o.fields {
				if e.name == f.expName {
					f.exp, f.expOwner = e, o
					break
				}
			}
		}
		if f.exp == nil {
			return s.errf(f.line, "%s: field %s: exponent field %s not found in it or its parents", where, f.name, f.expName)
		}
		if f.exp.t.kind != kindEncoded || f.exp.t.length != 1 || !f.exp.t.prim.integer() {
			return s.errf(f.line, "%s: exponent field %s is not an integer scalar", where, f.expName)
		}
	}
	for _, g := range b.groups {
		if err := s.resolveBlock(g); err != nil {
			return err
		}
	}
	for _, d := range b.datas {
		t, err := s.lookup(d.t.refName, d.line)
		if err != nil {
			return err
		}
		if t.kind != kindComposite || len(t.members) != 2 {
			return s.errf(d.line, "%s: data %s: type %s is not a length + varData composite", where, d.name, d.t.refName)
		}
		d.t, d.lenM, d.dataM = t, t.members[0], t.members[1]
		lp := d.lenM.t.prim
		if d.lenM.t.kind != kindEncoded || d.lenM.t.length != 1 || !lp.integer() || lp.signed || lp.size > 4 {
			return s.errf(d.line, "%s: data %s: %s.%s must be an unsigned integer of at most 32 bits", where, d.name, t.name, d.lenM.name)
		}
		if d.dataM.t.kind != kindEncoded || d.dataM.t.length != 0 || d.dataM.t.prim.size != 1 {
			return s.errf(d.line, "%s: data %s: %s.%s must be a length-0 uint8 or char", where, d.name, t.name, d.dataM.name)
		}
		if d.maxLen, err = strconv.ParseInt(d.lenM.t.maxLit, 10, 64); err != nil {
			return s.errf(d.line, "%s: data %s: length maximum: %v", where, d.name, err)
		}
		d.text = d.dataM.t.charEnc != "" || d.dataM.t.prim.char
	}
	return nil
}

func (s *schema) resolveConstant(f *field, where string) error {
	t := f.t
	if f.constText != "" { // valueRef="Enum.Value"
		en, vn, ok := strings.Cut(f.constText, ".")
		if !ok {
			return s.errf(f.line, "%s: field %s: valueRef %q is not Enum.Value", where, f.name, f.constText)
		}
		e, ok := s.byName[en]
		if !ok || e.kind != kindEnum {
			return s.errf(f.line, "%s: field %s: valueRef %q: no enum %s", where, f.name, f.constText, en)
		}
		for _, v := range e.values {
			if v.name == vn {
				f.constEnum = v
				f.t = e
				f.constText = ""
				return nil
			}
		}
		return s.errf(f.line, "%s: field %s: valueRef %q: enum %s has no value %s", where, f.name, f.constText, en, vn)
	}
	if t.kind == kindEncoded && t.presence == constant {
		f.constText = t.constVal
		return nil
	}
	return s.errf(f.line, "%s: constant field %s needs a valueRef or a constant type", where, f.name)
}
