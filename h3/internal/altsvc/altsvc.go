package altsvc

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/skiffnet/skiff/h3/internal/tchar"
)

// DefaultMaxAge is the freshness of an alternative without an "ma"
// parameter, RFC 7838 §3.1.
const DefaultMaxAge = 24 * time.Hour

// Entry is one alternative service.
type Entry struct {
	// Protocol is the ALPN protocol name, percent-decoded ("h3").
	Protocol string
	// Host is the alternative's host, without brackets for an IPv6
	// literal; "" means the origin's host.
	Host string
	Port uint16
	// MaxAge is how long the alternative stays fresh from the time the
	// response was generated ("ma"); Parse sets DefaultMaxAge when absent.
	MaxAge time.Duration
	// Persist is "persist=1": the alternative survives network changes.
	Persist bool
}

// SyntaxError reports a field value that does not follow RFC 7838 §3.
type SyntaxError struct {
	Offset int // byte offset in the value
	Reason string
}

func (e *SyntaxError) Error() string {
	return "altsvc: " + e.Reason + " at offset " + strconv.Itoa(e.Offset)
}

// ErrNoEntries is returned for a value without any alternative or "clear".
var ErrNoEntries = errors.New("altsvc: empty Alt-Svc value")

type parser struct {
	s string
	i int
}

func (p *parser) fail(reason string) error { return &SyntaxError{Offset: p.i, Reason: reason} }

func (p *parser) skipOWS() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *parser) token() string {
	start := p.i
	for p.i < len(p.s) && tchar.Is(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// quotedString parses a quoted-string (RFC 9110 §5.6.4) and returns its
// content with quoted-pairs resolved; it allocates only when the content
// has a backslash.
func (p *parser) quotedString() (string, error) {
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", p.fail("expected quoted-string")
	}
	p.i++
	start := p.i
	escaped := false
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			v := p.s[start:p.i]
			p.i++
			if escaped {
				v = unquote(v)
			}
			return v, nil
		case c == '\\':
			// quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
			if p.i+1 >= len(p.s) || !isQuotedPairChar(p.s[p.i+1]) {
				return "", p.fail("invalid quoted-pair")
			}
			escaped = true
			p.i += 2
		case isQdtext(c):
			p.i++
		default:
			return "", p.fail("invalid character in quoted-string")
		}
	}
	return "", p.fail("unterminated quoted-string")
}

func unquote(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// Parse parses an Alt-Svc field value (RFC 7838 §3). Several field lines
// may be joined with "," first. clear reports the "clear" keyword, in which
// case entries is empty: §3 says it invalidates all alternatives, including
// those in the same response. A value that breaks the grammar returns a
// *SyntaxError and no entries.
func Parse(value string) (entries []Entry, clear bool, err error) {
	p := parser{s: value}
	sawElement := false
	for {
		p.skipOWS()
		if p.i == len(p.s) {
			break
		}
		if p.s[p.i] == ',' { // empty list element (RFC 9110 §5.6.1)
			p.i++
			continue
		}
		sawElement = true
		start := p.i
		id := p.token()
		if id == "" {
			return nil, false, p.fail("expected protocol-id")
		}
		if id == "clear" {
			p.skipOWS()
			if p.i == len(p.s) || p.s[p.i] == ',' {
				clear = true
				continue
			}
			p.i = start + len(id)
		}
		e, err := p.altValue(id)
		if err != nil {
			return nil, false, err
		}
		entries = append(entries, e)
		p.skipOWS()
		if p.i < len(p.s) {
			if p.s[p.i] != ',' {
				return nil, false, p.fail("expected ',' after an alternative")
			}
			p.i++
		}
	}
	if !sawElement {
		return nil, false, ErrNoEntries
	}
	if clear {
		return nil, true, nil
	}
	return entries, false, nil
}

// altValue parses the rest of an alt-value after its protocol-id:
// "=" alt-authority *( OWS ";" OWS parameter ).
func (p *parser) altValue(id string) (Entry, error) {
	var e Entry
	proto, ok := percentDecode(id)
	if !ok {
		return e, p.fail("invalid percent-encoding in protocol-id")
	}
	e.Protocol = proto
	if p.i >= len(p.s) || p.s[p.i] != '=' {
		return e, p.fail("expected '=' after protocol-id")
	}
	p.i++
	authStart := p.i
	auth, err := p.quotedString()
	if err != nil {
		return e, err
	}
	if e.Host, e.Port, ok = splitAuthority(auth); !ok {
		p.i = authStart
		return e, p.fail("invalid alt-authority")
	}
	e.MaxAge = DefaultMaxAge
	sawMA, sawPersist := false, false
	for {
		save := p.i
		p.skipOWS()
		if p.i >= len(p.s) || p.s[p.i] != ';' {
			p.i = save
			return e, nil
		}
		p.i++
		p.skipOWS()
		name := p.token()
		if name == "" {
			return e, p.fail("expected parameter name")
		}
		if p.i >= len(p.s) || p.s[p.i] != '=' {
			return e, p.fail("expected '=' after parameter name")
		}
		p.i++
		var v string
		if p.i < len(p.s) && p.s[p.i] == '"' {
			if v, err = p.quotedString(); err != nil {
				return e, err
			}
		} else if v = p.token(); v == "" {
			return e, p.fail("expected parameter value")
		}
		// Parameter names are tokens, compared case-insensitively; the
		// first occurrence of each counts.
		switch {
		case strings.EqualFold(name, "ma") && !sawMA:
			sawMA = true
			if e.MaxAge, ok = parseDeltaSeconds(v); !ok {
				return e, p.fail("invalid ma")
			}
		case strings.EqualFold(name, "persist") && !sawPersist:
			// §3.1: values other than "1" MUST be ignored.
			sawPersist = true
			e.Persist = v == "1"
		}
		// §3: unknown parameters MUST be ignored.
	}
}

// parseDeltaSeconds parses delta-seconds = 1*DIGIT, capped at 2^31 (RFC
// 9111 §1.2.2).
func parseDeltaSeconds(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < 1<<31 {
			n = n*10 + uint64(c-'0')
		}
	}
	d := time.Duration(min(n, 1<<31)) * time.Second
	return d, true
}

// splitAuthority splits alt-authority = [ uri-host ] ":" port.
func splitAuthority(a string) (host string, port uint16, ok bool) {
	colon := strings.LastIndexByte(a, ':')
	if colon < 0 {
		return "", 0, false
	}
	host, ps := a[:colon], a[colon+1:]
	if ps == "" || len(ps) > 5 {
		return "", 0, false
	}
	n := 0
	for i := 0; i < len(ps); i++ {
		if ps[i] < '0' || ps[i] > '9' {
			return "", 0, false
		}
		n = n*10 + int(ps[i]-'0')
	}
	if n == 0 || n > 65535 {
		return "", 0, false
	}
	if strings.HasPrefix(host, "[") {
		// IP-literal: only IPv6 addresses are of use here.
		if !strings.HasSuffix(host, "]") {
			return "", 0, false
		}
		host = host[1 : len(host)-1]
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return "", 0, false
		}
		return host, uint16(n), true
	}
	// reg-name or IPv4address: unreserved / pct-encoded / sub-delims.
	for i := 0; i < len(host); i++ {
		if !isRegNameChar(host[i]) {
			return "", 0, false
		}
	}
	return host, uint16(n), true
}

// percentDecode decodes a protocol-id (RFC 7838 §3, RFC 3986 §2.1). It
// allocates only if the id has a "%".
func percentDecode(id string) (string, bool) {
	if strings.IndexByte(id, '%') < 0 {
		return id, true
	}
	b := make([]byte, 0, len(id))
	for i := 0; i < len(id); i++ {
		if id[i] != '%' {
			b = append(b, id[i])
			continue
		}
		if i+2 >= len(id) {
			return "", false
		}
		hi, ok1 := unhex(id[i+1])
		lo, ok2 := unhex(id[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	return string(b), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// H3 returns the entries for HTTP/3 (ALPN "h3", RFC 9114 §3.1), in the
// server's order of preference.
func H3(entries []Entry) []Entry {
	var out []Entry
	for _, e := range entries {
		if e.Protocol == "h3" {
			out = append(out, e)
		}
	}
	return out
}

const upperHex = "0123456789ABCDEF"

// AppendEntry appends e as an alt-value: protocol-id="host:port" followed
// by "; ma=N" unless MaxAge is DefaultMaxAge (a zero MaxAge is written as
// ma=0) and "; persist=1" if Persist. The host must be a reg-name, an IPv4
// address or an IPv6 address (written in brackets).
func AppendEntry(b []byte, e Entry) []byte {
	for i := 0; i < len(e.Protocol); i++ {
		c := e.Protocol[i]
		if tchar.Is(c) && c != '%' {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&0xf])
		}
	}
	b = append(b, '=', '"')
	if strings.IndexByte(e.Host, ':') >= 0 {
		b = append(b, '[')
		b = appendQuoted(b, e.Host)
		b = append(b, ']')
	} else {
		b = appendQuoted(b, e.Host)
	}
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(e.Port), 10)
	b = append(b, '"')
	if e.MaxAge != DefaultMaxAge {
		b = append(b, "; ma="...)
		b = strconv.AppendInt(b, int64(max(e.MaxAge, 0)/time.Second), 10)
	}
	if e.Persist {
		b = append(b, "; persist=1"...)
	}
	return b
}

// appendQuoted escapes what a quoted-string cannot hold as is.
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return b
}

// Format returns the Alt-Svc field value listing entries, or "clear" if
// there are none.
func Format(entries []Entry) string {
	if len(entries) == 0 {
		return "clear"
	}
	var b []byte
	for i, e := range entries {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = AppendEntry(b, e)
	}
	return string(b)
}

// Addr returns the host:port to connect to for e, on behalf of an origin
// whose host is originHost (RFC 7838 §2: an empty host means the origin's).
func (e Entry) Addr(originHost string) string {
	host := e.Host
	if host == "" {
		host = originHost
	}
	return net.JoinHostPort(host, strconv.Itoa(int(e.Port)))
}

// String returns e as an alt-value.
func (e Entry) String() string { return string(AppendEntry(nil, e)) }

// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
func isQdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || 0x23 <= c && c <= 0x5b || 0x5d <= c && c <= 0x7e || c >= 0x80
}

func isQuotedPairChar(c byte) bool { return c == '\t' || 0x20 <= c && c <= 0x7e || c >= 0x80 }

// RFC 3986 §3.2.2 reg-name characters, which include IPv4address.
func isRegNameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("-._~%!$&'()*+,;=", c) >= 0
}
