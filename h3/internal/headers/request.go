package headers

import (
	"context"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"

	"github.com/skiffnet/skiff/qpack"
)

// ProtocolHeader is the http.Request.Header key through which a client asks
// for an extended CONNECT (RFC 9220, RFC 8441 §4): its value becomes the
// :protocol pseudo-header. net/http's HTTP/2 client uses the same key.
const ProtocolHeader = ":protocol"

// AppendRequest appends the field lines of req's header section to dst
// (RFC 9114 §4.3.1): :method, :scheme, :authority and :path first — for
// CONNECT only :method and :authority (§4.4), for an extended CONNECT also
// :protocol, :scheme and :path (RFC 9220) — then the header fields,
// lowercased, without connection-specific fields (§4.2), with TE only as
// "trailers", Host folded into :authority, Cookie split into one line per
// cookie-pair (§4.2.1), Content-Length from req.ContentLength as net/http
// does, and a Trailer field announcing req.Trailer's keys.
//
// It returns an error, and the fields appended so far, for a request that
// cannot be sent as is: a method that is not a token, an authority with
// userinfo or invalid characters, or a header field name or value with
// invalid characters.
func AppendRequest(dst []qpack.HeaderField, req *http.Request) ([]qpack.HeaderField, error) {
	return AppendRequestWith(dst, req, nil)
}

// AppendRequestWith is AppendRequest with the Content-Length text from
// lengths (nil formats it anew).
func AppendRequestWith(dst []qpack.HeaderField, req *http.Request, lengths *LengthText) ([]qpack.HeaderField, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	if !isToken(method) {
		return dst, errInvalidField
	}
	host := req.Host
	if host == "" && req.URL != nil {
		host = req.URL.Host
	}
	if !validAuthority(host) || strings.IndexByte(host, '@') >= 0 {
		return dst, errInvalidField
	}
	protocol := "" // req.Header.Get(ProtocolHeader), whose key Get would leave as it is
	if vs := req.Header[ProtocolHeader]; len(vs) > 0 {
		protocol = vs[0]
	}

	dst = append(dst, qpack.HeaderField{Name: ":method", Value: method})
	if method == http.MethodConnect && protocol == "" {
		if host == "" {
			return dst, errInvalidField
		}
		dst = append(dst, qpack.HeaderField{Name: ":authority", Value: host})
	} else {
		if protocol != "" {
			if method != http.MethodConnect || !isToken(protocol) {
				return dst, errInvalidField
			}
			dst = append(dst, qpack.HeaderField{Name: ":protocol", Value: protocol})
		}
		scheme, path := "https", "/"
		if req.URL != nil {
			if req.URL.Scheme != "" {
				scheme = req.URL.Scheme
			}
			path = req.URL.RequestURI()
		}
		if !validScheme(scheme) || !validPath(path) {
			return dst, errInvalidField
		}
		if host == "" && isHTTPScheme(scheme) {
			// §4.3.1: the peer must refuse it without :authority or Host.
			return dst, errInvalidField
		}
		dst = append(dst, qpack.HeaderField{Name: ":scheme", Value: scheme})
		if host != "" {
			dst = append(dst, qpack.HeaderField{Name: ":authority", Value: host})
		}
		dst = append(dst, qpack.HeaderField{Name: ":path", Value: path})
	}

	var err error
	dst, err = appendHeader(dst, req.Header, skipInRequest)
	if err != nil {
		return dst, err
	}
	if te := req.Header["Te"]; len(te) > 0 && hasTrailersToken(te) {
		dst = append(dst, qpack.HeaderField{Name: "te", Value: "trailers"})
	}
	for _, c := range req.Header["Cookie"] {
		// RFC 9114 §4.2.1: the Cookie field MAY be split into separate field
		// lines, each with one or more cookie-pairs, for better compression.
		for crumb := range strings.SplitSeq(c, "; ") {
			if crumb = textproto.TrimString(crumb); crumb == "" {
				continue
			}
			if !validFieldValue(crumb) {
				return dst, errInvalidField
			}
			dst = append(dst, qpack.HeaderField{Name: "cookie", Value: crumb})
		}
	}
	if len(req.Trailer) > 0 {
		keys := make([]string, 0, len(req.Trailer))
		for k := range req.Trailer {
			k = lowerName(k)
			if !isToken(k) {
				return dst, errInvalidField
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, qpack.HeaderField{Name: "trailer", Value: strings.Join(keys, ", ")})
	}
	if cl := requestContentLength(req); cl > 0 || cl == 0 && methodExpectsBody(method) {
		dst = append(dst, qpack.HeaderField{Name: "content-length", Value: lengths.Format(cl)})
	}
	return dst, nil
}

// skipInRequest leaves out what AppendRequest writes itself.
func skipInRequest(name string) bool {
	switch name {
	case "host", "te", "cookie", "content-length", "trailer":
		return true
	}
	return false
}

func hasTrailersToken(values []string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			// Strip any parameters ("trailers;q=1" is not valid, but be safe).
			if i := strings.IndexByte(t, ';'); i >= 0 {
				t = t[:i]
			}
			if strings.EqualFold(textproto.TrimString(t), "trailers") {
				return true
			}
		}
	}
	return false
}

// requestContentLength follows net/http: no body is a length of 0, a body
// with ContentLength 0 is of unknown length (-1).
func requestContentLength(req *http.Request) int64 {
	if req.Body == nil || req.Body == http.NoBody {
		return 0
	}
	if req.ContentLength != 0 {
		return req.ContentLength
	}
	return -1
}

// methodExpectsBody: net/http sends "content-length: 0" for an empty body
// only with these methods.
func methodExpectsBody(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}

// Request is a request received by a server, validated, with the fields of
// http.Request that the header section determines.
type Request struct {
	Method     string
	URL        *url.URL
	Proto      string // "HTTP/3.0"
	ProtoMajor int    // 3
	ProtoMinor int    // 0
	Header     http.Header
	// ContentLength is the Content-Length field, or -1 when absent. A server
	// that sees the stream end right after HEADERS can set it to 0.
	ContentLength int64
	// Host is :authority, or the Host field when :authority is absent.
	// Header never holds Host.
	Host string
	// RequestURI is :path, or :authority for CONNECT.
	RequestURI string
	// Protocol is :protocol of an extended CONNECT (RFC 9220), else "".
	Protocol string
	// Scheme is :scheme ("" for CONNECT). Like net/http's servers, URL
	// holds only the path and query.
	Scheme string
}

// HTTPRequest returns an *http.Request made of r with the given context and
// body; RemoteAddr, TLS and Trailer are the caller's.
func (r *Request) HTTPRequest(ctx context.Context, body io.ReadCloser) *http.Request {
	req := http.Request{
		Method:        r.Method,
		URL:           r.URL,
		Proto:         r.Proto,
		ProtoMajor:    r.ProtoMajor,
		ProtoMinor:    r.ProtoMinor,
		Header:        r.Header,
		Body:          body,
		ContentLength: r.ContentLength,
		Host:          r.Host,
		RequestURI:    r.RequestURI,
	}
	if r.Protocol != "" {
		req.Header[ProtocolHeader] = []string{r.Protocol}
	}
	return req.WithContext(ctx) // the one copy that escapes
}

// Storage is memory a parse may use rather than allocate: room for the
// values of a few header fields, the request's URL, and the header map
// (when Header is not nil; it must be empty).
type Storage struct {
	Values [6]string
	URL    url.URL
	Header http.Header
}

// plainPath reports whether url.ParseRequestURI(p) is &url.URL{Path: p}:
// p is an absolute path of characters that are neither escaped nor
// escapable (RFC 3986 unreserved characters and the sub-delimiters that
// Go's url package leaves as they are), with no query or fragment.
func plainPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '/', c == '$', c == '&', c == '+', c == ',', c == ':', c == ';', c == '=', c == '@':
		default:
			return false
		}
	}
	return true
}

// ParseRequest validates the decoded header section of a request (RFC 9114
// §4.1.2, §4.2, §4.3, §4.4; RFC 9220) and returns it. Any violation is a
// malformed request: an *frame.Error with code H3_MESSAGE_ERROR, a stream
// error. allowExtendedConnect says whether we sent
// SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, without which :protocol is refused.
func ParseRequest(fields []qpack.HeaderField, allowExtendedConnect bool) (*Request, error) {
	r := new(Request)
	if err := ParseRequestTo(r, fields, allowExtendedConnect, nil); err != nil {
		return nil, err
	}
	return r, nil
}

// ParseRequestTo is ParseRequest into r, which the caller provides (and
// may keep on its stack), with the header's values and the URL in st when
// it is not nil: the request then shares the caller's storage.
func ParseRequestTo(r *Request, fields []qpack.HeaderField, allowExtendedConnect bool, st *Storage) error {
	var vals []string
	var h http.Header
	if st != nil {
		vals, h = st.Values[:], st.Header
	}
	var method, scheme, authority, path, protocol string
	var seen uint8 // bit per pseudo-header, for duplicates
	const (
		sawMethod = 1 << iota
		sawScheme
		sawAuthority
		sawPath
		sawProtocol
	)
	i := 0
	for ; i < len(fields); i++ {
		f := fields[i]
		if f.Name == "" || f.Name[0] != ':' {
			break
		}
		var bit uint8
		var dst *string
		switch f.Name {
		case ":method":
			bit, dst = sawMethod, &method
		case ":scheme":
			bit, dst = sawScheme, &scheme
		case ":authority":
			bit, dst = sawAuthority, &authority
		case ":path":
			bit, dst = sawPath, &path
		case ":protocol":
			bit, dst = sawProtocol, &protocol
		case ":status":
			return malformed("response pseudo-header in a request") // §4.3
		default:
			return malformed("undefined pseudo-header") // §4.3
		}
		if seen&bit != 0 {
			return malformed("duplicate pseudo-header") // §4.3.1: exactly one
		}
		seen |= bit
		*dst = f.Value
	}

	b := newHeaderBuilder(len(fields)-i, vals, h)
	var hostField string
	sawHost := false
	for _, f := range fields[i:] {
		if f.Name != "" && f.Name[0] == ':' {
			return malformed("pseudo-header after a regular field") // §4.3
		}
		if f.Name == "host" {
			if sawHost {
				return malformed("more than one Host field")
			}
			if !validFieldValue(f.Value) {
				return malformed("invalid character in field value")
			}
			hostField, sawHost = f.Value, true
			continue
		}
		if err := b.add(f.Name, f.Value, true); err != nil {
			return err
		}
	}

	// §4.3.1, §4.4: mandatory pseudo-headers and their values.
	if seen&sawMethod == 0 {
		return malformed("missing :method")
	}
	if !isToken(method) {
		return malformed("invalid :method")
	}
	isConnect := method == http.MethodConnect
	if seen&sawProtocol != 0 {
		if !allowExtendedConnect {
			return malformed(":protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL")
		}
		if !isConnect {
			return malformed(":protocol in a request that is not CONNECT")
		}
		if !isToken(protocol) {
			return malformed("invalid :protocol")
		}
	}
	if isConnect && seen&sawProtocol == 0 {
		// §4.4: :scheme and :path omitted, :authority the target.
		if seen&(sawScheme|sawPath) != 0 {
			return malformed(":scheme or :path in a CONNECT request")
		}
		if authority == "" {
			return malformed("CONNECT without :authority")
		}
		// RFC 9110 §9.3.6: the target is authority-form, host and port:
		// no userinfo.
		if strings.IndexByte(authority, '@') >= 0 {
			return malformed("userinfo in a CONNECT :authority")
		}
	} else {
		if seen&sawScheme == 0 {
			return malformed("missing :scheme")
		}
		if seen&sawPath == 0 {
			return malformed("missing :path")
		}
		if isConnect && seen&sawAuthority == 0 {
			return malformed("extended CONNECT without :authority")
		}
	}
	if seen&sawScheme != 0 && !validScheme(scheme) {
		return malformed("invalid :scheme")
	}
	if !validAuthority(authority) || !validAuthority(hostField) {
		return malformed("invalid :authority or Host")
	}
	if seen&sawPath != 0 && !validPath(path) {
		return malformed("invalid :path")
	}
	if isHTTPScheme(scheme) {
		// §4.3.1: an authority is mandatory, non-empty, without userinfo,
		// and :authority and Host agree when both are present.
		if seen&sawAuthority == 0 && !sawHost {
			return malformed("no :authority or Host for an http or https URI")
		}
		if seen&sawAuthority != 0 && authority == "" || sawHost && hostField == "" {
			return malformed("empty :authority or Host")
		}
		if seen&sawAuthority != 0 && sawHost && authority != hostField {
			return malformed(":authority and Host differ")
		}
		if strings.IndexByte(authority, '@') >= 0 || strings.IndexByte(hostField, '@') >= 0 {
			return malformed("userinfo in :authority")
		}
		// §4.3.1: :path MUST NOT be empty; it is path-absolute, or "*" for
		// OPTIONS (RFC 9110 §7.1).
		if path == "" {
			return malformed("empty :path")
		}
		if path[0] != '/' && (path != "*" || method != http.MethodOptions) {
			return malformed(":path is not an absolute path")
		}
	}

	*r = Request{
		Method:        method,
		Proto:         "HTTP/3.0",
		ProtoMajor:    3,
		Header:        b.finish(fields[i:]),
		ContentLength: b.contentLength,
		Host:          authority,
		Protocol:      protocol,
		Scheme:        scheme,
	}
	if r.Host == "" {
		r.Host = hostField
	}
	if isConnect && protocol == "" {
		r.URL = &url.URL{Host: authority}
		r.RequestURI = authority
	} else {
		var u *url.URL
		var err error
		if st != nil && plainPath(path) {
			// What url.ParseRequestURI makes of it, in the caller's storage.
			st.URL = url.URL{Path: path}
			u = &st.URL
		} else {
			u, err = url.ParseRequestURI(path)
		}
		if err != nil && !isHTTPScheme(scheme) {
			// Other schemes (§4.3.1) need not have an absolute path.
			u, err = url.Parse(path)
		}
		if err != nil {
			return malformed("invalid :path")
		}
		r.URL = u
		r.RequestURI = path
	}
	return nil
}
