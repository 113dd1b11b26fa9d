package headers

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/skiffnet/skiff/qpack"
)

func TestResponseRoundTrip(t *testing.T) {
	h := http.Header{
		"Content-Type":   {"text/html; charset=utf-8"},
		"Content-Length": {"1234"},
		"Set-Cookie":     {"a=1", "b=2"},
		"Connection":     {"close"},
		"Te":             {"trailers"},
		"X-Trimmed":      {" padded "},
	}
	fields, err := AppendResponse(nil, 404, h)
	if err != nil {
		t.Fatal(err)
	}
	if fields[0] != (qpack.HeaderField{Name: ":status", Value: "404"}) {
		t.Fatalf(":status not first: %v", fields)
	}
	r, err := ParseResponse(fields)
	if err != nil {
		t.Fatal(err)
	}
	want := http.Header{
		"Content-Type":   {"text/html; charset=utf-8"},
		"Content-Length": {"1234"},
		"Set-Cookie":     {"a=1", "b=2"},
		"X-Trimmed":      {"padded"},
	}
	if r.StatusCode != 404 || r.ContentLength != 1234 || r.Informational() || !reflect.DeepEqual(r.Header, want) {
		t.Fatalf("%+v", r)
	}
}

func TestAppendResponseStatus(t *testing.T) {
	for _, code := range []int{100, 103, 200, 204, 301, 404, 500, 599} {
		f, err := AppendResponse(nil, code, nil)
		if err != nil {
			t.Fatal(code, err)
		}
		r, err := ParseResponse(f)
		if err != nil || r.StatusCode != code || r.Informational() != (code < 200) {
			t.Fatalf("%d: %+v %v", code, r, err)
		}
	}
	for _, code := range []int{0, 99, 101, 600, 1000, -200} {
		if _, err := AppendResponse(nil, code, nil); err == nil {
			t.Errorf("status %d accepted", code)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = AppendResponse(make([]qpack.HeaderField, 0, 4), 200, nil) }); n != 0 {
		t.Fatalf("%v allocations for :status", n)
	}
}

func TestAppendResponseRefusesInvalid(t *testing.T) {
	for _, h := range []http.Header{
		{"X": {"a\nb"}},
		{"Bad Name": {"x"}},
		{"X": {"\x00"}},
	} {
		if _, err := AppendResponse(nil, 200, h); err == nil {
			t.Errorf("%v accepted", h)
		}
	}
	f, err := AppendResponse(nil, 200, http.Header{"Trailer:X-Sum": {"1"}, ":Weird": {"1"}})
	if err != nil || len(f) != 1 {
		t.Fatalf("%v %v", f, err)
	}
}

func TestParseResponseMalformed(t *testing.T) {
	for name, f := range map[string][]qpack.HeaderField{
		"no status":           fl("server", "x"),
		"empty status":        fl(":status", ""),
		"two-digit status":    fl(":status", "99"),
		"four-digit status":   fl(":status", "2000"),
		"status with letters": fl(":status", "2x0"),
		"status 600":          fl(":status", "600"),
		"status 099":          fl(":status", "099"),
		"status with space":   fl(":status", " 200"),
		"status 101":          fl(":status", "101"),
		"uppercase name":      fl(":status", "200", "Server", "x"),
		"connection field":    fl(":status", "200", "connection", "close"),
		"transfer-encoding":   fl(":status", "200", "transfer-encoding", "chunked"),
		"te in response":      fl(":status", "200", "te", "trailers"),
		"CRLF in value":       fl(":status", "200", "location", "/a\r\nset-cookie: x"),
		"bad content-length":  fl(":status", "200", "content-length", "1.5"),
		"content-lengths":     fl(":status", "200", "content-length", "1", "content-length", "2"),
		"pseudo after field":  fl(":status", "200", "server", "x", ":status", "200"),
		"request pseudo":      fl(":path", "/", ":status", "200"),
	} {
		t.Run(name, func(t *testing.T) {
			wantMessageError(t, errOf(ParseResponse(f)))
		})
	}
}

func TestTrailersRoundTrip(t *testing.T) {
	h := http.Header{"Grpc-Status": {"0"}, "Trailer:X-Checksum": {"abc"}, "Connection": {"x"}, "Te": {"trailers"}}
	f, err := AppendTrailers(nil, h)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseTrailers(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := (http.Header{"Grpc-Status": {"0"}, "X-Checksum": {"abc"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
	if _, err := AppendTrailers(nil, http.Header{"X": {"a\rb"}}); err == nil {
		t.Fatal("CR accepted")
	}
}

// RFC 9114 §4.3: "Pseudo-header fields MUST NOT appear in trailer
// sections."
func TestParseTrailersMalformed(t *testing.T) {
	for _, f := range [][]qpack.HeaderField{
		fl(":status", "200"),
		fl("grpc-status", "0", ":path", "/"),
		fl(":foo", "x"),
		fl("Grpc-Status", "0"),
		fl("x", "a\nb"),
		fl("transfer-encoding", "chunked"),
	} {
		wantMessageError(t, errOf(ParseTrailers(f)))
	}
}
