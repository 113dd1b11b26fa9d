package qpack

// Prefixed integers, RFC 9204 §4.1.1 (the RFC 7541 §5.1 representation).

// maxInteger bounds every decoded integer. RFC 9204 §4.1.1: "QPACK
// implementations MUST be able to decode integers up to and including 62 bits
// long"; nothing in QPACK can legitimately be larger (stream IDs and table
// sizes are themselves 62-bit quantities), so anything larger is an error.
const maxInteger = 1<<62 - 1

// appendInteger appends v with an n-bit prefix (1 <= n <= 8). first holds the
// bits above the prefix in the first byte.
func appendInteger(dst []byte, first byte, n uint8, v uint64) []byte {
	limit := uint64(1)<<n - 1
	if v < limit {
		return append(dst, first|byte(v))
	}
	dst = append(dst, first|byte(limit))
	v -= limit
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// readInteger decodes an integer with an n-bit prefix from the start of b. It
// returns the value and the number of bytes used, errTruncated if b ends
// first, or an error for a value above 2^62-1. Overlong encodings (redundant
// zero continuation bytes) are accepted only while the total stays within the
// 62-bit bound's 10 bytes, so a peer cannot make us loop on continuation bytes.
func readInteger(b []byte, n uint8) (uint64, int, error) {
	if len(b) == 0 {
		return 0, 0, errTruncated
	}
	limit := uint64(1)<<n - 1
	v := uint64(b[0]) & limit
	if v < limit {
		return v, 1, nil
	}
	var shift uint
	for i := 1; i < len(b); i++ {
		c := b[i]
		if shift > 56 {
			return 0, 0, decompressionFailed(reasonIntegerOverflow)
		}
		v += uint64(c&0x7f) << shift
		if v > maxInteger {
			return 0, 0, decompressionFailed(reasonIntegerOverflow)
		}
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
		shift += 7
	}
	if len(b) > 10 {
		return 0, 0, decompressionFailed(reasonIntegerOverflow)
	}
	return 0, 0, errTruncated
}
