package wire

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// Limits on names and credentials (server 0.8.0).
const (
	MaxNameLength        = 255
	MinUsernameLength    = 3
	MaxUsernameLength    = 50
	MinPasswordLength    = 3
	MaxPasswordLength    = 100
	MaxPATNameLength     = 30
	MaxPartitionsCount   = 1000
	MaxMessagePayload    = 64_000_000
	MaxUserHeadersSize   = 100_000
	MaxMessagesKeyLength = 255
)

// Special u64 values of message expiry and max topic size.
const (
	// ServerDefault (0) asks the server for its configured value.
	ServerDefault uint64 = 0
	// Unlimited (u64::MAX) means never expire / no size limit.
	Unlimited uint64 = 1<<64 - 1
)

// IDKind says how an Identifier is encoded.
type IDKind uint8

// Identifier kinds.
const (
	IDNumeric IDKind = 1
	IDString  IDKind = 2
)

// Identifier names a stream, topic, consumer group, user or consumer, by
// number or by name. The zero value is not valid; use NumericID or StringID.
type Identifier struct {
	Kind IDKind
	Num  uint32
	Str  string
}

// NumericID returns the numeric identifier n (ids are 0-based since 0.6.0).
func NumericID(n uint32) Identifier { return Identifier{Kind: IDNumeric, Num: n} }

// StringID returns the string identifier s. It is checked when encoded
// (1..255 bytes); use Validate to check it early.
func StringID(s string) Identifier { return Identifier{Kind: IDString, Str: s} }

// String renders the identifier for messages: 5 or "name".
func (id Identifier) String() string {
	switch id.Kind {
	case IDNumeric:
		return strconv.FormatUint(uint64(id.Num), 10)
	case IDString:
		return strconv.Quote(id.Str)
	}
	return "<invalid identifier>"
}

// Validate reports whether the identifier can be encoded.
func (id Identifier) Validate() error {
	switch id.Kind {
	case IDNumeric:
		return nil
	case IDString:
		if len(id.Str) == 0 || len(id.Str) > MaxNameLength || !utf8.ValidString(id.Str) {
			return ErrInvalidIdentifier
		}
		return nil
	}
	return ErrInvalidIdentifier
}

// Size is the encoded size in bytes.
func (id Identifier) Size() int {
	if id.Kind == IDNumeric {
		return 6
	}
	return 2 + len(id.Str)
}

// AppendIdentifier appends id's encoding. Invalid identifiers are an error
// so a bad name never produces a malformed frame.
func AppendIdentifier(dst []byte, id Identifier) ([]byte, error) {
	if err := id.Validate(); err != nil {
		return dst, err
	}
	if id.Kind == IDNumeric {
		dst = append(dst, byte(IDNumeric), 4)
		return appendU32(dst, id.Num), nil
	}
	dst = append(dst, byte(IDString), byte(len(id.Str)))
	return append(dst, id.Str...), nil
}

func (d *decoder) identifier() Identifier {
	kind := IDKind(d.u8())
	n := int(d.u8())
	b := d.bytes(n)
	if d.err != nil {
		return Identifier{}
	}
	// Error codes follow Iggy 0.8's decoder: a validation failure (bad
	// length) is InvalidFormat; bad UTF-8 or an unknown kind is
	// InvalidCommand.
	switch kind {
	case IDNumeric:
		if n != 4 {
			d.fail(ErrInvalidFormat)
			return Identifier{}
		}
		return NumericID(binary.LittleEndian.Uint32(b))
	case IDString:
		if n == 0 {
			d.fail(ErrInvalidFormat)
			return Identifier{}
		}
		if !utf8.Valid(b) {
			d.fail(ErrInvalidCommand)
			return Identifier{}
		}
		return StringID(string(b))
	}
	d.fail(ErrInvalidCommand)
	return Identifier{}
}

// ParseIdentifier decodes one identifier from the start of b and returns the
// number of bytes it used.
func ParseIdentifier(b []byte) (Identifier, int, error) {
	d := decoder{b: b}
	id := d.identifier()
	return id, d.off, d.err
}

// validName checks a 1..255-byte UTF-8 name, returning bad if it is not one.
func validName(s string, bad *Error) error {
	if len(s) == 0 || len(s) > MaxNameLength || !utf8.ValidString(s) {
		return bad
	}
	return nil
}

// name8 reads a Name (u8 length, 1..255 bytes of UTF-8). As in Iggy's
// decoder an empty name is InvalidFormat and bad UTF-8 InvalidCommand.
func (d *decoder) name8() string {
	n := int(d.u8())
	b := d.bytes(n)
	if d.err != nil {
		return ""
	}
	if n == 0 {
		d.fail(ErrInvalidFormat)
		return ""
	}
	if !utf8.Valid(b) {
		d.fail(ErrInvalidCommand)
		return ""
	}
	return string(b)
}

// ConsumerKind distinguishes a single consumer from a consumer group.
type ConsumerKind uint8

// Consumer kinds.
const (
	ConsumerSingle ConsumerKind = 1
	ConsumerGroup  ConsumerKind = 2
)

// Consumer identifies who polls or owns an offset.
type Consumer struct {
	Kind ConsumerKind
	ID   Identifier
}

// NewConsumer returns a single consumer with the given id.
func NewConsumer(id Identifier) Consumer { return Consumer{Kind: ConsumerSingle, ID: id} }

// NewGroupConsumer returns a consumer-group consumer.
func NewGroupConsumer(group Identifier) Consumer { return Consumer{Kind: ConsumerGroup, ID: group} }

// AppendConsumer appends c's encoding.
func AppendConsumer(dst []byte, c Consumer) ([]byte, error) {
	if c.Kind != ConsumerSingle && c.Kind != ConsumerGroup {
		return dst, ErrInvalidFormat
	}
	return AppendIdentifier(append(dst, byte(c.Kind)), c.ID)
}

func (d *decoder) consumer() Consumer {
	k := ConsumerKind(d.u8())
	if d.err == nil && k != ConsumerSingle && k != ConsumerGroup {
		d.fail(ErrInvalidCommand)
	}
	return Consumer{Kind: k, ID: d.identifier()}
}

// PartitioningKind says how SendMessages picks a partition.
type PartitioningKind uint8

// Partitioning kinds.
const (
	PartitionBalanced     PartitioningKind = 1
	PartitionByID         PartitioningKind = 2
	PartitionByMessageKey PartitioningKind = 3
)

// Partitioning selects the partition of a SendMessages batch.
type Partitioning struct {
	Kind        PartitioningKind
	PartitionID uint32
	Key         []byte // MessagesKey: 1..255 bytes
}

// Balanced lets the server round-robin across partitions.
func Balanced() Partitioning { return Partitioning{Kind: PartitionBalanced} }

// PartitionID sends to partition id.
func PartitionID(id uint32) Partitioning { return Partitioning{Kind: PartitionByID, PartitionID: id} }

// MessagesKey sends to XXH32(key) % partitions.
func MessagesKey(key []byte) Partitioning { return Partitioning{Kind: PartitionByMessageKey, Key: key} }

// Size is the encoded size in bytes.
func (p Partitioning) Size() int {
	switch p.Kind {
	case PartitionByID:
		return 6
	case PartitionByMessageKey:
		return 2 + len(p.Key)
	}
	return 2
}

// Validate reports whether p can be encoded.
func (p Partitioning) Validate() error {
	switch p.Kind {
	case PartitionBalanced, PartitionByID:
		return nil
	case PartitionByMessageKey:
		if len(p.Key) == 0 || len(p.Key) > MaxMessagesKeyLength {
			return ErrInvalidKeyValueLength
		}
		return nil
	}
	return ErrInvalidFormat
}

// AppendPartitioning appends p's encoding.
func AppendPartitioning(dst []byte, p Partitioning) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return dst, err
	}
	switch p.Kind {
	case PartitionByID:
		dst = append(dst, byte(PartitionByID), 4)
		return appendU32(dst, p.PartitionID), nil
	case PartitionByMessageKey:
		dst = append(dst, byte(PartitionByMessageKey), byte(len(p.Key)))
		return append(dst, p.Key...), nil
	}
	return append(dst, byte(PartitionBalanced), 0), nil
}

func (d *decoder) partitioning() Partitioning {
	k := PartitioningKind(d.u8())
	n := int(d.u8())
	if d.err != nil {
		return Partitioning{}
	}
	switch k {
	case PartitionBalanced:
		if n != 0 {
			d.fail(ErrInvalidFormat)
		}
		return Partitioning{Kind: k}
	case PartitionByID:
		if n != 4 {
			d.fail(ErrInvalidFormat)
			return Partitioning{}
		}
		return Partitioning{Kind: k, PartitionID: d.u32()}
	case PartitionByMessageKey:
		if n == 0 {
			d.fail(ErrInvalidFormat)
			return Partitioning{}
		}
		return Partitioning{Kind: k, Key: d.bytes(n)}
	}
	d.fail(ErrInvalidCommand)
	return Partitioning{}
}

// PollingKind is the start position of a poll.
type PollingKind uint8

// Polling strategies.
const (
	PollOffset    PollingKind = 1
	PollTimestamp PollingKind = 2
	PollFirst     PollingKind = 3
	PollLast      PollingKind = 4
	PollNext      PollingKind = 5
)

// PollingStrategy says where a poll starts; Value is an offset or a µs
// timestamp and is 0 for First, Last and Next.
type PollingStrategy struct {
	Kind  PollingKind
	Value uint64
}

// Strategy constructors.
func PollFromOffset(o uint64) PollingStrategy     { return PollingStrategy{PollOffset, o} }
func PollFromTimestamp(us uint64) PollingStrategy { return PollingStrategy{PollTimestamp, us} }
func PollFromFirst() PollingStrategy              { return PollingStrategy{Kind: PollFirst} }
func PollFromLast() PollingStrategy               { return PollingStrategy{Kind: PollLast} }
func PollFromNext() PollingStrategy               { return PollingStrategy{Kind: PollNext} }

func (d *decoder) pollingStrategy() PollingStrategy {
	k := PollingKind(d.u8())
	v := d.u64()
	if d.err == nil && (k < PollOffset || k > PollNext) {
		d.fail(ErrInvalidCommand)
	}
	return PollingStrategy{Kind: k, Value: v}
}

// OptionalPartition is the 5-byte "flag u8 · u32" partition id of poll and
// consumer-offset requests.
type OptionalPartition struct {
	ID    uint32
	Valid bool
}

// SomePartition returns a set partition id.
func SomePartition(id uint32) OptionalPartition { return OptionalPartition{ID: id, Valid: true} }

func appendOptPartition(dst []byte, p OptionalPartition) []byte {
	if !p.Valid {
		return append(dst, 0, 0, 0, 0, 0)
	}
	return appendU32(append(dst, 1), p.ID)
}

func (d *decoder) optPartition() OptionalPartition {
	flag := d.u8()
	id := d.u32()
	if d.err == nil && flag > 1 {
		d.fail(ErrInvalidFormat)
	}
	if flag == 0 {
		return OptionalPartition{}
	}
	return SomePartition(id)
}
