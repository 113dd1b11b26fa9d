package h3

import (
	"fmt"
	"strings"
	"testing"
)

// Two origins on one address whose certificate covers both share one
// HTTP/3 connection (RFC 9114 §3.3), each request with its own authority;
// with DisableCoalescing each has its own.
func TestCoalescing(t *testing.T) {
	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("disabled=%v", disable), func(t *testing.T) {
			ctx := testContext(t)
			res := newHostsResolver(map[string]string{"a.test": "127.0.0.1", "b.test": "127.0.0.1"})
			e := newDiscoEnv(t, discoOptions{resolver: res}, func(tr *Transport) { tr.DisableCoalescing = disable })
			e.advertise("")
			port := e.tcpAddr.Port()
			for _, host := range []string{"a.test", "b.test"} {
				base := fmt.Sprintf("https://%s:%d", host, port)
				for i, want := range []string{"HTTP/2.0", "HTTP/3.0"} {
					proto, body, err := e.do(ctx, base, "GET", fmt.Sprintf("/%d", i), nil)
					if err != nil || proto != want {
						t.Fatalf("GET %s/%d: %v over %s, want %s; events %s", base, i, err, proto, want, e.events.String())
					}
					if !strings.HasSuffix(body, fmt.Sprintf(" %s:%d", host, port)) {
						t.Fatalf("server saw authority %q for %s", body, host)
					}
				}
			}
			want := int32(1)
			if disable {
				want = 2
			}
			if n := e.dials.Load(); n != want {
				t.Fatalf("%d QUIC dials, want %d", n, want)
			}
			if !disable && e.events.count("won h3: coalesced") != 1 {
				t.Fatalf("no coalescing event: %s", e.events.String())
			}
		})
	}
}
