package quicinterop

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/qlogwriter"
	"github.com/skiffnet/skiff/interop/relay"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// Session resumption, 0-RTT, QUIC version 2 and NEW_TOKEN between skiff
// and quic-go, both ways, over loopback.

// waitFor polls cond (a cache filling) until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("never: %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestResumptionAndZeroRTTSkiffClientQuicGoServer: the second skiff
// connection resumes quic-go's ticket, and its request, written before the
// handshake completes, goes in 0-RTT, which quic-go accepts.
func TestResumptionAndZeroRTTSkiffClientQuicGoServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, std, _, skClient := certs(t)
	ln, err := quicgo.ListenAddrEarly("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{std}, NextProtos: []string{alpn}}, &quicgo.Config{Allow0RTT: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	used0RTT := make(chan bool, 4)
	serveAll(ctx, func(ctx context.Context) (*quicgo.Conn, error) {
		c, err := ln.Accept(ctx)
		if err == nil {
			go func() {
				<-c.HandshakeComplete()
				used0RTT <- c.ConnectionState().TLS.DidResume && c.ConnectionState().Used0RTT
			}()
		}
		return c, err
	}, func(c *quicgo.Conn) func(context.Context) (*quicgo.Stream, error) { return c.AcceptStream })

	skClient.ClientSessionCache = tls13.NewLRUClientSessionCache(4)
	config := &quic.Config{TLS: skClient}
	c1, err := quic.Dial(ctx, "udp", ln.Addr().String(), config)
	if err != nil {
		t.Fatal(err)
	}
	exchange(t, ctx, c1)
	waitFor(t, ctx, "a ticket from quic-go", func() bool {
		cs, ok := skClient.ClientSessionCache.Get("localhost:" + portOf(ln.Addr()))
		return ok && cs != nil && cs.EarlyDataAllowed()
	})
	c1.CloseWithError(0, "")
	if <-used0RTT {
		t.Fatal("first connection resumed")
	}

	c2, err := quic.DialEarly(ctx, "udp", ln.Addr().String(), config)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.CloseWithError(0, "")
	select {
	case <-c2.HandshakeComplete():
		t.Fatal("DialEarly waited for the handshake")
	default:
	}
	exchange(t, ctx, c2)
	st := c2.ConnectionState()
	if !st.DidResume || !st.EarlyDataAccepted || !<-used0RTT {
		t.Fatalf("second connection: resumed %v, 0-RTT accepted %v", st.DidResume, st.EarlyDataAccepted)
	}
}

// TestResumptionAndZeroRTTQuicGoClientSkiffServer: quic-go's second
// connection resumes skiff's ticket and sends its request in 0-RTT; skiff
// accepts the connection before the handshake completes and reads the
// request as early data. A relay puts 200 ms of round trip between them,
// so that the request is written before the handshake can complete even
// when the machine is busy: on bare loopback it may complete first, and
// the request then rightly goes in 1-RTT.
func TestResumptionAndZeroRTTQuicGoClientSkiffServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	skCert, _, goClient, _ := certs(t)
	ln := listenSkiff(t, skCert, &quic.Config{Allow0RTT: true})
	var earlyStreams atomic.Int32
	serveAll(ctx, ln.Accept, func(c *quic.Conn) func(context.Context) (*quic.Stream, error) {
		return func(ctx context.Context) (*quic.Stream, error) {
			s, err := c.AcceptStream(ctx)
			if err == nil && s.ReceivedEarlyData() {
				earlyStreams.Add(1)
			}
			return s, err
		}
	})

	rl, err := relay.Start(relay.Config{
		Network: relay.Network{Delay: 100 * time.Millisecond},
		Listen:  netip.MustParseAddrPort("127.0.0.1:0"),
		Server:  ln.Addr(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rl.Close()
	goClient.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	c1, err := quicgo.DialAddr(ctx, rl.Addr().String(), goClient, nil)
	if err != nil {
		t.Fatal(err)
	}
	exchangeGo(t, ctx, c1)
	waitFor(t, ctx, "quic-go stored skiff's ticket", func() bool {
		_, ok := goClient.ClientSessionCache.Get("localhost")
		return ok
	})
	c1.CloseWithError(0, "")

	c2, err := quicgo.DialAddrEarly(ctx, rl.Addr().String(), goClient, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.CloseWithError(0, "")
	exchangeGo(t, ctx, c2)
	st := c2.ConnectionState()
	if !st.TLS.DidResume || !st.Used0RTT || earlyStreams.Load() != 1 {
		t.Fatalf("second connection: resumed %v, 0-RTT used %v, %d early streams at skiff", st.TLS.DidResume, st.Used0RTT, earlyStreams.Load())
	}
}

// TestVersion2WithQuicGo: QUIC version 2 (RFC 9369) both ways. quic-go does
// not implement compatible version negotiation (RFC 9368), so each side
// reaches version 2 its own way: a skiff client that starts in it; a
// quic-go client that starts in version 1 and follows a skiff server's
// Version Negotiation to version 2. A skiff client that follows quic-go's
// Version Negotiation closes with VERSION_NEGOTIATION_ERROR: quic-go sends
// no version_information to confirm it (RFC 9368 §4 downgrade
// protection).
func TestVersion2WithQuicGo(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	skCert, std, goClient, skClient := certs(t)
	goTLS := &tls.Config{Certificates: []tls.Certificate{std}, NextProtos: []string{alpn}}

	t.Run("skiff client in v2, quic-go server", func(t *testing.T) {
		ln, err := quicgo.ListenAddr("127.0.0.1:0", goTLS, &quicgo.Config{Versions: []quicgo.Version{quicgo.Version1, quicgo.Version2}})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		serveAll(ctx, ln.Accept, func(c *quicgo.Conn) func(context.Context) (*quicgo.Stream, error) { return c.AcceptStream })
		c, err := quic.Dial(ctx, "udp", ln.Addr().String(), &quic.Config{TLS: skClient, Versions: []quic.Version{quic.Version2}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseWithError(0, "")
		exchange(t, ctx, c)
		if c.Version() != quic.Version2 {
			t.Fatalf("version %v", c.Version())
		}
	})

	t.Run("quic-go client v1 then v2, skiff server v2 only", func(t *testing.T) {
		ln := listenSkiff(t, skCert, &quic.Config{Versions: []quic.Version{quic.Version2}})
		serveAll(ctx, ln.Accept, func(c *quic.Conn) func(context.Context) (*quic.Stream, error) { return c.AcceptStream })
		c, err := quicgo.DialAddr(ctx, ln.Addr().String(), goClient, &quicgo.Config{Versions: []quicgo.Version{quicgo.Version1, quicgo.Version2}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseWithError(0, "")
		exchangeGo(t, ctx, c)
		if v := c.ConnectionState().Version; v != quicgo.Version2 {
			t.Fatalf("version %v", v)
		}
	})

	t.Run("skiff client follows quic-go's Version Negotiation", func(t *testing.T) {
		ln, err := quicgo.ListenAddr("127.0.0.1:0", goTLS, &quicgo.Config{Versions: []quicgo.Version{quicgo.Version2}})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		_, err = quic.Dial(ctx, "udp", ln.Addr().String(), &quic.Config{TLS: skClient})
		var te *quic.TransportError
		if !errors.As(err, &te) || te.Code != 0x11 {
			t.Fatalf("dial: %v, want VERSION_NEGOTIATION_ERROR", err)
		}
	})
}

// TestNewTokenSkipsRetryWithQuicGo: a server that validates addresses
// sends a Retry to a new client and a NEW_TOKEN token after the
// handshake; the client's second connection carries the token and gets no
// Retry. Both ways.
func TestNewTokenSkipsRetryWithQuicGo(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	skCert, std, goClient, skClient := certs(t)

	t.Run("skiff client, quic-go server", func(t *testing.T) {
		addr, asked := quicGoRetryServer(t, ctx, std)
		store := quic.NewTokenStore(4, 2)
		config := &quic.Config{TLS: skClient, TokenStore: store}
		c1, err := quic.Dial(ctx, "udp", addr, config)
		if err != nil {
			t.Fatal(err)
		}
		exchange(t, ctx, c1)
		c1.CloseWithError(0, "")
		first := asked.Load()
		if first == 0 {
			t.Fatal("no Retry for the first connection")
		}
		c2, err := quic.Dial(ctx, "udp", addr, config)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.CloseWithError(0, "")
		exchange(t, ctx, c2)
		if n := asked.Load() - first; n != 0 {
			t.Fatalf("second connection considered for a Retry %d times: the token was not used", n)
		}
	})

	t.Run("quic-go client, skiff server", func(t *testing.T) {
		ln := listenSkiff(t, skCert, &quic.Config{RequireAddressValidation: true})
		serveAll(ctx, ln.Accept, func(c *quic.Conn) func(context.Context) (*quic.Stream, error) { return c.AcceptStream })
		store := quicgo.NewLRUTokenStore(4, 2)
		dial := func() (*quicgo.Conn, *retryCounter) {
			var retries retryCounter
			c, err := quicgo.DialAddr(ctx, ln.Addr().String(), goClient, &quicgo.Config{
				TokenStore: store,
				Tracer:     func(context.Context, bool, quicgo.ConnectionID) qlogwriter.Trace { return &retries },
			})
			if err != nil {
				t.Fatal(err)
			}
			exchangeGo(t, ctx, c)
			return c, &retries
		}
		c1, r1 := dial()
		c1.CloseWithError(0, "")
		c2, r2 := dial()
		defer c2.CloseWithError(0, "")
		if r1.received.Load() != 1 || r2.received.Load() != 0 {
			t.Fatalf("Retries accepted: %d on the first connection, %d on the second (want 1, 0)", r1.received.Load(), r2.received.Load())
		}
	})
}

// listenSkiff listens on loopback with config, the TLS configuration
// filled in with cert when config has none, and closes with the test.
func listenSkiff(t *testing.T, cert tls13.Certificate, config *quic.Config) *quic.Listener {
	t.Helper()
	if config.TLS == nil {
		config.TLS = &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{alpn}}
	}
	ln, err := quic.Listen("udp", "127.0.0.1:0", config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// quicGoRetryServer is a quic-go server on loopback that sends a Retry to
// every client without a valid token (RFC 9000 §8.1.2), answers streams
// with serveStream, and counts the Initials it considered for a Retry.
func quicGoRetryServer(t *testing.T, ctx context.Context, cert tls.Certificate) (addr string, asked *atomic.Int32) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	asked = new(atomic.Int32)
	tr := &quicgo.Transport{Conn: pc, VerifySourceAddress: func(net.Addr) bool { asked.Add(1); return true }}
	t.Cleanup(func() { tr.Close() })
	ln, err := tr.Listen(&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{alpn}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	serveAll(ctx, ln.Accept, func(c *quicgo.Conn) func(context.Context) (*quicgo.Stream, error) { return c.AcceptStream })
	return pc.LocalAddr().String(), asked
}

// exchange runs one stream of the test protocol on a skiff connection.
func exchange(t *testing.T, ctx context.Context, c *quic.Conn) {
	t.Helper()
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := runClientStream(s, payload(1, 1000), 1000); err != nil {
		t.Fatal(err)
	}
}

// exchangeGo is exchange on a quic-go connection.
func exchangeGo(t *testing.T, ctx context.Context, c *quicgo.Conn) {
	t.Helper()
	s, err := c.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := runClientStream(s, payload(1, 1000), 1000); err != nil {
		t.Fatal(err)
	}
}

func portOf(a net.Addr) string {
	_, port, _ := net.SplitHostPort(a.String())
	return port
}
