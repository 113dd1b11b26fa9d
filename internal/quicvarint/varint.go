package quicvarint

import "encoding/binary"

// Max is the largest value a variable-length integer can carry: 62 usable
// bits.
const Max = 1<<62 - 1

// Len returns the number of bytes the shortest encoding of v takes (1, 2,
// 4 or 8). v must not exceed Max.
func Len(v uint64) int {
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

// Append appends v using its shortest encoding. It panics if v exceeds
// Max: that is a bug in the caller, since every value received from a peer
// already fits.
func Append(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	case v < 1<<30:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	case v <= Max:
		return binary.BigEndian.AppendUint64(b, 0xc0<<56|v)
	}
	panic("quicvarint: value exceeds 2^62-1")
}

// AppendLen appends v encoded on exactly n bytes (1, 2, 4 or 8). A longer
// than necessary encoding is legal everywhere except in a QUIC frame type
// (RFC 9000 §16); it lets a sender reserve room for a field whose value is
// known only later. It panics if v does not fit in n bytes.
func AppendLen(b []byte, v uint64, n int) []byte {
	if Len(v) > n {
		panic("quicvarint: value does not fit the requested length")
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
	panic("quicvarint: invalid length")
}

// Parse decodes the variable-length integer at the start of b and returns
// its value and encoded length; n is 0 when b ends before the integer does.
func Parse(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	// The two most significant bits of the first byte give the base-2
	// logarithm of the length.
	n = 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0
	}
	switch n {
	case 1:
		return uint64(b[0]), 1
	case 2:
		return uint64(b[0]&0x3f)<<8 | uint64(b[1]), 2
	case 4:
		return uint64(binary.BigEndian.Uint32(b) & 0x3fffffff), 4
	default:
		return binary.BigEndian.Uint64(b) & Max, 8
	}
}
