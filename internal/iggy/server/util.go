package server

import (
	"math"
	"sort"
)

func float32bits(f float32) uint32 { return math.Float32bits(f) }

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func sortStrings(s []string) { sort.Strings(s) }
