package wire

import "fmt"

// TransportErrorCode is a QUIC transport error code (RFC 9000 §20.1), carried
// in a CONNECTION_CLOSE frame of type 0x1c.
//
// A TransportErrorCode is itself an error, so that callers can write
// errors.Is(err, wire.FrameEncodingError) against a *TransportError.
type TransportErrorCode uint64

// Transport error codes, RFC 9000 §20.1 (and RFC 9368 §10.2 for
// VERSION_NEGOTIATION_ERROR).
const (
	NoError                 TransportErrorCode = 0x00
	InternalError           TransportErrorCode = 0x01
	ConnectionRefused       TransportErrorCode = 0x02
	FlowControlError        TransportErrorCode = 0x03
	StreamLimitError        TransportErrorCode = 0x04
	StreamStateError        TransportErrorCode = 0x05
	FinalSizeError          TransportErrorCode = 0x06
	FrameEncodingError      TransportErrorCode = 0x07
	TransportParameterError TransportErrorCode = 0x08
	ConnectionIDLimitError  TransportErrorCode = 0x09
	ProtocolViolation       TransportErrorCode = 0x0a
	InvalidToken            TransportErrorCode = 0x0b
	ApplicationError        TransportErrorCode = 0x0c
	CryptoBufferExceeded    TransportErrorCode = 0x0d
	KeyUpdateError          TransportErrorCode = 0x0e
	AEADLimitReached        TransportErrorCode = 0x0f
	NoViablePath            TransportErrorCode = 0x10
	VersionNegotiationError TransportErrorCode = 0x11

	// CryptoErrorBase..CryptoErrorMax is the CRYPTO_ERROR range: 0x100 plus
	// a TLS alert description (RFC 9001 §4.8).
	CryptoErrorBase TransportErrorCode = 0x100
	CryptoErrorMax  TransportErrorCode = 0x1ff
)

var errorCodeNames = [...]string{
	"NO_ERROR", "INTERNAL_ERROR", "CONNECTION_REFUSED", "FLOW_CONTROL_ERROR",
	"STREAM_LIMIT_ERROR", "STREAM_STATE_ERROR", "FINAL_SIZE_ERROR",
	"FRAME_ENCODING_ERROR", "TRANSPORT_PARAMETER_ERROR",
	"CONNECTION_ID_LIMIT_ERROR", "PROTOCOL_VIOLATION", "INVALID_TOKEN",
	"APPLICATION_ERROR", "CRYPTO_BUFFER_EXCEEDED", "KEY_UPDATE_ERROR",
	"AEAD_LIMIT_REACHED", "NO_VIABLE_PATH", "VERSION_NEGOTIATION_ERROR",
}

// CryptoError returns the CRYPTO_ERROR code that carries the TLS alert
// description alert (RFC 9001 §4.8).
func CryptoError(alert uint8) TransportErrorCode {
	return CryptoErrorBase + TransportErrorCode(alert)
}

// TLSAlert returns the TLS alert description carried by a CRYPTO_ERROR code,
// and false if c is not in the CRYPTO_ERROR range.
func (c TransportErrorCode) TLSAlert() (uint8, bool) {
	if c < CryptoErrorBase || c > CryptoErrorMax {
		return 0, false
	}
	return uint8(c - CryptoErrorBase), true
}

// String returns the RFC name of the code, e.g. "FRAME_ENCODING_ERROR" or
// "CRYPTO_ERROR(0x128)".
func (c TransportErrorCode) String() string {
	if c < TransportErrorCode(len(errorCodeNames)) {
		return errorCodeNames[c]
	}
	if _, ok := c.TLSAlert(); ok {
		return fmt.Sprintf("CRYPTO_ERROR(%#x)", uint64(c))
	}
	return fmt.Sprintf("TRANSPORT_ERROR(%#x)", uint64(c))
}

// Error makes a bare code usable as an errors.Is target.
func (c TransportErrorCode) Error() string { return c.String() }

// TransportError is a connection error detected by the transport: the values
// of the CONNECTION_CLOSE frame (type 0x1c) that closes the connection
// (RFC 9000 §10.2, §19.19). Parsers in this package return *TransportError.
type TransportError struct {
	Code TransportErrorCode
	// FrameType is the type of the frame that triggered the error, or 0
	// (PADDING) when unknown or not caused by a frame.
	FrameType FrameType
	// Reason is a human-readable explanation, for the Reason Phrase.
	Reason string
	// Err is the error behind it when another layer raised it (a tls13
	// error with its x509 cause): kept for the application, not sent.
	Err error
}

func (e *TransportError) Error() string {
	if e.FrameType != 0 {
		return fmt.Sprintf("quic: %v in frame %v: %s", e.Code, e.FrameType, e.Reason)
	}
	return fmt.Sprintf("quic: %v: %s", e.Code, e.Reason)
}

// Unwrap returns the error behind e, if any.
func (e *TransportError) Unwrap() error { return e.Err }

// Is reports whether target is e's code, so that
// errors.Is(err, wire.ProtocolViolation) works.
func (e *TransportError) Is(target error) bool {
	c, ok := target.(TransportErrorCode)
	return ok && c == e.Code
}

func frameError(t FrameType, reason string) error {
	return &TransportError{Code: FrameEncodingError, FrameType: t, Reason: reason}
}

func protocolViolation(t FrameType, reason string) error {
	return &TransportError{Code: ProtocolViolation, FrameType: t, Reason: reason}
}

func transportParameterError(reason string) error {
	return &TransportError{Code: TransportParameterError, Reason: reason}
}
