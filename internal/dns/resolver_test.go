package dns_test

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/skiffnet/skiff/internal/dns"
	"github.com/skiffnet/skiff/internal/dns/dnstest"
)

// The tests talk to dnstest over real loopback sockets. Each is bounded by
// a context deadline far above the milliseconds they take.
const testDeadline = 10 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testDeadline)
	t.Cleanup(cancel)
	return ctx
}

func newResolver(servers ...netip.AddrPort) *dns.Resolver {
	return &dns.Resolver{Servers: servers, Timeout: testDeadline, Attempts: 1, NoShuffle: true}
}

func addrs(s ...string) []netip.Addr {
	var a []netip.Addr
	for _, x := range s {
		a = append(a, netip.MustParseAddr(x))
	}
	return a
}

func TestLookupHTTPS(t *testing.T) {
	srv := dnstest.NewServer(t)
	srv.AddHTTPS("example.com", dns.SVCB{Priority: 2, Target: "backup.example.net.", ALPN: []string{"h2"}})
	srv.AddHTTPS("example.com", dns.SVCB{Priority: 1, Target: ".", ALPN: []string{"h3", "h2"}, Port: 8443,
		IPv4Hint: addrs("192.0.2.1"), IPv6Hint: addrs("2001:db8::1"), ECH: []byte{1, 2, 3}})
	// Ignored: mandatory "ech" (not used by skiff) and a record that is
	// not self-consistent.
	srv.AddHTTPS("example.com", dns.SVCB{Priority: 1, Target: "ech.example.net.", ALPN: []string{"h3"},
		Mandatory: []dns.ParamKey{dns.KeyECH}, ECH: []byte{1}})
	srv.AddHTTPS("example.com", dns.SVCB{Priority: 1, Target: "bad.example.net.", NoDefaultALPN: true})
	r := newResolver(srv.Addr())
	res, err := r.LookupHTTPS(testContext(t), "example.com", 443)
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "example.com." || res.AliasTarget != "" || res.TTL != dnstest.DefaultTTL*time.Second || !res.SupportsH3() {
		t.Errorf("result = %+v", res)
	}
	if len(res.Records) != 2 {
		t.Fatalf("records = %+v, want 2", res.Records)
	}
	first, second := res.Records[0], res.Records[1]
	if first.Target != "example.com." || first.Owner != "example.com." || first.Port != 8443 || !first.SupportsH3() {
		t.Errorf("first record = %+v", first)
	}
	if !reflect.DeepEqual(first.Hints(), addrs("2001:db8::1", "192.0.2.1")) || !reflect.DeepEqual(first.SVCB.ECH, []byte{1, 2, 3}) {
		t.Errorf("hints %v, ech %v", first.Hints(), first.SVCB.ECH)
	}
	if second.Target != "backup.example.net." || second.Port != 443 || second.SupportsH3() {
		t.Errorf("second record = %+v", second)
	}
	// Results are the caller's: changing one does not change the cache.
	first.SVCB.ALPN[0] = "changed"
	again, err := r.LookupHTTPS(testContext(t), "example.com", 443)
	if err != nil || again.Records[0].SVCB.ALPN[0] != "h3" {
		t.Errorf("second lookup = %+v, %v", again, err)
	}
	if st := srv.Stats(); st.UDP != 1 {
		t.Errorf("%d UDP queries, want 1: the second lookup comes from the cache", st.UDP)
	}
}

// TestLookupHTTPSPortPrefix: RFC 9460 §9.1, a port other than 443 is asked
// at _PORT._https.host.
func TestLookupHTTPSPortPrefix(t *testing.T) {
	srv := dnstest.NewServer(t)
	srv.AddHTTPS("_8443._https.example.com", dns.SVCB{Priority: 1, Target: "svc.example.net.", ALPN: []string{"h3"}})
	srv.AddHTTPS("example.com", dns.SVCB{Priority: 1, Target: "wrong.example.net.", ALPN: []string{"h3"}})
	res, err := newResolver(srv.Addr()).LookupHTTPS(testContext(t), "example.com", 8443)
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "_8443._https.example.com." || len(res.Records) != 1 ||
		res.Records[0].Target != "svc.example.net." || res.Records[0].Port != 8443 {
		t.Errorf("result = %+v", res)
	}
}

// TestLookupHTTPSAliasMode: the example of RFC 9460 §2.5.2, an AliasMode
// record, then a CNAME, then a ServiceMode record whose target is ".".
func TestLookupHTTPSAliasMode(t *testing.T) {
	srv := dnstest.NewServer(t)
	srv.AddHTTPS("example.com", dns.SVCB{Priority: 0, Target: "svc.example.net."})
	srv.Add(dns.RR{Name: "svc.example.net.", Type: dns.TypeCNAME, TTL: 7200, Data: dns.CNAME{Target: "svc2.example.net."}})
	srv.Add(dns.RR{Name: "svc2.example.net.", Type: dns.TypeHTTPS, TTL: 60, Data: dns.SVCB{Priority: 1, Target: ".", Port: 8002, ALPN: []string{"h3"}}})
	srv.AddA("svc2.example.net", addrs("192.0.2.2", "2001:db8::2")...)
	// With an AliasMode record in the set, ServiceMode ones are ignored
	// (§2.4.1).
	srv.AddHTTPS("example.com", dns.SVCB{Priority: 1, Target: "ignored.example.net.", ALPN: []string{"h3"}})
	r := newResolver(srv.Addr())
	res, err := r.LookupHTTPS(testContext(t), "example.com", 443)
	if err != nil {
		t.Fatal(err)
	}
	want := []dns.HTTPSRecord{{Owner: "svc2.example.net.", Target: "svc2.example.net.", Port: 8002,
		SVCB: dns.SVCB{Priority: 1, Target: ".", Port: 8002, ALPN: []string{"h3"}}}}
	if !reflect.DeepEqual(res.Records, want) || res.AliasTarget != "svc.example.net." || res.TTL != 60*time.Second {
		t.Errorf("result = %+v", res)
	}
	// The target's addresses, through the same server.
	ips, ttl, err := r.LookupIP(testContext(t), res.Records[0].Target)
	if err != nil || !reflect.DeepEqual(ips, addrs("2001:db8::2", "192.0.2.2")) || ttl != dnstest.DefaultTTL*time.Second {
		t.Errorf("LookupIP = %v, %v, %v", ips, ttl, err)
	}
}

func TestLookupHTTPSAliasLimits(t *testing.T) {
	srv := dnstest.NewServer(t)
	// A loop: a → b → a.
	srv.AddHTTPS("a.example", dns.SVCB{Target: "b.example."})
	srv.AddHTTPS("b.example", dns.SVCB{Target: "a.example."})
	// A chain one longer than MaxAliases.
	srv.AddHTTPS("c0.example", dns.SVCB{Target: "c1.example."})
	srv.AddHTTPS("c1.example", dns.SVCB{Target: "c2.example."})
	srv.AddHTTPS("c2.example", dns.SVCB{Target: "c3.example."})
	srv.AddHTTPS("c3.example", dns.SVCB{Priority: 1, Target: ".", ALPN: []string{"h3"}})
	// A CNAME loop.
	srv.AddCNAME("d.example", "e.example")
	srv.AddCNAME("e.example", "d.example")
	r := newResolver(srv.Addr())
	r.MaxAliases = 2
	for _, host := range []string{"a.example", "c0.example", "d.example"} {
		if res, err := r.LookupHTTPS(testContext(t), host, 443); !errors.Is(err, dns.ErrAliasLimit) {
			t.Errorf("%s: %+v, %v; want ErrAliasLimit", host, res, err)
		}
	}
	r = newResolver(srv.Addr())
	r.MaxAliases = 3
	if res, err := r.LookupHTTPS(testContext(t), "c0.example", 443); err != nil || len(res.Records) != 1 || res.AliasTarget != "c3.example." {
		t.Errorf("three aliases with MaxAliases 3: %+v, %v", res, err)
	}
}

func TestLookupHTTPSNoRecord(t *testing.T) {
	srv := dnstest.NewServer(t)
	srv.SetNegativeTTL(30)
	srv.AddA("nodata.example", addrs("192.0.2.1")...)
	srv.AddHTTPS("dot.example", dns.SVCB{Target: "."}) // §2.5.1: service does not exist
	r := newResolver(srv.Addr())
	for _, host := range []string{"nodata.example", "nxdomain.example", "dot.example"} {
		res, err := r.LookupHTTPS(testContext(t), host, 443)
		if err != nil || len(res.Records) != 0 || res.SupportsH3() {
			t.Errorf("%s: %+v, %v; want no records, no error", host, res, err)
		} else if host == "nxdomain.example" && res.TTL != 30*time.Second {
			t.Errorf("negative TTL = %v, want the SOA's 30 s", res.TTL)
		}
	}
}

// TestLookupHTTPSMalformed: RFC 9460 §2.2, one malformed record rejects
// the whole RRset.
func TestLookupHTTPSMalformed(t *testing.T) {
	srv := dnstest.NewServer(t)
	srv.AddHTTPS("example.com", dns.SVCB{Priority: 1, Target: ".", ALPN: []string{"h3"}})
	// Keys out of order: port (3) before alpn (1).
	srv.Add(dns.RR{Name: "example.com", Type: dns.TypeHTTPS, TTL: 60,
		Data: dns.Unknown{Data: []byte("\x00\x02\x00\x00\x03\x00\x02\x01\xbb\x00\x01\x00\x03\x02h3")}})
	res, err := newResolver(srv.Addr()).LookupHTTPS(testContext(t), "example.com", 443)
	var se *dns.SVCBError
	if !errors.As(err, &se) || !errors.Is(err, dns.ErrMalformed) || se.Key != dns.KeyALPN {
		t.Errorf("LookupHTTPS = %+v, %v; want an *SVCBError about alpn", res, err)
	}
}

// TestTruncatedRetriesOverTCP: a TC=1 answer over UDP is asked again over
// TCP (RFC 7766 §5), whether forced or because the answer is too large.
func TestTruncatedRetriesOverTCP(t *testing.T) {
	srv := dnstest.NewServer(t)
	srv.SetTruncateUDP(true)
	srv.AddHTTPS("example.com", dns.SVCB{Priority: 1, Target: ".", ALPN: []string{"h3"}})
	r := newResolver(srv.Addr())
	res, err := r.LookupHTTPS(testContext(t), "example.com", 443)
	if err != nil || !res.SupportsH3() {
		t.Fatalf("LookupHTTPS = %+v, %v", res, err)
	}
	if st := srv.Stats(); st.UDP != 1 || st.TCP != 1 {
		t.Errorf("stats = %+v, want one query over each", st)
	}

	// 100 A records take 1.6 KB, beyond the 1232 octets queries offer.
	srv.SetTruncateUDP(false)
	var many []netip.Addr
	for i := range 100 {
		many = append(many, netip.AddrFrom4([4]byte{198, 18, 0, byte(i)}))
	}
	srv.AddA("big.example", many...)
	ips, _, err := r.LookupIP(testContext(t), "big.example")
	if err != nil || len(ips) != 100 {
		t.Fatalf("LookupIP = %d addresses, %v", len(ips), err)
	}
	// AAAA (NODATA) fits in UDP; A went over TCP.
	if st := srv.Stats(); st.UDP != 3 || st.TCP != 2 {
		t.Errorf("stats = %+v, want 3 UDP and 2 TCP queries", st)
	}
}

// TestNoAnswerTimesOut: a server that never answers costs Timeout per
// attempt, then ErrTimeout, long before the context's deadline.
func TestNoAnswerTimesOut(t *testing.T) {
	srv := dnstest.NewServer(t)
	srv.SetDrop(func(dns.Question) bool { return true })
	r := &dns.Resolver{Servers: []netip.AddrPort{srv.Addr()}, Timeout: 50 * time.Millisecond, Attempts: 2}
	ctx := testContext(t)
	_, err := r.LookupHTTPS(ctx, "example.com", 443)
	if !errors.Is(err, dns.ErrTimeout) || ctx.Err() != nil {
		t.Fatalf("LookupHTTPS = %v (context: %v), want ErrTimeout before the deadline", err, ctx.Err())
	}
	// The second query left when the first attempt timed out; the server
	// may not have read it yet.
	for srv.Stats().Dropped < 2 && ctx.Err() == nil {
		runtime.Gosched()
	}
	if st := srv.Stats(); st.UDP != 2 || st.Dropped != 2 {
		t.Errorf("stats = %+v, want 2 attempts", st)
	}
}

// TestContextCancellation: the caller's context ends a lookup at once,
// however long the resolver would wait.
func TestContextCancellation(t *testing.T) {
	srv := dnstest.NewServer(t)
	srv.SetDrop(func(dns.Question) bool { return true })
	r := &dns.Resolver{Servers: []netip.AddrPort{srv.Addr()}, Timeout: time.Hour}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := r.LookupIP(ctx, "example.com"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LookupIP = %v, want the context's error", err)
	}
}

// TestServerFailureTriesNext: SERVFAIL moves on to the next server; when
// every server fails, the error says so.
func TestServerFailureTriesNext(t *testing.T) {
	bad, good := dnstest.NewServer(t), dnstest.NewServer(t)
	bad.SetRcode("example.com", dns.RcodeServerFailure)
	good.AddA("example.com", addrs("192.0.2.7")...)
	ips, _, err := newResolver(bad.Addr(), good.Addr()).LookupIP(testContext(t), "example.com")
	if err != nil || !reflect.DeepEqual(ips, addrs("192.0.2.7")) {
		t.Errorf("LookupIP = %v, %v", ips, err)
	}
	_, _, err = newResolver(bad.Addr()).LookupIP(testContext(t), "example.com")
	var le *dns.LookupError
	if !errors.Is(err, dns.ErrServer) || !errors.As(err, &le) || le.Rcode != dns.RcodeServerFailure {
		t.Errorf("only a failing server: %v, want ErrServer with SERVFAIL", err)
	}
}

func TestLookupIP(t *testing.T) {
	srv := dnstest.NewServer(t)
	srv.AddCNAME("www.example.com", "example.com")
	srv.AddA("example.com", addrs("192.0.2.1", "2001:db8::1", "192.0.2.2")...)
	srv.AddA("v4only.example", addrs("192.0.2.3")...)
	r := newResolver(srv.Addr())
	for _, tc := range []struct {
		host string
		want []netip.Addr
	}{
		{"www.example.com", addrs("2001:db8::1", "192.0.2.1", "192.0.2.2")},
		{"WWW.EXAMPLE.COM.", addrs("2001:db8::1", "192.0.2.1", "192.0.2.2")},
		{"v4only.example", addrs("192.0.2.3")},
		{"192.0.2.9", addrs("192.0.2.9")},
		{"::1", addrs("::1")},
	} {
		ips, _, err := r.LookupIP(testContext(t), tc.host)
		if err != nil || !reflect.DeepEqual(ips, tc.want) {
			t.Errorf("LookupIP(%s) = %v, %v; want %v", tc.host, ips, err, tc.want)
		}
	}
	_, _, err := r.LookupIP(testContext(t), "missing.example")
	var le *dns.LookupError
	if !errors.Is(err, dns.ErrNotFound) || !errors.As(err, &le) || le.Rcode != dns.RcodeNameError {
		t.Errorf("missing name: %v, want NXDOMAIN", err)
	}
}

// TestConcurrentLookupsShareQueries: lookups of one name at once send one
// query per type.
func TestConcurrentLookupsShareQueries(t *testing.T) {
	srv := dnstest.NewServer(t)
	srv.AddA("example.com", addrs("192.0.2.1", "2001:db8::1")...)
	r := newResolver(srv.Addr())
	ctx := testContext(t)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if ips, _, err := r.LookupIP(ctx, "example.com"); err != nil || len(ips) != 2 {
				t.Errorf("LookupIP = %v, %v", ips, err)
			}
		})
	}
	wg.Wait()
	if st := srv.Stats(); st.UDP != 2 {
		t.Errorf("%d queries for 50 lookups, want 2 (A and AAAA)", st.UDP)
	}
}

// fakeClock is the resolver's clock in cache tests: time moves only when
// the test says.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

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

func TestCacheTTL(t *testing.T) {
	srv := dnstest.NewServer(t)
	srv.Add(dns.RR{Name: "example.com", Type: dns.TypeHTTPS, TTL: 60, Data: dns.SVCB{Priority: 1, Target: ".", ALPN: []string{"h3"}}})
	srv.SetNegativeTTL(5)
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	r := newResolver(srv.Addr())
	r.Now = clock.Now
	lookup := func(host string) *dns.HTTPSResult {
		t.Helper()
		res, err := r.LookupHTTPS(testContext(t), host, 443)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	queries := func() int { return srv.Stats().UDP }

	lookup("example.com")
	clock.Advance(59 * time.Second)
	if res := lookup("example.com"); queries() != 1 || res.TTL != time.Second {
		t.Errorf("after 59 s: %d queries, TTL %v; want the cached answer with 1 s left", queries(), res.TTL)
	}
	clock.Advance(time.Second)
	if res := lookup("example.com"); queries() != 2 || res.TTL != 60*time.Second {
		t.Errorf("after 60 s: %d queries, TTL %v; want a new query", queries(), res.TTL)
	}

	// Negative answers live for the SOA's minimum (RFC 2308 §5).
	lookup("missing.example")
	clock.Advance(4 * time.Second)
	lookup("missing.example")
	if queries() != 3 {
		t.Errorf("NXDOMAIN asked again within its negative TTL: %d queries", queries())
	}
	clock.Advance(time.Second)
	lookup("missing.example")
	if queries() != 4 {
		t.Errorf("NXDOMAIN not asked again after its negative TTL: %d queries", queries())
	}

	// A negative cache size turns the cache off.
	r2 := newResolver(srv.Addr())
	r2.CacheSize = -1
	for range 2 {
		if _, err := r2.LookupHTTPS(testContext(t), "example.com", 443); err != nil {
			t.Fatal(err)
		}
	}
	if queries() != 6 {
		t.Errorf("without a cache: %d queries, want 6", queries())
	}
}
