package conn

import "github.com/skiffnet/skiff/quic/internal/recovery"

// What a PTO probe carries (RFC 9002 §6.2.4).
//
// A probe SHOULD carry new data, and previously sent data when there is
// no new data. During the handshake there rarely is new data: the
// ClientHello, the server's flight and the client's Finished are sent
// once and then wait for acknowledgments. A probe of a bare PING would
// only ask the peer to acknowledge what it has, and when the data itself
// was lost (or is still on its way on a long path) the peer has nothing
// to acknowledge and the handshake waits for the next timeout, at twice
// the period. So when the PTO fires in the Initial or Handshake space,
// the CRYPTO data of that space not yet acknowledged is sent again, and
// so is that of the other handshake space if it has packets in flight
// (§6.2.4: "the sender SHOULD send ack-eliciting packets from other
// packet number spaces with in-flight data, coalescing packets if
// possible"), as when a server's Initial and Handshake flights are both
// unacknowledged. The client's anti-deadlock probe (§6.2.2.1) goes the
// same way: its Initial carries the ClientHello again while it has no
// Handshake keys, its Handshake packet the client's Finished once it
// has. The data goes out in the probes, ahead of anything else of the
// space, and what does not fit in them follows as the window allows.
//
// In the application data space a probe carries new data when there is
// some (appendPacket). When there is none, a bare PING has the same
// weakness: when the last packets sent carried data and were lost, no
// later packet is there to be acknowledged and show them lost (§6.1 needs
// one), and when every probe is lost too the connection waits from PTO to
// doubled PTO until the idle timeout. That is what the interop runner's
// handshakecorruption did to a client whose only request packet and every
// PING after it were corrupted. So the STREAM and CRYPTO data of the
// oldest ack-eliciting packets in flight, as many packets as there are
// probes, is sent again, as if declared lost, while the packets stay in
// flight: the oldest, not all that is in flight, which for a bulk sender
// is a window's worth; they are the likeliest lost and the first the
// receiver waits for. Both copies may be acknowledged, and the second acknowledgment
// of the same bytes must change nothing (streambuf.SendState.OnAck): a
// range kept for it once stopped a stream's acknowledged prefix for good,
// and a bulk transfer whose writer waited on the storage it never
// released stalled into the idle timeout.
//
// A sender blocked by the peer's flow control has no new data either,
// though its stream stays queued for the MAX_DATA that will unblock it
// (and so looks as if it had some): its probes too carry the data of the
// oldest packets in flight, and the DATA_BLOCKED and STREAM_DATA_BLOCKED
// frames of the limits that still block it, with their current values
// (RFC 9000 §4.1, §13.3: a new blocked frame while the endpoint is still
// blocked). A bare PING, acknowledged, only showed the data lost a round
// trip later; and a blocked frame lost with it was never sent again.

// queueProbeData prepares the probes of a PTO that fired in space.
func (c *Conn) queueProbeData(space recovery.Space) {
	if space == recovery.SpaceAppData {
		if blocked := c.requeueBlockedFrames(); blocked || !c.appDataPending() {
			c.resendOldestData()
		}
		return
	}
	for s := recovery.SpaceInitial; s <= recovery.SpaceHandshake; s++ {
		if s != space && !c.loss.HasAckElicitingInFlight(s) {
			continue
		}
		c.resendUnackedCrypto(s)
	}
}

// resendUnackedCrypto queues the space's CRYPTO data that was sent and
// not acknowledged to be sent again, as if it had been declared lost.
// The packets that carried it stay in flight: their loss or
// acknowledgment is still loss detection's to find.
func (c *Conn) resendUnackedCrypto(space recovery.Space) {
	sp := &c.spaces[space]
	if sp.discarded || sp.writeKeys == nil || sp.crypto == nil {
		return
	}
	out := &sp.crypto.send
	if from, to := out.AckedBelow(), out.Unsent(); to > from {
		// OnLost skips the ranges acknowledged above AckedBelow.
		out.OnLost(from, to-from, false)
	}
}

// resendOldestData queues the STREAM and CRYPTO data of the oldest
// ack-eliciting 1-RTT packets in flight that carried some, one packet per
// probe, to be sent again.
func (c *Conn) resendOldestData() {
	left := c.probes
	c.loss.Unacked(recovery.SpaceAppData, func(p *recovery.SentPacket) bool {
		carried := false
		for i := range p.Frames {
			if fr := &p.Frames[i]; fr.Kind == sentStream || fr.Kind == sentCrypto {
				c.dataLost(recovery.SpaceAppData, fr)
				carried = true
			}
		}
		if carried {
			left--
		}
		return left > 0
	})
}

// requeueBlockedFrames queues DATA_BLOCKED and STREAM_DATA_BLOCKED again
// for the peer's limits that hold back data written and not yet sent, and
// reports whether any does.
func (c *Conn) requeueBlockedFrames() bool {
	connBlocked := c.flow.sendCredit() == 0
	blocked := false
	for _, s := range c.streams.m {
		if !s.hasSend || s.resetSent || s.resetPending || s.out.Unsent() >= s.out.Written() {
			continue // nothing written waits to be sent
		}
		streamBlocked := s.out.Unsent() >= s.sendMax
		blocked = blocked || streamBlocked || connBlocked
		if streamBlocked && s.blockedAt == s.sendMax {
			s.blockedPending = true
			c.streams.ctrl.push(s)
		}
	}
	if blocked && connBlocked && c.flow.blockedAt == c.flow.sendMax {
		c.flow.blockedPending = true
	}
	return blocked
}
