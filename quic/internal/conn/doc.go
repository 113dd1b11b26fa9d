// Package conn is the state machine of one QUIC connection (RFC 9000, RFC
// 9001, RFC 9002 through quic/internal/recovery, RFC 9221 datagrams, RFC
// 9218 stream priorities), sans-I/O.
//
// A Conn takes datagrams and the time in and gives datagrams and events
// out: HandleDatagram processes a received datagram; AppendBurst writes
// the datagrams due now into a buffer the caller owns (one GSO burst);
// Deadline says when to call HandleTimer; Events reports what the owner
// must act on (handshake complete, streams opened, readable, writable,
// connection IDs issued and retired, stateless reset tokens, datagrams
// received, the current path changing and paths validated or abandoned,
// the connection closing and closed). A datagram comes with its Path (the
// owner's number for the local socket, and the peer's address:
// HandleDatagramOn); AppendBurst's datagrams are for CurrentPath, and
// AppendPathProbe gives those of PATH_CHALLENGE and PATH_RESPONSE due on
// other paths. It holds no lock, channel, context or goroutine, reads no
// clock and knows no socket or endpoint: one goroutine owns it (package
// quic's driver), and tests drive it directly under synthetic time.
//
// # What application goroutines share
//
// Only two things, neither of them the Conn's state:
//
//   - Each Stream's sending and receiving parts (quic/internal/streambuf
//     SendPart and RecvPart), each with its own small lock that guards
//     bookkeeping only: a Write copies into storage beyond the written end
//     and a Read copies from bytes already received, both outside the
//     lock. The exported methods of Stream are for application goroutines
//     and never block; the rest of Stream is the connection's.
//   - The Mailbox, all atomics: streams with work for the connection (a
//     lock-free list each stream enters at most once), the bytes consumed
//     for connection flow control, stream opening against the peer's
//     limit, and the memory of received datagrams streams hold
//     (HandleDatagramHeld) until the application reads it. An application goroutine leaves work and calls Wake, which
//     signals the owner only when the pending flag goes from false to
//     true; the owner calls TakePending and ProcessMailbox.
//
// The connection's own packet path takes no lock of the connection: the
// only locks it touches are a stream's parts, once per STREAM frame built
// (to slice the bytes) or received (to store them), and once per stream
// and ACK frame to release acknowledged storage.
//
// # Files
//
// Split by concern, as golang.org/x/net/quic is: recv.go (packets and
// frames in), send.go (packets out, coalescing, padding, GSO bursts),
// sealfrom.go (packets of stream data sealed straight from the send
// buffer: one pass over the bytes instead of a copy and a seal),
// frames.go (1-RTT frames, retransmission of frames as values, what
// recovery resolved), streams.go and stream.go, sched.go (the send order of
// streams: RFC 9218 urgency and incremental), flow.go (flow control with
// auto-tuned windows), connid.go (connection IDs, stateless reset),
// path.go (the paths: address and path validation, per-path
// anti-amplification limit, PATH_CHALLENGE and PATH_RESPONSE), quiet.go
// (a client's PING when a response stalls),
// migration.go (NAT rebinding, Migrate, the preferred address, returning
// to the last validated path, congestion state per path), revalidate.go
// (validating in the background the address the server returned from),
// close.go
// and idle.go (closing, draining, idle and handshake timeouts),
// lastprobe.go (one probe before the idle timeout when the PTO, backed
// off, would come after it),
// handshake.go (tls13 and transport parameters), zerortt.go (session
// tickets, 0-RTT in both roles), newtoken.go (NEW_TOKEN), keyupdate.go,
// vn.go (version negotiation between v1 and v2, compatible and
// incompatible, and Retry at the client), ackfreq.go (when to
// acknowledge; ACK_FREQUENCY and IMMEDIATE_ACK), pmtu.go (datagram size,
// DPLPMTUD with black hole detection), datagram.go, mailbox.go, events.go,
// appstate.go (what package quic's API reports of a connection and its
// streams beyond the events), inspect.go (what tests read), congestion.go
// (application-limited reports, the controller's state), probe.go (what PTO probes carry:
// unacknowledged CRYPTO data during the handshake, after it the data of
// the oldest packets in flight when there is no new data), trace.go and
// tracer.go (the Tracer's events, its path events in tracer.go, at the cost
// of a nil check when there is no Tracer).
//
// # Stream scheduling
//
// Streams with control frames to send (STOP_SENDING, MAX_STREAM_DATA,
// RESET_STREAM, STREAM_DATA_BLOCKED) go first, in order. Stream data then
// goes by priority (RFC 9218 §4, §10): the most urgent first; at one
// urgency, incremental streams take turns a packet at a time (a ring),
// the others are served one at a time in stream ID order (a heap), and
// the two kinds alternate. Visiting a stream costs O(1) (O(log n) for the
// heap) whatever the number of streams. The default is urgency 3,
// incremental: streams share the connection fairly unless the
// application says otherwise.
package conn
