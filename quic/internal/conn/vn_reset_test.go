package conn

import (
	"math/rand/v2"
	"testing"

	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

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

// RFC 9000 §6.2: a client that speaks none of the versions of a Version
// Negotiation packet abandons the attempt (vn_test.go: one that speaks one
// of them starts again in it).
func TestClientVersionNegotiationNoCommonVersion(t *testing.T) {
	for _, vs := range [][]wire.Version{{0x1a2a3a4a}, {0xff00001d, 0x6b3343d0}} {
		p := h3specPair(t)
		p.flushOne(p.client, 0, &p.c2s)
		p.client.HandleDatagram(p.now, versionNegotiationFor(t, p.client, vs...), serverAddr, 0)
		if r := p.client.closing.reason; r == nil || r.Kind != ReasonNoCompatibleVersion {
			t.Fatalf("versions %v: client ended with %+v, want no compatible version", vs, r)
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
	p.client.HandleDatagram(p.now, versionNegotiationFor(t, p.client, 0x1a2a3a4a, wire.Version1), serverAddr, 0)
	forged := versionNegotiationFor(t, p.client, 0x1a2a3a4a)
	forged[len(forged)-5] ^= 1 // a different connection ID byte
	p.client.HandleDatagram(p.now, forged, serverAddr, 0)
	if p.client.closing.state != stateOpen {
		t.Fatalf("client closed: %+v", p.client.closing.reason)
	}
	p.handshake()
	// After the handshake a Version Negotiation is meaningless.
	p.client.HandleDatagram(p.now, versionNegotiationFor(t, p.client, 0x1a2a3a4a), serverAddr, 0)
	if p.client.closing.state != stateOpen {
		t.Fatalf("client closed after the handshake: %+v", p.client.closing.reason)
	}
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
	c.HandleDatagram(p.now, reset, serverAddr, 0)
	if r := c.closing.reason; r == nil || r.Kind != ReasonStatelessReset {
		t.Fatalf("client ended with %+v, want a stateless reset", r)
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
	c.HandleDatagram(p.now, b, serverAddr, 0)
	if r := c.closing.reason; r == nil || r.Kind != ReasonStatelessReset {
		t.Fatalf("client ended with %+v, want a stateless reset", r)
	}
}

// RFC 9000 §10.3.1: a stateless reset carrying the token of a connection
// ID the client retired is not checked (a packet sent with that ID just
// before its retirement may draw one), while the token of an ID in use
// still ends the connection.
func TestStatelessResetOfRetiredIDIgnored(t *testing.T) {
	p := newTestPair(t)
	p.handshake()
	var retired, inUse *peerConnID
	for i := range p.client.ids.peer {
		if pc := &p.client.ids.peer[i]; pc.hasToken {
			if retired == nil {
				retired = pc
			} else if inUse == nil {
				inUse = pc
			}
		}
	}
	if retired == nil || inUse == nil {
		t.Fatalf("the client holds %d of the server's connection IDs with tokens; the test needs two", len(p.client.ids.peer))
	}
	retired.retire = true
	reset := func(tok [wire.StatelessResetTokenLen]byte) []byte {
		b := make([]byte, 40)
		b[0] = 0x40
		copy(b[len(b)-wire.StatelessResetTokenLen:], tok[:])
		return b
	}
	p.client.HandleDatagram(p.now, reset(retired.resetToken), serverAddr, 0)
	if p.client.closing.state != stateOpen {
		t.Fatal("a stateless reset with a retired connection ID's token ended the connection")
	}
	p.client.HandleDatagram(p.now, reset(inUse.resetToken), serverAddr, 0)
	if r := p.client.closing.reason; r == nil || r.Kind != ReasonStatelessReset {
		t.Fatalf("a stateless reset with the token of an ID in use: %+v", r)
	}
}
