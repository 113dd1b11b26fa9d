package main

import (
	"context"
	"errors"
	"io"
	"log"
	"testing"
	"time"

	"github.com/skiffnet/skiff/h3"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// skiff get closes its QUIC connection before it exits: the server learns
// of the close from the client's CONNECTION_CLOSE, not from an idle
// timeout.
func TestGetSendsConnectionClose(t *testing.T) {
	t.Parallel()
	cert := newTestCert(t)
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{TLS: &tls13.Config{Certificates: []tls13.Certificate{cert.cert}, NextProtos: []string{h3.NextProtoH3}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := &h3.Server{Handler: (&origin{hits: map[string]int{}}).handler(), ErrorLog: log.New(io.Discard, "", 0)}
	defer srv.Close()
	conns := make(chan *quic.Conn, 1)
	go func() {
		for {
			qc, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			conns <- qc
			go srv.ServeConn(qc)
		}
	}()
	r := runSkiff(t, "get", "--http3-only", "--cacert", cert.certFile, "https://"+ln.Addr().String()+"/hello")
	if r.code != 0 || r.stdout != "hello\n" {
		t.Fatalf("skiff get: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	qc := <-conns
	// The idle timeout is 30 s: a close within 5 s of the exit is the
	// client's.
	select {
	case <-qc.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the server's connection is still open 5 s after skiff get exited")
	}
	var ae *quic.ApplicationError
	if err := context.Cause(qc.Context()); !errors.As(err, &ae) || !ae.Remote || ae.Code != uint64(h3.ErrCodeNoError) {
		t.Errorf("the server's connection ended with %v, want the client's H3_NO_ERROR", err)
	}
}
