package h3

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// Stream and connection errors name their HTTP/3 code and keep the QUIC
// error as their cause.
func TestErrorsNameCodes(t *testing.T) {
	ctx := testContext(t)
	bodyErr := make(chan error, 1)
	causes := make(chan error, 1)
	release := make(chan struct{})
	defer close(release)
	uploading := make(chan struct{})
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/panic":
			panic(http.ErrAbortHandler)
		case "/upload":
			io.ReadFull(r.Body, make([]byte, 4))
			close(uploading)
			_, err := io.Copy(io.Discard, r.Body)
			bodyErr <- err
			<-r.Context().Done()
			causes <- context.Cause(r.Context())
		case "/close":
			// The response is not complete when the server closes.
			w.(http.Flusher).Flush()
			<-release
		}
	}))

	// A reset by the server, seen by the client.
	_, err := e.do(t, ctx, http.MethodGet, "/panic", nil)
	var se *StreamError
	var qse *quic.StreamError
	if !errors.As(err, &se) || se.Code != ErrCodeInternalError || !se.Remote || !errors.As(err, &qse) {
		t.Errorf("request whose handler panicked: %v, want an h3 and a quic StreamError", err)
	}
	if err == nil || !strings.Contains(err.Error(), "H3_INTERNAL_ERROR") {
		t.Errorf("error %q does not name H3_INTERNAL_ERROR", err)
	}

	// A reset by the client, seen by the handler: its body read and its
	// context's cause.
	rctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("part of a body"))
		<-uploading
		cancel()
	}()
	e.do(t, rctx, http.MethodPost, "/upload", pr)
	pw.Close()
	err = <-bodyErr
	if !errors.As(err, &se) || se.Code != ErrCodeRequestCancelled || !errors.As(err, &qse) {
		t.Errorf("handler's body read after the client's cancel: %v", err)
	}
	if !strings.Contains(err.Error(), "H3_REQUEST_CANCELLED") || strings.Contains(err.Error(), "0x10c") {
		t.Errorf("error %q does not name H3_REQUEST_CANCELLED", err)
	}
	// The request context's cause says the same: the client's cancel,
	// seen through the stream's context as soon as it arrived.
	if cause := <-causes; !errors.As(cause, &se) || se.Code != ErrCodeRequestCancelled || !se.Remote {
		t.Errorf("request context's cause %v, want the client's H3_REQUEST_CANCELLED", cause)
	}

	// The connection closed by the server, seen by the client.
	resp, err := e.do(t, ctx, http.MethodGet, "/close", nil)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Close()
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	var ce *ConnectionError
	var ae *quic.ApplicationError
	if !errors.As(err, &ce) || ce.Code != ErrCodeNoError || !ce.Remote || !errors.As(err, &ae) {
		t.Errorf("body read after the server closed: %v, want an h3 and a quic application error", err)
	} else if !strings.Contains(err.Error(), "H3_NO_ERROR") {
		t.Errorf("error %q does not name H3_NO_ERROR", err)
	}
}

// A failed handshake reaches the caller of RoundTrip with everything quic
// said: errors.Is finds quic's own error, and errors.As whatever quic
// wraps (a tls13 alert, an x509 error) — nothing is flattened into text.
// Failed dials leave no goroutine.
func TestDialErrorKeepsCause(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, okHandler())
	base := takeResources()
	for _, tc := range []struct {
		name string
		cfg  *tls13.Config
	}{
		{"unknown authority", &tls13.Config{RootCAs: x509.NewCertPool()}},
		{"wrong name", nil}, // set below
	} {
		tr := &Transport{Mode: ModeHTTP3Only, TLSClientConfig: tc.cfg}
		if tc.cfg == nil {
			_, pool := testCertificate(t)
			tr.TLSClientConfig = &tls13.Config{RootCAs: pool, ServerName: "not-the-server.test"}
		}
		var mu sync.Mutex
		var dialErr error
		tr.Dial = func(ctx context.Context, addr string, cfg *quic.Config) (*quic.Conn, error) {
			qc, err := quic.Dial(ctx, "udp", addr, cfg)
			mu.Lock()
			dialErr = err
			mu.Unlock()
			return qc, err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/", nil)
		_, err := tr.RoundTrip(req)
		mu.Lock()
		derr := dialErr
		mu.Unlock()
		if err == nil || derr == nil {
			t.Fatalf("%s: RoundTrip %v, dial %v: want both to fail", tc.name, err, derr)
		}
		t.Logf("%s: %v", tc.name, err)
		if !errors.Is(err, derr) {
			t.Errorf("%s: RoundTrip's error %v does not wrap the dial's %v", tc.name, err, derr)
		}
		var te *quic.TransportError
		if errors.As(derr, &te) && !errors.As(err, &te) {
			t.Errorf("%s: errors.As finds no quic.TransportError", tc.name)
		}
		var alert tls13.AlertError
		if errors.As(derr, &alert) && !errors.As(err, &alert) {
			t.Errorf("%s: errors.As finds no tls13.AlertError", tc.name)
		}
		var ua x509.UnknownAuthorityError
		if errors.As(derr, &ua) && !errors.As(err, &ua) {
			t.Errorf("%s: errors.As finds no x509.UnknownAuthorityError", tc.name)
		}
		var he x509.HostnameError
		if errors.As(derr, &he) && !errors.As(err, &he) {
			t.Errorf("%s: errors.As finds no x509.HostnameError", tc.name)
		}
		tr.CloseIdleConnections()
	}
	waitGoroutines(t, settleContext(t), base)
}
