package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
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

func newClientStack(o *getOptions, warn io.Writer) (*clientStack, error) {
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
		DialContext: (&net.Dialer{Resolver: resolverFor(o.dnsServer)}).DialContext,
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
		DNSServer:       o.dnsServer,
	}
	if o.altSvcFile != "" {
		f, err := h3.NewAltSvcFile(o.altSvcFile, 0)
		if err != nil {
			// As curl does: a cache that cannot be used is no reason to
			// fail the transfer.
			if !o.silent {
				fmt.Fprintf(warn, "skiff: warning: --alt-svc %s: %v (going on without it)\n", o.altSvcFile, err)
			}
		} else {
			cs.quic.AltSvc = f
		}
	}
	cs.rt = chooseRoundTripper(o.proto, cs.tcp, cs.quic)
	return cs, nil
}

// resolverFor is the TCP side's resolver: the system's, or the Go
// resolver asking only server (--dns-servers), as the HTTP/3 side does.
func resolverFor(server string) *net.Resolver {
	if server == "" {
		return nil
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}

// qlogCloseWait bounds how long skiff get waits at exit for its QUIC
// connections to end, so that their qlog files are complete.
const qlogCloseWait = 3 * time.Second

// close closes the idle connections, each QUIC one with its
// CONNECTION_CLOSE sent before CloseIdleConnections returns, and the key
// log. With --qlog-dir it
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

// dialQUIC opens the HTTP/3 side's QUIC connections (addr is an
// "ip:port" the transport resolved), telling the request's timeline.
func dialQUIC(ctx context.Context, addr string, cfg *quic.Config) (*quic.Conn, error) {
	if h := hopFrom(ctx); h != nil {
		h.tl.infof("Connecting to %s over QUIC", addr)
	}
	return quic.Dial(ctx, "udp", addr, cfg)
}
