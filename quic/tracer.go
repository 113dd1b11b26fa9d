package quic

import "time"

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
	// §13.4.2).
	ECN ECNState
}
