package dnstest

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/skiffnet/skiff/internal/dns"
)

func TestServerControls(t *testing.T) {
	s := NewServer(t)
	s.AddA("example.com", netip.MustParseAddr("192.0.2.1"))
	r := &dns.Resolver{Servers: []netip.AddrPort{s.Addr()}, Timeout: 10 * time.Second, Attempts: 1, CacheSize: -1}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	lookup := func() error {
		_, _, err := r.LookupIP(ctx, "example.com")
		return err
	}
	if err := lookup(); err != nil {
		t.Fatal(err)
	}
	s.SetRcode("example.com", dns.RcodeRefused)
	if err := lookup(); !errors.Is(err, dns.ErrServer) {
		t.Errorf("with REFUSED: %v", err)
	}
	s.SetRcode("example.com", dns.RcodeSuccess)
	if err := lookup(); err != nil {
		t.Errorf("REFUSED cleared: %v", err)
	}
	s.Remove("example.com", dns.TypeA)
	if err := lookup(); !errors.Is(err, dns.ErrNotFound) {
		t.Errorf("after Remove: %v", err)
	}
	if st := s.Stats(); st.UDP != 8 || st.TCP != 0 || st.Dropped != 0 {
		t.Errorf("stats = %+v, want 8 UDP queries", st)
	}
}
