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
// The connection (Conn) is a sans-I/O state machine: handleDatagram,
// appendBurst, deadline and handleTimer take the time as an argument
// and never touch a socket or a clock. Files split it by concern, as
// x/net/quic does: conn_recv.go (packets and frames in), conn_send.go
// (packets out, coalescing, padding, GSO bursts), conn_app.go (1-RTT frames,
// retransmission of frames as values), conn_streams.go and stream.go,
// conn_flow.go (flow control with auto-tuned windows), conn_id.go
// (connection IDs, stateless reset), conn_path.go (address validation,
// amplification limit, path MTU), conn_close.go (closing, draining, idle),
// conn_handshake.go (tls13 and transport parameters), keyupdate.go.
//
// One goroutine per connection (conn_driver.go) owns that state, and one
// goroutine per Endpoint reads the socket in batches through udpio and hands
// datagrams to connections by connection ID (endpoint_recv.go). Loss
// detection is quic/internal/recovery, congestion control package
// congestion, stream buffers quic/internal/streambuf, the wire format
// quic/internal/wire and packet protection quic/internal/protect.
//
// # The packet path
//
// In steady state no packet allocates (TestSteadyStateAllocsPerPacket;
// bench_test.go measures throughput, handshakes and allocations per packet
// over loopback). Receive buffers come from a free list that garbage
// collection does not empty; the reader hands each connection the run of
// datagrams a batch holds for it with one lock and one wake-up, and a
// connection's inbox is bounded (1024 datagrams) as a socket buffer would
// be. Datagrams of a GSO burst have equal size (a nearly full packet is
// padded to full), so a burst is as long as the pacer allows: 250 µs of
// the pacing rate, 10 to 64 datagrams per sendmsg.
//
// Loss detection adapts to reordering: a packet declared lost and then
// acknowledged raises the packet and time thresholds, and a congestion
// event made only of such losses is undone (quic/internal/recovery).
//
// # Memory per connection
//
// An idle connection keeps little beyond its Conn (about 3 KB): the TLS
// handshake drops its ClientHello, key shares, transcript and secrets at
// completion; the next 1-RTT key generation is derived when an update
// starts or a packet of the other key phase arrives, not held ahead (RFC
// 9001 §6.3 allows this); a space's CRYPTO buffers exist only while it
// carries CRYPTO data; sent-packet rings start at four slots.
// TestIdleConnHeap measures and bounds the live heap per connection pair
// over loopback after one request.
//
// # Address validation with Retry
//
// A server whose Config sets RequireAddressValidation answers a client's
// first Initial (of at least 1200 bytes) with a Retry and creates the
// connection only when the client returns with the token (RFC 9000 §8.1.2,
// retry.go). The token is stateless: AES-128-GCM, with a key derived from
// the endpoint's random secret, sealing the time it was issued, the
// client's original Destination Connection ID and the Retry's Source
// Connection ID, bound to the client's address; it lives 10 s. A token
// that does not open gets a fresh Retry (RFC 9000 §8.1.3), one that is
// expired or names another connection ID is dropped. A valid token
// validates the client's address: no amplification limit. No NEW_TOKEN
// tokens are issued yet.
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
// # Not yet
//
// 0-RTT (tls13 supports it; the connection neither sends nor accepts it),
// NEW_TOKEN, connection migration initiated by the client and the
// server's preferred address, ECN validation per path (it is per
// connection, not restarted on migration), DPLPMTUD beyond one probe size,
// richer qlog events (quic/qlog writes packets, handshake and close from the
// Tracer hooks; frames, losses and metrics over time need more hooks).
package quic
