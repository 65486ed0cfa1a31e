// Package sbetest holds test helpers shared by the generated codec
// packages' tests. It uses reflection, which the codecs themselves never do,
// to drive every setter and getter of a flyweight generically.
package sbetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/ims-dev/ims/sbe/sbert"
)

// check is one value written through a setter, to be read back.
type check struct {
	name string
	get  func() any
	want any
}

// Fill sets every fixed field of the flyweight v (a pointer to a message or
// group iterator positioned for encoding, or a composite value) to a
// pseudo-random value and returns a function that reads every field back
// and reports mismatches: a field that overlaps another shows up as changed.
// Methods named in skip (var-data setters, which must follow the groups)
// are left alone.
func Fill(t testing.TB, rng *rand.Rand, v any, skip ...string) (verify func()) {
	t.Helper()
	var checks []check
	fill(t, rng, reflect.ValueOf(v), reflect.TypeOf(v).String(), skip, &checks)
	return func() {
		t.Helper()
		for _, c := range checks {
			got := c.get()
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s = %v, want %v", c.name, got, c.want)
			}
		}
	}
}

func fill(t testing.TB, rng *rand.Rand, rv reflect.Value, path string, skip []string, checks *[]check) {
	t.Helper()
	rt := rv.Type()
	for i := 0; i < rt.NumMethod(); i++ {
		m := rt.Method(i)
		name := m.Name
		if !strings.HasPrefix(name, "Set") || name == "Set" || strings.HasSuffix(name, "String") {
			continue
		}
		if contains(skip, name) {
			continue
		}
		field := strings.TrimPrefix(name, "Set")
		getter := rv.MethodByName(field)
		if !getter.IsValid() {
			t.Fatalf("%s.%s has no getter %s", path, name, field)
		}
		setter := rv.Method(i)
		st := setter.Type()
		switch {
		case st.NumIn() == 1 && st.In(0).Kind() == reflect.Slice: // char array
			n := getter.Call(nil)[0].Len()
			val := make([]byte, rng.IntN(n+1))
			for j := range val {
				val[j] = byte('A' + rng.IntN(26))
			}
			out := setter.Call([]reflect.Value{reflect.ValueOf(val)})
			if err, _ := out[0].Interface().(error); err != nil {
				t.Fatalf("%s.%s(%q): %v", path, name, val, err)
			}
			want := append(val, make([]byte, n-len(val))...)
			*checks = append(*checks, check{path + "." + field, func() any { return bytes.Clone(getter.Call(nil)[0].Bytes()) }, want})
		case st.NumIn() == 1:
			val := randomValue(rng, st.In(0))
			setter.Call([]reflect.Value{val})
			want := val.Interface()
			*checks = append(*checks, check{path + "." + field, func() any { return getter.Call(nil)[0].Interface() }, want})
		case st.NumIn() == 2 && st.In(0).Kind() == reflect.Int: // array element
			n := rv.MethodByName(field + "Len").Call(nil)[0].Interface().(int)
			for j := 0; j < n; j++ {
				val := randomValue(rng, st.In(1))
				setter.Call([]reflect.Value{reflect.ValueOf(j), val})
				want, idx := val.Interface(), j
				*checks = append(*checks, check{fmt.Sprintf("%s.%s[%d]", path, field, j),
					func() any { return getter.Call([]reflect.Value{reflect.ValueOf(idx)})[0].Interface() }, want})
			}
		default:
			t.Fatalf("%s.%s: unexpected setter signature %v", path, name, st)
		}
	}
	// Composite getters: fill the composite's own members.
	for i := 0; i < rt.NumMethod(); i++ {
		m := rt.Method(i)
		mv := rv.Method(i)
		if mv.Type().NumIn() != 0 || mv.Type().NumOut() != 1 {
			continue
		}
		out := mv.Type().Out(0)
		if out.Kind() != reflect.Struct || !out.Implements(reflect.TypeFor[interface{ AppendJSON([]byte) []byte }]()) {
			continue
		}
		if _, isComposite := reflect.PointerTo(out).MethodByName("Wrap"); !isComposite {
			continue
		}
		fill(t, rng, mv.Call(nil)[0], path+"."+m.Name, nil, checks)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func randomValue(rng *rand.Rand, t reflect.Type) reflect.Value {
	v := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(rng.Uint64()) >> (64 - 8*t.Size()))
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(rng.Uint64() >> (64 - 8*t.Size()))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(float32(rng.NormFloat64() * 1e6)))
	default:
		panic("sbetest: no random value for " + t.String())
	}
	return v
}

// CheckRender renders the message at msg with c in both formats and checks
// that JSON is one valid object and text one line, and that the length the
// codec reports is len(msg).
func CheckRender(t testing.TB, c sbert.Codec, msg []byte) (jsonOut, textOut string) {
	t.Helper()
	n, err := c.Validate(msg)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if n != len(msg) {
		t.Fatalf("Validate length %d, want %d", n, len(msg))
	}
	j, n, err := c.Append(nil, msg, sbert.FormatJSON)
	if err != nil || n != len(msg) {
		t.Fatalf("Append JSON: %d, %v", n, err)
	}
	if !json.Valid(j) || j[0] != '{' {
		t.Fatalf("invalid JSON: %s", j)
	}
	x, n, err := c.Append(nil, msg, sbert.FormatText)
	if err != nil || n != len(msg) {
		t.Fatalf("Append text: %d, %v", n, err)
	}
	if bytes.ContainsAny(x, "\n\r") {
		t.Fatalf("text spans lines: %q", x)
	}
	return string(j), string(x)
}

// FuzzCodec is the body of every generated schema's fuzz target: any input
// must either fail cleanly or render to valid output within the input.
func FuzzCodec(t *testing.T, c sbert.Codec, data []byte) {
	n, err := c.Validate(data)
	if err != nil {
		if _, _, err2 := c.Append(nil, data, sbert.FormatJSON); err2 == nil {
			t.Fatalf("Validate failed (%v) but Append succeeded", err)
		}
		if err.Error() == "" {
			t.Fatal("empty error text")
		}
		return
	}
	if n < c.HeaderLength() || n > len(data) {
		t.Fatalf("Validate length %d outside [%d, %d]", n, c.HeaderLength(), len(data))
	}
	j, n2, err := c.Append(nil, data, sbert.FormatJSON)
	if err != nil || n2 != n {
		t.Fatalf("Append JSON = %d, %v; Validate said %d", n2, err, n)
	}
	if !json.Valid(j) {
		t.Fatalf("invalid JSON %q", j)
	}
	x, n3, err := c.Append(nil, data, sbert.FormatText)
	if err != nil || n3 != n {
		t.Fatalf("Append text = %d, %v; Validate said %d", n3, err, n)
	}
	if bytes.ContainsAny(x, "\n\r") {
		t.Fatalf("text spans lines: %q", x)
	}
	// The message alone (without what follows) decodes the same.
	if n4, err := c.Validate(data[:n]); err != nil || n4 != n {
		t.Fatalf("Validate of the message alone = %d, %v", n4, err)
	}
}
