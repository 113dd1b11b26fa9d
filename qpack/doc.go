// Package qpack implements QPACK, the field compression of HTTP/3
// (RFC 9204), with the Huffman code of HPACK (RFC 7541 Appendix B). It is
// sans-I/O: field sections and encoder/decoder stream bytes go in and come
// out; the HTTP/3 layer moves them over streams.
//
// # Decoder
//
// A Decoder is configured with our SETTINGS (SetMaxTableCapacity,
// SetMaxBlockedStreams, SetMaxFieldSectionSize). WriteEncoderStream feeds the
// peer's encoder stream (instructions may be split anywhere across calls).
// DecodeFieldSection decodes a request or response field section; a section
// that needs entries not yet received (RFC 9204 §2.1.2) is copied and held,
// decoded as soon as WriteEncoderStream brings its entries, and reported by
// AppendUnblocked. DecodeFieldSectionFunc is the allocation-free variant that
// hands fields to a callback as byte slices. AppendDecoderStream returns the
// Section Acknowledgment, Stream Cancellation (after CancelStream) and Insert
// Count Increment instructions to send. CancelStream also drops a section
// held for that stream and frees its place among the blocked streams, so
// that a stream reset while blocked costs nothing afterwards (RFC 9204
// §4.4.2).
//
// # Encoder
//
// An Encoder learns the peer's SETTINGS through SetPeerSettings; until then,
// or with SetMaxTableCapacity(0), it uses the static table only.
// EncodeFieldSection encodes a section and queues the encoder stream
// instructions it needs (AppendEncoderStream); WriteDecoderStream processes
// the peer's acknowledgments and cancellations. The indexing policy (which
// fields are inserted, draining and Duplicate, blocked-stream accounting) is
// documented on Encoder. The encoder never evicts an entry that an
// unacknowledged section references (RFC 9204 §2.1.1). Its Base is the
// Insert Count when a section starts, so entries it inserts while encoding
// the section are referenced with post-base indices.
//
// # Limits and errors
//
// Errors are *Error carrying the RFC 9204 §6 code: QPACK_DECOMPRESSION_FAILED
// for field sections, QPACK_ENCODER_STREAM_ERROR and
// QPACK_DECODER_STREAM_ERROR for the two streams. All are connection errors,
// and an Encoder or Decoder that returned one accepts no more input of that
// kind. Against a hostile peer: integers above 2^62-1 are refused; the
// dynamic table never exceeds our maximum capacity; a string on the encoder
// stream longer than the table capacity is refused from its length prefix,
// before it is buffered or decoded; at most one partial instruction is
// buffered, and it is not parsed again until enough bytes have arrived to
// complete the string it waits for; the number of held sections is bounded by
// SETTINGS_QPACK_BLOCKED_STREAMS; a section larger than
// SETTINGS_MAX_FIELD_SECTION_SIZE (counted per RFC 9114 §4.2.2 as name +
// value + 32 per field) fails with ErrFieldSectionTooLarge, a message-level
// error after which the connection state is intact, and no literal longer
// than that limit is decoded.
//
// The Huffman decoder is a table-driven automaton that consumes a byte per
// step (a 64 Ki-entry table, 256 KiB, built at init from the RFC 7541 code);
// EOS in the data, padding longer than 7 bits, and padding that is not all
// ones are errors (RFC 7541 §5.2).
//
// # Not done yet
//
//   - The bytes of a held (blocked) section are bounded only by the size of
//     the HEADERS frame the HTTP/3 layer accepted, times
//     SETTINGS_QPACK_BLOCKED_STREAMS; how long it is held is the HTTP/3
//     layer's choice (package h3 calls CancelStream when the stream is
//     reset, the request ends, or its header read times out).
//   - The QPACK interop corpus was produced under draft-05, where the table
//     started at its maximum capacity; its test sets that up by hand. Our
//     decoder follows RFC 9204 (initial capacity 0).
//   - The encoder does not shrink its table capacity after the first Set
//     Dynamic Table Capacity, and it takes the peer's SETTINGS once.
//   - The encoder does not split a large cookie into crumbs (RFC 9114
//     §4.2.1); the HTTP/3 layer may do so before encoding.
//   - Decoding a section with DecodeFieldSection allocates the literal
//     strings; fields from the static or dynamic table are shared.
package qpack
