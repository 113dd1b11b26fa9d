package headers

import (
	"net/http"
	"testing"

	"github.com/skiffnet/skiff/qpack"
)

func typicalRequest() *http.Request {
	req, _ := http.NewRequest("GET", "https://www.example.com/index.html?lang=en", nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) skiff/1.0")
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	req.Header.Set("Accept-Language", "en-US,en;q=0.5")
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	req.Header.Set("Referer", "https://www.example.com/")
	req.Header.Set("Cookie", "session=abc123; theme=dark")
	req.Header.Set("Cache-Control", "no-cache")
	return req
}

// BenchmarkRequestRoundTrip converts a typical browser request to fields
// (client side) and back to a validated Request (server side).
func BenchmarkRequestRoundTrip(b *testing.B) {
	req := typicalRequest()
	fields := make([]qpack.HeaderField, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		fields, err = AppendRequest(fields[:0], req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ParseRequest(fields, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendRequest(b *testing.B) {
	req := typicalRequest()
	fields := make([]qpack.HeaderField, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		fields, _ = AppendRequest(fields[:0], req)
	}
}

func BenchmarkParseRequest(b *testing.B) {
	fields, _ := AppendRequest(nil, typicalRequest())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRequest(fields, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResponseRoundTrip(b *testing.B) {
	h := http.Header{
		"Content-Type":   {"text/html; charset=utf-8"},
		"Content-Length": {"5120"},
		"Date":           {"Fri, 27 Nov 2026 04:00:00 GMT"},
		"Server":         {"skiff"},
		"Cache-Control":  {"max-age=3600"},
	}
	fields := make([]qpack.HeaderField, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		fields, _ = AppendResponse(fields[:0], 200, h)
		if _, err := ParseResponse(fields); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSmallResponseRoundTrip is the response of the HTTP/3 requests
// benchmarks (bench, interop/h3interop): a sniffed type and a length.
func BenchmarkSmallResponseRoundTrip(b *testing.B) {
	h := http.Header{
		"Content-Type":   {"application/octet-stream"},
		"Content-Length": {"4096"},
	}
	fields := make([]qpack.HeaderField, 0, 16)
	var vals [4]string
	b.ReportAllocs()
	for b.Loop() {
		fields, _ = AppendResponse(fields[:0], 200, h)
		var r Response
		if err := ParseResponseTo(&r, fields, vals[:]); err != nil {
			b.Fatal(err)
		}
	}
}
