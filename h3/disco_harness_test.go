package h3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// The discovery tests run a real origin on loopback: a net/http TLS server
// (HTTP/2, or HTTP/1.1 only) that advertises HTTP/3 with Alt-Svc, beside an
// h3.Server on a UDP port, both with one certificate; and a Transport in
// ModeAuto (or another mode) that talks to them. The Transport's clock is a
// fakeClock, so that expiry and backoff are stepped through, not waited
// for.

// discoCertificate is the tests' certificate (harness_test.go), which
// covers every name the discovery tests use.
func discoCertificate(t testing.TB) (tls13.Certificate, *x509.CertPool) { return testCertificate(t) }

// fakeClock is a Transport's clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now().UTC().Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type discoOptions struct {
	http1    bool               // the TCP server speaks HTTP/1.1 only
	h3Cert   *tls13.Certificate // the HTTP/3 server's certificate, if not the origin's
	noH3     bool               // no HTTP/3 server
	samePort bool               // the HTTP/3 and TCP servers listen on one port number
	resolver *fakeResolver
}

type discoEnv struct {
	t       testing.TB
	tcpSrv  *httptest.Server
	h3Srv   *Server
	h3ln    *quic.Listener
	h3Addr  netip.AddrPort
	tcpAddr netip.AddrPort
	url     string // https://127.0.0.1:tcpport
	tr      *Transport
	clock   *fakeClock
	// resolver, when set, answers the Transports' DNS questions.
	resolver *fakeResolver

	altSvc   atomic.Pointer[string] // the Alt-Svc value sent, if any
	tcpReqs  atomic.Int64
	h3Reqs   atomic.Int64
	altUsed  atomic.Pointer[string] // the last Alt-Used received over HTTP/3
	dials    atomic.Int32           // QUIC dials by the client
	handler  atomic.Pointer[http.HandlerFunc]
	srvConns sync.Map // *quic.Conn of the HTTP/3 server → struct{}
	events   traceLog
}

// listenDisco opens the HTTP/3 server's listener on 127.0.0.1 and, with
// samePort, a TCP listener on the same port number, which it holds from
// the start: a port found free and closed again could be taken (by any
// connection's ephemeral port) before the server binds it.
func listenDisco(t testing.TB, cert tls13.Certificate, samePort bool) (*quic.Listener, net.Listener) {
	t.Helper()
	conf := &quic.Config{TLS: &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{NextProtoH3}}}
	for range 20 {
		ln, err := quic.Listen("udp", "127.0.0.1:0", conf)
		if err != nil {
			t.Fatal(err)
		}
		if !samePort {
			return ln, nil
		}
		if tcpLn, err := net.Listen("tcp", ln.Addr().String()); err == nil {
			return ln, tcpLn
		}
		ln.Close()
	}
	t.Skip("no port number free for both UDP and TCP on 127.0.0.1 in 20 tries")
	return nil, nil
}

func newDiscoEnv(t testing.TB, o discoOptions, configure ...func(*Transport)) *discoEnv {
	t.Helper()
	cert, _ := discoCertificate(t)
	e := &discoEnv{t: t, clock: newFakeClock()}

	var tcpLn net.Listener
	if !o.noH3 {
		h3Cert := cert
		if o.h3Cert != nil {
			h3Cert = *o.h3Cert
		}
		e.h3Srv = &Server{Handler: http.HandlerFunc(e.serve), TLSConfig: &tls13.Config{Certificates: []tls13.Certificate{h3Cert}}}
		var ln *quic.Listener
		ln, tcpLn = listenDisco(t, h3Cert, o.samePort)
		e.h3ln, e.h3Addr = ln, ln.Addr()
		served := make(chan struct{})
		go func() {
			defer close(served)
			for {
				qc, err := ln.Accept(context.Background())
				if err != nil {
					return
				}
				e.srvConns.Store(qc, struct{}{})
				go e.h3Srv.ServeConn(qc)
			}
		}()
		t.Cleanup(func() {
			e.h3Srv.Close()
			ln.Close()
			<-served
		})
	}

	e.tcpSrv = httptest.NewUnstartedServer(http.HandlerFunc(e.serve))
	if tcpLn != nil {
		e.tcpSrv.Listener.Close()
		e.tcpSrv.Listener = tcpLn
	}
	e.tcpSrv.EnableHTTP2 = !o.http1
	e.tcpSrv.TLS = tlsServerConfig(cert)
	e.tcpSrv.Config.ErrorLog = discardLog()
	e.tcpSrv.StartTLS()
	t.Cleanup(e.tcpSrv.Close)
	e.tcpAddr = netip.MustParseAddrPort(e.tcpSrv.Listener.Addr().String())
	e.url = "https://" + e.tcpAddr.String()

	e.resolver = o.resolver
	e.tr = e.newTransport(configure...)
	t.Cleanup(func() { e.tr.CloseIdleConnections() })
	return e
}

// newTransport returns a Transport for the environment's servers, with
// nothing learned yet.
func (e *discoEnv) newTransport(configure ...func(*Transport)) *Transport {
	_, pool := discoCertificate(e.t)
	tr := &Transport{
		TLSClientConfig: &tls13.Config{RootCAs: pool},
		Dial: func(ctx context.Context, addr string, cfg *quic.Config) (*quic.Conn, error) {
			e.dials.Add(1)
			return quic.Dial(ctx, "udp", addr, cfg)
		},
		Trace: e.events.trace(),
		now:   e.clock.Now,
	}
	if e.resolver != nil {
		tr.resolver = e.resolver
	}
	tr.TCP = &http.Transport{
		TLSClientConfig:   tlsClientConfig(pool),
		ForceAttemptHTTP2: true,
		DialContext:       tr.DialTCP,
	}
	for _, f := range configure {
		f(tr)
	}
	return tr
}

// serve is both servers' handler: it counts requests by protocol, sends
// the configured Alt-Svc, notes Alt-Used, and answers with the protocol.
func (e *discoEnv) serve(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 3 {
		e.h3Reqs.Add(1)
		v := r.Header.Get("Alt-Used")
		e.altUsed.Store(&v)
	} else {
		e.tcpReqs.Add(1)
	}
	if v := e.altSvc.Load(); v != nil && *v != "" {
		w.Header().Set("Alt-Svc", *v)
	}
	if h := e.handler.Load(); h != nil {
		(*h)(w, r)
		return
	}
	io.Copy(io.Discard, r.Body)
	fmt.Fprintf(w, "%s %s", r.Proto, r.Host)
}

func (e *discoEnv) setAltSvc(v string) { e.altSvc.Store(&v) }

// advertise makes both servers send Alt-Svc for the HTTP/3 server's port.
func (e *discoEnv) advertise(params string) {
	e.setAltSvc(fmt.Sprintf(`h3=":%d"%s`, e.h3Addr.Port(), params))
}

func (e *discoEnv) setHandler(h http.HandlerFunc) { e.handler.Store(&h) }

// killServerConns closes the HTTP/3 server's connections at once.
func (e *discoEnv) killServerConns() {
	e.srvConns.Range(func(k, _ any) bool {
		k.(*quic.Conn).CloseWithError(uint64(ErrCodeInternalError), "killed by the test")
		e.srvConns.Delete(k)
		return true
	})
}

// get sends GET url+path and returns the response's protocol and body.
func (e *discoEnv) get(ctx context.Context, path string) (proto string, body string, err error) {
	return e.do(ctx, e.url, http.MethodGet, path, nil)
}

func (e *discoEnv) do(ctx context.Context, base, method, path string, body io.Reader) (string, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return "", "", err
	}
	resp, err := e.tr.RoundTrip(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.Proto, "", err
	}
	return resp.Proto, string(b), nil
}

// mustGet is get that fails the test on an error or a wrong protocol.
func (e *discoEnv) mustGet(ctx context.Context, path, wantProto string) {
	e.t.Helper()
	proto, _, err := e.get(ctx, path)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	if proto != wantProto {
		e.t.Fatalf("GET %s went over %s, want %s (events: %s)", path, proto, wantProto, e.events.String())
	}
}

// traceLog records a Transport's trace events as text.
type traceLog struct {
	mu     sync.Mutex
	events []string
}

func (l *traceLog) add(format string, args ...any) {
	l.mu.Lock()
	l.events = append(l.events, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *traceLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.events, "; ")
}

// count returns how many events start with prefix.
func (l *traceLog) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

func (l *traceLog) reset() {
	l.mu.Lock()
	l.events = nil
	l.mu.Unlock()
}

func (l *traceLog) trace() *ClientTrace {
	return &ClientTrace{
		AltSvcLearned: func(i AltSvcLearnedInfo) { l.add("learned %v %d over %s", i.Origin, len(i.Alternatives), i.Proto) },
		AltSvcCleared: func(i AltSvcClearedInfo) { l.add("cleared %v: %s", i.Origin, i.Reason) },
		HTTPSRecord: func(i HTTPSRecordInfo) {
			l.add("https-rr %v target=%s port=%d h3=%v err=%v", i.Origin, i.Target, i.Port, i.HTTP3, i.Err)
		},
		RaceStarted:       func(i RaceStartedInfo) { l.add("start %s %s %s", i.Protocol, i.Addr, i.Reason) },
		RaceWon:           func(i RaceWonInfo) { l.add("won %s: %s", i.Protocol, i.Reason) },
		QUICHandshakeDone: func(i QUICHandshakeInfo) { l.add("handshake %s err=%v", i.Addr, i.Err) },
		AlternativeBroken: func(i AlternativeBrokenInfo) {
			l.add("broken %s failures=%d until=%s", i.Addr, i.Failures, i.Until.Format(time.RFC3339))
		},
		RequestReplayed: func(i RequestReplayedInfo) { l.add("replayed %s: %v", i.Method, i.Err) },
	}
}

// fakeResolver answers the Transport's DNS questions from maps.
type fakeResolver struct {
	mu    sync.Mutex
	ips   map[string][]netip.Addr
	https map[string]*httpsAnswer
	// block, when set, holds HTTPS lookups until it is closed: a server
	// that does not answer.
	block      chan struct{}
	httpsAsked atomic.Int32
}

func (r *fakeResolver) lookupHTTPS(ctx context.Context, host string, port int) (*httpsAnswer, error) {
	r.httpsAsked.Add(1)
	r.mu.Lock()
	block, a := r.block, r.https[host]
	r.mu.Unlock()
	if block != nil {
		select {
		case <-block:
			return nil, errors.New("fake resolver: no answer")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if a == nil {
		return &httpsAnswer{ttl: time.Minute}, nil
	}
	return a, nil
}

func (r *fakeResolver) lookupIP(ctx context.Context, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a, ok := r.ips[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

// newHostsResolver answers A/AAAA questions from hosts (name → address)
// and has no HTTPS records.
func newHostsResolver(hosts map[string]string) *fakeResolver {
	r := &fakeResolver{ips: map[string][]netip.Addr{}}
	for h, a := range hosts {
		r.ips[h] = []netip.Addr{netip.MustParseAddr(a)}
	}
	return r
}

// tlsServerConfig serves cert with crypto/tls, the TCP side's TLS.
func tlsServerConfig(cert tls13.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: cert.Certificate, PrivateKey: cert.PrivateKey}}}
}

func tlsClientConfig(pool *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: pool} }

func httptraceWith(ctx context.Context, tr *httptrace.ClientTrace) context.Context {
	return httptrace.WithClientTrace(ctx, tr)
}
