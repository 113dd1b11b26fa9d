package headers

import (
	"net/http"
	"net/textproto"
	"reflect"
	"slices"
	"testing"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/qpack"
)

// decodeFields turns fuzz bytes into a field list: each field is a length
// byte, the name, a length byte, the value.
func decodeFields(b []byte) []qpack.HeaderField {
	var f []qpack.HeaderField
	for len(b) > 0 {
		n := int(b[0])
		b = b[1:]
		n = min(n, len(b))
		name := string(b[:n])
		b = b[n:]
		if len(b) == 0 {
			f = append(f, qpack.HeaderField{Name: name})
			break
		}
		m := min(int(b[0]), len(b)-1)
		f = append(f, qpack.HeaderField{Name: name, Value: string(b[1 : 1+m])})
		b = b[1+m:]
	}
	return f
}

func encodeFields(f []qpack.HeaderField) []byte {
	var b []byte
	for _, x := range f {
		b = append(b, byte(len(x.Name)))
		b = append(b, x.Name...)
		b = append(b, byte(len(x.Value)))
		b = append(b, x.Value...)
	}
	return b
}

func checkTyped(t *testing.T, err error) {
	t.Helper()
	if frame.ErrorCode(err) != frame.ErrCodeMessageError {
		t.Fatalf("error %v is not H3_MESSAGE_ERROR", err)
	}
}

// FuzzRequestFields parses arbitrary request field lists. An accepted
// request, sent again through AppendRequest, parses to the same request.
func FuzzRequestFields(f *testing.F) {
	f.Add(encodeFields(get("user-agent", "x", "cookie", "a=1", "cookie", "b=2", "content-length", "5")), false)
	f.Add(encodeFields(fl(":method", "CONNECT", ":authority", "a:443")), false)
	f.Add(encodeFields(fl(":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":authority", "a", ":path", "/chat")), true)
	f.Add(encodeFields(fl(":method", "OPTIONS", ":scheme", "http", ":path", "*", "host", "h")), false)
	f.Add(encodeFields(get("te", "trailers", ":path", "/")), false)
	f.Fuzz(func(t *testing.T, b []byte, ext bool) {
		r, err := ParseRequest(decodeFields(b), ext)
		if err != nil {
			checkTyped(t, err)
			return
		}
		req := r.HTTPRequest(t.Context(), nil)
		req.URL.Scheme = r.Scheme
		fields, err := AppendRequest(nil, req)
		if err != nil {
			t.Fatalf("accepted request cannot be re-encoded: %v", err)
		}
		r2, err := ParseRequest(fields, ext)
		if err != nil {
			t.Fatalf("re-encoded request refused: %v\n%v", err, fields)
		}
		// Paths of other schemes need not be absolute, and net/url does not
		// give them back unchanged ("" becomes "/").
		samePath := !isHTTPScheme(r.Scheme) ||
			r2.URL.Path == r.URL.Path && r2.URL.RawQuery == r.URL.RawQuery && r2.URL.Host == r.URL.Host
		if r2.Method != r.Method || r2.Host != r.Host || r2.Protocol != r.Protocol || r2.Scheme != r.Scheme || !samePath {
			t.Fatalf("%+v\nbecame %+v", r, r2)
		}
		// Cookie crumbs, TE case and Content-Length are normalized.
		for _, h := range []string{"Cookie", "Te", "Content-Length", ProtocolHeader} {
			delete(r.Header, h)
			delete(r2.Header, h)
		}
		if !reflect.DeepEqual(r.Header, r2.Header) {
			t.Fatalf("header %v\nbecame %v", r.Header, r2.Header)
		}
	})
}

// FuzzResponseFields parses arbitrary response and trailer field lists; an
// accepted response re-encodes to the same response.
func FuzzResponseFields(f *testing.F) {
	f.Add(encodeFields(fl(":status", "200", "content-type", "text/plain", "content-length", "3")))
	f.Add(encodeFields(fl(":status", "103", "link", "</a>; rel=preload")))
	f.Add(encodeFields(fl("grpc-status", "0")))
	f.Add(encodeFields(fl(":status", "101")))
	f.Fuzz(func(t *testing.T, b []byte) {
		fields := decodeFields(b)
		if tr, err := ParseTrailers(fields); err != nil {
			checkTyped(t, err)
		} else {
			f2, err := AppendTrailers(nil, tr)
			if err != nil {
				t.Fatalf("accepted trailers cannot be re-encoded: %v", err)
			}
			if tr2, err := ParseTrailers(f2); err != nil || !sameHeader(tr, tr2) {
				t.Fatalf("trailers %v became %v, %v", tr, tr2, err)
			}
		}
		r, err := ParseResponse(fields)
		if err != nil {
			checkTyped(t, err)
			return
		}
		f2, err := AppendResponse(nil, r.StatusCode, r.Header)
		if err != nil {
			t.Fatalf("accepted response cannot be re-encoded: %v", err)
		}
		r2, err := ParseResponse(f2)
		if err != nil || r2.StatusCode != r.StatusCode || r2.ContentLength != r.ContentLength || !sameHeader(r.Header, r2.Header) {
			t.Fatalf("%+v became %+v, %v", r, r2, err)
		}
	})
}

// sameHeader compares headers up to the order of keys (map iteration)
// while keeping the order of values of one key.
func sameHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[textproto.CanonicalMIMEHeaderKey(k)]) {
			return false
		}
	}
	return true
}
