package priority

import (
	"unicode/utf8"

	"github.com/skiffnet/skiff/h3/internal/tchar"
)

// Priority is a response's priority (RFC 9218 §4): an urgency from 0 (most
// urgent) to 7, and whether the client uses the response incrementally.
type Priority struct {
	Urgency     uint8
	Incremental bool
}

// Default is the priority of a request that carries no priority
// parameters (RFC 9218 §4.1: "The default is 3"; §4.2: "The default value
// of the incremental parameter is false").
var Default = Priority{Urgency: 3}

// maxUrgency is the largest urgency (RFC 9218 §4.1).
const maxUrgency = 7

// Parse applies the priority parameters of a Priority field value (RFC
// 9218 §5), or of a PRIORITY_UPDATE frame's Priority Field Value (§7),
// to base and returns the result.
//
// The value is a Structured Fields Dictionary (RFC 8941 §3.2), parsed
// strictly by RFC 8941 §4.2.2. ok is false when it is not one: the value
// is then ignored and base returned unchanged. Within a valid Dictionary,
// unknown keys, out-of-range values and values of the wrong type are
// ignored (RFC 9218 §4), so the parameter keeps its value in base; a key
// that appears twice counts by its last value (RFC 8941 §4.2.2). Parse
// does not allocate.
//
// For a request, base is Default: a parameter the request omits takes its
// default (§4). For a response's Priority header, base is what the request
// asked for: "the absence of a priority parameter in an HTTP response
// indicates the server's disinterest in changing the client-provided
// value" (§8).
func Parse[T string | []byte](v T, base Priority) (p Priority, ok bool) {
	var (
		u, i       int8 = -1, -1 // last value of u and i: -1 absent, -2 ignored
		pos             = skipSP(v, 0)
		end             = len(v)
		kStart, kE int
	)
	for end > pos && (v[end-1] == ' ' || v[end-1] == '\t') {
		end-- // trailing OWS of the field value (RFC 9110 §5.5)
	}
	v = v[:end]
	for pos < len(v) {
		kStart = pos
		if pos = parseKey(v, pos); pos < 0 {
			return base, false
		}
		kE = pos
		isU := kE-kStart == 1 && v[kStart] == 'u'
		isI := kE-kStart == 1 && v[kStart] == 'i'
		if pos < len(v) && v[pos] == '=' {
			pos++
			var kind itemKind
			var n int64
			if pos < len(v) && v[pos] == '(' {
				pos, kind = parseInnerList(v, pos), kindOther
			} else {
				pos, kind, n = parseBareItem(v, pos)
			}
			if pos < 0 {
				return base, false
			}
			switch {
			case isU && kind == kindInteger && n >= 0 && n <= maxUrgency:
				u = int8(n)
			case isU:
				u = -2
			case isI && kind == kindBoolean:
				i = int8(n)
			case isI:
				i = -2
			}
		} else {
			// RFC 8941 §4.2.2: a member without a value is Boolean true.
			if isU {
				u = -2
			}
			if isI {
				i = 1
			}
		}
		if pos = parseParameters(v, pos); pos < 0 {
			return base, false
		}
		pos = skipOWS(v, pos)
		if pos == len(v) {
			break
		}
		if v[pos] != ',' {
			return base, false
		}
		pos = skipOWS(v, pos+1)
		if pos == len(v) {
			return base, false // a trailing comma
		}
	}
	p = base
	if u >= 0 {
		p.Urgency = uint8(u)
	}
	if i >= 0 {
		p.Incremental = i == 1
	}
	return p, true
}

// itemKind is the type of a bare item, as far as Parse needs to know.
type itemKind uint8

const (
	kindOther itemKind = iota
	kindInteger
	kindBoolean
)

func skipSP[T string | []byte](v T, pos int) int {
	for pos < len(v) && v[pos] == ' ' {
		pos++
	}
	return pos
}

func skipOWS[T string | []byte](v T, pos int) int {
	for pos < len(v) && (v[pos] == ' ' || v[pos] == '\t') {
		pos++
	}
	return pos
}

func isLCAlpha(c byte) bool { return c >= 'a' && c <= 'z' }
func isAlpha(c byte) bool   { return isLCAlpha(c) || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }

// parseKey parses a key (RFC 8941 §4.2.3.3) at pos and returns the
// position after it, or -1.
func parseKey[T string | []byte](v T, pos int) int {
	if pos >= len(v) || !isLCAlpha(v[pos]) && v[pos] != '*' {
		return -1
	}
	for pos++; pos < len(v); pos++ {
		c := v[pos]
		if !isLCAlpha(c) && !isDigit(c) && c != '_' && c != '-' && c != '.' && c != '*' {
			break
		}
	}
	return pos
}

// parseParameters parses parameters (RFC 8941 §4.2.3.2) at pos and
// returns the position after them, or -1.
func parseParameters[T string | []byte](v T, pos int) int {
	for pos < len(v) && v[pos] == ';' {
		if pos = parseKey(v, skipSP(v, pos+1)); pos < 0 {
			return -1
		}
		if pos < len(v) && v[pos] == '=' {
			if pos, _, _ = parseBareItem(v, pos+1); pos < 0 {
				return -1
			}
		}
	}
	return pos
}

// parseInnerList parses an inner list (RFC 8941 §4.2.1.2) with its
// parameters at pos, which holds '(', and returns the position after it,
// or -1.
func parseInnerList[T string | []byte](v T, pos int) int {
	pos++
	for {
		pos = skipSP(v, pos)
		if pos >= len(v) {
			return -1
		}
		if v[pos] == ')' {
			return parseParameters(v, pos+1)
		}
		if pos, _, _ = parseBareItem(v, pos); pos < 0 {
			return -1
		}
		if pos = parseParameters(v, pos); pos < 0 {
			return -1
		}
		if pos >= len(v) || v[pos] != ' ' && v[pos] != ')' {
			return -1
		}
	}
}

// parseBareItem parses a bare item (RFC 8941 §4.2.3.1) at pos and returns
// the position after it (or -1), its kind, and its value for an Integer
// or a Boolean (0 or 1).
func parseBareItem[T string | []byte](v T, pos int) (int, itemKind, int64) {
	if pos >= len(v) {
		return -1, kindOther, 0
	}
	switch c := v[pos]; {
	case c == '-' || isDigit(c):
		return parseNumber(v, pos)
	case c == '"':
		return parseString(v, pos), kindOther, 0
	case c == '*' || isAlpha(c):
		return parseToken(v, pos), kindOther, 0
	case c == ':':
		return parseByteSequence(v, pos), kindOther, 0
	case c == '?':
		if pos+1 < len(v) && (v[pos+1] == '0' || v[pos+1] == '1') {
			return pos + 2, kindBoolean, int64(v[pos+1] - '0')
		}
	case c == '@':
		return parseDate(v, pos), kindOther, 0
	case c == '%':
		return parseDisplayString(v, pos), kindOther, 0
	}
	return -1, kindOther, 0
}

// parseDate parses a Date (RFC 9651 §4.2.9): '@' and an Integer.
func parseDate[T string | []byte](v T, pos int) int {
	if pos+1 >= len(v) || v[pos+1] != '-' && !isDigit(v[pos+1]) {
		return -1
	}
	pos, kind, _ := parseNumber(v, pos+1)
	if kind != kindInteger {
		return -1 // a Decimal, or no number
	}
	return pos
}

// parseDisplayString parses a Display String (RFC 9651 §4.2.10): '%',
// then between double quotes printable ASCII and percent-encoded octets
// (lower-case hex) that must make valid UTF-8, checked as they come: a
// rune's octets gather in a small buffer, so nothing is allocated.
func parseDisplayString[T string | []byte](v T, pos int) int {
	if pos+1 >= len(v) || v[pos+1] != '"' {
		return -1
	}
	var pending [utf8.UTFMax]byte
	n := 0 // octets in pending
	for pos += 2; pos < len(v); pos++ {
		c := v[pos]
		switch {
		case c < 0x20 || c > 0x7e:
			return -1
		case c == '"':
			if n > 0 {
				return -1 // ends inside a rune
			}
			return pos + 1
		case c != '%':
			if n > 0 {
				return -1 // an ASCII character inside a rune
			}
			continue
		}
		if pos+2 >= len(v) {
			return -1
		}
		hi, lo := lowerHex(v[pos+1]), lowerHex(v[pos+2])
		if hi < 0 || lo < 0 {
			return -1
		}
		pos += 2
		pending[n] = byte(hi<<4 | lo)
		n++
		if utf8.FullRune(pending[:n]) {
			if r, size := utf8.DecodeRune(pending[:n]); r == utf8.RuneError && size <= 1 {
				return -1
			}
			n = 0
		}
	}
	return -1
}

// lowerHex is the value of a lower-case hex digit, or -1.
func lowerHex(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

// parseNumber parses an Integer or a Decimal (RFC 8941 §4.2.4).
func parseNumber[T string | []byte](v T, pos int) (int, itemKind, int64) {
	neg := v[pos] == '-'
	if neg {
		pos++
	}
	start := pos
	var n int64
	for pos < len(v) && isDigit(v[pos]) {
		n = n*10 + int64(v[pos]-'0')
		pos++
		if pos-start > 15 {
			return -1, kindOther, 0 // more digits than an Integer may have
		}
	}
	if pos == start {
		return -1, kindOther, 0
	}
	if pos < len(v) && v[pos] == '.' {
		if pos-start > 12 {
			return -1, kindOther, 0
		}
		pos++
		frac := pos
		for pos < len(v) && isDigit(v[pos]) {
			pos++
		}
		if pos == frac || pos-frac > 3 {
			return -1, kindOther, 0
		}
		return pos, kindOther, 0 // a Decimal
	}
	if neg {
		n = -n
	}
	return pos, kindInteger, n
}

// parseString parses a String (RFC 8941 §4.2.5).
func parseString[T string | []byte](v T, pos int) int {
	for pos++; pos < len(v); pos++ {
		switch c := v[pos]; {
		case c == '\\':
			pos++
			if pos >= len(v) || v[pos] != '"' && v[pos] != '\\' {
				return -1
			}
		case c == '"':
			return pos + 1
		case c < 0x20 || c > 0x7e:
			return -1
		}
	}
	return -1
}

// parseToken parses a Token (RFC 8941 §4.2.6): tchar (RFC 9110 §5.6.2),
// ':' or '/' after the first character.
func parseToken[T string | []byte](v T, pos int) int {
	for pos++; pos < len(v); pos++ {
		c := v[pos]
		if !tchar.Is(c) && c != ':' && c != '/' {
			break
		}
	}
	return pos
}

// parseByteSequence parses a Byte Sequence (RFC 8941 §4.2.7): base64
// characters between colons.
func parseByteSequence[T string | []byte](v T, pos int) int {
	for pos++; pos < len(v); pos++ {
		c := v[pos]
		if c == ':' {
			return pos + 1
		}
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '/' && c != '=' {
			return -1
		}
	}
	return -1
}

// ParseLines parses the field lines of one Priority field, which together
// are one Dictionary (RFC 8941 §3.2: a later member replaces an earlier
// one of the same key), over base as Parse does. A malformed line makes
// the whole field malformed: ok is false and p is base.
func ParseLines(lines []string, base Priority) (p Priority, ok bool) {
	p = base
	for _, v := range lines {
		if p, ok = Parse(v, p); !ok {
			return base, false
		}
	}
	return p, true
}
