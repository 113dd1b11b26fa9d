package conn

import (
	"net/netip"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// A client's NAT rebinds while the server has stream data to send: one
// small packet of the client's arrives from the new address, and the
// server's datagrams there are lost (the new mapping does not work yet).

// rebound is the client's address after the rebinding.
var rebound = netip.MustParseAddrPort("198.18.0.9:6000")

// rebindServer brings a pair through the handshake, gives the server 1 MB
// to send on a stream, and makes one small non-probing packet of the
// client's arrive from rebound: the server follows it there (RFC 9000
// §9.3) with three times its size to spend (§8.1, §9.3.1). It returns the
// packet's size.
func rebindServer(t *testing.T) (*testPair, int) {
	t.Helper()
	cc, sc := cheapConfigs(t)
	p := newTestPairWith(t, cc, sc)
	p.handshake()
	for p.step() && (len(p.c2s.queue) > 0 || len(p.s2c.queue) > 0) {
	}
	s := p.openStream(p.server, false)
	if n, _, _ := s.Write(make([]byte, 1<<20)); n == 0 {
		t.Fatal("the server's stream took nothing")
	}
	p.owner(p.server)
	ping := sealedPacket(t, p.client, recovery.SpaceAppData, []byte{byte(wire.FrameTypePing)}, 0, nil, false)
	p.server.HandleDatagramOn(p.now, ping, Path{Remote: rebound}, 0)
	if got := p.server.PeerAddr(); got != rebound {
		t.Fatalf("the server sends to %v, want %v", got, rebound)
	}
	return p, len(ping)
}

// challengeOut is a datagram the server sent to the new address, and the
// PATH_CHALLENGE data in it.
type challengeOut struct {
	at   time.Time
	size int
	data [][8]byte
}

// serverBurst collects what the server sends now; datagrams of path
// frames are decrypted (with the client's keys), others only counted.
func serverBurst(t *testing.T, p *testPair) (challenges []challengeOut, otherBytes int) {
	t.Helper()
	for {
		out, seg, _ := p.server.AppendBurst(p.now, p.buf[:0], maxBurst)
		if len(out) == 0 {
			return challenges, otherBytes
		}
		if seg == 0 {
			seg = len(out)
		}
		for ; len(out) > 0; out = out[min(seg, len(out)):] {
			d := out[:min(seg, len(out))]
			if len(d) < InitialMaxDatagramSize && p.server.path.cur.validating {
				if ch, _ := pathFramesIn(t, p.client, d); len(ch) > 0 {
					challenges = append(challenges, challengeOut{p.now, len(d), ch})
					continue
				}
			}
			otherBytes += len(d)
		}
	}
}

// The server keeps room for the PATH_CHALLENGEs its timer owes rather
// than spend its whole anti-amplification allowance at once (RFC 9000
// §8.2.1 lets a challenge go in less than 1200 bytes when the limit does
// not permit more): with the new path dark, it challenges again later,
// within the limit, and only gives up at the validation timeout (§8.2.4),
// to return to the last validated path (§9.3.2). It used to send one
// challenge padded to the whole allowance, then nothing until the
// timeout.
func TestRebindKeepsRoomForChallenges(t *testing.T) {
	p, size := rebindServer(t)
	limit := 3 * size
	start := p.now
	sp := p.server.path.cur
	var sent []challengeOut
	other := 0
	for p.now.Sub(start) < 10*time.Second && p.server.path.cur == sp {
		ch, o := serverBurst(t, p)
		sent, other = append(sent, ch...), other+o
		d := p.server.Deadline()
		if d.IsZero() {
			break
		}
		p.now = d
		p.server.HandleTimer(p.now)
	}
	if len(sent) < 2 {
		t.Fatalf("%d challenges to the new address, want at least 2 (allowance %d bytes)", len(sent), limit)
	}
	total := other
	for i, c := range sent {
		total += c.size
		t.Logf("challenge %d at +%v, %d bytes", i, c.at.Sub(start), c.size)
		if c.size < minPathDatagramFor(ConnIDLen) {
			t.Errorf("challenge %d in %d bytes, less than the smallest (%d)", i, c.size, minPathDatagramFor(ConnIDLen))
		}
		if i > 0 && c.at.Sub(sent[i-1].at) < sp.challengePTO {
			t.Errorf("challenge %d %v after the one before, less than a PTO (%v)", i, c.at.Sub(sent[i-1].at), sp.challengePTO)
		}
	}
	if total > limit {
		t.Errorf("%d bytes to the unvalidated address, more than 3 × %d", total, size)
	}
	if p.server.PeerAddr() != clientAddr || p.server.path.failures != 1 {
		t.Errorf("after the validation timed out: sending to %v, %d failures; want %v, 1", p.server.PeerAddr(), p.server.path.failures, clientAddr)
	}
}

// A datagram from the client on the path being validated gives the server
// more to spend, and a PATH_CHALLENGE goes at once when a PTO passed since
// the last (the timer the small allowance had stretched is planned again);
// the client's answer validates the path, a second challenge checks the
// path MTU (§8.2.1), and the stream data flows unlimited.
func TestRebindChallengeOnPeerDatagram(t *testing.T) {
	p, _ := rebindServer(t)
	first, _ := serverBurst(t, p)
	sp := p.server.path.cur
	if len(first) != 1 {
		t.Fatalf("%d challenges at once, want 1", len(first))
	}
	if sp.retransmitAt-sp.lastChallengeAt <= 2*sp.challengePTO {
		t.Fatalf("next challenge %v after the first: the small allowance should stretch it past %v", sp.retransmitAt-sp.lastChallengeAt, 2*sp.challengePTO)
	}
	p.now = p.now.Add(sp.challengePTO + time.Millisecond)
	p.server.HandleTimer(p.now)
	if ch, _ := serverBurst(t, p); len(ch) != 0 {
		t.Fatalf("a challenge at the PTO with no more allowance")
	}
	ack := sealedPacket(t, p.client, recovery.SpaceAppData, []byte{byte(wire.FrameTypePing)}, 0, nil, false)
	p.server.HandleDatagramOn(p.now, ack, Path{Remote: rebound}, 0)
	again, _ := serverBurst(t, p)
	if len(again) != 1 {
		t.Fatalf("%d challenges after the client's datagram, want 1", len(again))
	}
	var f []byte
	for _, d := range again[0].data {
		r := wire.PathResponseFrame{Data: d}
		f = r.Append(f)
	}
	f = append(f, make([]byte, InitialMaxDatagramSize)...) // PADDING, §8.2.2
	resp := sealedPacket(t, p.client, recovery.SpaceAppData, f, 0, nil, false)
	p.server.HandleDatagramOn(p.now, resp, Path{Remote: rebound}, 0)
	if !sp.validated {
		t.Fatal("the PATH_RESPONSE did not validate the path")
	}
	// §8.2.1: the small challenge validated the address, not the path
	// MTU; a second validation goes in an expanded datagram.
	out, _, _ := p.server.AppendBurst(p.now, p.buf[:0], maxBurst)
	if ch, _ := pathFramesIn(t, p.client, out); len(out) < InitialMaxDatagramSize || len(ch) != 1 {
		t.Fatalf("after the validation: %d bytes with %d challenges, want an expanded PATH_CHALLENGE", len(out), len(ch))
	}
	if _, other := serverBurst(t, p); other < 4*InitialMaxDatagramSize {
		t.Fatalf("%d bytes of data after the validation, want the congestion window's", other)
	}
}

// quietPair brings a pair through a request: the client opens a stream
// and sends a request; the server answers with 1000 bytes, and the end of
// the response when finish is set. It returns once nothing is in flight.
func quietPair(t *testing.T, finish bool) *testPair {
	t.Helper()
	cc, sc := cheapConfigs(t)
	p := newTestPairWith(t, cc, sc)
	p.handshake()
	s := p.openStream(p.client, false)
	s.Write([]byte("GET"))
	s.CloseWrite()
	p.runUntil("the request arrives", func() bool { return len(p.accepted[1]) > 0 })
	ss := p.accepted[1][0]
	ss.Write(make([]byte, 1000))
	if finish {
		ss.CloseWrite()
	}
	buf := make([]byte, 2000)
	got := 0
	p.runUntil("the response arrives", func() bool {
		n, _, _ := s.Read(buf)
		got += n
		return got == 1000
	})
	for p.step() && (len(p.c2s.queue) > 0 || len(p.s2c.queue) > 0) {
	}
	return p
}

// A client waiting for the rest of a response sends a PING two PTOs after
// the server went quiet (RFC 9000 §10.1.2), once: the acknowledgment of
// the PING starts no new wait. Once the response is complete, the client
// expects nothing and sends nothing.
func TestQuietProbe(t *testing.T) {
	for _, finished := range []bool{false, true} {
		p := quietPair(t, finished)
		c := p.client
		at, ok := c.quietDeadline()
		if !ok {
			t.Fatalf("response finished %v: no quiet timer", finished)
		}
		if want := c.path.quietHeardAt + quietProbeFactor*c.rtt.PTO(true); at != want {
			t.Fatalf("quiet probe at %v, want %v", at, want)
		}
		p.now = c.wall(at)
		c.HandleTimer(p.now)
		if c.pendingPing == finished || !c.path.quietProbed {
			t.Fatalf("response finished %v: PING queued %v, timer done %v", finished, c.pendingPing, c.path.quietProbed)
		}
		if finished {
			continue
		}
		p.flushOne(c, 0, &p.c2s)
		if !c.loss.HasAckElicitingInFlight(recovery.SpaceAppData) {
			t.Fatal("the PING did not go")
		}
		p.runUntil("the PING acknowledged", func() bool {
			return !c.loss.HasAckElicitingInFlight(recovery.SpaceAppData)
		})
		if _, ok := c.quietDeadline(); ok {
			t.Fatal("a second quiet probe armed by the acknowledgment of the first")
		}
	}
}
