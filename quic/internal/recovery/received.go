package recovery

import (
	"time"

	"github.com/skiffnet/skiff/quic/internal/rangeset"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

const (
	// MaxTrackedRanges bounds the ranges of received packet numbers a
	// ReceivedTracker remembers, so that a peer skipping packet numbers
	// cannot grow its state (RFC 9000 §13.2.3). The oldest ranges go
	// first, and packets below what remains are then treated as
	// duplicates.
	MaxTrackedRanges = 256
	// MaxAckRanges is the most ranges an ACK frame carries: the newest
	// ones (RFC 9000 §13.2.3: older ranges are omitted first). 32 ranges
	// take at most about 500 bytes and cover heavy reordering.
	MaxAckRanges = 32
)

// AckPolicy says when an acknowledgment is due (RFC 9000 §13.2.1,
// §13.2.2; draft-ietf-quic-ack-frequency-14 §6).
type AckPolicy struct {
	// Threshold: an ACK frame is due once more than this many
	// ack-eliciting packets arrived since the last one. 1 is RFC 9000
	// §13.2.2's "at least two"; 0 acknowledges every packet.
	Threshold uint64
	// MaxAckDelay is how long an ack-eliciting packet may wait for its
	// acknowledgment; 0 means none may wait (Initial and Handshake).
	MaxAckDelay time.Duration
	// Reordering: 1 acknowledges an ack-eliciting packet at once when it
	// is out of order or leaves a gap (RFC 9000 §13.2.1); 0 never does;
	// more waits until the reordering could make the sender declare a
	// loss (draft-ietf-quic-ack-frequency-14 §6.2).
	Reordering uint64
}

// DefaultAckPolicy is RFC 9000's, with max_ack_delay d.
func DefaultAckPolicy(d time.Duration) AckPolicy {
	return AckPolicy{Threshold: 1, MaxAckDelay: max(d, 0), Reordering: 1}
}

// ECN codepoints of a received packet's IP header (RFC 3168 §5), as
// OnPacketReceived takes them.
const (
	ECNNotECT = 0
	ECNECT1   = 1
	ECNECT0   = 2
	ECNCE     = 3
)

// ReceivedTracker is the receiving side of one packet number space: it
// detects duplicate packets and decides when and with what to acknowledge
// (RFC 9000 §13.2). The zero value is ready, with a max_ack_delay of zero:
// every ack-eliciting packet is acknowledged at once, as Initial and
// Handshake packets must be (RFC 9000 §13.2.1). For the Application Data
// space, call SetPolicy with our max_ack_delay transport parameter, and
// later with what the peer asks (ACK_FREQUENCY) or a bulk flow allows.
type ReceivedTracker struct {
	received rangeset.Set
	// floor: packets below it were received or given up on; they are
	// duplicates (RFC 9000 §13.2.3: a minimum packet number that rises as
	// ranges are discarded).
	floor uint64

	largest     uint64        // largest packet number received, when hasLargest
	largestTime time.Duration // when it was received, for ACK Delay

	largestAckEliciting uint64 // when hasLargestAckEliciting

	policy AckPolicy
	// lastAckLargest is the Largest Acknowledged of the last ACK frame
	// built, valid when hasLastAck (§6.2's Largest Acked).
	lastAckLargest uint64
	// ackEliciting counts the ack-eliciting packets received.
	ackEliciting uint64

	// Since the last ACK frame built (and pending, below):
	pendingAckEliciting int           // ack-eliciting packets received
	deadline            time.Duration // when hasDeadline
	delayedSince        time.Duration // when the first packet of the delayed acknowledgment arrived

	ecn wire.ECNCounts // when ecnSeen

	// The flags sit together, without padding after each.
	hasLargest             bool
	hasLargestAckEliciting bool
	hasLastAck             bool
	// immediate: an IMMEDIATE_ACK frame asked for an acknowledgment now
	// (draft-ietf-quic-ack-frequency-14 §5); lastCE: the previous packet
	// was marked CE (§6.3).
	immediate   bool
	lastCE      bool
	pending     bool // since the last ACK frame built: any packets received
	hasDeadline bool
	ecnSeen     bool
}

// SetMaxAckDelay sets the RFC 9000 policy with our max_ack_delay (§18.2):
// how long an acknowledgment of an ack-eliciting packet may wait.
func (t *ReceivedTracker) SetMaxAckDelay(d time.Duration) { t.SetPolicy(DefaultAckPolicy(d)) }

// SetPolicy sets when acknowledgments are due from now on. A deadline
// already set moves no later than the new max_ack_delay allows.
func (t *ReceivedTracker) SetPolicy(p AckPolicy) {
	p.MaxAckDelay = max(p.MaxAckDelay, 0)
	t.policy = p
	if !t.hasDeadline {
		return
	}
	if d := t.delayedSince + p.MaxAckDelay; d < t.deadline {
		t.deadline = d
	}
	if uint64(t.pendingAckEliciting) > p.Threshold && t.largestTime < t.deadline {
		t.deadline = t.largestTime
	}
}

// Policy returns the policy in force.
func (t *ReceivedTracker) Policy() AckPolicy { return t.policy }

// RequestImmediate makes the packet being processed, which carries an
// IMMEDIATE_ACK frame, call for an acknowledgment at once
// (draft-ietf-quic-ack-frequency-14 §5).
func (t *ReceivedTracker) RequestImmediate() { t.immediate = true }

// AckElicitingReceived is how many ack-eliciting packets were received.
func (t *ReceivedTracker) AckElicitingReceived() uint64 { return t.ackEliciting }

// IsDuplicate reports whether packet pn was already received, or is too
// old to tell, and must be dropped (RFC 9000 §12.3). The connection asks
// before acting on a packet's frames.
// Packet numbers above 2^62-1 cannot occur (RFC 9000 §12.3) and are
// reported as duplicates too, so that they are dropped.
func (t *ReceivedTracker) IsDuplicate(pn uint64) bool {
	return pn < t.floor || pn > uint64(wire.MaxPacketNumber) || t.received.Contains(pn)
}

// LargestReceived is the largest packet number received, for packet number
// decoding (RFC 9000 §17.1) and as the Largest Acknowledged of the next ACK
// frame; false before any packet.
func (t *ReceivedTracker) LargestReceived() (uint64, bool) { return t.largest, t.hasLargest }

// ECNCounts returns the ECN marks counted so far, which ACK frames report
// (RFC 9000 §13.4.1), and whether any marked packet arrived (ACK frames
// carry counts only then).
func (t *ReceivedTracker) ECNCounts() (wire.ECNCounts, bool) { return t.ecn, t.ecnSeen }

// OnPacketReceived records packet pn, processed at now, with the ECN
// codepoint of its datagram (ECNNotECT, ECNECT1, ECNECT0 or ECNCE). It
// reports a duplicate, and then changes nothing.
func (t *ReceivedTracker) OnPacketReceived(pn uint64, ackEliciting bool, ecn uint8, now time.Duration) (duplicate bool) {
	if t.IsDuplicate(pn) {
		t.immediate = false
		return true
	}
	immediate := t.immediate
	t.immediate = false
	if ackEliciting {
		immediate = immediate || t.reordered(pn)
	}

	t.received.Add(pn)
	if t.received.Len() > MaxTrackedRanges {
		t.received.TrimFront(MaxTrackedRanges)
		t.floor, _ = t.received.Min()
	}
	if !t.hasLargest || pn > t.largest {
		t.largest, t.hasLargest, t.largestTime = pn, true, now
	}
	// RFC 9000 §13.4.1: count the ECN marks of processed packets.
	switch ecn {
	case ECNECT1:
		t.ecn.ECT1++
	case ECNECT0:
		t.ecn.ECT0++
	case ECNCE:
		t.ecn.CE++
		// RFC 9000 §13.2.1: CE-marked packets SHOULD be acknowledged
		// immediately (if ack-eliciting: never an ACK for a
		// non-ack-eliciting packet alone). With a threshold above 1,
		// only the first of a run of them (ack-frequency §6.3).
		if t.policy.Threshold <= 1 || !t.lastCE {
			immediate = true
		}
	}
	t.lastCE = ecn == ECNCE
	if ecn == ECNECT1 || ecn == ECNECT0 || ecn == ECNCE {
		t.ecnSeen = true
	}
	t.pending = true
	if !ackEliciting {
		// RFC 9000 §13.2.1: a non-ack-eliciting packet never causes an
		// ACK by itself; it rides along with the next one.
		return false
	}
	t.ackEliciting++
	if !t.hasLargestAckEliciting || pn > t.largestAckEliciting {
		t.largestAckEliciting, t.hasLargestAckEliciting = pn, true
	}
	t.pendingAckEliciting++
	if uint64(t.pendingAckEliciting) > t.policy.Threshold || t.policy.MaxAckDelay == 0 {
		immediate = true
	}
	if immediate {
		if !t.hasDeadline || now < t.deadline {
			t.deadline, t.hasDeadline = now, true
		}
	} else if !t.hasDeadline {
		// RFC 9000 §13.2.1: within max_ack_delay of the first
		// unacknowledged ack-eliciting packet.
		t.deadline, t.hasDeadline = now+t.policy.MaxAckDelay, true
		t.delayedSince = now
	}
	return false
}

// reordered reports whether the ack-eliciting packet pn, about to be
// recorded, calls for an acknowledgment at once because of reordering.
func (t *ReceivedTracker) reordered(pn uint64) bool {
	r := t.policy.Reordering
	switch {
	case r == 0:
		return false
	case r == 1:
		if !t.hasLargestAckEliciting {
			return false
		}
		if pn < t.largestAckEliciting {
			// RFC 9000 §13.2.1: an ack-eliciting packet below
			// another one is acknowledged without delay...
			return true
		}
		// ...and so is one above the largest with packets missing in
		// between.
		from := max(t.largestAckEliciting+1, t.floor)
		return from < pn && !t.received.ContainsRange(from, pn)
	}
	// draft-ietf-quic-ack-frequency-14 §6.2: at once when the packet is
	// at or below Largest Acked - Reordering Threshold (a packet the
	// sender has likely declared lost), or when the smallest Unreported
	// Missing packet is Reordering Threshold or more below Largest
	// Unacked (the sender could declare it lost now).
	largestUnacked := pn
	if t.hasLargestAckEliciting {
		largestUnacked = max(pn, t.largestAckEliciting)
	}
	start := t.floor
	if t.hasLastAck {
		if t.lastAckLargest >= r && pn <= t.lastAckLargest-r {
			return true
		}
		if t.lastAckLargest >= r {
			start = max(start, t.lastAckLargest-r+1)
		}
	}
	for gs, ge, ok := t.received.NextGap(start, largestUnacked); ok; gs, ge, ok = t.received.NextGap(ge, largestUnacked) {
		m := gs // the smallest Unreported Missing, but for pn itself
		if m == pn {
			if m++; m >= ge {
				continue
			}
		}
		return largestUnacked-m >= r
	}
	return false
}

// AckDeadline is when an ACK frame must be sent: the time of the packet
// that calls for an immediate acknowledgment, or max_ack_delay after the
// first ack-eliciting packet not yet acknowledged. False when no
// ack-eliciting packet awaits an acknowledgment.
func (t *ReceivedTracker) AckDeadline() (time.Duration, bool) {
	return t.deadline, t.hasDeadline
}

// AckElicitingPending reports whether an ack-eliciting packet awaits an
// acknowledgment: an ACK frame SHOULD then go with any packet sent
// (RFC 9000 §13.2.1).
func (t *ReceivedTracker) AckElicitingPending() bool { return t.pendingAckEliciting > 0 }

// Pending reports whether any packet was received since the last ACK frame
// was built, so that a packet being sent anyway may carry one.
func (t *ReceivedTracker) Pending() bool { return t.pending }

// AppendAckFrame appends an ACK frame for the packets received to b, and
// returns b unchanged when there is nothing to acknowledge. It carries the
// newest MaxAckRanges ranges; the ACK Delay is the time since the largest
// packet was received (RFC 9000 §13.2.5), in units of 2^ackDelayExponent
// microseconds; the ECN counts are included once any ECN-marked packet
// arrived (RFC 9000 §13.4.1). The acknowledgment is then no longer due.
// The Largest Acknowledged is LargestReceived, which the connection keeps
// with the sent packet for OnAckOfAckReceived.
func (t *ReceivedTracker) AppendAckFrame(b []byte, now time.Duration, ackDelayExponent uint8) []byte {
	return t.AppendAckFrameMax(b, now, ackDelayExponent, maxFrameSize)
}

// maxFrameSize is larger than any QUIC packet.
const maxFrameSize = 1 << 16

// AppendAckFrameMax is AppendAckFrame for a frame of at most maxSize bytes:
// the oldest ranges are left out until it fits (RFC 9000 §13.2.3). If not
// even the newest range fits, it returns b unchanged and the
// acknowledgment stays due.
func (t *ReceivedTracker) AppendAckFrameMax(b []byte, now time.Duration, ackDelayExponent uint8, maxSize int) []byte {
	n := t.received.Len()
	if n == 0 {
		return b
	}
	// The ranges live on the stack for the call: 512 bytes a tracker
	// would otherwise hold for each packet number space of every
	// connection.
	var ranges [MaxAckRanges]wire.AckRange
	f := wire.AckFrame{Ranges: ranges[:0], HasECN: t.ecnSeen, ECN: t.ecn}
	for i := n - 1; i >= 0 && len(f.Ranges) < MaxAckRanges; i-- {
		r := t.received.Range(i)
		f.Ranges = append(f.Ranges, wire.AckRange{
			Smallest: wire.PacketNumber(r.Start),
			Largest:  wire.PacketNumber(r.End - 1),
		})
	}
	if delay := now - t.largestTime; delay > 0 {
		f.AckDelay = uint64(delay.Microseconds()) >> ackDelayExponent
	}
	for f.Len() > maxSize {
		if len(f.Ranges) == 1 {
			return b
		}
		f.Ranges = f.Ranges[:len(f.Ranges)-1]
	}
	b = f.Append(b)
	t.pendingAckEliciting = 0
	t.pending = false
	t.hasDeadline = false
	t.lastAckLargest, t.hasLastAck = uint64(f.Ranges[0].Largest), true
	return b
}

// OnAckOfAckReceived is called when a packet carrying one of our ACK frames
// is acknowledged, with that frame's Largest Acknowledged: the peer knows
// of every packet up to it, so they need not be acknowledged again
// (RFC 9000 §13.2.4). Packets below it are from then on treated as
// duplicates (RFC 9000 §13.2.3).
func (t *ReceivedTracker) OnAckOfAckReceived(largestAckedInOurAck uint64) {
	if largestAckedInOurAck >= uint64(wire.MaxPacketNumber) {
		return
	}
	floor := largestAckedInOurAck + 1
	if floor <= t.floor {
		return
	}
	t.floor = floor
	t.received.RemoveBelow(floor)
}
