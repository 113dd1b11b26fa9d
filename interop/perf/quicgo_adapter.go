package perf

import (
	"context"
	"crypto/tls"
	"net"
	"sync"

	"github.com/quic-go/quic-go"
)

// QuicGo is quic-go v0.65 with its default configuration. The server is
// quic.ListenAddr; the dialer keeps one quic.Transport (one UDP socket) for
// all the connections it opens, as a client making many connections would.
func QuicGo() Transport {
	return Transport{
		Name:    "quic-go",
		Network: "udp",
		Listen: func(addr string, cred *Credentials) (Listener, error) {
			ln, err := quic.ListenAddr(addr, &tls.Config{
				Certificates: []tls.Certificate{cred.Certificate},
				NextProtos:   []string{ALPN},
			}, nil)
			if err != nil {
				return nil, err
			}
			return quicGoListener{ln}, nil
		},
		NewDialer: func(cred *Credentials) (Dialer, error) {
			return &quicGoDialer{tlsConf: &tls.Config{
				RootCAs:    cred.Roots,
				ServerName: cred.ServerName,
				NextProtos: []string{ALPN},
			}}, nil
		},
		NewResumingDialer: quicGoResumingDialer,
	}
}

type quicGoListener struct{ ln *quic.Listener }

func (l quicGoListener) Accept(ctx context.Context) (Conn, error) {
	c, err := l.ln.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return quicGoConn{c}, nil
}

func (l quicGoListener) Addr() net.Addr { return l.ln.Addr() }
func (l quicGoListener) Close() error   { return l.ln.Close() }

type quicGoDialer struct {
	tlsConf *tls.Config

	mu sync.Mutex
	tr *quic.Transport // created on first Dial, in the family of the address
}

func (d *quicGoDialer) transport(raddr *net.UDPAddr) (*quic.Transport, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tr != nil {
		return d.tr, nil
	}
	network := "udp4"
	if raddr.IP.To4() == nil {
		network = "udp6"
	}
	uc, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, err
	}
	d.tr = &quic.Transport{Conn: uc}
	return d.tr, nil
}

func (d *quicGoDialer) Dial(ctx context.Context, addr string) (Conn, error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	tr, err := d.transport(raddr)
	if err != nil {
		return nil, err
	}
	c, err := tr.Dial(ctx, raddr, d.tlsConf, nil)
	if err != nil {
		return nil, err
	}
	return quicGoConn{c}, nil
}

func (d *quicGoDialer) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tr == nil {
		return nil
	}
	err := d.tr.Close()
	if cerr := d.tr.Conn.Close(); err == nil {
		err = cerr
	}
	d.tr = nil
	return err
}

type quicGoConn struct{ c *quic.Conn }

func (c quicGoConn) OpenStream(ctx context.Context) (Stream, error) {
	s, err := c.c.OpenStreamSync(ctx)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return s, nil
}

func (c quicGoConn) AcceptStream(ctx context.Context) (Stream, error) {
	s, err := c.c.AcceptStream(ctx)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Close sends CONNECTION_CLOSE with application error 0 (no error).
func (c quicGoConn) Close() error { return c.c.CloseWithError(0, "") }

func (c quicGoConn) Packets() (sent, received uint64) {
	s := c.c.ConnectionStats()
	return s.PacketsSent, s.PacketsReceived
}
