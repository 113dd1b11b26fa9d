package recovery

import (
	"errors"
	"testing"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// RFC 9002 §5.1: an RTT sample is taken only when the largest acknowledged
// packet is newly acknowledged and at least one newly acknowledged packet
// is ack-eliciting.
func TestRTTSampleOnlyFromNewlyAckedLargestAckEliciting(t *testing.T) {
	h := newServer(t)
	h.send(SpaceAppData, 0)      // 0
	h.send(SpaceAppData, ms(10)) // 1
	h.ack(SpaceAppData, ms(100), 0, [2]uint64{1, 1})
	if h.rtt.Samples() != 1 || h.rtt.LatestRTT() != ms(90) {
		t.Fatalf("after ACK of 1: samples %d latest %v; want 1, 90ms", h.rtt.Samples(), h.rtt.LatestRTT())
	}

	// The ACK newly acknowledges 0, but its largest (1) is old: no sample.
	h.ack(SpaceAppData, ms(150), 0, [2]uint64{0, 1})
	h.wantAcked(1, 0)
	if h.rtt.Samples() != 1 {
		t.Fatalf("sample taken from an ACK whose largest was already acknowledged")
	}

	// A packet with only an ACK frame, newly acknowledged as the largest:
	// not ack-eliciting, no sample.
	h.sendAckOnly(SpaceAppData, ms(200)) // 2
	h.ack(SpaceAppData, ms(260), 0, [2]uint64{0, 2})
	if h.rtt.Samples() != 1 {
		t.Fatalf("sample taken from a non-ack-eliciting packet")
	}

	// An ack-eliciting packet newly acknowledged as the largest: a sample,
	// with the ACK Delay subtracted (the handshake is confirmed and the
	// delay is within max_ack_delay, RFC 9002 §5.3).
	h.rtt.SetMaxAckDelay(ms(25))
	h.send(SpaceAppData, ms(300)) // 3
	h.ack(SpaceAppData, ms(420), ms(20), [2]uint64{0, 3})
	if h.rtt.Samples() != 2 || h.rtt.LatestRTT() != ms(120) {
		t.Fatalf("samples %d latest %v; want 2, 120ms", h.rtt.Samples(), h.rtt.LatestRTT())
	}
	// smoothed = 7/8*90 + 1/8*(120-20)
	if got, want := h.rtt.SmoothedRTT(), ms(90)-ms(90)/8+ms(100)/8; got != want {
		t.Fatalf("smoothed_rtt %v, want %v", got, want)
	}

	// A repeated ACK changes nothing.
	h.h.reset()
	h.ack(SpaceAppData, ms(500), 0, [2]uint64{0, 3})
	h.wantAcked()
	if h.rtt.Samples() != 2 {
		t.Fatal("sample from a duplicate ACK")
	}
}

// RFC 9002 §5.3: the ACK Delay of Initial ACKs is ignored.
func TestInitialAckDelayIgnored(t *testing.T) {
	h := newServer(t)
	h.rtt.SetMaxAckDelay(ms(200)) // so that only the space decides
	h.send(SpaceInitial, 0)
	h.send(SpaceInitial, 0)
	h.ack(SpaceInitial, ms(50), 0, [2]uint64{0, 0}) // first sample: 50ms
	h.ack(SpaceInitial, ms(150), ms(100), [2]uint64{0, 1})
	// min_rtt 50, latest 150: with the 100ms delay honoured the adjusted
	// sample would be 50; ignored, it is 150.
	if got, want := h.rtt.SmoothedRTT(), ms(50)-ms(50)/8+ms(150)/8; got != want {
		t.Fatalf("smoothed_rtt %v, want %v (ACK Delay must be ignored)", got, want)
	}
}

// RFC 9002 §6.1.1: a packet is lost once a packet kPacketThreshold (3)
// higher is acknowledged.
func TestPacketThresholdLoss(t *testing.T) {
	h := newServer(t)
	for i := range 6 {
		h.send(SpaceAppData, ms(float64(i))) // 0..5 at 0..5ms
	}
	h.ack(SpaceAppData, ms(30), 0, [2]uint64{3, 3})
	h.wantAcked(3)
	h.wantLost(0) // 3 >= 0+3; 1 and 2 are not yet lost
	lost := h.cc.callsOf("lost")
	if len(lost) != 1 || lost[0].bytes != packetSize || lost[0].t != 0 || len(h.cc.callsOf("pc")) != 0 {
		t.Fatalf("controller loss calls %v", lost)
	}
	if acks := h.cc.callsOf("ack"); len(acks) != 1 || acks[0].bytes != packetSize || acks[0].t != ms(3) {
		t.Fatalf("controller ack calls %v", acks)
	}
	// 1 and 2 wait for the time threshold: the timer is loss_time,
	// 9/8 * 27ms (the only sample) after the send time of 1.
	h.wantDeadline(ms(1) + ms(27)*9/8)

	h.h.reset()
	h.ack(SpaceAppData, ms(31), 0, [2]uint64{5, 5}, [2]uint64{3, 3})
	h.wantAcked(5)
	h.wantLost(1, 2) // 5 >= 2+3
	if h.r.Stats().PacketsLost != 3 || h.r.Stats().PacketsAcked != 2 {
		t.Fatalf("stats %+v", h.r.Stats())
	}
	// Only 4 is left, ack-eliciting and unacknowledged.
	if h.cc.inFlight != packetSize {
		t.Fatalf("bytes in flight %d, want %d", h.cc.inFlight, packetSize)
	}
}

// Acknowledged packets are reported in ascending order across ranges.
func TestAckCallbacksAscending(t *testing.T) {
	h := newServer(t)
	for range 8 {
		h.send(SpaceAppData, 0)
	}
	h.ack(SpaceAppData, ms(10), 0, [2]uint64{6, 7}, [2]uint64{3, 4}, [2]uint64{1, 1})
	h.wantAcked(1, 3, 4, 6, 7)
	h.wantLost(0, 2) // 7 >= 2+3; 5 waits
}

// RFC 9002 §6.1.2 and Appendix A.9: a packet not lost by the packet
// threshold is lost kTimeThreshold * max(smoothed_rtt, latest_rtt) after it
// was sent, when the loss detection timer fires.
func TestTimeThresholdLossWithTimer(t *testing.T) {
	h := newServer(t)
	h.send(SpaceAppData, 0)
	h.ack(SpaceAppData, ms(100), 0, [2]uint64{0, 0}) // srtt = latest = 100ms
	h.send(SpaceAppData, ms(200))                    // 1
	h.send(SpaceAppData, ms(210))                    // 2
	h.ack(SpaceAppData, ms(310), 0, [2]uint64{2, 2}) // latest = 100ms
	h.wantLost()
	// loss_delay = 9/8 * 100ms; 1 was sent at 200ms.
	lossTime := ms(200) + ms(112.5)
	h.wantDeadline(lossTime)

	if _, probes := h.timeout(lossTime - 1); probes != 0 || len(h.h.lost) != 0 {
		t.Fatal("early timeout acted")
	}
	space, probes := h.timeout(lossTime)
	if space != SpaceAppData || probes != 0 {
		t.Fatalf("timeout returned %v, %d probes; want ApplicationData, 0", space, probes)
	}
	h.wantLost(1)
	if lost := h.cc.callsOf("lost"); len(lost) != 1 || lost[0].t != ms(200) || lost[0].now != lossTime {
		t.Fatalf("controller loss calls %v", lost)
	}
	if h.r.PTOCount() != 0 {
		t.Fatal("a time threshold loss is not a PTO")
	}
	// Nothing in flight at a server: no timer.
	h.wantNoDeadline()
}

// RFC 9002 §6.2.1: PTO = smoothed_rtt + max(4*rttvar, kGranularity) +
// max_ack_delay, doubled on each expiry, two probes, reset by an ACK.
func TestPTOBackoffAndProbes(t *testing.T) {
	h := newServer(t)
	h.rtt.SetMaxAckDelay(ms(25))
	h.send(SpaceAppData, 0)
	h.ack(SpaceAppData, ms(100), 0, [2]uint64{0, 0}) // srtt 100, rttvar 50
	h.wantNoDeadline()
	pto := ms(100) + 4*ms(50) + ms(25)
	h.send(SpaceAppData, ms(200)) // 1
	h.wantDeadline(ms(200) + pto)

	space, probes := h.timeout(ms(200) + pto)
	if space != SpaceAppData || probes != 2 || h.r.PTOCount() != 1 {
		t.Fatalf("PTO: %v, %d probes, pto_count %d; want ApplicationData, 2, 1", space, probes, h.r.PTOCount())
	}
	h.wantLost() // §6.2: a PTO declares nothing lost
	// Backed off: twice the period from the last ack-eliciting packet.
	h.wantDeadline(ms(200) + 2*pto)

	// The probes are sent; the timer restarts from them.
	t2 := ms(200) + pto
	h.send(SpaceAppData, t2) // 2
	h.send(SpaceAppData, t2) // 3
	h.wantDeadline(t2 + 2*pto)
	space, probes = h.timeout(t2 + 2*pto)
	if space != SpaceAppData || probes != 2 || h.r.PTOCount() != 2 {
		t.Fatalf("second PTO: %v, %d, pto_count %d", space, probes, h.r.PTOCount())
	}
	h.wantDeadline(t2 + 4*pto)
	if h.r.Stats().PTOs != 2 {
		t.Fatalf("stats PTOs %d", h.r.Stats().PTOs)
	}

	// An ACK resets pto_count.
	h.ack(SpaceAppData, t2+2*pto+ms(10), 0, [2]uint64{3, 3})
	if h.r.PTOCount() != 0 {
		t.Fatalf("pto_count %d after ACK, want 0", h.r.PTOCount())
	}
}

// RFC 9002 §6.2.1: no max_ack_delay in the Initial and Handshake PTO, no
// Application Data PTO before handshake confirmation, and the earliest
// space wins.
func TestPTOPerSpace(t *testing.T) {
	h := newServer(t)
	h.r.SetHandshakeState(true, false, true)
	h.rtt.SetMaxAckDelay(ms(25))
	basePTO := congestion.InitialRTT + 4*(congestion.InitialRTT/2)

	h.send(SpaceAppData, 0)
	h.wantNoDeadline() // only Application Data, handshake not confirmed

	h.send(SpaceHandshake, ms(10))
	h.wantDeadline(ms(10) + basePTO)
	h.send(SpaceInitial, ms(20))
	h.wantDeadline(ms(10) + basePTO) // Handshake is earlier

	space, probes := h.timeout(ms(10) + basePTO)
	if space != SpaceHandshake || probes != 2 {
		t.Fatalf("PTO in %v with %d probes; want Handshake, 2", space, probes)
	}
	// Backoff applies across spaces: Initial now at 20ms + 2*PTO.
	h.wantDeadline(ms(10) + 2*basePTO)

	h.r.DiscardSpace(SpaceInitial)
	h.r.DiscardSpace(SpaceHandshake)
	h.r.SetHandshakeState(true, true, true)
	// Application Data, with max_ack_delay, pto_count reset by discard.
	h.wantDeadline(0 + basePTO + ms(25))
}

// RFC 9002 §6.2.2.1: a client that has no acknowledgment of a Handshake
// packet and no confirmed handshake keeps a PTO armed with nothing in
// flight, and probes with Initial, or Handshake once it has the keys.
func TestAntiDeadlockClient(t *testing.T) {
	h := newServer(t)
	h.r.SetHandshakeState(false, false, false) // a client, early on
	h.send(SpaceInitial, 0)
	h.ack(SpaceInitial, ms(100), 0, [2]uint64{0, 0}) // srtt 100, rttvar 50
	pto := ms(100) + 4*ms(50)
	// Nothing in flight, yet a timer from now.
	h.wantDeadline(ms(100) + pto)

	space, probes := h.timeout(ms(100) + pto)
	if space != SpaceInitial || probes != 1 {
		t.Fatalf("anti-deadlock probe %v x%d; want one Initial", space, probes)
	}
	if h.r.PTOCount() != 1 {
		t.Fatal("pto_count not incremented")
	}
	now := ms(100) + pto
	h.wantDeadline(now + 2*pto)

	// The padded Initial probe is acknowledged: the client does not reset
	// the backoff on Initial ACKs (§6.2.1).
	h.send(SpaceInitial, now)
	h.ack(SpaceInitial, now+ms(100), 0, [2]uint64{1, 1})
	if h.r.PTOCount() != 1 {
		t.Fatalf("client reset pto_count on an Initial ACK")
	}

	// With Handshake keys the probe is a Handshake packet.
	now += ms(100)
	h.r.SetHandshakeState(false, false, true)
	d, ok := h.r.LossDetectionDeadline()
	// Reporting the same state again later does not push the timer back.
	h.timeout(d - 1) // early: only the clock moves
	h.r.SetHandshakeState(false, false, true)
	h.wantDeadline(d)
	if !ok {
		t.Fatal("no anti-deadlock timer")
	}
	if space, probes := h.timeout(d); space != SpaceHandshake || probes != 1 {
		t.Fatalf("probe %v x%d; want one Handshake", space, probes)
	}

	// An acknowledged Handshake packet proves the address validated: the
	// backoff resets and, with nothing in flight, no timer.
	h.send(SpaceHandshake, d)
	h.ack(SpaceHandshake, d+ms(100), 0, [2]uint64{0, 0})
	if h.r.PTOCount() != 0 {
		t.Fatalf("pto_count %d after a Handshake ACK", h.r.PTOCount())
	}
	h.wantNoDeadline()
}

// RFC 9002 §6.2.2.1: a server at its anti-amplification limit arms no PTO;
// once unblocked the timer may be in the past and fires at once (A.6).
func TestServerAmplificationBlocked(t *testing.T) {
	h := newServer(t)
	h.r.SetHandshakeState(true, false, false)
	h.send(SpaceInitial, 0)
	pto := congestion.InitialRTT + 4*(congestion.InitialRTT/2)
	h.wantDeadline(pto)
	h.r.SetAmplificationBlocked(true)
	h.wantNoDeadline()
	if _, probes := h.timeout(2 * pto); probes != 0 {
		t.Fatal("PTO fired while amplification blocked")
	}
	h.r.SetAmplificationBlocked(false)
	h.wantDeadline(pto)
	if space, probes := h.timeout(2 * pto); space != SpaceInitial || probes != 2 {
		t.Fatalf("overdue PTO: %v x%d", space, probes)
	}
}

// RFC 9002 §7.1, Appendix B.7: an increased ECN-CE count is a congestion
// event, reported with the ACK frame's OnAckEnd (the controller dates it
// by the newest packet acknowledged).
func TestECNCEReported(t *testing.T) {
	h := newServer(t)
	h.sendECT(SpaceAppData, ms(1))
	h.sendECT(SpaceAppData, ms(2))
	f := ackFrame([2]uint64{0, 1})
	f.HasECN, f.ECN = true, wire.ECNCounts{ECT0: 1, CE: 1}
	if err := h.onAck(SpaceAppData, f, 0, ms(50)); err != nil {
		t.Fatal(err)
	}
	ce := h.cc.ceReports()
	if len(ce) != 1 || ce[0].bytes != 1 || ce[0].now != ms(50) {
		t.Fatalf("ECN-CE reports %v", ce)
	}
	// Same count again: nothing new.
	h.sendECT(SpaceAppData, ms(60))
	f = ackFrame([2]uint64{0, 2})
	f.HasECN, f.ECN = true, wire.ECNCounts{ECT0: 2, CE: 1}
	if err := h.onAck(SpaceAppData, f, 0, ms(100)); err != nil {
		t.Fatal(err)
	}
	if len(h.cc.ceReports()) != 1 {
		t.Fatal("CE reported without an increase")
	}
	h.sendECT(SpaceAppData, ms(110))
	f = ackFrame([2]uint64{0, 3})
	f.HasECN, f.ECN = true, wire.ECNCounts{ECT0: 2, CE: 2}
	if err := h.onAck(SpaceAppData, f, 0, ms(150)); err != nil {
		t.Fatal(err)
	}
	if ce := h.cc.ceReports(); len(ce) != 2 || ce[1].bytes != 1 || ce[1].now != ms(150) {
		t.Fatalf("ECN-CE reports %v", ce)
	}
}

// RFC 9002 §6.4, Appendix A.11: discarding a space removes its bytes from
// flight without loss, and resets pto_count and its timers.
func TestDiscardSpace(t *testing.T) {
	h := newServer(t)
	h.r.SetHandshakeState(true, false, true)
	h.send(SpaceInitial, 0)
	h.send(SpaceInitial, 0)
	h.send(SpaceHandshake, ms(5))
	base := congestion.InitialRTT + 4*(congestion.InitialRTT/2)
	if _, probes := h.timeout(base); probes != 2 || h.r.PTOCount() != 1 {
		t.Fatal("no PTO")
	}
	h.r.DiscardSpace(SpaceInitial)
	if d := h.cc.callsOf("discarded"); len(d) != 1 || d[0].bytes != 2*packetSize {
		t.Fatalf("discard calls %v", d)
	}
	h.wantLost()
	if h.r.PTOCount() != 0 {
		t.Fatal("pto_count not reset")
	}
	h.wantDeadline(ms(5) + base)
	if h.cc.inFlight != packetSize {
		t.Fatalf("bytes in flight %d", h.cc.inFlight)
	}
	// ACKs in the discarded space are ignored, even bogus ones.
	if err := h.onAck(SpaceInitial, ackFrame([2]uint64{0, 9}), 0, ms(10)); err != nil {
		t.Fatal(err)
	}
	h.wantAcked()
	h.r.DiscardSpace(SpaceHandshake)
	h.wantNoDeadline()
	if h.cc.inFlight != 0 {
		t.Fatalf("bytes in flight %d", h.cc.inFlight)
	}
}

// RFC 9000 §13.1: acknowledging a packet never sent is a PROTOCOL_VIOLATION,
// reported before any state change.
func TestAckOfUnsentPacket(t *testing.T) {
	h := newServer(t)
	if err := h.onAck(SpaceAppData, ackFrame([2]uint64{0, 0}), 0, 0); !errors.Is(err, wire.ProtocolViolation) {
		t.Fatalf("ACK with nothing sent: %v", err)
	}
	for range 3 {
		h.send(SpaceAppData, 0)
	}
	err := h.onAck(SpaceAppData, ackFrame([2]uint64{3, 3}, [2]uint64{0, 1}), 0, ms(10))
	var te *wire.TransportError
	if !errors.As(err, &te) || te.Code != wire.ProtocolViolation || te.FrameType != wire.FrameTypeAck {
		t.Fatalf("ACK of packet 3 of 0..2: %v", err)
	}
	h.wantAcked()
	if _, ok := h.r.LargestAcked(SpaceAppData); ok {
		t.Fatal("largest acked changed by a bad ACK")
	}
	h.ack(SpaceAppData, ms(10), 0, [2]uint64{0, 2})
	if la, ok := h.r.LargestAcked(SpaceAppData); !ok || la != 2 {
		t.Fatalf("largest acked %d %v", la, ok)
	}
}

// NextPacket hands out the next packet number; an abandoned slot does not
// consume it, and slots keep their Frames storage.
func TestNextPacketAbandon(t *testing.T) {
	h := newServer(t)
	p := h.r.NextPacket(SpaceAppData)
	p.Frames = append(p.Frames, SentFrame{Kind: 9})
	if p.PN != 0 {
		t.Fatalf("first PN %d", p.PN)
	}
	p = h.r.NextPacket(SpaceAppData) // the first was abandoned
	if p.PN != 0 || len(p.Frames) != 0 {
		t.Fatalf("slot after abandon: PN %d, %d frames", p.PN, len(p.Frames))
	}
	h.send(SpaceAppData, 0)
	if p := h.r.NextPacket(SpaceAppData); p.PN != 1 {
		t.Fatalf("next PN %d, want 1", p.PN)
	}
	if p := h.r.NextPacket(SpaceInitial); p.PN != 0 {
		t.Fatal("spaces share packet numbers")
	}
}

// A packet built elsewhere is copied into the ring.
func TestOnPacketSentForeignPacket(t *testing.T) {
	h := newServer(t)
	p := &SentPacket{Size: 100, AckEliciting: true, InFlight: true, Frames: []SentFrame{{Kind: 4, ID: 7}}}
	h.r.OnPacketSent(SpaceAppData, p, ms(1))
	h.ack(SpaceAppData, ms(10), 0, [2]uint64{0, 0})
	var got *SentPacket
	if len(h.res.Acked) == 1 {
		got = h.res.Acked[0]
	}
	if got == nil || got.PN != 0 || got.TimeSent != ms(1) || len(got.Frames) != 1 || got.Frames[0].ID != 7 {
		t.Fatalf("acked packet %+v", got)
	}
}

// RetransmitAll (Retry, rejected 0-RTT) hands every outstanding packet back
// as lost without a congestion signal.
func TestRetransmitAll(t *testing.T) {
	h := newServer(t)
	h.send(SpaceInitial, 0)
	h.send(SpaceInitial, 0)
	h.retransmitAll(SpaceInitial)
	h.wantLost(0, 1)
	if len(h.cc.callsOf("lost")) != 0 {
		t.Fatal("congestion signal for retransmitted packets")
	}
	if d := h.cc.callsOf("discarded"); len(d) != 1 || d[0].bytes != 2*packetSize {
		t.Fatalf("discard calls %v", d)
	}
	if pn := h.send(SpaceInitial, ms(1)); pn != 2 {
		t.Fatalf("packet number after RetransmitAll %d, want 2", pn)
	}
	h.wantDeadline(ms(1) + congestion.InitialRTT + 4*(congestion.InitialRTT/2))
}

// Packets carrying only ACK frames that are never acknowledged do not grow
// the ring without bound; the oldest are counted lost, silently (nothing
// of theirs is ever sent again).
func TestAckOnlyBacklogBounded(t *testing.T) {
	h := newServer(t)
	for i := range 3 * maxNonInFlightBacklog {
		h.sendAckOnly(SpaceAppData, time.Duration(i))
	}
	if n := h.r.spaces[SpaceAppData].sent.n; n > maxNonInFlightBacklog {
		t.Fatalf("%d packets kept", n)
	}
	if st := h.r.Stats(); st.PacketsLost != 2*maxNonInFlightBacklog {
		t.Fatalf("%d dropped", st.PacketsLost)
	}
	if h.cc.inFlight != 0 || len(h.cc.callsOf("lost")) != 0 {
		t.Fatal("ACK-only packets touched the controller")
	}
}

// RFC 9002 §6.2.2.1: a client with only 0-RTT packets in flight, its
// Initial packets acknowledged, still arms the anti-deadlock PTO (the
// Appendix A.8 pseudocode would arm none, as Application Data gets no PTO
// before handshake confirmation).
func TestAntiDeadlockWithZeroRTTInFlight(t *testing.T) {
	h := newServer(t)
	h.r.SetHandshakeState(false, false, false)
	h.send(SpaceInitial, 0)
	h.send(SpaceAppData, 0) // 0-RTT
	h.ack(SpaceInitial, ms(100), 0, [2]uint64{0, 0})
	pto := ms(100) + 4*ms(50)
	h.wantDeadline(ms(100) + pto)
	if space, probes := h.timeout(ms(100) + pto); space != SpaceInitial || probes != 1 {
		t.Fatalf("probe %v x%d; want one Initial", space, probes)
	}
	// Once the address is known validated, no PTO for the 0-RTT packet
	// until the handshake is confirmed.
	h.r.SetHandshakeState(true, false, true)
	h.wantNoDeadline()
	h.r.SetHandshakeState(true, true, true)
	h.wantDeadline(0 + 2*pto) // pto_count is still 1
}

// Repeated PTOs back off exponentially and saturate rather than overflow.
func TestPTOBackoffSaturates(t *testing.T) {
	h := newServer(t)
	h.send(SpaceAppData, 0)
	prev := time.Duration(0)
	for i := range 100 {
		d, ok := h.r.LossDetectionDeadline()
		if !ok || d < prev {
			t.Fatalf("PTO %d: deadline %v %v after %v", i, d, ok, prev)
		}
		if _, probes := h.timeout(d); probes != 2 {
			t.Fatalf("PTO %d: %d probes", i, probes)
		}
		prev = d
	}
	if h.r.PTOCount() != 100 {
		t.Fatalf("pto_count %d", h.r.PTOCount())
	}
}

// An ACK in the Handshake space proves the client's address validated even
// when it acknowledges nothing new: the anti-deadlock timer goes.
func TestHandshakeAckWithoutNewlyAcked(t *testing.T) {
	h := newServer(t)
	h.r.SetHandshakeState(false, false, true)
	h.send(SpaceHandshake, 0)
	h.retransmitAll(SpaceHandshake) // e.g. given up on
	if _, ok := h.r.LossDetectionDeadline(); !ok {
		t.Fatal("no anti-deadlock timer")
	}
	h.ack(SpaceHandshake, ms(100), 0, [2]uint64{0, 0})
	h.wantAcked()
	h.wantNoDeadline()
}

// Trim drops the trailing packets that only acknowledged, which nothing
// will ever acknowledge, but keeps a ring with a packet awaiting its fate;
// an acknowledgment of a dropped packet changes nothing, and packet
// numbers go on from where they were.
func TestTrimDropsAckOnlyPackets(t *testing.T) {
	h := newServer(t)
	h.send(SpaceAppData, 0)
	h.ack(SpaceAppData, ms(10), 0, [2]uint64{0, 0})
	h.sendAckOnly(SpaceAppData, ms(11))
	h.send(SpaceAppData, ms(12))
	h.r.Trim()
	if h.r.RingCapacity(SpaceAppData) == 0 {
		t.Fatal("Trim dropped a ring holding an ack-eliciting packet in flight")
	}
	h.ack(SpaceAppData, ms(20), 0, [2]uint64{2, 2})
	last := h.sendAckOnly(SpaceAppData, ms(21))
	h.r.Trim()
	if n := h.r.RingCapacity(SpaceAppData); n != 0 {
		t.Fatalf("ring of %d slots kept for packets that only acknowledged", n)
	}
	h.h.reset()
	h.ack(SpaceAppData, ms(30), 0, [2]uint64{last, last})
	h.wantAcked()
	if pn := h.send(SpaceAppData, ms(31)); pn != last+1 {
		t.Fatalf("next packet number %d, want %d", pn, last+1)
	}
}
