package recovery

import (
	"math"
	"time"
)

// maxTime stands for "no deadline" in sums that would overflow.
const maxTime = time.Duration(math.MaxInt64)

// LossDetectionDeadline is when the loss detection timer fires (RFC 9002
// §6.2 and Appendix A.8), and false when no timer is set. The deadline may
// be in the past: the connection then calls OnLossDetectionTimeout at once.
func (r *Recovery) LossDetectionDeadline() (time.Duration, bool) {
	r.settleTimer()
	return r.timer, r.timerSet
}

// settleTimer sets the loss detection timer if packets sent since it was
// last set left it stale.
func (r *Recovery) settleTimer() {
	if r.timerStale {
		r.setLossDetectionTimer()
	}
}

// setLossDetectionTimer is SetLossDetectionTimer of RFC 9002 Appendix A.8.
func (r *Recovery) setLossDetectionTimer() {
	r.timerStale = false
	if t, _, ok := r.lossTimeAndSpace(); ok {
		// Time threshold loss detection (RFC 9002 §6.1.2); §6.2.1: no
		// PTO timer while it is set.
		r.timer, r.timerSet = t, true
		return
	}
	if r.amplificationBlocked {
		// RFC 9002 §6.2.2.1: the server's timer is not set if nothing
		// can be sent.
		r.timerSet = false
		return
	}
	if !r.anyAckElicitingInFlight() && r.peerCompletedAddressValidation() {
		// Nothing to detect lost. A client unsure that the server
		// validated its address keeps the timer armed, lest both
		// sides wait on each other (RFC 9002 §6.2.2.1).
		r.timerSet = false
		return
	}
	r.timer, _, _, r.timerSet = r.ptoTimeAndSpace()
}

// lossTimeAndSpace is GetLossTimeAndSpace: the earliest loss_time.
func (r *Recovery) lossTimeAndSpace() (time.Duration, Space, bool) {
	var t time.Duration
	var space Space
	found := false
	for sp := SpaceInitial; sp < numSpaces; sp++ {
		s := r.space(sp)
		if s.hasLossTime && (!found || s.lossTime < t) {
			t, space, found = s.lossTime, sp, true
		}
	}
	return t, space, found
}

func (r *Recovery) anyAckElicitingInFlight() bool {
	for sp := SpaceInitial; sp < numSpaces; sp++ {
		if r.space(sp).ackElicitingInFlight > 0 {
			return true
		}
	}
	return false
}

// backoff is d * 2^pto_count, saturating.
func (r *Recovery) backoff(d time.Duration) time.Duration {
	shift := min(r.ptoCount, 62)
	if d > maxTime>>shift {
		return maxTime
	}
	return d << shift
}

func addSaturating(t, d time.Duration) time.Duration {
	if d > 0 && t > maxTime-d {
		return maxTime
	}
	return t + d
}

// ptoTimeAndSpace is GetPtoTimeAndSpace of RFC 9002 Appendix A.8: the PTO
// deadline and the space it probes, and whether it is the client's
// anti-deadlock PTO; false when no PTO may be armed (only Application Data
// in flight before the handshake is confirmed).
//
// One deviation: the pseudocode arms the anti-deadlock PTO only when no
// ack-eliciting packet is in flight at all, so a client with only 0-RTT
// packets in flight would have no timer. RFC 9002 §6.2.2.1 says the client
// MUST set the timer until it knows its address is validated, so it gets
// the anti-deadlock PTO then too.
func (r *Recovery) ptoTimeAndSpace() (timeout time.Duration, space Space, antiDeadlock, ok bool) {
	// RFC 9002 §6.2.1: max_ack_delay counts only for Application Data.
	duration := r.backoff(r.rtt.PTO(false))
	for sp := SpaceInitial; sp < numSpaces; sp++ {
		s := r.space(sp)
		if s.ackElicitingInFlight == 0 {
			continue
		}
		d := duration
		if sp == SpaceAppData {
			// RFC 9002 §6.2.1: no PTO for Application Data until
			// the handshake is confirmed.
			if !r.handshakeConfirmed {
				break
			}
			d = r.backoff(r.rtt.PTO(true))
		}
		t := addSaturating(s.timeOfLastAckEliciting, d)
		if !ok || t < timeout {
			timeout, space, ok = t, sp, true
		}
	}
	if ok || r.peerCompletedAddressValidation() {
		return timeout, space, false, ok
	}
	// Anti-deadlock PTO, from the current time (RFC 9002 §6.2.2.1): a
	// Handshake packet proves address ownership, a padded Initial earns
	// amplification credit.
	space = SpaceInitial
	if r.hasHandshakeKeys {
		space = SpaceHandshake
	}
	return addSaturating(r.now, duration), space, true, true
}

// OnLossDetectionTimeout handles the expiry of the loss detection timer at
// now (RFC 9002 Appendix A.9). Either it declares packets lost by the time
// threshold (into res; probes is 0), or a PTO fired: the
// connection must now send probes ack-eliciting packets in probeSpace,
// regardless of the congestion window (RFC 9002 §7.5), with new data if it
// has some, else retransmitted data, else a PING (§6.2.4). A normal PTO asks
// for two probes, so that one lost datagram does not cost another PTO; the
// client's anti-deadlock probe (§6.2.2.1: its address not yet known to be
// validated, and no Initial or Handshake packet in flight) is one: a Handshake packet if it has Handshake keys, else an
// Initial packet in a datagram padded to at least 1200 bytes. The
// connection SHOULD also send ack-eliciting packets of other spaces with
// data in flight (§6.2.4). A call before the deadline, or with no timer
// set, does nothing.
func (r *Recovery) OnLossDetectionTimeout(now time.Duration, res *Resolved) (probeSpace Space, probes int) {
	res.reset(SpaceInitial)
	r.observe(now)
	r.settleTimer()
	if !r.timerSet || now < r.timer {
		return SpaceInitial, 0
	}
	if _, space, ok := r.lossTimeAndSpace(); ok {
		res.Space = space
		r.detectAndRemoveLostPackets(space, now, false, res)
		r.space(space).sent.popResolved()
		r.setLossDetectionTimer()
		return space, 0
	}
	_, probeSpace, antiDeadlock, ok := r.ptoTimeAndSpace()
	if !ok {
		return SpaceInitial, 0
	}
	probes = 2
	if antiDeadlock {
		probes = 1
	}
	// RFC 9002 §6.2.1: each expiry doubles the PTO period.
	r.ptoCount++
	r.stats.PTOs++
	r.onECNPTO()
	r.setLossDetectionTimer()
	return probeSpace, probes
}

// DiscardSpace drops the state of a packet number space whose keys were
// discarded (RFC 9002 §6.4, Appendix A.11): its packets leave bytes in
// flight without a congestion signal and without being reported (the
// connection drops their frames itself), its timers are reset and so is
// pto_count, since discarding keys shows progress (§6.2.2). ACKs in the
// space are ignored afterwards.
func (r *Recovery) DiscardSpace(space Space) {
	s := r.space(space)
	if s.discarded {
		return
	}
	if s.bytesInFlight > 0 {
		r.cc.OnPacketsDiscarded(s.bytesInFlight)
	}
	// The space sends nothing more: all its state can go.
	r.spaces[space] = nil
	r.ptoCount = 0
	r.setLossDetectionTimer()
}

// RetransmitAll declares every packet of space still awaiting an
// acknowledgment lost, into res, and removes it from bytes in
// flight without a congestion signal. It is for a Retry (RFC 9002 §6.3: the
// Initial packets were not processed and must be sent again) and for 0-RTT
// rejected by the server (RFC 9001 §4.6.2: the 0-RTT packets of the
// Application Data space were not processed). The space stays usable and
// its packet numbers keep counting.
func (r *Recovery) RetransmitAll(space Space, res *Resolved) {
	res.reset(space)
	s := r.space(space)
	if s.discarded {
		return
	}
	q := &s.sent
	removed := 0
	for pn := q.base; pn < q.nextPN(); pn++ {
		p := q.at(pn)
		if p.state != stateOutstanding {
			continue
		}
		p.state = stateLost
		if p.InFlight {
			removed += p.Size
			r.removeFromFlight(s, p)
		}
		res.Lost = append(res.Lost, p)
	}
	q.popResolved()
	if removed > 0 {
		r.cc.OnPacketsDiscarded(removed)
	}
	s.hasLossTime = false
	r.setLossDetectionTimer()
}
