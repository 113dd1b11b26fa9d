// Package h3 is skiff's HTTP client that finds and uses HTTP/3, and its
// HTTP/3 (RFC 9114) server: Transport is an http.RoundTripper that carries
// HTTP/1.1 and HTTP/2 over TCP through net/http and HTTP/3 over skiff's QUIC
// (package quic), and Server serves an http.Handler over HTTP/3, with QPACK
// header compression (RFC 9204, package qpack) using the dynamic table in
// both directions.
//
// # Discovery (Transport)
//
//	client := &http.Client{Transport: &h3.Transport{}}
//
// gets HTTP/3 wherever an origin offers it and TCP everywhere else. Mode
// says how: ModeAuto (the default) uses TCP until the origin advertises
// HTTP/3, then HTTP/3 raced against TCP; ModeTCP never uses HTTP/3;
// ModeRace tries QUIC on the origin's own host and port from the first
// request (curl's --http3); ModeHTTP3Only never uses TCP (curl's
// --http3-only). Responses say what carried them: Proto "HTTP/3.0" and
// ProtoMajor 3, or net/http's TCP protocol. The TCP side is Transport.TCP
// (a clone of http.DefaultTransport with HTTP/2 when nil, dialing through
// DialTCP); crypto/tls runs there, tls13 on the QUIC side.
//
//   - Alt-Svc (RFC 7838, RFC 9114 §3.1.1; discover.go): every response from
//     an https origin over TLS, TCP or HTTP/3, updates the origin's
//     alternatives: a value replaces what was known; only h3 alternatives
//     are kept, in the server's order; "ma" (24 h by default) counts from
//     the response's generation (its Age); "clear" drops them all; a value
//     that does not parse is ignored. Requests then go to the first fresh
//     alternative that is not broken, with Alt-Used (§5), and must find a
//     certificate valid for the origin's host (§2.1), which is the TLS
//     server name. Pooled HTTP/3 connections are used only while their
//     alternative is fresh, so "clear" and expiry send requests back to TCP.
//   - HTTPS records (RFC 9460; https_rr.go, resolver.go): in ModeAuto, for an
//     origin with no alternative, the HTTPS record is asked for beside the
//     A/AAAA lookup (package internal/dns: the servers of /etc/resolv.conf,
//     or DNSServer; UDP with TCP on truncation; AliasMode and CNAMEs
//     followed; priority order; alpn, no-default-alpn, port, ipv4hint and
//     ipv6hint used; kept for its TTL). As Happy Eyeballs v3 (draft-ietf-
//     happy-happyeyeballs-v3-04 §4) does, the request waits for it at most
//     50 ms (the Resolution Delay) after the addresses arrive: an answer
//     with h3 makes the very first request HTTP/3, raced against TCP, and a
//     resolver that does not answer costs TCP those 50 ms, never its
//     timeout. Only the request that started a lookup waits. HTTPS records
//     are what makes a first request HTTP/3: the HTTP/2 ALTSVC frame (RFC
//     7838 §4) is not supported, because net/http's HTTP/2 client drops
//     unknown frames and offers no hook for them.
//   - The cache (altsvc_cache.go, altsvc_file.go): AltSvcStore, per origin
//     (scheme, host, port). AltSvcCache is in memory, bounded, least
//     recently used out first; AltSvcFile keeps it in curl's alt-svc file
//     format, rewritten atomically (temporary file and rename) when an
//     entry changes, loading curl's files and tolerant of corrupt ones.
//     NetworkChanged drops alternatives without persist=1, every broken mark
//     and the HTTPS answers.
//   - Racing (race.go, tcp.go): QUIC starts first; TCP starts after a head
//     start (HeadStart, else 1.5 × the smoothed RTT last measured along the
//     route kept within 50 ms and 2 s, else 300 ms), or at once when QUIC
//     fails. The request goes over whichever has a connection first: QUIC
//     when its handshake completes, TCP when net/http hands it a connection
//     (GotConn, before anything is written). A TCP attempt that lost writes
//     nothing: its HTTP/1.1 connection is closed, its HTTP/2 request made to
//     fail before its HEADERS frame. A QUIC connection that completes after
//     losing stays pooled; while a dial that lost is pending, requests go
//     straight to TCP. A closed UDP port is seen at once: quic.Dial asks
//     udpio for ICMP errors, and a port or host unreachable ends the
//     handshake (quic.ErrUnreachable).
//   - Broken alternatives (broken.go): an alternative whose QUIC dial fails
//     (timeout, ICMP, certificate, …) while TCP works for the origin is not
//     tried for 5 minutes, doubling with each further failure up to 48
//     hours; a connection along it resets the count.
//   - Replay (replay.go): a request that fails on HTTP/3 before any
//     response byte is sent once more, over TCP, when the server refused it
//     unprocessed (H3_REQUEST_REJECTED, GOAWAY) and its body can be had
//     again, or when its connection ended and it is idempotent with such a
//     body; otherwise it fails with an error matching ErrRetryable.
//   - Pooling (pool.go, dial.go): one QUIC connection per (origin,
//     alternative), dialed once for all the requests that need it, used for
//     concurrent requests as concurrent streams; a connection whose
//     certificate covers another origin resolving to the same address and
//     port serves that origin too (RFC 9114 §3.3) unless DisableCoalescing.
//   - Tracing (trace.go): ClientTrace, through WithClientTrace or
//     Transport.Trace, reports each decision: alternative learned or
//     cleared, HTTPS record used, race started, which side won and why, the
//     QUIC handshake with what TLS negotiated, alternative marked broken,
//     request replayed.
//
// # HTTP/3 client
//
// Over HTTP/3 (client.go, client_stream.go) concurrent requests run as
// concurrent streams. Request bodies are streamed in DATA frames, followed
// by trailers from Request.Trailer (a small body held in memory, one with
// GetBody and a known length up to 16 KiB, goes in the header's stream
// write, without a goroutine); response bodies are read from the
// stream as the caller reads (QUIC flow control gives backpressure),
// Response.Trailer is filled at EOF, and closing a body before EOF stops
// the stream with H3_REQUEST_CANCELLED. Interim responses (103 Early Hints)
// go to httptrace.ClientTrace.Got1xxResponse. The request context cancels
// a request (RESET_STREAM and STOP_SENDING with H3_REQUEST_CANCELLED): at
// once while RoundTrip, the request body's upload or a response body Read
// waits on the stream (quic.Stream.SetContext ends the wait, which costs
// no watcher), else at the next Read or Close of the response body, which
// fails with the context's error even when content is buffered. A request
// whose context ends while its connection is being dialed stops waiting,
// and the dial is canceled unless another request waits for it (a dial
// that lost a race to TCP goes on for the next requests;
// CloseIdleConnections cancels it); a request whose context has already
// ended starts nothing. Responses carry the handshake's outcome in
// Response.TLS (a tls.ConnectionState, shared by
// the connection's responses as net/http's are). After a GOAWAY (RFC 9114
// §5.2) new requests go to a new connection and requests in flight finish. In ModeHTTP3Only a
// request refused unprocessed (H3_REQUEST_REJECTED, or a stream at or above
// the GOAWAY identifier) is sent again on a new connection when its body
// can be (GetBody), and otherwise fails with an error matching
// ErrRetryable. The Dial hook lets tests steer where connections go.
//
// # Resumption and 0-RTT (early.go)
//
// The Transport keeps the session tickets and NEW_TOKEN tokens of its QUIC
// servers (its own in-memory stores, 256 servers, unless TLSClientConfig
// and QUICConfig bring theirs): a second connection to a server resumes
// and skips the Retry of a server that validates addresses. When the
// session allows 0-RTT the connection is used at once (quic.DialEarly):
// safe requests without a body (GET, HEAD, OPTIONS, TRACE; Allow0RTT
// chooses others, Disable0RTT none) go in 0-RTT packets together with the
// control streams, a round trip earlier; other requests wait for the
// handshake. The server's SETTINGS are kept with the session (RFC 9114
// §7.2.4.2): 0-RTT requests keep to the remembered field section size,
// and a server that accepts 0-RTT and then announces smaller SETTINGS
// commits H3_SETTINGS_ERROR. A request sent early and answered 425 Too
// Early goes again once the handshake completes (RFC 8470 §5.2). When
// the server refuses 0-RTT, QUIC resends the requests in 1-RTT on the
// same streams: each is answered once. In a race, a 0-RTT connection whose
// handshake has not completed after three head starts (at least a
// second) is closed, so that
// its request goes over TCP (when replay.go allows) rather than waiting
// for the handshake timeout on a path that stopped carrying UDP.
//
// # Server
//
// Server accepts QUIC connections and runs the handler for each request
// stream. As with net/http: Server.ListenAndServe listens on Server.Addr
// with Server.TLSConfig, Server.ListenAndServeTLS adds a certificate from
// PEM files, the package's ListenAndServeTLS(addr, certFile, keyFile,
// handler) does both in one call; Serve takes a quic.Listener and ServeConn
// one connection. The configuration is checked before anything listens:
// no TLS config or certificate, or a NextProtos without "h3", is an error
// naming the field; an empty NextProtos gets "h3"; Serve refuses a
// listener whose NextProtos lacks "h3" and ServeConn a connection that
// negotiated another protocol. A handler sees Request.TLS (the client's
// certificate, the server name, the ALPN protocol: quic.Conn's
// ConnectionState), and its request context ends as soon as the client's
// RESET_STREAM or STOP_SENDING arrives or the connection ends, whether or
// not it reads or writes (when quic.Stream's Context would end; quic tells
// the server through an internal hook, internal/quichooks, which costs a
// stream no allocation, and the context is not a child of the
// connection's).
// The server's response header maps come from a pool and go back to it
// when the handler returns (as with net/http, the ResponseWriter must not
// be used after that; the request, its header included, may be kept), and
// a goroutine that served a request
// waits for the connection's next one rather than ending, on one channel
// and with no timer of its own; those idle through a whole second end
// (server_workers.go). A
// request costs about five allocations on the server (the request, its
// header map, the request's state, the QUIC stream; its context is made
// only when the handler asks for it, and only then is its stream watched)
// and four on the client besides the caller's own request (the response
// header map, the request's state, the QUIC stream; a stream's wait
// channel passes to the connection's next stream when it ends); go test
// -bench H3Requests ./bench counts them per side. Each request stream gets pseudo-header
// and field validation (RFC 9114 §4.1.2, §4.3; a malformed request is reset with
// H3_MESSAGE_ERROR), Content-Length checked against the DATA received,
// streamed request bodies, a ResponseWriter with Flush, 1xx responses
// through WriteHeader, trailers (the Trailer header or http.TrailerPrefix),
// a panic in a handler resetting its stream with H3_INTERNAL_ERROR. With
// a QUICConfig that sets Allow0RTT, requests arrive in 0-RTT before the
// handshake completes; those carry Early-Data: 1 (RFC 8470 §5.1), since
// an attacker may replay them, and a handler that must not act on a
// replay answers 425 Too Early.
// Shutdown is graceful: a GOAWAY naming the first request stream not
// accepted, the accepted requests finish, then the clients close. AltSvcHandler
// and SetAltSvc advertise HTTP/3 from a TCP server (Alt-Svc, RFC 7838).
//
// # Priorities (RFC 9218; priority.go, priority_client.go)
//
// Each response is sent at the priority its request asks for, and package
// quic's scheduler serves them: more urgent streams first, at one urgency
// the non-incremental ones one at a time in stream ID order (request
// order) and the incremental ones in turn (§10). The priority comes from,
// the later overriding the earlier:
//
//   - the defaults, urgency 3 and not incremental (§4.1, §4.2);
//   - the request's Priority header (§5), parsed by internal/priority:
//     a malformed Dictionary is ignored whole, unknown keys and bad values
//     of u and i one by one (§4), so the defaults stay;
//   - a Priority header the handler sets on its response before the body
//     (§8): the parameters it names replace the client's, the others
//     stay; the header goes to the client too, as an end-to-end signal;
//   - the last PRIORITY_UPDATE (0xF0700) the client sends for the stream
//     on its control stream (§7.2), which carries a complete set (omitted
//     parameters take their defaults). One that arrives before its stream
//     opens is kept, up to 64 such streams, and applied on opening, over
//     the request's header (§7: the most recent signal wins). One for a
//     stream whose response is over, or that a GOAWAY already refused, is
//     ignored; the malformed ones are connection errors (below).
//
// The default is RFC 9218's non-incremental, not package quic's
// incremental: §4.2 is what clients expect, and it makes an HTTP/3
// connection serve like HTTP/1.1 pipelining without its head-of-line
// blocking on loss. The cost is that a large response of one urgency holds
// up the responses of that urgency requested after it, until it is sent;
// a client that minds says i (or a lower u) for the small ones. A
// handler's response sends nothing while it has no data, so a slow
// handler does not hold up the others.
//
// PRIORITY_UPDATE errors are connection errors: on a request or push
// stream, or received by a client, H3_FRAME_UNEXPECTED (§7.2); for a
// stream ID that is not client-initiated bidirectional, H3_ID_ERROR
// (§7.2, a MUST); for one at or beyond the stream limit the server
// advertised (initial_max_streams_bidi and MAX_STREAMS, as quic last
// sent it), H3_ID_ERROR (§7.2, a SHOULD); the push variant (0xF0701) is
// always H3_ID_ERROR, since the server promises no push (§7.2); a Priority
// Field Value that is not a Dictionary, H3_GENERAL_PROTOCOL_ERROR (§7, a
// MAY, taken because the frame is written by the client's HTTP/3 layer,
// not copied from a header); a frame without its ID, H3_FRAME_ERROR; a
// payload over 1 KiB, H3_EXCESSIVE_LOAD. A malformed Priority header
// stays ignored (§4).
//
// On the client, a request asks for a priority in either of two ways:
//
//   - its own Priority header, sent as the caller set it (an end-to-end
//     signal, §5);
//   - a RequestPriority in its context (WithPriority). A context value
//     rather than a Transport option or a header, because it reaches the
//     request wherever it goes (through http.Client, its redirects and
//     Transport's replays), costs a request without one a single context
//     lookup, and gives the caller a handle that outlives RoundTrip's
//     call: RequestPriority.Set, from any goroutine, changes the priority
//     before the request is sent (the request goes at the new one) and
//     while it is in flight, before its response header arrives as after
//     (a PRIORITY_UPDATE for its stream, §6, §7.2), until its response
//     body is read to its end or closed. A request without a Priority
//     header gets one with the RequestPriority's value (none for the
//     default u=3); one with its own header keeps it, and a
//     RequestPriority that says otherwise is sent in a PRIORITY_UPDATE,
//     which the server takes as the most recent signal (§7). Over TCP a
//     request without a header gets the value of the moment as a header;
//     later changes are not sent there.
//
// Reprioritize(resp, value) sends a PRIORITY_UPDATE for a response being
// received, whatever way its request was made (§6).
//
// The client also schedules its own connection (§9: a client "MAY use
// priority values to make local processing or scheduling choices"): a
// request body is sent at its request's urgency, from its Priority header
// or RequestPriority, and changes with Set and Reprioritize. Bodies of one
// urgency share the connection in turn whatever their incremental
// parameter, which is about how the client uses the response (§4.2); so a
// large upload does not hold up the other requests of its urgency. Requests
// without a priority go at package quic's default (urgency 3, shared),
// and so do requests without a body, whatever their priority: their
// urgency is their response's, and at 7 their header section would wait
// for every upload of a more urgent request.
//
// # Connection plumbing (conn.go)
//
// Each side opens its control stream with SETTINGS first (QPACK table
// capacity 4096, 16 blocked streams, MAX_FIELD_SECTION_SIZE, a greased
// setting and a greased frame), its QPACK encoder and decoder streams, and
// a stream of a reserved type (RFC 9114 §6.2.3, §7.2.8). Our control and
// QPACK streams are sent at urgency 0, taking turns with the most urgent
// requests, so that no transfer holds up a field section's encoder
// stream instructions or a PRIORITY_UPDATE. Critical streams
// are watched: closing one is H3_CLOSED_CRITICAL_STREAM, a duplicate
// H3_STREAM_CREATION_ERROR; unknown stream types are read no further
// (STOP_SENDING with H3_STREAM_CREATION_ERROR). Field sections that need
// dynamic table entries not yet received wait for the encoder stream;
// Section Acknowledgments, Stream Cancellations and Insert Count
// Increments go back on the decoder stream. HTTP/3 and QPACK errors in the
// peer's input close the connection with their code (RFC 9114 §8, RFC
// 9204 §6); a malformed message resets only its stream.
//
// # Errors
//
// A stream reset by the peer or by us is a *StreamError, a connection
// closed with an HTTP/3 or QPACK code a *ConnectionError: both print the
// code's name (H3_REQUEST_CANCELLED, QPACK_DECOMPRESSION_FAILED) and unwrap
// to the *quic.StreamError or *quic.ApplicationError. Dial errors are
// quic's, unchanged (errors.As finds what quic wraps). A handler's request
// context ends with the error that ended the request as its cause
// (context.Cause). ErrHeaderTooLarge: a header section over the peer's
// SETTINGS_MAX_FIELD_SECTION_SIZE, which is not sent.
//
// # Limits
//
//   - Concurrent requests per connection: the QUIC stream limit
//     (quic.Config.MaxBidiStreams, 100 by default).
//   - Header sections: Server.MaxHeaderBytes and
//     Transport.MaxResponseHeaderBytes (1 MiB by default) as RFC 9114
//     §4.2.2 counts them, announced in SETTINGS_MAX_FIELD_SECTION_SIZE. A
//     request just over the server's limit gets 431; a HEADERS frame more
//     than twice the limit is refused unread (H3_EXCESSIVE_LOAD on the
//     stream). Below that, a HEADERS frame costs what has arrived of it,
//     not what it declares: its buffer grows with the bytes read, by at
//     most a quarter or 4 KiB ahead of them (a stream declaring 2 MiB and
//     sending 5 bytes costs about 7 KiB of heap in all), and a large one is
//     let go once decoded. Each side keeps to the other's limit: the
//     client does not send a request over the server's (ErrHeaderTooLarge
//     from RoundTrip); the server replaces a response header section over
//     the client's by a bare 500 (the handler's writes then fail with
//     ErrHeaderTooLarge), drops such a 1xx, and resets the stream with
//     H3_INTERNAL_ERROR for such trailers.
//   - Server.ReadHeaderTimeout (DefaultReadHeaderTimeout, 10 s, when zero;
//     none when negative): a request stream must deliver its header
//     section within it, counted from the stream's acceptance, however the
//     bytes trickle in and including any wait for QPACK inserts; otherwise
//     it is reset with H3_REQUEST_REJECTED (the client may retry it). With
//     the stream limit this bounds slow-header streams to 100 per
//     connection for 10 s each; there is no separate cap on incomplete
//     header sections.
//   - QPACK: a 4 KiB dynamic table and 16 blocked streams per direction. A
//     field section blocked on the encoder stream is released, with a
//     Stream Cancellation (RFC 9204 §4.4.2), when its stream is reset, when
//     the request's context ends, or at ReadHeaderTimeout: while it waits
//     the stream is read ahead (up to 256 bytes) so that a reset is seen.
//   - Our QPACK decoder stream and our control stream (PRIORITY_UPDATE,
//     GOAWAY) are written without waiting for the peer's flow control
//     credit: what the stream does not take waits in a backlog, and a peer
//     that lets 64 KiB pile up there is not reading what it must; the
//     connection closes with H3_EXCESSIVE_LOAD.
//   - Server handler goroutines are reused across a connection's requests:
//     up to 256 wait idle for the next request stream, and those idle
//     through a whole second end.
//   - Discovery state: DefaultAltSvcCacheSize (1000) origins in the default
//     cache; 1024 routes with broken marks and RTTs; 1024 HTTPS answers;
//     an alt-svc file is read up to 4 MiB, lines up to 2 KiB.
//
// # Not done yet
//
//   - The HTTP/2 ALTSVC frame (see above); ECH configurations from HTTPS
//     records; HTTPS records for http:// URLs (RFC 9460 §9.5 upgrade).
//   - Broken marks are kept in memory only (Chromium persists them).
//   - QUIC tries an alternative's addresses one after another, not raced
//     across address families (Happy Eyeballs v3 §6).
//   - A TCP transport of one's own (Transport.TCP) resolves names itself
//     unless its DialContext is DialTCP: it then resolves again what the
//     HTTPS wait already resolved.
//   - Server push (never sent; a client never sends MAX_PUSH_ID), CONNECT
//     and extended CONNECT (RFC 9220), HTTP datagrams (RFC 9297);
//     SETTINGS_ENABLE_CONNECT_PROTOCOL and H3_DATAGRAM are not announced.
//   - The server keeps no SETTINGS in its tickets (they do not change
//     between connections of one Server), and the client's QPACK encoder
//     waits for the server's SETTINGS before using the dynamic table, even
//     in 0-RTT.
//   - Shutdown waits for the clients to close their connections (a skiff
//     client does once its requests are done); a client that keeps an idle
//     connection open holds Shutdown until its context ends or the idle
//     timeout closes the connection.
//   - Priorities (RFC 9218): the server sends no Priority field on its
//     own, and has no API to prioritize a response beyond the handler's
//     Priority response header; the client does not send PRIORITY_UPDATE
//     for push streams (it allows no push); priority changes of a request
//     sent over TCP are not sent (net/http cannot send HTTP/2's
//     PRIORITY_UPDATE).
//   - Writes on our QPACK encoder stream happen under the connection's
//     QPACK lock (the decoder stream's go to a backlog, see Limits); a peer
//     that never reads the encoder stream would, after megabytes of
//     instructions, stall the connection's header encoding.
package h3
