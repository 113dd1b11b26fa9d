package recovery

import (
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

// spuriousSetup sends packets 0..9 at 0..9ms and has the peer acknowledge
// packet 5 at 30ms (an RTT sample of 25ms): packets 0, 1 and 2 are lost by
// the packet threshold of 3 (RFC 9002 §6.1.1), 3 and 4 wait.
func spuriousSetup(t *testing.T) *harness {
	h := newServer(t)
	for i := range 10 {
		h.send(SpaceAppData, ms(float64(i)))
	}
	h.ack(SpaceAppData, ms(30), 0, [2]uint64{5, 5})
	h.wantAcked(5)
	h.wantLost(0, 1, 2)
	if st := h.r.Stats(); st.PacketThreshold != 3 || st.TimeThreshold != ms(25)*9/8 || st.SpuriousLosses != 0 {
		t.Fatalf("initial thresholds: %+v", st)
	}
	return h
}

// RFC 9002 §6.1: a packet declared lost and then acknowledged was only
// reordered. The handler, which heard OnPacketLost, hears nothing more;
// bytes in flight do not change; the loss is counted and the thresholds
// grow to cover the reordering seen (RFC 8985 §6.2).
func TestSpuriousLossDetected(t *testing.T) {
	h := spuriousSetup(t)
	inFlight := h.cc.inFlight

	// Packet 0 arrives late: the peer acknowledges it with 5.
	h.ack(SpaceAppData, ms(32), 0, [2]uint64{5, 5}, [2]uint64{0, 0})
	h.wantAcked(5) // no OnPacketAcked for 0
	h.wantLost(0, 1, 2)
	if h.cc.inFlight != inFlight {
		t.Fatalf("bytes in flight %d after the late ACK, want %d", h.cc.inFlight, inFlight)
	}
	st := h.r.Stats()
	// Distance: 5 was acknowledged before 0, so the threshold becomes 6.
	// Time: reo_wnd = min_rtt/4 = 6.25ms over the 25ms RTT.
	if st.SpuriousLosses != 1 || st.MaxReorderDistance != 5 || st.MaxReorderDelay != ms(32) ||
		st.PacketThreshold != 6 || st.TimeThreshold != ms(31.25) {
		t.Fatalf("after a spurious loss: %+v", st)
	}
	// 3 and 4 (sent at 3 and 4ms) are not lost, though 9/8 of the RTT
	// (28.125ms) has passed since 3 was sent: loss_time is 3ms + 31.25ms.
	h.wantDeadline(ms(34.25))

	// The same acknowledgment again counts nothing.
	h.ack(SpaceAppData, ms(33), 0, [2]uint64{5, 5}, [2]uint64{0, 0})
	if st := h.r.Stats(); st.SpuriousLosses != 1 {
		t.Fatalf("a repeated late ACK counted again: %d", st.SpuriousLosses)
	}
	// 3, 4 and 6..9 arrive: nothing more is lost; 1 and 2 are acknowledged
	// late too, in the same ACK frame.
	h.ack(SpaceAppData, ms(33.5), 0, [2]uint64{0, 9})
	h.wantAcked(5, 3, 4, 6, 7, 8, 9)
	h.wantLost(0, 1, 2)
	if st := h.r.Stats(); st.SpuriousLosses != 3 || st.PacketsLost != 3 || st.PacketThreshold != 6 {
		t.Fatalf("stats %+v", st)
	}
	if h.cc.inFlight != 0 {
		t.Fatalf("bytes in flight %d", h.cc.inFlight)
	}
}

// With the threshold raised, the same reordering no longer declares
// packets lost, and the largest distance is what counts.
func TestPacketThresholdAdapts(t *testing.T) {
	h := spuriousSetup(t)
	h.ack(SpaceAppData, ms(31), 0, [2]uint64{5, 5}, [2]uint64{0, 0}) // distance 5
	h.ack(SpaceAppData, ms(31), 0, [2]uint64{7, 7}, [2]uint64{5, 5}, [2]uint64{0, 1})
	// 1 was acknowledged with 7, but before this frame the largest was
	// 5: distance 4 keeps the threshold at 6. 2 (7-2 = 5 < 6) and 3, 4
	// wait.
	if st := h.r.Stats(); st.PacketThreshold != 6 || st.SpuriousLosses != 2 {
		t.Fatalf("stats %+v", st)
	}
	h.wantLost(0, 1, 2)

	h.h.reset()
	for i := range 20 {
		h.send(SpaceAppData, ms(32+float64(i)/10)) // 10..29
	}
	// 29 acknowledged 6ms after it was sent: packets up to 23 are lost by
	// the packet threshold (29 >= 23+6), 24..28 wait; 3, 4, 8 and 9, sent
	// more than loss_delay ago (the RTT fell to 6ms), by the time
	// threshold.
	h.ack(SpaceAppData, ms(40), 0, [2]uint64{29, 29}, [2]uint64{5, 7}, [2]uint64{0, 1})
	want := []uint64{3, 4, 8, 9}
	for pn := uint64(10); pn <= 23; pn++ {
		want = append(want, pn)
	}
	h.wantLost(want...)
	// 10 arrives late: 29 - 10 = 19, the threshold becomes 20.
	h.ack(SpaceAppData, ms(41), 0, [2]uint64{29, 29}, [2]uint64{10, 10}, [2]uint64{5, 7}, [2]uint64{0, 1})
	if st := h.r.Stats(); st.PacketThreshold != 20 || st.MaxReorderDistance != 19 {
		t.Fatalf("stats %+v", st)
	}
}

// RFC 8985 §6.2: the reordering window grows by min_rtt/4 at most once per
// round trip, and stays at most smoothed_rtt, so loss_delay is at most
// twice the RTT.
func TestTimeThresholdAdapts(t *testing.T) {
	h := spuriousSetup(t)
	// Two spurious losses in the same round trip: one step.
	h.ack(SpaceAppData, ms(31), 0, [2]uint64{5, 5}, [2]uint64{0, 0})
	h.ack(SpaceAppData, ms(31), 0, [2]uint64{5, 5}, [2]uint64{0, 1})
	if got := h.r.Stats().TimeThreshold; got != ms(31.25) {
		t.Fatalf("time threshold %v after two spurious losses in a round trip, want 31.25ms", got)
	}
	// Packet 9 was sent before the first increase: its ACK does not end
	// the round.
	h.ack(SpaceAppData, ms(34), 0, [2]uint64{9, 9}, [2]uint64{5, 5}, [2]uint64{0, 1})
	h.ack(SpaceAppData, ms(34), 0, [2]uint64{9, 9}, [2]uint64{5, 5}, [2]uint64{0, 2})
	if got := h.r.Stats().TimeThreshold; got != ms(31.25) {
		t.Fatalf("time threshold %v, want 31.25ms", got)
	}

	// Rounds: a packet sent after the increase is acknowledged (an RTT
	// sample of 25ms, the RTT unchanged), then a lost one arrives late.
	now := ms(40)
	for round := 2; round <= 6; round++ {
		lost := h.send(SpaceAppData, now)
		for range int(h.r.reorder.threshold()) {
			h.send(SpaceAppData, now)
		}
		largest := h.send(SpaceAppData, now)
		now += ms(25)
		h.ack(SpaceAppData, now, 0, [2]uint64{lost + 1, largest})
		if h.h.lost[len(h.h.lost)-1].pn != lost {
			t.Fatalf("round %d: packet %d not lost", round, lost)
		}
		now += ms(1)
		h.ack(SpaceAppData, now, 0, [2]uint64{lost, largest})
		// reo_wnd = round * 25ms/4, at most srtt = 25ms.
		want := ms(25) + min(time.Duration(round)*ms(25)/4, ms(25))
		if got := h.r.Stats().TimeThreshold; got != want {
			t.Fatalf("round %d: time threshold %v, want %v", round, got, want)
		}
		now += ms(10)
	}
}

// RFC 8985 §6.2: after 16 loss episodes without a spurious loss, the
// thresholds return to RFC 9002's.
func TestReorderingThresholdsDecay(t *testing.T) {
	h := spuriousSetup(t)
	h.ack(SpaceAppData, ms(31), 0, [2]uint64{0, 9}) // 0, 1, 2 spurious
	adapted := h.r.Stats()
	if adapted.PacketThreshold != 6 || adapted.TimeThreshold <= ms(25)*9/8 {
		t.Fatalf("not adapted: %+v", adapted)
	}
	now := ms(100)
	for episode := 1; episode <= reoWndPersist; episode++ {
		st := h.r.Stats()
		if st.PacketThreshold != adapted.PacketThreshold {
			t.Fatalf("episode %d: thresholds reset early: %+v", episode, st)
		}
		// A real loss: P never arrives, Q after it does; P is lost by
		// the time threshold when the timer fires.
		p := h.send(SpaceAppData, now)
		q := h.send(SpaceAppData, now+ms(1))
		h.ack(SpaceAppData, now+ms(26), 0, [2]uint64{q, q})
		st = h.r.Stats()
		d, ok := h.r.LossDetectionDeadline()
		if !ok || d != now+st.TimeThreshold {
			t.Fatalf("episode %d: deadline %v %v, want %v", episode, d, ok, now+st.TimeThreshold)
		}
		h.timeout(d)
		if h.h.lost[len(h.h.lost)-1].pn != p {
			t.Fatalf("episode %d: %d not lost", episode, p)
		}
		now += ms(200)
	}
	rfc := max(h.rtt.SmoothedRTT(), h.rtt.LatestRTT()) * 9 / 8
	if st := h.r.Stats(); st.PacketThreshold != 3 || st.TimeThreshold != rfc {
		t.Fatalf("after %d episodes without spurious loss: %+v", reoWndPersist, st)
	}
	if st := h.r.Stats(); st.SpuriousCongestionEvents != 1 {
		t.Fatalf("undo count %d", st.SpuriousCongestionEvents)
	}
}

// RFC 9438 §4.9.2: the congestion event is undone once every packet lost
// in its episode is acknowledged, not before, and only once.
func TestSpuriousCongestionEventUndone(t *testing.T) {
	h := spuriousSetup(t) // 0, 1, 2 lost: one congestion event
	if n := len(h.cc.callsOf("lost")); n != 3 {
		t.Fatalf("%d loss calls", n)
	}
	h.ack(SpaceAppData, ms(31), 0, [2]uint64{5, 5}, [2]uint64{0, 1})
	if n := len(h.cc.callsOf("undo")); n != 0 {
		t.Fatal("undone while packet 2 is still missing")
	}
	h.ack(SpaceAppData, ms(32), 0, [2]uint64{5, 5}, [2]uint64{0, 2})
	if n := len(h.cc.callsOf("undo")); n != 1 || h.r.Stats().SpuriousCongestionEvents != 1 {
		t.Fatalf("%d undo calls, want 1", n)
	}
	h.ack(SpaceAppData, ms(33), 0, [2]uint64{0, 9})
	if n := len(h.cc.callsOf("undo")); n != 1 {
		t.Fatalf("%d undo calls, want 1", n)
	}
	// The controller heard of each late acknowledgment once (congestion's
	// per-packet calls, step 9), each closed by an OnAckEnd.
	late := 0
	for _, c := range h.cc.callsOf("ack") {
		if c.late {
			late++
		}
	}
	if late != 3 {
		t.Fatalf("%d late acknowledgments reported, want 3: %v", late, h.cc.calls)
	}
	if n := len(h.cc.callsOf("ackend")); n < 3 {
		t.Fatalf("%d OnAckEnd calls", n)
	}
}

// One real loss in the episode: no undo.
func TestPartlySpuriousEpisodeNotUndone(t *testing.T) {
	h := spuriousSetup(t)
	h.ack(SpaceAppData, ms(31), 0, [2]uint64{3, 9}, [2]uint64{0, 1}) // 2 stays lost
	if st := h.r.Stats(); st.SpuriousLosses != 2 || len(h.cc.callsOf("undo")) != 0 {
		t.Fatalf("stats %+v, undo calls %d", st, len(h.cc.callsOf("undo")))
	}
}

// Persistent congestion (RFC 9002 §7.6.2) is never undone, even when the
// packets turn out to have arrived.
func TestPersistentCongestionNotUndone(t *testing.T) {
	h := pcTrace(t, true, false) // 2..8 lost with persistent congestion
	u := func(x float64) time.Duration { return ms(100 * x) }
	h.ack(SpaceAppData, u(12.3), 0, [2]uint64{0, 9})
	if st := h.r.Stats(); st.SpuriousLosses != 7 || st.SpuriousCongestionEvents != 0 || len(h.cc.callsOf("undo")) != 0 {
		t.Fatalf("stats %+v, undo calls %d", st, len(h.cc.callsOf("undo")))
	}
}

// A lost packet is remembered for one PTO after it was declared lost; an
// acknowledgment later than that is not counted (nor harmful).
func TestLostPacketForgotten(t *testing.T) {
	h := spuriousSetup(t) // lost at 30ms; PTO = 25 + 4*12.5 = 75ms
	h.ack(SpaceAppData, ms(30)+h.rtt.PTO(true)+1, 0, [2]uint64{0, 9})
	if st := h.r.Stats(); st.SpuriousLosses != 0 || st.PacketThreshold != 3 {
		t.Fatalf("a late ACK after the history expired: %+v", st)
	}
}

// The history keeps the newest lostHistoryLen packets, in order.
func TestLostHistoryBounded(t *testing.T) {
	var h lostHistory
	for pn := range uint64(200) {
		h.add(lostRecord{pn: 2 * pn, timeLost: time.Duration(pn)})
	}
	h.add(lostRecord{pn: 5}) // out of order: ignored
	if h.n != lostHistoryLen || h.at(0).pn != 2*(200-lostHistoryLen) || h.at(h.n-1).pn != 398 {
		t.Fatalf("%d kept, %d..%d", h.n, h.at(0).pn, h.at(h.n-1).pn)
	}
	if i := h.search(301); h.at(i).pn != 302 {
		t.Fatalf("search(301) found %d", h.at(i).pn)
	}
	if i := h.search(1000); i != h.n {
		t.Fatalf("search past the end: %d", i)
	}
	h.expire(150)
	if h.n != 50 || h.at(0).pn != 300 {
		t.Fatalf("after expiry %d kept from %d", h.n, h.at(0).pn)
	}
}

// reorderingStep is steadySender.step with a lossy, reordering path: every
// 32nd packet is lost, and every 32nd packet from the 16th on arrives 12
// packets late. The ACK frame reports the three newest real holes.
func (s *steadySender) reorderingStep() {
	for range 2 {
		p := s.r.NextPacket(SpaceAppData)
		p.Size, p.AckEliciting, p.InFlight = 1200, true, true
		p.Frames = append(p.Frames, SentFrame{Kind: 1, ID: 4, Offset: p.PN * 1100, Length: 1100})
		s.r.OnPacketSent(SpaceAppData, p, s.now)
		s.now += time.Millisecond
	}
	if s.r.spaces[SpaceAppData].sent.nextPN() < 20 {
		return
	}
	hi := wire.PacketNumber(s.acked + 1)
	s.acked += 2
	ranges := s.ack.Ranges[:0]
	top, holes := wire.PacketNumber(-1), 0
	for pn := hi; pn >= 0; pn-- {
		lost := pn > 0 && pn%32 == 0
		if !lost && !(pn%32 == 16 && hi-pn < 12) {
			if top < 0 {
				top = pn
			}
			continue
		}
		if top >= 0 {
			ranges = append(ranges, wire.AckRange{Smallest: pn + 1, Largest: top})
			top = -1
		}
		if lost {
			if holes++; holes == 3 {
				break
			}
		}
	}
	if top >= 0 {
		ranges = append(ranges, wire.AckRange{Smallest: 0, Largest: top})
	}
	s.ack.Ranges = ranges
	if err := s.r.OnAckReceived(SpaceAppData, &s.ack, time.Millisecond, s.now, &s.res); err != nil {
		panic(err)
	}
}

// Spurious loss detection, threshold adaptation and decay, and the undo
// of congestion events allocate nothing per packet once a space's lost
// packet history exists.
func TestReorderingDoesNotAllocate(t *testing.T) {
	s := newSteadySender()
	s.ack.Ranges = make([]wire.AckRange, 0, 8)
	for range 300 {
		s.reorderingStep()
	}
	before := s.r.Stats()
	if before.SpuriousLosses == 0 || before.PacketsLost == 0 {
		t.Fatalf("warm-up saw no spurious loss: %+v", before)
	}
	if n := testing.AllocsPerRun(1000, s.reorderingStep); n != 0 {
		t.Fatalf("%v allocations per step, want 0", n)
	}
	after := s.r.Stats()
	t.Logf("over 1001 steps: %d lost, %d spurious, %d undone; thresholds now %d packets, %v",
		after.PacketsLost-before.PacketsLost, after.SpuriousLosses-before.SpuriousLosses,
		after.SpuriousCongestionEvents-before.SpuriousCongestionEvents, after.PacketThreshold, after.TimeThreshold)
	// Each real loss is a loss episode; 16 of them reset the thresholds,
	// and the late packets are then spuriously lost again.
	if after.SpuriousLosses-before.SpuriousLosses < 4 || after.PacketsLost-before.PacketsLost < 50 {
		t.Fatalf("the measured steps did not exercise loss and spurious loss: %+v", after)
	}
	if got := s.r.spaces[SpaceAppData].sent.n; got > 64 {
		t.Fatalf("%d packets kept", got)
	}
}

// BenchmarkSendAckReordering: per op, two packets sent and one ACK frame,
// on the lossy, reordering path of reorderingStep.
func BenchmarkSendAckReordering(b *testing.B) {
	s := newSteadySender()
	s.ack.Ranges = make([]wire.AckRange, 0, 8)
	for range 300 {
		s.reorderingStep()
	}
	b.ReportAllocs()
	for b.Loop() {
		s.reorderingStep()
	}
}
