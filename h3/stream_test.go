package h3

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestFullDuplex: request and response bodies are streamed both ways at
// once — each line the client sends is echoed (with Flush) before the
// client sends the next one.
func TestFullDuplex(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		sc := bufio.NewScanner(r.Body)
		for sc.Scan() {
			fmt.Fprintf(w, "echo %s\n", sc.Text())
			w.(http.Flusher).Flush()
		}
	}))
	pr, pw := io.Pipe()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/", pr)
	resp, err := e.tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewReader(resp.Body)
	for i := range 20 {
		if _, err := fmt.Fprintf(pw, "line %d\n", i); err != nil {
			t.Fatal(err)
		}
		got, err := lines.ReadString('\n')
		if want := fmt.Sprintf("echo line %d\n", i); err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	pw.Close()
	if rest, err := io.ReadAll(lines); err != nil || len(rest) != 0 {
		t.Errorf("after the last line: %q, %v", rest, err)
	}
}

func TestNoContentResponses(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/head":
			w.Header().Set("Content-Length", "1234")
			if _, err := w.Write([]byte("ignored for HEAD")); err != nil {
				t.Errorf("HEAD write: %v", err)
			}
		case "/204":
			w.WriteHeader(http.StatusNoContent)
			if _, err := w.Write([]byte("x")); err != http.ErrBodyNotAllowed {
				t.Errorf("204 write: %v, want ErrBodyNotAllowed", err)
			}
		}
	}))
	resp, err := e.do(t, ctx, http.MethodHead, "/head", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(b) != 0 || resp.ContentLength != 1234 {
		t.Errorf("HEAD: body %q, %v, ContentLength %d", b, err, resp.ContentLength)
	}
	resp, err = e.do(t, ctx, http.MethodGet, "/204", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(b) != 0 || resp.StatusCode != 204 || resp.ContentLength != 0 {
		t.Errorf("204: %d, body %q, %v, ContentLength %d", resp.StatusCode, b, err, resp.ContentLength)
	}
}

// TestClientWithHTTPClient: the Transport behind a plain http.Client,
// with its redirects and cookies.
func TestClientWithHTTPClient(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusFound)
			return
		}
		io.WriteString(w, "moved here; ua="+r.Header.Get("User-Agent"))
	}))
	client := &http.Client{Transport: e.tr}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/old", nil)
	req.Header.Set("User-Agent", "skiff-test")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/new" || !strings.HasPrefix(string(b), "moved here") {
		t.Errorf("followed to %s: %q", resp.Request.URL, b)
	}
}
