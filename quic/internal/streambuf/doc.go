// Package streambuf holds the byte buffers behind a QUIC stream: the receive
// side, which reassembles STREAM frame data that arrives out of order, and
// the send side, which keeps written bytes until the peer acknowledges them
// and hands out what to send next — lost ranges first, then new data — so
// that the connection retransmits frames, not packets (RFC 9000 §13.3).
//
// Both sides store bytes in fixed-size chunks (16 KiB) from a shared pool,
// so a stream in steady state allocates nothing, and a stream that goes idle
// gives its memory back. STREAM data is copied once on receipt, into the
// buffer the application reads from, and once on write, into the buffer
// frames are packed from.
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
//     touches again (it writes only the gaps).
//
// Each part has its own lock, so reading and writing a stream never wait
// on each other, and a lock is held only for bookkeeping. Send and Recv
// are the same buffers without locks, for CRYPTO streams, which only the
// connection touches.
//
// Flow-control limits are the caller's: a receiving part refuses data
// beyond the limit it advertised (RFC 9000 §4.1, ErrFlowControl). The
// buffers enforce the final-size rules of RFC 9000 §4.5, which are about
// the bytes themselves (ErrFinalSize).
package streambuf
