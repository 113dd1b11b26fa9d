package perf

import (
	"context"
	"crypto/tls"
	"errors"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// Resuming dialers, for the resumed-handshake figure: each connection
// resumes the session of the one before (TLS 1.3 psk_dhe_ke: no
// certificate, no signature). Dial returns once the handshake is complete
// and the server's session ticket for the next connection has arrived
// (half a round trip later).

// Resumer is implemented by connections that can say whether their
// handshake resumed a session.
type Resumer interface {
	Resumed() bool
}

// ticketArrival tells, on a channel, when a client session cache is
// given a session: a session ticket arrived.
type ticketArrival chan struct{}

func (a ticketArrival) signal() {
	select {
	case a <- struct{}{}:
	default:
	}
}

func (a ticketArrival) wait(ctx context.Context) error {
	select {
	case <-a:
		return nil
	case <-ctx.Done():
		return errors.New("perf: no session ticket arrived: " + ctx.Err().Error())
	}
}

// sessionCache is a client session cache, tls13's or crypto/tls's.
type sessionCache[S any] interface {
	Get(key string) (*S, bool)
	Put(key string, cs *S)
}

// signalingCache is a session cache that signals each session it is given.
type signalingCache[S any] struct {
	inner   sessionCache[S]
	arrived ticketArrival
}

func (s signalingCache[S]) Get(key string) (*S, bool) { return s.inner.Get(key) }

func (s signalingCache[S]) Put(key string, cs *S) {
	s.inner.Put(key, cs)
	if cs != nil {
		s.arrived.signal()
	}
}

// skiffResumingDialer returns skiff's dialer whose connections resume.
func skiffResumingDialer(cred *Credentials) (Dialer, error) {
	arrived := make(ticketArrival, 1)
	d := &skiffDialer{conf: &quic.Config{TLS: &tls13.Config{
		RootCAs:            cred.Roots,
		ServerName:         cred.ServerName,
		NextProtos:         []string{ALPN},
		ClientSessionCache: signalingCache[tls13.ClientSession]{tls13.NewLRUClientSessionCache(1), arrived},
	}}}
	return resumingDialer{d, arrived}, nil
}

// quicGoResumingDialer returns quic-go's dialer whose connections resume.
func quicGoResumingDialer(cred *Credentials) (Dialer, error) {
	arrived := make(ticketArrival, 1)
	d := &quicGoDialer{tlsConf: &tls.Config{
		RootCAs:            cred.Roots,
		ServerName:         cred.ServerName,
		NextProtos:         []string{ALPN},
		ClientSessionCache: signalingCache[tls.ClientSessionState]{tls.NewLRUClientSessionCache(1), arrived},
	}}
	return resumingDialer{d, arrived}, nil
}

// resumingDialer dials, then waits for the connection's session ticket.
type resumingDialer struct {
	Dialer
	arrived ticketArrival
}

func (d resumingDialer) Dial(ctx context.Context, addr string) (Conn, error) {
	c, err := d.Dialer.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	if err := d.arrived.wait(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c skiffConn) Resumed() bool  { return c.c.ConnectionState().DidResume }
func (c quicGoConn) Resumed() bool { return c.c.ConnectionState().TLS.DidResume }

var (
	_ Resumer = skiffConn{}
	_ Resumer = quicGoConn{}
)
