package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

type groupKey struct{ stream, topic, group uint32 }

// session is one client connection.
type session struct {
	id     uint32
	conn   net.Conn
	addr   string
	userID atomic.Uint32 // wire.AnonymousUserID until logged in

	// groups this client joined; guarded by Server.mu.
	groups map[groupKey]struct{}

	stateMu sync.Mutex // busy and the read deadline used to stop idle reads
	busy    bool

	br  *bufio.Reader
	in  []byte // request payload, reused
	out []byte // response frame, reused

	// The requests of the hot paths are decoded into these, so a send or a
	// poll allocates nothing; other commands get a fresh wire.NewRequest.
	send wire.SendMessages
	poll wire.PollMessages
}

func (s *Server) newSession(c net.Conn) *session {
	sess := &session{
		conn:   c,
		addr:   c.RemoteAddr().String(),
		groups: map[groupKey]struct{}{},
		br:     bufio.NewReaderSize(c, 64<<10),
		out:    make([]byte, 0, 64<<10),
	}
	sess.userID.Store(wire.AnonymousUserID)
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

// request returns an empty request value for code, or nil for a command the
// protocol does not have.
func (c *session) request(code wire.Command) wire.Request {
	switch code {
	case wire.CmdSendMessages:
		c.send = wire.SendMessages{}
		return &c.send
	case wire.CmdPollMessages:
		c.poll = wire.PollMessages{}
		return &c.poll
	}
	return wire.NewRequest(code)
}

// shutdownGrace is how long after shutdown begins a connection's next
// request is still read: its first bytes may be in the socket already,
// unread only because the connection's goroutine has not come round to it
// (stopping at once would drop them unread, and the client would get a
// reset instead of its answer).
const shutdownGrace = 250 * time.Millisecond

// interruptIdle makes a connection that waits for its next request return
// once nothing has arrived by until; one in the middle of a request
// finishes it first.
func (c *session) interruptIdle(until time.Time) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	if !c.busy {
		_ = c.conn.SetReadDeadline(until)
	}
}

func (c *session) idle() {
	c.stateMu.Lock()
	c.busy = false
	c.stateMu.Unlock()
}

func (s *Server) serve(c *session) {
	defer s.endSession(c)
	var hdr [wire.RequestHeaderSize]byte
	for {
		if s.closing.Load() {
			// Shutting down: a request sent in time is still read.
			until := time.Unix(0, s.graceEnd.Load())
			if !time.Now().Before(until) && c.br.Buffered() == 0 {
				return
			}
			c.interruptIdle(until)
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

		plen, code, err := wire.ParseRequestHeader(hdr[:])
		if err != nil {
			// The frame cannot be delimited: answer and drop the connection.
			_ = c.writeError(wire.ErrInvalidCommand)
			return
		}
		if code == wire.CmdSendMessages && plen > s.cfg.MaxBatchBytes {
			if _, err := io.CopyN(io.Discard, c.br, int64(plen)); err != nil {
				return
			}
			c.idle()
			if c.writeError(wire.ErrInvalidSizeBytes) != nil {
				return
			}
			continue
		}
		if code != wire.CmdSendMessages && plen > wire.MaxControlPayload {
			// Iggy refuses without draining, which leaves the stream out of
			// step; closing is the honest equivalent.
			_ = c.writeError(wire.ErrInvalidCommand)
			return
		}
		if cap(c.in) < plen {
			c.in = make([]byte, plen)
		}
		payload := c.in[:plen]
		if _, err := io.ReadFull(c.br, payload); err != nil {
			return
		}
		s.readBytes.Add(uint64(wire.RequestHeaderSize + plen))
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

// handle runs one request and writes its response with one write. The
// session counts as idle again before the response goes out, so a client
// that has its answer never sees the server still busy with the request.
func (s *Server) handle(c *session, code wire.Command, payload []byte) error {
	out, start := wire.BeginResponse(c.out[:0])
	out, status := s.dispatch(c, code, payload, out)
	c.idle()
	if status != nil {
		out = wire.AppendErrorResponse(out[:0], status.Code)
	} else {
		wire.FinishResponse(out, start)
	}
	c.out = out[:0]
	s.writtenBytes.Add(uint64(len(out)))
	_, err := c.conn.Write(out)
	return err
}

func (c *session) writeError(e *wire.Error) error {
	var b [wire.ResponseHeaderSize]byte
	_, err := c.conn.Write(wire.AppendErrorResponse(b[:0], e.Code))
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

// decodeStatus is the status a failed wire decode answers with. Decoders
// return *wire.Error only; anything else would be a bug in them.
func decodeStatus(err error) *wire.Error {
	var e *wire.Error
	if errors.As(err, &e) {
		return e
	}
	return wire.ErrInvalidCommand
}

// dispatch decodes one request with package wire and runs it. It appends an
// OK response payload to out, or returns the status of the failure (the
// caller then discards what was appended).
func (s *Server) dispatch(c *session, code wire.Command, p []byte, out []byte) ([]byte, *wire.Error) {
	req := c.request(code)
	if req == nil {
		return out, wire.ErrInvalidCommand
	}
	// An anonymous session's request is refused before it is decoded (Iggy
	// decodes first; only a malformed request would be answered otherwise).
	if code.RequiresAuth() && c.userID.Load() == wire.AnonymousUserID {
		if code == wire.CmdGetConsumerOffset {
			// Iggy 0.8 answers an offset query it cannot serve, for whatever
			// reason, with "no offset"; the Go SDK's suite expects that even
			// before login. Nothing is revealed.
			return out, nil
		}
		return out, wire.ErrUnauthenticated
	}
	if err := req.Decode(p); err != nil {
		return out, decodeStatus(err)
	}
	switch r := req.(type) {
	case *wire.LoginUser:
		return s.loginUser(c, r, out)
	case *wire.LoginWithAccessToken:
		return s.loginWithAccessToken(c, r, out)
	}
	if code == wire.CmdPing {
		return out, nil
	}

	uid := c.userID.Load()
	s.mu.RLock()
	u := s.users[uid]
	var perms *wire.Permissions
	if u != nil {
		perms = u.perms
	}
	s.mu.RUnlock()
	if u == nil {
		// The user was deleted while this client was signed in.
		c.userID.Store(wire.AnonymousUserID)
		return out, wire.ErrUnauthenticated
	}
	acc := (*rights)(perms)
	if acc == nil {
		acc = &rights{}
	}

	switch r := req.(type) {
	case *wire.SendMessages:
		return out, s.sendMessages(acc, r)
	case *wire.PollMessages:
		return s.pollMessages(c, acc, r, out)
	case *wire.Empty:
		return s.simple(c, uid, acc, r.Cmd, out)
	case *wire.GetClient:
		return s.getClient(acc, r, out)
	case *wire.GetUser:
		return s.getUser(uid, acc, r, out)
	case *wire.CreateUser:
		return s.createUser(acc, r, out)
	case *wire.DeleteUser:
		return out, s.deleteUser(acc, r)
	case *wire.UpdateUser:
		return out, s.updateUser(acc, r)
	case *wire.UpdatePermissions:
		return out, s.updatePermissions(acc, r)
	case *wire.ChangePassword:
		return out, s.changePassword(uid, acc, r)
	case *wire.CreateAccessToken:
		return s.createAccessToken(uid, r, out)
	case *wire.DeleteAccessToken:
		return out, s.deleteAccessToken(uid, r)
	case *wire.FlushUnsavedBuffer:
		return out, s.flushUnsavedBuffer(acc, r)
	case *wire.GetConsumerOffset:
		return s.getConsumerOffset(c, acc, r, out)
	case *wire.StoreConsumerOffset:
		return out, s.storeConsumerOffset(c, acc, r)
	case *wire.DeleteConsumerOffset:
		return out, s.deleteConsumerOffset(c, acc, r)
	case *wire.GetStream:
		return s.getStream(acc, r, out)
	case *wire.CreateStream:
		return s.createStream(acc, r, out)
	case *wire.DeleteStream:
		return out, s.deleteStream(acc, r)
	case *wire.UpdateStream:
		return out, s.updateStream(acc, r)
	case *wire.PurgeStream:
		return out, s.purgeStream(acc, r)
	case *wire.GetTopic:
		return s.getTopic(acc, r, out)
	case *wire.GetTopics:
		return s.getTopics(acc, r, out)
	case *wire.CreateTopic:
		return s.createTopic(acc, r, out)
	case *wire.DeleteTopic:
		return out, s.deleteTopic(acc, r)
	case *wire.UpdateTopic:
		return out, s.updateTopic(acc, r)
	case *wire.PurgeTopic:
		return out, s.purgeTopic(acc, r)
	case *wire.CreatePartitions:
		return out, s.createPartitions(acc, r)
	case *wire.DeletePartitions:
		return out, s.deletePartitions(acc, r)
	case *wire.DeleteSegments:
		return out, s.deleteSegments(acc, r)
	case *wire.GetConsumerGroup:
		return s.getConsumerGroup(acc, r, out)
	case *wire.GetConsumerGroups:
		return s.getConsumerGroups(acc, r, out)
	case *wire.CreateConsumerGroup:
		return s.createConsumerGroup(acc, r, out)
	case *wire.DeleteConsumerGroup:
		return out, s.deleteConsumerGroup(acc, r)
	case *wire.JoinConsumerGroup:
		return out, s.joinConsumerGroup(c, acc, r)
	case *wire.LeaveConsumerGroup:
		return out, s.leaveConsumerGroup(c, acc, r)
	}
	return out, wire.ErrInvalidCommand
}

// simple runs the commands without a payload (wire.Empty).
func (s *Server) simple(c *session, uid uint32, acc *rights, code wire.Command, out []byte) ([]byte, *wire.Error) {
	switch code {
	case wire.CmdGetStats:
		return s.getStats(acc, out)
	case wire.CmdGetSnapshotFile:
		return out, wire.ErrFeatureUnavailable
	case wire.CmdGetClusterMetadata:
		return s.getClusterMetadata(c.conn.LocalAddr(), out), nil
	case wire.CmdGetMe:
		return s.getMe(c, out), nil
	case wire.CmdGetClients:
		return s.getClients(acc, out)
	case wire.CmdGetUsers:
		return s.getUsers(acc, out)
	case wire.CmdLogoutUser:
		c.userID.Store(wire.AnonymousUserID)
		return out, nil
	case wire.CmdGetAccessTokens:
		return s.getAccessTokens(uid, out), nil
	case wire.CmdGetStreams:
		return s.getStreams(acc, out), nil
	}
	return out, wire.ErrInvalidCommand
}
