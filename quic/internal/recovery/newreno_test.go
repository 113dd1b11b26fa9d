package recovery

import (
	"testing"
	"time"

	"github.com/skiffnet/skiff/congestion"
)

// With the real NewReno controller: bytes in flight follow the packets
// through ring growth and wrap-around, a loss halves the window, and
// persistent congestion collapses it to kMinimumWindow (RFC 9002 §7.6.2).
func TestWithNewReno(t *testing.T) {
	var rtt congestion.RTTStats
	cc := congestion.NewNewReno(1200, false)
	var h recorder
	var r Recovery
	var res Resolved
	r.Init(&rtt, cc)
	r.SetHandshakeState(true, true, true)
	send := func(now time.Duration) {
		p := r.NextPacket(SpaceAppData)
		p.Size, p.AckEliciting, p.InFlight = 1200, true, true
		r.OnPacketSent(SpaceAppData, p, now)
	}
	ack := func(now time.Duration, ranges ...[2]uint64) {
		t.Helper()
		if err := r.OnAckReceived(SpaceAppData, ackFrame(ranges...), 0, now, &res); err != nil {
			t.Fatal(err)
		}
		h.record(&res)
	}
	for i := range 10 {
		send(ms(float64(i)))
	}
	ack(ms(50), [2]uint64{0, 7})
	if cc.BytesInFlight() != 2*1200 {
		t.Fatalf("bytes in flight %d", cc.BytesInFlight())
	}
	// 20 more: the ring wraps around and grows past 16 slots with 8 and 9
	// still in it.
	for i := range 20 {
		send(ms(60 + float64(i)))
	}
	ack(ms(120), [2]uint64{0, 29})
	if got := pns(h.acked); len(got) != 30 || got[29] != 29 || got[8] != 8 {
		t.Fatalf("acked %v", got)
	}
	if cc.BytesInFlight() != 0 {
		t.Fatalf("bytes in flight %d", cc.BytesInFlight())
	}
	window := cc.CongestionWindow()

	// One loss: the window is halved (RFC 9002 §7.3.2).
	for i := range 4 {
		send(ms(200 + float64(i)))
	}
	ack(ms(260), [2]uint64{31, 33})
	if got := pns(h.lost); len(got) != 1 || got[0] != 30 {
		t.Fatalf("lost %v", got)
	}
	if cc.CongestionWindow() != window/2 {
		t.Fatalf("window %d after a loss, want %d", cc.CongestionWindow(), window/2)
	}

	// Every packet for a long stretch lost, then one acknowledged:
	// persistent congestion.
	for i := range 10 {
		send(ms(300 + 100*float64(i)))
	}
	ack(ms(1300), [2]uint64{43, 43}, [2]uint64{31, 33})
	// kMinimumWindow, then grown by the packet this ACK acknowledged: the
	// ACK's losses are processed before its acknowledgments (RFC 9002
	// Appendix A.7), and persistent congestion ends the recovery period
	// (Appendix B.8), so slow start counts the acknowledged packet.
	if cc.CongestionWindow() != congestion.MinimumWindowPackets*1200+1200 {
		t.Fatalf("window %d after persistent congestion", cc.CongestionWindow())
	}
	if r.Stats().PersistentCongestion != 1 || cc.BytesInFlight() != 0 {
		t.Fatalf("stats %+v, in flight %d", r.Stats(), cc.BytesInFlight())
	}
}
