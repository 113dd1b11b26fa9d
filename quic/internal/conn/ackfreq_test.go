package conn

import (
	"bytes"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/streambuf"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// bulkTransfer moves n bytes from one side of the pair to the other on a
// new stream, the harness's clock moving as it needs.
func bulkTransfer(p *testPair, from *Conn, n int) {
	p.t.Helper()
	s := p.openStream(from, false)
	data := bytes.Repeat([]byte("ack frequency "), n/14+1)[:n]
	side := 1 - p.side(from)
	written, got := 0, 0
	buf := make([]byte, 64<<10)
	var rs *Stream
	p.runUntil("transfer complete", func() bool {
		if written < len(data) {
			k, _, _ := s.Write(data[written:])
			if written += k; written == len(data) {
				s.CloseWrite()
			}
		}
		for _, ss := range p.accepted[side] {
			if ss.id == s.id {
				rs = ss
			}
		}
		for rs != nil {
			k, st, _ := rs.Read(buf)
			got += k
			if st == streambuf.EOF {
				return true
			}
			if k == 0 {
				break
			}
		}
		return false
	})
	if got != n {
		p.t.Fatalf("read %d bytes, want %d", got, n)
	}
}

// countFrames counts the frames of type t a sniffer saw.
func countFrames(s *sniffer, t wire.FrameType) int { return len(s.find(t)) }

// draft-ietf-quic-ack-frequency-14: both ends advertise min_ack_delay; the
// data sender asks the receiver for fewer acknowledgments (ACK_FREQUENCY
// with a threshold and a delay within the peer's bounds), the receiver
// applies it, and a bulk transfer needs far fewer ACK frames than one per
// two packets.
func TestAckFrequencyNegotiated(t *testing.T) {
	p := newTestPair(t)
	up := p.sniff(&p.c2s, func() *Conn { return p.server })
	down := p.sniff(&p.s2c, func() *Conn { return p.client })
	p.handshake()
	if !p.client.ackFreq.peerSupports || !p.server.ackFreq.peerSupports {
		t.Fatal("min_ack_delay not negotiated")
	}
	before := p.server.stats.PacketsReceived
	bulkTransfer(p, p.client, 4<<20)
	reqs := up.find(wire.FrameTypeAckFrequency)
	if len(reqs) == 0 {
		t.Fatal("the sender asked for no ACK frequency")
	}
	pol := p.server.spaces[recovery.SpaceAppData].received.Policy()
	if pol.Threshold < 2 || pol.MaxAckDelay < minAckDelay || pol.MaxAckDelay > wire.DefaultMaxAckDelay || pol.Reordering != 3 {
		t.Errorf("receiver policy %+v", pol)
	}
	packets := p.server.stats.PacketsReceived - before
	acks := countFrames(down, wire.FrameTypeAck) + countFrames(down, wire.FrameTypeAckECN)
	t.Logf("%d ACK_FREQUENCY requests (last threshold %d); %d packets, %d ACK frames", len(reqs), reqs[len(reqs)-1].value, packets, acks)
	if acks*4 > int(packets) {
		t.Errorf("%d ACK frames for %d packets", acks, packets)
	}
}

// Issue 15: a flood of PING packets, each arriving alone, used to get one
// ACK datagram each (max_ack_delay was never applied). Now an ACK goes
// for every second one at most (RFC 9000 §13.2.2), and once the flood is
// a bulk flow for every tenth.
func TestPingFloodAckRate(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	down := p.sniff(&p.s2c, func() *Conn { return p.client })
	const pings = 400
	for range pings {
		p.now = p.now.Add(100 * time.Microsecond)
		p.clientSends(recovery.SpaceAppData, []byte{byte(wire.FrameTypePing)}, 0)
		p.flushOne(p.server, 1, &p.s2c)
		p.deliver()
	}
	acks := countFrames(down, wire.FrameTypeAck) + countFrames(down, wire.FrameTypeAckECN)
	t.Logf("%d PING packets, %d ACK frames", pings, acks)
	if acks > pings/2/2 {
		t.Errorf("%d ACK frames for %d PING packets", acks, pings)
	}
}

// IMMEDIATE_ACK is acknowledged at once, whatever the policy (§5).
func TestImmediateAck(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	rt := p.server.spaces[recovery.SpaceAppData].received
	p.clientSends(recovery.SpaceAppData, []byte{byte(wire.FrameTypePing)}, 0)
	if d, ok := rt.AckDeadline(); !ok || !p.server.wall(d).After(p.now) {
		t.Fatalf("a lone PING is acknowledged at once: deadline %v", p.server.wall(d))
	}
	p.clientSends(recovery.SpaceAppData, []byte{byte(wire.FrameTypeImmediateAck)}, 0)
	if d, ok := rt.AckDeadline(); !ok || p.server.wall(d).After(p.now) {
		t.Fatalf("IMMEDIATE_ACK not acknowledged at once: deadline %v", p.server.wall(d))
	}
}

// §4: ACK_FREQUENCY frames out of range are a PROTOCOL_VIOLATION; an
// older one than the last is ignored; IMMEDIATE_ACK and ACK_FREQUENCY are
// not allowed in Handshake packets.
func TestAckFrequencyErrors(t *testing.T) {
	req := func(seq uint64, d time.Duration) []byte {
		return appendFrame(&wire.AckFrequencyFrame{SequenceNumber: seq, AckElicitingThreshold: 5, RequestedMaxAckDelay: d, ReorderingThreshold: 2})
	}
	t.Run("below min_ack_delay", func(t *testing.T) {
		h3spec1RTT(t, req(0, minAckDelay-time.Microsecond), 0, wire.ProtocolViolation, wire.FrameTypeAckFrequency)
	})
	t.Run("2^14 ms", func(t *testing.T) {
		h3spec1RTT(t, req(0, 1<<14*time.Millisecond), 0, wire.ProtocolViolation, wire.FrameTypeAckFrequency)
	})
	t.Run("in Handshake", func(t *testing.T) {
		h3specHandshake(t, []byte{byte(wire.FrameTypeImmediateAck)}, 0, wire.ProtocolViolation, wire.FrameTypeImmediateAck)
	})
	t.Run("older ignored", func(t *testing.T) {
		p := h3specPair(t)
		p.handshake()
		p.clientSends(recovery.SpaceAppData, req(5, 7*time.Millisecond), 0)
		p.clientSends(recovery.SpaceAppData, req(4, 9*time.Millisecond), 0)
		if pol := p.server.spaces[recovery.SpaceAppData].received.Policy(); pol.MaxAckDelay != 7*time.Millisecond || pol.Threshold != 5 || pol.Reordering != 2 {
			t.Fatalf("policy %+v", pol)
		}
	})
}

// A peer that does not take ACK_FREQUENCY still gets fewer ACKs from a
// bulk receiver (RFC 9000 §13.2.2 allows it): every tenth ack-eliciting
// packet, within a quarter of the RTT (no less than min_ack_delay); and
// the sender sends no request.
func TestAckDecimationWithoutNegotiation(t *testing.T) {
	p := newTestPair(t)
	withClientParams(t, p.client, func(tp *wire.TransportParameters) { tp.HasMinAckDelay = false })
	down := p.sniff(&p.s2c, func() *Conn { return p.client })
	p.handshake()
	if p.server.ackFreq.peerSupports {
		t.Fatal("the server believes the client takes ACK_FREQUENCY")
	}
	bulkTransfer(p, p.server, 2<<20)
	pol := p.client.spaces[recovery.SpaceAppData].received.Policy()
	if pol.Threshold != bulkThreshold || pol.MaxAckDelay != bulkAckDelay(p.client.rtt.SmoothedRTT(), wire.DefaultMaxAckDelay) {
		t.Errorf("bulk receiver policy %+v (srtt %v)", pol, p.client.rtt.SmoothedRTT())
	}
	if n := countFrames(down, wire.FrameTypeAckFrequency); n != 0 {
		t.Errorf("%d ACK_FREQUENCY frames sent to a peer without min_ack_delay", n)
	}
}

// Trim lets an idle connection drop what a bulk transfer grew (its sent
// packet ring, its lost packet history, scratch space), and the
// connection works as before afterwards.
func TestTrimAfterBulk(t *testing.T) {
	p := newTestPair(t)
	p.c2s.drop = func(n int, _ []byte) bool { return n%97 == 0 } // some losses
	p.handshake()
	bulkTransfer(p, p.client, 4<<20)
	p.runUntil("everything acknowledged", func() bool { return p.client.cc.BytesInFlight() == 0 })
	before := p.client.loss.RingCapacity(recovery.SpaceAppData)
	p.client.Trim()
	if after := p.client.loss.RingCapacity(recovery.SpaceAppData); before < 64 || after != 0 {
		t.Fatalf("sent packet ring: %d slots before Trim, %d after", before, after)
	}
	if p.client.scratch != nil || p.client.events.q != nil {
		t.Fatal("scratch space kept")
	}
	bulkTransfer(p, p.client, 1<<20)
}
