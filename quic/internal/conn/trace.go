package conn

import (
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// The Tracer's events beyond packets sent and received: what qlog's
// quic-events (draft-ietf-quic-qlog-quic-events-13) logs for debugging.
// Every hook call is behind a nil check of the Tracer, so a connection
// without one pays a branch per event and allocates nothing; with one,
// the connection reports changes (of state, keys, connection IDs) and
// keeps what it needs to notice them in traceState.

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
	// (RFC 9000 §19.3): the sender's ack_delay_exponent for 1-RTT
	// packets, 0 for Initial and Handshake ones, whose ACK Delay skiff
	// neither sets nor uses.
	AckDelayExponent uint8
	// Probe: sent when the PTO fired (RFC 9002 §6.2.4). MTUProbe: a
	// path MTU probe (RFC 8899).
	Probe, MTUProbe bool
}

// Metrics is loss recovery's and the congestion controller's state, for
// the Tracer's MetricsUpdated (qlog's recovery_metrics_updated).
type Metrics struct {
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

// traceState is what a traced connection remembers to report changes.
type traceState struct {
	// payload is a copy of the packet being sent, made before sealing
	// encrypts it in place.
	payload []byte
	// congestionState is the controller's state last reported.
	congestionState string
	// metrics is what MetricsUpdated gets a pointer to.
	metrics Metrics
	// dcid is the Destination Connection ID last reported, prevDCID the
	// one before.
	dcid, prevDCID wire.ConnectionID
	// readPhase and writePhase are the 1-RTT key phases last reported,
	// readGen and writeGen the key updates seen each way.
	readPhase, writePhase bool
	readGen, writeGen     uint64
}

// spaceNames names the packets of each space as the Tracer does.
var spaceNames = [3]string{"initial", "handshake", "1RTT"}

// packetTypeName names a received packet's type as spaceNames names sent
// ones, so that both directions of a trace use one vocabulary.
func packetTypeName(pt wire.PacketType) string {
	switch pt {
	case wire.PacketInitial:
		return "initial"
	case wire.PacketHandshake:
		return "handshake"
	case wire.Packet0RTT:
		return "0RTT"
	case wire.Packet1RTT:
		return "1RTT"
	}
	return pt.String()
}

// traceCopyPayload keeps a copy of a packet's payload before sealing, for
// tracePacketSent.
func (c *Conn) traceCopyPayload(payload []byte) {
	if c.tracePayloads() {
		c.trace.payload = append(c.trace.payload[:0], payload...)
	}
}

// tracePayloads reports whether the tracer reads the frames of the
// packets sent, which must then be built in the datagram before sealing.
func (c *Conn) tracePayloads() bool {
	return c.tracer != nil && c.tracer.PacketSentFrames != nil
}

// tracePacketSent reports a packet sent in space, whose recovery record is
// p, and what changed with it: the Destination Connection ID (qlog's
// connection_id_updated) and a key update we started.
func (c *Conn) tracePacketSent(space recovery.Space, p *recovery.SentPacket, probe bool) {
	t := c.tracer
	if t == nil {
		return
	}
	if t.PacketSent != nil {
		t.PacketSent(spaceNames[space], p.PN, p.Size)
	}
	if t.PacketSentFrames != nil {
		info := PacketInfo{Type: spaceNames[space], Number: p.PN, Size: p.Size, Datagram: c.stats.DatagramsSent,
			Payload: c.trace.payload, Probe: probe, MTUProbe: p.PMTUProbe}
		if space == recovery.SpaceAppData {
			info.AckDelayExponent = wire.DefaultAckDelayExponent
		}
		t.PacketSentFrames(info)
	}
	if dcid := c.ids.peerDCID(); dcid != c.trace.dcid {
		c.trace.prevDCID, c.trace.dcid = c.trace.dcid, dcid
		if t.ConnectionIDUpdated != nil {
			// The peer's ID we now send to (qlog: "remote", the peer
			// issued it). The slices point into traceState, so that
			// the IDs need not move to the heap.
			t.ConnectionIDUpdated("remote", c.trace.prevDCID.Bytes(), c.trace.dcid.Bytes())
		}
	}
	if space == recovery.SpaceAppData {
		c.traceKeyPhases()
	}
}

// tracePacketReceived reports a packet received and processed, and a key
// update it brought.
func (c *Conn) tracePacketReceived(pt wire.PacketType, pn uint64, size int, payload []byte) {
	t := c.tracer
	if t == nil {
		return
	}
	if t.PacketReceived != nil {
		t.PacketReceived(packetTypeName(pt), pn, size)
	}
	if t.PacketReceivedFrames != nil {
		info := PacketInfo{Type: packetTypeName(pt), Number: pn, Size: size, Datagram: c.stats.DatagramsReceived - 1, Payload: payload}
		if pt == wire.Packet1RTT {
			info.AckDelayExponent = c.peerAckDelayExponent
			if !c.peerParamsSet {
				info.AckDelayExponent = wire.DefaultAckDelayExponent
			}
		}
		t.PacketReceivedFrames(info)
	}
	if pt == wire.Packet1RTT {
		c.traceKeyPhases()
	}
}

// traceLost reports the packets loss recovery declared lost.
func (c *Conn) traceLost(res *recovery.Resolved) {
	t := c.tracer
	if t == nil || t.PacketLost == nil {
		return
	}
	for _, p := range res.Lost {
		trigger := ""
		switch p.LostBy {
		case recovery.LostByPacketThreshold:
			trigger = "reordering_threshold"
		case recovery.LostByTimeThreshold:
			trigger = "time_threshold"
		}
		t.PacketLost(PacketInfo{Type: spaceNames[res.Space], Number: p.PN, Size: p.Size, MTUProbe: p.PMTUProbe}, trigger)
	}
}

// traceRecovery reports the recovery metrics and, if it changed, the
// controller's state, after an ACK frame or a timer. lost says whether
// packets were declared lost meanwhile: the trigger of a state change.
func (c *Conn) traceRecovery(lost bool) {
	t := c.tracer
	if t == nil {
		return
	}
	if t.MetricsUpdated != nil {
		m := &c.trace.metrics
		*m = Metrics{
			PTOCount:           uint64(c.loss.PTOCount()),
			CongestionWindow:   c.cc.CongestionWindow(),
			BytesInFlight:      c.cc.BytesInFlight(),
			SlowStartThreshold: c.cc.SlowStartThreshold(),
			PacingRate:         c.cc.PacingRate(),
		}
		if m.SlowStartThreshold >= congestion.MaxWindow {
			m.SlowStartThreshold = -1
		}
		if c.rtt.HasSample() {
			m.MinRTT, m.SmoothedRTT, m.LatestRTT, m.RTTVariance = c.rtt.MinRTT(), c.rtt.SmoothedRTT(), c.rtt.LatestRTT(), c.rtt.RTTVar()
		}
		m.BBR, _ = c.bbrStats()
		t.MetricsUpdated(m)
	}
	if state := c.congestionState(); state != c.trace.congestionState {
		if t.CongestionStateUpdated != nil {
			trigger := ""
			if lost {
				trigger = "packet_lost"
			}
			t.CongestionStateUpdated(c.trace.congestionState, state, trigger)
		}
		c.trace.congestionState = state
	}
}

// traceKeyPhases reports 1-RTT key updates (RFC 9001 §6) as qlog's
// key_updated: who started each (local_update, remote_update) and the
// generation, the key_phase whose low bit is the header's Key Phase.
func (c *Conn) traceKeyPhases() {
	k, s := &c.keys1RTT, c.trace
	t := c.tracer
	if k.readPhase != s.readPhase {
		s.readPhase = k.readPhase
		s.readGen++
		// Our update if we started it: our write keys moved first.
		trigger := "remote_update"
		if s.writeGen >= s.readGen {
			trigger = "local_update"
		}
		if t.KeyUpdated != nil {
			t.KeyUpdated(c.keyTypeName(tls13.LevelApplication, false), s.readGen, trigger)
		}
	}
	if k.writePhase != s.writePhase {
		s.writePhase = k.writePhase
		s.writeGen++
		// The answer to the peer's update if it moved first.
		trigger := "local_update"
		if s.readGen >= s.writeGen {
			trigger = "remote_update"
		}
		if t.KeyUpdated != nil {
			t.KeyUpdated(c.keyTypeName(tls13.LevelApplication, true), s.writeGen, trigger)
		}
	}
}

// traceKeysInstalled reports keys TLS made (qlog's key_updated, trigger
// "tls").
func (c *Conn) traceKeysInstalled(write bool, level tls13.Level) {
	if t := c.tracer; t != nil && t.KeyUpdated != nil {
		t.KeyUpdated(c.keyTypeName(level, write), 0, "tls")
	}
}

// traceKeysDiscarded reports the keys of a discarded space (qlog's
// key_discarded, RFC 9001 §4.9).
func (c *Conn) traceKeysDiscarded(space recovery.Space) {
	t := c.tracer
	if t == nil || t.KeyDiscarded == nil {
		return
	}
	level := tls13.LevelInitial
	if space == recovery.SpaceHandshake {
		level = tls13.LevelHandshake
	}
	t.KeyDiscarded(c.keyTypeName(level, false), 0, "tls")
	t.KeyDiscarded(c.keyTypeName(level, true), 0, "tls")
}

// keyTypeNames are qlog's KeyType names (draft-13 §8.11) by level, client
// first.
var keyTypeNames = [...][2]string{
	tls13.LevelInitial:     {"client_initial_secret", "server_initial_secret"},
	tls13.LevelEarly:       {"client_0rtt_secret", "server_0rtt_secret"},
	tls13.LevelHandshake:   {"client_handshake_secret", "server_handshake_secret"},
	tls13.LevelApplication: {"client_1rtt_secret", "server_1rtt_secret"},
}

// keyTypeName names the keys of a level in one direction: ours when
// write, the peer's otherwise.
func (c *Conn) keyTypeName(level tls13.Level, write bool) string {
	if int(level) >= len(keyTypeNames) {
		return "unknown"
	}
	if write == c.isClient {
		return keyTypeNames[level][0]
	}
	return keyTypeNames[level][1]
}

// Stream sides and states as qlog's stream_state_updated names them
// (draft-13 §5.13).
const (
	sideSending   = "sending"
	sideReceiving = "receiving"
)

// traceStream reports a change of one part of a stream: "open", "closed"
// (both parts done, the stream forgotten), "reset_sent",
// "reset_received"; trigger is "local" or "remote", or "" when there is
// only one way.
func (c *Conn) traceStream(s *Stream, side, state, trigger string) {
	if t := c.tracer; t != nil && t.StreamStateUpdated != nil {
		t.StreamStateUpdated(s.id, side, state, trigger)
	}
}

// traceStreamParts reports the same state for each part s has.
func (c *Conn) traceStreamParts(s *Stream, state, trigger string) {
	if c.tracer == nil {
		return
	}
	if s.hasSend {
		c.traceStream(s, sideSending, state, trigger)
	}
	if s.hasRecv {
		c.traceStream(s, sideReceiving, state, trigger)
	}
}
