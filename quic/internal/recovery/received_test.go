package recovery

import (
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

// parseAck parses the ACK frame AppendAckFrame wrote.
func parseAck(t testing.TB, b []byte) wire.AckFrame {
	t.Helper()
	ft, n, err := wire.ParseFrameType(b)
	if err != nil {
		t.Fatal(err)
	}
	f, m, err := wire.ParseAckFrame(ft, b[n:], nil)
	if err != nil {
		t.Fatalf("ParseAckFrame: %v", err)
	}
	if n+m != len(b) {
		t.Fatalf("ACK frame of %d bytes, %d parsed", len(b), n+m)
	}
	return f
}

func wantRanges(t *testing.T, f wire.AckFrame, want ...[2]uint64) {
	t.Helper()
	if len(f.Ranges) != len(want) {
		t.Fatalf("ranges %v, want %v", f.Ranges, want)
	}
	for i, w := range want {
		if f.Ranges[i].Smallest != wire.PacketNumber(w[0]) || f.Ranges[i].Largest != wire.PacketNumber(w[1]) {
			t.Fatalf("ranges %v, want %v", f.Ranges, want)
		}
	}
}

func wantAckDeadline(t *testing.T, rt *ReceivedTracker, want time.Duration) {
	t.Helper()
	if got, ok := rt.AckDeadline(); !ok || got != want {
		t.Fatalf("ACK deadline %v %v, want %v", got, ok, want)
	}
}

func wantNoAckDeadline(t *testing.T, rt *ReceivedTracker) {
	t.Helper()
	if got, ok := rt.AckDeadline(); ok {
		t.Fatalf("ACK deadline %v, want none", got)
	}
}

func newAppTracker() *ReceivedTracker {
	rt := &ReceivedTracker{}
	rt.SetMaxAckDelay(ms(25))
	return rt
}

// RFC 9000 §13.2.1 and §13.2.2: an ack-eliciting packet is acknowledged
// within max_ack_delay, and every second one at once.
func TestAckEverySecondAckEliciting(t *testing.T) {
	rt := newAppTracker()
	rt.OnPacketReceived(0, true, ECNNotECT, ms(100))
	wantAckDeadline(t, rt, ms(125))
	rt.OnPacketReceived(1, true, ECNNotECT, ms(105))
	wantAckDeadline(t, rt, ms(105))

	f := parseAck(t, rt.AppendAckFrame(nil, ms(106), 3))
	wantRanges(t, f, [2]uint64{0, 1})
	if f.AckDelay != 1000>>3 { // 1ms since packet 1, exponent 3
		t.Fatalf("ACK Delay %d", f.AckDelay)
	}
	if f.HasECN {
		t.Fatal("ECN counts without ECN")
	}
	wantNoAckDeadline(t, rt)
	if rt.AckElicitingPending() || rt.Pending() {
		t.Fatal("still pending after the ACK")
	}

	// The third packet starts a new count.
	rt.OnPacketReceived(2, true, ECNNotECT, ms(110))
	wantAckDeadline(t, rt, ms(135))
}

// RFC 9000 §13.2.1: non-ack-eliciting packets never make an ACK due, but
// are included in the next one.
func TestNonAckElicitingWaits(t *testing.T) {
	rt := newAppTracker()
	rt.OnPacketReceived(0, false, ECNNotECT, 0)
	rt.OnPacketReceived(1, false, ECNNotECT, 0)
	rt.OnPacketReceived(2, false, ECNNotECT, 0)
	wantNoAckDeadline(t, rt)
	if !rt.Pending() || rt.AckElicitingPending() {
		t.Fatal("pending state")
	}
	rt.OnPacketReceived(3, true, ECNNotECT, ms(1))
	wantAckDeadline(t, rt, ms(26))
	wantRanges(t, parseAck(t, rt.AppendAckFrame(nil, ms(26), 3)), [2]uint64{0, 3})
	// A gap before a non-ack-eliciting packet does not call for an ACK.
	rt.OnPacketReceived(7, false, ECNNotECT, ms(30))
	wantNoAckDeadline(t, rt)
}

// Initial and Handshake (max_ack_delay 0, the zero value): every
// ack-eliciting packet at once.
func TestHandshakeSpaceAcksImmediately(t *testing.T) {
	var rt ReceivedTracker
	rt.OnPacketReceived(0, true, ECNNotECT, ms(7))
	wantAckDeadline(t, &rt, ms(7))
}

// RFC 9000 §13.2.1: an ack-eliciting packet after a gap, or below the
// largest ack-eliciting packet, is acknowledged at once; the ACK shows the
// gap as two ranges.
func TestImmediateAckOnGapAndReorder(t *testing.T) {
	rt := newAppTracker()
	rt.OnPacketReceived(0, true, ECNNotECT, 0)
	rt.AppendAckFrame(nil, ms(1), 3)
	rt.OnPacketReceived(2, true, ECNNotECT, ms(10)) // 1 missing
	wantAckDeadline(t, rt, ms(10))
	f := parseAck(t, rt.AppendAckFrame(nil, ms(10), 3))
	wantRanges(t, f, [2]uint64{2, 2}, [2]uint64{0, 0})

	rt.OnPacketReceived(1, true, ECNNotECT, ms(20)) // out of order
	wantAckDeadline(t, rt, ms(20))
	f = parseAck(t, rt.AppendAckFrame(nil, ms(20), 3))
	wantRanges(t, f, [2]uint64{0, 2})
	// ACK Delay is measured from the largest (2, received at 10ms).
	if f.AckDelay != 10000>>3 {
		t.Fatalf("ACK Delay %d", f.AckDelay)
	}

	// In order again: back to the delayed ACK.
	rt.OnPacketReceived(3, true, ECNNotECT, ms(30))
	wantAckDeadline(t, rt, ms(55))
	rt.AppendAckFrame(nil, ms(31), 3)
	// A non-ack-eliciting packet, then an ack-eliciting one right after
	// it: no packet missing since the largest ack-eliciting one.
	rt.OnPacketReceived(4, false, ECNNotECT, ms(31))
	rt.OnPacketReceived(5, true, ECNNotECT, ms(32))
	wantAckDeadline(t, rt, ms(57))
}

// ACK ranges with several gaps, newest first.
func TestAckRangesWithGaps(t *testing.T) {
	rt := newAppTracker()
	for _, pn := range []uint64{0, 1, 2, 4, 5, 7, 10, 11} {
		rt.OnPacketReceived(pn, false, ECNNotECT, 0)
	}
	f := parseAck(t, rt.AppendAckFrame(nil, 0, 3))
	wantRanges(t, f, [2]uint64{10, 11}, [2]uint64{7, 7}, [2]uint64{4, 5}, [2]uint64{0, 2})
}

// RFC 9000 §13.2.4: once an ACK frame is acknowledged, the packets it
// covered are no longer acknowledged, and count as duplicates.
func TestAckOfAckTrims(t *testing.T) {
	rt := newAppTracker()
	for _, pn := range []uint64{0, 1, 3, 4} {
		rt.OnPacketReceived(pn, true, ECNNotECT, 0)
	}
	rt.AppendAckFrame(nil, 0, 3) // Largest Acknowledged 4
	rt.OnPacketReceived(6, true, ECNNotECT, ms(1))
	rt.OnAckOfAckReceived(4)
	wantRanges(t, parseAck(t, rt.AppendAckFrame(nil, ms(1), 3)), [2]uint64{6, 6})
	for _, pn := range []uint64{0, 2, 4} {
		if !rt.IsDuplicate(pn) {
			t.Errorf("packet %d below the acknowledged ACK is not a duplicate", pn)
		}
	}
	if rt.IsDuplicate(5) {
		t.Error("packet 5 is not a duplicate")
	}
	// An older ACK of ACK changes nothing.
	rt.OnAckOfAckReceived(1)
	if rt.IsDuplicate(5) {
		t.Error("floor went down")
	}
	// Packet 5 arriving late fills the gap above the floor: acknowledged
	// at once as out of order.
	rt.OnPacketReceived(5, true, ECNNotECT, ms(2))
	wantAckDeadline(t, rt, ms(2))
	wantRanges(t, parseAck(t, rt.AppendAckFrame(nil, ms(2), 3)), [2]uint64{5, 6})
	// Everything acknowledged: nothing to send.
	rt.OnAckOfAckReceived(6)
	if b := rt.AppendAckFrame(nil, ms(3), 3); len(b) != 0 {
		t.Fatalf("ACK frame with nothing to acknowledge: %x", b)
	}
	if la, ok := rt.LargestReceived(); !ok || la != 6 {
		t.Fatalf("largest received %d %v", la, ok)
	}
	// The gap check starts at the floor: 7 right after it is in order.
	rt.OnPacketReceived(7, true, ECNNotECT, ms(4))
	wantAckDeadline(t, rt, ms(29))
}

// RFC 9000 §13.4.1: ECN counts go in the ACK frame once any packet was
// marked; a CE mark calls for an immediate ACK (§13.2.1).
func TestECNCounts(t *testing.T) {
	rt := newAppTracker()
	rt.OnPacketReceived(0, true, ECNECT0, 0)
	rt.OnPacketReceived(1, false, ECNECT1, 0)
	rt.OnPacketReceived(1, true, ECNCE, 0) // duplicate: not counted
	f := parseAck(t, rt.AppendAckFrame(nil, 0, 3))
	if !f.HasECN || f.ECN != (wire.ECNCounts{ECT0: 1, ECT1: 1}) {
		t.Fatalf("ECN %v %+v", f.HasECN, f.ECN)
	}
	rt.OnPacketReceived(2, true, ECNCE, ms(5))
	wantAckDeadline(t, rt, ms(5))
	f = parseAck(t, rt.AppendAckFrame(nil, ms(5), 3))
	if f.ECN != (wire.ECNCounts{ECT0: 1, ECT1: 1, CE: 1}) {
		t.Fatalf("ECN %+v", f.ECN)
	}
	// CE on a non-ack-eliciting packet: counted, no ACK of its own.
	rt.OnPacketReceived(3, false, ECNCE, ms(6))
	wantNoAckDeadline(t, rt)
}

// RFC 9000 §12.3: duplicates are reported and change nothing.
func TestDuplicateDetection(t *testing.T) {
	rt := newAppTracker()
	if rt.OnPacketReceived(5, true, ECNNotECT, 0) {
		t.Fatal("first packet a duplicate")
	}
	rt.AppendAckFrame(nil, 0, 3)
	if !rt.IsDuplicate(5) || rt.IsDuplicate(4) || rt.IsDuplicate(6) {
		t.Fatal("IsDuplicate")
	}
	if !rt.OnPacketReceived(5, true, ECNNotECT, ms(1)) {
		t.Fatal("duplicate not reported")
	}
	wantNoAckDeadline(t, rt)
	if rt.Pending() {
		t.Fatal("duplicate made an ACK pending")
	}
}

// A peer skipping every other packet number cannot grow the state beyond
// MaxTrackedRanges; the ACK frame carries the newest MaxAckRanges.
func TestReceivedRangesBounded(t *testing.T) {
	rt := newAppTracker()
	for pn := uint64(0); pn < 4*MaxTrackedRanges; pn += 2 {
		rt.OnPacketReceived(pn, true, ECNNotECT, 0)
	}
	if n := rt.received.Len(); n != MaxTrackedRanges {
		t.Fatalf("%d ranges kept", n)
	}
	if !rt.IsDuplicate(1) || !rt.IsDuplicate(0) {
		t.Fatal("packets below the kept ranges must count as duplicates")
	}
	f := parseAck(t, rt.AppendAckFrame(nil, 0, 3))
	if len(f.Ranges) != MaxAckRanges || f.Ranges[0].Largest != 4*MaxTrackedRanges-2 {
		t.Fatalf("%d ranges, largest %d", len(f.Ranges), f.Ranges[0].Largest)
	}
}

// RFC 9000 §13.2.3: when the ACK frame must fit in less room, the oldest
// ranges go first.
func TestAppendAckFrameMax(t *testing.T) {
	rt := newAppTracker()
	for _, pn := range []uint64{0, 2, 4, 6, 8} {
		rt.OnPacketReceived(pn, true, ECNNotECT, 0)
	}
	full := rt.AppendAckFrame(nil, 0, 3)
	rt.OnPacketReceived(10, true, ECNNotECT, 0)
	b := rt.AppendAckFrameMax(nil, 0, 3, len(full)-1)
	if len(b) >= len(full) {
		t.Fatalf("frame of %d bytes, limit %d", len(b), len(full)-1)
	}
	f := parseAck(t, b)
	if f.Ranges[0].Largest != 10 || len(f.Ranges) >= 6 {
		t.Fatalf("ranges %v", f.Ranges)
	}
	// No room at all: nothing written, the ACK stays due.
	rt.OnPacketReceived(12, true, ECNNotECT, ms(1))
	if b := rt.AppendAckFrameMax([]byte{1}, ms(1), 3, 3); len(b) != 1 {
		t.Fatalf("wrote %x into 3 bytes", b)
	}
	wantAckDeadline(t, rt, ms(1))
}

// draft-ietf-quic-ack-frequency-14 §6.2, Tables 1 and 2: with a
// reordering threshold of 3 (and 5), and acknowledgments sent only
// because of reordering, the packets that call for one at once.
func TestAckFrequencyReorderingThreshold(t *testing.T) {
	for _, tc := range []struct {
		threshold uint64
		received  []uint64
		ackAt     []uint64
	}{
		{3, []uint64{0, 1, 3, 4, 5, 8, 9, 10}, []uint64{5, 9, 10}},
		{5, []uint64{0, 1, 3, 5, 6, 7, 8, 9}, []uint64{7, 9}},
	} {
		rt := &ReceivedTracker{}
		// A threshold and delay that never trigger by themselves.
		rt.SetPolicy(AckPolicy{Threshold: 1000, MaxAckDelay: time.Hour, Reordering: tc.threshold})
		var got []uint64
		for i, pn := range tc.received {
			now := ms(float64(i))
			rt.OnPacketReceived(pn, true, ECNNotECT, now)
			if d, ok := rt.AckDeadline(); ok && d <= now {
				got = append(got, pn)
				rt.AppendAckFrame(nil, now, 3)
			}
		}
		if !equalPNs(got, tc.ackAt) {
			t.Errorf("reordering threshold %d: immediate ACKs at %v, want %v", tc.threshold, got, tc.ackAt)
		}
	}
}

// A packet at or below Largest Acked - Reordering Threshold, one the
// sender has likely declared lost, is acknowledged at once (§6.2); with a
// threshold of 0, reordering never is.
func TestAckFrequencyLatePacket(t *testing.T) {
	rt := &ReceivedTracker{}
	rt.SetPolicy(AckPolicy{Threshold: 1000, MaxAckDelay: time.Hour, Reordering: 3})
	for pn := uint64(2); pn < 10; pn++ {
		rt.OnPacketReceived(pn, true, ECNNotECT, ms(1))
	}
	rt.AppendAckFrame(nil, ms(1), 3) // Largest Acked 9
	rt.OnPacketReceived(0, true, ECNNotECT, ms(2))
	wantAckDeadline(t, rt, ms(2))

	rt = &ReceivedTracker{}
	rt.SetPolicy(AckPolicy{Threshold: 1000, MaxAckDelay: ms(10), Reordering: 0})
	for _, pn := range []uint64{5, 0, 9, 2} {
		rt.OnPacketReceived(pn, true, ECNNotECT, ms(1))
	}
	wantAckDeadline(t, rt, ms(11))
}

// §4: an ACK after more than Ack-Eliciting Threshold packets; §5:
// IMMEDIATE_ACK; §6.3: with a threshold above 1 only the first of a run
// of CE-marked packets is acknowledged at once.
func TestAckFrequencyThresholdImmediateAndCE(t *testing.T) {
	rt := &ReceivedTracker{}
	rt.SetPolicy(AckPolicy{Threshold: 3, MaxAckDelay: ms(10), Reordering: 1})
	for pn := range uint64(3) {
		rt.OnPacketReceived(pn, true, ECNNotECT, ms(1))
	}
	wantAckDeadline(t, rt, ms(11))
	rt.OnPacketReceived(3, true, ECNNotECT, ms(2))
	wantAckDeadline(t, rt, ms(2))
	rt.AppendAckFrame(nil, ms(2), 3)

	rt.RequestImmediate()
	rt.OnPacketReceived(4, true, ECNNotECT, ms(3))
	wantAckDeadline(t, rt, ms(3))
	rt.AppendAckFrame(nil, ms(3), 3)

	rt.OnPacketReceived(5, true, ECNCE, ms(4))
	wantAckDeadline(t, rt, ms(4))
	rt.AppendAckFrame(nil, ms(4), 3)
	rt.OnPacketReceived(6, true, ECNCE, ms(5))
	wantAckDeadline(t, rt, ms(15)) // the second CE in a row waits

	// A shorter max_ack_delay pulls a pending deadline in.
	rt.SetPolicy(AckPolicy{Threshold: 3, MaxAckDelay: ms(2), Reordering: 1})
	wantAckDeadline(t, rt, ms(7))
}
