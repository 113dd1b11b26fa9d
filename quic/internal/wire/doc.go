// Package wire is the QUIC wire format: variable-length integers, packet
// numbers, packet headers, frames, transport errors and transport
// parameters. It is used by the sans-I/O connection; it holds no state and
// does no I/O or cryptography (packet and header protection live in
// quic/internal/protect).
//
// It implements:
//   - RFC 9000 §16 variable-length integers (internal/quicvarint's, which
//     HTTP/3 framing shares); §17.1 and Appendix A packet number encoding
//     and decoding;
//   - RFC 9000 §17 long headers (Initial, 0-RTT, Handshake, Retry), short
//     headers and Version Negotiation, for QUIC version 1 and version 2
//     (RFC 9369 §3.2 long header types), plus the RFC 8999 invariants a
//     server needs to answer an unknown version; coalesced packets
//     (RFC 9000 §12.2) are split with Header.PacketLen; the RFC 9000 §10.3
//     Stateless Reset layout;
//   - every RFC 9000 §19 frame, the RFC 9221 DATAGRAM frame and the
//     ACK_FREQUENCY and IMMEDIATE_ACK frames of
//     draft-ietf-quic-ack-frequency-14 (§4, §5; provisional types 0xaf and
//     0x1f), with the §12.4 rules on which frame may travel in which packet
//     type;
//   - RFC 9000 §20.1 transport error codes, as *TransportError;
//   - RFC 9000 §18 transport parameters with the §7.3, §7.4 and §18.2
//     checks, version_information (RFC 9368 §3), max_datagram_frame_size
//     (RFC 9221 §3), grease_quic_bit (RFC 9287) and min_ack_delay
//     (draft-ietf-quic-ack-frequency-14 §3, provisional 0xff04de1b; above
//     max_ack_delay it is a TRANSPORT_PARAMETER_ERROR).
//
// # Parsing
//
// Parsers never allocate on the packet path and never panic: ParseHeader
// returns connection IDs by value and tokens as views into the datagram.
// A received packet goes through ParseHeader (Header.PacketLen finds the
// next coalesced packet), header protection removal by the protection layer
// with Header.HeaderProtectionSample and HeaderProtectionMask,
// Header.ParsePacketNumber and DecodePacketNumber, payload decryption, then
// CheckReservedBits. Frames are parsed in two steps, so a receive loop switches on the type
// and calls the matching parser on the bytes after it:
//
//	t, n, err := wire.ParseFrameType(payload)
//	// check wire.CheckReceivedFrame(t, packetType, peerRole)
//	f, m, err := wire.ParseStreamFrame(t, payload[n:]) // for t.IsStream()
//	payload = payload[n+m:]
//
// STREAM, CRYPTO, DATAGRAM data, tokens and reason phrases are views into
// the packet; ACK ranges go into a slice the caller supplies. Malformed
// frames return a *TransportError with FRAME_ENCODING_ERROR (or
// PROTOCOL_VIOLATION) and the frame type; bad transport parameters return
// TRANSPORT_PARAMETER_ERROR. Header errors (ErrTruncatedHeader and the
// like) mean the packet is dropped, as RFC 9000 §5.2 and §12.2 require.
//
// # Building
//
// Each frame type has Append and Len methods. AppendLongHeader reserves the
// Length field and PutLongHeaderLength fills it once the payload is known;
// AppendShortHeader, AppendRetry (without its integrity tag) and
// AppendVersionNegotiation complete the set.
//
// # Limits
//
//   - Checks that need connection state stay with the connection: stream
//     ID direction and limits, flow control, whether DATAGRAM was
//     negotiated, retry_source_connection_id presence after a Retry, a
//     non-empty Token in a server's Initial, the 1200-byte Initial datagram
//     minimum, and the payload having at least one frame.
//   - A long header built here carries a 2-byte Length field, enough for
//     any packet up to 16383 bytes.
//   - Duplicate transport parameters are detected among the known ones
//     only: remembering unknown identifiers would take memory the peer
//     controls.
//   - Of the choices the RFC leaves open, RETIRE_CONNECTION_ID in a 0-RTT
//     packet is refused (§12.5), and a STREAMS_BLOCKED count above 2^60 is a
//     FRAME_ENCODING_ERROR (§19.14).
//   - A fixed bit of zero (RFC 9287) is accepted on parse when asked, but
//     this package always sets the bit when building headers.
package wire
