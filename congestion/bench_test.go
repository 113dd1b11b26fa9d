package congestion

import (
	"testing"
	"time"
)

// steadyController returns a controller in congestion avoidance with a full
// window, the state the per-packet calls run in most of the time.
func steadyController(name string) (Controller, *RTTStats, time.Duration) {
	cc, _ := New(Config{Algorithm: name, MaxDatagramSize: 1500})
	var rtt RTTStats
	now := time.Second
	for cc.BytesInFlight()+1500 <= cc.CongestionWindow() {
		cc.OnPacketSent(now, 1500, true)
	}
	now += 10 * ms
	rtt.UpdateRTT(now, 10*ms, 0, true)
	cc.OnPacketsLost(now, 1500, now-ms, false)
	now += 20 * ms
	return cc, &rtt, now
}

// ackAndSend is one ACK of two packets and the two packets it releases:
// the per-packet work of a sender.
func ackAndSend(cc Controller, rtt *RTTStats, now time.Duration) {
	rtt.UpdateRTT(now, 10*ms, 0, true)
	cc.OnAck(now, 3000, now-10*ms, rtt)
	cc.OnPacketSent(now, 1500, true)
	cc.OnPacketSent(now, 1500, true)
}

func BenchmarkOnAck(b *testing.B) {
	for _, name := range []string{AlgorithmCubic, AlgorithmNewReno} {
		b.Run(name, func(b *testing.B) {
			cc, rtt, now := steadyController(name)
			b.ReportAllocs()
			for b.Loop() {
				now += 100 * time.Microsecond
				cc.OnAck(now, 3000, now-10*ms, rtt)
				// Refill what was acknowledged, so the window stays in use.
				cc.OnPacketSent(now, 3000, true)
			}
		})
	}
}

func BenchmarkOnPacketSent(b *testing.B) {
	for _, name := range []string{AlgorithmCubic, AlgorithmNewReno} {
		b.Run(name, func(b *testing.B) {
			cc, _, now := steadyController(name)
			b.ReportAllocs()
			for b.Loop() {
				now += 10 * time.Microsecond
				cc.OnPacketSent(now, 1500, true)
				cc.OnPacketsDiscarded(1500)
			}
		})
	}
}

func BenchmarkSendBudget(b *testing.B) {
	cc, _, now := steadyController(AlgorithmCubic)
	cc.OnPacketsDiscarded(cc.BytesInFlight() / 2)
	b.ReportAllocs()
	for b.Loop() {
		now += time.Microsecond
		cc.SendBudget(now)
	}
}

func BenchmarkRTTUpdate(b *testing.B) {
	var r RTTStats
	b.ReportAllocs()
	now := time.Duration(0)
	for b.Loop() {
		now += time.Microsecond
		r.UpdateRTT(now, 10*ms+now%ms, ms, true)
	}
}

// TestZeroAllocs guards the hot path: no call allocates.
func TestZeroAllocs(t *testing.T) {
	for _, name := range []string{AlgorithmCubic, AlgorithmNewReno} {
		cc, rtt, now := steadyController(name)
		allocs := testing.AllocsPerRun(1000, func() {
			now += 100 * time.Microsecond
			ackAndSend(cc, rtt, now)
			cc.SendBudget(now)
			cc.OnECNCE(now, now-5*ms)
			cc.OnPacketsLost(now, 1500, now-5*ms, false)
			cc.OnPacketSent(now, 1500, true)
			_ = cc.CongestionWindow() + cc.BytesInFlight()
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run", name, allocs)
		}
	}
}
