package wire

import "strconv"

// Error is an Iggy status code as carried in a response header. It is
// comparable, so errors.Is(err, wire.ErrStreamIdNotFound) works, and
// errors.As(err, &e) recovers the numeric code and its name.
type Error struct {
	Code uint32
	Name string
}

func (e *Error) Error() string {
	return "iggy: " + e.Name + " (" + strconv.FormatUint(uint64(e.Code), 10) + ")"
}

// Is reports whether target is an *Error with the same code, so a decoded
// error matches the package's sentinel values.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// ErrorFromCode returns the *Error for a status code. Known codes return the
// shared sentinel; unknown ones a new Error named "Unknown".
func ErrorFromCode(code uint32) *Error {
	if e, ok := errorsByCode[code]; ok {
		return e
	}
	return &Error{Code: code, Name: "Unknown"}
}

// Error codes of core/common/src/error/iggy_error.rs (server 0.8.0) that a
// classic client or server can meet. Names are Iggy's, so logs match theirs.
var (
	ErrError                            = &Error{1, "Error"}
	ErrInvalidConfiguration             = &Error{2, "InvalidConfiguration"}
	ErrInvalidCommand                   = &Error{3, "InvalidCommand"}
	ErrInvalidFormat                    = &Error{4, "InvalidFormat"}
	ErrFeatureUnavailable               = &Error{5, "FeatureUnavailable"}
	ErrInvalidIdentifier                = &Error{6, "InvalidIdentifier"}
	ErrInvalidVersion                   = &Error{7, "InvalidVersion"}
	ErrDisconnected                     = &Error{8, "Disconnected"}
	ErrCannotEstablishConnection        = &Error{9, "CannotEstablishConnection"}
	ErrResourceNotFound                 = &Error{20, "ResourceNotFound"}
	ErrStaleClient                      = &Error{30, "StaleClient"}
	ErrTcpError                         = &Error{31, "TcpError"}
	ErrInvalidServerAddress             = &Error{33, "InvalidServerAddress"}
	ErrInvalidClientAddress             = &Error{34, "InvalidClientAddress"}
	ErrUnauthenticated                  = &Error{40, "Unauthenticated"}
	ErrUnauthorized                     = &Error{41, "Unauthorized"}
	ErrInvalidCredentials               = &Error{42, "InvalidCredentials"}
	ErrInvalidUsername                  = &Error{43, "InvalidUsername"}
	ErrInvalidPassword                  = &Error{44, "InvalidPassword"}
	ErrInvalidUserStatus                = &Error{45, "InvalidUserStatus"}
	ErrUserAlreadyExists                = &Error{46, "UserAlreadyExists"}
	ErrUserInactive                     = &Error{47, "UserInactive"}
	ErrCannotDeleteUser                 = &Error{48, "CannotDeleteUser"}
	ErrCannotChangePermissions          = &Error{49, "CannotChangePermissions"}
	ErrInvalidPersonalAccessTokenName   = &Error{50, "InvalidPersonalAccessTokenName"}
	ErrPersonalAccessTokenAlreadyExists = &Error{51, "PersonalAccessTokenAlreadyExists"}
	ErrPersonalAccessTokensLimitReached = &Error{52, "PersonalAccessTokensLimitReached"}
	ErrInvalidPersonalAccessToken       = &Error{53, "InvalidPersonalAccessToken"}
	ErrPersonalAccessTokenExpired       = &Error{54, "PersonalAccessTokenExpired"}
	ErrUsersLimitReached                = &Error{55, "UsersLimitReached"}
	ErrNotConnected                     = &Error{61, "NotConnected"}
	ErrClientShutdown                   = &Error{63, "ClientShutdown"}
	ErrInvalidTlsDomain                 = &Error{64, "InvalidTlsDomain"}
	ErrInvalidTlsCertificatePath        = &Error{65, "InvalidTlsCertificatePath"}
	ErrInvalidTlsCertificate            = &Error{66, "InvalidTlsCertificate"}
	ErrFailedToAddCertificate           = &Error{67, "FailedToAddCertificate"}
	ErrInvalidSizeBytes                 = &Error{80, "InvalidSizeBytes"}
	ErrInvalidUtf8                      = &Error{81, "InvalidUtf8"}
	ErrInvalidNumberEncoding            = &Error{82, "InvalidNumberEncoding"}
	ErrInvalidBooleanValue              = &Error{83, "InvalidBooleanValue"}
	ErrInvalidNumberValue               = &Error{84, "InvalidNumberValue"}
	ErrClientNotFound                   = &Error{100, "ClientNotFound"}
	ErrInvalidClientId                  = &Error{101, "InvalidClientId"}
	ErrConnectionClosed                 = &Error{206, "ConnectionClosed"}
	ErrCannotParseHeaderKind            = &Error{209, "CannotParseHeaderKind"}
	ErrCannotCreateStreamDirectory      = &Error{1001, "CannotCreateStreamDirectory"}
	ErrCannotCreateStream               = &Error{1006, "CannotCreateStream"}
	ErrCannotDeleteStream               = &Error{1007, "CannotDeleteStream"}
	ErrStreamIdNotFound                 = &Error{1009, "StreamIdNotFound"}
	ErrStreamNameNotFound               = &Error{1010, "StreamNameNotFound"}
	ErrStreamNameAlreadyExists          = &Error{1012, "StreamNameAlreadyExists"}
	ErrInvalidStreamName                = &Error{1013, "InvalidStreamName"}
	ErrInvalidStreamId                  = &Error{1014, "InvalidStreamId"}
	ErrCannotReadStreams                = &Error{1015, "CannotReadStreams"}
	ErrInvalidTopicSize                 = &Error{1019, "InvalidTopicSize"}
	ErrTooManyStreams                   = &Error{1020, "TooManyStreams"}
	ErrCannotCreateTopicDirectory       = &Error{2001, "CannotCreateTopicDirectory"}
	ErrCannotCreateTopic                = &Error{2006, "CannotCreateTopic"}
	ErrCannotDeleteTopic                = &Error{2007, "CannotDeleteTopic"}
	ErrCannotPollTopic                  = &Error{2009, "CannotPollTopic"}
	ErrTopicIdNotFound                  = &Error{2010, "TopicIdNotFound"}
	ErrTopicNameNotFound                = &Error{2011, "TopicNameNotFound"}
	ErrTopicNameAlreadyExists           = &Error{2013, "TopicNameAlreadyExists"}
	ErrInvalidTopicName                 = &Error{2014, "InvalidTopicName"}
	ErrTooManyPartitions                = &Error{2015, "TooManyPartitions"}
	ErrInvalidTopicId                   = &Error{2016, "InvalidTopicId"}
	ErrInvalidReplicationFactor         = &Error{2018, "InvalidReplicationFactor"}
	ErrInvalidPartitionsCount           = &Error{2019, "InvalidPartitionsCount"}
	ErrTooManyTopics                    = &Error{2021, "TooManyTopics"}
	ErrCannotCreatePartition            = &Error{3000, "CannotCreatePartition"}
	ErrCannotOpenPartitionLogFile       = &Error{3003, "CannotOpenPartitionLogFile"}
	ErrCannotDeletePartition            = &Error{3005, "CannotDeletePartition"}
	ErrPartitionNotFound                = &Error{3007, "PartitionNotFound"}
	ErrNoPartitions                     = &Error{3008, "NoPartitions"}
	ErrTopicFull                        = &Error{3009, "TopicFull"}
	ErrConsumerOffsetNotFound           = &Error{3021, "ConsumerOffsetNotFound"}
	ErrSegmentNotFound                  = &Error{4000, "SegmentNotFound"}
	ErrSegmentClosed                    = &Error{4001, "SegmentClosed"}
	ErrInvalidSegmentSize               = &Error{4002, "InvalidSegmentSize"}
	ErrCannotSaveMessagesToSegment      = &Error{4006, "CannotSaveMessagesToSegment"}
	ErrCannotSaveIndexToSegment         = &Error{4007, "CannotSaveIndexToSegment"}
	ErrInvalidMessagesCount             = &Error{4009, "InvalidMessagesCount"}
	ErrCannotAppendMessage              = &Error{4010, "CannotAppendMessage"}
	ErrCannotReadMessage                = &Error{4011, "CannotReadMessage"}
	ErrTooBigUserHeaders                = &Error{4017, "TooBigUserHeaders"}
	ErrInvalidHeaderKey                 = &Error{4018, "InvalidHeaderKey"}
	ErrInvalidHeaderValue               = &Error{4019, "InvalidHeaderValue"}
	ErrTooBigMessagePayload             = &Error{4022, "TooBigMessagePayload"}
	ErrTooManyMessages                  = &Error{4023, "TooManyMessages"}
	ErrEmptyMessagePayload              = &Error{4024, "EmptyMessagePayload"}
	ErrInvalidMessagePayloadLength      = &Error{4025, "InvalidMessagePayloadLength"}
	ErrInvalidMessageChecksum           = &Error{4027, "InvalidMessageChecksum"}
	ErrInvalidKeyValueLength            = &Error{4028, "InvalidKeyValueLength"}
	ErrCommandLengthError               = &Error{4029, "CommandLengthError"}
	ErrInvalidSegmentsCount             = &Error{4030, "InvalidSegmentsCount"}
	ErrNonZeroOffset                    = &Error{4031, "NonZeroOffset"}
	ErrNonZeroTimestamp                 = &Error{4032, "NonZeroTimestamp"}
	ErrMissingIndex                     = &Error{4033, "MissingIndex"}
	ErrInvalidIndexesByteSize           = &Error{4034, "InvalidIndexesByteSize"}
	ErrInvalidIndexesCount              = &Error{4035, "InvalidIndexesCount"}
	ErrInvalidMessagesSize              = &Error{4036, "InvalidMessagesSize"}
	ErrTooSmallMessage                  = &Error{4037, "TooSmallMessage"}
	ErrInvalidOffset                    = &Error{4100, "InvalidOffset"}
	ErrInvalidReservedField             = &Error{4101, "InvalidReservedField"}
	ErrConsumerGroupIdNotFound          = &Error{5000, "ConsumerGroupIdNotFound"}
	ErrInvalidConsumerGroupId           = &Error{5002, "InvalidConsumerGroupId"}
	ErrConsumerGroupNameNotFound        = &Error{5003, "ConsumerGroupNameNotFound"}
	ErrConsumerGroupNameAlreadyExists   = &Error{5004, "ConsumerGroupNameAlreadyExists"}
	ErrInvalidConsumerGroupName         = &Error{5005, "InvalidConsumerGroupName"}
	ErrConsumerGroupMemberNotFound      = &Error{5006, "ConsumerGroupMemberNotFound"}
	ErrInvalidConnectionString          = &Error{8000, "InvalidConnectionString"}
	ErrSnapshotFileCompletionFailed     = &Error{9000, "SnapshotFileCompletionFailed"}
	ErrCannotSerializeResource          = &Error{10000, "CannotSerializeResource"}
	ErrCannotDeserializeResource        = &Error{10001, "CannotDeserializeResource"}
	ErrCannotReadFile                   = &Error{10002, "CannotReadFile"}
	ErrCannotWriteToFile                = &Error{10006, "CannotWriteToFile"}
	ErrCannotSyncFile                   = &Error{10009, "CannotSyncFile"}
	ErrTimestampOutOfRange              = &Error{10013, "TimestampOutOfRange"}
	ErrTaskTimeout                      = &Error{12001, "TaskTimeout"}
	ErrIoError                          = &Error{13000, "IoError"}
)

// AllErrors lists every known error, in code order. Read-only.
var AllErrors = []*Error{
	ErrError, ErrInvalidConfiguration, ErrInvalidCommand, ErrInvalidFormat, ErrFeatureUnavailable,
	ErrInvalidIdentifier, ErrInvalidVersion, ErrDisconnected, ErrCannotEstablishConnection,
	ErrResourceNotFound, ErrStaleClient, ErrTcpError, ErrInvalidServerAddress, ErrInvalidClientAddress,
	ErrUnauthenticated, ErrUnauthorized, ErrInvalidCredentials, ErrInvalidUsername, ErrInvalidPassword,
	ErrInvalidUserStatus, ErrUserAlreadyExists, ErrUserInactive, ErrCannotDeleteUser,
	ErrCannotChangePermissions, ErrInvalidPersonalAccessTokenName, ErrPersonalAccessTokenAlreadyExists,
	ErrPersonalAccessTokensLimitReached, ErrInvalidPersonalAccessToken, ErrPersonalAccessTokenExpired,
	ErrUsersLimitReached, ErrNotConnected, ErrClientShutdown, ErrInvalidTlsDomain,
	ErrInvalidTlsCertificatePath, ErrInvalidTlsCertificate, ErrFailedToAddCertificate,
	ErrInvalidSizeBytes, ErrInvalidUtf8, ErrInvalidNumberEncoding, ErrInvalidBooleanValue,
	ErrInvalidNumberValue, ErrClientNotFound, ErrInvalidClientId, ErrConnectionClosed,
	ErrCannotParseHeaderKind, ErrCannotCreateStreamDirectory, ErrCannotCreateStream,
	ErrCannotDeleteStream, ErrStreamIdNotFound, ErrStreamNameNotFound, ErrStreamNameAlreadyExists,
	ErrInvalidStreamName, ErrInvalidStreamId, ErrCannotReadStreams, ErrInvalidTopicSize, ErrTooManyStreams,
	ErrCannotCreateTopicDirectory, ErrCannotCreateTopic, ErrCannotDeleteTopic, ErrCannotPollTopic,
	ErrTopicIdNotFound, ErrTopicNameNotFound, ErrTopicNameAlreadyExists, ErrInvalidTopicName,
	ErrTooManyPartitions, ErrInvalidTopicId, ErrInvalidReplicationFactor, ErrInvalidPartitionsCount,
	ErrTooManyTopics, ErrCannotCreatePartition, ErrCannotOpenPartitionLogFile, ErrCannotDeletePartition,
	ErrPartitionNotFound, ErrNoPartitions, ErrTopicFull, ErrConsumerOffsetNotFound, ErrSegmentNotFound,
	ErrSegmentClosed, ErrInvalidSegmentSize, ErrCannotSaveMessagesToSegment, ErrCannotSaveIndexToSegment,
	ErrInvalidMessagesCount, ErrCannotAppendMessage, ErrCannotReadMessage, ErrTooBigUserHeaders,
	ErrInvalidHeaderKey, ErrInvalidHeaderValue, ErrTooBigMessagePayload, ErrTooManyMessages,
	ErrEmptyMessagePayload, ErrInvalidMessagePayloadLength, ErrInvalidMessageChecksum,
	ErrInvalidKeyValueLength, ErrCommandLengthError, ErrInvalidSegmentsCount, ErrNonZeroOffset,
	ErrNonZeroTimestamp, ErrMissingIndex, ErrInvalidIndexesByteSize, ErrInvalidIndexesCount,
	ErrInvalidMessagesSize, ErrTooSmallMessage, ErrInvalidOffset, ErrInvalidReservedField,
	ErrConsumerGroupIdNotFound, ErrInvalidConsumerGroupId, ErrConsumerGroupNameNotFound,
	ErrConsumerGroupNameAlreadyExists, ErrInvalidConsumerGroupName, ErrConsumerGroupMemberNotFound,
	ErrInvalidConnectionString, ErrSnapshotFileCompletionFailed, ErrCannotSerializeResource,
	ErrCannotDeserializeResource, ErrCannotReadFile, ErrCannotWriteToFile, ErrCannotSyncFile,
	ErrTimestampOutOfRange, ErrTaskTimeout, ErrIoError,
}

var errorsByCode = func() map[uint32]*Error {
	m := make(map[uint32]*Error, len(AllErrors))
	for _, e := range AllErrors {
		m[e.Code] = e
	}
	return m
}()
