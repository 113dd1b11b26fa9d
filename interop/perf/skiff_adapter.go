package perf

import (
	"context"
	"crypto"
	"errors"
	"net"
	"net/netip"
	"sync"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// Skiff is skiff's quic package with its default configuration. The server
// is quic.Listen; the dialer keeps one endpoint (one UDP socket, one reader
// goroutine) for all the connections it opens, as the quic-go dialer keeps
// one quic.Transport.
func Skiff() Transport { return skiffTransport("skiff", 0) }

// SkiffMaxDatagram is Skiff with quic.Config.MaxDatagramSize at its
// largest (65527, RFC 9000 §18.2) on both sides, so that path MTU
// discovery finds the largest datagram the path carries: 64 KiB on
// loopback, the interface MTU elsewhere. It is not in Transports; name it
// ("skiff-maxdgram") to compare it.
func SkiffMaxDatagram() Transport { return skiffTransport("skiff-maxdgram", 65527) }

func skiffTransport(name string, maxDatagram int) Transport {
	return Transport{
		Name:    name,
		Network: "udp",
		Listen: func(addr string, cred *Credentials) (Listener, error) {
			signer, ok := cred.Certificate.PrivateKey.(crypto.Signer)
			if !ok {
				return nil, errors.New("perf: the server key is not a crypto.Signer")
			}
			ln, err := quic.Listen("udp", addr, &quic.Config{TLS: &tls13.Config{
				Certificates: []tls13.Certificate{{Certificate: cred.Certificate.Certificate, PrivateKey: signer}},
				NextProtos:   []string{ALPN},
			}, MaxDatagramSize: maxDatagram})
			if err != nil {
				return nil, err
			}
			return skiffListener{ln}, nil
		},
		NewDialer: func(cred *Credentials) (Dialer, error) {
			return &skiffDialer{conf: &quic.Config{TLS: &tls13.Config{
				RootCAs:    cred.Roots,
				ServerName: cred.ServerName,
				NextProtos: []string{ALPN},
			}, MaxDatagramSize: maxDatagram}}, nil
		},
		NewResumingDialer: skiffResumingDialer,
	}
}

type skiffListener struct{ ln *quic.Listener }

func (l skiffListener) Accept(ctx context.Context) (Conn, error) {
	c, err := l.ln.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return skiffConn{c}, nil
}

func (l skiffListener) Addr() net.Addr { return net.UDPAddrFromAddrPort(l.ln.Addr()) }
func (l skiffListener) Close() error   { return l.ln.Close() }

type skiffDialer struct {
	conf *quic.Config

	mu sync.Mutex
	// ep is the shared client socket, created on first Dial in the family
	// of the address (quic.Dial would open a socket per connection).
	ep *quic.Endpoint
}

func (d *skiffDialer) endpoint(raddr netip.AddrPort) (*quic.Endpoint, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ep != nil {
		return d.ep, nil
	}
	local := "0.0.0.0:0"
	if raddr.Addr().Is6() && !raddr.Addr().Is4In6() {
		local = "[::]:0"
	}
	ep, err := quic.NewEndpoint("udp", local, nil)
	if err != nil {
		return nil, err
	}
	d.ep = ep
	return ep, nil
}

func (d *skiffDialer) Dial(ctx context.Context, addr string) (Conn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	ep, err := d.endpoint(ua.AddrPort())
	if err != nil {
		return nil, err
	}
	c, err := ep.Dial(ctx, ua.AddrPort(), d.conf)
	if err != nil {
		return nil, err
	}
	return skiffConn{c}, nil
}

func (d *skiffDialer) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ep == nil {
		return nil
	}
	err := d.ep.Close()
	d.ep = nil
	return err
}

type skiffConn struct{ c *quic.Conn }

func (c skiffConn) OpenStream(ctx context.Context) (Stream, error) {
	s, err := c.c.OpenStream(ctx)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return s, nil
}

func (c skiffConn) AcceptStream(ctx context.Context) (Stream, error) {
	s, err := c.c.AcceptStream(ctx)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Close sends CONNECTION_CLOSE with application error 0 (no error).
func (c skiffConn) Close() error { return c.c.CloseWithError(0, "") }

func (c skiffConn) Packets() (sent, received uint64) {
	s := c.c.Stats()
	return s.PacketsSent, s.PacketsReceived
}
