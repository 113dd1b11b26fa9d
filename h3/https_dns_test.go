package h3

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/skiffnet/skiff/internal/dns"
	"github.com/skiffnet/skiff/internal/dns/dnstest"
)

// These tests resolve through skiff's DNS client against an in-process
// DNS server on loopback (dnstest) that answers HTTPS, A and AAAA queries
// for origin.test, whose HTTPS record points at the HTTP/3 server.

var loopback4 = netip.MustParseAddr("127.0.0.1")

// dnsEnv is a discovery environment for https://origin.test:port resolved
// by srv; httpsName is the name its HTTPS record lives at (RFC 9460 §9.1:
// _port._https.origin.test, the port not being 443).
func dnsEnv(t *testing.T, configure ...func(*Transport)) (e *discoEnv, srv *dnstest.Server, httpsName string) {
	t.Helper()
	srv = dnstest.NewServer(t)
	srv.AddA("origin.test", loopback4)
	e = newDiscoEnv(t, discoOptions{}, append([]func(*Transport){func(tr *Transport) {
		tr.DNSServer = srv.Addr().String()
		tr.HeadStart = 10 * time.Second // QUIC wins on loopback: deterministic
		// The HTTPS answer is awaited however late it comes after the
		// A answer (a loaded machine can reorder them by more than 50 ms).
		tr.resolutionDelay = 10 * time.Second
	}}, configure...)...)
	e.url = fmt.Sprintf("https://origin.test:%d", e.tcpAddr.Port())
	return e, srv, fmt.Sprintf("_%d._https.origin.test", e.tcpAddr.Port())
}

func TestHTTPSRecordDNS(t *testing.T) {
	t.Run("ServiceMode", func(t *testing.T) {
		ctx := testContext(t)
		e, srv, name := dnsEnv(t)
		srv.AddHTTPS(name, dns.SVCB{Priority: 1, Target: "origin.test", ALPN: []string{"h3", "h2"}, Port: e.h3Addr.Port()})
		e.mustGet(ctx, "/1", "HTTP/3.0")
		if e.tcpReqs.Load() != 0 {
			t.Fatal("a request went over TCP")
		}
	})
	t.Run("AliasMode", func(t *testing.T) {
		ctx := testContext(t)
		e, srv, name := dnsEnv(t)
		srv.AddHTTPS(name, dns.SVCB{Priority: 0, Target: "svc.test"})
		srv.AddHTTPS("svc.test", dns.SVCB{Priority: 1, Target: ".", ALPN: []string{"h3"}, Port: e.h3Addr.Port()})
		srv.AddA("svc.test", loopback4)
		e.mustGet(ctx, "/1", "HTTP/3.0")
		if e.events.count("https-rr https://origin.test") != 1 || e.events.count("https-rr https://origin.test:"+fmt.Sprint(e.tcpAddr.Port())+" target=svc.test") != 1 {
			t.Fatalf("alias not followed: %s", e.events.String())
		}
	})
	t.Run("priority, port and hints", func(t *testing.T) {
		ctx := testContext(t)
		e, srv, name := dnsEnv(t)
		// Priority 1 offers only h2; priority 2 offers h3 at a target
		// with no address records but a hint, on the HTTP/3 port.
		srv.AddHTTPS(name, dns.SVCB{Priority: 2, Target: "nowhere.test", ALPN: []string{"h3"}, Port: e.h3Addr.Port(), IPv4Hint: []netip.Addr{loopback4}})
		srv.AddHTTPS(name, dns.SVCB{Priority: 1, Target: "origin.test", ALPN: []string{"h2"}})
		e.mustGet(ctx, "/1", "HTTP/3.0")
	})
	t.Run("truncated over UDP", func(t *testing.T) {
		ctx := testContext(t)
		e, srv, name := dnsEnv(t)
		srv.SetTruncateUDP(true)
		srv.AddHTTPS(name, dns.SVCB{Priority: 1, Target: "origin.test", ALPN: []string{"h3"}, Port: e.h3Addr.Port()})
		e.mustGet(ctx, "/1", "HTTP/3.0")
		if st := srv.Stats(); st.TCP == 0 {
			t.Fatalf("no query retried over TCP: %+v", st)
		}
	})
	t.Run("no h3", func(t *testing.T) {
		ctx := testContext(t)
		e, srv, name := dnsEnv(t)
		srv.AddHTTPS(name, dns.SVCB{Priority: 1, Target: "origin.test", ALPN: []string{"h2"}})
		e.mustGet(ctx, "/1", "HTTP/2.0")
		if e.dials.Load() != 0 {
			t.Fatal("QUIC dialed without h3 in the record")
		}
	})
	t.Run("resolver silent on HTTPS", func(t *testing.T) {
		ctx := testContext(t)
		e, srv, name := dnsEnv(t, func(tr *Transport) { tr.resolutionDelay = resolutionDelay })
		srv.AddHTTPS(name, dns.SVCB{Priority: 1, Target: "origin.test", ALPN: []string{"h3"}, Port: e.h3Addr.Port()})
		srv.SetDrop(func(q dns.Question) bool { return q.Type == dns.TypeHTTPS })
		start := time.Now()
		e.mustGet(ctx, "/1", "HTTP/2.0")
		took := time.Since(start)
		// The lookup's own timeout is seconds; TCP waits at most the
		// resolution delay after the addresses.
		if took > resolutionDelay+2*time.Second {
			t.Fatalf("first request took %v", took)
		}
		t.Logf("resolver silent on HTTPS: first request over TCP in %v (resolution delay %v, DNS timeout %v)", took, resolutionDelay, dns.DefaultTimeout)
	})
}
