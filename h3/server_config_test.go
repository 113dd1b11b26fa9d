package h3

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// serveOnFreePort runs serve on a free loopback UDP port, waits until an
// HTTP/3 GET is answered there, and returns serve's result channel.
func serveOnFreePort(t *testing.T, ctx context.Context, serve func(addr string) error) (addr string, served chan error) {
	t.Helper()
	cert, pool := testCertificate(t)
	// Find a free UDP port: a listener on port 0, closed at once.
	probe, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{TLS: &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{NextProtoH3}}})
	if err != nil {
		t.Fatal(err)
	}
	addr = probe.Addr().String()
	probe.Close()
	served = make(chan error, 1)
	go func() { served <- serve(addr) }()
	tr := &Transport{Mode: ModeHTTP3Only, TLSClientConfig: &tls13.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/", nil)
	// Until the server has bound the port, the dial ends on the ICMP port
	// unreachable: try again then.
	resp, err := tr.RoundTrip(req)
	for tick := time.NewTicker(time.Millisecond); errors.Is(err, quic.ErrUnreachable) && ctx.Err() == nil; <-tick.C {
		resp, err = tr.RoundTrip(req)
	}
	if err != nil {
		select {
		case serr := <-served:
			t.Skipf("serving on %s: %v (port taken meanwhile)", addr, serr)
		default:
		}
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	return addr, served
}

// ListenAndServe takes Server.Addr, as net/http's does; Shutdown makes it
// return ErrServerClosed and leaves no goroutine.
func TestListenAndServe(t *testing.T) {
	ctx := testContext(t)
	cert, _ := testCertificate(t)
	base := takeResources()
	srv := &Server{Handler: okHandler(), TLSConfig: &tls13.Config{Certificates: []tls13.Certificate{cert}}}
	_, served := serveOnFreePort(t, ctx, func(addr string) error {
		srv.Addr = addr
		return srv.ListenAndServe()
	})
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != ErrServerClosed {
		t.Errorf("ListenAndServe returned %v", err)
	}
	waitGoroutines(t, settleContext(t), base)
}

// writePEM writes cert's chain and key as PEM files, as a user has them.
func writePEM(t *testing.T, cert tls13.Certificate) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	var certPEM []byte
	for _, der := range cert.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// ListenAndServeTLS loads PEM files, as net/http's does; Close makes it
// return ErrServerClosed and leaves no goroutine.
func TestListenAndServeTLS(t *testing.T) {
	ctx := testContext(t)
	cert, _ := testCertificate(t)
	certFile, keyFile := writePEM(t, cert)
	base := takeResources()
	srv := &Server{Handler: okHandler()}
	_, served := serveOnFreePort(t, ctx, func(addr string) error {
		srv.Addr = addr
		return srv.ListenAndServeTLS(certFile, keyFile)
	})
	srv.Close()
	if err := <-served; err != ErrServerClosed {
		t.Errorf("ListenAndServeTLS returned %v", err)
	}
	waitGoroutines(t, settleContext(t), base)

	// The package function, with http.DefaultServeMux: it runs until the
	// process ends, so only its start is checked here, on a file that
	// does not exist.
	err := ListenAndServeTLS("127.0.0.1:0", filepath.Join(t.TempDir(), "missing.pem"), keyFile, nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ListenAndServeTLS with a missing certificate file: %v", err)
	}
}

// Misconfigurations fail at ListenAndServe with an error naming the
// field, before anything listens.
func TestListenAndServeConfigErrors(t *testing.T) {
	cert, _ := testCertificate(t)
	for _, tc := range []struct {
		name string
		srv  *Server
		want string
	}{
		{"no TLS config", &Server{}, "TLSConfig"},
		{"no certificate", &Server{TLSConfig: &tls13.Config{}}, "Certificates"},
		{"NextProtos without h3", &Server{TLSConfig: &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{"h2"}}}, "NextProtos"},
	} {
		tc.srv.Addr = "127.0.0.1:0"
		err := tc.srv.ListenAndServe()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
	// An empty NextProtos gets "h3"; one that offers h3 is kept.
	for _, tc := range []struct{ protos, want []string }{
		{nil, []string{"h3"}},
		{[]string{"h3", "h3-29"}, []string{"h3", "h3-29"}},
	} {
		s := &Server{TLSConfig: &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: tc.protos}}
		cfg, err := s.listenConfig("", "")
		if err != nil {
			t.Fatalf("NextProtos %q: %v", tc.protos, err)
		}
		if !slices.Equal(cfg.TLS.NextProtos, tc.want) {
			t.Errorf("NextProtos %q became %q, want %q", tc.protos, cfg.TLS.NextProtos, tc.want)
		}
		if !slices.Equal(s.TLSConfig.NextProtos, tc.protos) {
			t.Errorf("the Server's own TLSConfig was modified")
		}
	}
}
