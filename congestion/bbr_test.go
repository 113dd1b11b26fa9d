package congestion

import (
	"errors"
	"testing"
	"time"
	"unsafe"
)

func TestAlgorithmSelection(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		name string
	}{
		{Config{}, "cubic"},
		{Config{Kind: CUBIC}, "cubic"},
		{Config{Kind: NewReno}, "newreno"},
		{Config{Kind: BBR}, "bbr"},
		{Config{Algorithm: "newreno"}, "newreno"},
		{Config{Kind: BBR, Algorithm: "newreno"}, "bbr"}, // Kind wins
	} {
		cc, err := New(c.cfg)
		if err != nil || cc.Name() != c.name {
			t.Errorf("New(%+v) = %v, %v; want %s", c.cfg, cc, err, c.name)
		}
	}
	for _, name := range []string{"cubic", "newreno", "bbr"} {
		a, err := ParseAlgorithm(name)
		if err != nil || a.String() != name {
			t.Errorf("ParseAlgorithm(%q) = %v, %v", name, a, err)
		}
	}
	var unknown *UnknownAlgorithmError
	if _, err := ParseAlgorithm("vegas"); !errors.As(err, &unknown) || unknown.Name != "vegas" {
		t.Errorf("ParseAlgorithm(vegas) error %v", err)
	}
	if _, err := New(Config{Kind: Algorithm(42)}); !errors.As(err, &unknown) || unknown.Name != "Algorithm(42)" {
		t.Errorf("New(Kind 42) error %v", err)
	}
}

// TestRateSampler follows §4.1.2 by hand: the sample's interval is the
// longer of the send and ACK intervals, and a sample taken while the
// application left the pipe partly empty is marked so until the bubble is
// delivered.
func TestRateSampler(t *testing.T) {
	var s rateSampler
	var p [6]PacketState
	// Packets 0-3 sent 1 ms apart from an idle connection.
	for i := range 4 {
		s.onSent(time.Duration(i)*ms, &p[i], 1000, i*1000, (i+1)*1000)
	}
	// Packet 0 acknowledged at 50 ms: send interval 0, ACK interval 50 ms
	// from the send of packet 0 (nothing was in flight then).
	s.onAcked(50*ms, &p[0])
	rs := s.generate(0)
	if rs.delivered != 1000 || rs.interval != 50*ms || rs.deliveryRate != 20000 {
		t.Fatalf("first sample: delivered %d over %v = %d B/s; want 1000 over 50ms = 20000", rs.delivered, rs.interval, rs.deliveryRate)
	}
	s.endAck()
	// Packets 1-3 acknowledged by one frame at 53 ms: the newest (3) makes
	// the sample; it was sent at 3 ms, when C.delivered was 0 at time 0.
	for i := 1; i < 4; i++ {
		s.onAcked(53*ms, &p[i])
	}
	rs = s.generate(0)
	if rs.newlyAcked != 3000 || rs.delivered != 4000 || rs.interval != 53*ms || rs.priorDelivered != 0 {
		t.Fatalf("second sample: newly %d, delivered %d over %v", rs.newlyAcked, rs.delivered, rs.interval)
	}
	if rs.txInFlight != 4000 {
		t.Fatalf("tx_in_flight %d, want 4000", rs.txInFlight)
	}
	// A sample over less than min_rtt is no rate.
	if rs := s.generate(60 * ms); rs.deliveryRate != 0 {
		t.Fatalf("sample below min_rtt gave %d B/s", rs.deliveryRate)
	}
	s.endAck()
	// Acknowledging a packet twice changes nothing.
	if s.onAcked(54*ms, &p[2]) || s.delivered != 4000 {
		t.Fatalf("packet acknowledged twice counted")
	}
	// The application runs dry with 1000 bytes in flight: packets sent
	// until C.delivered passes 4000+1000 are app-limited.
	s.onSent(60*ms, &p[4], 1000, 0, 1000)
	s.markAppLimited(1000)
	s.onSent(61*ms, &p[5], 1000, 1000, 2000)
	if p[4].flags&packetAppLimited != 0 || p[5].flags&packetAppLimited == 0 {
		t.Fatalf("app-limited marks: %v %v", p[4].flags, p[5].flags)
	}
	s.onAcked(110*ms, &p[4])
	if rs := s.generate(0); rs.isAppLimited || s.appLimited == 0 {
		t.Fatalf("bubble gone too early")
	}
	s.endAck()
	s.onAcked(111*ms, &p[5])
	if rs := s.generate(0); !rs.isAppLimited || s.appLimited != 0 {
		t.Fatalf("sample of packet 5 not app-limited, or bubble not cleared (%d)", s.appLimited)
	}
}

func TestMaxFilter(t *testing.T) {
	var f maxFilter
	// The filter is exact for the maximum and approximate below it: it
	// keeps the best sample of later sub-windows only, so 7, taken in the
	// first quarter of the window of 10, is forgotten in favour of 6.
	steps := []struct{ t, v, want uint64 }{
		{0, 10, 10}, {1, 5, 10}, {2, 7, 10}, {5, 6, 10},
		{10, 4, 10}, // 10 is 10 rounds old: still in a window of 10
		{11, 3, 6},  // 10 aged out; the best later sample takes over
		{13, 2, 6},
		{14, 20, 20}, // a new maximum resets the filter
		{40, 1, 1},   // everything aged out
	}
	for _, s := range steps {
		if got := f.update(s.t, 10, s.v); got != s.want {
			t.Fatalf("update(t=%d, v=%d) = %d, want %d", s.t, s.v, got, s.want)
		}
	}
}

// TestInflightAtLoss: §5.5.10.2's estimate of where within the lost packet
// the loss rate crossed BBR.LossThresh.
func TestInflightAtLoss(t *testing.T) {
	// 100 packets of 1000 bytes in flight, two of them lost before this
	// one, which is lost too: 3% > 2%. Before it, 2000 of 99000 were lost
	// (2.02%): the threshold was crossed just before it.
	got := inflightAtLoss(1000, 100_000, 3000)
	// lost_prefix = (0.02*99000 - 2000) / 0.98 = -20.4 bytes
	if got != 99_000-20 {
		t.Fatalf("inflight at loss %d, want 98980", got)
	}
	if !isInflightTooHigh(3000, 100_000) || isInflightTooHigh(2000, 100_000) {
		t.Fatalf("IsInflightTooHigh at 3%% / 2%%")
	}
	if inflightAtLoss(1000, 500, 100_000) != 0 {
		t.Fatalf("estimate below zero")
	}
}

// bbrRun is one BBR flow over the simulator, watched every 5 ms.
type bbrRun struct {
	s *sim
	f *simFlow
	b *BBRController
	// entered records the first time each state was entered after start.
	entered [bbrNoState + 1]time.Duration
	seen    [bbrNoState + 1]bool
	last    BBRState
}

func newBBRRun(rate int64, rtt time.Duration, bufferPackets int) *bbrRun {
	s := newSim(rate, bufferPackets, 0, 1)
	b := NewBBR(simPacketSize, 1)
	f := newSimFlow(b, rtt, 0, rtt)
	s.flows = append(s.flows, f)
	return &bbrRun{s: s, f: f, b: b, last: bbrNoState}
}

func (r *bbrRun) runTo(until time.Duration, each func(now time.Duration)) {
	for t := r.s.now + 5*ms; t <= until; t += 5 * ms {
		r.s.run(t)
		if st := r.b.state; st != r.last {
			r.last = st
			if !r.seen[st] {
				r.seen[st], r.entered[st] = true, t
			}
		}
		if each != nil {
			each(t)
		}
	}
}

// TestBBRStartupToProbeBW: draft Appendix A.1 and A.3. Startup finds the
// bottleneck bandwidth within 2%, leaves on a plateau (three rounds below
// 25% growth), Drain empties the queue it made, ProbeBW follows, and the
// ProbeBW phases use the draft's gains.
func TestBBRStartupToProbeBW(t *testing.T) {
	r := newBBRRun(50_000_000, 40*ms, 1000)
	gains := map[BBRState][2]uint64{}
	r.runTo(8*time.Second, func(time.Duration) {
		gains[r.b.state] = [2]uint64{r.b.pacingGain, r.b.cwndGain}
	})
	st := r.b.Stats()
	t.Logf("Startup left at %v, Drain left at %v; max_bw %.2f Mbit/s, min_rtt %v, %d lost",
		r.entered[BBRDrain], r.entered[BBRProbeBWDown], float64(st.MaxBandwidth)*8/1e6, st.MinRTT, r.f.lost)
	if !r.seen[BBRDrain] || !r.seen[BBRProbeBWDown] || !st.FullBandwidthReached {
		t.Fatalf("never left Startup/Drain: %v", r.seen)
	}
	if bw := float64(st.MaxBandwidth) * 8; bw < 0.98*50e6 || bw > 1.02*50e6 {
		t.Errorf("max_bw %.0f bit/s, want within 2%% of 50 Mbit/s", bw)
	}
	if st.MinRTT < 40*ms || st.MinRTT > 41*ms {
		t.Errorf("min_rtt %v", st.MinRTT)
	}
	if r.f.lost != 0 {
		t.Errorf("%d packets lost with a deep buffer", r.f.lost)
	}
	want := map[BBRState][2]uint64{
		BBRStartup: {277, 200}, BBRDrain: {50, 200}, BBRProbeBWDown: {90, 200},
		BBRProbeBWCruise: {100, 200}, BBRProbeBWRefill: {100, 200}, BBRProbeBWUp: {125, 225},
	}
	for state, g := range want {
		if got, ok := gains[state]; !ok || got != g {
			t.Errorf("%v: pacing/cwnd gain %v, want %v", state, got, g)
		}
	}
}

// TestBBRProbeRTT: draft Appendix A.10. With no lower RTT sample for 5 s a
// bulk flow enters ProbeRTT, holds C.inflight at most at half the BDP for
// at least 200 ms and a round, then returns to ProbeBW with its window.
func TestBBRProbeRTT(t *testing.T) {
	r := newBBRRun(20_000_000, 30*ms, 100)
	var entered, left time.Duration
	var maxInflight int
	var cwndBefore int
	r.runTo(9*time.Second, func(now time.Duration) {
		switch {
		case r.b.state == BBRProbeRTT && entered == 0:
			entered = now
		case r.b.state == BBRProbeRTT && r.b.probeRTTDoneSet:
			maxInflight = max(maxInflight, r.b.inFlight)
		case entered != 0 && left == 0 && r.b.state != BBRProbeRTT:
			left = now
		case entered == 0:
			cwndBefore = r.b.cwnd
		}
	})
	bdp := int(float64(20_000_000) / 8 * 0.03)
	t.Logf("ProbeRTT from %v to %v; inflight at most %d bytes while held (half BDP %d); cwnd before %d, after %d",
		entered, left, maxInflight, bdp/2, cwndBefore, r.b.cwnd)
	if entered == 0 || left == 0 {
		t.Fatalf("ProbeRTT entered at %v, left at %v", entered, left)
	}
	if left-entered < bbrProbeRTTDuration {
		t.Errorf("ProbeRTT lasted %v", left-entered)
	}
	if maxInflight > max(bdp/2, bbrMinPipeCwndPackets*simPacketSize)+simPacketSize {
		t.Errorf("inflight %d in ProbeRTT", maxInflight)
	}
	if !r.b.isInAProbeBWState() || r.b.cwnd < cwndBefore*9/10 {
		t.Errorf("after ProbeRTT: %v, cwnd %d (before %d)", r.b.state, r.b.cwnd, cwndBefore)
	}
}

// TestBBRAppLimited: draft Appendix A.7 and §5.5.4. An application
// writing 24 Mbit/s over a 100 Mbit/s path keeps BBR in Startup
// (app-limited samples never show a plateau), and its window follows the
// bandwidth its bursts show rather than growing without bound.
func TestBBRAppLimited(t *testing.T) {
	s := newSim(100_000_000, 250, 0, 9)
	b := NewBBR(simPacketSize, 1)
	f := newSimFlow(b, 30*ms, 0, 30*ms)
	f.appChunk, f.appPeriod = 50, 25*ms
	s.flows = append(s.flows, f)
	s.run(20 * time.Second)
	st := b.Stats()
	got := throughput(f, time.Second, 20*time.Second)
	t.Logf("application limited at 24 Mbit/s on 100 Mbit/s: %.1f Mbit/s delivered, state %v, max_bw %.1f Mbit/s (50-packet bursts), cwnd %d packets (largest flight %d), %d lost",
		got/1e6, st.State, float64(st.MaxBandwidth)*8/1e6, st.CongestionWindow/simPacketSize, f.maxInFlight/simPacketSize, f.lost)
	if got < 23e6 || f.lost != 0 {
		t.Errorf("delivered %.1f Mbit/s, %d lost", got/1e6, f.lost)
	}
	if st.State != BBRStartup {
		t.Errorf("state %v, want Startup (A.7)", st.State)
	}
	if st.CongestionWindow > 3*f.maxInFlight {
		t.Errorf("cwnd %d with at most %d in flight", st.CongestionWindow, f.maxInFlight)
	}
}

// TestBBRIdleSkipsProbeRTT: draft Appendix A.11. An application writes
// 5000 packets every 8 s over a 100 Mbit/s, 30 ms path: BBR.ProbeRTTInterval
// elapses during each pause, and the restart from idle (§5.4.1) counts as
// the drain ProbeRTT would do, so ProbeRTT never happens. (An expiry
// noticed later than the first ACK after a restart does lead to ProbeRTT,
// as in the draft.)
func TestBBRIdleSkipsProbeRTT(t *testing.T) {
	s := newSim(100_000_000, 250, 0, 9)
	s.sampleEvery = time.Millisecond
	b := NewBBR(simPacketSize, 1)
	f := newSimFlow(b, 30*ms, 0, 30*ms)
	f.appChunk, f.appPeriod = 5000, 8*time.Second
	s.flows = append(s.flows, f)
	restarts := 0
	for tm := 10 * ms; tm <= 20*time.Second; tm += 10 * ms {
		s.run(tm)
		if b.idleRestart {
			restarts++
		}
	}
	t.Logf("5000 packets every 8 s over 30 ms: %d packets sent, %d samples with idle_restart set, ProbeRTT %.2f%% of the time, min_rtt %v",
		f.nextPN, restarts, 100*f.stateShare(BBRProbeRTT), b.Stats().MinRTT)
	if f.nextPN != 15000 || restarts == 0 {
		t.Fatalf("%d packets sent, %d restarts", f.nextPN, restarts)
	}
	if f.stateShare(BBRProbeRTT) != 0 {
		t.Errorf("ProbeRTT entered after a pause longer than ProbeRTTInterval")
	}
}

// TestBBRLossInProbeUp: draft Appendix A.21 and A.18. Loss above 2% while
// probing sets inflight_longterm and ends ProbeBW_UP; declaring the loss
// spurious restores the saved bounds and restarts the probe at REFILL.
func TestBBRLossInProbeUp(t *testing.T) {
	b := NewBBR(1000, 1)
	var rtt RTTStats
	now := time.Second
	var pkts [400]PacketState
	next := 0
	send := func(n int) {
		for range n {
			b.OnSent(now, 1000, &pkts[next%len(pkts)])
			next++
		}
	}
	ackUpTo := func(from, to int) {
		for i := from; i < to; i++ {
			b.OnAcked(now, &pkts[i%len(pkts)])
		}
		rtt.UpdateRTT(now, 20*ms, 0, true)
		b.OnAckEnd(now, &rtt, 0)
	}
	// Drive the state machine to ProbeBW_UP by hand.
	send(10)
	now += 20 * ms
	ackUpTo(0, 10)
	b.fullBwReached = true
	b.enterProbeBW(now)
	b.startProbeBWRefill()
	b.isBwProbeSample = true
	b.startProbeBWUp(&b.sampler.rs)
	b.inflightLongterm = 200_000
	saved := b.inflightLongterm
	send(100)
	start := next - 100
	now += 5 * ms
	// Five of the 100 lost: 5% > 2%.
	for i := start; i < start+5; i++ {
		b.OnLost(now, &pkts[i%len(pkts)])
	}
	if b.state != BBRProbeBWDown || !b.prevProbeTooHigh || b.undoState != BBRProbeBWUp {
		t.Fatalf("after 5%% loss in UP: %v, too high %v, undo %v", b.state, b.prevProbeTooHigh, b.undoState)
	}
	if b.inflightLongterm >= saved {
		t.Fatalf("inflight_longterm %d not lowered from %d", b.inflightLongterm, saved)
	}
	b.UndoCongestionEvent()
	if b.state != BBRProbeBWRefill || b.inflightLongterm != saved {
		t.Fatalf("after undo: %v, inflight_longterm %d (saved %d)", b.state, b.inflightLongterm, saved)
	}
	b.UndoCongestionEvent() // used once
	if b.state != BBRProbeBWRefill {
		t.Fatalf("second undo changed the state to %v", b.state)
	}
}

// TestBBRPersistentCongestion: the RTO response of §5.6.4.4 on QUIC's
// persistent congestion, in the simulator's two-second blackhole: the
// window falls to what is in flight plus a packet, and the flow uses the
// link again afterwards.
func TestBBRPersistentCongestion(t *testing.T) {
	s := newSim(20_000_000, 66, 0, 11)
	s.link.outageFrom, s.link.outageTo = 3*time.Second, 5*time.Second
	b := NewBBR(simPacketSize, 1)
	w := &windowWatch{PacketController: b, minimum: MaxWindow}
	f := newSimFlow(w, 40*ms, 0, 40*ms)
	s.flows = append(s.flows, f)
	s.run(12 * time.Second)
	after := s.utilization(7*time.Second, 12*time.Second)
	t.Logf("20Mbit/s 40ms, blackhole from 3s to 5s: %d persistent congestion events, smallest window %d bytes, utilization from 7s %.1f%%", f.persistentCount, w.minimum, 100*after)
	if f.persistentCount == 0 || w.minimum > 4*simPacketSize {
		t.Errorf("%d persistent congestion events, smallest window %d", f.persistentCount, w.minimum)
	}
	if after < 0.9 {
		t.Errorf("utilization after the outage %.3f", after)
	}
}

// TestBBRECN: the step-marking bottleneck of TestSimECN. BBR takes CE
// marks as congestion (§3.7): the marks end Startup (after the round in
// recovery that §5.3.1.3 waits for, by which time Startup has overfilled
// the buffer) and every later ProbeBW_UP, so that after Startup no packet
// is lost, the queue stays short and the link busy.
func TestBBRECN(t *testing.T) {
	bdp := bdpPackets(100_000_000, 30*ms)
	s := newSim(100_000_000, bdp, 0, 5)
	s.link.ecnThreshold = bdp / 5
	s.sampleEvery = time.Millisecond
	s.sampleFrom = time.Second
	f := newSimFlow(NewBBR(simPacketSize, 1), 30*ms, 0, 30*ms)
	s.flows = append(s.flows, f)
	s.run(time.Second)
	startupLost := f.lost
	s.run(10 * time.Second)
	util := s.utilization(time.Second, 10*time.Second)
	t.Logf("100Mbit/s 30ms bulk, buffer %d, CE above %d: %d CE marks, %d lost in Startup and %d after, average queue %.1f packets, utilization %.1f%%",
		bdp, bdp/5, s.link.ceMarks, startupLost, f.lost-startupLost, s.averageQueue(), 100*util)
	if s.link.ceMarks == 0 || f.lost != startupLost || util < 0.9 || s.averageQueue() > float64(bdp)/5 {
		t.Errorf("%d marks, %d lost after Startup, utilization %.3f, queue %.1f", s.link.ceMarks, f.lost-startupLost, util, s.averageQueue())
	}
}

// TestBBRAggregatedCallsKeepFlight: through the Controller calls alone BBR
// keeps bytes_in_flight and nothing else.
func TestBBRAggregatedCallsKeepFlight(t *testing.T) {
	b := NewBBR(1200, 1)
	cwnd := b.CongestionWindow()
	b.OnPacketSent(0, 1200, true)
	b.OnPacketSent(0, 1200, true)
	b.OnPacketSent(0, 50, false)
	if b.BytesInFlight() != 2400 {
		t.Fatalf("in flight %d", b.BytesInFlight())
	}
	var rtt RTTStats
	rtt.UpdateRTT(10*ms, 10*ms, 0, true)
	b.OnAck(10*ms, 1200, 0, &rtt)
	b.OnPacketsLost(10*ms, 1200, 0, true)
	b.OnECNCE(10*ms, 0)
	if b.BytesInFlight() != 0 || b.CongestionWindow() != cwnd || b.InRecovery() {
		t.Fatalf("in flight %d, cwnd %d (was %d), recovery %v", b.BytesInFlight(), b.CongestionWindow(), cwnd, b.InRecovery())
	}
}

// TestPacketCallsMatchAggregated: for NewReno and CUBIC the per-packet
// calls are a different way of saying the same thing.
func TestPacketCallsMatchAggregated(t *testing.T) {
	for _, kind := range []Algorithm{CUBIC, NewReno} {
		agg, _ := New(Config{Kind: kind, MaxDatagramSize: 1000})
		per, _ := New(Config{Kind: kind, MaxDatagramSize: 1000})
		var rttA, rttP RTTStats
		var pkts [64]PacketState
		sent := make([]time.Duration, 64)
		now := time.Second
		next, acked := 0, 0
		for round := range 40 {
			for agg.BytesInFlight()+1000 <= agg.CongestionWindow() && next-acked < len(pkts) {
				agg.OnPacketSent(now, 1000, true)
				per.OnSent(now, 1000, &pkts[next%len(pkts)])
				sent[next%len(pkts)] = now
				next++
			}
			now += 20 * ms
			// Acknowledge in frames of two; every seventh round loses one.
			for acked+2 <= next {
				lostBytes, largestLost := 0, time.Duration(0)
				if round%7 == 3 && acked+3 <= next {
					per.OnLost(now, &pkts[acked%len(pkts)])
					lostBytes, largestLost = 1000, sent[acked%len(pkts)]
					acked++
				}
				n := min(2, next-acked)
				for i := range n {
					per.OnAcked(now, &pkts[(acked+i)%len(pkts)])
				}
				largest := sent[(acked+n-1)%len(pkts)]
				rttA.UpdateRTT(now, now-largest, 0, true)
				rttP.UpdateRTT(now, now-largest, 0, true)
				if lostBytes > 0 {
					agg.OnPacketsLost(now, lostBytes, largestLost, false)
				}
				agg.OnAck(now, n*1000, largest, &rttA)
				per.OnAckEnd(now, &rttP, 0)
				acked += n
				if agg.CongestionWindow() != per.CongestionWindow() || agg.BytesInFlight() != per.BytesInFlight() ||
					agg.SlowStartThreshold() != per.SlowStartThreshold() {
					t.Fatalf("%v round %d: aggregated cwnd %d flight %d, per-packet cwnd %d flight %d", kind, round,
						agg.CongestionWindow(), agg.BytesInFlight(), per.CongestionWindow(), per.BytesInFlight())
				}
			}
		}
	}
}

// TestPacketStateSize: the per-packet state lives in every sent-packet
// record; the package documentation promises 64 bytes.
func TestPacketStateSize(t *testing.T) {
	if n := unsafe.Sizeof(PacketState{}); n > 64 {
		t.Fatalf("PacketState is %d bytes", n)
	}
}
