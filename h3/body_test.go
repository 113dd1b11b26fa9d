package h3

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"
)

// patternReader yields n pseudo-random bytes from a seeded generator, so
// that both sides can hash the same content without holding it.
func patternReader(seed uint64, n int64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	return io.LimitReader(rand.NewChaCha8(s), n)
}

func patternHash(seed uint64, n int64) string {
	h := sha256.New()
	io.Copy(h, patternReader(seed, n))
	return hex.EncodeToString(h.Sum(nil))
}

// bodyHandler serves:
//
//	GET  /pattern?n=N&seed=S  N pattern bytes
//	POST /hash                the SHA-256 of the request body
//	PUT  /echo                the request body, streamed back
func bodyHandler(t testing.TB) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pattern", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		seed, _ := strconv.ParseUint(r.URL.Query().Get("seed"), 10, 64)
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		if _, err := io.Copy(w, patternReader(seed, n)); err != nil {
			t.Errorf("server: writing pattern: %v", err)
		}
	})
	mux.HandleFunc("POST /hash", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			t.Errorf("server: reading body: %v", err)
			return
		}
		fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
	})
	mux.HandleFunc("PUT /echo", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(w, r.Body); err != nil {
			t.Errorf("server: echo: %v", err)
		}
	})
	return mux
}

const bigBody = 100 << 20

func TestGetLargeBody(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, bodyHandler(t))
	resp, err := e.do(t, ctx, http.MethodGet, "/pattern?seed=1&n="+strconv.Itoa(bigBody), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != bigBody {
		t.Errorf("ContentLength %d", resp.ContentLength)
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		t.Fatalf("after %d bytes: %v", n, err)
	}
	if got, want := hex.EncodeToString(h.Sum(nil)), patternHash(1, bigBody); n != bigBody || got != want {
		t.Errorf("got %d bytes hashing %s, want %d bytes hashing %s", n, got, bigBody, want)
	}
}

func TestPostLargeBody(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, bodyHandler(t))
	// The body is an opaque reader: sent without Content-Length.
	resp, err := e.do(t, ctx, http.MethodPost, "/hash", struct{ io.Reader }{patternReader(2, bigBody)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d %s", bigBody, patternHash(2, bigBody)); string(b) != want {
		t.Errorf("server saw %q, want %q", b, want)
	}
}

func TestPutLargeBodyEcho(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, bodyHandler(t))
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, e.url+"/echo", patternReader(3, bigBody))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = bigBody
	resp, err := e.tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		t.Fatalf("after %d bytes: %v", n, err)
	}
	if got, want := hex.EncodeToString(h.Sum(nil)), patternHash(3, bigBody); n != bigBody || got != want {
		t.Errorf("echo: %d bytes hashing %s, want %d bytes hashing %s", n, got, bigBody, want)
	}
}

// TestRequestBodyLength: the client does not send a body shorter or
// longer than the request's ContentLength; it fails the request instead,
// whether the body is sent with the header (a bytes.Reader, GetBody set)
// or streamed (an opaque reader). A body of the right length arrives
// whole either way.
func TestRequestBodyLength(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		w.Write(b)
	}))
	for _, opaque := range []bool{false, true} {
		for _, length := range []int64{10, 3, 5} {
			var body io.Reader = bytes.NewReader([]byte("hello"))
			if opaque {
				body = struct{ io.Reader }{body}
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/", body)
			req.ContentLength = length
			resp, err := e.tr.RoundTrip(req)
			if length != 5 {
				if err == nil {
					resp.Body.Close()
					t.Errorf("opaque %v: RoundTrip succeeded with a 5-byte body and ContentLength %d", opaque, length)
				}
				continue
			}
			if err != nil {
				t.Fatalf("opaque %v: %v", opaque, err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(got) != "hello" {
				t.Errorf("opaque %v: echo %q, %v", opaque, got, err)
			}
		}
	}
}
