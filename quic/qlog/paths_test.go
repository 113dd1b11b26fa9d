package qlog

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/skiffnet/skiff/quic"
)

// Path events: migration_state_updated with the tuple's addresses, and
// mtu_updated, as valid JSON with the draft's field names.
func TestPathEvents(t *testing.T) {
	var buf bytes.Buffer
	tr := NewTracer(&buf, true, []byte{1})
	tr.MigrationState("probing_started", netip.MustParseAddrPort("127.0.0.2:5000"), netip.MustParseAddrPort("[2001:db8::1]:443"))
	tr.MTUUpdated(1200, 1452, false)
	tr.MTUUpdated(1452, 8960, true)
	tr.Closed(quic.Stats{}) // flushes
	recs := parseSeq(t, buf.Bytes())[1:]
	if len(recs) != 5 {
		t.Fatalf("%d events: %v", len(recs), recs)
	}
	m := recs[0]
	if m["name"] != "quic:migration_state_updated" || field(t, m, "data", "new") != "probing_started" ||
		field(t, m, "data", "tuple_local", "ip_v4") != "127.0.0.2" || field(t, m, "data", "tuple_local", "port_v4") != 5000.0 ||
		field(t, m, "data", "tuple_remote", "ip_v6") != "2001:db8::1" || field(t, m, "data", "tuple_remote", "port_v6") != 443.0 {
		t.Errorf("migration event %v", m)
	}
	if m := recs[1]; m["name"] != "quic:mtu_updated" || field(t, m, "data", "old") != 1200.0 || field(t, m, "data", "new") != 1452.0 {
		t.Errorf("mtu event %v", m)
	}
	if done := field(t, recs[2], "data", "done"); done != true {
		t.Errorf("done %v", done)
	}
}
