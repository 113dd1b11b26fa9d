package congestion

import (
	"math"
	"time"
)

// RFC 9438 §4.1.1 constants.
const (
	// cubicC is C, in segments per second cubed (RFC 9438 §5).
	cubicC = 0.4
	// cubicBeta is β_cubic, the multiplicative decrease factor (§4.6).
	cubicBeta = 0.7
	// cubicAlpha is α_cubic = 3 * (1 - β_cubic) / (1 + β_cubic), the
	// Reno-friendly additive increase (§4.3).
	cubicAlpha = 3 * (1 - cubicBeta) / (1 + cubicBeta)
)

// Cubic is CUBIC (RFC 9438) over the window and recovery rules of RFC 9002,
// starting with HyStart++ (RFC 9406). Windows are kept in bytes as RFC 9438
// §4.1 allows; the RFC's segment formulas are scaled by max_datagram_size.
type CubicController struct {
	window
	hystart hystart
	// fastConvergence enables RFC 9438 §4.7 (on: the SHOULD; a controller
	// cannot know that it is alone on its path).
	fastConvergence bool
	// wMaxFromWindow: W_max is to be taken as the window at the start of
	// congestion avoidance, with K = 0 — after HyStart++ left slow start
	// without a loss (§4.10) and after persistent congestion (§4.8).
	wMaxFromWindow bool
	epochStarted   bool // whether t_epoch is set

	// RFC 9438 §4.1.2 variables, in bytes and seconds.
	wMax      float64       // W_max
	cwndPrior float64       // cwnd_prior
	k         float64       // K
	tEpoch    time.Duration // t_epoch
	cwndEpoch float64       // cwnd_epoch
	wEst      float64       // W_est
	// lastAckTime is the previous ACK in congestion avoidance; the time
	// from it to an ACK that finds the window unused is taken out of t
	// (§4.2: t MUST NOT include application-limited periods).
	lastAckTime time.Duration
	// growth carries the remainder of the integer division in the
	// (target - cwnd) / cwnd increase of §4.4 and §4.5 to the next ACK.
	growth int
	// undo is the CUBIC state before the latest congestion event
	// (RFC 9438 §4.9.2); the window's own is in window.undo.
	undo cubicUndo
}

var _ PacketController = (*CubicController)(nil)

// NewCubic returns a CUBIC controller with HyStart++ for a
// max_datagram_size (0 means DefaultMaxDatagramSize), pacing its packets if
// pacing is true.
func NewCubic(maxDatagramSize int, pacing bool) *CubicController {
	c := &CubicController{fastConvergence: true}
	c.window.init(maxDatagramSize, pacing)
	c.hystart.init()
	// W_max is undefined until the first congestion event (or the end of
	// HyStart++): the first epoch takes it from the window.
	c.wMaxFromWindow = true
	return c
}

// Name implements Controller.
func (c *CubicController) Name() string { return AlgorithmCubic }

// OnAck implements Controller.
func (c *CubicController) OnAck(now time.Duration, ackedBytes int, largestSentTime time.Duration, rtt *RTTStats) {
	acked, priorInFlight := c.beginAck(ackedBytes, largestSentTime, rtt)
	if acked == 0 {
		return
	}
	used := c.windowUsed(priorInFlight)
	if c.cwnd < c.ssthresh {
		if used && !c.inCongestionRecovery(largestSentTime) {
			c.slowStart(now, acked, largestSentTime, rtt)
		}
		return
	}
	if c.inCongestionRecovery(largestSentTime) {
		return
	}
	c.congestionAvoidance(now, acked, used)
}

func (c *CubicController) slowStart(now time.Duration, acked int, largestSentTime time.Duration, rtt *RTTStats) {
	if c.hystart.phase == hystartDone {
		// Standard slow start after persistent congestion (RFC 9406 §4.3:
		// HyStart++ is for the initial slow start only).
		c.cwnd = min(c.cwnd+acked, MaxWindow)
		return
	}
	increase, enterAvoidance := c.hystart.onAck(acked, largestSentTime, c.lastSentTime, rtt, c.maxDatagramSize, c.pacing)
	c.cwnd = min(c.cwnd+increase, MaxWindow)
	if enterAvoidance {
		// RFC 9406 §4.2: ssthresh = cwnd. RFC 9438 §4.10: cwnd_prior =
		// cwnd; W_max is the window at the start of congestion avoidance
		// and K = 0.
		c.ssthresh = c.cwnd
		c.cwndPrior = float64(c.cwnd)
		c.wMaxFromWindow = true
		c.epochStarted = false
	}
}

// startEpoch begins a congestion avoidance stage (RFC 9438 §4.2).
func (c *CubicController) startEpoch(now time.Duration) {
	cwnd := float64(c.cwnd)
	c.epochStarted = true
	c.tEpoch = now
	c.cwndEpoch = cwnd
	// §4.3: W_est is set to cwnd_epoch at the start of the stage.
	c.wEst = cwnd
	c.growth = 0
	if c.wMaxFromWindow {
		// §4.8 and §4.10: K = 0 and W_max = the window at the start of the
		// stage.
		c.wMaxFromWindow = false
		c.wMax = cwnd
		c.k = 0
		return
	}
	// Figure 2: K = cubic_root((W_max - cwnd_epoch) / C), in segments. A
	// window already above W_max gives a negative K: the stage starts in
	// the convex region, and W_cubic(0) = cwnd_epoch still holds.
	c.k = math.Cbrt((c.wMax - cwnd) / (cubicC * float64(c.maxDatagramSize)))
}

// wCubic is W_cubic(t) = C * (t - K)^3 + W_max (Figure 1), in bytes.
func (c *CubicController) wCubic(t float64) float64 {
	d := t - c.k
	return cubicC*d*d*d*float64(c.maxDatagramSize) + c.wMax
}

func (c *CubicController) congestionAvoidance(now time.Duration, acked int, used bool) {
	if !c.epochStarted {
		c.startEpoch(now)
		c.lastAckTime = now
	}
	if !used {
		// §4.2 and §5.8: the window does not grow while the application
		// does not use it, and that time is not part of t.
		if now > c.lastAckTime {
			c.tEpoch += now - c.lastAckTime
		}
		c.lastAckTime = now
		return
	}
	c.lastAckTime = now

	cwnd := float64(c.cwnd)
	mss := float64(c.maxDatagramSize)
	t := (now - c.tEpoch).Seconds()
	rtt := c.smoothedRTT.Seconds()

	// §4.3, Figure 4: W_est = W_est + α_cubic * segments_acked / cwnd,
	// α_cubic becoming 1 once W_est has reached cwnd_prior.
	alpha := cubicAlpha
	if c.wEst >= c.cwndPrior {
		alpha = 1
	}
	c.wEst = min(c.wEst+alpha*mss*float64(acked)/cwnd, MaxWindow)

	wCubicT := c.wCubic(t)
	if wCubicT < c.wEst {
		// Reno-friendly region: cwnd SHOULD be set to W_est. The window
		// never shrinks on an ACK, so a W_est below a window that the
		// cubic target had already raised leaves the window as it is.
		c.cwnd = min(max(c.cwnd, int(c.wEst)), MaxWindow)
		return
	}

	// §4.2: target = W_cubic(t + RTT), clamped to [cwnd, 1.5 * cwnd].
	target := c.wCubic(t + rtt)
	target = max(cwnd, min(target, 1.5*cwnd))
	// §4.4 (concave, cwnd < W_max) and §4.5 (convex, cwnd >= W_max): cwnd
	// grows by (target - cwnd) / cwnd per segment acknowledged, that is by
	// (target - cwnd) * acked / cwnd bytes.
	delta := int(target) - c.cwnd
	if delta <= 0 {
		return
	}
	c.growth += delta * acked
	c.cwnd = min(c.cwnd+c.growth/c.cwnd, MaxWindow)
	c.growth %= max(c.cwnd, 1)
}

// onCongestionEvent applies RFC 9438 §4.6 and §4.7 once per recovery
// period (RFC 9002 §7.3.2).
func (c *CubicController) onCongestionEvent(now, sentTime time.Duration) {
	if c.inCongestionRecovery(sentTime) {
		return
	}
	c.saveUndo()
	c.startRecovery(now)
	// RFC 9406 §4.2: loss or ECN during slow start or CSS ends HyStart++.
	c.hystart.phase = hystartDone
	cwnd := float64(c.cwnd)
	// §4.7 fast convergence: a window below the last W_max means the
	// saturation point fell; release more by lowering W_max further.
	if c.fastConvergence && !c.wMaxFromWindow && cwnd < c.wMax {
		c.wMax = cwnd * (1 + cubicBeta) / 2
	} else {
		c.wMax = cwnd
	}
	c.wMaxFromWindow = false
	// Figure 5, using cwnd for flight_size, as §4.6 allows when the window
	// cannot grow while unused (windowUsed).
	c.cwndPrior = cwnd
	c.ssthresh = max(int(cwnd*cubicBeta), c.minimumWindow())
	// RFC 9002 §7.2: the minimum window applies to ECN-CE too.
	c.cwnd = c.ssthresh
	c.epochStarted = false
	c.growth = 0
}

// OnPacketsLost implements Controller.
func (c *CubicController) OnPacketsLost(now time.Duration, lostBytes int, largestLostSentTime time.Duration, persistentCongestion bool) {
	c.removeFromFlight(lostBytes)
	if lostBytes <= 0 {
		return
	}
	c.onCongestionEvent(now, largestLostSentTime)
	if persistentCongestion {
		c.persistentCongestion()
	}
}

// persistentCongestion applies RFC 9002 §7.6.2: the minimum window. RFC
// 9438 §4.8: ssthresh as set with β_cubic by the congestion event the
// losses began; the next congestion avoidance stage starts with K = 0 and
// W_max = its starting window, W_est too.
func (c *CubicController) persistentCongestion() {
	c.onPersistentCongestion()
	c.wMaxFromWindow = true
	c.epochStarted = false
}

// OnECNCE implements Controller (RFC 9002 §7.1, RFC 9438 §4.6).
func (c *CubicController) OnECNCE(now time.Duration, sentTime time.Duration) {
	c.onCongestionEvent(now, sentTime)
	// A CE mark is congestion, whatever happens to losses.
	c.window.undo.valid = false
}
