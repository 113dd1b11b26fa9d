package h3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// Transport is an http.RoundTripper that sends https requests over HTTP/3
// (RFC 9114). It keeps one QUIC connection per origin, shared by
// concurrent requests as concurrent streams, and dials a new one when the
// server sends GOAWAY or the connection ends.
//
// A request refused before processing — reset with H3_REQUEST_REJECTED,
// or on a stream at or above the server's GOAWAY identifier — is sent
// again on a new connection when its body can be replayed (no body, or
// GetBody set); otherwise the error matches ErrRetryable.
type Transport struct {
	// TLSClientConfig configures the handshake; a copy is used with
	// NextProtos set to "h3" and ServerName to the URL's host when empty.
	TLSClientConfig *tls13.Config
	// QUICConfig configures the QUIC connections; its TLS field is
	// replaced.
	QUICConfig *quic.Config
	// Dial, when set, opens the QUIC connection to addr ("host:port")
	// instead of quic.Dial: tests, and the layers that race or steer
	// connections, plug in here.
	Dial func(ctx context.Context, addr string, cfg *quic.Config) (*quic.Conn, error)
	// MaxResponseHeaderBytes bounds a response's header section (RFC 9114
	// §4.2.2 size) and is announced as SETTINGS_MAX_FIELD_SECTION_SIZE;
	// 1 MiB when zero.
	MaxResponseHeaderBytes int64

	initOnce sync.Once
	pool     *connPool
}

// startTimeout bounds the opening of our control and QPACK streams on a new
// connection.
const startTimeout = 10 * time.Second

// maxAttempts bounds how many connections one request is tried on when it
// is refused unprocessed.
const maxAttempts = 3

func (t *Transport) connPool() *connPool {
	t.initOnce.Do(func() { t.pool = newConnPool(t.dialConn) })
	return t.pool
}

func (t *Transport) maxHeaderBytes() uint64 {
	if t.MaxResponseHeaderBytes > 0 {
		return uint64(t.MaxResponseHeaderBytes)
	}
	return 1 << 20
}

// RoundTrip sends req over HTTP/3 and returns the response, whose Body
// streams the content from the QUIC stream.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		closeBody(req)
		return nil, errors.New("h3: request has no URL")
	}
	if req.URL.Scheme != "https" {
		closeBody(req)
		return nil, fmt.Errorf("h3: unsupported scheme %q", req.URL.Scheme)
	}
	if req.URL.Host == "" {
		closeBody(req)
		return nil, errors.New("h3: request URL has no host")
	}
	origin := authorityAddr(req.URL.Host)
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		cc, err := t.connPool().get(ctx, origin)
		if err != nil {
			closeBody(req)
			if attempt > 1 && ctx.Err() == nil {
				// The request was refused unprocessed before: still so.
				return nil, &RetryableError{Err: err}
			}
			return nil, err
		}
		if trace := httptrace.ContextClientTrace(ctx); trace != nil && trace.GotConn != nil {
			// There is no net.Conn to report: GotConnInfo.Conn is nil.
			trace.GotConn(httptrace.GotConnInfo{Reused: cc.used.Swap(true)})
		} else {
			cc.used.Store(true)
		}
		resp, err := cc.roundTrip(req)
		if err == nil {
			return resp, nil
		}
		if !errors.Is(err, ErrRetryable) || attempt >= maxAttempts || ctx.Err() != nil {
			closeBody(req)
			return nil, err
		}
		// RFC 9114 §4.1.1: a request rejected unprocessed can be retried,
		// with a fresh copy of its body.
		if req.Body != nil && req.Body != http.NoBody {
			closeBody(req)
			if req.GetBody == nil {
				return nil, err
			}
			body, gerr := req.GetBody()
			if gerr != nil {
				return nil, err
			}
			r2 := *req
			r2.Body = body
			req = &r2
		}
	}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// authorityAddr returns host:port, with 443 when the port is absent.
func authorityAddr(host string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	return net.JoinHostPort(host, "443")
}

// CloseIdleConnections closes the connections that carry no request.
func (t *Transport) CloseIdleConnections() {
	for _, cc := range t.connPool().all() {
		cc.closeIfIdle()
	}
}

// dialConn dials origin and sets up HTTP/3 on the new connection.
func (t *Transport) dialConn(ctx context.Context, origin string) (*clientConn, error) {
	var cfg quic.Config
	if t.QUICConfig != nil {
		cfg = *t.QUICConfig
	}
	if t.TLSClientConfig != nil {
		cfg.TLS = t.TLSClientConfig.Clone()
	} else {
		cfg.TLS = &tls13.Config{}
	}
	cfg.TLS.NextProtos = []string{NextProtoH3}
	if cfg.TLS.ServerName == "" {
		host, _, _ := net.SplitHostPort(origin)
		cfg.TLS.ServerName = host
	}
	var qc *quic.Conn
	var err error
	if t.Dial != nil {
		qc, err = t.Dial(ctx, origin, &cfg)
	} else {
		qc, err = quic.Dial(ctx, "udp", origin, &cfg)
	}
	if err != nil {
		return nil, err
	}
	cc := newClientConn(qc, t.maxHeaderBytes())
	// RFC 9114 §6.2: the server must allow the three streams at once; a
	// server that does not would otherwise hold the dial forever.
	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := cc.c.start(startCtx); err != nil {
		qc.CloseWithError(uint64(ErrCodeGeneralProtocolError), "cannot open control streams")
		return nil, err
	}
	return cc, nil
}

// clientConn is one HTTP/3 connection of a Transport.
type clientConn struct {
	c      *conn
	qc     *quic.Conn
	pool   *connPool // set when pooled
	origin string
	used   atomic.Bool // a request was sent on it

	// goAwayReceived is closed when the server's first GOAWAY arrives.
	goAwayReceived chan struct{}

	mu       sync.Mutex
	goAway   bool
	goAwayID uint64
	// goAwayFrom is true once the server sent GOAWAY (goAway is also set
	// when we stop using an idle connection).
	goAwayFrom bool
	active     map[uint64]*clientStream // requests in flight, by stream ID
	pending    int                      // requests opening a stream
}

func newClientConn(qc *quic.Conn, maxHeaderBytes uint64) *clientConn {
	cc := &clientConn{qc: qc, c: newConn(qc, true, maxHeaderBytes), active: map[uint64]*clientStream{}, goAwayReceived: make(chan struct{})}
	cc.c.onGoAway = cc.onGoAway
	go func() {
		<-qc.Context().Done()
		if cc.pool != nil {
			cc.pool.markBroken(cc)
		}
	}()
	return cc
}

// usable reports whether new requests may use the connection.
func (cc *clientConn) usable() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return !cc.goAway && !cc.c.closed()
}

// onGoAway handles the server's GOAWAY (RFC 9114 §5.2): no new requests
// here; requests on streams at or above id were not and will not be
// processed, so they fail as retryable; the others finish, and then the
// connection is closed.
func (cc *clientConn) onGoAway(id uint64) {
	cc.mu.Lock()
	first := !cc.goAwayFrom
	cc.goAwayFrom = true
	cc.goAway, cc.goAwayID = true, id
	var rejected []*clientStream
	for sid, cs := range cc.active {
		if sid >= id {
			rejected = append(rejected, cs)
		}
	}
	cc.mu.Unlock()
	if cc.pool != nil {
		cc.pool.markGoAway(cc)
	}
	for _, cs := range rejected {
		cs.reject(errGoAway)
	}
	if first {
		close(cc.goAwayReceived)
	}
	cc.closeIfIdle()
}

var errGoAway = errors.New("h3: stream at or above the server's GOAWAY identifier")

// closeIfIdle closes the connection with H3_NO_ERROR if no request uses it
// and none can come: after GOAWAY, or when asked to (CloseIdleConnections).
func (cc *clientConn) closeIfIdle() {
	cc.mu.Lock()
	idle := len(cc.active) == 0 && cc.pending == 0
	if idle {
		cc.goAway = true // no new request may start on it
	}
	cc.mu.Unlock()
	if idle {
		if cc.pool != nil {
			cc.pool.markGoAway(cc)
		}
		cc.qc.CloseWithError(uint64(ErrCodeNoError), "")
	}
}

// markClosing takes a connection that failed to open a stream out of
// service.
func (cc *clientConn) markClosing() {
	cc.mu.Lock()
	cc.goAway = true
	cc.mu.Unlock()
	if cc.pool != nil {
		cc.pool.markBroken(cc)
	}
}

// requestDone forgets a finished request and closes the connection if it
// was the last one after a GOAWAY.
func (cc *clientConn) requestDone(cs *clientStream) {
	cc.mu.Lock()
	delete(cc.active, cs.id)
	last := cc.goAway && len(cc.active) == 0 && cc.pending == 0
	cc.mu.Unlock()
	if last {
		cc.closeIfIdle()
	}
}
