package headers

import (
	"errors"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/skiffnet/skiff/qpack"
)

// lowerNames maps the canonical form of common field names to their
// lowercase form, so that encoding a typical header costs no allocation;
// canonicalNames maps them back, so that decoding one costs a map lookup
// rather than textproto's canonicalization.
var lowerNames, canonicalNames = map[string]string{}, map[string]string{}

func init() {
	for _, n := range []string{
		"accept", "accept-charset", "accept-encoding", "accept-language", "accept-ranges",
		"access-control-allow-credentials", "access-control-allow-headers",
		"access-control-allow-methods", "access-control-allow-origin",
		"access-control-expose-headers", "access-control-max-age", "access-control-request-headers",
		"access-control-request-method", "age", "allow", "alt-svc", "authorization",
		"cache-control", "content-disposition", "content-encoding", "content-language",
		"content-length", "content-location", "content-range", "content-security-policy",
		"content-type", "cookie", "date", "early-data", "etag", "expect", "expires", "forwarded",
		"from", "if-match", "if-modified-since", "if-none-match", "if-range",
		"if-unmodified-since", "last-modified", "link", "location", "max-forwards", "origin",
		"priority", "proxy-authenticate", "proxy-authorization", "purpose", "range", "referer",
		"refresh", "retry-after", "server", "set-cookie", "strict-transport-security", "te",
		"timing-allow-origin", "trailer", "upgrade-insecure-requests", "user-agent", "vary", "via",
		"www-authenticate", "x-content-type-options", "x-forwarded-for", "x-frame-options",
		"x-xss-protection", "x-requested-with", "x-request-id",
	} {
		lowerNames[http.CanonicalHeaderKey(n)] = n
		canonicalNames[n] = http.CanonicalHeaderKey(n)
	}
}

// lowerName returns the HTTP/3 form of a header key: RFC 9114 §4.2,
// "Characters in field names MUST be converted to lowercase prior to their
// encoding."
func lowerName(k string) string {
	name, _ := lowerNameKnown(k)
	return name
}

// lowerNameKnown is lowerName, and whether k is one of the common names:
// a token, and not a connection-specific field, with no need to check.
func lowerNameKnown(k string) (name string, known bool) {
	if l, ok := lowerNames[k]; ok {
		return l, true
	}
	return strings.ToLower(k), false // returns k itself when already lowercase
}

// errInvalidField is returned when encoding a header we must not send: the
// peer would treat the message as malformed.
var errInvalidField = errors.New("h3: invalid header field name or value")

// appendHeader appends the fields of h to dst, lowercased and validated,
// leaving out pseudo-header keys, connection-specific fields, the fields
// Connection nominates (RFC 9110 §7.6.1) and the keys skip says to.
func appendHeader(dst []qpack.HeaderField, h http.Header, skip func(lower string) bool) ([]qpack.HeaderField, error) {
	var nominated []string
	if c := h["Connection"]; len(c) > 0 {
		for _, v := range c {
			for t := range strings.SplitSeq(v, ",") {
				if t = textproto.TrimString(t); t != "" {
					nominated = append(nominated, strings.ToLower(t))
				}
			}
		}
	}
	for k, vs := range h {
		if k == "" || k[0] == ':' {
			continue
		}
		name, known := lowerNameKnown(k)
		if !known && isConnectionSpecific(name) || skip != nil && skip(name) || contains(nominated, name) {
			continue
		}
		if !known && !isToken(name) {
			return dst, errInvalidField
		}
		for _, v := range vs {
			v = textproto.TrimString(v)
			if !validFieldValue(v) {
				return dst, errInvalidField
			}
			dst = append(dst, qpack.HeaderField{Name: name, Value: v})
		}
	}
	return dst, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// headerBuilder collects regular fields into an http.Header with one
// backing array for all values.
type headerBuilder struct {
	h    http.Header
	vals []string
	// cookie lines: the first, how many, and their total length
	cookie      string
	cookieCount int
	cookieLen   int
	// content-length values seen, checked at the end
	contentLength    int64
	hasContentLength bool
}

// newHeaderBuilder returns a builder for n fields; their values go in
// store when it has room for them, else in a slice of their own. The
// header is h, which must be empty, or a new map when h is nil.
func newHeaderBuilder(n int, store []string, h http.Header) headerBuilder {
	vals := store[:0]
	if cap(vals) < n {
		vals = make([]string, 0, n)
	}
	if h == nil {
		h = make(http.Header, n)
	}
	return headerBuilder{h: h, vals: vals, contentLength: -1}
}

// add validates one regular field and records it. isRequest allows TE.
func (b *headerBuilder) add(name, value string, isRequest bool) error {
	// A common name is a valid lowercase name, not connection-specific:
	// one map lookup checks it and finds its key.
	key, known := canonicalNames[name]
	if !known {
		if err := checkFieldName(name); err != nil {
			return err
		}
	}
	if !validFieldValue(value) {
		return malformed("invalid character in field value")
	}
	if !known && isConnectionSpecific(name) {
		return malformed("connection-specific field")
	}
	switch name {
	case "te":
		// RFC 9114 §4.2: TE MAY be present in a request header, with no
		// value other than "trailers".
		if !isRequest || !strings.EqualFold(value, "trailers") {
			return malformed("TE field other than trailers in a request")
		}
	case "content-length":
		if err := b.addContentLength(value); err != nil {
			return err
		}
	case "cookie":
		// RFC 9114 §4.2.1: cookie field lines are concatenated with "; ".
		if b.cookieCount == 0 {
			b.cookie = value
		}
		b.cookieCount++
		b.cookieLen += len(value)
		return nil
	}
	if !known {
		key = textproto.CanonicalMIMEHeaderKey(name)
	}
	b.vals = append(b.vals, value)
	i := len(b.vals) - 1
	if old, ok := b.h[key]; ok {
		b.h[key] = append(old, value)
	} else {
		b.h[key] = b.vals[i : i+1 : i+1]
	}
	return nil
}

// addContentLength checks a Content-Length field value (RFC 9110 §8.6):
// 1*DIGIT, or a list of identical such values; every line must agree.
func (b *headerBuilder) addContentLength(v string) error {
	for part := range strings.SplitSeq(v, ",") {
		n, ok := parseLength(textproto.TrimString(part))
		if !ok {
			return malformed("invalid Content-Length")
		}
		if b.hasContentLength && n != b.contentLength {
			return malformed("differing Content-Length values")
		}
		b.contentLength, b.hasContentLength = n, true
	}
	return nil
}

// parseLength parses v when it is 1 to 18 digits (so the value fits in an
// int64).
func parseLength(v string) (int64, bool) {
	if v == "" || len(v) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// finish returns the header, with the cookie lines of fields joined into one
// value with "; " (RFC 9114 §4.2.1).
func (b *headerBuilder) finish(fields []qpack.HeaderField) http.Header {
	if b.cookieCount == 0 {
		return b.h
	}
	v := b.cookie
	if b.cookieCount > 1 {
		var sb strings.Builder
		sb.Grow(b.cookieLen + 2*(b.cookieCount-1))
		for _, f := range fields {
			if f.Name == "cookie" {
				if sb.Len() > 0 {
					sb.WriteString("; ")
				}
				sb.WriteString(f.Value)
			}
		}
		v = sb.String()
	}
	b.vals = append(b.vals, v)
	i := len(b.vals) - 1
	b.h["Cookie"] = b.vals[i : i+1 : i+1]
	return b.h
}
