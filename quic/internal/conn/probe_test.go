package conn

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/rangeset"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Trace tests of PTO probes during the handshake (RFC 9002 §6.2.4,
// §6.2.2.1): when the timer fires, the probes carry the CRYPTO data that
// is still unacknowledged, not only a PING.

// longPacket is what a test reads of an Initial or Handshake packet.
type longPacket struct {
	space  recovery.Space
	crypto [][2]uint64 // CRYPTO frames: offset, length
	ping   bool
}

func (p longPacket) String() string {
	return fmt.Sprintf("%v crypto=%v ping=%v", p.space, p.crypto, p.ping)
}

// sniffLong decrypts copies of the long header packets of a datagram
// sender sends: Initial packets with the keys of the client's first
// Destination Connection ID (no Retry here), Handshake packets with sender's keys.
// It stops at a 1-RTT packet.
func sniffLong(t *testing.T, sender *Conn, datagram []byte) []longPacket {
	t.Helper()
	b := append([]byte(nil), datagram...)
	clientKeys, serverKeys, err := protect.InitialKeys(uint32(wire.Version1), sender.originalDCID.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var out []longPacket
	for len(b) > 0 && b[0]&0x80 != 0 {
		hdr, err := wire.ParseHeader(b, ConnIDLen, false)
		if err != nil {
			t.Fatalf("unparseable long header: %v", err)
		}
		pkt := b[:hdr.PacketLen]
		b = b[hdr.PacketLen:]
		var keys *protect.Keys
		lp := longPacket{}
		switch hdr.Type {
		case wire.PacketInitial:
			lp.space = recovery.SpaceInitial
			keys = serverKeys
			if sender.isClient {
				keys = clientKeys
			}
		case wire.PacketHandshake:
			lp.space = recovery.SpaceHandshake
			keys = sender.spaces[recovery.SpaceHandshake].writeKeys
		}
		if keys == nil {
			t.Fatalf("no keys to read a %v packet", hdr.Type)
		}
		truncated, pnLen, err := keys.UnprotectHeader(pkt, hdr.PacketNumberOffset)
		if err != nil {
			t.Fatal(err)
		}
		payload, err := keys.Open(pkt, hdr.PacketNumberOffset+pnLen, protect.DecodePacketNumber(-1, truncated, pnLen))
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
			case wire.FrameTypePadding:
				n = wire.PaddingLen(payload)
			case wire.FrameTypePing:
				n, lp.ping = 0, true
			case wire.FrameTypeAck, wire.FrameTypeAckECN:
				_, n, err = wire.ParseAckFrame(ft, payload, nil)
			case wire.FrameTypeCrypto:
				var f wire.CryptoFrame
				f, n, err = wire.ParseCryptoFrame(payload)
				lp.crypto = append(lp.crypto, [2]uint64{f.Offset, uint64(len(f.Data))})
			default:
				t.Fatalf("unexpected frame %v in a %v packet", ft, lp.space)
			}
			if err != nil {
				t.Fatal(err)
			}
			payload = payload[n:]
		}
		out = append(out, lp)
	}
	return out
}

// cryptoBytes is the set of CRYPTO bytes the packets of one space carry,
// as sorted, merged ranges [start, end).
func cryptoBytes(pkts []longPacket, space recovery.Space) [][2]uint64 {
	var rs rangeset.Set
	for _, lp := range pkts {
		if lp.space != space {
			continue
		}
		for _, c := range lp.crypto {
			if c[1] > 0 {
				rs.AddRange(c[0], c[0]+c[1])
			}
		}
	}
	var out [][2]uint64
	for _, r := range rs.Ranges() {
		out = append(out, [2]uint64{r.Start, r.End})
	}
	return out
}

// covers reports whether the ranges have hold every byte of want.
func covers(have, want [][2]uint64) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if h[0] <= w[0] && w[1] <= h[1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// A lost ClientHello: the client's PTO probes are Initial packets that
// carry the ClientHello again, from offset 0, and the handshake completes
// one PTO after the first attempt, instead of after the acknowledgment
// of a PING revealed the loss (and, on a path slower than the PTO, with
// the ClientHello sent only once).
func TestPTOProbeResendsClientHello(t *testing.T) {
	cc, sc := cheapConfigs(t)
	p := newTestPairWith(t, cc, sc)
	start := p.now
	var lost, probes []longPacket
	p.c2s.drop = func(n int, b []byte) bool {
		pkts := sniffLong(t, p.client, b)
		if p.now.Equal(start) {
			lost = append(lost, pkts...)
			return true // the whole first flight
		}
		if p.server == nil {
			probes = append(probes, pkts...)
		}
		return false
	}
	p.handshake()
	ch := cryptoBytes(lost, recovery.SpaceInitial)
	if len(ch) != 1 || ch[0][0] != 0 {
		t.Fatalf("the first flight carried CRYPTO %v", ch)
	}
	if got := cryptoBytes(probes, recovery.SpaceInitial); !covers(got, ch) {
		t.Fatalf("the probes carry CRYPTO %v (%v); want the ClientHello %v", got, probes, ch)
	}
	pto := congestion.InitialRTT * 3 // kInitialRtt + 4 * kInitialRtt/2
	if el := p.now.Sub(start); el < pto || el > pto+100*time.Millisecond {
		t.Fatalf("handshake confirmed after %v; want one PTO, %v", el, pto)
	}
	if n := p.client.LossStats().PTOs; n != 1 {
		t.Fatalf("%d PTOs, want 1", n)
	}
}

// The tail of the server's first flight is lost: the end of the
// ServerHello (a post-quantum key share makes it longer than one
// datagram) and the Handshake flight. The client acknowledges what
// arrived; loss detection cannot find the tail lost, as nothing after it
// was acknowledged. The server's PTO probes carry both spaces' missing
// CRYPTO bytes, coalesced, and the handshake completes one PTO later.
func TestPTOProbeResendsServerFlightTail(t *testing.T) {
	cc, sc := cheapConfigs(t)
	// A first run finds how many datagrams the server's first flight
	// takes: the datagrams it sends before it hears from the client again.
	count := newTestPairWith(t, cc, sc)
	flightLen := 0
	count.s2c.drop = func(n int, b []byte) bool { flightLen = n; return false }
	count.step()
	count.step()
	if flightLen < 2 {
		t.Fatalf("the server's first flight is %d datagram(s)", flightLen)
	}

	p := newTestPairWith(t, cc, sc)
	var lost, after []longPacket
	sent := 0
	p.s2c.drop = func(n int, b []byte) bool {
		sent = n
		switch {
		case n == flightLen:
			lost = sniffLong(t, p.server, b)
			return true
		case n > flightLen && len(after) == 0:
			after = sniffLong(t, p.server, b)
		}
		return false
	}
	p.runUntil("the server's next datagram", func() bool { return sent > flightLen })
	if n := p.server.LossStats().PTOs; n != 1 {
		t.Fatalf("the server sent again after %d PTOs, want 1", n)
	}
	for _, space := range []recovery.Space{recovery.SpaceInitial, recovery.SpaceHandshake} {
		want := cryptoBytes(lost, space)
		if got := cryptoBytes(after, space); !covers(got, want) {
			t.Errorf("%v: the probe carries CRYPTO %v; want the lost %v", space, got, want)
		}
	}
	if len(cryptoBytes(lost, recovery.SpaceHandshake)) == 0 {
		t.Fatalf("the dropped tail %v holds no Handshake CRYPTO data", lost)
	}
	start := p.now
	p.handshake()
	if el := p.now.Sub(start); el > 10*time.Millisecond {
		t.Fatalf("the handshake took %v more after the probe", el)
	}
}

// Corrupted datagrams during the handshake (the interop runner's
// handshakecorruption: a byte flipped in the first 50 of some datagrams
// each way): every handshake completes, and the probes of each PTO carry
// the CRYPTO data of each handshake space that has some unacknowledged. The worst handshake time over the seeds is printed.
func TestPTOProbesUnderCorruption(t *testing.T) {
	cc, sc := cheapConfigs(t)
	var worst time.Duration
	var ptos, checked int
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		var p *testPair
		corrupt := func(sender *Conn) func(int, []byte) bool {
			var pc probeCheck
			return func(n int, b []byte) bool {
				if p.server == nil {
					// The server's creation from the first Initial is
					// the endpoint's job, not the harness's.
					return false
				}
				checked += pc.datagram(t, sender, b)
				if rng.Float64() < 0.3 {
					b[rng.IntN(min(50, len(b)))] ^= byte(1 + rng.IntN(255))
				}
				return false
			}
		}
		p = newTestPairWith(t, cc, sc)
		start := p.now
		p.c2s.drop = corrupt(p.client)
		p.runUntil("the server", func() bool { return p.server != nil })
		p.s2c.drop = corrupt(p.server)
		p.handshake()
		el := p.now.Sub(start)
		worst = max(worst, el)
		ptos += int(p.client.LossStats().PTOs + p.server.LossStats().PTOs)
		// Without delay on the path, a handshake that takes more than
		// four PTO periods (doubling: 1+2+4+8 s) lost more than the
		// probes can explain.
		if el > 15*time.Second {
			t.Errorf("seed %d: handshake took %v", seed, el)
		}
	}
	if checked == 0 {
		t.Fatal("no probe checked")
	}
	t.Logf("30%% of datagrams corrupted: 40 handshakes, worst %v, %d PTOs in all, %d probe pairs checked", worst, ptos, checked)
}

// probeCheck follows one side's datagrams and checks the two probes of
// each PTO: together they must carry the CRYPTO data of each handshake
// space that the sender had unacknowledged and in flight when the first
// went out.
type probeCheck struct {
	ptos    uint64
	left    int // probes of the current PTO still to see
	need    [2]bool
	pending []longPacket
}

// datagram looks at one datagram of sender, before the network mangles
// it, and returns 1 when it completed the check of a PTO's probes.
func (c *probeCheck) datagram(t *testing.T, sender *Conn, b []byte) (checked int) {
	t.Helper()
	if n := sender.LossStats().PTOs; n > c.ptos {
		// The first datagram after a PTO: the first probe. What is
		// unacknowledged now was at the PTO: nothing arrived since.
		checked = c.finish(t, sender)
		c.ptos, c.left, c.pending = n, 2, nil
		for _, space := range []recovery.Space{recovery.SpaceInitial, recovery.SpaceHandshake} {
			sp := &sender.spaces[space]
			c.need[space] = !sp.discarded && sp.crypto != nil &&
				sp.crypto.send.AckedBelow() < sp.crypto.send.Unsent() && sender.loss.HasAckElicitingInFlight(space)
		}
	}
	if c.left == 0 || b[0]&0x80 == 0 {
		return checked // not a probe, or a 1-RTT one: the handshake spaces are gone
	}
	c.pending = append(c.pending, sniffLong(t, sender, b)...)
	if c.left--; c.left > 0 {
		return checked // (an anti-deadlock PTO sends one probe: the next PTO ends its check)
	}
	return checked + c.finish(t, sender)
}

// finish checks the probes of the latest PTO, if not done yet.
func (c *probeCheck) finish(t *testing.T, sender *Conn) int {
	t.Helper()
	if c.pending == nil {
		return 0
	}
	for _, space := range []recovery.Space{recovery.SpaceInitial, recovery.SpaceHandshake} {
		if c.need[space] && len(cryptoBytes(c.pending, space)) == 0 {
			t.Errorf("client=%v: probes %v without the unacknowledged %v CRYPTO data", sender.isClient, c.pending, space)
		}
	}
	c.left, c.pending = 0, nil
	return 1
}
