// Package perf implements the QUIC performance protocol
// (draft-banks-quic-performance-00, ALPN "perf") over a small transport
// abstraction, so that one client and one server can drive skiff, quic-go
// and crypto/tls over TCP side by side.
//
// # Protocol (draft-banks-quic-performance-00 §2.3)
//
// The client opens a bidirectional stream, writes the number of bytes it
// wants back as an 8-byte big-endian integer (§2.3.1), uploads any bytes it
// wishes and closes its side of the stream (FIN). The server reads the
// 8-byte size, drains the upload until FIN, then sends the requested number
// of bytes and FIN. This package's server waits for the client's FIN before
// answering (the draft leaves that open in §2.3). A stream that ends before
// 8 bytes arrive is ignored and closed (§2.3.1). A requested size of
// 0xFFFFFFFFFFFFFFFF means "until the client goes away" (§2.3.1). Payload is
// one preallocated pseudo-random buffer sent over and over (§4.1), which a
// receiver can check cheaply with a memory compare.
//
// # Transports
//
// [Transport] bundles a [Listener] factory and a [Dialer] factory. Three
// adapters exist:
//
//   - [Skiff]: skiff's quic package with its default configuration; the
//     dialer shares one endpoint (one socket) across its connections.
//   - [QuicGo]: github.com/quic-go/quic-go with default configuration; the
//     dialer shares one UDP socket (one quic.Transport) across connections.
//   - [TCPTLS]: crypto/tls (TLS 1.3 only) over TCP. TCP has no streams, so a
//     connection carries streams one after another, HTTP/1.1 keep-alive
//     style: each direction of a stream is a sequence of frames, a 2-byte
//     big-endian length then that many bytes, and a zero-length frame is the
//     FIN. A frame is at most 16382 bytes so that it fills one TLS record.
//     The sender copies each frame once into a per-connection buffer (a
//     memcpy the QUIC adapters do not pay); the receiver reads frames in
//     place. Only one stream is open at a time on a TCP connection: OpenStream
//     and AcceptStream wait until the previous stream has ended both ways.
//
// # Limits
//
// Unidirectional streams (§2.3.2) and the configuration exchange (§2.2,
// still TODO in the draft) are not implemented. Payload verification is a
// pattern compare, not a cryptographic hash; tests hash both directions.
package perf
