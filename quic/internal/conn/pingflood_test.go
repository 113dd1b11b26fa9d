package conn

import (
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// TestPingFloodAcksDelayed (issue 15): a peer flooding PING-only packets
// does not get one ACK datagram back per packet. Acknowledgments wait for
// the ack-eliciting threshold or max_ack_delay (RFC 9000 §13.2.1, §13.2.2;
// every second packet at first, every tenth once the flow is a bulk one,
// quic/internal/conn/ackfreq.go), whichever comes first, here with the
// server's output collected after every packet, as a driver handed one
// datagram at a time would.
func TestPingFloodAcksDelayed(t *testing.T) {
	for _, gap := range []time.Duration{10 * time.Microsecond, 100 * time.Microsecond, time.Millisecond} {
		p := newTestPair(t)
		p.handshake()
		const pings = 2000
		ping := []byte{byte(wire.FrameTypePing)}
		before := p.s2c.n
		start := p.now
		for range pings {
			p.now = p.now.Add(gap)
			pkt := sealedPacket(t, p.client, recovery.SpaceAppData, ping, 0, nil, false)
			p.server.HandleDatagram(p.now, pkt, clientAddr, 0)
			if dl := p.server.Deadline(); !dl.IsZero() && !p.now.Before(dl) {
				p.server.HandleTimer(p.now)
			}
			p.flushOne(p.server, 1, &p.s2c)
			p.s2c.queue = p.s2c.queue[:0]
		}
		if p.server.closing.reason != nil {
			t.Fatalf("the server closed: %+v", p.server.closing.reason)
		}
		acks := p.s2c.n - before
		elapsed := p.now.Sub(start)
		t.Logf("%d PINGs %v apart: %d datagrams back (one per %.1f PINGs)", pings, gap, acks, float64(pings)/float64(max(acks, 1)))
		// One per tenth packet once the flow is bulk (the first hundred
		// are acknowledged every second one), or one per ACK delay when
		// that comes first: a quarter of the RTT, no less than
		// min_ack_delay (1 ms), so a slower "flood" gets no more than one
		// per millisecond.
		limit := 50 + pings/8
		if gap >= minAckDelay {
			limit = 50 + int(elapsed/minAckDelay)
		}
		if acks > limit {
			t.Errorf("%d PINGs %v apart got %d datagrams back, want at most %d", pings, gap, acks, limit)
		}
		// Acknowledgments still flow: at least one per max_ack_delay.
		if want := int(elapsed / (25 * time.Millisecond)); acks < want {
			t.Errorf("%d datagrams back in %v, fewer than one per max_ack_delay", acks, elapsed)
		}
	}
}
