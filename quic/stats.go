package quic

import (
	"strconv"

	"github.com/skiffnet/skiff/quic/internal/conn"
)

// ECNState is where ECN validation (RFC 9000 §13.4.2) stands for the
// ECT(0) marks a connection sends.
type ECNState uint8

const (
	// ECNOff: not marking (Config.DisableECN, or a socket that cannot
	// set marks).
	ECNOff ECNState = iota
	// ECNTesting: marking, not yet confirmed.
	ECNTesting
	// ECNUnknown: the testing period is over; unmarked until an
	// acknowledgment confirms the marks.
	ECNUnknown
	// ECNCapable: marking; the peer's ECN counts are validated and a
	// rising CE count is a congestion signal (RFC 9002 §7.1).
	ECNCapable
	// ECNFailed: marks were lost, cleared or miscounted; no longer
	// marking (§13.4.2.2).
	ECNFailed
)

var ecnStateNames = [...]string{"off", "testing", "unknown", "capable", "failed"}

// String returns "off", "testing", "unknown", "capable" or "failed".
func (s ECNState) String() string {
	if int(s) < len(ecnStateNames) {
		return ecnStateNames[s]
	}
	return "ECNState(" + strconv.Itoa(int(s)) + ")"
}

// ecnStateOf reads the state machine's name of the state, which is
// recovery's ("testing", …) or "off".
func ecnStateOf(name string) ECNState {
	for i, n := range ecnStateNames {
		if n == name {
			return ECNState(i)
		}
	}
	return ECNOff
}

// statsOf is the public form of the state machine's counters.
func statsOf(s conn.Stats) Stats {
	return Stats{
		SmoothedRTT: s.SmoothedRTT, MinRTT: s.MinRTT, LatestRTT: s.LatestRTT, RTTVar: s.RTTVar,
		CongestionWindow: s.CongestionWindow, BytesInFlight: s.BytesInFlight,
		PacketsSent: s.PacketsSent, PacketsReceived: s.PacketsReceived,
		PacketsLost: s.PacketsLost, PacketsAcked: s.PacketsAcked,
		BytesSent: s.BytesSent, BytesReceived: s.BytesReceived,
		DatagramsSent: s.DatagramsSent, DatagramsReceived: s.DatagramsReceived,
		PTOCount: s.PTOCount, SpuriousLosses: s.SpuriousLosses, KeyUpdates: s.KeyUpdates,
		ECN:     ecnStateOf(s.ECN),
		PathMTU: s.PathMTU, PathChanges: s.PathChanges, PathValidations: s.PathValidations,
		PathValidationFailures: s.PathValidationFailures, MTUBlackHoles: s.MTUBlackHoles,
		Congestion: s.Congestion, PacingRate: s.PacingRate, BBR: s.BBR,
	}
}
