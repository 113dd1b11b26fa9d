package h3

import (
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// testTimeout bounds each test; it is far above the normal run time and
// only stops a hung test.
const testTimeout = 60 * time.Second

var (
	certOnce sync.Once
	testCert tls13.Certificate
	testPool *x509.CertPool
	certErr  error
)

func testCertificate(t testing.TB) (tls13.Certificate, *x509.CertPool) {
	certOnce.Do(func() {
		// The names of the discovery tests too (disco_harness_test.go).
		testCert, testPool, certErr = selfsigned.New("127.0.0.1", "::1", "localhost", "origin.test", "a.test", "b.test", "alt.test")
	})
	if certErr != nil {
		t.Fatal(certErr)
	}
	return testCert, testPool
}

// testEnv is a skiff h3 server on a loopback UDP port and a Transport
// that talks to it.
type testEnv struct {
	srv   *Server
	ln    *quic.Listener
	tr    *Transport
	url   string // https://127.0.0.1:port
	dials atomic.Int32
	// last is the client's most recently dialed connection.
	last atomic.Pointer[quic.Conn]
	// redial, when it returns an error, makes dials after the first fail.
	redial func() error
}

func newTestEnv(t testing.TB, h http.Handler, configure ...func(*testEnv)) *testEnv {
	t.Helper()
	cert, pool := testCertificate(t)
	e := &testEnv{srv: &Server{Handler: h, TLSConfig: &tls13.Config{Certificates: []tls13.Certificate{cert}}}}
	e.tr = &Transport{
		Mode:            ModeHTTP3Only,
		TLSClientConfig: &tls13.Config{RootCAs: pool},
		Dial: func(ctx context.Context, addr string, cfg *quic.Config) (*quic.Conn, error) {
			if e.dials.Add(1) > 1 && e.redial != nil {
				if err := e.redial(); err != nil {
					return nil, err
				}
			}
			qc, err := quic.Dial(ctx, "udp", addr, cfg)
			if err == nil {
				e.last.Store(qc)
			}
			return qc, err
		},
	}
	for _, f := range configure {
		f(e)
	}
	var qcfg quic.Config
	if e.srv.QUICConfig != nil {
		qcfg = *e.srv.QUICConfig
	}
	qcfg.TLS = &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{NextProtoH3}}
	ln, err := quic.Listen("udp", "127.0.0.1:0", &qcfg)
	if err != nil {
		t.Fatal(err)
	}
	e.ln = ln
	e.url = "https://" + ln.Addr().String()
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := e.srv.Serve(ln); err != ErrServerClosed {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	}()
	t.Cleanup(func() {
		e.tr.CloseIdleConnections()
		e.srv.Close()
		<-served
	})
	return e
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func (e *testEnv) do(t testing.TB, ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	return e.tr.RoundTrip(req)
}

// get returns the status and body of GET path.
func (e *testEnv) get(t testing.TB, ctx context.Context, path string) (int, string) {
	t.Helper()
	resp, err := e.do(t, ctx, http.MethodGet, path, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// onlyConn returns the single pooled client connection.
func (e *testEnv) onlyConn(t testing.TB) *clientConn {
	t.Helper()
	all := e.tr.connPool().all()
	if len(all) != 1 {
		t.Fatalf("%d pooled connections, want 1", len(all))
	}
	return all[0]
}

var _ = strings.Repeat

// timeZero is a deadline long past.
var timeZero = time.Unix(0, 0)
