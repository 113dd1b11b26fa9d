// Package qlog writes qlog traces of skiff's QUIC connections from the
// quic.Tracer hooks: one JSON Text Sequence (RFC 7464) per connection, in
// the QlogFileSeq schema of draft-ietf-quic-qlog-main-schema-14 (§5, §11.2)
// with events of draft-ietf-quic-qlog-quic-events-13.
//
// Use DirTracer for one file per connection, named
// <odcid hex>_<client|server>.sqlog as the QUIC Interop Runner expects in
// $QLOGDIR:
//
//	config := &quic.Config{TLS: tlsConfig, Tracer: qlog.DirTracer(os.Getenv("QLOGDIR"))}
//
// or NewTracer to write to any io.Writer.
//
// # What a trace holds
//
// A header record (file_schema "urn:ietf:params:qlog:file:sequential",
// serialization_format "application/qlog+json-seq", the vantage point, the
// ODCID as group_id, and event schema "urn:ietf:params:qlog:events:quic-13"
// as draft-13 §2.1 requires of draft implementations), then:
//
//   - quic:packet_sent and quic:packet_received: header.packet_type,
//     header.packet_number and raw.length (bytes on the wire);
//   - quic:connection_state_updated "handshake_complete" (and, for a
//     server, "handshake_confirmed", RFC 9001 §4.1.2);
//   - quic:migration_state_updated (§5.20) as paths are probed, validated,
//     abandoned and moved to, with tuple_local and tuple_remote, and
//     quic:mtu_updated (§4.8) as path MTU discovery finds sizes (paths.go);
//   - at the end, quic:connection_closed and a final
//     quic:recovery_metrics_updated with RTTs, congestion window, bytes in
//     flight and PTO count, plus the connection's Stats counters
//     (packets_sent, packets_received, …) as extra fields.
//
// Times are milliseconds (microsecond resolution) since the tracer was
// created, on the monotonic clock; the header's reference_time carries
// the wall-clock start.
//
// # I/O
//
// This package is an I/O adapter, not sans-I/O: the hooks read the clock
// and write, on the connection's goroutine. Records are built in one
// reused buffer with strconv appends and written through a bufio.Writer,
// so logging a packet does not allocate (TestPacketEventAllocs). The
// buffer is flushed when the handshake completes and when the connection
// closes; a process that dies in between leaves a file whose records are
// all complete except perhaps the last. Write errors end the trace
// silently rather than disturb the connection.
//
// # Not yet
//
// The Tracer hooks say nothing of frames, coalescing (datagram_id), lost
// packets, congestion state, transport parameters, versions, ALPN,
// connection IDs, key updates, dropped packets, addresses, or who closed
// the connection and why, so none of those events are logged; the
// connection_closed trigger is "unspecified" and the event is logged when
// the connection's state is discarded, after any closing or draining
// period. A connection that ends without its Closed hook being called
// keeps its file open and its last records unflushed.
package qlog
