package congestion

import "time"

// BBR's network path model and state machine, per ACK (draft-ietf-ccwg-bbr
// §5.2.3, §5.3, §5.5). Function names are the draft's.

// updateModelAndState is UpdateModelAndState (§5.2.3).
func (b *BBRController) updateModelAndState(now time.Duration, rs *rateSample) {
	b.updateLatestDeliverySignals(rs)
	b.updateCongestionSignals(rs)
	b.updateACKAggregation(now, rs)
	b.checkFullBWReached(rs)
	b.checkStartupDone(rs)
	b.checkDrainDone(now)
	b.updateProbeBWCyclePhase(now, rs)
	b.updateMinRTT(now, rs)
	b.checkProbeRTT(now, rs)
	b.advanceLatestDeliverySignals(rs)
	b.boundBWForModel()
}

// setState enters a state with its pacing and cwnd gains (§5.6.1).
func (b *BBRController) setState(state BBRState, pacingGain, cwndGain uint64) {
	b.state = state
	b.pacingGain = pacingGain
	b.cwndGain = cwndGain
}

// Round counting (§5.5.1).

func (b *BBRController) startRound() { b.nextRoundDelivered = b.sampler.delivered }

// updateRound is UpdateRound, which also moves C.is_cwnd_limited's window
// on by a round.
func (b *BBRController) updateRound(rs *rateSample) {
	if rs.priorDelivered < b.nextRoundDelivered {
		b.roundStart = false
		return
	}
	b.startRound()
	b.roundCount++
	b.roundsSinceProbeUp++
	b.roundStart = true
	b.cwndLimitedPrevRound = b.cwndLimitedInRound
	b.cwndLimitedInRound = b.inFlight+b.smss > b.cwnd
}

// isCwndLimited is C.is_cwnd_limited: the window was full at some point in
// the last packet-timed round trip.
func (b *BBRController) isCwndLimited() bool {
	return b.cwndLimitedInRound || b.cwndLimitedPrevRound
}

// The bandwidth filters (§5.5.2 to §5.5.6).

// updateMaxBw is UpdateMaxBw (§5.5.5). The filter keeps the largest
// sample of the current ProbeBW cycle and of the previous one.
func (b *BBRController) updateMaxBw(rs *rateSample) {
	b.updateRound(rs)
	if rs.deliveryRate > 0 && (rs.deliveryRate >= b.maxBw || !rs.isAppLimited) {
		b.bwFilter[1] = max(b.bwFilter[1], rs.deliveryRate)
		b.maxBw = max(b.bwFilter[0], b.bwFilter[1])
	}
}

// advanceMaxBwFilter is AdvanceMaxBwFilter (§5.5.6): a new cycle.
func (b *BBRController) advanceMaxBwFilter() {
	b.cycleCount++
	b.bwFilter[0], b.bwFilter[1] = b.bwFilter[1], 0
	b.maxBw = b.bwFilter[0]
}

// updateACKAggregation is UpdateACKAggregation (§5.5.9).
func (b *BBRController) updateACKAggregation(now time.Duration, rs *rateSample) {
	interval := max(now-b.extraAckedStart, 0)
	expected := int64(min(mulDiv(b.bw, uint64(interval), uint64(time.Second)), 2*MaxWindow))
	// An ACK rate below the expected rate ends the aggregation episode.
	if b.extraAckedBytes <= expected {
		b.extraAckedBytes = 0
		b.extraAckedStart = now
		expected = 0
	}
	b.extraAckedBytes = min(b.extraAckedBytes+rs.newlyAcked, 4*MaxWindow)
	extra := min(b.extraAckedBytes-expected, int64(b.cwnd))
	filterLen := uint64(1) // in Startup, just remember one round
	if b.fullBwReached {
		filterLen = bbrExtraAckedFilterLen
	}
	b.extraAcked = int(b.extraAckedFilter.update(b.roundCount, filterLen, uint64(max(extra, 0))))
}

// Startup (§5.3.1).

func (b *BBRController) enterStartup() {
	b.setState(BBRStartup, bbrStartupPacingGain, bbrDefaultCwndGain)
}

// resetFullBW is ResetFullBW (§5.3.1.2).
func (b *BBRController) resetFullBW() {
	b.fullBw = 0
	b.fullBwCount = 0
	b.fullBwNow = false
}

// checkFullBWReached is CheckFullBWReached (§5.3.1.2): three
// non-application-limited rounds without 25% growth fill the pipe.
func (b *BBRController) checkFullBWReached(rs *rateSample) {
	if b.fullBwNow || !b.roundStart || rs.isAppLimited {
		return
	}
	if rs.deliveryRate >= mulDiv(b.fullBw, bbrFullBwGrowthPercent, 100) && rs.deliveryRate > 0 {
		b.resetFullBW()
		b.fullBw = rs.deliveryRate
		return
	}
	b.fullBwCount++
	b.fullBwNow = b.fullBwCount >= bbrFullBwRounds
	if b.fullBwNow {
		b.fullBwReached = true
	}
}

// checkStartupDone is CheckStartupDone (§5.3.1.1).
func (b *BBRController) checkStartupDone(rs *rateSample) {
	b.checkStartupHighLoss(rs)
	if b.state == BBRStartup && b.fullBwReached {
		b.enterDrain()
	}
}

// checkStartupHighLoss is CheckStartupHighLoss (§5.3.1.3), which the draft
// describes in prose: in recovery for at least a full packet-timed round
// trip, a loss rate above BBR.LossThresh over the round trip of this
// sample, and at least BBRStartupFullLossCnt discontiguous losses in the
// loss round.
func (b *BBRController) checkStartupHighLoss(rs *rateSample) {
	if b.state != BBRStartup || b.fullBwReached {
		return
	}
	if !b.inRecovery || rs.priorDelivered < b.recoveryDelivered {
		return
	}
	if b.lossEventsInRound < bbrStartupFullLossCnt || !isInflightTooHigh(rs.lost, rs.txInFlight) {
		return
	}
	b.undoState = BBRStartup
	b.fullBwReached = true
	b.fullBwNow = true
	b.inflightLongterm = max(b.bdp, b.inflightLatest)
	b.enterDrain()
}

// Drain (§5.3.2).

func (b *BBRController) enterDrain() {
	b.setState(BBRDrain, bbrDrainPacingGain, bbrDefaultCwndGain)
	b.drainStartRound = b.roundCount
}

// checkDrainDone is CheckDrainDone (§5.3.2).
func (b *BBRController) checkDrainDone(now time.Duration) {
	if b.state == BBRDrain &&
		(b.inFlight <= b.inflight(b.bw, bbrUnitGain) || b.roundCount > b.drainStartRound+3) {
		b.enterProbeBW(now)
	}
}

// ProbeBW (§5.3.3).

func (b *BBRController) enterProbeBW(now time.Duration) {
	b.cwndGain = bbrDefaultCwndGain
	b.startProbeBWDown(now)
}

func (b *BBRController) startProbeBWDown(now time.Duration) {
	b.resetCongestionSignals()
	b.probeUpAckedPerInc = inflightInfinity
	b.pickProbeWait()
	b.cycleStamp = now
	b.ackPhase = acksProbeStopping
	b.startRound()
	b.setState(BBRProbeBWDown, bbrProbeDownPacingGain, bbrDefaultCwndGain)
}

func (b *BBRController) startProbeBWCruise() {
	b.setState(BBRProbeBWCruise, bbrUnitGain, bbrDefaultCwndGain)
}

func (b *BBRController) startProbeBWRefill() {
	b.resetShortTermModel()
	b.bwProbeUpRounds = 0
	b.bwProbeUpAcked = 0
	b.prevProbePrecautionary = false
	b.ackPhase = acksRefilling
	b.startRound()
	b.setState(BBRProbeBWRefill, bbrUnitGain, bbrDefaultCwndGain)
}

func (b *BBRController) startProbeBWUp(rs *rateSample) {
	b.ackPhase = acksProbeStarting
	b.startRound()
	b.resetFullBW()
	b.fullBw = rs.deliveryRate
	b.setState(BBRProbeBWUp, bbrProbeUpPacingGain, bbrProbeUpCwndGain)
	b.raiseInflightLongtermSlope()
}

func (b *BBRController) isInAProbeBWState() bool {
	return b.state >= BBRProbeBWDown && b.state <= BBRProbeBWUp
}

// isProbingBW is IsProbingBW: the accelerating states.
func (b *BBRController) isProbingBW() bool {
	return b.state == BBRStartup || b.state == BBRProbeBWRefill || b.state == BBRProbeBWUp
}

// updateProbeBWCyclePhase is UpdateProbeBWCyclePhase (§5.3.3.9).
func (b *BBRController) updateProbeBWCyclePhase(now time.Duration, rs *rateSample) {
	if !b.fullBwReached {
		return // only handling steady-state behavior here
	}
	if b.adaptLongTermModel(rs) {
		return // already decided state transition
	}
	switch b.state {
	case BBRProbeBWDown:
		if b.isTimeToProbeBW(now) {
			return
		}
		if b.isTimeToCruise() {
			b.startProbeBWCruise()
		}
	case BBRProbeBWCruise:
		b.isTimeToProbeBW(now)
	case BBRProbeBWRefill:
		// After one round of REFILL, start UP.
		if b.roundStart {
			b.isBwProbeSample = true
			b.startProbeBWUp(rs)
		}
	case BBRProbeBWUp:
		if b.isTimeToGoDown(rs) {
			b.prevProbeTooHigh = false // no high loss (yet)
			b.startProbeBWDown(now)
		}
	}
}

// isTimeToCruise is IsTimeToCruise (§5.3.3.9).
func (b *BBRController) isTimeToCruise() bool {
	if b.inFlight > b.inflightWithHeadroom() {
		return false // not enough headroom
	}
	return b.inFlight <= b.inflight(b.maxBw, bbrUnitGain) // no queue left
}

// isTimeToGoDown is IsTimeToGoDown (§5.3.3.9).
func (b *BBRController) isTimeToGoDown(rs *rateSample) bool {
	// Precautionary bandwidth probing: deceleration.
	if b.prevProbeTooHigh && b.inFlight >= b.inflightLongterm {
		b.prevProbePrecautionary = true
		return true
	}
	if b.isCwndLimited() && b.cwnd >= b.inflightLongterm {
		// The bandwidth is limited by inflight_longterm, not the path.
		b.resetFullBW()
		b.fullBw = rs.deliveryRate
	} else if b.fullBwNow {
		return true // the path's bandwidth is in use
	}
	return false
}

// hasElapsedInPhase is HasElapsedInPhase (§5.3.3.9).
func (b *BBRController) hasElapsedInPhase(now, interval time.Duration) bool {
	return now > b.cycleStamp+interval
}

// inflightWithHeadroom is InflightWithHeadroom (§5.3.3.9): the long-term
// bound less some headroom for other flows.
func (b *BBRController) inflightWithHeadroom() int {
	if b.inflightLongterm == inflightInfinity {
		return inflightInfinity
	}
	headroom := max(b.smss, b.inflightLongterm*bbrHeadroomPercent/100)
	return max(b.inflightLongterm-headroom, b.minPipeCwnd())
}

// raiseInflightLongtermSlope is RaiseInflightLongtermSlope (§5.3.3.9):
// inflight_longterm grows by 1, 2, 4, ... packets per round.
func (b *BBRController) raiseInflightLongtermSlope() {
	growthThisRound := 1 << b.bwProbeUpRounds
	b.bwProbeUpRounds = min(b.bwProbeUpRounds+1, bbrMaxProbeUpRounds)
	b.probeUpAckedPerInc = max(b.cwnd/growthThisRound, b.smss)
}

// probeInflightLongtermUpward is ProbeInflightLongtermUpward (§5.3.3.9).
func (b *BBRController) probeInflightLongtermUpward(rs *rateSample) {
	if !b.isCwndLimited() || b.cwnd < b.inflightLongterm {
		return // not fully using inflight_longterm, so don't grow it
	}
	b.bwProbeUpAcked += int(rs.newlyAcked)
	if b.bwProbeUpAcked >= b.probeUpAckedPerInc {
		delta := b.bwProbeUpAcked / b.probeUpAckedPerInc
		b.bwProbeUpAcked -= delta * b.probeUpAckedPerInc
		b.inflightLongterm = min(b.inflightLongterm+delta*b.smss, MaxWindow)
	}
	if b.roundStart {
		b.raiseInflightLongtermSlope()
	}
}

// adaptLongTermModel is AdaptLongTermModel (§5.3.3.9); it reports whether
// it decided a state transition.
func (b *BBRController) adaptLongTermModel(rs *rateSample) bool {
	if b.ackPhase == acksProbeStarting && b.roundStart {
		b.ackPhase = acksProbeFeedback // starting to get bw probing samples
	}
	if b.ackPhase == acksProbeStopping && b.roundStart {
		// End of samples from the bandwidth probing phase.
		b.isBwProbeSample = false
		b.ackPhase = acksInit
		if b.isInAProbeBWState() && !rs.isAppLimited {
			b.advanceMaxBwFilter()
		}
		// Precautionary bandwidth probing: acceleration.
		if b.isInAProbeBWState() && b.prevProbePrecautionary && !b.prevProbeTooHigh {
			b.startProbeBWRefill()
			return true
		}
	}
	if isInflightTooHigh(rs.lost, rs.txInFlight) {
		return false
	}
	// The loss rate is safe: raise the upper bound.
	if b.inflightLongterm == inflightInfinity {
		return false
	}
	if rs.txInFlight > int64(b.inflightLongterm) {
		b.inflightLongterm = int(min(rs.txInFlight, MaxWindow))
	}
	if b.state == BBRProbeBWUp {
		b.probeInflightLongtermUpward(rs)
	}
	return false
}

// pickProbeWait is PickProbeWait (§5.3.3.8): 0 or 1 round, and 2 to 3
// seconds.
func (b *BBRController) pickProbeWait() {
	b.roundsSinceProbeUp = b.random(2)
	b.bwProbeWait = bbrProbeWaitBase + time.Duration(b.random(uint64(bbrProbeWaitRandom)))
}

// isTimeToProbeBW is IsTimeToProbeBW (§5.3.3.8).
func (b *BBRController) isTimeToProbeBW(now time.Duration) bool {
	if b.hasElapsedInPhase(now, b.bwProbeWait) || b.isRenoCoexistenceProbeTime() {
		b.startProbeBWRefill()
		return true
	}
	return false
}

// isRenoCoexistenceProbeTime is IsRenoCoexistenceProbeTime (§5.3.3.8):
// T_reno, the target inflight in packets, at most 63 rounds.
func (b *BBRController) isRenoCoexistenceProbeTime() bool {
	renoRounds := uint64(b.targetInflight() / b.smss)
	return b.roundsSinceProbeUp >= min(renoRounds, bbrMaxRenoRounds)
}

// targetInflight is TargetInflight (§5.3.3.8).
func (b *BBRController) targetInflight() int { return min(b.bdp, b.cwnd) }

// ProbeRTT and min_rtt (§5.3.4).

// updateMinRTT is UpdateMinRTT (§5.3.4.3).
func (b *BBRController) updateMinRTT(now time.Duration, rs *rateSample) {
	b.probeRTTExpired = now > b.probeRTTMinStamp+bbrProbeRTTInterval
	if rs.rtt >= 0 && (rs.rtt < b.probeRTTMinDelay || b.probeRTTExpired) {
		b.probeRTTMinDelay = rs.rtt
		b.probeRTTMinStamp = now
	}
	minRTTExpired := now > b.minRTTStamp+bbrMinRTTFilterLen
	if b.probeRTTMinDelay < b.minRTT || minRTTExpired {
		b.minRTT = b.probeRTTMinDelay
		b.minRTTStamp = b.probeRTTMinStamp
	}
}

// checkProbeRTT is CheckProbeRTT (§5.3.4.3).
func (b *BBRController) checkProbeRTT(now time.Duration, rs *rateSample) {
	if b.state != BBRProbeRTT && b.probeRTTExpired && !b.idleRestart {
		b.enterProbeRTT()
		b.saveCwnd()
		b.probeRTTDoneSet = false
		b.ackPhase = acksProbeStopping
		b.startRound()
	}
	if b.state == BBRProbeRTT {
		b.handleProbeRTT(now)
	}
	if rs.delivered > 0 {
		b.idleRestart = false
	}
}

func (b *BBRController) enterProbeRTT() {
	b.setState(BBRProbeRTT, bbrUnitGain, bbrProbeRTTCwndGain)
}

// handleProbeRTT is HandleProbeRTT (§5.3.4.3).
func (b *BBRController) handleProbeRTT(now time.Duration) {
	// Ignore low rate samples during ProbeRTT.
	b.sampler.markAppLimited(b.inFlight)
	switch {
	case !b.probeRTTDoneSet && b.inFlight <= b.probeRTTCwnd():
		// Wait for at least ProbeRTTDuration and one round.
		b.probeRTTDoneStamp = now + bbrProbeRTTDuration
		b.probeRTTDoneSet = true
		b.probeRTTRoundDone = false
		b.startRound()
	case b.probeRTTDoneSet:
		if b.roundStart {
			b.probeRTTRoundDone = true
		}
		if b.probeRTTRoundDone {
			b.checkProbeRTTDone(now)
		}
	}
}

// checkProbeRTTDone is CheckProbeRTTDone (§5.3.4.3).
func (b *BBRController) checkProbeRTTDone(now time.Duration) {
	if b.probeRTTDoneSet && now > b.probeRTTDoneStamp {
		// Schedule the next ProbeRTT.
		b.probeRTTMinStamp = now
		b.restoreCwnd()
		b.exitProbeRTT(now)
	}
}

// exitProbeRTT is ExitProbeRTT (§5.3.4.4).
func (b *BBRController) exitProbeRTT(now time.Duration) {
	b.resetShortTermModel()
	if b.fullBwReached {
		b.startProbeBWDown(now)
		b.startProbeBWCruise()
	} else {
		b.enterStartup()
	}
}

// Congestion signals (§5.5.10).

// updateLatestDeliverySignals is UpdateLatestDeliverySignals.
func (b *BBRController) updateLatestDeliverySignals(rs *rateSample) {
	b.lossRoundStart = false
	b.bwLatest = max(b.bwLatest, rs.deliveryRate)
	b.inflightLatest = max(b.inflightLatest, int(min(rs.delivered, MaxWindow)))
	if rs.priorDelivered >= b.lossRoundDelivered {
		b.lossRoundDelivered = b.sampler.delivered
		b.lossRoundStart = true
	}
}

// advanceLatestDeliverySignals is AdvanceLatestDeliverySignals, which
// also starts the next loss round's count of loss events.
func (b *BBRController) advanceLatestDeliverySignals(rs *rateSample) {
	if b.lossRoundStart {
		b.bwLatest = rs.deliveryRate
		b.inflightLatest = int(min(rs.delivered, MaxWindow))
		b.lossEventsInRound = 0
	}
}

func (b *BBRController) resetCongestionSignals() {
	b.isLossInRound = false
	b.bwLatest = 0
	b.inflightLatest = 0
}

// updateCongestionSignals is UpdateCongestionSignals.
func (b *BBRController) updateCongestionSignals(rs *rateSample) {
	b.updateMaxBw(rs)
	if !b.lossRoundStart {
		return // wait until the end of the round trip
	}
	b.adaptLowerBoundsFromCongestion()
	b.isLossInRound = false
}

// adaptLowerBoundsFromCongestion is AdaptLowerBoundsFromCongestion: once
// per round trip with loss, outside the probing states, the short-term
// model falls to what was delivered, by at most BBR.Beta.
func (b *BBRController) adaptLowerBoundsFromCongestion() {
	if b.isProbingBW() || !b.isLossInRound {
		return
	}
	// InitLowerBounds:
	if b.bwShortterm == bwInfinity {
		b.bwShortterm = b.maxBw
	}
	if b.inflightShortterm == inflightInfinity {
		b.inflightShortterm = b.cwnd
	}
	// LossLowerBounds:
	b.bwShortterm = max(b.bwLatest, mulDiv(b.bwShortterm, bbrBetaPercent, 100))
	b.inflightShortterm = max(b.inflightLatest, b.inflightShortterm*bbrBetaPercent/100)
}

func (b *BBRController) resetShortTermModel() {
	b.bwShortterm = bwInfinity
	b.inflightShortterm = inflightInfinity
}

// boundBWForModel is BoundBWForModel, and keeps BBR.bdp for it.
func (b *BBRController) boundBWForModel() {
	b.bw = min(b.maxBw, b.bwShortterm)
	if b.minRTT != Never {
		b.bdp = int(min(mulDiv(b.bw, uint64(b.minRTT), uint64(time.Second)), MaxWindow))
	}
}

// noteLoss is NoteLoss (§5.5.10.2), less its SaveStateUponLoss: the state
// to undo is saved once per loss recovery episode, when the recovery
// period starts (enterRecovery, as §5.5.11.1 and §5.6.4.4 describe). Saved
// again at the first loss of every round, it would be overwritten by the
// next loss of the same episode whenever StartProbeBW_DOWN has just
// cleared is_loss_in_round, which is exactly when an undo matters.
func (b *BBRController) noteLoss() {
	if !b.isLossInRound { // the first loss in this round trip
		b.lossRoundDelivered = b.sampler.delivered
	}
	b.isLossInRound = true
}

// handleLostPacket is HandleLostPacket (§5.5.10.2), with a sample of its
// own: the loss may come on the loss timer, outside any ACK frame, and
// must not disturb the sample of the frame being processed.
func (b *BBRController) handleLostPacket(now time.Duration, p *PacketState) {
	b.noteLoss()
	if !b.isBwProbeSample {
		return // not a packet sent while probing bandwidth
	}
	txInFlight := p.txInFlight
	lost := b.sampler.lost - p.lost // data lost since it was sent
	if isInflightTooHigh(lost, txInFlight) {
		txInFlight = inflightAtLoss(int64(p.size), txInFlight, lost)
		b.handleInflightTooHigh(now, p.flags&packetAppLimited != 0, txInFlight)
	}
}

// isInflightTooHigh is IsInflightTooHigh (§5.5.10.2): more than
// BBR.LossThresh of what was in flight was lost. QUIC always has selective
// acknowledgments.
func isInflightTooHigh(lost, txInFlight int64) bool {
	return lost*100 > txInFlight*bbrLossThreshPercent
}

// inflightAtLoss is InflightAtLoss (§5.5.10.2): the bytes in flight at
// which the loss rate crossed BBR.LossThresh, within the packet of the
// given size.
func inflightAtLoss(size, txInFlight, lost int64) int64 {
	inflightPrev := txInFlight - size
	lostPrev := lost - size
	// lost_prefix = (LossThresh * inflight_prev - lost_prev) / (1 - LossThresh)
	lostPrefix := (bbrLossThreshPercent*inflightPrev - 100*lostPrev) / (100 - bbrLossThreshPercent)
	return max(inflightPrev+lostPrefix, 0)
}

// handleInflightTooHigh is HandleInflightTooHigh (§5.5.10.2).
func (b *BBRController) handleInflightTooHigh(now time.Duration, appLimited bool, txInFlight int64) {
	b.prevProbeTooHigh = true
	b.isBwProbeSample = false // only react once per bandwidth probe
	if !appLimited {
		target := b.targetInflight() * bbrBetaPercent / 100
		b.inflightLongterm = max(int(min(txInFlight, MaxWindow)), target)
	}
	if b.state == BBRProbeBWUp {
		b.undoState = BBRProbeBWUp
		b.startProbeBWDown(now)
	}
}

// saveStateUponLoss is SaveStateUponLoss (§5.5.11.1).
func (b *BBRController) saveStateUponLoss() {
	b.saveCwnd()
	b.undoState = bbrNoState
	b.undoBwShortterm = b.bwShortterm
	b.undoInflightShortterm = b.inflightShortterm
	b.undoInflightLongterm = b.inflightLongterm
	b.undoValid = true
}
