package binancetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// IDScheme says how a Source rewrites a payload's ids so a looped sample
// file keeps the exchange's sequencing.
type IDScheme uint8

const (
	// IDsNone rewrites only the event time E.
	IDsNone IDScheme = iota
	// IDsTrade: t consecutive (@trade).
	IDsTrade
	// IDsAggTrade: a consecutive, f..l following on from the last l (@aggTrade).
	IDsAggTrade
	// IDsSpotDepth: U = previous u + 1 (spot @depth).
	IDsSpotDepth
	// IDsFuturesDepth: pu = previous u, ids leave holes as futures ids do.
	IDsFuturesDepth
	// IDsBookTicker: u increasing (@bookTicker).
	IDsBookTicker
)

// SchemeFor picks the id scheme for a stream name.
func SchemeFor(stream string, futures bool) IDScheme {
	ch := streamChannel(stream)
	switch {
	case ch == "trade":
		return IDsTrade
	case ch == "aggTrade":
		return IDsAggTrade
	case ch == "bookTicker":
		return IDsBookTicker
	case ch == "depth":
		if futures {
			return IDsFuturesDepth
		}
		return IDsSpotDepth
	}
	return IDsNone
}

// Source produces a stream's frames: recorded payloads replayed in a loop
// with their ids rewritten to stay in sequence and E kept increasing. It is
// safe for concurrent use.
type Source struct {
	mu       sync.Mutex
	payloads [][]byte
	scheme   IDScheme
	i        int
	next     int64 // next trade/agg/update id
	nextF    int64 // aggTrade: next first trade id
	lastE    int64
	now      func() time.Time
	started  bool
}

// NewSource returns a source looping over raw payloads (not combined
// wrappers) with the given id scheme.
func NewSource(payloads [][]byte, scheme IDScheme) *Source {
	if len(payloads) == 0 {
		panic("binancetest: NewSource with no payloads")
	}
	return &Source{payloads: payloads, scheme: scheme, now: time.Now}
}

// Skip leaves a hole of n ids before the next frame: a gap on demand.
func (s *Source) Skip(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	s.next += n
	s.nextF += n
}

// NextID is the id the next frame will carry (trade id, aggregate id,
// bookTicker or spot first update id) or, for futures depth, the pu it will
// name; for tests that assert on ranges.
func (s *Source) NextID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return s.next
}

func (s *Source) init() {
	if s.started {
		return
	}
	s.started = true
	p := s.payloads[0]
	switch s.scheme {
	case IDsTrade:
		s.next, _ = intField(p, "t")
	case IDsAggTrade:
		s.next, _ = intField(p, "a")
		s.nextF, _ = intField(p, "f")
	case IDsSpotDepth:
		s.next, _ = intField(p, "U")
	case IDsFuturesDepth:
		u, _ := intField(p, "U")
		s.next = u - 4 // the "previous u" the first event's pu names
	case IDsBookTicker:
		s.next, _ = intField(p, "u")
	}
}

// Next returns the next payload.
func (s *Source) Next() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	p := bytes.Clone(s.payloads[s.i%len(s.payloads)])
	s.i++
	e := s.now().UnixMilli()
	if e <= s.lastE {
		e = s.lastE + 1
	}
	s.lastE = e
	p = setIntField(p, "E", e)
	switch s.scheme {
	case IDsTrade:
		p = setIntField(p, "t", s.next)
		s.next++
	case IDsAggTrade:
		f, _ := intField(p, "f")
		l, _ := intField(p, "l")
		span := max(l-f, 0)
		p = setIntField(p, "a", s.next)
		p = setIntField(p, "f", s.nextF)
		p = setIntField(p, "l", s.nextF+span)
		s.next++
		s.nextF += span + 1
	case IDsSpotDepth:
		U, _ := intField(p, "U")
		u, _ := intField(p, "u")
		span := max(u-U, 0)
		p = setIntField(p, "U", s.next)
		p = setIntField(p, "u", s.next+span)
		s.next += span + 1
	case IDsFuturesDepth:
		U, _ := intField(p, "U")
		u, _ := intField(p, "u")
		span := max(u-U, 0)
		// Futures ids are one sequence shared across symbols: an event
		// starts a few ids after the previous one of its symbol ended,
		// and pu names that previous end. s.next holds it.
		p = setIntField(p, "pu", s.next)
		p = setIntField(p, "U", s.next+4)
		p = setIntField(p, "u", s.next+4+span)
		s.next += 4 + span
	case IDsBookTicker:
		p = setIntField(p, "u", s.next)
		s.next++
	}
	return p
}

// intField reads the first integer field "key": in p.
func intField(p []byte, key string) (int64, bool) {
	i, j := findInt(p, key)
	if i < 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(string(p[i:j]), 10, 64)
	return v, err == nil
}

// setIntField replaces the value of the first integer field "key": in p; a
// payload without it is returned unchanged.
func setIntField(p []byte, key string, v int64) []byte {
	i, j := findInt(p, key)
	if i < 0 {
		return p
	}
	out := make([]byte, 0, len(p)+8)
	out = append(out, p[:i]...)
	out = strconv.AppendInt(out, v, 10)
	return append(out, p[j:]...)
}

func findInt(p []byte, key string) (int, int) {
	pat := []byte(`"` + key + `":`)
	k := bytes.Index(p, pat)
	if k < 0 {
		return -1, -1
	}
	i := k + len(pat)
	j := i
	if j < len(p) && p[j] == '-' {
		j++
	}
	for j < len(p) && p[j] >= '0' && p[j] <= '9' {
		j++
	}
	if j == i {
		return -1, -1
	}
	return i, j
}

// Sample is one recorded frame: its stream (empty for raw payloads) and the
// raw payload.
type Sample struct {
	Stream  string
	Payload []byte
}

// LoadSamples reads a .jsonl samples file, unwrapping combined frames.
func LoadSamples(path string) ([]Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loading samples: %w", err)
	}
	defer f.Close()
	var out []Sample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var w struct {
			Stream string          `json:"stream"`
			Data   json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(line, &w); err != nil {
			return nil, fmt.Errorf("loading samples: %s line %d: %w", path, n, err)
		}
		if w.Stream != "" && len(w.Data) > 0 {
			out = append(out, Sample{Stream: w.Stream, Payload: bytes.Clone(w.Data)})
		} else {
			out = append(out, Sample{Payload: bytes.Clone(line)})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("loading samples: %s: %w", path, err)
	}
	return out, nil
}

// Payloads returns the payloads of the samples whose stream is stream (all
// of them when stream is "").
func Payloads(samples []Sample, stream string) [][]byte {
	var out [][]byte
	for _, s := range samples {
		if stream == "" || strings.EqualFold(s.Stream, stream) {
			out = append(out, s.Payload)
		}
	}
	return out
}
