package quic

import (
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// ECN in the sans-I/O harness: the datagrams carry the mark each burst was
// given, and a path function decides which codepoint they arrive with, so
// that tests can keep, clear (bleach) or set CE on marks as a network
// would.

// ecnDatagram is a datagram in flight with the mark it was sent with.
type ecnDatagram struct {
	b   []byte
	ect bool
}

// ecnSide counts what one side sent.
type ecnSide struct {
	marked, unmarked int
}

type ecnPair struct {
	*testPair
	c2s, s2c []ecnDatagram
	// path returns the codepoint a datagram arrives with; nil delivers
	// the mark as sent.
	path func(toServer, ect bool) uint8
	sent [2]ecnSide // 0: client, 1: server
}

func newECNPair(t *testing.T, cc, sc *Config) *ecnPair {
	if cc == nil || sc == nil {
		cc, sc = cheapConfigs(t)
	}
	return &ecnPair{testPair: newTestPairWith(t, cc, sc)}
}

// flush collects what c sends now, checking that nothing goes out marked
// once validation failed (RFC 9000 §13.4.2.2).
func (p *ecnPair) flush(c *Conn, side int, out *[]ecnDatagram) bool {
	if c == nil {
		return false
	}
	sent := false
	for {
		failed := c.loss.ECNState() == recovery.ECNFailed
		buf, seg, ect := c.appendBurst(p.now, p.buf[:0], maxBurst)
		if len(buf) == 0 {
			return sent
		}
		if failed && ect {
			p.t.Errorf("side %d marked a burst after ECN validation failed", side)
		}
		sent = true
		if seg == 0 {
			seg = len(buf)
		}
		for len(buf) > 0 {
			n := min(seg, len(buf))
			*out = append(*out, ecnDatagram{b: append([]byte(nil), buf[:n]...), ect: ect})
			if ect {
				p.sent[side].marked++
			} else {
				p.sent[side].unmarked++
			}
			buf = buf[n:]
		}
	}
}

func (p *ecnPair) codepoint(toServer, ect bool) uint8 {
	if p.path != nil {
		return p.path(toServer, ect)
	}
	if ect {
		return recovery.ECNECT0
	}
	return recovery.ECNNotECT
}

func (p *ecnPair) deliver() bool {
	moved := false
	for len(p.c2s) > 0 {
		d := p.c2s[0]
		p.c2s = p.c2s[1:]
		moved = true
		if p.server == nil {
			hdr, err := wire.ParseHeader(d.b, connIDLen, false)
			if err != nil || hdr.Type != wire.PacketInitial {
				continue
			}
			s, err := newConn(p.now, p.serverConfig, false, hdr.Version, hdr.DCID, newConnectionID(), clientAddr, nil)
			if err != nil {
				p.t.Fatal(err)
			}
			p.server = s
		}
		p.server.handleDatagram(p.now, d.b, clientAddr, p.codepoint(true, d.ect))
	}
	for len(p.s2c) > 0 {
		d := p.s2c[0]
		p.s2c = p.s2c[1:]
		moved = true
		p.client.handleDatagram(p.now, d.b, serverAddr, p.codepoint(false, d.ect))
	}
	return moved
}

// step is testPair.step with marks.
func (p *ecnPair) step() bool {
	a := p.flush(p.client, 0, &p.c2s)
	b := p.flush(p.server, 1, &p.s2c)
	if p.deliver() || a || b {
		return true
	}
	next := time.Time{}
	for _, c := range []*Conn{p.client, p.server} {
		if c == nil {
			continue
		}
		if d := c.deadline(); !d.IsZero() && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	if next.IsZero() {
		return false
	}
	if next.After(p.now) {
		p.now = next
	}
	for _, c := range []*Conn{p.client, p.server} {
		if c != nil {
			if d := c.deadline(); !d.IsZero() && !d.After(p.now) {
				c.handleTimer(p.now)
			}
		}
	}
	return true
}

func (p *ecnPair) runUntil(what string, cond func() bool) {
	p.t.Helper()
	for i := 0; i < 100_000; i++ {
		if cond() {
			return
		}
		if !p.step() {
			break
		}
	}
	if !cond() {
		p.t.Fatalf("never reached: %s (at %v)", what, p.now)
	}
}

func (p *ecnPair) handshake() {
	p.t.Helper()
	p.runUntil("handshake confirmed on both sides", func() bool {
		return p.server != nil && p.client.handshakeConfirmed && p.server.handshakeConfirmed
	})
}

// ping makes c send a PING and runs until it is acknowledged.
func (p *ecnPair) ping(c *Conn) {
	p.t.Helper()
	c.pendingPing = true
	acked := c.loss.Stats().PacketsAcked
	p.runUntil("PING acknowledged", func() bool {
		return !c.pendingPing && c.loss.Stats().PacketsAcked > acked && c.cc.BytesInFlight() == 0
	})
}

func appECNCounts(c *Conn) (wire.ECNCounts, bool) {
	return c.spaces[recovery.SpaceAppData].received.ECNCounts()
}

// TestECNValidationSucceeds: marks that arrive intact and are counted in
// ACK frames validate ECN on both sides, and marking goes on beyond the
// testing period.
func TestECNValidationSucceeds(t *testing.T) {
	p := newECNPair(t, nil, nil)
	p.handshake()
	for range 20 {
		p.ping(p.client)
		p.ping(p.server)
	}
	for i, c := range []*Conn{p.client, p.server} {
		if got := c.loss.ECNState(); got != recovery.ECNCapable {
			t.Errorf("side %d: ECN state %v, want capable", i, got)
		}
		// Only the path MTU probe goes unmarked.
		if p.sent[i].marked <= 10 || p.sent[i].unmarked > 1 {
			t.Errorf("side %d sent %d marked and %d unmarked datagrams; want all but the MTU probe marked, more than the 10 of the testing period",
				i, p.sent[i].marked, p.sent[i].unmarked)
		}
		counts, seen := appECNCounts(c)
		if !seen || counts.ECT0 == 0 || counts.ECT1 != 0 || counts.CE != 0 {
			t.Errorf("side %d counted %+v (seen %v), want ECT(0) only", i, counts, seen)
		}
		c.publishStats()
		if got := c.shared.stats.ECN; got != "capable" {
			t.Errorf("side %d: Stats.ECN %q", i, got)
		}
	}
}

// TestECNBleachedPathFails: a path that clears the marks makes the peer's
// ACK frames come without ECN counts; the first one that acknowledges a
// marked packet fails validation and marking stops (RFC 9000 §13.4.2.1,
// §13.4.2.2). flush checks that no burst is marked afterwards.
func TestECNBleachedPathFails(t *testing.T) {
	p := newECNPair(t, nil, nil)
	p.path = func(toServer, ect bool) uint8 { return recovery.ECNNotECT }
	p.handshake()
	for i, c := range []*Conn{p.client, p.server} {
		if got := c.loss.ECNState(); got != recovery.ECNFailed {
			t.Errorf("side %d: ECN state %v after the handshake, want failed", i, got)
		}
	}
	before := p.sent
	for range 5 {
		p.ping(p.client)
		p.ping(p.server)
	}
	for i := range p.sent {
		if before[i].marked == 0 {
			t.Errorf("side %d never marked: validation never started", i)
		}
		if p.sent[i].marked != before[i].marked {
			t.Errorf("side %d marked %d datagrams after failing", i, p.sent[i].marked-before[i].marked)
		}
		if p.sent[i].unmarked == before[i].unmarked {
			t.Errorf("side %d sent nothing unmarked after failing", i)
		}
	}
	if _, seen := appECNCounts(p.server); seen {
		t.Error("server reports ECN counts though no mark arrived")
	}
	p.client.publishStats()
	if got := p.client.shared.stats.ECN; got != "failed" {
		t.Errorf("Stats.ECN %q, want failed", got)
	}
}

// TestECNRemarkedECT1Fails: ECT(1) is never sent, so a peer reporting it
// shows remarking in the network: validation fails.
func TestECNRemarkedECT1Fails(t *testing.T) {
	p := newECNPair(t, nil, nil)
	p.path = func(toServer, ect bool) uint8 {
		if toServer && ect {
			return recovery.ECNECT1
		}
		if ect {
			return recovery.ECNECT0
		}
		return recovery.ECNNotECT
	}
	p.handshake()
	p.ping(p.client)
	if got := p.client.loss.ECNState(); got != recovery.ECNFailed {
		t.Errorf("client ECN state %v, want failed", got)
	}
	if got := p.server.loss.ECNState(); got != recovery.ECNCapable {
		t.Errorf("server ECN state %v, want capable", got)
	}
}

// TestECNCongestionExperienced: once ECN is validated, a CE mark on one
// datagram, counted by the receiver and reported in its ACK frame, makes
// the sender's congestion controller reduce its window although nothing
// was lost (RFC 9002 §7.1).
func TestECNCongestionExperienced(t *testing.T) {
	p := newECNPair(t, nil, nil)
	p.handshake()
	for range 5 {
		p.ping(p.client)
	}
	if got := p.client.loss.ECNState(); got != recovery.ECNCapable {
		t.Fatalf("client ECN state %v, want capable", got)
	}
	window := p.client.cc.CongestionWindow()
	ce := 1
	p.path = func(toServer, ect bool) uint8 {
		if toServer && ect && ce > 0 {
			ce--
			return recovery.ECNCE
		}
		if ect {
			return recovery.ECNECT0
		}
		return recovery.ECNNotECT
	}
	p.ping(p.client)
	if counts, _ := appECNCounts(p.server); counts.CE != 1 {
		t.Fatalf("server counted %d CE marks, want 1", counts.CE)
	}
	if got := p.client.cc.CongestionWindow(); got >= window {
		t.Errorf("congestion window %d after a CE report, want below %d", got, window)
	}
	if lost := p.client.loss.Stats().PacketsLost; lost != 0 {
		t.Errorf("%d packets lost; the reduction must come from the CE mark", lost)
	}
	if got := p.client.loss.ECNState(); got != recovery.ECNCapable {
		t.Errorf("client ECN state %v after CE, want still capable", got)
	}
}

// TestECNDisabled: with DisableECN a side never marks, but still counts
// the marks it receives and reports them, so the peer's validation
// succeeds (RFC 9000 §13.4.1 applies whatever we send).
func TestECNDisabled(t *testing.T) {
	cc, sc := cheapConfigs(t)
	cc.DisableECN = true
	p := newECNPair(t, cc, sc)
	p.handshake()
	for range 3 {
		p.ping(p.client)
		p.ping(p.server)
	}
	if p.sent[0].marked != 0 {
		t.Errorf("client marked %d datagrams with DisableECN", p.sent[0].marked)
	}
	if _, seen := appECNCounts(p.server); seen {
		t.Error("server counted marks the client never sent")
	}
	if got := p.server.loss.ECNState(); got != recovery.ECNCapable {
		t.Errorf("server ECN state %v, want capable: the client reports the marks it gets", got)
	}
	p.client.publishStats()
	if got := p.client.shared.stats.ECN; got != "off" {
		t.Errorf("client Stats.ECN %q, want off", got)
	}
}
