package h3

import (
	"bytes"
	"net/http"
	"testing"
)

// sniffCache.detect answers what http.DetectContentType does, whatever
// came before: cached content, content differing only beyond the bytes
// sniffed, content differing within them, and runs of misses that replace
// the entry.
func TestSniffCache(t *testing.T) {
	html := []byte("<!DOCTYPE html><html><body>hello</body></html>")
	text := []byte("plain words, nothing more")
	png := []byte("\x89PNG\x0D\x0A\x1A\x0Aand the rest of an image")
	long := bytes.Repeat([]byte("<html>"), 200)         // > sniffLen
	longTail := append(bytes.Clone(long[:sniffLen]), 0) // same sniffed bytes, binary after
	zeros := make([]byte, 4096)
	inputs := [][]byte{html, text, png, long, longTail, zeros, html[:1], []byte("\x00\x01binary")}
	var c sniffCache
	check := func(p []byte) {
		t.Helper()
		if got, want := c.detect(p), http.DetectContentType(p); got != want {
			t.Fatalf("detect(%q...) = %q, want %q", p[:min(len(p), 16)], got, want)
		}
	}
	for round := range 40 {
		for i := range inputs {
			check(inputs[(i+round)%len(inputs)])
			check(inputs[(i+round)%len(inputs)]) // again, now often cached
		}
	}
	// Distinct contents, each sniffed once: an entry is made every
	// sixteenth miss only.
	var d sniffCache
	for i := range 64 {
		d.detect([]byte{byte(i), 'x'})
	}
	if n := d.misses.Load(); n != 64 {
		t.Fatalf("%d misses for 64 distinct contents", n)
	}
}

func FuzzSniffCache(f *testing.F) {
	f.Add([]byte("<html>"), []byte("text"))
	f.Add(bytes.Repeat([]byte("a"), 600), bytes.Repeat([]byte("a"), 700))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if len(a) == 0 || len(b) == 0 {
			return // the writer sniffs only content
		}
		var c sniffCache
		for _, p := range [][]byte{a, b, a, a, b} {
			if got, want := c.detect(p), http.DetectContentType(p); got != want {
				t.Fatalf("detect = %q, want %q", got, want)
			}
		}
	})
}
