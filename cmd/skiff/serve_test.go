package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/skiffnet/skiff/h3"
	"github.com/skiffnet/skiff/tls13"
)

// serveDir makes a directory with a file of size bytes (data.bin), a
// small one and a subdirectory, and returns it.
func serveDir(t *testing.T, size int) string {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "data.bin"), pattern(size))
	writeFile(t, filepath.Join(dir, "hello.txt"), []byte("hello\n"))
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestServeSameBytesOverEveryProtocol(t *testing.T) {
	t.Parallel()
	const size = 3<<20 + 12345
	dir := serveDir(t, size)
	c := newTestCert(t)
	p := startServe(t, "--cert", c.certFile, "--key", c.keyFile, dir)
	want := sha256Hex(pattern(size))
	out := t.TempDir()
	for _, pr := range []struct{ flag, version, proto string }{
		{"--http1.1", "1.1", "HTTP/1.1"},
		{"--http2", "2", "HTTP/2.0"},
		{"--http3-only", "3", "HTTP/3.0"},
	} {
		file := filepath.Join(out, pr.version)
		r := runSkiff(t, "get", "--cacert", c.certFile, pr.flag, "-o", file, "-w", "%{http_version} %{size_download}", p.base+"/data.bin")
		if r.code != 0 || r.stdout != pr.version+" "+strconv.Itoa(size) {
			t.Fatalf("%s: %+v", pr.flag, r)
		}
		b, _ := os.ReadFile(file)
		if got := sha256Hex(b); got != want {
			t.Errorf("%s: SHA-256 %s, want %s", pr.flag, got, want)
		}
		// The access log names the protocol.
		p.waitLine(t, regexp.MustCompile(`127\.0\.0\.1:\d+ "GET /data\.bin `+regexp.QuoteMeta(pr.proto)+`" 200 `+strconv.Itoa(size)+` `))
	}

	// Alt-Svc advertises HTTP/3 on the same port, on TCP responses only.
	altSvc := `Alt-Svc: h3=":` + strconv.Itoa(p.port) + `"; ma=86400` + "\r\n"
	for flag, want := range map[string]bool{"--http1.1": true, "--http2": true, "--http3-only": false} {
		r := runSkiff(t, "get", "--cacert", c.certFile, flag, "-I", p.base+"/hello.txt")
		if r.code != 0 || strings.Contains(r.stdout, altSvc) != want {
			t.Errorf("%s -I: Alt-Svc present %v, want %v:\n%s", flag, !want, want, r.stdout)
		}
	}

	// Directories are listed.
	r := runSkiff(t, "get", "--cacert", c.certFile, "--http3-only", p.base+"/")
	for _, want := range []string{`<a href="data.bin">data.bin</a>`, `<a href="hello.txt">`, `<a href="sub/">sub/</a>`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("listing lacks %s:\n%s", want, r.stdout)
		}
	}
	r = runSkiff(t, "get", "--cacert", c.certFile, "-f", p.base+"/missing")
	if r.code != exitHTTPError {
		t.Errorf("missing file: %+v", r)
	}
	p.waitLine(t, regexp.MustCompile(`"GET /missing HTTP/2\.0" 404 `))
	if code := p.stop(t, syscall.SIGINT); code != 0 {
		t.Errorf("exit %d after SIGINT", code)
	}
}

func TestServeSelfSignedCertificate(t *testing.T) {
	t.Parallel()
	// All addresses (":0"), and HTTP/3 still on the TCP port.
	p := startServe(t, "--listen", ":0", serveDir(t, 10))
	p.waitLine(t, regexp.MustCompile(`^  UDP \[::\]:`+strconv.Itoa(p.port)+`: HTTP/3$`))
	m := p.waitLine(t, regexp.MustCompile(`certificate SHA-256 SPKI: (\S+)$`))
	conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(p.port), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	leaf := conn.ConnectionState().PeerCertificates[0]
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	if got := base64.StdEncoding.EncodeToString(sum[:]); got != m[1] {
		t.Errorf("printed SPKI %s, the certificate's is %s", m[1], got)
	}
	if err := leaf.VerifyHostname("localhost"); err != nil {
		t.Errorf("self-signed certificate: %v", err)
	}
	if r := runSkiff(t, "get", "-k", "--http3-only", p.base+"/data.bin"); r.code != 0 || r.stdout != string(pattern(10)) {
		t.Errorf("-k over HTTP/3: %+v", r)
	}
}

// TestServeGracefulShutdown sends SIGTERM while a request over each
// protocol is in flight: a 32 MiB body that flow control keeps the
// server from finishing until the client reads. Each must complete, then
// the server exits with status 0.
func TestServeGracefulShutdown(t *testing.T) {
	t.Parallel()
	const size = 32 << 20
	c := newTestCert(t)
	p := startServe(t, "--cert", c.certFile, "--key", c.keyFile, serveDir(t, size))
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()

	tcp := func(h2 bool) http.RoundTripper {
		var protos http.Protocols
		protos.SetHTTP1(!h2)
		protos.SetHTTP2(h2)
		return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: c.pool}, Protocols: &protos}
	}
	clients := map[string]http.RoundTripper{
		"HTTP/1.1": tcp(false),
		"HTTP/2.0": tcp(true),
		"HTTP/3.0": &h3.Transport{Mode: h3.ModeHTTP3Only, TLSClientConfig: &tls13.Config{RootCAs: c.pool}},
	}
	bodies := map[string]io.ReadCloser{}
	for proto, rt := range clients {
		req, _ := http.NewRequestWithContext(ctx, "GET", p.base+"/data.bin", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", proto, err)
		}
		if resp.Proto != proto || resp.StatusCode != 200 {
			t.Fatalf("%s: got %s %d", proto, resp.Proto, resp.StatusCode)
		}
		bodies[proto] = resp.Body
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLine(t, regexp.MustCompile(`^skiff serve: shutting down`))
	for _, l := range p.output() {
		if strings.Contains(l, "GET /data.bin") {
			t.Fatalf("a request finished before its client read it: %s", l)
		}
	}
	want := sha256Hex(pattern(size))
	for proto, body := range bodies {
		h := sha256.New()
		n, err := io.Copy(h, body)
		body.Close()
		if err != nil || n != size {
			t.Errorf("%s: read %d bytes, %v", proto, n, err)
		} else if got := fmt.Sprintf("%x", h.Sum(nil)); got != want {
			t.Errorf("%s: SHA-256 %s, want %s", proto, got, want)
		}
		p.waitLine(t, regexp.MustCompile(`"GET /data\.bin `+regexp.QuoteMeta(proto)+`" 200 `+strconv.Itoa(size)))
	}
	for _, rt := range clients {
		rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		t.Fatal("skiff serve did not exit after its requests finished")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
	p.waitLine(t, regexp.MustCompile(`^skiff serve: stopped$`))
}
