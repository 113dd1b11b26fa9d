package conn

import (
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Acknowledgment frequency (draft-ietf-quic-ack-frequency-14).
//
// As a receiver, we advertise min_ack_delay (§3), so a peer may tell us how
// often to acknowledge with ACK_FREQUENCY (§4) and ask for an
// acknowledgment now with IMMEDIATE_ACK (§5); what it asks is the policy
// of our Application Data space (§6). Until it asks, we acknowledge as RFC
// 9000 §13.2 says, within our max_ack_delay (25 ms) and for every second
// ack-eliciting packet; once bulkAfter ack-eliciting packets arrived, a
// bulk flow, every tenth, within a quarter of the RTT (no more than
// max_ack_delay), as RFC 9000 §13.2.2 allows a receiver that knows better:
// fewer acknowledgments cost both ends less, and any gap still gets one at
// once, so loss detection is not delayed.
//
// As a sender, when the peer advertised min_ack_delay, we ask it
// (ACK_FREQUENCY) to acknowledge about four times per congestion window,
// within a quarter of the RTT (no less than its min_ack_delay, no more
// than its max_ack_delay), and to tolerate as much reordering as our loss
// detection does (§9); the request is updated when those move by much, at
// most once per RTT (§8.1). Until a request is acknowledged the PTO counts
// the larger of the old and the requested delay (§7). PTO probes carry an
// IMMEDIATE_ACK (§7).

const (
	// minAckDelay is the min_ack_delay we advertise: the timer
	// granularity we can honour.
	minAckDelay = time.Millisecond
	// bulkAfter ack-eliciting packets make a bulk flow; bulkThreshold is
	// its Ack-Eliciting Threshold.
	bulkAfter     = 100
	bulkThreshold = 9
	// maxRequestedThreshold bounds the Ack-Eliciting Threshold we ask for.
	maxRequestedThreshold = 32
)

// ackFreqState is the connection's side of ACK frequency.
type ackFreqState struct {
	// Receiver: the largest Sequence Number of the peer's ACK_FREQUENCY
	// frames, once one arrived (peerSet: then the peer sets our policy),
	// and whether our own bulk policy is on.
	peerSeq      uint64
	maxAckDelay  time.Duration // ours, as advertised
	srttAtPolicy time.Duration
	peerSet      bool
	bulk         bool

	// Sender: what the peer advertised, and our requests.
	peerSupports bool
	hasLast      bool
	pending      bool // a request should go out
	hasAcked     bool
	// quietBurst: ackFrequencyDue found no change worth a request in
	// the burst AppendBurst is writing, whose packets share one now and
	// see the same window, RTT and thresholds (only acknowledgments and
	// timers change them, between bursts). Once the last request is an
	// RTT old it computes the request for every packet otherwise: 0.9%
	// of a bulk sender's CPU.
	quietBurst      bool
	peerMinAckDelay time.Duration
	peerMaxAckDelay time.Duration // confirmed: the transport parameter, then acknowledged requests
	nextSeq         uint64
	last            wire.AckFrequencyFrame // the latest request, when hasLast
	lastAt          time.Duration
	inFlight        []requestInFlight
	ackedSeq        uint64 // the largest request acknowledged, when hasAcked
}

type requestInFlight struct {
	seq   uint64
	delay time.Duration
}

func (a *ackFreqState) init(maxAckDelay time.Duration) {
	a.maxAckDelay = maxAckDelay
}

// setPeerParams learns whether the peer takes ACK_FREQUENCY, and its
// max_ack_delay.
func (a *ackFreqState) setPeerParams(p *wire.TransportParameters) {
	a.peerSupports, a.peerMinAckDelay = p.HasMinAckDelay, p.MinAckDelay
	a.peerMaxAckDelay = p.MaxAckDelay
}

// onAckFrequency handles the peer's ACK_FREQUENCY (§4): a Requested Max
// Ack Delay of 2^14 ms or more, or below our min_ack_delay, is a
// PROTOCOL_VIOLATION; a frame not newer than the last is ignored.
func (c *Conn) onAckFrequency(f *wire.AckFrequencyFrame) error {
	a := &c.ackFreq
	if f.RequestedMaxAckDelay >= wire.MaxMaxAckDelay+time.Millisecond || f.RequestedMaxAckDelay < minAckDelay {
		return localError(wire.ProtocolViolation, wire.FrameTypeAckFrequency, "Requested Max Ack Delay out of range")
	}
	if a.peerSet && f.SequenceNumber <= a.peerSeq {
		return nil
	}
	a.peerSeq, a.peerSet = f.SequenceNumber, true
	c.spaces[recovery.SpaceAppData].received.SetPolicy(recovery.AckPolicy{
		Threshold: f.AckElicitingThreshold, MaxAckDelay: f.RequestedMaxAckDelay, Reordering: f.ReorderingThreshold,
	})
	return nil
}

// updateAckPolicy moves our Application Data acknowledgments to the bulk
// policy, and keeps its delay at a quarter of the RTT, unless the peer
// set the policy.
func (c *Conn) updateAckPolicy() {
	a := &c.ackFreq
	rt := c.spaces[recovery.SpaceAppData].received
	if a.peerSet || !c.handshakeConfirmed || rt.AckElicitingReceived() < bulkAfter {
		return
	}
	srtt := c.rtt.SmoothedRTT()
	if a.bulk && srtt == a.srttAtPolicy {
		return
	}
	a.bulk, a.srttAtPolicy = true, srtt
	rt.SetPolicy(recovery.AckPolicy{Threshold: bulkThreshold, MaxAckDelay: bulkAckDelay(srtt, a.maxAckDelay), Reordering: 1})
}

// bulkAckDelay is a bulk receiver's delay: a quarter of the RTT, no less
// than the timer granularity we advertise (min_ack_delay), no more than our
// max_ack_delay.
func bulkAckDelay(srtt, maxAckDelay time.Duration) time.Duration {
	return min(max(srtt/4, minAckDelay), maxAckDelay)
}

// ackFrequencyDue reports whether an ACK_FREQUENCY request should go out
// now, and builds it.
func (c *Conn) ackFrequencyDue(now time.Duration) (wire.AckFrequencyFrame, bool) {
	a := &c.ackFreq
	if !a.peerSupports || !c.handshakeConfirmed {
		return wire.AckFrequencyFrame{}, false
	}
	srtt := c.rtt.SmoothedRTT()
	if a.quietBurst || (a.hasLast && !a.pending && now-a.lastAt < srtt) {
		// §8.1: not more than once per RTT. (Checked first: this runs
		// for every packet.)
		return wire.AckFrequencyFrame{}, false
	}
	mss := max(c.pmtu.mtu, 1)
	f := wire.AckFrequencyFrame{
		AckElicitingThreshold: uint64(min(max(c.cc.CongestionWindow()/mss/4, 1), maxRequestedThreshold)),
		RequestedMaxAckDelay:  min(max(srtt/4, a.peerMinAckDelay, minAckDelay), a.peerMaxAckDelay),
		ReorderingThreshold:   c.loss.PacketThreshold(),
	}
	if a.hasLast && !a.pending {
		// Only a change that matters.
		l := &a.last
		moved := f.AckElicitingThreshold >= 2*l.AckElicitingThreshold || 2*f.AckElicitingThreshold <= l.AckElicitingThreshold ||
			4*absDuration(f.RequestedMaxAckDelay-l.RequestedMaxAckDelay) > l.RequestedMaxAckDelay ||
			f.ReorderingThreshold != l.ReorderingThreshold
		if !moved {
			a.quietBurst = true
			return f, false
		}
	}
	return f, true
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// appendAckFrequency appends an ACK_FREQUENCY request when one is due.
func (c *Conn) appendAckFrequency(ctx *sendContext, f *frameWriter) {
	fr, due := c.ackFrequencyDue(ctx.now)
	if !due || f.room() < fr.Len() {
		return
	}
	a := &c.ackFreq
	fr.SequenceNumber = a.nextSeq
	a.nextSeq++
	f.buf = fr.Append(f.buf)
	f.record(sentAckFrequency, fr.SequenceNumber, 0, 0, false)
	a.last, a.hasLast, a.lastAt, a.pending = fr, true, ctx.now, false
	if len(a.inFlight) < 8 {
		a.inFlight = append(a.inFlight, requestInFlight{fr.SequenceNumber, fr.RequestedMaxAckDelay})
	}
	c.applyPeerAckDelay()
}

// onAckFrequencyAcked: the peer uses the requested delay from now on.
func (c *Conn) onAckFrequencyAcked(seq uint64) {
	a := &c.ackFreq
	for i, r := range a.inFlight {
		if r.seq == seq {
			if !a.hasAcked || seq > a.ackedSeq {
				a.peerMaxAckDelay, a.ackedSeq, a.hasAcked = r.delay, seq, true
			}
			a.inFlight = append(a.inFlight[:i], a.inFlight[i+1:]...)
			break
		}
	}
	c.applyPeerAckDelay()
}

// onAckFrequencyLost sends a new request if the lost one was the latest
// (§4: an older one is not worth resending).
func (c *Conn) onAckFrequencyLost(seq uint64) {
	a := &c.ackFreq
	for i, r := range a.inFlight {
		if r.seq == seq {
			a.inFlight = append(a.inFlight[:i], a.inFlight[i+1:]...)
			break
		}
	}
	if a.hasLast && seq == a.last.SequenceNumber {
		a.pending = true
	}
	c.applyPeerAckDelay()
}

// applyPeerAckDelay sets the max_ack_delay the PTO counts: the larger of
// the confirmed one and those of requests in flight (§7).
func (c *Conn) applyPeerAckDelay() {
	a := &c.ackFreq
	d := a.peerMaxAckDelay
	for _, r := range a.inFlight {
		d = max(d, r.delay)
	}
	c.rtt.SetMaxAckDelay(d)
}
