package h3

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// The cache keeps origins apart, drops expired alternatives as it finds
// them, evicts the origin used least recently when full, and keeps only
// persist=1 alternatives on a network change.
func TestAltSvcCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewAltSvcCache(2)
	a, b, d := origin("a.example", 443), origin("b.example", 443), origin("d.example", 443)
	short := Alternative{Protocol: "h3", Port: 1, Expires: now.Add(time.Minute)}
	long := Alternative{Protocol: "h3", Port: 2, Expires: now.Add(time.Hour), Persist: true}
	c.SetAlternatives(a, []Alternative{short, long})
	c.SetAlternatives(b, []Alternative{short})
	if got := c.Alternatives(a, now); len(got) != 2 || got[0] != short {
		t.Fatalf("a: %v", got)
	}
	if got := c.Alternatives(Origin{Scheme: "http", Host: "a.example", Port: 443}, now); got != nil {
		t.Fatalf("another scheme shares a's entry: %v", got)
	}
	held := c.Alternatives(a, now)
	if got := c.Alternatives(a, now.Add(2*time.Minute)); len(got) != 1 || got[0] != long {
		t.Fatalf("a after the short one expired: %v", got)
	}
	if len(held) != 2 || held[0] != short {
		t.Fatal("expiry changed a slice a caller held")
	}
	// a was used last: adding d evicts b.
	c.SetAlternatives(d, []Alternative{short})
	if c.Len() != 2 || c.Alternatives(b, now) != nil || c.Alternatives(a, now) == nil {
		t.Fatalf("eviction: len %d, b %v", c.Len(), c.Alternatives(b, now))
	}
	c.ClearNonPersistent()
	if c.Alternatives(d, now) != nil || len(c.Alternatives(a, now)) != 1 {
		t.Fatal("ClearNonPersistent kept a non-persistent alternative or lost a persistent one")
	}
	c.SetAlternatives(a, nil)
	if c.Len() != 0 {
		t.Fatal("an empty list did not remove the origin")
	}
}

// Concurrent use is safe (run with -race) and the bound holds.
func TestAltSvcCacheConcurrent(t *testing.T) {
	c := NewAltSvcCache(50)
	now := time.Now()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				o := origin(fmt.Sprintf("h%d.example", (w*31+i)%100), 443)
				c.SetAlternatives(o, []Alternative{{Protocol: "h3", Port: 443, Expires: now.Add(time.Duration(i%3) * time.Second)}})
				c.Alternatives(o, now.Add(time.Second))
				if i%50 == 0 {
					c.ClearNonPersistent()
				}
			}
		}()
	}
	wg.Wait()
	if c.Len() > 50 {
		t.Fatalf("%d origins in a cache of 50", c.Len())
	}
}

// The broken marks double from 5 minutes to the 48-hour cap, are reset by
// a success, wait for TCP to work before they count, and are cleared by a
// network change.
func TestAltStates(t *testing.T) {
	s := newAltStates()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rt := route{origin: origin("a.example", 443), addr: "a.example:443"}
	errQ := fmt.Errorf("handshake timeout")
	// A QUIC failure before TCP worked waits for TCP.
	if _, marked := s.quicFailed(rt, now, now, errQ); marked {
		t.Fatal("marked broken before TCP worked")
	}
	marks := s.tcpWorked(rt.origin, now)
	if len(marks) != 1 || marks[0].until != now.Add(5*time.Minute) {
		t.Fatalf("TCP working confirmed %v", marks)
	}
	want := 10 * time.Minute
	for i := 2; i < 15; i++ {
		now = now.Add(time.Hour * 100)
		// TCP worked after the dial began: the failure counts at once.
		s.tcpWorked(rt.origin, now.Add(-time.Second))
		m, marked := s.quicFailed(rt, now.Add(-2*time.Second), now, errQ)
		if !marked || m.failures != i || m.until.Sub(now) != want {
			t.Fatalf("failure %d: %+v, want %v", i, m, want)
		}
		want = min(2*want, 48*time.Hour)
	}
	s.quicWorked(rt, now, 20*time.Millisecond)
	if !s.brokenUntil(rt, now).IsZero() {
		t.Fatal("a success did not clear the mark")
	}
	if hs := s.headStart(rt); hs != 50*time.Millisecond {
		t.Fatalf("head start %v for a 20 ms RTT, want the 50 ms floor", hs)
	}
	s.quicWorked(rt, now, time.Second)
	if hs := s.headStart(rt); hs != 1500*time.Millisecond {
		t.Fatalf("head start %v for a 1 s RTT, want 1.5 s", hs)
	}
	s.tcpWorked(rt.origin, now)
	m, _ := s.quicFailed(rt, now, now, errQ)
	if m.failures != 1 {
		t.Fatalf("after a success the count restarted at %d", m.failures)
	}
	s.clearMarks()
	if !s.brokenUntil(rt, now).IsZero() {
		t.Fatal("clearMarks kept the mark")
	}
}

// Transport.originFor answers what originOf and authorityOf do, whatever
// URLs came before: the same one again, another case of its host, another
// scheme or port, and runs of distinct ones that replace its memo.
func TestOriginFor(t *testing.T) {
	var tr Transport
	urls := [][2]string{
		{"https", "example.com:443"}, {"https", "example.com:443"}, {"https", "Example.com:443"},
		{"http", "example.com:443"}, {"https", "example.com"}, {"https", "example.com:8443"},
		{"HTTPS", "[::1]:4433"}, {"https", "[::1]:4433"},
	}
	for i := range 40 {
		for j := range urls {
			u := urls[(i+j)%len(urls)]
			o, a := tr.originFor(u[0], u[1])
			wo := originOf(u[0], u[1])
			if wa := authorityOf(wo, u[1]); o != wo || a != wa {
				t.Fatalf("originFor(%q, %q) = %v, %q; want %v, %q", u[0], u[1], o, a, wo, wa)
			}
		}
	}
}

// authorityOf is the origin's Authority whatever form the URL's host has,
// and the host itself, with no new string, when it already is that.
func TestAuthorityOf(t *testing.T) {
	for _, tc := range []struct {
		hostport string
		same     bool // the result is hostport itself
	}{
		{"example.com:443", true},
		{"127.0.0.1:8443", true},
		{"[::1]:4433", true},
		{"[fe80::1%25eth0]:443", true},
		{"example.com", false},
		{"Example.com:443", false},
		{"example.com:0443", false},
		{"example.com:+443", false},
		{"[example.com]:443", false},
		{"[::1]", false},
		{"example.com:99999", false},
	} {
		o := originOf("https", tc.hostport)
		got := authorityOf(o, tc.hostport)
		if got != o.Authority() {
			t.Errorf("authorityOf(%q) = %q, want %q", tc.hostport, got, o.Authority())
		}
		if same := got == tc.hostport; same != tc.same {
			t.Errorf("authorityOf(%q) is the host itself: %v, want %v", tc.hostport, same, tc.same)
		}
	}
}
