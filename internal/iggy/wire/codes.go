package wire

import "strconv"

// Command is a classic-protocol command code (core/binary_protocol/src/codes.rs @0.8.0).
type Command uint32

// Command codes.
const (
	CmdPing                 Command = 1
	CmdGetStats             Command = 10
	CmdGetSnapshotFile      Command = 11
	CmdGetClusterMetadata   Command = 12
	CmdGetMe                Command = 20
	CmdGetClient            Command = 21
	CmdGetClients           Command = 22
	CmdGetUser              Command = 31
	CmdGetUsers             Command = 32
	CmdCreateUser           Command = 33
	CmdDeleteUser           Command = 34
	CmdUpdateUser           Command = 35
	CmdUpdatePermissions    Command = 36
	CmdChangePassword       Command = 37
	CmdLoginUser            Command = 38
	CmdLogoutUser           Command = 39
	CmdGetAccessTokens      Command = 41
	CmdCreateAccessToken    Command = 42
	CmdDeleteAccessToken    Command = 43
	CmdLoginWithAccessToken Command = 44
	CmdPollMessages         Command = 100
	CmdSendMessages         Command = 101
	CmdFlushUnsavedBuffer   Command = 102
	CmdGetConsumerOffset    Command = 120
	CmdStoreConsumerOffset  Command = 121
	CmdDeleteConsumerOffset Command = 122
	CmdGetStream            Command = 200
	CmdGetStreams           Command = 201
	CmdCreateStream         Command = 202
	CmdDeleteStream         Command = 203
	CmdUpdateStream         Command = 204
	CmdPurgeStream          Command = 205
	CmdGetTopic             Command = 300
	CmdGetTopics            Command = 301
	CmdCreateTopic          Command = 302
	CmdDeleteTopic          Command = 303
	CmdUpdateTopic          Command = 304
	CmdPurgeTopic           Command = 305
	CmdCreatePartitions     Command = 402
	CmdDeletePartitions     Command = 403
	CmdDeleteSegments       Command = 503
	CmdGetConsumerGroup     Command = 600
	CmdGetConsumerGroups    Command = 601
	CmdCreateConsumerGroup  Command = 602
	CmdDeleteConsumerGroup  Command = 603
	CmdJoinConsumerGroup    Command = 604
	CmdLeaveConsumerGroup   Command = 605
)

var commandNames = map[Command]string{
	CmdPing: "ping", CmdGetStats: "stats", CmdGetSnapshotFile: "snapshot",
	CmdGetClusterMetadata: "cluster.metadata", CmdGetMe: "me", CmdGetClient: "client.get",
	CmdGetClients: "client.list", CmdGetUser: "user.get", CmdGetUsers: "user.list",
	CmdCreateUser: "user.create", CmdDeleteUser: "user.delete", CmdUpdateUser: "user.update",
	CmdUpdatePermissions: "user.permissions", CmdChangePassword: "user.password",
	CmdLoginUser: "user.login", CmdLogoutUser: "user.logout",
	CmdGetAccessTokens: "personal_access_token.list", CmdCreateAccessToken: "personal_access_token.create",
	CmdDeleteAccessToken: "personal_access_token.delete", CmdLoginWithAccessToken: "personal_access_token.login",
	CmdPollMessages: "message.poll", CmdSendMessages: "message.send", CmdFlushUnsavedBuffer: "message.flush_unsaved_buffer",
	CmdGetConsumerOffset: "consumer_offset.get", CmdStoreConsumerOffset: "consumer_offset.store",
	CmdDeleteConsumerOffset: "consumer_offset.delete", CmdGetStream: "stream.get", CmdGetStreams: "stream.list",
	CmdCreateStream: "stream.create", CmdDeleteStream: "stream.delete", CmdUpdateStream: "stream.update",
	CmdPurgeStream: "stream.purge", CmdGetTopic: "topic.get", CmdGetTopics: "topic.list",
	CmdCreateTopic: "topic.create", CmdDeleteTopic: "topic.delete", CmdUpdateTopic: "topic.update",
	CmdPurgeTopic: "topic.purge", CmdCreatePartitions: "partition.create", CmdDeletePartitions: "partition.delete",
	CmdDeleteSegments: "segment.delete", CmdGetConsumerGroup: "consumer_group.get",
	CmdGetConsumerGroups: "consumer_group.list", CmdCreateConsumerGroup: "consumer_group.create",
	CmdDeleteConsumerGroup: "consumer_group.delete", CmdJoinConsumerGroup: "consumer_group.join",
	CmdLeaveConsumerGroup: "consumer_group.leave",
}

// String returns Iggy's dotted command name ("stream.create"), or the number.
func (c Command) String() string {
	if n, ok := commandNames[c]; ok {
		return n
	}
	return "command(" + strconv.FormatUint(uint64(c), 10) + ")"
}

// Known reports whether c is a command of the classic protocol.
func (c Command) Known() bool {
	_, ok := commandNames[c]
	return ok
}

// RequiresAuth reports whether the server demands a logged-in session before
// it runs c. Only ping and the two logins are allowed anonymously.
func (c Command) RequiresAuth() bool {
	return c != CmdPing && c != CmdLoginUser && c != CmdLoginWithAccessToken
}

// Idempotent reports whether sending c twice has the same effect as sending
// it once, so a client may retry it after a lost connection. Reads, logins,
// offset stores and flushes are; creates, deletes, updates, sends, joins and
// the like are not, because a retry after a lost reply may meet the first
// attempt's effect (a second send duplicates messages; renaming a stream to
// the name it already has fails with NameAlreadyExists).
func (c Command) Idempotent() bool {
	switch c {
	case CmdPing, CmdGetStats, CmdGetClusterMetadata, CmdGetMe, CmdGetClient, CmdGetClients,
		CmdGetUser, CmdGetUsers, CmdGetAccessTokens, CmdGetConsumerOffset, CmdStoreConsumerOffset,
		CmdGetStream, CmdGetStreams, CmdGetTopic, CmdGetTopics, CmdGetConsumerGroup,
		CmdGetConsumerGroups, CmdFlushUnsavedBuffer, CmdLoginUser, CmdLoginWithAccessToken:
		return true
	}
	return false
}
