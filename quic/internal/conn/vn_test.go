package conn

import (
	"testing"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

// versionPair is a test pair whose client starts in its first version.
func versionPair(t *testing.T, client, server []wire.Version) *testPair {
	t.Helper()
	cc, sc := cheapConfigs(t)
	cc.Versions, sc.Versions = client, server
	p := newTestPairWith(t, cc, sc)
	if p.client.version != cc.versions()[0] {
		// The harness dials in version 1: start again in the first.
		c, err := New(p.now, cc, &Params{IsClient: true, Version: cc.versions()[0], DCID: NewConnectionID(), SCID: NewConnectionID(),
			Peer: serverAddr, ResetKey: testResetKey()})
		if err != nil {
			t.Fatal(err)
		}
		p.client = c
	}
	return p
}

// serverLongHeaderVersions returns the versions of the long header
// packets the server sent, as the client sees them.
func (p *testPair) runRecordingVersions(t *testing.T) map[wire.PacketType][]wire.Version {
	t.Helper()
	seen := map[wire.PacketType][]wire.Version{}
	p.s2c.drop = func(_ int, b []byte) bool {
		for len(b) > 0 {
			hdr, err := wire.ParseHeader(b, ConnIDLen, false)
			if err != nil {
				break
			}
			if hdr.Type != wire.Packet1RTT {
				seen[hdr.Type] = append(seen[hdr.Type], hdr.Version)
			}
			b = b[hdr.PacketLen:]
		}
		return false
	}
	p.handshake()
	return seen
}

// RFC 9368 §2.3, RFC 9369 §4.1: compatible version negotiation. The
// client starts with its first version and offers the others; the server
// takes, by its own preference, a version the client offers; everything
// after the server's first answer is in that version.
func TestCompatibleVersionNegotiation(t *testing.T) {
	v1, v2 := wire.Version1, wire.Version2
	for _, tc := range []struct {
		name           string
		client, server []wire.Version
		want           wire.Version
	}{
		{"defaults stay in v1", nil, nil, v1},
		{"server prefers v2", nil, []wire.Version{v2, v1}, v2},
		{"client offers only v1", []wire.Version{v1}, []wire.Version{v2, v1}, v1},
		{"client starts in v2", []wire.Version{v2, v1}, nil, v1},
		{"client v2 only", []wire.Version{v2}, nil, v2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := versionPair(t, tc.client, tc.server)
			start := p.client.version
			seen := p.runRecordingVersions(t)
			for _, c := range []*Conn{p.client, p.server} {
				if c.version != tc.want {
					t.Fatalf("client=%v ended in %v, want %v", c.isClient, c.version, tc.want)
				}
				if c.vn.switched != (start != tc.want) {
					t.Fatalf("client=%v switched=%v", c.isClient, c.vn.switched)
				}
			}
			for _, v := range seen[wire.PacketHandshake] {
				if v != tc.want {
					t.Fatalf("server Handshake packet in %v", v)
				}
			}
			for _, v := range seen[wire.PacketInitial] {
				if v != tc.want {
					t.Fatalf("server Initial packet in %v (the first flight waits for the ClientHello)", v)
				}
			}
		})
	}
}

// RFC 9368 §2.1: incompatible version negotiation. A client whose first
// version the server does not speak gets a Version Negotiation packet and
// starts again in the first of its versions the server lists, with a new
// ClientHello whose version_information says so; the server's then
// confirms the outcome (§4).
func TestIncompatibleVersionNegotiation(t *testing.T) {
	p := versionPair(t, []wire.Version{wire.Version1, wire.Version2}, []wire.Version{wire.Version2})
	p.flushOne(p.client, 0, &p.c2s)
	p.c2s.queue = nil // the server does not speak the first version
	p.client.HandleDatagram(p.now, versionNegotiationFor(t, p.client, wire.Version2, 0x0a0a0a0a), serverAddr, 0)
	if !p.client.vn.reacted || p.client.version != wire.Version2 || p.client.closing.state != stateOpen {
		t.Fatalf("after Version Negotiation: reacted %v, version %v, state %d", p.client.vn.reacted, p.client.version, p.client.closing.state)
	}
	// A second one, in answer to the new attempt, is ignored.
	p.client.HandleDatagram(p.now, versionNegotiationFor(t, p.client, wire.Version1), serverAddr, 0)
	p.handshake()
	if p.client.version != wire.Version2 || p.server.version != wire.Version2 {
		t.Fatalf("versions %v and %v, want version 2", p.client.version, p.server.version)
	}
}

// RFC 9368 §4: a forged Version Negotiation packet that steers the client
// to a version it likes less is found out by the server's
// version_information: the client would have chosen otherwise from the
// versions the server lists, and closes with VERSION_NEGOTIATION_ERROR.
func TestVersionDowngradeDetected(t *testing.T) {
	p := versionPair(t, []wire.Version{wire.Version2, wire.Version1}, []wire.Version{wire.Version1, wire.Version2})
	p.flushOne(p.client, 0, &p.c2s)
	p.c2s.queue = nil // the attacker drops the Initial and forges:
	p.client.HandleDatagram(p.now, versionNegotiationFor(t, p.client, wire.Version1), serverAddr, 0)
	if p.client.version != wire.Version1 {
		t.Fatalf("client in %v after the forged Version Negotiation", p.client.version)
	}
	p.runUntil("client closes", func() bool { return p.client.closing.state != stateOpen })
	p.expectClose(p.client, wire.VersionNegotiationError, 0, false)
}

// RFC 9368 §4: a server closes with VERSION_NEGOTIATION_ERROR when the
// client's Chosen Version is not the version its Initial came in.
func TestServerChecksClientChosenVersion(t *testing.T) {
	p := h3specPair(t)
	withClientParams(t, p.client, func(tp *wire.TransportParameters) {
		tp.VersionInformation = &wire.VersionInformation{ChosenVersion: wire.Version2, AvailableVersions: []wire.Version{wire.Version2, wire.Version1}}
	})
	p.runUntil("server closes", func() bool { return p.server != nil && p.server.closing.state != stateOpen })
	p.expectClose(p.server, wire.VersionNegotiationError, 0, false)
}

// The client's checks of the server's version_information (RFC 9368 §4).
func TestClientChecksServerVersionInformation(t *testing.T) {
	v1, v2 := wire.Version1, wire.Version2
	vi := func(chosen wire.Version, avail ...wire.Version) *wire.VersionInformation {
		return &wire.VersionInformation{ChosenVersion: chosen, AvailableVersions: avail}
	}
	for _, tc := range []struct {
		name              string
		version           wire.Version
		reacted, switched bool
		vi                *wire.VersionInformation
		ok                bool
	}{
		{"absent, v1", v1, false, false, nil, true},
		{"absent, v2 from the start", v2, false, false, nil, true},
		{"absent after Version Negotiation", v2, true, false, nil, false},
		{"absent after a switch", v2, false, true, nil, false},
		{"chosen is the version in use", v1, false, false, vi(v1, v1, v2), true},
		{"chosen is not the version in use", v1, false, false, vi(v2, v1, v2), false},
		{"chosen was not offered", 0x1a2a3a4a, false, false, vi(0x1a2a3a4a), false},
		{"after Version Negotiation, consistent", v2, true, false, vi(v2, v2), true},
		{"after Version Negotiation, empty list", v2, true, false, vi(v2), false},
		{"after Version Negotiation, a better one existed", v1, true, false, vi(v1, v1, v2), false},
	} {
		c := &Conn{isClient: true, version: tc.version, config: &Config{Versions: []wire.Version{v2, v1}}}
		c.vn.reacted, c.vn.switched = tc.reacted, tc.switched
		err := c.checkServerVersionInformation(tc.vi)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err != nil && asTransportError(err).Code != wire.VersionNegotiationError {
			t.Errorf("%s: %v, want VERSION_NEGOTIATION_ERROR", tc.name, err)
		}
	}
}

// A session remembers the version its connection negotiated, and a
// connection that resumes it must start in that version (RFC 9369 §5):
// a client starting in another drops it and does a full handshake.
func TestSessionVersion(t *testing.T) {
	cc, sc := resumableConfigs(t)
	sc.Versions = []wire.Version{wire.Version2, wire.Version1}
	firstConnection(t, cc, sc)
	if v, ok := SessionVersion(cc, ""); !ok || v != wire.Version2 {
		t.Fatalf("SessionVersion %v %v, want version 2", v, ok)
	}
	// Started in version 1 (by a careless caller): the session is not
	// offered.
	p := newTestPairWith(t, cc, sc)
	p.handshake()
	if p.client.tls.ConnectionState().DidResume {
		t.Fatal("a version 2 session resumed a connection started in version 1")
	}
}

// RFC 9368 §2.3: a first flight of two datagrams (a ClientHello with a
// post-quantum key share is larger than one) that arrive apart. The server
// that will move the connection to version 2 does not acknowledge the
// first in version 1 while it waits for the second: everything it sends is
// in the negotiated version.
func TestCompatibleNegotiationSplitFirstFlight(t *testing.T) {
	p := versionPair(t, nil, []wire.Version{wire.Version2, wire.Version1})
	p.flushOne(p.client, 0, &p.c2s)
	if n := len(p.c2s.queue); n < 2 {
		t.Fatalf("the client's first flight is %d datagram(s); the test needs it split", n)
	}
	second := p.c2s.queue[1:]
	p.c2s.queue = p.c2s.queue[:1]
	p.deliver()
	if p.flushOne(p.server, 1, &p.s2c) {
		hdr, _ := wire.ParseHeader(p.s2c.queue[0].b, ConnIDLen, false)
		t.Fatalf("the server answered half a ClientHello: %v packet in %v", hdr.Type, hdr.Version)
	}
	p.c2s.queue = second
	seen := p.runRecordingVersions(t)
	if p.server.version != wire.Version2 || p.client.version != wire.Version2 {
		t.Fatalf("versions: client %v, server %v, want version 2", p.client.version, p.server.version)
	}
	for _, v := range seen[wire.PacketInitial] {
		if v != wire.Version2 {
			t.Fatalf("a server Initial in %v", v)
		}
	}
}

// A Version Negotiation packet (forged here; in the interop runner's
// handshakecorruption case, a genuine one whose version list was
// corrupted) after the server got part of the first flight: the new first
// flight goes under a new Destination Connection ID, so the server's state
// for the first attempt cannot take the second ClientHello as the rest of
// the first (which ended in a decode_error). Here the server, preferring
// version 1, moves the new attempt back to it (compatible negotiation):
// the handshake completes in version 1, which RFC 9368 §4 finds consistent
// with the client's own choice.
func TestVersionNegotiationNewFirstFlight(t *testing.T) {
	p := versionPair(t, nil, nil)
	p.flushOne(p.client, 0, &p.c2s)
	first := p.client.originalDCID
	p.c2s.queue = p.c2s.queue[len(p.c2s.queue)-1:] // the rest is lost
	p.deliver()
	p.flushOne(p.server, 1, &p.s2c)
	p.s2c.queue = nil
	p.client.HandleDatagram(p.now, versionNegotiationFor(t, p.client, wire.Version2), serverAddr, 0)
	p.flushOne(p.client, 0, &p.c2s)
	if len(p.c2s.queue) == 0 {
		t.Fatal("no new first flight")
	}
	hdr, err := wire.ParseHeader(p.c2s.queue[0].b, ConnIDLen, false)
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Version != wire.Version2 || hdr.DCID == first || hdr.DCID != p.client.originalDCID {
		t.Fatalf("new first flight in %v to %v, the first went to %v", hdr.Version, hdr.DCID, first)
	}
	// The endpoint hands the new connection ID to a new server connection.
	p.server = nil
	p.handshake()
	if p.client.version != wire.Version1 || p.server.version != wire.Version1 || p.client.closing.state != stateOpen {
		t.Fatalf("client in %v (state %d), server in %v: want both open in version 1", p.client.version, p.client.closing.state, p.server.version)
	}
}
