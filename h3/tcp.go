package h3

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"time"
)

// The TCP side: HTTP/1.1 and HTTP/2 through a net/http Transport.

// newTCPTransport returns the default TCP transport: http.DefaultTransport's
// settings with HTTP/2 attempted, dialing through dialTCP.
func (t *Transport) newTCPTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = true
	tr.DialContext = t.DialTCP
	return tr
}

// tcpDialer is DialTCP's dialer: http.DefaultTransport's settings.
var tcpDialer = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}

type tcpAddrsKey struct{}

// DialTCP dials a TCP connection to addr ("host:port") as the default TCP
// transport does: with the addresses the Transport resolved for the host
// while it waited for an HTTPS record, else with those DNSServer gives
// when set, else through the system's resolver. A TCP transport of one's
// own can use it as its DialContext to get the same.
func (t *Transport) DialTCP(ctx context.Context, network, addr string) (net.Conn, error) {
	t.init()
	d := tcpDialer
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return d.DialContext(ctx, network, addr)
	}
	var addrs []netip.Addr
	for _, a := range tcpAddrsFrom(ctx) {
		if a.host == host {
			addrs = a.addrs
		}
	}
	if addrs == nil {
		if r, ok := t.resolver.(*dnsResolver); ok && r.system {
			return d.DialContext(ctx, network, addr)
		}
		if addrs, err = t.resolver.lookupIP(ctx, host); err != nil {
			return nil, err
		}
	}
	var first error
	for _, a := range addrs {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if first == nil {
		first = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return nil, first
}

func withTCPAddrs(ctx context.Context, addrs []tcpAddr) context.Context {
	if len(addrs) == 0 {
		return ctx
	}
	return context.WithValue(ctx, tcpAddrsKey{}, addrs)
}

func tcpAddrsFrom(ctx context.Context) []tcpAddr {
	a, _ := ctx.Value(tcpAddrsKey{}).([]tcpAddr)
	return a
}

// roundTripTCP sends req over TCP and learns from the response: its
// Alt-Svc field (https origins), and that TCP works for the origin, which
// confirms QUIC failures pending for it as broken alternatives.
func (t *Transport) roundTripTCP(req *http.Request, origin Origin, tr *ClientTrace) (*http.Response, error) {
	resp, err := t.tcp.RoundTrip(withTCPPriority(req))
	if err != nil {
		return nil, err
	}
	t.afterTCP(origin, resp, tr)
	return resp, nil
}

func (t *Transport) afterTCP(origin Origin, resp *http.Response, tr *ClientTrace) {
	if origin.Scheme != "https" || t.Mode == ModeTCP {
		return
	}
	for _, m := range t.alts.tcpWorked(origin, t.now()) {
		t.reportBroken(m, tr)
	}
	if resp.TLS != nil {
		t.learnAltSvc(origin, resp, tr)
	}
}

// A race's TCP attempt holds the request until net/http has a connection
// for it (httptrace GotConn, which comes before anything is written); the
// request is then claimed for TCP, unless QUIC claimed it first. net/http
// offers no way to take back a request once it has a connection, so a TCP
// attempt that lost makes sure nothing goes out: an HTTP/1.1 connection
// (this request's alone) is closed, and for HTTP/2, whose connection other
// requests share, the request is given a header net/http refuses to encode
// (Upgrade), so it fails before its HEADERS frame is written.

// losingUpgrade is the Upgrade value that stops a losing HTTP/2 attempt.
const losingUpgrade = "skiff-race-lost"

// tcpGate returns the trace hook that claims req's race for TCP when its
// connection arrives.
func tcpGate(r *race, req *http.Request) *httptrace.ClientTrace {
	return &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if r.claim(sideTCP) {
			return
		}
		if tc, ok := info.Conn.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol == "h2" {
			req.Header["Upgrade"] = []string{losingUpgrade}
			return
		}
		if info.Conn != nil {
			info.Conn.Close()
		}
	}}
}

// gatedBody is the body of a race's TCP attempt: it reads the request's
// body only once TCP won, and closes it only then, since net/http closes
// the body of a request it gives up on.
type gatedBody struct {
	r    *race
	body io.ReadCloser
}

var errRaceLost = errors.New("h3: request went over HTTP/3")

func (b *gatedBody) Read(p []byte) (int, error) {
	if b.r.winner() != sideTCP {
		return 0, errRaceLost
	}
	return b.body.Read(p)
}

func (b *gatedBody) Close() error {
	if b.r.winner() != sideTCP {
		return nil
	}
	return b.body.Close()
}
