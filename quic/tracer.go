package quic

import (
	"net/netip"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/conn"
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

	// The hooks below report what qlog's QUIC events
	// (draft-ietf-quic-qlog-quic-events-13) log for debugging; package
	// quic/qlog writes them. A connection without a Tracer pays nothing
	// for them.

	// PacketSentFrames and PacketReceivedFrames report each packet with
	// its frames (qlog's packet_sent and packet_received). They see the
	// same packets as PacketSent and PacketReceived, which a tracer that
	// sets them need not set.
	PacketSentFrames, PacketReceivedFrames func(PacketInfo)
	// PacketLost reports a packet that loss detection declared lost (RFC
	// 9002 §6.1), and why: trigger "reordering_threshold" (the packet
	// threshold, §6.1.1) or "time_threshold" (§6.1.2); "" for packets
	// sent again after a Retry.
	PacketLost func(p PacketInfo, trigger string)
	// MetricsUpdated reports the RTT estimates and the congestion
	// controller's state after each ACK frame and each loss detection
	// timeout, changed or not (qlog's recovery_metrics_updated logs the
	// changes). The pointer is valid only during the call.
	MetricsUpdated func(*RecoveryMetrics)
	// CongestionStateUpdated reports the congestion controller entering
	// a new state (qlog's congestion_state_updated): for NewReno and
	// CUBIC "slow_start", "congestion_avoidance" or "recovery"; for BBR
	// its state as the draft names it ("Startup", "Drain",
	// "ProbeBW_DOWN", "ProbeBW_CRUISE", "ProbeBW_REFILL", "ProbeBW_UP",
	// "ProbeRTT"). old is "" at first; trigger is "packet_lost" when
	// losses came with the change, "" otherwise.
	CongestionStateUpdated func(old, new, trigger string)
	// KeyUpdated and KeyDiscarded report packet protection keys made and
	// dropped (qlog's key_updated and key_discarded): keyType is qlog's
	// name ("client_handshake_secret", "server_1rtt_secret", …); keyPhase
	// counts 1-RTT key updates (RFC 9001 §6); trigger is "tls" for keys
	// the handshake made, "local_update" or "remote_update" for a key
	// update we or the peer started.
	KeyUpdated, KeyDiscarded func(keyType string, keyPhase uint64, trigger string)
	// StreamStateUpdated reports a change of a stream's sending or
	// receiving part (side "sending" or "receiving"; qlog's
	// stream_state_updated): "open" (trigger "local" or "remote"),
	// "reset_sent", "reset_received", and "closed" once both parts are
	// done and the connection forgets the stream.
	StreamStateUpdated func(id uint64, side, state, trigger string)
	// ConnectionIDUpdated reports a change of the Destination Connection
	// ID we send with (qlog's connection_id_updated; initiator "remote":
	// the peer issued it). old is empty the first time.
	ConnectionIDUpdated func(initiator string, old, new []byte)
}

// PacketInfo describes a packet for the Tracer.
type PacketInfo struct {
	// Type is "initial", "handshake", "0RTT" or "1RTT"; Number the
	// packet number; Size its bytes on the wire.
	Type   string
	Number uint64
	Size   int
	// Datagram numbers the datagrams the connection sent (for a packet
	// sent) or received, from 0: packets coalesced in one datagram share
	// it (qlog's datagram_id).
	Datagram uint64
	// Payload is the packet's frames, decrypted, as on the wire (RFC
	// 9000 §12.4); valid only during the call. Empty for lost packets.
	Payload []byte
	// AckDelayExponent decodes the ACK Delay of the payload's ACK frames
	// (RFC 9000 §19.3).
	AckDelayExponent uint8
	// Probe: sent when the PTO fired (RFC 9002 §6.2.4). MTUProbe: a
	// path MTU probe (RFC 8899).
	Probe, MTUProbe bool
}

// RecoveryMetrics is the state of loss recovery and congestion control.
type RecoveryMetrics struct {
	// The RTT estimates of RFC 9002 §5; zero before the first sample.
	MinRTT, SmoothedRTT, LatestRTT, RTTVariance time.Duration
	PTOCount                                    uint64
	// CongestionWindow, BytesInFlight and SlowStartThreshold in bytes;
	// SlowStartThreshold is -1 while infinite.
	CongestionWindow, BytesInFlight, SlowStartThreshold int
	// PacingRate in bytes per second; 0 without pacing.
	PacingRate uint64
	// BBR is BBR's state, zero for another controller.
	BBR congestion.BBRStats
}

// connTracer is the state machine's view of t: the same hooks, with the
// types converted.
func (t *Tracer) connTracer() *conn.Tracer {
	ct := &conn.Tracer{
		PacketSent:             t.PacketSent,
		PacketReceived:         t.PacketReceived,
		CongestionStateUpdated: t.CongestionStateUpdated,
		KeyUpdated:             t.KeyUpdated,
		KeyDiscarded:           t.KeyDiscarded,
		StreamStateUpdated:     t.StreamStateUpdated,
		ConnectionIDUpdated:    t.ConnectionIDUpdated,
	}
	if f := t.PacketSentFrames; f != nil {
		ct.PacketSentFrames = func(p conn.PacketInfo) { f(PacketInfo(p)) }
	}
	if f := t.PacketReceivedFrames; f != nil {
		ct.PacketReceivedFrames = func(p conn.PacketInfo) { f(PacketInfo(p)) }
	}
	if f := t.PacketLost; f != nil {
		ct.PacketLost = func(p conn.PacketInfo, trigger string) { f(PacketInfo(p), trigger) }
	}
	if f := t.MetricsUpdated; f != nil {
		ct.MetricsUpdated = func(m *conn.Metrics) { f((*RecoveryMetrics)(m)) }
	}
	return ct
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
