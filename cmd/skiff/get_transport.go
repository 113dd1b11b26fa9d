package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/skiffnet/skiff/h3"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/quic/qlog"
	"github.com/skiffnet/skiff/tls13"
)

// clientStack is what carries skiff get's requests: net/http's Transport
// over TCP (crypto/tls), skiff's HTTP/3 transport over QUIC, and the
// RoundTripper that chooses between them.
type clientStack struct {
	tcp     *http.Transport
	quic    *h3.Transport
	rt      http.RoundTripper
	closers []io.Closer
	// qlogs tracks the QUIC connections whose qlog files are still open,
	// with --qlog-dir.
	qlogs *activeCount
}

func newClientStack(o *getOptions) (*clientStack, error) {
	cs := &clientStack{}
	var roots *x509.CertPool
	if o.cacert != "" {
		pem, err := os.ReadFile(o.cacert)
		if err != nil {
			return nil, &exitError{exitCACertFile, "cannot read the CA certificates: " + err.Error()}
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, &exitError{exitCACertFile, "no PEM certificate in " + o.cacert}
		}
	}
	var keylog io.Writer
	if o.keylogFile != "" {
		f, err := os.OpenFile(o.keylogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, &exitError{exitWriteError, "cannot open the key log: " + err.Error()}
		}
		cs.closers = append(cs.closers, f)
		keylog = f
	}

	cs.tcp = &http.Transport{
		// No proxy: the QUIC side could not follow one, and a proxy would
		// hide the protocol choice this command exists to show.
		Proxy:       nil,
		DialContext: (&net.Dialer{}).DialContext,
		TLSClientConfig: &tls.Config{
			RootCAs:            roots,
			InsecureSkipVerify: o.insecure,
			KeyLogWriter:       keylog,
		},
		// Bodies are written as they arrive, as curl does without
		// --compressed; transparent gzip would change the sizes.
		DisableCompression: true,
		ForceAttemptHTTP2:  true,
	}
	qcfg := &quic.Config{HandshakeTimeout: o.connectTimeout}
	if o.qlogDir != "" {
		if err := os.MkdirAll(o.qlogDir, 0o755); err != nil {
			return nil, &exitError{exitWriteError, "cannot make the qlog directory: " + err.Error()}
		}
		cs.qlogs = &activeCount{}
		qcfg.Tracer = trackClosed(cs.qlogs, qlog.DirTracer(o.qlogDir))
	}
	cs.quic = &h3.Transport{
		TLSClientConfig: &tls13.Config{RootCAs: roots, InsecureSkipVerify: o.insecure, KeyLogWriter: keylog},
		QUICConfig:      qcfg,
		Dial:            dialQUIC,
	}
	cs.rt = chooseRoundTripper(o.proto, cs.tcp, cs.quic)
	return cs, nil
}

// chooseRoundTripper is the one place that decides which protocols carry
// the requests.
//
// TODO(issue 12): auto and --http3 go to h3.Transport's discovery modes
// (Alt-Svc cache in --alt-svc's file, racing, fallback) once they land;
// until then auto is TCP and --http3 is HTTP/3 only.
func chooseRoundTripper(mode protoMode, tcp *http.Transport, q *h3.Transport) http.RoundTripper {
	var p http.Protocols
	switch mode {
	case protoHTTP1:
		p.SetHTTP1(true)
		tcp.Protocols = &p
		return tcp
	case protoHTTP3, protoHTTP3Only:
		return q
	default:
		p.SetHTTP1(true)
		p.SetHTTP2(true)
		tcp.Protocols = &p
		return tcp
	}
}

// qlogCloseWait bounds how long skiff get waits at exit for its QUIC
// connections to end, so that their qlog files are complete.
const qlogCloseWait = 3 * time.Second

// close closes the idle connections and the key log. With --qlog-dir it
// waits (up to qlogCloseWait) for the QUIC connections to end their
// closing period (RFC 9000 §10.2), when their traces are written out.
func (cs *clientStack) close() {
	cs.tcp.CloseIdleConnections()
	cs.quic.CloseIdleConnections()
	if cs.qlogs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), qlogCloseWait)
		cs.qlogs.waitZero(ctx)
		cancel()
	}
	for _, c := range cs.closers {
		c.Close()
	}
}

// trackClosed returns a tracer factory that calls newTracer's hooks and
// counts each connection in c until its Closed hook.
func trackClosed(c *activeCount, newTracer func(isClient bool, odcid []byte) *quic.Tracer) func(bool, []byte) *quic.Tracer {
	return func(isClient bool, odcid []byte) *quic.Tracer {
		t := &quic.Tracer{}
		if inner := newTracer(isClient, odcid); inner != nil {
			*t = *inner
		}
		c.add()
		closed := t.Closed
		t.Closed = func(st quic.Stats) {
			if closed != nil {
				closed(st)
			}
			c.done()
		}
		return t
	}
}

// dialQUIC opens the QUIC connections of the HTTP/3 side, reporting each
// step to the request's timeline: resolution, the handshake, the server's
// certificate.
func dialQUIC(ctx context.Context, addr string, cfg *quic.Config) (*quic.Conn, error) {
	h := hopFrom(ctx)
	if h == nil {
		h = &hop{tl: &timeline{}, st: &transferStats{start: time.Now()}}
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port in %q", addr)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		h.tl.infof("Resolving %s for QUIC", host)
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			h.tl.infof("Resolution failed: %v", err)
			return nil, err
		}
		h.st.mark(&h.st.namelookup)
		ip = ips[0]
	}
	target := netip.AddrPortFrom(ip.Unmap(), uint16(port)).String()
	c := *cfg
	c.TLS = cfg.TLS.Clone()
	var leaf *x509.Certificate
	// VerifyPeerCertificate runs after the chain verified (or with -k):
	// the handshake's one chance to see the certificate.
	c.TLS.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) > 0 {
			leaf, _ = x509.ParseCertificate(raw[0])
		}
		return nil
	}
	h.tl.infof("Connecting to %s over QUIC", target)
	qc, err := quic.Dial(ctx, "udp", target, &c)
	if err != nil {
		h.tl.infof("QUIC connection to %s failed: %v", target, err)
		return nil, err
	}
	h.quicConnected(qc.RemoteAddr(), leaf)
	return qc, nil
}
