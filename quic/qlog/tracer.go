package qlog

import (
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/skiffnet/skiff/quic"
)

// Event names (quic-events draft-13 §3, Table 1).
const (
	eventPacketSent             = "quic:packet_sent"
	eventPacketReceived         = "quic:packet_received"
	eventConnectionStateUpdated = "quic:connection_state_updated"
	eventConnectionClosed       = "quic:connection_closed"
	eventRecoveryMetricsUpdated = "quic:recovery_metrics_updated"
)

const (
	writerBufferSize = 4 << 10  // NewTracer: the caller's writer may buffer too
	fileBufferSize   = 16 << 10 // DirTracer: about 150 packet records per write
)

// NewTracer returns hooks that write one connection's qlog trace to w as
// JSON-SEQ (main schema draft-14 §5, §11.2). The header record is written
// at once (into the buffer); events follow as the connection runs. Records
// are buffered and flushed when the handshake completes and when the
// connection is closed; w is never closed. Write errors stop the trace
// silently: the connection must not suffer from its log.
func NewTracer(w io.Writer, isClient bool, odcid []byte) *quic.Tracer {
	return newTracer(newSeqWriter(w, nil, writerBufferSize, time.Now()), isClient, odcid)
}

// DirTracer returns a Config.Tracer that writes each connection's trace to
// its own file in dir, named <odcid hex>_<client|server>.sqlog: the layout
// the QUIC Interop Runner expects in $QLOGDIR, and the ".sqlog" suffix of
// main schema draft-14 §11.2. Both ends of a connection share the Original
// Destination Connection ID, so the role keeps their files apart. dir is
// created if missing. A connection whose file cannot be created is not
// traced. The file is complete, flushed and closed once the Closed hook
// has returned.
//
// An empty dir gives nil, which as Config.Tracer traces nothing: so that
// qlog.DirTracer(os.Getenv("QLOGDIR")) traces only when the variable is
// set, rather than into the working directory.
func DirTracer(dir string) func(isClient bool, odcid []byte) *quic.Tracer {
	if dir == "" {
		return nil
	}
	return func(isClient bool, odcid []byte) *quic.Tracer {
		role := "_server.sqlog"
		if isClient {
			role = "_client.sqlog"
		}
		name := filepath.Join(dir, hex.EncodeToString(odcid)+role)
		f, err := os.Create(name)
		if errors.Is(err, fs.ErrNotExist) {
			if os.MkdirAll(dir, 0o755) == nil {
				f, err = os.Create(name)
			}
		}
		if err != nil {
			return nil
		}
		return newTracer(newSeqWriter(f, f, fileBufferSize, time.Now()), isClient, odcid)
	}
}

func newTracer(s *seqWriter, isClient bool, odcid []byte) *quic.Tracer {
	s.writeHeader(isClient, odcid)
	return &quic.Tracer{
		PacketSentFrames:       func(p quic.PacketInfo) { s.packetInfo(eventPacketSent, &p) },
		PacketReceivedFrames:   func(p quic.PacketInfo) { s.packetInfo(eventPacketReceived, &p) },
		PacketLost:             s.packetLost,
		MetricsUpdated:         s.metrics,
		CongestionStateUpdated: s.congestionState,
		KeyUpdated: func(keyType string, phase uint64, trigger string) {
			s.key(eventKeyUpdated, keyType, phase, trigger)
		},
		KeyDiscarded: func(keyType string, phase uint64, trigger string) {
			s.key(eventKeyDiscarded, keyType, phase, trigger)
		},
		StreamStateUpdated:  s.streamState,
		ConnectionIDUpdated: s.connectionID,
		HandshakeComplete:   func() { s.handshakeComplete(isClient) },
		Closed:              s.closed,
		MigrationState:      s.migrationState,
		MTUUpdated:          s.mtuUpdated,
	}
}

// handshakeComplete logs the connection_state_updated event (quic-events
// draft-13 §4.6) for the end of the TLS handshake (RFC 9001 §4.1.1). A
// server's handshake is also confirmed at that moment (RFC 9001 §4.1.2).
// The trace is flushed: a connection that dies later still leaves its
// handshake on disk.
func (s *seqWriter) handshakeComplete(isClient bool) {
	if s.done || s.err != nil {
		return
	}
	now := time.Now()
	b := s.beginEvent(now, eventConnectionStateUpdated)
	b = append(b, `"new":"handshake_complete"`...)
	s.endEvent(b)
	if !isClient {
		b = s.beginEvent(now, eventConnectionStateUpdated)
		b = append(b, `"old":"handshake_complete","new":"handshake_confirmed"`...)
		s.endEvent(b)
	}
	s.flush()
}

// closed logs connection_closed (quic-events draft-13 §4.3) and a final
// recovery_metrics_updated (§7.2) from the connection's Stats, then
// flushes and closes the trace. The Tracer does not say who closed the
// connection nor why, so the trigger is "unspecified". Stats counters
// that §7.2 does not name are logged as extra fields, which §7.2 allows.
func (s *seqWriter) closed(st quic.Stats) {
	if s.done {
		return
	}
	now := time.Now()
	b := s.beginEvent(now, eventConnectionClosed)
	b = append(b, `"trigger":"unspecified"`...)
	s.endEvent(b)

	b = s.beginEvent(now, eventRecoveryMetricsUpdated)
	b = append(b, `"smoothed_rtt":`...)
	b = appendMillis(b, st.SmoothedRTT)
	b = appendMillisField(b, "rtt_variance", st.RTTVar)
	if st.MinRTT > 0 {
		// No RTT sample yet: min_rtt and latest_rtt would be a made-up 0.
		b = appendMillisField(b, "min_rtt", st.MinRTT)
		b = appendMillisField(b, "latest_rtt", st.LatestRTT)
	}
	b = appendUintField(b, "pto_count", st.PTOCount, false)
	b = appendUintField(b, "congestion_window", uint64(max(st.CongestionWindow, 0)), false)
	b = appendUintField(b, "bytes_in_flight", uint64(max(st.BytesInFlight, 0)), false)
	b = appendUintField(b, "packets_sent", st.PacketsSent, false)
	b = appendUintField(b, "packets_received", st.PacketsReceived, false)
	b = appendUintField(b, "packets_lost", st.PacketsLost, false)
	b = appendUintField(b, "packets_acked", st.PacketsAcked, false)
	b = appendUintField(b, "spurious_losses", st.SpuriousLosses, false)
	b = appendUintField(b, "bytes_sent", st.BytesSent, false)
	b = appendUintField(b, "bytes_received", st.BytesReceived, false)
	b = appendUintField(b, "datagrams_sent", st.DatagramsSent, false)
	b = appendUintField(b, "datagrams_received", st.DatagramsReceived, false)
	b = appendUintField(b, "key_updates", st.KeyUpdates, false)
	s.endEvent(b)
	s.finish()
}

// appendPacketType appends the qlog PacketType (quic-events draft-13 §8.6)
// for the names package quic reports, which differ between the send path
// ("initial", "1RTT") and the receive path ("Initial", "1-RTT"). A name it
// does not know is logged as given, escaped.
func appendPacketType(b []byte, t string) []byte {
	switch t {
	case "initial", "Initial":
		return append(b, `"initial"`...)
	case "handshake", "Handshake":
		return append(b, `"handshake"`...)
	case "0RTT", "0-RTT":
		return append(b, `"0RTT"`...)
	case "1RTT", "1-RTT":
		return append(b, `"1RTT"`...)
	case "retry", "Retry":
		return append(b, `"retry"`...)
	case "version_negotiation", "VersionNegotiation":
		return append(b, `"version_negotiation"`...)
	case "stateless_reset":
		return append(b, `"stateless_reset"`...)
	}
	return appendString(b, t)
}
