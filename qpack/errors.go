package qpack

import (
	"errors"
	"fmt"
)

// ErrorCode is an HTTP/3 error code from the QPACK range, RFC 9204 §6.
type ErrorCode uint64

// RFC 9204 §6: QPACK error codes. Each is a connection error.
const (
	ErrCodeDecompressionFailed ErrorCode = 0x200 // QPACK_DECOMPRESSION_FAILED
	ErrCodeEncoderStreamError  ErrorCode = 0x201 // QPACK_ENCODER_STREAM_ERROR
	ErrCodeDecoderStreamError  ErrorCode = 0x202 // QPACK_DECODER_STREAM_ERROR
)

func (c ErrorCode) String() string {
	switch c {
	case ErrCodeDecompressionFailed:
		return "QPACK_DECOMPRESSION_FAILED"
	case ErrCodeEncoderStreamError:
		return "QPACK_ENCODER_STREAM_ERROR"
	case ErrCodeDecoderStreamError:
		return "QPACK_DECODER_STREAM_ERROR"
	}
	return fmt.Sprintf("ErrorCode(%#x)", uint64(c))
}

// Error is a QPACK error. The HTTP/3 layer closes the connection with Code.
type Error struct {
	Code   ErrorCode
	Reason string
}

func (e *Error) Error() string { return "qpack: " + e.Code.String() + ": " + e.Reason }

// ErrFieldSectionTooLarge is returned by the decoder when a field section
// exceeds the limit set with Decoder.SetMaxFieldSectionSize (RFC 9114 §4.2.2).
// It is not a QPACK error: the section was well formed and the dynamic table
// state is intact, so the HTTP/3 layer may reject just the message (for
// example with a 431 response or H3_MESSAGE_ERROR).
var ErrFieldSectionTooLarge = errors.New("qpack: field section exceeds SETTINGS_MAX_FIELD_SECTION_SIZE")

// errTruncated is the internal signal that an instruction is incomplete. On
// the encoder and decoder streams it means "wait for more bytes"; inside a
// field section, which arrives whole, it becomes QPACK_DECOMPRESSION_FAILED.
var errTruncated = errors.New("qpack: truncated")

// Reasons shared by several parsers; they are plain strings so that building
// an *Error for them costs one allocation, on the error path only.
const (
	reasonIntegerOverflow = "integer exceeds 62 bits"
	reasonHuffmanEOS      = "Huffman string contains EOS"
	reasonHuffmanPadding  = "Huffman padding is longer than 7 bits or not all ones"
)

func decompressionFailed(reason string) error {
	return &Error{Code: ErrCodeDecompressionFailed, Reason: reason}
}

func encoderStreamError(reason string) error {
	return &Error{Code: ErrCodeEncoderStreamError, Reason: reason}
}

func decoderStreamError(reason string) error {
	return &Error{Code: ErrCodeDecoderStreamError, Reason: reason}
}

// withCode turns an error from a shared parser (integer, string, Huffman) into
// a QPACK error with the code of the place it was found.
func withCode(err error, code ErrorCode) error {
	var qe *Error
	if errors.As(err, &qe) {
		if qe.Code == code {
			return err
		}
		return &Error{Code: code, Reason: qe.Reason}
	}
	return &Error{Code: code, Reason: err.Error()}
}
