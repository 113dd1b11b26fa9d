package frame

import (
	"errors"
	"strconv"

	"github.com/skiffnet/skiff/qpack"
)

// ErrCode is an HTTP/3 error code, RFC 9114 §8.1. It travels in QUIC's
// RESET_STREAM, STOP_SENDING and CONNECTION_CLOSE (application) frames.
type ErrCode uint64

// RFC 9114 §8.1.
const (
	ErrCodeNoError              ErrCode = 0x100 // H3_NO_ERROR
	ErrCodeGeneralProtocolError ErrCode = 0x101 // H3_GENERAL_PROTOCOL_ERROR
	ErrCodeInternalError        ErrCode = 0x102 // H3_INTERNAL_ERROR
	ErrCodeStreamCreationError  ErrCode = 0x103 // H3_STREAM_CREATION_ERROR
	ErrCodeClosedCriticalStream ErrCode = 0x104 // H3_CLOSED_CRITICAL_STREAM
	ErrCodeFrameUnexpected      ErrCode = 0x105 // H3_FRAME_UNEXPECTED
	ErrCodeFrameError           ErrCode = 0x106 // H3_FRAME_ERROR
	ErrCodeExcessiveLoad        ErrCode = 0x107 // H3_EXCESSIVE_LOAD
	ErrCodeIDError              ErrCode = 0x108 // H3_ID_ERROR
	ErrCodeSettingsError        ErrCode = 0x109 // H3_SETTINGS_ERROR
	ErrCodeMissingSettings      ErrCode = 0x10a // H3_MISSING_SETTINGS
	ErrCodeRequestRejected      ErrCode = 0x10b // H3_REQUEST_REJECTED
	ErrCodeRequestCancelled     ErrCode = 0x10c // H3_REQUEST_CANCELLED
	ErrCodeRequestIncomplete    ErrCode = 0x10d // H3_REQUEST_INCOMPLETE
	ErrCodeMessageError         ErrCode = 0x10e // H3_MESSAGE_ERROR
	ErrCodeConnectError         ErrCode = 0x10f // H3_CONNECT_ERROR
	ErrCodeVersionFallback      ErrCode = 0x110 // H3_VERSION_FALLBACK
)

var errCodeNames = [...]string{
	"H3_NO_ERROR",
	"H3_GENERAL_PROTOCOL_ERROR",
	"H3_INTERNAL_ERROR",
	"H3_STREAM_CREATION_ERROR",
	"H3_CLOSED_CRITICAL_STREAM",
	"H3_FRAME_UNEXPECTED",
	"H3_FRAME_ERROR",
	"H3_EXCESSIVE_LOAD",
	"H3_ID_ERROR",
	"H3_SETTINGS_ERROR",
	"H3_MISSING_SETTINGS",
	"H3_REQUEST_REJECTED",
	"H3_REQUEST_CANCELLED",
	"H3_REQUEST_INCOMPLETE",
	"H3_MESSAGE_ERROR",
	"H3_CONNECT_ERROR",
	"H3_VERSION_FALLBACK",
}

// String returns the RFC name of c — an HTTP/3 code (RFC 9114 §8.1) or a
// QPACK one (RFC 9204 §6) — "H3_RESERVED(0x…)" for a reserved (greasing)
// code, or the number in hex.
func (c ErrCode) String() string {
	if c >= ErrCodeNoError && c <= ErrCodeVersionFallback {
		return errCodeNames[c-ErrCodeNoError]
	}
	if q := qpack.ErrorCode(c); q >= qpack.ErrCodeDecompressionFailed && q <= qpack.ErrCodeDecoderStreamError {
		return q.String()
	}
	if IsReserved(uint64(c)) {
		return "H3_RESERVED(0x" + strconv.FormatUint(uint64(c), 16) + ")"
	}
	return "0x" + strconv.FormatUint(uint64(c), 16)
}

// Error is an HTTP/3 error detected in peer input: the code to close the
// connection or reset the stream with, and a reason for logs (and for the
// reason phrase of CONNECTION_CLOSE). Whether it is a connection error or a
// stream error is stated by the function that returns it; by RFC 9114 all
// frame-level errors here are connection errors, and H3_MESSAGE_ERROR is a
// stream error (§4.1.2).
type Error struct {
	Code   ErrCode
	Reason string
}

func (e *Error) Error() string {
	if e.Reason == "" {
		return "h3: " + e.Code.String()
	}
	return "h3: " + e.Code.String() + ": " + e.Reason
}

// newError keeps reasons constant strings so that returning an error costs
// one small allocation and no formatting.
func newError(code ErrCode, reason string) *Error {
	return &Error{Code: code, Reason: reason}
}

// ErrorCode returns the HTTP/3 code carried by err if it is (or wraps) an
// *Error, and H3_INTERNAL_ERROR otherwise — what a connection closes with
// when something other than the peer went wrong.
func ErrorCode(err error) ErrCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ErrCodeInternalError
}
