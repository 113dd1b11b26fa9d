package h3

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/skiffnet/skiff/quic"
)

func TestGetHello(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Proto != "HTTP/3.0" || r.ProtoMajor != 3 {
			t.Errorf("request proto %q %d", r.Proto, r.ProtoMajor)
		}
		w.Header().Set("X-Path", r.URL.Path)
		io.WriteString(w, "hello "+r.Host)
	}))
	resp, err := e.do(t, ctx, http.MethodGet, "/greet?x=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Proto != "HTTP/3.0" || resp.ProtoMajor != 3 {
		t.Errorf("status %d proto %q %d", resp.StatusCode, resp.Proto, resp.ProtoMajor)
	}
	if got, want := string(b), "hello "+e.ln.Addr().String(); got != want {
		t.Errorf("body %q, want %q", got, want)
	}
	if resp.Header.Get("X-Path") != "/greet" || resp.ContentLength != int64(len(b)) {
		t.Errorf("header %v, content length %d", resp.Header, resp.ContentLength)
	}
	// A second request reuses the connection.
	if code, _ := e.get(t, ctx, "/again"); code != 200 {
		t.Errorf("second GET: %d", code)
	}
	if n := e.dials.Load(); n != 1 {
		t.Errorf("%d dials, want 1", n)
	}
}

func TestConcurrentRequestsOneConnection(t *testing.T) {
	ctx := testContext(t)
	var inHandler, maxInHandler atomic.Int32
	release := make(chan struct{})
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inHandler.Add(1)
		for {
			m := maxInHandler.Load()
			if n <= m || maxInHandler.CompareAndSwap(m, n) {
				break
			}
		}
		if n == 100 {
			close(release) // the QUIC stream limit (100) is reached
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		inHandler.Add(-1)
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s:%s", r.URL.Path, body)
	}))
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := fmt.Sprintf("/r%d", i)
			resp, err := e.do(t, ctx, http.MethodPost, path, strings.NewReader(strconv.Itoa(i)))
			if err != nil {
				errs <- err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				errs <- err
				return
			}
			if want := path + ":" + strconv.Itoa(i); string(b) != want {
				errs <- fmt.Errorf("got %q, want %q", b, want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if d := e.dials.Load(); d != 1 {
		t.Errorf("%d connections dialed, want 1", d)
	}
	e.onlyConn(t)
	t.Logf("%d requests on one connection, up to %d handlers at once", n, maxInHandler.Load())
}

func TestTrailersBothWays(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Trailer["X-Req-Sum"]; !ok {
			t.Errorf("request Trailer not declared: %v", r.Trailer)
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("server read: %v", err)
		}
		if got := r.Trailer.Get("X-Req-Sum"); got != "42" {
			t.Errorf("request trailer X-Req-Sum = %q", got)
		}
		w.Header().Set("Trailer", "X-Resp-Len")
		w.WriteHeader(200)
		w.Write(b)
		w.(http.Flusher).Flush()
		w.Header().Set("X-Resp-Len", strconv.Itoa(len(b)))
		w.Header().Set(http.TrailerPrefix+"X-Undeclared", "yes")
	}))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/", strings.NewReader("payload"))
	req.Trailer = http.Header{"X-Req-Sum": nil}
	// Like net/http, the trailer values are read once the body is sent.
	req.Body = &trailerSetter{Reader: strings.NewReader("payload"), set: func() { req.Trailer.Set("X-Req-Sum", "42") }}
	resp, err := e.tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := resp.Trailer["X-Resp-Len"]; !ok {
		t.Errorf("response Trailer not declared before the body: %v", resp.Trailer)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "payload" {
		t.Fatalf("body %q, %v", b, err)
	}
	if got := resp.Trailer.Get("X-Resp-Len"); got != "7" {
		t.Errorf("response trailer X-Resp-Len = %q", got)
	}
	if got := resp.Trailer.Get("X-Undeclared"); got != "yes" {
		t.Errorf("response trailer X-Undeclared = %q", got)
	}
}

// trailerSetter calls set when its reader is exhausted.
type trailerSetter struct {
	io.Reader
	set func()
}

func (r *trailerSetter) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err == io.EOF && r.set != nil {
		r.set()
		r.set = nil
	}
	return n, err
}

func (r *trailerSetter) Close() error { return nil }

func TestEarlyHints(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		io.WriteString(w, "final")
	}))
	var got []int
	var link string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		got = append(got, code)
		link = h.Get("Link")
		return nil
	}}
	resp, err := e.do(t, httptrace.WithClientTrace(ctx, trace), http.MethodGet, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(got) != 1 || got[0] != 103 || link != "</style.css>; rel=preload; as=style" {
		t.Errorf("interim responses %v, Link %q", got, link)
	}
	if resp.StatusCode != 200 || string(b) != "final" || resp.Header.Get("Link") != "" {
		t.Errorf("final response %d %q %v", resp.StatusCode, b, resp.Header)
	}
}

func TestHandlerPanic(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic(http.ErrAbortHandler) // no log
		}
		io.WriteString(w, "fine")
	}))
	_, err := e.do(t, ctx, http.MethodGet, "/panic", nil)
	var se *quic.StreamError
	if !errors.As(err, &se) || ErrCode(se.Code) != ErrCodeInternalError {
		t.Fatalf("panicking handler: error %v, want a stream reset with H3_INTERNAL_ERROR", err)
	}
	if code, body := e.get(t, ctx, "/after"); code != 200 || body != "fine" {
		t.Errorf("after the panic: %d %q", code, body)
	}
}
