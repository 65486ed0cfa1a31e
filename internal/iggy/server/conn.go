package server

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

const noUser = math.MaxUint32

type groupKey struct{ stream, topic, group uint32 }

// session is one client connection.
type session struct {
	id     uint32
	conn   net.Conn
	addr   string
	userID atomic.Uint32 // noUser until logged in

	// groups this client joined; guarded by Server.mu.
	groups map[groupKey]struct{}

	stateMu sync.Mutex // busy and the read deadline used to stop idle reads
	busy    bool

	br  *bufio.Reader
	in  []byte // request payload, reused
	out []byte // response frame, reused
}

func (s *Server) newSession(c net.Conn) *session {
	sess := &session{
		conn:   c,
		addr:   c.RemoteAddr().String(),
		groups: map[groupKey]struct{}{},
		br:     bufio.NewReaderSize(c, 64<<10),
		out:    make([]byte, 0, 64<<10),
	}
	sess.userID.Store(noUser)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	s.sessMu.Lock()
	s.nextClientID++
	sess.id = s.nextClientID
	s.sessions[sess.id] = sess
	s.sessMu.Unlock()
	return sess
}

// interruptIdle makes a connection that waits for its next request return;
// one in the middle of a request finishes it first.
func (c *session) interruptIdle() {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	if !c.busy {
		_ = c.conn.SetReadDeadline(time.Unix(1, 0))
	}
}

func (s *Server) serve(c *session) {
	defer s.endSession(c)
	var hdr [8]byte
	for {
		if s.closing.Load() {
			return
		}
		if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
			if !errors.Is(err, io.EOF) && !s.closing.Load() {
				s.log.Debug("client connection closed", "client", c.id, "addr", c.addr, "err", err)
			}
			return
		}
		c.stateMu.Lock()
		c.busy = true
		_ = c.conn.SetReadDeadline(time.Time{})
		c.stateMu.Unlock()

		length := binary.LittleEndian.Uint32(hdr[:4])
		code := binary.LittleEndian.Uint32(hdr[4:])
		if length < 4 {
			// The frame cannot be delimited: answer and drop the connection.
			_ = c.writeStatus(StatusInvalidCommand)
			return
		}
		plen := uint64(length) - 4
		if code == cmdSendMessages && plen > uint64(s.cfg.MaxBatchBytes) {
			if _, err := io.CopyN(io.Discard, c.br, int64(plen)); err != nil {
				return
			}
			c.idle()
			if c.writeStatus(StatusInvalidSizeBytes) != nil {
				return
			}
			continue
		}
		if code != cmdSendMessages && plen > maxControlPayload {
			// Iggy refuses without draining, which leaves the stream out of
			// step; closing is the honest equivalent.
			_ = c.writeStatus(StatusInvalidCommand)
			return
		}
		if uint64(cap(c.in)) < plen {
			c.in = make([]byte, plen)
		}
		payload := c.in[:plen]
		if _, err := io.ReadFull(c.br, payload); err != nil {
			return
		}
		s.readBytes.Add(8 + plen)
		if err := s.handle(c, code, payload); err != nil {
			s.log.Debug("writing response failed", "client", c.id, "err", err)
			return
		}
		// Do not pin a huge buffer for the life of a connection.
		if cap(c.in) > 16<<20 {
			c.in = nil
		}
		if cap(c.out) > 16<<20 {
			c.out = make([]byte, 0, 64<<10)
		}
	}
}

func (c *session) idle() {
	c.stateMu.Lock()
	c.busy = false
	c.stateMu.Unlock()
}

// handle runs one request and writes its response with one write. The
// session counts as idle again before the response goes out, so a client
// that has its answer never sees the server still busy with the request.
func (s *Server) handle(c *session, code uint32, payload []byte) error {
	w := writer{b: append(c.out[:0], 0, 0, 0, 0, 0, 0, 0, 0)}
	st := s.dispatch(c, code, payload, &w)
	c.out = w.b[:0]
	c.idle()
	if st != StatusOK {
		return c.writeStatus(st)
	}
	binary.LittleEndian.PutUint32(w.b[0:], 0)
	binary.LittleEndian.PutUint32(w.b[4:], uint32(len(w.b)-8))
	s.writtenBytes.Add(uint64(len(w.b)))
	_, err := c.conn.Write(w.b)
	return err
}

func (c *session) writeStatus(st Status) error {
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:], uint32(st))
	_, err := c.conn.Write(b[:])
	return err
}

// endSession forgets the client: it leaves every consumer group it joined
// (rebalancing them) and its connection is closed.
func (s *Server) endSession(c *session) {
	_ = c.conn.Close()
	s.mu.Lock()
	for k := range c.groups {
		s.leaveGroupLocked(c, k)
	}
	s.mu.Unlock()
	s.sessMu.Lock()
	delete(s.sessions, c.id)
	s.sessMu.Unlock()
}

// dispatch routes one request; it returns the status and appends an OK
// response payload to w.
func (s *Server) dispatch(c *session, code uint32, p []byte, w *writer) Status {
	switch code {
	case cmdPing:
		return StatusOK
	case cmdLoginUser:
		return s.loginUser(c, p, w)
	case cmdLoginWithPAT:
		return s.loginWithPAT(c, p, w)
	}
	uid := c.userID.Load()
	if uid == noUser {
		if code == cmdGetConsumerOffset {
			// Iggy 0.8 answers an offset query it cannot serve, for whatever
			// reason, with "no offset"; the Go SDK's suite expects that even
			// before login. Nothing is revealed.
			return StatusOK
		}
		return StatusUnauthenticated
	}
	s.mu.RLock()
	u := s.users[uid]
	var perms *Permissions
	if u != nil {
		perms = u.perms
	}
	s.mu.RUnlock()
	if u == nil {
		// The user was deleted while this client was signed in.
		c.userID.Store(noUser)
		return StatusUnauthenticated
	}
	if perms == nil {
		perms = &Permissions{}
	}
	r := &reader{b: p}
	switch code {
	case cmdSendMessages:
		return s.sendMessages(c, perms, p)
	case cmdPollMessages:
		return s.pollMessages(c, perms, r, w)
	case cmdGetStats:
		return s.getStats(perms, w)
	case cmdGetSnapshot:
		return StatusFeatureUnavailable
	case cmdGetClusterMetadata:
		return s.getClusterMetadata(w)
	case cmdGetMe:
		return s.getMe(c, w)
	case cmdGetClient:
		return s.getClient(perms, r, w)
	case cmdGetClients:
		return s.getClients(perms, w)
	case cmdGetUser:
		return s.getUser(uid, perms, r, w)
	case cmdGetUsers:
		return s.getUsers(perms, w)
	case cmdCreateUser:
		return s.createUser(perms, r, w)
	case cmdDeleteUser:
		return s.deleteUser(perms, r)
	case cmdUpdateUser:
		return s.updateUser(perms, r)
	case cmdUpdatePermissions:
		return s.updatePermissions(perms, r)
	case cmdChangePassword:
		return s.changePassword(uid, perms, r)
	case cmdLogoutUser:
		c.userID.Store(noUser)
		return StatusOK
	case cmdGetPATs:
		return s.getPATs(uid, w)
	case cmdCreatePAT:
		return s.createPAT(uid, r, w)
	case cmdDeletePAT:
		return s.deletePAT(uid, r)
	case cmdFlushUnsavedBuffer:
		return s.flushUnsavedBuffer(perms, r)
	case cmdGetConsumerOffset:
		return s.getConsumerOffset(c, perms, r, w)
	case cmdStoreConsumerOffset:
		return s.storeConsumerOffset(c, perms, r)
	case cmdDeleteConsumerOffset:
		return s.deleteConsumerOffset(c, perms, r)
	case cmdGetStream:
		return s.getStream(perms, r, w)
	case cmdGetStreams:
		return s.getStreams(perms, w)
	case cmdCreateStream:
		return s.createStream(perms, r, w)
	case cmdDeleteStream:
		return s.deleteStream(perms, r)
	case cmdUpdateStream:
		return s.updateStream(perms, r)
	case cmdPurgeStream:
		return s.purgeStream(perms, r)
	case cmdGetTopic:
		return s.getTopic(perms, r, w)
	case cmdGetTopics:
		return s.getTopics(perms, r, w)
	case cmdCreateTopic:
		return s.createTopic(perms, r, w)
	case cmdDeleteTopic:
		return s.deleteTopic(perms, r)
	case cmdUpdateTopic:
		return s.updateTopic(perms, r)
	case cmdPurgeTopic:
		return s.purgeTopic(perms, r)
	case cmdCreatePartitions:
		return s.createPartitions(perms, r)
	case cmdDeletePartitions:
		return s.deletePartitions(perms, r)
	case cmdDeleteSegments:
		return s.deleteSegments(perms, r)
	case cmdGetConsumerGroup:
		return s.getConsumerGroup(perms, r, w)
	case cmdGetConsumerGroups:
		return s.getConsumerGroups(perms, r, w)
	case cmdCreateConsumerGroup:
		return s.createConsumerGroup(perms, r, w)
	case cmdDeleteConsumerGroup:
		return s.deleteConsumerGroup(perms, r)
	case cmdJoinConsumerGroup:
		return s.joinConsumerGroup(c, perms, r)
	case cmdLeaveConsumerGroup:
		return s.leaveConsumerGroup(c, perms, r)
	}
	return StatusInvalidCommand
}
