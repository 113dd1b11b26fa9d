package dns

import (
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func TestCacheExpiry(t *testing.T) {
	c := newCache(4)
	now := time.Unix(1000, 0)
	k := cacheKey{"example.com.", TypeA}
	c.put(k, &answer{owner: "example.com.", ttl: 10 * time.Second}, now)
	a, ok := c.get(k, now.Add(4*time.Second))
	if !ok || a.ttl != 6*time.Second {
		t.Fatalf("after 4 s: %+v, %v; want 6 s left", a, ok)
	}
	if _, ok := c.get(k, now.Add(10*time.Second)); ok {
		t.Fatal("entry still there when its TTL ran out")
	}
	c.put(k, &answer{ttl: 0}, now)
	if _, ok := c.get(k, now); ok {
		t.Fatal("a zero TTL answer was cached")
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newCache(2)
	now := time.Unix(1000, 0)
	ka, kb, kc := cacheKey{"a.", TypeA}, cacheKey{"b.", TypeA}, cacheKey{"c.", TypeA}
	c.put(ka, &answer{ttl: time.Minute}, now)
	c.put(kb, &answer{ttl: time.Minute}, now)
	c.get(ka, now) // b is now the least recently used
	c.put(kc, &answer{ttl: time.Minute}, now)
	if _, ok := c.get(kb, now); ok {
		t.Error("b survived; it was the least recently used")
	}
	for _, k := range []cacheKey{ka, kc} {
		if _, ok := c.get(k, now); !ok {
			t.Errorf("%v evicted", k)
		}
	}
	if len(c.entries) != 2 || c.order.Len() != 2 {
		t.Errorf("cache holds %d entries, list %d; max is 2", len(c.entries), c.order.Len())
	}
}

func TestParseResolvConf(t *testing.T) {
	conf := parseResolvConf([]byte(`# generated
search example.net
nameserver 192.0.2.53 ; the first
nameserver fe80::1%eth0
nameserver not-an-address
nameserver
nameserver 2001:db8::53
nameserver 192.0.2.54
options ndots:2 timeout:3 attempts:9 rotate
`))
	want := resolvConf{
		servers: []netip.AddrPort{
			netip.MustParseAddrPort("192.0.2.53:53"),
			netip.MustParseAddrPort("[fe80::1%eth0]:53"),
			netip.MustParseAddrPort("[2001:db8::53]:53"),
		},
		timeout:  3 * time.Second,
		attempts: 5, // glibc's ceiling
	}
	if !reflect.DeepEqual(conf, want) {
		t.Errorf("parseResolvConf = %+v, want %+v", conf, want)
	}
	if conf := parseResolvConf([]byte("options timeout:0 attempts:x\n")); !reflect.DeepEqual(conf, resolvConf{}) {
		t.Errorf("bad options gave %+v", conf)
	}
}

// TestDefaultServers: with no Servers, the resolver takes those of
// /etc/resolv.conf, or 127.0.0.1:53 when it lists none.
func TestDefaultServers(t *testing.T) {
	var r Resolver
	r.setup()
	want := loadResolvConf().servers
	if len(want) == 0 {
		want = []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}
	}
	if !reflect.DeepEqual(r.servers, want) || r.timeout <= 0 || r.attempts <= 0 || r.cache == nil {
		t.Errorf("defaults: servers %v (want %v), timeout %v, attempts %d", r.servers, want, r.timeout, r.attempts)
	}
}
