package congestion

import "time"

// Measurements over a finished simulation, for the BBR scenarios.

// resetDelays restarts the queueing delay histogram at now.
func (l *simLink) resetDelays(now time.Duration) {
	l.delays = l.delays[:0]
	l.delayFrom = now
}

// medianQueueDelay is the median queueing delay of the packets the link
// accepted from link.delayFrom on (the bin's upper edge).
func (l *simLink) medianQueueDelay() time.Duration {
	var total int64
	for _, n := range l.delays {
		total += n
	}
	var seen int64
	for i, n := range l.delays {
		seen += n
		if 2*seen >= total {
			return time.Duration(i+1) * delayBin
		}
	}
	return 0
}

// sendRate is f's sending rate in bits per second over its whole bins
// between from and to.
func (f *simFlow) sendRate(from, to time.Duration) float64 {
	var b int64
	first, end := int((from+f.binSize-1)/f.binSize), int(to/f.binSize)
	for i := first; i < end && i < len(f.sentBins); i++ {
		b += f.sentBins[i]
	}
	span := time.Duration(end-first) * f.binSize
	if span <= 0 {
		return 0
	}
	return float64(b) * 8 / span.Seconds()
}

// convergeWindow is the averaging window of convergenceTime.
const convergeWindow = 500 * time.Millisecond

// convergenceTime returns how long after step f's sending rate first
// averaged within 10% of bitsPerSecond over three consecutive
// convergeWindow windows, looking no further than until; -1 if it never
// did.
func (f *simFlow) convergenceTime(step, until time.Duration, bitsPerSecond int64) time.Duration {
	target := float64(bitsPerSecond)
	within := func(t time.Duration) bool {
		r := f.sendRate(t, t+convergeWindow)
		return r >= 0.9*target && r <= 1.1*target
	}
	for t := step; t+3*convergeWindow <= until; t += f.binSize {
		if within(t) && within(t+convergeWindow) && within(t+2*convergeWindow) {
			return t - step
		}
	}
	return -1
}

// bbrWatch follows a BBR controller's estimates in a running simulation.
type bbrWatch struct {
	s  *sim
	b  *BBRController
	at time.Duration // the time the simulation has run to
	// bwOut and rttOut are the last times max_bw, min_rtt were outside
	// the band of the current phase.
	bwOut, rttOut time.Duration
}

// run advances the simulation to until in 10 ms steps, noting when the
// bandwidth estimate (max_bw) was more than 10% off bitsPerSecond and the
// min_rtt estimate more than 10% off minRTT.
func (w *bbrWatch) run(until time.Duration, bitsPerSecond int64, minRTT time.Duration) {
	for t := w.at + 10*time.Millisecond; t <= until; t += 10 * time.Millisecond {
		w.s.run(t)
		st := w.b.Stats()
		bw := float64(st.MaxBandwidth) * 8
		if bw < 0.9*float64(bitsPerSecond) || bw > 1.1*float64(bitsPerSecond) {
			w.bwOut = t
		}
		if st.MinRTT < minRTT*9/10 || st.MinRTT > minRTT*11/10 {
			w.rttOut = t
		}
	}
	w.s.run(until)
	w.at = until
}

// settled returns how long after step the estimate last left its band
// (last), or -1 if it was still outside at the end.
func settled(step, last, end time.Duration) time.Duration {
	if last >= end-10*time.Millisecond {
		return -1
	}
	return max(last-step, 0)
}

// stateShare is the share of the queue samples a BBR flow spent in state.
func (f *simFlow) stateShare(state BBRState) float64 { return f.shareOf(&f.bbrStates, state) }

// idleShare is the share of the queue samples that found the link idle
// while a BBR flow was in state.
func (f *simFlow) idleShare(state BBRState) float64 { return f.shareOf(&f.bbrIdle, state) }

// shareOf is counts[state] over all the queue samples of a BBR flow.
func (f *simFlow) shareOf(counts *[bbrNoState + 1]int64, state BBRState) float64 {
	var total int64
	for _, n := range f.bbrStates {
		total += n
	}
	if total == 0 {
		return 0
	}
	return float64(counts[state]) / float64(total)
}
