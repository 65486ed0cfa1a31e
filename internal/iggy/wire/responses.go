package wire

import "math"

// Response payloads (§4). Servers append them with AppendTo; clients decode
// them with the Parse functions. A GET of a missing entity is an empty OK
// response, which clients check before parsing.

// Stream is a stream's summary (33 bytes + name).
type Stream struct {
	ID            uint32
	CreatedAt     uint64 // µs
	TopicsCount   uint32
	SizeBytes     uint64
	MessagesCount uint64
	Name          string
}

// AppendTo appends the encoding of s.
func (s *Stream) AppendTo(dst []byte) []byte {
	dst = appendU32(dst, s.ID)
	dst = appendU64(dst, s.CreatedAt)
	dst = appendU32(dst, s.TopicsCount)
	dst = appendU64(dst, s.SizeBytes)
	dst = appendU64(dst, s.MessagesCount)
	return appendName(dst, s.Name)
}

func (d *decoder) stream() Stream {
	var s Stream
	s.ID = d.u32()
	s.CreatedAt = d.u64()
	s.TopicsCount = d.u32()
	s.SizeBytes = d.u64()
	s.MessagesCount = d.u64()
	s.Name = d.str8()
	return s
}

// ParseStream decodes a CreateStream response (one Stream).
func ParseStream(b []byte) (Stream, error) {
	d := decoder{b: b}
	s := d.stream()
	return s, d.end()
}

// ParseStreams decodes a GetStreams response.
func ParseStreams(b []byte) ([]Stream, error) { return parseList(b, (*decoder).stream) }

// StreamDetails is the GetStream response: the stream and its topics.
type StreamDetails struct {
	Stream
	Topics []Topic
}

// AppendTo appends the encoding of s. TopicsCount is written as given;
// servers set it to len(Topics).
func (s *StreamDetails) AppendTo(dst []byte) []byte {
	dst = s.Stream.AppendTo(dst)
	for i := range s.Topics {
		dst = s.Topics[i].AppendTo(dst)
	}
	return dst
}

// ParseStreamDetails decodes a GetStream response.
func ParseStreamDetails(b []byte) (StreamDetails, error) {
	d := decoder{b: b}
	s := StreamDetails{Stream: d.stream()}
	s.Topics = readAll(&d, (*decoder).topic)
	if d.err != nil {
		return StreamDetails{}, d.err
	}
	return s, nil
}

// Topic is a topic's summary (51 bytes + name). Expiry and size are the
// resolved values (Unlimited when none).
type Topic struct {
	ID                   uint32
	CreatedAt            uint64
	PartitionsCount      uint32
	MessageExpiry        uint64 // µs
	CompressionAlgorithm uint8
	MaxTopicSize         uint64
	ReplicationFactor    uint8
	SizeBytes            uint64
	MessagesCount        uint64
	Name                 string
}

// AppendTo appends the encoding of t.
func (t *Topic) AppendTo(dst []byte) []byte {
	dst = appendU32(dst, t.ID)
	dst = appendU64(dst, t.CreatedAt)
	dst = appendU32(dst, t.PartitionsCount)
	dst = appendU64(dst, t.MessageExpiry)
	dst = append(dst, t.CompressionAlgorithm)
	dst = appendU64(dst, t.MaxTopicSize)
	dst = append(dst, t.ReplicationFactor)
	dst = appendU64(dst, t.SizeBytes)
	dst = appendU64(dst, t.MessagesCount)
	return appendName(dst, t.Name)
}

func (d *decoder) topic() Topic {
	var t Topic
	t.ID = d.u32()
	t.CreatedAt = d.u64()
	t.PartitionsCount = d.u32()
	t.MessageExpiry = d.u64()
	t.CompressionAlgorithm = d.u8()
	t.MaxTopicSize = d.u64()
	t.ReplicationFactor = d.u8()
	t.SizeBytes = d.u64()
	t.MessagesCount = d.u64()
	t.Name = d.str8()
	return t
}

// ParseTopics decodes a GetTopics response.
func ParseTopics(b []byte) ([]Topic, error) { return parseList(b, (*decoder).topic) }

// TopicDetails is the GetTopic and CreateTopic response: the topic and its
// partitions.
type TopicDetails struct {
	Topic
	Partitions []Partition
}

// AppendTo appends the encoding of t.
func (t *TopicDetails) AppendTo(dst []byte) []byte {
	dst = t.Topic.AppendTo(dst)
	for i := range t.Partitions {
		dst = t.Partitions[i].AppendTo(dst)
	}
	return dst
}

// ParseTopicDetails decodes a GetTopic or CreateTopic response.
func ParseTopicDetails(b []byte) (TopicDetails, error) {
	d := decoder{b: b}
	t := TopicDetails{Topic: d.topic()}
	t.Partitions = readAll(&d, (*decoder).partition)
	if d.err != nil {
		return TopicDetails{}, d.err
	}
	return t, nil
}

// Partition is a partition's summary (40 bytes).
type Partition struct {
	ID            uint32
	CreatedAt     uint64
	SegmentsCount uint32
	CurrentOffset uint64
	SizeBytes     uint64
	MessagesCount uint64
}

// AppendTo appends the encoding of p.
func (p *Partition) AppendTo(dst []byte) []byte {
	dst = appendU32(dst, p.ID)
	dst = appendU64(dst, p.CreatedAt)
	dst = appendU32(dst, p.SegmentsCount)
	dst = appendU64(dst, p.CurrentOffset)
	dst = appendU64(dst, p.SizeBytes)
	return appendU64(dst, p.MessagesCount)
}

func (d *decoder) partition() Partition {
	var p Partition
	p.ID = d.u32()
	p.CreatedAt = d.u64()
	p.SegmentsCount = d.u32()
	p.CurrentOffset = d.u64()
	p.SizeBytes = d.u64()
	p.MessagesCount = d.u64()
	return p
}

// ConsumerGroupInfo is a group's summary.
type ConsumerGroupInfo struct {
	ID              uint32
	PartitionsCount uint32
	MembersCount    uint32
	Name            string
}

// AppendTo appends the encoding of g.
func (g *ConsumerGroupInfo) AppendTo(dst []byte) []byte {
	dst = appendU32(dst, g.ID)
	dst = appendU32(dst, g.PartitionsCount)
	dst = appendU32(dst, g.MembersCount)
	return appendName(dst, g.Name)
}

func (d *decoder) group() ConsumerGroupInfo {
	var g ConsumerGroupInfo
	g.ID = d.u32()
	g.PartitionsCount = d.u32()
	g.MembersCount = d.u32()
	g.Name = d.str8()
	return g
}

// ParseConsumerGroups decodes a GetConsumerGroups response.
func ParseConsumerGroups(b []byte) ([]ConsumerGroupInfo, error) {
	return parseList(b, (*decoder).group)
}

// ConsumerGroupMember is a member and the partitions assigned to it.
type ConsumerGroupMember struct {
	ID         uint32
	Partitions []uint32
}

// ConsumerGroupDetails is the GetConsumerGroup and CreateConsumerGroup
// response: the group then MembersCount members.
type ConsumerGroupDetails struct {
	ConsumerGroupInfo
	Members []ConsumerGroupMember
}

// AppendTo appends the encoding of g.
func (g *ConsumerGroupDetails) AppendTo(dst []byte) []byte {
	dst = g.ConsumerGroupInfo.AppendTo(dst)
	for _, m := range g.Members {
		dst = appendU32(dst, m.ID)
		dst = appendU32(dst, uint32(len(m.Partitions)))
		for _, p := range m.Partitions {
			dst = appendU32(dst, p)
		}
	}
	return dst
}

// ParseConsumerGroupDetails decodes a GetConsumerGroup or
// CreateConsumerGroup response.
func ParseConsumerGroupDetails(b []byte) (ConsumerGroupDetails, error) {
	d := decoder{b: b}
	g := ConsumerGroupDetails{ConsumerGroupInfo: d.group()}
	for i := uint32(0); d.err == nil && i < g.MembersCount && d.remaining() > 0; i++ {
		m := ConsumerGroupMember{ID: d.u32()}
		n := d.u32()
		if d.err == nil && uint64(n)*4 > uint64(d.remaining()) {
			d.fail(ErrInvalidCommand)
		}
		for j := uint32(0); d.err == nil && j < n; j++ {
			m.Partitions = append(m.Partitions, d.u32())
		}
		g.Members = append(g.Members, m)
	}
	if err := d.end(); err != nil {
		return ConsumerGroupDetails{}, err
	}
	return g, nil
}

// ConsumerOffset is the GetConsumerOffset response (20 bytes).
type ConsumerOffset struct {
	PartitionID   uint32
	CurrentOffset uint64
	StoredOffset  uint64
}

// AppendTo appends the encoding of o.
func (o *ConsumerOffset) AppendTo(dst []byte) []byte {
	dst = appendU32(dst, o.PartitionID)
	dst = appendU64(dst, o.CurrentOffset)
	return appendU64(dst, o.StoredOffset)
}

// ParseConsumerOffset decodes a GetConsumerOffset response.
func ParseConsumerOffset(b []byte) (ConsumerOffset, error) {
	d := decoder{b: b}
	o := ConsumerOffset{PartitionID: d.u32(), CurrentOffset: d.u64(), StoredOffset: d.u64()}
	return o, d.end()
}

// Transports of a client session.
const (
	TransportTCP       uint8 = 1
	TransportQUIC      uint8 = 2
	TransportHTTP      uint8 = 3
	TransportWebSocket uint8 = 4
)

// AnonymousUserID is the user id of a session that has not logged in.
const AnonymousUserID uint32 = math.MaxUint32

// ClientInfo is one GetClients entry.
type ClientInfo struct {
	ClientID            uint32
	UserID              uint32 // AnonymousUserID when not logged in
	Transport           uint8
	Address             string
	ConsumerGroupsCount uint32
}

// AppendTo appends the encoding of c.
func (c *ClientInfo) AppendTo(dst []byte) []byte {
	dst = appendU32(dst, c.ClientID)
	dst = appendU32(dst, c.UserID)
	dst = append(dst, c.Transport)
	dst = appendStr32(dst, c.Address)
	return appendU32(dst, c.ConsumerGroupsCount)
}

func (d *decoder) clientInfo() ClientInfo {
	var c ClientInfo
	c.ClientID = d.u32()
	c.UserID = d.u32()
	c.Transport = d.u8()
	c.Address = d.str32()
	c.ConsumerGroupsCount = d.u32()
	return c
}

// ParseClients decodes a GetClients response.
func ParseClients(b []byte) ([]ClientInfo, error) { return parseList(b, (*decoder).clientInfo) }

// ClientGroup is a consumer group a client session has joined.
type ClientGroup struct {
	StreamID uint32
	TopicID  uint32
	GroupID  uint32
}

// ClientDetails is the GetMe and GetClient response.
type ClientDetails struct {
	ClientInfo
	ConsumerGroups []ClientGroup
}

// AppendTo appends the encoding of c; ConsumerGroupsCount is written as
// len(ConsumerGroups).
func (c *ClientDetails) AppendTo(dst []byte) []byte {
	ci := c.ClientInfo
	ci.ConsumerGroupsCount = uint32(len(c.ConsumerGroups))
	dst = ci.AppendTo(dst)
	for _, g := range c.ConsumerGroups {
		dst = appendU32(dst, g.StreamID)
		dst = appendU32(dst, g.TopicID)
		dst = appendU32(dst, g.GroupID)
	}
	return dst
}

// ParseClientDetails decodes a GetMe or GetClient response.
func ParseClientDetails(b []byte) (ClientDetails, error) {
	d := decoder{b: b}
	c := ClientDetails{ClientInfo: d.clientInfo()}
	if d.err == nil && uint64(c.ConsumerGroupsCount)*12 != uint64(d.remaining()) {
		d.fail(ErrInvalidFormat)
	}
	for i := uint32(0); d.err == nil && i < c.ConsumerGroupsCount; i++ {
		c.ConsumerGroups = append(c.ConsumerGroups, ClientGroup{d.u32(), d.u32(), d.u32()})
	}
	if d.err != nil {
		return ClientDetails{}, d.err
	}
	return c, nil
}

// CacheMetrics is one per-partition cache entry of Stats.
type CacheMetrics struct {
	StreamID    uint32
	TopicID     uint32
	PartitionID uint32
	Hits        uint64
	Misses      uint64
	HitRatio    float32
}

// Stats is the GetStats response.
type Stats struct {
	ProcessID           uint32
	CPUUsage            float32
	TotalCPUUsage       float32
	MemoryUsage         uint64
	TotalMemory         uint64
	AvailableMemory     uint64
	RunTime             uint64 // µs
	StartTime           uint64 // µs since the epoch
	ReadBytes           uint64
	WrittenBytes        uint64
	MessagesSizeBytes   uint64
	StreamsCount        uint32
	TopicsCount         uint32
	PartitionsCount     uint32
	SegmentsCount       uint32
	MessagesCount       uint64
	ClientsCount        uint32
	ConsumerGroupsCount uint32
	Hostname            string
	OSName              string
	OSVersion           string
	KernelVersion       string
	ServerVersion       string
	ServerSemver        uint32 // major*1_000_000+minor*1000+patch; 0.8.0 → 8000
	CacheMetrics        []CacheMetrics
	ThreadsCount        uint32
	FreeDiskSpace       uint64
	TotalDiskSpace      uint64
}

// AppendTo appends the encoding of s.
func (s *Stats) AppendTo(dst []byte) []byte {
	dst = appendU32(dst, s.ProcessID)
	dst = appendU32(dst, math.Float32bits(s.CPUUsage))
	dst = appendU32(dst, math.Float32bits(s.TotalCPUUsage))
	for _, v := range [...]uint64{s.MemoryUsage, s.TotalMemory, s.AvailableMemory, s.RunTime,
		s.StartTime, s.ReadBytes, s.WrittenBytes, s.MessagesSizeBytes} {
		dst = appendU64(dst, v)
	}
	dst = appendU32(dst, s.StreamsCount)
	dst = appendU32(dst, s.TopicsCount)
	dst = appendU32(dst, s.PartitionsCount)
	dst = appendU32(dst, s.SegmentsCount)
	dst = appendU64(dst, s.MessagesCount)
	dst = appendU32(dst, s.ClientsCount)
	dst = appendU32(dst, s.ConsumerGroupsCount)
	for _, v := range [...]string{s.Hostname, s.OSName, s.OSVersion, s.KernelVersion, s.ServerVersion} {
		dst = appendStr32(dst, v)
	}
	dst = appendU32(dst, s.ServerSemver)
	dst = appendU32(dst, uint32(len(s.CacheMetrics)))
	for _, c := range s.CacheMetrics {
		dst = appendU32(dst, c.StreamID)
		dst = appendU32(dst, c.TopicID)
		dst = appendU32(dst, c.PartitionID)
		dst = appendU64(dst, c.Hits)
		dst = appendU64(dst, c.Misses)
		dst = appendU32(dst, math.Float32bits(c.HitRatio))
	}
	dst = appendU32(dst, s.ThreadsCount)
	dst = appendU64(dst, s.FreeDiskSpace)
	return appendU64(dst, s.TotalDiskSpace)
}

// ParseStats decodes a GetStats response. Fields after the kernel version
// were added over time; a response that ends early leaves them zero, and
// trailing bytes from a newer server are ignored.
func ParseStats(b []byte) (Stats, error) {
	d := decoder{b: b}
	var s Stats
	s.ProcessID = d.u32()
	s.CPUUsage = math.Float32frombits(d.u32())
	s.TotalCPUUsage = math.Float32frombits(d.u32())
	for _, p := range [...]*uint64{&s.MemoryUsage, &s.TotalMemory, &s.AvailableMemory, &s.RunTime,
		&s.StartTime, &s.ReadBytes, &s.WrittenBytes, &s.MessagesSizeBytes} {
		*p = d.u64()
	}
	s.StreamsCount = d.u32()
	s.TopicsCount = d.u32()
	s.PartitionsCount = d.u32()
	s.SegmentsCount = d.u32()
	s.MessagesCount = d.u64()
	s.ClientsCount = d.u32()
	s.ConsumerGroupsCount = d.u32()
	s.Hostname = d.str32()
	s.OSName = d.str32()
	s.OSVersion = d.str32()
	s.KernelVersion = d.str32()
	if d.err != nil {
		return Stats{}, d.err
	}
	if d.remaining() == 0 {
		return s, nil
	}
	s.ServerVersion = d.str32()
	s.ServerSemver = d.u32()
	n := d.u32()
	if d.err == nil && uint64(n)*36 > uint64(d.remaining()) {
		d.fail(ErrInvalidCommand)
	}
	for i := uint32(0); d.err == nil && i < n; i++ {
		s.CacheMetrics = append(s.CacheMetrics, CacheMetrics{
			StreamID: d.u32(), TopicID: d.u32(), PartitionID: d.u32(),
			Hits: d.u64(), Misses: d.u64(), HitRatio: math.Float32frombits(d.u32()),
		})
	}
	s.ThreadsCount = d.u32()
	s.FreeDiskSpace = d.u64()
	s.TotalDiskSpace = d.u64()
	if d.err != nil {
		return Stats{}, d.err
	}
	return s, nil
}

// Cluster node roles and statuses.
const (
	NodeRoleLeader   uint8 = 0
	NodeRoleFollower uint8 = 1

	NodeStatusHealthy     uint8 = 0
	NodeStatusStarting    uint8 = 1
	NodeStatusStopping    uint8 = 2
	NodeStatusUnreachable uint8 = 3
	NodeStatusMaintenance uint8 = 4
)

// ClusterNode is one node of ClusterMetadata.
type ClusterNode struct {
	Name     string
	IP       string
	TCPPort  uint16
	QUICPort uint16
	HTTPPort uint16
	WSPort   uint16
	Role     uint8
	Status   uint8
}

// ClusterMetadata is the GetClusterMetadata response.
type ClusterMetadata struct {
	Name  string
	Nodes []ClusterNode
}

// AppendTo appends the encoding of m.
func (m *ClusterMetadata) AppendTo(dst []byte) []byte {
	dst = appendStr32(dst, m.Name)
	dst = appendU32(dst, uint32(len(m.Nodes)))
	for _, n := range m.Nodes {
		dst = appendStr32(dst, n.Name)
		dst = appendStr32(dst, n.IP)
		for _, p := range [...]uint16{n.TCPPort, n.QUICPort, n.HTTPPort, n.WSPort} {
			dst = append(dst, byte(p), byte(p>>8))
		}
		dst = append(dst, n.Role, n.Status)
	}
	return dst
}

// ParseClusterMetadata decodes a GetClusterMetadata response.
func ParseClusterMetadata(b []byte) (ClusterMetadata, error) {
	d := decoder{b: b}
	m := ClusterMetadata{Name: d.str32()}
	n := d.u32()
	if d.err == nil && uint64(n)*18 > uint64(d.remaining()) {
		d.fail(ErrInvalidCommand)
	}
	for i := uint32(0); d.err == nil && i < n; i++ {
		var c ClusterNode
		c.Name = d.str32()
		c.IP = d.str32()
		c.TCPPort = d.u16()
		c.QUICPort = d.u16()
		c.HTTPPort = d.u16()
		c.WSPort = d.u16()
		c.Role = d.u8()
		c.Status = d.u8()
		m.Nodes = append(m.Nodes, c)
	}
	if err := d.end(); err != nil {
		return ClusterMetadata{}, err
	}
	return m, nil
}
