package headers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/skiffnet/skiff/qpack"
)

// statusCodes holds "100101102…599", so that a :status value is a substring
// and encoding a response allocates nothing for it.
var statusCodes = func() string {
	var b strings.Builder
	for c := 100; c <= 599; c++ {
		b.WriteString(strconv.Itoa(c))
	}
	return b.String()
}()

func statusString(code int) string {
	i := (code - 100) * 3
	return statusCodes[i : i+3]
}

var errInvalidStatus = errors.New("h3: invalid status code")

// AppendResponse appends the field lines of a response header section:
// :status first (RFC 9114 §4.3.2), then h's fields lowercased, without
// pseudo-header keys, connection-specific fields (§4.2) or keys with
// net/http's http.TrailerPrefix. status must be in 100-599 and not 101,
// which HTTP/3 does not support (§4.5).
func AppendResponse(dst []qpack.HeaderField, status int, h http.Header) ([]qpack.HeaderField, error) {
	if status < 100 || status > 599 || status == http.StatusSwitchingProtocols {
		return dst, errInvalidStatus
	}
	dst = append(dst, qpack.HeaderField{Name: ":status", Value: statusString(status)})
	return appendHeader(dst, h, skipInResponse)
}

func skipInResponse(name string) bool {
	return name == "te" || strings.HasPrefix(name, "trailer:")
}

// Response is a response header section received by a client, validated.
type Response struct {
	StatusCode int
	Header     http.Header
	// ContentLength is the Content-Length field, or -1 when absent.
	ContentLength int64
}

// Informational reports an interim (1xx) response, after which another
// header section comes (RFC 9114 §4.1).
func (r *Response) Informational() bool { return r.StatusCode < 200 }

// ParseResponse validates the decoded header section of a response (RFC
// 9114 §4.1.2, §4.2, §4.3.2) and returns it. Any violation — :status absent,
// duplicated or not three digits in 100-599, 101 (§4.5), a request or
// undefined pseudo-header, a pseudo-header after a regular field, an
// invalid or connection-specific field, a bad Content-Length — is an
// *frame.Error with code H3_MESSAGE_ERROR: clients MUST NOT accept a
// malformed response.
func ParseResponse(fields []qpack.HeaderField) (*Response, error) {
	r := new(Response)
	if err := ParseResponseTo(r, fields, nil); err != nil {
		return nil, err
	}
	return r, nil
}

// ParseResponseTo is ParseResponse into r, which the caller provides (and
// may keep on its stack). The header's values go in vals when it has room
// for them: the header then shares the caller's storage.
func ParseResponseTo(r *Response, fields []qpack.HeaderField, vals []string) error {
	status := ""
	sawStatus := false
	i := 0
	for ; i < len(fields); i++ {
		f := fields[i]
		if f.Name == "" || f.Name[0] != ':' {
			break
		}
		switch f.Name {
		case ":status":
			if sawStatus {
				return malformed("duplicate :status")
			}
			status, sawStatus = f.Value, true
		case ":method", ":scheme", ":authority", ":path", ":protocol":
			return malformed("request pseudo-header in a response")
		default:
			return malformed("undefined pseudo-header")
		}
	}
	if !sawStatus {
		return malformed("missing :status")
	}
	code := 0
	if len(status) != 3 {
		return malformed("invalid :status")
	}
	for j := 0; j < 3; j++ {
		c := status[j]
		if c < '0' || c > '9' {
			return malformed("invalid :status")
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 || code > 599 {
		return malformed(":status out of range")
	}
	if code == http.StatusSwitchingProtocols {
		return malformed("101 Switching Protocols in HTTP/3") // §4.5
	}
	b := newHeaderBuilder(len(fields)-i, vals, nil)
	for _, f := range fields[i:] {
		if f.Name != "" && f.Name[0] == ':' {
			return malformed("pseudo-header after a regular field")
		}
		if err := b.add(f.Name, f.Value, false); err != nil {
			return err
		}
	}
	*r = Response{StatusCode: code, Header: b.finish(fields[i:]), ContentLength: b.contentLength}
	return nil
}

// AppendTrailers appends the field lines of a trailer section: h's fields
// lowercased (http.TrailerPrefix removed from keys), without pseudo-header
// keys or connection-specific fields.
func AppendTrailers(dst []qpack.HeaderField, h http.Header) ([]qpack.HeaderField, error) {
	for k, vs := range h {
		k = strings.TrimPrefix(k, http.TrailerPrefix)
		if k == "" || k[0] == ':' {
			continue
		}
		name := lowerName(k)
		if isConnectionSpecific(name) || name == "te" {
			continue
		}
		if !isToken(name) {
			return dst, errInvalidField
		}
		for _, v := range vs {
			v = strings.Trim(v, " \t")
			if !validFieldValue(v) {
				return dst, errInvalidField
			}
			dst = append(dst, qpack.HeaderField{Name: name, Value: v})
		}
	}
	return dst, nil
}

// ParseTrailers validates a decoded trailer section and returns its fields.
// A pseudo-header (RFC 9114 §4.3: "Pseudo-header fields MUST NOT appear in
// trailer sections"), an invalid or connection-specific field is an
// *frame.Error with code H3_MESSAGE_ERROR.
func ParseTrailers(fields []qpack.HeaderField) (http.Header, error) {
	b := newHeaderBuilder(len(fields), nil, nil)
	for _, f := range fields {
		if f.Name != "" && f.Name[0] == ':' {
			return nil, malformed("pseudo-header in a trailer section")
		}
		if err := b.add(f.Name, f.Value, false); err != nil {
			return nil, err
		}
	}
	return b.finish(fields), nil
}
