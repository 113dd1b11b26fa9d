package perf

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// TCPTLS is crypto/tls, TLS 1.3 only, over TCP (Nagle off, Go's default).
// Streams are framed one after another on a connection; see the package
// documentation and frame.go.
func TCPTLS() Transport {
	return Transport{
		Name:          "tcp+tls",
		Network:       "tcp",
		SerialStreams: true,
		Listen: func(addr string, cred *Credentials) (Listener, error) {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return nil, err
			}
			return &tcpListener{ln: ln.(*net.TCPListener), conf: &tls.Config{
				Certificates: []tls.Certificate{cred.Certificate},
				NextProtos:   []string{ALPN},
				MinVersion:   tls.VersionTLS13,
			}}, nil
		},
		NewDialer: func(cred *Credentials) (Dialer, error) {
			return &tcpDialer{d: tls.Dialer{Config: &tls.Config{
				RootCAs:    cred.Roots,
				ServerName: cred.ServerName,
				NextProtos: []string{ALPN},
				MinVersion: tls.VersionTLS13,
			}}}, nil
		},
	}
}

type tcpListener struct {
	ln   *net.TCPListener
	conf *tls.Config
}

// Accept returns as soon as TCP has connected; the TLS handshake runs on the
// connection's first read (in AcceptStream), so that a slow handshake does
// not hold up the accept loop, as quic-go's Accept does not either.
func (l *tcpListener) Accept(ctx context.Context) (Conn, error) {
	stop := context.AfterFunc(ctx, func() { l.ln.SetDeadline(time.Now()) })
	raw, err := l.ln.Accept()
	if !stop() {
		l.ln.SetDeadline(time.Time{})
		if err == nil {
			raw.Close()
		}
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return newTCPConn(tls.Server(raw, l.conf)), nil
}

func (l *tcpListener) Addr() net.Addr { return l.ln.Addr() }
func (l *tcpListener) Close() error   { return l.ln.Close() }

type tcpDialer struct{ d tls.Dialer }

// Dial returns once the TLS handshake has completed.
func (d *tcpDialer) Dial(ctx context.Context, addr string) (Conn, error) {
	c, err := d.d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return newTCPConn(c.(*tls.Conn)), nil
}

func (d *tcpDialer) Close() error { return nil }

// tcpConn carries streams serially. turn holds one token: whoever holds it
// may have the stream in progress; the stream hands it back when both of
// its directions have ended.
type tcpConn struct {
	tc     *tls.Conn
	turn   chan struct{}
	wbuf   [frameHeaderLen + maxFrameLen]byte // used only by the stream holding turn
	closed chan struct{}
	once   sync.Once
}

func newTCPConn(tc *tls.Conn) *tcpConn {
	c := &tcpConn{tc: tc, turn: make(chan struct{}, 1), closed: make(chan struct{})}
	c.turn <- struct{}{}
	return c
}

func (c *tcpConn) takeTurn(ctx context.Context) error {
	select {
	case <-c.turn:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closed:
		return ErrClosed
	}
}

func (c *tcpConn) OpenStream(ctx context.Context) (Stream, error) {
	if err := c.takeTurn(ctx); err != nil {
		return nil, err
	}
	return &tcpStream{c: c, r: frameReader{r: c.tc}}, nil
}

// AcceptStream waits for the first frame of the peer's next stream, so that
// a peer closing the connection shows up here (as io.EOF) rather than on a
// stream.
func (c *tcpConn) AcceptStream(ctx context.Context) (Stream, error) {
	if err := c.takeTurn(ctx); err != nil {
		return nil, err
	}
	s := &tcpStream{c: c, r: frameReader{r: c.tc}}
	stop := context.AfterFunc(ctx, func() { c.tc.SetReadDeadline(time.Now()) })
	err := s.r.nextHeader()
	if !stop() {
		err = ctx.Err()
	}
	if err != nil {
		c.turn <- struct{}{}
		return nil, err
	}
	return s, nil
}

func (c *tcpConn) Close() error {
	err := ErrClosed
	c.once.Do(func() {
		close(c.closed)
		err = c.tc.Close()
	})
	return err
}

type tcpStream struct {
	c *tcpConn
	r frameReader

	mu          sync.Mutex
	readDone    bool
	writeClosed bool
}

var errWriteClosed = errors.New("perf: write on a stream after Close")

func (s *tcpStream) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && s.r.fin {
		s.end(func() { s.readDone = true })
	}
	return n, err
}

// Write sends p as frames of at most maxFrameLen bytes, each copied behind
// its header into the connection's buffer so that a frame is one TLS record.
func (s *tcpStream) Write(p []byte) (int, error) {
	if s.writeClosed {
		return 0, errWriteClosed
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), maxFrameLen)
		frame := appendFrame(s.c.wbuf[:0], p[:k])
		if _, err := s.c.tc.Write(frame); err != nil {
			return n, err
		}
		n += k
		p = p[k:]
	}
	return n, nil
}

// Close sends the zero-length frame that is this stream's FIN.
func (s *tcpStream) Close() error {
	if s.writeClosed {
		return nil
	}
	var fin [frameHeaderLen]byte
	_, err := s.c.tc.Write(fin[:])
	s.end(func() { s.writeClosed = true })
	return err
}

// end records that one direction ended and returns the connection's turn
// once both have.
func (s *tcpStream) end(mark func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.readDone && s.writeClosed
	mark()
	if !before && s.readDone && s.writeClosed {
		s.c.turn <- struct{}{}
	}
}
