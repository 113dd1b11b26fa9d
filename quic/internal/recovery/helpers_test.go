package recovery

import (
	"fmt"
	"testing"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

func ms(x float64) time.Duration { return time.Duration(x * float64(time.Millisecond)) }

// ccCall is one call recorded by fakeCC.
type ccCall struct {
	kind  string // "sent", "ack", "ackend", "lost", "pc", "discarded", "undo"
	now   time.Duration
	bytes int           // the packet's size; for "ackend", the new CE marks
	t     time.Duration // the packet's send time
	late  bool          // "ack" of a packet reported lost before
}

func (c ccCall) String() string {
	return fmt.Sprintf("%s(now=%v bytes=%d t=%v late=%v)", c.kind, c.now, c.bytes, c.t, c.late)
}

// fakeCC records the per-packet calls of a congestion.PacketController
// and keeps bytes_in_flight, failing the test if it would go negative.
// A NewReno controller without pacing does the rest: it fills the
// PacketStates and answers the questions.
type fakeCC struct {
	*congestion.NewRenoController
	tb       testing.TB
	calls    []ccCall
	inFlight int
	record   bool
}

var _ congestion.PacketController = (*fakeCC)(nil)

func newFakeCC(tb testing.TB, record bool) *fakeCC {
	return &fakeCC{NewRenoController: congestion.NewNewReno(1200, false), tb: tb, record: record}
}

func (c *fakeCC) add(call ccCall) {
	if c.record {
		c.calls = append(c.calls, call)
	}
}

func (c *fakeCC) sub(n int) {
	c.inFlight -= n
	if c.inFlight < 0 {
		c.tb.Fatalf("bytes in flight negative: %d", c.inFlight)
	}
}

func (c *fakeCC) OnSent(now time.Duration, bytes int, p *congestion.PacketState) {
	if p.InFlight() {
		c.tb.Fatal("OnSent of a packet already in flight")
	}
	c.NewRenoController.OnSent(now, bytes, p)
	c.inFlight += bytes
	c.add(ccCall{kind: "sent", now: now, bytes: bytes, t: now})
}
func (c *fakeCC) OnAcked(now time.Duration, p *congestion.PacketState) {
	late := !p.InFlight()
	if !late {
		c.sub(p.Size())
	}
	c.add(ccCall{kind: "ack", now: now, bytes: p.Size(), t: p.SendTime(), late: late})
	c.NewRenoController.OnAcked(now, p)
}
func (c *fakeCC) OnLost(now time.Duration, p *congestion.PacketState) {
	if !p.InFlight() {
		c.tb.Fatal("OnLost of a packet not in flight")
	}
	c.sub(p.Size())
	c.add(ccCall{kind: "lost", now: now, bytes: p.Size(), t: p.SendTime()})
	c.NewRenoController.OnLost(now, p)
}
func (c *fakeCC) OnPersistentCongestion(now time.Duration) {
	c.add(ccCall{kind: "pc", now: now})
	c.NewRenoController.OnPersistentCongestion(now)
}
func (c *fakeCC) OnAckEnd(now time.Duration, rtt *congestion.RTTStats, newCE int) {
	c.add(ccCall{kind: "ackend", now: now, bytes: newCE})
	c.NewRenoController.OnAckEnd(now, rtt, newCE)
}
func (c *fakeCC) OnPacketsDiscarded(bytes int) {
	c.sub(bytes)
	c.add(ccCall{kind: "discarded", bytes: bytes})
	c.NewRenoController.OnPacketsDiscarded(bytes)
}
func (c *fakeCC) UndoCongestionEvent() {
	c.add(ccCall{kind: "undo"})
	c.NewRenoController.UndoCongestionEvent()
}

// The aggregated calls are not for loss recovery.
func (c *fakeCC) OnPacketSent(time.Duration, int, bool) { c.tb.Fatal("OnPacketSent called") }
func (c *fakeCC) OnAck(time.Duration, int, time.Duration, *congestion.RTTStats) {
	c.tb.Fatal("OnAck called")
}
func (c *fakeCC) OnPacketsLost(time.Duration, int, time.Duration, bool) {
	c.tb.Fatal("OnPacketsLost called")
}
func (c *fakeCC) OnECNCE(time.Duration, time.Duration) { c.tb.Fatal("OnECNCE called") }

// ceReports returns the OnAckEnd calls that reported new CE marks.
func (c *fakeCC) ceReports() []ccCall {
	var out []ccCall
	for _, call := range c.callsOf("ackend") {
		if call.bytes > 0 {
			out = append(out, call)
		}
	}
	return out
}

// callsOf returns the recorded calls of one kind.
func (c *fakeCC) callsOf(kind string) []ccCall {
	var out []ccCall
	for _, call := range c.calls {
		if call.kind == kind {
			out = append(out, call)
		}
	}
	return out
}

type event struct {
	space Space
	pn    uint64
}

// recorder remembers every packet a Resolved reported.
type recorder struct {
	acked, lost []event
}

// record adds what res holds.
func (h *recorder) record(res *Resolved) {
	for _, p := range res.Acked {
		h.acked = append(h.acked, event{res.Space, p.PN})
	}
	for _, p := range res.Lost {
		h.lost = append(h.lost, event{res.Space, p.PN})
	}
}

func (h *recorder) reset() { h.acked, h.lost = nil, nil }

func pns(evs []event) []uint64 {
	out := []uint64{}
	for _, e := range evs {
		out = append(out, e.pn)
	}
	return out
}

type harness struct {
	t   *testing.T
	r   Recovery
	rtt congestion.RTTStats
	cc  *fakeCC
	h   recorder
	res Resolved
}

const packetSize = 1200

// newServer returns a harness for a server with the handshake confirmed,
// the common case: the peer's address validation is not in question.
func newServer(t *testing.T) *harness {
	h := &harness{t: t}
	h.cc = newFakeCC(t, true)
	h.r.Init(&h.rtt, h.cc)
	h.r.SetHandshakeState(true, true, true)
	return h
}

// send sends an ack-eliciting, in-flight packet of packetSize bytes.
func (h *harness) send(space Space, now time.Duration) uint64 {
	p := h.r.NextPacket(space)
	p.Size = packetSize
	p.AckEliciting = true
	p.InFlight = true
	p.Frames = append(p.Frames, SentFrame{Kind: 1, ID: p.PN})
	h.r.OnPacketSent(space, p, now)
	return p.PN
}

// sendECT sends an ack-eliciting packet marked ECT(0).
func (h *harness) sendECT(space Space, now time.Duration) uint64 {
	p := h.r.NextPacket(space)
	p.Size, p.AckEliciting, p.InFlight, p.ECT = packetSize, true, true, true
	h.r.OnPacketSent(space, p, now)
	return p.PN
}

// sendAckOnly sends a packet carrying only an ACK frame: neither
// ack-eliciting nor in flight.
func (h *harness) sendAckOnly(space Space, now time.Duration) uint64 {
	p := h.r.NextPacket(space)
	p.Size = 50
	h.r.OnPacketSent(space, p, now)
	return p.PN
}

// ackFrame builds an ACK frame from [smallest, largest] pairs, highest
// first.
func ackFrame(ranges ...[2]uint64) *wire.AckFrame {
	f := &wire.AckFrame{}
	for _, r := range ranges {
		f.Ranges = append(f.Ranges, wire.AckRange{Smallest: wire.PacketNumber(r[0]), Largest: wire.PacketNumber(r[1])})
	}
	return f
}

func (h *harness) ack(space Space, now, ackDelay time.Duration, ranges ...[2]uint64) {
	h.t.Helper()
	if err := h.onAck(space, ackFrame(ranges...), ackDelay, now); err != nil {
		h.t.Fatalf("OnAckReceived: %v", err)
	}
}

// onAck, timeout and retransmitAll call Recovery and record what it
// resolved.
func (h *harness) onAck(space Space, f *wire.AckFrame, ackDelay, now time.Duration) error {
	err := h.r.OnAckReceived(space, f, ackDelay, now, &h.res)
	h.h.record(&h.res)
	return err
}

func (h *harness) timeout(now time.Duration) (Space, int) {
	space, probes := h.r.OnLossDetectionTimeout(now, &h.res)
	h.h.record(&h.res)
	return space, probes
}

func (h *harness) retransmitAll(space Space) {
	h.r.RetransmitAll(space, &h.res)
	h.h.record(&h.res)
}

func (h *harness) wantDeadline(want time.Duration) {
	h.t.Helper()
	got, ok := h.r.LossDetectionDeadline()
	if !ok || got != want {
		h.t.Fatalf("loss detection deadline = %v, %v; want %v", got, ok, want)
	}
}

func (h *harness) wantNoDeadline() {
	h.t.Helper()
	if got, ok := h.r.LossDetectionDeadline(); ok {
		h.t.Fatalf("loss detection deadline = %v; want none", got)
	}
}

func equalPNs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (h *harness) wantAcked(want ...uint64) {
	h.t.Helper()
	if got := pns(h.h.acked); !equalPNs(got, want) {
		h.t.Fatalf("acked %v, want %v", got, want)
	}
}

func (h *harness) wantLost(want ...uint64) {
	h.t.Helper()
	if got := pns(h.h.lost); !equalPNs(got, want) {
		h.t.Fatalf("lost %v, want %v", got, want)
	}
}
