package h3

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/skiffnet/skiff/internal/dns"
)

// dnsResolver is the Transport's DNS: HTTPS records through skiff's DNS
// client (package internal/dns: the servers of /etc/resolv.conf, or
// DNSServer), and addresses through the same client when DNSServer is
// set, else through the system's resolver (which honours /etc/hosts and
// whatever else the system is configured with).
type dnsResolver struct {
	https  *dns.Resolver
	system bool  // addresses from net.DefaultResolver, which net.Dialer uses anyway
	err    error // DNSServer could not be parsed: every lookup fails with it
}

// newResolver returns the resolver for DNSServer ("" for the system's).
func newResolver(server string) resolver {
	r := &dnsResolver{https: &dns.Resolver{}}
	if server == "" {
		r.system = true
		return r
	}
	ap, err := parseServer(server)
	if err != nil {
		r.err = err
		return r
	}
	r.https.Servers = []netip.AddrPort{ap}
	return r
}

// parseServer reads "ip:port", or an IP alone for port 53.
func parseServer(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return netip.AddrPortFrom(a.Unmap(), 53), nil
	}
	return netip.AddrPort{}, fmt.Errorf("h3: DNSServer %q is not an IP address and port", s)
}

func (r *dnsResolver) lookupHTTPS(ctx context.Context, host string, port int) (*httpsAnswer, error) {
	if r.err != nil {
		return nil, r.err
	}
	res, err := r.https.LookupHTTPS(ctx, host, port)
	if err != nil {
		return nil, err
	}
	ans := &httpsAnswer{ttl: res.TTL}
	for i := range res.Records {
		rec := &res.Records[i]
		ans.services = append(ans.services, httpsService{
			priority: rec.SVCB.Priority,
			target:   strings.TrimSuffix(strings.ToLower(rec.Target), "."),
			port:     rec.Port,
			alpn:     rec.ALPNs(),
			h3:       rec.SupportsH3(),
			hints:    rec.Hints(),
		})
	}
	return ans, nil
}

func (r *dnsResolver) lookupIP(ctx context.Context, host string) ([]netip.Addr, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.system {
		addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		for i, a := range addrs {
			addrs[i] = a.Unmap()
		}
		return addrs, err
	}
	addrs, _, err := r.https.LookupIP(ctx, host)
	return addrs, err
}
