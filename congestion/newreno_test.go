package congestion

import (
	"math"
	"testing"
	"time"
)

// driver feeds a Controller the way a connection would, with synthetic
// time, for the step-by-step tests.
type driver struct {
	t   *testing.T
	cc  Controller
	rtt RTTStats
	now time.Duration
	mss int
}

func newDriver(t *testing.T, cc Controller, mss int) *driver {
	return &driver{t: t, cc: cc, mss: mss, now: time.Second}
}

// send sends n full-size packets at the current time and returns their
// send time.
func (d *driver) send(n int) time.Duration {
	for range n {
		d.cc.OnPacketSent(d.now, d.mss, true)
	}
	return d.now
}

// fill sends full-size packets until the window is full.
func (d *driver) fill() time.Duration {
	for d.cc.BytesInFlight()+d.mss <= d.cc.CongestionWindow() {
		d.cc.OnPacketSent(d.now, d.mss, true)
	}
	return d.now
}

// ack acknowledges packets of the given total size whose newest was sent
// at sentTime, with an RTT sample.
func (d *driver) ack(bytes int, sentTime time.Duration) {
	d.rtt.UpdateRTT(d.now, d.now-sentTime, 0, true)
	d.cc.OnAck(d.now, bytes, sentTime, &d.rtt)
}

func (d *driver) wantWindow(step string, cwnd int) {
	d.t.Helper()
	if got := d.cc.CongestionWindow(); got != cwnd {
		d.t.Fatalf("%s: cwnd %d, want %d", step, got, cwnd)
	}
}

func TestInitialWindow(t *testing.T) {
	// RFC 9002 §7.2: min(10 * max_datagram_size, max(14720, 2 * max_datagram_size)).
	for _, c := range []struct{ mss, want int }{
		{1200, 12000}, {1252, 12520}, {1472, 14720}, {1500, 14720},
		{9000, 18000}, {100, 1000},
	} {
		if got := InitialWindow(c.mss); got != c.want {
			t.Errorf("InitialWindow(%d) = %d, want %d", c.mss, got, c.want)
		}
	}
	cc := NewNewReno(0, false)
	if cc.CongestionWindow() != 12000 || cc.SlowStartThreshold() != math.MaxInt || !cc.InSlowStart() || cc.InRecovery() {
		t.Fatalf("initial state: cwnd %d ssthresh %d", cc.CongestionWindow(), cc.SlowStartThreshold())
	}
}

// TestNewRenoLossAndRecovery walks RFC 9002 §7.3 and Appendix B: slow start,
// the recovery period, congestion avoidance.
func TestNewRenoLossAndRecovery(t *testing.T) {
	const mss = 1200
	d := newDriver(t, NewNewReno(mss, false), mss)
	cc := d.cc

	// Slow start: the window grows by the bytes acknowledged.
	t0 := d.fill() // 10 packets
	d.now += 100 * ms
	d.ack(4*mss, t0)
	d.wantWindow("slow start", 14*mss)

	// Loss of a packet sent at t0: ssthresh = cwnd * 0.5, cwnd = ssthresh.
	d.fill()
	d.now += 10 * ms
	lossTime := d.now
	cc.OnPacketsLost(lossTime, mss, t0, false)
	d.wantWindow("after loss", 7*mss)
	if cc.SlowStartThreshold() != 7*mss || !cc.InRecovery() || cc.InSlowStart() {
		t.Fatalf("after loss: ssthresh %d recovery %v", cc.SlowStartThreshold(), cc.InRecovery())
	}
	// B.6 MaybeSendOnePacket: one packet may go although the window is full.
	if n, _ := cc.SendBudget(d.now); n != 1 {
		t.Fatalf("budget on entering recovery = %d, want 1", n)
	}
	cc.OnPacketSent(d.now, mss, true)
	if n, next := cc.SendBudget(d.now); n != 0 || next != Never {
		t.Fatalf("budget after the extra packet = %d, %v", n, next)
	}

	// Another loss of a packet sent before the recovery period started:
	// no second reduction (one per round trip).
	d.now += ms
	cc.OnPacketsLost(d.now, mss, t0+5*ms, false)
	d.wantWindow("second loss in recovery", 7*mss)

	// ACKs of packets sent before recovery started do not grow the window
	// and do not end recovery.
	d.ack(2*mss, t0)
	d.wantWindow("ack in recovery", 7*mss)
	if !cc.InRecovery() {
		t.Fatal("recovery ended by an ACK of an old packet")
	}

	// Packets sent during recovery: acknowledging one ends the period.
	for cc.BytesInFlight() > 0 {
		d.ack(min(mss, cc.BytesInFlight()), t0)
	}
	sent := d.fill()
	d.now += 100 * ms
	d.ack(mss, sent)
	if cc.InRecovery() {
		t.Fatal("still in recovery after a packet sent in it was acknowledged")
	}
	// Congestion avoidance: one max_datagram_size per window acknowledged.
	d.wantWindow("first ACK in avoidance", 7*mss) // 1200 of 8400 bytes counted
	for range 5 {
		d.fill()
		d.ack(mss, d.now)
	}
	d.wantWindow("6 of 7 packets", 7*mss)
	d.fill()
	d.ack(mss, d.now)
	d.wantWindow("a window acknowledged", 8*mss)

	// A new loss, of a packet sent after the recovery start: a new event.
	d.now += ms
	cc.OnPacketsLost(d.now, mss, d.now-ms/2, false)
	d.wantWindow("second congestion event", 4*mss)
}

func TestNewRenoMinimumWindow(t *testing.T) {
	const mss = 1500
	d := newDriver(t, NewNewReno(mss, false), mss)
	for i := range 10 {
		d.fill()
		d.now += 100 * ms
		// Each loss is of a packet sent after the previous event started.
		d.cc.OnPacketsLost(d.now, mss, d.now-ms, false)
		want := max(InitialWindow(mss)>>(i+1), 2*mss)
		d.wantWindow("repeated loss", want)
	}
	d.wantWindow("floor", 2*mss) // kMinimumWindow
}

// TestNewRenoPersistentCongestion: RFC 9002 §7.6.2 and Appendix B.8.
func TestNewRenoPersistentCongestion(t *testing.T) {
	const mss = 1200
	d := newDriver(t, NewNewReno(mss, false), mss)
	cc := d.cc
	// Grow to 20 packets first.
	t0 := d.fill()
	d.now += 50 * ms
	d.ack(10*mss, t0)
	d.wantWindow("grown", 20*mss)
	t1 := d.fill()
	d.now += 2 * time.Second
	cc.OnPacketsLost(d.now, 20*mss, t1, true)
	d.wantWindow("persistent congestion", 2*mss)
	if cc.SlowStartThreshold() != 10*mss || !cc.InSlowStart() || cc.InRecovery() || cc.BytesInFlight() != 0 {
		t.Fatalf("after persistent congestion: ssthresh %d slow start %v recovery %v in flight %d",
			cc.SlowStartThreshold(), cc.InSlowStart(), cc.InRecovery(), cc.BytesInFlight())
	}
	// The recovery period was forgotten: a loss of a packet sent before it
	// (but after persistent congestion) is a new congestion event.
	t2 := d.fill()
	d.now += 50 * ms
	d.ack(mss, t2)
	d.wantWindow("slow start again", 3*mss)
	cc.OnPacketsLost(d.now, mss, t2, false)
	d.wantWindow("new event", 2*mss)
}

func TestNewRenoECN(t *testing.T) {
	const mss = 1200
	d := newDriver(t, NewNewReno(mss, false), mss)
	t0 := d.fill()
	d.now += 50 * ms
	d.cc.OnECNCE(d.now, t0)
	d.wantWindow("ECN-CE", 5*mss)
	if !d.cc.InRecovery() || d.cc.BytesInFlight() != 10*mss {
		t.Fatal("ECN-CE must start recovery without touching bytes in flight")
	}
	d.cc.OnECNCE(d.now, t0) // same round trip: ignored
	d.wantWindow("second ECN-CE", 5*mss)
}

// TestAppLimited: RFC 9002 §7.8, the window does not grow while unused.
func TestAppLimited(t *testing.T) {
	for _, cc := range []Controller{NewNewReno(1200, false), NewCubic(1200, false)} {
		t.Run(cc.Name(), func(t *testing.T) {
			const mss = 1200
			d := newDriver(t, cc, mss)
			// Slow start with 2 of 10 packets in flight: no growth.
			for range 20 {
				sent := d.send(2)
				d.now += 20 * ms
				d.ack(2*mss, sent)
			}
			d.wantWindow("application limited in slow start", 10*mss)
			// Using the window: growth.
			sent := d.fill()
			d.now += 20 * ms
			d.ack(2*mss, sent)
			d.wantWindow("window used", 12*mss)
		})
	}
}

func TestBytesInFlightAccounting(t *testing.T) {
	cc := NewNewReno(1200, false)
	cc.OnPacketSent(0, 1000, true)
	cc.OnPacketSent(0, 50, false) // ACK-only: not in flight
	cc.OnPacketSent(0, 1200, true)
	if cc.BytesInFlight() != 2200 {
		t.Fatalf("in flight %d", cc.BytesInFlight())
	}
	cc.OnPacketsDiscarded(1000)
	if cc.BytesInFlight() != 1200 {
		t.Fatalf("after discard %d", cc.BytesInFlight())
	}
	// More acknowledged than in flight (a confused caller) floors at zero.
	cc.OnAck(ms, 5000, 0, nil)
	if cc.BytesInFlight() != 0 {
		t.Fatalf("after over-ack %d", cc.BytesInFlight())
	}
}

func TestNewSelectsAlgorithm(t *testing.T) {
	for name, want := range map[string]string{"": "cubic", "cubic": "cubic", "newreno": "newreno"} {
		cc, err := New(Config{Algorithm: name})
		if err != nil || cc.Name() != want {
			t.Errorf("New(%q) = %v, %v", name, cc, err)
		}
	}
	_, err := New(Config{Algorithm: "bbr"})
	if e, ok := err.(*UnknownAlgorithmError); !ok || e.Name != "bbr" || err.Error() != `congestion: unknown algorithm "bbr"` {
		t.Fatalf("New(bbr) error %v", err)
	}
}

func TestSetMaxDatagramSize(t *testing.T) {
	cc := NewNewReno(1200, false)
	cc.SetMaxDatagramSize(1500)
	// RFC 9002 §7.2: the initial window follows the new size.
	if cc.CongestionWindow() != 14720 {
		t.Fatalf("initial window after SetMaxDatagramSize(1500) = %d", cc.CongestionWindow())
	}
	for i := range 10 {
		sent := time.Duration(2*i) * time.Second // after the previous event
		cc.OnPacketsLost(sent+time.Second, 1, sent, false)
	}
	if cc.CongestionWindow() != 3000 {
		t.Fatalf("minimum window after raising max_datagram_size = %d, want 3000", cc.CongestionWindow())
	}
}
