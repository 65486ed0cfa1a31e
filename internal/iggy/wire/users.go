package wire

import (
	"maps"
	"slices"
)

// UserStatus is a user's state on the wire: 1 active, 2 inactive.
type UserStatus uint8

// User statuses.
const (
	UserActive   UserStatus = 1
	UserInactive UserStatus = 2
)

func (s UserStatus) String() string {
	switch s {
	case UserActive:
		return "active"
	case UserInactive:
		return "inactive"
	}
	return "invalid"
}

func validStatus(s UserStatus) error {
	if s != UserActive && s != UserInactive {
		return ErrInvalidUserStatus
	}
	return nil
}

func validUsername(s string) error {
	if len(s) < MinUsernameLength || len(s) > MaxUsernameLength || validName(s, ErrInvalidUsername) != nil {
		return ErrInvalidUsername
	}
	return nil
}

func validPassword(s string) error {
	if len(s) < MinPasswordLength || len(s) > MaxPasswordLength || validName(s, ErrInvalidPassword) != nil {
		return ErrInvalidPassword
	}
	return nil
}

// GlobalPermissions are the server-wide rights of a user.
type GlobalPermissions struct {
	ManageServers bool `json:"manage_servers"`
	ReadServers   bool `json:"read_servers"`
	ManageUsers   bool `json:"manage_users"`
	ReadUsers     bool `json:"read_users"`
	ManageStreams bool `json:"manage_streams"`
	ReadStreams   bool `json:"read_streams"`
	ManageTopics  bool `json:"manage_topics"`
	ReadTopics    bool `json:"read_topics"`
	PollMessages  bool `json:"poll_messages"`
	SendMessages  bool `json:"send_messages"`
}

// StreamPermissions are a user's rights on one stream and its topics.
type StreamPermissions struct {
	ManageStream bool                        `json:"manage_stream"`
	ReadStream   bool                        `json:"read_stream"`
	ManageTopics bool                        `json:"manage_topics"`
	ReadTopics   bool                        `json:"read_topics"`
	PollMessages bool                        `json:"poll_messages"`
	SendMessages bool                        `json:"send_messages"`
	Topics       map[uint32]TopicPermissions `json:"topics,omitempty"`
}

// TopicPermissions are a user's rights on one topic.
type TopicPermissions struct {
	ManageTopic  bool `json:"manage_topic"`
	ReadTopic    bool `json:"read_topic"`
	PollMessages bool `json:"poll_messages"`
	SendMessages bool `json:"send_messages"`
}

// Permissions is a user's full permission set. On the wire: ten global
// flags, then a has-streams byte and, per stream, id u32 · six flags ·
// has-topics byte · (per topic: id u32 · four flags · has-more byte) ·
// has-more byte. Streams and topics are written in id order so encodings
// are deterministic. The JSON names are Iggy's field names; the embedded
// server stores permissions in its metadata in this form.
type Permissions struct {
	Global  GlobalPermissions            `json:"global"`
	Streams map[uint32]StreamPermissions `json:"streams,omitempty"`
}

// AppendPermissions appends p's encoding.
func AppendPermissions(dst []byte, p *Permissions) []byte {
	g := &p.Global
	for _, f := range [...]bool{g.ManageServers, g.ReadServers, g.ManageUsers, g.ReadUsers,
		g.ManageStreams, g.ReadStreams, g.ManageTopics, g.ReadTopics, g.PollMessages, g.SendMessages} {
		dst = appendBool(dst, f)
	}
	if len(p.Streams) == 0 {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	sids := slices.Sorted(maps.Keys(p.Streams))
	for i, sid := range sids {
		s := p.Streams[sid]
		dst = appendU32(dst, sid)
		for _, f := range [...]bool{s.ManageStream, s.ReadStream, s.ManageTopics, s.ReadTopics, s.PollMessages, s.SendMessages} {
			dst = appendBool(dst, f)
		}
		if len(s.Topics) == 0 {
			dst = append(dst, 0)
		} else {
			dst = append(dst, 1)
			tids := slices.Sorted(maps.Keys(s.Topics))
			for j, tid := range tids {
				t := s.Topics[tid]
				dst = appendU32(dst, tid)
				dst = appendBool(dst, t.ManageTopic)
				dst = appendBool(dst, t.ReadTopic)
				dst = appendBool(dst, t.PollMessages)
				dst = appendBool(dst, t.SendMessages)
				dst = appendBool(dst, j < len(tids)-1)
			}
		}
		dst = appendBool(dst, i < len(sids)-1)
	}
	return dst
}

func (d *decoder) permissions() *Permissions {
	p := &Permissions{}
	g := &p.Global
	for _, f := range [...]*bool{&g.ManageServers, &g.ReadServers, &g.ManageUsers, &g.ReadUsers,
		&g.ManageStreams, &g.ReadStreams, &g.ManageTopics, &g.ReadTopics, &g.PollMessages, &g.SendMessages} {
		*f = d.bool8()
	}
	more := d.bool8()
	for more && d.err == nil {
		if p.Streams == nil {
			p.Streams = map[uint32]StreamPermissions{}
		}
		sid := d.u32()
		var s StreamPermissions
		for _, f := range [...]*bool{&s.ManageStream, &s.ReadStream, &s.ManageTopics, &s.ReadTopics, &s.PollMessages, &s.SendMessages} {
			*f = d.bool8()
		}
		tmore := d.bool8()
		for tmore && d.err == nil {
			if s.Topics == nil {
				s.Topics = map[uint32]TopicPermissions{}
			}
			tid := d.u32()
			var t TopicPermissions
			t.ManageTopic = d.bool8()
			t.ReadTopic = d.bool8()
			t.PollMessages = d.bool8()
			t.SendMessages = d.bool8()
			s.Topics[tid] = t
			tmore = d.bool8()
		}
		p.Streams[sid] = s
		more = d.bool8()
	}
	if d.err != nil {
		return nil
	}
	return p
}

// ParsePermissions decodes a permissions block that must fill b exactly.
func ParsePermissions(b []byte) (*Permissions, error) {
	d := decoder{b: b}
	p := d.permissions()
	if err := d.end(); err != nil {
		return nil, err
	}
	return p, nil
}

// appendOptPermissions appends has_permissions u8 and, when set,
// permissions_length u32 · permissions.
func appendOptPermissions(dst []byte, p *Permissions) []byte {
	if p == nil {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	lenAt := len(dst)
	dst = appendU32(dst, 0)
	dst = AppendPermissions(dst, p)
	putU32(dst[lenAt:], uint32(len(dst)-lenAt-4))
	return dst
}

func (d *decoder) optPermissions() *Permissions {
	if !d.bool8() {
		return nil
	}
	n := d.u32()
	if d.err != nil {
		return nil
	}
	if uint64(n) > uint64(d.remaining()) {
		d.fail(ErrInvalidCommand)
		return nil
	}
	sub := decoder{b: d.bytes(int(n))}
	p := sub.permissions()
	if err := sub.end(); err != nil {
		d.fail(ErrInvalidFormat)
		return nil
	}
	return p
}

// GetUser asks for one user with permissions.
type GetUser struct{ User Identifier }

func (r *GetUser) Command() Command { return CmdGetUser }
func (r *GetUser) AppendPayload(dst []byte) ([]byte, error) {
	return AppendIdentifier(dst, r.User)
}
func (r *GetUser) Decode(p []byte) error { return decodeID(p, &r.User) }

// DeleteUser deletes a user.
type DeleteUser struct{ User Identifier }

func (r *DeleteUser) Command() Command { return CmdDeleteUser }
func (r *DeleteUser) AppendPayload(dst []byte) ([]byte, error) {
	return AppendIdentifier(dst, r.User)
}
func (r *DeleteUser) Decode(p []byte) error { return decodeID(p, &r.User) }

// CreateUser creates a user: Name(username) · u8 password · status u8 ·
// optional permissions.
type CreateUser struct {
	Username    string
	Password    string
	Status      UserStatus
	Permissions *Permissions
}

func (r *CreateUser) Command() Command { return CmdCreateUser }

func (r *CreateUser) validate() error {
	if err := validUsername(r.Username); err != nil {
		return err
	}
	if err := validPassword(r.Password); err != nil {
		return err
	}
	return validStatus(r.Status)
}

func (r *CreateUser) AppendPayload(dst []byte) ([]byte, error) {
	if err := r.validate(); err != nil {
		return dst, err
	}
	dst = appendStr8(dst, r.Username)
	dst = appendStr8(dst, r.Password)
	dst = append(dst, byte(r.Status))
	return appendOptPermissions(dst, r.Permissions), nil
}

func (r *CreateUser) Decode(p []byte) error {
	d := decoder{b: p}
	r.Username = d.str8()
	r.Password = d.str8()
	r.Status = UserStatus(d.u8())
	r.Permissions = d.optPermissions()
	if d.err != nil {
		return d.err
	}
	return r.validate()
}

// UpdateUser changes a user's name and/or status: ID · has_username u8 ·
// [Name] · has_status u8 · [status u8]. Nil fields are left unchanged.
type UpdateUser struct {
	User     Identifier
	Username *string
	Status   *UserStatus
}

func (r *UpdateUser) Command() Command { return CmdUpdateUser }

func (r *UpdateUser) validate() error {
	if r.Username != nil {
		if err := validUsername(*r.Username); err != nil {
			return err
		}
	}
	if r.Status != nil {
		return validStatus(*r.Status)
	}
	return nil
}

func (r *UpdateUser) AppendPayload(dst []byte) ([]byte, error) {
	if err := r.validate(); err != nil {
		return dst, err
	}
	dst, err := AppendIdentifier(dst, r.User)
	if err != nil {
		return dst, err
	}
	if r.Username != nil {
		dst = appendStr8(append(dst, 1), *r.Username)
	} else {
		dst = append(dst, 0)
	}
	if r.Status != nil {
		dst = append(dst, 1, byte(*r.Status))
	} else {
		dst = append(dst, 0)
	}
	return dst, nil
}

func (r *UpdateUser) Decode(p []byte) error {
	d := decoder{b: p}
	r.User = d.identifier()
	r.Username, r.Status = nil, nil
	if d.bool8() {
		s := d.str8()
		r.Username = &s
	}
	if d.bool8() {
		s := UserStatus(d.u8())
		r.Status = &s
	}
	if d.err != nil {
		return d.err
	}
	return r.validate()
}

// UpdatePermissions replaces a user's permissions (nil clears them).
type UpdatePermissions struct {
	User        Identifier
	Permissions *Permissions
}

func (r *UpdatePermissions) Command() Command { return CmdUpdatePermissions }
func (r *UpdatePermissions) AppendPayload(dst []byte) ([]byte, error) {
	dst, err := AppendIdentifier(dst, r.User)
	if err != nil {
		return dst, err
	}
	return appendOptPermissions(dst, r.Permissions), nil
}
func (r *UpdatePermissions) Decode(p []byte) error {
	d := decoder{b: p}
	r.User = d.identifier()
	r.Permissions = d.optPermissions()
	return d.err
}

// ChangePassword sets a user's password: ID · u8 current · u8 new.
type ChangePassword struct {
	User            Identifier
	CurrentPassword string
	NewPassword     string
}

func (r *ChangePassword) Command() Command { return CmdChangePassword }

func (r *ChangePassword) validate() error {
	if err := validPassword(r.CurrentPassword); err != nil {
		return err
	}
	return validPassword(r.NewPassword)
}

func (r *ChangePassword) AppendPayload(dst []byte) ([]byte, error) {
	if err := r.validate(); err != nil {
		return dst, err
	}
	dst, err := AppendIdentifier(dst, r.User)
	if err != nil {
		return dst, err
	}
	dst = appendStr8(dst, r.CurrentPassword)
	return appendStr8(dst, r.NewPassword), nil
}

func (r *ChangePassword) Decode(p []byte) error {
	d := decoder{b: p}
	r.User = d.identifier()
	r.CurrentPassword = d.str8()
	r.NewPassword = d.str8()
	if d.err != nil {
		return d.err
	}
	return r.validate()
}

// LoginUser logs in with a username and password. Version and Context are
// free-form strings the server ignores.
type LoginUser struct {
	Username string
	Password string
	Version  string
	Context  string
}

func (r *LoginUser) Command() Command { return CmdLoginUser }

func (r *LoginUser) validate() error {
	if err := validUsername(r.Username); err != nil {
		return err
	}
	return validPassword(r.Password)
}

func (r *LoginUser) AppendPayload(dst []byte) ([]byte, error) {
	if err := r.validate(); err != nil {
		return dst, err
	}
	dst = appendStr8(dst, r.Username)
	dst = appendStr8(dst, r.Password)
	dst = appendStr32(dst, r.Version)
	return appendStr32(dst, r.Context), nil
}

func (r *LoginUser) Decode(p []byte) error {
	d := decoder{b: p}
	r.Username = d.name8()
	r.Password = d.str8()
	// Both lengths are always present (0 = absent), as Iggy 0.8 decodes.
	r.Version = d.str32()
	r.Context = d.str32()
	if d.err != nil {
		return d.err
	}
	return r.validate()
}

// LoginWithAccessToken logs in with a personal access token.
type LoginWithAccessToken struct{ Token string }

func (r *LoginWithAccessToken) Command() Command { return CmdLoginWithAccessToken }
func (r *LoginWithAccessToken) AppendPayload(dst []byte) ([]byte, error) {
	if err := validName(r.Token, ErrInvalidPersonalAccessToken); err != nil {
		return dst, err
	}
	return appendStr8(dst, r.Token), nil
}
func (r *LoginWithAccessToken) Decode(p []byte) error {
	d := decoder{b: p}
	r.Token = d.name8()
	return d.err
}

func validPATName(s string) error {
	if len(s) < 3 || len(s) > MaxPATNameLength || validName(s, ErrInvalidPersonalAccessTokenName) != nil {
		return ErrInvalidPersonalAccessTokenName
	}
	return nil
}

// CreateAccessToken creates a personal access token: Name · expiry u64 (µs
// of lifetime; ServerDefault or Unlimited for none).
type CreateAccessToken struct {
	Name   string
	Expiry uint64
}

func (r *CreateAccessToken) Command() Command { return CmdCreateAccessToken }
func (r *CreateAccessToken) AppendPayload(dst []byte) ([]byte, error) {
	if err := validPATName(r.Name); err != nil {
		return dst, err
	}
	return appendU64(appendStr8(dst, r.Name), r.Expiry), nil
}
func (r *CreateAccessToken) Decode(p []byte) error {
	d := decoder{b: p}
	r.Name = d.str8()
	r.Expiry = d.u64()
	if d.err != nil {
		return d.err
	}
	return validPATName(r.Name)
}

// DeleteAccessToken deletes the named personal access token.
type DeleteAccessToken struct{ Name string }

func (r *DeleteAccessToken) Command() Command { return CmdDeleteAccessToken }
func (r *DeleteAccessToken) AppendPayload(dst []byte) ([]byte, error) {
	if err := validPATName(r.Name); err != nil {
		return dst, err
	}
	return appendStr8(dst, r.Name), nil
}
func (r *DeleteAccessToken) Decode(p []byte) error {
	d := decoder{b: p}
	r.Name = d.str8()
	if d.err != nil {
		return d.err
	}
	return validPATName(r.Name)
}

// Responses.

// UserInfo is one entry of GetUsers: id u32 · created_at u64 · status u8 ·
// Name(username).
type UserInfo struct {
	ID        uint32
	CreatedAt uint64
	Status    UserStatus
	Username  string
}

// AppendTo appends the encoding of u.
func (u *UserInfo) AppendTo(dst []byte) []byte {
	dst = appendU32(dst, u.ID)
	dst = appendU64(dst, u.CreatedAt)
	dst = append(dst, byte(u.Status))
	return appendName(dst, u.Username)
}

func (d *decoder) userInfo() UserInfo {
	var u UserInfo
	u.ID = d.u32()
	u.CreatedAt = d.u64()
	u.Status = UserStatus(d.u8())
	u.Username = d.str8()
	if d.err == nil && validStatus(u.Status) != nil {
		d.fail(ErrInvalidUserStatus)
	}
	return u
}

// ParseUsers decodes a GetUsers response.
func ParseUsers(b []byte) ([]UserInfo, error) { return parseList(b, (*decoder).userInfo) }

// UserDetails is the GetUser and CreateUser response: UserInfo then
// has_permissions u8 and, when set, permissions_length u32 · permissions.
// Iggy writes four zero bytes when a user has no permissions; both forms are
// read, and AppendTo writes Iggy's.
type UserDetails struct {
	UserInfo
	Permissions *Permissions
}

// AppendTo appends the encoding of u.
func (u *UserDetails) AppendTo(dst []byte) []byte {
	dst = u.UserInfo.AppendTo(dst)
	if u.Permissions == nil {
		return appendU32(dst, 0)
	}
	return appendOptPermissions(dst, u.Permissions)
}

// ParseUserDetails decodes a GetUser or CreateUser response.
func ParseUserDetails(b []byte) (UserDetails, error) {
	d := decoder{b: b}
	u := UserDetails{UserInfo: d.userInfo()}
	if d.err != nil {
		return UserDetails{}, d.err
	}
	if d.remaining() == 0 {
		return u, nil
	}
	if d.b[d.off] == 0 {
		return u, nil // no permissions; Iggy pads with zero bytes
	}
	u.Permissions = d.optPermissions()
	if err := d.end(); err != nil {
		return UserDetails{}, err
	}
	return u, nil
}

// Identity is the login response: the user's id.
type Identity struct{ UserID uint32 }

// AppendTo appends the encoding of i.
func (i *Identity) AppendTo(dst []byte) []byte { return appendU32(dst, i.UserID) }

// ParseIdentity decodes a login response.
func ParseIdentity(b []byte) (Identity, error) {
	d := decoder{b: b}
	id := Identity{UserID: d.u32()}
	return id, d.err
}

// RawAccessToken is the CreateAccessToken response: the token, shown once.
type RawAccessToken struct{ Token string }

// AppendTo appends the encoding of t.
func (t *RawAccessToken) AppendTo(dst []byte) []byte { return appendName(dst, t.Token) }

// ParseRawAccessToken decodes a CreateAccessToken response.
func ParseRawAccessToken(b []byte) (RawAccessToken, error) {
	d := decoder{b: b}
	t := RawAccessToken{Token: d.str8()}
	return t, d.err
}

// AccessTokenInfo is one GetAccessTokens entry: Name · expiry_at u64 (µs
// since the epoch; 0 = never expires).
type AccessTokenInfo struct {
	Name     string
	ExpiryAt uint64
}

// AppendTo appends the encoding of t.
func (t *AccessTokenInfo) AppendTo(dst []byte) []byte {
	return appendU64(appendName(dst, t.Name), t.ExpiryAt)
}

// ParseAccessTokens decodes a GetAccessTokens response.
func ParseAccessTokens(b []byte) ([]AccessTokenInfo, error) {
	return parseList(b, func(d *decoder) AccessTokenInfo {
		return AccessTokenInfo{Name: d.str8(), ExpiryAt: d.u64()}
	})
}
