// Package streambuf holds the byte buffers behind a QUIC stream: the receive
// side, which reassembles STREAM frame data that arrives out of order, and
// the send side, which keeps written bytes until the peer acknowledges them
// and hands out what to send next — lost ranges first, then new data — so
// that the connection retransmits frames, not packets (RFC 9000 §13.3).
//
// Both sides store bytes in fixed-size chunks from a shared pool, so a
// stream in steady state allocates nothing, and a stream that goes idle gives
// its memory back. STREAM data is copied once on receipt, into the buffer the
// application reads from, and once on write, into the buffer frames are
// packed from.
//
// Flow-control limits are the caller's: the receive buffer holds whatever
// offsets it is given, and the connection refuses data beyond the limit it
// advertised (RFC 9000 §4.1) before it gets here. The buffers enforce the
// final-size rules of RFC 9000 §4.5, which are about the bytes themselves.
//
// Neither side is safe for concurrent use; the connection guards each stream.
package streambuf
