package quic

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// Session resumption and 0-RTT (RFC 9001 §4.6; quic/internal/conn's
// zerortt.go has the protocol).
//
// A server sends Config.SessionTickets tickets after each handshake. A
// client keeps them in Config.TLS.ClientSessionCache, under the server
// name and port (or the address when the name is empty), with the
// server's transport parameters: its next connection to the server
// resumes (no certificate, psk_dhe_ke). When the server's Config sets
// Allow0RTT, its tickets allow 0-RTT: a client that dials with DialEarly
// gets its connection at once and its streams and datagrams go out in
// 0-RTT packets right after the Initial, within the limits the server had
// (RFC 9000 §7.4.1). Such data may be replayed by an attacker (RFC 9001
// §9.2): only what is safe to repeat belongs there.

// earlyConn is a connection's resumption and 0-RTT state.
type earlyConn struct {
	// ready, when not nil, is closed once streams may be opened: at once
	// on a client sending 0-RTT, when a server accepts 0-RTT, and at the
	// end of the handshake in any case; nil means the handshake's end
	// (handshakeDone). Set before the driver starts.
	ready chan struct{}
	// sessionKey is where a client's sessions and tokens are kept;
	// tokenStore keeps its NEW_TOKEN tokens. appData is what the session
	// a client resumes with 0-RTT keeps for the application.
	sessionKey string
	tokenStore TokenStore
	appData    []byte
	// queued: a server connection was handed to Accept when it accepted
	// 0-RTT (the driver's).
	queued bool
	// version is the QUIC version in use, as of the handshake's end.
	version atomic.Uint32
}

// DialEarly is Dial for a client that sends 0-RTT: when the session it
// resumes allows it, the connection is returned at once, before the
// handshake completes, and streams and datagrams go out in 0-RTT packets
// (ConnectionState().EarlyDataAccepted says later whether the server took
// them; if not, their data is sent again in 1-RTT packets and streams go
// on). Without such a session it waits for the handshake, as Dial does.
// 0-RTT data can be replayed by an attacker: send only what is safe to
// repeat, or wait for HandshakeComplete.
func DialEarly(ctx context.Context, network, addr string, config *Config) (*Conn, error) {
	return dial(ctx, network, addr, config, true)
}

// DialEarly is Endpoint.Dial for a client that sends 0-RTT (see the
// package function DialEarly).
func (e *Endpoint) DialEarly(ctx context.Context, addr netip.AddrPort, config *Config) (*Conn, error) {
	return e.checkedDial(ctx, addr, config, true)
}

// HandshakeComplete is closed when the handshake completes, or when the
// connection ends before it does (Context is then done too). A client
// from DialEarly and a server connection accepted in 0-RTT are usable
// before.
func (c *Conn) HandshakeComplete() <-chan struct{} { return c.handshakeDone.wait() }

// SetSessionAppData sets, on a client, what the session tickets this
// connection receives keep for the application, before or after they
// arrive: an HTTP/3 client keeps the server's SETTINGS, which its 0-RTT
// requests on the next connection must respect (RFC 9114 §7.2.4.2).
func (c *Conn) SetSessionAppData(data []byte) {
	data = append([]byte(nil), data...)
	c.call(func(sm *conn.Conn, _ time.Time) { sm.SetSessionAppData(data) })
}

// EarlySessionAppData returns, on a client sending 0-RTT, what the
// application kept with the session it resumes (SetSessionAppData on an
// earlier connection); nil otherwise.
func (c *Conn) EarlySessionAppData() []byte { return c.early.appData }

// ReceivedEarlyData reports whether some of the stream's data arrived in
// 0-RTT packets, which an attacker may have replayed (RFC 9001 §9.2).
func (s *Stream) ReceivedEarlyData() bool { return s.st.ReceivedEarlyData() }

// openReady is closed once streams may be opened.
func (c *Conn) openReady() <-chan struct{} {
	if c.early.ready != nil {
		return c.early.ready
	}
	return c.handshakeDone.wait()
}

// initEarly prepares a new connection's 0-RTT state, before its driver
// starts: a client sending 0-RTT may open streams at once; a server that
// may accept 0-RTT waits for the decision.
func (c *Conn) initEarly(config *Config) {
	c.early.version.Store(uint32(c.sm.Version()))
	switch {
	case c.isClient && c.sm.EarlyDataAttempted():
		c.early.ready = make(chan struct{})
		close(c.early.ready)
		c.early.appData = c.sm.EarlySessionAppData()
		c.peerDatagramMax.Store(c.sm.PeerMaxDatagramFrameSize())
	case !c.isClient && config.Allow0RTT:
		c.early.ready = make(chan struct{})
	}
}

// onEarlyDataAccepted hands a server connection whose 0-RTT was accepted
// to Accept at once (on the driver's goroutine): its requests are
// answered before the handshake completes. It reports false when the
// accept queue is full and the connection is to be refused.
func (c *Conn) onEarlyDataAccepted() (queued bool) {
	if c.isClient || c.early.ready == nil || c.early.queued {
		return true
	}
	c.early.queued = true
	c.early.version.Store(uint32(c.sm.Version()))
	c.peerDatagramMax.Store(c.sm.PeerMaxDatagramFrameSize())
	close(c.early.ready)
	return c.endpoint.onHandshakeComplete(c)
}

// onHandshakeCompleteEarly finishes what 0-RTT started when the handshake
// completes, and reports whether the connection still goes to Accept.
func (c *Conn) onHandshakeCompleteEarly() (accept bool) {
	c.early.version.Store(uint32(c.sm.Version()))
	if c.early.ready != nil && !c.early.queued && !c.isClient {
		close(c.early.ready)
	}
	if !c.isClient {
		c.issueNewToken()
	}
	return !c.early.queued
}

// clientParams returns the parameters of a client connection to addr:
// the version to start in (the session's, when one is kept for the
// server, RFC 9369 §5; else the first of config's), the key of its
// sessions and tokens, and a NEW_TOKEN token for the server if one is
// kept.
func clientParams(config *Config, cc *conn.Config, addr netip.AddrPort, dcid, scid wire.ConnectionID) *conn.Params {
	key := sessionKey(config.TLS, addr)
	v := conn.SupportedVersions(cc)[0]
	if sv, ok := conn.SessionVersion(cc, key); ok && containsVersion(conn.SupportedVersions(cc), sv) {
		v = sv
	}
	p := &conn.Params{IsClient: true, Version: v, DCID: dcid, SCID: scid, Peer: addr, SessionKey: key}
	if config.TokenStore != nil {
		p.Token = config.TokenStore.Pop(tokenKey(key, v))
	}
	return p
}

// sessionKey is where a client keeps its sessions and tokens for a
// server: its name and port, so that two servers on one host keep theirs
// apart and a server reached at another address of its name resumes.
func sessionKey(tc *tls13.Config, addr netip.AddrPort) string {
	if tc.ServerName == "" {
		return addr.String()
	}
	return net.JoinHostPort(tc.ServerName, strconv.Itoa(int(addr.Port())))
}

func containsVersion(list []wire.Version, v wire.Version) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
