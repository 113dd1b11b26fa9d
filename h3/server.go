package h3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/h3/internal/headers"
	"github.com/skiffnet/skiff/h3/internal/priority"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
	"github.com/skiffnet/skiff/tls13/tlsconv"
)

// NextProtoH3 is the ALPN protocol ID of HTTP/3 (RFC 9114 §3.1).
const NextProtoH3 = "h3"

// Server serves HTTP/3 requests with an http.Handler.
//
// Limits: the number of concurrent requests per connection is the QUIC
// stream limit (QUICConfig.MaxBidiStreams, 100 by default); the header
// section of a request is limited by MaxHeaderBytes, which is also
// announced as SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2), and must
// arrive within ReadHeaderTimeout.
type Server struct {
	// Addr is the UDP address ListenAndServe and ListenAndServeTLS
	// listen on; ":443" when empty.
	Addr string
	// Handler serves requests; http.DefaultServeMux when nil.
	Handler http.Handler
	// TLSConfig holds the certificates for ListenAndServe (or
	// ListenAndServeTLS, which adds its certificate to a copy). Its
	// NextProtos must offer "h3": when empty, "h3" is used; a list
	// without "h3" is an error.
	TLSConfig *tls13.Config
	// QUICConfig configures the QUIC connections of ListenAndServe; its TLS
	// field is replaced by TLSConfig.
	QUICConfig *quic.Config
	// MaxHeaderBytes bounds the size of a request's header section as RFC
	// 9114 §4.2.2 counts it (name + value + 32 per field line);
	// http.DefaultMaxHeaderBytes (1 MiB) when zero. A request over the
	// limit is answered with 431 Request Header Fields Too Large, one far
	// over it has its stream reset with H3_EXCESSIVE_LOAD.
	MaxHeaderBytes int
	// ReadHeaderTimeout is how long a request stream may take to deliver
	// its header section, counted from when the stream is accepted and
	// including a wait for QPACK encoder stream data, as net/http's
	// ReadHeaderTimeout counts from the start of a request. A stream over
	// it is reset with H3_REQUEST_REJECTED (the client may retry). Zero
	// means DefaultReadHeaderTimeout; negative, no limit.
	ReadHeaderTimeout time.Duration
	// ErrorLog receives handler panics and connection errors; the log
	// package's standard logger when nil.
	ErrorLog *log.Logger

	mu        sync.Mutex
	listeners map[*quic.Listener]struct{}
	conns     map[*serverConn]struct{}
	shutdown  bool
	closed    chan struct{} // closed by Shutdown and Close: stops Serve loops
	connsDone *sync.Cond    // signalled when a connection ends

	headerTimeouts atomic.Uint64 // request streams reset at ReadHeaderTimeout
	sniff          sniffCache    // the responses' Content-Type (sniff.go)
}

// DefaultReadHeaderTimeout is the ReadHeaderTimeout of a Server that sets
// none. A legitimate client sends its request's HEADERS frame right after
// opening the stream; 10 s leaves room for loss recovery on a poor path
// while a slow-header attacker holds each stream no longer than that.
const DefaultReadHeaderTimeout = 10 * time.Second

func (s *Server) readHeaderTimeout() time.Duration {
	switch {
	case s.ReadHeaderTimeout > 0:
		return s.ReadHeaderTimeout
	case s.ReadHeaderTimeout < 0:
		return 0
	}
	return DefaultReadHeaderTimeout
}

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or
// Close.
var ErrServerClosed = http.ErrServerClosed

func (s *Server) init() {
	if s.closed == nil {
		s.closed = make(chan struct{})
		s.listeners = map[*quic.Listener]struct{}{}
		s.conns = map[*serverConn]struct{}{}
		s.connsDone = sync.NewCond(&s.mu)
	}
}

func (s *Server) maxHeaderBytes() uint64 {
	if s.MaxHeaderBytes > 0 {
		return uint64(s.MaxHeaderBytes)
	}
	return http.DefaultMaxHeaderBytes
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

// ListenAndServe listens on the UDP address s.Addr (":443" if empty) and
// serves HTTP/3 on it, with the certificates of s.TLSConfig. It checks the
// configuration first, and fails with an error naming the field: no
// TLSConfig, a NextProtos without "h3", no certificate.
func (s *Server) ListenAndServe() error {
	return s.ListenAndServeTLS("", "")
}

// ListenAndServeTLS is ListenAndServe with the certificate chain and key
// of the PEM files certFile and keyFile (tls13.LoadX509KeyPair) added to a
// copy of s.TLSConfig, as net/http's Server.ListenAndServeTLS does; both
// may be empty when TLSConfig has a certificate.
func (s *Server) ListenAndServeTLS(certFile, keyFile string) error {
	cfg, err := s.listenConfig(certFile, keyFile)
	if err != nil {
		return err
	}
	addr := s.Addr
	if addr == "" {
		addr = ":443"
	}
	ln, err := quic.Listen("udp", addr, cfg)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// ListenAndServeTLS listens on the UDP address addr and serves HTTP/3 with
// handler (http.DefaultServeMux when nil) and the certificate chain and key
// of the PEM files certFile and keyFile: net/http's ListenAndServeTLS over
// HTTP/3.
func ListenAndServeTLS(addr, certFile, keyFile string, handler http.Handler) error {
	s := &Server{Addr: addr, Handler: handler}
	return s.ListenAndServeTLS(certFile, keyFile)
}

// listenConfig is the QUIC configuration of ListenAndServeTLS.
func (s *Server) listenConfig(certFile, keyFile string) (*quic.Config, error) {
	var cfg quic.Config
	if s.QUICConfig != nil {
		cfg = *s.QUICConfig
	}
	switch {
	case s.TLSConfig != nil:
		cfg.TLS = s.TLSConfig.Clone()
	case certFile != "" || keyFile != "":
		cfg.TLS = &tls13.Config{}
	default:
		return nil, errors.New("h3: Server.TLSConfig is required (or certificate files)")
	}
	if certFile != "" || keyFile != "" {
		cert, err := tls13.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		cfg.TLS.Certificates = append(slices.Clip(cfg.TLS.Certificates), cert)
	}
	switch {
	case len(cfg.TLS.NextProtos) == 0:
		cfg.TLS.NextProtos = []string{NextProtoH3}
	case !slices.Contains(cfg.TLS.NextProtos, NextProtoH3):
		return nil, fmt.Errorf("h3: Server.TLSConfig.NextProtos %q does not offer %q (RFC 9114 §3.1)", cfg.TLS.NextProtos, NextProtoH3)
	}
	if err := cfg.TLS.ValidateServer(); err != nil {
		return nil, fmt.Errorf("h3: Server.TLSConfig: %w", err)
	}
	return &cfg, nil
}

// Serve accepts connections on ln, whose TLS configuration must offer the
// ALPN protocol "h3" (an error at once otherwise), and serves each in its
// own goroutine. It closes ln when it returns; it returns ErrServerClosed
// after Shutdown or Close.
func (s *Server) Serve(ln *quic.Listener) error {
	if protos := ln.Config().TLS.NextProtos; !slices.Contains(protos, NextProtoH3) {
		ln.Close()
		return fmt.Errorf("h3: the listener's tls13.Config.NextProtos %q does not offer %q (RFC 9114 §3.1)", protos, NextProtoH3)
	}
	s.mu.Lock()
	s.init()
	if s.shutdown {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	closed := s.closed
	s.mu.Unlock()

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-closed:
			cancel()
		case <-ctx.Done(): // Serve returned
		}
	}()
	defer cancel()
	for {
		qc, err := ln.Accept(ctx)
		if err != nil {
			s.mu.Lock()
			shutdown := s.shutdown
			s.mu.Unlock()
			if shutdown {
				// Shutdown closes the listener once its connections end.
				return ErrServerClosed
			}
			s.mu.Lock()
			delete(s.listeners, ln)
			s.mu.Unlock()
			ln.Close()
			return err
		}
		go s.ServeConn(qc)
	}
}

// ServeConn serves HTTP/3 on one established QUIC connection and returns
// when the connection ends.
func (s *Server) ServeConn(qc *quic.Conn) error {
	st := qc.ConnectionState()
	if st.NegotiatedProtocol != NextProtoH3 {
		// A connection from a listener whose TLS configuration does not
		// offer "h3": every client would fail, so say it loudly.
		err := fmt.Errorf("h3: connection from %v negotiated ALPN %q, not %q: the listener's tls13.Config.NextProtos must offer %q", qc.RemoteAddr(), st.NegotiatedProtocol, NextProtoH3, NextProtoH3)
		s.logf("%v", err)
		qc.CloseWithError(uint64(ErrCodeGeneralProtocolError), "ALPN is not h3")
		return err
	}
	cs := tlsconv.ToConnectionState(st)
	tlsState := &cs
	s.mu.Lock()
	s.init()
	sc := newServerConn(s, qc)
	sc.tls = tlsState
	s.conns[sc] = struct{}{}
	shutdown := s.shutdown
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, sc)
		s.connsDone.Broadcast()
		s.mu.Unlock()
	}()
	if shutdown {
		sc.goAway()
	}
	return sc.serve()
}

// Shutdown stops the server gracefully (RFC 9114 §5.2): it stops accepting
// connections, sends each connection a GOAWAY with the first request
// stream it will not process, lets the requests below it finish, and waits
// for the clients to close their connections. When ctx ends first, it
// closes the remaining connections with H3_NO_ERROR and returns ctx.Err().
// The listeners are closed at the end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.init()
	if !s.shutdown {
		s.shutdown = true
		close(s.closed)
	}
	conns := make([]*serverConn, 0, len(s.conns))
	for sc := range s.conns {
		conns = append(conns, sc)
	}
	s.mu.Unlock()
	for _, sc := range conns {
		sc.goAway()
	}

	// Wait for every connection to end, or ctx.
	done := make(chan struct{})
	go func() {
		s.mu.Lock()
		for len(s.conns) > 0 {
			s.connsDone.Wait()
		}
		s.mu.Unlock()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		s.closeAll()
		<-done
	}
	s.closeListeners()
	return err
}

// Close closes every listener and connection at once (H3_NO_ERROR), without
// waiting for requests in flight.
func (s *Server) Close() error {
	s.mu.Lock()
	s.init()
	if !s.shutdown {
		s.shutdown = true
		close(s.closed)
	}
	s.mu.Unlock()
	s.closeAll()
	s.closeListeners()
	return nil
}

func (s *Server) closeAll() {
	s.mu.Lock()
	conns := make([]*serverConn, 0, len(s.conns))
	for sc := range s.conns {
		conns = append(conns, sc)
	}
	s.mu.Unlock()
	for _, sc := range conns {
		sc.qc.CloseWithError(uint64(ErrCodeNoError), "server closed")
	}
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	lns := s.listeners
	s.listeners = map[*quic.Listener]struct{}{}
	s.mu.Unlock()
	for ln := range lns {
		ln.Close()
	}
}

// serverConn is one HTTP/3 connection of a Server.
type serverConn struct {
	srv *Server
	qc  *quic.Conn
	c   *conn
	// tls is the Request.TLS of every request: what the handshake
	// negotiated.
	tls *tls.ConnectionState
	// remote is the client's address last formatted for Request.RemoteAddr
	// (it changes only when the client migrates).
	remote atomic.Pointer[remoteAddr]
	// length is the Content-Length value last formatted: responses of
	// one size, the common case, share its text.
	length headers.LengthText

	// workers run the handlers (server_workers.go).
	workers workerPool

	mu         sync.Mutex
	nextStream uint64 // one above the highest request stream accepted (in stream ID space: id+4)
	goAwaySent bool
	goAwayID   uint64
	// openStreams are the request streams being served, and
	// pendingPriority the PRIORITY_UPDATEs for streams not accepted yet
	// (priority.go).
	openStreams     map[uint64]openStream
	pendingPriority map[uint64]priority.Priority
	// peerStreamLimit is the client's bidirectional stream limit as last
	// asked of quic (priority.go); only the goroutine reading the client's
	// control stream uses it.
	peerStreamLimit uint64
}

// remoteAddr is a client address and its text.
type remoteAddr struct {
	addr netip.AddrPort
	text string
}

// remoteAddr returns the client's current address as text, formatting it
// only when it changed.
func (sc *serverConn) remoteAddr() string {
	addr := sc.qc.RemoteAddr()
	if r := sc.remote.Load(); r != nil && r.addr == addr {
		return r.text
	}
	r := &remoteAddr{addr: addr, text: addr.String()}
	sc.remote.Store(r)
	return r.text
}

func newServerConn(s *Server, qc *quic.Conn) *serverConn {
	sc := &serverConn{srv: s, qc: qc, c: newConn(qc, false, s.maxHeaderBytes())}
	sc.c.onPriorityUpdate = sc.priorityUpdate
	return sc
}

func (sc *serverConn) serve() error {
	ctx := sc.qc.Context()
	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	err := sc.c.start(startCtx)
	cancel()
	if err != nil {
		// RFC 9114 §6.2: a client must let us open three streams at once.
		sc.qc.CloseWithError(uint64(ErrCodeGeneralProtocolError), "cannot open control streams")
		return err
	}
	// A GOAWAY decided before the control stream was open goes out now.
	sc.mu.Lock()
	goAway, goAwayID := sc.goAwaySent, sc.goAwayID
	sc.mu.Unlock()
	if goAway {
		sc.c.sendGoAway(goAwayID)
	}
	sc.workers.start(sc.handleRequestStream)
	defer sc.workers.stop()
	for {
		str, err := sc.qc.AcceptStream(ctx)
		if err != nil {
			return err
		}
		id := str.ID()
		sc.mu.Lock()
		if sc.goAwaySent && id >= sc.goAwayID {
			sc.mu.Unlock()
			// RFC 9114 §5.2: requests on streams at or above the GOAWAY
			// identifier are not processed; H3_REQUEST_REJECTED tells the
			// client it may retry them elsewhere (§4.1.1).
			str.Reset(uint64(ErrCodeRequestRejected))
			str.CloseRead(uint64(ErrCodeRequestRejected))
			continue
		}
		sc.nextStream = max(sc.nextStream, id+4)
		sc.openRequestStreamLocked(str)
		sc.mu.Unlock()
		sc.workers.hand(str)
	}
}

// goAway starts the graceful shutdown of the connection: a GOAWAY naming
// the first request stream not accepted so far (RFC 9114 §5.2, §7.2.6).
func (sc *serverConn) goAway() {
	sc.mu.Lock()
	if sc.goAwaySent {
		sc.mu.Unlock()
		return
	}
	sc.goAwaySent = true
	sc.goAwayID = sc.nextStream
	id := sc.goAwayID
	sc.mu.Unlock()
	sc.c.sendGoAway(id)
}
