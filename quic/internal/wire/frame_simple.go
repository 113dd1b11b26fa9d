package wire

// PADDING (RFC 9000 §19.1), PING (§19.2) and HANDSHAKE_DONE (§19.20) are a
// type byte and nothing else: append them with append(b, byte(FrameTypePing))
// and, once their type is parsed, there is nothing left to read.

// PaddingLen returns the number of PADDING frames (zero bytes) at the start
// of b. A receiver skips them in one step instead of one frame at a time.
func PaddingLen(b []byte) int {
	for i, c := range b {
		if c != 0 {
			return i
		}
	}
	return len(b)
}

// AppendPadding appends n PADDING frames.
func AppendPadding(b []byte, n int) []byte {
	return append(b, make([]byte, max(n, 0))...)
}
