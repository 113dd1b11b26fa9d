package recovery

import (
	"fmt"
	"testing"
	"time"
)

// pcTrace plays the example of RFC 9002 §7.6.3 with a time unit of 100ms:
// packets 1..9 of Table 1, the ACK of 1 at t=1.2 and of 9 at t=12.2. When
// prior is set, an RTT sample existed before packet 1 (from an earlier
// packet 0); ackFive makes the peer acknowledge packet 5 too at t=5.5.
func pcTrace(t *testing.T, prior, ackFive bool) *harness {
	h := newServer(t)
	u := func(x float64) time.Duration { return ms(100 * x) }
	start := time.Duration(0)
	if prior {
		// Packet 0 and its ACK: srtt+4*rttvar is then 200ms, the
		// example's "2".
		h.send(SpaceAppData, -u(1))
		h.ack(SpaceAppData, -u(1)+ms(200.0/3), 0, [2]uint64{0, 0})
		start = 1
	}
	send := func(x float64) { h.send(SpaceAppData, u(x)) }
	num := func(n uint64) uint64 { return n - 1 + uint64(start) } // Table 1 number to PN
	send(0)                                                       // #1
	send(1)                                                       // #2
	h.ack(SpaceAppData, u(1.2), 0, [2]uint64{0, num(1)})
	send(2) // #3
	send(3) // #4
	send(4) // #5
	if ackFive {
		h.ack(SpaceAppData, u(5.5)-1, 0, [2]uint64{num(5), num(5)}, [2]uint64{0, num(1)})
	}
	send(5)  // #6
	send(6)  // #7
	send(8)  // #8, PTO 1
	send(12) // #9, PTO 2
	h.ack(SpaceAppData, u(12.2), 0, [2]uint64{num(9), num(9)}, [2]uint64{0, num(1)})
	return h
}

// RFC 9002 §7.6.3: packets 2 to 8 are lost when the ACK of 9 arrives; they
// span 7 units, more than the persistent congestion duration of about 6,
// with nothing acknowledged in between: persistent congestion.
func TestPersistentCongestionExample(t *testing.T) {
	h := pcTrace(t, true, false)
	// The durations of the trace are the example's: between 6 and 7 units.
	if d := h.rtt.PersistentCongestionDuration(); d <= ms(600) || d >= ms(700) {
		t.Fatalf("persistent congestion duration %v, want in (600ms, 700ms)", d)
	}
	if got := pns(h.h.lost); !equalPNs(got, []uint64{2, 3, 4, 5, 6, 7, 8}) {
		t.Fatalf("lost %v, want 2..8", got)
	}
	// Each lost packet is reported, then the verdict once, then the end
	// of the ACK frame (congestion's per-packet calls, steps 5 to 7).
	var kinds []string
	for _, c := range h.cc.calls {
		if c.now == ms(1220) && c.kind != "ack" {
			kinds = append(kinds, c.kind)
		}
	}
	if got := fmt.Sprint(kinds); got != "[lost lost lost lost lost lost lost pc ackend]" {
		t.Fatalf("controller calls at the ACK of 9: %v", got)
	}
	if lost := h.cc.callsOf("lost"); lost[6].t != ms(800) {
		t.Fatalf("controller loss calls %v", lost)
	}
	if h.r.Stats().PersistentCongestion != 1 {
		t.Fatal("not counted")
	}
	// RFC 9002 §5.2: min_rtt is reset to the latest sample (20ms).
	if h.rtt.MinRTT() != ms(20) {
		t.Fatalf("min_rtt %v after persistent congestion, want 20ms", h.rtt.MinRTT())
	}
}

// RFC 9002 §7.6.2: an acknowledged packet between the lost ones means no
// persistent congestion.
func TestPersistentCongestionBrokenByAck(t *testing.T) {
	h := pcTrace(t, true, true)
	if len(h.cc.callsOf("pc")) != 0 {
		t.Fatalf("persistent congestion despite packet 5 acknowledged: %v", h.cc.calls)
	}
	if got := pns(h.h.lost); !equalPNs(got, []uint64{2, 3, 4, 6, 7, 8}) {
		t.Fatalf("lost %v", got)
	}
}

// RFC 9002 §7.6.2: both packets must be sent after the first RTT sample.
// Without the prior sample the first sample comes from the ACK of packet 1
// at t=1.2, after packet 2 was sent; packets 3..8 alone span 6 units, less
// than the duration.
func TestPersistentCongestionNeedsPriorSample(t *testing.T) {
	h := newServer(t)
	// Tighter numbers, so that the rule alone decides: packet 1 at 0,
	// packet 2 at 1ms, the first sample (20ms) at 20ms, 3 at 30ms, 4 at
	// 100ms, 5 at 190ms, 6..8 at 195..197ms, and the ACK of 8 at 207ms.
	for _, x := range []float64{0, 1} {
		h.send(SpaceAppData, ms(x))
	}
	h.ack(SpaceAppData, ms(20), 0, [2]uint64{0, 0})
	for _, x := range []float64{30, 100, 190, 195, 196, 197} {
		h.send(SpaceAppData, ms(x))
	}
	h.ack(SpaceAppData, ms(207), 0, [2]uint64{7, 7}, [2]uint64{0, 0})
	h.wantLost(1, 2, 3, 4)
	d := h.rtt.PersistentCongestionDuration()
	// Packet 1 (sent 1ms) to 4 (190ms) would exceed it; 2 (30ms) to 4
	// does not.
	if d >= ms(189) || d <= ms(160) {
		t.Fatalf("duration %v does not make this trace decisive", d)
	}
	if lost := h.cc.callsOf("lost"); len(lost) != 4 || len(h.cc.callsOf("pc")) != 0 {
		t.Fatalf("controller calls %v; want 4 losses, no persistent congestion", h.cc.calls)
	}

	// The same shape with every lost packet sent after the first sample
	// does establish it.
	h = newServer(t)
	h.send(SpaceAppData, 0)
	h.ack(SpaceAppData, ms(20), 0, [2]uint64{0, 0})
	for _, x := range []float64{21, 100, 150, 210, 215, 216, 217} {
		h.send(SpaceAppData, ms(x))
	}
	h.ack(SpaceAppData, ms(227), 0, [2]uint64{7, 7}, [2]uint64{0, 0})
	h.wantLost(1, 2, 3, 4) // 21ms to 210ms: more than the duration
	if lost := h.cc.callsOf("lost"); len(lost) != 4 || len(h.cc.callsOf("pc")) != 1 {
		t.Fatalf("controller calls %v; want 4 losses and persistent congestion", h.cc.calls)
	}
}

// RFC 9002 §7.6.2: the packets must be ack-eliciting, and losses found by
// the timer rather than an ACK do not establish it.
func TestPersistentCongestionOnlyAckElicitingOnAck(t *testing.T) {
	h := newServer(t)
	h.send(SpaceAppData, 0)
	h.ack(SpaceAppData, ms(20), 0, [2]uint64{0, 0})
	h.sendAckOnly(SpaceAppData, ms(30)) // 1
	h.send(SpaceAppData, ms(310))       // 2
	h.send(SpaceAppData, ms(315))       // 3
	h.send(SpaceAppData, ms(320))       // 4
	h.ack(SpaceAppData, ms(330), 0, [2]uint64{4, 4}, [2]uint64{0, 0})
	// 1 (ACK-only) to 2 spans 270ms > duration, but 1 is not
	// ack-eliciting; 2 and 3 are lost by the timer.
	h.wantLost(1)
	for range 2 { // one expiry for each
		d, _ := h.r.LossDetectionDeadline()
		h.timeout(d)
	}
	h.wantLost(1, 2, 3)
	if len(h.cc.callsOf("pc")) != 0 {
		t.Fatalf("persistent congestion: %v", h.cc.calls)
	}
}
