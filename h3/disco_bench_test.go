package h3

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic"
)

// BenchmarkDiscovery times, on loopback, what a user of the Transport
// waits for, each iteration with a new Transport (nothing learned, no
// connection): the first response byte of the first request (over TCP:
// TCP and TLS handshakes, HTTP/2) and of the second (over HTTP/3: the QUIC
// handshake, raced against TCP), and a request that races an alternative
// that does not answer: UDP blackholed (TCP after the 300 ms head start)
// and UDP port closed (TCP on the ICMP error). Each reports ms/op of that
// request alone as "ms-first-byte" or "ms-fallback".
//
//	go test -run NONE -bench Discovery -benchtime 20x ./h3
func BenchmarkDiscovery(b *testing.B) {
	b.Run("first-byte/request1-tcp", func(b *testing.B) {
		e := newDiscoEnv(b, discoOptions{})
		e.advertise("")
		benchRequest(b, e, 1, "HTTP/2.0", "ms-first-byte")
	})
	b.Run("first-byte/request2-h3", func(b *testing.B) {
		e := newDiscoEnv(b, discoOptions{})
		e.advertise("")
		benchRequest(b, e, 2, "HTTP/3.0", "ms-first-byte")
	})
	b.Run("fallback/udp-blackholed", func(b *testing.B) {
		e := newDiscoEnv(b, discoOptions{noH3: true})
		e.setAltSvc(fmt.Sprintf(`h3=":%d"`, blackhole(b)))
		benchRequest(b, e, 2, "HTTP/2.0", "ms-fallback", func(tr *Transport) {
			tr.QUICConfig = &quic.Config{HandshakeTimeout: time.Second}
		})
	})
	b.Run("fallback/udp-port-closed", func(b *testing.B) {
		e := newDiscoEnv(b, discoOptions{noH3: true})
		e.setAltSvc(fmt.Sprintf(`h3=":%d"`, closedUDPPort(b)))
		benchRequest(b, e, 2, "HTTP/2.0", "ms-fallback")
	})
}

// benchRequest times request n (1 or 2) of a new Transport until its first
// response byte, and checks it went over want.
func benchRequest(b *testing.B, e *discoEnv, n int, want, metric string, configure ...func(*Transport)) {
	ctx := context.Background()
	var total time.Duration
	for b.Loop() {
		tr := e.newTransport(configure...)
		tr.Trace = nil
		if n == 2 {
			b.StopTimer()
			roundTrip(b, ctx, tr, e.url+"/1", "HTTP/2.0")
			b.StartTimer()
		}
		var first time.Time
		start := time.Now()
		tctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }})
		roundTrip(b, tctx, tr, e.url+"/2", want)
		total += first.Sub(start)
		b.StopTimer()
		tr.CloseIdleConnections()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), metric)
}

func roundTrip(b *testing.B, ctx context.Context, tr *Transport, url, want string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Proto != want {
		b.Fatalf("%s over %s, want %s", url, resp.Proto, want)
	}
}
