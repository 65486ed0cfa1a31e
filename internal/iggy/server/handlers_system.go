package server

import (
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ServerVersion is the Iggy server version this server reports.
const (
	ServerVersion = "0.8.0"
	serverSemver  = 8000 // major*1_000_000 + minor*1_000 + patch, as Iggy encodes it
)

func appendClient(w *writer, c *session, groups int) {
	w.u32(c.id)
	w.u32(c.userID.Load())
	w.u8(1) // tcp
	w.str32(c.addr)
	w.u32(uint32(groups))
}

func (s *Server) appendClientDetails(w *writer, c *session) {
	ks := clientGroups(c)
	appendClient(w, c, len(ks))
	for _, k := range ks {
		w.u32(k.stream)
		w.u32(k.topic)
		w.u32(k.group)
	}
}

func (s *Server) getMe(c *session, w *writer) Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.appendClientDetails(w, c)
	return StatusOK
}

func (s *Server) getClient(perms *Permissions, r *reader, w *writer) Status {
	id := r.u32()
	if r.err != 0 {
		return r.err
	}
	if !perms.canReadServers() {
		return StatusUnauthorized
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.sessMu.Lock()
	c := s.sessions[id]
	s.sessMu.Unlock()
	if c == nil {
		return StatusOK
	}
	s.appendClientDetails(w, c)
	return StatusOK
}

func (s *Server) sessionsSorted() []*session {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	out := make([]*session, 0, len(s.sessions))
	for _, id := range sortedKeys(s.sessions) {
		out = append(out, s.sessions[id])
	}
	return out
}

func (s *Server) getClients(perms *Permissions, w *writer) Status {
	if !perms.canReadServers() {
		return StatusUnauthorized
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, c := range s.sessionsSorted() {
		appendClient(w, c, len(c.groups))
	}
	return StatusOK
}

func (s *Server) getClusterMetadata(w *writer) Status {
	host, port := "127.0.0.1", uint16(0)
	if s.ln != nil {
		if h, p, err := net.SplitHostPort(s.ln.Addr().String()); err == nil {
			host = h
			if n, err := strconv.ParseUint(p, 10, 16); err == nil {
				port = uint16(n)
			}
		}
	}
	w.str32("single-node")
	w.u32(1)
	w.str32("iggy-node")
	w.str32(host)
	w.u16(port) // tcp
	w.u16(0)    // quic
	w.u16(0)    // http
	w.u16(0)    // websocket
	w.u8(0)     // role: leader
	w.u8(0)     // status: healthy
	return StatusOK
}

// cpuSampler turns process CPU time into a usage percentage between two
// stats calls.
type cpuSampler struct {
	mu       sync.Mutex
	lastWall time.Time
	lastCPU  time.Duration
}

func (c *cpuSampler) sample() float32 {
	cpu, ok := processCPUTime()
	if !ok {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	var pct float32
	if !c.lastWall.IsZero() {
		if wall := now.Sub(c.lastWall); wall > 0 {
			pct = float32(float64(cpu-c.lastCPU) / float64(wall) * 100)
		}
	}
	c.lastWall, c.lastCPU = now, cpu
	return pct
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// memInfo reads total and available memory from /proc/meminfo (Linux).
func memInfo() (total, avail uint64) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "MemTotal:":
			total = v * 1024
		case "MemAvailable:":
			avail = v * 1024
		}
	}
	return total, avail
}

func (s *Server) getStats(perms *Permissions, w *writer) Status {
	if !perms.canReadServers() {
		return StatusUnauthorized
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	total, avail := memInfo()
	cpu := s.cpu.sample()

	s.mu.RLock()
	var topics, partitions, segments, groups uint32
	var msgs, size uint64
	for _, st := range s.streams {
		for _, t := range st.topics {
			topics++
			groups += uint32(len(t.groups))
			for _, p := range t.partitions {
				partitions++
				segments += p.log.Segments()
				msgs += p.log.NextOffset() - p.log.FirstOffset()
				size += p.log.SizeBytes()
			}
		}
	}
	streams := uint32(len(s.streams))
	s.mu.RUnlock()
	s.sessMu.Lock()
	clients := uint32(len(s.sessions))
	s.sessMu.Unlock()

	now := s.now()
	w.u32(uint32(os.Getpid()))
	w.f32(cpu)
	w.f32(cpu)
	w.u64(ms.Sys)
	w.u64(total)
	w.u64(avail)
	w.u64(uint64(now.Sub(s.started) / time.Microsecond))
	w.u64(uint64(s.started.UnixMicro()))
	w.u64(s.readBytes.Load())
	w.u64(s.writtenBytes.Load())
	w.u64(size)
	w.u32(streams)
	w.u32(topics)
	w.u32(partitions)
	w.u32(segments)
	w.u64(msgs)
	w.u32(clients)
	w.u32(groups)
	w.str32(osHostname())
	w.str32(runtime.GOOS)
	w.str32(readTrim("/proc/sys/kernel/version"))
	w.str32(readTrim("/proc/sys/kernel/osrelease"))
	w.str32(ServerVersion)
	w.u32(serverSemver)
	w.u32(0) // cache metrics: this server has no read cache
	w.u32(uint32(runtime.NumGoroutine()))
	free, tot := s.diskSpace()
	w.u64(free)
	w.u64(tot)
	return StatusOK
}
