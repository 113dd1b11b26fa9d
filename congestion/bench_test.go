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

// packetSender is a sender using the per-packet calls: a ring of sent
// packets, acknowledged in order, two per ACK frame.
type packetSender struct {
	cc          PacketController
	rtt         RTTStats
	ring        [1024]PacketState
	sent, acked int
	now         time.Duration
}

// steadyPacketSender returns a sender past Startup or slow start, with
// packets in flight, the state the per-packet calls run in most of the
// time.
func steadyPacketSender(kind Algorithm) *packetSender {
	cc, _ := New(Config{Kind: kind, MaxDatagramSize: 1500, Seed: 1})
	s := &packetSender{cc: cc, now: time.Second}
	for range 3000 {
		s.step()
	}
	return s
}

// step is one ACK frame for two packets, a loss now and then, and the
// packets the window and pacer then allow (at least two, as probes would).
func (s *packetSender) step() {
	s.now += 100 * time.Microsecond
	for range 2 {
		if s.acked < s.sent {
			s.cc.OnAcked(s.now, &s.ring[s.acked%len(s.ring)])
			s.acked++
		}
	}
	if s.acked%256 == 0 && s.acked < s.sent {
		s.cc.OnLost(s.now, &s.ring[s.acked%len(s.ring)])
		s.acked++
	}
	s.rtt.UpdateRTT(s.now, 10*ms, 0, true)
	s.cc.OnAckEnd(s.now, &s.rtt, 0)
	n, _ := s.cc.SendBudget(s.now)
	for range max(n, 2) {
		if s.sent-s.acked == len(s.ring) {
			break
		}
		s.cc.OnSent(s.now, 1500, &s.ring[s.sent%len(s.ring)])
		s.sent++
	}
}

func BenchmarkPacketAck(b *testing.B) {
	for _, kind := range []Algorithm{CUBIC, NewReno, BBR} {
		b.Run(kind.String(), func(b *testing.B) {
			s := steadyPacketSender(kind)
			b.ReportAllocs()
			for b.Loop() {
				s.step()
			}
		})
	}
}

// TestZeroAllocsPerPacket guards the per-packet calls of every controller,
// BBR's delivery rate sampling and model updates included.
func TestZeroAllocsPerPacket(t *testing.T) {
	for _, kind := range []Algorithm{CUBIC, NewReno, BBR} {
		s := steadyPacketSender(kind)
		allocs := testing.AllocsPerRun(1000, func() {
			s.step()
			s.cc.OnApplicationLimited()
			s.cc.OnAckEnd(s.now, &s.rtt, 1)
			s.cc.UndoCongestionEvent()
			_ = s.cc.CongestionWindow() + s.cc.BytesInFlight()
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocations per run", kind, allocs)
		}
		if b, ok := s.cc.(*BBRController); ok {
			allocs := testing.AllocsPerRun(100, func() {
				s.cc.OnPersistentCongestion(s.now)
				_ = b.Stats()
			})
			if allocs != 0 {
				t.Errorf("bbr: %v allocations per persistent congestion", allocs)
			}
		}
	}
}
