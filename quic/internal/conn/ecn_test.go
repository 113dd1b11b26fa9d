package conn

import (
	"testing"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// ECN in the sans-I/O harness: the datagrams carry the mark each burst was
// given, and the pair's path function decides which codepoint they arrive
// with, so that tests can keep, clear (bleach) or set CE on marks as a
// network would (harness_test.go).

type ecnPair = testPair

func newECNPair(t *testing.T, cc, sc *Config) *ecnPair {
	if cc == nil || sc == nil {
		cc, sc = cheapConfigs(t)
	}
	return newTestPairWith(t, cc, sc)
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
		if got := c.Stats().ECN; got != "capable" {
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
	if got := p.client.Stats().ECN; got != "failed" {
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
	if got := p.client.Stats().ECN; got != "off" {
		t.Errorf("client Stats.ECN %q, want off", got)
	}
}
