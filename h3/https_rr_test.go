package h3

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// httpsEnv is a discovery environment whose origin is https://origin.test
// (resolving to 127.0.0.1) with an HTTPS record answered by res.
func httpsEnv(t *testing.T, res *fakeResolver, configure ...func(*Transport)) *discoEnv {
	t.Helper()
	if res.ips == nil {
		res.ips = map[string][]netip.Addr{}
	}
	res.ips["origin.test"] = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	e := newDiscoEnv(t, discoOptions{resolver: res}, append([]func(*Transport){func(tr *Transport) {
		tr.HeadStart = 10 * time.Second // QUIC wins on loopback: deterministic
	}}, configure...)...)
	e.url = fmt.Sprintf("https://origin.test:%d", e.tcpAddr.Port())
	return e
}

func h3Service(target string, port int, hints ...string) httpsService {
	s := httpsService{priority: 1, target: target, port: port, alpn: []string{"h3", "h2"}, h3: true}
	for _, h := range hints {
		s.hints = append(s.hints, netip.MustParseAddr(h))
	}
	return s
}

// An HTTPS record offering h3 sends the very first request over HTTP/3,
// to the record's port, without Alt-Used; its TTL bounds how long it is
// used.
func TestHTTPSRecordFirstRequest(t *testing.T) {
	ctx := testContext(t)
	res := &fakeResolver{https: map[string]*httpsAnswer{}}
	e := httpsEnv(t, res)
	res.https["origin.test"] = &httpsAnswer{ttl: time.Minute, services: []httpsService{h3Service("origin.test", int(e.h3Addr.Port()))}}
	e.mustGet(ctx, "/1", "HTTP/3.0")
	if got := e.altUsed.Load(); got == nil || *got != "" {
		t.Fatalf("Alt-Used %v with an HTTPS record", got)
	}
	if e.events.count("https-rr https://origin.test") != 1 {
		t.Fatalf("no HTTPS record event: %s", e.events.String())
	}
	e.mustGet(ctx, "/2", "HTTP/3.0")
	if n := res.httpsAsked.Load(); n != 1 {
		t.Fatalf("%d HTTPS lookups, want 1 within the TTL", n)
	}
	e.clock.Advance(time.Minute + time.Second)
	e.mustGet(ctx, "/3", "HTTP/3.0")
	if n := res.httpsAsked.Load(); n != 2 {
		t.Fatalf("%d HTTPS lookups, want a second one after the TTL", n)
	}
}

// The record's hints are used when its target has no address records, and
// its port is the one dialed.
func TestHTTPSRecordHintsAndPort(t *testing.T) {
	ctx := testContext(t)
	res := &fakeResolver{https: map[string]*httpsAnswer{}}
	e := httpsEnv(t, res)
	res.https["origin.test"] = &httpsAnswer{ttl: time.Minute, services: []httpsService{
		{priority: 1, target: "h2only.test", port: 1, alpn: []string{"h2"}},
		h3Service("svc.test", int(e.h3Addr.Port()), "127.0.0.1"),
	}}
	e.mustGet(ctx, "/1", "HTTP/3.0")
}

// A record without h3, or lookups turned off, leaves the origin on TCP.
func TestHTTPSRecordWithoutH3(t *testing.T) {
	ctx := testContext(t)
	res := &fakeResolver{https: map[string]*httpsAnswer{}}
	e := httpsEnv(t, res)
	res.https["origin.test"] = &httpsAnswer{ttl: time.Minute, services: []httpsService{{priority: 1, target: "origin.test", port: 443, alpn: []string{"h2"}}}}
	e.mustGet(ctx, "/1", "HTTP/2.0")
	if e.dials.Load() != 0 {
		t.Fatal("QUIC dialed for a record without h3")
	}

	res2 := &fakeResolver{https: map[string]*httpsAnswer{}}
	e2 := httpsEnv(t, res2, func(tr *Transport) { tr.DisableHTTPSRecords = true })
	res2.https["origin.test"] = &httpsAnswer{ttl: time.Minute, services: []httpsService{h3Service("origin.test", int(e2.h3Addr.Port()))}}
	e2.mustGet(ctx, "/1", "HTTP/2.0")
	if res2.httpsAsked.Load() != 0 {
		t.Fatal("HTTPS record looked up with DisableHTTPSRecords")
	}
}

// A resolver that does not answer the HTTPS query costs TCP no more than
// the resolution delay after the addresses, not the query's timeout.
func TestHTTPSRecordNoAnswer(t *testing.T) {
	ctx := testContext(t)
	res := &fakeResolver{block: make(chan struct{})}
	defer close(res.block)
	e := httpsEnv(t, res)
	start := time.Now()
	e.mustGet(ctx, "/1", "HTTP/2.0")
	took := time.Since(start)
	if took > resolutionDelay+2*time.Second {
		t.Fatalf("first request took %v with a silent resolver", took)
	}
	t.Logf("silent HTTPS resolver: first request over TCP in %v (resolution delay %v)", took, resolutionDelay)
	// The lookup still pending, the next request does not wait at all.
	start = time.Now()
	e.mustGet(ctx, "/2", "HTTP/2.0")
	t.Logf("next request: %v", time.Since(start))
	if n := res.httpsAsked.Load(); n != 1 {
		t.Fatalf("%d HTTPS lookups, want the one pending", n)
	}
}

func TestNoHTTPSRecordsForSpecialNames(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "localhost": true, "LOCALHOST.": true,
		"a.b.localhost": true, "nothing.invalid": true, "invalid": true,
		"origin.test": false, "example.com": false, "localhost.example": false,
		"notinvalid": false,
	} {
		if got := noHTTPSRecords(host); got != want {
			t.Errorf("noHTTPSRecords(%q) = %v, want %v", host, got, want)
		}
	}
}
