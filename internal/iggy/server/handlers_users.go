package server

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"math"
	"slices"

	"golang.org/x/crypto/bcrypt"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// passwords hashes and checks user passwords. Servers use bcrypt at
// Config.PasswordCost; this package's tests may put a cheaper one in place
// (there is no way to do that from outside the package).
type passwords interface {
	hash(password string) ([]byte, error)
	matches(hash []byte, password string) bool
}

type bcryptPasswords struct{ cost int }

func (b bcryptPasswords) hash(pw string) ([]byte, error) {
	return bcrypt.GenerateFromPassword([]byte(pw), b.cost)
}

func (b bcryptPasswords) matches(hash []byte, pw string) bool {
	return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil
}

func userInfo(u *user) wire.UserInfo {
	return wire.UserInfo{ID: u.id, CreatedAt: u.createdAt, Status: u.status, Username: u.username}
}

func appendUserDetails(out []byte, u *user) []byte {
	d := wire.UserDetails{UserInfo: userInfo(u), Permissions: u.perms}
	return d.AppendTo(out)
}

func (s *Server) findUser(id wire.Identifier) *user { return find(id, s.users, s.userNames) }

func (s *Server) loginUser(c *session, r *wire.LoginUser, out []byte) ([]byte, *wire.Error) {
	s.mu.RLock()
	u := s.findUser(wire.StringID(r.Username))
	var hash []byte
	var status wire.UserStatus
	var uid uint32
	if u != nil {
		hash, status, uid = u.passwordHash, u.status, u.id
	}
	s.mu.RUnlock()
	if u == nil {
		// Spend as long as a wrong password would, so unknown usernames
		// cannot be told apart by timing.
		s.pw.matches(s.dummyHash, r.Password)
		return out, wire.ErrInvalidCredentials
	}
	if !s.pw.matches(hash, r.Password) {
		return out, wire.ErrInvalidCredentials
	}
	if status != wire.UserActive {
		return out, wire.ErrUserInactive
	}
	// The password was checked without the lock: sign in only if the user
	// is still the same one (deleteUser signs out its sessions under the
	// lock, and a deleted user's id is reused by the next one created).
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.users[uid] != u {
		return out, wire.ErrInvalidCredentials
	}
	c.userID.Store(uid)
	id := wire.Identity{UserID: uid}
	return id.AppendTo(out), nil
}

func hashToken(tok string) [32]byte { return sha256.Sum256([]byte(tok)) }

func (s *Server) loginWithAccessToken(c *session, r *wire.LoginWithAccessToken, out []byte) ([]byte, *wire.Error) {
	h := hashToken(r.Token)
	s.mu.RLock()
	defer s.mu.RUnlock()
	ref := s.tokens[h]
	if ref == nil || subtle.ConstantTimeCompare(ref.tok.hash[:], h[:]) != 1 {
		return out, wire.ErrInvalidPersonalAccessToken
	}
	if ref.tok.expiry != 0 && s.nowMicros() >= ref.tok.expiry {
		return out, wire.ErrPersonalAccessTokenExpired
	}
	u := s.users[ref.userID]
	if u == nil {
		return out, wire.ErrInvalidPersonalAccessToken
	}
	if u.status != wire.UserActive {
		return out, wire.ErrUserInactive
	}
	c.userID.Store(u.id)
	id := wire.Identity{UserID: u.id}
	return id.AppendTo(out), nil
}

func (s *Server) getUser(self uint32, acc *rights, r *wire.GetUser, out []byte) ([]byte, *wire.Error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.findUser(r.User)
	if u == nil {
		if !acc.canReadUsers() {
			return out, wire.ErrUnauthorized
		}
		return out, nil
	}
	if u.id != self && !acc.canReadUsers() {
		return out, wire.ErrUnauthorized
	}
	return appendUserDetails(out, u), nil
}

func (s *Server) getUsers(acc *rights, out []byte) ([]byte, *wire.Error) {
	if !acc.canReadUsers() {
		return out, wire.ErrUnauthorized
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, id := range sortedKeys(s.users) {
		ui := userInfo(s.users[id])
		out = ui.AppendTo(out)
	}
	return out, nil
}

func (s *Server) createUser(acc *rights, r *wire.CreateUser, out []byte) ([]byte, *wire.Error) {
	if !acc.canManageUsers() {
		return out, wire.ErrUnauthorized
	}
	hash, err := s.pw.hash(r.Password)
	if err != nil {
		return out, s.failed("hashing a password", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.userNames[r.Username]; ok {
		return out, wire.ErrUserAlreadyExists
	}
	u := &user{id: lowestFreeID(s.users), username: r.Username, passwordHash: hash, status: r.Status,
		createdAt: s.nowMicros(), perms: r.Permissions, tokens: map[string]*token{}}
	s.users[u.id] = u
	s.userNames[u.username] = u.id
	if err := s.saveMetadataLocked(); err != nil {
		delete(s.users, u.id)
		delete(s.userNames, u.username)
		return out, s.failed("saving metadata after creating a user", err)
	}
	return appendUserDetails(out, u), nil
}

// managedUser resolves the user a user-management command names; caller
// holds s.mu.
func (s *Server) managedUser(acc *rights, id wire.Identifier) (*user, *wire.Error) {
	if !acc.canManageUsers() {
		return nil, wire.ErrUnauthorized
	}
	u := s.findUser(id)
	if u == nil {
		return nil, wire.ErrResourceNotFound
	}
	return u, nil
}

func (s *Server) deleteUser(acc *rights, r *wire.DeleteUser) *wire.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, werr := s.managedUser(acc, r.User)
	if werr != nil {
		return werr
	}
	if u.id == 0 {
		return wire.ErrCannotDeleteUser
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
	// Sign out the deleted user's sessions now: its id is reused by the next
	// user created, whose rights they must not inherit. They leave their
	// consumer groups too (as Iggy drops the user's clients), or the
	// partitions assigned to them would go unread.
	s.sessMu.Lock()
	var out []*session
	for _, sess := range s.sessions {
		if sess.userID.CompareAndSwap(u.id, wire.AnonymousUserID) {
			out = append(out, sess)
		}
	}
	s.sessMu.Unlock()
	for _, sess := range out {
		for k := range sess.groups {
			s.leaveGroupLocked(sess, k)
		}
	}
	return nil
}

func (s *Server) updateUser(acc *rights, r *wire.UpdateUser) *wire.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, werr := s.managedUser(acc, r.User)
	if werr != nil {
		return werr
	}
	oldName, oldStatus := u.username, u.status
	if r.Username != nil && *r.Username != u.username {
		if _, ok := s.userNames[*r.Username]; ok {
			return wire.ErrUserAlreadyExists
		}
		delete(s.userNames, u.username)
		u.username = *r.Username
		s.userNames[u.username] = u.id
	}
	if r.Status != nil {
		u.status = *r.Status
	}
	if err := s.saveMetadataLocked(); err != nil {
		delete(s.userNames, u.username)
		u.username, u.status = oldName, oldStatus
		s.userNames[oldName] = u.id
		return s.failed("saving metadata after updating a user", err)
	}
	return nil
}

func (s *Server) updatePermissions(acc *rights, r *wire.UpdatePermissions) *wire.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, werr := s.managedUser(acc, r.User)
	if werr != nil {
		return werr
	}
	if u.id == 0 {
		return wire.ErrCannotChangePermissions
	}
	old := u.perms
	u.perms = r.Permissions
	if err := s.saveMetadataLocked(); err != nil {
		u.perms = old
		return s.failed("saving metadata after updating permissions", err)
	}
	return nil
}

func (s *Server) changePassword(self uint32, acc *rights, r *wire.ChangePassword) *wire.Error {
	s.mu.RLock()
	u := s.findUser(r.User)
	var hash []byte
	var uid uint32
	if u != nil {
		hash, uid = u.passwordHash, u.id
	}
	s.mu.RUnlock()
	if u == nil {
		return wire.ErrResourceNotFound
	}
	if uid != self && !acc.canManageUsers() {
		return wire.ErrUnauthorized
	}
	if !s.pw.matches(hash, r.CurrentPassword) {
		return wire.ErrInvalidCredentials
	}
	nh, err := s.pw.hash(r.NewPassword)
	if err != nil {
		return s.failed("hashing a password", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[uid] != u {
		return wire.ErrResourceNotFound
	}
	u.passwordHash = nh
	if err := s.saveMetadataLocked(); err != nil {
		u.passwordHash = hash
		return s.failed("saving metadata after changing a password", err)
	}
	return nil
}

func (s *Server) getAccessTokens(uid uint32, out []byte) []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.users[uid]
	if u == nil {
		return out
	}
	for _, t := range sortedTokens(u) {
		ti := wire.AccessTokenInfo{Name: t.name, ExpiryAt: t.expiry}
		out = ti.AppendTo(out)
	}
	return out
}

// sortedTokens lists a user's tokens by name.
func sortedTokens(u *user) []*token {
	ts := make([]*token, 0, len(u.tokens))
	for _, t := range u.tokens {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *token) int { return cmp.Compare(a.name, b.name) })
	return ts
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

func (s *Server) createAccessToken(uid uint32, r *wire.CreateAccessToken, out []byte) ([]byte, *wire.Error) {
	tok, err := newToken()
	if err != nil {
		return out, s.failed("generating a token", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[uid]
	if u == nil {
		return out, wire.ErrUnauthenticated
	}
	if _, ok := u.tokens[r.Name]; ok {
		return out, wire.ErrPersonalAccessTokenAlreadyExists
	}
	if len(u.tokens) >= defaultMaxPATsPerUser {
		return out, wire.ErrPersonalAccessTokensLimitReached
	}
	t := &token{name: r.Name, hash: hashToken(tok)}
	// Expiry is a lifetime in µs; ServerDefault (0) and Unlimited mean never.
	if r.Expiry != wire.ServerDefault && r.Expiry != wire.Unlimited {
		now := s.nowMicros()
		if r.Expiry <= math.MaxUint64-now {
			t.expiry = now + r.Expiry
		}
	}
	u.tokens[t.name] = t
	s.tokens[t.hash] = &tokenRef{userID: uid, tok: t}
	if err := s.saveMetadataLocked(); err != nil {
		delete(u.tokens, t.name)
		delete(s.tokens, t.hash)
		return out, s.failed("saving metadata after creating a token", err)
	}
	raw := wire.RawAccessToken{Token: tok}
	return raw.AppendTo(out), nil
}

func (s *Server) deleteAccessToken(uid uint32, r *wire.DeleteAccessToken) *wire.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[uid]
	if u == nil {
		return wire.ErrUnauthenticated
	}
	t, ok := u.tokens[r.Name]
	if !ok {
		return wire.ErrResourceNotFound
	}
	delete(u.tokens, t.name)
	delete(s.tokens, t.hash)
	if err := s.saveMetadataLocked(); err != nil {
		u.tokens[t.name] = t
		s.tokens[t.hash] = &tokenRef{userID: uid, tok: t}
		return s.failed("saving metadata after deleting a token", err)
	}
	return nil
}
