package recovery

import "github.com/skiffnet/skiff/quic/internal/wire"

// ECNState is the ECN validation state of the path (RFC 9000 §13.4.2 and
// the sample algorithm of Appendix A.4).
type ECNState uint8

const (
	// ECNTesting: packets are marked ECT(0) to find out whether the path
	// and the peer support ECN. The zero value.
	ECNTesting ECNState = iota
	// ECNUnknown: the testing period is over; packets go unmarked until
	// an acknowledgment validates the marked ones.
	ECNUnknown
	// ECNCapable: validated; packets are marked ECT(0).
	ECNCapable
	// ECNFailed: validation failed; packets go unmarked (RFC 9000
	// §13.4.2.2: the endpoint MUST disable ECN).
	ECNFailed
)

func (s ECNState) String() string {
	switch s {
	case ECNTesting:
		return "testing"
	case ECNUnknown:
		return "unknown"
	case ECNCapable:
		return "capable"
	case ECNFailed:
		return "failed"
	}
	return "ECNState(?)"
}

const (
	// ecnTestingPackets and ecnTestingPTOs end the testing period: RFC
	// 9000 §13.4.2 suggests ten packets or three PTOs, so that a path
	// that drops marked packets costs little.
	ecnTestingPackets = 10
	ecnTestingPTOs    = 3
)

// ecnValidation is the connection-wide part of ECN validation; the counts
// last validated are per packet number space, in spaceState.
type ecnValidation struct {
	state ECNState
	// marked and lost count ECT(0) packets sent and declared lost while
	// not yet capable: if every one of them is lost, the marks are the
	// likely cause (RFC 9000 §13.4.2).
	marked, lost int
	ptos         int // PTOs during testing
}

// ECNState returns the path's ECN validation state.
func (r *Recovery) ECNState() ECNState { return r.ecn.state }

// ShouldMarkECT reports whether the next datagram should carry ECT(0): in
// the testing and capable states (RFC 9000 Appendix A.4). The connection
// sets SentPacket.ECT on the packets of a datagram it marked. A connection
// whose socket cannot set ECN marks simply never marks; validation then
// never starts.
func (r *Recovery) ShouldMarkECT() bool {
	return r.ecn.state == ECNTesting || r.ecn.state == ECNCapable
}

// onECTSent counts a packet sent with ECT(0).
func (r *Recovery) onECTSent() {
	if r.ecn.state != ECNTesting {
		return
	}
	r.ecn.marked++
	if r.ecn.marked >= ecnTestingPackets {
		r.endECNTesting()
	}
}

// endECNTesting moves from testing to unknown, or to failed if every
// marked packet is already lost.
func (r *Recovery) endECNTesting() {
	r.ecn.state = ECNUnknown
	if r.ecn.lost >= r.ecn.marked {
		r.ecn.state = ECNFailed
	}
}

// onECNPTO ends the testing period after three PTOs.
func (r *Recovery) onECNPTO() {
	if r.ecn.state != ECNTesting {
		return
	}
	r.ecn.ptos++
	if r.ecn.ptos >= ecnTestingPTOs && r.ecn.marked > 0 {
		r.endECNTesting()
	}
}

// onECTLost counts a marked packet declared lost before validation: when
// all of them are lost, ECN fails (RFC 9000 §13.4.2, Appendix A.4).
func (r *Recovery) onECTLost() {
	if r.ecn.state != ECNTesting && r.ecn.state != ECNUnknown {
		return
	}
	r.ecn.lost++
	if r.ecn.state == ECNUnknown && r.ecn.lost >= r.ecn.marked {
		r.ecn.state = ECNFailed
	}
}

// validateECN checks the ECN counts of an ACK frame that newly acknowledged
// ect packets sent with ECT(0) (RFC 9000 §13.4.2.1), and reports whether
// its counts may be used. advanced tells whether the frame raised the
// largest acknowledged packet number: a reordered ACK frame must not fail
// validation.
func (r *Recovery) validateECN(s *spaceState, ack *wire.AckFrame, ect int, advanced bool) bool {
	if r.ecn.state == ECNFailed {
		return false
	}
	if !advanced {
		return ack.HasECN
	}
	if !ack.HasECN {
		if ect > 0 {
			// Newly acknowledged marked packets without counts: the
			// marks were cleared, or the peer does not report them.
			r.ecn.state = ECNFailed
		}
		return false
	}
	c, prev := ack.ECN, s.ecnValidated
	switch {
	case c.ECT0 < prev.ECT0 || c.ECT1 < prev.ECT1 || c.CE < prev.CE,
		// Counts beyond the packets marked, and ECT(1), which is
		// never sent: remarking in the network.
		c.ECT0 > s.ectSent || c.ECT1 > 0,
		// Fewer ECT(0) and CE increases than marked packets newly
		// acknowledged: ECT(0) bleached or remarked.
		(c.ECT0-prev.ECT0)+(c.CE-prev.CE) < uint64(ect):
		r.ecn.state = ECNFailed
		return false
	}
	s.ecnValidated = c
	if ect > 0 && (r.ecn.state == ECNTesting || r.ecn.state == ECNUnknown) {
		r.ecn.state = ECNCapable
	}
	return true
}
