package qlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic"
)

// parseSeq splits a JSON-SEQ stream into its records (RFC 7464 §2.2: each
// starts with RS and ends with LF) and decodes each one.
func parseSeq(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	if len(data) == 0 || data[0] != recordSeparator {
		t.Fatalf("stream does not start with RS: %q", data)
	}
	var recs []map[string]any
	for i, raw := range bytes.Split(data[1:], []byte{recordSeparator}) {
		if !bytes.HasSuffix(raw, []byte("\n")) {
			t.Fatalf("record %d does not end with LF: %q", i, raw)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("record %d %q: %v", i, raw, err)
		}
		recs = append(recs, m)
	}
	return recs
}

// field walks nested objects: field(m, "trace", "vantage_point", "type").
func field(t *testing.T, m map[string]any, path ...string) any {
	t.Helper()
	var v any = m
	for _, p := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v: %q is not in an object (%v)", path, p, v)
		}
		if v, ok = obj[p]; !ok {
			t.Fatalf("%v: no %q in %v", path, p, obj)
		}
	}
	return v
}

func TestHeaderRecord(t *testing.T) {
	for _, isClient := range []bool{true, false} {
		var buf bytes.Buffer
		tr := NewTracer(&buf, isClient, []byte{0xde, 0xad, 0xbe, 0xef})
		tr.Closed(quic.Stats{})
		recs := parseSeq(t, buf.Bytes())
		h := recs[0]
		// Main schema draft-14 §3: these two belong in the first 256 bytes.
		if i := bytes.Index(buf.Bytes(), []byte(serializationFormat)); i < 0 || i > 256 {
			t.Errorf("serialization_format at byte %d", i)
		}
		role := "server"
		if isClient {
			role = "client"
		}
		for _, c := range []struct {
			path []string
			want any
		}{
			{[]string{"file_schema"}, "urn:ietf:params:qlog:file:sequential"},
			{[]string{"serialization_format"}, "application/qlog+json-seq"},
			{[]string{"trace", "vantage_point", "type"}, role},
			{[]string{"trace", "common_fields", "group_id"}, "deadbeef"},
			{[]string{"trace", "common_fields", "time_format"}, "relative_to_epoch"},
			{[]string{"trace", "common_fields", "reference_time", "clock_type"}, "monotonic"},
			{[]string{"trace", "common_fields", "reference_time", "epoch"}, "unknown"},
		} {
			if got := field(t, h, c.path...); got != c.want {
				t.Errorf("%v = %v, want %v", c.path, got, c.want)
			}
		}
		wall := field(t, h, "trace", "common_fields", "reference_time", "wall_clock_time").(string)
		if ts, err := time.Parse(time.RFC3339, wall); err != nil || time.Since(ts) > time.Hour {
			t.Errorf("wall_clock_time %q: %v", wall, err)
		}
		schemas := field(t, h, "trace", "event_schemas").([]any)
		if len(schemas) != 1 || schemas[0] != "urn:ietf:params:qlog:events:quic-13" {
			t.Errorf("event_schemas %v", schemas)
		}
	}
}

func TestEventRecords(t *testing.T) {
	var buf bytes.Buffer
	tr := NewTracer(&buf, true, []byte{1, 2})
	sent(tr, "initial", 0, 1200)
	received(tr, "Initial", 0, 1252)
	received(tr, "Handshake", 1, 900)
	tr.HandshakeComplete()
	sent(tr, "1RTT", 7, 45)
	received(tr, "1-RTT", 1<<40, 1452)
	tr.Closed(quic.Stats{
		SmoothedRTT: 1500 * time.Microsecond, RTTVar: 250 * time.Microsecond,
		MinRTT: 1234567 * time.Nanosecond, LatestRTT: 2 * time.Millisecond,
		CongestionWindow: 14720, BytesInFlight: 45, PTOCount: 1,
		PacketsSent: 2, PacketsReceived: 3, PacketsLost: 0, PacketsAcked: 2,
		BytesSent: 1245, BytesReceived: 3604, DatagramsSent: 2, DatagramsReceived: 3,
	})
	recs := parseSeq(t, buf.Bytes())[1:]

	wantNames := []string{
		"quic:packet_sent", "quic:packet_received", "quic:packet_received",
		"quic:connection_state_updated",
		"quic:packet_sent", "quic:packet_received",
		"quic:connection_closed", "quic:recovery_metrics_updated",
	}
	if len(recs) != len(wantNames) {
		t.Fatalf("%d events, want %d: %v", len(recs), len(wantNames), recs)
	}
	last := -1.0
	for i, r := range recs {
		if r["name"] != wantNames[i] {
			t.Errorf("event %d name %v, want %s", i, r["name"], wantNames[i])
		}
		tm, ok := r["time"].(float64)
		if !ok || tm < last {
			t.Errorf("event %d time %v after %v: want a non-decreasing number", i, r["time"], last)
		}
		last = tm
	}
	packets := []struct {
		rec    int
		typ    string
		pn     float64
		length float64
	}{
		{0, "initial", 0, 1200}, {1, "initial", 0, 1252}, {2, "handshake", 1, 900},
		{4, "1RTT", 7, 45}, {5, "1RTT", 1 << 40, 1452},
	}
	for _, p := range packets {
		r := recs[p.rec]
		if got := field(t, r, "data", "header", "packet_type"); got != p.typ {
			t.Errorf("event %d packet_type %v, want %s", p.rec, got, p.typ)
		}
		if got := field(t, r, "data", "header", "packet_number"); got != p.pn {
			t.Errorf("event %d packet_number %v, want %v", p.rec, got, p.pn)
		}
		if got := field(t, r, "data", "raw", "length"); got != p.length {
			t.Errorf("event %d raw.length %v, want %v", p.rec, got, p.length)
		}
	}
	if got := field(t, recs[3], "data", "new"); got != "handshake_complete" {
		t.Errorf("state %v", got)
	}
	if got := field(t, recs[6], "data", "trigger"); got != "unspecified" {
		t.Errorf("trigger %v", got)
	}
	metrics := field(t, recs[7], "data").(map[string]any)
	for k, want := range map[string]float64{
		"smoothed_rtt": 1.5, "rtt_variance": 0.25, "min_rtt": 1.234, "latest_rtt": 2,
		"congestion_window": 14720, "bytes_in_flight": 45, "pto_count": 1,
		"packets_sent": 2, "packets_received": 3, "packets_acked": 2, "packets_lost": 0,
		"bytes_sent": 1245, "bytes_received": 3604, "datagrams_sent": 2, "datagrams_received": 3,
	} {
		if metrics[k] != want {
			t.Errorf("metrics %s = %v, want %v", k, metrics[k], want)
		}
	}
}

func TestServerHandshakeConfirmed(t *testing.T) {
	var buf bytes.Buffer
	tr := NewTracer(&buf, false, nil)
	tr.HandshakeComplete()
	recs := parseSeq(t, buf.Bytes()) // flushed by HandshakeComplete
	if len(recs) != 3 || field(t, recs[1], "data", "new") != "handshake_complete" ||
		field(t, recs[2], "data", "new") != "handshake_confirmed" {
		t.Fatalf("records %v", recs)
	}
}

func TestPacketTypeNames(t *testing.T) {
	for in, want := range map[string]string{
		"initial": `"initial"`, "Initial": `"initial"`, "handshake": `"handshake"`,
		"Handshake": `"handshake"`, "0-RTT": `"0RTT"`, "1RTT": `"1RTT"`, "1-RTT": `"1RTT"`,
		"Retry": `"retry"`, "VersionNegotiation": `"version_negotiation"`,
		"stateless_reset": `"stateless_reset"`, "weird\"one": `"weird\"one"`,
	} {
		if got := string(appendPacketType(nil, in)); got != want {
			t.Errorf("appendPacketType(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestAppendMillis(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0.000", time.Microsecond: "0.001", 1500 * time.Microsecond: "1.500",
		1234567 * time.Nanosecond: "1.234", 90 * time.Second: "90000.000", -time.Second: "0.000",
	} {
		if got := string(appendMillis(nil, d)); got != want {
			t.Errorf("appendMillis(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestAppendStringIsJSON(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "plain": "plain", "q\"b\\": "q\"b\\", "ctl\x00\x1f\n": "ctl\x00\x1f\n",
		"é€😀": "é€😀", "bad\xff\xfe utf8": "bad\ufffd\ufffd utf8",
	} {
		var got string
		if err := json.Unmarshal(appendString(nil, in), &got); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got != want {
			t.Errorf("round trip of %q = %q, want %q", in, got, want)
		}
	}
}

// TestTruncatedStream checks the property a crash relies on: whatever
// prefix of the stream reached the disk, every record but the last one
// parses.
func TestTruncatedStream(t *testing.T) {
	var buf bytes.Buffer
	tr := NewTracer(&buf, true, []byte{9})
	for pn := range uint64(5) {
		sent(tr, "1RTT", pn, 1200)
	}
	tr.Closed(quic.Stats{PacketsSent: 5})
	full := buf.Bytes()
	for cut := 1; cut <= len(full); cut++ {
		parts := bytes.Split(full[1:cut], []byte{recordSeparator})
		for i, p := range parts[:len(parts)-1] {
			if !json.Valid(p) {
				t.Fatalf("cut %d: record %d invalid: %q", cut, i, p)
			}
		}
	}
}

func TestEventsAfterClosedAreDropped(t *testing.T) {
	var buf bytes.Buffer
	tr := NewTracer(&buf, true, nil)
	tr.Closed(quic.Stats{})
	n := buf.Len()
	sent(tr, "1RTT", 1, 100)
	tr.HandshakeComplete()
	tr.Closed(quic.Stats{})
	if buf.Len() != n {
		t.Fatalf("wrote %d more bytes after Closed", buf.Len()-n)
	}
}

type failingWriter struct{ writes int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	return 0, errors.New("disk full")
}

func TestWriteErrorStopsTrace(t *testing.T) {
	w := &failingWriter{}
	tr := NewTracer(w, true, nil)
	tr.HandshakeComplete() // flush fails
	for pn := range uint64(10000) {
		sent(tr, "1RTT", pn, 1200) // would fill the buffer many times
	}
	tr.Closed(quic.Stats{})
	if w.writes != 1 {
		t.Fatalf("%d writes to a failing writer, want 1", w.writes)
	}
}

func TestDirTracerFileName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "made", "here")
	odcid := []byte{0x0a, 0xbc}
	for _, isClient := range []bool{true, false} {
		tr := DirTracer(dir)(isClient, odcid)
		if tr == nil {
			t.Fatal("no tracer")
		}
		sent(tr, "initial", 0, 1200)
		tr.Closed(quic.Stats{PacketsSent: 1})
	}
	for _, name := range []string{"0abc_client.sqlog", "0abc_server.sqlog"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if recs := parseSeq(t, data); len(recs) != 4 {
			t.Errorf("%s: %d records, want 4", name, len(recs))
		}
	}
}

func TestDirTracerUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A path under a regular file cannot be created: no tracer, no panic.
	if tr := DirTracer(filepath.Join(file, "sub"))(true, []byte{1}); tr != nil {
		t.Fatal("got a tracer for an impossible directory")
	}
}

// sent and received log a packet without frames, as a connection's hooks
// would.
func sent(tr *quic.Tracer, typ string, pn uint64, size int) {
	tr.PacketSentFrames(quic.PacketInfo{Type: typ, Number: pn, Size: size})
}

func received(tr *quic.Tracer, typ string, pn uint64, size int) {
	tr.PacketReceivedFrames(quic.PacketInfo{Type: typ, Number: pn, Size: size})
}

// TestPacketEventAllocs guards the per-packet path: logging a packet
// must not allocate.
func TestPacketEventAllocs(t *testing.T) {
	tr := NewTracer(discard{}, true, []byte{1, 2, 3, 4})
	pn := uint64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		sent(tr, "1RTT", pn, 1452)
		received(tr, "1-RTT", pn, 1452)
		pn++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet pair, want 0", allocs)
	}
}

// discard is io.Discard without its ReadFrom, so that bufio really copies.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkPacketSent(b *testing.B) {
	tr := NewTracer(discard{}, true, []byte{1, 2, 3, 4})
	b.ReportAllocs()
	pn := uint64(0)
	for b.Loop() {
		sent(tr, "1RTT", pn, 1452)
		pn++
	}
}
