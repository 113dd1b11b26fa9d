// Package quic will be skiff's QUIC transport (RFC 9000, RFC 9001, RFC 9002):
// the public API (Config, Endpoint, Listen, Dial, Conn, Stream) and the
// drivers — one goroutine per socket, one per connection — around the
// sans-I/O connection in quic/internal.
//
// What exists today lives below it:
//
//   - quic/internal/wire: variable-length integers, packet numbers, long and
//     short headers, Version Negotiation, every frame of RFC 9000 §19 and
//     DATAGRAM (RFC 9221), transport parameters with their validation.
//   - quic/internal/protect: packet protection (RFC 9001 §5, RFC 9369):
//     Initial secrets, AEADs, header protection, key update, Retry tags.
//
// Not yet: connections, streams, flow control, loss recovery and the public
// API. See the README's status table.
package quic
