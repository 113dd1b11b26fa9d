package recovery

import (
	"time"

	"github.com/skiffnet/skiff/congestion"
)

// Space is a packet number space (RFC 9000 §12.3). Each has its own packet
// numbers, acknowledgments and loss detection state (RFC 9002 §4.1).
type Space uint8

// The packet number spaces, usable as indexes 0..2.
const (
	SpaceInitial Space = iota
	SpaceHandshake
	SpaceAppData
	numSpaces
)

func (s Space) String() string {
	switch s {
	case SpaceInitial:
		return "Initial"
	case SpaceHandshake:
		return "Handshake"
	case SpaceAppData:
		return "ApplicationData"
	}
	return "Space(?)"
}

// SentFrame records one frame of a sent packet that matters when the packet
// is acknowledged or lost. The connection assigns Kind values and the
// meaning of the other fields; recovery only stores them.
type SentFrame struct {
	Kind   uint8
	Fin    bool
	ID     uint64 // e.g. a stream ID or a sequence number
	Offset uint64
	Length uint64
}

// SentPacket is what RFC 9002 Appendix A.1.1 keeps about a sent packet,
// plus the frames the connection must act on when it is acknowledged or
// lost. Slots live in a per-space ring owned by Recovery and are reused:
// a *SentPacket handed to a Handler callback is valid only during the
// callback.
type SentPacket struct {
	PN           uint64
	TimeSent     time.Duration
	Size         int // bytes on the wire, counted in flight when InFlight
	AckEliciting bool
	InFlight     bool
	// ECT tells that the packet's datagram was marked ECT(0), for ECN
	// validation (RFC 9000 §13.4.2); see Recovery.ShouldMarkECT.
	ECT bool
	// PMTUProbe marks a path MTU probe: in flight like any packet, but its
	// loss says the packet was too large, not that the path is congested
	// (RFC 8899 §3), so it is no congestion signal.
	PMTUProbe bool
	// Frames is reused between packets: append to Frames[:0].
	Frames []SentFrame
	// LostBy says why loss detection declared the packet lost, for
	// packets in a Resolved's Lost (qlog's packet_lost trigger).
	LostBy LossTrigger

	state packetState
	// cc is the congestion controller's record of an in-flight packet
	// (congestion.PacketController.OnSent fills it): the per-packet
	// state BBR's delivery rate sampler needs.
	cc congestion.PacketState
}

// LossTrigger is why a packet was declared lost.
type LossTrigger uint8

// The loss triggers, named as qlog's packet_lost event names them
// (draft-ietf-quic-qlog-quic-events-13 §7.4).
const (
	// LostByPacketThreshold: kPacketThreshold packets sent after it were
	// acknowledged (RFC 9002 §6.1.1).
	LostByPacketThreshold LossTrigger = iota
	// LostByTimeThreshold: it was sent more than loss_delay before an
	// acknowledgment of a later packet, or the loss timer (RFC 9002
	// §6.1.2).
	LostByTimeThreshold
	// LostByRetransmitAll: RetransmitAll declared it lost, after a Retry
	// or rejected 0-RTT, or ACK-only packets beyond the backlog bound.
	LostByRetransmitAll
)

// String returns the trigger's qlog name.
func (t LossTrigger) String() string {
	switch t {
	case LostByPacketThreshold:
		return "reordering_threshold"
	case LostByTimeThreshold:
		return "time_threshold"
	}
	return "retransmit_all"
}

type packetState uint8

const (
	// stateOutstanding: sent, neither acknowledged nor declared lost.
	stateOutstanding packetState = iota
	stateAcked
	stateLost
)

// sentRing holds the packets of one space from the oldest still unresolved
// (neither acknowledged nor lost) up to the newest, indexed by packet
// number: packet numbers in a space are consecutive because NextPacket
// hands them out, so packet pn lives at offset pn-base. Resolved packets
// behind an unresolved one keep their slot until the front moves past them.
//
// Every packet at least the packet threshold below the largest
// acknowledged is resolved by loss detection, so the ring holds at most a
// threshold's worth of resolved packets at or below the largest
// acknowledged and otherwise only packets still awaiting an
// acknowledgment: walking an ACK range over the ring costs O(1) per newly
// acknowledged packet, plus O(threshold) per ACK frame while a packet below
// the largest acknowledged is outstanding. The threshold is 3 unless
// reordering raised it (at most maxPacketThreshold, reorder.go).
type sentRing struct {
	buf  []SentPacket // length is zero or a power of two
	head int          // index in buf of packet number base
	n    int          // packets in the ring: base .. base+n-1
	base uint64
}

// nextPN is the packet number the next sent packet gets.
func (q *sentRing) nextPN() uint64 { return q.base + uint64(q.n) }

// at returns the slot of packet pn, which must be in [base, nextPN()].
func (q *sentRing) at(pn uint64) *SentPacket {
	return &q.buf[(q.head+int(pn-q.base))&(len(q.buf)-1)]
}

// framesPerSlot is the room for frames a new slot starts with: a packet of
// a bulk transfer carries an ACK and a STREAM frame. A packet with more
// grows its slot's Frames once; the slot keeps it when reused.
const framesPerSlot = 2

// minRingSize is a ring's first size: enough for the few packets an idle
// connection or one small request has in flight, so that such a
// connection keeps a quarter kilobyte, not one; a bulk transfer doubles it
// a few more times.
const minRingSize = 4

// nextSlot returns the slot for packet nextPN(), growing the ring if full.
// Growth is the only allocation; once the ring has reached the largest
// number of packets in flight, slots and their Frames are reused.
func (q *sentRing) nextSlot() *SentPacket {
	if q.n == len(q.buf) {
		size := max(minRingSize, 2*len(q.buf))
		buf := make([]SentPacket, size)
		for i := 0; i < q.n; i++ {
			buf[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
		}
		// Once a ring grows past its first size (many packets in flight:
		// a bulk transfer), the new slots get room for their first frames
		// from one array, so that filling them costs one allocation, not
		// one per slot. A small ring (an idle connection) stays small.
		if q.n > 0 {
			frames := make([]SentFrame, (size-q.n)*framesPerSlot)
			for i := q.n; i < size; i++ {
				k := (i - q.n) * framesPerSlot
				buf[i].Frames = frames[k : k : k+framesPerSlot]
			}
		}
		q.buf, q.head = buf, 0
	}
	return q.at(q.nextPN())
}

// push appends the slot returned by nextSlot.
func (q *sentRing) push() { q.n++ }

// front returns the oldest packet, or nil when the ring is empty.
func (q *sentRing) front() *SentPacket {
	if q.n == 0 {
		return nil
	}
	return &q.buf[q.head]
}

// popResolved drops resolved packets from the front.
func (q *sentRing) popResolved() {
	for q.n > 0 && q.buf[q.head].state != stateOutstanding {
		q.popFront()
	}
}

// onlyAcks reports whether every packet in the ring still outstanding is
// neither ack-eliciting nor in flight: nothing waits for their fate.
func (q *sentRing) onlyAcks() bool {
	for i := 0; i < q.n; i++ {
		p := &q.buf[(q.head+i)&(len(q.buf)-1)]
		if p.state == stateOutstanding && (p.AckEliciting || p.InFlight) {
			return false
		}
	}
	return true
}

// dropAll forgets every packet in the ring.
func (q *sentRing) dropAll() {
	for q.n > 0 {
		q.popFront()
	}
}

func (q *sentRing) popFront() {
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	q.base++
}
