package conn

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/streambuf"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// recordingTracer is a Tracer whose hooks note the events that are not
// per packet, in order, as text.
type recordingTracer struct {
	events    []string
	sent      []PacketInfo // without payloads
	firstSent []byte       // the payload of the first packet sent
	metrics   int
}

func (r *recordingTracer) tracer() *Tracer {
	note := func(format string, args ...any) { r.events = append(r.events, fmt.Sprintf(format, args...)) }
	return &Tracer{
		PacketSentFrames: func(p PacketInfo) {
			if len(r.sent) == 0 {
				r.firstSent = append([]byte(nil), p.Payload...)
			}
			p.Payload = nil
			r.sent = append(r.sent, p)
		},
		PacketReceivedFrames:   func(PacketInfo) {},
		PacketLost:             func(p PacketInfo, trigger string) { note("lost %s %d %s", p.Type, p.Number, trigger) },
		MetricsUpdated:         func(*Metrics) { r.metrics++ },
		CongestionStateUpdated: func(old, state, trigger string) { note("cc %s->%s %s", old, state, trigger) },
		KeyUpdated:             func(k string, phase uint64, trigger string) { note("key %s %d %s", k, phase, trigger) },
		KeyDiscarded:           func(k string, phase uint64, trigger string) { note("drop %s %s", k, trigger) },
		StreamStateUpdated: func(id uint64, side, state, trigger string) {
			note("stream %d %s %s %s", id, side, state, trigger)
		},
		ConnectionIDUpdated: func(initiator string, old, id []byte) { note("cid %s %x->%x", initiator, old, id) },
	}
}

// has reports whether every line of want is among the events, in order.
func (r *recordingTracer) has(want ...string) bool {
	i := 0
	for _, ev := range r.events {
		if i < len(want) && ev == want[i] {
			i++
		}
	}
	return i == len(want)
}

// A whole connection with tracers on both sides: the keys TLS made and
// dropped, a key update each side sees started by the client, a stream
// opened and closed, the client's switch to the server's connection ID,
// and recovery metrics and congestion states.
func TestTracerEvents(t *testing.T) {
	cc, sc := cheapConfigs(t)
	p := newTestPairWith(t, cc, sc)
	var cr, sr recordingTracer
	dcid := NewConnectionID()
	c, err := New(p.now, cc, &Params{IsClient: true, Version: wire.Version1, DCID: dcid, SCID: NewConnectionID(),
		Peer: serverAddr, ResetKey: testResetKey(), ECNCapable: true, Tracer: cr.tracer()})
	if err != nil {
		t.Fatal(err)
	}
	p.client, p.serverTracer = c, sr.tracer()
	p.handshake()
	s := p.openStream(c, false)
	s.Write([]byte("hello"))
	s.CloseWrite()
	c.keys1RTT.forceUpdate = true
	buf := make([]byte, 64)
	p.runUntil("the stream is done on both sides", func() bool {
		if len(p.accepted[1]) == 1 {
			ss := p.accepted[1][0]
			if _, st, _ := ss.Read(buf); st == streambuf.EOF {
				ss.CloseWrite()
				p.accepted[1] = append(p.accepted[1], nil)
			}
		}
		if len(p.accepted[1]) == 2 {
			s.Read(buf)
		}
		return c.StreamCount() == 0 && p.server.StreamCount() == 0 && c.keys1RTT.updates == 1 && p.server.keys1RTT.updates == 1
	})

	serverSCID := c.ids.peerDCID()
	for _, w := range [][]string{
		{"key client_initial_secret 0 tls", "key server_initial_secret 0 tls"},
		{"key server_handshake_secret 0 tls", "key client_handshake_secret 0 tls", "drop client_initial_secret tls"},
		{"key server_1rtt_secret 0 tls", "drop server_handshake_secret tls", "drop client_handshake_secret tls"},
		{fmt.Sprintf("cid remote ->%x", dcid.Bytes()), fmt.Sprintf("cid remote %x->%x", dcid.Bytes(), serverSCID.Bytes())},
		{"key client_1rtt_secret 1 local_update", "key server_1rtt_secret 1 local_update"},
		{"stream 0 sending open local", "stream 0 receiving open local", "stream 0 sending closed ", "stream 0 receiving closed "},
		{"cc ->slow_start "},
	} {
		if !cr.has(w...) {
			t.Errorf("client events lack %q in order:\n%s", w, strings.Join(cr.events, "\n"))
		}
	}
	for _, w := range [][]string{
		{"key server_initial_secret 0 tls", "key client_initial_secret 0 tls"},
		{"stream 0 sending open remote", "stream 0 receiving open remote", "stream 0 sending closed ", "stream 0 receiving closed "},
		{"key client_1rtt_secret 1 remote_update", "key server_1rtt_secret 1 remote_update"},
	} {
		if !sr.has(w...) {
			t.Errorf("server events lack %q in order:\n%s", w, strings.Join(sr.events, "\n"))
		}
	}
	if cr.metrics == 0 || sr.metrics == 0 {
		t.Errorf("recovery metrics reported %d and %d times", cr.metrics, sr.metrics)
	}
	// The packets sent: numbered per space, datagrams counted from 0,
	// the first payload starting with the ClientHello's CRYPTO frame.
	first := cr.sent[0]
	if first.Type != "initial" || first.Number != 0 || first.Datagram != 0 || first.Size < InitialMaxDatagramSize-100 {
		t.Errorf("first packet %+v", first)
	}
	if len(cr.firstSent) == 0 || wire.FrameType(cr.firstSent[0]) != wire.FrameTypeCrypto {
		t.Errorf("first payload starts with %x", cr.firstSent[:min(len(cr.firstSent), 4)])
	}
	if d := cr.sent[len(cr.sent)-1].Datagram; d+1 != c.stats.DatagramsSent {
		t.Errorf("last packet in datagram %d of %d sent", d, c.stats.DatagramsSent)
	}
	if n := slices.IndexFunc(cr.sent, func(p PacketInfo) bool { return p.Type == "1RTT" }); n < 0 || cr.sent[n].AckDelayExponent != wire.DefaultAckDelayExponent {
		t.Errorf("no 1-RTT packet with the ACK Delay exponent")
	}
}

// The tracer hooks of the packet path allocate nothing: without a Tracer
// (every connection that is not traced), and with one whose hooks do
// nothing (the connection's own part of tracing).
func TestTracerHookAllocs(t *testing.T) {
	p := newTestPair(t)
	p.handshake()
	c := p.client
	s := p.openStream(c, false)
	sent := &recovery.SentPacket{PN: 9, Size: 1200}
	res := &recovery.Resolved{Space: recovery.SpaceAppData, Lost: []*recovery.SentPacket{sent}}
	payload := []byte{byte(wire.FrameTypePing)}
	hooks := func() {
		c.traceCopyPayload(payload)
		c.tracePacketSent(recovery.SpaceAppData, sent, false)
		c.tracePacketReceived(wire.Packet1RTT, 9, 1200, payload)
		c.traceLost(res)
		c.traceRecovery(true)
		c.traceStream(s, sideSending, "open", "local")
	}
	if n := testing.AllocsPerRun(100, hooks); n != 0 {
		t.Errorf("without a tracer: %v allocations", n)
	}
	var r recordingTracer
	tr := r.tracer()
	nop := &Tracer{
		PacketSentFrames: func(PacketInfo) {}, PacketReceivedFrames: func(PacketInfo) {},
		PacketLost: func(PacketInfo, string) {}, MetricsUpdated: func(*Metrics) {},
		CongestionStateUpdated: func(string, string, string) {}, KeyUpdated: tr.KeyUpdated,
		StreamStateUpdated: func(uint64, string, string, string) {}, ConnectionIDUpdated: func(string, []byte, []byte) {},
	}
	c.tracer, c.trace = nop, new(traceState)
	hooks() // the first call grows the payload copy
	if n := testing.AllocsPerRun(100, hooks); n != 0 {
		t.Errorf("with a tracer: %v allocations", n)
	}
}
