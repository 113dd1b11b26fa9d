package quic

import (
	"context"
	"crypto/rand"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/internal/quichooks"
	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// Conn is a QUIC connection.
//
// Its protocol state is a sans-I/O state machine (quic/internal/conn) that
// one goroutine, the connection's driver, owns: it feeds it datagrams,
// timers and the work application goroutines leave, sends what it
// produces, and acts on the events it reports. Application goroutines
// never touch that state: they read and write stream buffers, each with
// its own small locks, and wake the driver through an atomic flag.
type Conn struct {
	sm       *conn.Conn // the driver's alone
	mb       *conn.Mailbox
	endpoint *Endpoint
	isClient bool
	tracer   *Tracer

	// wake is signalled (without blocking) when work appears for the
	// driver where there was none: the Mailbox's pending flag, set by
	// application goroutines and by the endpoint's reader, went from
	// false to true.
	wake chan struct{}
	// inbox holds datagrams the endpoint's reader received for this
	// connection; requests, calls to run on the driver's goroutine.
	inboxMu    sync.Mutex
	inbox      []datagram
	inboxBytes int // bytes of the datagrams in inbox
	inboxGRO   int // entries of inbox holding a GRO buffer
	// inboxSurplus is what the inbox charged to the endpoint's shared
	// budget (Endpoint.inboxSurplus) for bytes beyond maxInboxBytes.
	inboxSurplus int
	inboxClosed  bool // the driver has ended: deliver drops everything
	// inboxWindow is the connection's receive window as the driver last
	// saw it, which sizes the inbox (inboxLimits).
	inboxWindow uint64
	reqMu       sync.Mutex
	reqs        []driverRequest

	// handshakeDone fires when the handshake completes or fails
	// (handshakeOK says which); closed is closed when the connection
	// starts to end (closeErr is set); done fires when it has fully ended
	// and the driver stopped.
	handshakeDone latch
	handshakeOK   atomic.Bool
	closed        chan struct{}
	done          latch
	// confirmed, made for a Dial that waits for the handshake to be
	// confirmed, is closed when it is (confirmedOK set first) or when the
	// connection ends.
	confirmed   chan struct{}
	confirmedOK atomic.Bool

	closeMu  sync.Mutex
	closeErr error
	ctx      context.Context // made on first use, canceled when the connection closes
	stop     context.CancelCauseFunc

	remoteAddr      atomic.Pointer[netip.AddrPort]
	peerDatagramMax atomic.Uint64
	// localSocket is the endpoint's socket of the current path, and
	// migrations the Migrate calls waiting (the driver's alone).
	localSocket atomic.Int32
	migrations  []migration

	// Streams the peer opened, for AcceptStream and AcceptUniStream
	// (bidirectional, unidirectional), and the signal for goroutines that
	// wait for one, or for the peer to raise a stream limit.
	acceptMu      sync.Mutex
	accept        [2][]*Stream
	streamChanged broadcast

	dgrams datagramQueue

	// waitChans holds wake-up channels streams released (stream.go).
	waitChans waitChans

	// halfOpen is what a server connection counts as until its handshake
	// completes (endpoint_halfopen.go); the driver's.
	halfOpen halfOpenKind
	// watched holds the streams whose Context is in use, to end it when
	// the stream finishes or the connection ends (stream_context.go). The
	// driver's alone.
	watched map[*Stream]struct{}

	// trimNow, the driver's, set by a request of a test, makes the driver
	// trim at the end of its turn as if the connection had been idle for
	// idleAfter.
	trimNow bool

	// final and finalTLS hold the counters and the TLS state once the
	// connection ended.
	final    *Stats
	finalTLS *tls13.ConnectionState

	// early is 0-RTT and session state (early.go).
	early earlyConn

	// closeDatagram, the driver's, is a copy of the datagram that carried
	// our CONNECTION_CLOSE, for the endpoint to send again while the
	// connection lingers (endpoint_linger.go).
	closeDatagram []byte
}

// broadcast wakes every goroutine waiting for something to change: the
// channel is made when a goroutine first waits, and closed when the thing
// changes, so that a connection nobody waits on pays for none.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns the channel closed at the next change. Take it before
// looking at the state it guards, so that no change is missed.
func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// fire wakes the waiters.
func (b *broadcast) fire() {
	b.mu.Lock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
	b.mu.Unlock()
}

// latch is a signal that happens once, like a channel closed once, whose
// channel is made only when a goroutine waits for it (wait): nobody waits
// for the end of most connections, nor for a server connection's
// handshake, and a channel costs every idle connection 112 bytes. Once
// fired, its channel is closedChan.
type latch struct{ broadcast }

// closedChan is the channel of a latch that fired.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// fire fires the latch, if it had not fired.
func (l *latch) fire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ch != closedChan {
		if l.ch != nil {
			close(l.ch)
		}
		l.ch = closedChan
	}
}

// fired reports whether the latch fired.
func (l *latch) fired() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ch == closedChan
}

// newConn creates a connection of endpoint e, with config and what the
// state machine takes of it (cc), and starts nothing yet.
func newConn(now time.Time, e *Endpoint, config *Config, cc *conn.Config, p *conn.Params) (*Conn, error) {
	c := &Conn{
		endpoint: e,
		isClient: p.IsClient,
		wake:     make(chan struct{}, 1),
		closed:   make(chan struct{}),
	}
	if config.Tracer != nil {
		c.tracer = config.Tracer(p.IsClient, p.DCID.Bytes())
		if p.Retry != nil {
			c.tracer = config.Tracer(p.IsClient, p.Retry.ODCID.Bytes())
		}
		if c.tracer != nil {
			p.Tracer = c.tracer.connTracer()
			c.pathTracer(c.tracer, p.Tracer)
		}
	}
	p.ResetKey = &e.resetKey
	p.ECNCapable = e.ecnCapable
	p.MaxReceiveSize = e.maxReceive
	sm, err := conn.New(now, cc, p)
	if err != nil {
		return nil, err
	}
	c.sm, c.mb = sm, sm.Mailbox()
	c.mb.SetWake(c.signal)
	c.mb.SetStreamAlloc(c.allocStream)
	peer := p.Peer
	c.remoteAddr.Store(&peer)
	c.dgrams.init(config.EnableDatagrams)
	c.early.sessionKey, c.early.tokenStore = p.SessionKey, config.TokenStore
	c.initEarly(config)
	return c, nil
}

// signal wakes the driver without blocking.
func (c *Conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Context is canceled when the connection starts to close, locally or by
// the peer, with why as its cause: context.Cause returns the error that
// stream calls then return (a *TransportError, an *ApplicationError,
// ErrIdleTimeout, ...).
func (c *Conn) Context() context.Context {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.ctx == nil {
		// Made on first use: an idle connection nobody asks does not pay
		// for it.
		c.ctx, c.stop = context.WithCancelCause(context.Background())
		if c.closeErr != nil {
			c.stop(c.closeErr)
		}
	}
	return c.ctx
}

// RemoteAddr is the peer's address on the current path.
func (c *Conn) RemoteAddr() netip.AddrPort { return *c.remoteAddr.Load() }

// LocalAddr is the local address of the socket of the current path: the
// endpoint's, or the one Migrate opened.
func (c *Conn) LocalAddr() netip.AddrPort {
	return c.endpoint.socketAddr(int(c.localSocket.Load()))
}

// Stats returns a snapshot of the connection's counters.
func (c *Conn) Stats() Stats {
	return ask(c, func(sm *conn.Conn) Stats { return statsOf(sm.Stats()) }, func() Stats { return *c.final })
}

// ConnectionState describes the connection's TLS handshake so far: the
// ALPN protocol negotiated, the server name, the peer's certificates, the
// cipher suite, whether it resumed a session (DidResume) and whether the
// server accepted 0-RTT (EarlyDataAccepted, known on a client once the
// server's handshake flight arrived). After the connection ended, the
// state it ended with. Package tls13/tlsconv turns it into a crypto/tls
// ConnectionState.
func (c *Conn) ConnectionState() tls13.ConnectionState {
	return ask(c, (*conn.Conn).TLSState, func() tls13.ConnectionState { return *c.finalTLS })
}

// InitiateKeyUpdate starts a 1-RTT key update (RFC 9001 §6) with the next
// packet that may carry one: at once on an established connection, or as
// soon as the handshake is confirmed and the previous update acknowledged
// (§6.1, §6.5). Keys are also updated every 2^20 packets without asking.
func (c *Conn) InitiateKeyUpdate() error {
	select {
	case <-c.closed:
		return c.closeError()
	default:
	}
	if !c.call(func(sm *conn.Conn, _ time.Time) { sm.ForceKeyUpdate() }) {
		return c.closeError()
	}
	return nil
}

// ask runs fn on the driver's goroutine and returns what it returns, or
// ended() once the connection has ended.
func ask[T any](c *Conn, fn func(*conn.Conn) T, ended func() T) T {
	ch := make(chan T, 1)
	if c.call(func(sm *conn.Conn, _ time.Time) { ch <- fn(sm) }) {
		select {
		case v := <-ch:
			return v
		case <-c.done.wait():
			// The driver ended before it got to the call.
		}
	}
	<-c.done.wait()
	return ended()
}

// driverRequest is what call and watchStream ask of the driver's goroutine:
// fn, or else the watch of stream by watcher (no closure: one per request
// stream of an HTTP/3 server).
type driverRequest struct {
	fn      func(*conn.Conn, time.Time)
	stream  *Stream
	watcher quichooks.StreamWatcher
}

// call runs fn on the driver's goroutine with the state machine and the
// time, and reports false when the driver has stopped.
func (c *Conn) call(fn func(*conn.Conn, time.Time)) bool {
	return c.ask(driverRequest{fn: fn})
}

// ask queues r for the driver's goroutine, and reports false when the
// driver has stopped.
func (c *Conn) ask(r driverRequest) bool {
	if c.done.fired() {
		return false
	}
	c.reqMu.Lock()
	c.reqs = append(c.reqs, r)
	c.reqMu.Unlock()
	c.mb.Wake()
	return true
}

// run does r on the driver's goroutine.
func (r *driverRequest) run(sm *conn.Conn, now time.Time) {
	if r.fn != nil {
		r.fn(sm, now)
		return
	}
	r.stream.startWatch(r.watcher)
}

// CloseWithError closes the connection with an application error code and
// reason (CONNECTION_CLOSE of type 0x1d, RFC 9000 §19.19). It returns once
// the CONNECTION_CLOSE is handed to the socket (a program may exit then),
// without waiting for the peer or the closing period (RFC 9000 §10.2.1),
// which runs on behind it. Later calls do nothing.
func (c *Conn) CloseWithError(code uint64, reason string) error {
	if !c.setCloseError(&ApplicationError{Code: code, Reason: reason}) {
		return nil
	}
	sent := make(chan struct{})
	if c.call(func(sm *conn.Conn, now time.Time) {
		sm.Close(now, code, reason)
		c.flush(now)
		close(sent)
	}) {
		select {
		case <-sent:
		case <-c.done.wait():
		}
	}
	return nil
}

// Close closes the connection with application error code 0.
func (c *Conn) Close() error { return c.CloseWithError(0, "") }

// closeNow sends CONNECTION_CLOSE and ends the connection without the
// closing period: the endpoint is going away.
func (c *Conn) closeNow() {
	c.setCloseError(ErrEndpointClosed)
	c.call(func(sm *conn.Conn, now time.Time) { sm.CloseNow(now) })
}

// setCloseError records why the connection ended, if nothing did before,
// and reports whether it did. From then on blocked stream calls return and
// the Context is canceled: the application learns of the end when it
// happens, not when the closing or draining period is over.
func (c *Conn) setCloseError(err error) bool {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closeErr != nil {
		return false
	}
	c.closeErr = err
	close(c.closed)
	// Goroutines waiting for a stream wait on streamChanged alone.
	c.streamChanged.fire()
	if c.stop != nil {
		c.stop(err)
	}
	return true
}

// closeError is why the connection ended.
func (c *Conn) closeError() error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closeErr != nil {
		return c.closeErr
	}
	return ErrConnectionClosed
}

// newConnectionID returns a random connection ID of our length.
func newConnectionID() wire.ConnectionID { return conn.NewConnectionID() }

// randomBytes fills b from crypto/rand; it cannot fail on the platforms we
// support (crypto/rand.Read panics rather than returning an error).
func randomBytes(b []byte) { rand.Read(b) }
