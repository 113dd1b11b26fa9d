package h3

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic"
)

// blackhole is a UDP socket that reads and drops everything.
func blackhole(t testing.TB) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// closedUDPPort returns a loopback UDP port where nothing listens.
func closedUDPPort(t testing.TB) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	return port
}

// waitEvent waits until the trace has n events starting with prefix.
func waitEvent(ctx context.Context, t *testing.T, l *traceLog, prefix string, n int) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for l.count(prefix) < n {
		select {
		case <-ctx.Done():
			t.Fatalf("no %q event: %s", prefix, l.String())
		case <-tick.C:
		}
	}
}

// UDP blackholed: every request succeeds over TCP; the first that races
// waits out the head start and no more; later ones do not wait while the
// QUIC dial is pending; the alternative is marked broken when the dial
// fails, tried again after the backoff, and broken again for twice as long.
func TestUDPBlackholed(t *testing.T) {
	ctx := testContext(t)
	const handshakeTimeout = 3 * time.Second
	e := newDiscoEnv(t, discoOptions{noH3: true}, func(tr *Transport) {
		tr.QUICConfig = &quic.Config{HandshakeTimeout: handshakeTimeout}
	})
	port := blackhole(t)
	e.setAltSvc(fmt.Sprintf(`h3=":%d"`, port))
	e.mustGet(ctx, "/1", "HTTP/2.0")

	headStart := e.tr.alts.headStart(route{origin: originOf("https", e.tcpAddr.String()), addr: fmt.Sprintf("127.0.0.1:%d", port)})
	start := time.Now()
	e.mustGet(ctx, "/2", "HTTP/2.0")
	first := time.Since(start)
	if e.events.count("start tcp") != 1 || e.events.count("start tcp 127.0.0.1") != 1 {
		t.Fatalf("no TCP start after the head start: %s", e.events.String())
	}
	if first < headStart || first > headStart+2*time.Second {
		t.Fatalf("first racing request took %v, head start %v", first, headStart)
	}
	t.Logf("UDP blackholed: first racing request over TCP after %v (head start %v)", first, headStart)

	// While the dial is pending, requests do not wait again.
	for i := range 3 {
		start := time.Now()
		e.mustGet(ctx, fmt.Sprintf("/pending%d", i), "HTTP/2.0")
		t.Logf("request while QUIC is pending: %v", time.Since(start))
	}
	if n := e.events.count("start h3"); n != 1 {
		t.Fatalf("%d races, want 1 while the dial is pending: %s", n, e.events.String())
	}

	waitEvent(ctx, t, &e.events, "broken", 1)
	e.mustGet(ctx, "/3", "HTTP/2.0")
	if n := e.events.count("start h3"); n != 1 {
		t.Fatalf("a broken alternative was raced: %s", e.events.String())
	}

	// After the backoff the alternative is tried again, fails again, and
	// is broken for twice as long.
	e.clock.Advance(brokenInitial + time.Second)
	e.mustGet(ctx, "/4", "HTTP/2.0")
	if n := e.events.count("start h3"); n != 2 {
		t.Fatalf("the alternative was not retried after the backoff: %s", e.events.String())
	}
	waitEvent(ctx, t, &e.events, "broken", 2)
	if until := e.tr.alts.brokenUntil(route{origin: originOf("https", e.tcpAddr.String()), addr: fmt.Sprintf("127.0.0.1:%d", port)}, e.clock.Now()); until.Sub(e.clock.Now()) != 2*brokenInitial {
		t.Fatalf("second mark lasts %v, want %v", until.Sub(e.clock.Now()), 2*brokenInitial)
	}
	if e.h3Reqs.Load() != 0 {
		t.Fatal("HTTP/3 requests counted with no HTTP/3 server")
	}
}

// UDP port closed: the ICMP port unreachable ends the QUIC attempt at
// once and TCP starts then, not after the head start.
func TestUDPPortClosed(t *testing.T) {
	ctx := testContext(t)
	e := newDiscoEnv(t, discoOptions{noH3: true}, func(tr *Transport) {
		tr.QUICConfig = &quic.Config{HandshakeTimeout: 20 * time.Second}
	})
	port := closedUDPPort(t)
	e.setAltSvc(fmt.Sprintf(`h3=":%d"`, port))
	e.mustGet(ctx, "/1", "HTTP/2.0")

	start := time.Now()
	e.mustGet(ctx, "/2", "HTTP/2.0")
	took := time.Since(start)
	if e.events.count("start tcp 127.0.0.1") != 1 || e.events.count("start tcp "+e.tcpAddr.String()+" quic failed") != 1 {
		t.Fatalf("TCP did not start on the QUIC failure: %s", e.events.String())
	}
	if e.events.count("broken") != 1 {
		t.Fatalf("alternative not marked broken: %s", e.events.String())
	}
	t.Logf("UDP port closed: request over TCP after %v (head start %v)", took, 300*time.Millisecond)
}

// 200 concurrent requests right after the origin advertised HTTP/3 open
// exactly one QUIC connection, and all succeed.
func TestConcurrentSwitchOneConnection(t *testing.T) {
	ctx := testContext(t)
	e := newDiscoEnv(t, discoOptions{})
	e.advertise("")
	e.mustGet(ctx, "/1", "HTTP/2.0")
	var wg sync.WaitGroup
	var h3, tcp atomic.Int32
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			proto, _, err := e.get(ctx, fmt.Sprintf("/c%d", i))
			switch {
			case err != nil:
				errs <- err
			case proto == "HTTP/3.0":
				h3.Add(1)
			default:
				tcp.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := e.dials.Load(); n != 1 {
		t.Fatalf("%d QUIC dials, want 1", n)
	}
	accepted := 0
	e.srvConns.Range(func(_, _ any) bool { accepted++; return true })
	if accepted != 1 {
		t.Fatalf("the server accepted %d QUIC connections, want 1", accepted)
	}
	t.Logf("200 concurrent requests: %d over HTTP/3, %d over TCP, one QUIC connection", h3.Load(), tcp.Load())
}

// A TCP attempt that lost its race writes nothing, over HTTP/1.1 (its
// connection is closed) or HTTP/2 (the request fails before its HEADERS):
// the server sees no request. One that won sends as usual.
func TestLosingTCPAttemptSendsNothing(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			ctx := testContext(t)
			cert, pool := discoCertificate(t)
			var seen atomic.Int32
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen.Add(1) }))
			srv.EnableHTTP2 = h2
			srv.TLS = tlsServerConfig(cert)
			srv.Config.ErrorLog = discardLog()
			srv.StartTLS()
			defer srv.Close()
			tcp := &http.Transport{TLSClientConfig: tlsClientConfig(pool), ForceAttemptHTTP2: true}
			defer tcp.CloseIdleConnections()

			send := func(r *race) error {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
				req = req.WithContext(httptraceWith(ctx, tcpGate(r, req)))
				resp, err := tcp.RoundTrip(req)
				if err == nil {
					resp.Body.Close()
				}
				return err
			}
			// Warm the pool so that HTTP/2 reuses a connection, as a
			// shared one would be.
			if err := send(&race{}); err != nil {
				t.Fatal(err)
			}
			lost := &race{}
			lost.claim(sideH3)
			if err := send(lost); err == nil {
				t.Fatal("a lost TCP attempt returned a response")
			}
			if n := seen.Load(); n != 1 {
				t.Fatalf("server saw %d requests, want 1 (the lost attempt wrote)", n)
			}
			if err := send(&race{}); err != nil {
				t.Fatalf("the next request failed: %v", err)
			}
			if n := seen.Load(); n != 2 {
				t.Fatalf("server saw %d requests, want 2", n)
			}
		})
	}
}
