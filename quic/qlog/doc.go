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
// as draft-13 §2.1 requires of draft implementations), then the events of
// quic-events draft-13 that debugging an interop failure needs:
//
//   - quic:packet_sent and quic:packet_received (§5.5, §5.6):
//     header.packet_type and header.packet_number, the frames (§8.13,
//     parsed from the decrypted payload with their fields; a run of
//     PADDING as one frame with raw.payload_length), raw.length (bytes on
//     the wire), datagram_id (packets coalesced in one datagram share it,
//     §9), is_mtu_probe_packet, and trigger "pto_probe" for PTO probes;
//   - quic:packet_lost (§7.4) with its trigger, "reordering_threshold" or
//     "time_threshold";
//   - quic:recovery_metrics_updated (§7.2) after ACK frames and loss
//     timers, with only the metrics that changed: min_rtt, smoothed_rtt,
//     latest_rtt, rtt_variance, pto_count, congestion_window,
//     bytes_in_flight, ssthresh, pacing_rate (bits per second), and for
//     BBR its model as extension fields: bbr_bw and bbr_max_bw (bits per
//     second), bbr_min_rtt, bbr_send_quantum, bbr_inflight_longterm and
//     bbr_inflight_shortterm;
//   - quic:congestion_state_updated (§7.3): "slow_start",
//     "congestion_avoidance" and "recovery" for NewReno and CUBIC, BBR's
//     states by their draft names ("Startup", "ProbeBW_UP", …), trigger
//     "packet_lost" when losses came with the change;
//   - quic:key_updated and quic:key_discarded (§6.1, §6.2): the keys TLS
//     made (trigger "tls") and 1-RTT key updates ("local_update",
//     "remote_update", with key_phase);
//   - quic:stream_state_updated (§5.13): each part of a stream "open",
//     "reset_sent", "reset_received" and "closed";
//   - quic:connection_id_updated (§4.4): the Destination Connection ID the
//     connection sends with;
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
// The tests read the drafts' CDDL (quic-events draft-13 and RawInfo of the
// main schema draft-14) and check every member of every event against it.
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
// so logging a packet, its frames, a loss or the metrics does not
// allocate (TestPacketEventAllocs, TestFrameEventAllocs). The
// buffer is flushed when the handshake completes and when the connection
// closes; a process that dies in between leaves a file whose records are
// all complete except perhaps the last. Write errors end the trace
// silently rather than disturb the connection.
//
// # Not yet
//
// Transport parameters, versions, ALPN, dropped packets (undecryptable,
// duplicates), and who closed the connection and why are not logged; the
// connection_closed trigger is "unspecified" and the event is logged when
// the connection's state is discarded: once its CONNECTION_CLOSE has gone
// out, or it started draining, when its endpoint keeps the rest of the
// period (package quic's lingering), else after the closing or draining
// period. A connection that ends without its Closed hook being called
// keeps its file open and its last records unflushed.
package qlog
