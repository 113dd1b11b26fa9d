package conn

import "testing"

// RFC 8899 on a path that carries anything: the first probe is 1452 bytes,
// the next the largest both ends allow, and bulk data then goes in
// datagrams that large.
func TestPMTUDiscoveryUpToMax(t *testing.T) {
	cc, sc := cheapConfigs(t)
	cc.MaxDatagramSize, sc.MaxDatagramSize = 9000, 9000
	p := newTestPairReceiving(t, cc, sc, MaxUDPPayloadSize)
	p.buf = make([]byte, 0, maxBurst*9000)
	p.handshake()
	bulkTransfer(p, p.client, 1<<20)
	if got := p.client.pmtu.mtu; got != 9000 {
		t.Fatalf("client datagram size %d, want 9000", got)
	}
	if st := p.client.Stats(); st.BytesSent/st.DatagramsSent < 4000 {
		t.Errorf("%d bytes in %d datagrams: the large size was not used", st.BytesSent, st.DatagramsSent)
	}
}

// A path that drops datagrams above 3000 bytes: the search settles within
// a step of it (each size failing after MAX_PROBES losses), and the lost
// probes are no congestion signal.
func TestPMTUDiscoverySearch(t *testing.T) {
	cc, sc := cheapConfigs(t)
	cc.MaxDatagramSize = 9000
	p := newTestPairReceiving(t, cc, sc, MaxUDPPayloadSize)
	p.buf = make([]byte, 0, maxBurst*9000)
	p.handshake()
	p.c2s.drop = func(_ int, b []byte) bool { return len(b) > 3000 }
	bulkTransfer(p, p.client, 1<<20)
	m := &p.client.pmtu
	p.runUntil("search over", func() bool { return m.state == probeDone })
	if m.mtu > 3000 || m.mtu < 3000-pmtuSearchStep || m.state != probeDone {
		t.Fatalf("datagram size %d (failed at %d, state %d), want within %d below 3000", m.mtu, m.failed, m.state, pmtuSearchStep)
	}
	if st := p.client.loss.Stats(); st.BytesLost != 0 {
		t.Errorf("lost probes counted as %d bytes of congestion loss", st.BytesLost)
	}
}
