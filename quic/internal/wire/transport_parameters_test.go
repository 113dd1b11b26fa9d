package wire

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func fullServerParameters(t testing.TB) TransportParameters {
	odcid, iscid, rscid := mustCID(t, "original"), mustCID(t, "server-initial"), mustCID(t, "retry-scid")
	p := DefaultTransportParameters()
	p.OriginalDestinationConnectionID = &odcid
	p.MaxIdleTimeout = 30 * time.Second
	p.StatelessResetToken = &[16]byte{0: 1, 15: 2}
	p.MaxUDPPayloadSize = 1452
	p.InitialMaxData = 1 << 24
	p.InitialMaxStreamDataBidiLocal = 1 << 20
	p.InitialMaxStreamDataBidiRemote = 1 << 21
	p.InitialMaxStreamDataUni = 1 << 19
	p.InitialMaxStreamsBidi = 100
	p.InitialMaxStreamsUni = MaxStreamCount
	p.AckDelayExponent = 0
	p.MaxAckDelay = MaxMaxAckDelay
	p.DisableActiveMigration = true
	p.PreferredAddress = &PreferredAddress{
		IPv4:                netip.MustParseAddrPort("192.0.2.1:443"),
		IPv6:                netip.MustParseAddrPort("[2001:db8::1]:8443"),
		ConnectionID:        mustCID(t, "preferred"),
		StatelessResetToken: [16]byte{9, 9, 9},
	}
	p.ActiveConnectionIDLimit = 8
	p.InitialSourceConnectionID = &iscid
	p.RetrySourceConnectionID = &rscid
	p.MaxDatagramFrameSize = 1200
	p.VersionInformation = &VersionInformation{ChosenVersion: Version1, AvailableVersions: []Version{Version2, Version1}}
	p.GreaseQUICBit = true
	p.MinAckDelay, p.HasMinAckDelay = 1000*time.Microsecond, true
	return p
}

func TestTransportParametersRoundTrip(t *testing.T) {
	server := fullServerParameters(t)
	empty := mustCID(t, "")
	client := DefaultTransportParameters()
	client.InitialSourceConnectionID = &empty
	client.InitialMaxData = 1000
	client.VersionInformation = &VersionInformation{ChosenVersion: Version2, AvailableVersions: []Version{Version2, 0x1a2a3a4a}}
	onlyV4 := fullServerParameters(t)
	onlyV4.PreferredAddress.IPv6 = netip.AddrPort{}
	for _, c := range []struct {
		name   string
		p      TransportParameters
		sender Role
	}{
		{"server", server, RoleServer},
		{"client", client, RoleClient},
		{"server IPv4 only", onlyV4, RoleServer},
	} {
		for _, grease := range []uint64{0, 1, 0xdeadbeefcafe} {
			enc := c.p.Append(nil, grease)
			got, err := ParseTransportParameters(enc, c.sender)
			if err != nil {
				t.Fatalf("%s grease %#x: %v (%x)", c.name, grease, err, enc)
			}
			if !reflect.DeepEqual(got, c.p) {
				t.Errorf("%s: round trip\n in  %+v\n out %+v", c.name, c.p, got)
			}
		}
	}
	// Defaults are left out, and restored on parse.
	enc := DefaultTransportParameters()
	enc.InitialSourceConnectionID = &empty
	if b := enc.Append(nil, 0); len(b) != 2 {
		t.Errorf("default parameters encode as %x, want only initial_source_connection_id", b)
	}
	got, _ := ParseTransportParameters(client.Append(nil, 0), RoleClient)
	if got.MaxUDPPayloadSize != 65527 || got.AckDelayExponent != 3 || got.MaxAckDelay != 25*time.Millisecond || got.ActiveConnectionIDLimit != 2 {
		t.Errorf("defaults not applied: %+v", got)
	}
}

// Each parameter appears in the encoding of fullServerParameters under its
// RFC identifier.
func TestTransportParameterIDs(t *testing.T) {
	p := fullServerParameters(t)
	enc := p.Append(nil, 0)
	ids := map[uint64]bool{}
	for b := enc; len(b) > 0; {
		id, n, _ := ParseVarint(b)
		l, m, _ := ParseVarint(b[n:])
		ids[id] = true
		b = b[n+m+int(l):]
	}
	for _, id := range []uint64{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
		0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x20, 0x2ab2, 0xff04de1b} {
		if !ids[id] {
			t.Errorf("parameter %#x missing", id)
		}
	}
	// A greased parameter has an identifier 31*N+27 (RFC 9000 §18.1).
	g := p.Append(nil, 42)
	id, _, _ := ParseVarint(g)
	if id%31 != 27 {
		t.Errorf("grease identifier %#x", id)
	}
}

func TestTransportParametersInvalid(t *testing.T) {
	param := func(id uint64, val []byte) []byte {
		return appendBytesParameter(nil, id, val)
	}
	intParam := func(id, v uint64) []byte { return appendBytesParameter(nil, id, AppendVarint(nil, v)) }
	iscid := param(tpInitialSourceConnectionID, []byte("cid"))
	odcid := param(tpOriginalDestinationConnectionID, []byte("odcid"))
	server := func(parts ...[]byte) []byte { return bytes.Join(append([][]byte{iscid, odcid}, parts...), nil) }
	client := func(parts ...[]byte) []byte { return bytes.Join(append([][]byte{iscid}, parts...), nil) }
	pa := func(cidLen int, extra int) []byte {
		v := make([]byte, 24)
		v = append(v, byte(cidLen))
		v = append(v, make([]byte, cidLen+16+extra)...)
		return param(tpPreferredAddress, v)
	}
	for _, c := range []struct {
		name   string
		b      []byte
		sender Role
	}{
		// h3spec cases 3-10 and RFC 9000 §18.2.
		{"missing initial_source_connection_id", param(tpMaxIdleTimeout, []byte{1}), RoleClient},
		{"missing original_destination_connection_id from server", iscid, RoleServer},
		{"original_destination_connection_id from client", client(odcid), RoleClient},
		{"preferred_address from client", client(pa(4, 0)), RoleClient},
		{"retry_source_connection_id from client", client(param(tpRetrySourceConnectionID, []byte("r"))), RoleClient},
		{"stateless_reset_token from client", client(param(tpStatelessResetToken, make([]byte, 16))), RoleClient},
		{"max_udp_payload_size 1199", client(intParam(tpMaxUDPPayloadSize, 1199)), RoleClient},
		{"ack_delay_exponent 21", client(intParam(tpAckDelayExponent, 21)), RoleClient},
		{"max_ack_delay 2^14", client(intParam(tpMaxAckDelay, 1<<14)), RoleClient},
		{"active_connection_id_limit 1", client(intParam(tpActiveConnectionIDLimit, 1)), RoleClient},
		{"initial_max_streams_bidi 2^60+1", client(intParam(tpInitialMaxStreamsBidi, 1<<60+1)), RoleClient},
		{"initial_max_streams_uni 2^60+1", client(intParam(tpInitialMaxStreamsUni, 1<<60+1)), RoleClient},
		{"duplicate parameter", client(intParam(tpInitialMaxData, 1), intParam(tpInitialMaxData, 1)), RoleClient},
		{"duplicate grease_quic_bit", client(param(tpGreaseQUICBit, nil), param(tpGreaseQUICBit, nil)), RoleClient},
		// draft-ietf-quic-ack-frequency-14 §3.
		{"min_ack_delay above max_ack_delay", client(intParam(tpMinAckDelay, 25001)), RoleClient},
		{"min_ack_delay above its own max_ack_delay", client(intParam(tpMaxAckDelay, 5), intParam(tpMinAckDelay, 5001)), RoleClient},
		{"min_ack_delay 2^14 ms", client(intParam(tpMaxAckDelay, 1<<14-1), intParam(tpMinAckDelay, 1<<14*1000)), RoleClient},
		{"duplicate min_ack_delay", client(intParam(tpMinAckDelay, 1), intParam(tpMinAckDelay, 1)), RoleClient},
		{"integer with trailing byte", client(param(tpInitialMaxData, []byte{1, 2})), RoleClient},
		{"integer truncated", client(param(tpInitialMaxData, []byte{0x41})), RoleClient},
		{"integer empty", client(param(tpInitialMaxData, nil)), RoleClient},
		{"stateless_reset_token 15 bytes", server(param(tpStatelessResetToken, make([]byte, 15))), RoleServer},
		{"stateless_reset_token 17 bytes", server(param(tpStatelessResetToken, make([]byte, 17))), RoleServer},
		{"disable_active_migration with value", client(param(tpDisableActiveMigration, []byte{0})), RoleClient},
		{"grease_quic_bit with value", client(param(tpGreaseQUICBit, []byte{1})), RoleClient},
		{"21-byte connection ID", server(param(tpRetrySourceConnectionID, make([]byte, 21))), RoleServer},
		{"preferred_address empty CID", server(pa(0, 0)), RoleServer},
		{"preferred_address 21-byte CID", server(pa(21, 0)), RoleServer},
		{"preferred_address too long", server(pa(4, 1)), RoleServer},
		{"preferred_address truncated", server(param(tpPreferredAddress, make([]byte, 20))), RoleServer},
		{"preferred_address with zero-length CIDs", bytes.Join([][]byte{param(tpInitialSourceConnectionID, nil), odcid, pa(4, 0)}, nil), RoleServer},
		{"version_information empty", client(param(tpVersionInformation, nil)), RoleClient},
		{"version_information odd length", client(param(tpVersionInformation, []byte{0, 0, 0, 1, 0})), RoleClient},
		{"version_information chosen 0", server(param(tpVersionInformation, []byte{0, 0, 0, 0})), RoleServer},
		{"version_information available 0", server(param(tpVersionInformation, []byte{0, 0, 0, 1, 0, 0, 0, 0})), RoleServer},
		{"version_information chosen not available from client", client(param(tpVersionInformation, []byte{0, 0, 0, 1, 0x6b, 0x33, 0x43, 0xcf})), RoleClient},
		{"truncated parameter ID", client([]byte{0x40}), RoleClient},
		{"length beyond input", client([]byte{0x04, 0x05, 0x01}), RoleClient},
	} {
		_, err := ParseTransportParameters(c.b, c.sender)
		var te *TransportError
		if !errors.As(err, &te) || te.Code != TransportParameterError {
			t.Errorf("%s: error %v, want TRANSPORT_PARAMETER_ERROR", c.name, err)
		}
	}
	// Unknown and reserved parameters are ignored (RFC 9000 §7.4.2), even
	// twice, and a server may send version_information without its chosen
	// version among the available ones (RFC 9368 §3).
	ok := server(param(0x1b, []byte("x")), param(0x1b, nil), param(0x7fff, []byte{1, 2, 3}),
		param(tpVersionInformation, []byte{0, 0, 0, 1}))
	if _, err := ParseTransportParameters(ok, RoleServer); err != nil {
		t.Errorf("unknown parameters: %v", err)
	}
	// min_ack_delay equal to max_ack_delay, or 0, is fine.
	for _, v := range []uint64{25000, 0} {
		p, err := ParseTransportParameters(client(intParam(tpMinAckDelay, v)), RoleClient)
		if err != nil || !p.HasMinAckDelay || p.MinAckDelay != time.Duration(v)*time.Microsecond {
			t.Errorf("min_ack_delay %d µs: %+v, %v", v, p.MinAckDelay, err)
		}
	}
	// A huge max_idle_timeout saturates instead of wrapping.
	p, err := ParseTransportParameters(client(intParam(tpMaxIdleTimeout, MaxVarint)), RoleClient)
	if err != nil || p.MaxIdleTimeout <= 0 {
		t.Errorf("huge max_idle_timeout: %v, %v", p.MaxIdleTimeout, err)
	}
}
