// Package streambuf holds the byte buffers behind a QUIC stream: the receive
// side, which reassembles STREAM frame data that arrives out of order, and
// the send side, which keeps written bytes until the peer acknowledges them
// and hands out what to send next — lost ranges first, then new data — so
// that the connection retransmits frames, not packets (RFC 9000 §13.3).
// The same bytes may be in flight twice (a PTO probe sends again data whose
// packet stays in flight) and acknowledged twice: the second
// acknowledgment changes nothing.
//
// Both sides store bytes in chunks of 64 KiB from shared pools, so a stream
// in steady state allocates nothing, and a stream that goes idle gives its
// memory back. A buffer that held nothing starts with a chunk sized to what
// is written (256 B, 1 KiB, 4 KiB or 16 KiB, growing to 64 KiB as it fills;
// the sizes count from the start of the 64 KiB the offset falls in), so that
// many streams with a few bytes each at their start hold a few hundred
// bytes each.
// STREAM data is copied once on write, into the buffer frames are packed
// from; the connection seals packets from there (SendPart.SliceHead lends it
// the bytes before a frame's data to lay the packet's first bytes in). It
// is copied once on receipt: in order, it is held where it was received
// (WriteHeld, held.go) and copied from the datagram's buffer to the
// application, as TCP copies; out of order, or beyond the limits on held
// data (the memory a connection's streams pin), it is copied into the
// chunks the application reads from.
//
// Reassembly (RFC 9000 §21.7) keeps no list of ranges, whose length the
// peer would choose: the bytes received out of order are marked in a
// bitmap per chunk (one bit per byte), so the state is bounded by the
// flow-control window plus an eighth, and a frame costs time in proportion
// to its length in whatever order frames come (1-byte frames with 1-byte
// gaps across a window cost the same in reverse order as in ascending
// order).
//
// For streams the application reads and writes, the buffers are shared
// between application goroutines and the connection's goroutine:
//
//   - SendPart holds the written bytes and what the application asked for
//     (FIN, reset); the connection's SendState keeps which bytes were
//     sent, lost or acknowledged, on its own. A Write copies outside the
//     part's lock, into storage past the written end, which the
//     connection never reads; only the connection frees storage, so the
//     bytes it slices for a frame stay valid after it unlocks.
//   - RecvPart holds the reassembly buffer, the advertised limit and what
//     the application asked for (STOP_SENDING, more credit). A Read copies
//     outside the lock, from bytes already received, which Write never
//     touches again (it writes only the gaps), and a held datagram is
//     released only under the lock, after the Read that copied from it.
//
// Each part has its own lock, so reading and writing a stream never wait
// on each other, and a lock is held only for bookkeeping. Send and Recv
// are the same buffers without locks, for CRYPTO streams, which only the
// connection touches.
//
// Flow-control limits are the caller's: a receiving part refuses data
// beyond the limit it advertised (RFC 9000 §4.1, ErrFlowControl), and a
// sending part takes no more from its writer than the peer's credit the
// connection published (SetCredit) plus the cushion Write is given. The
// buffers enforce the final-size rules of RFC 9000 §4.5, which are about
// the bytes themselves (ErrFinalSize).
package streambuf
