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

// queueProbeData prepares the probes of a PTO that fired in space.
func (c *Conn) queueProbeData(space recovery.Space) {
	if space == recovery.SpaceAppData {
		return // new data, or a PING (appendPacket)
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
