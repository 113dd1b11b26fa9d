// Package h3 is skiff's HTTP/3 (RFC 9114): a client Transport that
// implements http.RoundTripper and a Server that serves an http.Handler,
// both over skiff's QUIC (package quic), with QPACK header compression
// (RFC 9204, package qpack) using the dynamic table in both directions.
//
// # Client
//
// Transport sends https requests over HTTP/3. It keeps one QUIC connection
// per origin (host:port) in a pool (pool.go: get-or-dial with a single
// dial shared by concurrent requests, mark-goaway, mark-broken), and runs
// concurrent requests as concurrent streams. Request bodies are streamed
// in DATA frames, followed by trailers from Request.Trailer; response
// bodies are read from the stream as the caller reads (QUIC flow control
// gives backpressure), Response.Trailer is filled at EOF, and closing a
// body before EOF stops the stream with H3_REQUEST_CANCELLED. Interim
// responses (103 Early Hints) go to httptrace.ClientTrace.Got1xxResponse.
// The request context cancels a request at any point (RESET_STREAM and
// STOP_SENDING with H3_REQUEST_CANCELLED). After a GOAWAY (RFC 9114 §5.2)
// new requests go to a new connection and requests in flight finish; a
// request refused unprocessed (H3_REQUEST_REJECTED, or a stream at or above
// the GOAWAY identifier) is replayed on a new connection when its body can
// be (GetBody), and otherwise fails with an error matching ErrRetryable.
// The Dial hook lets tests, and the Alt-Svc and racing layers to come,
// steer where connections go. Responses say Proto "HTTP/3.0".
//
// # Server
//
// Server accepts QUIC connections (ListenAndServe, Serve, ServeConn) and
// runs the handler for each request stream: pseudo-header and field
// validation (RFC 9114 §4.1.2, §4.3; a malformed request is reset with
// H3_MESSAGE_ERROR), Content-Length checked against the DATA received,
// streamed request bodies, a ResponseWriter with Flush, 1xx responses
// through WriteHeader, trailers (the Trailer header or http.TrailerPrefix),
// a panic in a handler resetting its stream with H3_INTERNAL_ERROR.
// Shutdown is graceful: a GOAWAY naming the first request stream not
// accepted, the accepted requests finish, then the clients close. AltSvcHandler
// and SetAltSvc advertise HTTP/3 from a TCP server (Alt-Svc, RFC 7838).
//
// # Connection plumbing (conn.go)
//
// Each side opens its control stream with SETTINGS first (QPACK table
// capacity 4096, 16 blocked streams, MAX_FIELD_SECTION_SIZE, a greased
// setting and a greased frame), its QPACK encoder and decoder streams, and
// a stream of a reserved type (RFC 9114 §6.2.3, §7.2.8). Critical streams
// are watched: closing one is H3_CLOSED_CRITICAL_STREAM, a duplicate
// H3_STREAM_CREATION_ERROR; unknown stream types are read no further
// (STOP_SENDING with H3_STREAM_CREATION_ERROR). Field sections that need
// dynamic table entries not yet received wait for the encoder stream;
// Section Acknowledgments, Stream Cancellations and Insert Count
// Increments go back on the decoder stream. HTTP/3 and QPACK errors in the
// peer's input close the connection with their code (RFC 9114 §8, RFC
// 9204 §6); a malformed message resets only its stream.
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
//     stream). The client does not send a header section over the server's
//     announced limit (ErrHeaderTooLarge).
//   - QPACK: a 4 KiB dynamic table and 16 blocked streams per direction.
//
// # Not done yet
//
//   - Alt-Svc discovery and caching, racing QUIC against TCP and falling
//     back to TCP (the Transport speaks HTTP/3 only, to https origins);
//     package internal/altsvc parses the header for that layer.
//   - Server push (never sent; a client never sends MAX_PUSH_ID), CONNECT
//     and extended CONNECT (RFC 9220), HTTP datagrams (RFC 9297), 0-RTT
//     requests; SETTINGS_ENABLE_CONNECT_PROTOCOL and H3_DATAGRAM are not
//     announced.
//   - A handler's request context ends when the client resets the stream
//     only once the handler reads the body or writes the response (or the
//     connection ends): a handler doing neither does not see it.
//   - Shutdown waits for the clients to close their connections (a skiff
//     client does once its requests are done); a client that keeps an idle
//     connection open holds Shutdown until its context ends or the idle
//     timeout closes the connection.
//   - The server does not check that its response header sections fit the
//     client's SETTINGS_MAX_FIELD_SECTION_SIZE (the client rejects them).
//   - A field section blocked on the encoder stream is not released when
//     its stream is reset; it waits for the inserts or the connection's end.
//   - Writes on our QPACK streams happen under the connection's QPACK lock;
//     a peer that never reads them would, after megabytes of instructions,
//     stall the connection's header encoding.
package h3
