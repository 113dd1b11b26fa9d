package wire

import (
	"encoding/binary"
	"errors"

	"github.com/skiffnet/skiff/internal/quicvarint"
)

// MaxVarint is the largest value a variable-length integer can carry
// (RFC 9000 §16: 62 usable bits).
const MaxVarint = quicvarint.Max

// ErrTruncatedVarint is returned by ParseVarint when the input ends before
// the integer does. Frame and transport parameter parsers translate it into
// the matching TransportError.
var ErrTruncatedVarint = errors.New("wire: truncated variable-length integer")

// VarintLen returns the number of bytes the shortest encoding of v takes
// (1, 2, 4 or 8). v must not exceed MaxVarint.
func VarintLen(v uint64) int { return quicvarint.Len(v) }

// AppendVarint appends v using its shortest encoding (RFC 9000 §16).
// It panics if v exceeds MaxVarint: that is a bug in the caller, since every
// value received from a peer already fits.
func AppendVarint(b []byte, v uint64) []byte { return quicvarint.Append(b, v) }

// AppendVarintLen appends v encoded on exactly n bytes (1, 2, 4 or 8), as
// for a long header's Length, reserved before its value is known. It panics
// if v does not fit in n bytes.
func AppendVarintLen(b []byte, v uint64, n int) []byte { return quicvarint.AppendLen(b, v, n) }

// ParseVarint decodes the variable-length integer at the start of b and
// returns its value and its encoded length. It returns ErrTruncatedVarint if
// b is too short.
//
// It is written out rather than wrapping quicvarint.Parse so that it stays
// within the compiler's inlining budget: every frame field goes through it.
func ParseVarint(b []byte) (v uint64, n int, err error) {
	if len(b) == 0 {
		return 0, 0, ErrTruncatedVarint
	}
	// RFC 9000 §16: the two most significant bits of the first byte give
	// the base-2 logarithm of the length.
	n = 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0, ErrTruncatedVarint
	}
	switch n {
	case 1:
		return uint64(b[0]), 1, nil
	case 2:
		return uint64(b[0]&0x3f)<<8 | uint64(b[1]), 2, nil
	case 4:
		return uint64(binary.BigEndian.Uint32(b) & 0x3fffffff), 4, nil
	default:
		return binary.BigEndian.Uint64(b) & MaxVarint, 8, nil
	}
}
