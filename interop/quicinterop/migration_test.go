package quicinterop

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// Connection migration with quic-go (issue 16, "Must show"), over
// loopback: quic-go's client moving to 127.0.0.2 through its Transport
// and AddPath API in the middle of a download from a skiff server; a
// skiff client moving (Conn.Migrate) against a quic-go server; a skiff
// server announcing a preferred address to quic-go's client. quic-go
// v0.65 neither sends preferred_address as a server nor moves to one as a
// client (it keeps the connection ID that comes with it), so that last
// case shows only that announcing one breaks nothing.

const migrationDownload = 64 << 20

// skiffServer listens on 127.0.0.1 and hands over the first connection
// it accepts; every stream is answered with serveStream.
func skiffServer(t *testing.T, ctx context.Context, config *quic.Config) (*quic.Listener, <-chan *quic.Conn) {
	t.Helper()
	ln, err := quic.Listen("udp4", "127.0.0.1:0", config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	first := make(chan *quic.Conn, 1)
	go func() {
		for {
			c, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			select {
			case first <- c:
			default:
			}
			go func() {
				for {
					s, err := c.AcceptStream(ctx)
					if err != nil {
						return
					}
					go serveStream(s)
				}
			}()
		}
	}()
	return ln, first
}

// whenSent waits until sent reports more than n bytes, then runs fn.
func whenSent(ctx context.Context, n uint64, sent func() uint64, fn func()) {
	for sent() < n && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	fn()
}

func TestQuicGoClientMigratesToSkiffServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	skCert, _, goClient, _ := certs(t)
	ln, accepted := skiffServer(t, ctx, &quic.Config{TLS: &tls13.Config{Certificates: []tls13.Certificate{skCert}, NextProtos: []string{alpn}}})
	udp1, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	tr1 := &quicgo.Transport{Conn: udp1}
	defer tr1.Close()
	conn, err := tr1.Dial(ctx, net.UDPAddrFromAddrPort(ln.Addr()), goClient, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	server := <-accepted
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- runClientStream(s, []byte("upload"), migrationDownload) }()

	udp2, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	tr2 := &quicgo.Transport{Conn: udp2}
	defer tr2.Close()
	newAddr := udp2.LocalAddr().(*net.UDPAddr).AddrPort()
	var sentBefore uint64
	whenSent(ctx, migrationDownload/4, func() uint64 { return server.Stats().BytesSent }, func() {
		sentBefore = server.Stats().BytesSent
		path, err := conn.AddPath(tr2)
		if err != nil {
			t.Fatal(err)
		}
		if err := path.Probe(ctx); err != nil {
			t.Fatalf("Probe: %v", err)
		}
		if err := path.Switch(); err != nil {
			t.Fatalf("Switch: %v", err)
		}
	})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := server.Stats()
	t.Logf("quic-go moved to %v after %d of %d bytes; the skiff server sends to %v; path changes %d, validations %d",
		newAddr, sentBefore, migrationDownload, server.RemoteAddr(), st.PathChanges, st.PathValidations)
	if got := server.RemoteAddr(); got != newAddr {
		t.Errorf("the skiff server sends to %v, want %v", got, newAddr)
	}
	if sentBefore >= migrationDownload {
		t.Error("the download was over before the migration")
	}
}

func TestSkiffClientMigratesToQuicGoServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, std, _, skClient := certs(t)
	ln, err := quicgo.ListenAddr("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{std}, NextProtos: []string{alpn}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan *quicgo.Conn, 1)
	go func() {
		c, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		accepted <- c
		for {
			s, err := c.AcceptStream(ctx)
			if err != nil {
				return
			}
			go serveStream(s)
		}
	}()
	conn, err := quic.Dial(ctx, "udp4", ln.Addr().String(), &quic.Config{TLS: skClient})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	server := <-accepted
	s, err := conn.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- runClientStream(s, []byte("upload"), migrationDownload) }()
	var receivedBefore uint64
	whenSent(ctx, migrationDownload/4, func() uint64 { return conn.Stats().BytesReceived }, func() {
		receivedBefore = conn.Stats().BytesReceived
		if err := conn.Migrate(ctx, netip.MustParseAddrPort("127.0.0.2:0")); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	local := conn.LocalAddr()
	st := conn.Stats()
	t.Logf("skiff moved to %v after %d of %d bytes; quic-go sees %v; path changes %d", local, receivedBefore, migrationDownload, server.RemoteAddr(), st.PathChanges)
	if local.Addr() != netip.MustParseAddr("127.0.0.2") || st.PathChanges != 1 {
		t.Errorf("client at %v after %d path changes", local, st.PathChanges)
	}
	if got := server.RemoteAddr().(*net.UDPAddr).AddrPort(); got != local {
		t.Errorf("quic-go sends to %v, want %v", got, local)
	}
}

func TestSkiffPreferredAddressQuicGoClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	skCert, _, goClient, _ := certs(t)
	ln, accepted := skiffServer(t, ctx, &quic.Config{
		TLS:              &tls13.Config{Certificates: []tls13.Certificate{skCert}, NextProtos: []string{alpn}},
		PreferredAddress: &quic.PreferredAddress{IPv4: netip.MustParseAddrPort("127.0.0.1:0")},
	})
	preferred, _ := ln.Endpoint().PreferredAddresses()
	conn, err := quicgo.DialAddr(ctx, ln.Addr().String(), goClient, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	server := <-accepted
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := runClientStream(s, payload(3, 1<<20), 8<<20); err != nil {
		t.Fatal(err)
	}
	t.Logf("preferred address %v announced; quic-go stays at %v (it does not migrate to one)", preferred, conn.RemoteAddr())
	if got := server.LocalAddr(); got != ln.Addr() {
		t.Errorf("the server moved to %v without the client", got)
	}
}
