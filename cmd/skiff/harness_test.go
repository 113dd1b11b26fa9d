package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skiffnet/skiff/h3"
	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/tls13"
)

// The tests here run the skiff binary, built once per test run, against
// `skiff serve` in a child process and against servers in this process.
// Every wait is bounded by testDeadline, far above what a run takes.
const testDeadline = 2 * time.Minute

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// skiffBinary builds the command (with the race detector when the tests
// have it) and returns its path.
func skiffBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "skiff-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "skiff")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", append(args, ".")...).CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// runResult is what one run of the binary did.
type runResult struct {
	code           int
	stdout, stderr string
}

// runOpts adjusts a run: its working directory, extra environment.
type runOpts struct {
	dir string
	env []string
}

// runSkiff runs `skiff args...` to its end.
func runSkiff(t *testing.T, args ...string) runResult {
	t.Helper()
	return runSkiffWith(t, runOpts{}, args...)
}

func runSkiffWith(t *testing.T, o runOpts, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, skiffBinary(t), args...)
	cmd.Dir = o.dir
	cmd.Env = append(cleanEnv(), o.env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := runResult{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("skiff %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// cleanEnv is the environment without the variables skiff get reads, so
// that the developer's own do not change the tests.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SSLKEYLOGFILE=") && !strings.HasPrefix(kv, "QLOGDIR=") {
			env = append(env, kv)
		}
	}
	return env
}

// testCert is a certificate for 127.0.0.1 (and localhost) in PEM files,
// and a pool trusting it.
type testCert struct {
	cert              tls13.Certificate
	pool              *x509.CertPool
	certFile, keyFile string
}

func newTestCert(t *testing.T) *testCert {
	t.Helper()
	cert, pool, err := selfsigned.New("localhost", "127.0.0.1", "::1")
	if err != nil {
		t.Fatal(err)
	}
	tc := &testCert{cert: cert, pool: pool}
	tc.certFile, tc.keyFile, err = writeCertificate(t.TempDir(), cert)
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// serveProc is `skiff serve` running in a child process.
type serveProc struct {
	cmd  *exec.Cmd
	port int
	base string // https://127.0.0.1:port

	mu    sync.Mutex
	lines []string
	added chan struct{} // closed and replaced when a line arrives
	done  chan struct{} // closed when stderr ends
	exit  error
}

var bannerRE = regexp.MustCompile(`^skiff serve: .* on https://localhost:(\d+)/$`)

// startServe runs `skiff serve --listen 127.0.0.1:0 args...` and waits
// for its banner.
func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(skiffBinary(t), append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, added: make(chan struct{}), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.added)
			p.added = make(chan struct{})
			p.mu.Unlock()
		}
		p.exit = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("skiff serve's stderr:\n%s", strings.Join(p.output(), "\n"))
		}
	})
	m := p.waitLine(t, bannerRE)
	p.port, _ = strconv.Atoi(m[1])
	p.base = "https://127.0.0.1:" + m[1]
	return p
}

func (p *serveProc) output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// waitLine waits for a line of stderr matching re and returns its
// submatches.
func (p *serveProc) waitLine(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.NewTimer(testDeadline)
	defer deadline.Stop()
	seen := 0
	for {
		p.mu.Lock()
		lines, added := p.lines, p.added
		p.mu.Unlock()
		for ; seen < len(lines); seen++ {
			if m := re.FindStringSubmatch(lines[seen]); m != nil {
				return m
			}
		}
		select {
		case <-added:
		case <-p.done:
			t.Fatalf("skiff serve ended (%v) before a line matching %v:\n%s", p.exit, re, strings.Join(p.output(), "\n"))
		case <-deadline.C:
			t.Fatalf("no line matching %v:\n%s", re, strings.Join(p.output(), "\n"))
		}
	}
}

// stop sends sig and waits for the process to end; it returns the exit
// code.
func (p *serveProc) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(testDeadline):
		t.Fatal("skiff serve did not end")
	}
	return p.cmd.ProcessState.ExitCode()
}

// origin is an in-process test server: HTTPS on TCP (HTTP/1.1 and
// HTTP/2, crypto/tls) and HTTP/3 on the same UDP port, with the handlers
// of originHandler. It sends no Alt-Svc.
type origin struct {
	base string // https://127.0.0.1:port
	port int
	cert *testCert
	h3   *h3.Server // Close stops HTTP/3 and closes its UDP socket; TCP goes on
	// hits counts requests by path.
	mu   sync.Mutex
	hits map[string]int
}

func startOrigin(t *testing.T, cert *testCert) *origin {
	t.Helper()
	o := &origin{cert: cert, hits: map[string]int{}}
	ln, qln, err := listenBoth("127.0.0.1:0", cert.cert, "")
	if err != nil {
		t.Fatal(err)
	}
	o.port = ln.Addr().(*net.TCPAddr).Port
	o.base = "https://127.0.0.1:" + strconv.Itoa(o.port)
	h := o.handler()
	quiet := log.New(io.Discard, "", 0) // the tests make handshakes fail on purpose
	srv := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{tlsCertificate(cert.cert)}}, ErrorLog: quiet}
	hs := &h3.Server{Handler: h, ErrorLog: quiet}
	o.h3 = hs
	go srv.ServeTLS(ln, "", "")
	go hs.Serve(qln)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return o
}

func (o *origin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[path]
}

// echoed is what /echo answers: the request as the server saw it.
type echoed struct {
	Method string      `json:"method"`
	Proto  string      `json:"proto"`
	Host   string      `json:"host"`
	Header http.Header `json:"header"`
	Body   string      `json:"body"`
}

func (o *origin) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Skiff-Test", "yes")
		io.WriteString(w, "hello\n")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		json.NewEncoder(w).Encode(echoed{Method: r.Method, Proto: r.Proto, Host: r.Host, Header: r.Header, Body: string(body)})
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
		fmt.Fprintf(w, "status %d\n", code)
	})
	// /redirect/{code}/{n}: n redirects with code, then /echo.
	mux.HandleFunc("/redirect/{code}/{n}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		n, _ := strconv.Atoi(r.PathValue("n"))
		next := "/echo"
		if n > 1 {
			next = fmt.Sprintf("/redirect/%d/%d", code, n-1)
		}
		http.Redirect(w, r, next, code)
	})
	mux.HandleFunc("/to/{port}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://127.0.0.1:"+r.PathValue("port")+"/echo", http.StatusFound)
	})
	// /slow answers only when the client goes away.
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("/bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		w.Header().Set("Content-Length", strconv.Itoa(n))
		w.Write(pattern(n))
	})
	// /partial promises 100 bytes and sends 10 (HTTP/1.1 only).
	mux.HandleFunc("/partial", func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, "HTTP/1.1 only", 500)
			return
		}
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
		buf.Flush()
		conn.Close()
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.hits[r.URL.Path]++
		o.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
}

// pattern is n bytes of a repeating, position-dependent pattern.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}
