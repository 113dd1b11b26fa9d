package h3

import (
	"context"
	"errors"
	"log"
	"net/http"
	"sync"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// NextProtoH3 is the ALPN protocol ID of HTTP/3 (RFC 9114 §3.1).
const NextProtoH3 = "h3"

// Server serves HTTP/3 requests with an http.Handler.
//
// Limits: the number of concurrent requests per connection is the QUIC
// stream limit (QUICConfig.MaxBidiStreams, 100 by default); the header
// section of a request is limited by MaxHeaderBytes, which is also
// announced as SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2).
type Server struct {
	// Addr is the UDP address ListenAndServe listens on, if its argument
	// is empty.
	Addr string
	// Handler serves requests; http.DefaultServeMux when nil.
	Handler http.Handler
	// TLSConfig holds the certificates. ListenAndServe sets NextProtos to
	// "h3" on a copy.
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
	// ErrorLog receives handler panics and connection errors; the log
	// package's standard logger when nil.
	ErrorLog *log.Logger

	mu        sync.Mutex
	listeners map[*quic.Listener]struct{}
	conns     map[*serverConn]struct{}
	shutdown  bool
	closed    chan struct{} // closed by Shutdown and Close: stops Serve loops
	connsDone *sync.Cond    // signalled when a connection ends
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

// ListenAndServe listens on the UDP address addr and serves HTTP/3 on it.
func (s *Server) ListenAndServe(addr string) error {
	if addr == "" {
		addr = s.Addr
	}
	if s.TLSConfig == nil {
		return errors.New("h3: Server.TLSConfig is required")
	}
	var cfg quic.Config
	if s.QUICConfig != nil {
		cfg = *s.QUICConfig
	}
	cfg.TLS = s.TLSConfig.Clone()
	cfg.TLS.NextProtos = []string{NextProtoH3}
	ln, err := quic.Listen("udp", addr, &cfg)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln, whose TLS configuration must offer the
// ALPN protocol "h3", and serves each in its own goroutine. It closes ln
// when it returns; it returns ErrServerClosed after Shutdown or Close.
func (s *Server) Serve(ln *quic.Listener) error {
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
	s.mu.Lock()
	s.init()
	sc := newServerConn(s, qc)
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

	mu         sync.Mutex
	nextStream uint64 // one above the highest request stream accepted (in stream ID space: id+4)
	goAwaySent bool
	goAwayID   uint64
}

func newServerConn(s *Server, qc *quic.Conn) *serverConn {
	return &serverConn{srv: s, qc: qc, c: newConn(qc, false, s.maxHeaderBytes())}
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
	var wg sync.WaitGroup
	defer wg.Wait()
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
		sc.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc.handleRequestStream(str)
		}()
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
