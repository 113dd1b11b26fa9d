package recovery

import (
	"time"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

// ackResult sums up the packets one ACK frame newly acknowledged.
type ackResult struct {
	count        int
	ect          int  // newly acknowledged packets marked ECT(0)
	ackEliciting bool // IncludesAckEliciting(newly_acked_packets)
	largestPN    uint64
	largestSent  time.Duration
}

// OnAckReceived processes an ACK frame received at now in space (RFC 9002
// §6 and Appendix A.7). ackDelay is the frame's ACK Delay decoded with the
// peer's ack_delay_exponent; RTTStats limits it to max_ack_delay once the
// handshake is confirmed (RFC 9002 §5.3). res receives the packets newly
// acknowledged, then those the ACK makes lost.
//
// An ACK of a packet number that was never sent is a PROTOCOL_VIOLATION
// (RFC 9000 §13.1); the error is returned before any state changes. An ACK
// in a discarded space is ignored.
func (r *Recovery) OnAckReceived(space Space, ack *wire.AckFrame, ackDelay, now time.Duration, res *Resolved) error {
	res.reset(space)
	r.observe(now)
	s := r.space(space)
	if len(ack.Ranges) == 0 || s.discarded {
		return nil
	}
	largest := ack.Ranges[0].Largest
	if largest < 0 || uint64(largest) >= s.sent.nextPN() {
		return &wire.TransportError{
			Code:      wire.ProtocolViolation,
			FrameType: ack.Type(),
			Reason:    "ACK of a packet number not yet sent",
		}
	}
	largestAcked := uint64(largest)
	largestBefore, hadLargest := s.largestAcked, s.hasLargestAcked
	advanced := !s.hasLargestAcked || largestAcked > s.largestAcked
	if advanced {
		s.largestAcked = largestAcked
		s.hasLargestAcked = true
	}
	validationNews := false
	if space == SpaceHandshake && !r.handshakeAckReceived {
		// RFC 9002 Appendix A.8: a client knows the server validated
		// its address once a Handshake packet of it is acknowledged.
		r.handshakeAckReceived = true
		validationNews = true
	}

	sum := r.detectAndRemoveAckedPackets(space, ack, res)
	if sum.count > 0 {
		r.reorder.onAckedSentAt(sum.largestSent)
	}
	// Before loss detection, so that this frame already meets the
	// thresholds its late acknowledgments raise.
	spurious := r.detectSpuriousLosses(space, ack, largestBefore, hadLargest, now)
	if sum.count == 0 {
		// RFC 9002 Appendix A.7: nothing to do without newly acked
		// packets, except that the anti-deadlock timer may no longer
		// be needed, and that raised thresholds move loss_time.
		if spurious {
			r.detectAndRemoveLostPackets(space, now, false, res)
			s.sent.popResolved()
			// The late acknowledgments were reported with OnAcked.
			r.cc.OnAckEnd(now, r.rtt, 0)
		}
		if validationNews || spurious {
			r.setLossDetectionTimer()
		}
		return nil
	}
	// RFC 9002 §5.1: an RTT sample only when the largest acknowledged is
	// newly acknowledged and at least one newly acknowledged packet is
	// ack-eliciting.
	if sum.largestPN == largestAcked && sum.ackEliciting && !r.onOldPath(space, sum.largestPN) {
		if space == SpaceInitial {
			// RFC 9002 §5.3: the peer does not delay Initial ACKs
			// (RFC 9000 §13.2.1), so their ACK Delay is ignored.
			ackDelay = 0
		}
		r.rtt.UpdateRTT(now, now-sum.largestSent, ackDelay, r.handshakeConfirmed)
	}

	// The controller hears of each newly acknowledged packet once the
	// RTT sample is taken (RFC 9002 Appendix B.5 OnPacketsAcked, summed
	// up at OnAckEnd by the window-based controllers).
	// Packets sent on a path the connection left were the old path's
	// controller's (RFC 9000 §9.4): the current one never counted them.
	for _, p := range res.Acked {
		if p.InFlight && !r.onOldPath(space, p.PN) {
			r.cc.OnAcked(now, &p.cc)
		}
	}

	// RFC 9000 §13.4.2.1: the counts are used only once validated.
	newCE := 0
	if r.validateECN(s, ack, sum.ect, advanced) {
		newCE = r.processECN(s, ack)
	}

	r.detectAndRemoveLostPackets(space, now, true, res)
	r.cc.OnAckEnd(now, r.rtt, newCE)

	// RFC 9002 §6.2.1: the PTO backoff is reset on an acknowledgment,
	// except at a client unsure that the server validated its address.
	if r.peerCompletedAddressValidation() {
		r.ptoCount = 0
	}
	s.sent.popResolved()
	r.setLossDetectionTimer()
	return nil
}

// detectAndRemoveAckedPackets marks the packets ack newly acknowledges and
// adds them to res, lowest packet number first.
func (r *Recovery) detectAndRemoveAckedPackets(space Space, ack *wire.AckFrame, res *Resolved) ackResult {
	s := r.space(space)
	q := &s.sent
	var sum ackResult
	if q.n == 0 {
		return sum
	}
	base := wire.PacketNumber(q.base)
	last := wire.PacketNumber(q.nextPN() - 1)
	// Ranges come highest first; the ones wholly below the ring hold
	// only packets already resolved. Find where they start, then walk
	// the others upwards.
	k := 0
	for k < len(ack.Ranges) && ack.Ranges[k].Largest >= base {
		k++
	}
	for i := k - 1; i >= 0; i-- {
		lo := max(ack.Ranges[i].Smallest, base)
		hi := min(ack.Ranges[i].Largest, last)
		for pn := lo; pn <= hi; pn++ {
			p := q.at(uint64(pn))
			if p.state != stateOutstanding {
				continue
			}
			p.state = stateAcked
			sum.count++
			sum.largestPN = p.PN
			sum.largestSent = p.TimeSent
			if p.AckEliciting {
				sum.ackEliciting = true
			}
			if p.ECT {
				sum.ect++
			}
			if p.InFlight {
				r.removeFromFlight(s, p)
			}
			r.stats.PacketsAcked++
			res.Acked = append(res.Acked, p)
		}
	}
	return sum
}

func (r *Recovery) removeFromFlight(s *spaceState, p *SentPacket) {
	s.bytesInFlight -= p.Size
	if p.AckEliciting {
		s.ackElicitingInFlight--
	}
}

// processECN returns how much the peer's ECN-CE count rose, in packets,
// for the congestion controller's OnAckEnd (RFC 9002 §7.1, Appendix B.7
// ProcessECN).
func (r *Recovery) processECN(s *spaceState, ack *wire.AckFrame) int {
	if ack.ECN.CE <= s.ecnCE {
		return 0
	}
	// validateECN bounds the counts by the packets sent marked.
	newCE := int(min(ack.ECN.CE-s.ecnCE, 1<<30))
	s.ecnCE = ack.ECN.CE
	return newCE
}

// detectAndRemoveLostPackets is DetectAndRemoveLostPackets of RFC 9002
// Appendix A.10: packets at or below the largest acknowledged are lost when
// kPacketThreshold packets after them were acknowledged (§6.1.1) or when
// they were sent more than kTimeThreshold * max(smoothed_rtt, latest_rtt)
// ago (§6.1.2); for the others it sets loss_time. Both thresholds adapt to
// the reordering seen (reorder.go). The in-flight packets declared lost are
// remembered, to notice a later acknowledgment of one. onAck asks for the
// persistent congestion verdict, which RFC 9002 §7.6.2 establishes on
// receipt of an acknowledgment. The packets declared lost go to res.
func (r *Recovery) detectAndRemoveLostPackets(space Space, now time.Duration, onAck bool, res *Resolved) {
	s := r.space(space)
	s.hasLossTime = false
	if !s.hasLargestAcked {
		return
	}
	q := &s.sent
	lossDelay := r.lossDelay()
	lostSendTime := now - lossDelay
	threshold := r.reorder.threshold()

	pc := persistentCongestionCheck{
		enabled:     onAck && r.rtt.HasSample(),
		firstSample: r.rtt.FirstSampleTime(),
		duration:    r.rtt.PersistentCongestionDuration(),
	}
	var lostPackets, discardedBytes int
	var largestLostSent time.Duration
	end := min(s.largestAcked+1, q.nextPN())
	for pn := q.base; pn < end; pn++ {
		p := q.at(pn)
		switch p.state {
		case stateAcked:
			pc.acked()
			continue
		case stateLost:
			continue
		}
		byTime := p.TimeSent <= lostSendTime
		if !byTime && s.largestAcked < p.PN+threshold {
			t := p.TimeSent + lossDelay
			if !s.hasLossTime || t < s.lossTime {
				s.lossTime, s.hasLossTime = t, true
			}
			continue
		}
		p.state = stateLost
		p.LostBy = LostByPacketThreshold
		if byTime {
			p.LostBy = LostByTimeThreshold
		}
		r.stats.PacketsLost++
		if p.ECT && !r.onOldPath(space, p.PN) {
			r.onECTLost()
		}
		switch {
		case p.InFlight && r.onOldPath(space, p.PN):
			// RFC 9000 §9.4: sent on an earlier path, whose controller
			// no longer counts it; no signal for the current one.
			r.removeFromFlight(s, p)
		case p.InFlight && p.PMTUProbe:
			// RFC 8899 §3: out of flight, but no congestion signal.
			r.removeFromFlight(s, p)
			discardedBytes += p.Size
		case p.InFlight:
			largestLostSent = max(largestLostSent, p.TimeSent)
			r.stats.BytesLost += uint64(p.Size)
			r.removeFromFlight(s, p)
			if p.AckEliciting {
				pc.lost(p.TimeSent)
			}
			// RFC 9002 Appendix B.8 OnPacketsLost, per packet.
			r.cc.OnLost(now, &p.cc)
			s.lost.add(lostRecord{pn: p.PN, timeSent: p.TimeSent, timeLost: now, largestAcked: s.largestAcked, cc: p.cc})
			lostPackets++
		}
		res.Lost = append(res.Lost, p)
	}
	if discardedBytes > 0 {
		r.cc.OnPacketsDiscarded(discardedBytes)
	}
	if lostPackets == 0 {
		return
	}
	s.lost.setEpisode(lostPackets, r.onLossEpisode(now, largestLostSent, lostPackets, pc.established))
	if pc.established {
		r.stats.PersistentCongestion++
		// RFC 9002 §5.2: after persistent congestion, min_rtt SHOULD be
		// set to the latest sample.
		r.rtt.OnPersistentCongestion()
		// RFC 9002 §7.6.2, after the losses that establish it.
		r.cc.OnPersistentCongestion(now)
	}
}

// persistentCongestionCheck establishes persistent congestion (RFC 9002
// §7.6.2) while loss detection walks a space's packets in send order: two
// ack-eliciting packets declared lost, sent after the first RTT sample,
// more than the persistent congestion duration apart, with no packet
// acknowledged in between. It looks at one packet number space, as §7.6.2
// allows.
type persistentCongestionCheck struct {
	enabled     bool
	firstSample time.Duration
	duration    time.Duration
	// start is the send time of the first packet of the current run of
	// lost packets, valid when inRun.
	start       time.Duration
	inRun       bool
	established bool
}

// acked breaks the current run: an acknowledged packet sent between two
// lost ones shows the path was not congested all along.
func (c *persistentCongestionCheck) acked() { c.inRun = false }

// lost adds an ack-eliciting in-flight packet declared lost.
func (c *persistentCongestionCheck) lost(sent time.Duration) {
	// RFC 9002 §7.6.2: only packets sent after an RTT sample existed.
	if !c.enabled || sent <= c.firstSample {
		return
	}
	if !c.inRun {
		c.start, c.inRun = sent, true
		return
	}
	if sent-c.start > c.duration {
		c.established = true
	}
}
