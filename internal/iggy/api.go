package iggy

import (
	"context"
	"errors"
	"fmt"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// Identifier helpers, re-exported so callers rarely need package wire.
var (
	ID   = wire.NumericID
	Name = wire.StringID
)

func emptyOr[T any](p []byte, parse func([]byte) (T, error), out *T, found *bool) error {
	if len(p) == 0 {
		*found = false
		return nil
	}
	v, err := parse(p)
	if err != nil {
		return err
	}
	*out, *found = v, true
	return nil
}

// System.

// pingFrame is the constant Ping request (read-only).
var pingFrame = wire.AppendRequest(nil, wire.CmdPing, nil)

// Ping checks the connection (no login needed).
func (c *Client) Ping(ctx context.Context) error {
	if err := c.lock(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	_, err := c.roundTripLocked(ctx, wire.CmdPing, pingFrame, &c.rbuf, true)
	c.unlock()
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// Stats returns the server's statistics.
func (c *Client) Stats(ctx context.Context) (s wire.Stats, err error) {
	err = c.do(ctx, &wire.Empty{Cmd: wire.CmdGetStats}, func(p []byte) (e error) { s, e = wire.ParseStats(p); return })
	if err != nil {
		return s, fmt.Errorf("get stats: %w", err)
	}
	return s, nil
}

// ClusterMetadata returns the cluster's nodes.
func (c *Client) ClusterMetadata(ctx context.Context) (m wire.ClusterMetadata, err error) {
	err = c.do(ctx, &wire.Empty{Cmd: wire.CmdGetClusterMetadata}, func(p []byte) (e error) { m, e = wire.ParseClusterMetadata(p); return })
	if err != nil {
		return m, fmt.Errorf("get cluster metadata: %w", err)
	}
	return m, nil
}

// Me returns this session as the server sees it.
func (c *Client) Me(ctx context.Context) (d wire.ClientDetails, err error) {
	err = c.do(ctx, &wire.Empty{Cmd: wire.CmdGetMe}, func(p []byte) (e error) { d, e = wire.ParseClientDetails(p); return })
	if err != nil {
		return d, fmt.Errorf("get me: %w", err)
	}
	return d, nil
}

// ClientInfo returns one session; found is false when there is none.
func (c *Client) ClientInfo(ctx context.Context, id uint32) (d wire.ClientDetails, found bool, err error) {
	err = c.do(ctx, &wire.GetClient{ClientID: id}, func(p []byte) error { return emptyOr(p, wire.ParseClientDetails, &d, &found) })
	if err != nil {
		return d, false, fmt.Errorf("get client %d: %w", id, err)
	}
	return d, found, nil
}

// Clients lists the server's sessions.
func (c *Client) Clients(ctx context.Context) (l []wire.ClientInfo, err error) {
	err = c.do(ctx, &wire.Empty{Cmd: wire.CmdGetClients}, func(p []byte) (e error) { l, e = wire.ParseClients(p); return })
	if err != nil {
		return nil, fmt.Errorf("get clients: %w", err)
	}
	return l, nil
}

// Sessions.

// Login logs in with a username and password; the credentials are kept
// and used again after a reconnect.
func (c *Client) Login(ctx context.Context, username, password string) (uint32, error) {
	if err := c.lock(ctx); err != nil {
		return 0, err
	}
	defer c.unlock()
	prev := c.creds
	c.creds = credentials{username: username, password: password}
	if err := c.loginOnLocked(ctx); err != nil {
		c.creds = prev
		return 0, fmt.Errorf("login %q: %w", username, err)
	}
	return c.userID, nil
}

// LoginWithToken logs in with a personal access token, kept for reconnects.
func (c *Client) LoginWithToken(ctx context.Context, token string) (uint32, error) {
	if err := c.lock(ctx); err != nil {
		return 0, err
	}
	defer c.unlock()
	prev := c.creds
	c.creds = credentials{token: token}
	if err := c.loginOnLocked(ctx); err != nil {
		c.creds = prev
		return 0, fmt.Errorf("login with personal access token: %w", err)
	}
	return c.userID, nil
}

// loginOnLocked logs in with c.creds, connecting first if needed.
func (c *Client) loginOnLocked(ctx context.Context) error {
	var req wire.Request
	if c.creds.token != "" {
		req = &wire.LoginWithAccessToken{Token: c.creds.token}
	} else {
		req = &wire.LoginUser{Username: c.creds.username, Password: c.creds.password, Version: Version}
	}
	var err error
	if c.wbuf, err = wire.AppendRequestFrame(c.wbuf[:0], req); err != nil {
		return err
	}
	p, err := c.roundTripLocked(ctx, req.Command(), c.wbuf, &c.rbuf, true)
	if err != nil {
		return err
	}
	id, err := wire.ParseIdentity(p)
	if err != nil {
		return err
	}
	c.userID, c.loggedIn = id.UserID, true
	return nil
}

// Logout ends the session's login and forgets the credentials, so a
// reconnect stays anonymous.
func (c *Client) Logout(ctx context.Context) error {
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.unlock()
	var err error
	c.wbuf, _ = wire.AppendRequestFrame(c.wbuf[:0], &wire.Empty{Cmd: wire.CmdLogoutUser})
	if _, err = c.roundTripLocked(ctx, wire.CmdLogoutUser, c.wbuf, &c.rbuf, true); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	c.creds = credentials{}
	c.loggedIn = false
	c.groups = nil
	return nil
}

// Users.

// User returns a user with permissions; found is false when there is none.
func (c *Client) User(ctx context.Context, user wire.Identifier) (u wire.UserDetails, found bool, err error) {
	err = c.do(ctx, &wire.GetUser{User: user}, func(p []byte) error { return emptyOr(p, wire.ParseUserDetails, &u, &found) })
	if err != nil {
		return u, false, fmt.Errorf("get user %v: %w", user, err)
	}
	return u, found, nil
}

// Users lists the users.
func (c *Client) Users(ctx context.Context) (l []wire.UserInfo, err error) {
	err = c.do(ctx, &wire.Empty{Cmd: wire.CmdGetUsers}, func(p []byte) (e error) { l, e = wire.ParseUsers(p); return })
	if err != nil {
		return nil, fmt.Errorf("get users: %w", err)
	}
	return l, nil
}

// CreateUser creates a user and returns it.
func (c *Client) CreateUser(ctx context.Context, r wire.CreateUser) (u wire.UserDetails, err error) {
	err = c.do(ctx, &r, func(p []byte) (e error) { u, e = wire.ParseUserDetails(p); return })
	if err != nil {
		return u, fmt.Errorf("create user %q: %w", r.Username, err)
	}
	return u, nil
}

// DeleteUser deletes a user.
func (c *Client) DeleteUser(ctx context.Context, user wire.Identifier) error {
	if err := c.do(ctx, &wire.DeleteUser{User: user}, nil); err != nil {
		return fmt.Errorf("delete user %v: %w", user, err)
	}
	return nil
}

// UpdateUser renames a user and/or changes its status (nil = unchanged).
func (c *Client) UpdateUser(ctx context.Context, user wire.Identifier, username *string, status *wire.UserStatus) error {
	if err := c.do(ctx, &wire.UpdateUser{User: user, Username: username, Status: status}, nil); err != nil {
		return fmt.Errorf("update user %v: %w", user, err)
	}
	return nil
}

// UpdatePermissions replaces a user's permissions.
func (c *Client) UpdatePermissions(ctx context.Context, user wire.Identifier, p *wire.Permissions) error {
	if err := c.do(ctx, &wire.UpdatePermissions{User: user, Permissions: p}, nil); err != nil {
		return fmt.Errorf("update permissions of user %v: %w", user, err)
	}
	return nil
}

// ChangePassword changes a user's password.
func (c *Client) ChangePassword(ctx context.Context, user wire.Identifier, current, next string) error {
	if err := c.do(ctx, &wire.ChangePassword{User: user, CurrentPassword: current, NewPassword: next}, nil); err != nil {
		return fmt.Errorf("change password of user %v: %w", user, err)
	}
	return nil
}

// Personal access tokens.

// CreateAccessToken creates a token for the logged-in user and returns its
// secret (shown only once). expiry is a lifetime in µs, or
// wire.ServerDefault / wire.Unlimited.
func (c *Client) CreateAccessToken(ctx context.Context, name string, expiry uint64) (token string, err error) {
	err = c.do(ctx, &wire.CreateAccessToken{Name: name, Expiry: expiry}, func(p []byte) error {
		t, e := wire.ParseRawAccessToken(p)
		token = t.Token
		return e
	})
	if err != nil {
		return "", fmt.Errorf("create personal access token %q: %w", name, err)
	}
	return token, nil
}

// AccessTokens lists the logged-in user's tokens.
func (c *Client) AccessTokens(ctx context.Context) (l []wire.AccessTokenInfo, err error) {
	err = c.do(ctx, &wire.Empty{Cmd: wire.CmdGetAccessTokens}, func(p []byte) (e error) { l, e = wire.ParseAccessTokens(p); return })
	if err != nil {
		return nil, fmt.Errorf("get personal access tokens: %w", err)
	}
	return l, nil
}

// DeleteAccessToken deletes a token by name.
func (c *Client) DeleteAccessToken(ctx context.Context, name string) error {
	if err := c.do(ctx, &wire.DeleteAccessToken{Name: name}, nil); err != nil {
		return fmt.Errorf("delete personal access token %q: %w", name, err)
	}
	return nil
}

// Streams.

// CreateStream creates a stream.
func (c *Client) CreateStream(ctx context.Context, name string) (s wire.Stream, err error) {
	err = c.do(ctx, &wire.CreateStream{Name: name}, func(p []byte) (e error) { s, e = wire.ParseStream(p); return })
	if err != nil {
		return s, fmt.Errorf("create stream %q: %w", name, err)
	}
	return s, nil
}

// Stream returns a stream and its topics; found is false when there is none.
func (c *Client) Stream(ctx context.Context, stream wire.Identifier) (s wire.StreamDetails, found bool, err error) {
	err = c.do(ctx, &wire.GetStream{Stream: stream}, func(p []byte) error { return emptyOr(p, wire.ParseStreamDetails, &s, &found) })
	if err != nil {
		return s, false, fmt.Errorf("get stream %v: %w", stream, err)
	}
	return s, found, nil
}

// Streams lists the streams.
func (c *Client) Streams(ctx context.Context) (l []wire.Stream, err error) {
	err = c.do(ctx, &wire.Empty{Cmd: wire.CmdGetStreams}, func(p []byte) (e error) { l, e = wire.ParseStreams(p); return })
	if err != nil {
		return nil, fmt.Errorf("get streams: %w", err)
	}
	return l, nil
}

// UpdateStream renames a stream.
func (c *Client) UpdateStream(ctx context.Context, stream wire.Identifier, name string) error {
	if err := c.do(ctx, &wire.UpdateStream{Stream: stream, Name: name}, nil); err != nil {
		return fmt.Errorf("update stream %v: %w", stream, err)
	}
	return nil
}

// DeleteStream deletes a stream with its topics and messages.
func (c *Client) DeleteStream(ctx context.Context, stream wire.Identifier) error {
	if err := c.do(ctx, &wire.DeleteStream{Stream: stream}, nil); err != nil {
		return fmt.Errorf("delete stream %v: %w", stream, err)
	}
	return nil
}

// PurgeStream deletes a stream's messages.
func (c *Client) PurgeStream(ctx context.Context, stream wire.Identifier) error {
	if err := c.do(ctx, &wire.PurgeStream{Stream: stream}, nil); err != nil {
		return fmt.Errorf("purge stream %v: %w", stream, err)
	}
	return nil
}

// EnsureStream returns the stream named name, creating it if missing.
// created reports whether this call created it. A concurrent creator is
// handled: NameAlreadyExists leads to a get.
func (c *Client) EnsureStream(ctx context.Context, name string) (s wire.Stream, created bool, err error) {
	d, found, err := c.Stream(ctx, wire.StringID(name))
	if err != nil {
		return s, false, fmt.Errorf("ensure stream %q: %w", name, err)
	}
	if found {
		return d.Stream, false, nil
	}
	s, err = c.CreateStream(ctx, name)
	if err == nil {
		return s, true, nil
	}
	if !errors.Is(err, wire.ErrStreamNameAlreadyExists) {
		return s, false, fmt.Errorf("ensure stream: %w", err)
	}
	d, found, err = c.Stream(ctx, wire.StringID(name))
	if err != nil {
		return s, false, fmt.Errorf("ensure stream %q: %w", name, err)
	}
	if !found {
		return s, false, fmt.Errorf("ensure stream %q: exists but cannot be read", name)
	}
	return d.Stream, false, nil
}

// Topics.

// TopicConfig describes a topic to create or update. Zero values mean:
// no compression, server-default expiry and size, no replication.
type TopicConfig struct {
	Name              string
	Partitions        uint32
	Compression       uint8  // wire.CompressionNone (default) or wire.CompressionGzip
	MessageExpiry     uint64 // µs; wire.ServerDefault or wire.Unlimited
	MaxTopicSize      uint64 // bytes; wire.ServerDefault or wire.Unlimited
	ReplicationFactor uint8
}

func (t TopicConfig) compression() uint8 {
	if t.Compression == 0 {
		return wire.CompressionNone
	}
	return t.Compression
}

// CreateTopic creates a topic in stream.
func (c *Client) CreateTopic(ctx context.Context, stream wire.Identifier, t TopicConfig) (d wire.TopicDetails, err error) {
	req := wire.CreateTopic{Stream: stream, PartitionsCount: t.Partitions, CompressionAlgorithm: t.compression(),
		MessageExpiry: t.MessageExpiry, MaxTopicSize: t.MaxTopicSize, ReplicationFactor: t.ReplicationFactor, Name: t.Name}
	err = c.do(ctx, &req, func(p []byte) (e error) { d, e = wire.ParseTopicDetails(p); return })
	if err != nil {
		return d, fmt.Errorf("create topic %q in stream %v: %w", t.Name, stream, err)
	}
	return d, nil
}

// Topic returns a topic and its partitions; found is false when the topic
// (or its stream) does not exist.
func (c *Client) Topic(ctx context.Context, stream, topic wire.Identifier) (d wire.TopicDetails, found bool, err error) {
	err = c.do(ctx, &wire.GetTopic{TopicRef: wire.TopicRef{Stream: stream, Topic: topic}},
		func(p []byte) error { return emptyOr(p, wire.ParseTopicDetails, &d, &found) })
	if err != nil {
		return d, false, fmt.Errorf("get topic %v/%v: %w", stream, topic, err)
	}
	return d, found, nil
}

// Topics lists a stream's topics.
func (c *Client) Topics(ctx context.Context, stream wire.Identifier) (l []wire.Topic, err error) {
	err = c.do(ctx, &wire.GetTopics{Stream: stream}, func(p []byte) (e error) { l, e = wire.ParseTopics(p); return })
	if err != nil {
		return nil, fmt.Errorf("get topics of stream %v: %w", stream, err)
	}
	return l, nil
}

// UpdateTopic changes a topic's name and settings (Partitions is ignored).
func (c *Client) UpdateTopic(ctx context.Context, stream, topic wire.Identifier, t TopicConfig) error {
	req := wire.UpdateTopic{TopicRef: wire.TopicRef{Stream: stream, Topic: topic}, CompressionAlgorithm: t.compression(),
		MessageExpiry: t.MessageExpiry, MaxTopicSize: t.MaxTopicSize, ReplicationFactor: t.ReplicationFactor, Name: t.Name}
	if err := c.do(ctx, &req, nil); err != nil {
		return fmt.Errorf("update topic %v/%v: %w", stream, topic, err)
	}
	return nil
}

// DeleteTopic deletes a topic.
func (c *Client) DeleteTopic(ctx context.Context, stream, topic wire.Identifier) error {
	if err := c.do(ctx, &wire.DeleteTopic{TopicRef: wire.TopicRef{Stream: stream, Topic: topic}}, nil); err != nil {
		return fmt.Errorf("delete topic %v/%v: %w", stream, topic, err)
	}
	return nil
}

// PurgeTopic deletes a topic's messages.
func (c *Client) PurgeTopic(ctx context.Context, stream, topic wire.Identifier) error {
	if err := c.do(ctx, &wire.PurgeTopic{TopicRef: wire.TopicRef{Stream: stream, Topic: topic}}, nil); err != nil {
		return fmt.Errorf("purge topic %v/%v: %w", stream, topic, err)
	}
	return nil
}

// EnsureTopic returns the topic t.Name of stream, creating it with t if
// missing; created reports whether this call created it. An existing topic
// is returned as it is, even if its settings differ from t.
func (c *Client) EnsureTopic(ctx context.Context, stream wire.Identifier, t TopicConfig) (d wire.TopicDetails, created bool, err error) {
	d, found, err := c.Topic(ctx, stream, wire.StringID(t.Name))
	if err != nil {
		return d, false, fmt.Errorf("ensure topic: %w", err)
	}
	if found {
		return d, false, nil
	}
	d, err = c.CreateTopic(ctx, stream, t)
	if err == nil {
		return d, true, nil
	}
	if !errors.Is(err, wire.ErrTopicNameAlreadyExists) {
		return d, false, fmt.Errorf("ensure topic: %w", err)
	}
	d, found, err = c.Topic(ctx, stream, wire.StringID(t.Name))
	if err != nil {
		return d, false, fmt.Errorf("ensure topic: %w", err)
	}
	if !found {
		return d, false, fmt.Errorf("ensure topic %q in stream %v: exists but cannot be read", t.Name, stream)
	}
	return d, false, nil
}

// Partitions and segments.

// CreatePartitions adds n partitions to a topic.
func (c *Client) CreatePartitions(ctx context.Context, stream, topic wire.Identifier, n uint32) error {
	if err := c.do(ctx, &wire.CreatePartitions{TopicRef: wire.TopicRef{Stream: stream, Topic: topic}, PartitionsCount: n}, nil); err != nil {
		return fmt.Errorf("create %d partitions in %v/%v: %w", n, stream, topic, err)
	}
	return nil
}

// DeletePartitions removes the last n partitions of a topic.
func (c *Client) DeletePartitions(ctx context.Context, stream, topic wire.Identifier, n uint32) error {
	if err := c.do(ctx, &wire.DeletePartitions{TopicRef: wire.TopicRef{Stream: stream, Topic: topic}, PartitionsCount: n}, nil); err != nil {
		return fmt.Errorf("delete %d partitions of %v/%v: %w", n, stream, topic, err)
	}
	return nil
}

// DeleteSegments deletes the oldest n segments of a partition.
func (c *Client) DeleteSegments(ctx context.Context, stream, topic wire.Identifier, partition, n uint32) error {
	req := wire.DeleteSegments{TopicRef: wire.TopicRef{Stream: stream, Topic: topic}, PartitionID: partition, SegmentsCount: n}
	if err := c.do(ctx, &req, nil); err != nil {
		return fmt.Errorf("delete %d segments of %v/%v partition %d: %w", n, stream, topic, partition, err)
	}
	return nil
}

// Flush writes a partition's buffered messages to disk (fsync if asked).
func (c *Client) Flush(ctx context.Context, stream, topic wire.Identifier, partition uint32, fsync bool) error {
	req := wire.FlushUnsavedBuffer{TopicRef: wire.TopicRef{Stream: stream, Topic: topic}, PartitionID: partition, Fsync: fsync}
	if err := c.do(ctx, &req, nil); err != nil {
		return fmt.Errorf("flush %v/%v partition %d: %w", stream, topic, partition, err)
	}
	return nil
}

// Consumer offsets.

// StoreOffset stores offset as consumer's position on a partition
// (wire.OptionalPartition{} lets the server pick, as for polls).
func (c *Client) StoreOffset(ctx context.Context, consumer wire.Consumer, stream, topic wire.Identifier, partition wire.OptionalPartition, offset uint64) error {
	req := wire.StoreConsumerOffset{ConsumerOffsetRef: wire.ConsumerOffsetRef{Consumer: consumer,
		TopicRef: wire.TopicRef{Stream: stream, Topic: topic}, Partition: partition}, Offset: offset}
	if err := c.do(ctx, &req, nil); err != nil {
		return fmt.Errorf("store offset %d for consumer %v on %v/%v: %w", offset, consumer.ID, stream, topic, err)
	}
	return nil
}

// Offset returns consumer's stored offset; found is false when none is
// stored.
func (c *Client) Offset(ctx context.Context, consumer wire.Consumer, stream, topic wire.Identifier, partition wire.OptionalPartition) (o wire.ConsumerOffset, found bool, err error) {
	req := wire.GetConsumerOffset{ConsumerOffsetRef: wire.ConsumerOffsetRef{Consumer: consumer,
		TopicRef: wire.TopicRef{Stream: stream, Topic: topic}, Partition: partition}}
	err = c.do(ctx, &req, func(p []byte) error { return emptyOr(p, wire.ParseConsumerOffset, &o, &found) })
	if err != nil {
		return o, false, fmt.Errorf("get offset of consumer %v on %v/%v: %w", consumer.ID, stream, topic, err)
	}
	return o, found, nil
}

// DeleteOffset forgets consumer's stored offset.
func (c *Client) DeleteOffset(ctx context.Context, consumer wire.Consumer, stream, topic wire.Identifier, partition wire.OptionalPartition) error {
	req := wire.DeleteConsumerOffset{ConsumerOffsetRef: wire.ConsumerOffsetRef{Consumer: consumer,
		TopicRef: wire.TopicRef{Stream: stream, Topic: topic}, Partition: partition}}
	if err := c.do(ctx, &req, nil); err != nil {
		return fmt.Errorf("delete offset of consumer %v on %v/%v: %w", consumer.ID, stream, topic, err)
	}
	return nil
}

// Consumer groups.

func groupRef(stream, topic, group wire.Identifier) wire.GroupRef {
	return wire.GroupRef{TopicRef: wire.TopicRef{Stream: stream, Topic: topic}, Group: group}
}

// CreateGroup creates a consumer group on a topic.
func (c *Client) CreateGroup(ctx context.Context, stream, topic wire.Identifier, name string) (g wire.ConsumerGroupDetails, err error) {
	req := wire.CreateConsumerGroup{TopicRef: wire.TopicRef{Stream: stream, Topic: topic}, Name: name}
	err = c.do(ctx, &req, func(p []byte) (e error) { g, e = wire.ParseConsumerGroupDetails(p); return })
	if err != nil {
		return g, fmt.Errorf("create consumer group %q on %v/%v: %w", name, stream, topic, err)
	}
	return g, nil
}

// Group returns a group and its members; found is false when there is none.
func (c *Client) Group(ctx context.Context, stream, topic, group wire.Identifier) (g wire.ConsumerGroupDetails, found bool, err error) {
	err = c.do(ctx, &wire.GetConsumerGroup{GroupRef: groupRef(stream, topic, group)},
		func(p []byte) error { return emptyOr(p, wire.ParseConsumerGroupDetails, &g, &found) })
	if err != nil {
		return g, false, fmt.Errorf("get consumer group %v of %v/%v: %w", group, stream, topic, err)
	}
	return g, found, nil
}

// Groups lists a topic's consumer groups.
func (c *Client) Groups(ctx context.Context, stream, topic wire.Identifier) (l []wire.ConsumerGroupInfo, err error) {
	err = c.do(ctx, &wire.GetConsumerGroups{TopicRef: wire.TopicRef{Stream: stream, Topic: topic}},
		func(p []byte) (e error) { l, e = wire.ParseConsumerGroups(p); return })
	if err != nil {
		return nil, fmt.Errorf("get consumer groups of %v/%v: %w", stream, topic, err)
	}
	return l, nil
}

// DeleteGroup deletes a consumer group.
func (c *Client) DeleteGroup(ctx context.Context, stream, topic, group wire.Identifier) error {
	if err := c.do(ctx, &wire.DeleteConsumerGroup{GroupRef: groupRef(stream, topic, group)}, nil); err != nil {
		return fmt.Errorf("delete consumer group %v of %v/%v: %w", group, stream, topic, err)
	}
	return nil
}

// JoinGroup makes this session a member of a group. Membership is part of
// the session, so the client joins again after a reconnect.
func (c *Client) JoinGroup(ctx context.Context, stream, topic, group wire.Identifier) error {
	ref := groupRef(stream, topic, group)
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.unlock()
	c.wbuf, _ = wire.AppendRequestFrame(c.wbuf[:0], &wire.JoinConsumerGroup{GroupRef: ref})
	// Retrying is right: membership belongs to the session, so after a
	// reconnect the new session must join anyway.
	if _, err := c.roundTripLocked(ctx, wire.CmdJoinConsumerGroup, c.wbuf, &c.rbuf, true); err != nil {
		return fmt.Errorf("join consumer group %v of %v/%v: %w", group, stream, topic, err)
	}
	for _, g := range c.groups {
		if g == ref {
			return nil
		}
	}
	c.groups = append(c.groups, ref)
	return nil
}

// LeaveGroup leaves a group (and stops rejoining it on reconnect).
func (c *Client) LeaveGroup(ctx context.Context, stream, topic, group wire.Identifier) error {
	ref := groupRef(stream, topic, group)
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.unlock()
	for i, g := range c.groups {
		if g == ref {
			c.groups = append(c.groups[:i], c.groups[i+1:]...)
			break
		}
	}
	c.wbuf, _ = wire.AppendRequestFrame(c.wbuf[:0], &wire.LeaveConsumerGroup{GroupRef: ref})
	connects := c.connects.Load()
	if _, err := c.roundTripLocked(ctx, wire.CmdLeaveConsumerGroup, c.wbuf, &c.rbuf, false); err != nil {
		if errors.Is(err, ErrOutcomeUnknown) {
			// The session that was a member is gone, and the new one is
			// not: either way the client has left.
			return nil
		}
		if errors.Is(err, wire.ErrConsumerGroupMemberNotFound) && c.connects.Load() != connects {
			// The connection was replaced before the request went out
			// (the group was not rejoined on the new one): the member
			// session is gone, so the client has left.
			return nil
		}
		return fmt.Errorf("leave consumer group %v of %v/%v: %w", group, stream, topic, err)
	}
	return nil
}
