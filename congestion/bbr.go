package congestion

import (
	"math"
	"math/rand/v2"
	"time"
)

// BBR constants (draft-ietf-ccwg-bbr-06 §2, §5). Gains and fractions are in
// percent, so that the model stays in integer bytes and nanoseconds.
const (
	bbrStartupPacingGain   = 277 // BBR.StartupPacingGain, 4 ln 2
	bbrDrainPacingGain     = 50  // BBR.DrainPacingGain
	bbrDefaultCwndGain     = 200 // BBR.DefaultCwndGain
	bbrProbeUpPacingGain   = 125 // ProbeBW_UP (§5.3.3.5)
	bbrProbeUpCwndGain     = 225
	bbrProbeDownPacingGain = 90 // ProbeBW_DOWN (§5.3.3.1)
	bbrUnitGain            = 100
	bbrProbeRTTCwndGain    = 50 // BBR.ProbeRTTCwndGain
	bbrPacingMarginPercent = 1  // BBR.PacingMarginPercent
	bbrLossThreshPercent   = 2  // BBR.LossThresh
	bbrBetaPercent         = 70 // BBR.Beta
	bbrHeadroomPercent     = 15 // BBR.Headroom
	bbrFullBwGrowthPercent = 125
	bbrFullBwRounds        = 3
	bbrStartupFullLossCnt  = 6 // BBRStartupFullLossCnt (§5.3.1.3)
	bbrMinPipeCwndPackets  = 4 // BBR.MinPipeCwnd, in C.SMSS
	bbrMaxBwFilterLen      = 2 // BBR.MaxBwFilterLen, in ProbeBW cycles
	bbrExtraAckedFilterLen = 10
	bbrMaxRenoRounds       = 63 // the bound of T_reno (§5.3.3.8.2)
	bbrMaxProbeUpRounds    = 30
	bbrSendQuantumMax      = 64 * 1024
	bbrMinRTTFilterLen     = 10 * time.Second // BBR.MinRTTFilterLen
	bbrProbeRTTInterval    = 5 * time.Second  // BBR.ProbeRTTInterval
	bbrProbeRTTDuration    = 200 * time.Millisecond
	bbrSendQuantumTime     = time.Millisecond
	bbrProbeWaitBase       = 2 * time.Second // T_bbr is 2 to 3 seconds
	bbrProbeWaitRandom     = time.Second

	bwInfinity       = math.MaxUint64
	inflightInfinity = math.MaxInt
)

// BBRState is the state of BBR's state machine (draft-ietf-ccwg-bbr §5.1).
type BBRState uint8

// The states of §5.1.1.
const (
	BBRStartup BBRState = iota
	BBRDrain
	BBRProbeBWDown
	BBRProbeBWCruise
	BBRProbeBWRefill
	BBRProbeBWUp
	BBRProbeRTT
	// bbrNoState is "None", the undo state when no transition is to be
	// undone (§2.15).
	bbrNoState
)

var bbrStateNames = [...]string{"Startup", "Drain", "ProbeBW_DOWN", "ProbeBW_CRUISE", "ProbeBW_REFILL", "ProbeBW_UP", "ProbeRTT", "None"}

func (s BBRState) String() string {
	if int(s) < len(bbrStateNames) {
		return bbrStateNames[s]
	}
	return "BBRState?"
}

// ackPhase is BBR.ack_phase (§2.14).
type ackPhase uint8

const (
	acksInit ackPhase = iota
	acksRefilling
	acksProbeStarting
	acksProbeFeedback
	acksProbeStopping
)

// BBRController is BBR version 3 as draft-ietf-ccwg-bbr-06 specifies it,
// over QUIC (RFC 9002). It needs the per-packet calls of PacketController;
// through the aggregated calls of Controller alone it only keeps
// bytes_in_flight and stays at its initial window and pacing rate.
type BBRController struct {
	smss        int // C.SMSS, max_datagram_size
	initialCwnd int // C.InitialCwnd
	cwnd        int // C.cwnd
	inFlight    int // C.inflight, bytes_in_flight
	pacingRate  uint64
	sendQuantum int // C.send_quantum
	pacer       Pacer
	sampler     rateSampler
	rng         uint64

	started bool // a first event has set the clocks' starting points
	// rttSamples is the RTTStats sample count seen at the last ACK, to
	// tell whether the next ACK brought a sample.
	rttSamples uint64
	// The RFC 9002 §7.3.2 recovery period, BBR's "fast recovery":
	// congestion_recovery_start_time (noTime before the first), and
	// whether the period is still in progress.
	inRecovery    bool
	recoveryStart time.Duration
	// recoveryDelivered is C.delivered when recovery began: a rate sample
	// from a packet sent after that shows a full round in recovery.
	recoveryDelivered int64

	// General algorithm state (§2.7).
	state              BBRState
	pacingGain         uint64
	cwndGain           uint64
	roundCount         uint64
	roundStart         bool
	nextRoundDelivered int64
	idleRestart        bool
	drainStartRound    uint64
	// C.is_cwnd_limited is whether the window was full at any point in
	// this packet-timed round trip or the previous one.
	cwndLimitedInRound, cwndLimitedPrevRound bool

	// The network path model (§2.9, §2.10).
	maxBw              uint64    // BBR.max_bw
	bwFilter           [2]uint64 // BBR.max_bw_filter: the previous and current cycle
	cycleCount         uint64    // BBR.cycle_count
	bwShortterm        uint64    // BBR.bw_shortterm
	bw                 uint64    // BBR.bw
	minRTT             time.Duration
	minRTTStamp        time.Duration
	bdp                int // BBR.bdp
	extraAcked         int // BBR.extra_acked
	extraAckedStart    time.Duration
	extraAckedBytes    int64 // BBR.extra_acked_delivered
	extraAckedFilter   maxFilter
	maxInflight        int // BBR.max_inflight
	inflightLongterm   int // BBR.inflight_longterm
	inflightShortterm  int // BBR.inflight_shortterm
	bwLatest           uint64
	inflightLatest     int
	lossRoundStart     bool
	lossRoundDelivered int64
	isLossInRound      bool
	// lossEventsInRound counts the discontiguous runs of packets lost (and
	// ACK frames reporting CE marks) in this loss round, for the Startup
	// exit on loss (§5.3.1.3); lastLostID is the last packet lost.
	lossEventsInRound int
	lastLostID        uint64
	hasLastLost       bool

	// Startup (§2.13).
	fullBwReached bool
	fullBwNow     bool
	fullBw        uint64
	fullBwCount   int

	// ProbeBW (§2.14).
	ackPhase               ackPhase
	isBwProbeSample        bool
	bwProbeUpAcked         int
	probeUpAckedPerInc     int
	bwProbeUpRounds        uint
	roundsSinceProbeUp     uint64
	bwProbeWait            time.Duration
	cycleStamp             time.Duration
	prevProbeTooHigh       bool
	prevProbePrecautionary bool

	// Undo (§2.15). undoValid is set when the state is saved and cleared
	// once used, or by a congestion signal that is never spurious (ECN-CE,
	// persistent congestion).
	undoState             BBRState
	undoBwShortterm       uint64
	undoInflightShortterm int
	undoInflightLongterm  int
	undoValid             bool
	priorCwnd             int // BBR.prior_cwnd

	// ProbeRTT (§2.16).
	probeRTTMinDelay  time.Duration
	probeRTTMinStamp  time.Duration
	probeRTTExpired   bool
	probeRTTDoneStamp time.Duration
	probeRTTDoneSet   bool
	probeRTTRoundDone bool
}

var _ PacketController = (*BBRController)(nil)

// NewBBR returns a BBR controller for a max_datagram_size (0 means
// DefaultMaxDatagramSize). seed seeds its random choices; 0 takes a random
// seed.
func NewBBR(maxDatagramSize int, seed uint64) *BBRController {
	if maxDatagramSize <= 0 {
		maxDatagramSize = DefaultMaxDatagramSize
	}
	if seed == 0 {
		seed = rand.Uint64()
	}
	b := &BBRController{smss: min(maxDatagramSize, maxDatagramSizeLimit), rng: seed, recoveryStart: noTime}
	b.pacer.Init(b.smss)
	b.onInit()
	return b
}

// onInit is OnInit (§5.2.1). The times it stamps with Now() are set by
// the first event (start).
func (b *BBRController) onInit() {
	b.initialCwnd = InitialWindow(b.smss)
	b.cwnd = b.initialCwnd
	b.minRTT = Never // Infinity: no C.srtt yet
	b.probeRTTMinDelay = Never
	b.undoState = bbrNoState
	b.inflightLongterm = inflightInfinity
	b.probeUpAckedPerInc = inflightInfinity
	b.resetCongestionSignals()
	b.resetShortTermModel()
	b.resetFullBW()
	b.initPacingRate(0)
	b.setSendQuantum()
	b.enterStartup()
}

// start sets the clocks' starting points at the first event.
func (b *BBRController) start(now time.Duration) {
	if b.started {
		return
	}
	b.started = true
	b.minRTTStamp = now
	b.probeRTTMinStamp = now
	b.extraAckedStart = now
}

// random returns a uniformly distributed number in [0, n) (splitmix64).
func (b *BBRController) random(n uint64) uint64 {
	b.rng += 0x9e3779b97f4a7c15
	z := b.rng
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return (z ^ z>>31) % n
}

// Name implements Controller.
func (b *BBRController) Name() string { return AlgorithmBBR }

// minPipeCwnd is BBR.MinPipeCwnd.
func (b *BBRController) minPipeCwnd() int { return bbrMinPipeCwndPackets * b.smss }

// minimumWindow is kMinimumWindow (RFC 9002 §7.2), the floor of cwnd even
// right after persistent congestion.
func (b *BBRController) minimumWindow() int { return MinimumWindowPackets * b.smss }

// OnSent implements PacketController: OnTransmit (§5.2.2) and the
// sampler's per-packet snapshot (§4.1.2.2).
func (b *BBRController) OnSent(now time.Duration, bytes int, p *PacketState) {
	b.start(now)
	size := packetSize(bytes)
	b.handleRestartFromIdle(now)
	before := b.inFlight
	b.inFlight = min(b.inFlight+int(size), 2*MaxWindow)
	b.sampler.onSent(now, p, size, before, b.inFlight)
	if b.inFlight+b.smss > b.cwnd {
		b.cwndLimitedInRound = true
	}
	b.pacer.setCapacity(b.pacerCapacity())
	b.pacer.spend(now, int(size), bytesPerSecond(b.pacingRate))
}

// OnAcked implements PacketController: UpdateRateSample (§4.1.2.3).
func (b *BBRController) OnAcked(now time.Duration, p *PacketState) {
	wasInFlight := p.inFlight()
	if !b.sampler.onAcked(now, p) {
		return
	}
	if wasInFlight {
		b.inFlight = max(b.inFlight-int(p.size), 0)
	}
}

// OnLost implements PacketController: the recovery period, the Startup
// loss counters and HandleLostPacket (§5.5.10.2).
func (b *BBRController) OnLost(now time.Duration, p *PacketState) {
	if !p.inFlight() {
		return
	}
	b.start(now)
	p.flags |= packetLost
	b.inFlight = max(b.inFlight-int(p.size), 0)
	b.sampler.lost += int64(p.size)
	b.enterRecovery(now, p.sendTime)
	if !b.hasLastLost || p.id != b.lastLostID+1 {
		b.lossEventsInRound++
	}
	b.lastLostID, b.hasLastLost = p.id, true
	b.handleLostPacket(now, p)
}

// enterRecovery starts a recovery period at now for a congestion signal
// about a packet sent at sentTime, unless that packet was sent before the
// latest one began (RFC 9002 §7.3.2): OnEnterFastRecovery (§5.6.4.4).
func (b *BBRController) enterRecovery(now, sentTime time.Duration) {
	if sentTime <= b.recoveryStart {
		return
	}
	b.saveCwnd()
	b.saveStateUponLoss()
	b.inRecovery = true
	b.recoveryStart = now
	b.recoveryDelivered = b.sampler.delivered
}

// OnPersistentCongestion implements PacketController. QUIC has no
// retransmission timeout: a PTO declares nothing lost (RFC 9002 §6.2), so
// BBR's response to an RTO, OnEnterRTO (§5.6.4.4), is taken on persistent
// congestion instead, with RFC 9002 §7.2's floor: cwnd falls to what is in
// flight plus one packet, at least kMinimumWindow, and the recovery that
// follows restores the window saved before.
func (b *BBRController) OnPersistentCongestion(now time.Duration) {
	b.start(now)
	b.saveCwnd()
	b.saveStateUponLoss()
	b.undoValid = false // RFC 9002 §7.6.2: not reordering
	b.cwnd = max(b.inFlight+b.smss, b.minimumWindow())
	b.inRecovery = true
	b.recoveryStart = now
	b.recoveryDelivered = b.sampler.delivered
}

// OnAckEnd implements PacketController: UpdateOnACK (§5.2.3).
//
// ECN: the draft leaves BBR's response open but requires CE marks to be
// taken as congestion (§3.7). Each mark counts as a max_datagram_size lost
// in C.lost: it enters RS.lost, the loss rate that Startup's exit (§5.3.1.3)
// and the probing bound inflight_longterm (§5.5.10.2) compare with
// BBR.LossThresh, and it marks the round as a round with loss, which lowers
// the short-term model (§5.5.10.3).
func (b *BBRController) OnAckEnd(now time.Duration, rtt *RTTStats, newCE int) {
	b.start(now)
	defer b.sampler.endAck()
	var minRTT time.Duration
	if rtt != nil {
		minRTT = rtt.MinRTT()
	}
	rs := b.sampler.generate(minRTT)
	rs.rtt = -1
	if rtt != nil && rtt.Samples() != b.rttSamples {
		if b.rttSamples == 0 && b.maxBw == 0 {
			// InitPacingRate with the first C.srtt (§5.6.2).
			b.initPacingRate(rtt.SmoothedRTT())
		}
		b.rttSamples = rtt.Samples()
		rs.rtt = rtt.AdjustedRTT()
	}
	if newCE > 0 {
		b.onCE(now, newCE, rs)
	}
	if !rs.hasData {
		return
	}
	// RFC 9002 §7.3.2: recovery ends when a packet sent during it is
	// acknowledged; BBR then restores the window it had (§5.6.4.4).
	if b.inRecovery && rs.newestSendTime > b.recoveryStart {
		b.inRecovery = false
		b.restoreCwnd()
	}
	b.updateModelAndState(now, rs)
	b.updateControlParameters(rs)
}

// onCE takes newCE marks reported by an ACK frame as congestion. Like a
// loss, a mark on a packet sent after the recovery period began starts a
// new one (RFC 9002 §7.1, §7.3.2); the newest packet the frame
// acknowledges stands for the marked ones.
func (b *BBRController) onCE(now time.Duration, newCE int, rs *rateSample) {
	marked := int64(min(newCE, MaxWindow/b.smss)) * int64(b.smss)
	b.sampler.lost += marked
	rs.lost += marked
	if rs.hasData {
		b.enterRecovery(now, rs.newestSendTime)
	}
	b.noteLoss()
	b.undoValid = false // a mark is never spurious
	b.lossEventsInRound++
	if b.isBwProbeSample && rs.hasData && isInflightTooHigh(rs.lost, rs.txInFlight) {
		b.handleInflightTooHigh(now, rs.isAppLimited, rs.txInFlight)
	}
}

// OnApplicationLimited implements PacketController: the conditions of
// CheckIfApplicationLimited (§4.1.2.4) the controller knows, then
// MarkConnectionAppLimited.
func (b *BBRController) OnApplicationLimited() {
	if b.inFlight < b.cwnd {
		b.sampler.markAppLimited(b.inFlight)
	}
}

// UndoCongestionEvent implements Controller: HandleSpuriousLossDetection
// (§5.5.11.2).
func (b *BBRController) UndoCongestionEvent() {
	if !b.undoValid {
		return
	}
	b.undoValid = false
	b.restoreCwnd()
	b.isLossInRound = false
	b.resetFullBW()
	b.bwShortterm = max(b.bwShortterm, b.undoBwShortterm)
	b.inflightShortterm = max(b.inflightShortterm, b.undoInflightShortterm)
	b.inflightLongterm = max(b.inflightLongterm, b.undoInflightLongterm)
	switch {
	case b.undoState == BBRStartup && b.state != BBRStartup:
		b.fullBwReached = false
		if b.state != BBRProbeRTT {
			b.enterStartup()
		}
	case b.undoState == BBRProbeBWUp && b.state != BBRProbeBWUp:
		if b.state != BBRProbeRTT {
			b.startProbeBWRefill()
		}
	}
	b.undoState = bbrNoState
}

// OnPacketSent implements Controller. BBR needs OnSent; this keeps
// bytes_in_flight only.
func (b *BBRController) OnPacketSent(now time.Duration, bytes int, inFlight bool) {
	if inFlight && bytes > 0 {
		b.inFlight = min(b.inFlight+min(bytes, MaxWindow), 2*MaxWindow)
	}
}

// OnAck implements Controller. BBR needs OnAcked and OnAckEnd; this keeps
// bytes_in_flight only.
func (b *BBRController) OnAck(_ time.Duration, ackedBytes int, _ time.Duration, _ *RTTStats) {
	b.OnPacketsDiscarded(ackedBytes)
}

// OnPacketsLost implements Controller. BBR needs OnLost; this keeps
// bytes_in_flight only.
func (b *BBRController) OnPacketsLost(_ time.Duration, lostBytes int, _ time.Duration, _ bool) {
	b.OnPacketsDiscarded(lostBytes)
}

// OnECNCE implements Controller. BBR takes CE marks in OnAckEnd; this does
// nothing.
func (b *BBRController) OnECNCE(time.Duration, time.Duration) {}

// OnPacketsDiscarded implements Controller (RFC 9002 Appendix B.9).
func (b *BBRController) OnPacketsDiscarded(bytes int) {
	b.inFlight -= max(0, min(bytes, b.inFlight))
}

// SetMaxDatagramSize implements Controller: C.SMSS follows
// max_datagram_size (§2.2), and the initial window is recalculated while
// it is still in use (RFC 9002 §7.2).
func (b *BBRController) SetMaxDatagramSize(bytes int) {
	if bytes <= 0 {
		return
	}
	untouched := b.cwnd == b.initialCwnd && b.sampler.delivered == 0
	b.smss = min(bytes, maxDatagramSizeLimit)
	b.initialCwnd = InitialWindow(b.smss)
	if untouched {
		b.cwnd = b.initialCwnd
	}
	b.cwnd = min(max(b.cwnd, b.minimumWindow()), MaxWindow)
	b.pacer.setMaxDatagramSize(b.smss)
	b.setSendQuantum()
}

// SendBudget implements Controller: cwnd bounds what is in flight, the
// pacer spaces packets at C.pacing_rate in bursts of at most
// C.send_quantum (§5.6.2, §5.6.3).
//
// At rates where the quantum holds BurstPackets or more (above about
// 110 Mbit/s with 1452-byte packets), a sender the pacer holds back
// waits until a whole quantum may go, or as much as the window allows if
// that is less, and sends it as one GSO burst, as the draft's pacing of
// TSO segments does (next_send_time = now + send_quantum/pacing_rate).
// Released packet by packet, a flow at its pacing rate would cost a system
// call per packet or two (on loopback, about 7 datagrams per send against
// CUBIC's 55). The wait is at most a quantum's time: 1 ms, less where the
// quantum is capped. At lower rates packets leave one by one: that costs
// little, and the bottleneck simulator's fairness between BBR flows
// suffers from bursts of a few packets.
func (b *BBRController) SendBudget(now time.Duration) (packets int, next time.Duration) {
	windowPackets := 0
	if free := b.cwnd - b.inFlight; free > 0 {
		windowPackets = free / b.smss
	}
	if windowPackets == 0 {
		return 0, Never
	}
	b.pacer.setCapacity(b.pacerCapacity())
	burst := 1
	if b.sendsQuanta() {
		burst = min(windowPackets, b.sendQuantum/b.smss)
	}
	pacerPackets, pacerNext := b.pacer.burstBudget(now, bytesPerSecond(b.pacingRate), burst)
	return smallerBudget(windowPackets, pacerPackets, pacerNext)
}

// sendsQuanta reports whether the send quantum is large enough to be sent
// as one burst (SendBudget).
func (b *BBRController) sendsQuanta() bool { return b.sendQuantum/b.smss >= BurstPackets }

// pacerCapacity is the pacer's bucket: a send quantum (§5.6.3), two where
// a sender waits for whole quanta, so that a wake-up that comes late,
// after a timer's slack or a busy moment, finds the credit earned
// meanwhile instead of a full bucket that dropped it: waiting for exactly
// a quantum, the sender would lose whatever it overslept and fall behind
// the pacing rate.
func (b *BBRController) pacerCapacity() int {
	if b.sendsQuanta() {
		return 2 * b.sendQuantum
	}
	return b.sendQuantum
}

// CongestionWindow implements Controller.
func (b *BBRController) CongestionWindow() int { return b.cwnd }

// BytesInFlight implements Controller.
func (b *BBRController) BytesInFlight() int { return b.inFlight }

// SlowStartThreshold implements Controller: BBR has none.
func (b *BBRController) SlowStartThreshold() int { return math.MaxInt }

// InSlowStart implements Controller: Startup is BBR's slow start.
func (b *BBRController) InSlowStart() bool { return b.state == BBRStartup }

// InRecovery implements Controller.
func (b *BBRController) InRecovery() bool { return b.inRecovery }

// PacingRate implements Controller: C.pacing_rate.
func (b *BBRController) PacingRate() uint64 { return b.pacingRate }

// BBRStats is a snapshot of BBR's state for statistics and qlog.
type BBRStats struct {
	State BBRState
	// MaxBandwidth is BBR.max_bw and Bandwidth BBR.bw, the estimate after
	// the short-term bound, in bytes per second.
	MaxBandwidth, Bandwidth uint64
	// PacingRate is C.pacing_rate in bytes per second.
	PacingRate uint64
	// MinRTT is BBR.min_rtt; zero before the first sample.
	MinRTT time.Duration
	// CongestionWindow is C.cwnd and SendQuantum C.send_quantum, in bytes.
	CongestionWindow, SendQuantum int
	// InflightLongterm and InflightShortterm are the bounds
	// BBR.inflight_longterm and BBR.inflight_shortterm in bytes; -1 while
	// unset (infinite).
	InflightLongterm, InflightShortterm int
	// RoundCount is BBR.round_count, FullBandwidthReached
	// BBR.full_bw_reached.
	RoundCount           uint64
	FullBandwidthReached bool
}

// Stats returns a snapshot of the controller's state.
func (b *BBRController) Stats() BBRStats {
	st := BBRStats{
		State:                b.state,
		MaxBandwidth:         b.maxBw,
		Bandwidth:            b.bw,
		PacingRate:           b.pacingRate,
		CongestionWindow:     b.cwnd,
		SendQuantum:          b.sendQuantum,
		InflightLongterm:     finiteOr(b.inflightLongterm),
		InflightShortterm:    finiteOr(b.inflightShortterm),
		RoundCount:           b.roundCount,
		FullBandwidthReached: b.fullBwReached,
	}
	if b.minRTT != Never {
		st.MinRTT = b.minRTT
	}
	return st
}

func finiteOr(v int) int {
	if v == inflightInfinity {
		return -1
	}
	return v
}

// Control parameters (§5.6).

// updateControlParameters is UpdateControlParameters (§5.2.3).
func (b *BBRController) updateControlParameters(rs *rateSample) {
	b.setPacingRate()
	b.setSendQuantum()
	b.setCwnd(int(rs.newlyAcked))
}

// initPacingRate is InitPacingRate (§5.6.2); srtt 0 means none yet.
func (b *BBRController) initPacingRate(srtt time.Duration) {
	if srtt <= 0 {
		srtt = time.Millisecond
	}
	nominal := mulDiv(uint64(b.initialCwnd), uint64(time.Second), uint64(srtt))
	b.pacingRate = max(mulDiv(nominal, bbrStartupPacingGain, 100), 1)
}

// setPacingRateWithGain is SetPacingRateWithGain (§5.6.2). A zero rate (no
// bandwidth sample yet) leaves the rate as it is: a pacer at rate zero
// would never send again.
func (b *BBRController) setPacingRateWithGain(gain uint64) {
	rate := mulDiv(b.bw, gain*(100-bbrPacingMarginPercent), 100*100)
	if rate > 0 && (b.fullBwReached || rate > b.pacingRate) {
		b.pacingRate = rate
	}
}

func (b *BBRController) setPacingRate() { b.setPacingRateWithGain(b.pacingGain) }

// setSendQuantum is SetSendQuantum (§5.6.3): a millisecond at the pacing
// rate, between two packets and 64 KiB.
func (b *BBRController) setSendQuantum() {
	q := mulDiv(b.pacingRate, uint64(bbrSendQuantumTime), uint64(time.Second))
	b.sendQuantum = max(int(min(q, bbrSendQuantumMax)), 2*b.smss)
}

// bdpMultiple is BDPMultiple (§5.6.4.2) for the bandwidth bw.
func (b *BBRController) bdpMultiple(bw, gain uint64) int {
	if b.minRTT == Never {
		return b.initialCwnd // no RTT sample yet
	}
	bdp := min(mulDiv(bw, uint64(b.minRTT), uint64(time.Second)), MaxWindow)
	return int(bdp * gain / 100)
}

// quantizationBudget is QuantizationBudget (§5.6.4.2); for QUIC the
// offload budget is the send quantum (§5.5.8.2).
func (b *BBRController) quantizationBudget(inflightCap int) int {
	inflightCap = max(inflightCap, b.sendQuantum, b.minPipeCwnd())
	if b.state == BBRProbeBWUp {
		inflightCap += 2 * b.smss
	}
	return inflightCap
}

// inflight is Inflight (§5.6.4.2) for the bandwidth bw.
func (b *BBRController) inflight(bw, gain uint64) int {
	return b.quantizationBudget(b.bdpMultiple(bw, gain))
}

// updateMaxInflight is UpdateMaxInflight (§5.6.4.2).
func (b *BBRController) updateMaxInflight() {
	inflightCap := b.bdpMultiple(b.bw, b.cwndGain) + b.extraAcked
	b.maxInflight = b.quantizationBudget(inflightCap)
}

// setCwnd is SetCwnd (§5.6.4.6).
func (b *BBRController) setCwnd(newlyAcked int) {
	b.updateMaxInflight()
	switch {
	case b.fullBwReached:
		b.cwnd = min(b.cwnd+newlyAcked, b.maxInflight)
	case b.cwnd < b.maxInflight || b.sampler.delivered < int64(b.initialCwnd):
		b.cwnd += newlyAcked
	}
	b.cwnd = max(b.cwnd, b.minPipeCwnd())
	b.boundCwndForProbeRTT()
	b.boundCwndForModel()
	b.cwnd = min(b.cwnd, MaxWindow)
}

// saveCwnd is SaveCwnd (§5.6.4.4).
func (b *BBRController) saveCwnd() {
	if !b.inRecovery && b.state != BBRProbeRTT {
		b.priorCwnd = b.cwnd
	} else {
		b.priorCwnd = max(b.priorCwnd, b.cwnd)
	}
}

// restoreCwnd is RestoreCwnd (§5.6.4.4).
func (b *BBRController) restoreCwnd() { b.cwnd = max(b.cwnd, b.priorCwnd) }

// probeRTTCwnd is ProbeRTTCwnd (§5.6.4.5).
func (b *BBRController) probeRTTCwnd() int {
	return max(b.bdpMultiple(b.bw, bbrProbeRTTCwndGain), b.minPipeCwnd())
}

// boundCwndForProbeRTT is BoundCwndForProbeRTT (§5.6.4.5).
func (b *BBRController) boundCwndForProbeRTT() {
	if b.state == BBRProbeRTT {
		b.cwnd = min(b.cwnd, b.probeRTTCwnd())
	}
}

// boundCwndForModel is BoundCwndForModel (§5.6.4.7).
func (b *BBRController) boundCwndForModel() {
	inflightCap := inflightInfinity
	switch {
	case b.isInAProbeBWState() && b.state != BBRProbeBWCruise:
		inflightCap = b.inflightLongterm
	case b.state == BBRProbeRTT || b.state == BBRProbeBWCruise:
		inflightCap = b.inflightWithHeadroom()
	}
	inflightCap = min(inflightCap, b.inflightShortterm)
	inflightCap = max(inflightCap, b.minPipeCwnd())
	b.cwnd = min(b.cwnd, inflightCap)
}

// handleRestartFromIdle is HandleRestartFromIdle (§5.4.1).
func (b *BBRController) handleRestartFromIdle(now time.Duration) {
	if b.inFlight != 0 || b.sampler.appLimited == 0 {
		return
	}
	b.idleRestart = true
	b.extraAckedStart = now
	if b.isInAProbeBWState() {
		b.setPacingRateWithGain(bbrUnitGain)
	} else if b.state == BBRProbeRTT {
		b.checkProbeRTTDone(now)
	}
}
