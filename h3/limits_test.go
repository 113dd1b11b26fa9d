package h3

import (
	"errors"
	"io"
	"log"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/skiffnet/skiff/h3/internal/headers"
)

// headerLimit is the test server's MaxHeaderBytes.
const headerLimit = 8 << 10

// requestOfSize returns a GET whose header section has exactly size bytes
// as RFC 9114 §4.2.2 counts them, padded with an X-Pad field.
func requestOfSize(t *testing.T, e *testEnv, size int) *http.Request {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+"/", nil)
	req.Header.Set("X-Pad", "")
	fields, err := headers.AppendRequest(nil, req)
	if err != nil {
		t.Fatal(err)
	}
	base := int(headers.FieldSectionSize(fields))
	req.Header.Set("X-Pad", strings.Repeat("p", size-base))
	fields, _ = headers.AppendRequest(nil, req)
	if got := int(headers.FieldSectionSize(fields)); got != size {
		t.Fatalf("built a section of %d bytes, want %d", got, size)
	}
	return req
}

func TestRequestHeaderLimit(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, okHandler(), func(e *testEnv) { e.srv.MaxHeaderBytes = headerLimit })
	// Learn the server's SETTINGS first.
	if code, _ := e.get(t, ctx, "/"); code != 200 {
		t.Fatalf("first GET: %d", code)
	}
	cc := e.onlyConn(t)
	select {
	case <-cc.c.settingsReceived:
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	if s, _ := cc.c.peerSettings(); s.MaxFieldSectionSize != headerLimit {
		t.Fatalf("server announced SETTINGS_MAX_FIELD_SECTION_SIZE %d", s.MaxFieldSectionSize)
	}

	// Just under (at) the limit: served.
	resp, err := e.tr.RoundTrip(requestOfSize(t, e, headerLimit).WithContext(ctx))
	if err != nil {
		t.Fatalf("request at the limit: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("request at the limit: %d", resp.StatusCode)
	}
	// Just over: the client does not send it (RFC 9114 §4.2.2).
	_, err = e.tr.RoundTrip(requestOfSize(t, e, headerLimit+1).WithContext(ctx))
	if !errors.Is(err, ErrHeaderTooLarge) {
		t.Errorf("request over the limit: %v, want ErrHeaderTooLarge", err)
	}

	// A client that ignores the setting: just over gets 431, far over has
	// its stream reset with H3_EXCESSIVE_LOAD; the connection survives.
	c := dialRaw(t, ctx, e)
	pad := func(n int) []string {
		f := getFields()
		base := 0
		for i := 0; i < len(f); i += 2 {
			base += len(f[i]) + len(f[i+1]) + 32
		}
		return append(f, "x-pad", strings.Repeat("p", n-base-len("x-pad")-32))
	}
	if got := c.responseStatus(c.request(c.headersFrame(pad(headerLimit)...), true)); got != "200" {
		t.Errorf("raw request at the limit: %s", got)
	}
	if got := c.responseStatus(c.request(c.headersFrame(pad(headerLimit+1)...), true)); got != "431" {
		t.Errorf("raw request just over the limit: %s, want 431", got)
	}
	if got := c.streamError(c.request(c.headersFrame(pad(4*headerLimit)...), true)); got != ErrCodeExcessiveLoad {
		t.Errorf("raw request far over the limit: stream reset with %v, want H3_EXCESSIVE_LOAD", got)
	}
	if got := c.responseStatus(c.request(c.headersFrame(getFields()...), true)); got != "200" {
		t.Errorf("request after the oversized ones: %s", got)
	}
}

func TestResponseHeaderLimit(t *testing.T) {
	ctx := testContext(t)
	writeErr := make(chan error, 1)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Header().Set("X-Big", strings.Repeat("b", 2000))
		case "/big-streamed":
			// Past the first DATA frame the header goes out, or fails.
			w.Header().Set("X-Big", strings.Repeat("b", 2000))
			_, err := w.Write(make([]byte, 64<<10))
			writeErr <- err
		case "/big-interim":
			w.Header().Set("Link", strings.Repeat("l", 2000))
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Del("Link")
		case "/big-trailer":
			w.Header().Set("Trailer", "X-Sum")
			io.WriteString(w, "content")
			w.Header().Set("X-Sum", strings.Repeat("s", 2000))
		}
	}), func(e *testEnv) {
		e.tr.MaxResponseHeaderBytes = 1000
		e.srv.ErrorLog = log.New(io.Discard, "", 0)
	})
	// Once the server has the client's SETTINGS, it keeps to its
	// SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2): a bare 500
	// instead of an oversized section, an error to the handler's writes.
	if code, _ := e.get(t, ctx, "/"); code != 200 {
		t.Fatalf("first request: %d", code)
	}
	sc := e.serverConnOf(t)
	<-sc.c.settingsReceived
	if code, _ := e.get(t, ctx, "/big"); code != 500 {
		t.Errorf("oversized response header: %d, want 500", code)
	}
	if code, body := e.get(t, ctx, "/big-streamed"); code != 500 || body != "" {
		t.Errorf("oversized streamed response: %d %q, want a bare 500", code, body)
	}
	if err := <-writeErr; !errors.Is(err, ErrHeaderTooLarge) {
		t.Errorf("handler's Write: %v, want ErrHeaderTooLarge", err)
	}
	if code, _ := e.get(t, ctx, "/big-interim"); code != 200 {
		t.Errorf("oversized interim response: final status %d, want 200 (the 103 dropped)", code)
	}
	// The reset may overtake the response header: either way, the
	// request fails with it.
	resp, err := e.do(t, ctx, http.MethodGet, "/big-trailer", nil)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	var se *StreamError
	if !errors.As(err, &se) || se.Code != ErrCodeInternalError {
		t.Errorf("oversized trailers: body read %v, want a reset with H3_INTERNAL_ERROR", err)
	}

	// A server that does not check: the client refuses the section. The
	// server reads its peer's settings without a lock (they are set once,
	// before settingsReceived closes): the change below waits until the
	// server is done with the requests so far, whose last steps (the
	// trailers' check) may come after the client saw the response end.
	for waitStreamsClosed := true; waitStreamsClosed; {
		sc.mu.Lock()
		waitStreamsClosed = len(sc.openStreams) > 0
		sc.mu.Unlock()
		if waitStreamsClosed {
			if ctx.Err() != nil {
				t.Fatal("the server did not finish its requests")
			}
			runtime.Gosched()
		}
	}
	sc.c.mu.Lock()
	sc.c.peer.MaxFieldSectionSize = 0
	sc.c.mu.Unlock()
	_, err = e.do(t, ctx, http.MethodGet, "/big", nil)
	if err == nil || !strings.Contains(err.Error(), "MaxResponseHeaderBytes") {
		t.Errorf("oversized response header from a server that does not check: %v", err)
	}
}
