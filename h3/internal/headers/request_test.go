package headers

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/qpack"
)

func wantMessageError(t *testing.T, err error) {
	t.Helper()
	var e *frame.Error
	if !errors.As(err, &e) || e.Code != frame.ErrCodeMessageError {
		t.Fatalf("got %v, want H3_MESSAGE_ERROR", err)
	}
}

// fl builds a field list from name, value pairs.
func fl(kv ...string) []qpack.HeaderField {
	var f []qpack.HeaderField
	for i := 0; i < len(kv); i += 2 {
		f = append(f, qpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return f
}

func get(extra ...string) []qpack.HeaderField {
	return append(fl(":method", "GET", ":scheme", "https", ":authority", "example.com", ":path", "/"), fl(extra...)...)
}

func mustRequest(t *testing.T, method, target string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestRequestRoundTrip(t *testing.T) {
	req := mustRequest(t, "GET", "https://example.com:8443/a/b%20c?x=1&y=%2F")
	req.Header.Set("User-Agent", "skiff/1")
	req.Header.Set("Accept-Encoding", "gzip, br")
	req.Header.Add("X-Custom", "one")
	req.Header.Add("X-Custom", "two")
	req.Header.Set("Cookie", "a=1; b=2; c=3")
	req.Header.Set("Te", "trailers")
	fields, err := AppendRequest(nil, req)
	if err != nil {
		t.Fatal(err)
	}
	wantPrefix := fl(":method", "GET", ":scheme", "https", ":authority", "example.com:8443", ":path", "/a/b%20c?x=1&y=%2F")
	if !reflect.DeepEqual(fields[:4], wantPrefix) {
		t.Fatalf("pseudo-headers %v", fields[:4])
	}
	var cookies []string
	for _, f := range fields {
		if f.Name != strings.ToLower(f.Name) {
			t.Errorf("name %q not lowercase", f.Name)
		}
		if f.Name == "cookie" {
			cookies = append(cookies, f.Value)
		}
	}
	if !slices.Equal(cookies, []string{"a=1", "b=2", "c=3"}) {
		t.Errorf("cookie crumbs %q", cookies)
	}

	got, err := ParseRequest(fields, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "GET" || got.Host != "example.com:8443" || got.RequestURI != "/a/b%20c?x=1&y=%2F" ||
		got.URL.Path != "/a/b c" || got.URL.Query().Get("y") != "/" || got.ContentLength != -1 ||
		got.Proto != "HTTP/3.0" || got.ProtoMajor != 3 || got.ProtoMinor != 0 {
		t.Fatalf("parsed %+v", got)
	}
	want := http.Header{
		"User-Agent":      {"skiff/1"},
		"Accept-Encoding": {"gzip, br"},
		"X-Custom":        {"one", "two"},
		"Cookie":          {"a=1; b=2; c=3"},
		"Te":              {"trailers"},
	}
	if !reflect.DeepEqual(got.Header, want) {
		t.Fatalf("header %v, want %v", got.Header, want)
	}
	hr := got.HTTPRequest(t.Context(), http.NoBody)
	if hr.Method != "GET" || hr.Host != "example.com:8443" || hr.Context() != t.Context() || hr.Body != http.NoBody {
		t.Fatalf("http.Request %+v", hr)
	}
}

func TestAppendRequestDropsConnectionSpecific(t *testing.T) {
	req := mustRequest(t, "GET", "http://example.com/")
	for _, k := range []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "X-Hop"} {
		req.Header.Set(k, "x")
	}
	req.Header.Set("Connection", "close, X-Hop")
	req.Header.Set("Host", "ignored.example")
	req.Header.Set("Te", "gzip")
	req.Host = "host.example"
	fields, err := AppendRequest(nil, req)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fields, fl(":method", "GET", ":scheme", "http", ":authority", "host.example", ":path", "/")) {
		t.Fatalf("fields %v", fields)
	}
}

func TestAppendRequestTE(t *testing.T) {
	req := mustRequest(t, "GET", "https://example.com/")
	req.Header.Set("TE", "gzip, Trailers")
	fields, _ := AppendRequest(nil, req)
	if last := fields[len(fields)-1]; last.Name != "te" || last.Value != "trailers" {
		t.Fatalf("fields %v", fields)
	}
}

func TestAppendRequestContentLength(t *testing.T) {
	for _, c := range []struct {
		method string
		body   bool
		cl     int64
		want   string // "" = no content-length field
	}{
		{"GET", false, 0, ""},
		{"POST", false, 0, "0"},
		{"PUT", true, 10, "10"},
		{"POST", true, 0, ""}, // unknown length
		{"GET", true, 5, "5"},
	} {
		req := mustRequest(t, c.method, "https://example.com/")
		if c.body {
			req.Body = http.NoBody
			req.Body = readCloser{}
		}
		req.ContentLength = c.cl
		req.Header.Set("Content-Length", "999") // ignored: ContentLength rules
		fields, err := AppendRequest(nil, req)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, f := range fields {
			if f.Name == "content-length" {
				if got != "" {
					t.Fatal("two content-length fields")
				}
				got = f.Value
			}
		}
		if got != c.want {
			t.Errorf("%+v: content-length %q", c, got)
		}
	}
}

type readCloser struct{}

func (readCloser) Read([]byte) (int, error) { return 0, nil }
func (readCloser) Close() error             { return nil }

func TestAppendRequestTrailerAnnouncement(t *testing.T) {
	req := mustRequest(t, "POST", "https://example.com/")
	req.Trailer = http.Header{"X-Checksum": nil, "Grpc-Status": nil}
	fields, _ := AppendRequest(nil, req)
	found := false
	for _, f := range fields {
		if f.Name == "trailer" {
			found = f.Value == "grpc-status, x-checksum"
		}
	}
	if !found {
		t.Fatalf("fields %v", fields)
	}
}

func TestAppendRequestRefusesInvalid(t *testing.T) {
	bad := []func(*http.Request){
		func(r *http.Request) { r.Header.Set("X-Bad", "a\r\nInjected: 1") },
		func(r *http.Request) { r.Header.Set("X-Bad", "nul\x00") },
		func(r *http.Request) { r.Header["Bad Name"] = []string{"x"} },
		func(r *http.Request) { r.Method = "GET /" },
		func(r *http.Request) { r.Host = "user@example.com" },
		func(r *http.Request) { r.Host = "exa mple.com" },
		func(r *http.Request) { r.Header.Set("Cookie", "a=\x01") },
	}
	for i, f := range bad {
		req := mustRequest(t, "GET", "https://example.com/")
		f(req)
		if _, err := AppendRequest(nil, req); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
}

func TestConnectRequest(t *testing.T) {
	req := &http.Request{Method: "CONNECT", Host: "proxy.example:443", URL: &url.URL{Host: "proxy.example:443"}, Header: http.Header{}}
	fields, err := AppendRequest(nil, req)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fields, fl(":method", "CONNECT", ":authority", "proxy.example:443")) {
		t.Fatalf("fields %v", fields)
	}
	got, err := ParseRequest(fields, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "CONNECT" || got.URL.Host != "proxy.example:443" || got.RequestURI != "proxy.example:443" || got.Host != "proxy.example:443" {
		t.Fatalf("%+v", got)
	}
	// §4.4: :scheme and :path omitted, :authority present.
	wantMessageError(t, errOf(ParseRequest(fl(":method", "CONNECT", ":authority", "a:1", ":path", "/"), false)))
	wantMessageError(t, errOf(ParseRequest(fl(":method", "CONNECT", ":authority", "a:1", ":scheme", "https"), false)))
	wantMessageError(t, errOf(ParseRequest(fl(":method", "CONNECT"), false)))
}

// RFC 9220 / RFC 8441 §4: extended CONNECT.
func TestExtendedConnect(t *testing.T) {
	req := mustRequest(t, "CONNECT", "https://example.com/chat")
	req.Header.Set(ProtocolHeader, "websocket")
	req.Header.Set("Sec-Websocket-Version", "13")
	fields, err := AppendRequest(nil, req)
	if err != nil {
		t.Fatal(err)
	}
	want := fl(":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":authority", "example.com", ":path", "/chat", "sec-websocket-version", "13")
	if !reflect.DeepEqual(fields, want) {
		t.Fatalf("fields %v", fields)
	}
	got, err := ParseRequest(fields, true)
	if err != nil {
		t.Fatal(err)
	}
	if got.Protocol != "websocket" || got.URL.Path != "/chat" || got.Header.Get("Sec-Websocket-Version") != "13" {
		t.Fatalf("%+v", got)
	}
	if hr := got.HTTPRequest(t.Context(), nil); hr.Header.Get(ProtocolHeader) != "websocket" {
		t.Fatal(":protocol lost")
	}
	wantMessageError(t, errOf(ParseRequest(fields, false)))
	// :protocol with another method, or without :path.
	wantMessageError(t, errOf(ParseRequest(fl(":method", "GET", ":protocol", "websocket", ":scheme", "https", ":authority", "a", ":path", "/"), true)))
	wantMessageError(t, errOf(ParseRequest(fl(":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":authority", "a"), true)))
	wantMessageError(t, errOf(ParseRequest(fl(":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":path", "/"), true)))

	req.Method = "GET"
	if _, err := AppendRequest(nil, req); err == nil {
		t.Fatal(":protocol on GET encoded")
	}
}

func errOf(_ any, err error) error { return err }

// h3spec case 36: MUST send H3_MESSAGE_ERROR if a pseudo-header is
// duplicated [HTTP/3 4.1.1].
func TestH3Spec_Case36_DuplicatePseudoHeader(t *testing.T) {
	for _, name := range []string{":method", ":scheme", ":authority", ":path"} {
		f := fl(":method", "GET", ":scheme", "https", ":authority", "example.com", ":path", "/", name, "x")
		// keep the duplicate among the pseudo-headers
		f = append(f[:1], append(f[len(f)-1:], f[1:len(f)-1]...)...)
		wantMessageError(t, errOf(ParseRequest(f, true)))
	}
	wantMessageError(t, errOf(ParseRequest(fl(":method", "CONNECT", ":protocol", "a", ":protocol", "a", ":scheme", "https", ":authority", "a", ":path", "/"), true)))
	wantMessageError(t, errOf(ParseResponse(fl(":status", "200", ":status", "200"))))
}

// h3spec case 37: MUST send H3_MESSAGE_ERROR if mandatory pseudo-header
// fields are absent [HTTP/3 4.1.3].
func TestH3Spec_Case37_MissingPseudoHeader(t *testing.T) {
	all := get()
	for i := range all {
		if all[i].Name == ":authority" {
			continue // optional when Host is present; tested below
		}
		f := slices.Delete(slices.Clone(all), i, i+1)
		wantMessageError(t, errOf(ParseRequest(f, false)))
	}
	wantMessageError(t, errOf(ParseRequest(fl(":method", "GET", ":scheme", "https", ":path", "/"), false)))
	wantMessageError(t, errOf(ParseRequest(nil, false)))
	wantMessageError(t, errOf(ParseResponse(fl("content-type", "text/plain"))))
}

// h3spec case 38: MUST send H3_MESSAGE_ERROR if prohibited pseudo-header
// fields are present [HTTP/3 4.1.3].
func TestH3Spec_Case38_ProhibitedPseudoHeader(t *testing.T) {
	for _, f := range [][]qpack.HeaderField{
		append(fl(":status", "200"), get()...),
		fl(":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/", ":status", "200"),
		fl(":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/", ":foo", "bar"),
		fl(":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/", ":", "x"),
		fl(":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/", ":protocol", "websocket"),
	} {
		wantMessageError(t, errOf(ParseRequest(f, false)))
	}
	for _, name := range []string{":method", ":scheme", ":authority", ":path", ":protocol", ":bogus"} {
		wantMessageError(t, errOf(ParseResponse(fl(":status", "200", name, "x"))))
	}
}

// h3spec case 39: MUST send H3_MESSAGE_ERROR if pseudo-header fields exist
// after fields [HTTP/3 4.1.3].
func TestH3Spec_Case39_PseudoHeaderAfterField(t *testing.T) {
	wantMessageError(t, errOf(ParseRequest(fl(":method", "GET", ":scheme", "https", "accept", "*/*", ":authority", "a", ":path", "/"), false)))
	wantMessageError(t, errOf(ParseRequest(get("accept", "*/*", ":path", "/"), false)))
	wantMessageError(t, errOf(ParseResponse(fl(":status", "200", "server", "x", ":status", "200"))))
}

// One test per rule of RFC 9114 §4.1.2, §4.2 and §4.3 beyond the h3spec
// cases.
func TestParseRequestMalformed(t *testing.T) {
	for name, f := range map[string][]qpack.HeaderField{
		"uppercase name":             get("Accept", "*/*"),
		"uppercase pseudo":           fl(":METHOD", "GET", ":scheme", "https", ":authority", "a", ":path", "/"),
		"empty name":                 get("", "x"),
		"space in name":              get("x y", "z"),
		"colon in name":              get("x:y", "z"),
		"non-ASCII name":             get("x\xff", "z"),
		"CR in value":                get("x", "a\rb"),
		"LF in value":                get("x", "a\nb"),
		"NUL in value":               get("x", "a\x00b"),
		"other control in value":     get("x", "a\x01b"),
		"DEL in value":               get("x", "a\x7fb"),
		"leading space":              get("x", " a"),
		"trailing tab":               get("x", "a\t"),
		"only space":                 get("x", " "),
		"connection":                 get("connection", "close"),
		"keep-alive":                 get("keep-alive", "timeout=5"),
		"proxy-connection":           get("proxy-connection", "keep-alive"),
		"transfer-encoding":          get("transfer-encoding", "chunked"),
		"upgrade":                    get("upgrade", "websocket"),
		"te gzip":                    get("te", "gzip"),
		"te list":                    get("te", "trailers, gzip"),
		"content-length negative":    get("content-length", "-1"),
		"content-length not number":  get("content-length", "12a"),
		"content-length empty":       get("content-length", ""),
		"content-length plus":        get("content-length", "+5"),
		"content-length huge":        get("content-length", "99999999999999999999"),
		"content-length differ":      get("content-length", "5", "content-length", "6"),
		"content-length list differ": get("content-length", "5, 6"),
		"content-length empty item":  get("content-length", "5,,5"),
		"empty path":                 fl(":method", "GET", ":scheme", "https", ":authority", "a", ":path", ""),
		"relative path":              fl(":method", "GET", ":scheme", "https", ":authority", "a", ":path", "a/b"),
		"asterisk not OPTIONS":       fl(":method", "GET", ":scheme", "https", ":authority", "a", ":path", "*"),
		"space in path":              fl(":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/a b"),
		"empty authority":            fl(":method", "GET", ":scheme", "https", ":authority", "", ":path", "/"),
		"userinfo":                   fl(":method", "GET", ":scheme", "https", ":authority", "u@a", ":path", "/"),
		"bad authority char":         fl(":method", "GET", ":scheme", "https", ":authority", "a/b", ":path", "/"),
		"authority and host differ":  get("host", "b.example"),
		"empty host":                 fl(":method", "GET", ":scheme", "https", ":path", "/", "host", ""),
		"two hosts":                  fl(":method", "GET", ":scheme", "https", ":path", "/", "host", "a", "host", "a"),
		"bad method":                 fl(":method", "GE T", ":scheme", "https", ":authority", "a", ":path", "/"),
		"empty method":               fl(":method", "", ":scheme", "https", ":authority", "a", ":path", "/"),
		"bad scheme":                 fl(":method", "GET", ":scheme", "ht tp", ":authority", "a", ":path", "/"),
		"scheme with digit first":    fl(":method", "GET", ":scheme", "1http", ":authority", "a", ":path", "/"),
		"CR in pseudo value":         fl(":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/\r"),
	} {
		t.Run(name, func(t *testing.T) {
			wantMessageError(t, errOf(ParseRequest(f, true)))
		})
	}
}

func TestParseRequestValid(t *testing.T) {
	for name, c := range map[string]struct {
		f          []qpack.HeaderField
		host, path string
		cl         int64
	}{
		"host instead of authority": {fl(":method", "GET", ":scheme", "https", ":path", "/x", "host", "h.example"), "h.example", "/x", -1},
		"host equal to authority":   {get("host", "example.com"), "example.com", "/", -1},
		"OPTIONS asterisk":          {fl(":method", "OPTIONS", ":scheme", "https", ":authority", "a", ":path", "*"), "a", "*", -1},
		"content-length":            {get("content-length", "42"), "example.com", "/", 42},
		"content-length list":       {get("content-length", "42, 42", "content-length", "42"), "example.com", "/", 42},
		"content-length zero":       {get("content-length", "0"), "example.com", "/", 0},
		"te trailers":               {get("te", "Trailers"), "example.com", "/", -1},
		"empty value":               {get("x-empty", ""), "example.com", "/", -1},
		"tab inside value":          {get("x", "a\tb"), "example.com", "/", -1},
		"obs-text value":            {get("x", "caf\xc3\xa9"), "example.com", "/", -1},
		"other scheme no authority": {fl(":method", "GET", ":scheme", "foo", ":path", "bar"), "", "bar", -1},
		"IPv6 authority":            {fl(":method", "GET", ":scheme", "https", ":authority", "[::1]:443", ":path", "/"), "[::1]:443", "/", -1},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := ParseRequest(c.f, false)
			if err != nil {
				t.Fatal(err)
			}
			if r.Host != c.host || r.RequestURI != c.path || r.ContentLength != c.cl {
				t.Fatalf("%+v", r)
			}
			if _, ok := r.Header["Host"]; ok {
				t.Fatal("Host left in Header")
			}
		})
	}
}

// RFC 9114 §4.2.1: cookie lines are joined with "; ".
func TestParseRequestJoinsCookies(t *testing.T) {
	r, err := ParseRequest(get("cookie", "a=1", "accept", "*/*", "cookie", "b=2", "cookie", "c=3"), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header["Cookie"]; len(got) != 1 || got[0] != "a=1; b=2; c=3" {
		t.Fatalf("Cookie %q", got)
	}
	r, _ = ParseRequest(get("cookie", "a=1"), false)
	if got := r.Header["Cookie"]; len(got) != 1 || got[0] != "a=1" {
		t.Fatalf("Cookie %q", got)
	}
}

// Appending to one header value must not overwrite another's.
func TestParseRequestHeaderValuesIndependent(t *testing.T) {
	r, err := ParseRequest(get("a", "1", "b", "2", "a", "3"), false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Header["A"], []string{"1", "3"}) || !slices.Equal(r.Header["B"], []string{"2"}) {
		t.Fatalf("%v", r.Header)
	}
	r.Header["B"] = append(r.Header["B"], "x")
	if !slices.Equal(r.Header["A"], []string{"1", "3"}) {
		t.Fatalf("%v", r.Header)
	}
}

func TestFieldSectionSize(t *testing.T) {
	f := get("user-agent", "skiff")
	var want uint64
	for _, x := range f {
		want += x.Size()
	}
	if got := FieldSectionSize(f); got != want || got != uint64(7+3+7+5+10+11+5+1+10+5)+5*32 {
		t.Fatalf("size %d, want %d", got, want)
	}
	if FieldSectionSize(nil) != 0 {
		t.Fatal("empty section")
	}
}

func TestAppendRequestNeedsAuthority(t *testing.T) {
	req := &http.Request{Method: "GET", URL: &url.URL{Scheme: "https", Path: "/"}, Header: http.Header{}}
	if _, err := AppendRequest(nil, req); err == nil {
		t.Fatal("https request without authority encoded")
	}
	req.URL.Scheme = "foo"
	if _, err := AppendRequest(nil, req); err != nil {
		t.Fatal(err)
	}
}

// plainPath's paths are those url.ParseRequestURI makes a URL of with the
// path alone: the parse into Storage makes the same URL.
func TestPlainPath(t *testing.T) {
	paths := []string{"/", "/a/b.c", "/%41", "/a?b", "/a#b", "a", "", "*", "//x", "/a b"}
	for c := 0x21; c < 0x7f; c++ {
		paths = append(paths, "/a"+string(rune(c))+"b")
	}
	plain := 0
	for _, p := range paths {
		if !plainPath(p) {
			continue
		}
		plain++
		u, err := url.ParseRequestURI(p)
		if err != nil || !reflect.DeepEqual(*u, url.URL{Path: p}) {
			t.Errorf("plainPath(%q), but url.ParseRequestURI gives %#v, %v", p, u, err)
		}
		var r Request
		var st Storage
		fields := fl(":method", "GET", ":scheme", "https", ":authority", "a", ":path", p)
		if err := ParseRequestTo(&r, fields, false, &st); err != nil || r.URL != &st.URL || *r.URL != *u {
			t.Errorf("ParseRequestTo %q: URL %v (in storage: %v), %v", p, r.URL, r.URL == &st.URL, err)
		}
	}
	if plain < 20 {
		t.Errorf("only %d plain paths", plain)
	}
}

// TestCommonNamesNeedNoCheck checks what add and appendHeader take for
// granted of the common names they skip the checks for: each is a valid
// lowercase field name and not a connection-specific field.
func TestCommonNamesNeedNoCheck(t *testing.T) {
	for n, key := range canonicalNames {
		if err := checkFieldName(n); err != nil || isConnectionSpecific(n) || lowerNames[key] != n {
			t.Errorf("common name %q (key %q): checkFieldName %v, connection-specific %v", n, key, err, isConnectionSpecific(n))
		}
	}
}
