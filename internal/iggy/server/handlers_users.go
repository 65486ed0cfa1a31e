package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"math"

	"golang.org/x/crypto/bcrypt"
)

func appendUser(w *writer, u *user) {
	w.u32(u.id)
	w.u64(u.createdAt)
	w.u8(u.status)
	w.name8(u.username)
}

func appendUserDetails(w *writer, u *user) {
	appendUser(w, u)
	if u.perms == nil {
		w.u8(0)
		return
	}
	w.u8(1)
	at := len(w.b)
	w.u32(0)
	w.b = appendPermissions(w.b, u.perms)
	putU32(w.b[at:], uint32(len(w.b)-at-4))
}

func (s *Server) findUser(id ident) *user {
	if id.isS {
		uid, ok := s.userNames[id.str]
		if !ok {
			return nil
		}
		return s.users[uid]
	}
	return s.users[id.num]
}

func (s *Server) loginUser(c *session, p []byte, w *writer) Status {
	r := &reader{b: p}
	username := r.u8str()
	password := r.u8str()
	// version and context are optional and ignored, as in Iggy 0.8.
	if r.err == 0 && len(r.b)-r.off >= 4 {
		r.u32str()
		if r.err == 0 && len(r.b)-r.off >= 4 {
			r.u32str()
		}
	}
	if r.err != 0 {
		return r.err
	}
	if n := len(username); n < minUsernameLen || n > maxUsernameLen {
		return StatusInvalidUsername
	}
	if n := len(password); n < minPasswordLen || n > maxPasswordLen {
		return StatusInvalidPassword
	}
	s.mu.RLock()
	u := s.findUser(ident{str: username, isS: true})
	var hash []byte
	var status uint8
	var uid uint32
	if u != nil {
		hash, status, uid = u.passwordHash, u.status, u.id
	}
	s.mu.RUnlock()
	if u == nil {
		// Spend as long as a wrong password would, so unknown usernames
		// cannot be told apart by timing.
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
		return StatusInvalidCredentials
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return StatusInvalidCredentials
	}
	if status != 1 {
		return StatusUserInactive
	}
	c.userID.Store(uid)
	w.u32(uid)
	return StatusOK
}

func hashToken(tok string) [32]byte { return sha256.Sum256([]byte(tok)) }

func (s *Server) loginWithPAT(c *session, p []byte, w *writer) Status {
	r := &reader{b: p}
	tok := r.u8str()
	if r.err != 0 {
		return r.err
	}
	if len(tok) == 0 {
		return StatusInvalidPAT
	}
	h := hashToken(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := s.tokens[h]
	if ref == nil || subtle.ConstantTimeCompare(ref.tok.hash[:], h[:]) != 1 {
		return StatusInvalidPAT
	}
	if ref.tok.expiry != 0 && s.nowMicros() >= ref.tok.expiry {
		return StatusPATExpired
	}
	u := s.users[ref.userID]
	if u == nil {
		return StatusInvalidPAT
	}
	if u.status != 1 {
		return StatusUserInactive
	}
	c.userID.Store(u.id)
	w.u32(u.id)
	return StatusOK
}

func (s *Server) getUser(self uint32, perms *Permissions, r *reader, w *writer) Status {
	id := r.ident()
	if r.err != 0 {
		return r.err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.findUser(id)
	if u == nil {
		if !perms.canReadUsers() {
			return StatusUnauthorized
		}
		return StatusOK
	}
	if u.id != self && !perms.canReadUsers() {
		return StatusUnauthorized
	}
	appendUserDetails(w, u)
	return StatusOK
}

func (s *Server) getUsers(perms *Permissions, w *writer) Status {
	if !perms.canReadUsers() {
		return StatusUnauthorized
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, id := range sortedKeys(s.users) {
		appendUser(w, s.users[id])
	}
	return StatusOK
}

func validUsername(n string) bool { return len(n) >= minUsernameLen && len(n) <= maxUsernameLen }
func validPassword(p string) bool { return len(p) >= minPasswordLen && len(p) <= maxPasswordLen }

// readOptPermissions reads has_permissions u8 and, when 1, len u32 and the
// permissions.
func readOptPermissions(r *reader) (*Permissions, Status) {
	has := r.u8()
	if r.err != 0 {
		return nil, r.err
	}
	if has == 0 {
		return nil, StatusOK
	}
	if has != 1 {
		return nil, StatusInvalidFormat
	}
	n := r.u32()
	b := r.bytes(int(min(n, math.MaxInt32)))
	if r.err != 0 {
		return nil, r.err
	}
	p, ok := decodePermissions(b)
	if !ok {
		return nil, StatusInvalidFormat
	}
	return p, StatusOK
}

func (s *Server) createUser(perms *Permissions, r *reader, w *writer) Status {
	username := r.u8str()
	password := r.u8str()
	status := r.u8()
	if r.err != 0 {
		return r.err
	}
	p, st := readOptPermissions(r)
	if st != StatusOK {
		return st
	}
	if !perms.canManageUsers() {
		return StatusUnauthorized
	}
	if !validUsername(username) {
		return StatusInvalidUsername
	}
	if !validPassword(password) {
		return StatusInvalidPassword
	}
	if status != 1 && status != 2 {
		return StatusInvalidUserStatus
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return s.failed("hashing a password", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.userNames[username]; ok {
		return StatusUserAlreadyExists
	}
	u := &user{id: lowestFreeID(s.users), username: username, passwordHash: hash, status: status,
		createdAt: s.nowMicros(), perms: p, tokens: map[string]*token{}}
	s.users[u.id] = u
	s.userNames[username] = u.id
	if err := s.saveMetadataLocked(); err != nil {
		delete(s.users, u.id)
		delete(s.userNames, username)
		return s.failed("saving metadata after creating a user", err)
	}
	appendUserDetails(w, u)
	return StatusOK
}

func (s *Server) deleteUser(perms *Permissions, r *reader) Status {
	id := r.ident()
	if r.err != 0 {
		return r.err
	}
	if !perms.canManageUsers() {
		return StatusUnauthorized
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.findUser(id)
	if u == nil {
		return StatusResourceNotFound
	}
	if u.id == 0 {
		return StatusCannotDeleteUser
	}
	delete(s.users, u.id)
	delete(s.userNames, u.username)
	if err := s.saveMetadataLocked(); err != nil {
		s.users[u.id] = u
		s.userNames[u.username] = u.id
		return s.failed("saving metadata after deleting a user", err)
	}
	for _, t := range u.tokens {
		delete(s.tokens, t.hash)
	}
	// Sessions of the deleted user are signed out on their next request
	// (dispatch finds no user).
	return StatusOK
}

func (s *Server) updateUser(perms *Permissions, r *reader) Status {
	id := r.ident()
	var username string
	hasName := r.u8()
	if hasName == 1 {
		username = r.u8str()
	}
	var status uint8
	hasStatus := r.u8()
	if hasStatus == 1 {
		status = r.u8()
	}
	if r.err != 0 {
		return r.err
	}
	if hasName > 1 || hasStatus > 1 {
		return StatusInvalidFormat
	}
	if !perms.canManageUsers() {
		return StatusUnauthorized
	}
	if hasName == 1 && !validUsername(username) {
		return StatusInvalidUsername
	}
	if hasStatus == 1 && status != 1 && status != 2 {
		return StatusInvalidUserStatus
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.findUser(id)
	if u == nil {
		return StatusResourceNotFound
	}
	oldName, oldStatus := u.username, u.status
	if hasName == 1 && username != u.username {
		if _, ok := s.userNames[username]; ok {
			return StatusUserAlreadyExists
		}
		delete(s.userNames, u.username)
		u.username = username
		s.userNames[username] = u.id
	}
	if hasStatus == 1 {
		u.status = status
	}
	if err := s.saveMetadataLocked(); err != nil {
		delete(s.userNames, u.username)
		u.username, u.status = oldName, oldStatus
		s.userNames[oldName] = u.id
		return s.failed("saving metadata after updating a user", err)
	}
	return StatusOK
}

func (s *Server) updatePermissions(perms *Permissions, r *reader) Status {
	id := r.ident()
	if r.err != 0 {
		return r.err
	}
	p, st := readOptPermissions(r)
	if st != StatusOK {
		return st
	}
	if !perms.canManageUsers() {
		return StatusUnauthorized
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.findUser(id)
	if u == nil {
		return StatusResourceNotFound
	}
	if u.id == 0 {
		return StatusCannotChangePermissions
	}
	old := u.perms
	u.perms = p
	if err := s.saveMetadataLocked(); err != nil {
		u.perms = old
		return s.failed("saving metadata after updating permissions", err)
	}
	return StatusOK
}

func (s *Server) changePassword(self uint32, perms *Permissions, r *reader) Status {
	id := r.ident()
	current := r.u8str()
	next := r.u8str()
	if r.err != 0 {
		return r.err
	}
	if !validPassword(next) {
		return StatusInvalidPassword
	}
	s.mu.RLock()
	u := s.findUser(id)
	var hash []byte
	var uid uint32
	if u != nil {
		hash, uid = u.passwordHash, u.id
	}
	s.mu.RUnlock()
	if u == nil {
		return StatusResourceNotFound
	}
	if uid != self && !perms.canManageUsers() {
		return StatusUnauthorized
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(current)) != nil {
		return StatusInvalidCredentials
	}
	nh, err := s.hashPassword(next)
	if err != nil {
		return s.failed("hashing a password", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[uid] != u {
		return StatusResourceNotFound
	}
	u.passwordHash = nh
	if err := s.saveMetadataLocked(); err != nil {
		u.passwordHash = hash
		return s.failed("saving metadata after changing a password", err)
	}
	return StatusOK
}

func (s *Server) getPATs(uid uint32, w *writer) Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.users[uid]
	if u == nil {
		return StatusOK
	}
	names := make([]string, 0, len(u.tokens))
	for n := range u.tokens {
		names = append(names, n)
	}
	sortStrings(names)
	for _, n := range names {
		t := u.tokens[n]
		w.name8(t.name)
		w.u64(t.expiry)
	}
	return StatusOK
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newToken returns 50 random alphanumeric characters (~297 bits).
func newToken() (string, error) {
	var b [50]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	for i := range b {
		// 256 % 62 bias is irrelevant for a secret this long.
		b[i] = tokenAlphabet[int(b[i])%len(tokenAlphabet)]
	}
	return string(b[:]), nil
}

func (s *Server) createPAT(uid uint32, r *reader, w *writer) Status {
	name := r.u8str()
	expiry := r.u64()
	if r.err != 0 {
		return r.err
	}
	if len(name) < minPATNameLen || len(name) > maxPATNameLen {
		return StatusInvalidPATName
	}
	tok, err := newToken()
	if err != nil {
		return s.failed("generating a token", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[uid]
	if u == nil {
		return StatusUnauthenticated
	}
	if _, ok := u.tokens[name]; ok {
		return StatusPATAlreadyExists
	}
	if len(u.tokens) >= defaultMaxPATsPerUser {
		return StatusPATLimitReached
	}
	t := &token{name: name, hash: hashToken(tok)}
	// expiry is a duration in µs; 0 and u64::MAX mean never.
	if expiry != 0 && expiry != math.MaxUint64 {
		now := s.nowMicros()
		if expiry > math.MaxUint64-now {
			t.expiry = 0
		} else {
			t.expiry = now + expiry
		}
	}
	u.tokens[name] = t
	s.tokens[t.hash] = &tokenRef{userID: uid, tok: t}
	if err := s.saveMetadataLocked(); err != nil {
		delete(u.tokens, name)
		delete(s.tokens, t.hash)
		return s.failed("saving metadata after creating a token", err)
	}
	w.name8(tok)
	return StatusOK
}

func (s *Server) deletePAT(uid uint32, r *reader) Status {
	name := r.u8str()
	if r.err != 0 {
		return r.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[uid]
	if u == nil {
		return StatusUnauthenticated
	}
	t, ok := u.tokens[name]
	if !ok {
		return StatusResourceNotFound
	}
	delete(u.tokens, name)
	delete(s.tokens, t.hash)
	if err := s.saveMetadataLocked(); err != nil {
		u.tokens[name] = t
		s.tokens[t.hash] = &tokenRef{userID: uid, tok: t}
		return s.failed("saving metadata after deleting a token", err)
	}
	return StatusOK
}
