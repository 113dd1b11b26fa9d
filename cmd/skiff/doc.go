// Command skiff is the command-line face of the skiff QUIC and HTTP/3 stack:
//
//	skiff get [flags] URL...   fetch URLs like curl, over HTTP/3 where offered
//	skiff serve [flags] [DIR]  serve a directory: HTTP/1.1 and HTTP/2 on TCP, HTTP/3 on UDP
//	skiff perf client|server   the QUIC perf protocol (draft-banks-quic-performance)
//	skiff demo                 TCP → HTTP/3 → fallback, then bulk transfers, on loopback
//	skiff help [command]       every command's flags
//	skiff version
//
// # skiff get
//
// Flags, URLs and output follow curl's (get_flags.go holds the table that
// both the parser and `skiff help get` read), and so do the exit codes
// (get_errors.go: 6 no such host, 7 no connection, 22 -f, 28 timeout, 35
// TLS, 60 certificate, …). The protocol is chosen in one place,
// chooseRoundTripper (get_discovery.go): h3.Transport, the discovery
// transport, in the mode of curl's flag (auto; --http3 race;
// --http3-only; --http1.1 and --http2 its TCP-only mode with net/http
// limited to those), with net/http's Transport (crypto/tls) as its TCP
// side and --alt-svc's file as its Alt-Svc store (h3.AltSvcFile, curl's
// format). The cache, racing, fallback and broken marks are h3's; this
// command only reports them: -v prints a timeline from net/http/httptrace
// and h3.ClientTrace (get_trace.go, get_discovery.go); -w
// expands curl's variables (get_output.go); the progress bar (progress.go)
// shows only when stderr is a terminal, the body is not going to one, and
// -s and -v are off. Names under .invalid fail at once without a query
// (RFC 6761 §6.4). No proxy is used: the QUIC side could not follow one.
//
// # skiff serve
//
// serve.go: net/http with crypto/tls on a TCP port and h3.Server on the
// same UDP port, one handler (http.FileServerFS over os.Root, so no path
// leaves the directory), Alt-Svc on the TCP responses, an access log line
// per request with its protocol. SIGINT or SIGTERM: both servers stop
// accepting, HTTP/2 and HTTP/3 send GOAWAY, requests in flight finish
// (within --shutdown-timeout); HTTP/3 connections still open a second after
// the last request ended are closed rather than waited for.
//
// # skiff demo
//
// demo_story.go runs serve and get in this process, through the commands'
// own code, and tells what happened; demo.go then moves bulk data over
// HTTP/3.
//
// # Not yet
//
//   - No cookies, proxies, authentication helpers, --compressed, ranges or
//     uploads with -T; -d sends its data as given (no --data-urlencode).
package main
