package quicgoep

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"github.com/quic-go/quic-go/qlogwriter"

	"github.com/skiffnet/skiff/interop/endpoint"
)

// Cases are the test cases quic-go's endpoint runs. quic-go updates its
// keys after its first 100 packets on its own, which is what keyupdate
// asks of a client.
var Cases = endpoint.Table{
	"handshake":    endpoint.Both,
	"transfer":     endpoint.Both,
	"retry":        endpoint.Both,
	"resumption":   endpoint.Both,
	"zerortt":      endpoint.Both,
	"http3":        endpoint.Both,
	"multiconnect": endpoint.Both,
	"keyupdate":    endpoint.Both,
	"ecn":          endpoint.Both,
	// crypto/tls offers every TLS 1.3 suite; a server picks what the
	// client offers.
	"chacha20":            {Server: true, Missing: "(crypto/tls cannot restrict a client's TLS 1.3 cipher suites)"},
	"v2":                  {Missing: "(quic-go has no compatible version negotiation, RFC 9368)"},
	"connectionmigration": {Missing: "(quic-go's server sends no preferred_address)"},
}

// Impl is quic-go's endpoint.
func Impl() endpoint.Impl {
	return endpoint.Impl{Name: "quic-go", Cases: Cases, Serve: serve, Fetch: fetch}
}

func quicConfig(s *endpoint.Setup) *quic.Config {
	c := &quic.Config{
		// Version 1 only: quic-go also speaks version 2 by default and
		// follows a Version Negotiation packet to it, which a corrupted
		// client Initial can provoke (handshakecorruption); every test
		// but v2 requires version 1.
		Versions: []quic.Version{quic.Version1},
		// As long as skiffep's (its comment says why: the probe
		// timeout's backoff under handshakeloss's 30 % loss).
		HandshakeIdleTimeout: 150 * time.Second,
		MaxIdleTimeout:       150 * time.Second,
		Allow0RTT:            s.TestCase == "zerortt",
	}
	if s.QlogDir != "" {
		c.Tracer = qlogTracer(s.QlogDir, s.Logf)
	}
	return c
}

// qlogTracer writes one <odcid>_<client|server>.sqlog per connection in
// dir, as the runner expects.
func qlogTracer(dir string, logf func(string, ...any)) func(context.Context, bool, quic.ConnectionID) qlogwriter.Trace {
	return func(_ context.Context, isClient bool, odcid quic.ConnectionID) qlogwriter.Trace {
		side := "server"
		if isClient {
			side = "client"
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s_%s.sqlog", odcid, side)))
		if err != nil {
			logf("qlog: %v", err)
			return nil
		}
		seq := qlogwriter.NewConnectionFileSeq(&bufferedFile{bufio.NewWriter(f), f}, isClient, odcid)
		go seq.Run()
		return seq
	}
}

type bufferedFile struct {
	*bufio.Writer
	f *os.File
}

func (b *bufferedFile) Close() error {
	err := b.Flush()
	if cerr := b.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func serve(ctx context.Context, s *endpoint.Setup) error {
	cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
	if err != nil {
		return err
	}
	tlsConf := &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{s.ALPN()},
		KeyLogWriter: s.KeyLog,
	}
	addr, err := net.ResolveUDPAddr("udp", s.Listen)
	if err != nil {
		return err
	}
	udp, err := net.ListenUDP("udp", addr)
	if err != nil {
		return err
	}
	retry := s.TestCase == "retry"
	tr := &quic.Transport{Conn: udp, VerifySourceAddress: func(net.Addr) bool { return retry }}
	defer tr.Close()
	ln, err := tr.ListenEarly(tlsConf, quicConfig(s))
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	if s.TestCase == "http3" {
		srv := &http3.Server{Handler: endpoint.FileHandler(s.WWW)}
		err := srv.ServeListener(ln)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	for {
		c, err := ln.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				// The goroutine above may close the listener before
				// Accept sees ctx end: then it reports the close.
				return ctx.Err()
			}
			return err
		}
		go endpoint.ServeHQ(ctx, conn(c), s.WWW, s.Logf)
	}
}

func fetch(ctx context.Context, s *endpoint.Setup) error {
	tlsConf := &tls.Config{
		ServerName:         s.Requests[0].Hostname(),
		RootCAs:            s.Roots,
		InsecureSkipVerify: !s.VerifyPeer,
		NextProtos:         []string{s.ALPN()},
		KeyLogWriter:       s.KeyLog,
	}
	if s.TestCase == "resumption" || s.TestCase == "zerortt" {
		tlsConf.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	}
	qc := quicConfig(s)
	if s.TestCase == "http3" {
		t := &http3.Transport{TLSClientConfig: tlsConf, QUICConfig: qc}
		defer t.Close()
		return endpoint.FetchHTTP(ctx, t, s.Requests, s.Downloads)
	}
	return endpoint.RunPlan(ctx, s, func(ctx context.Context, addr string, _ int) (endpoint.Conn, error) {
		// DialAddrEarly lets the second connection of zerortt send its
		// requests in 0-RTT; for every other case it behaves as DialAddr
		// once the first stream is written.
		c, err := quic.DialAddrEarly(ctx, addr, tlsConf, qc)
		if err != nil {
			return nil, err
		}
		if s.TestCase != "zerortt" {
			select {
			case <-c.HandshakeComplete():
			case <-c.Context().Done():
				return nil, context.Cause(c.Context())
			}
		}
		return conn(c), nil
	})
}

// conn adapts a *quic.Conn to endpoint.Conn.
func conn(c *quic.Conn) endpoint.Conn {
	return endpoint.NewConn(c.OpenStreamSync, c.AcceptStream, func() error { return c.CloseWithError(0, "") })
}
