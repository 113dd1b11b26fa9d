package quic

import (
	"time"

	"github.com/skiffnet/skiff/congestion"
)

// Tracer receives a connection's events, for qlog files, metrics or
// debugging. Every field is optional. Hooks run on the connection's
// goroutine: they must be quick and must not call back into the Conn.
type Tracer struct {
	// PacketSent and PacketReceived report each packet: its type ("initial",
	// "handshake", "1RTT", …), number and size on the wire.
	PacketSent     func(packetType string, pn uint64, size int)
	PacketReceived func(packetType string, pn uint64, size int)
	// HandshakeComplete reports the end of the TLS handshake.
	HandshakeComplete func()
	// Closed reports the end of the connection, with its Stats.
	Closed func(Stats)
}

// Stats is a snapshot of a connection's counters.
type Stats struct {
	SmoothedRTT, MinRTT, LatestRTT, RTTVar time.Duration
	CongestionWindow, BytesInFlight        int
	PacketsSent, PacketsReceived           uint64
	PacketsLost, PacketsAcked              uint64
	BytesSent, BytesReceived               uint64
	DatagramsSent, DatagramsReceived       uint64
	PTOCount                               uint64
	// SpuriousLosses counts packets declared lost and acknowledged later:
	// reordering, which loss detection adapts to (RFC 9002 §6.1).
	SpuriousLosses uint64
	KeyUpdates     uint64
	// ECN is the validation state of the ECT(0) marks we send (RFC 9000
	// §13.4.2): "testing" (marking, not yet confirmed), "unknown"
	// (testing over, unmarked until an acknowledgment confirms),
	// "capable" (marking; the peer's ECN counts are validated and a CE
	// count is a congestion signal), "failed" (marks were lost, cleared
	// or miscounted; no longer marking), or "off" (Config.DisableECN, or
	// a socket that cannot mark).
	ECN string
	// Congestion is the congestion controller (Config.Congestion), and
	// PacingRate the rate its pacer lets packets out at, in bytes per
	// second (0 with pacing off).
	Congestion congestion.Algorithm
	PacingRate uint64
	// BBR is BBR's state when Congestion is congestion.BBR, zero
	// otherwise: its mode (State), bandwidth estimate, min RTT, pacing
	// rate, window and bounds (draft-ietf-ccwg-bbr).
	BBR congestion.BBRStats
}
