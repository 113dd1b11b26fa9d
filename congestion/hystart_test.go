package congestion

import (
	"testing"
	"time"
)

func TestHyStartRTTThresh(t *testing.T) {
	// RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT / MIN_RTT_DIVISOR, MAX_RTT_THRESH))
	for _, c := range []struct{ last, want time.Duration }{
		{10 * ms, 4 * ms}, {32 * ms, 4 * ms}, {50 * ms, 6250 * time.Microsecond},
		{80 * ms, 10 * ms}, {128 * ms, 16 * ms}, {300 * ms, 16 * ms},
	} {
		h := hystart{lastRoundMinRTT: c.last}
		if got := h.rttThresh(); got != c.want {
			t.Errorf("RttThresh(%v) = %v, want %v", c.last, got, c.want)
		}
	}
}

// ackClock runs an ACK-clocked slow start packet by packet: every ACK of a
// packet of flight k releases packets of flight k+1, so flights are the
// rounds of RFC 9406 §4.2. rttOf gives each flight's RTT. onAck is called
// after every ACK with the flight of the acknowledged packet; returning
// false stops.
func ackClock(d *driver, rttOf func(flight int) time.Duration, onAck func(flight int) bool) {
	type pkt struct {
		sent   time.Duration
		flight int
	}
	var queue []pkt
	send := func(flight int) {
		for d.cc.BytesInFlight()+d.mss <= d.cc.CongestionWindow() {
			d.cc.OnPacketSent(d.now, d.mss, true)
			queue = append(queue, pkt{d.now, flight})
		}
	}
	send(0)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		// Distinct, increasing times: each ACK a microsecond after the last.
		d.now = max(d.now+time.Microsecond, p.sent+rttOf(p.flight))
		d.rtt.UpdateRTT(d.now, d.now-p.sent, 0, true)
		d.cc.OnAck(d.now, d.mss, p.sent, &d.rtt)
		if !onAck(p.flight) {
			return
		}
		send(p.flight + 1)
	}
}

// TestHyStartConstantRTT: with a steady RTT, slow start doubles the window
// every round and never leaves (L = infinity when paced).
func TestHyStartConstantRTT(t *testing.T) {
	const mss = 1000
	cc := NewCubic(mss, true)
	d := newDriver(t, cc, mss)
	ackClock(d, func(int) time.Duration { return 50 * ms }, func(flight int) bool {
		if cc.hystart.phase != hystartSlowStart || !cc.InSlowStart() {
			t.Fatalf("flight %d: left slow start", flight)
		}
		return flight < 6
	})
	// Flights 0..5 fully acknowledged, 10 * 2^6 packets' worth of window,
	// plus the first ACK of flight 6.
	if want := 10*64*mss + mss; cc.CongestionWindow() != want {
		t.Fatalf("cwnd %d, want %d", cc.CongestionWindow(), want)
	}
	if cc.hystart.lastRoundMinRTT != 50*ms {
		t.Fatalf("lastRoundMinRTT %v", cc.hystart.lastRoundMinRTT)
	}
}

// TestHyStartCSS follows RFC 9406 §4.2: an RTT increase of RttThresh after
// N_RTT_SAMPLE samples enters CSS, CSS grows by a quarter, and after
// CSS_ROUNDS rounds the sender enters congestion avoidance with
// ssthresh = cwnd.
func TestHyStartCSS(t *testing.T) {
	const mss = 1000
	cc := NewCubic(mss, true)
	d := newDriver(t, cc, mss)
	rttOf := func(flight int) time.Duration {
		if flight >= 4 {
			return 57 * ms // 50 ms + more than RttThresh (6.25 ms)
		}
		return 50 * ms
	}
	var samplesInRound4, cssFlight, avoidanceFlight = 0, -1, -1
	var cssGrowthChecked bool
	ackClock(d, rttOf, func(flight int) bool {
		if flight == 4 && cssFlight < 0 {
			samplesInRound4++
		}
		switch {
		case cssFlight < 0 && cc.hystart.phase == hystartCSS:
			cssFlight = flight
			if samplesInRound4 != hystartNRTTSample {
				t.Fatalf("entered CSS after %d samples, want N_RTT_SAMPLE = 8", samplesInRound4)
			}
			if cc.hystart.cssBaselineMinRTT != 57*ms {
				t.Fatalf("cssBaselineMinRtt %v", cc.hystart.cssBaselineMinRTT)
			}
		case cssFlight >= 0 && !cssGrowthChecked:
			// One ACK of N = 1000 bytes in CSS: cwnd += N / CSS_GROWTH_DIVISOR.
			before := cc.CongestionWindow()
			d.cc.OnPacketSent(d.now, mss, true)
			d.now += time.Microsecond
			d.rtt.UpdateRTT(d.now, 57*ms, 0, true)
			cc.OnAck(d.now, mss, d.now-57*ms, &d.rtt)
			if got := cc.CongestionWindow() - before; got != mss/4 {
				t.Fatalf("CSS growth %d, want %d", got, mss/4)
			}
			cssGrowthChecked = true
		case avoidanceFlight < 0 && cc.hystart.phase == hystartDone:
			avoidanceFlight = flight
			if cc.InSlowStart() || cc.SlowStartThreshold() != cc.CongestionWindow() {
				t.Fatalf("CSS end: ssthresh %d cwnd %d", cc.SlowStartThreshold(), cc.CongestionWindow())
			}
			if !cc.wMaxFromWindow || cc.cwndPrior != float64(cc.CongestionWindow()) {
				t.Fatal("RFC 9438 §4.10: W_max and cwnd_prior must come from the window")
			}
			return false
		}
		return true
	})
	// CSS began in round 4 (a partial round that counts), lasted rounds 4
	// to 8, and congestion avoidance began with round 9.
	if cssFlight != 4 || avoidanceFlight != 9 {
		t.Fatalf("CSS in flight %d, avoidance in flight %d; want 4 and 9", cssFlight, avoidanceFlight)
	}
	// The next ACK starts an epoch with K = 0 and W_max = cwnd.
	cwnd := cc.CongestionWindow()
	d.cc.OnPacketSent(d.now, mss, true)
	d.now += ms
	d.rtt.UpdateRTT(d.now, 57*ms, 0, true)
	cc.OnAck(d.now, mss, d.now-57*ms, &d.rtt)
	if cc.k != 0 || cc.wMax != float64(cwnd) {
		t.Fatalf("first epoch: K %v W_max %v, want 0 and %d", cc.k, cc.wMax, cwnd)
	}
}

// TestHyStartSpuriousExit: an RTT back below the CSS baseline resumes slow
// start (RFC 9406 §4.2).
func TestHyStartSpuriousExit(t *testing.T) {
	const mss = 1000
	cc := NewCubic(mss, true)
	d := newDriver(t, cc, mss)
	rttOf := func(flight int) time.Duration {
		if flight == 4 || flight == 5 {
			return 60 * ms
		}
		return 50 * ms
	}
	sawCSS := false
	ackClock(d, rttOf, func(flight int) bool {
		if cc.hystart.phase == hystartCSS {
			sawCSS = true
		}
		if flight == 6 && sawCSS && cc.hystart.phase == hystartSlowStart {
			if cc.hystart.cssBaselineMinRTT != infiniteRTT {
				t.Fatal("baseline not reset")
			}
			return false
		}
		if flight > 6 {
			t.Fatalf("no return to slow start; phase %d", cc.hystart.phase)
		}
		return true
	})
	if !sawCSS || cc.hystart.phase != hystartSlowStart || !cc.InSlowStart() {
		t.Fatalf("saw CSS %v, phase %d", sawCSS, cc.hystart.phase)
	}
}

// TestHyStartLossEndsSlowStart: loss during slow start ends HyStart++, and
// later slow starts (after persistent congestion) are standard.
func TestHyStartLossEndsSlowStart(t *testing.T) {
	cc := NewCubic(1000, true)
	d := newDriver(t, cc, 1000)
	sent := d.fill()
	d.now += 50 * ms
	cc.OnPacketsLost(d.now, 1000, sent, false)
	if cc.hystart.phase != hystartDone || cc.InSlowStart() {
		t.Fatalf("phase %d after loss", cc.hystart.phase)
	}
}

// TestHyStartLimitL: without pacing an ACK grows the window by at most
// L = 8 max_datagram_size (RFC 9406 §4.3).
func TestHyStartLimitL(t *testing.T) {
	for _, c := range []struct {
		paced bool
		want  int
	}{{false, 8000}, {true, 10000}} {
		cc := NewCubic(1000, c.paced)
		d := newDriver(t, cc, 1000)
		sent := d.fill()
		d.now += 50 * ms
		d.ack(10000, sent)
		if got := cc.CongestionWindow() - 10000; got != c.want {
			t.Errorf("paced %v: growth %d, want %d", c.paced, got, c.want)
		}
	}
}
