// Package quic is skiff's QUIC transport (RFC 9000, RFC 9001, RFC 9002,
// RFC 9221 datagrams, RFC 9369 version 2 with RFC 9368 version
// negotiation).
//
// Listen accepts connections, Dial opens one:
//
//	ln, err := quic.Listen("udp", ":4433", &quic.Config{TLS: serverTLS})
//	conn, err := ln.Accept(ctx)
//	str, err := conn.AcceptStream(ctx)
//
//	conn, err := quic.Dial(ctx, "udp", "example.com:4433", &quic.Config{TLS: clientTLS})
//	str, err := conn.OpenStream(ctx)
//
// A Listener is the one way to accept connections, as net.Listener is for
// TCP; its Endpoint is the socket underneath, to dial from the listening
// address too. NewEndpoint makes a socket to dial from only, shared by any
// number of client connections. (Endpoint has no Accept of its own: one
// owner of the accept queue and of the server configuration.) ListenOn
// and NewEndpointOn do the same on a net.PacketConn the caller made (a
// simulated network, a tunnel), one datagram per call, without the
// socket's batching, ECN or ICMP errors. DialEarly returns at once when
// the session it resumes allows 0-RTT (see "Session resumption and 0-RTT").
//
// # Configuration and errors
//
// Listen and Dial check the Config before anything is sent, and an error
// names the field that cannot work (a *ConfigError; tls13's checks for
// Config.TLS: a server needs a certificate, both sides NextProtos, RFC 9001
// §8.1). A client Config.TLS without ServerName gets the host of the dial
// address, as with crypto/tls.
//
// Dial returns as soon as the handshake fails: at our own alert, at the
// server's CONNECTION_CLOSE, at an ICMP error, at Config.HandshakeTimeout
// or when its context ends; the failed connection then ends at once
// (no closing period: nobody holds it), so nothing of it keeps running.
// A client that offers a certificate waits for the handshake to be
// confirmed (RFC 9001 §4.1.2), the moment it knows the server accepted it.
//
// Errors keep their cause and print the protocol's names. A connection
// closed with a transport error is a *TransportError whose Code prints its
// RFC name (ErrCodeProtocolViolation is "PROTOCOL_VIOLATION", a TLS alert
// "CRYPTO_ERROR(0x12a bad_certificate)") and which unwraps to the cause:
// the tls13 error of a handshake we failed (errors.As finds the
// tls13.AlertError and, for a certificate, the x509 error), a
// *tls13.PeerAlertError for the peer's CRYPTO_ERROR. The application's
// close is an *ApplicationError, a stream reset a *StreamError, an ICMP
// error an *UnreachableError. context.Cause of Conn.Context is the error
// the connection ended with; a Stream's Context ends when the peer resets
// or stops it. Stream.SetContext makes Reads and Writes that wait for the
// peer end with a context, as deadlines end them.
//
// Conn.CloseWithError returns once its CONNECTION_CLOSE is handed to the
// socket, so a program may exit right after; the closing period (RFC 9000
// §10.2.1) runs on behind it. A connection that is closing, or draining
// after the peer's close (§10.2.2), ends at once: its endpoint keeps only
// its connection IDs and the datagram that carried our CONNECTION_CLOSE,
// sent again in answer to late packets, until the period is over
// (endpoint_linger.go). Dial's own endpoint, which closes with its
// connection, keeps the whole connection for the period instead.
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
// and writers, routing connection IDs, queueing accepted streams). A
// client's handshake runs the driver loop on Dial's goroutine, which waits
// for it anyway; the driver's own goroutine starts once it has completed
// (conn_start.go).
//
// Application goroutines never touch the state machine. A Stream's Read
// and Write work on that stream's buffers, each side with its own small
// lock and the copy done outside it; they, and OpenStream, CloseWithError
// and the rest, leave work in the connection's mailbox and wake the
// driver through an atomic flag, signalling its channel only when the flag
// goes up. The packet path takes no connection lock. A driver woken by
// stream writes yields once before taking them (cork, conn_streams.go),
// so that the writes of other runnable goroutines go out in the same turn,
// datagrams and system call.
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
// it. In-order STREAM data stays in the buffer, decrypted in place, until
// the application reads it (a stream holds a reference; the buffers a
// connection's streams pin this way are at most twice its receive window
// and 8 MiB, beyond which data is copied): received bytes are copied
// once, into the application's slice. A datagram that arrives alone is
// copied into a small buffer. The reader hands each connection the runs a
// batch holds for it with one lock and one wake-up, and a connection's
// inbox is bounded: 6 MB of datagrams in 128 GRO buffers (8 MiB, as a
// socket buffer would be), or the connection's receive window and an
// eighth when that is larger, so that a driver kept from running by a
// loaded machine does not lose what flow control let the peer send; what
// an endpoint's inboxes hold beyond 6 MB each comes from one 64 MiB budget.
// The reader's and the driver's system calls are raw ones (udpio): they
// never block, and so never wake the runtime's monitor thread or lose
// their processor to another thread. Datagrams of a GSO burst have equal
// size (a nearly full packet is padded to full), so a burst is as long as
// the pacer allows: 250 µs of the pacing rate, 10 to 90 datagrams, in GSO
// entries of at most 64 datagrams and 65507 bytes (45 of 1452 bytes), up
// to eight entries and 256 datagrams in one sendmmsg. A driver that has
// sent a system call's worth looks at what arrived meanwhile
// (acknowledgments free the window) before it sends more.
//
// Loss detection adapts to reordering: a packet declared lost and then
// acknowledged raises the packet and time thresholds, and a congestion
// event made only of such losses is undone (quic/internal/recovery).
//
// # Congestion control
//
// Config.Congestion selects the controller of package congestion:
// congestion.CUBIC (RFC 9438 with HyStart++, the default),
// congestion.NewReno (RFC 9002 §7) or congestion.BBR (BBRv3,
// draft-ietf-ccwg-bbr). Loss recovery tells the controller about each
// packet (sent, acknowledged, lost, with a congestion.PacketState in the
// sent-packet record: BBR's delivery rate samples), and the connection
// says when it runs out of data (application-limited). Each controller
// sets the pacing rate; the pacer shapes the GSO bursts. Stats gives the
// pacing rate and, for BBR, its state (mode, bandwidth estimate, min RTT,
// window, bounds); qlog traces log them too. TestSimBBRRandomLoss prints
// BBR's and CUBIC's goodput on a lossy path.
//
// # Probes
//
// When the probe timeout fires during the handshake, the probes carry the
// CRYPTO data of the Initial and Handshake spaces that is still
// unacknowledged (RFC 9002 §6.2.4), so a lost or slow ClientHello or
// server flight goes out again at the first PTO; the client's
// anti-deadlock probe carries its ClientHello or its Finished. After the
// handshake a probe carries new data if there is some, else the stream
// data of the oldest packets still unacknowledged, sent again while they
// stay in flight (a request whose only packet was lost would otherwise
// wait for an acknowledgment of a PING); so does a probe of a sender that
// the peer's flow control blocks, with the DATA_BLOCKED or
// STREAM_DATA_BLOCKED of the limit again; a PING when there is neither.
//
// # Memory per connection
//
// An idle connection keeps little beyond its state machine (2 KB, a test
// keeps it in the allocator's 2048-byte class): the TLS handshake drops
// its ClientHello, key shares, transcript and secrets at completion; the
// next 1-RTT key generation is derived when an update starts or a packet
// of the other key phase arrives, not held ahead (RFC 9001 §6.3 allows
// this); a space's CRYPTO buffers exist only while it carries CRYPTO data,
// and the Initial and Handshake spaces' state goes with their keys;
// sent-packet rings start at four slots; four connection IDs each way,
// whose stateless reset tokens are derived when sent; the channels nobody
// waits on (the handshake's end, the driver's) are not made. A connection
// idle for a second (nothing due, nothing arriving) trims what bursts grew
// (rings, scratch space, queues), drops the packets that only
// acknowledged, lets the drained 1-RTT CRYPTO streams go (keeping their
// offsets), rests its 1-RTT keys (the AEAD and header protection ciphers,
// 2.6 KB, made again from the kept secrets by the next packet, about a
// microsecond) and forgets the previous key generation; a server also lets
// its TLS connection go, keeping its ConnectionState. TestIdleConnHeap
// measures and bounds the live heap per connection pair over loopback
// after one request and that trim; bench's BenchmarkIdleConns reports
// each side.
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
// validates the client's address: no amplification limit.
//
// After the handshake a server gives the client a NEW_TOKEN token (RFC
// 9000 §8.1.3, newtoken.go): sealed like a Retry token but with its own
// key (Config.TokenKey, shared by servers that accept each other's; else
// the endpoint's own), bound to the client's IP address and the QUIC
// version, good for 24 hours and once per endpoint. A client that keeps
// it (Config.TokenStore) sends it in the Initials of its next connection
// to the server, which then validates its address at once and sends no
// Retry. An invalid token counts as none.
//
// # Session resumption and 0-RTT
//
// A server sends Config.SessionTickets NewSessionTickets after the
// handshake (one by default; early.go, quic/internal/conn/zerortt.go).
// A client keeps them in Config.TLS.ClientSessionCache under the server
// name and port, with the server's transport parameters, and its next
// connection resumes (psk_dhe_ke). With Config.Allow0RTT the server's
// tickets allow 0-RTT: a client that dials with DialEarly has its
// connection at once, and its streams and datagrams go in 0-RTT packets
// right after the Initial, within the limits the server had (RFC 9000
// §7.4.1); the server accepts the connection as soon as it accepts 0-RTT
// and marks the streams that carried early data
// (Stream.ReceivedEarlyData). A ticket allows 0-RTT only while the
// server's limits are at least those it remembers, and resumes only a
// connection that starts in its QUIC version (RFC 9369 §5). A server that
// refuses 0-RTT drops those packets; the client then counts them lost
// (not as congestion) and sends their frames again in 1-RTT packets, so
// its streams go on. A server that accepts 0-RTT and then announces
// smaller limits gets PROTOCOL_VIOLATION. ConnectionState says whether the
// connection resumed and whether 0-RTT was accepted. Datagrams sent in
// 0-RTT are not resent when it is refused, and a refusing server that now
// allows fewer streams or bytes than 0-RTT used ends the connection
// (INTERNAL_ERROR): its data could not be resent within the new limits.
// Replays: tls13
// accepts a ClientHello's 0-RTT once per replay filter (servers sharing
// ticket keys must share tls13.Config.ReplayFilter).
//
// # Versions
//
// Config.Versions lists the versions to speak, version 1 then 2 by default
// (vn.go). A client starts in its first (or in the version of the session
// it resumes) and offers the others in version_information; a server
// answers a version it does not speak with a Version Negotiation packet
// listing its own, after which the client starts over (RFC 9368 §2.1),
// and moves a client to its most preferred version the client offers
// without a round trip (compatible negotiation, §2.3). Both sides check
// the other's version_information: a forged Version Negotiation packet
// that steers the client elsewhere than it would have gone ends the
// connection with VERSION_NEGOTIATION_ERROR (§4).
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
//   - Connections in their closing or draining period linger in their
//     endpoint (endpoint_linger.go) for three PTOs, and no more than
//     lingerGranularity (10 ms) beyond: each holds its connection IDs and,
//     when closing, the datagram that carried its CONNECTION_CLOSE (at
//     most one datagram's size), sent again in answer to the 1st, 2nd,
//     4th, 8th... datagram that arrives for it, only to the address of its
//     path; no goroutine, timer or keys.
//   - Out-of-order stream data (quic/internal/streambuf): no more than the
//     stream's window (Config.InitialStreamWindow, 512 KiB, auto-tuned up
//     to MaxStreamWindow, 16 MiB) and a 64 KiB chunk of storage at each
//     end, held with a bitmap of what arrived (an eighth more), so a frame costs time in proportion to its length
//     whatever the order: 1-byte frames with 1-byte gaps across a window
//     in reverse order cost what they cost in ascending order. CRYPTO
//     data: 64 KiB beyond what was read (RFC 9000 §7.5).
//   - Buffered sends: a stream's Write takes bytes up to the peer's
//     credit for the stream (its MAX_STREAM_DATA) plus Config.SendCushion
//     (64 KiB), and at most 4 MiB not yet acknowledged, then blocks; a
//     peer that never reads holds its credit plus the cushion per stream.
//   - Stream storage starts small: a chunk of 256 B, 1 KiB, 4 KiB or
//     16 KiB as what a stream buffers from its start needs, 64 KiB beyond, and
//     none once everything was read or acknowledged.
//   - Streams: Config.MaxBidiStreams and MaxUniStreams (100 each) open at
//     once. Received datagrams waiting for a connection's goroutine: 6 MB
//     (128 GRO buffers), or its receive window and an eighth (in up to
//     three times that of buffers) when larger, the part beyond 6 MB
//     from a budget of 64 MiB shared by the endpoint's connections.
//     Acknowledgments: a flood of ack-eliciting packets gets one ACK per
//     second packet, per tenth once the flow is a bulk one, or per ACK
//     delay (see below), not one per packet.
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
// NewEndpoint's sockets ask for them too (EndpointConfig.DisableICMPErrors
// turns that off); Listen's do not, so a Listener's Endpoint dials without
// them.
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
// Datagrams are 1200 bytes until the handshake is confirmed and the path
// validated; then path MTU discovery (DPLPMTUD, RFC 8899) probes 1452
// bytes and, up to Config.MaxDatagramSize (1452 by default; set it higher
// for loopback or jumbo frames: fewer, larger packets cost less per byte)
// and the peer's max_udp_payload_size, the largest size first, then
// halfway between what works and what fails, to a 16-byte step. A size
// fails after three lost probes, or at once when the socket refuses it
// (DF is set: EMSGSIZE over the interface MTU). Lost probes are no
// congestion signal. PTO probes go at 1200 bytes, so that when full-size
// packets stop getting through (a black hole) the acknowledged probes show
// it: three such loss episodes in a row, or one refused send, drop the
// size to 1200 and the search starts again, below the failed size;
// searching resumes 600 s after it ended below the maximum. GSO bursts use
// the size found; Stats.PathMTU reports it.
//
// # Paths and migration
//
// RFC 9000 §8.2, §9. A connection keeps up to four paths (a local socket
// and a peer address): the current one, the last validated one, and paths
// being validated, each with its own anti-amplification counters and
// PATH_CHALLENGEs (new data each, padded to 1200 bytes or to what the
// anti-amplification limit leaves, and then checked again at 1200 bytes
// once the address is validated; resent a PTO apart and doubling,
// abandoned after 3 PTOs). PATH_RESPONSEs go in one padded datagram
// on the path the challenges came on (the latest four of a flood); a
// response validates the path whose challenge it echoes, wherever it
// arrives (§8.2.2 forbids requiring the same path).
//
// A server follows a client's new address (a NAT rebinding) as soon as a
// non-probing packet with the largest packet number so far arrives from
// it, sending there at most three times what it received from it until the
// address is validated (§9.3.1), and challenges the previous path too
// (§9.3.3). A packet replayed from a spoofed address thus buys the victim
// at most 3× its size; the genuine client's next packet, or the new path's
// validation timing out, moves the connection back to the last validated
// address (§9.3.2). The server keeps part of that 3× for the challenges
// still to come, spread over the validation timeout when it affords few,
// with one more whenever the client's next datagram arrives: when the new
// NAT mapping drops its first datagrams, it can still validate the path
// once it works. When it does not work within the validation timeout,
// the server, back on the last validated address, goes on challenging the
// new one in the background, at doubling intervals and within the same
// 3×, as long as the client's latest non-probing packet came from there
// (up to an idle timeout); each new packet of the client's from there
// moves it there again with a challenge at once (§9.3), and an answer
// moves it for good: a mapping dark for seconds no longer leaves the
// connection on the dead old address until the idle timeout. A client
// waiting for a response PINGs once when the server has been quiet for
// two PTOs (§10.1.2), so a client that only receives gives the server
// those bytes. When the address changed, not only the port, the new
// path starts with a new congestion controller, RTT estimate and path MTU
// search (§9.4), and the old path's are kept while the connection may
// return to it; ECN is validated again on every new path.
//
// A client moves with Conn.Migrate: a new UDP socket, probed first with a
// connection ID of the server's that no path used (§9.5), then used for
// everything, the old connection ID retired. Migrate refuses when the
// server sent disable_active_migration (Config.DisableActiveMigration sets
// it) or left no unused connection ID. A server announces
// Config.PreferredAddress (RFC 9000 §9.6): its listener reads a socket
// there too, and clients validate it once the handshake is confirmed and
// move there, staying where they were if it does not answer
// (Config.DisablePreferredAddress opts out). Connection IDs: up to four
// each way (active_connection_id_limit), one per path, retired when their
// path is left. Stats counts path changes, validations, failures and MTU
// black holes; the Tracer's MigrationState and MTUUpdated hooks (qlog's
// migration_state_updated and mtu_updated) report them as they happen.
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
// Several paths in use at once (multipath: one path carries the data,
// others are only validated), a server's own address changing other than
// to its preferred address (§9.6 allows no more); Tracer hooks for
// transport parameters and dropped packets.
package quic
