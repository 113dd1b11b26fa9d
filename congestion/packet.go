package congestion

import "time"

// PacketController is a Controller that is told about each in-flight
// packet rather than about the sums per ACK frame: what BBR needs to take
// delivery rate samples (draft-ietf-ccwg-bbr §4.1). Every controller of
// this package implements it; NewReno and CUBIC sum the per-packet calls
// up and behave exactly as through the aggregated ones.
//
// A caller uses either these calls or OnPacketSent(inFlight true), OnAck,
// OnPacketsLost and OnECNCE, never both for the same packets. The contract
// (in what order, what to keep) is in the package documentation, under
// "The per-packet calls".
type PacketController interface {
	Controller

	// OnSent records an in-flight packet of the given size sent at now
	// and fills *p, which the caller keeps in its sent-packet record
	// until the packet is acknowledged, declared lost or discarded.
	// Packets that are not in flight (only ACK frames) are not reported.
	OnSent(now time.Duration, bytes int, p *PacketState)

	// OnAcked reports that the ACK frame being processed newly
	// acknowledges the packet whose state is p. A packet already
	// reported acknowledged is ignored; one reported lost before counts
	// as delivered (draft-ietf-ccwg-bbr §2.2) but is no longer in flight.
	OnAcked(now time.Duration, p *PacketState)

	// OnLost reports the packet whose state is p declared lost at now,
	// during the processing of an ACK frame or on the loss timer.
	OnLost(now time.Duration, p *PacketState)

	// OnPersistentCongestion reports loss recovery's verdict of RFC 9002
	// §7.6.2, after the OnLost calls for the packets that establish it.
	OnPersistentCongestion(now time.Duration)

	// OnAckEnd closes the processing of one ACK frame received at now,
	// after its OnAcked and OnLost calls. rtt holds this frame's RTT
	// sample if it produced one; newCE is how much the frame raised the
	// peer's ECN-CE count, in packets (RFC 9002 §7.1), once ECN is
	// validated.
	OnAckEnd(now time.Duration, rtt *RTTStats, newCE int)

	// OnApplicationLimited reports that the sender had nothing to send
	// (no new data, no retransmission) although SendBudget allowed at
	// least one packet: CheckIfApplicationLimited of
	// draft-ietf-ccwg-bbr §4.1.2.4, which the caller evaluates when the
	// application writes, at the start of ACK processing and when a
	// timer fires.
	OnApplicationLimited()
}

// PacketState is what a controller remembers about one in-flight packet,
// kept by the caller in its sent-packet record: the per-packet (P) state of
// draft-ietf-ccwg-bbr §4.1.2.1.2 and the packet's size and send time. The
// caller treats it as opaque; the zero value is a packet never reported.
type PacketState struct {
	sendTime time.Duration // P.send_time
	// deliveredTime, firstSendTime, delivered, lost and txInFlight are
	// C.delivered_time, C.first_send_time, C.delivered, C.lost and
	// C.inflight (including this packet) when it was sent.
	deliveredTime time.Duration
	firstSendTime time.Duration
	delivered     int64
	lost          int64
	txInFlight    int64
	// id is P.packet_id: the controller numbers its packets in send
	// order.
	id    uint64
	size  int32
	flags packetFlags
}

type packetFlags uint8

const (
	packetSent       packetFlags = 1 << iota // OnSent filled the state
	packetAppLimited                         // P.is_app_limited
	packetAcked
	packetLost
)

// SendTime is the time the packet was reported sent.
func (p *PacketState) SendTime() time.Duration { return p.sendTime }

// Size is the packet's size as reported to OnSent.
func (p *PacketState) Size() int { return int(p.size) }

// InFlight reports whether the packet still counts in bytes_in_flight:
// reported sent, and neither acknowledged nor lost since.
func (p *PacketState) InFlight() bool { return p.inFlight() }

// inFlight reports whether the packet still counts in bytes_in_flight.
func (p *PacketState) inFlight() bool {
	return p.flags&(packetSent|packetAcked|packetLost) == packetSent
}

// packetSize clamps a reported size: no datagram is larger than
// maxDatagramSizeLimit, and the clamp keeps every sum of sizes exact.
func packetSize(bytes int) int32 {
	return int32(max(0, min(bytes, maxDatagramSizeLimit)))
}

// aggregated is what a window-based controller does with the sums of
// RFC 9002 Appendix B; the per-packet calls below feed it.
type aggregated interface {
	OnAck(now time.Duration, ackedBytes int, largestSentTime time.Duration, rtt *RTTStats)
	OnPacketsLost(now time.Duration, lostBytes int, largestLostSentTime time.Duration, persistentCongestion bool)
	OnECNCE(now time.Duration, sentTime time.Duration)
}

// ackSum collects one ACK frame's OnAcked calls for a window-based
// controller.
type ackSum struct {
	bytes       int
	largestSent time.Duration
	// largestAckedSent is the send time of the newest packet ever
	// acknowledged, the sent_time that an ECN-CE increase refers to
	// (RFC 9002 Appendix B.7).
	largestAckedSent time.Duration
}

// OnSent implements PacketController.
func (w *window) OnSent(now time.Duration, bytes int, p *PacketState) {
	*p = PacketState{sendTime: now, size: packetSize(bytes), flags: packetSent}
	w.OnPacketSent(now, int(p.size), true)
}

// OnAcked implements PacketController: the packet's bytes wait in the sum
// for OnAckEnd, which applies them as one OnAck.
func (w *window) OnAcked(_ time.Duration, p *PacketState) {
	if !p.inFlight() {
		// Acknowledged twice, or after it was declared lost: a window
		// controller does not count a packet twice (the spurious loss is
		// loss recovery's to undo).
		p.flags |= packetAcked
		return
	}
	p.flags |= packetAcked
	w.ack.bytes += int(p.size)
	w.ack.largestSent = max(w.ack.largestSent, p.sendTime)
	w.ack.largestAckedSent = max(w.ack.largestAckedSent, p.sendTime)
}

// lostPacket applies one OnLost: RFC 9002 Appendix B.8 per packet, which
// reacts to the whole batch as OnPacketsLost would, since only the first
// packet sent after the recovery period started begins a new one.
func (w *window) lostPacket(c aggregated, now time.Duration, p *PacketState) {
	if !p.inFlight() {
		return
	}
	p.flags |= packetLost
	c.OnPacketsLost(now, int(p.size), p.sendTime, false)
}

// ackEnd applies the sums of one ACK frame: ECN first, then the
// acknowledged bytes, in the order of RFC 9002 Appendix A.7.
func (w *window) ackEnd(c aggregated, now time.Duration, rtt *RTTStats, newCE int) {
	if newCE > 0 {
		c.OnECNCE(now, w.ack.largestAckedSent)
	}
	sum := w.ack
	w.ack.bytes, w.ack.largestSent = 0, 0
	if sum.bytes > 0 {
		c.OnAck(now, sum.bytes, sum.largestSent, rtt)
	}
}

// OnApplicationLimited implements PacketController. The window-based
// controllers judge whether the window is used from bytes in flight at
// each ACK (windowUsed), so the report adds nothing for them.
func (w *window) OnApplicationLimited() {}

// OnLost implements PacketController.
func (c *NewRenoController) OnLost(now time.Duration, p *PacketState) { c.lostPacket(c, now, p) }

// OnAckEnd implements PacketController.
func (c *NewRenoController) OnAckEnd(now time.Duration, rtt *RTTStats, newCE int) {
	c.ackEnd(c, now, rtt, newCE)
}

// OnPersistentCongestion implements PacketController.
func (c *NewRenoController) OnPersistentCongestion(time.Duration) { c.persistentCongestion() }

// OnLost implements PacketController.
func (c *CubicController) OnLost(now time.Duration, p *PacketState) { c.lostPacket(c, now, p) }

// OnAckEnd implements PacketController.
func (c *CubicController) OnAckEnd(now time.Duration, rtt *RTTStats, newCE int) {
	c.ackEnd(c, now, rtt, newCE)
}

// OnPersistentCongestion implements PacketController.
func (c *CubicController) OnPersistentCongestion(time.Duration) { c.persistentCongestion() }
