package quic

import (
	"errors"
	"fmt"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// TransportErrorCode is a QUIC transport error code (RFC 9000 §20.1).
type TransportErrorCode = wire.TransportErrorCode

// TransportError is a connection closed with a transport error: by us,
// because the peer broke a rule (Remote false), or by the peer (Remote
// true). FrameType is the frame that triggered it, when known.
type TransportError struct {
	Code      TransportErrorCode
	FrameType uint64
	Reason    string
	Remote    bool
}

func (e *TransportError) Error() string {
	who := "local"
	if e.Remote {
		who = "remote"
	}
	s := fmt.Sprintf("quic: %s transport error %v", who, e.Code)
	if e.FrameType != 0 {
		s += fmt.Sprintf(" (frame %#x)", e.FrameType)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is lets errors.Is(err, wire code) match.
func (e *TransportError) Is(target error) bool {
	c, ok := target.(TransportErrorCode)
	return ok && c == e.Code
}

// ApplicationError is a connection closed by an application, with the
// application's code and reason (CONNECTION_CLOSE of type 0x1d).
type ApplicationError struct {
	Code   uint64
	Reason string
	Remote bool
}

func (e *ApplicationError) Error() string {
	who := "local"
	if e.Remote {
		who = "remote"
	}
	return fmt.Sprintf("quic: %s application error %#x: %s", who, e.Code, e.Reason)
}

// StreamError reports a stream that was reset (by the peer's RESET_STREAM
// for reads, or its STOP_SENDING for writes; Remote true), or that we reset
// or stopped ourselves (Remote false).
type StreamError struct {
	StreamID uint64
	Code     uint64
	Remote   bool
}

func (e *StreamError) Error() string {
	if e.Remote {
		return fmt.Sprintf("quic: stream %d reset by peer with code %#x", e.StreamID, e.Code)
	}
	return fmt.Sprintf("quic: stream %d reset locally with code %#x", e.StreamID, e.Code)
}

var (
	// ErrIdleTimeout: the connection was idle for its idle timeout
	// (RFC 9000 §10.1) and closed silently.
	ErrIdleTimeout = errors.New("quic: idle timeout")
	// ErrHandshakeTimeout: the handshake did not finish in time.
	ErrHandshakeTimeout = errors.New("quic: handshake timeout")
	// ErrStatelessReset: the peer sent a stateless reset (RFC 9000 §10.3).
	ErrStatelessReset = errors.New("quic: connection reset by a stateless reset")
	// ErrNoCompatibleVersion: version negotiation found no common version.
	ErrNoCompatibleVersion = errors.New("quic: no compatible QUIC version")
	// ErrConnectionClosed: the connection was closed locally without an
	// error code of interest (Conn.Close).
	ErrConnectionClosed = errors.New("quic: connection closed")
	// ErrEndpointClosed: the endpoint was closed.
	ErrEndpointClosed = errors.New("quic: endpoint closed")
	// ErrStreamClosed: a write after Close, or a read after CloseRead.
	ErrStreamClosed = errors.New("quic: stream closed")
	// ErrDatagramsDisabled: the peer did not enable DATAGRAM frames.
	ErrDatagramsDisabled = errors.New("quic: datagrams not enabled by the peer")
	// ErrDatagramTooLarge: a datagram does not fit in one packet.
	ErrDatagramTooLarge = errors.New("quic: datagram too large")
)

// closeError is the error that tells the application why the connection
// ended.
func closeError(r *conn.Reason) error {
	switch r.Kind {
	case conn.ReasonTransport:
		return &TransportError{Code: TransportErrorCode(r.Code), FrameType: r.FrameType, Reason: r.Text, Remote: r.Remote}
	case conn.ReasonApplication:
		return &ApplicationError{Code: r.Code, Reason: r.Text, Remote: r.Remote}
	case conn.ReasonIdleTimeout:
		return ErrIdleTimeout
	case conn.ReasonHandshakeTimeout:
		return ErrHandshakeTimeout
	case conn.ReasonStatelessReset:
		return ErrStatelessReset
	case conn.ReasonNoCompatibleVersion:
		return ErrNoCompatibleVersion
	case conn.ReasonEndpointClosed:
		return ErrEndpointClosed
	}
	return ErrConnectionClosed
}
