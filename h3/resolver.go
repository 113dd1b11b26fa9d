package h3

import (
	"context"
	"errors"
	"net"
	"net/netip"
)

// netResolver resolves addresses with package net: the system's resolver,
// or Go's own asking server when set. It has no HTTPS records.
type netResolver struct {
	r      *net.Resolver
	system bool // the system's resolver, which net.Dialer uses anyway
}

// newResolver returns the Transport's DNS: see DNSServer.
func newResolver(server string) resolver { return newNetResolver(server) }

func newNetResolver(server string) *netResolver {
	if server == "" {
		return &netResolver{r: net.DefaultResolver, system: true}
	}
	return &netResolver{r: &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		},
	}}
}

var errNoHTTPSLookup = errors.New("h3: HTTPS record lookups need skiff's DNS client")

func (n *netResolver) lookupHTTPS(context.Context, string, int) (*httpsAnswer, error) {
	return nil, errNoHTTPSLookup
}

func (n *netResolver) lookupIP(ctx context.Context, host string) ([]netip.Addr, error) {
	addrs, err := n.r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, nil
}
