package wire

import (
	"encoding/binary"
	"math"
	"strconv"
)

// HeaderKind is the type tag of a user-header key or value (TLV, §5.3).
type HeaderKind uint8

// Header kinds. Kind 0 is invalid.
const (
	HeaderRaw     HeaderKind = 1
	HeaderString  HeaderKind = 2
	HeaderBool    HeaderKind = 3
	HeaderInt8    HeaderKind = 4
	HeaderInt16   HeaderKind = 5
	HeaderInt32   HeaderKind = 6
	HeaderInt64   HeaderKind = 7
	HeaderInt128  HeaderKind = 8
	HeaderUint8   HeaderKind = 9
	HeaderUint16  HeaderKind = 10
	HeaderUint32  HeaderKind = 11
	HeaderUint64  HeaderKind = 12
	HeaderUint128 HeaderKind = 13
	HeaderFloat32 HeaderKind = 14
	HeaderFloat64 HeaderKind = 15
)

var headerKindNames = [...]string{"", "raw", "string", "bool", "int8", "int16", "int32", "int64",
	"int128", "uint8", "uint16", "uint32", "uint64", "uint128", "float32", "float64"}

func (k HeaderKind) String() string {
	if k >= 1 && int(k) < len(headerKindNames) {
		return headerKindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// fixedSize is the value width a numeric kind must have (0 = variable).
func (k HeaderKind) fixedSize() int {
	switch k {
	case HeaderBool, HeaderInt8, HeaderUint8:
		return 1
	case HeaderInt16, HeaderUint16:
		return 2
	case HeaderInt32, HeaderUint32, HeaderFloat32:
		return 4
	case HeaderInt64, HeaderUint64, HeaderFloat64:
		return 8
	case HeaderInt128, HeaderUint128:
		return 16
	}
	return 0
}

// HeaderValue is one typed key or value: Kind plus its little-endian bytes.
// Value is a view into the frame it was parsed from.
type HeaderValue struct {
	Kind  HeaderKind
	Value []byte
}

// String renders the value by kind (numbers in decimal, raw as hex).
func (v HeaderValue) String() string {
	b := v.Value
	switch v.Kind {
	case HeaderString:
		return string(b)
	case HeaderBool:
		if len(b) == 1 {
			return strconv.FormatBool(b[0] != 0)
		}
	case HeaderInt8:
		if len(b) == 1 {
			return strconv.FormatInt(int64(int8(b[0])), 10)
		}
	case HeaderUint8:
		if len(b) == 1 {
			return strconv.FormatUint(uint64(b[0]), 10)
		}
	case HeaderInt16:
		if len(b) == 2 {
			return strconv.FormatInt(int64(int16(binary.LittleEndian.Uint16(b))), 10)
		}
	case HeaderUint16:
		if len(b) == 2 {
			return strconv.FormatUint(uint64(binary.LittleEndian.Uint16(b)), 10)
		}
	case HeaderInt32:
		if len(b) == 4 {
			return strconv.FormatInt(int64(int32(binary.LittleEndian.Uint32(b))), 10)
		}
	case HeaderUint32:
		if len(b) == 4 {
			return strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b)), 10)
		}
	case HeaderInt64:
		if len(b) == 8 {
			return strconv.FormatInt(int64(binary.LittleEndian.Uint64(b)), 10)
		}
	case HeaderUint64:
		if len(b) == 8 {
			return strconv.FormatUint(binary.LittleEndian.Uint64(b), 10)
		}
	case HeaderFloat32:
		if len(b) == 4 {
			return strconv.FormatFloat(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), 'g', -1, 32)
		}
	case HeaderFloat64:
		if len(b) == 8 {
			return strconv.FormatFloat(math.Float64frombits(binary.LittleEndian.Uint64(b)), 'g', -1, 64)
		}
	}
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, hexdigits[c>>4], hexdigits[c&15])
	}
	return string(out)
}

// Constructors for header values; numeric kinds are little-endian.
func HeaderStr(s string) HeaderValue   { return HeaderValue{HeaderString, []byte(s)} }
func HeaderBytes(b []byte) HeaderValue { return HeaderValue{HeaderRaw, b} }
func HeaderU64(v uint64) HeaderValue {
	return HeaderValue{HeaderUint64, binary.LittleEndian.AppendUint64(nil, v)}
}
func HeaderI64(v int64) HeaderValue {
	return HeaderValue{HeaderInt64, binary.LittleEndian.AppendUint64(nil, uint64(v))}
}
func HeaderU32(v uint32) HeaderValue {
	return HeaderValue{HeaderUint32, binary.LittleEndian.AppendUint32(nil, v)}
}
func HeaderF64(v float64) HeaderValue {
	return HeaderValue{HeaderFloat64, binary.LittleEndian.AppendUint64(nil, math.Float64bits(v))}
}
func HeaderBoolean(v bool) HeaderValue {
	if v {
		return HeaderValue{HeaderBool, []byte{1}}
	}
	return HeaderValue{HeaderBool, []byte{0}}
}

// Header is one user header: a typed key and a typed value.
type Header struct {
	Key   HeaderValue
	Value HeaderValue
}

func validHeaderField(v HeaderValue) error {
	if v.Kind < HeaderRaw || v.Kind > HeaderFloat64 {
		return ErrInvalidHeaderKey
	}
	if len(v.Value) == 0 || len(v.Value) > 255 {
		return ErrInvalidHeaderValue
	}
	if n := v.Kind.fixedSize(); n != 0 && len(v.Value) != n {
		return ErrInvalidHeaderValue
	}
	return nil
}

// HeadersSize is the encoded size of hs.
func HeadersSize(hs []Header) int {
	n := 0
	for _, h := range hs {
		n += 10 + len(h.Key.Value) + len(h.Value.Value)
	}
	return n
}

// AppendHeaders appends the TLV encoding of hs (key kind · key len u32 · key ·
// value kind · value len u32 · value, per header).
func AppendHeaders(dst []byte, hs []Header) ([]byte, error) {
	for _, h := range hs {
		if err := validHeaderField(h.Key); err != nil {
			return dst, ErrInvalidHeaderKey
		}
		if err := validHeaderField(h.Value); err != nil {
			return dst, ErrInvalidHeaderValue
		}
		dst = append(dst, byte(h.Key.Kind))
		dst = appendU32(dst, uint32(len(h.Key.Value)))
		dst = append(dst, h.Key.Value...)
		dst = append(dst, byte(h.Value.Kind))
		dst = appendU32(dst, uint32(len(h.Value.Value)))
		dst = append(dst, h.Value.Value...)
	}
	return dst, nil
}

// HeaderIter walks encoded user headers without allocating.
//
//	it := wire.HeaderIter{Data: msg.UserHeaders}
//	for it.Next() { use(it.Header()) }
//	if it.Err() != nil { ... }
type HeaderIter struct {
	Data []byte
	off  int
	cur  Header
	err  error
}

// Next advances to the next header; false at the end or on error.
func (it *HeaderIter) Next() bool {
	if it.err != nil || it.off >= len(it.Data) {
		return false
	}
	d := decoder{b: it.Data, off: it.off}
	k := d.headerField()
	if d.err != nil {
		it.err = ErrInvalidHeaderKey
		return false
	}
	v := d.headerField()
	if d.err != nil {
		it.err = ErrInvalidHeaderValue
		return false
	}
	it.cur = Header{Key: k, Value: v}
	it.off = d.off
	return true
}

// Header returns the current header (views into Data).
func (it *HeaderIter) Header() Header { return it.cur }

// Err returns the first decoding error.
func (it *HeaderIter) Err() error { return it.err }

func (d *decoder) headerField() HeaderValue {
	k := HeaderKind(d.u8())
	n := d.u32()
	if d.err != nil {
		return HeaderValue{}
	}
	if n > uint32(d.remaining()) {
		d.fail(ErrInvalidCommand)
		return HeaderValue{}
	}
	v := HeaderValue{Kind: k, Value: d.bytes(int(n))}
	if err := validHeaderField(v); err != nil {
		d.fail(err)
	}
	return v
}

// ParseHeaders decodes encoded user headers into a new slice (values are
// views into b). Use HeaderIter to avoid the allocation.
func ParseHeaders(b []byte) ([]Header, error) {
	var out []Header
	it := HeaderIter{Data: b}
	for it.Next() {
		out = append(out, it.Header())
	}
	return out, it.Err()
}

// ValidateHeaders checks that b is a well-formed header block.
func ValidateHeaders(b []byte) error {
	it := HeaderIter{Data: b}
	for it.Next() {
	}
	return it.Err()
}
