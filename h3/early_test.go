package h3

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// simEnv is an HTTP/3 server and a Transport on a simulated network with
// a 100 ms round trip, inside a synctest bubble.
type simEnv struct {
	t       *testing.T
	net     *netsim.Network
	tr      *Transport
	client  *quic.Endpoint
	url     string
	cert    tls13.Certificate
	keys    [][32]byte // the servers' shared ticket keys
	filter  tls13.ReplayFilter
	server  *quic.Listener
	srv     *Server
	noEarly atomic.Bool // dial with quic.Dial rather than DialEarly
	// requests counts the handler's calls; early those marked Early-Data.
	requests, early atomic.Int32
	// tooEarly makes the handler answer 425 to early requests.
	tooEarly atomic.Bool
	// handler, when set before startServer, serves instead of handle.
	handler http.Handler
}

var (
	simServer = netip.MustParseAddrPort("198.18.0.2:443")
	simClient = netip.MustParseAddrPort("198.18.0.1:40000")
)

const simRTT = 100 * time.Millisecond

func newSimEnv(t *testing.T) *simEnv {
	t.Helper()
	cert, pool, err := selfsigned.New(simServer.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	e := &simEnv{t: t, net: netsim.NewNetwork(), cert: cert, url: "https://" + simServer.String(), keys: [][32]byte{{7}}, filter: tls13.NewReplayFilter(0)}
	imp := netsim.Impairment{Delay: simRTT / 2}
	e.net.SetLink(simClient.Addr(), simServer.Addr(), netsim.NewLink(imp, 1))
	e.net.SetLink(simServer.Addr(), simClient.Addr(), netsim.NewLink(imp, 2))
	pc, err := e.net.Listen(simClient)
	if err != nil {
		t.Fatal(err)
	}
	if e.client, err = quic.NewEndpointOn(pc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.client.Close() })
	e.tr = &Transport{
		Mode:            ModeHTTP3Only,
		TLSClientConfig: &tls13.Config{RootCAs: pool},
		Dial: func(ctx context.Context, addr string, cfg *quic.Config) (*quic.Conn, error) {
			ap := netip.MustParseAddrPort(addr)
			if e.noEarly.Load() {
				return e.client.Dial(ctx, ap, cfg)
			}
			return e.client.DialEarly(ctx, ap, cfg)
		},
	}
	t.Cleanup(e.tr.CloseIdleConnections)
	return e
}

// startServer (re)starts the server at simServer, accepting 0-RTT or not.
func (e *simEnv) startServer(allow0RTT bool) {
	t := e.t
	if e.srv != nil {
		e.srv.Close()
		e.server.Close()
	}
	pc, err := e.net.Listen(simServer)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls13.Config{Certificates: []tls13.Certificate{e.cert}, NextProtos: []string{NextProtoH3}, SessionTicketKeys: e.keys, ReplayFilter: e.filter}
	ln, err := quic.ListenOn(pc, &quic.Config{TLS: tc, Allow0RTT: allow0RTT})
	if err != nil {
		t.Fatal(err)
	}
	e.server = ln
	var h http.Handler = http.HandlerFunc(e.handle)
	if e.handler != nil {
		h = e.handler
	}
	e.srv = &Server{Handler: h, TLSConfig: tc}
	go e.srv.Serve(ln)
	t.Cleanup(func() { e.srv.Close() })
}

func (e *simEnv) handle(w http.ResponseWriter, r *http.Request) {
	e.requests.Add(1)
	if r.Header.Get("Early-Data") == "1" {
		e.early.Add(1)
		if e.tooEarly.Load() {
			w.WriteHeader(http.StatusTooEarly)
			return
		}
	}
	body, _ := io.ReadAll(r.Body)
	io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(body))
}

// fresh sends a request on a new connection (the previous ones closed,
// their session tickets kept) and returns the body, the response and the
// time to the first response byte, once the connection's own tickets
// arrived.
func (e *simEnv) fresh(method, path, body string) (string, *http.Response, time.Duration) {
	t := e.t
	t.Helper()
	e.tr.CloseIdleConnections()
	var first time.Duration
	start := time.Now()
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotFirstResponseByte: func() { first = time.Since(start) },
	})
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the session tickets of the connection arrive
	return string(b), resp, first
}

// The time to the first response byte of an HTTP/3 GET over a 100 ms
// path: a fresh connection, a resumed one without 0-RTT, and a 0-RTT one
// (the handshake counted): about 2, 2 and 1 round trips.
func TestSimTimeToFirstByte(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newSimEnv(t)
		e.startServer(true)
		check := func(name string, ttfb time.Duration, rtts int) {
			t.Logf("%s: first response byte after %v (%.1f RTT)", name, ttfb.Round(time.Millisecond), float64(ttfb)/float64(simRTT))
			if want := time.Duration(rtts) * simRTT; ttfb < want || ttfb > want+simRTT/2 {
				t.Errorf("%s: %v, want about %d RTT", name, ttfb, rtts)
			}
		}

		e.noEarly.Store(true)
		body, resp, ttfb := e.fresh("GET", "/a", "")
		if body != "GET /a " || resp.TLS == nil || resp.TLS.DidResume {
			t.Fatalf("fresh: %q, TLS %+v", body, resp.TLS)
		}
		check("fresh connection", ttfb, 2)

		body, resp, ttfb = e.fresh("GET", "/b", "")
		if body != "GET /b " || !resp.TLS.DidResume {
			t.Fatalf("resumed: %q, resumed %v", body, resp.TLS.DidResume)
		}
		check("resumed, 1-RTT", ttfb, 2)

		e.noEarly.Store(false)
		body, resp, ttfb = e.fresh("GET", "/c", "")
		if body != "GET /c " || !resp.TLS.DidResume {
			t.Fatalf("0-RTT: %q, resumed %v", body, resp.TLS.DidResume)
		}
		check("0-RTT", ttfb, 1)
		if n := e.early.Load(); n != 1 {
			t.Fatalf("%d requests marked Early-Data, want 1", n)
		}
		cc := e.tr.connPool().all()[0]
		if cc.c.remembered == nil || !cc.qc.ConnectionState().EarlyDataAccepted {
			t.Fatal("0-RTT connection without remembered SETTINGS, or not accepted")
		}
	})
}

// A server that refuses 0-RTT (restarted without it; the ticket still
// resumes): the request sent in 0-RTT goes again in 1-RTT and is answered
// once.
func TestSimZeroRTTRejectedAnsweredOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newSimEnv(t)
		e.startServer(true)
		e.fresh("GET", "/warm", "")
		e.fresh("GET", "/warm", "") // a session from a connection that knew the SETTINGS
		e.startServer(false)
		before, earlyBefore := e.requests.Load(), e.early.Load()
		body, resp, ttfb := e.fresh("GET", "/once", "")
		if body != "GET /once " || !resp.TLS.DidResume {
			t.Fatalf("%q, resumed %v", body, resp.TLS.DidResume)
		}
		cc := e.tr.connPool().all()[0]
		if !cc.early.attempted || cc.qc.ConnectionState().EarlyDataAccepted {
			t.Fatal("0-RTT not attempted, or accepted")
		}
		t.Logf("0-RTT refused: first response byte after %v", ttfb.Round(time.Millisecond))
		if n := e.requests.Load() - before; n != 1 {
			t.Fatalf("handler ran %d times, want once", n)
		}
		if e.early.Load() != earlyBefore {
			t.Fatal("a request marked Early-Data on a server refusing 0-RTT")
		}
	})
}

// RFC 8470: a handler answers 425 Too Early to a request marked
// Early-Data; the client sends it again after the handshake and gets the
// real answer. A request that may not go in 0-RTT (a POST) waits for the
// handshake and is never marked.
func TestSimTooEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newSimEnv(t)
		e.startServer(true)
		e.fresh("GET", "/warm", "")
		e.tooEarly.Store(true)
		before, earlyBefore := e.requests.Load(), e.early.Load()
		body, resp, ttfb := e.fresh("GET", "/late", "")
		if resp.StatusCode != http.StatusOK || body != "GET /late " {
			t.Fatalf("status %d, %q", resp.StatusCode, body)
		}
		if n, early := e.requests.Load()-before, e.early.Load()-earlyBefore; n != 2 || early != 1 {
			t.Fatalf("handler ran %d times (%d early), want 2 (1)", n, early)
		}
		t.Logf("425 and retry: first byte of the retried answer after %v", ttfb.Round(time.Millisecond))

		body, _, ttfb = e.fresh("POST", "/pay", "10")
		if body != "POST /pay 10" || e.early.Load() != earlyBefore+1 {
			t.Fatalf("POST: %q, %d early requests", body, e.early.Load()-earlyBefore)
		}
		if ttfb < 2*simRTT {
			t.Fatalf("POST answered after %v: it did not wait for the handshake", ttfb)
		}
	})
}

// The discovery transport (ModeRace, real sockets on loopback, through a
// relay adding 25 ms each way so that the request is written well before
// the handshake ends): its second connection to a server resumes the
// first one's session, and its GET goes in 0-RTT.
func TestTransportResumesAndSendsEarly(t *testing.T) {
	cert, pool := testCertificate(t)
	var early atomic.Int32
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Early-Data") == "1" {
			early.Add(1)
		}
		io.WriteString(w, "ok")
	})}
	tc := &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{NextProtoH3}}
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{TLS: tc, Allow0RTT: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	relay, err := netsim.NewRelay(ln.Addr(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	relay.Upstream.Set(netsim.Impairment{Delay: 25 * time.Millisecond})
	relay.Down.Set(netsim.Impairment{Delay: 25 * time.Millisecond})
	tr := &Transport{Mode: ModeRace, TLSClientConfig: &tls13.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	ctx := testContext(t)
	url := "https://" + relay.Addr().String() + "/"
	get := func() *http.Response {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 3 {
			t.Fatalf("%s over %s", url, resp.Proto)
		}
		return resp
	}
	if resp := get(); resp.TLS.DidResume {
		t.Fatal("first connection resumed")
	}
	key := relay.Addr().String()
	for ctx.Err() == nil {
		if cs, ok := tr.sessions.Get(key); ok && cs != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	tr.CloseIdleConnections()
	resp := get()
	if !resp.TLS.DidResume || early.Load() != 1 {
		all := tr.connPool().all()
		for _, cc := range all {
			t.Logf("conn attempted %v accepted %v", cc.early.attempted, cc.qc.ConnectionState().EarlyDataAccepted)
		}
		t.Fatalf("second connection: resumed %v, %d early requests", resp.TLS.DidResume, early.Load())
	}
}

// RFC 9114 §7.2.4.2: a server that accepted 0-RTT must not announce
// SETTINGS smaller than those 0-RTT relied on.
func TestSettingsReduced(t *testing.T) {
	was := frame.Settings{MaxFieldSectionSize: 1 << 16, QPACKMaxTableCapacity: 4096, QPACKBlockedStreams: 16}
	for _, tc := range []struct {
		now     frame.Settings
		reduced bool
	}{
		{was, false},
		{frame.Settings{MaxFieldSectionSize: 0, QPACKMaxTableCapacity: 8192, QPACKBlockedStreams: 16}, false}, // 0: unlimited
		{frame.Settings{MaxFieldSectionSize: 1 << 10, QPACKMaxTableCapacity: 4096, QPACKBlockedStreams: 16}, true},
		{frame.Settings{MaxFieldSectionSize: 1 << 16, QPACKMaxTableCapacity: 0, QPACKBlockedStreams: 16}, true},
		{frame.Settings{MaxFieldSectionSize: 1 << 16, QPACKMaxTableCapacity: 4096}, true},
	} {
		if got := settingsReduced(&was, &tc.now); got != tc.reduced {
			t.Errorf("%+v: reduced %v, want %v", tc.now, got, tc.reduced)
		}
	}
}

// A race that gave a request to a 0-RTT connection whose handshake does
// not complete (the path stopped carrying UDP) closes it after the limit,
// so that the request fails over to TCP rather than waiting for the
// handshake timeout.
func TestSimWatchEarlyClosesStuckHandshake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newSimEnv(t)
		e.startServer(true)
		e.fresh("GET", "/warm", "")
		e.tr.CloseIdleConnections()
		e.net.SetLink(simServer.Addr(), simClient.Addr(), netsim.NewLink(netsim.Impairment{Blackhole: true}, 3))
		cc, _, err := e.tr.h3c.dialConn(context.Background(), route{origin: originOf("https", simServer.String()), addr: simServer.String()})
		if err != nil {
			t.Fatal(err)
		}
		if !cc.early.attempted {
			t.Fatal("not a 0-RTT connection")
		}
		start := time.Now()
		e.tr.watchEarly(cc, 300*time.Millisecond)
		<-cc.qc.Context().Done()
		if d := time.Since(start); d != 300*time.Millisecond {
			t.Fatalf("closed after %v, want 300ms", d)
		}
	})
}
