package congestion

import (
	"math"
	"math/bits"
	"time"
)

// Pacer constants. RFC 9002 §7.7 lets the implementation choose; these are
// the choices.
const (
	// BurstPackets is the pacer's smallest bucket, in full-size packets:
	// after an idle moment up to this many may leave back to back, one GSO
	// burst. It equals the initial window (RFC 9002 §7.7: senders SHOULD
	// limit bursts to the initial congestion window).
	BurstPackets = 10

	// MaxBurstPackets and burstInterval: at high rates the bucket holds
	// what the rate earns in 250 µs, up to 90 packets: two full GSO
	// entries of 1452-byte datagrams (45 each, the most a UDP payload of
	// 65507 bytes holds), sent by one sendmmsg. Above ~500 Mbit/s,
	// ten-packet bursts would cost a sendmsg and a timer wake-up every
	// 25-100 µs, a large share of the sender's CPU; a quarter millisecond
	// of the rate is a burst no bottleneck queue sized for the path
	// notices (90 packets take 250 µs at 4.2 Gbit/s). This departs from
	// §7.7's SHOULD (bursts of at most the initial window) only at rates
	// where the window is far larger than it. (64 packets, which the
	// kernel cut into GSO entries of 45 and 19, cost a bulk sender more
	// system calls and sk_buffs per GB.)
	MaxBurstPackets = 90
	burstInterval   = 250 * time.Microsecond

	// The pacing gain N of RFC 9002 §7.7 (rate = N * cwnd / smoothed_rtt),
	// as a fraction so that the hot path stays in integers. In slow start
	// the window doubles every round trip, so the sender must be able to
	// send at twice the window's rate or the pacer, not the window, would
	// set the growth. Elsewhere 5/4 is the RFC's example: enough above 1
	// that RTT variation does not leave the window unused.
	slowStartGainNum, slowStartGainDen = 2, 1
	avoidanceGainNum, avoidanceGainDen = 5, 4

	// maxPacingRTT bounds the smoothed RTT the pacer divides by so that
	// srtt * gain stays far from overflow.
	maxPacingRTT = MaxRTTSample
)

// Pacer is a leaky bucket (RFC 9002 §7.7) refilled at a pacing rate. The
// window-based controllers use it through Budget and OnPacketSent, with the
// rate N * cwnd / smoothed_rtt and a bucket of 250 µs of that rate
// (BurstPackets to MaxBurstPackets full-size packets). BBR sets its own
// rate, C.pacing_rate, and bucket, C.send_quantum
// (draft-ietf-ccwg-bbr §5.6.2, §5.6.3). All arithmetic is on integers:
// bytes and nanoseconds, with 128-bit intermediate products.
//
// The controllers embed one; a connection does not normally use it
// directly.
type Pacer struct {
	maxDatagramSize int
	// tokens is the credit in bytes. It goes negative when the caller sends
	// more than it was allowed (probes, the packet allowed on entering
	// recovery), down to minus one bucket.
	tokens   int64
	capBytes int64 // the bucket size, following the rate
	last     time.Duration
	started  bool
}

// pacingRate is a rate of num bytes per den nanoseconds; neither is zero.
type pacingRate struct{ num, den uint64 }

// windowRate is N * cwnd / smoothed_rtt (RFC 9002 §7.7).
func windowRate(cwnd int, srtt time.Duration, slowStart bool) pacingRate {
	num, den := gain(slowStart)
	srtt = clampDuration(srtt, 1, maxPacingRTT)
	return pacingRate{uint64(max(cwnd, 1)) * num, uint64(srtt) * den}
}

// bytesPerSecond is a rate in bytes per second, at least one.
func bytesPerSecond(r uint64) pacingRate {
	return pacingRate{max(r, 1), uint64(time.Second)}
}

// Init sets the pacer up for a max_datagram_size with a full bucket.
func (p *Pacer) Init(maxDatagramSize int) {
	*p = Pacer{maxDatagramSize: max(1, maxDatagramSize)}
	p.capBytes = BurstPackets * int64(p.maxDatagramSize)
	p.tokens = p.capBytes
}

func (p *Pacer) setMaxDatagramSize(n int) {
	p.maxDatagramSize = max(1, n)
	size := int64(p.maxDatagramSize)
	p.capBytes = min(max(p.capBytes, BurstPackets*size), MaxBurstPackets*size)
	p.tokens = min(p.tokens, p.capBytes)
}

// setWindowCapacity sizes the bucket for a window-based rate: one
// burstInterval's worth of credit, between BurstPackets and
// MaxBurstPackets packets.
func (p *Pacer) setWindowCapacity(r pacingRate) {
	earned := mulDiv(uint64(burstInterval), r.num, r.den)
	size := uint64(p.maxDatagramSize)
	p.capBytes = int64(min(max(earned, BurstPackets*size), MaxBurstPackets*size))
}

// setCapacity sets the bucket size in bytes (BBR's send quantum).
func (p *Pacer) setCapacity(bytes int) {
	p.capBytes = int64(max(bytes, p.maxDatagramSize))
}

// gain returns the pacing gain N as a fraction.
func gain(slowStart bool) (num, den uint64) {
	if slowStart {
		return slowStartGainNum, slowStartGainDen
	}
	return avoidanceGainNum, avoidanceGainDen
}

// refill adds the credit earned at rate r since the last refill.
func (p *Pacer) refill(now time.Duration, r pacingRate) {
	// The bucket may have shrunk with the rate since the last call: the
	// credit above it is lost, as after an idle period.
	p.tokens = min(p.tokens, p.capBytes)
	if !p.started {
		p.started = true
		p.last = now
		return
	}
	elapsed := now - p.last
	if elapsed <= 0 {
		return
	}
	credit := mulDiv(uint64(elapsed), r.num, r.den)
	if credit >= uint64(p.capBytes-p.tokens) {
		p.tokens = p.capBytes
		p.last = now
		return
	}
	// Advance the clock only by the time the whole bytes took, so that the
	// fraction of a byte is kept for the next call however often the
	// caller asks.
	p.tokens += int64(credit)
	p.last += time.Duration(mulDiv(credit, r.den, r.num))
}

// Budget refills the bucket up to now at the window-based rate and
// reports how many full-size packets it allows now, and when it will allow
// one more after those have been sent.
func (p *Pacer) Budget(now time.Duration, cwnd int, srtt time.Duration, slowStart bool) (packets int, next time.Duration) {
	r := windowRate(cwnd, srtt, slowStart)
	p.setWindowCapacity(r)
	return p.budget(now, r)
}

// budget refills the bucket at rate r and answers as Budget does.
func (p *Pacer) budget(now time.Duration, r pacingRate) (packets int, next time.Duration) {
	p.refill(now, r)
	size := int64(p.maxDatagramSize)
	left := p.tokens
	if left > 0 {
		packets = int(left / size)
		left -= int64(packets) * size
	}
	// Time for the remaining deficit, rounded up.
	wait := mulDivCeil(uint64(size-left), r.den, r.num)
	// A sender waiting on the pacer must not be woken before the credit is
	// there; one nanosecond at least, and never past Never.
	if wait == 0 {
		wait = 1
	}
	if wait >= uint64(Never-now) {
		return packets, Never
	}
	return packets, now + time.Duration(wait)
}

// burstBudget is budget for a sender that goes in bursts of burst packets
// when the pacer holds it back: below that much credit it allows nothing,
// and next is when the bucket will hold the burst. burst must fit in the
// bucket.
func (p *Pacer) burstBudget(now time.Duration, r pacingRate, burst int) (packets int, next time.Duration) {
	packets, next = p.budget(now, r)
	if packets >= burst {
		return packets, next
	}
	deficit := int64(burst)*int64(p.maxDatagramSize) - p.tokens
	wait := max(mulDivCeil(uint64(deficit), r.den, r.num), 1)
	if wait >= uint64(Never-now) {
		return 0, Never
	}
	return 0, now + time.Duration(wait)
}

// OnPacketSent spends credit for a packet sent at now, at the window-based
// rate.
func (p *Pacer) OnPacketSent(now time.Duration, bytes int, cwnd int, srtt time.Duration, slowStart bool) {
	r := windowRate(cwnd, srtt, slowStart)
	p.setWindowCapacity(r)
	p.spend(now, bytes, r)
}

// spend refills the bucket at rate r and takes a packet's bytes from it.
func (p *Pacer) spend(now time.Duration, bytes int, r pacingRate) {
	p.refill(now, r)
	p.tokens = max(p.tokens-int64(bytes), -p.capBytes)
}

// mulDiv returns a*b/c rounded down, saturating at math.MaxUint64. c must
// not be zero.
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// mulDivCeil returns a*b/c rounded up, saturating at math.MaxUint64.
func mulDivCeil(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return math.MaxUint64
	}
	q, r := bits.Div64(hi, lo, c)
	if r != 0 && q != math.MaxUint64 {
		q++
	}
	return q
}
