package qlog

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// everyFrame is a payload with one frame of each type skiff sends or
// receives, and a run of padding.
func everyFrame(t testing.TB) []byte {
	t.Helper()
	cid, err := wire.MakeConnectionID([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	b = append(b, byte(wire.FrameTypePing))
	ack := wire.AckFrame{Ranges: []wire.AckRange{{Smallest: 10, Largest: 12}, {Smallest: 5, Largest: 5}}, AckDelay: 1000, HasECN: true, ECN: wire.ECNCounts{ECT0: 7, CE: 1}}
	b = ack.Append(b)
	for _, f := range []interface{ Append([]byte) []byte }{
		&wire.CryptoFrame{Offset: 100, Data: []byte("hello")},
		&wire.StreamFrame{StreamID: 4, Offset: 1 << 20, Data: []byte("data"), Fin: true},
		&wire.ResetStreamFrame{StreamID: 8, ErrorCode: 0x10c, FinalSize: 99},
		&wire.StopSendingFrame{StreamID: 8, ErrorCode: 0x10c},
		&wire.NewTokenFrame{Token: []byte("token")},
		&wire.MaxDataFrame{MaximumData: 1 << 30},
		&wire.MaxStreamDataFrame{StreamID: 4, MaximumStreamData: 1 << 21},
		&wire.MaxStreamsFrame{Uni: true, MaximumStreams: 100},
		&wire.DataBlockedFrame{MaximumData: 1 << 30},
		&wire.StreamDataBlockedFrame{StreamID: 4, MaximumStreamData: 1 << 21},
		&wire.StreamsBlockedFrame{MaximumStreams: 100},
		&wire.NewConnectionIDFrame{SequenceNumber: 2, RetirePriorTo: 1, ConnectionID: cid},
		&wire.RetireConnectionIDFrame{SequenceNumber: 1},
		&wire.PathChallengeFrame{Data: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}},
		&wire.PathResponseFrame{Data: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}},
		&wire.DatagramFrame{Data: []byte("dgram")},
		&wire.AckFrequencyFrame{SequenceNumber: 1, AckElicitingThreshold: 9, RequestedMaxAckDelay: 25 * time.Millisecond},
		&wire.ConnectionCloseFrame{ErrorCode: uint64(wire.FrameEncodingError), FrameType: wire.FrameTypeStream, ReasonPhrase: []byte("bad")},
		&wire.ConnectionCloseFrame{ErrorCode: 0x12a},
		&wire.ConnectionCloseFrame{Application: true, ErrorCode: 0x100, ReasonPhrase: []byte("bye")},
	} {
		b = f.Append(b)
	}
	b = append(b, byte(wire.FrameTypeHandshakeDone), byte(wire.FrameTypeImmediateAck))
	return wire.AppendPadding(b, 20)
}

// TestFrames logs a packet holding every frame and checks the frames
// against the draft's definitions, and their values.
func TestFrames(t *testing.T) {
	schema := loadSchema(t)
	var buf bytes.Buffer
	tr := NewTracer(&buf, true, []byte{1})
	tr.PacketSentFrames(quic.PacketInfo{Type: "1RTT", Number: 3, Size: 1200, Datagram: 2, Payload: everyFrame(t), AckDelayExponent: 3, Probe: true})
	tr.Closed(quic.Stats{})
	recs := parseSeq(t, buf.Bytes())[1:]
	schema.mustConform(t, recs)
	data := field(t, recs[0], "data").(map[string]any)
	if data["trigger"] != "pto_probe" || data["datagram_id"] != 2.0 {
		t.Errorf("packet_sent %v", data)
	}
	var types []string
	frames := data["frames"].([]any)
	for _, f := range frames {
		types = append(types, f.(map[string]any)["frame_type"].(string))
	}
	want := "[ping ack crypto stream reset_stream stop_sending new_token max_data max_stream_data max_streams data_blocked stream_data_blocked streams_blocked new_connection_id retire_connection_id path_challenge path_response datagram ack_frequency connection_close connection_close connection_close handshake_done immediate_ack padding]"
	if got := fmt.Sprint(types); got != want {
		t.Fatalf("frame types\n%s\nwant\n%s", got, want)
	}
	at := func(i int) string { return fmt.Sprint(frames[i]) }
	for i, w := range map[int]string{
		1:  "map[ack_delay:8 acked_ranges:[[5] [10 12]] ce:1 ect0:7 ect1:0 frame_type:ack]",
		2:  "map[frame_type:crypto offset:100 raw:map[length:5]]",
		3:  "map[fin:true frame_type:stream offset:1.048576e+06 raw:map[length:4] stream_id:4]",
		4:  "map[error:unknown error_code:268 final_size:99 frame_type:reset_stream stream_id:8]",
		9:  "map[frame_type:max_streams maximum:100 stream_type:unidirectional]",
		13: "map[connection_id:0102030405060708 connection_id_length:8 frame_type:new_connection_id retire_prior_to:1 sequence_number:2 stateless_reset_token:00000000000000000000000000000000]",
		19: "map[error:frame_encoding_error error_space:transport frame_type:connection_close reason:bad trigger_frame_type:8]",
		20: "map[error:crypto_error_0x12a error_space:transport frame_type:connection_close trigger_frame_type:0]",
		21: "map[error:unknown error_code:256 error_space:application frame_type:connection_close reason:bye]",
		24: "map[frame_type:padding raw:map[payload_length:20]]",
	} {
		if at(i) != w {
			t.Errorf("frame %d: %s\nwant %s", i, at(i), w)
		}
	}
}

// TestEventsAgainstDraft logs one of each event and checks them against
// the draft's definitions and the values they carry.
func TestEventsAgainstDraft(t *testing.T) {
	schema := loadSchema(t)
	var buf bytes.Buffer
	tr := NewTracer(&buf, false, []byte{1})
	tr.PacketLost(quic.PacketInfo{Type: "1RTT", Number: 7}, "time_threshold")
	tr.PacketLost(quic.PacketInfo{Type: "1RTT", Number: 9, MTUProbe: true}, "reordering_threshold")
	m := quic.RecoveryMetrics{MinRTT: 20 * time.Millisecond, SmoothedRTT: 25 * time.Millisecond, LatestRTT: 30 * time.Millisecond,
		RTTVariance: 5 * time.Millisecond, CongestionWindow: 14720, BytesInFlight: 1200, SlowStartThreshold: -1, PacingRate: 1e6}
	tr.MetricsUpdated(&m)
	tr.MetricsUpdated(&m) // unchanged: no event
	m.BytesInFlight, m.CongestionWindow = 2400, 20000
	m.BBR = congestion.BBRStats{State: congestion.BBRStartup, Bandwidth: 1e6, MaxBandwidth: 1e6, MinRTT: 20 * time.Millisecond,
		CongestionWindow: 20000, SendQuantum: 2400, InflightLongterm: -1, InflightShortterm: -1}
	tr.MetricsUpdated(&m)
	tr.CongestionStateUpdated("", "slow_start", "")
	tr.CongestionStateUpdated("slow_start", "recovery", "packet_lost")
	tr.KeyUpdated("server_handshake_secret", 0, "tls")
	tr.KeyUpdated("client_1rtt_secret", 1, "remote_update")
	tr.KeyDiscarded("client_initial_secret", 0, "tls")
	tr.StreamStateUpdated(6, "receiving", "open", "remote")
	tr.StreamStateUpdated(6, "receiving", "closed", "")
	tr.ConnectionIDUpdated("remote", nil, []byte{0xab, 0xcd})
	// The path events (paths.go) conform too.
	tr.MigrationState("probing_started", netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.2:2"))
	tr.MTUUpdated(1200, 1452, true)
	tr.Closed(quic.Stats{SmoothedRTT: time.Millisecond, MinRTT: time.Millisecond})
	recs := parseSeq(t, buf.Bytes())[1:]
	if n := schema.mustConform(t, recs); n < 40 {
		t.Errorf("only %d members checked", n)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%v %v", r["name"], r["data"]))
	}
	want := []string{
		"quic:packet_lost map[header:map[packet_number:7 packet_type:1RTT] trigger:time_threshold]",
		"quic:packet_lost map[header:map[packet_number:9 packet_type:1RTT] is_mtu_probe_packet:true trigger:reordering_threshold]",
		"quic:recovery_metrics_updated map[bytes_in_flight:1200 congestion_window:14720 latest_rtt:30 min_rtt:20 pacing_rate:8e+06 pto_count:0 rtt_variance:5 smoothed_rtt:25]",
		"quic:recovery_metrics_updated map[bbr_bw:8e+06 bbr_max_bw:8e+06 bbr_min_rtt:20 bbr_send_quantum:2400 bytes_in_flight:2400 congestion_window:20000]",
		"quic:congestion_state_updated map[new:slow_start]",
		"quic:congestion_state_updated map[new:recovery old:slow_start trigger:packet_lost]",
		"quic:key_updated map[key_type:server_handshake_secret trigger:tls]",
		"quic:key_updated map[key_phase:1 key_type:client_1rtt_secret trigger:remote_update]",
		"quic:key_discarded map[key_type:client_initial_secret trigger:tls]",
		"quic:stream_state_updated map[new:open stream_id:6 stream_side:receiving stream_type:unidirectional trigger:remote]",
		"quic:stream_state_updated map[new:closed stream_id:6 stream_side:receiving stream_type:unidirectional]",
		"quic:connection_id_updated map[initiator:remote new:abcd]",
	}
	for i, w := range want {
		if i >= len(got) || got[i] != w {
			t.Fatalf("event %d:\n%v\nwant\n%s", i, got[i:], w)
		}
	}
}

// TestFrameEventAllocs: logging packets with frames, losses and metrics
// allocates nothing once the buffers have grown.
func TestFrameEventAllocs(t *testing.T) {
	tr := NewTracer(discard{}, true, []byte{1, 2, 3, 4})
	payload := everyFrame(t)
	m := quic.RecoveryMetrics{SmoothedRTT: time.Millisecond, CongestionWindow: 14720}
	pn := uint64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		tr.PacketSentFrames(quic.PacketInfo{Type: "1RTT", Number: pn, Size: 1452, Payload: payload, AckDelayExponent: 3})
		tr.PacketReceivedFrames(quic.PacketInfo{Type: "1RTT", Number: pn, Size: 1452, Payload: payload})
		tr.PacketLost(quic.PacketInfo{Type: "1RTT", Number: pn}, "time_threshold")
		m.BytesInFlight = int(pn)
		tr.MetricsUpdated(&m)
		tr.CongestionStateUpdated("slow_start", "recovery", "packet_lost")
		pn++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per round of events, want 0", allocs)
	}
}
