package congestion

import (
	"fmt"
	"testing"
	"time"
)

type simCase struct {
	name          string
	bitsPerSecond int64
	rtt           time.Duration
	duration      time.Duration
}

// bdpPackets is the bandwidth-delay product in simulator packets.
func bdpPackets(bitsPerSecond int64, rtt time.Duration) int {
	return int(float64(bitsPerSecond) / 8 * rtt.Seconds() / simPacketSize)
}

func runSingle(cc PacketController, c simCase, bufferPackets int, loss float64, seed uint64) (*sim, *simFlow) {
	s := newSim(c.bitsPerSecond, bufferPackets, loss, seed)
	s.sampleEvery = c.rtt / 8
	f := newSimFlow(cc, c.rtt, 0, c.rtt)
	s.flows = append(s.flows, f)
	s.run(c.duration)
	return s, f
}

func TestSimUtilization(t *testing.T) {
	cases := []simCase{
		{"10Mbit/s 30ms", 10_000_000, 30 * time.Millisecond, 8 * time.Second},
		{"100Mbit/s 30ms", 100_000_000, 30 * time.Millisecond, 4 * time.Second},
		{"1Gbit/s 10ms", 1_000_000_000, 10 * time.Millisecond, 1500 * time.Millisecond},
	}
	for _, c := range cases {
		for _, algo := range []string{AlgorithmCubic, AlgorithmNewReno} {
			t.Run(c.name+" "+algo, func(t *testing.T) {
				cc, err := New(Config{Algorithm: algo, MaxDatagramSize: simPacketSize})
				if err != nil {
					t.Fatal(err)
				}
				bdp := bdpPackets(c.bitsPerSecond, c.rtt)
				s, f := runSingle(cc, c, bdp, 0, 1)
				first := s.firstBinAbove(f, 0.9)
				half := c.duration / 2
				steady := s.utilization(half, c.duration)
				whole := s.utilization(0, c.duration)
				t.Logf("%s %s: BDP %d packets, buffer %d: 90%% of the link first carried in RTT %d; utilization %.1f%% over the second half, %.1f%% overall; max cwnd %d packets, %d lost, average queue %.0f packets",
					c.name, algo, bdp, bdp, first+1, 100*steady, 100*whole, f.maxCwnd/simPacketSize, f.lost, s.averageQueue())
				if first < 0 {
					t.Errorf("never reached 90%% of the link in one RTT")
				}
				if steady < 0.9 {
					t.Errorf("utilization over the second half = %.3f, want >= 0.9", steady)
				}
			})
		}
	}
}

// throughput is f's delivery rate between from and to, in bits per second.
func throughput(f *simFlow, from, to time.Duration) float64 {
	b, span := f.bytesBetween(from, to)
	return float64(b) * 8 / span.Seconds()
}

func TestSimFairness(t *testing.T) {
	cases := []struct {
		rate              int64
		rtt               time.Duration
		secondStart, from time.Duration
		duration          time.Duration
	}{
		{20_000_000, 20 * time.Millisecond, 2 * time.Second, 30 * time.Second, 60 * time.Second},
		// The newcomer arrives when the first flow has the whole link.
		{50_000_000, 40 * time.Millisecond, 10 * time.Second, 60 * time.Second, 90 * time.Second},
	}
	for _, c := range cases {
		bdp := bdpPackets(c.rate, c.rtt)
		s := newSim(c.rate, bdp, 0, 7)
		s.sampleEvery = c.rtt
		a := newSimFlow(NewCubic(simPacketSize, true), c.rtt, 0, c.rtt)
		b := newSimFlow(NewCubic(simPacketSize, true), c.rtt, c.secondStart, c.rtt)
		s.flows = append(s.flows, a, b)
		s.run(c.duration)
		ta, tb := throughput(a, c.from, c.duration), throughput(b, c.from, c.duration)
		j := jainIndex(ta, tb)
		ratio := min(ta, tb) / max(ta, tb)
		t.Logf("two CUBIC flows, %d Mbit/s, %v RTT, buffer %d packets (1 BDP), second flow starts at %v: from %v to %v flow A %.2f Mbit/s, flow B %.2f Mbit/s, ratio %.3f, Jain's index %.4f, link utilization %.1f%%, %d + %d lost",
			c.rate/1_000_000, c.rtt, bdp, c.secondStart, c.from, c.duration, ta/1e6, tb/1e6, ratio, j, 100*s.utilization(c.from, c.duration), a.lost, b.lost)
		// Jain's index is the measure; the ratio is printed only. Two CUBIC
		// flows through a drop-tail queue lose packets in step and swing
		// around the fair share for tens of seconds: over 30-second
		// windows of a longer run the second case's ratio ranges from
		// 0.47 to 0.90, so a bound on one window's ratio tests where the
		// swing happens to be.
		if j < 0.95 {
			t.Errorf("Jain's index %.4f, want >= 0.95", j)
		}
	}
}

func TestSimRandomLoss(t *testing.T) {
	c := simCase{"100Mbit/s 30ms 1% loss", 100_000_000, 30 * time.Millisecond, 20 * time.Second}
	bdp := bdpPackets(c.bitsPerSecond, c.rtt)
	var sum [2]float64
	for _, seed := range []uint64{3, 4, 5} {
		for i, algo := range []string{AlgorithmCubic, AlgorithmNewReno} {
			cc, _ := New(Config{Algorithm: algo, MaxDatagramSize: simPacketSize})
			s, f := runSingle(cc, c, bdp, 0.01, seed)
			got := throughput(f, 0, c.duration)
			sum[i] += got
			t.Logf("%s, seed %d, %-7s alone: %.2f Mbit/s (%.1f%% of the link), %d random drops, %d queue drops",
				c.name, seed, algo, got/1e6, 100*got/float64(c.bitsPerSecond), s.link.randomDrops, s.link.queueDrops)
		}
	}
	t.Logf("mean over 3 seeds: CUBIC %.2f Mbit/s, NewReno %.2f Mbit/s, CUBIC / NewReno = %.2f", sum[0]/3e6, sum[1]/3e6, sum[0]/sum[1])
	if sum[0] <= sum[1] {
		t.Errorf("CUBIC not above NewReno at 1%% loss")
	}
}

type pacingRun struct {
	avgQueue  float64
	maxQueue  int
	util      float64
	lost      int
	ceMarks   int
	bufferPkt int
}

// runPacing runs one CUBIC flow at 100 Mbit/s, 30 ms, paced or not, and
// returns the queue and utilization from the first second on (after the
// start-up).
func runPacing(paced bool, buffer, ackEvery, appChunk, ecnThreshold int, duration time.Duration) pacingRun {
	s := newSim(100_000_000, buffer, 0, 5)
	s.link.ecnThreshold = ecnThreshold
	s.sampleEvery = time.Millisecond
	s.sampleFrom = time.Second
	f := newSimFlow(NewCubic(simPacketSize, paced), 30*time.Millisecond, 0, 30*time.Millisecond)
	f.ackEvery = ackEvery
	f.appChunk, f.appPeriod = appChunk, 25*time.Millisecond
	s.flows = append(s.flows, f)
	s.run(duration)
	return pacingRun{s.averageQueue(), s.maxQueue, s.utilization(time.Second, duration), f.lost, s.link.ceMarks, buffer}
}

func (r pacingRun) String(paced bool) string {
	return fmt.Sprintf("paced %-5v: average queue %5.1f packets (%2.0f%% of the buffer), max %3d, utilization %5.1f%%, %3d lost, %3d CE marks",
		paced, r.avgQueue, 100*r.avgQueue/float64(r.bufferPkt), r.maxQueue, 100*r.util, r.lost, r.ceMarks)
}

// TestSimPacing shows what the pacer is for, at 100 Mbit/s and 30 ms (BDP
// 250 packets), CUBIC with and without pacing:
//
//   - An application writing 200-packet bursts every 25 ms (96 Mbit/s)
//     through a one-BDP buffer: unpaced, each burst lands in the queue at
//     once; paced, it is spread over the RTT.
//   - A bulk transfer through a shallow buffer (BDP/4), the receiver
//     acknowledging every 2, then every 16 packets (ACK frequency, or ACK
//     aggregation on the return path, makes unpaced bursts larger):
//     unpaced bursts overflow the buffer and cost utilization. (The paced
//     flow, using the link better, keeps more of the small buffer full.)
//
// A bulk loss-based flow through a deep drop-tail buffer fills it whether
// paced or not (TestSimUtilization logs those queues): pacing removes
// bursts, not the standing queue.
func TestSimPacing(t *testing.T) {
	const duration = 10 * time.Second
	bdp := bdpPackets(100_000_000, 30*time.Millisecond)

	t.Run("bursty application, buffer 1 BDP", func(t *testing.T) {
		paced := runPacing(true, bdp, simAckEvery, 200, 0, duration)
		unpaced := runPacing(false, bdp, simAckEvery, 200, 0, duration)
		t.Logf("100Mbit/s 30ms, 200-packet writes every 25ms, buffer %d: %s", bdp, paced.String(true))
		t.Logf("100Mbit/s 30ms, 200-packet writes every 25ms, buffer %d: %s", bdp, unpaced.String(false))
		if paced.avgQueue >= float64(bdp)/2 {
			t.Errorf("paced average queue %.1f, want below half the buffer", paced.avgQueue)
		}
		if paced.avgQueue >= unpaced.avgQueue || paced.maxQueue >= unpaced.maxQueue {
			t.Errorf("pacing did not shorten the queue")
		}
	})
	for _, ackEvery := range []int{2, 16} {
		t.Run(fmt.Sprintf("bulk, buffer BDP/4, ACK every %d", ackEvery), func(t *testing.T) {
			buffer := bdp / 4
			paced := runPacing(true, buffer, ackEvery, 0, 0, duration)
			unpaced := runPacing(false, buffer, ackEvery, 0, 0, duration)
			t.Logf("100Mbit/s 30ms bulk, buffer %d, ACK every %2d: %s", buffer, ackEvery, paced.String(true))
			t.Logf("100Mbit/s 30ms bulk, buffer %d, ACK every %2d: %s", buffer, ackEvery, unpaced.String(false))
			if paced.util < 0.9 || paced.util < unpaced.util {
				t.Errorf("paced utilization %.3f (unpaced %.3f)", paced.util, unpaced.util)
			}
		})
	}
}

// TestSimECN: an ECN-capable bottleneck marking CE above a fifth of its
// buffer; CUBIC reacts to the marks (OnECNCE) and loses nothing.
func TestSimECN(t *testing.T) {
	bdp := bdpPackets(100_000_000, 30*time.Millisecond)
	for _, pacing := range []bool{true, false} {
		r := runPacing(pacing, bdp, simAckEvery, 0, bdp/5, 10*time.Second)
		t.Logf("100Mbit/s 30ms bulk, buffer %d, CE above %d: %s", bdp, bdp/5, r.String(pacing))
		if r.ceMarks == 0 || r.lost != 0 {
			t.Errorf("paced %v: %d CE marks, %d lost; want marks and no loss", pacing, r.ceMarks, r.lost)
		}
		if pacing && (r.util < 0.9 || r.avgQueue >= float64(bdp)/5) {
			t.Errorf("paced: utilization %.3f, average queue %.1f", r.util, r.avgQueue)
		}
	}
}

// TestSimAppLimited: an application writing 50 packets every 25 ms (24
// Mbit/s) over an idle 100 Mbit/s, 30 ms path. The window must not grow
// without bound while unused (RFC 9002 §7.8): it stays within the slow
// start allowance (twice what was in flight) of the largest flight.
func TestSimAppLimited(t *testing.T) {
	for _, algo := range []string{AlgorithmCubic, AlgorithmNewReno} {
		cc, _ := New(Config{Algorithm: algo, MaxDatagramSize: simPacketSize})
		s := newSim(100_000_000, bdpPackets(100_000_000, 30*time.Millisecond), 0, 9)
		f := newSimFlow(cc, 30*time.Millisecond, 0, 30*time.Millisecond)
		f.appChunk, f.appPeriod = 50, 25*time.Millisecond
		s.flows = append(s.flows, f)
		s.run(20 * time.Second)
		t.Logf("%s, application limited at 24 Mbit/s on 100 Mbit/s: largest flight %d packets, cwnd %d packets (largest %d), %.1f Mbit/s delivered, %d lost",
			algo, f.maxInFlight/simPacketSize, cc.CongestionWindow()/simPacketSize, f.maxCwnd/simPacketSize,
			throughput(f, time.Second, 20*time.Second)/1e6, f.lost)
		if f.maxCwnd > 2*f.maxInFlight+appLimitedSlackPackets*simPacketSize {
			t.Errorf("%s: window grew to %d bytes with at most %d in flight", algo, f.maxCwnd, f.maxInFlight)
		}
	}
}

// TestSimPersistentCongestion: the link goes black for two seconds. Loss
// recovery's probes go unanswered, persistent congestion is declared
// (RFC 9002 §7.6) and the window falls to the minimum; afterwards the flow
// refills the link.
func TestSimPersistentCongestion(t *testing.T) {
	c := simCase{"20Mbit/s 40ms", 20_000_000, 40 * time.Millisecond, 12 * time.Second}
	bdp := bdpPackets(c.bitsPerSecond, c.rtt)
	for _, algo := range []string{AlgorithmCubic, AlgorithmNewReno} {
		cc, _ := New(Config{Algorithm: algo, MaxDatagramSize: simPacketSize})
		w := &windowWatch{PacketController: cc, minimum: MaxWindow}
		s := newSim(c.bitsPerSecond, bdp, 0, 11)
		s.link.outageFrom, s.link.outageTo = 3*time.Second, 5*time.Second
		f := newSimFlow(w, c.rtt, 0, c.rtt)
		s.flows = append(s.flows, f)
		s.run(c.duration)
		after := s.utilization(8*time.Second, c.duration)
		t.Logf("%s, %s, blackhole from 3s to 5s: %d persistent congestion events, smallest window %d bytes, %d packets lost in the outage, utilization from 8s %.1f%%",
			c.name, algo, f.persistentCount, w.minimum, s.link.outageDrops, 100*after)
		if f.persistentCount == 0 || w.minimum != 2*simPacketSize {
			t.Errorf("%s: %d persistent congestion events, smallest window %d", algo, f.persistentCount, w.minimum)
		}
		if after < 0.9 {
			t.Errorf("%s: utilization after the outage %.3f", algo, after)
		}
	}
}

// windowWatch records the smallest window a controller had after a loss.
type windowWatch struct {
	PacketController
	minimum int
}

func (w *windowWatch) OnLost(now time.Duration, p *PacketState) {
	w.PacketController.OnLost(now, p)
	w.minimum = min(w.minimum, w.CongestionWindow())
}

func (w *windowWatch) OnPersistentCongestion(now time.Duration) {
	w.PacketController.OnPersistentCongestion(now)
	w.minimum = min(w.minimum, w.CongestionWindow())
}
