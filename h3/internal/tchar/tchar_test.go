package tchar

import (
	"strings"
	"testing"
)

// TestIs checks the class against RFC 9110 §5.6.2's grammar, character by
// character: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" /
// "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
func TestIs(t *testing.T) {
	for c := range 256 {
		b := byte(c)
		want := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
		if Is(b) != want {
			t.Errorf("Is(%q) = %v, want %v", b, Is(b), want)
		}
	}
}
