// Package frame is the HTTP/3 framing layer of skiff (RFC 9114 §6.2, §7,
// §8.1), independent of any QUIC connection: it reads and writes the bytes
// of request, push and unidirectional streams and says which frames are
// allowed where.
//
//   - Frame appenders for DATA, HEADERS, CANCEL_PUSH, SETTINGS, PUSH_PROMISE,
//     GOAWAY, MAX_PUSH_ID and PRIORITY_UPDATE (RFC 9218 §7.2), plus any
//     type (AppendFrame) and the headers of unidirectional streams.
//   - Reader: a streaming frame reader over an io.Reader (a QUIC stream).
//     DATA payloads are read through Reader.Read into the caller's buffer,
//     so reading a DATA frame header allocates nothing; other payloads are
//     bounded (HEADERS and PUSH_PROMISE by MaxFieldSectionPayload, SETTINGS
//     by MaxSettingsPayload, PRIORITY_UPDATE by MaxPriorityUpdatePayload,
//     the one-varint frames by 8 bytes) and land in one reused buffer. Unknown and reserved frame types are skipped (§9,
//     §7.2.8), types reserved from HTTP/2 are H3_FRAME_UNEXPECTED.
//   - Settings and ParseSettings: QPACK_MAX_TABLE_CAPACITY and
//     QPACK_BLOCKED_STREAMS (RFC 9204 §5), MAX_FIELD_SECTION_SIZE,
//     ENABLE_CONNECT_PROTOCOL (RFC 9220) and H3_DATAGRAM (RFC 9297), with
//     the H3_SETTINGS_ERROR cases of §7.2.4.
//   - CheckAllowed (RFC 9114 Table 1), ControlStream (SETTINGS first and
//     once, GOAWAY and MAX_PUSH_ID identifiers), UniStreams (one control,
//     encoder and decoder stream each) and MessageState (HEADERS, DATA,
//     trailers, interim responses, CONNECT tunnels).
//   - Error, carrying an RFC 9114 §8.1 ErrCode, and greasing helpers for
//     reserved frame types, stream types, settings and error codes.
//
// Variable-length integers (RFC 9000 §16) come from internal/quicvarint,
// which the QUIC wire format shares: h3 may not import quic/internal.
//
// Not done: server push is parsed only far enough to reject it with the
// right code — skiff neither pushes nor sends MAX_PUSH_ID, so CANCEL_PUSH
// (ControlStream), PUSH_PROMISE (CheckAllowed) and push streams
// (UniStreams) are errors; unknown
// setting identifiers beyond the first 64 in one frame are not checked for
// duplicates (RFC 9114 §7.2.4 makes that check optional); the 0-RTT
// compatibility rules for remembered settings (§7.2.4.2) belong to the
// caller.
package frame
