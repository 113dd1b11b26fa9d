package recovery

import (
	"testing"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// steadySender sends a stream of Application Data packets with the real
// NewReno controller, the peer acknowledging every second packet 20ms
// later (RFC 9000 §13.2.2).
type steadySender struct {
	r     Recovery
	rtt   congestion.RTTStats
	now   time.Duration
	ack   wire.AckFrame
	acked uint64 // next packet number to acknowledge
	res   Resolved
}

func newSteadySender() *steadySender {
	s := &steadySender{}
	s.r.Init(&s.rtt, congestion.NewNewReno(1200, false))
	s.r.SetHandshakeState(true, true, true)
	s.ack.Ranges = make([]wire.AckRange, 0, 4)
	return s
}

// step sends two packets and acknowledges the two sent 10 steps earlier.
func (s *steadySender) step() {
	for range 2 {
		p := s.r.NextPacket(SpaceAppData)
		p.Size = 1200
		p.AckEliciting = true
		p.InFlight = true
		p.Frames = append(p.Frames, SentFrame{Kind: 1, ID: 4, Offset: p.PN * 1100, Length: 1100})
		s.r.OnPacketSent(SpaceAppData, p, s.now)
		s.now += time.Millisecond
	}
	if next := s.r.spaces[SpaceAppData].sent.nextPN(); next >= 20 {
		s.ack.Ranges = append(s.ack.Ranges[:0], wire.AckRange{
			Smallest: 0, Largest: wire.PacketNumber(s.acked + 1),
		})
		if err := s.r.OnAckReceived(SpaceAppData, &s.ack, time.Millisecond, s.now, &s.res); err != nil {
			panic(err)
		}
		s.acked += 2
	}
}

// BenchmarkSendAck: per op, two packets sent and one ACK frame newly
// acknowledging two packets.
func BenchmarkSendAck(b *testing.B) {
	s := newSteadySender()
	for range 100 {
		s.step()
	}
	b.ReportAllocs()
	for b.Loop() {
		s.step()
	}
}

func TestSendAckDoesNotAllocate(t *testing.T) {
	s := newSteadySender()
	for range 100 {
		s.step()
	}
	if n := testing.AllocsPerRun(1000, s.step); n != 0 {
		t.Fatalf("%v allocations per send/ACK step, want 0", n)
	}
	if got := s.r.spaces[SpaceAppData].sent.n; got > 32 {
		t.Fatalf("%d packets kept in steady state", got)
	}
}

// steadyReceiver receives two packets per step and sends an ACK frame, the
// peer acknowledging our ACK every 8 steps.
type steadyReceiver struct {
	rt  ReceivedTracker
	pn  uint64
	now time.Duration
	buf []byte
}

func (s *steadyReceiver) step() {
	for range 2 {
		s.rt.OnPacketReceived(s.pn, true, ECNECT0, s.now)
		s.pn++
		s.now += 100 * time.Microsecond
	}
	if d, ok := s.rt.AckDeadline(); ok && d <= s.now {
		s.buf = s.rt.AppendAckFrame(s.buf[:0], s.now, 3)
	}
	if s.pn%16 == 0 {
		s.rt.OnAckOfAckReceived(s.pn - 8)
	}
}

func newSteadyReceiver() *steadyReceiver {
	s := &steadyReceiver{buf: make([]byte, 0, 256)}
	s.rt.SetMaxAckDelay(25 * time.Millisecond)
	return s
}

// BenchmarkReceiveAck: per op, two packets received and one ACK frame
// written.
func BenchmarkReceiveAck(b *testing.B) {
	s := newSteadyReceiver()
	for range 100 {
		s.step()
	}
	b.ReportAllocs()
	for b.Loop() {
		s.step()
	}
}

func TestReceiveAckDoesNotAllocate(t *testing.T) {
	s := newSteadyReceiver()
	for range 100 {
		s.step()
	}
	if n := testing.AllocsPerRun(1000, s.step); n != 0 {
		t.Fatalf("%v allocations per receive/ACK step, want 0", n)
	}
	if len(s.buf) == 0 {
		t.Fatal("no ACK frame written")
	}
}
