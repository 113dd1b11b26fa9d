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
	// ackElicitingThreshold: RFC 9000 §13.2.2, a receiver SHOULD send an
	// ACK frame after receiving at least two ack-eliciting packets.
	ackElicitingThreshold = 2
)

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
// space, call SetMaxAckDelay with our max_ack_delay transport parameter.
type ReceivedTracker struct {
	received rangeset.Set
	// floor: packets below it were received or given up on; they are
	// duplicates (RFC 9000 §13.2.3: a minimum packet number that rises as
	// ranges are discarded).
	floor uint64

	largest     uint64 // largest packet number received
	hasLargest  bool
	largestTime time.Duration // when it was received, for ACK Delay

	largestAckEliciting    uint64
	hasLargestAckEliciting bool

	maxAckDelay time.Duration

	// Since the last ACK frame built:
	pendingAckEliciting int  // ack-eliciting packets received
	pending             bool // any packets received
	deadline            time.Duration
	hasDeadline         bool

	ecn     wire.ECNCounts
	ecnSeen bool
}

// SetMaxAckDelay sets our max_ack_delay (RFC 9000 §18.2): how long an
// acknowledgment of an ack-eliciting packet may wait.
func (t *ReceivedTracker) SetMaxAckDelay(d time.Duration) { t.maxAckDelay = max(d, 0) }

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
		return true
	}
	immediate := false
	if ackEliciting && t.hasLargestAckEliciting {
		if pn < t.largestAckEliciting {
			// RFC 9000 §13.2.1: an ack-eliciting packet below
			// another one is acknowledged without delay.
			immediate = true
		} else if from := max(t.largestAckEliciting+1, t.floor); from < pn && !t.received.ContainsRange(from, pn) {
			// RFC 9000 §13.2.1: so is one above the largest with
			// packets missing in between.
			immediate = true
		}
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
		// non-ack-eliciting packet alone).
		immediate = true
	}
	if ecn == ECNECT1 || ecn == ECNECT0 || ecn == ECNCE {
		t.ecnSeen = true
	}
	t.pending = true
	if !ackEliciting {
		// RFC 9000 §13.2.1: a non-ack-eliciting packet never causes an
		// ACK by itself; it rides along with the next one.
		return false
	}
	if !t.hasLargestAckEliciting || pn > t.largestAckEliciting {
		t.largestAckEliciting, t.hasLargestAckEliciting = pn, true
	}
	t.pendingAckEliciting++
	if t.pendingAckEliciting >= ackElicitingThreshold || t.maxAckDelay == 0 {
		immediate = true
	}
	if immediate {
		if !t.hasDeadline || now < t.deadline {
			t.deadline, t.hasDeadline = now, true
		}
	} else if !t.hasDeadline {
		// RFC 9000 §13.2.1: within max_ack_delay of the first
		// unacknowledged ack-eliciting packet.
		t.deadline, t.hasDeadline = now+t.maxAckDelay, true
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
