package headers

import (
	"strings"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/h3/internal/tchar"
)

// malformed returns the stream error for a malformed message, RFC 9114
// §4.1.2.
func malformed(reason string) error {
	return &frame.Error{Code: frame.ErrCodeMessageError, Reason: reason}
}

// isAuthority is the character class of RFC 3986 §3.2 (authority).
var isAuthority [256]bool

func init() {
	// authority = [ userinfo "@" ] host [ ":" port ]; host is reg-name,
	// IPv4address or IP-literal: unreserved / pct-encoded / sub-delims /
	// ":" / "@" / "[" / "]".
	for c := range 256 {
		b := byte(c)
		isAuthority[c] = 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
			strings.IndexByte("-._~%!$&'()*+,;=:@[]", b) >= 0
	}
}

// checkFieldName validates a field name as it must arrive in HTTP/3: a
// token (RFC 9110 §5.1) without uppercase letters (RFC 9114 §4.2).
func checkFieldName(name string) error {
	if name == "" {
		return malformed("empty field name")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			return malformed("uppercase character in field name")
		}
		if !tchar.Is(c) {
			return malformed("invalid character in field name")
		}
	}
	return nil
}

// validFieldValue reports whether v is a valid field value (RFC 9110 §5.5):
// no control character other than HTAB — CR, LF and NUL in particular —
// and no leading or trailing whitespace, which the field syntax excludes
// from the value (§5.5: field-value is *field-content, which begins and
// ends with a field-vchar).
func validFieldValue(v string) bool {
	if v == "" {
		return true
	}
	if isSpace(v[0]) || isSpace(v[len(v)-1]) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tchar.Is(s[i]) {
			return false
		}
	}
	return true
}

// validScheme: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), RFC
// 3986 §3.1.
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

func validAuthority(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAuthority[s[i]] {
			return false
		}
	}
	return true
}

// validPath rejects what can never be in a request target: controls,
// spaces and DEL. The URI parser checks the rest.
func validPath(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// isConnectionSpecific reports the fields RFC 9114 §4.2 forbids: the
// Connection field and the fields it conventionally nominates (RFC 9110
// §7.6.1), and Transfer-Encoding (§4.1: not defined for HTTP/3). TE is
// handled by the caller.
func isConnectionSpecific(lowerName string) bool {
	switch lowerName {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		return true
	}
	return false
}

func isHTTPScheme(s string) bool { return s == "http" || s == "https" }
