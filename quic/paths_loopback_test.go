package quic

import (
	"context"
	"crypto/sha256"
	"net/netip"
	"testing"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
)

// Paths over real UDP sockets on loopback (issue 16, "Must show"): a
// client whose NAT mapping moves to a new socket mid-transfer, a skiff
// client migrating to 127.0.0.2, a server with a preferred address on a
// second port. Each run is bounded by a context far above its normal
// time.

// loopbackPair listens on 127.0.0.1 with sc and dials to (the listener's
// address when to is not valid) with cc.
func loopbackPair(t *testing.T, ctx context.Context, cc, sc *Config, to func(ln *Listener) netip.AddrPort) (client, server *Conn) {
	t.Helper()
	ln, err := Listen("udp4", "127.0.0.1:0", sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan *Conn, 1)
	go func() {
		c, err := ln.Accept(ctx)
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	addr := ln.Addr()
	if to != nil {
		addr = to(ln)
	}
	client, err = Dial(ctx, "udp4", addr.String(), cc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	if server = <-accepted; server == nil {
		t.FailNow()
	}
	return client, server
}

// TestLoopbackNATRebinding: the client's packets reach the server through
// a relay that moves them to a new UDP socket (a new source port) half
// way through a 20 MB download, as a NAT rebinding does; the server
// follows the new address and the download completes.
func TestLoopbackNATRebinding(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cc, sc := cheapConfigs(t)
	var relay *netsim.Relay
	client, server := loopbackPair(t, ctx, cc, sc, func(ln *Listener) netip.AddrPort {
		var err error
		if relay, err = netsim.NewRelay(ln.Addr(), 1); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { relay.Close() })
		return relay.Addr()
	})
	before := server.RemoteAddr()
	data := payload(21, 20<<20)
	var rebound netip.AddrPort
	start := time.Now()
	sum, gap := download(t, ctx, client, server, data, func() {
		var err error
		// The client's socket is bound to 0.0.0.0; the relay saw it at
		// 127.0.0.1.
		from := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), client.LocalAddr().Port())
		if rebound, err = relay.Rebind(from); err != nil {
			t.Error(err)
		}
	})
	if sum != sha256.Sum256(data) {
		t.Fatal("the downloaded bytes differ")
	}
	st := server.Stats()
	t.Logf("20 MB in %v; the server followed %v → %v; longest pause %v; path changes %d, validations %d",
		time.Since(start), before, server.RemoteAddr(), gap, st.PathChanges, st.PathValidations)
	if got := server.RemoteAddr(); got != rebound {
		t.Errorf("server sends to %v, the relay now sends from %v", got, rebound)
	}
	if st.PathChanges == 0 || st.PathValidations == 0 {
		t.Errorf("path changes %d, validations %d", st.PathChanges, st.PathValidations)
	}
}

// TestLoopbackClientMigrate: a skiff client moves to a socket on
// 127.0.0.2 in the middle of a 20 MB download.
func TestLoopbackClientMigrate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cc, sc := cheapConfigs(t)
	client, server := loopbackPair(t, ctx, cc, sc, nil)
	data := payload(22, 20<<20)
	migrated := make(chan error, 1)
	start := time.Now()
	sum, _ := download(t, ctx, client, server, data, func() {
		go func() { migrated <- client.Migrate(ctx, netip.MustParseAddrPort("127.0.0.2:0")) }()
	})
	if err := <-migrated; err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if sum != sha256.Sum256(data) {
		t.Fatal("the downloaded bytes differ")
	}
	local, seen := client.LocalAddr(), server.RemoteAddr()
	t.Logf("20 MB in %v; client now at %v, the server sends to %v", time.Since(start), local, seen)
	if local.Addr() != netip.MustParseAddr("127.0.0.2") || seen != local {
		t.Errorf("client at %v, server sends to %v: want both on 127.0.0.2", local, seen)
	}
}

// TestLoopbackPreferredAddress: a server announces a preferred address on
// a second port; the client moves there after the handshake and the
// transfer goes on from it.
func TestLoopbackPreferredAddress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cc, sc := cheapConfigs(t)
	sc.PreferredAddress = &PreferredAddress{IPv4: netip.MustParseAddrPort("127.0.0.1:0")}
	var preferred netip.AddrPort
	client, server := loopbackPair(t, ctx, cc, sc, func(ln *Listener) netip.AddrPort {
		preferred, _ = ln.Endpoint().PreferredAddresses()
		return ln.Addr()
	})
	data := payload(23, 8<<20)
	sum, _ := download(t, ctx, client, server, data, nil)
	if sum != sha256.Sum256(data) {
		t.Fatal("the downloaded bytes differ")
	}
	// The client moves once the handshake is confirmed and the path
	// validated: a round trip, far less than the download.
	t.Logf("preferred address %v; client sends to %v, server sends from %v", preferred, client.RemoteAddr(), server.LocalAddr())
	if !preferred.IsValid() || preferred.Port() == 0 {
		t.Fatalf("preferred address %v", preferred)
	}
	if got := client.RemoteAddr(); got != preferred {
		t.Errorf("client sends to %v, want %v", got, preferred)
	}
	if got := server.LocalAddr(); got != preferred {
		t.Errorf("server sends from %v, want %v", got, preferred)
	}
}
