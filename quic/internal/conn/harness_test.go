package conn

import (
	"net/netip"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/testcert"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// The sans-I/O harness: two connections, no goroutines, no sockets. The
// test moves datagrams between them and advances a synthetic clock to the
// next deadline when nothing is in flight.

var (
	clientAddr = netip.MustParseAddrPort("198.18.0.1:40000")
	serverAddr = netip.MustParseAddrPort("198.18.0.2:443")
)

const testALPN = testcert.ALPN

// testConfigs returns client and server Configs with a fresh certificate.
func testConfigs(t testing.TB) (client, server *Config) {
	c, s := testcert.Fresh(t)
	return &Config{TLS: c}, &Config{TLS: s}
}

// flight is a datagram in the harness's network, with whether its burst
// was marked ECT(0).
type flight struct {
	b   []byte
	ect bool
}

// pipe is one direction of the harness's network.
type pipe struct {
	queue []flight
	// drop, when set, decides the fate of the n-th datagram on this pipe.
	drop func(n int, b []byte) bool
	n    int
}

// ecnSide counts the datagrams one side sent, marked and not.
type ecnSide struct {
	marked, unmarked int
}

type testPair struct {
	t              testing.TB
	now            time.Time
	client, server *Conn
	serverConfig   *Config
	c2s, s2c       pipe
	buf            []byte
	// accepted holds the streams the peer opened, per side (0: client),
	// as the owner of each connection would queue them for accepting;
	// events holds every event, per side.
	accepted [2][]*Stream
	events   [2][]Event
	// maxReceive is what both sockets take whole (Params.MaxReceiveSize).
	maxReceive int
	// path returns the ECN codepoint a datagram arrives with, as a network
	// may keep, clear (bleach) or set CE on marks; nil delivers the mark
	// as sent.
	path func(toServer, ect bool) uint8
	sent [2]ecnSide // 0: client, 1: server
	// serverTracer is the Tracer of the server the harness creates.
	serverTracer *Tracer
	// held, when set, delivers datagrams with a Holder each
	// (recv_held_test.go), as the endpoint's receive buffers.
	held *heldDatagrams
	// serverSCID, when set, is the server's connection ID instead of a
	// random one, and onServer, when set, sees the server as soon as it
	// is created, before it reads the client's first Initial
	// (FuzzClientDatagrams).
	serverSCID wire.ConnectionID
	onServer   func(s *Conn)
}

func newTestPair(t testing.TB) *testPair {
	cc, sc := testConfigs(t)
	return newTestPairWith(t, cc, sc)
}

func newTestPairWith(t testing.TB, cc, sc *Config) *testPair {
	return newTestPairReceiving(t, cc, sc, 0)
}

// newTestPairReceiving is newTestPairWith with sockets that take datagrams
// of up to maxReceive bytes.
func newTestPairReceiving(t testing.TB, cc, sc *Config, maxReceive int) *testPair {
	t.Helper()
	p := &testPair{t: t, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), serverConfig: sc, maxReceive: maxReceive}
	c, err := New(p.now, cc, &Params{IsClient: true, Version: wire.Version1, DCID: NewConnectionID(), SCID: NewConnectionID(),
		Peer: serverAddr, ResetKey: testResetKey(), ECNCapable: true, MaxReceiveSize: maxReceive})
	if err != nil {
		t.Fatal(err)
	}
	p.client = c
	return p
}

// maxBurst is the most datagrams one AppendBurst writes in the harness,
// as many as the driver sends in one GSO call.
const maxBurst = 64

// testResetKey returns a random stateless reset key.
func testResetKey() *[32]byte {
	var k [32]byte
	randomBytes(k[:])
	return &k
}

// side is 0 for the client, 1 for the server.
func (p *testPair) side(c *Conn) int {
	if c == p.client {
		return 0
	}
	return 1
}

// owner does what a connection's owner does between calls: it takes the
// work the application left in the Mailbox and the events.
func (p *testPair) owner(c *Conn) {
	if c == nil {
		return
	}
	if c.mb.TakePending() {
		c.ProcessMailbox(p.now)
	}
	side := p.side(c)
	for _, ev := range c.Events() {
		p.events[side] = append(p.events[side], ev)
		if ev.Kind == EventStreamOpened {
			p.accepted[side] = append(p.accepted[side], ev.Stream)
		}
	}
}

// flushOne collects what one side (0 client, 1 server) sends now into its
// pipe, checking that nothing goes out marked once ECN validation failed
// (RFC 9000 §13.4.2.2).
func (p *testPair) flushOne(c *Conn, side int, out *pipe) bool {
	if c == nil {
		return false
	}
	sent := false
	p.owner(c)
	defer p.owner(c)
	if p.buf == nil {
		p.buf = make([]byte, 0, maxBurst*MaxDatagramSize)
	}
	for {
		failed := c.loss.ECNState() == recovery.ECNFailed
		buf, seg, ect := c.AppendBurst(p.now, p.buf[:0], maxBurst)
		if len(buf) == 0 {
			return sent
		}
		if failed && ect {
			p.t.Errorf("side %d marked a burst after ECN validation failed", side)
		}
		sent = true
		if seg == 0 {
			seg = len(buf)
		}
		for len(buf) > 0 {
			n := min(seg, len(buf))
			if ect {
				p.sent[side].marked++
			} else {
				p.sent[side].unmarked++
			}
			out.n++
			if out.drop == nil || !out.drop(out.n, buf[:n]) {
				out.queue = append(out.queue, flight{b: append([]byte(nil), buf[:n]...), ect: ect})
			}
			buf = buf[n:]
		}
	}
}

// codepoint is the ECN field a datagram arrives with.
func (p *testPair) codepoint(toServer, ect bool) uint8 {
	if p.path != nil {
		return p.path(toServer, ect)
	}
	if ect {
		return recovery.ECNECT0
	}
	return recovery.ECNNotECT
}

// deliver hands queued datagrams to their receivers.
func (p *testPair) deliver() bool {
	moved := false
	for len(p.c2s.queue) > 0 {
		d := p.c2s.queue[0]
		p.c2s.queue = p.c2s.queue[1:]
		moved = true
		if p.server == nil {
			hdr, err := wire.ParseHeader(d.b, ConnIDLen, false)
			if err != nil || hdr.Type != wire.PacketInitial {
				continue
			}
			scid := p.serverSCID
			if scid.Len() == 0 {
				scid = NewConnectionID()
			}
			s, err := New(p.now, p.serverConfig, &Params{Version: hdr.Version, DCID: hdr.DCID, SCID: scid,
				Peer: clientAddr, ResetKey: testResetKey(), ECNCapable: true, MaxReceiveSize: p.maxReceive, Tracer: p.serverTracer})
			if err != nil {
				p.t.Fatal(err)
			}
			p.server = s
			if p.onServer != nil {
				p.onServer(s)
			}
		}
		p.handOver(p.server, d, clientAddr, true)
	}
	for len(p.s2c.queue) > 0 {
		d := p.s2c.queue[0]
		p.s2c.queue = p.s2c.queue[1:]
		moved = true
		p.handOver(p.client, d, serverAddr, false)
	}
	return moved
}

// handOver gives c a datagram from addr.
func (p *testPair) handOver(c *Conn, d flight, from netip.AddrPort, toServer bool) {
	ecn := p.codepoint(toServer, d.ect)
	if p.held == nil {
		c.HandleDatagram(p.now, d.b, from, ecn)
		return
	}
	h := p.held.add(d.b)
	c.HandleDatagramHeld(p.now, d.b, &Path{Local: c.path.cur.addr.Local, Remote: from}, ecn, h)
	h.drop()
}

// step sends and delivers once; when nothing moves it advances the clock
// to the earliest deadline and fires the timers. It reports false when no
// deadline remains.
func (p *testPair) step() bool {
	a := p.flushOne(p.client, 0, &p.c2s)
	b := p.flushOne(p.server, 1, &p.s2c)
	if p.deliver() || a || b {
		return true
	}
	next := time.Time{}
	for _, c := range []*Conn{p.client, p.server} {
		if c == nil {
			continue
		}
		if d := c.Deadline(); !d.IsZero() && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	if next.IsZero() {
		return false
	}
	if next.After(p.now) {
		p.now = next
	}
	for _, c := range []*Conn{p.client, p.server} {
		if c != nil {
			if d := c.Deadline(); !d.IsZero() && !d.After(p.now) {
				c.HandleTimer(p.now)
			}
		}
	}
	return true
}

// runUntil steps until cond holds, failing after limit steps.
func (p *testPair) runUntil(what string, cond func() bool) {
	p.t.Helper()
	for i := 0; i < 1_000_000; i++ {
		if cond() {
			return
		}
		if !p.step() {
			break
		}
	}
	if !cond() {
		p.t.Fatalf("never reached: %s (at %v)", what, p.now)
	}
}

func (p *testPair) handshake() {
	p.t.Helper()
	p.runUntil("handshake confirmed on both sides", func() bool {
		return p.server != nil && p.client.handshakeConfirmed && p.server.handshakeConfirmed
	})
}

func (p *testPair) dump(t *testing.T) {
	for _, c := range []*Conn{p.client, p.server} {
		t.Logf("client=%v streams=%d flow sent=%d sendMax=%d recv=%d recvMax=%d cwnd=%d inflight=%d", c.isClient, len(c.streams.m), c.flow.sent, c.flow.sendMax, c.flow.received, c.flow.recvMax, c.cc.CongestionWindow(), c.cc.BytesInFlight())
		for _, s := range c.streams.m {
			t.Logf("  stream %d queued=%v buffered=%d unsent=%d written=%d sendMax=%d", s.id, s.sched.queued, s.out.Buffered(), s.out.Unsent(), s.out.Written(), s.sendMax)
		}
		t.Logf("  deadline %v", c.Deadline())
	}
}

// openStream opens a stream on c as an application would, and lets c take
// it.
func (p *testPair) openStream(c *Conn, uni bool) *Stream {
	p.t.Helper()
	s, ok := c.mb.OpenStream(uni, nil)
	if !ok {
		p.t.Fatal("stream limit reached")
	}
	p.owner(c)
	return s
}
