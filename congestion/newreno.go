package congestion

import "time"

// NewReno is the congestion controller of RFC 9002 §7 and Appendix B: slow
// start, a recovery period per congestion event that halves the window
// (kLossReductionFactor 0.5), additive increase of one max_datagram_size per
// window acknowledged, and the minimum window on persistent congestion.
type NewRenoController struct {
	window
	// bytesAckedInAvoidance counts bytes acknowledged in congestion
	// avoidance towards the next one-datagram increase: RFC 3465 §2.1
	// byte counting, which RFC 9002 Appendix B.5 suggests for an integer
	// window.
	bytesAckedInAvoidance int
	// undoBytesAcked is bytesAckedInAvoidance before the latest
	// congestion event.
	undoBytesAcked int
}

var _ PacketController = (*NewRenoController)(nil)

// NewNewReno returns a NewReno controller for a max_datagram_size (0 means
// DefaultMaxDatagramSize), pacing its packets if pacing is true.
func NewNewReno(maxDatagramSize int, pacing bool) *NewRenoController {
	c := &NewRenoController{}
	c.window.init(maxDatagramSize, pacing)
	return c
}

// Name implements Controller.
func (c *NewRenoController) Name() string { return AlgorithmNewReno }

// OnAck implements Controller (RFC 9002 Appendix B.5).
func (c *NewRenoController) OnAck(now time.Duration, ackedBytes int, largestSentTime time.Duration, rtt *RTTStats) {
	acked, priorInFlight := c.beginAck(ackedBytes, largestSentTime, rtt)
	if acked == 0 {
		return
	}
	// RFC 9002 §7.8: no growth while application or flow control limited.
	if !c.windowUsed(priorInFlight) {
		return
	}
	// RFC 9002 §7.3.2: no growth during a recovery period.
	if c.inCongestionRecovery(largestSentTime) {
		return
	}
	if c.cwnd < c.ssthresh {
		// RFC 9002 §7.3.1: slow start grows by the bytes acknowledged.
		c.cwnd = min(c.cwnd+acked, MaxWindow)
		return
	}
	// RFC 9002 §7.3.3: at most one max_datagram_size per window
	// acknowledged.
	c.bytesAckedInAvoidance += acked
	if c.bytesAckedInAvoidance >= c.cwnd {
		c.bytesAckedInAvoidance -= c.cwnd
		c.cwnd = min(c.cwnd+c.maxDatagramSize, MaxWindow)
		// An ACK larger than a whole window earns one increase only.
		c.bytesAckedInAvoidance = min(c.bytesAckedInAvoidance, c.cwnd)
	}
}

// onCongestionEvent is OnCongestionEvent of RFC 9002 Appendix B.6.
func (c *NewRenoController) onCongestionEvent(now, sentTime time.Duration) {
	// RFC 9002 §7.3.2: no reaction while already in the recovery period.
	if c.inCongestionRecovery(sentTime) {
		return
	}
	c.saveUndo()
	c.undoBytesAcked = c.bytesAckedInAvoidance
	c.startRecovery(now)
	// kLossReductionFactor = 0.5
	// RFC 9002 §7.3.2: halve, but never below kMinimumWindow (as CUBIC
	// does): a window of a few tiny datagrams would otherwise leave
	// ssthresh below the window it falls to, which behaves the same but
	// is not a state worth keeping.
	c.ssthresh = max(c.cwnd/2, c.minimumWindow())
	c.cwnd = c.ssthresh
	c.bytesAckedInAvoidance = 0
}

// OnPacketsLost implements Controller (RFC 9002 Appendix B.8).
func (c *NewRenoController) OnPacketsLost(now time.Duration, lostBytes int, largestLostSentTime time.Duration, persistentCongestion bool) {
	c.removeFromFlight(lostBytes)
	if lostBytes <= 0 {
		return
	}
	c.onCongestionEvent(now, largestLostSentTime)
	if persistentCongestion {
		c.persistentCongestion()
	}
}

// persistentCongestion applies RFC 9002 §7.6.2: the window falls to
// kMinimumWindow; ssthresh, halved by the congestion event the losses
// began, is where slow start ends again.
func (c *NewRenoController) persistentCongestion() {
	c.onPersistentCongestion()
	c.bytesAckedInAvoidance = 0
}

// OnECNCE implements Controller (RFC 9002 Appendix B.7).
func (c *NewRenoController) OnECNCE(now time.Duration, sentTime time.Duration) {
	c.onCongestionEvent(now, sentTime)
	// A CE mark is congestion, whatever happens to losses.
	c.undo.valid = false
}

// UndoCongestionEvent implements Controller: the window, ssthresh and
// recovery period return to what they were before the spurious event.
func (c *NewRenoController) UndoCongestionEvent() {
	if c.restoreUndo() {
		c.bytesAckedInAvoidance = c.undoBytesAcked
	}
}
