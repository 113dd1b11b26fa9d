package congestion

import (
	"math"
	"time"
)

// HyStart++ constants, the values RFC 9406 §4.3 recommends.
const (
	hystartMinRTTThresh    = 4 * time.Millisecond
	hystartMaxRTTThresh    = 16 * time.Millisecond
	hystartMinRTTDivisor   = 8
	hystartNRTTSample      = 8
	hystartCSSGrowthDiv    = 4
	hystartCSSRounds       = 5
	hystartNonPacedLimitL  = 8 // L, in max_datagram_size units, when not paced
	infiniteRTT            = time.Duration(math.MaxInt64)
	hystartPacedLimitBytes = MaxWindow // L = infinity when paced
)

// hystartPhase is where the initial slow start is.
type hystartPhase uint8

const (
	// hystartSlowStart: standard slow start, watching for an RTT increase.
	hystartSlowStart hystartPhase = iota
	// hystartCSS: Conservative Slow Start, a quarter of slow start's growth.
	hystartCSS
	// hystartDone: HyStart++ no longer runs; RFC 9406 §4.3 uses it for the
	// initial slow start only.
	hystartDone
)

// hystart is the HyStart++ state of RFC 9406 §4.2. Rounds are delimited by
// send times: a round ends when a packet sent after the last packet sent
// before the round began is acknowledged (windowEnd of the RFC, which is
// defined over sequence numbers, the same thing for a sender whose send
// times increase).
type hystart struct {
	phase              hystartPhase
	windowEnd          time.Duration
	lastRoundMinRTT    time.Duration
	currentRoundMinRTT time.Duration
	rttSampleCount     int
	cssBaselineMinRTT  time.Duration
	// cssRounds counts the CSS rounds begun, the partial first one
	// included (RFC 9406 §4.2).
	cssRounds int
	// samplesSeen is the RTTStats sample count at the previous ACK, to
	// tell whether this ACK brought a new RTT sample (currRTT).
	samplesSeen uint64
}

func (h *hystart) init() {
	*h = hystart{
		phase:              hystartSlowStart,
		windowEnd:          noTime,
		lastRoundMinRTT:    infiniteRTT,
		currentRoundMinRTT: infiniteRTT,
		cssBaselineMinRTT:  infiniteRTT,
	}
}

// rttThresh is RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT /
// MIN_RTT_DIVISOR, MAX_RTT_THRESH)).
func (h *hystart) rttThresh() time.Duration {
	return max(hystartMinRTTThresh, min(h.lastRoundMinRTT/hystartMinRTTDivisor, hystartMaxRTTThresh))
}

// onAck runs RFC 9406 §4.2 for one ACK in slow start. acked is N, the bytes
// newly acknowledged; lastSentTime is the send time of the newest packet
// sent so far (SND.NXT - 1). It returns the window increase and whether the
// sender must now enter congestion avoidance (ssthresh = cwnd).
func (h *hystart) onAck(acked int, largestSentTime, lastSentTime time.Duration, rtt *RTTStats, maxDatagramSize int, paced bool) (increase int, enterAvoidance bool) {
	if largestSentTime > h.windowEnd {
		// The round ends when windowEnd is acknowledged.
		if h.phase == hystartCSS {
			// RFC 9406 §4.2: CSS lasts at most CSS_ROUNDS rounds, then
			// congestion avoidance.
			if h.cssRounds >= hystartCSSRounds {
				h.phase = hystartDone
				return 0, true
			}
			h.cssRounds++
		}
		h.lastRoundMinRTT = h.currentRoundMinRTT
		h.currentRoundMinRTT = infiniteRTT
		h.rttSampleCount = 0
		h.windowEnd = lastSentTime
	}

	// cwnd = cwnd + min(N, L * SMSS), divided by CSS_GROWTH_DIVISOR in CSS.
	limit := hystartPacedLimitBytes
	if !paced {
		limit = hystartNonPacedLimitL * maxDatagramSize
	}
	increase = min(acked, limit)
	if h.phase == hystartCSS {
		increase /= hystartCSSGrowthDiv
	}

	if rtt != nil && rtt.Samples() != h.samplesSeen {
		h.samplesSeen = rtt.Samples()
		h.currentRoundMinRTT = min(h.currentRoundMinRTT, rtt.LatestRTT())
		h.rttSampleCount++
	}
	if h.rttSampleCount < hystartNRTTSample {
		return increase, false
	}
	switch h.phase {
	case hystartSlowStart:
		// Delay increase: the round's minimum RTT rose by RttThresh over
		// the previous round's.
		if h.currentRoundMinRTT != infiniteRTT && h.lastRoundMinRTT != infiniteRTT &&
			h.currentRoundMinRTT >= h.lastRoundMinRTT+h.rttThresh() {
			h.cssBaselineMinRTT = h.currentRoundMinRTT
			h.phase = hystartCSS
			h.cssRounds = 1
		}
	case hystartCSS:
		// The RTT fell below the baseline: the exit was spurious, resume
		// slow start.
		if h.currentRoundMinRTT < h.cssBaselineMinRTT {
			h.cssBaselineMinRTT = infiniteRTT
			h.phase = hystartSlowStart
		}
	}
	return increase, false
}
