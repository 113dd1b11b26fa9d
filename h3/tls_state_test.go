package h3

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// resp.TLS says what the QUIC handshake negotiated, as net/http's does
// for TLS over TCP.
func TestResponseTLS(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, okHandler())
	resp, err := e.do(t, ctx, http.MethodGet, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cert, _ := testCertificate(t)
	st := resp.TLS
	switch {
	case st == nil:
		t.Fatal("resp.TLS is nil")
	case !st.HandshakeComplete || st.Version != 0x0304 || st.NegotiatedProtocol != NextProtoH3:
		t.Errorf("resp.TLS: complete %v, version %#x, ALPN %q", st.HandshakeComplete, st.Version, st.NegotiatedProtocol)
	case len(st.PeerCertificates) == 0 || string(st.PeerCertificates[0].Raw) != string(cert.Certificate[0]):
		t.Errorf("resp.TLS.PeerCertificates does not start with the server's certificate")
	case len(st.VerifiedChains) == 0 || st.ServerName != "127.0.0.1" || st.CipherSuite == 0:
		t.Errorf("resp.TLS: %d verified chains, server name %q, suite %#x", len(st.VerifiedChains), st.ServerName, st.CipherSuite)
	}
}

// r.TLS tells a handler who the client is: its certificate, when the
// server requires one.
func TestRequestTLSClientCertificate(t *testing.T) {
	ctx := testContext(t)
	clientCert, clientCAs, err := selfsigned.New("client.test")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *http.Request, 1)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r }), func(e *testEnv) {
		e.tr.TLSClientConfig.Certificates = []tls13.Certificate{clientCert}
	})
	// The test listener's configuration, asking for client certificates.
	cert, _ := testCertificate(t)
	srvTLS := &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{NextProtoH3}, ClientAuth: tls13.RequireAndVerifyClientCert, ClientCAs: clientCAs}
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{TLS: srvTLS})
	if err != nil {
		t.Fatal(err)
	}
	go e.srv.Serve(ln)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+ln.Addr().String()+"/", nil)
	resp, err := e.tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := <-got
	switch {
	case r.TLS == nil:
		t.Fatal("r.TLS is nil")
	case len(r.TLS.PeerCertificates) != 1 || string(r.TLS.PeerCertificates[0].Raw) != string(clientCert.Certificate[0]):
		t.Errorf("r.TLS.PeerCertificates: %d certificates, want the client's", len(r.TLS.PeerCertificates))
	case len(r.TLS.VerifiedChains) == 0 || r.TLS.NegotiatedProtocol != NextProtoH3:
		// No ServerName: a client sends no SNI for an IP address (RFC
		// 6066 §3).
		t.Errorf("r.TLS: %d verified chains, ALPN %q", len(r.TLS.VerifiedChains), r.TLS.NegotiatedProtocol)
	}
}

// A listener whose TLS configuration does not offer "h3" is refused by
// Serve at once; a connection that negotiated another protocol is refused
// loudly by ServeConn.
func TestServeRefusesOtherALPN(t *testing.T) {
	ctx := testContext(t)
	cert, pool := testCertificate(t)
	srvTLS := &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{"other"}}
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{TLS: srvTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var logged syncBuffer
	srv := &Server{Handler: okHandler(), ErrorLog: newLogger(&logged)}
	defer srv.Close()
	if err := srv.Serve(ln); err == nil || !strings.Contains(err.Error(), "NextProtos") {
		t.Errorf("Serve on a listener without h3: %v", err)
	}

	ln, err = quic.Listen("udp", "127.0.0.1:0", &quic.Config{TLS: srvTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		qc, err := ln.Accept(ctx)
		if err != nil {
			served <- err
			return
		}
		served <- srv.ServeConn(qc)
	}()
	qc, err := quic.Dial(ctx, "udp", ln.Addr().String(), &quic.Config{TLS: &tls13.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"other"}}})
	if err == nil {
		<-qc.Context().Done()
	}
	// Else the server's handshake ended first, and ServeConn closed the
	// connection before the client's Dial returned: that error is Dial's.
	if err := <-served; err == nil || !logged.contains(`negotiated ALPN "other", not "h3"`) {
		t.Errorf("ServeConn: %v; server log: %q", err, logged.String())
	}
}

// A handler's request context ends as soon as the client's cancel
// (RESET_STREAM and STOP_SENDING) arrives, although it neither reads nor
// writes: on the simulated network, one one-way delay after the cancel,
// not after a timer. (Over loopback with a 50 ms bound this failed
// whenever the race detector and a loaded machine delayed a goroutine by
// that much.)
func TestSimHandlerContextEndsOnClientCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, started, ended := simContextServer(t)
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			rctx, cancel := context.WithCancel(context.Background())
			var body io.Reader
			if method == http.MethodPost {
				pr, pw := io.Pipe() // a body still being sent
				defer pw.Close()
				body = pr
			}
			req, err := http.NewRequestWithContext(rctx, method, e.url+"/", body)
			if err != nil {
				t.Fatal(err)
			}
			result := make(chan error, 1)
			go func() {
				resp, err := e.tr.RoundTrip(req)
				if err == nil {
					resp.Body.Close()
				}
				result <- err
			}()
			<-started
			synctest.Wait() // nothing left in flight
			canceled := time.Now()
			cancel()
			cause := <-ended
			took := time.Since(canceled)
			t.Logf("%s: handler context ended %v after the cancel: %v", method, took, cause)
			var se *StreamError
			if !errors.As(cause, &se) || se.Code != ErrCodeRequestCancelled {
				t.Errorf("%s: context cause %v, want the client's H3_REQUEST_CANCELLED", method, cause)
			}
			if took.Round(time.Millisecond) != simRTT/2 {
				t.Errorf("%s: handler context ended %v after the client's cancel, want one one-way delay (%v)", method, took, simRTT/2)
			}
			if err := <-result; err == nil {
				t.Errorf("%s: a canceled request succeeded", method)
			}
		}
	})
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b = append(b.b, p...)
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.b)
}

func (b *syncBuffer) contains(s string) bool { return strings.Contains(b.String(), s) }

func newLogger(w io.Writer) *log.Logger { return log.New(w, "", 0) }

// simContextServer starts a simulated server whose handler tells when it
// starts and then waits for its request's context to end, telling the
// context's cause.
func simContextServer(t *testing.T) (e *simEnv, started chan struct{}, ended chan error) {
	e = newSimEnv(t)
	e.noEarly.Store(true)
	started, ended = make(chan struct{}, 1), make(chan error, 1)
	e.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-r.Context().Done()
		ended <- context.Cause(r.Context())
	})
	e.startServer(false)
	return e, started, ended
}

// The end of the connection ends a running handler's context, its cause
// the connection's error: the server closing it here.
func TestSimHandlerContextEndsWithConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, started, ended := simContextServer(t)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, e.url+"/", nil)
			if resp, err := e.tr.RoundTrip(req); err == nil {
				resp.Body.Close()
			}
		}()
		<-started
		e.srv.Close()
		cause := <-ended
		var ae *quic.ApplicationError
		if !errors.As(cause, &ae) || ae.Code != uint64(ErrCodeNoError) {
			t.Fatalf("handler's context ended with %v, want the connection's close with H3_NO_ERROR", cause)
		}
	})
}
