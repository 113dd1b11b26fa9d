package congestion

import (
	"math"
	"strconv"
	"time"
)

// Controller is a per-path congestion controller (RFC 9002 §7). The
// connection reports every packet sent, every ACK frame, every loss and
// every ECN-CE increase, and asks SendBudget how many packets may leave and
// when. All times are the caller's monotonic clock, as a time.Duration since
// an arbitrary epoch; a Controller never reads a clock.
//
// The Controller keeps bytes_in_flight itself (RFC 9002 Appendix B.2): the
// caller reports the size of each in-flight packet once when it is sent and
// once more when it is acknowledged, declared lost or discarded. Keeping the
// sum here lets the Controller see whether the window is being used
// (RFC 9002 §7.8) without another call.
//
// A Controller is not safe for concurrent use; the connection goroutine owns
// it. No method allocates.
type Controller interface {
	// OnPacketSent records a packet of the given size sent at now. inFlight
	// is false for packets that contain only ACK frames: they are neither
	// counted in bytes_in_flight nor paced (RFC 9002 §7 and §7.7). Probe
	// packets sent on PTO are reported like any other; they may exceed the
	// window (RFC 9002 §7.5).
	OnPacketSent(now time.Duration, bytes int, inFlight bool)

	// OnAck reports one ACK frame received at now that newly acknowledged
	// ackedBytes of in-flight packets, the most recently sent of which was
	// sent at largestSentTime. rtt must already hold this ACK's sample, if
	// it produced one (RTTStats.UpdateRTT).
	//
	// Growth during a recovery period is judged on largestSentTime: an ACK
	// whose newest packet was sent after the recovery period started ends
	// the period and grows the window by all of ackedBytes (RFC 9002
	// Appendix B.5 does this per packet; per ACK frame it differs by at
	// most one frame's bytes).
	OnAck(now time.Duration, ackedBytes int, largestSentTime time.Duration, rtt *RTTStats)

	// OnPacketsLost reports in-flight packets declared lost at now, lostBytes
	// in total, the most recently sent of which was sent at
	// largestLostSentTime. persistentCongestion is the loss recovery's
	// verdict under RFC 9002 §7.6.2; the window then falls to the minimum.
	OnPacketsLost(now time.Duration, lostBytes int, largestLostSentTime time.Duration, persistentCongestion bool)

	// OnECNCE reports an increase of the peer's ECN-CE count in an ACK frame
	// received at now whose largest acknowledged packet was sent at
	// sentTime (RFC 9002 §7.1, Appendix B.7).
	OnECNCE(now time.Duration, sentTime time.Duration)

	// UndoCongestionEvent reports that the latest congestion event caused
	// by loss was spurious: every packet whose loss was reported since it
	// began has been acknowledged after all (packets reordered, not
	// lost). The controller restores the state it had before the event,
	// if its window is still below the window it had then (RFC 9438
	// §4.9.2). It does nothing after an ECN-CE event or persistent
	// congestion, or when called twice.
	UndoCongestionEvent()

	// OnPacketsDiscarded removes packets of a discarded packet number space
	// from bytes_in_flight without a congestion signal (RFC 9002
	// Appendix B.9).
	OnPacketsDiscarded(bytes int)

	// SetMaxDatagramSize changes max_datagram_size, for example after path
	// MTU discovery (RFC 9002 §7.2). The minimum window follows it.
	SetMaxDatagramSize(bytes int)

	// SendBudget answers, at now, how many full-size packets may be sent
	// back to back (one GSO burst), and the earliest time the pacer allows
	// the packet after them. next is Never when the congestion window, not
	// the pacer, stops the packet after the burst: the caller waits for an
	// acknowledgment (or a loss) and asks again.
	SendBudget(now time.Duration) (packets int, next time.Duration)

	// CongestionWindow is congestion_window in bytes.
	CongestionWindow() int
	// BytesInFlight is bytes_in_flight.
	BytesInFlight() int
	// SlowStartThreshold is ssthresh in bytes; math.MaxInt while infinite.
	SlowStartThreshold() int
	// InSlowStart reports whether the window is below ssthresh (for CUBIC
	// this includes HyStart++'s conservative slow start).
	InSlowStart() bool
	// InRecovery reports whether a recovery period is in progress: no packet
	// sent since the last congestion event has been acknowledged yet
	// (RFC 9002 §7.3.2).
	InRecovery() bool
	// PacingRate is the rate the pacer lets packets out at, in bytes per
	// second (RFC 9002 §7.7; BBR's C.pacing_rate); 0 when pacing is off.
	PacingRate() uint64
	// Name is the algorithm's name as New accepts it.
	Name() string
}

// Never is the SendBudget deadline meaning "not before an acknowledgment".
const Never = time.Duration(math.MaxInt64)

// RFC 9002 Appendix B.1 and §7.2 constants.
const (
	// DefaultMaxDatagramSize is the smallest max_datagram_size a QUIC path
	// allows (RFC 9000 §14), used when the caller gives none.
	DefaultMaxDatagramSize = 1200
	// MinimumWindowPackets: kMinimumWindow is 2 * max_datagram_size
	// (RFC 9002 §7.2).
	MinimumWindowPackets = 2
	// MaxWindow caps the congestion window (2 GiB). No real path needs more,
	// and the cap keeps every product in the byte arithmetic below 2^63.
	MaxWindow = 1 << 31
	// maxDatagramSizeLimit is the largest UDP payload there is.
	maxDatagramSizeLimit = 65527
	// appLimitedSlackPackets: a window with at most this many packets unused
	// still counts as used (RFC 9002 §7.8). Acknowledgments arrive every
	// couple of packets, so a sender that keeps the window full is rarely
	// exactly at it when an ACK is processed.
	appLimitedSlackPackets = 3
)

// InitialWindow is kInitialWindow for a max_datagram_size: ten datagrams,
// limited to the larger of 14720 bytes and two datagrams (RFC 9002 §7.2).
func InitialWindow(maxDatagramSize int) int {
	return min(10*maxDatagramSize, max(14720, 2*maxDatagramSize))
}

// Algorithm selects a congestion controller. The zero value is the
// default, CUBIC.
type Algorithm uint8

// The algorithms New can build.
const (
	// DefaultAlgorithm is CUBIC.
	DefaultAlgorithm Algorithm = iota
	// CUBIC is RFC 9438 with HyStart++ (RFC 9406).
	CUBIC
	// NewReno is RFC 9002 §7.
	NewReno
	// BBR is BBRv3 (draft-ietf-ccwg-bbr-06). It needs the per-packet
	// calls of PacketController.
	BBR
)

// String returns the algorithm's name as ParseAlgorithm accepts it.
func (a Algorithm) String() string {
	switch a {
	case DefaultAlgorithm, CUBIC:
		return AlgorithmCubic
	case NewReno:
		return AlgorithmNewReno
	case BBR:
		return AlgorithmBBR
	}
	return "Algorithm(" + strconv.Itoa(int(a)) + ")"
}

// ParseAlgorithm returns the Algorithm a name selects: "cubic" (also ""),
// "newreno" or "bbr", for command lines and configuration files.
func ParseAlgorithm(name string) (Algorithm, error) {
	switch name {
	case "", AlgorithmCubic:
		return CUBIC, nil
	case AlgorithmNewReno:
		return NewReno, nil
	case AlgorithmBBR:
		return BBR, nil
	}
	return 0, &UnknownAlgorithmError{Name: name}
}

// Config selects and sets up a Controller.
type Config struct {
	// Kind selects the algorithm. When it is DefaultAlgorithm, Algorithm
	// decides.
	Kind Algorithm
	// Algorithm is the older, string form of Kind: "cubic" (the default,
	// also for "") or "newreno". It does not select BBR: BBR is fed by
	// the per-packet calls, which a caller that names its controller by
	// string has not been written for.
	Algorithm string
	// MaxDatagramSize is the initial max_datagram_size; 0 means
	// DefaultMaxDatagramSize.
	MaxDatagramSize int
	// DisablePacing turns the pacer off: SendBudget is then limited by the
	// congestion window alone. RFC 9002 §7.7 says a sender SHOULD pace;
	// BBR always paces (its pacing rate is one of its control parameters,
	// draft-ietf-ccwg-bbr §5.6.2) and ignores this.
	DisablePacing bool
	// Seed seeds BBR's random choices (the ProbeBW wait, §5.3.3.8); zero
	// takes a random seed. Simulations set it to be reproducible.
	Seed uint64
}

// UnknownAlgorithmError is returned by New for an unknown Config.Algorithm.
type UnknownAlgorithmError struct{ Name string }

func (e *UnknownAlgorithmError) Error() string {
	return "congestion: unknown algorithm " + strconv.Quote(e.Name)
}

// Algorithm names accepted by New (Config.Algorithm) and ParseAlgorithm.
const (
	AlgorithmCubic   = "cubic"
	AlgorithmNewReno = "newreno"
	// AlgorithmBBR is accepted by ParseAlgorithm only.
	AlgorithmBBR = "bbr"
)

// New returns the Controller that cfg selects. Every Controller it returns
// is also a PacketController.
func New(cfg Config) (PacketController, error) {
	kind := cfg.Kind
	if kind == DefaultAlgorithm {
		switch cfg.Algorithm {
		case "", AlgorithmCubic:
			kind = CUBIC
		case AlgorithmNewReno:
			kind = NewReno
		default:
			return nil, &UnknownAlgorithmError{Name: cfg.Algorithm}
		}
	}
	switch kind {
	case CUBIC:
		return NewCubic(cfg.MaxDatagramSize, !cfg.DisablePacing), nil
	case NewReno:
		return NewNewReno(cfg.MaxDatagramSize, !cfg.DisablePacing), nil
	case BBR:
		return NewBBR(cfg.MaxDatagramSize, cfg.Seed), nil
	}
	return nil, &UnknownAlgorithmError{Name: kind.String()}
}

// noTime marks "no recovery period yet": no sent time is at or before it.
const noTime = time.Duration(math.MinInt64)

// window is the state every window-based controller shares: RFC 9002
// Appendix B.2's variables, the recovery period, the application-limited
// test and the pacer. NewRenoController and CubicController embed it and add their growth and
// reduction rules.
type window struct {
	maxDatagramSize int
	cwnd            int
	ssthresh        int // math.MaxInt is "infinite" (RFC 9002 Appendix B.3)
	bytesInFlight   int
	// recoveryStart is congestion_recovery_start_time.
	recoveryStart time.Duration
	inRecovery    bool
	// sendOneExtra lets one packet exceed the window right after a
	// congestion event (RFC 9002 Appendix B.6 MaybeSendOnePacket).
	sendOneExtra bool
	lastSentTime time.Duration
	// smoothedRTT is the RTTStats value seen at the latest ACK; the pacer
	// uses it between ACKs.
	smoothedRTT time.Duration
	pacing      bool
	pacer       Pacer
	// undo is the window before the latest congestion event.
	undo windowUndo
	// ack sums up the OnAcked calls of the ACK frame being processed.
	ack ackSum
}

func (w *window) init(maxDatagramSize int, pacing bool) {
	if maxDatagramSize <= 0 {
		maxDatagramSize = DefaultMaxDatagramSize
	}
	maxDatagramSize = min(maxDatagramSize, maxDatagramSizeLimit)
	*w = window{
		maxDatagramSize: maxDatagramSize,
		cwnd:            InitialWindow(maxDatagramSize),
		ssthresh:        math.MaxInt,
		recoveryStart:   noTime,
		lastSentTime:    noTime,
		smoothedRTT:     InitialRTT,
		pacing:          pacing,
	}
	w.pacer.Init(maxDatagramSize)
}

func (w *window) minimumWindow() int { return MinimumWindowPackets * w.maxDatagramSize }

// OnPacketSent implements Controller (RFC 9002 Appendix B.4).
func (w *window) OnPacketSent(now time.Duration, bytes int, inFlight bool) {
	if !inFlight || bytes <= 0 {
		return
	}
	bytes = min(bytes, MaxWindow)
	w.bytesInFlight = min(w.bytesInFlight+bytes, 2*MaxWindow)
	w.lastSentTime = now
	w.sendOneExtra = false
	if w.pacing {
		w.pacer.OnPacketSent(now, bytes, w.cwnd, w.smoothedRTT, w.InSlowStart())
	}
}

// OnPacketsDiscarded implements Controller (RFC 9002 Appendix B.9).
func (w *window) OnPacketsDiscarded(bytes int) {
	w.removeFromFlight(bytes)
}

func (w *window) removeFromFlight(bytes int) int {
	bytes = max(0, min(bytes, w.bytesInFlight))
	w.bytesInFlight -= bytes
	return bytes
}

// SetMaxDatagramSize implements Controller.
func (w *window) SetMaxDatagramSize(bytes int) {
	if bytes <= 0 {
		return
	}
	untouched := w.cwnd == InitialWindow(w.maxDatagramSize) && w.ssthresh == math.MaxInt
	w.maxDatagramSize = min(bytes, maxDatagramSizeLimit)
	if untouched {
		// RFC 9002 §7.2: the initial window is recalculated with the new
		// size (also when it shrinks to complete the handshake).
		w.cwnd = InitialWindow(w.maxDatagramSize)
	}
	w.cwnd = max(w.cwnd, w.minimumWindow())
	w.pacer.setMaxDatagramSize(w.maxDatagramSize)
}

// CongestionWindow implements Controller.
func (w *window) CongestionWindow() int { return w.cwnd }

// BytesInFlight implements Controller.
func (w *window) BytesInFlight() int { return w.bytesInFlight }

// SlowStartThreshold implements Controller.
func (w *window) SlowStartThreshold() int { return w.ssthresh }

// InSlowStart implements Controller (RFC 9002 §7.3.1).
func (w *window) InSlowStart() bool { return w.cwnd < w.ssthresh }

// InRecovery implements Controller.
func (w *window) InRecovery() bool { return w.inRecovery }

// PacingRate implements Controller: N * cwnd / smoothed_rtt.
func (w *window) PacingRate() uint64 {
	if !w.pacing {
		return 0
	}
	r := windowRate(w.cwnd, w.smoothedRTT, w.InSlowStart())
	return mulDiv(r.num, uint64(time.Second), r.den)
}

// inCongestionRecovery is InCongestionRecovery of RFC 9002 Appendix B.5.
func (w *window) inCongestionRecovery(sentTime time.Duration) bool {
	return sentTime <= w.recoveryStart
}

// beginAck does the bookkeeping every controller does first on an ACK:
// bytes_in_flight, the end of the recovery period and the pacer's RTT. It
// returns the acknowledged bytes, clamped to what was in flight, and the
// bytes in flight before them.
func (w *window) beginAck(ackedBytes int, largestSentTime time.Duration, rtt *RTTStats) (acked, priorInFlight int) {
	priorInFlight = w.bytesInFlight
	acked = w.removeFromFlight(ackedBytes)
	if rtt != nil {
		w.smoothedRTT = rtt.SmoothedRTT()
	}
	// RFC 9002 §7.3.2: a recovery period ends when a packet sent during it
	// is acknowledged.
	if w.inRecovery && !w.inCongestionRecovery(largestSentTime) {
		w.inRecovery = false
	}
	return acked, priorInFlight
}

// windowUsed reports whether the sender was using its window when an ACK
// arrived, priorInFlight being bytes_in_flight just before it. RFC 9002
// §7.8: the window SHOULD NOT grow while it is underutilized, and RFC 9438
// §4.6 requires this of a CUBIC that reduces from cwnd rather than from the
// flight size. Pacing does not make a sender look application limited:
// while the window is blocked, the pacer's bucket refills faster than
// acknowledgments free the window (its gain is above 1), so a sender with
// data keeps bytes in flight within a few packets of the window.
func (w *window) windowUsed(priorInFlight int) bool {
	if priorInFlight+appLimitedSlackPackets*w.maxDatagramSize >= w.cwnd {
		return true
	}
	// In slow start the window doubles every round, so a sender that keeps
	// up with it has only half of it in flight early in a round.
	return w.InSlowStart() && 2*priorInFlight > w.cwnd
}

// startRecovery enters a recovery period at now (RFC 9002 Appendix B.6).
func (w *window) startRecovery(now time.Duration) {
	w.recoveryStart = now
	w.inRecovery = true
	w.sendOneExtra = true
}

// onPersistentCongestion applies RFC 9002 §7.6.2 and Appendix B.8: the
// window collapses to the minimum and the recovery period is forgotten, so
// that the next loss is a new congestion event.
func (w *window) onPersistentCongestion() {
	w.cwnd = w.minimumWindow()
	w.recoveryStart = noTime
	w.inRecovery = false
	// RFC 9002 §7.6.2: a whole PTO period of losses is not reordering.
	w.undo.valid = false
}

// SendBudget implements Controller: the congestion window (RFC 9002 §7)
// and the pacer (RFC 9002 §7.7) each allow some number of packets; the
// answer is the smaller.
func (w *window) SendBudget(now time.Duration) (packets int, next time.Duration) {
	free := w.cwnd - w.bytesInFlight
	windowPackets := 0
	if free > 0 {
		windowPackets = free / w.maxDatagramSize
	}
	if windowPackets == 0 && w.sendOneExtra {
		windowPackets = 1
	}
	if !w.pacing || windowPackets == 0 {
		return windowPackets, Never
	}
	pacerPackets, pacerNext := w.pacer.Budget(now, w.cwnd, w.smoothedRTT, w.InSlowStart())
	return smallerBudget(windowPackets, pacerPackets, pacerNext)
}

// smallerBudget is SendBudget's answer when the window allows
// windowPackets and the pacer pacerPackets now and one more at pacerNext.
func smallerBudget(windowPackets, pacerPackets int, pacerNext time.Duration) (int, time.Duration) {
	if pacerPackets < windowPackets {
		return pacerPackets, pacerNext
	}
	return windowPackets, Never
}
