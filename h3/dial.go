package h3

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// dialConn opens the HTTP/3 connection along rt: it resolves the
// alternative's host (or takes the HTTPS record's hints), reuses an open
// connection to one of those addresses whose certificate covers the
// origin when coalescing is on (RFC 9114 §3.3; coalesced reports it), and
// otherwise dials the addresses in turn until one answers. The certificate
// must be valid for the origin's host (RFC 7838 §2.1), which is the TLS
// server name unless TLSClientConfig names another.
func (c *h3Client) dialConn(ctx context.Context, rt route) (cc *clientConn, coalesced bool, err error) {
	host, portStr, err := net.SplitHostPort(rt.addr)
	if err != nil {
		return nil, false, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 {
		return nil, false, errors.New("h3: bad port in " + rt.addr)
	}
	addrs, err := c.resolve(ctx, host, rt.hints)
	if err != nil {
		return nil, false, err
	}
	if !c.t.DisableCoalescing {
		if cc := c.pool.find(func(cc *clientConn) bool { return cc.covers(rt.origin.Host, addrs, port) }); cc != nil {
			return cc, true, nil
		}
	}
	var first error
	for _, a := range addrs {
		cc, err := c.dialAddr(ctx, rt, netip.AddrPortFrom(a, uint16(port)))
		if err == nil {
			return cc, false, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, false, first
}

// resolve returns the addresses of host: itself when an IP literal, the
// HTTPS record's hints when there are any, else the resolver's answer.
func (c *h3Client) resolve(ctx context.Context, host string, hints []netip.Addr) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	if len(hints) > 0 {
		return hints, nil
	}
	addrs, err := c.t.resolver.lookupIP(ctx, host)
	if err == nil && len(addrs) == 0 {
		err = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return addrs, err
}

// dialAddr dials one address and sets up HTTP/3 on the new connection.
func (c *h3Client) dialAddr(ctx context.Context, rt route, addr netip.AddrPort) (*clientConn, error) {
	var cfg quic.Config
	if c.t.QUICConfig != nil {
		cfg = *c.t.QUICConfig
	}
	if c.t.TLSClientConfig != nil {
		cfg.TLS = c.t.TLSClientConfig.Clone()
	} else {
		cfg.TLS = &tls13.Config{}
	}
	cfg.TLS.NextProtos = []string{NextProtoH3}
	if cfg.TLS.ServerName == "" {
		cfg.TLS.ServerName = rt.origin.Host
	}
	c.t.defaultStores(&cfg)
	qc, err := c.dialQUIC(ctx, addr.String(), &cfg)
	if err != nil {
		return nil, err
	}
	cc := newClientConn(qc, c.maxHeaderBytes(), c.pool)
	cc.initEarly()
	// RFC 9114 §6.2: the server must allow the three streams at once; a
	// server that does not would otherwise hold the dial forever.
	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := cc.c.start(startCtx); err != nil {
		qc.CloseWithError(uint64(ErrCodeGeneralProtocolError), "cannot open control streams")
		return nil, err
	}
	return cc, nil
}

// covers reports whether a request for host, which resolves to addrs,
// may use cc (RFC 9114 §3.3): cc goes to one of those addresses on port,
// and its certificate, verified when it was made, is valid for host.
func (cc *clientConn) covers(host string, addrs []netip.Addr, port int) bool {
	remote := cc.qc.RemoteAddr()
	if int(remote.Port()) != port || !slices.Contains(addrs, remote.Addr()) {
		return false
	}
	st, _ := cc.tlsInfo()
	if len(st.VerifiedChains) == 0 || len(st.PeerCertificates) == 0 {
		return false // not verified (InsecureSkipVerify; 0-RTT still handshaking): never shared
	}
	return st.PeerCertificates[0].VerifyHostname(host) == nil
}
