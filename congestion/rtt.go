package congestion

import "time"

// RFC 9002 Appendix A.2 constants used by the RTT estimator.
const (
	// InitialRTT is kInitialRtt, the RTT assumed before any sample
	// (RFC 9002 §6.2.2).
	InitialRTT = 333 * time.Millisecond
	// Granularity is kGranularity, the timer granularity (RFC 9002 §6.1.2).
	Granularity = time.Millisecond
	// PersistentCongestionThreshold is kPersistentCongestionThreshold,
	// a multiplier of the PTO period (RFC 9002 §7.6.1).
	PersistentCongestionThreshold = 3
	// MaxRTTSample bounds a single RTT sample and an acknowledgment delay.
	// Larger values can only come from a broken clock or a lying peer; the
	// bound keeps every derived duration (PTO, persistent congestion
	// duration) far from overflowing time.Duration.
	MaxRTTSample = 10 * time.Minute
)

// RTTStats estimates a path's round-trip time as RFC 9002 §5 describes:
// latest_rtt, min_rtt, smoothed_rtt and rttvar. The connection owns one
// per path, feeds it one sample per ACK frame that newly acknowledges the
// largest acknowledged packet (RFC 9002 §5.1), and hands it to the
// Controller, which reads the smoothed RTT (pacing, CUBIC) and the latest
// sample (HyStart++).
//
// The zero value is ready to use and starts from InitialRTT.
type RTTStats struct {
	latest      time.Duration
	adjusted    time.Duration
	smoothed    time.Duration
	rttvar      time.Duration
	minRTT      time.Duration
	initialRTT  time.Duration
	maxAckDelay time.Duration
	// samples counts RTT samples taken; controllers compare it with the
	// count they saw last to learn whether an ACK carried a new sample.
	samples         uint64
	firstSampleTime time.Duration
}

// SetInitialRTT sets the RTT used before the first sample, for example the
// smoothed RTT remembered from a previous connection (RFC 9002 §6.2.2).
// It has no effect once a sample has been taken.
func (r *RTTStats) SetInitialRTT(d time.Duration) {
	if d <= 0 || d > MaxRTTSample {
		return
	}
	r.initialRTT = d
}

// SetMaxAckDelay records the peer's max_ack_delay transport parameter
// (RFC 9000 §18.2).
func (r *RTTStats) SetMaxAckDelay(d time.Duration) {
	r.maxAckDelay = clampDuration(d, 0, MaxRTTSample)
}

// UpdateRTT takes one RTT sample: latestRTT is ack_time minus the send time
// of the largest acknowledged packet (RFC 9002 §5.1), ackDelay the decoded
// ACK Delay field, now the time the ACK was received. The caller passes
// ackDelay 0 for Initial packets, whose acknowledgments are not delayed
// (RFC 9002 §5.3). Negative samples are ignored.
func (r *RTTStats) UpdateRTT(now, latestRTT, ackDelay time.Duration, handshakeConfirmed bool) {
	if latestRTT < 0 {
		return
	}
	latestRTT = min(latestRTT, MaxRTTSample)
	ackDelay = clampDuration(ackDelay, 0, MaxRTTSample)
	r.latest = latestRTT
	r.samples++
	if r.samples == 1 {
		// RFC 9002 §5.2: min_rtt is the first sample; §5.3: the estimator
		// is reset using it.
		r.firstSampleTime = now
		r.adjusted = latestRTT
		r.minRTT = latestRTT
		r.smoothed = latestRTT
		r.rttvar = latestRTT / 2
		return
	}
	// RFC 9002 §5.2: min_rtt ignores acknowledgment delay.
	r.minRTT = min(r.minRTT, latestRTT)
	// RFC 9002 §5.3: use the lesser of ack_delay and max_ack_delay once the
	// handshake is confirmed, and never subtract it below min_rtt.
	if handshakeConfirmed {
		ackDelay = min(ackDelay, r.maxAckDelay)
	}
	adjusted := latestRTT
	if latestRTT >= r.minRTT+ackDelay {
		adjusted = latestRTT - ackDelay
	}
	r.adjusted = adjusted
	// smoothed_rtt = 7/8 * smoothed_rtt + 1/8 * adjusted_rtt
	r.smoothed = r.smoothed - r.smoothed/8 + adjusted/8
	// rttvar = 3/4 * rttvar + 1/4 * abs(smoothed_rtt - adjusted_rtt)
	sample := r.smoothed - adjusted
	if sample < 0 {
		sample = -sample
	}
	r.rttvar = r.rttvar - r.rttvar/4 + sample/4
}

// OnPersistentCongestion resets min_rtt to the newest sample, as RFC 9002
// §5.2 recommends once persistent congestion is established, so that an
// RTT increase does not cause persistent congestion to be declared again
// and again.
func (r *RTTStats) OnPersistentCongestion() {
	if r.samples > 0 {
		r.minRTT = r.latest
	}
}

// Reset forgets every sample, for a new path (RFC 9000 §9.4). The initial
// RTT and max_ack_delay are kept.
func (r *RTTStats) Reset() {
	*r = RTTStats{initialRTT: r.initialRTT, maxAckDelay: r.maxAckDelay}
}

// HasSample reports whether at least one RTT sample has been taken.
func (r *RTTStats) HasSample() bool { return r.samples > 0 }

// Samples is the number of RTT samples taken so far.
func (r *RTTStats) Samples() uint64 { return r.samples }

// FirstSampleTime is the time of the first RTT sample (first_rtt_sample in
// RFC 9002 Appendix A.3); persistent congestion only considers packets sent
// after it (RFC 9002 §7.6.2). It is zero before the first sample.
func (r *RTTStats) FirstSampleTime() time.Duration { return r.firstSampleTime }

// LatestRTT is latest_rtt; zero before the first sample.
func (r *RTTStats) LatestRTT() time.Duration { return r.latest }

// AdjustedRTT is latest_rtt less the ACK delay as smoothed_rtt takes it
// (RFC 9002 §5.3: limited to max_ack_delay once the handshake is
// confirmed, and not subtracted below min_rtt); zero before the first
// sample. BBR takes its RTT samples from it.
func (r *RTTStats) AdjustedRTT() time.Duration { return r.adjusted }

// MinRTT is min_rtt; zero before the first sample.
func (r *RTTStats) MinRTT() time.Duration { return r.minRTT }

// SmoothedRTT is smoothed_rtt; the initial RTT before the first sample
// (RFC 9002 §5.3).
func (r *RTTStats) SmoothedRTT() time.Duration {
	if r.samples == 0 {
		return r.initial()
	}
	return r.smoothed
}

// RTTVar is rttvar; half the initial RTT before the first sample.
func (r *RTTStats) RTTVar() time.Duration {
	if r.samples == 0 {
		return r.initial() / 2
	}
	return r.rttvar
}

// MaxAckDelay is the peer's max_ack_delay as set by SetMaxAckDelay.
func (r *RTTStats) MaxAckDelay() time.Duration { return r.maxAckDelay }

// PTO is the probe timeout period of RFC 9002 §6.2.1 without backoff:
// smoothed_rtt + max(4*rttvar, kGranularity) + max_ack_delay. The caller
// leaves max_ack_delay out (includeMaxAckDelay false) for the Initial and
// Handshake packet number spaces.
func (r *RTTStats) PTO(includeMaxAckDelay bool) time.Duration {
	pto := r.SmoothedRTT() + max(4*r.RTTVar(), Granularity)
	if includeMaxAckDelay {
		pto += r.maxAckDelay
	}
	return pto
}

// PersistentCongestionDuration is the duration of RFC 9002 §7.6.1:
// (smoothed_rtt + max(4*rttvar, kGranularity) + max_ack_delay) *
// kPersistentCongestionThreshold. It always includes max_ack_delay.
func (r *RTTStats) PersistentCongestionDuration() time.Duration {
	return r.PTO(true) * PersistentCongestionThreshold
}

func (r *RTTStats) initial() time.Duration {
	if r.initialRTT == 0 {
		return InitialRTT
	}
	return r.initialRTT
}

func clampDuration(d, lo, hi time.Duration) time.Duration {
	return max(lo, min(d, hi))
}
