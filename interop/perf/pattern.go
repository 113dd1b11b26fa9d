package perf

import (
	"bytes"
	"fmt"
	mrand "math/rand/v2"
)

// PatternLen is the length of the payload buffer both ends send over and
// over (draft-banks-quic-performance-00 §4.1: one preallocated buffer).
const PatternLen = 64 << 10

// pattern holds pseudo-random bytes, so that payload does not compress and
// a misplaced byte is caught by a compare.
var pattern = func() []byte {
	b := make([]byte, PatternLen)
	mrand.NewChaCha8([32]byte{'s', 'k', 'i', 'f', 'f', ' ', 'p', 'e', 'r', 'f'}).Read(b)
	return b
}()

// Pattern returns n bytes of the payload stream every sender produces: the
// pattern buffer repeated. For tests; the senders do not allocate it.
func Pattern(n int) []byte {
	b := make([]byte, 0, n)
	for len(b) < n {
		b = append(b, pattern[:min(PatternLen, n-len(b))]...)
	}
	return b
}

// PatternError reports received payload that is not the pattern.
type PatternError struct{ Offset int64 }

func (e *PatternError) Error() string {
	return fmt.Sprintf("perf: payload differs from the pattern at byte %d", e.Offset)
}

// patternChecker compares a received byte stream with the repeated pattern.
type patternChecker struct{ off int64 }

func (c *patternChecker) check(p []byte) error {
	for len(p) > 0 {
		i := int(c.off % PatternLen)
		k := min(len(p), PatternLen-i)
		if !bytes.Equal(p[:k], pattern[i:i+k]) {
			for j := range k { // locate the first bad byte for the report
				if p[j] != pattern[i+j] {
					return &PatternError{Offset: c.off + int64(j)}
				}
			}
		}
		c.off += int64(k)
		p = p[k:]
	}
	return nil
}
