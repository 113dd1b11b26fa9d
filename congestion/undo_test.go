package congestion

import (
	"math"
	"testing"
)

// sameCubicState reports whether two CUBIC controllers are in the same
// congestion state: everything but bytes in flight, which a loss changes
// for good, and the saved undo state.
func sameCubicState(a, b CubicController) bool {
	a.bytesInFlight, a.undo, a.window.undo, a.sendOneExtra = 0, cubicUndo{}, windowUndo{}, false
	b.bytesInFlight, b.undo, b.window.undo, b.sendOneExtra = 0, cubicUndo{}, windowUndo{}, false
	return a == b
}

// RFC 9438 §4.9.2: a spurious loss in slow start is undone completely: the
// window, ssthresh (infinite again), the recovery period and HyStart++,
// which the loss had ended.
func TestCubicUndoInSlowStart(t *testing.T) {
	cc, d := cubicAt(t, 100, 100*ms)
	d.fill()
	d.now += ms
	before := *cc
	cc.OnPacketsLost(d.now, 1000, d.now-ms, false)
	if cc.CongestionWindow() != 70000 || cc.InSlowStart() || !cc.InRecovery() || cc.hystart.phase != hystartDone {
		t.Fatalf("after loss: cwnd %d slow start %v recovery %v", cc.CongestionWindow(), cc.InSlowStart(), cc.InRecovery())
	}
	cc.UndoCongestionEvent()
	if !sameCubicState(*cc, before) {
		t.Fatalf("after undo:\n%+v\nwant\n%+v", *cc, before)
	}
	if cc.CongestionWindow() != 100000 || cc.SlowStartThreshold() != math.MaxInt || !cc.InSlowStart() || cc.InRecovery() {
		t.Fatalf("after undo: cwnd %d ssthresh %d", cc.CongestionWindow(), cc.SlowStartThreshold())
	}
	// A new spurious event is undone again; a saved state serves once.
	cc.OnPacketsLost(d.now+ms, 1000, d.now, false)
	cc.UndoCongestionEvent()
	cc.UndoCongestionEvent()
	if cc.CongestionWindow() != 100000 {
		t.Fatalf("cwnd %d", cc.CongestionWindow())
	}
	cc.UndoCongestionEvent()
	d.wantWindow("repeated undo", 100000)
}

// In congestion avoidance the undo restores W_max, K, t_epoch, W_est and
// cwnd_prior with the window (RFC 9438 §4.9.2): the cubic curve continues
// as if the loss had not happened.
func TestCubicUndoInAvoidance(t *testing.T) {
	const rtt = 100 * ms
	cc, d := cubicAt(t, 100, rtt)
	enterAvoidanceAfterLoss(t, cc, d, rtt)
	runAvoidance(t, cc, d, rtt, 10*ms, 2*rtt)
	d.now += ms
	before := *cc
	cc.OnPacketsLost(d.now, 1000, d.now-ms, false)
	if cc.CongestionWindow() >= before.CongestionWindow() || cc.epochStarted {
		t.Fatal("no reduction")
	}
	cc.UndoCongestionEvent()
	if !sameCubicState(*cc, before) {
		t.Fatalf("after undo:\n%+v\nwant\n%+v", *cc, before)
	}
}

// ECN-CE and persistent congestion are congestion, never undone; nor is
// an event after which the window already grew past its old size.
func TestUndoRefused(t *testing.T) {
	cc, d := cubicAt(t, 100, 100*ms)
	d.fill()
	cc.OnECNCE(d.now, d.now-ms)
	cc.UndoCongestionEvent()
	d.wantWindow("undo after ECN-CE", 70000)

	cc, d = cubicAt(t, 100, 100*ms)
	d.fill()
	cc.OnPacketsLost(d.now, 1000, d.now-ms, true)
	cc.UndoCongestionEvent()
	d.wantWindow("undo after persistent congestion", 2000)

	nr := NewNewReno(1000, false)
	d = newDriver(t, nr, 1000)
	d.fill()
	nr.OnPacketsLost(d.now, 1000, d.now, false) // 10000 -> 5000
	nr.cwnd = 11000                             // grown since, somehow
	nr.UndoCongestionEvent()
	d.wantWindow("undo after growth", 11000)
}

// NewReno: the window, ssthresh and recovery period come back.
func TestNewRenoUndo(t *testing.T) {
	nr := NewNewReno(1000, false)
	d := newDriver(t, nr, 1000)
	for range 5 { // slow start to 20000 and a loss: ssthresh 10000
		sent := d.fill()
		d.now += 100 * ms
		d.ack(nr.BytesInFlight(), sent)
		if nr.CongestionWindow() >= 20000 {
			break
		}
	}
	d.fill()
	nr.OnPacketsLost(d.now, 1000, d.now, false)
	d.now += 100 * ms
	sent := d.fill()
	d.now += 100 * ms
	d.ack(nr.BytesInFlight(), sent) // ends the recovery period
	before := *nr
	d.now += ms
	d.fill()
	nr.OnPacketsLost(d.now, 1000, d.now, false)
	if nr.CongestionWindow() >= before.CongestionWindow() || !nr.InRecovery() {
		t.Fatal("no reduction")
	}
	nr.UndoCongestionEvent()
	if nr.CongestionWindow() != before.cwnd || nr.ssthresh != before.ssthresh ||
		nr.recoveryStart != before.recoveryStart || nr.InRecovery() != before.InRecovery() ||
		nr.bytesAckedInAvoidance != before.bytesAckedInAvoidance {
		t.Fatalf("after undo %+v, want %+v", nr.window, before.window)
	}
}
