package quic

import (
	"context"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// waitToken waits until the client's store holds a token for the server.
func waitToken(t *testing.T, cc *Config, v wire.Version) {
	t.Helper()
	key := tokenKey(sessionKey(cc.TLS, serverAddr), v)
	simWait(t, "a NEW_TOKEN token", func() bool {
		tok := cc.TokenStore.Pop(key)
		if tok != nil {
			cc.TokenStore.Put(key, tok)
		}
		return tok != nil
	})
}

// RFC 9000 §8.1.3: a server that requires address validation sends a
// Retry to a new client, and gives it a token after the handshake; the
// client's next connection carries the token in its first Initial and
// skips the Retry round trip.
func TestSimNewTokenSkipsRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		cc, sc := resumableConfigs(t)
		sc.RequireAddressValidation = true
		sn := newSimNetWith(t, netsim.Impairment{Delay: 50 * time.Millisecond}, 1, cc, sc)
		serveEcho(ctx, sn.server)

		start := time.Now()
		c1, err := sn.client.Dial(ctx, serverAddr, cc)
		if err != nil {
			t.Fatal(err)
		}
		first := time.Since(start)
		// One per datagram of the first Initial flight (the ClientHello
		// with its post-quantum key share takes two).
		retries := sn.server.retriesSent.Load()
		if retries == 0 {
			t.Fatal("no Retry for the first connection")
		}
		waitToken(t, cc, wire.Version1)
		c1.Close()

		start = time.Now()
		c2, err := sn.client.Dial(ctx, serverAddr, cc)
		if err != nil {
			t.Fatal(err)
		}
		second := time.Since(start)
		if answer, _ := request(t, ctx, c2, "again", time.Now()); answer != "AGAIN" {
			t.Fatalf("answer %q", answer)
		}
		if n, ok := sn.server.retriesSent.Load(), sn.server.newTokensAccepted.Load(); n != retries || ok != 1 {
			t.Fatalf("second connection: %d Retries in all, %d tokens accepted", n, ok)
		}
		t.Logf("handshake with a Retry %v, with a NEW_TOKEN token %v", first.Round(time.Millisecond), second.Round(time.Millisecond))
		if second >= first {
			t.Fatalf("the token saved no round trip: %v then %v", first, second)
		}
	})
}

// A token opens only at an endpoint with the key that sealed it: another
// server sends the client a Retry as if it had none, unless the two share
// Config.TokenKey.
func TestSimNewTokenOtherServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		for _, shareKey := range []bool{false, true} {
			cc, sc := resumableConfigs(t)
			sc.RequireAddressValidation = true
			if shareKey {
				sc.TokenKey = new([32]byte)
				randomBytes(sc.TokenKey[:])
			}
			sn := newSimNetWith(t, netsim.Impairment{Delay: 5 * time.Millisecond}, 1, cc, sc)
			c1, err := sn.client.Dial(ctx, serverAddr, cc)
			if err != nil {
				t.Fatal(err)
			}
			waitToken(t, cc, wire.Version1)
			c1.Close()
			sn.server.Close()

			// Another server at the same address.
			ss, err := sn.net.Listen(serverAddr)
			if err != nil {
				t.Fatal(err)
			}
			other := newEndpoint(simSocket{ss}, sc)
			c2, err := sn.client.Dial(ctx, serverAddr, cc)
			if err != nil {
				t.Fatal(err)
			}
			c2.Close()
			retries, accepted := other.retriesSent.Load(), other.newTokensAccepted.Load()
			other.Close()
			if shareKey && (retries != 0 || accepted != 1) || !shareKey && (retries == 0 || accepted != 0) {
				t.Fatalf("shared key %v: %d Retries, %d tokens accepted", shareKey, retries, accepted)
			}
		}
	})
}

// What a NEW_TOKEN token is good for: the IP address it was issued to
// (any port), the version, its lifetime, and one use per endpoint.
func TestNewTokenChecks(t *testing.T) {
	_, sc := cheapConfigs(t)
	e := &Endpoint{server: sc}
	randomBytes(e.resetKey[:])
	now := time.Now()
	addr := netip.MustParseAddrPort("198.18.0.1:40000")
	fresh := func() []byte { return e.sealNewToken(now, addr.Addr(), wire.Version1) }
	if tok := fresh(); !isNewToken(tok) || len(tok) != newTokenLen {
		t.Fatalf("token of %d bytes", len(tok))
	}
	for _, tc := range []struct {
		name string
		tok  []byte
		at   time.Time
		from netip.AddrPort
		v    wire.Version
		ok   bool
	}{
		{"valid", fresh(), now, addr, wire.Version1, true},
		{"another port", fresh(), now, netip.AddrPortFrom(addr.Addr(), 5555), wire.Version1, true},
		{"another address", fresh(), now, netip.MustParseAddrPort("198.18.0.9:40000"), wire.Version1, false},
		{"another version", fresh(), now, addr, wire.Version2, false},
		{"expired", fresh(), now.Add(newTokenLifetime + time.Second), addr, wire.Version1, false},
		{"damaged", damaged(fresh()), now, addr, wire.Version1, false},
		{"too short", fresh()[:newTokenLen-1], now, addr, wire.Version1, false},
	} {
		if got := e.openNewToken(tc.tok, tc.at, tc.from, tc.v); got != tc.ok {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.ok)
		}
	}
	tok := fresh()
	if !e.openNewToken(tok, now, addr, wire.Version1) || e.openNewToken(tok, now, addr, wire.Version1) {
		t.Fatal("a token is good once")
	}
	other := &Endpoint{server: sc}
	randomBytes(other.resetKey[:])
	if other.openNewToken(fresh(), now, addr, wire.Version1) {
		t.Fatal("another endpoint's token opened")
	}
}

// The in-memory store: newest token first, each given once, servers
// beyond the limit forgotten least recently used first.
func TestTokenStore(t *testing.T) {
	s := NewTokenStore(2, 2)
	s.Put("a", []byte("a1"))
	s.Put("a", []byte("a2"))
	s.Put("a", []byte("a3")) // a1 dropped
	s.Put("b", []byte("b1"))
	if got := s.Pop("a"); string(got) != "a3" {
		t.Fatalf("Pop(a) = %q", got)
	}
	s.Put("c", []byte("c1")) // b is the least recently used
	for key, want := range map[string]string{"b": "", "a": "a2", "c": "c1"} {
		if got := s.Pop(key); string(got) != want {
			t.Fatalf("Pop(%s) = %q, want %q", key, got, want)
		}
	}
	if got := s.Pop("a"); got != nil {
		t.Fatalf("a token given twice: %q", got)
	}
}

// FuzzNewToken: whatever a client sends as a token, the server's check
// neither panics nor accepts it, unless it is a token the server made.
func FuzzNewToken(f *testing.F) {
	e := &Endpoint{server: &Config{}}
	randomBytes(e.resetKey[:])
	now := time.Now()
	addr := netip.MustParseAddrPort("198.18.0.1:40000")
	f.Add(e.sealNewToken(now, addr.Addr(), wire.Version1))
	f.Add([]byte{newTokenMarker})
	f.Add(make([]byte, newTokenLen))
	f.Fuzz(func(t *testing.T, tok []byte) {
		e.openNewToken(tok, now, addr, wire.Version1)
		e.openRetryToken(tok, now, addr)
	})
}

// damaged returns token with a bit of its last byte flipped (setting the
// byte to a value may leave it as it was).
func damaged(token []byte) []byte {
	token[len(token)-1] ^= 0x01
	return token
}
