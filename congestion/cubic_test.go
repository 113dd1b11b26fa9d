package congestion

import (
	"math"
	"testing"
	"time"
)

// cubicAt returns a CUBIC controller (mss 1000 bytes, unpaced) whose window
// has grown to packets segments in slow start with a constant RTT, and its
// driver.
func cubicAt(t *testing.T, packets int, rtt time.Duration) (*CubicController, *driver) {
	t.Helper()
	const mss = 1000
	cc := NewCubic(mss, false)
	d := newDriver(t, cc, mss)
	for cc.CongestionWindow() < packets*mss {
		d.fill()
		d.now += rtt / 10
		d.ack(mss, d.now-rtt)
	}
	d.wantWindow("setup", packets*mss)
	return cc, d
}

func near(a, b, tolerance float64) bool { return math.Abs(a-b) <= tolerance }

// TestCubicDecreaseAndK: RFC 9438 §4.6 (Figure 5), §4.2 (Figures 1, 2).
func TestCubicDecreaseAndK(t *testing.T) {
	const rtt = 100 * ms
	cc, d := cubicAt(t, 100, rtt)
	d.fill()
	d.now += ms
	cc.OnPacketsLost(d.now, 1000, d.now-ms, false)
	// W_max = 100 segments (first event: no fast convergence),
	// cwnd_prior = 100, ssthresh = cwnd = 100 * β_cubic = 70.
	d.wantWindow("after loss", 70000)
	if cc.SlowStartThreshold() != 70000 || cc.wMax != 100000 || cc.cwndPrior != 100000 || !cc.InRecovery() {
		t.Fatalf("ssthresh %d W_max %v cwnd_prior %v", cc.SlowStartThreshold(), cc.wMax, cc.cwndPrior)
	}
	if cc.epochStarted {
		t.Fatal("epoch started before congestion avoidance")
	}

	// Epoch start: the first ACK in congestion avoidance (of a packet sent
	// after the recovery period started).
	for cc.BytesInFlight() > 60000 {
		d.ack(1000, d.now-ms) // packets sent before recovery: ignored
	}
	d.now += rtt
	d.fill()
	epoch := d.now
	d.ack(1000, d.now-ms/2)
	if cc.InRecovery() || !cc.epochStarted || cc.tEpoch != epoch || cc.cwndEpoch != 70000 || cc.wEst != 70000+cubicAlpha*1000*1000/70000 {
		t.Fatalf("epoch: recovery %v started %v t_epoch %v cwnd_epoch %v W_est %v",
			cc.InRecovery(), cc.epochStarted, cc.tEpoch, cc.cwndEpoch, cc.wEst)
	}
	// K = cubic_root(W_max * (1 - β_cubic) / C) in segments and seconds.
	wantK := math.Cbrt(100 * (1 - 0.7) / 0.4)
	if !near(cc.k, wantK, 1e-12) || !near(wantK, 4.2172, 1e-4) {
		t.Fatalf("K = %v, want %v", cc.k, wantK)
	}
	// W_cubic(0) = cwnd_epoch, W_cubic(K) = W_max, and the curve is
	// symmetric around K: W_cubic(2K) = 2 W_max - cwnd_epoch.
	for _, c := range []struct{ t, want float64 }{
		{0, 70000}, {wantK, 100000}, {2 * wantK, 130000},
		{1, 1000 * (0.4*math.Pow(1-wantK, 3) + 100)},
	} {
		if got := cc.wCubic(c.t); !near(got, c.want, 1e-6) {
			t.Errorf("W_cubic(%v) = %v, want %v", c.t, got, c.want)
		}
	}
}

// cubicStep is RFC 9438 §4.2-§4.5 for one ACK, in segments, computed
// independently of the implementation's byte arithmetic. It returns the
// expected window in bytes and the region.
func cubicStep(cc *CubicController, now time.Duration, acked int) (float64, string) {
	const mss = 1000.0
	cwnd := float64(cc.CongestionWindow()) / mss
	wMax := cc.wMax / mss
	t := (now - cc.tEpoch).Seconds()
	rtt := 0.0
	if r := cc.smoothedRTT; r > 0 {
		rtt = r.Seconds()
	}
	wCubic := func(t float64) float64 { return 0.4*math.Pow(t-cc.k, 3) + wMax }
	alpha := 3 * (1 - 0.7) / (1 + 0.7)
	if cc.wEst/mss >= cc.cwndPrior/mss {
		alpha = 1
	}
	wEst := cc.wEst/mss + alpha*float64(acked)/mss/cwnd
	if wCubic(t) < wEst {
		return mss * max(cwnd, wEst), "reno-friendly"
	}
	target := max(cwnd, min(wCubic(t+rtt), 1.5*cwnd))
	region := "concave"
	if cwnd >= wMax {
		region = "convex"
	}
	return mss * (cwnd + (target-cwnd)/cwnd*float64(acked)/mss), region
}

// runAvoidance drives congestion avoidance with full windows and an ACK
// every step (of a window's worth of bytes per RTT), checking every step against cubicStep. It returns how many
// ACKs fell in each region.
func runAvoidance(t *testing.T, cc *CubicController, d *driver, rtt, step, until time.Duration) map[string]int {
	t.Helper()
	regions := map[string]int{}
	for d.now < until {
		d.fill()
		d.now += step
		// A window's worth of bytes acknowledged per RTT, as ACK clocking
		// would do.
		acked := max(2000, int(int64(cc.CongestionWindow())*int64(step)/int64(rtt))/1000*1000)
		acked = min(acked, cc.BytesInFlight())
		d.rtt.UpdateRTT(d.now, rtt, 0, true)
		want, region := cubicStep(cc, d.now, acked)
		cc.OnAck(d.now, acked, d.now-rtt, &d.rtt)
		got := float64(cc.CongestionWindow())
		// Integer bytes: the implementation may differ by the carried
		// remainder and truncation, never by more than a couple of bytes.
		if !near(got, want, 2) {
			t.Fatalf("t=%v (%s): cwnd %v, want %v", d.now-cc.tEpoch, region, got, want)
		}
		regions[region]++
	}
	return regions
}

func enterAvoidanceAfterLoss(t *testing.T, cc *CubicController, d *driver, rtt time.Duration) {
	t.Helper()
	d.fill()
	d.now += ms
	cc.OnPacketsLost(d.now, 1000, d.now-ms, false)
	for cc.BytesInFlight() > 0 {
		d.ack(min(2000, cc.BytesInFlight()), d.now-rtt) // sent before recovery
	}
	d.now += rtt
	d.fill()
	d.ack(2000, d.now-rtt+ms) // sent after the recovery start: epoch starts
}

// TestCubicConcaveThenConvex: a large window and a long RTT keep CUBIC out
// of the Reno-friendly region; the window approaches W_max (concave), then
// passes it (convex).
func TestCubicConcaveThenConvex(t *testing.T) {
	const rtt = 100 * ms
	cc, d := cubicAt(t, 1000, rtt)
	enterAvoidanceAfterLoss(t, cc, d, rtt)
	k := cc.k
	start := d.now
	regions := runAvoidance(t, cc, d, rtt, 5*ms, start+time.Duration(k*float64(time.Second))-rtt)
	if regions["concave"] == 0 || regions["reno-friendly"] != 0 {
		t.Fatalf("before K: regions %v", regions)
	}
	// The window trails target = W_cubic(t + RTT) = W_max by a little.
	if w := cc.CongestionWindow(); w < 970000 || w > 1000000 {
		t.Fatalf("cwnd %d one RTT before K, want just under W_max 1000000", w)
	}
	regions = runAvoidance(t, cc, d, rtt, 5*ms, start+time.Duration(2*k*float64(time.Second)))
	if regions["convex"] == 0 {
		t.Fatalf("after K: regions %v", regions)
	}
	if w := cc.CongestionWindow(); w < 1250000 {
		t.Fatalf("cwnd %d at 2K, want about 2 W_max - cwnd_epoch = 1300000", w)
	}
}

// TestCubicRenoFriendly: a small window and a short RTT put CUBIC in the
// Reno-friendly region, where cwnd follows W_est; α_cubic becomes 1 once
// W_est reaches cwnd_prior (RFC 9438 §4.3).
func TestCubicRenoFriendly(t *testing.T) {
	const rtt = 10 * ms
	cc, d := cubicAt(t, 20, rtt)
	enterAvoidanceAfterLoss(t, cc, d, rtt)
	if cc.cwndEpoch != 14000 {
		t.Fatalf("cwnd_epoch %v, want 14000", cc.cwndEpoch)
	}
	regions := runAvoidance(t, cc, d, rtt, ms, d.now+time.Second)
	if regions["reno-friendly"] == 0 {
		t.Fatalf("regions %v", regions)
	}
	if cc.wEst < cc.cwndPrior {
		t.Fatalf("W_est %v still below cwnd_prior %v after a second", cc.wEst, cc.cwndPrior)
	}
	// In the Reno-friendly region the window is W_est.
	if got := cc.CongestionWindow(); got != int(cc.wEst) {
		t.Fatalf("cwnd %d, W_est %v", got, cc.wEst)
	}
}

// TestCubicTargetClamp: target is at most 1.5 * cwnd (RFC 9438 §4.2).
func TestCubicTargetClamp(t *testing.T) {
	const rtt = 100 * ms
	cc, d := cubicAt(t, 100, rtt)
	enterAvoidanceAfterLoss(t, cc, d, rtt)
	// Far past K, W_cubic(t + RTT) is huge; one ACK of a whole window
	// grows cwnd by at most (1.5 cwnd - cwnd) * cwnd / cwnd = 0.5 cwnd.
	d.now += 60 * time.Second
	d.fill()
	before, acked := cc.CongestionWindow(), cc.BytesInFlight()
	d.ack(acked, d.now-rtt)
	want := before + (before*3/2-before)*acked/before
	if got := cc.CongestionWindow(); got != want {
		t.Fatalf("cwnd %d after a whole window far past K, want %d", got, want)
	}
}

// TestCubicFastConvergence: RFC 9438 §4.7.
func TestCubicFastConvergence(t *testing.T) {
	const rtt = 100 * ms
	cc, d := cubicAt(t, 100, rtt)
	enterAvoidanceAfterLoss(t, cc, d, rtt) // W_max 100 segments, cwnd 70
	runAvoidance(t, cc, d, rtt, 10*ms, d.now+time.Second)
	cwnd := float64(cc.CongestionWindow())
	if cwnd >= cc.wMax {
		t.Fatalf("cwnd %v not below W_max %v", cwnd, cc.wMax)
	}
	d.now += ms
	cc.OnPacketsLost(d.now, 1000, d.now-ms/2, false)
	if want := cwnd * (1 + 0.7) / 2; !near(cc.wMax, want, 1e-9) {
		t.Fatalf("W_max %v, want cwnd * (1 + β) / 2 = %v", cc.wMax, want)
	}
	if want := int(cwnd * 0.7); cc.CongestionWindow() != want {
		t.Fatalf("cwnd %d, want %d", cc.CongestionWindow(), want)
	}
}

// TestCubicPersistentCongestion: RFC 9002 §7.6.2 and RFC 9438 §4.8.
func TestCubicPersistentCongestion(t *testing.T) {
	const rtt = 50 * ms
	cc, d := cubicAt(t, 40, rtt)
	d.fill()
	d.now += 3 * time.Second
	cc.OnPacketsLost(d.now, cc.BytesInFlight(), d.now-time.Second, true)
	d.wantWindow("persistent congestion", 2000)
	if cc.SlowStartThreshold() != 28000 || !cc.InSlowStart() || cc.InRecovery() {
		t.Fatalf("ssthresh %d slow start %v recovery %v", cc.SlowStartThreshold(), cc.InSlowStart(), cc.InRecovery())
	}
	// Standard slow start (HyStart++ is over) back to ssthresh...
	for cc.InSlowStart() {
		d.fill()
		d.now += ms
		d.ack(2000, d.now-rtt)
	}
	// ...then an epoch with K = 0 and W_max = the window at its start.
	d.fill()
	d.now += ms
	d.ack(2000, d.now-rtt)
	if cc.k != 0 || cc.wMax != cc.cwndEpoch || cc.wEst < cc.cwndEpoch {
		t.Fatalf("after timeout: K %v W_max %v cwnd_epoch %v W_est %v", cc.k, cc.wMax, cc.cwndEpoch, cc.wEst)
	}
}

// TestCubicAppLimited: RFC 9438 §4.2 and §5.8: no growth while the window
// is unused, and that time is not part of t.
func TestCubicAppLimited(t *testing.T) {
	const rtt = 100 * ms
	cc, d := cubicAt(t, 100, rtt)
	enterAvoidanceAfterLoss(t, cc, d, rtt)
	runAvoidance(t, cc, d, rtt, 10*ms, d.now+500*ms)
	for cc.BytesInFlight() > 0 {
		d.ack(min(2000, cc.BytesInFlight()), d.now-rtt)
	}
	cwnd, tEpoch, wEst := cc.CongestionWindow(), cc.tEpoch, cc.wEst
	// Two seconds of ACKs for a sender that keeps 4 packets in flight.
	for range 200 {
		d.send(2)
		d.now += 10 * ms
		d.ack(2000, d.now-rtt)
	}
	if cc.CongestionWindow() != cwnd || cc.wEst != wEst {
		t.Fatalf("application limited: cwnd %d -> %d, W_est %v -> %v", cwnd, cc.CongestionWindow(), wEst, cc.wEst)
	}
	if shift := cc.tEpoch - tEpoch; shift < 1990*ms || shift > 2010*ms {
		t.Fatalf("t_epoch moved by %v, want the 2s spent application limited", shift)
	}
	// Back to using the window: growth resumes where it stopped.
	runAvoidance(t, cc, d, rtt, 10*ms, d.now+100*ms)
	if cc.CongestionWindow() <= cwnd {
		t.Fatal("no growth after the application-limited period")
	}
}

func TestCubicECN(t *testing.T) {
	cc, d := cubicAt(t, 10, 50*ms)
	sent := d.fill()
	d.now += ms
	cc.OnECNCE(d.now, sent)
	d.wantWindow("ECN-CE", 7000)
	if cc.hystart.phase != hystartDone || !cc.InRecovery() {
		t.Fatal("ECN-CE must end HyStart++ and start recovery")
	}
	// Down to the minimum window, never below.
	for i := range 20 {
		d.now += time.Second
		cc.OnECNCE(d.now, d.now-ms)
		_ = i
	}
	d.wantWindow("repeated ECN-CE", 2000)
}
