package quic

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// RFC 9000 §6.1: a server endpoint answers a datagram of an unknown
// version that could start a connection (at least 1200 bytes, §14.1) with
// Version Negotiation listing what it supports, echoing the connection IDs
// swapped (§17.2.1); a smaller one gets nothing.
func TestEndpointVersionNegotiation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cc, sc := cheapConfigs(t)
		sn := newSimNetWith(t, netsim.Impairment{Delay: 5 * time.Millisecond}, 1, cc, sc)
		raw, err := sn.net.Listen(netip.MustParseAddrPort("198.18.0.1:50000"))
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}
		scid := []byte{0xa, 0xb, 0xc}
		probe := func(size int) []byte {
			dg := make([]byte, size)
			dg[0] = 0xc0
			copy(dg[1:], []byte{0x1a, 0x2a, 0x3a, 0x4a}) // a reserved version (§15)
			dg[5] = byte(len(dcid))
			copy(dg[6:], dcid)
			dg[6+len(dcid)] = byte(len(scid))
			copy(dg[7+len(dcid):], scid)
			return dg
		}
		buf := make([]byte, 2048)

		raw.WriteToUDPAddrPort(probe(1200), serverAddr)
		raw.SetReadDeadline(time.Now().Add(time.Second))
		n, from, err := raw.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("no Version Negotiation: %v", err)
		}
		if from != serverAddr {
			t.Errorf("answer from %v", from)
		}
		hdr, err := wire.ParseHeader(buf[:n], connIDLen, false)
		if err != nil || hdr.Type != wire.PacketVersionNegotiation {
			t.Fatalf("answer is not Version Negotiation: %v %v", hdr.Type, err)
		}
		if string(hdr.DCID.Bytes()) != string(scid) || string(hdr.SCID.Bytes()) != string(dcid) {
			t.Errorf("connection IDs not echoed swapped: dcid %x scid %x", hdr.DCID.Bytes(), hdr.SCID.Bytes())
		}
		if !hdr.Versions.Contains(wire.Version1) || !hdr.Versions.Contains(wire.Version2) || hdr.Versions.Len() != 2 {
			t.Errorf("versions offered: %d, want v1 and v2", hdr.Versions.Len())
		}

		// Under 1200 bytes: no answer (no amplification, §14.1).
		raw.WriteToUDPAddrPort(probe(1199), serverAddr)
		raw.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := raw.ReadFromUDPAddrPort(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("answer to a 1199-byte datagram: %v", err)
		}
	})
}

// versionNegotiationFor builds the Version Negotiation a server would send
// in answer to the client's first Initial.
func versionNegotiationFor(t *testing.T, c *Conn, versions ...wire.Version) []byte {
	scid := c.ids.handshakeSCID()
	inv := wire.Invariants{Long: true, Version: c.version, DCID: c.originalDCID.Bytes(), SCID: scid.Bytes()}
	vn, err := wire.AppendVersionNegotiation(nil, &inv, versions, 0x40)
	if err != nil {
		t.Fatal(err)
	}
	return vn
}

// RFC 9000 §6.2: a client whose version is not in a Version Negotiation
// packet abandons the attempt (skiff speaks one version per connection).
func TestClientVersionNegotiationNoCommonVersion(t *testing.T) {
	for _, vs := range [][]wire.Version{{0x1a2a3a4a}, {wire.Version2, 0xff00001d}} {
		p := h3specPair(t)
		p.flushOne(p.client, 0, &p.c2s)
		p.client.handleDatagram(p.now, versionNegotiationFor(t, p.client, vs...), serverAddr, 0)
		if err := p.client.closeError(); !errors.Is(err, ErrNoCompatibleVersion) {
			t.Fatalf("versions %v: client ended with %v, want ErrNoCompatibleVersion", vs, err)
		}
		if p.client.closing.state < stateDraining {
			t.Fatalf("client state %d after Version Negotiation", p.client.closing.state)
		}
	}
}

// RFC 9000 §6.2: a Version Negotiation listing the client's own version is
// ignored (a forgery or a late duplicate), and so is one that does not echo
// its connection IDs; the handshake then completes.
func TestClientVersionNegotiationIgnored(t *testing.T) {
	p := h3specPair(t)
	p.flushOne(p.client, 0, &p.c2s)
	p.client.handleDatagram(p.now, versionNegotiationFor(t, p.client, 0x1a2a3a4a, wire.Version1), serverAddr, 0)
	forged := versionNegotiationFor(t, p.client, 0x1a2a3a4a)
	forged[len(forged)-5] ^= 1 // a different connection ID byte
	p.client.handleDatagram(p.now, forged, serverAddr, 0)
	if p.client.closing.state != stateOpen {
		t.Fatalf("client closed: %v", p.client.closeError())
	}
	p.handshake()
	// After the handshake a Version Negotiation is meaningless.
	p.client.handleDatagram(p.now, versionNegotiationFor(t, p.client, 0x1a2a3a4a), serverAddr, 0)
	if p.client.closing.state != stateOpen {
		t.Fatalf("client closed after the handshake: %v", p.client.closeError())
	}
}

// RFC 9000 §10.3: once the server endpoint has forgotten a connection, the
// client's next packet is answered with a stateless reset, and the client
// ends at once with ErrStatelessReset instead of waiting for its idle
// timeout.
func TestStatelessResetAfterServerForgets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cc, sc := cheapConfigs(t)
		sn := newSimNetWith(t, netsim.Impairment{Delay: 10 * time.Millisecond}, 3, cc, sc)
		client, server := sn.connect(t, ctx)
		data := payload(3, 10<<10)
		transfer(t, ctx, client, server, data)

		// The server drops the connection silently, as after a crash.
		server.submit(func(now time.Time) {
			server.enterDraining(server.mono(now), errors.New("forgotten"), true)
		})
		<-server.done

		start := time.Now()
		s, err := client.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Write([]byte("is anybody there?")); err != nil {
			t.Fatal(err)
		}
		select {
		case <-client.done:
		case <-ctx.Done():
			t.Fatal("the client never ended")
		}
		if err := client.closeError(); !errors.Is(err, ErrStatelessReset) {
			t.Fatalf("client ended with %v, want ErrStatelessReset", err)
		}
		if el := time.Since(start); el > time.Second {
			t.Errorf("the client took %v to end", el)
		}
	})
}

// RFC 9000 §10.3.1: a datagram that cannot be processed is checked for a
// stateless reset token, whatever packet number its random bytes decode
// to: one that looks like a duplicate must still end the connection.
func TestStatelessResetLookingLikeDuplicate(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	c := p.client
	token := c.ids.peer[c.ids.current].resetToken
	sp := &c.spaces[recovery.SpaceAppData]
	r := rand.New(rand.NewPCG(1, 2))
	var reset []byte
	for range 100000 {
		b := make([]byte, 40)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		b[0] = 0x40 | b[0]&0x3f
		copy(b[len(b)-16:], token[:])
		probe := append([]byte(nil), b...)
		hdr, err := wire.ParseHeader(probe, connIDLen, false)
		if err != nil {
			continue
		}
		truncated, pnLen, err := sp.readKeys.UnprotectHeader(probe, hdr.PacketNumberOffset)
		if err != nil {
			continue
		}
		if sp.received.IsDuplicate(protect.DecodePacketNumber(sp.largestRecv, truncated, pnLen)) {
			reset = b
			break
		}
	}
	if reset == nil {
		t.Fatal("no candidate decodes to a duplicate packet number")
	}
	c.handleDatagram(p.now, reset, serverAddr, 0)
	if err := c.closeError(); !errors.Is(err, ErrStatelessReset) {
		t.Fatalf("client ended with %v, want ErrStatelessReset", err)
	}
}

// RFC 9000 §10.3: a stateless reset as short as 21 bytes, too short to
// remove header protection from, is still recognised.
func TestStatelessResetShort(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	c := p.client
	token := c.ids.peer[c.ids.current].resetToken
	b := []byte{0x40 | 0x15, 1, 2, 3, 4}
	b = append(b, token[:]...)
	c.handleDatagram(p.now, b, serverAddr, 0)
	if err := c.closeError(); !errors.Is(err, ErrStatelessReset) {
		t.Fatalf("client ended with %v, want ErrStatelessReset", err)
	}
}
