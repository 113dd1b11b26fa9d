package congestion

import "time"

// rateSampler is the delivery rate sampling of draft-ietf-ccwg-bbr §4.1:
// the per-connection (C) state it keeps, and the rate sample (RS) of the
// ACK frame being processed. The per-packet (P) state lives in the
// caller's PacketState.
type rateSampler struct {
	delivered     int64         // C.delivered
	deliveredTime time.Duration // C.delivered_time
	firstSendTime time.Duration // C.first_send_time
	// lost is C.lost, and also counts ECN-CE marks as a max_datagram_size
	// each: BBR takes them as congestion signals like losses (see
	// BBRController.OnAckEnd).
	lost int64
	// appLimited is C.app_limited: the C.delivered value past which the
	// application-limited bubble has left the pipe, 0 if there is none.
	appLimited int64
	nextID     uint64 // the next P.packet_id
	rs         rateSample
}

// rateSample is RS (draft-ietf-ccwg-bbr §2.3, §4.1.2.1.3), built by the
// OnAcked calls of one ACK frame and finished by generate.
type rateSample struct {
	hasData        bool
	priorDelivered int64         // RS.prior_delivered
	priorTime      time.Duration // RS.prior_time
	isAppLimited   bool          // RS.is_app_limited
	sendElapsed    time.Duration // RS.send_elapsed
	ackElapsed     time.Duration // RS.ack_elapsed
	lastAckedID    uint64        // RS.last_acked_packet_id
	newestSendTime time.Duration // P.send_time of that packet
	txInFlight     int64         // RS.tx_in_flight
	priorLost      int64         // P.lost of that packet
	newlyAcked     int64         // RS.newly_acked

	// Set by generate:
	interval     time.Duration // RS.interval
	delivered    int64         // RS.delivered
	deliveryRate uint64        // RS.delivery_rate in bytes per second; 0 if none
	lost         int64         // RS.lost
	rtt          time.Duration // RS.rtt; negative if this ACK gave none
}

// onSent fills p for a packet of size bytes sent at now, with inFlight
// bytes in flight before it and after it (OnPacketSent of §4.1.2.2).
func (s *rateSampler) onSent(now time.Duration, p *PacketState, size int32, before, after int) {
	if before == 0 {
		// Nothing in flight: the sampling interval starts now, not at the
		// last ACK.
		s.firstSendTime = now
		s.deliveredTime = now
	}
	flags := packetSent
	if s.appLimited != 0 {
		flags |= packetAppLimited
	}
	*p = PacketState{
		sendTime:      now,
		deliveredTime: s.deliveredTime,
		firstSendTime: s.firstSendTime,
		delivered:     s.delivered,
		lost:          s.lost,
		txInFlight:    int64(after),
		id:            s.nextID,
		size:          size,
		flags:         flags,
	}
	s.nextID++
}

// onAcked is UpdateRateSample (§4.1.2.3) for one newly acknowledged
// packet. It reports whether the packet was new to the sampler.
func (s *rateSampler) onAcked(now time.Duration, p *PacketState) bool {
	if p.flags&(packetSent|packetAcked) != packetSent {
		return false
	}
	wasLost := p.flags&packetLost != 0
	p.flags |= packetAcked
	s.delivered += int64(p.size)
	s.deliveredTime = now
	if wasLost {
		// Delivered after all, but its snapshot is a round trip or more
		// old: it counts towards C.delivered and nothing else.
		return true
	}
	rs := &s.rs
	rs.newlyAcked += int64(p.size)
	newest := p.sendTime > s.firstSendTime ||
		(p.sendTime == s.firstSendTime && p.id > rs.lastAckedID)
	if !rs.hasData || newest {
		rs.hasData = true
		rs.priorDelivered = p.delivered
		rs.priorTime = p.deliveredTime
		rs.isAppLimited = p.flags&packetAppLimited != 0
		rs.sendElapsed = p.sendTime - p.firstSendTime
		rs.ackElapsed = s.deliveredTime - p.deliveredTime
		rs.lastAckedID = p.id
		rs.newestSendTime = p.sendTime
		rs.txInFlight = p.txInFlight
		rs.priorLost = p.lost
		s.firstSendTime = p.sendTime
	}
	return true
}

// generate is GenerateRateSample (§4.1.2.3): it finishes the ACK frame's
// sample. minRTT is C.min_rtt, the connection's lifetime minimum; a sample
// over a shorter interval is no reliable rate (delivery_rate 0).
func (s *rateSampler) generate(minRTT time.Duration) *rateSample {
	// The bubble is gone once everything in flight when it started has
	// been delivered.
	if s.appLimited != 0 && s.delivered > s.appLimited {
		s.appLimited = 0
	}
	rs := &s.rs
	rs.deliveryRate = 0
	if !rs.hasData {
		return rs
	}
	rs.interval = max(rs.sendElapsed, rs.ackElapsed)
	rs.delivered = s.delivered - rs.priorDelivered
	rs.lost = s.lost - rs.priorLost
	if rs.interval < minRTT || rs.interval <= 0 {
		return rs
	}
	rs.deliveryRate = mulDiv(uint64(max(rs.delivered, 0)), uint64(time.Second), uint64(rs.interval))
	return rs
}

// endAck forgets the ACK frame's sample.
func (s *rateSampler) endAck() { s.rs = rateSample{} }

// markAppLimited is MarkConnectionAppLimited (§4.1.2.4).
func (s *rateSampler) markAppLimited(inFlight int) {
	s.appLimited = max(s.delivered+int64(inFlight), 1)
}
