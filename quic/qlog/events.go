package qlog

import (
	"strings"
	"time"

	"github.com/skiffnet/skiff/quic"
)

// The debugging events of quic-events draft-13 beyond packets, handshake
// and close: losses, recovery metrics and congestion state (§7), keys
// (§6), streams (§5.13) and connection IDs (§4.4).

// Event names (draft-13 §3, Table 1).
const (
	eventPacketLost             = "quic:packet_lost"
	eventCongestionStateUpdated = "quic:congestion_state_updated"
	eventKeyUpdated             = "quic:key_updated"
	eventKeyDiscarded           = "quic:key_discarded"
	eventStreamStateUpdated     = "quic:stream_state_updated"
	eventConnectionIDUpdated    = "quic:connection_id_updated"
)

// packetInfo logs packet_sent or packet_received (§5.5, §5.6) with the
// packet's frames (§8.13), its size as raw.length, the datagram it came
// in as datagram_id (§9) and, for a probe, trigger "pto_probe".
func (s *seqWriter) packetInfo(name string, p *quic.PacketInfo) {
	if s.done || s.err != nil {
		return
	}
	b := s.beginEvent(time.Now(), name)
	b = appendHeader(b, p.Type, p.Number)
	b = s.appendFrames(b, p.Payload, p.AckDelayExponent)
	b = append(b, `,"raw":{`...)
	b = appendUintField(b, "length", uint64(max(p.Size, 0)), true)
	b = append(b, '}')
	b = appendUintField(b, "datagram_id", uint64(uint32(p.Datagram)), false)
	if p.MTUProbe {
		b = append(b, `,"is_mtu_probe_packet":true`...)
	}
	if p.Probe {
		b = append(b, `,"trigger":"pto_probe"`...)
	}
	s.endEvent(b)
}

// appendHeader appends the PacketHeader (§8.8) of a packet: its type and
// number.
func appendHeader(b []byte, packetType string, pn uint64) []byte {
	b = append(b, `"header":{"packet_type":`...)
	b = appendPacketType(b, packetType)
	b = appendUintField(b, "packet_number", pn, false)
	return append(b, '}')
}

// packetLost logs packet_lost (§7.4) with its trigger.
func (s *seqWriter) packetLost(p quic.PacketInfo, trigger string) {
	if s.done || s.err != nil {
		return
	}
	b := s.beginEvent(time.Now(), eventPacketLost)
	b = appendHeader(b, p.Type, p.Number)
	if p.MTUProbe {
		b = append(b, `,"is_mtu_probe_packet":true`...)
	}
	b = appendOptString(b, "trigger", trigger)
	s.endEvent(b)
}

// metrics logs recovery_metrics_updated (§7.2) with the metrics that
// changed since the last one, and nothing when none did (§7.2: "SHOULD
// try to log only actual updates"). pacing_rate is in bits per second.
// BBR's model (draft-ietf-ccwg-bbr: BBR.bw, BBR.max_bw, BBR.min_rtt,
// the inflight bounds, C.send_quantum) goes in extension fields, which
// §7.2 allows; BBR's state is congestion_state_updated's.
func (s *seqWriter) metrics(m *quic.RecoveryMetrics) {
	if s.done || s.err != nil {
		return
	}
	old := &s.lastMetrics
	first := !s.hasMetrics
	b := s.beginEvent(time.Now(), eventRecoveryMetricsUpdated)
	start := len(b)
	if m.SmoothedRTT > 0 {
		b = appendChangedMillis(b, "min_rtt", m.MinRTT, old.MinRTT, first, start)
		b = appendChangedMillis(b, "smoothed_rtt", m.SmoothedRTT, old.SmoothedRTT, first, start)
		b = appendChangedMillis(b, "latest_rtt", m.LatestRTT, old.LatestRTT, first, start)
		b = appendChangedMillis(b, "rtt_variance", m.RTTVariance, old.RTTVariance, first, start)
	}
	b = appendChangedUint(b, "pto_count", m.PTOCount, old.PTOCount, first, start)
	b = appendChangedUint(b, "congestion_window", uint64(max(m.CongestionWindow, 0)), uint64(max(old.CongestionWindow, 0)), first, start)
	b = appendChangedUint(b, "bytes_in_flight", uint64(max(m.BytesInFlight, 0)), uint64(max(old.BytesInFlight, 0)), first, start)
	if m.SlowStartThreshold >= 0 {
		b = appendChangedUint(b, "ssthresh", uint64(m.SlowStartThreshold), uint64(max(old.SlowStartThreshold, 0)), first || old.SlowStartThreshold < 0, start)
	}
	b = appendChangedUint(b, "pacing_rate", m.PacingRate*8, old.PacingRate*8, first, start)
	if bbr, was := &m.BBR, &old.BBR; bbr.CongestionWindow > 0 {
		b = appendChangedUint(b, "bbr_bw", bbr.Bandwidth*8, was.Bandwidth*8, first, start)
		b = appendChangedUint(b, "bbr_max_bw", bbr.MaxBandwidth*8, was.MaxBandwidth*8, first, start)
		b = appendChangedMillis(b, "bbr_min_rtt", bbr.MinRTT, was.MinRTT, first, start)
		b = appendChangedUint(b, "bbr_send_quantum", uint64(bbr.SendQuantum), uint64(was.SendQuantum), first, start)
		if bbr.InflightLongterm >= 0 {
			b = appendChangedUint(b, "bbr_inflight_longterm", uint64(bbr.InflightLongterm), uint64(max(was.InflightLongterm, 0)), first || was.InflightLongterm < 0, start)
		}
		if bbr.InflightShortterm >= 0 {
			b = appendChangedUint(b, "bbr_inflight_shortterm", uint64(bbr.InflightShortterm), uint64(max(was.InflightShortterm, 0)), first || was.InflightShortterm < 0, start)
		}
	}
	s.lastMetrics, s.hasMetrics = *m, true
	if len(b) == start {
		s.buf = b // nothing changed: no event
		return
	}
	s.endEvent(b)
}

// appendChangedUint appends `"name":v` if v differs from old or all is
// set, with a comma unless it is the first member after start.
func appendChangedUint(b []byte, name string, v, old uint64, all bool, start int) []byte {
	if v == old && !all {
		return b
	}
	return appendUintField(b, name, v, len(b) == start)
}

// appendChangedMillis is appendChangedUint for a time in milliseconds.
func appendChangedMillis(b []byte, name string, v, old time.Duration, all bool, start int) []byte {
	if v == old && !all {
		return b
	}
	if len(b) > start {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":`...)
	return appendMillis(b, v)
}

// congestionState logs congestion_state_updated (§7.3).
func (s *seqWriter) congestionState(old, state, trigger string) {
	if s.done || s.err != nil {
		return
	}
	b := s.beginEvent(time.Now(), eventCongestionStateUpdated)
	b = append(b, `"new":`...)
	b = appendString(b, state)
	b = appendOptString(b, "old", old)
	b = appendOptString(b, "trigger", trigger)
	s.endEvent(b)
}

// key logs key_updated or key_discarded (§6.1, §6.2). key_phase is
// given for 1-RTT keys, the only ones that have phases.
func (s *seqWriter) key(name, keyType string, phase uint64, trigger string) {
	if s.done || s.err != nil {
		return
	}
	b := s.beginEvent(time.Now(), name)
	b = append(b, `"key_type":`...)
	b = appendString(b, keyType)
	if strings.HasSuffix(keyType, "_1rtt_secret") {
		b = appendUintField(b, "key_phase", phase, false)
	}
	b = appendOptString(b, "trigger", trigger)
	s.endEvent(b)
}

// streamState logs stream_state_updated (§5.13); the stream type comes
// from the ID (RFC 9000 §2.1).
func (s *seqWriter) streamState(id uint64, side, state, trigger string) {
	if s.done || s.err != nil {
		return
	}
	b := s.beginEvent(time.Now(), eventStreamStateUpdated)
	b = appendUintField(b, "stream_id", id, true)
	if id&2 != 0 {
		b = append(b, `,"stream_type":"unidirectional"`...)
	} else {
		b = append(b, `,"stream_type":"bidirectional"`...)
	}
	b = append(b, `,"new":`...)
	b = appendString(b, state)
	b = append(b, `,"stream_side":`...)
	b = appendString(b, side)
	b = appendOptString(b, "trigger", trigger)
	s.endEvent(b)
}

// connectionID logs connection_id_updated (§4.4).
func (s *seqWriter) connectionID(initiator string, old, id []byte) {
	if s.done || s.err != nil {
		return
	}
	b := s.beginEvent(time.Now(), eventConnectionIDUpdated)
	b = append(b, `"initiator":`...)
	b = appendString(b, initiator)
	if len(old) > 0 {
		b = appendHexField(b, "old", old)
	}
	b = appendHexField(b, "new", id)
	s.endEvent(b)
}

// appendOptString appends `,"name":"v"` unless v is empty.
func appendOptString(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return appendString(b, v)
}
