package quic

import (
	"net/netip"
	"time"
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
	// MigrationState reports a path's progress (qlog's
	// migration_state_updated): "probing_started" (path validation
	// began), "probing_successful", "probing_abandoned" (3 PTOs without
	// an answer), "migration_complete" (packets go there now), with the
	// path's local and remote addresses.
	MigrationState func(state string, local, remote netip.AddrPort)
	// MTUUpdated reports a new datagram size from path MTU discovery,
	// and whether the search is over for now (qlog's mtu_updated).
	MTUUpdated func(old, new int, done bool)
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
	// PathMTU is the largest datagram the current path is known to carry,
	// as path MTU discovery found it (RFC 8899): the size datagrams go
	// out at. PathChanges counts moves to another path (a peer's new
	// address, a migration, a return to the last validated path);
	// PathValidations and PathValidationFailures count path validations
	// (RFC 9000 §8.2) that succeeded and that were abandoned;
	// MTUBlackHoles the times full-size datagrams stopped getting through
	// and the size fell back to 1200 bytes.
	PathMTU                               int
	PathChanges, PathValidations          uint64
	PathValidationFailures, MTUBlackHoles uint64
}
