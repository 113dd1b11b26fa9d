package skiffep

import (
	"context"
	"net/http"
	"time"

	"github.com/skiffnet/skiff/h3"
	"github.com/skiffnet/skiff/interop/endpoint"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/quic/qlog"
	"github.com/skiffnet/skiff/tls13"
)

// Cases are the test cases skiff's endpoint runs. To turn one on when
// quic gains the feature: set the role to true here and, where the client
// must behave differently, add that behaviour in clientConfig or dial.
var Cases = endpoint.Table{
	"handshake":    endpoint.Both,
	"transfer":     endpoint.Both,
	"chacha20":     endpoint.Both,
	"retry":        endpoint.Both,
	"http3":        endpoint.Both,
	"multiconnect": endpoint.Both,
	"ecn":          endpoint.Both,
	// The client updates its keys at once (Conn.InitiateKeyUpdate); the
	// runner gives the server "transfer" in the keyupdate test.
	"keyupdate":  endpoint.Both,
	"resumption": endpoint.Both,
	"zerortt":    endpoint.Both,
	// The client starts in version 1 and offers 2; the server prefers 2
	// (compatible version negotiation, RFC 9368).
	"v2": endpoint.Both,
	// The server announces a preferred address (preferred.go); the
	// client follows one by default.
	"connectionmigration": endpoint.Both,
}

// Impl is skiff's endpoint.
func Impl() endpoint.Impl {
	return endpoint.Impl{Name: "skiff", Cases: Cases, Serve: serve, Fetch: fetch}
}

// Timeouts long enough for handshakes under 30 % loss (the runner's
// handshakeloss budget is 300 s for 50 of them) and for the blackhole.
// The probe timeout doubles from 1 s (RFC 9002 §6.2.1, the initial RTT of
// 333 ms), so a client's Initials go at 0, 1, 3, 7, 15, 31, 63 and 127 s:
// with 60 s a ClientHello whose first of two datagrams was lost six times
// in a row (0.3^6, one handshakeloss run in 30 with its 50 connections;
// seen in make interop, quic-go server, skiff client) timed out before
// its seventh try. 150 s allows eight, and one such connection still
// ends inside the budget.
const (
	handshakeTimeout = 150 * time.Second
	idleTimeout      = 150 * time.Second
)

func quicConfig(s *endpoint.Setup, tlsConf *tls13.Config) *quic.Config {
	c := &quic.Config{
		TLS:              tlsConf,
		HandshakeTimeout: handshakeTimeout,
		MaxIdleTimeout:   idleTimeout,
	}
	if s.QlogDir != "" {
		c.Tracer = qlog.DirTracer(s.QlogDir)
	}
	return c
}

func serve(ctx context.Context, s *endpoint.Setup) error {
	cert, err := tls13.LoadX509KeyPair(s.CertFile, s.KeyFile)
	if err != nil {
		return err
	}
	tlsConf := &tls13.Config{
		Certificates: []tls13.Certificate{cert},
		NextProtos:   []string{s.ALPN()},
		KeyLogWriter: s.KeyLog,
	}
	qc := quicConfig(s, tlsConf)
	qc.RequireAddressValidation = s.TestCase == "retry"
	qc.Allow0RTT = s.TestCase == "zerortt"
	if s.TestCase == "v2" {
		qc.Versions = []quic.Version{quic.Version2, quic.Version1}
	}
	var lns []*quic.Listener
	if s.TestCase == "connectionmigration" {
		lns, err = listenPreferred(s, qc)
	} else {
		lns, err = listen(s.Listen, qc)
	}
	if err != nil {
		return err
	}
	var srv *h3.Server
	if s.TestCase == "http3" {
		srv = &h3.Server{Handler: endpoint.FileHandler(s.WWW), TLSConfig: tlsConf, QUICConfig: qc}
	}
	errs := make(chan error, len(lns))
	for _, ln := range lns {
		defer ln.Close()
		go func() { errs <- serveListener(ctx, s, ln, srv) }()
	}
	select {
	case <-ctx.Done():
		if srv != nil {
			srv.Close()
		}
		return ctx.Err()
	case err := <-errs:
		return err
	}
}

// listen opens the server's socket: one dual-stack socket for an address
// with no host (":443").
func listen(addr string, qc *quic.Config) ([]*quic.Listener, error) {
	ln, err := quic.Listen("udp", addr, qc)
	if err != nil {
		return nil, err
	}
	return []*quic.Listener{ln}, nil
}

// serveListener serves hq-interop, or HTTP/3 when srv is set, on ln.
func serveListener(ctx context.Context, s *endpoint.Setup, ln *quic.Listener, srv *h3.Server) error {
	if srv != nil {
		return srv.Serve(ln)
	}
	for {
		c, err := ln.Accept(ctx)
		if err != nil {
			return err
		}
		go endpoint.ServeHQ(ctx, conn(c), s.WWW, s.Logf)
	}
}

func clientTLS(s *endpoint.Setup) *tls13.Config {
	c := &tls13.Config{
		ServerName:         s.Requests[0].Hostname(),
		RootCAs:            s.Roots,
		InsecureSkipVerify: !s.VerifyPeer,
		NextProtos:         []string{s.ALPN()},
		KeyLogWriter:       s.KeyLog,
	}
	switch s.TestCase {
	case "chacha20":
		c.CipherSuites = []uint16{tls13.TLS_CHACHA20_POLY1305_SHA256}
	case "resumption", "zerortt":
		c.ClientSessionCache = tls13.NewLRUClientSessionCache(1)
	}
	return c
}

func fetch(ctx context.Context, s *endpoint.Setup) error {
	qc := quicConfig(s, clientTLS(s))
	if s.TestCase == "http3" {
		t := newH3Transport(qc)
		defer t.CloseIdleConnections()
		return endpoint.FetchHTTP(ctx, t, s.Requests, s.Downloads)
	}
	return endpoint.RunPlan(ctx, s, func(ctx context.Context, addr string, _ int) (endpoint.Conn, error) {
		dial := quic.Dial
		if s.TestCase == "zerortt" {
			// The second connection sends its requests in 0-RTT.
			dial = quic.DialEarly
		}
		c, err := dial(ctx, "udp", addr, qc)
		if err != nil {
			return nil, err
		}
		if s.TestCase == "keyupdate" {
			// The runner looks for our packets in the second key phase.
			if err := c.InitiateKeyUpdate(); err != nil {
				return nil, err
			}
		}
		return conn(c), nil
	})
}

// newH3Transport is the HTTP/3 client: h3.Transport in its HTTP/3-only
// mode (the runner's http3 case has no TCP server to discover from),
// dialing with qc, so that the key log and qlog settings apply.
func newH3Transport(qc *quic.Config) interface {
	http.RoundTripper
	CloseIdleConnections()
} {
	return &h3.Transport{
		Mode:            h3.ModeHTTP3Only,
		TLSClientConfig: qc.TLS,
		QUICConfig:      qc,
		Dial: func(ctx context.Context, addr string, cfg *quic.Config) (*quic.Conn, error) {
			return quic.Dial(ctx, "udp", addr, cfg)
		},
	}
}

// conn adapts a *quic.Conn to endpoint.Conn; Close returns once the
// CONNECTION_CLOSE is sent, so that the process may exit then.
func conn(c *quic.Conn) endpoint.Conn {
	return endpoint.NewConn(c.OpenStream, c.AcceptStream, c.Close)
}
