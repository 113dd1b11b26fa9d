package conn

import (
	"bytes"
	"testing"

	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/streambuf"
	"github.com/skiffnet/skiff/quic/internal/testcert"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// resumableConfigs returns configurations whose client keeps sessions and
// whose server issues tickets allowing 0-RTT.
func resumableConfigs(t testing.TB) (client, server *Config) {
	c, s := testcert.Fresh(t)
	c.ClientSessionCache = tls13.NewLRUClientSessionCache(4)
	return &Config{TLS: c}, &Config{TLS: s, Allow0RTT: true}
}

// firstConnection runs a whole connection between cc and sc until the
// client has stored a session, and returns it.
func firstConnection(t *testing.T, cc, sc *Config) *tls13.ClientSession {
	t.Helper()
	p := newTestPairWith(t, cc, sc)
	p.handshake()
	if p.client.tls.ConnectionState().DidResume {
		t.Fatal("the first connection resumed")
	}
	var cs *tls13.ClientSession
	p.runUntil("client stored a session", func() bool {
		var ok bool
		cs, ok = cc.TLS.ClientSessionCache.Get(cc.TLS.ServerName)
		return ok && cs != nil
	})
	return cs
}

// sentPacketTypes returns the types of the long header packets in d,
// and whether it holds a short header packet.
func sentPacketTypes(d []byte) (types []wire.PacketType) {
	for len(d) > 0 {
		hdr, err := wire.ParseHeader(d, ConnIDLen, false)
		if err != nil {
			return types
		}
		types = append(types, hdr.Type)
		d = d[hdr.PacketLen:]
	}
	return types
}

// A server sends a ticket after the handshake; the client's next
// connection resumes with it (psk_dhe_ke): both sides say so, and the
// server sends no certificate.
func TestSessionResumption(t *testing.T) {
	cc, sc := resumableConfigs(t)
	sc.Allow0RTT = false
	cs := firstConnection(t, cc, sc)
	if cs.EarlyDataAllowed() {
		t.Fatal("ticket allows 0-RTT although the server does not")
	}
	if v, ok := sessionVersion(cs); !ok || v != wire.Version1 {
		t.Fatalf("session version %v %v", v, ok)
	}
	p := newTestPairWith(t, cc, sc)
	p.handshake()
	for _, c := range []*Conn{p.client, p.server} {
		st := c.tls.ConnectionState()
		if !st.DidResume || st.EarlyDataAccepted {
			t.Fatalf("client=%v: DidResume %v EarlyDataAccepted %v", c.isClient, st.DidResume, st.EarlyDataAccepted)
		}
	}
	if p.client.EarlyDataAttempted() {
		t.Fatal("0-RTT attempted without a ticket allowing it")
	}
}

// SessionTickets: how many tickets one handshake gives (RFC 8446 §4.6.1),
// none when negative.
func TestSessionTicketCount(t *testing.T) {
	for _, tc := range []struct{ config, want int }{{0, 1}, {3, 3}, {-1, 0}} {
		cc, sc := resumableConfigs(t)
		sc.SessionTickets = tc.config
		p := newTestPairWith(t, cc, sc)
		p.handshake()
		for range 20 {
			p.step()
		}
		if got := p.server.tls.ConnectionState(); !got.HandshakeComplete {
			t.Fatal("handshake incomplete")
		}
		cs, ok := cc.TLS.ClientSessionCache.Get("localhost")
		if (tc.want > 0) != (ok && cs != nil) {
			t.Fatalf("SessionTickets %d: session stored %v", tc.config, ok)
		}
		if sent := countCryptoSent(p.server); (sent > 0) != (tc.want > 0) {
			t.Fatalf("SessionTickets %d: %d bytes of 1-RTT CRYPTO", tc.config, sent)
		}
	}
}

// countCryptoSent is how much CRYPTO data c wrote in 1-RTT packets.
func countCryptoSent(c *Conn) uint64 {
	if cs := c.spaces[recovery.SpaceAppData].crypto; cs != nil {
		return cs.send.Written()
	}
	return 0
}

// 0-RTT accepted: the client's request goes in 0-RTT packets right after
// its Initial, and the server has it (marked as early data) before the
// client's handshake completes; both sides report the acceptance.
func TestZeroRTTAccepted(t *testing.T) {
	cc, sc := resumableConfigs(t)
	cc.EnableDatagrams, sc.EnableDatagrams = true, true
	firstConnection(t, cc, sc)

	p := newTestPairWith(t, cc, sc)
	if !p.client.EarlyDataAttempted() {
		t.Fatal("client does not attempt 0-RTT")
	}
	s := p.openStream(p.client, false)
	request := bytes.Repeat([]byte("GET /index.html\n"), 100)
	writeAll(t, s, request, true)
	p.client.QueueDatagram([]byte("early datagram"))

	// The first flight: the Initial (one or two datagrams: the ClientHello
	// has a post-quantum key share), the 0-RTT packet coalesced after its
	// end, in a datagram padded to 1200 bytes.
	p.flushOne(p.client, 0, &p.c2s)
	var types []wire.PacketType
	coalesced := false
	for _, d := range p.c2s.queue {
		dt := sentPacketTypes(d.b)
		types = append(types, dt...)
		if dt[0] == wire.PacketInitial && len(d.b) < InitialMaxDatagramSize {
			t.Fatalf("%d-byte datagram with an Initial: %v", len(d.b), dt)
		}
		coalesced = coalesced || len(dt) == 2 && dt[0] == wire.PacketInitial && dt[1] == wire.Packet0RTT
	}
	if !coalesced || types[0] != wire.PacketInitial {
		t.Fatalf("first flight holds %v, want Initial, then 0-RTT after the Initial's end", types)
	}
	// The server has the whole request from the first flight, before it
	// even answers.
	p.deliver()
	p.owner(p.server)
	if got := readAvailable(p, 1, nil); !bytes.Equal(got, request) {
		t.Fatalf("server read %d bytes of the first flight's request, want %d", len(got), len(request))
	}
	if !p.server.EarlyDataAccepted() || !p.accepted[1][0].ReceivedEarlyData() {
		t.Fatalf("server: accepted %v, stream early %v", p.server.EarlyDataAccepted(), p.accepted[1][0].ReceivedEarlyData())
	}
	if !hasEvent(p.events[1], EventEarlyDataAccepted) || !hasDatagram(p.events[1], "early datagram") {
		t.Fatal("server reported no 0-RTT acceptance or no datagram")
	}
	p.handshake()
	if !p.client.EarlyDataAccepted() || !p.client.tls.ConnectionState().DidResume {
		t.Fatal("client does not see 0-RTT accepted")
	}
}

// 0-RTT refused (the server now refuses it): every 0-RTT packet counts as
// lost, the stream's data goes again in 1-RTT and arrives once, whole.
func TestZeroRTTRejected(t *testing.T) {
	cc, sc := resumableConfigs(t)
	firstConnection(t, cc, sc)
	sc2 := *sc
	sc2.Allow0RTT = false
	p := newTestPairWith(t, cc, &sc2)
	s := p.openStream(p.client, false)
	request := bytes.Repeat([]byte("0123456789"), 500)
	writeAll(t, s, request, true)
	var got []byte
	p.runUntil("server has the whole request", func() bool {
		got = readAvailable(p, 1, got)
		return len(got) >= len(request)
	})
	for range 50 {
		p.step()
		got = readAvailable(p, 1, got)
	}
	if !bytes.Equal(got, request) {
		t.Fatalf("request damaged: %d bytes, want %d", len(got), len(request))
	}
	if p.server.EarlyDataAccepted() || p.accepted[1][0].ReceivedEarlyData() {
		t.Fatal("server took 0-RTT it refused")
	}
	if !hasEvent(p.events[0], EventEarlyDataRejected) || !p.client.early.rejected {
		t.Fatal("client did not see the rejection")
	}
	if !p.client.tls.ConnectionState().DidResume {
		t.Fatal("refusing 0-RTT refused resumption too")
	}
}

// RFC 9000 §7.4.1: a server that accepts 0-RTT must not reduce the limits
// 0-RTT relied on; the client closes with PROTOCOL_VIOLATION when it does.
// (A skiff server refuses 0-RTT instead: here the client's session claims
// larger limits than the server remembers.)
func TestZeroRTTAcceptedWithSmallerLimits(t *testing.T) {
	cc, sc := resumableConfigs(t)
	cs := firstConnection(t, cc, sc)
	p, err := wire.ParseTransportParameters(cs.TransportParameters, wire.RoleServer)
	if err != nil {
		t.Fatal(err)
	}
	p.InitialMaxStreamsBidi += 10
	cs.TransportParameters = p.Append(nil, 1)
	cc.TLS.ClientSessionCache.Put("localhost", cs)

	pair := newTestPairWith(t, cc, sc)
	pair.runUntil("client closes", func() bool { return pair.client.closing.state != stateOpen })
	pair.expectClose(pair.client, wire.ProtocolViolation, 0, false)
}

// A server refuses 0-RTT for a ticket that remembers larger limits than
// it now has (RFC 9000 §7.4.1), and resumption of a ticket from another
// QUIC version (RFC 9369 §5).
func TestServerTicketChecks(t *testing.T) {
	cc, sc := resumableConfigs(t)
	firstConnection(t, cc, sc)
	smaller := *sc
	smaller.MaxBidiStreams = 10
	p := newTestPairWith(t, cc, &smaller)
	p.handshake()
	if st := p.server.tls.ConnectionState(); !st.DidResume || st.EarlyDataAccepted {
		t.Fatalf("smaller limits: DidResume %v EarlyDataAccepted %v", st.DidResume, st.EarlyDataAccepted)
	}

	cc, sc = resumableConfigs(t)
	firstConnection(t, cc, sc)
	server := newTestPairWith(t, cc, sc)
	server.handshake() // consumes the session
	remembered := server.server.buildLocalParams(server.server.ids.handshakeSCID())
	remembered.VersionInformation.ChosenVersion = wire.Version2
	if resume, _ := server.server.checkTicket(remembered.Append(nil, 1)); resume {
		t.Fatal("a version 2 ticket resumes a version 1 connection")
	}
	remembered.VersionInformation.ChosenVersion = wire.Version1
	if resume, early := server.server.checkTicket(remembered.Append(nil, 1)); !resume || !early {
		t.Fatalf("own ticket: resume %v early %v", resume, early)
	}
}

// h3spec case 34 end to end: a client that resumed with 0-RTT sends a
// CRYPTO frame in a 0-RTT packet; the server, which has the 0-RTT keys,
// closes with PROTOCOL_VIOLATION (RFC 9000 §12.5, RFC 9001 §8.3).
func TestH3Spec_Case34_CryptoIn0RTTEndToEnd(t *testing.T) {
	cc, sc := resumableConfigs(t)
	firstConnection(t, cc, sc)
	p := newTestPairWith(t, cc, sc)
	keys := p.client.keys0RTT
	if keys == nil {
		t.Fatal("no 0-RTT keys")
	}
	p.runUntil("server accepted 0-RTT", func() bool { return p.server != nil && p.server.keys0RTT != nil })
	c := p.client
	cryptoFrame := appendFrame(&wire.CryptoFrame{Offset: 0, Data: []byte("hello")})
	h := wire.Header{Type: wire.Packet0RTT, Version: c.version, DCID: c.ids.peerDCID(), SCID: c.ids.handshakeSCID()}
	sent := c.loss.NextPacket(recovery.SpaceAppData)
	c.loss.OnPacketSent(recovery.SpaceAppData, sent, c.idle.lastNow)
	buf, lengthOffset, pnOffset := wire.AppendLongHeader(make([]byte, 0, 256), &h, wire.PacketNumber(sent.PN), 4)
	buf = wire.AppendPadding(append(buf, cryptoFrame...), 100)
	if err := wire.PutLongHeaderLength(buf, lengthOffset, len(buf)-pnOffset+protect.TagLen); err != nil {
		t.Fatal(err)
	}
	pkt, err := keys.SealPacket(buf, pnOffset, sent.PN)
	if err != nil {
		t.Fatal(err)
	}
	p.server.HandleDatagram(p.now, pkt, clientAddr, 0)
	p.expectClose(p.server, wire.ProtocolViolation, wire.FrameTypeCrypto, true)
}

// The same first flight replayed to the server (a second connection with
// the same ClientHello): the replay filter refuses its 0-RTT, so the
// request is processed once.
func TestZeroRTTReplayRefused(t *testing.T) {
	cc, sc := resumableConfigs(t)
	firstConnection(t, cc, sc)
	p := newTestPairWith(t, cc, sc)
	s := p.openStream(p.client, false)
	writeAll(t, s, []byte("POST /transfer"), true)
	p.flushOne(p.client, 0, &p.c2s)
	flight := make([][]byte, len(p.c2s.queue))
	for i, d := range p.c2s.queue {
		flight[i] = d.b
	}
	p.handshake()
	if !p.server.EarlyDataAccepted() {
		t.Fatal("original flight's 0-RTT refused")
	}
	replay := newReplayServer(t, sc, flight)
	if replay.EarlyDataAccepted() || replay.StreamCount() != 0 {
		t.Fatalf("replayed flight: 0-RTT accepted %v, %d streams", replay.EarlyDataAccepted(), replay.StreamCount())
	}
}

// newReplayServer creates a server connection from a captured client
// flight, as an attacker replaying it would make one, and feeds it the
// flight.
func newReplayServer(t *testing.T, sc *Config, flight [][]byte) *Conn {
	t.Helper()
	hdr, err := wire.ParseHeader(flight[0], ConnIDLen, false)
	if err != nil {
		t.Fatal(err)
	}
	p := newTestPair(t)
	s, err := New(p.now, sc, &Params{Version: hdr.Version, DCID: hdr.DCID, SCID: NewConnectionID(), Peer: clientAddr, ResetKey: testResetKey()})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range flight {
		s.HandleDatagram(p.now, d, clientAddr, 0)
	}
	s.Events()
	return s
}

func writeAll(t *testing.T, s *Stream, b []byte, fin bool) {
	t.Helper()
	n, st, _ := s.Write(b)
	if st != streambuf.OK || n != len(b) {
		t.Fatalf("write: %d, %v", n, st)
	}
	if fin {
		s.CloseWrite()
	}
}

func hasEvent(evs []Event, k EventKind) bool {
	for _, e := range evs {
		if e.Kind == k {
			return true
		}
	}
	return false
}

func hasDatagram(evs []Event, data string) bool {
	for _, e := range evs {
		if e.Kind == EventDatagram && string(e.Data) == data {
			return true
		}
	}
	return false
}

// readAvailable appends what side's first accepted stream has to read.
func readAvailable(p *testPair, side int, got []byte) []byte {
	if len(p.accepted[side]) == 0 {
		return got
	}
	var buf [4096]byte
	for {
		n, _, _ := p.accepted[side][0].Read(buf[:])
		if n == 0 {
			return got
		}
		got = append(got, buf[:n]...)
	}
}

// Once the session ticket was sent, acknowledged and read, an idle
// connection's Trim lets the 1-RTT CRYPTO streams go and keeps their
// offsets: a late copy of the ticket's bytes is old data, ignored.
func TestTrimLetsDrainedCryptoGo(t *testing.T) {
	cc, sc := resumableConfigs(t)
	p := newTestPairWith(t, cc, sc)
	p.handshake()
	var sent uint64
	p.runUntil("the ticket is read and acknowledged", func() bool {
		s, c := p.server.spaces[recovery.SpaceAppData].crypto, p.client.spaces[recovery.SpaceAppData].crypto
		if s == nil || c == nil {
			return false
		}
		sent = s.send.Written()
		return sent > 0 && s.send.Buffered() == 0 && c.recv.ReadOffset() == sent
	})
	p.server.Trim()
	p.client.Trim()
	if p.server.spaces[recovery.SpaceAppData].crypto != nil || p.client.spaces[recovery.SpaceAppData].crypto != nil {
		t.Fatal("drained 1-RTT CRYPTO streams kept")
	}
	if p.server.cryptoResume[0] != sent || p.client.cryptoResume[1] != sent {
		t.Fatalf("offsets kept: server sent %d, client read %d, want %d", p.server.cryptoResume[0], p.client.cryptoResume[1], sent)
	}
	f := wire.CryptoFrame{Offset: 0, Data: []byte("old ticket bytes")}
	pkt := sealedPacket(t, p.server, recovery.SpaceAppData, f.Append(nil), 0, nil, false)
	p.client.HandleDatagram(p.now, pkt, serverAddr, 0)
	if p.client.closing.state != stateOpen {
		t.Fatalf("client closed: %+v", p.client.closing.reason)
	}
	if got := p.client.cryptoStream(recovery.SpaceAppData).recv.ReadOffset(); got != sent {
		t.Fatalf("CRYPTO read offset %d after old data, want %d", got, sent)
	}
}

// An idle server lets its TLS connection go once the handshake is done
// and keeps its ConnectionState; a client's handshake message after that
// is refused as TLS refuses it, with CRYPTO_ERROR unexpected_message.
func TestTrimReleasesServerTLS(t *testing.T) {
	cc, sc := resumableConfigs(t)
	p := newTestPairWith(t, cc, sc)
	p.handshake()
	p.runUntil("server confirmed", func() bool { return p.server.handshakeConfirmed })
	want := p.server.TLSState()
	p.server.Trim()
	p.client.Trim()
	if p.server.tls != nil || p.client.tls == nil {
		t.Fatal("want the server's TLS let go and the client's kept (it takes session tickets)")
	}
	if got := p.server.TLSState(); got.NegotiatedProtocol != want.NegotiatedProtocol || got.ServerName != want.ServerName || !got.HandshakeComplete {
		t.Fatalf("TLS state after the trim %+v, want %+v", got, want)
	}
	msg := []byte{20, 0, 0, 4, 1, 2, 3, 4} // a Finished again
	f := wire.CryptoFrame{Offset: 0, Data: msg}
	pkt := sealedPacket(t, p.client, recovery.SpaceAppData, f.Append(nil), 0, nil, false)
	p.server.HandleDatagram(p.now, pkt, clientAddr, 0)
	r := p.server.closing.reason
	if r == nil || r.Code != uint64(wire.CryptoError(uint8(tls13.AlertUnexpectedMessage))) {
		t.Fatalf("server's close reason %+v, want CRYPTO_ERROR unexpected_message", r)
	}
}
