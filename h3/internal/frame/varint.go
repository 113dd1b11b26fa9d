package frame

// QUIC variable-length integers, RFC 9000 §16. h3 cannot import
// quic/internal, so this is a small private copy of the encoding.

// MaxVarint is the largest value a variable-length integer can carry,
// 2^62-1.
const MaxVarint = 1<<62 - 1

// varintLen returns the encoded size of v, which must be <= MaxVarint.
func varintLen(v uint64) int {
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

// appendVarint appends v in the shortest encoding. v must be <= MaxVarint;
// larger values are a programming error and panic.
func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	case v < 1<<30:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	case v <= MaxVarint:
		return append(b, 0xc0|byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	panic("frame: varint value exceeds 2^62-1")
}

// AppendVarint appends v as a QUIC variable-length integer; the h3 layer
// uses it for unidirectional stream headers (RFC 9114 §6.2). v must be <=
// MaxVarint.
func AppendVarint(b []byte, v uint64) []byte { return appendVarint(b, v) }

// parseVarint decodes the variable-length integer at the start of b. It
// returns the value and its encoded length, or n == 0 if b is too short.
func parseVarint(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	n = 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0
	}
	v = uint64(b[0] & 0x3f)
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n
}
