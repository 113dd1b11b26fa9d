package quic

import (
	"context"
	"crypto/cipher"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/udpio"
)

// Endpoint is one UDP socket serving QUIC connections in both roles: it
// reads datagrams in batches and hands each to its connection, found by
// Destination Connection ID; it answers unknown versions with Version
// Negotiation and unknown connections with a stateless reset; as a server
// it creates connections for new clients.
type Endpoint struct {
	sock     packetConn
	server   *Config // nil: the endpoint does not accept connections
	resetKey [32]byte

	// Retry (retry.go): the AEAD sealing tokens, made once from resetKey;
	// counters for tests.
	retryOnce     sync.Once
	retryAEAD     cipher.AEAD
	retriesSent   atomic.Uint64
	invalidTokens atomic.Uint64

	mu      sync.Mutex
	conns   map[wire.ConnectionID]*Conn
	all     map[*Conn][]wire.ConnectionID // every connection, with the IDs routed to it
	closed  bool
	accept  chan *Conn
	readErr error

	// resetTokens maps the peers' stateless reset tokens to connections
	// (conn_id.go); guarded by mu.
	resetTokens map[[wire.StatelessResetTokenLen]byte]*Conn

	readerDone chan struct{}
	// ecnCapable: the socket sets the ECN mark of datagrams it sends. A
	// socket that cannot say (tests' in-memory networks) is taken to: ECN
	// validation stops the marks where they do not arrive.
	ecnCapable bool
	// ownedBy, for an endpoint Dial made for one connection: closed with it.
	ownedBy *Conn
}

// packetConn is the socket an endpoint uses: a *udpio.Conn, or in tests an
// in-memory network that runs on synthetic time.
type packetConn interface {
	ReadBatch(msgs []udpio.Message) (int, error)
	WriteSegments(buf []byte, segSize int, to netip.AddrPort, ecn udpio.ECN, from netip.Addr) error
	LocalAddr() netip.AddrPort
	Close() error
}

// acceptQueue bounds connections that finished their handshake and wait
// for Accept.
const acceptQueue = 256

func newEndpoint(sock packetConn, server *Config) *Endpoint {
	e := &Endpoint{
		sock:       sock,
		server:     server,
		conns:      map[wire.ConnectionID]*Conn{},
		all:        map[*Conn][]wire.ConnectionID{},
		readerDone: make(chan struct{}),
	}
	randomBytes(e.resetKey[:])
	if server != nil {
		e.accept = make(chan *Conn, acceptQueue)
	}
	e.ecnCapable = true
	if s, ok := sock.(interface{ Capabilities() udpio.Capabilities }); ok {
		// udpio's portable path neither reads nor sets the mark.
		e.ecnCapable = s.Capabilities().ECN
	}
	go e.read()
	return e
}

// Listen opens an endpoint on addr ("host:port") that accepts connections.
// network is "udp", "udp4" or "udp6".
func Listen(network, addr string, config *Config) (*Listener, error) {
	if config == nil || config.TLS == nil {
		return nil, errors.New("quic: Listen needs a Config with TLS")
	}
	e, err := NewEndpoint(network, addr, config)
	if err != nil {
		return nil, err
	}
	return &Listener{e: e}, nil
}

// NewEndpoint opens a socket on addr ("host:port"; port 0 for any) for
// connections in both roles: Dial from it any number of times, and, when
// server is not nil, accept connections with that configuration through
// Accept. Many client connections sharing one endpoint share one socket.
func NewEndpoint(network, addr string, server *Config) (*Endpoint, error) {
	if server != nil && server.TLS == nil {
		return nil, errors.New("quic: a server Config needs TLS")
	}
	ua, err := net.ResolveUDPAddr(network, addr)
	if err != nil {
		return nil, err
	}
	sock, err := udpio.Listen(network, ua.AddrPort(), udpio.Options{})
	if err != nil {
		return nil, err
	}
	return newEndpoint(sock, server), nil
}

// Accept waits for a connection whose handshake has completed; it fails at
// once on an endpoint made without a server Config.
func (e *Endpoint) Accept(ctx context.Context) (*Conn, error) {
	if e.accept == nil {
		return nil, errors.New("quic: endpoint does not accept connections")
	}
	return (&Listener{e: e}).Accept(ctx)
}

// Listener accepts QUIC connections.
type Listener struct{ e *Endpoint }

// Accept waits for a connection whose handshake has completed.
func (l *Listener) Accept(ctx context.Context) (*Conn, error) {
	select {
	case c, ok := <-l.e.accept:
		if !ok {
			return nil, ErrEndpointClosed
		}
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.e.readerDone:
		return nil, ErrEndpointClosed
	}
}

// Addr is the listening address.
func (l *Listener) Addr() netip.AddrPort { return l.e.LocalAddr() }

// Endpoint is the listener's endpoint, which can also Dial.
func (l *Listener) Endpoint() *Endpoint { return l.e }

// Close closes every connection and the socket.
func (l *Listener) Close() error { return l.e.Close() }

// Dial opens a connection to addr ("host:port") from a new socket, and
// waits for its handshake. The socket closes with the connection.
func Dial(ctx context.Context, network, addr string, config *Config) (*Conn, error) {
	ua, err := net.ResolveUDPAddr(network, addr)
	if err != nil {
		return nil, err
	}
	local := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	if ua.AddrPort().Addr().Is6() && !ua.AddrPort().Addr().Is4In6() {
		local = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
	}
	// ICMP errors end the handshake early (endpoint_icmp.go).
	sock, err := udpio.Listen(network, local, udpio.Options{ICMPErrors: true})
	if err != nil {
		return nil, err
	}
	e := newEndpoint(sock, nil)
	c, err := e.dial(ctx, ua.AddrPort(), config, true)
	if err != nil {
		e.Close()
		return nil, err
	}
	return c, nil
}

// Dial opens a connection from this endpoint's socket.
func (e *Endpoint) Dial(ctx context.Context, addr netip.AddrPort, config *Config) (*Conn, error) {
	return e.dial(ctx, addr, config, false)
}

func (e *Endpoint) dial(ctx context.Context, addr netip.AddrPort, config *Config, owned bool) (*Conn, error) {
	if config == nil || config.TLS == nil {
		return nil, errors.New("quic: Dial needs a Config with TLS")
	}
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	// RFC 9000 §7.2: the first Destination Connection ID is random, at
	// least 8 bytes.
	dcid, scid := newConnectionID(), newConnectionID()
	c, err := newConn(time.Now(), config, true, wire.Version1, dcid, scid, addr, e)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrEndpointClosed
	}
	e.conns[scid] = c
	e.all[c] = []wire.ConnectionID{scid}
	if owned {
		e.ownedBy = c
	}
	e.mu.Unlock()
	go c.run()
	select {
	case <-c.handshakeDone:
		if !c.handshakeComplete {
			<-c.done
			return nil, c.closeError()
		}
		return c, nil
	case <-ctx.Done():
		c.CloseWithError(0, "dial canceled")
		return nil, ctx.Err()
	}
}

// LocalAddr is the socket's address.
func (e *Endpoint) LocalAddr() netip.AddrPort { return e.sock.LocalAddr() }

// Close closes every connection (with CONNECTION_CLOSE, code 0) and then
// the socket.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		<-e.readerDone
		return nil
	}
	e.closed = true
	conns := make([]*Conn, 0, len(e.all))
	for c := range e.all {
		conns = append(conns, c)
	}
	e.mu.Unlock()
	for _, c := range conns {
		c.closeNow()
	}
	for _, c := range conns {
		<-c.done
	}
	err := e.sock.Close()
	<-e.readerDone
	return err
}

// closeNow sends CONNECTION_CLOSE and ends the connection without the
// closing period: the endpoint is going away.
func (c *Conn) closeNow() {
	c.setCloseError(ErrEndpointClosed)
	c.submit(func(now time.Time) {
		c.startClosing(c.mono(now), &wire.ConnectionCloseFrame{Application: true}, nil)
		c.flush(now)
		c.closing.deadline = 0
	})
}

// addConnID and removeConnID keep the routing table in step with the
// connection IDs a connection issues and retires.
func (e *Endpoint) addConnID(id wire.ConnectionID, c *Conn) {
	e.mu.Lock()
	e.conns[id] = c
	e.all[c] = append(e.all[c], id)
	e.mu.Unlock()
}

func (e *Endpoint) removeConnID(id wire.ConnectionID) {
	e.mu.Lock()
	if c := e.conns[id]; c != nil {
		ids := e.all[c]
		for i, x := range ids {
			if x == id {
				ids[i] = ids[len(ids)-1]
				e.all[c] = ids[:len(ids)-1]
				break
			}
		}
	}
	delete(e.conns, id)
	e.mu.Unlock()
}

// forget drops a finished connection; an endpoint Dial made for it closes.
func (e *Endpoint) forget(c *Conn) {
	e.mu.Lock()
	// Only the connection's own IDs: a scan of the whole table would make
	// each connection's end cost as much as there are connections.
	for _, id := range e.all[c] {
		if e.conns[id] == c {
			delete(e.conns, id)
		}
	}
	// Likewise only the tokens of the peer IDs it still holds (retired ones
	// were dropped as they retired). forget runs on c's goroutine.
	for i := range c.ids.peer {
		p := &c.ids.peer[i]
		if p.hasToken && e.resetTokens[p.resetToken] == c {
			delete(e.resetTokens, p.resetToken)
		}
	}
	delete(e.all, c)
	owned := e.ownedBy == c
	e.mu.Unlock()
	if owned {
		go e.Close()
	}
}

// onHandshakeComplete queues a server connection for Accept.
func (e *Endpoint) onHandshakeComplete(c *Conn) {
	if c.isClient || e.accept == nil {
		return
	}
	select {
	case e.accept <- c:
	default:
		// Nobody accepts fast enough: refuse rather than queue forever.
		c.abort(c.idle.lastNow, localError(wire.ConnectionRefused, 0, "accept queue full"))
	}
}

// write sends a burst of datagrams, unmarked.
func (e *Endpoint) write(buf []byte, segSize int, to netip.AddrPort) {
	e.writeECN(buf, segSize, to, false)
}

// writeECN sends a burst of datagrams, every one marked ECT(0) when ect is
// set (RFC 9000 §13.4.2).
func (e *Endpoint) writeECN(buf []byte, segSize int, to netip.AddrPort, ect bool) {
	if segSize == 0 || segSize >= len(buf) {
		segSize = 0
	}
	mark := udpio.ECNNotECT
	if ect {
		mark = udpio.ECNECT0
	}
	// Errors are not the connection's business: UDP is unreliable, and
	// loss recovery resends what did not go out.
	_ = e.sock.WriteSegments(buf, segSize, to, mark, netip.Addr{})
}
