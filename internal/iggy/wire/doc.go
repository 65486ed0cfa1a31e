// Package wire holds the codecs of the Apache Iggy "classic" binary protocol
// (server 0.7.x–0.8.x): request and response framing, command codes, error
// codes, the primitives (identifiers, names, consumers, partitioning, polling
// strategies, user headers), the 64-byte message frame, and every request and
// response payload.
//
// Both directions are here. A client appends requests (Append* / the
// request types' AppendPayload) and parses responses (Parse*); a server parses
// requests (the request types' Decode, validating as Iggy does and returning
// the matching *Error) and appends responses (AppendTo, Append*). Package
// iggy (the client) and package iggy/server (the embedded server) both use
// this package and nothing else for the protocol, so the two cannot drift. Decoders never panic
// and never read out of bounds; message payloads and user headers are returned
// as sub-slices of the frame they were read from (zero copy), so they are valid
// only as long as that buffer is.
//
// # Seam for other protocol generations
//
// Everything here is the classic framing: [len][code][payload] requests and
// [status][len][payload] responses, one request in flight per connection.
// Server 0.9+ speaks VSR instead (256-byte consensus headers, a register
// handshake, a 256-byte batch header with 48-byte message headers; see
// docs/iggy-protocol.md §7.5). The client in package iggy talks to the server
// through its Codec interface, whose only implementation today frames
// requests with this package. A VSR codec would live in its own package
// (internal/iggy/vsr) and implement the same interface: it maps each classic
// command code to a VSR operation (reads go as NonReplicated with the classic
// code in the header's reserved bytes), wraps the classic payload bodies that
// are unchanged, and converts the message batch format. Payload codecs in this
// package that VSR keeps byte-identical (identifiers, names, most responses)
// can be reused from there; nothing in this package depends on the framing.
package wire
