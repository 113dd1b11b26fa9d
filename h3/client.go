package h3

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/h3/internal/headers"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// h3Client is the HTTP/3 side of a Transport: it sends requests over
// HTTP/3 (RFC 9114), keeping one QUIC connection per route (origin and the
// address dialed for it), shared by concurrent requests as concurrent
// streams, and dials a new one when the server sends GOAWAY or the
// connection ends.
type h3Client struct {
	t    *Transport
	pool *connPool
}

// route is where an HTTP/3 request goes: the origin (its :authority, and
// the name the server's certificate must be valid for, RFC 7838 §2.1) and
// the address dialed, an alternative's or the origin's own.
type route struct {
	origin Origin
	addr   string // host:port dialed
	alt    bool   // addr is an Alt-Svc alternative: the request carries Alt-Used
	// hints are addresses for addr's host from an HTTPS record (RFC 9460
	// §7.3), used when given instead of resolving it.
	hints []netip.Addr
}

// key is the route as text: the origin's authority and the address.
func (r route) key() string { return r.poolKey().String() }

// routeKey is the pool key: one connection per (origin, alternative). It
// is the origin's host and port rather than its authority's text, so that
// finding a pooled connection makes no string.
type routeKey struct {
	host string
	port int
	addr string
}

func (r route) poolKey() routeKey {
	return routeKey{host: r.origin.Host, port: r.origin.Port, addr: r.addr}
}

// String is the origin's authority and the address dialed.
func (k routeKey) String() string {
	return Origin{Host: k.host, Port: k.port}.Authority() + " " + k.addr
}

// startTimeout bounds the opening of our control and QPACK streams on a new
// connection.
const startTimeout = 10 * time.Second

// maxAttempts bounds how many connections one request is tried on when it
// is refused unprocessed, in ModeHTTP3Only (the other modes replay such a
// request over TCP instead).
const maxAttempts = 3

func newH3Client(t *Transport) *h3Client {
	return &h3Client{t: t, pool: newConnPool(t.dialRoute)}
}

func (c *h3Client) maxHeaderBytes() uint64 {
	if c.t.MaxResponseHeaderBytes > 0 {
		return uint64(c.t.MaxResponseHeaderBytes)
	}
	return 1 << 20
}

// roundTrip sends req over HTTP/3 along rt, trying up to attempts
// connections while the server refuses it unprocessed and its body can be
// sent again. It closes the request body in every case.
func (c *h3Client) roundTrip(req *http.Request, rt route, attempts int) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		cc, err := c.pool.get(ctx, rt)
		if err != nil {
			closeBody(req)
			if attempt > 1 && ctx.Err() == nil {
				// The request was refused unprocessed before: still so.
				return nil, &RetryableError{Err: err, Unprocessed: true}
			}
			return nil, err
		}
		resp, err := c.send(req, rt, cc)
		if err == nil {
			return resp, nil
		}
		if !errors.Is(err, ErrRetryable) || attempt >= attempts || ctx.Err() != nil {
			closeBody(req)
			return nil, err
		}
		// RFC 9114 §4.1.1: a request rejected unprocessed can be retried,
		// with a fresh copy of its body.
		r2, rerr := rewind(req)
		if rerr != nil {
			return nil, err
		}
		req = r2
	}
}

// send sends req on cc, reporting the connection to the request's
// httptrace.ClientTrace.
func (c *h3Client) send(req *http.Request, rt route, cc *clientConn) (*http.Response, error) {
	if trace := httptrace.ContextClientTrace(req.Context()); trace != nil && trace.GotConn != nil {
		// There is no net.Conn to report: GotConnInfo.Conn is nil.
		trace.GotConn(httptrace.GotConnInfo{Reused: cc.used.Swap(true)})
	} else {
		cc.used.Store(true)
	}
	return cc.roundTripEarly(req, rt, c.t)
}

// rewind returns req ready to be sent again: with a fresh body from
// GetBody when it has one. It fails when the body cannot be had again.
func rewind(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	closeBody(req)
	if req.GetBody == nil {
		return nil, errors.New("h3: request body cannot be sent again (no GetBody)")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("h3: GetBody: %w", err)
	}
	r2 := *req
	r2.Body = body
	return &r2, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// closeIdle closes the connections that carry no request, and cancels the
// dials that no request waits for.
func (c *h3Client) closeIdle() {
	c.pool.cancelIdleDials()
	for _, cc := range c.pool.all() {
		cc.closeIfIdle()
	}
}

// clientConn is one HTTP/3 connection.
type clientConn struct {
	c    *conn
	qc   *quic.Conn
	pool *connPool   // the pool it is for, set before anything runs
	keys []routeKey  // its pool keys; guarded by pool.mu
	used atomic.Bool // a request was sent on it
	// lengths is the Content-Length text of its requests: one size, the
	// common case, formatted once.
	lengths headers.LengthText

	// early is its 0-RTT state (early.go).
	early earlyClient

	// goAwayReceived is closed when the server's first GOAWAY arrives.
	goAwayReceived chan struct{}

	mu sync.Mutex
	// tls is what the TLS handshake negotiated; tlsState is the same as
	// Response.TLS, shared by the connection's responses as net/http's
	// are. Set when the handshake completes (tlsInfo).
	tls      tls13.ConnectionState
	tlsState *tls.ConnectionState
	goAway   bool
	goAwayID uint64
	// goAwayFrom is true once the server sent GOAWAY (goAway is also set
	// when we stop using an idle connection).
	goAwayFrom bool
	active     map[uint64]*clientStream // requests in flight, by stream ID
	pending    int                      // requests opening a stream
}

func newClientConn(qc *quic.Conn, maxHeaderBytes uint64, pool *connPool) *clientConn {
	cc := &clientConn{qc: qc, pool: pool, c: newConn(qc, true, maxHeaderBytes), active: map[uint64]*clientStream{}, goAwayReceived: make(chan struct{})}
	cc.c.onGoAway = cc.onGoAway
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
	delete(cc.active, cs.str.ID())
	last := cc.goAway && len(cc.active) == 0 && cc.pending == 0
	cc.mu.Unlock()
	if last {
		cc.closeIfIdle()
	}
}
