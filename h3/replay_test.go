package h3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// onceReader is a body without GetBody: it cannot be sent twice.
type onceReader struct{ r io.Reader }

func (o *onceReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// A request whose HTTP/3 connection dies before any response byte is
// replayed over TCP once when it is idempotent; a POST is not (its
// connection died after it was sent, so the server may have acted on it)
// and fails with an error matching ErrRetryable; the servers count what
// arrived.
func TestReplayOverTCP(t *testing.T) {
	ctx := testContext(t)
	// The test reconnects after killing connections: QUIC must win those
	// races whatever the machine's load.
	e := newDiscoEnv(t, discoOptions{}, func(tr *Transport) { tr.HeadStart = 10 * time.Second })
	e.advertise("")
	e.mustGet(ctx, "/1", "HTTP/2.0")
	e.mustGet(ctx, "/2", "HTTP/3.0")
	// From now on HTTP/3 requests kill their connection, and their handler
	// never answers (the close is asynchronous: an answer could beat it).
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	e.setHandler(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 3 {
			io.Copy(io.Discard, r.Body)
			e.killServerConns()
			<-release
			return
		}
		io.Copy(io.Discard, r.Body)
		w.Write([]byte(r.Proto))
	})

	tcp0, h30 := e.tcpReqs.Load(), e.h3Reqs.Load()
	proto, _, err := e.get(ctx, "/idempotent")
	if err != nil || proto != "HTTP/2.0" {
		t.Fatalf("GET: %v over %q, want a replay over TCP; events %s", err, proto, e.events.String())
	}
	if e.h3Reqs.Load()-h30 != 1 || e.tcpReqs.Load()-tcp0 != 1 {
		t.Fatalf("GET reached HTTP/3 %d times and TCP %d times, want once each", e.h3Reqs.Load()-h30, e.tcpReqs.Load()-tcp0)
	}
	if e.events.count("replayed GET") != 1 {
		t.Fatalf("no replay event: %s", e.events.String())
	}

	// Reconnect over HTTP/3 for the POSTs.
	for _, tc := range []struct {
		name string
		body func() io.Reader
	}{
		{"no GetBody", func() io.Reader { return &onceReader{strings.NewReader("pay")} }},
		{"GetBody", func() io.Reader { return strings.NewReader("pay") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.handler.Store(nil)
			e.mustGet(ctx, "/warm", "HTTP/3.0")
			e.setHandler(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if r.ProtoMajor == 3 {
					e.killServerConns()
					<-release
				}
			})
			tcp0, h30 := e.tcpReqs.Load(), e.h3Reqs.Load()
			e.events.reset()
			proto, _, err := e.do(ctx, e.url, http.MethodPost, "/pay", tc.body())
			if !errors.Is(err, ErrRetryable) {
				t.Fatalf("POST error %v over %q, want one matching ErrRetryable; events %s", err, proto, e.events.String())
			}
			var re *RetryableError
			if !errors.As(err, &re) || re.Unprocessed {
				t.Fatalf("POST error %#v, want a RetryableError that is not Unprocessed", err)
			}
			if e.h3Reqs.Load()-h30 != 1 || e.tcpReqs.Load() != tcp0 {
				t.Fatalf("POST reached HTTP/3 %d times and TCP %d times, want once and never", e.h3Reqs.Load()-h30, e.tcpReqs.Load()-tcp0)
			}
		})
	}
}

// idempotent follows RFC 9110 §9.2.2 and the Idempotency-Key convention.
func TestIdempotent(t *testing.T) {
	for _, tc := range []struct {
		method string
		key    bool
		want   bool
	}{
		{"GET", false, true}, {"HEAD", false, true}, {"PUT", false, true}, {"DELETE", false, true},
		{"OPTIONS", false, true}, {"POST", false, false}, {"PATCH", false, false}, {"POST", true, true},
	} {
		req, _ := http.NewRequest(tc.method, "https://example.com/", nil)
		if tc.key {
			req.Header.Set("Idempotency-Key", "k")
		}
		if got := idempotent(req); got != tc.want {
			t.Errorf("idempotent(%s, key=%v) = %v, want %v", tc.method, tc.key, got, tc.want)
		}
	}
}

// rejectingServer is an HTTP/3 endpoint that refuses every request stream
// with H3_REQUEST_REJECTED (RFC 9114 §4.1.1: not processed).
func rejectingServer(t *testing.T, ctx context.Context) (port int, rejected *atomic.Int32) {
	t.Helper()
	cert, _ := discoCertificate(t)
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{TLS: &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{NextProtoH3}}})
	if err != nil {
		t.Fatal(err)
	}
	rejected = new(atomic.Int32)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			qc, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			go func() {
				for {
					s, err := qc.AcceptStream(ctx)
					if err != nil {
						return
					}
					rejected.Add(1)
					s.CloseRead(uint64(ErrCodeRequestRejected))
					s.Reset(uint64(ErrCodeRequestRejected))
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return int(ln.Addr().Port()), rejected
}

// A request the server refused unprocessed is replayed over TCP when its
// body can be had again, even a POST; without GetBody it fails with an
// Unprocessed RetryableError.
func TestReplayUnprocessed(t *testing.T) {
	ctx := testContext(t)
	e := newDiscoEnv(t, discoOptions{noH3: true})
	port, rejected := rejectingServer(t, ctx)
	e.setAltSvc(fmt.Sprintf(`h3=":%d"`, port))
	e.mustGet(ctx, "/1", "HTTP/2.0")

	proto, _, err := e.do(ctx, e.url, http.MethodPost, "/pay", strings.NewReader("pay"))
	if err != nil || proto != "HTTP/2.0" {
		t.Fatalf("POST with GetBody: %v over %q, want a replay over TCP; events %s", err, proto, e.events.String())
	}
	if rejected.Load() != 1 || e.tcpReqs.Load() != 2 {
		t.Fatalf("%d rejected over HTTP/3, %d TCP requests; want 1 and 2", rejected.Load(), e.tcpReqs.Load())
	}

	_, _, err = e.do(ctx, e.url, http.MethodPost, "/pay", &onceReader{strings.NewReader("pay")})
	var re *RetryableError
	if !errors.As(err, &re) || !re.Unprocessed || !errors.Is(err, ErrRetryable) {
		t.Fatalf("POST without GetBody: error %v, want an Unprocessed RetryableError", err)
	}
	if rejected.Load() != 2 || e.tcpReqs.Load() != 2 {
		t.Fatalf("%d rejected over HTTP/3, %d TCP requests; want 2 and 2", rejected.Load(), e.tcpReqs.Load())
	}
}
