package h3

import (
	"errors"
	"fmt"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/qpack"
	"github.com/skiffnet/skiff/quic"
)

// ErrRetryable is matched (errors.Is) by every error RoundTrip returns for
// a request that failed on HTTP/3 before any response byte and was not
// sent again: either the server did not process it — refused with
// H3_REQUEST_REJECTED, sent on a stream at or above a GOAWAY identifier
// (RFC 9114 §5.2, §4.1.1), or never sent because the connection was going
// away — and its body could not be had again; or its connection ended
// before a response and, the request not being idempotent, the server may
// have acted on it. RetryableError.Unprocessed tells the two apart.
var ErrRetryable = errors.New("h3: request failed before a response; it can be retried")

// RetryableError is the error returned for a request that failed before
// any response byte and was not replayed (see ErrRetryable); Err says why.
type RetryableError struct {
	Err error
	// Unprocessed is true when the server did not process the request
	// (it can be sent again, even if it is not idempotent); false when
	// the connection ended and the server may have acted on it.
	Unprocessed bool
}

func (e *RetryableError) Error() string {
	if e.Unprocessed {
		return "h3: request not processed, can be retried: " + e.Err.Error()
	}
	return "h3: connection ended before a response, not replayed: " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *RetryableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrRetryable) true.
func (e *RetryableError) Is(target error) bool { return target == ErrRetryable }

// Retryable reports true: the request may be sent again.
func (e *RetryableError) Retryable() bool { return true }

// ErrCode is an HTTP/3 (RFC 9114 §8.1) or QPACK (RFC 9204 §6) error code,
// as carried by the codes of quic.ApplicationError and quic.StreamError.
type ErrCode = frame.ErrCode

// HTTP/3 error codes, RFC 9114 §8.1.
const (
	ErrCodeNoError              = frame.ErrCodeNoError
	ErrCodeGeneralProtocolError = frame.ErrCodeGeneralProtocolError
	ErrCodeInternalError        = frame.ErrCodeInternalError
	ErrCodeStreamCreationError  = frame.ErrCodeStreamCreationError
	ErrCodeClosedCriticalStream = frame.ErrCodeClosedCriticalStream
	ErrCodeFrameUnexpected      = frame.ErrCodeFrameUnexpected
	ErrCodeFrameError           = frame.ErrCodeFrameError
	ErrCodeExcessiveLoad        = frame.ErrCodeExcessiveLoad
	ErrCodeIDError              = frame.ErrCodeIDError
	ErrCodeSettingsError        = frame.ErrCodeSettingsError
	ErrCodeMissingSettings      = frame.ErrCodeMissingSettings
	ErrCodeRequestRejected      = frame.ErrCodeRequestRejected
	ErrCodeRequestCancelled     = frame.ErrCodeRequestCancelled
	ErrCodeRequestIncomplete    = frame.ErrCodeRequestIncomplete
	ErrCodeMessageError         = frame.ErrCodeMessageError
	ErrCodeConnectError         = frame.ErrCodeConnectError
	ErrCodeVersionFallback      = frame.ErrCodeVersionFallback
)

// ErrHeaderTooLarge is returned for a header section larger than the
// peer's SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2), which is not
// sent: by RoundTrip for such a request, and by a server ResponseWriter's
// Write once such a response was replaced by a 500.
var ErrHeaderTooLarge = errors.New("h3: header section larger than the peer's SETTINGS_MAX_FIELD_SECTION_SIZE")

// StreamError is a request stream that ended with an HTTP/3 error code:
// reset by the peer (its RESET_STREAM for what we read, its STOP_SENDING
// for what we write; Remote true) or by us. Err is the *quic.StreamError
// it comes from, so errors.As finds either.
type StreamError struct {
	StreamID uint64
	Code     ErrCode
	Remote   bool
	Err      error
}

func (e *StreamError) Error() string {
	if e.Remote {
		return fmt.Sprintf("h3: stream %d reset by the peer with %v", e.StreamID, e.Code)
	}
	return fmt.Sprintf("h3: stream %d reset with %v", e.StreamID, e.Code)
}

// Unwrap returns the QUIC error.
func (e *StreamError) Unwrap() error { return e.Err }

// ConnectionError is a connection closed with an HTTP/3 or QPACK error code
// (an application CONNECTION_CLOSE, RFC 9114 §8): by the peer (Remote true)
// or by us. Err is the *quic.ApplicationError it comes from.
type ConnectionError struct {
	Code   ErrCode
	Reason string
	Remote bool
	Err    error
}

func (e *ConnectionError) Error() string {
	who := "closed"
	if e.Remote {
		who = "closed by the peer"
	}
	if e.Reason == "" {
		return fmt.Sprintf("h3: connection %s with %v", who, e.Code)
	}
	return fmt.Sprintf("h3: connection %s with %v: %s", who, e.Code, e.Reason)
}

// Unwrap returns the QUIC error.
func (e *ConnectionError) Unwrap() error { return e.Err }

// wrapError gives a QUIC stream or application error its HTTP/3 name,
// keeping it as the cause; other errors are returned as they are.
func wrapError(err error) error {
	switch e := err.(type) {
	case *quic.StreamError:
		return &StreamError{StreamID: e.StreamID, Code: ErrCode(e.Code), Remote: e.Remote, Err: e}
	case *quic.ApplicationError:
		return &ConnectionError{Code: ErrCode(e.Code), Reason: e.Reason, Remote: e.Remote, Err: e}
	}
	return err
}

// errorCode returns the code a connection closes (or a stream resets) with
// because of err: an HTTP/3 or QPACK code, or H3_INTERNAL_ERROR.
func errorCode(err error) uint64 {
	var fe *frame.Error
	if errors.As(err, &fe) {
		return uint64(fe.Code)
	}
	var qe *qpack.Error
	if errors.As(err, &qe) {
		return uint64(qe.Code)
	}
	return uint64(frame.ErrCodeInternalError)
}

// isStreamError reports whether err, detected in the frames or fields of a
// request stream, is a stream error — a malformed message (RFC 9114
// §4.1.2) — rather than a connection error.
func isStreamError(err error) bool {
	var fe *frame.Error
	return errors.As(err, &fe) && fe.Code == frame.ErrCodeMessageError
}

// isConnectionError reports whether err is an HTTP/3 or QPACK error in the
// peer's input that closes the connection.
func isConnectionError(err error) bool {
	var fe *frame.Error
	if errors.As(err, &fe) {
		return fe.Code != frame.ErrCodeMessageError
	}
	var qe *qpack.Error
	return errors.As(err, &qe)
}

// streamErrorCode returns the code of a stream reset by the peer, if err
// is one.
func streamErrorCode(err error) (uint64, bool) {
	var se *quic.StreamError
	if errors.As(err, &se) && se.Remote {
		return se.Code, true
	}
	return 0, false
}
