package iggy

import (
	"context"
	"fmt"

	"github.com/ims-dev/ims/internal/iggy/wire"
)

// NewBatch returns a reusable SendMessages batch; see wire.Batch. Build it,
// then pass it to Send.
func NewBatch(stream, topic wire.Identifier, p wire.Partitioning, sizeHint int) *wire.Batch {
	return wire.NewBatch(stream, topic, p, sizeHint)
}

// Send sends a batch. The batch is not changed, so the caller may Reset and
// reuse it afterwards. If the connection drops after the batch was written
// the error matches ErrOutcomeUnknown (unless Config.RetrySends).
func (c *Client) Send(ctx context.Context, b *wire.Batch) error {
	frame, err := b.Frame()
	if err != nil {
		return fmt.Errorf("send messages: %w", err)
	}
	if err := c.lock(ctx); err != nil {
		return fmt.Errorf("send messages: %w", err)
	}
	_, err = c.roundTripLocked(ctx, wire.CmdSendMessages, frame, &c.rbuf, c.cfg.RetrySends)
	c.unlock()
	if err != nil {
		return fmt.Errorf("send %d messages: %w", b.Len(), err)
	}
	return nil
}

// Message is one message to send with SendMessages.
type Message struct {
	ID              wire.MessageID // zero: the server assigns one
	OriginTimestamp uint64         // µs; zero: left zero
	Payload         []byte
	Headers         []wire.Header
}

// SendMessages sends msgs in one batch built in a buffer the client keeps,
// so repeated calls allocate nothing per message. Use Send with your own
// batch to encode payloads in place.
func (c *Client) SendMessages(ctx context.Context, stream, topic wire.Identifier, p wire.Partitioning, msgs ...Message) error {
	if err := c.lock(ctx); err != nil {
		return fmt.Errorf("send messages: %w", err)
	}
	defer c.unlock()
	if c.batch == nil {
		c.batch = wire.NewBatch(stream, topic, p, len(msgs))
	} else {
		c.batch.Reset(stream, topic, p)
	}
	for i := range msgs {
		m := &msgs[i]
		if err := c.batch.Add(m.ID, m.OriginTimestamp, m.Payload, m.Headers); err != nil {
			return fmt.Errorf("send messages to %v/%v: message %d: %w", stream, topic, i, err)
		}
	}
	frame, err := c.batch.Frame()
	if err != nil {
		return fmt.Errorf("send messages to %v/%v: %w", stream, topic, err)
	}
	if _, err := c.roundTripLocked(ctx, wire.CmdSendMessages, frame, &c.rbuf, c.cfg.RetrySends); err != nil {
		return fmt.Errorf("send %d messages to %v/%v: %w", len(msgs), stream, topic, err)
	}
	return nil
}

// Polled holds the result of a poll: Messages are views into a buffer the
// Polled owns, valid until it is passed to Poll again. Reusing one Polled
// across polls allocates nothing once its buffers have grown. Use Copy (or
// Message.Clone) to keep messages longer.
type Polled struct {
	wire.PolledMessages
	buf []byte
}

// Copy returns the messages with payloads and headers copied out of the
// poll buffer, in one allocation for all of their bytes.
func (p *Polled) Copy() []wire.Message {
	out := make([]wire.Message, len(p.Messages))
	n := 0
	for i := range p.Messages {
		n += len(p.Messages[i].Payload) + len(p.Messages[i].UserHeaders)
	}
	buf := make([]byte, 0, n)
	for i, m := range p.Messages {
		s := len(buf)
		buf = append(buf, m.Payload...)
		m.Payload = buf[s:len(buf):len(buf)]
		if len(m.UserHeaders) > 0 {
			s = len(buf)
			buf = append(buf, m.UserHeaders...)
			m.UserHeaders = buf[s:len(buf):len(buf)]
		}
		out[i] = m
	}
	return out
}

// PollRequest says what to poll: who polls (wire.NewConsumer or
// wire.NewGroupConsumer), from where, how many, and whether the server
// stores the last offset polled.
type PollRequest = wire.PollMessages

// Poll reads messages into dst. An empty result is not an error. A poll
// whose reply is lost is repeated on a new connection unless it
// auto-commits (the server may have moved the offset past the lost
// messages); then the error matches ErrOutcomeUnknown.
func (c *Client) Poll(ctx context.Context, r *PollRequest, dst *Polled) error {
	if err := c.lock(ctx); err != nil {
		return fmt.Errorf("poll messages: %w", err)
	}
	var err error
	c.wbuf, err = wire.AppendRequestFrame(c.wbuf[:0], r)
	if err == nil {
		_, err = c.roundTripLocked(ctx, wire.CmdPollMessages, c.wbuf, &dst.buf, !r.AutoCommit)
	}
	c.unlock()
	if err == nil {
		err = wire.ParsePolledMessages(dst.buf, &dst.PolledMessages)
	}
	if err != nil {
		dst.Messages = dst.Messages[:0]
		return fmt.Errorf("poll messages from %v/%v: %w", r.TopicRef.Stream, r.TopicRef.Topic, err)
	}
	return nil
}
