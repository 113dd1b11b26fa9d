package conn

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Connection IDs of FuzzClientDatagrams, fixed so that the fuzzer can
// write packets that echo them (a Version Negotiation packet must, RFC
// 9000 §6.2) and so that seeds stay meaningful from run to run.
var (
	fuzzClientSCID = mustConnID(0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8)
	fuzzClientDCID = mustConnID(0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8)
	fuzzServerSCID = mustConnID(0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58)
)

func mustConnID(b ...byte) wire.ConnectionID {
	id, err := wire.MakeConnectionID(b)
	if err != nil {
		panic(err)
	}
	return id
}

// The kinds of input of FuzzClientDatagrams: the low three bits of the
// mode byte.
const (
	clientFuzzRawEarly  = iota // a raw datagram once the ClientHello is out
	clientFuzzRawLate          // a raw datagram after the handshake
	clientFuzz1RTT             // frames in one 1-RTT packet
	clientFuzz1RTTMany         // frames in several 1-RTT packets
	clientFuzzInitial          // frames in Initial packets, before the ServerHello
	clientFuzzHandshake        // frames in Handshake packets, after the ServerHello
	clientFuzzParams           // the server's transport parameters
	clientFuzzRetry            // a Retry (SCID length, SCID, token), tag computed
)

// Flags of the mode byte, above the kind.
const (
	clientFuzzHeld  = 1 << 3 // datagrams with Holders (HandleDatagramHeld)
	clientFuzzReset = 1 << 6 // a raw late datagram ends in the stateless reset token
	// bits 4 and 5: where a GRO run of 1-RTT packets comes from (runSource
	// of the mode shifted right by one); for Initial and Handshake packets,
	// bit 4 coalesces them in one datagram.
	clientFuzzCoalesce = 1 << 4
	// Both sides enable DATAGRAM frames (RFC 9221).
	clientFuzzDatagrams = 1 << 7
)

// FuzzClientDatagrams is FuzzServerDatagrams for a client connection,
// whose receive paths differ: Version Negotiation and Retry, stateless
// resets, the server's Initial and Handshake CRYPTO data and transport
// parameters, HANDSHAKE_DONE, NEW_TOKEN, server-initiated streams. The
// kind of input is the low three bits of the mode byte (clientFuzz...),
// the higher bits flags. Nothing may panic, and after the input and each
// of some rounds of exchanges with a real server:
//   - the client's state stays within the protocol's limits
//     (serverWithinLimits, which holds for either side);
//   - if it closed, it did so with a transport error code of RFC 9000 §20
//     (or CRYPTO_ERROR carrying a TLS alert) that blames the peer, never
//     INTERNAL_ERROR (clientCloseValid);
//   - it reports no more NEW_TOKEN tokens than maxNewTokens;
//   - every datagram it sends parses, and one carrying an Initial is
//     padded to 1200 bytes (RFC 9000 §14.1) (checkClientDatagram);
//   - the server never finds a frame the client sent malformed;
//   - no datagram is released more often than it was held.
func FuzzClientDatagrams(f *testing.F) {
	seedFrames := [][]byte{
		{byte(wire.FrameTypePing)},
		streamFrame(1, 0, []byte("server bidi"), true),
		streamFrame(3, 0, []byte("server uni"), false),
		streamFrame(3, 1000, []byte("out of order"), false),
		streamFrame(0, 0, []byte("client bidi not opened"), false),
		streamFrame(2, 0, []byte("client uni: send-only"), false),
		streamFrame(4*99+1, 0, nil, true),
		appendFrame(&wire.ResetStreamFrame{StreamID: 1, ErrorCode: 3, FinalSize: 10}),
		appendFrame(&wire.StopSendingFrame{StreamID: 0, ErrorCode: 3}),
		appendFrame(&wire.MaxDataFrame{MaximumData: 1 << 40}),
		appendFrame(&wire.MaxStreamDataFrame{StreamID: 0, MaximumStreamData: 1 << 30}),
		appendFrame(&wire.MaxStreamsFrame{MaximumStreams: 1000}),
		appendFrame(&wire.CryptoFrame{Offset: 0, Data: tlsMessage(4, 0, 0, 0, 0, 0, 0, 0, 0, 0)}), // NewSessionTicket
		appendFrame(&wire.CryptoFrame{Offset: 1 << 20, Data: []byte{1}}),
		appendFrame(&wire.PathChallengeFrame{Data: [8]byte{1}}),
		appendFrame(&wire.PathResponseFrame{Data: [8]byte{1}}),
		appendFrame(&wire.RetireConnectionIDFrame{SequenceNumber: 1}),
		newConnectionIDFrame(4, 3, []byte{1, 2, 3, 4}),
		newConnectionIDFrame(1, 1, []byte{9, 9, 9, 9, 9, 9, 9, 9}),
		appendFrame(&wire.NewTokenFrame{Token: []byte("token")}),
		{byte(wire.FrameTypeHandshakeDone)},
		{byte(wire.FrameTypeConnectionClose), 0x0a, 0, 0},
		{byte(wire.FrameTypeConnectionClose) + 1, 0x0a, 0},
		{0x02, 0x05, 0x00, 0x00, 0x03}, // ACK
		{0x30, 3, 'a', 'b', 'c'},       // DATAGRAM, which the client did not enable
		appendFrame(&wire.AckFrequencyFrame{SequenceNumber: 1, AckElicitingThreshold: 10, RequestedMaxAckDelay: 5 * time.Millisecond, ReorderingThreshold: 3}),
		{byte(wire.FrameTypeImmediateAck)},
		{byte(wire.FrameTypePadding), 0, 0, byte(wire.FrameTypePing)},
		{byte(wire.FrameTypeAckECN), 0x05, 0x00, 0x00, 0x03, 1, 0, 0},
		{byte(wire.FrameTypeMaxStreamsUni), 0x40, 200},
		{byte(wire.FrameTypeDataBlocked), 0x44, 0},
		{byte(wire.FrameTypeStreamDataBlocked), 1, 0x44, 0},
		{byte(wire.FrameTypeStreamsBlockedBidi), 0x40, 100},
		{byte(wire.FrameTypeStreamsBlockedUni), 0x40, 100},
	}
	for _, fr := range seedFrames {
		f.Add(byte(clientFuzz1RTT), fr)
		f.Add(byte(clientFuzz1RTT|clientFuzzHeld), fr)
	}
	for _, fr := range [][]byte{
		{byte(wire.FrameTypeDatagram), 'a', 'b', 'c'},
		{byte(wire.FrameTypeDatagramLen), 3, 'a', 'b', 'c', byte(wire.FrameTypeDatagramLen), 0},
		{byte(wire.FrameTypeDatagramLen), 0x44, 0, 'a'},
	} {
		f.Add(byte(clientFuzz1RTT|clientFuzzDatagrams), fr)
	}
	// The handshake levels: the frames RFC 9000 §12.4 allows there, and
	// some it does not, which are a PROTOCOL_VIOLATION.
	ee := tlsMessage(8, eeWithParams(wire.TransportParameters{MaxUDPPayloadSize: 1200, InitialMaxData: 1000,
		InitialSourceConnectionID: &fuzzServerSCID, OriginalDestinationConnectionID: &fuzzClientDCID})...)
	for _, fr := range [][]byte{
		{byte(wire.FrameTypePing)},
		{0x02, 0x00, 0x00, 0x00, 0x00},
		appendFrame(&wire.CryptoFrame{Offset: 0, Data: tlsMessage(2, 3, 3)}), // a truncated ServerHello
		appendFrame(&wire.CryptoFrame{Offset: 0, Data: ee}),
		appendFrame(&wire.CryptoFrame{Offset: 5, Data: ee}),
		appendFrame(&wire.CryptoFrame{Offset: 0, Data: tlsMessage(20, make([]byte, 32)...)}), // Finished
		{byte(wire.FrameTypeConnectionClose), 0x0a, 0, 0},
		{byte(wire.FrameTypeHandshakeDone)},
		streamFrame(1, 0, []byte("x"), false),
		appendFrame(&wire.NewTokenFrame{Token: []byte("t")}),
	} {
		f.Add(byte(clientFuzzInitial), append([]byte{byte(len(fr))}, fr...))
		f.Add(byte(clientFuzzHandshake), append([]byte{byte(len(fr))}, fr...))
	}
	f.Add(byte(clientFuzzInitial|clientFuzzCoalesce), []byte{1, 1, 5, 0x02, 0, 0, 0, 0})
	f.Add(byte(clientFuzzHandshake|clientFuzzCoalesce), []byte{1, 1, 1, 0x1e})
	// Raw datagrams before the server answered: a Version Negotiation
	// packet echoing the client's IDs without its version, one with it, a
	// Retry without its tag, garbage with a long header.
	for _, versions := range [][]wire.Version{{0x6b3343cf, 0x1a2a3a4a}, {wire.Version1}, {0x0a0a0a0a}} {
		inv := wire.Invariants{DCID: fuzzClientDCID.Bytes(), SCID: fuzzClientSCID.Bytes()}
		vn, err := wire.AppendVersionNegotiation(nil, &inv, versions, 0x3f)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(clientFuzzRawEarly), vn)
	}
	f.Add(byte(clientFuzzRawEarly), wire.AppendRetry(nil, wire.Version1, fuzzClientSCID, fuzzServerSCID, []byte("token")))
	f.Add(byte(clientFuzzRawEarly), []byte{0xc0, 0, 0, 0, 1, 8, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0, 0, 0x40, 0x20, 1})
	// Retries whose tag the harness computes: new SCIDs, one the same as
	// the original DCID (to be ignored), an empty token (to be ignored).
	f.Add(byte(clientFuzzRetry), slices.Concat([]byte{8}, fuzzServerSCID.Bytes(), []byte("retry-token")))
	f.Add(byte(clientFuzzRetry), slices.Concat([]byte{8}, fuzzClientDCID.Bytes(), []byte("retry-token")))
	f.Add(byte(clientFuzzRetry), append([]byte{20}, make([]byte, 20)...))
	f.Add(byte(clientFuzzRetry), []byte{0, 't'})
	// Raw datagrams after the handshake: a short header with the client's
	// ID, a stateless reset (the harness writes its token), a packet of a
	// version the client does not use.
	short := slices.Concat([]byte{0x40}, fuzzClientSCID.Bytes())
	short = append(short, bytes.Repeat([]byte{0xaa}, 30)...)
	f.Add(byte(clientFuzzRawLate), short)
	f.Add(byte(clientFuzzRawLate|clientFuzzReset), bytes.Repeat([]byte{0x5a}, 40))
	f.Add(byte(clientFuzzRawLate), []byte{0xc0, 0xff, 0, 0, 0x1d, 8, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0, 0, 0x40, 0x20, 1})
	// Several 1-RTT packets, and GRO runs of them from the server's
	// address, its IPv4-mapped form and an address the client does not
	// know (RFC 9000 §9: dropped).
	run := groRunSeed(1, 3)
	for _, src := range []byte{0, 16, 32} {
		f.Add(byte(clientFuzz1RTTMany|clientFuzzHeld)|src, run)
	}
	var tokens []byte
	for i := range 6 {
		tokens = append(tokens, appendFrame(&wire.NewTokenFrame{Token: []byte{byte(i)}})...)
	}
	f.Add(byte(clientFuzz1RTT), tokens)
	f.Add(byte(clientFuzz1RTTMany), append([]byte{byte(len(seedFrames[1]))}, append(seedFrames[1], append([]byte{byte(len(seedFrames[7]))}, seedFrames[7]...)...)...))
	// The server's transport parameters, each replacing the real one of
	// its ID (RFC 9000 §18.2).
	pa := wire.PreferredAddress{IPv4: netip.MustParseAddrPort("198.18.0.9:443"), ConnectionID: mustConnID(1, 2, 3, 4, 5, 6, 7, 8)}
	for _, tp := range [][]byte{
		nil,
		eeParam(0x0d, (&wire.TransportParameters{PreferredAddress: &pa}).Append(nil, 0)),
		tpVarint(0x0e, 0), // active_connection_id_limit below 2
		tpVarint(0x0e, 1<<20),
		tpVarint(0x03, 1200), // max_udp_payload_size
		tpVarint(0x03, 1199),
		tpVarint(0x0a, 21), // ack_delay_exponent
		tpVarint(0x0b, 1<<14),
		tpVarint(0x04, 0), // initial_max_data
		tpVarint(0x08, 1<<60),
		tpVarint(0x09, 0),
		tpVarint(0x01, 1), // max_idle_timeout 1 ms
		tpVarint(0x20, 65535),
		tpRaw(0x0c, nil), // disable_active_migration
		tpRaw(0x0c, []byte{1}),
		tpRaw(0x02, make([]byte, 15)), // a short stateless_reset_token
		tpRaw(0x00, []byte{1, 2, 3}),  // a wrong original_destination_connection_id
		tpRaw(0x0f, []byte{1, 2, 3}),  // a wrong initial_source_connection_id
		tpRaw(0x10, []byte{1, 2, 3}),  // retry_source_connection_id without a Retry
		tpRaw(0x11, []byte{0, 0, 0, 1, 0, 0, 0, 2}),
		tpRaw(0xff04de1b, []byte{0x44, 0}), // min_ack_delay
		tpRaw(0x2ab2, nil),                 // grease_quic_bit
	} {
		f.Add(byte(clientFuzzParams), tp)
	}

	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		p := clientFuzzPair(t, mode&clientFuzzDatagrams != 0)
		if mode&clientFuzzHeld != 0 {
			p.held = &heldDatagrams{}
		}
		p.c2s.drop = func(_ int, b []byte) bool {
			if err := checkClientDatagram(b); err != nil {
				t.Fatal(err)
			}
			return false
		}
		c := p.client
		steps := 20
		switch mode & 7 {
		case clientFuzzRawEarly:
			// The server has not seen the ClientHello (a Version
			// Negotiation packet makes the client start again with
			// another one; otherwise it sends the first again).
			p.flushOne(c, 0, &p.c2s)
			p.c2s.queue = nil
			p.handOver(c, flight{b: bytes.Clone(data)}, serverAddr, false)
			steps = 60
		case clientFuzzRawLate:
			p.handshake()
			d := bytes.Clone(data)
			if mode&clientFuzzReset != 0 && len(d) >= 21 {
				copy(d[len(d)-16:], peerResetToken(c))
			}
			p.handOver(c, flight{b: d}, serverAddr, false)
		case clientFuzz1RTT:
			p.handshake()
			p.serverSends(recovery.SpaceAppData, data[:min(len(data), 1400)])
		case clientFuzz1RTTMany:
			p.handshake()
			packets := splitPackets(data)
			if p.held == nil {
				for _, fr := range packets {
					p.serverSends(recovery.SpaceAppData, fr)
				}
				break
			}
			var run [][]byte
			for _, fr := range packets {
				run = append(run, sealedPacket(t, p.server, recovery.SpaceAppData, fr, 0, nil, false))
			}
			if run != nil {
				p.handOverRun(c, run, runSource(mode>>1))
			}
		case clientFuzzInitial, clientFuzzHandshake:
			space := recovery.SpaceInitial
			if mode&7 == clientFuzzHandshake {
				space = recovery.SpaceHandshake
			}
			p.serverFlightHeld(space == recovery.SpaceHandshake)
			if mode&clientFuzzCoalesce == 0 {
				for _, fr := range splitPackets(data) {
					p.serverSends(space, fr)
				}
				break
			}
			// RFC 9000 §12.2: the packets coalesced in one datagram.
			var d []byte
			for _, fr := range splitPackets(data) {
				d = append(d, sealedPacket(t, p.server, space, fr, 0, nil, false)...)
			}
			if d != nil {
				p.handOver(c, flight{b: d}, serverAddr, false)
			}
		case clientFuzzParams:
			p.onServer = func(s *Conn) {
				s.tls.SetTransportParametersFunc(func(cp []byte) ([]byte, error) {
					b, err := s.negotiateVersion(cp)
					return replaceParams(b, data), err
				})
			}
			steps = 60
		case clientFuzzRetry:
			p.flushOne(c, 0, &p.c2s)
			p.c2s.queue = nil // the server answers with the Retry only
			retry := retryPacket(t, data)
			p.handOver(c, flight{b: retry}, serverAddr, false)
			// The server then knows of its Retry (RFC 9000 §7.3), so that
			// a Retry the client takes leads to a handshake.
			if c.retrySCID != nil {
				scid := *c.retrySCID
				echo := slices.Concat(tpRaw(0x00, fuzzClientDCID.Bytes()), tpRaw(0x10, scid.Bytes()))
				p.onServer = func(s *Conn) {
					s.tls.SetTransportParametersFunc(func(cp []byte) ([]byte, error) {
						b, err := s.negotiateVersion(cp)
						return replaceParams(b, echo), err
					})
				}
			}
			steps = 60
		}
		check := func() {
			t.Helper()
			if err := serverWithinLimits(c); err != nil {
				t.Fatal(err)
			}
			if err := clientCloseValid(c); err != nil {
				t.Fatal(err)
			}
			tokens := 0
			for _, ev := range p.events[0] {
				if ev.Kind == EventNewToken {
					tokens++
				}
			}
			if tokens > maxNewTokens {
				t.Fatalf("the client reported %d NEW_TOKEN tokens", tokens)
			}
			if s := p.server; s != nil {
				if r := s.closing.reason; r != nil && r.Kind == ReasonTransport && !r.Remote && TransportErrorCode(r.Code) == wire.FrameEncodingError {
					t.Fatalf("the server read a malformed frame from the client: %+v", r)
				}
			}
		}
		check()
		opened := false
		for range steps {
			if !opened && c.handshakeComplete && c.closing.state == stateOpen {
				// Some data the other way, under the limits the server
				// announced (its transport parameters, MAX_* frames).
				opened = true
				if s, ok := c.mb.OpenStream(false, nil); ok {
					p.owner(c)
					s.Write(make([]byte, 3000))
					s.CloseWrite()
				}
			}
			if !p.step() {
				break
			}
			check()
		}
		if p.held != nil {
			for i, d := range p.held.all {
				if d.refs < 0 || d.overReleased {
					t.Fatalf("datagram %d released more often than held", i)
				}
			}
		}
	})
}

// clientFuzzPair is h3specPair with the connection IDs fixed, and
// DATAGRAM frames enabled on both sides when datagrams is set.
func clientFuzzPair(t testing.TB, datagrams bool) *testPair {
	cc, sc := cheapConfigs(t)
	cc.EnableDatagrams, sc.EnableDatagrams = datagrams, datagrams
	p := &testPair{t: t, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), serverConfig: sc, serverSCID: fuzzServerSCID}
	c, err := New(p.now, cc, &Params{IsClient: true, Version: wire.Version1, DCID: fuzzClientDCID, SCID: fuzzClientSCID,
		Peer: serverAddr, ResetKey: testResetKey(), ECNCapable: true})
	if err != nil {
		t.Fatal(err)
	}
	p.client = c
	return p
}

// serverSends delivers a hand-built server packet to the client: the
// mirror of clientSends.
func (p *testPair) serverSends(space recovery.Space, frames []byte) {
	p.t.Helper()
	pkt := sealedPacket(p.t, p.server, space, frames, 0, nil, false)
	p.handOver(p.client, flight{b: pkt}, serverAddr, false)
}

// serverFlightHeld lets the client's ClientHello reach the server and
// keeps the server's answer from the client, but for its Initial packets
// (the ServerHello) when ownInitial is set: the client then has Handshake
// keys and waits for the server's Handshake flight.
func (p *testPair) serverFlightHeld(ownInitial bool) {
	p.flushOne(p.client, 0, &p.c2s)
	p.deliver()
	p.flushOne(p.server, 1, &p.s2c)
	flights := p.s2c.queue
	p.s2c.queue = nil
	if !ownInitial {
		return
	}
	for _, d := range flights {
		b := d.b
		for len(b) > 0 {
			hdr, err := wire.ParseHeader(b, ConnIDLen, false)
			if err != nil {
				p.t.Fatalf("server datagram does not parse: %v", err)
			}
			if hdr.Type == wire.PacketInitial {
				p.handOver(p.client, flight{b: bytes.Clone(b[:hdr.PacketLen])}, serverAddr, false)
			}
			b = b[hdr.PacketLen:]
		}
	}
	if p.client.spaces[recovery.SpaceHandshake].readKeys == nil {
		p.t.Fatal("the ServerHello gave the client no Handshake keys")
	}
}

// splitPackets splits fuzz input into the frames of packets: a length
// byte before each, or 0xff and two bytes of a length up to 1400, as
// much as a datagram carries.
func splitPackets(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n, at := int(data[0]), 1
		if n == 0xff && len(data) >= 3 {
			n, at = min(int(data[1])<<8|int(data[2]), 1400), 3
		}
		n = min(n, len(data)-at)
		out = append(out, data[at:at+n])
		data = data[at+n:]
	}
	return out
}

// peerResetToken is the stateless reset token the client holds for the
// connection ID it sends to (RFC 9000 §10.3), or zeros.
func peerResetToken(c *Conn) []byte {
	dcid := c.ids.peerDCID()
	for _, id := range c.ids.peer {
		if id.hasToken && id.id == dcid {
			return id.resetToken[:]
		}
	}
	return make([]byte, wire.StatelessResetTokenLen)
}

// retryPacket builds a Retry to the client from fuzz input (a length
// byte, the server's new connection ID, the token) with a valid Retry
// Integrity Tag (RFC 9001 §5.8), so that the fuzzer gets past the tag.
func retryPacket(t *testing.T, data []byte) []byte {
	if len(data) == 0 {
		data = []byte{0}
	}
	n := min(int(data[0]), len(data)-1)
	// The header is written by hand: AppendRetry takes no connection ID
	// of more than 20 bytes, which the fuzzer may ask for.
	b := []byte{0xf0 | 0x0f, 0, 0, 0, 1, byte(fuzzClientSCID.Len())}
	b = append(b, fuzzClientSCID.Bytes()...)
	b = append(b, byte(n))
	b = append(b, data[1:1+n]...)
	b = append(b, data[1+n:]...)
	tag, err := protect.RetryIntegrityTag(uint32(wire.Version1), fuzzClientDCID.Bytes(), b)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, tag[:]...)
}

// tpRaw encodes one transport parameter (RFC 9000 §18).
func tpRaw(id uint64, value []byte) []byte {
	b := wire.AppendVarint(nil, id)
	b = wire.AppendVarint(b, uint64(len(value)))
	return append(b, value...)
}

// tpVarint encodes a transport parameter holding an integer.
func tpVarint(id, v uint64) []byte { return tpRaw(id, wire.AppendVarint(nil, v)) }

// eeParam returns a parameter's encoding out of an encoding that holds
// only it, with its ID as given.
func eeParam(id uint64, encoded []byte) []byte {
	for _, e := range splitParams(encoded) {
		if e.id == id {
			return e.raw
		}
	}
	panic(fmt.Sprintf("no transport parameter %#x", id))
}

type rawParam struct {
	id  uint64
	raw []byte
}

// splitParams splits encoded transport parameters, up to where they stop
// parsing.
func splitParams(b []byte) []rawParam {
	var out []rawParam
	for len(b) > 0 {
		id, n1, err := wire.ParseVarint(b)
		if err != nil {
			break
		}
		l, n2, err := wire.ParseVarint(b[n1:])
		if err != nil || uint64(len(b)-n1-n2) < l {
			break
		}
		end := n1 + n2 + int(l)
		out = append(out, rawParam{id, b[:end]})
		b = b[end:]
	}
	return out
}

// replaceParams returns the server's encoded transport parameters with
// those of the fuzz input in place of the ones of the same IDs; the
// fuzz input goes last, as given, parsing or not.
func replaceParams(params, fuzz []byte) []byte {
	var ids []uint64
	for _, e := range splitParams(fuzz) {
		ids = append(ids, e.id)
	}
	var out []byte
	for _, e := range splitParams(params) {
		if !slices.Contains(ids, e.id) {
			out = append(out, e.raw...)
		}
	}
	return append(out, fuzz...)
}

// eeWithParams is the body of an EncryptedExtensions message holding
// only the QUIC transport parameters extension (RFC 9001 §8.2).
func eeWithParams(tp wire.TransportParameters) []byte {
	params := tp.Append(nil, 0)
	ext := []byte{0, 0x39, byte(len(params) >> 8), byte(len(params))}
	ext = append(ext, params...)
	return append([]byte{byte(len(ext) >> 8), byte(len(ext))}, ext...)
}

// clientCloseValid checks how a client closed: with a transport error of
// RFC 9000 §20.1 (or RFC 9368's VERSION_NEGOTIATION_ERROR), or
// CRYPTO_ERROR with a TLS alert (RFC 9001 §4.8), never INTERNAL_ERROR or
// the internal_error alert, which would mean that bad input from the
// server was taken for a fault of ours, and never an application close,
// which no one asked for; and the CONNECTION_CLOSE it sends says the
// same.
func clientCloseValid(c *Conn) error {
	r := c.closing.reason
	if r == nil || r.Remote {
		return nil
	}
	switch r.Kind {
	case ReasonTransport:
	case ReasonApplication, ReasonEndpointClosed:
		return fmt.Errorf("closed by no one: %+v", r)
	default:
		return nil // timeouts, stateless reset, no common version
	}
	code := TransportErrorCode(r.Code)
	alert, isAlert := code.TLSAlert()
	switch {
	case code == wire.InternalError, isAlert && alert == 80:
		return fmt.Errorf("closed with an internal error on bad input: %+v (%v)", r, r.Err)
	case code > wire.VersionNegotiationError && !isAlert:
		return fmt.Errorf("closed with %v, not a code of RFC 9000 §20: %+v", code, r)
	}
	if f := c.closing.frame; f != nil && (f.Application || f.ErrorCode != r.Code || f.FrameType != wire.FrameType(r.FrameType)) {
		return fmt.Errorf("sends CONNECTION_CLOSE %+v for %+v", f, r)
	}
	return nil
}

// checkClientDatagram checks a datagram the client sends: each packet
// coalesced in it parses (a 1-RTT packet, whose connection ID length the
// header does not give, ends the datagram), and one holding an Initial
// packet is at least 1200 bytes (RFC 9000 §14.1).
func checkClientDatagram(b []byte) error {
	size := len(b)
	for len(b) > 0 {
		if b[0]&0x80 == 0 {
			return nil
		}
		hdr, err := wire.ParseHeader(b, ConnIDLen, false)
		if err != nil {
			return fmt.Errorf("client sent a packet that does not parse: %v", err)
		}
		if hdr.Type == wire.PacketInitial && size < InitialMaxDatagramSize {
			return fmt.Errorf("client sent an Initial in a datagram of %d bytes", size)
		}
		b = b[hdr.PacketLen:]
	}
	return nil
}
