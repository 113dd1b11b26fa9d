package qpack

// String literals, RFC 9204 §4.1.2: an H bit, a length with an n-bit prefix,
// and the (possibly Huffman-coded) octets.

// appendString appends s as a string literal whose H bit sits just above an
// n-bit length prefix; first carries the instruction's bits above the H bit.
// Huffman coding is used when it is shorter.
func appendString(dst []byte, first byte, n uint8, s string, huffman bool) []byte {
	if huffman {
		if hl := huffmanEncodedLen(s); hl < len(s) {
			dst = appendInteger(dst, first|1<<n, n, uint64(hl))
			return appendHuffmanEncoded(dst, s)
		}
	}
	dst = appendInteger(dst, first, n, uint64(len(s)))
	return append(dst, s...)
}

// readString reads a string literal whose H bit sits above an n-bit length
// prefix at the start of b. A raw string is returned as a sub-slice of b; a
// Huffman-coded one is decoded and appended to buf, and the result aliases
// buf. maxLen bounds the encoded length (checked before any decoding, so no
// peer-chosen length drives work or allocation beyond it): a longer string is
// reported through tooLong = true. errTruncated means b ends first; used is
// then the length the string needs in all, when its length prefix is known.
func readString(b []byte, n uint8, maxLen uint64, buf []byte) (s, newBuf []byte, used int, tooLong bool, err error) {
	if len(b) == 0 {
		return nil, buf, 0, false, errTruncated
	}
	huff := b[0]&(1<<n) != 0
	l, k, err := readInteger(b, n)
	if err != nil {
		return nil, buf, 0, false, err
	}
	if l > maxLen {
		return nil, buf, 0, true, nil
	}
	if l > uint64(len(b)-k) {
		return nil, buf, k + int(l), false, errTruncated
	}
	raw := b[k : k+int(l)]
	if !huff {
		return raw, buf, k + int(l), false, nil
	}
	start := len(buf)
	buf, err = appendHuffmanDecoded(buf, raw)
	if err != nil {
		return nil, buf, 0, false, err
	}
	return buf[start:], buf, k + int(l), false, nil
}
