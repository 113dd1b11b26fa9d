// Package quic is skiff's QUIC transport (RFC 9000, RFC 9001, RFC 9002,
// RFC 9221 datagrams, RFC 9369 version 2 on the wire).
//
// Use Listen and Dial, or an Endpoint for one socket serving both roles:
//
//	ln, err := quic.Listen("udp", "127.0.0.1:4433", &quic.Config{TLS: serverTLS})
//	conn, err := ln.Accept(ctx)
//	str, err := conn.AcceptStream(ctx)
//
//	conn, err := quic.Dial(ctx, "udp", "127.0.0.1:4433", &quic.Config{TLS: clientTLS})
//	str, err := conn.OpenStream(ctx)
//
// # Structure
//
// A connection's protocol state is a sans-I/O state machine in
// quic/internal/conn: datagrams and the time in, datagrams and events out,
// with no lock, channel, clock, goroutine or socket inside. One goroutine
// per connection, its driver (conn_driver.go), owns it and is the only
// code that touches it: each turn it takes the datagrams the endpoint
// handed over and the work application goroutines left, runs the timers,
// sends what is due in GSO bursts and acts on the events (waking readers
// and writers, routing connection IDs, queueing accepted streams).
//
// Application goroutines never touch the state machine. A Stream's Read
// and Write work on that stream's buffers, each side with its own small
// lock and the copy done outside it; they, and OpenStream, CloseWithError
// and the rest, leave work in the connection's mailbox and wake the
// driver through an atomic flag, signalling its channel only when the flag
// goes up. The packet path takes no connection lock.
//
// One goroutine per Endpoint reads the socket in batches through udpio and
// hands datagrams to connections by connection ID (endpoint_recv.go). Loss
// detection is quic/internal/recovery, congestion control package
// congestion, stream buffers quic/internal/streambuf, the wire format
// quic/internal/wire and packet protection quic/internal/protect.
//
// # The packet path
//
// In steady state no packet allocates (TestSteadyStateAllocsPerPacket;
// bench_test.go measures throughput, handshakes and allocations per packet
// over loopback). Receive buffers come from free lists that garbage
// collection does not empty (rxbuf.go). With GRO the reader receives into
// 64 KiB buffers and hands each connection its datagrams of a coalesced run
// as slices of the buffer, parsed in place: no copy; a buffer counts its
// references and returns to its pool when the last connection is done with
// it. A datagram that arrives alone is copied into a small buffer. The
// reader hands each connection the runs a batch holds for it with one lock
// and one wake-up, and a connection's inbox is bounded (6 MB of datagrams,
// 128 GRO buffers: 8 MiB, as a socket buffer would be). Datagrams of a GSO
// burst have equal size (a nearly full packet is padded to full), so a
// burst is as long as the pacer allows: 250 µs of the pacing rate, 10 to
// 64 datagrams per GSO send, and up to four bursts go in one sendmmsg. A driver that has sent a system call's worth looks at
// what arrived meanwhile (acknowledgments free the window) before it sends
// more.
//
// Loss detection adapts to reordering: a packet declared lost and then
// acknowledged raises the packet and time thresholds, and a congestion
// event made only of such losses is undone (quic/internal/recovery).
//
// # Memory per connection
//
// An idle connection keeps little beyond its state machine (about 3 KB):
// the TLS handshake drops its ClientHello, key shares, transcript and
// secrets at completion; the next 1-RTT key generation is derived when an update
// starts or a packet of the other key phase arrives, not held ahead (RFC
// 9001 §6.3 allows this); a space's CRYPTO buffers exist only while it
// carries CRYPTO data, and the Initial and Handshake spaces' state goes with
// their keys; sent-packet rings start at four slots; two connection IDs
// each way. A connection idle for a second trims what bursts grew (rings,
// scratch space, queues).
// TestIdleConnHeap measures and bounds the live heap per connection pair
// over loopback after one request.
//
// # Address validation with Retry
//
// A server whose Config sets RequireAddressValidation answers a client's
// first Initial (of at least 1200 bytes) with a Retry and creates the
// connection only when the client returns with the token (RFC 9000 §8.1.2,
// retry.go). Without it, the server does the same on its own while
// half-open connections pass their limits (see Limits below). The token is stateless: AES-128-GCM, with a key derived from
// the endpoint's random secret, sealing the time it was issued, the
// client's original Destination Connection ID and the Retry's Source
// Connection ID, bound to the client's address; it lives 10 s. A token
// that does not open gets a fresh Retry (RFC 9000 §8.1.3), one that is
// expired or names another connection ID is dropped. A valid token
// validates the client's address: no amplification limit. No NEW_TOKEN
// tokens are issued yet.
//
// # Limits
//
// What a peer, or anyone who can send us a datagram, can make us spend is
// bounded, each limit with its default (RFC 9000 §21):
//
//   - Half-open connections, a server's whose handshake has not completed
//     (endpoint_halfopen.go): each costs about 35 KB and a goroutine, and
//     a first Initial from any address is all it takes. While more than
//     Config.HalfOpenRetryThreshold (128) of them come from addresses no
//     Retry validated, or more than Config.HalfOpenRetryRate (1,000) started
//     within the last second, new clients get a Retry: one small packet and
//     no state, and a real client comes back one round trip later. At most
//     Config.MaxHalfOpen (1,024) exist at once. They end at the handshake
//     timeout (Config.HandshakeTimeout, 10 s). TestFirstFlightFlood sends
//     20,000 first flights from 20,000 source ports at 4,000 a second: the
//     server's live heap stays within 16 MiB of where it started, and a
//     legitimate client meanwhile completes its handshake in a few
//     milliseconds.
//   - Stateless resets and Version Negotiation, which answer datagrams
//     for no connection (endpoint_limit.go): 10 a second to one IP
//     address, 1,000 a second per endpoint. Each is smaller than what it
//     answers; Version Negotiation goes only to datagrams of 1200 bytes or
//     more (RFC 9000 §14.1), and reads connection IDs of up to 255 bytes
//     to echo them (§17.2); a version 1 long header with one over 20
//     bytes is dropped.
//   - Out-of-order stream data (quic/internal/streambuf): no more than the
//     stream's window (Config.InitialStreamWindow, 512 KiB, auto-tuned up
//     to MaxStreamWindow, 16 MiB), held with a bitmap of what arrived (an
//     eighth more), so a frame costs time in proportion to its length
//     whatever the order: 1-byte frames with 1-byte gaps across a window
//     in reverse order cost what they cost in ascending order. CRYPTO
//     data: 64 KiB beyond what was read (RFC 9000 §7.5).
//   - Buffered sends: a stream's Write takes bytes up to the peer's
//     credit for the stream (its MAX_STREAM_DATA) plus Config.SendCushion
//     (64 KiB), and at most 4 MiB not yet acknowledged, then blocks; a
//     peer that never reads holds its credit plus the cushion per stream.
//   - Stream storage starts small: a chunk of 256 B, 1 KiB or 4 KiB as
//     what a stream buffers from its start needs, 16 KiB beyond, and
//     none once everything was read or acknowledged.
//   - Streams: Config.MaxBidiStreams and MaxUniStreams (100 each) open at
//     once. Received datagrams waiting for a connection's goroutine: 6 MB
//     (128 GRO buffers). Acknowledgments: a flood of ack-eliciting packets
//     gets one ACK per second packet, per tenth once the flow is a bulk
//     one, or per ACK delay (see below), not one per packet.
//
// # ICMP errors end a client handshake
//
// The socket Dial opens asks udpio for ICMP errors (IP_RECVERR). When one
// says the server's port, host or network is unreachable while the
// handshake runs, the dial ends at once with an *UnreachableError
// (errors.Is: ErrUnreachable, and the errno, e.g. syscall.ECONNREFUSED)
// instead of at the handshake timeout (endpoint_icmp.go). ICMP is not
// authenticated, so a report counts only when the datagram it quotes is a
// long header packet naming one of our connections, to that address, by
// its Source Connection ID. After the handshake ICMP errors are ignored.
// Endpoints made by NewEndpoint and Listen do not ask for them.
//
// # ECN
//
// RFC 9000 §13.4, RFC 9002 §7.1. Every packet we process has its
// datagram's ECN mark counted per packet number space, and once any mark
// arrived our ACK frames are ACK_ECN frames with the counts. We mark our
// own datagrams ECT(0), a GSO burst at a time (the socket sets one mark per
// send), while quic/internal/recovery's validation allows: in the testing
// period (the first ten marked packets or three PTOs), then unmarked until
// an ACK frame validates the marks, then marked for good ("capable"). ACK
// frames that acknowledge marked packets without counts (a path that clears
// the marks), with counts that fall short, exceed what we sent or report
// ECT(1), or the loss of every marked packet, fail validation and marking
// stops for the connection. Once validated, a rising CE count is a
// congestion event for the controller. Path MTU probes and
// CONNECTION_CLOSE go unmarked. Config.DisableECN turns marking off (we
// still report what we receive), and so does a socket that cannot set
// marks (udpio's portable path). Stats.ECN gives the state.
//
// # Acknowledgments and datagram size
//
// 1-RTT packets are acknowledged within max_ack_delay (25 ms) and for
// every second ack-eliciting packet (RFC 9000 §13.2), a bulk receiver every
// tenth within a quarter of the RTT; gaps at once. Both ends advertise
// min_ack_delay (draft-ietf-quic-ack-frequency-14): a data sender then asks
// its peer for about four acknowledgments per congestion window with
// ACK_FREQUENCY, and its PTO probes carry IMMEDIATE_ACK
// (quic/internal/conn/ackfreq.go).
//
// Datagrams are 1200 bytes until the handshake is confirmed, then 1452
// once a probe of that size is acknowledged (RFC 8899). Config.MaxDatagramSize
// lets path MTU discovery search further, for paths beyond a 1500-byte MTU
// (loopback, jumbo frames): fewer, larger packets cost less per byte.
//
// # Streams
//
// Stream data is sent by priority (Stream.SetPriority, RFC 9218): the most
// urgent first; at one urgency, incremental streams (the default) share the
// connection a packet at a time, others go one at a time in stream ID
// order. Choosing the next stream costs the same whatever their number.
//
// # Not yet
//
// 0-RTT (tls13 supports it; the connection neither sends nor accepts it),
// NEW_TOKEN, connection migration initiated by the client and the
// server's preferred address, ECN validation per path (it is per
// connection, not restarted on migration), path MTU discovery on the new
// path after a migration, richer qlog events (quic/qlog writes packets,
// handshake and close from the Tracer hooks; frames, losses and metrics
// over time need more hooks).
package quic
