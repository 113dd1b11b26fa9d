package recovery

import (
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// RFC 9002 Appendix A.2 constants (kGranularity and kInitialRtt live in
// package congestion, next to the RTT estimator).
const (
	// packetThreshold is kPacketThreshold (RFC 9002 §6.1.1).
	packetThreshold = 3
	// timeThresholdNum/timeThresholdDen is kTimeThreshold, 9/8
	// (RFC 9002 §6.1.2).
	timeThresholdNum = 9
	timeThresholdDen = 8
	// maxNonInFlightBacklog bounds the packets a space keeps when the
	// oldest of them only carried ACK frames: a peer that never
	// acknowledges (nothing obliges it to while we send only ACKs) must
	// not make the ring grow without end. Past it the oldest such packet
	// is declared lost, which costs nothing: it was not in flight.
	maxNonInFlightBacklog = 1 << 12
)

// Resolved is what one call to OnAckReceived, OnLossDetectionTimeout or
// RetransmitAll made of the sent packets of Space: the packets newly
// acknowledged, in ascending packet number order, and those declared lost.
// The caller owns it and passes it to each call, which empties it first;
// the slices keep their storage, so a connection that reuses one Resolved
// allocates nothing per ACK frame. The *SentPacket entries point into the
// space's ring: they stay valid until the next NextPacket or OnPacketSent
// of that space, and the caller acts on their Frames before sending again.
type Resolved struct {
	Space Space
	Acked []*SentPacket
	Lost  []*SentPacket
}

// reset empties r for a call about space.
func (r *Resolved) reset(space Space) {
	clear(r.Acked)
	clear(r.Lost)
	r.Space, r.Acked, r.Lost = space, r.Acked[:0], r.Lost[:0]
}

// Stats counts what loss recovery saw over the connection's life.
type Stats struct {
	PacketsSent          uint64
	BytesSent            uint64
	PacketsAcked         uint64
	PacketsLost          uint64
	BytesLost            uint64 // in-flight bytes declared lost
	PTOs                 uint64 // probe timeouts that fired
	PersistentCongestion uint64 // times persistent congestion was established
	// SpuriousLosses counts packets declared lost that the peer
	// acknowledged later (RFC 9002 §6.1): reordering, not loss.
	SpuriousLosses uint64
	// SpuriousCongestionEvents counts loss episodes whose every loss was
	// spurious, for which the controller was asked to undo its reduction
	// (RFC 9438 §4.9.2).
	SpuriousCongestionEvents uint64
	// MaxReorderDistance is the largest reordering distance a spurious
	// loss revealed, in packets, and MaxReorderDelay the longest time from
	// sending such a packet to its late acknowledgment.
	MaxReorderDistance uint64
	MaxReorderDelay    time.Duration
	// PacketThreshold and TimeThreshold are the loss detection thresholds
	// in force (RFC 9002 §6.1.1, §6.1.2), as adapted to the reordering
	// seen; TimeThreshold is loss_delay at the current RTT estimate.
	PacketThreshold uint64
	TimeThreshold   time.Duration
}

// spaceState is the per packet number space state of RFC 9002 Appendix A.3.
type spaceState struct {
	sent sentRing
	// lost remembers recently lost packets, to notice spurious losses.
	lost lostHistory
	// largestAcked is largest_acked_packet; valid when hasLargestAcked.
	largestAcked uint64
	// lossTime is loss_time; valid when hasLossTime.
	lossTime time.Duration
	// timeOfLastAckEliciting is time_of_last_ack_eliciting_packet.
	timeOfLastAckEliciting time.Duration
	// ackElicitingInFlight counts outstanding ack-eliciting packets, to
	// answer "no ack-eliciting packets in flight" in O(1).
	ackElicitingInFlight int
	// bytesInFlight is this space's share of bytes_in_flight, removed
	// when the space is discarded (RFC 9002 Appendix A.11).
	bytesInFlight int
	// ecnCE is ecn_ce_counters: the largest ECN-CE count the peer
	// reported in this space (RFC 9002 Appendix B.7).
	ecnCE uint64
	// ecnValidated holds the counts of the last ACK frame that passed ECN
	// validation, and ectSent the packets sent with ECT(0)
	// (RFC 9000 §13.4.2.1).
	ecnValidated wire.ECNCounts
	ectSent      uint64

	hasLargestAcked bool
	hasLossTime     bool
	discarded       bool
}

// Recovery is the loss detection of one QUIC connection (RFC 9002 §6 and
// Appendix A): it keeps the packets sent in each packet number space,
// processes ACK frames, declares packets lost, drives the RTT estimator and
// the congestion controller, and computes the loss detection timer. It is
// sans-I/O: every call carries the time, and the caller arms a timer for
// LossDetectionDeadline. The zero value is unusable; call Init.
type Recovery struct {
	rtt *congestion.RTTStats
	// cc is told about each in-flight packet, as package congestion's
	// "The per-packet calls" lays down.
	cc congestion.PacketController

	// spaces are made at Init; a discarded space's state goes
	// (discardedSpace stands for it), so that an idle connection keeps
	// only the Application Data one.
	spaces [numSpaces]*spaceState
	// ptoCount is pto_count, the exponent of the PTO backoff.
	ptoCount int
	ecn      ecnValidation
	reorder  reorderState

	// Facts the connection reports (RFC 9002 Appendix A.8).
	peerAddressValidated bool
	handshakeAckReceived bool
	handshakeConfirmed   bool
	hasHandshakeKeys     bool
	amplificationBlocked bool
	// timerSet: the loss detection timer is armed, for timer.
	timerSet bool
	// timerStale: an ack-eliciting packet was sent since the timer was
	// last set, and setting it again waits until it is read
	// (settleTimer): a burst of packets sets it once, not per packet.
	timerStale bool

	// pathStart is the first Application Data packet number sent on the
	// current path (path.go): packets below it were sent on an earlier
	// path and no longer feed its controller or RTT estimate.
	pathStart uint64

	// now is the latest time any call reported. The anti-deadlock PTO
	// starts from the time the timer is set (RFC 9002 Appendix A.8), also
	// when a setter without a time argument rearms it.
	now time.Duration

	timer time.Duration // the loss detection timer's deadline, when timerSet

	stats Stats
}

// Init readies r for a new connection, with the path's RTT estimator and
// congestion controller.
func (r *Recovery) Init(rtt *congestion.RTTStats, cc congestion.PacketController) {
	*r = Recovery{rtt: rtt, cc: cc}
	for sp := range r.spaces {
		r.spaces[sp] = new(spaceState)
	}
}

// discardedSpace is the state of every discarded space: read only.
var discardedSpace = spaceState{discarded: true}

// space returns the state of sp, discardedSpace once it is discarded.
// What may write to it checks discarded first.
func (r *Recovery) space(sp Space) *spaceState {
	if s := r.spaces[sp]; s != nil {
		return s
	}
	return &discardedSpace
}

// observe records the latest time seen.
func (r *Recovery) observe(now time.Duration) {
	r.now = max(r.now, now)
}

// NextPacket returns the slot for the next packet of space, with PN set to
// the space's next packet number and Frames emptied, to fill while the
// packet is built. The connection then calls OnPacketSent with it, or
// abandons it if it built nothing: the packet number is consumed only by
// OnPacketSent. The slot stays valid until OnPacketSent or the next
// NextPacket for the same space, so that packets of several spaces can be
// built side by side for one datagram (RFC 9000 §12.2).
func (r *Recovery) NextPacket(space Space) *SentPacket {
	s := r.space(space)
	if s.discarded {
		// Nothing is sent in a discarded space (OnPacketSent ignores
		// it): a throwaway slot keeps discardedSpace untouched.
		return &SentPacket{}
	}
	q := &s.sent
	p := q.nextSlot()
	frames := p.Frames[:0]
	*p = SentPacket{PN: q.nextPN(), Frames: frames}
	return p
}

// OnPacketSent records the packet built in the slot NextPacket returned
// (RFC 9002 Appendix A.5), sent at now. A packet passed from elsewhere is
// copied into the slot. Packets of a discarded space are ignored.
func (r *Recovery) OnPacketSent(space Space, p *SentPacket, now time.Duration) {
	r.observe(now)
	s := r.space(space)
	if s.discarded {
		return
	}
	slot := s.sent.nextSlot()
	if p != slot {
		frames := append(slot.Frames[:0], p.Frames...)
		*slot = *p
		slot.Frames = frames
	}
	if slot.AckEliciting {
		// RFC 9002 §2: ack-eliciting packets are always in flight.
		slot.InFlight = true
	}
	slot.PN = s.sent.nextPN()
	slot.TimeSent = now
	slot.state = stateOutstanding
	slot.Size = max(slot.Size, 0)
	s.sent.push()
	if slot.ECT {
		s.ectSent++
		r.onECTSent()
	}
	r.stats.PacketsSent++
	r.stats.BytesSent += uint64(slot.Size)
	if slot.InFlight {
		if slot.AckEliciting {
			s.timeOfLastAckEliciting = now
			s.ackElicitingInFlight++
		}
		s.bytesInFlight += slot.Size
		r.cc.OnSent(now, slot.Size, &slot.cc)
		if slot.AckEliciting {
			// With an ack-eliciting packet in flight the timer depends
			// only on state whose other changes set it (the
			// anti-deadlock PTO, which counts from r.now, does not
			// apply): it can be set when read. The one change made
			// behind recovery's back, the shared RTT estimate reset or
			// restored on migration, counts from the next read rather
			// than from the next packet sent.
			r.timerStale = true
		} else {
			r.setLossDetectionTimer()
		}
	}
	r.limitBacklog(space)
}

// limitBacklog declares lost the oldest packets of a space that only held
// ACK frames while the space keeps more than maxNonInFlightBacklog packets.
// Nobody needs to hear of it: a lost ACK frame is never sent again (RFC
// 9000 §13.3), a newer one carries what it said.
func (r *Recovery) limitBacklog(space Space) {
	q := &r.space(space).sent
	for q.n > maxNonInFlightBacklog {
		p := q.front()
		if p.state == stateOutstanding {
			if p.InFlight {
				return
			}
			p.state = stateLost
			p.LostBy = LostByRetransmitAll
			r.stats.PacketsLost++
		}
		q.popResolved()
	}
}

// SetHandshakeState reports the facts the loss detection timer depends on
// (RFC 9002 Appendix A.8), and rearms it:
//   - peerAddressValidated is PeerCompletedAddressValidation(): always true
//     at a server (clients validate the server's address implicitly); at a
//     client, true once it knows the server validated its address.
//     Recovery itself notes an ACK received in the Handshake space, which
//     proves it, so a client may pass false until the handshake is
//     confirmed;
//   - handshakeConfirmed: the handshake is confirmed (RFC 9001 §4.1.2);
//     until then no PTO is armed for Application Data (RFC 9002 §6.2.1);
//   - hasHandshakeKeys: Handshake keys are available, which decides the
//     space of a client's anti-deadlock probe (RFC 9002 §6.2.2.1).
//
// Calls that change nothing leave the timer alone, so the connection may
// report the state as often as it likes without pushing back the
// anti-deadlock PTO, which counts from the time the timer is set.
func (r *Recovery) SetHandshakeState(peerAddressValidated, handshakeConfirmed, hasHandshakeKeys bool) {
	if r.peerAddressValidated == peerAddressValidated && r.handshakeConfirmed == handshakeConfirmed &&
		r.hasHandshakeKeys == hasHandshakeKeys {
		return
	}
	r.peerAddressValidated = peerAddressValidated
	r.handshakeConfirmed = handshakeConfirmed
	r.hasHandshakeKeys = hasHandshakeKeys
	r.setLossDetectionTimer()
}

// SetAmplificationBlocked tells recovery whether a server is at its
// anti-amplification limit (RFC 9000 §8.1): no PTO timer is armed while it
// is, since a probe could not be sent (RFC 9002 §6.2.2.1). When a datagram
// from the client lifts the limit, the connection calls it with false and,
// if LossDetectionDeadline is then in the past, OnLossDetectionTimeout at
// once (RFC 9002 Appendix A.6).
func (r *Recovery) SetAmplificationBlocked(blocked bool) {
	if r.amplificationBlocked == blocked {
		return
	}
	r.amplificationBlocked = blocked
	r.setLossDetectionTimer()
}

// peerCompletedAddressValidation is PeerCompletedAddressValidation of RFC
// 9002 Appendix A.8.
func (r *Recovery) peerCompletedAddressValidation() bool {
	return r.peerAddressValidated || r.handshakeAckReceived || r.handshakeConfirmed
}

// LargestAcked returns the largest packet number the peer acknowledged in
// space, for packet number encoding (RFC 9000 §17.1), and false if none.
func (r *Recovery) LargestAcked(space Space) (uint64, bool) {
	s := r.space(space)
	return s.largestAcked, s.hasLargestAcked
}

// PTOCount is pto_count, the number of consecutive PTOs without an
// acknowledgment resetting it.
func (r *Recovery) PTOCount() int { return r.ptoCount }

// Trim lets go of the memory of spaces with nothing in flight: a ring
// grown for a burst's flight goes back to its first size when next used,
// and the history of lost packets goes (what it remembers is older than a
// PTO by the time a connection is idle).
//
// Packets that only acknowledged (no ack-eliciting frame, not in flight)
// go too: the last ones a connection sent before going quiet are never
// acknowledged, as nothing elicits an acknowledgment of them (RFC 9000
// §13.2.1), and they would hold the ring forever. Should the peer
// acknowledge one after all, the acknowledgment of a packet below the ring
// is ignored, as for any packet already resolved.
func (r *Recovery) Trim() {
	for sp := range r.spaces {
		s := r.space(Space(sp))
		if s.discarded {
			continue
		}
		if s.sent.onlyAcks() {
			s.sent.dropAll()
		}
		if s.sent.n == 0 {
			s.sent.buf, s.sent.head = nil, 0
		}
		s.lost = lostHistory{}
	}
}

// RingCapacity is how many sent packets the ring of space holds without
// growing, for tests.
func (r *Recovery) RingCapacity(space Space) int { return len(r.space(space).sent.buf) }

// PacketThreshold is the loss detection packet threshold in force
// (RFC 9002 §6.1.1, adapted to the reordering seen).
func (r *Recovery) PacketThreshold() uint64 { return r.reorder.threshold() }

// Stats returns the counters so far.
func (r *Recovery) Stats() Stats {
	st := r.stats
	st.PacketThreshold = r.reorder.threshold()
	st.TimeThreshold = r.lossDelay()
	return st
}

// HasAckElicitingInFlight reports whether any ack-eliciting packet of space
// awaits an acknowledgment.
func (r *Recovery) HasAckElicitingInFlight(space Space) bool {
	return r.space(space).ackElicitingInFlight > 0
}

// Unacked calls f with the ack-eliciting packets of space that await an
// acknowledgment, oldest first, until f returns false: what a PTO probe
// may send again when there is no new data (RFC 9002 §6.2.4). Path MTU
// probes are left out: their loss says they were too large. The packets
// stay in flight, their fate still loss detection's to find.
func (r *Recovery) Unacked(space Space, f func(*SentPacket) bool) {
	q := &r.space(space).sent
	for i := 0; i < q.n; i++ {
		p := &q.buf[(q.head+i)&(len(q.buf)-1)]
		if p.state == stateOutstanding && p.AckEliciting && !p.PMTUProbe && !f(p) {
			return
		}
	}
}
