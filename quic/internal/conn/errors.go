package conn

import (
	"errors"

	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// localError builds the error that closes a connection because the peer
// broke a rule.
func localError(code wire.TransportErrorCode, frameType wire.FrameType, reason string) *wire.TransportError {
	return &wire.TransportError{Code: code, FrameType: frameType, Reason: reason}
}

// asTransportError turns an error from the wire, tls13 or stream layers
// into the transport error that closes the connection.
func asTransportError(err error) *wire.TransportError {
	var we *wire.TransportError
	if errors.As(err, &we) {
		return we
	}
	// RFC 9001 §4.8: a TLS alert closes the connection with CRYPTO_ERROR.
	var alert tls13.AlertError
	if errors.As(err, &alert) {
		// The reason is the whole error, not just the alert's name: it
		// says why (the x509 error, the hook's error), and err stays the
		// cause the application finds with errors.As.
		return &wire.TransportError{Code: wire.CryptoError(uint8(alert)), FrameType: wire.FrameTypeCrypto, Reason: err.Error(), Err: err}
	}
	return &wire.TransportError{Code: wire.InternalError, Reason: err.Error(), Err: err}
}
