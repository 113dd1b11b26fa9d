package quic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// TestRetryHandshake: with RequireAddressValidation, a skiff client
// connects through exactly one Retry, both ends agree on the connection IDs
// it involved (RFC 9000 §7.3), and data flows.
func TestRetryHandshake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		cc, sc := cheapConfigs(t)
		sc.RequireAddressValidation = true
		imp := netsim.Impairment{Delay: 10 * time.Millisecond, RateBitsPerSec: 100e6, QueueBytes: 256 << 10}
		sn := newSimNetWith(t, imp, 7, cc, sc)
		client, server := sn.connect(t, ctx)
		// One Retry round trip: each datagram of the client's first flight
		// (the ClientHello with its post-quantum key share takes two) gets
		// one Retry, stateless; the client acts on the first only
		// (RFC 9000 §17.2.5.2), and comes back once, with its token.
		retries := sn.server.retriesSent.Load()
		if retries < 1 || retries > 2 {
			t.Fatalf("server sent %d Retries, want one per datagram of the first flight", retries)
		}
		sn.server.mu.Lock()
		conns := len(sn.server.all)
		sn.server.mu.Unlock()
		if conns != 1 {
			t.Fatalf("server has %d connections, want 1", conns)
		}
		type retryState struct {
			odcid, retrySCID   wire.ConnectionID
			retried, validated bool
		}
		stateOf := func(c *Conn) (r retryState) {
			inspect(c, func(sm *conn.Conn, _ time.Time) { r.odcid, r.retrySCID, r.retried, r.validated = sm.RetryState() })
			return r
		}
		cs, ss := stateOf(client), stateOf(server)
		if !cs.retried || !ss.retried || cs.retrySCID != ss.retrySCID {
			t.Fatalf("retry SCIDs: client %+v, server %+v", cs, ss)
		}
		if cs.odcid != ss.odcid {
			t.Fatalf("original DCIDs differ: client %v, server %v", cs.odcid, ss.odcid)
		}
		if !ss.validated {
			t.Fatal("the token did not validate the client's address")
		}
		data := payload(3, 256<<10)
		if got := transfer(t, ctx, client, server, data); got != sha256.Sum256(data) {
			t.Fatal("the server's hash of the upload differs")
		}
		if n := sn.server.retriesSent.Load(); n != retries {
			t.Fatalf("server sent %d Retries by the end, %d at the handshake", n, retries)
		}
		if n := sn.server.invalidTokens.Load(); n != 0 {
			t.Fatalf("%d tokens refused", n)
		}
		client.Close()
	})
}

// TestRetryNotRequired: without the option no Retry is sent.
func TestRetryNotRequired(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		cc, sc := cheapConfigs(t)
		sn := newSimNetWith(t, netsim.Impairment{Delay: 5 * time.Millisecond}, 7, cc, sc)
		client, server := sn.connect(t, ctx)
		var retried [2]bool
		inspect(client, func(sm *conn.Conn, _ time.Time) { _, _, retried[0], _ = sm.RetryState() })
		inspect(server, func(sm *conn.Conn, _ time.Time) { _, _, retried[1], _ = sm.RetryState() })
		if n := sn.server.retriesSent.Load(); n != 0 || retried[0] || retried[1] {
			t.Fatalf("Retries %d, client retried %v, server %v", n, retried[0], retried[1])
		}
		client.Close()
	})
}

// clientInitial builds a client Initial datagram of 1200 bytes (a PING,
// padded) to dcid with token, sealed with the Initial keys of dcid.
func clientInitial(t *testing.T, dcid, scid wire.ConnectionID, token []byte, size int) []byte {
	t.Helper()
	keys, _, err := protect.InitialKeys(protect.Version1, dcid.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	h := wire.Header{Version: wire.Version1, Type: wire.PacketInitial, DCID: dcid, SCID: scid, Token: token}
	const pnLen = 4
	buf, lengthOffset, pnOffset := wire.AppendLongHeader(make([]byte, 0, 1500), &h, 0, pnLen)
	buf = append(buf, byte(wire.FrameTypePing))
	buf = append(buf, make([]byte, size-protect.TagLen-len(buf))...) // PADDING
	if err := wire.PutLongHeaderLength(buf, lengthOffset, len(buf)-pnOffset+protect.TagLen); err != nil {
		t.Fatal(err)
	}
	out, err := keys.SealPacket(buf, pnOffset, 0)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRetryTokenChecks hands crafted client Initials to a server endpoint
// requiring validation and checks which create a connection, which get a
// Retry and which are dropped.
func TestRetryTokenChecks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cc, sc := cheapConfigs(t)
		sc.RequireAddressValidation = true
		sn := newSimNetWith(t, netsim.Impairment{Delay: time.Millisecond}, 7, cc, sc)
		e := sn.server
		odcid, retrySCID := newConnectionID(), newConnectionID()
		other := netip.MustParseAddrPort("10.9.9.9:1234")
		forged := bytes.Repeat([]byte{0x5a}, 40)
		tamper := e.sealRetryToken(nil, time.Now(), clientAddr, odcid, retrySCID)
		tamper[len(tamper)-1] ^= 1

		cases := []struct {
			name       string
			dcid       wire.ConnectionID
			token      []byte
			size       int
			wantRetry  bool
			wantInvTok bool
		}{
			{"no token", odcid, nil, 1200, true, false},
			{"no token, short datagram", odcid, nil, 1199, false, false},
			{"forged token", retrySCID, forged, 1200, true, false},
			{"tampered token", retrySCID, tamper, 1200, true, false},
			{"token for another address", retrySCID, e.sealRetryToken(nil, time.Now(), other, odcid, retrySCID), 1200, true, false},
			{"expired token", retrySCID, e.sealRetryToken(nil, time.Now().Add(-retryTokenLifetime-time.Second), clientAddr, odcid, retrySCID), 1200, false, true},
			{"token from the future", retrySCID, e.sealRetryToken(nil, time.Now().Add(time.Minute), clientAddr, odcid, retrySCID), 1200, false, true},
			{"token for another connection ID", newConnectionID(), e.sealRetryToken(nil, time.Now(), clientAddr, odcid, retrySCID), 1200, false, true},
		}
		for _, tc := range cases {
			retries, invalid := e.retriesSent.Load(), e.invalidTokens.Load()
			pkt := clientInitial(t, tc.dcid, newConnectionID(), tc.token, tc.size)
			d := &datagram{rb: &rxBuffer{buf: pkt}, n: int32(len(pkt)), from: clientAddr}
			c, _ := e.route(d, nil, wire.ConnectionID{})
			synctest.Wait()
			if c != nil {
				t.Errorf("%s: the Initial created a connection", tc.name)
			}
			if got := e.retriesSent.Load() - retries; got != map[bool]uint64{false: 0, true: 1}[tc.wantRetry] {
				t.Errorf("%s: %d Retries sent", tc.name, got)
			}
			if got := e.invalidTokens.Load() - invalid; got != map[bool]uint64{false: 0, true: 1}[tc.wantInvTok] {
				t.Errorf("%s: %d tokens counted invalid", tc.name, got)
			}
		}
		e.mu.Lock()
		n := len(e.all)
		e.mu.Unlock()
		if n != 0 {
			t.Fatalf("%d connections exist after invalid Initials", n)
		}

		// The control: a valid token creates the connection, with the IDs
		// from the token and the client's address validated.
		pkt := clientInitial(t, retrySCID, newConnectionID(), e.sealRetryToken(nil, time.Now(), clientAddr, odcid, retrySCID), 1200)
		d := &datagram{rb: &rxBuffer{buf: pkt}, n: int32(len(pkt)), from: clientAddr}
		nc, _ := e.route(d, nil, wire.ConnectionID{})
		if nc == nil {
			t.Fatal("an Initial with a valid token was not taken")
		}
		d.rb.refs.Add(2) // the test's and the connection's
		nc.deliver([]datagram{*d})
		e.mu.Lock()
		c := e.conns[retrySCID]
		e.mu.Unlock()
		if c == nil {
			t.Fatal("no connection for the Retry SCID")
		}
		var got [2]wire.ConnectionID
		var retried, validated bool
		inspect(c, func(sm *conn.Conn, _ time.Time) { got[0], got[1], retried, validated = sm.RetryState() })
		if got[0] != odcid || !retried || got[1] != retrySCID || !validated {
			t.Fatalf("connection: odcid %v retry SCID %v (%v) validated %v", got[0], got[1], retried, validated)
		}
	})
}

// TestRetryTokenRoundTrip: a token opens to what was sealed, at any
// connection ID lengths, and not after its lifetime.
func TestRetryTokenRoundTrip(t *testing.T) {
	e := &Endpoint{}
	randomBytes(e.resetKey[:])
	now := time.Unix(1_700_000_000, 0)
	for _, n := range []int{0, 1, 8, 20} {
		odcid, _ := wire.MakeConnectionID(bytes.Repeat([]byte{byte(n)}, n))
		rscid := newConnectionID()
		tok := e.sealRetryToken(nil, now, clientAddr, odcid, rscid)
		if len(tok) > retryTokenMaxLen {
			t.Fatalf("token of %d bytes, max %d", len(tok), retryTokenMaxLen)
		}
		info, ok, expired := e.openRetryToken(tok, now.Add(retryTokenLifetime), clientAddr)
		if !ok || expired || info.ODCID != odcid || info.RetrySCID != rscid {
			t.Fatalf("len %d: ok %v expired %v info %+v", n, ok, expired, info)
		}
		if _, ok, expired := e.openRetryToken(tok, now.Add(retryTokenLifetime+time.Nanosecond), clientAddr); !ok || !expired {
			t.Fatalf("len %d: after its lifetime: ok %v expired %v", n, ok, expired)
		}
	}
}

// FuzzRetryTokenOpen: arbitrary tokens never panic, and never open.
func FuzzRetryTokenOpen(f *testing.F) {
	e := &Endpoint{}
	randomBytes(e.resetKey[:])
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{1}, retryTokenNonceLen+16))
	f.Add(e.sealRetryToken(nil, time.Now(), clientAddr, newConnectionID(), newConnectionID()))
	f.Fuzz(func(t *testing.T, tok []byte) {
		if _, ok, _ := e.openRetryToken(tok, time.Now(), clientAddr); ok {
			// Only a token we sealed (a seed) may open.
			if len(tok) < retryTokenNonceLen+16+8+2 {
				t.Fatal("a short token opened")
			}
		}
	})
}
