package recovery

import (
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Adaptive reordering thresholds.
//
// RFC 9002 §6.1 lets an implementation detect spurious losses and raise its
// reordering thresholds: "Implementations can detect spurious
// retransmissions and increase the packet or time reordering threshold"
// (§6.1), "Algorithms that increase the reordering threshold after
// spuriously detecting losses, such as RACK [RFC8985], have proven to be
// useful" (§6.1.1), and implementations "MAY experiment with ... adaptive
// thresholds" (§6.1.2). The policy here follows RACK (RFC 8985 §6.2):
//
//   - A packet declared lost is remembered (lostHistory) for one PTO period
//     after the declaration. An ACK frame that acknowledges it shows the
//     loss was spurious: the peer had the packet, it was only reordered.
//     The connection already had it in a Resolved's Lost and is not told again.
//   - Packet threshold: raised to one more than the reordering distance
//     the late acknowledgment reveals, the largest packet number
//     acknowledged before it minus its packet number (so that the same
//     displacement would not declare the packet lost again, as Linux TCP's
//     SACK reordering metric does), capped at maxPacketThreshold. It never
//     goes below kPacketThreshold (RFC 9002 §6.1.1: SHOULD NOT be below 3).
//   - Time threshold: RFC 9002's loss_delay is kTimeThreshold (9/8) times
//     max(smoothed_rtt, latest_rtt), that is the RTT plus an eighth of it.
//     Once reordering is seen, the margin over the RTT becomes RACK's
//     reordering window, reo_wnd = reo_wnd_mult * min_rtt / 4, capped at
//     smoothed_rtt (RFC 8985 §6.2 steps 4 and 5), and never below the
//     eighth: loss_delay grows from 9/8 towards twice the RTT.
//     reo_wnd_mult grows by one at most once per round trip (RFC 8985's
//     DSACK round): again only after an acknowledgment of a packet sent
//     after the last increase.
//   - Decay: each spurious loss sets reo_wnd_persist to 16; each new loss
//     episode (losses of packets sent after the previous episode began,
//     the congestion events of RFC 9002 §7.3.2) decrements it; at zero both
//     thresholds return to RFC 9002's defaults (RFC 8985 §6.2 step 4 does
//     this per loss recovery).
//   - Undo: when every in-flight packet declared lost in the latest loss
//     episode has been acknowledged, its congestion event was spurious and
//     the controller restores its window (RFC 9438 §4.9.2,
//     congestion.Controller.UndoCongestionEvent); not after persistent
//     congestion.
//
// Both thresholds are per connection (path properties, like the RTT),
// while the lost packets are remembered per packet number space, apart
// from the sent ring: the ring's ACK walk is O(1) per newly acknowledged
// packet because resolved packets leave its front at once; lost packets
// kept there for a round trip would hold the front back and make every ACK
// walk a window of acknowledged packets again.

const (
	// maxPacketThreshold caps the adaptive packet threshold. Past it the
	// time threshold (at most twice the RTT) still detects a loss; a
	// larger packet threshold would only matter on paths that reorder
	// more than 256 packets, and would delay the detection of real losses.
	maxPacketThreshold = 256
	// reoWndPersist is RACK.reo_wnd_persist's initial value: loss episodes
	// without a spurious loss before the thresholds are reset
	// (RFC 8985 §6.2).
	reoWndPersist = 16
	// maxReoWndMult bounds reo_wnd_mult; the window is capped at
	// smoothed_rtt anyway, which min_rtt/4 * 4 reaches when RTT is stable.
	maxReoWndMult = 64
	// lostHistoryLen is how many lost packets a space remembers for
	// spurious loss detection. When more are lost within a PTO, the oldest
	// are forgotten, which costs only a missed detection.
	lostHistoryLen = 128
)

// reorderState holds the adaptive reordering thresholds of a connection.
type reorderState struct {
	// packetThreshold is the current kPacketThreshold; 0 means the default
	// (a zero Recovery after Init is at the defaults).
	packetThreshold uint64
	// reoWndMult is RACK.reo_wnd_mult; 0 means RFC 9002's 9/8.
	reoWndMult int
	// incrBlockedUntil: reoWndMult grows again only once an ACK newly
	// acknowledges a packet sent after this time (one increase per round
	// trip, RFC 8985 §6.2 step 4); valid when incrBlocked.
	incrBlockedUntil time.Duration
	incrBlocked      bool
	// persist is RACK.reo_wnd_persist.
	persist int
	// episodeStart is when the current loss episode began: a loss of a
	// packet sent after it starts a new one; valid when inEpisode.
	episodeStart time.Duration
	inEpisode    bool
	// episode numbers the loss episodes; episodeLost counts the in-flight
	// packets declared lost in the current one and episodeSpurious those
	// of them acknowledged later. When all are, the congestion event was
	// spurious and is undone, if undoable (not persistent congestion).
	episode         uint64
	episodeLost     int
	episodeSpurious int
	undoable        bool
}

// adapted reports whether either threshold is above its default.
func (o *reorderState) adapted() bool {
	return o.packetThreshold > packetThreshold || o.reoWndMult > 0
}

// threshold is the packet reordering threshold in force.
func (o *reorderState) threshold() uint64 {
	return max(o.packetThreshold, packetThreshold)
}

// reset returns to RFC 9002's thresholds.
func (o *reorderState) reset() {
	o.packetThreshold = packetThreshold
	o.reoWndMult = 0
	o.incrBlocked = false
	o.persist = 0
}

// lossDelay is the time threshold (RFC 9002 §6.1.2): max(smoothed_rtt,
// latest_rtt) plus the reordering margin, at least kGranularity.
func (r *Recovery) lossDelay() time.Duration {
	rtt := max(r.rtt.LatestRTT(), r.rtt.SmoothedRTT())
	// kTimeThreshold 9/8: the margin is an eighth of the RTT.
	margin := rtt*timeThresholdNum/timeThresholdDen - rtt
	if m := r.reorder.reoWndMult; m > 0 {
		// RFC 8985 §6.2 step 5: reo_wnd = min(reo_wnd_mult * min_RTT/4,
		// SRTT).
		w := min(time.Duration(m)*(r.rtt.MinRTT()/4), r.rtt.SmoothedRTT())
		margin = max(margin, w)
	}
	return max(rtt+margin, congestion.Granularity)
}

// onLossEpisode notes n in-flight packets declared lost at now, the newest
// sent at largestLostSent, for the decay of the thresholds and the undo of
// spurious congestion events. persistent is persistent congestion, which
// is never undone. It returns the episode number of the packets.
func (r *Recovery) onLossEpisode(now, largestLostSent time.Duration, n int, persistent bool) uint64 {
	o := &r.reorder
	if o.inEpisode && largestLostSent <= o.episodeStart {
		// The same episode, as the controller's recovery period
		// (RFC 9002 §7.3.2).
		o.episodeLost += n
		o.undoable = o.undoable && !persistent
		return o.episode
	}
	o.episodeStart, o.inEpisode = now, true
	o.episode++
	o.episodeLost, o.episodeSpurious, o.undoable = n, 0, !persistent
	if !o.adapted() {
		return o.episode
	}
	o.persist--
	if o.persist <= 0 {
		o.reset()
	}
	return o.episode
}

// onSpuriousLoss adapts the thresholds to a packet declared lost, then
// acknowledged by an ACK frame received at now; largestAckedBefore is the
// largest packet number acknowledged in its space before that frame.
func (r *Recovery) onSpuriousLoss(rec *lostRecord, largestAckedBefore uint64, now time.Duration) {
	r.stats.SpuriousLosses++
	o := &r.reorder
	// The reordering distance: packets sent after this one acknowledged
	// before it. largestAckedBefore is at least rec.largestAcked, the
	// distance when it was declared lost.
	distance := max(largestAckedBefore, rec.largestAcked) - rec.pn
	r.stats.MaxReorderDistance = max(r.stats.MaxReorderDistance, distance)
	if delay := now - rec.timeSent; delay > r.stats.MaxReorderDelay {
		// How long the packet took to be acknowledged: what loss_delay
		// would have had to exceed.
		r.stats.MaxReorderDelay = delay
	}
	o.packetThreshold = min(max(o.threshold(), distance+1), maxPacketThreshold)
	if !o.incrBlocked {
		o.reoWndMult = min(o.reoWndMult+1, maxReoWndMult)
		o.incrBlockedUntil, o.incrBlocked = now, true
	}
	o.persist = reoWndPersist

	if rec.episode != o.episode || !o.undoable {
		return
	}
	o.episodeSpurious++
	if o.episodeSpurious < o.episodeLost {
		return
	}
	// RFC 9438 §4.9.2: every loss of the episode was spurious; the
	// congestion event it caused is undone. The next loss starts a new
	// episode, as it starts a new recovery period in the controller.
	r.stats.SpuriousCongestionEvents++
	r.cc.UndoCongestionEvent()
	o.undoable, o.inEpisode = false, false
}

// onAckedSentAt lifts the once-per-round-trip limit once a packet sent
// after the last increase of reo_wnd_mult is acknowledged.
func (o *reorderState) onAckedSentAt(sent time.Duration) {
	if o.incrBlocked && sent > o.incrBlockedUntil {
		o.incrBlocked = false
	}
}

// lostRecord is what a space remembers of a packet declared lost.
type lostRecord struct {
	pn       uint64
	timeSent time.Duration
	timeLost time.Duration
	// largestAcked is the space's largest acknowledged packet number when
	// the packet was declared lost.
	largestAcked uint64
	// episode is the loss episode the packet's loss belongs to.
	episode uint64
	// acked: the peer acknowledged it after all (spurious loss).
	acked bool
	// cc is the packet's congestion controller state, for reporting the
	// late acknowledgment (congestion's per-packet calls, step 9: BBR
	// counts the packet delivered).
	cc congestion.PacketState
}

// lostHistory is a ring of the packets of a space recently declared lost,
// in ascending packet number order (losses are declared in packet number
// order: both thresholds are monotonic in it). Its storage is allocated at
// the first loss of the space and reused.
type lostHistory struct {
	buf  []lostRecord
	head int
	n    int
}

func (h *lostHistory) at(i int) *lostRecord { return &h.buf[(h.head+i)%len(h.buf)] }

// add remembers a lost packet, forgetting the oldest if full.
func (h *lostHistory) add(rec lostRecord) {
	if h.buf == nil {
		h.buf = make([]lostRecord, lostHistoryLen)
	}
	if h.n > 0 && h.at(h.n-1).pn >= rec.pn {
		return // out of order: cannot happen, see above; keep the ring sorted
	}
	if h.n == len(h.buf) {
		h.head = (h.head + 1) % len(h.buf)
		h.n--
	}
	*h.at(h.n) = rec
	h.n++
}

// expire forgets the packets declared lost before cutoff.
func (h *lostHistory) expire(cutoff time.Duration) {
	for h.n > 0 && h.at(0).timeLost < cutoff {
		h.head = (h.head + 1) % len(h.buf)
		h.n--
	}
}

// search returns the index of the first packet numbered pn or more.
func (h *lostHistory) search(pn uint64) int {
	lo, hi := 0, h.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if h.at(mid).pn < pn {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// setEpisode assigns episode to the newest n packets.
func (h *lostHistory) setEpisode(n int, episode uint64) {
	for i := max(h.n-n, 0); i < h.n; i++ {
		h.at(i).episode = episode
	}
}

// detectSpuriousLosses finds the remembered lost packets that ack
// acknowledges (RFC 9002 §6.1) and adapts the thresholds to each.
// largestAckedBefore is valid when hadLargest. It reports whether it found
// any, and costs O(log n) per ACK range that overlaps the remembered
// packets.
func (r *Recovery) detectSpuriousLosses(space Space, ack *wire.AckFrame, largestAckedBefore uint64, hadLargest bool, now time.Duration) (found bool) {
	h := &r.space(space).lost
	h.expire(now - r.rtt.PTO(space == SpaceAppData))
	if h.n == 0 || !hadLargest {
		return false
	}
	lo, hi := h.at(0).pn, h.at(h.n-1).pn
	for _, ar := range ack.Ranges {
		if ar.Largest < 0 || uint64(ar.Largest) < lo {
			break // ranges come highest first
		}
		if uint64(ar.Smallest) > hi {
			continue
		}
		for i := h.search(uint64(ar.Smallest)); i < h.n && h.at(i).pn <= uint64(ar.Largest); i++ {
			rec := h.at(i)
			if rec.acked {
				continue
			}
			rec.acked = true
			found = true
			if !r.onOldPath(space, rec.pn) {
				r.cc.OnAcked(now, &rec.cc)
			}
			r.onSpuriousLoss(rec, largestAckedBefore, now)
		}
	}
	return found
}
