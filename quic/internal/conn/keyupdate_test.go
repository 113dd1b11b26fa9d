package conn

import (
	"testing"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// RFC 9001 §6.1: an endpoint does not update its keys before the
// handshake is confirmed; a requested update waits for confirmation.
func TestKeyUpdateWaitsForConfirmation(t *testing.T) {
	p := h3specPair(t)
	c := p.client
	p.runUntil("client has 1-RTT keys", func() bool { return c.keys1RTT.write != nil })
	c.keys1RTT.forceUpdate = true
	p.runUntil("client confirmed", func() bool {
		if c.keys1RTT.writePhase {
			t.Fatal("the client updated its keys before the handshake was confirmed")
		}
		return c.handshakeConfirmed
	})
	p.runUntil("the update completes on both sides", func() bool {
		return c.keys1RTT.updates == 1 && p.server.keys1RTT.updates == 1
	})
	if !c.keys1RTT.readPhase || !p.server.keys1RTT.writePhase {
		t.Fatal("phases did not follow the update")
	}
}

// RFC 9001 §4.1.2, §6.1: a server confirms the handshake when it completes
// and may update its keys at once; if its HANDSHAKE_DONE is lost, the
// client sees the new key phase before its own confirmation. The client
// accepts the update and answers in the new phase.
func TestKeyUpdateBeforeClientConfirmation(t *testing.T) {
	p := h3specPair(t)
	p.runUntil("server completes its handshake", func() bool { return p.server != nil && p.server.handshakeComplete })
	if p.client.handshakeConfirmed {
		t.Fatal("client confirmed before HANDSHAKE_DONE")
	}
	s := p.server
	pkt := sealedPacket(t, s, recovery.SpaceAppData, []byte{byte(wire.FrameTypePing)}, 0, s.keys1RTT.nextWriteKeys(), !s.keys1RTT.writePhase)
	p.client.HandleDatagram(p.now, pkt, serverAddr, 0)
	if p.client.closing.state != stateOpen {
		t.Fatalf("client closed: %+v", p.client.closing.reason)
	}
	if !p.client.keys1RTT.readPhase || !p.client.keys1RTT.writePhase {
		t.Fatal("the client did not follow the server's key phase")
	}
}

// Next-generation read keys are derived only when a packet of the other key
// phase arrives, not held ahead by every connection; the update still works.
func TestKeyUpdateDerivesNextKeysOnDemand(t *testing.T) {
	p := newTestPair(t)
	p.handshake()
	c := p.client
	if c.keys1RTT.nextRead != nil || p.server.keys1RTT.nextRead != nil {
		t.Fatal("next-generation read keys derived before any key update")
	}
	s := p.server
	pkt := sealedPacket(t, s, recovery.SpaceAppData, []byte{byte(wire.FrameTypePing)}, 0, s.keys1RTT.nextWriteKeys(), !s.keys1RTT.writePhase)
	c.HandleDatagram(p.now, pkt, serverAddr, 0)
	if c.closing.state != stateOpen {
		t.Fatalf("client closed: %+v", c.closing.reason)
	}
	if c.keys1RTT.updates != 1 || !c.keys1RTT.readPhase || !c.keys1RTT.writePhase {
		t.Fatalf("client did not follow the update: updates %d", c.keys1RTT.updates)
	}
	if c.keys1RTT.nextRead != nil || c.keys1RTT.prevRead == nil {
		t.Fatal("after the update: want the previous read keys kept and no next ones derived yet")
	}
}

// An idle connection's Trim rests its 1-RTT keys and drops the previous
// generation; the keys wake with the next packet, data flows both ways and
// a later key update still completes.
func TestTrimRestsKeys(t *testing.T) {
	p := newTestPair(t)
	p.handshake()
	c, s := p.client, p.server
	c.keys1RTT.forceUpdate = true
	bulkTransfer(p, c, 64<<10)
	p.runUntil("the first update completes on both sides", func() bool {
		return c.keys1RTT.updates == 1 && s.keys1RTT.updates == 1 && c.cc.BytesInFlight() == 0
	})
	for _, x := range []*Conn{c, s} {
		x.Trim()
		if x.keys1RTT.prevRead != nil || x.keys1RTT.nextRead != nil {
			t.Fatal("Trim kept the previous or next read keys")
		}
	}
	bulkTransfer(p, s, 64<<10)
	bulkTransfer(p, c, 64<<10)
	c.keys1RTT.forceUpdate = true
	bulkTransfer(p, c, 64<<10)
	p.runUntil("the second update completes on both sides", func() bool {
		return c.keys1RTT.updates == 2 && s.keys1RTT.updates == 2
	})
}
