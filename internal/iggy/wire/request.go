package wire

// Request is the payload codec of one command. Clients fill a request and
// call AppendPayload (or AppendRequestFrame); servers pick the type by the
// frame's command code and call Decode, which validates as Iggy does and
// returns the matching *Error. Trailing bytes after a valid payload are
// accepted, as Iggy only logs them.
type Request interface {
	Command() Command
	AppendPayload(dst []byte) ([]byte, error)
	Decode(payload []byte) error
}

// AppendRequestFrame appends the whole frame of r (header and payload).
func AppendRequestFrame(dst []byte, r Request) ([]byte, error) {
	out, start := BeginRequest(dst, r.Command())
	out, err := r.AppendPayload(out)
	if err != nil {
		return dst, err
	}
	FinishRequest(out, start)
	return out, nil
}

// Empty is the request of a command without payload: ping, stats, cluster
// metadata, me, clients, users, personal access tokens, logout, streams.
type Empty struct{ Cmd Command }

func (r *Empty) Command() Command                         { return r.Cmd }
func (r *Empty) AppendPayload(dst []byte) ([]byte, error) { return dst, nil }
func (r *Empty) Decode(payload []byte) error              { return nil }

// GetClient asks for one client session by id.
type GetClient struct{ ClientID uint32 }

func (r *GetClient) Command() Command { return CmdGetClient }
func (r *GetClient) AppendPayload(dst []byte) ([]byte, error) {
	return appendU32(dst, r.ClientID), nil
}
func (r *GetClient) Decode(p []byte) error {
	d := decoder{b: p}
	r.ClientID = d.u32()
	return d.err
}

// decodeID decodes a payload that is a single identifier.
func decodeID(p []byte, id *Identifier) error {
	d := decoder{b: p}
	*id = d.identifier()
	return d.err
}

// Streams.

// GetStream asks for a stream and its topics.
type GetStream struct{ Stream Identifier }

func (r *GetStream) Command() Command { return CmdGetStream }
func (r *GetStream) AppendPayload(dst []byte) ([]byte, error) {
	return AppendIdentifier(dst, r.Stream)
}
func (r *GetStream) Decode(p []byte) error { return decodeID(p, &r.Stream) }

// DeleteStream deletes a stream and everything in it.
type DeleteStream struct{ Stream Identifier }

func (r *DeleteStream) Command() Command { return CmdDeleteStream }
func (r *DeleteStream) AppendPayload(dst []byte) ([]byte, error) {
	return AppendIdentifier(dst, r.Stream)
}
func (r *DeleteStream) Decode(p []byte) error { return decodeID(p, &r.Stream) }

// PurgeStream deletes every message of a stream, keeping its topics.
type PurgeStream struct{ Stream Identifier }

func (r *PurgeStream) Command() Command { return CmdPurgeStream }
func (r *PurgeStream) AppendPayload(dst []byte) ([]byte, error) {
	return AppendIdentifier(dst, r.Stream)
}
func (r *PurgeStream) Decode(p []byte) error { return decodeID(p, &r.Stream) }

// CreateStream creates a stream; the server assigns the id.
type CreateStream struct{ Name string }

func (r *CreateStream) Command() Command { return CmdCreateStream }
func (r *CreateStream) AppendPayload(dst []byte) ([]byte, error) {
	if err := validName(r.Name, ErrInvalidStreamName); err != nil {
		return dst, err
	}
	return appendStr8(dst, r.Name), nil
}
func (r *CreateStream) Decode(p []byte) error {
	d := decoder{b: p}
	r.Name = d.name8()
	return d.err
}

// UpdateStream renames a stream.
type UpdateStream struct {
	Stream Identifier
	Name   string
}

func (r *UpdateStream) Command() Command { return CmdUpdateStream }
func (r *UpdateStream) AppendPayload(dst []byte) ([]byte, error) {
	if err := validName(r.Name, ErrInvalidStreamName); err != nil {
		return dst, err
	}
	dst, err := AppendIdentifier(dst, r.Stream)
	return appendStr8(dst, r.Name), err
}
func (r *UpdateStream) Decode(p []byte) error {
	d := decoder{b: p}
	r.Stream = d.identifier()
	r.Name = d.name8()
	return d.err
}

// Topics.

// TopicRef names a topic of a stream; it is the payload of GetTopic,
// DeleteTopic and PurgeTopic, and a prefix of many other requests.
type TopicRef struct {
	Stream Identifier
	Topic  Identifier
}

func (t *TopicRef) append(dst []byte) ([]byte, error) {
	dst, err := AppendIdentifier(dst, t.Stream)
	if err != nil {
		return dst, err
	}
	return AppendIdentifier(dst, t.Topic)
}

func (t *TopicRef) read(d *decoder) {
	t.Stream = d.identifier()
	t.Topic = d.identifier()
}

// AppendPayload appends the two identifiers; requests whose payload is just
// a TopicRef embed it and only add Command.
func (t *TopicRef) AppendPayload(dst []byte) ([]byte, error) { return t.append(dst) }

// Decode reads the two identifiers.
func (t *TopicRef) Decode(p []byte) error {
	d := decoder{b: p}
	t.read(&d)
	return d.err
}

// GetTopic asks for a topic and its partitions.
type GetTopic struct{ TopicRef }

func (r *GetTopic) Command() Command { return CmdGetTopic }

// DeleteTopic deletes a topic.
type DeleteTopic struct{ TopicRef }

func (r *DeleteTopic) Command() Command { return CmdDeleteTopic }

// PurgeTopic deletes every message of a topic.
type PurgeTopic struct{ TopicRef }

func (r *PurgeTopic) Command() Command { return CmdPurgeTopic }

// GetTopics lists the topics of a stream.
type GetTopics struct{ Stream Identifier }

func (r *GetTopics) Command() Command { return CmdGetTopics }
func (r *GetTopics) AppendPayload(dst []byte) ([]byte, error) {
	return AppendIdentifier(dst, r.Stream)
}
func (r *GetTopics) Decode(p []byte) error { return decodeID(p, &r.Stream) }

// Compression algorithms of a topic.
const (
	CompressionNone uint8 = 1
	CompressionGzip uint8 = 2
)

func validCompression(c uint8) error {
	if c != CompressionNone && c != CompressionGzip {
		return ErrInvalidCommand
	}
	return nil
}

// CreateTopic creates a topic with PartitionsCount partitions (0..1000).
// MessageExpiry (µs) and MaxTopicSize (bytes) take ServerDefault or
// Unlimited or a value; ReplicationFactor 0 means none.
type CreateTopic struct {
	Stream               Identifier
	PartitionsCount      uint32
	CompressionAlgorithm uint8
	MessageExpiry        uint64
	MaxTopicSize         uint64
	ReplicationFactor    uint8
	Name                 string
}

func (r *CreateTopic) Command() Command { return CmdCreateTopic }

func (r *CreateTopic) validate() error {
	if r.PartitionsCount > MaxPartitionsCount {
		return ErrTooManyPartitions
	}
	if err := validCompression(r.CompressionAlgorithm); err != nil {
		return err
	}
	return validName(r.Name, ErrInvalidTopicName)
}

func (r *CreateTopic) AppendPayload(dst []byte) ([]byte, error) {
	if err := r.validate(); err != nil {
		return dst, err
	}
	dst, err := AppendIdentifier(dst, r.Stream)
	if err != nil {
		return dst, err
	}
	dst = appendU32(dst, r.PartitionsCount)
	dst = append(dst, r.CompressionAlgorithm)
	dst = appendU64(dst, r.MessageExpiry)
	dst = appendU64(dst, r.MaxTopicSize)
	dst = append(dst, r.ReplicationFactor)
	return appendStr8(dst, r.Name), nil
}

func (r *CreateTopic) Decode(p []byte) error {
	d := decoder{b: p}
	r.Stream = d.identifier()
	r.PartitionsCount = d.u32()
	r.CompressionAlgorithm = d.u8()
	r.MessageExpiry = d.u64()
	r.MaxTopicSize = d.u64()
	r.ReplicationFactor = d.u8()
	r.Name = d.name8()
	if d.err != nil {
		return d.err
	}
	return r.validate()
}

// UpdateTopic changes a topic's settings and name.
type UpdateTopic struct {
	TopicRef
	CompressionAlgorithm uint8
	MessageExpiry        uint64
	MaxTopicSize         uint64
	ReplicationFactor    uint8
	Name                 string
}

func (r *UpdateTopic) Command() Command { return CmdUpdateTopic }

func (r *UpdateTopic) validate() error {
	if err := validCompression(r.CompressionAlgorithm); err != nil {
		return err
	}
	return validName(r.Name, ErrInvalidTopicName)
}

func (r *UpdateTopic) AppendPayload(dst []byte) ([]byte, error) {
	if err := r.validate(); err != nil {
		return dst, err
	}
	dst, err := r.append(dst)
	if err != nil {
		return dst, err
	}
	dst = append(dst, r.CompressionAlgorithm)
	dst = appendU64(dst, r.MessageExpiry)
	dst = appendU64(dst, r.MaxTopicSize)
	dst = append(dst, r.ReplicationFactor)
	return appendStr8(dst, r.Name), nil
}

func (r *UpdateTopic) Decode(p []byte) error {
	d := decoder{b: p}
	r.read(&d)
	r.CompressionAlgorithm = d.u8()
	r.MessageExpiry = d.u64()
	r.MaxTopicSize = d.u64()
	r.ReplicationFactor = d.u8()
	r.Name = d.name8()
	if d.err != nil {
		return d.err
	}
	return r.validate()
}

// Partitions and segments.

// CreatePartitions appends PartitionsCount partitions (1..1000) to a topic.
type CreatePartitions struct {
	TopicRef
	PartitionsCount uint32
}

func validPartitionsCount(n uint32) error {
	if n == 0 {
		return ErrInvalidPartitionsCount
	}
	if n > MaxPartitionsCount {
		return ErrTooManyPartitions
	}
	return nil
}

func (r *CreatePartitions) Command() Command { return CmdCreatePartitions }
func (r *CreatePartitions) AppendPayload(dst []byte) ([]byte, error) {
	if err := validPartitionsCount(r.PartitionsCount); err != nil {
		return dst, err
	}
	dst, err := r.append(dst)
	return appendU32(dst, r.PartitionsCount), err
}
func (r *CreatePartitions) Decode(p []byte) error {
	d := decoder{b: p}
	r.read(&d)
	r.PartitionsCount = d.u32()
	if d.err != nil {
		return d.err
	}
	return validPartitionsCount(r.PartitionsCount)
}

// DeletePartitions removes the last PartitionsCount partitions (1..1000).
type DeletePartitions struct {
	TopicRef
	PartitionsCount uint32
}

func (r *DeletePartitions) Command() Command { return CmdDeletePartitions }
func (r *DeletePartitions) AppendPayload(dst []byte) ([]byte, error) {
	if err := validPartitionsCount(r.PartitionsCount); err != nil {
		return dst, err
	}
	dst, err := r.append(dst)
	return appendU32(dst, r.PartitionsCount), err
}
func (r *DeletePartitions) Decode(p []byte) error {
	d := decoder{b: p}
	r.read(&d)
	r.PartitionsCount = d.u32()
	if d.err != nil {
		return d.err
	}
	return validPartitionsCount(r.PartitionsCount)
}

// DeleteSegments deletes the oldest SegmentsCount segments of a partition.
type DeleteSegments struct {
	TopicRef
	PartitionID   uint32
	SegmentsCount uint32
}

func (r *DeleteSegments) Command() Command { return CmdDeleteSegments }
func (r *DeleteSegments) AppendPayload(dst []byte) ([]byte, error) {
	dst, err := r.append(dst)
	dst = appendU32(dst, r.PartitionID)
	return appendU32(dst, r.SegmentsCount), err
}
func (r *DeleteSegments) Decode(p []byte) error {
	d := decoder{b: p}
	r.read(&d)
	r.PartitionID = d.u32()
	r.SegmentsCount = d.u32()
	return d.err
}

// FlushUnsavedBuffer writes a partition's buffered messages to disk,
// fsyncing them when Fsync is set.
type FlushUnsavedBuffer struct {
	TopicRef
	PartitionID uint32
	Fsync       bool
}

func (r *FlushUnsavedBuffer) Command() Command { return CmdFlushUnsavedBuffer }
func (r *FlushUnsavedBuffer) AppendPayload(dst []byte) ([]byte, error) {
	dst, err := r.append(dst)
	dst = appendU32(dst, r.PartitionID)
	return appendBool(dst, r.Fsync), err
}
func (r *FlushUnsavedBuffer) Decode(p []byte) error {
	d := decoder{b: p}
	r.read(&d)
	r.PartitionID = d.u32()
	r.Fsync = d.bool8()
	return d.err
}

// Messages and offsets.

// PollMessages reads up to Count messages from a partition.
type PollMessages struct {
	Consumer   Consumer
	TopicRef   TopicRef
	Partition  OptionalPartition
	Strategy   PollingStrategy
	Count      uint32
	AutoCommit bool
}

func (r *PollMessages) Command() Command { return CmdPollMessages }
func (r *PollMessages) AppendPayload(dst []byte) ([]byte, error) {
	if r.Strategy.Kind < PollOffset || r.Strategy.Kind > PollNext {
		return dst, ErrInvalidFormat
	}
	dst, err := AppendConsumer(dst, r.Consumer)
	if err != nil {
		return dst, err
	}
	if dst, err = r.TopicRef.append(dst); err != nil {
		return dst, err
	}
	dst = appendOptPartition(dst, r.Partition)
	dst = append(dst, byte(r.Strategy.Kind))
	dst = appendU64(dst, r.Strategy.Value)
	dst = appendU32(dst, r.Count)
	return appendBool(dst, r.AutoCommit), nil
}
func (r *PollMessages) Decode(p []byte) error {
	d := decoder{b: p}
	r.Consumer = d.consumer()
	r.TopicRef.read(&d)
	r.Partition = d.optPartition()
	r.Strategy = d.pollingStrategy()
	r.Count = d.u32()
	r.AutoCommit = d.bool8()
	return d.err
}

// ConsumerOffsetRef names the stored offset of a consumer on a partition;
// it is the payload of GetConsumerOffset and DeleteConsumerOffset.
type ConsumerOffsetRef struct {
	Consumer  Consumer
	TopicRef  TopicRef
	Partition OptionalPartition
}

func (r *ConsumerOffsetRef) append(dst []byte) ([]byte, error) {
	dst, err := AppendConsumer(dst, r.Consumer)
	if err != nil {
		return dst, err
	}
	if dst, err = r.TopicRef.append(dst); err != nil {
		return dst, err
	}
	return appendOptPartition(dst, r.Partition), nil
}

func (r *ConsumerOffsetRef) read(d *decoder) {
	r.Consumer = d.consumer()
	r.TopicRef.read(d)
	r.Partition = d.optPartition()
}

// AppendPayload appends the reference; GetConsumerOffset and
// DeleteConsumerOffset embed it and only add Command.
func (r *ConsumerOffsetRef) AppendPayload(dst []byte) ([]byte, error) { return r.append(dst) }

// Decode reads the reference.
func (r *ConsumerOffsetRef) Decode(p []byte) error {
	d := decoder{b: p}
	r.read(&d)
	return d.err
}

// GetConsumerOffset asks for a consumer's stored offset.
type GetConsumerOffset struct{ ConsumerOffsetRef }

func (r *GetConsumerOffset) Command() Command { return CmdGetConsumerOffset }

// DeleteConsumerOffset forgets a consumer's stored offset.
type DeleteConsumerOffset struct{ ConsumerOffsetRef }

func (r *DeleteConsumerOffset) Command() Command { return CmdDeleteConsumerOffset }

// StoreConsumerOffset stores Offset as a consumer's position.
type StoreConsumerOffset struct {
	ConsumerOffsetRef
	Offset uint64
}

func (r *StoreConsumerOffset) Command() Command { return CmdStoreConsumerOffset }
func (r *StoreConsumerOffset) AppendPayload(dst []byte) ([]byte, error) {
	dst, err := r.append(dst)
	return appendU64(dst, r.Offset), err
}
func (r *StoreConsumerOffset) Decode(p []byte) error {
	d := decoder{b: p}
	r.read(&d)
	r.Offset = d.u64()
	return d.err
}

// Consumer groups.

// GroupRef names a consumer group of a topic; it is the payload of Get,
// Delete, Join and LeaveConsumerGroup.
type GroupRef struct {
	TopicRef
	Group Identifier
}

func (g *GroupRef) appendGroup(dst []byte) ([]byte, error) {
	dst, err := g.append(dst)
	if err != nil {
		return dst, err
	}
	return AppendIdentifier(dst, g.Group)
}

func (g *GroupRef) readGroup(d *decoder) {
	g.read(d)
	g.Group = d.identifier()
}

// AppendPayload appends the three identifiers; the group requests without
// other fields embed GroupRef and only add Command.
func (g *GroupRef) AppendPayload(dst []byte) ([]byte, error) { return g.appendGroup(dst) }

// Decode reads the three identifiers.
func (g *GroupRef) Decode(p []byte) error {
	d := decoder{b: p}
	g.readGroup(&d)
	return d.err
}

// GetConsumerGroup asks for a group and its members.
type GetConsumerGroup struct{ GroupRef }

func (r *GetConsumerGroup) Command() Command { return CmdGetConsumerGroup }

// DeleteConsumerGroup deletes a group.
type DeleteConsumerGroup struct{ GroupRef }

func (r *DeleteConsumerGroup) Command() Command { return CmdDeleteConsumerGroup }

// JoinConsumerGroup makes the session a member of the group.
type JoinConsumerGroup struct{ GroupRef }

func (r *JoinConsumerGroup) Command() Command { return CmdJoinConsumerGroup }

// LeaveConsumerGroup removes the session from the group.
type LeaveConsumerGroup struct{ GroupRef }

func (r *LeaveConsumerGroup) Command() Command { return CmdLeaveConsumerGroup }

// GetConsumerGroups lists a topic's groups.
type GetConsumerGroups struct{ TopicRef }

func (r *GetConsumerGroups) Command() Command { return CmdGetConsumerGroups }

// CreateConsumerGroup creates a group; the server assigns the id.
type CreateConsumerGroup struct {
	TopicRef
	Name string
}

func (r *CreateConsumerGroup) Command() Command { return CmdCreateConsumerGroup }
func (r *CreateConsumerGroup) AppendPayload(dst []byte) ([]byte, error) {
	if err := validName(r.Name, ErrInvalidConsumerGroupName); err != nil {
		return dst, err
	}
	dst, err := r.append(dst)
	return appendStr8(dst, r.Name), err
}
func (r *CreateConsumerGroup) Decode(p []byte) error {
	d := decoder{b: p}
	r.read(&d)
	r.Name = d.name8()
	return d.err
}

// SendMessages is a Request too, so servers can dispatch it uniformly.
func (s *SendMessages) Command() Command { return CmdSendMessages }

// NewRequest returns an empty request value of the type that decodes code,
// or nil for an unknown command. Servers use it to dispatch.
func NewRequest(code Command) Request {
	switch code {
	case CmdPing, CmdGetStats, CmdGetClusterMetadata, CmdGetMe, CmdGetClients, CmdGetUsers,
		CmdGetAccessTokens, CmdLogoutUser, CmdGetStreams, CmdGetSnapshotFile:
		return &Empty{Cmd: code}
	case CmdGetClient:
		return &GetClient{}
	case CmdGetUser:
		return &GetUser{}
	case CmdCreateUser:
		return &CreateUser{}
	case CmdDeleteUser:
		return &DeleteUser{}
	case CmdUpdateUser:
		return &UpdateUser{}
	case CmdUpdatePermissions:
		return &UpdatePermissions{}
	case CmdChangePassword:
		return &ChangePassword{}
	case CmdLoginUser:
		return &LoginUser{}
	case CmdCreateAccessToken:
		return &CreateAccessToken{}
	case CmdDeleteAccessToken:
		return &DeleteAccessToken{}
	case CmdLoginWithAccessToken:
		return &LoginWithAccessToken{}
	case CmdPollMessages:
		return &PollMessages{}
	case CmdSendMessages:
		return &SendMessages{}
	case CmdFlushUnsavedBuffer:
		return &FlushUnsavedBuffer{}
	case CmdGetConsumerOffset:
		return &GetConsumerOffset{}
	case CmdStoreConsumerOffset:
		return &StoreConsumerOffset{}
	case CmdDeleteConsumerOffset:
		return &DeleteConsumerOffset{}
	case CmdGetStream:
		return &GetStream{}
	case CmdCreateStream:
		return &CreateStream{}
	case CmdDeleteStream:
		return &DeleteStream{}
	case CmdUpdateStream:
		return &UpdateStream{}
	case CmdPurgeStream:
		return &PurgeStream{}
	case CmdGetTopic:
		return &GetTopic{}
	case CmdGetTopics:
		return &GetTopics{}
	case CmdCreateTopic:
		return &CreateTopic{}
	case CmdDeleteTopic:
		return &DeleteTopic{}
	case CmdUpdateTopic:
		return &UpdateTopic{}
	case CmdPurgeTopic:
		return &PurgeTopic{}
	case CmdCreatePartitions:
		return &CreatePartitions{}
	case CmdDeletePartitions:
		return &DeletePartitions{}
	case CmdDeleteSegments:
		return &DeleteSegments{}
	case CmdGetConsumerGroup:
		return &GetConsumerGroup{}
	case CmdGetConsumerGroups:
		return &GetConsumerGroups{}
	case CmdCreateConsumerGroup:
		return &CreateConsumerGroup{}
	case CmdDeleteConsumerGroup:
		return &DeleteConsumerGroup{}
	case CmdJoinConsumerGroup:
		return &JoinConsumerGroup{}
	case CmdLeaveConsumerGroup:
		return &LeaveConsumerGroup{}
	}
	return nil
}
