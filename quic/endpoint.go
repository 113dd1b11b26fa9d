package quic

import (
	"context"
	"crypto/cipher"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/udpio"
)

// Endpoint is one UDP socket serving QUIC connections in both roles: it
// reads datagrams in batches and hands each to its connection, found by
// Destination Connection ID; it answers unknown versions with Version
// Negotiation and unknown connections with a stateless reset; made by
// Listen, it creates connections for new clients, which its Listener
// accepts. Dial opens client connections from it.
type Endpoint struct {
	sock   packetConn
	server *Config // nil: the endpoint does not accept connections
	// serverConn is what server connections' state machines take of
	// server, made once (and replaced under mu by announcePreferred);
	// versions are the ones it speaks, by preference, nil on a client
	// endpoint (vn.go).
	serverConn *conn.Config
	versions   []wire.Version
	resetKey   [32]byte

	// Retry (retry.go): the AEAD sealing tokens, made once from resetKey;
	// counters for tests.
	retryOnce     sync.Once
	retryAEAD     cipher.AEAD
	retriesSent   atomic.Uint64
	invalidTokens atomic.Uint64
	// NEW_TOKEN tokens (newtoken.go): their key and those used; a counter
	// for tests.
	newTokens         newTokenState
	newTokensAccepted atomic.Uint64

	mu      sync.Mutex
	conns   map[wire.ConnectionID]*Conn
	all     map[*Conn][]wire.ConnectionID // every connection, with the IDs routed to it
	closed  bool
	accept  chan *Conn
	readErr error

	// resetTokens maps the peers' stateless reset tokens to connections
	// (conn_id.go); guarded by mu.
	resetTokens map[[wire.StatelessResetTokenLen]byte]*Conn

	// inboxSurplus is what the connections' inboxes hold beyond their
	// floors, together (Conn.chargeSurplus): at most
	// maxEndpointInboxSurplus.
	inboxSurplus atomic.Int64

	readerDone chan struct{}
	// ecnCapable: the socket sets the ECN mark of datagrams it sends.
	ecnCapable bool
	// gro: the socket may hand over runs of coalesced datagrams, into
	// 64 KiB buffers; maxReceive is the largest datagram it takes whole.
	gro        bool
	maxReceive int
	// ownedBy, for an endpoint Dial made for one connection: closed with it.
	ownedBy *Conn
	// halfOpen counts server connections whose handshake has not
	// completed (endpoint_halfopen.go).
	halfOpen halfOpenState
	// replies limits stateless resets and Version Negotiation
	// (endpoint_limit.go).
	replies replyLimiter
	// paths are the sockets read besides sock (endpoint_paths.go).
	paths pathSockets
	// lingering holds what remains of connections in their closing or
	// draining period (endpoint_linger.go); guarded by mu.
	lingering lingerState
}

// packetConn is the socket an endpoint uses: a *udpio.Conn, or in tests an
// in-memory network that runs on synthetic time.
type packetConn interface {
	ReadBatch(msgs []udpio.Message) (int, error)
	WriteBatch(msgs []udpio.Message) (int, error)
	LocalAddr() netip.AddrPort
	Capabilities() udpio.Capabilities
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
		e.serverConn = server.connConfig()
		e.versions = conn.SupportedVersions(e.serverConn)
		e.halfOpen.init(server.halfOpenLimits())
	}
	// udpio's portable path neither reads nor sets the mark, nor
	// coalesces.
	caps := sock.Capabilities()
	e.ecnCapable, e.gro = caps.ECN, caps.GRO
	e.maxReceive = maxReceiveSize
	if e.gro {
		e.maxReceive = conn.MaxUDPPayloadSize
	}
	go e.read()
	return e
}

// Listen opens a socket on addr ("host:port"; ":port" for every address
// of the host, IPv4 and IPv6 on one dual-stack socket) and accepts QUIC
// connections on it. network is "udp", "udp4" or "udp6". The Config is
// checked first: an error names the field that cannot work (a *ConfigError,
// or a tls13.ConfigError inside for Config.TLS: a certificate and
// NextProtos are required, RFC 9001 §8.1).
func Listen(network, addr string, config *Config) (*Listener, error) {
	if err := config.validate(true); err != nil {
		return nil, err
	}
	sock, err := listenUDP(network, addr, udpio.Options{})
	if err != nil {
		return nil, err
	}
	e := newEndpoint(sock, config)
	if config.PreferredAddress != nil {
		if err := e.listenPreferred(config.PreferredAddress); err != nil {
			e.Close()
			return nil, err
		}
	}
	return &Listener{e: e}, nil
}

// EndpointConfig configures the socket of an Endpoint made by NewEndpoint.
// The zero value (or nil) gives the defaults.
type EndpointConfig struct {
	// DisableICMPErrors stops the socket from asking the kernel for the
	// ICMP errors about the datagrams it sends. By default it asks, as
	// Dial's socket does, so that a handshake to an unreachable server
	// fails at once with an *UnreachableError.
	DisableICMPErrors bool
}

// NewEndpoint opens a socket on addr ("host:port"; port 0 for any) to dial
// from: any number of client connections share it. It accepts no
// connections: Listen does, and a Listener's Endpoint dials from the
// listening socket.
func NewEndpoint(network, addr string, config *EndpointConfig) (*Endpoint, error) {
	var opts udpio.Options
	opts.ICMPErrors = config == nil || !config.DisableICMPErrors
	sock, err := listenUDP(network, addr, opts)
	if err != nil {
		return nil, err
	}
	return newEndpoint(sock, nil), nil
}

// listenUDP opens the socket of an endpoint on addr.
func listenUDP(network, addr string, opts udpio.Options) (*udpio.Conn, error) {
	ua, err := net.ResolveUDPAddr(network, addr)
	if err != nil {
		return nil, err
	}
	return udpio.Listen(network, ua.AddrPort(), opts)
}

// Listener accepts QUIC connections: the one way to accept them, as
// net.Listener is for TCP. Its Endpoint is the socket underneath, to dial
// from the same address (one socket serving both roles). Endpoint has no
// Accept of its own so that a server has one owner of its accept queue
// and one place its configuration lives.
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

// Config is the Config the listener was made with, which it applies to
// every connection it accepts; it must not be modified.
func (l *Listener) Config() *Config { return l.e.server }

// Endpoint is the listener's endpoint, to dial from the listening socket.
func (l *Listener) Endpoint() *Endpoint { return l.e }

// Close closes every connection and the socket.
func (l *Listener) Close() error { return l.e.Close() }

// Dial opens a connection to addr ("host:port") from a new socket, and
// waits for its handshake. The socket closes with the connection.
//
// A Config.TLS without ServerName gets the host of addr (as crypto/tls and
// net/http do), on a copy: set ServerName to keep one Config, and its
// cache of verified certificate chains, across dials. The Config is
// checked first, and an error names the field that cannot work.
//
// Dial returns as soon as the handshake fails: at our alert (a certificate
// that does not verify: errors.As finds the x509 error), at the server's
// CONNECTION_CLOSE (no common ALPN protocol: a *tls13.PeerAlertError), at
// an ICMP error, at Config.HandshakeTimeout or when ctx ends, with nothing
// of the connection left running. A client that offers a certificate
// (Config.TLS.Certificates or GetClientCertificate) learns that the server
// accepted it only when the handshake is confirmed (HANDSHAKE_DONE, RFC
// 9001 §4.1.2): its Dial waits for that, one round trip more.
func Dial(ctx context.Context, network, addr string, config *Config) (*Conn, error) {
	return dial(ctx, network, addr, config, false)
}

// dial is Dial; early: return the connection at once when it sends 0-RTT
// (DialEarly).
func dial(ctx context.Context, network, addr string, config *Config, early bool) (*Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	config, err = config.forDial(host)
	if err != nil {
		return nil, err
	}
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
	c, err := e.dial(ctx, ua.AddrPort(), config, true, early)
	if err != nil {
		e.Close()
		return nil, err
	}
	return c, nil
}

// Dial opens a connection from this endpoint's socket, as the package's
// Dial does; a Config.TLS without ServerName gets addr's IP address.
func (e *Endpoint) Dial(ctx context.Context, addr netip.AddrPort, config *Config) (*Conn, error) {
	return e.checkedDial(ctx, addr, config, false)
}

// checkedDial checks config as the package's Dial does, then dials.
func (e *Endpoint) checkedDial(ctx context.Context, addr netip.AddrPort, config *Config, early bool) (*Conn, error) {
	config, err := config.forDial(addr.Addr().Unmap().WithZone("").String())
	if err != nil {
		return nil, err
	}
	return e.dial(ctx, addr, config, false, early)
}

// dial starts a client connection with a checked config and waits until
// it is established, or has failed and ended; early: return it at once
// when it sends 0-RTT (DialEarly).
func (e *Endpoint) dial(ctx context.Context, addr netip.AddrPort, config *Config, owned, early bool) (*Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	// RFC 9000 §7.2: the first Destination Connection ID is random, at
	// least 8 bytes.
	dcid, scid := newConnectionID(), newConnectionID()
	cc := config.connConfig()
	// newConn makes the client's key share (ML-KEM-768, X25519) on this
	// goroutine, and dialDriver runs the rest of the handshake here: room
	// for it now, while the stack is shallow to copy.
	presizeStack()
	c, err := newConn(time.Now(), e, config, cc, clientParams(config, cc, addr, dcid, scid))
	if err != nil {
		return nil, err
	}
	// The driver closes confirmed, and then clears c.confirmed.
	var confirmed chan struct{}
	waitConfirmed := config.TLS.Certificates != nil || config.TLS.GetClientCertificate != nil
	if waitConfirmed {
		confirmed = make(chan struct{})
		c.confirmed = confirmed
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrEndpointClosed
	}
	e.conns[scid] = c
	ids := make([]wire.ConnectionID, 1, conn.ActiveConnectionIDs)
	ids[0] = scid
	e.all[c] = ids
	if owned {
		e.ownedBy = c
	}
	e.mu.Unlock()
	if early && c.early.ready != nil {
		go c.start()
		return c, nil // sending 0-RTT
	}
	if !c.dialDriver(ctx) {
		return nil, c.closeError()
	}
	if !waitConfirmed {
		// Established: the connection is the caller's even if the peer
		// has closed it since (its first use says so), as a TCP
		// connection the server closed at once.
		return c, nil
	}
	select {
	case <-confirmed:
		if c.confirmedOK.Load() {
			return c, nil
		}
	case <-c.closed:
	case <-ctx.Done():
		c.setCloseError(ctx.Err())
		c.call(func(sm *conn.Conn, now time.Time) { sm.Close(now, 0, "dial canceled") })
	}
	select {
	case <-c.closed:
		// Failed: as in dialDriver, the connection ends now.
		c.call(func(sm *conn.Conn, now time.Time) { sm.CloseNow(now) })
		<-c.done.wait()
		return nil, c.closeError()
	default:
		return c, nil
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
	e.stopLingering()
	conns := make([]*Conn, 0, len(e.all))
	for c := range e.all {
		conns = append(conns, c)
	}
	e.mu.Unlock()
	for _, c := range conns {
		c.closeNow()
	}
	for _, c := range conns {
		<-c.done.wait()
	}
	e.closeSockets(func(int, *pathSocket) bool { return false })
	err := e.sock.Close()
	<-e.readerDone
	return err
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
// With l, the connection lingers (endpoint_linger.go): l takes the
// connection IDs routed to it until its period ends.
func (e *Endpoint) forget(c *Conn, l *lingerEntry) {
	e.mu.Lock()
	// Only the connection's own IDs: a scan of the whole table would make
	// each connection's end cost as much as there are connections.
	ids := e.all[c][:0]
	for _, id := range e.all[c] {
		if e.conns[id] == c {
			delete(e.conns, id)
			ids = append(ids, id)
		}
	}
	// Likewise only the tokens of the peer IDs it still holds (retired ones
	// were dropped as they retired). forget runs on c's goroutine.
	for _, t := range c.sm.ResetTokens(nil) {
		if e.resetTokens[t] == c {
			delete(e.resetTokens, t)
		}
	}
	delete(e.all, c)
	owned := e.ownedBy == c
	if l != nil && !e.closed && !owned {
		e.linger(l, ids)
	}
	e.mu.Unlock()
	if owned {
		go e.Close()
	}
}

// onHandshakeComplete queues a server connection for Accept (on c's
// goroutine). It reports false when nobody accepts fast enough: the
// caller refuses the connection rather than queue it forever.
func (e *Endpoint) onHandshakeComplete(c *Conn) (queued bool) {
	if c.isClient || e.accept == nil {
		return true
	}
	select {
	case e.accept <- c:
		return true
	default:
		return false
	}
}

// write sends one datagram, unmarked.
func (e *Endpoint) write(b []byte, to netip.AddrPort) {
	m := [1]udpio.Message{{Buf: b, N: len(b), Addr: to}}
	e.writeBatch(m[:])
}

// writeBatch sends messages, each a datagram or a GSO burst, in one
// system call where the socket allows. Errors are not the connection's
// business: UDP is unreliable, and loss recovery resends what did not go
// out.
func (e *Endpoint) writeBatch(msgs []udpio.Message) {
	_, _ = e.sock.WriteBatch(msgs)
}

// addResetToken and removeResetToken keep the table of the peers'
// stateless reset tokens in step with the connection IDs their
// connections hold: a stateless reset carries a random Destination
// Connection ID, so the endpoint can only find the connection it ends by
// the token (RFC 9000 §10.3.1).
func (e *Endpoint) addResetToken(t [wire.StatelessResetTokenLen]byte, c *Conn) {
	e.mu.Lock()
	if e.resetTokens == nil {
		e.resetTokens = map[[wire.StatelessResetTokenLen]byte]*Conn{}
	}
	e.resetTokens[t] = c
	e.mu.Unlock()
}

func (e *Endpoint) removeResetToken(t [wire.StatelessResetTokenLen]byte, c *Conn) {
	e.mu.Lock()
	if e.resetTokens[t] == c {
		delete(e.resetTokens, t)
	}
	e.mu.Unlock()
}

// connByResetToken returns the connection whose peer's stateless reset
// token ends datagram b, if any. The connection then compares the token
// again, in constant time.
func (e *Endpoint) connByResetToken(b []byte) *Conn {
	if len(b) < conn.MinStatelessResetLen {
		return nil
	}
	t := [wire.StatelessResetTokenLen]byte(b[len(b)-wire.StatelessResetTokenLen:])
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.resetTokens[t]
}
