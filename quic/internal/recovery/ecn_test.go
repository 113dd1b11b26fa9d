package recovery

import (
	"testing"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

func (h *harness) ackECN(now float64, c wire.ECNCounts, hasECN bool, ranges ...[2]uint64) {
	h.t.Helper()
	f := ackFrame(ranges...)
	f.HasECN, f.ECN = hasECN, c
	if err := h.onAck(SpaceAppData, f, 0, ms(now)); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) wantECN(want ECNState) {
	h.t.Helper()
	if got := h.r.ECNState(); got != want {
		h.t.Fatalf("ECN state %v, want %v", got, want)
	}
}

// RFC 9000 §13.4.2 and Appendix A.4: ten marked packets, then unmarked
// until an ACK frame's counts validate them; then marked again.
func TestECNValidationSucceeds(t *testing.T) {
	h := newServer(t)
	h.wantECN(ECNTesting)
	for i := range ecnTestingPackets {
		if !h.r.ShouldMarkECT() {
			t.Fatalf("packet %d not marked during testing", i)
		}
		h.sendECT(SpaceAppData, ms(float64(i)))
	}
	h.wantECN(ECNUnknown)
	if h.r.ShouldMarkECT() {
		t.Fatal("marking after the testing period")
	}
	h.send(SpaceAppData, ms(10)) // unmarked
	// 0..4 acknowledged: 4 arrived ECT(0), one CE.
	h.ackECN(30, wire.ECNCounts{ECT0: 4, CE: 1}, true, [2]uint64{0, 4})
	h.wantECN(ECNCapable)
	if !h.r.ShouldMarkECT() {
		t.Fatal("not marking once capable")
	}
	if ce := h.cc.ceReports(); len(ce) != 1 {
		t.Fatalf("ECN-CE calls %v", ce)
	}
	// The unmarked packet 10 needs no count increase.
	h.ackECN(40, wire.ECNCounts{ECT0: 9, CE: 1}, true, [2]uint64{0, 10})
	h.wantECN(ECNCapable)
}

// RFC 9000 §13.4.2.1: the ways validation fails.
func TestECNValidationFails(t *testing.T) {
	cases := []struct {
		name   string
		counts wire.ECNCounts
		hasECN bool
	}{
		{"no counts for marked packets", wire.ECNCounts{}, false},
		{"marks bleached", wire.ECNCounts{ECT0: 1}, true},
		{"ECT(1) never sent", wire.ECNCounts{ECT0: 2, ECT1: 1}, true},
		{"more ECT(0) than sent", wire.ECNCounts{ECT0: 5}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newServer(t)
			h.sendECT(SpaceAppData, 0)
			h.sendECT(SpaceAppData, 0)
			h.ackECN(20, c.counts, c.hasECN, [2]uint64{0, 1})
			h.wantECN(ECNFailed)
			if h.r.ShouldMarkECT() {
				t.Fatal("marking after failure")
			}
		})
	}

	// Counts going down in an ACK that advances the largest.
	h := newServer(t)
	h.sendECT(SpaceAppData, 0)
	h.sendECT(SpaceAppData, 0)
	h.ackECN(20, wire.ECNCounts{ECT0: 1, CE: 1}, true, [2]uint64{0, 1})
	h.wantECN(ECNCapable) // validated while testing
	h.sendECT(SpaceAppData, ms(30))
	h.ackECN(50, wire.ECNCounts{ECT0: 3}, true, [2]uint64{0, 2})
	h.wantECN(ECNFailed)
	// CE counts are no longer acted on.
	h.send(SpaceAppData, ms(60))
	h.ackECN(80, wire.ECNCounts{ECT0: 3, CE: 5}, true, [2]uint64{0, 3})
	if ce := h.cc.ceReports(); len(ce) != 1 {
		t.Fatalf("ECN-CE calls after failure: %v", ce)
	}
}

// RFC 9000 §13.4.2.1: a reordered ACK frame, not advancing the largest
// acknowledged, must not fail validation.
func TestECNReorderedAckDoesNotFail(t *testing.T) {
	h := newServer(t)
	for range 4 {
		h.sendECT(SpaceAppData, 0)
	}
	h.ackECN(20, wire.ECNCounts{ECT0: 2}, true, [2]uint64{3, 3}, [2]uint64{1, 1})
	// An older ACK, newly acknowledging 0, with stale counts.
	h.ackECN(21, wire.ECNCounts{ECT0: 1}, true, [2]uint64{0, 1})
	if h.r.ECNState() == ECNFailed {
		t.Fatal("reordered ACK failed validation")
	}
}

// RFC 9000 §13.4.2: when every marked packet is lost, the marks are
// assumed to be the cause.
func TestECNAllMarkedLost(t *testing.T) {
	h := newServer(t)
	for range ecnTestingPackets {
		h.sendECT(SpaceAppData, 0)
	}
	for range 4 {
		h.send(SpaceAppData, ms(1)) // unmarked: 10..13
	}
	h.wantECN(ECNUnknown)
	h.ackECN(50, wire.ECNCounts{}, false, [2]uint64{12, 13})
	h.wantECN(ECNFailed)
	if len(h.h.lost) < ecnTestingPackets {
		t.Fatalf("lost %v", pns(h.h.lost))
	}
}

// RFC 9000 §13.4.2: testing ends after three PTOs even with fewer than ten
// marked packets.
func TestECNTestingEndsAfterThreePTOs(t *testing.T) {
	h := newServer(t)
	h.sendECT(SpaceAppData, 0)
	for range ecnTestingPTOs {
		h.wantECN(ECNTesting)
		d, _ := h.r.LossDetectionDeadline()
		h.timeout(d)
	}
	h.wantECN(ECNUnknown)
}
