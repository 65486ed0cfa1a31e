package server

import "strconv"

// Status is an Iggy error code carried in the status field of a response
// (docs/iggy-protocol.md §6). The zero value means OK. A Status is an error so
// handlers can return it directly.
type Status uint32

// Error codes of Iggy server 0.8 that this server answers with.
const (
	StatusOK                         Status = 0
	StatusError                      Status = 1
	StatusInvalidConfiguration       Status = 2
	StatusInvalidCommand             Status = 3
	StatusInvalidFormat              Status = 4
	StatusFeatureUnavailable         Status = 5
	StatusInvalidIdentifier          Status = 6
	StatusResourceNotFound           Status = 20
	StatusUnauthenticated            Status = 40
	StatusUnauthorized               Status = 41
	StatusInvalidCredentials         Status = 42
	StatusInvalidUsername            Status = 43
	StatusInvalidPassword            Status = 44
	StatusInvalidUserStatus          Status = 45
	StatusUserAlreadyExists          Status = 46
	StatusUserInactive               Status = 47
	StatusCannotDeleteUser           Status = 48
	StatusCannotChangePermissions    Status = 49
	StatusInvalidPATName             Status = 50
	StatusPATAlreadyExists           Status = 51
	StatusPATLimitReached            Status = 52
	StatusInvalidPAT                 Status = 53
	StatusPATExpired                 Status = 54
	StatusInvalidSizeBytes           Status = 80
	StatusClientNotFound             Status = 100
	StatusStreamIDNotFound           Status = 1009
	StatusStreamNameAlreadyExists    Status = 1012
	StatusInvalidStreamName          Status = 1013
	StatusInvalidTopicSize           Status = 1019
	StatusTopicIDNotFound            Status = 2010
	StatusTopicNameAlreadyExists     Status = 2013
	StatusInvalidTopicName           Status = 2014
	StatusTooManyPartitions          Status = 2015
	StatusInvalidReplicationFactor   Status = 2018
	StatusInvalidPartitionsCount     Status = 2019
	StatusPartitionNotFound          Status = 3007
	StatusNoPartitions               Status = 3008
	StatusConsumerOffsetNotFound     Status = 3021
	StatusInvalidMessagesCount       Status = 4009
	StatusTooBigUserHeaders          Status = 4017
	StatusTooBigMessagePayload       Status = 4022
	StatusEmptyMessagePayload        Status = 4024
	StatusInvalidMessagePayloadLen   Status = 4025
	StatusNonZeroOffset              Status = 4031
	StatusNonZeroTimestamp           Status = 4032
	StatusMissingIndex               Status = 4033
	StatusInvalidIndexesByteSize     Status = 4034
	StatusInvalidIndexesCount        Status = 4035
	StatusInvalidMessagesSize        Status = 4036
	StatusTooSmallMessage            Status = 4037
	StatusInvalidOffset              Status = 4100
	StatusInvalidReservedField       Status = 4101
	StatusConsumerGroupIDNotFound    Status = 5000
	StatusConsumerGroupNameExists    Status = 5004
	StatusInvalidConsumerGroupName   Status = 5005
	StatusConsumerGroupMemberMissing Status = 5006
)

var statusNames = map[Status]string{
	StatusError:                      "error",
	StatusInvalidConfiguration:       "invalid_configuration",
	StatusInvalidCommand:             "invalid_command",
	StatusInvalidFormat:              "invalid_format",
	StatusFeatureUnavailable:         "feature_unavailable",
	StatusInvalidIdentifier:          "invalid_identifier",
	StatusResourceNotFound:           "resource_not_found",
	StatusUnauthenticated:            "unauthenticated",
	StatusUnauthorized:               "unauthorized",
	StatusInvalidCredentials:         "invalid_credentials",
	StatusInvalidUsername:            "invalid_username",
	StatusInvalidPassword:            "invalid_password",
	StatusInvalidUserStatus:          "invalid_user_status",
	StatusUserAlreadyExists:          "user_already_exists",
	StatusUserInactive:               "user_inactive",
	StatusCannotDeleteUser:           "cannot_delete_user",
	StatusCannotChangePermissions:    "cannot_change_permissions",
	StatusInvalidPATName:             "invalid_personal_access_token_name",
	StatusPATAlreadyExists:           "personal_access_token_already_exists",
	StatusPATLimitReached:            "personal_access_tokens_limit_reached",
	StatusInvalidPAT:                 "invalid_personal_access_token",
	StatusPATExpired:                 "personal_access_token_expired",
	StatusInvalidSizeBytes:           "invalid_size_bytes",
	StatusClientNotFound:             "client_not_found",
	StatusStreamIDNotFound:           "stream_id_not_found",
	StatusStreamNameAlreadyExists:    "stream_name_already_exists",
	StatusInvalidStreamName:          "invalid_stream_name",
	StatusInvalidTopicSize:           "invalid_topic_size",
	StatusTopicIDNotFound:            "topic_id_not_found",
	StatusTopicNameAlreadyExists:     "topic_name_already_exists",
	StatusInvalidTopicName:           "invalid_topic_name",
	StatusTooManyPartitions:          "too_many_partitions",
	StatusInvalidReplicationFactor:   "invalid_replication_factor",
	StatusInvalidPartitionsCount:     "invalid_partitions_count",
	StatusPartitionNotFound:          "partition_not_found",
	StatusNoPartitions:               "no_partitions",
	StatusConsumerOffsetNotFound:     "consumer_offset_not_found",
	StatusInvalidMessagesCount:       "invalid_messages_count",
	StatusTooBigUserHeaders:          "too_big_user_headers",
	StatusTooBigMessagePayload:       "too_big_message_payload",
	StatusEmptyMessagePayload:        "empty_message_payload",
	StatusInvalidMessagePayloadLen:   "invalid_message_payload_length",
	StatusNonZeroOffset:              "non_zero_offset",
	StatusNonZeroTimestamp:           "non_zero_timestamp",
	StatusMissingIndex:               "missing_index",
	StatusInvalidIndexesByteSize:     "invalid_indexes_byte_size",
	StatusInvalidIndexesCount:        "invalid_indexes_count",
	StatusInvalidMessagesSize:        "invalid_messages_size",
	StatusTooSmallMessage:            "too_small_message",
	StatusInvalidOffset:              "invalid_offset",
	StatusInvalidReservedField:       "invalid_reserved_field",
	StatusConsumerGroupIDNotFound:    "consumer_group_id_not_found",
	StatusConsumerGroupNameExists:    "consumer_group_name_already_exists",
	StatusInvalidConsumerGroupName:   "invalid_consumer_group_name",
	StatusConsumerGroupMemberMissing: "consumer_group_member_not_found",
}

func (s Status) Error() string {
	if n, ok := statusNames[s]; ok {
		return "iggy: " + n + " (" + strconv.FormatUint(uint64(s), 10) + ")"
	}
	return "iggy: error " + strconv.FormatUint(uint64(s), 10)
}
