package quic

import (
	"errors"
	"fmt"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// TransportErrorCode is a QUIC transport error code (RFC 9000 §20.1),
// carried by a CONNECTION_CLOSE frame of type 0x1c. It prints its RFC name
// ("PROTOCOL_VIOLATION"; "CRYPTO_ERROR(0x178 no_application_protocol)"
// for a TLS alert, RFC 9001 §4.8). It is an error too, so that
// errors.Is(err, quic.ErrCodeProtocolViolation) tests a *TransportError.
type TransportErrorCode uint64

// Transport error codes (RFC 9000 §20.1; RFC 9368 §10.2 for
// VERSION_NEGOTIATION_ERROR). ErrCodeCryptoError is the first of the
// CRYPTO_ERROR range, 0x100 to 0x1ff: 0x100 plus a TLS alert
// (tls13.AlertError.QUICErrorCode, tls13.AlertFromQUICErrorCode).
const (
	ErrCodeNoError                 TransportErrorCode = 0x00
	ErrCodeInternalError           TransportErrorCode = 0x01
	ErrCodeConnectionRefused       TransportErrorCode = 0x02
	ErrCodeFlowControlError        TransportErrorCode = 0x03
	ErrCodeStreamLimitError        TransportErrorCode = 0x04
	ErrCodeStreamStateError        TransportErrorCode = 0x05
	ErrCodeFinalSizeError          TransportErrorCode = 0x06
	ErrCodeFrameEncodingError      TransportErrorCode = 0x07
	ErrCodeTransportParameterError TransportErrorCode = 0x08
	ErrCodeConnectionIDLimitError  TransportErrorCode = 0x09
	ErrCodeProtocolViolation       TransportErrorCode = 0x0a
	ErrCodeInvalidToken            TransportErrorCode = 0x0b
	ErrCodeApplicationError        TransportErrorCode = 0x0c
	ErrCodeCryptoBufferExceeded    TransportErrorCode = 0x0d
	ErrCodeKeyUpdateError          TransportErrorCode = 0x0e
	ErrCodeAEADLimitReached        TransportErrorCode = 0x0f
	ErrCodeNoViablePath            TransportErrorCode = 0x10
	ErrCodeVersionNegotiationError TransportErrorCode = 0x11
	ErrCodeCryptoError             TransportErrorCode = 0x100
)

// String returns the code's RFC name; a CRYPTO_ERROR names its alert.
func (c TransportErrorCode) String() string {
	if a, ok := tls13.AlertFromQUICErrorCode(uint64(c)); ok {
		return fmt.Sprintf("CRYPTO_ERROR(%#x %s)", uint64(c), a.String())
	}
	return wire.TransportErrorCode(c).String()
}

// Error makes a code an errors.Is target.
func (c TransportErrorCode) Error() string { return c.String() }

// TransportError is a connection closed with a transport error: by us,
// because the peer broke a rule or the handshake failed (Remote false), or
// by the peer (Remote true). FrameType is the frame that triggered it,
// when known; Reason the reason phrase sent or received.
//
// Err is the cause, which Unwrap returns: for a handshake we failed, the
// tls13 error (errors.As finds the tls13.AlertError and, for a
// certificate that did not verify, the *tls13.CertificateVerificationError
// and the x509 error in it); for a CRYPTO_ERROR the peer sent, a
// *tls13.PeerAlertError with its alert.
type TransportError struct {
	Code      TransportErrorCode
	FrameType uint64
	Reason    string
	Remote    bool
	Err       error
}

func (e *TransportError) Error() string {
	who := "local"
	if e.Remote {
		who = "remote"
	}
	s := fmt.Sprintf("quic: %s transport error %v", who, e.Code)
	if e.FrameType != 0 {
		s += fmt.Sprintf(" in frame %v", wire.FrameType(e.FrameType))
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns the cause, if any.
func (e *TransportError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, code) match e's code.
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
	// ErrContextDone: a Read or Write waited until the context given to
	// Stream.SetContext ended; its Err says why.
	ErrContextDone = errors.New("quic: stream context done")
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
		e := &TransportError{Code: TransportErrorCode(r.Code), FrameType: r.FrameType, Reason: r.Text, Remote: r.Remote, Err: r.Err}
		if a, ok := tls13.AlertFromQUICErrorCode(r.Code); ok && r.Remote {
			// RFC 9001 §4.8: the peer's TLS alert, as CRYPTO_ERROR.
			e.Err = &tls13.PeerAlertError{Alert: a, Reason: r.Text}
		}
		return e
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
