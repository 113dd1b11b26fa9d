package wire

import (
	"encoding/binary"
	"errors"
)

// MaxVarint is the largest value a variable-length integer can carry
// (RFC 9000 §16: 62 usable bits).
const MaxVarint = 1<<62 - 1

// ErrTruncatedVarint is returned by ParseVarint when the input ends before
// the integer does. Frame and transport parameter parsers translate it into
// the matching TransportError.
var ErrTruncatedVarint = errors.New("wire: truncated variable-length integer")

// VarintLen returns the number of bytes the shortest encoding of v takes
// (1, 2, 4 or 8). v must not exceed MaxVarint.
func VarintLen(v uint64) int {
	switch {
	case v < 1<<6:
		return 1
	case v < 1<<14:
		return 2
	case v < 1<<30:
		return 4
	default:
		return 8
	}
}

// AppendVarint appends v using its shortest encoding (RFC 9000 §16).
// It panics if v exceeds MaxVarint: that is a bug in the caller, since every
// value received from a peer already fits.
func AppendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	case v < 1<<30:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	case v <= MaxVarint:
		return binary.BigEndian.AppendUint64(b, 0xc0<<56|v)
	}
	panic("wire: varint value exceeds 2^62-1")
}

// AppendVarintLen appends v encoded on exactly n bytes (1, 2, 4 or 8). A
// longer than necessary encoding is legal everywhere except in a frame type
// (RFC 9000 §16); it lets a sender reserve room for a field, such as a long
// header's Length, whose value is known only later. It panics if v does not
// fit in n bytes.
func AppendVarintLen(b []byte, v uint64, n int) []byte {
	if VarintLen(v) > n {
		panic("wire: varint value does not fit the requested length")
	}
	switch n {
	case 1:
		return append(b, byte(v))
	case 2:
		return append(b, 0x40|byte(v>>8), byte(v))
	case 4:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	case 8:
		return binary.BigEndian.AppendUint64(b, 0xc0<<56|v)
	}
	panic("wire: invalid varint length")
}

// ParseVarint decodes the variable-length integer at the start of b and
// returns its value and its encoded length. It returns ErrTruncatedVarint if
// b is too short.
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
