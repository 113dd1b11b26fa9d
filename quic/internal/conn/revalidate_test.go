package conn

import (
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// revertedServer is rebindServer with the new path dark until the
// server's validation of it times out: the server is back on the client's
// old address (RFC 9000 §9.3.2) and goes on validating the new one
// (revalidate.go). It returns the new path's record and the challenges
// sent there so far.
func revertedServer(t *testing.T) (*testPair, *netPath, []challengeOut) {
	t.Helper()
	p, _ := rebindServer(t)
	sp := p.server.path.cur
	var sent []challengeOut
	for p.server.path.cur == sp {
		sent = append(sent, serverChallenges(t, p, sp)...)
		p.advance(t)
	}
	if p.server.PeerAddr() != clientAddr {
		t.Fatalf("after the validation timed out the server sends to %v, want %v", p.server.PeerAddr(), clientAddr)
	}
	if p.server.path.find(&sp.addr) != sp || !sp.validating || !sp.retry || !sp.switchOnValid {
		t.Fatalf("the new path after the return: kept %v, validating %v, retry %v", p.server.path.find(&sp.addr) == sp, sp.validating, sp.retry)
	}
	return p, sp, sent
}

// advance moves the pair's clock to the server's next deadline and runs
// its timers.
func (p *testPair) advance(t *testing.T) {
	t.Helper()
	d := p.server.Deadline()
	if d.IsZero() || !d.After(p.now) && p.server.path.cur.pathFramesDue() {
		t.Fatalf("server deadline %v at %v", d, p.now)
	}
	p.now = d
	p.server.HandleTimer(p.now)
}

// serverChallenges collects the PATH_CHALLENGEs the server sends now on
// sp, current or not, and drops the rest of what it sends (the path is
// dark).
func serverChallenges(t *testing.T, p *testPair, sp *netPath) []challengeOut {
	t.Helper()
	var got []challengeOut
	for {
		out, at := p.server.AppendPathProbe(p.now, p.buf[:0])
		if len(out) == 0 {
			break
		}
		if at == sp.addr {
			if ch, _ := pathFramesIn(t, p.client, out); len(ch) > 0 {
				got = append(got, challengeOut{p.now, len(out), ch})
			}
		}
	}
	if p.server.path.cur == sp {
		ch, _ := serverBurst(t, p)
		got = append(got, ch...)
	} else {
		for {
			out, _, _ := p.server.AppendBurst(p.now, p.buf[:0], maxBurst)
			if len(out) == 0 {
				break
			}
		}
	}
	return got
}

// pathResponse is a packet of the client's answering the challenge.
func pathResponse(t *testing.T, p *testPair, c challengeOut) []byte {
	t.Helper()
	var f []byte
	for _, d := range c.data {
		r := wire.PathResponseFrame{Data: d}
		f = r.Append(f)
	}
	f = append(f, make([]byte, InitialMaxDatagramSize)...) // PADDING, §8.2.2
	return sealedPacket(t, p.client, recovery.SpaceAppData, f, 0, nil, false)
}

// Back on the old address, the server challenges the new one again at
// intervals that keep doubling (RFC 9000 §9.4), never past three times
// what arrived from it (§8.1, §9.3.1); when the path clears and the
// client answers, the server moves there (§9.3: the peer's latest
// non-probing packet came from it).
func TestRevalidateAfterReturn(t *testing.T) {
	p, sp, sent := revertedServer(t)
	returned := p.now
	// The allowance is spent: a probing packet of the client's (a
	// PATH_CHALLENGE, padded) brings more without moving the server.
	probe := append([]byte{byte(wire.FrameTypePathChallenge)}, make([]byte, 8+InitialMaxDatagramSize)...)
	p.server.HandleDatagramOn(p.now, sealedPacket(t, p.client, recovery.SpaceAppData, probe, 0, nil, false), Path{Remote: rebound}, 0)
	if p.server.path.cur == sp {
		t.Fatal("a probing packet moved the server")
	}
	for p.now.Sub(returned) < 20*time.Second {
		sent = append(sent, serverChallenges(t, p, sp)...)
		p.advance(t)
	}
	var after []challengeOut
	for i, c := range sent {
		t.Logf("challenge %d at +%v, %d bytes", i, c.at.Sub(sent[0].at), c.size)
		if gap, least := c.at.Sub(sent[max(i-1, 0)].at), sp.challengePTO<<max(i-1, 0); i > 0 && gap < least {
			t.Errorf("challenge %d %v after the one before, less than the PTO doubled for each before (%v)", i, gap, least)
		}
		if !c.at.Before(returned) {
			after = append(after, c)
		}
	}
	t.Logf("%d challenges, %d after the return at +%v; %d bytes sent to the new address for %d received", len(sent), len(after), returned.Sub(sent[0].at), sp.sent, sp.recvd)
	if len(after) == 0 {
		t.Fatal("no challenge after the return")
	}
	if sp.sent > 3*sp.recvd {
		t.Errorf("%d bytes to the unvalidated address, more than 3 × %d", sp.sent, sp.recvd)
	}
	p.server.HandleDatagramOn(p.now, pathResponse(t, p, after[len(after)-1]), Path{Remote: rebound}, 0)
	if !sp.validated || p.server.PeerAddr() != rebound {
		t.Fatalf("after the answer: validated %v, the server sends to %v; want %v", sp.validated, p.server.PeerAddr(), rebound)
	}
}

// The client's next non-probing packet from the new address moves the
// server there again (§9.3), with a challenge at once and the 3-PTO
// timeout of §9.3.2 started over; one from the old address with a larger
// packet number ends the validation of the new one (§9.3.2: a spurious
// migration is contained).
func TestRevalidateResumeAndEnd(t *testing.T) {
	p, sp, _ := revertedServer(t)
	n := sp.nChallenges
	ping := sealedPacket(t, p.client, recovery.SpaceAppData, []byte{byte(wire.FrameTypePing)}, 0, nil, false)
	p.server.HandleDatagramOn(p.now, ping, Path{Remote: rebound}, 0)
	if p.server.path.cur != sp || sp.retry {
		t.Fatalf("after the client's packet from %v: the server sends to %v, retry %v", rebound, p.server.PeerAddr(), sp.retry)
	}
	if want := p.server.mono(p.now) + p.server.validationTimeout(); sp.abandonAt != want {
		t.Errorf("the return is due at %v, want %v", sp.abandonAt, want)
	}
	if ch := serverChallenges(t, p, sp); len(ch) != 1 || sp.nChallenges != n+1 {
		t.Fatalf("%d challenges at once after the client's packet, want 1", len(ch))
	}
	for p.server.path.cur == sp {
		serverChallenges(t, p, sp)
		p.advance(t)
	}
	if !sp.retry {
		t.Fatal("not validating the new path again after the second return")
	}
	ping = sealedPacket(t, p.client, recovery.SpaceAppData, []byte{byte(wire.FrameTypePing)}, 0, nil, false)
	p.server.HandleDatagramOn(p.now, ping, Path{Remote: clientAddr}, 0)
	if p.server.path.find(&sp.addr) != nil {
		t.Fatal("a packet from the old address with a larger number left the new one's validation running")
	}
	if p.server.PeerAddr() != clientAddr {
		t.Fatalf("the server sends to %v, want %v", p.server.PeerAddr(), clientAddr)
	}
}
