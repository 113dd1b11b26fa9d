package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/h3"
)

// timeline prints skiff get -v's events on stderr, each with the time
// since the transfer started. Events come from several goroutines (the
// TCP and QUIC sides of a race), hence the lock.
type timeline struct {
	mu    sync.Mutex
	w     io.Writer // nil when not verbose
	start time.Time
}

// infof prints one event line, "* [  12.345 ms] text".
func (t *timeline) infof(format string, args ...any) {
	if t.w == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ms := float64(time.Since(t.start).Microseconds()) / 1000
	fmt.Fprintf(t.w, "* [%9.3f ms] %s\n", ms, fmt.Sprintf(format, args...))
}

// block prints header lines with prefix ("> " sent, "< " received) and an
// empty prefixed line after them, as curl does.
func (t *timeline) block(prefix string, lines []string) {
	if t.w == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range lines {
		fmt.Fprintf(t.w, "%s%s\n", prefix, l)
	}
	fmt.Fprintln(t.w, strings.TrimSpace(prefix))
}

// transferStats are one transfer's figures, for -w and the -v summary.
// The times count from start, as curl's time_* variables do.
type transferStats struct {
	mu    sync.Mutex
	start time.Time

	namelookup, connect, appconnect, pretransfer, starttransfer, redirect, total time.Duration

	remote       string // the address of the connection that carried the last response
	proto        string // the last response's Proto ("HTTP/2.0")
	status       int
	header       http.Header
	method       string
	urlEffective string
	numRedirects int
	sizeDownload int64
	sizeUpload   int64
	exitCode     int
	errMsg       string
}

// mark sets *d to the time since the start.
func (st *transferStats) mark(d *time.Duration) {
	st.mu.Lock()
	*d = time.Since(st.start)
	st.mu.Unlock()
}

func (st *transferStats) setRemote(addr string) {
	st.mu.Lock()
	st.remote = addr
	st.mu.Unlock()
}

// hop is one request of a transfer (a transfer following redirects makes
// several): it turns the transports' events into timeline lines and
// transfer figures.
type hop struct {
	tl  *timeline
	st  *transferStats
	req *http.Request
	// connReady is called once a connection carries the request: it stops
	// the --connect-timeout timer.
	connReady func()
	// raced is set once the discovery transport starts a race.
	raced atomic.Bool
}

type hopKey struct{}

// withHop puts h in ctx, where the QUIC dial hook, which the transport
// calls with the request's context values, finds it.
func withHop(ctx context.Context, h *hop) context.Context {
	ctx = h3.WithClientTrace(context.WithValue(ctx, hopKey{}, h), h.discoveryTrace())
	return httptrace.WithClientTrace(ctx, h.clientTrace())
}

func hopFrom(ctx context.Context) *hop {
	h, _ := ctx.Value(hopKey{}).(*hop)
	return h
}

// clientTrace reports net/http's events (the TCP side; the HTTP/3
// transport reports GotConn and interim responses).
func (h *hop) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart: func(i httptrace.DNSStartInfo) { h.tl.infof("Resolving %s", i.Host) },
		DNSDone: func(i httptrace.DNSDoneInfo) {
			h.st.mark(&h.st.namelookup)
			if i.Err != nil {
				h.tl.infof("Resolution failed: %v", i.Err)
				return
			}
			addrs := make([]string, len(i.Addrs))
			for k, a := range i.Addrs {
				addrs[k] = a.String()
			}
			h.tl.infof("Resolved to %s", strings.Join(addrs, ", "))
		},
		ConnectStart: func(network, addr string) { h.tl.infof("Connecting to %s over TCP", addr) },
		ConnectDone: func(network, addr string, err error) {
			if err != nil {
				h.tl.infof("TCP connection to %s failed: %v", addr, err)
				return
			}
			h.st.mark(&h.st.connect)
			h.tl.infof("TCP connection to %s established", addr)
		},
		TLSHandshakeStart: func() { h.tl.infof("TLS handshake (TCP)") },
		TLSHandshakeDone: func(cs tls.ConnectionState, err error) {
			if err != nil {
				h.tl.infof("TLS handshake failed: %v", err)
				return
			}
			h.st.mark(&h.st.appconnect)
			alpn := cs.NegotiatedProtocol
			if alpn == "" {
				alpn = "none (HTTP/1.1)"
			}
			h.tl.infof("TLS handshake done: %s, %s, key exchange %v, ALPN %s",
				tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite), cs.CurveID, alpn)
			if len(cs.PeerCertificates) > 0 {
				h.tl.infof("Server certificate: %s", describeCert(cs.PeerCertificates[0]))
			}
		},
		GotConn: func(i httptrace.GotConnInfo) {
			proto := "HTTP/3"
			if i.Conn != nil {
				h.st.setRemote(i.Conn.RemoteAddr().String())
				proto = "HTTP/1.1"
				if tc, ok := i.Conn.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol == "h2" {
					proto = "HTTP/2"
				}
			}
			h.gotConn(proto, i.Reused)
		},
		WroteRequest: func(httptrace.WroteRequestInfo) { h.st.mark(&h.st.pretransfer) },
		GotFirstResponseByte: func() {
			h.st.mark(&h.st.starttransfer)
		},
		Got1xxResponse: func(code int, hdr textproto.MIMEHeader) error {
			h.tl.block("< ", append([]string{fmt.Sprintf("%d %s", code, http.StatusText(code))}, headerLines(http.Header(hdr))...))
			return nil
		},
	}
}

// gotConn reports a connection ready for the request. In a race it may
// be the losing side's: the protocol that carried the request is named
// with the response (sentRequest).
func (h *hop) gotConn(proto string, reused bool) {
	if h.connReady != nil {
		h.connReady()
	}
	if proto == "HTTP/3" {
		// The HTTP/3 transport reports no write of the request.
		h.st.mark(&h.st.pretransfer)
	}
	how := "new"
	if reused {
		how = "already open"
	}
	h.tl.infof("Connection ready for %s (%s)", proto, how)
}

// sentRequest prints the protocol that carried the request, and the
// request as sent.
func (h *hop) sentRequest(resp *http.Response) {
	proto := strings.TrimSuffix(resp.Proto, ".0")
	h.tl.infof("Using %s", proto)
	if h.tl.w == nil {
		return
	}
	r := h.req
	lines := []string{fmt.Sprintf("%s %s %s", r.Method, r.URL.RequestURI(), proto), "Host: " + r.Host}
	if r.Host == "" {
		lines[1] = "Host: " + r.URL.Host
	}
	lines = append(lines, headerLines(r.Header)...)
	h.tl.block("> ", lines)
	if r.ContentLength > 0 {
		h.tl.infof("Sent a %d-byte body", r.ContentLength)
	}
}

// describeCert is one line on a certificate: subject, names, issuer,
// expiry.
func describeCert(c *x509.Certificate) string {
	names := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return fmt.Sprintf("subject %q, names %s, issuer %q, valid until %s",
		c.Subject.String(), strings.Join(names, " "), c.Issuer.String(), c.NotAfter.UTC().Format(time.RFC3339))
}

// headerLines renders a header as "Name: value" lines, sorted by name.
func headerLines(h http.Header) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var lines []string
	for _, k := range names {
		for _, v := range h[k] {
			lines = append(lines, k+": "+v)
		}
	}
	return lines
}

// statusLine is a response's first line as curl prints it: "HTTP/1.1 200
// OK", "HTTP/2 200", "HTTP/3 200".
func statusLine(r *http.Response) string {
	if r.ProtoMajor == 1 {
		return fmt.Sprintf("HTTP/%d.%d %s", r.ProtoMajor, r.ProtoMinor, r.Status)
	}
	return fmt.Sprintf("HTTP/%d %d", r.ProtoMajor, r.StatusCode)
}
