package conn

import (
	"net/netip"
	"testing"

	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// pathChallenges is n PATH_CHALLENGE frames with data 1…n.
func pathChallenges(n int) []byte {
	var b []byte
	for i := range n {
		f := wire.PathChallengeFrame{Data: [8]byte{byte(i + 1)}}
		b = f.Append(b)
	}
	return b
}

// responsesIn decrypts a datagram the server sent and returns the
// PATH_RESPONSE data in it.
func responsesIn(t *testing.T, c *Conn, d []byte) [][8]byte {
	t.Helper()
	_, responses := pathFramesIn(t, c, d)
	return responses
}

// pathFramesIn decrypts a datagram of path frames the server sent, with
// the client c's keys, and returns the PATH_CHALLENGE and the
// PATH_RESPONSE data in it.
func pathFramesIn(t *testing.T, c *Conn, d []byte) (challenges, responses [][8]byte) {
	t.Helper()
	hdr, err := wire.ParseHeader(d, ConnIDLen, false)
	if err != nil {
		t.Fatal(err)
	}
	pkt := d[:hdr.PacketLen]
	keys := c.spaces[recovery.SpaceAppData].readKeys
	truncated, pnLen, err := keys.UnprotectHeader(pkt, hdr.PacketNumberOffset)
	if err != nil {
		t.Fatal(err)
	}
	pn := protect.DecodePacketNumber(c.spaces[recovery.SpaceAppData].largestRecv, truncated, pnLen)
	payload, err := c.keys1RTT.readKeysFor(wire.KeyPhase(pkt[0]), pn).Open(pkt, hdr.PacketNumberOffset+pnLen, pn)
	if err != nil {
		t.Fatal(err)
	}
	for len(payload) > 0 {
		ft, n, err := wire.ParseFrameType(payload)
		if err != nil {
			t.Fatal(err)
		}
		payload = payload[n:]
		switch ft {
		case wire.FrameTypePathResponse:
			f, n, _ := wire.ParsePathResponseFrame(payload)
			responses = append(responses, f.Data)
			payload = payload[n:]
		case wire.FrameTypePathChallenge:
			f, n, _ := wire.ParsePathChallengeFrame(payload)
			challenges = append(challenges, f.Data)
			payload = payload[n:]
		case wire.FrameTypePadding:
			payload = payload[wire.PaddingLen(payload):]
		default:
			t.Fatalf("frame %v in a path datagram", ft)
		}
	}
	return challenges, responses
}

// A flood of PATH_CHALLENGE frames in one packet gets one datagram back,
// padded to 1200 bytes (RFC 9000 §8.2.2), answering the latest
// maxPathResponses only.
func TestPathChallengeFloodBounded(t *testing.T) {
	cc, sc := cheapConfigs(t)
	p := newTestPairWith(t, cc, sc)
	p.handshake()
	for p.step() && (len(p.c2s.queue) > 0 || len(p.s2c.queue) > 0) {
	}
	p.clientSends(recovery.SpaceAppData, pathChallenges(200), 0)
	buf := make([]byte, 0, 1<<16)
	out, seg, _ := p.server.AppendBurst(p.now, buf, maxBurst)
	if len(out) != InitialMaxDatagramSize || seg != 0 {
		t.Fatalf("answer: %d bytes (segment %d), want one datagram of %d", len(out), seg, InitialMaxDatagramSize)
	}
	got := responsesIn(t, p.client, out)
	if len(got) != maxPathResponses || got[len(got)-1][0] != 200 {
		t.Fatalf("responses %v, want the latest %d", got, maxPathResponses)
	}
	if more, _, _ := p.server.AppendBurst(p.now, buf, maxBurst); len(more) > 0 && len(more) == InitialMaxDatagramSize {
		if r := responsesIn(t, p.client, more); len(r) > 0 {
			t.Fatalf("a second datagram of responses: %v", r)
		}
	}
}

// A PATH_CHALLENGE arriving from a new address in a probing packet is
// answered there, within three times the bytes that arrived from it (RFC
// 9000 §8.2.2, §9.3.1), and moves nothing.
func TestPathResponseOnArrivalPath(t *testing.T) {
	cc, sc := cheapConfigs(t)
	p := newTestPairWith(t, cc, sc)
	p.handshake()
	other := netip.MustParseAddrPort("198.18.0.7:5000")
	pkt := sealedPacket(t, p.client, recovery.SpaceAppData, pathChallenges(1), 0, nil, false)
	p.server.HandleDatagramOn(p.now, pkt, Path{Remote: other}, 0)
	if got := p.server.PeerAddr(); got != clientAddr {
		t.Fatalf("a probing packet moved the server to %v", got)
	}
	buf := make([]byte, 0, 1<<16)
	out, to := p.server.AppendPathProbe(p.now, buf)
	if to.Remote != other || len(out) == 0 {
		t.Fatalf("answer to %v (%d bytes), want one to %v", to, len(out), other)
	}
	if len(out) > 3*len(pkt) {
		t.Fatalf("%d bytes to an unvalidated address that sent %d", len(out), len(pkt))
	}
	if r := responsesIn(t, p.client, out); len(r) != 1 || r[0][0] != 1 {
		t.Fatalf("responses %v", r)
	}
}
