// Package hostile plays hostile peers against skiff's QUIC and HTTP/3
// servers, for tests and the soak test (make soak): forged first flights
// from many source ports (a half-open flood, RFC 9000 §8, §21.1),
// garbage datagrams, short header packets for unknown connections (which
// draw stateless resets), long headers of unknown versions.
//
// It is a test tool: nothing outside tests imports it. A forged first
// flight is a real client's first flight (its ClientHello in Initial
// packets of at least 1200 bytes, RFC 9000 §14.1) sealed again under the
// Initial keys of a fresh Destination Connection ID, so each one makes a
// server that accepts it start a connection and do the full TLS work,
// while forging one costs a few microseconds.
package hostile
