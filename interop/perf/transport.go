package perf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
)

// ALPN is the application protocol of draft-banks-quic-performance-00 §2.1.
const ALPN = "perf"

// Stream is one bidirectional stream. Close ends the sending side (FIN);
// Read returns io.EOF once the peer's FIN has arrived.
type Stream interface {
	io.Reader
	io.Writer
	Close() error
}

// Conn is one connection, whichever transport carries it.
type Conn interface {
	// OpenStream opens a bidirectional stream, waiting while the peer's
	// stream limit (or, for TCP, the stream in progress) forbids a new one.
	OpenStream(ctx context.Context) (Stream, error)
	// AcceptStream waits for the peer's next stream.
	AcceptStream(ctx context.Context) (Stream, error)
	// Close tears the connection down; blocked reads and writes return.
	Close() error
}

// Listener accepts connections whose handshake has completed (or, for TCP,
// whose handshake completes on first use).
type Listener interface {
	Accept(ctx context.Context) (Conn, error)
	Addr() net.Addr
	Close() error
}

// Dialer opens client connections. It may share resources (a UDP socket)
// between connections, released by Close.
type Dialer interface {
	Dial(ctx context.Context, addr string) (Conn, error)
	Close() error
}

// PacketCounter is implemented by connections that can say how many
// packets they sent and received, so that a benchmark can report
// allocations per packet.
type PacketCounter interface {
	Packets() (sent, received uint64)
}

// Credentials is what both ends need for the TLS 1.3 handshake: the
// server's certificate and the roots and name a client verifies it with.
// Adapters translate it into their own TLS configuration types.
type Credentials struct {
	Certificate tls.Certificate
	Roots       *x509.CertPool
	ServerName  string
}

// Transport names an implementation and builds its endpoints.
type Transport struct {
	// Name is the column header in reports, e.g. "quic-go".
	Name string
	// Network is "udp" or "tcp": which kind of address Listen expects.
	Network string
	// SerialStreams says a connection carries one stream at a time (TCP),
	// so that concurrency needs more connections.
	SerialStreams bool
	// Listen listens on addr ("host:port") with the server credentials.
	Listen func(addr string, cred *Credentials) (Listener, error)
	// NewDialer returns a dialer that trusts cred's roots and name.
	NewDialer func(cred *Credentials) (Dialer, error)
	// NewResumingDialer, when set, returns a dialer whose connections
	// resume the previous one's session (resume.go).
	NewResumingDialer func(cred *Credentials) (Dialer, error)
}

// ErrClosed is returned by operations on a closed connection or listener
// where the adapter has no more specific error.
var ErrClosed = errors.New("perf: closed")
