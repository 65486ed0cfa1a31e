package server

import (
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// ServerVersion is the Iggy server version this server reports.
const (
	ServerVersion = "0.8.0"
	serverSemver  = 8000 // major*1_000_000 + minor*1_000 + patch, as Iggy encodes it
)

// clientInfo reports a session; caller holds s.mu (for its groups).
func clientInfo(c *session) wire.ClientInfo {
	return wire.ClientInfo{ClientID: c.id, UserID: c.userID.Load(), Transport: wire.TransportTCP,
		Address: c.addr, ConsumerGroupsCount: uint32(len(c.groups))}
}

func appendClientDetails(out []byte, c *session) []byte {
	d := wire.ClientDetails{ClientInfo: clientInfo(c), ConsumerGroups: clientGroups(c)}
	return d.AppendTo(out)
}

func (s *Server) getMe(c *session, out []byte) []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return appendClientDetails(out, c)
}

func (s *Server) getClient(acc *rights, r *wire.GetClient, out []byte) ([]byte, *wire.Error) {
	if !acc.canReadServers() {
		return out, wire.ErrUnauthorized
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.sessMu.Lock()
	c := s.sessions[r.ClientID]
	s.sessMu.Unlock()
	if c == nil {
		return out, nil
	}
	return appendClientDetails(out, c), nil
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

func (s *Server) getClients(acc *rights, out []byte) ([]byte, *wire.Error) {
	if !acc.canReadServers() {
		return out, wire.ErrUnauthorized
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, c := range s.sessionsSorted() {
		ci := clientInfo(c)
		out = ci.AppendTo(out)
	}
	return out, nil
}

// getClusterMetadata describes this server as a one-node cluster, as Iggy
// does with clustering off, so SDKs never look for another leader. The node's
// address is the one this connection reached (local), not the listen address:
// a server on 0.0.0.0 must not send clients to "0.0.0.0".
func (s *Server) getClusterMetadata(local net.Addr, out []byte) []byte {
	host, port := "127.0.0.1", uint16(0)
	if local != nil {
		if h, p, err := net.SplitHostPort(local.String()); err == nil {
			host = h
			if n, err := strconv.ParseUint(p, 10, 16); err == nil {
				port = uint16(n)
			}
		}
	}
	m := wire.ClusterMetadata{Name: "single-node", Nodes: []wire.ClusterNode{{
		Name: "iggy-node", IP: host, TCPPort: port, Role: wire.NodeRoleLeader, Status: wire.NodeStatusHealthy,
	}}}
	return m.AppendTo(out)
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

func (s *Server) getStats(acc *rights, out []byte) ([]byte, *wire.Error) {
	if !acc.canReadServers() {
		return out, wire.ErrUnauthorized
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	total, avail := memInfo()
	cpu := s.cpu.sample()
	now := s.now()
	st := wire.Stats{
		ProcessID:       uint32(os.Getpid()),
		CPUUsage:        cpu,
		TotalCPUUsage:   cpu,
		MemoryUsage:     ms.Sys,
		TotalMemory:     total,
		AvailableMemory: avail,
		RunTime:         uint64(now.Sub(s.started) / time.Microsecond),
		StartTime:       uint64(s.started.UnixMicro()),
		ReadBytes:       s.readBytes.Load(),
		WrittenBytes:    s.writtenBytes.Load(),
		Hostname:        osHostname(),
		OSName:          runtime.GOOS,
		OSVersion:       readTrim("/proc/sys/kernel/version"),
		KernelVersion:   readTrim("/proc/sys/kernel/osrelease"),
		ServerVersion:   ServerVersion,
		ServerSemver:    serverSemver,
		// No cache metrics: this server has no read cache.
		ThreadsCount: uint32(runtime.NumGoroutine()),
	}
	s.mu.RLock()
	st.StreamsCount = uint32(len(s.streams))
	for _, stream := range s.streams {
		for _, t := range stream.topics {
			st.TopicsCount++
			st.ConsumerGroupsCount += uint32(len(t.groups))
			for _, p := range t.partitions {
				st.PartitionsCount++
				st.SegmentsCount += p.log.Segments()
				st.MessagesCount += messagesIn(p.log)
				st.MessagesSizeBytes += p.log.SizeBytes()
			}
		}
	}
	s.mu.RUnlock()
	s.sessMu.Lock()
	st.ClientsCount = uint32(len(s.sessions))
	s.sessMu.Unlock()
	st.FreeDiskSpace, st.TotalDiskSpace = s.diskSpace()
	return st.AppendTo(out), nil
}
