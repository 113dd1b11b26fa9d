package conn

import (
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
)

// sentAt is a datagram a side sent, with when and the PTO count then.
type sentAt struct {
	at       time.Time
	ptoCount int
	size     int
}

// darkUpload brings a pair through the handshake with the default 30 s
// idle timeout, then darkens the path both ways: 7 ms after the client's
// last receipt it writes 100 bytes on a stream, which never arrive. The
// path comes back at clear (never when zero). It returns the client's
// last receipt and records what the client sends in sent.
func darkUpload(t *testing.T, clear time.Duration, sent *[]sentAt) (p *testPair, rx time.Duration) {
	t.Helper()
	cc, sc := cheapConfigs(t)
	p = newTestPairWith(t, cc, sc)
	p.handshake()
	c := p.client
	p.runUntil("the client's packets acknowledged", func() bool {
		return len(p.c2s.queue) == 0 && len(p.s2c.queue) == 0 && !c.idle.sentSinceRx &&
			!c.loss.HasAckElicitingInFlight(recovery.SpaceAppData) && !p.server.loss.HasAckElicitingInFlight(recovery.SpaceAppData)
	})
	rx = c.idle.lastActivity
	start := c.wall(rx)
	dark := func() bool { return clear == 0 || p.now.Before(start.Add(clear)) }
	p.s2c.drop = func(int, []byte) bool { return dark() }
	p.c2s.drop = func(_ int, b []byte) bool {
		*sent = append(*sent, sentAt{at: p.now, ptoCount: c.loss.PTOCount(), size: len(b)})
		return dark()
	}
	// A whole number of milliseconds: lastReceipt is exact.
	p.now = c.wall(rx + 7*time.Millisecond)
	s := p.openStream(c, false)
	s.Write(make([]byte, 100))
	p.flushOne(c, 0, &p.c2s)
	if !c.loss.HasAckElicitingInFlight(recovery.SpaceAppData) {
		t.Fatal("the data did not go")
	}
	return p, rx
}

// A client whose path is dark both ways, with data in flight, sends its
// PTO probes at intervals that double (RFC 9002 §6.2.1) and one more
// probe, once, at the idle timeout less the margin counted from its last
// receipt: max(2 PTOs, an eighth of the idle timeout), here 30 s less
// 3.75 s. The probe leaves the PTO count as it was. Then the idle timeout
// closes the connection at 30 s after the client's first packet since
// its last receipt (RFC 9000 §10.1).
func TestLastProbe(t *testing.T) {
	var sent []sentAt
	p, rx := darkUpload(t, 0, &sent)
	c := p.client
	pto := c.rtt.PTO(true)
	want := c.wall(rx + 30*time.Second - max(2*pto, 30*time.Second/lastProbeMarginDivisor))
	if got, ok := c.lastProbeDeadline(); !ok || c.wall(got) != want {
		t.Fatalf("last probe planned at %v (%v), want %v", c.wall(got).Sub(c.wall(rx)), ok, want.Sub(c.wall(rx)))
	}
	p.runUntil("the idle timeout", func() bool {
		p.dropClosedServer()
		return c.closing.state != stateOpen
	})
	if c.closing.reason == nil || c.closing.reason.Kind != ReasonIdleTimeout {
		t.Fatalf("closed with %v, want the idle timeout", c.closing.reason)
	}
	if end, idle := p.now, c.wall(rx+7*time.Millisecond+30*time.Second); end != idle {
		t.Errorf("idle timeout at %v, want %v", end.Sub(c.wall(rx)), idle.Sub(c.wall(rx)))
	}
	var at []sentAt
	for _, s := range sent {
		if s.at.Equal(want) {
			at = append(at, s)
		}
	}
	if len(at) != 1 {
		t.Fatalf("%d datagrams at the last probe's time, want 1 (sent: %v)", len(at), sent)
	}
	last := sent[len(sent)-1]
	if !last.at.Equal(want) {
		t.Errorf("the last datagram went at %v, want the last probe's %v", last.at.Sub(c.wall(rx)), want.Sub(c.wall(rx)))
	}
	// The PTO probes before it: their count, as they were sent, is that
	// of the PTOs that fired; the last probe adds none.
	ptos := map[time.Time]bool{}
	for _, s := range sent[1 : len(sent)-1] {
		ptos[s.at] = true
	}
	if n := c.loss.PTOCount(); n != last.ptoCount || n != len(ptos) {
		t.Errorf("PTO count %d at the end, %d at the last probe; PTO probes at %d instants", n, last.ptoCount, len(ptos))
	}
	for i, s := range sent {
		t.Logf("datagram %d at %v: %d bytes, PTO count %d", i, s.at.Sub(c.wall(rx)), s.size, s.ptoCount)
	}
}

// When a PTO probe gets through before the last probe is due (the path
// clears at 10 s; the next PTO fires about 15 s into the silence), its
// acknowledgment ends the silence and the data goes: no last probe, and
// none in the next silence, where nothing waits for an answer.
func TestLastProbeNotAfterEarlierPTO(t *testing.T) {
	var sent []sentAt
	p, rx := darkUpload(t, 10*time.Second, &sent)
	c := p.client
	probeAt, _ := c.lastProbeDeadline()
	p.runUntil("the data acknowledged", func() bool {
		return !c.loss.HasAckElicitingInFlight(recovery.SpaceAppData)
	})
	if c.idle.lastProbed {
		t.Error("the last probe went")
	}
	if !p.now.Before(c.wall(probeAt)) {
		t.Fatalf("the data was acknowledged at %v, after the last probe was due", p.now.Sub(c.wall(rx)))
	}
	n := len(sent)
	p.runUntil("the idle timeout", func() bool {
		p.dropClosedServer()
		return c.closing.state != stateOpen || !p.now.Before(c.wall(probeAt+30*time.Second))
	})
	for _, s := range sent[n:] {
		t.Errorf("the client sent %d bytes at %v, with nothing awaiting an answer", s.size, s.at.Sub(c.wall(rx)))
	}
	if c.closing.state == stateOpen {
		t.Error("the idle connection did not time out")
	}
}

// dropClosedServer forgets the server once closed, as its owner drops it
// with its timers.
func (p *testPair) dropClosedServer() {
	if p.server != nil && p.server.Closed() {
		p.server = nil
	}
}
