package recovery

import (
	"errors"
	"testing"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// fuzzModel checks the caller's side of the invariants: each packet is
// acknowledged or lost at most once, acknowledgments of one frame come in
// ascending order, and the model's bytes in flight match the controller's.
type fuzzModel struct {
	t        *testing.T
	fate     [numSpaces]map[uint64]string
	inFlight [numSpaces]map[uint64]int // outstanding in-flight packets
	lastAck  [numSpaces]int64          // last PN acked in the current frame
	bytes    int                       // sum of inFlight
}

func (m *fuzzModel) settle(space Space, p *SentPacket, fate string) {
	if prev, ok := m.fate[space][p.PN]; ok {
		m.t.Fatalf("%v packet %d %s after %s", space, p.PN, fate, prev)
	}
	if _, sent := m.inFlight[space][p.PN]; !sent && p.InFlight {
		m.t.Fatalf("%v packet %d %s but not sent or already gone", space, p.PN, fate)
	}
	m.fate[space][p.PN] = fate
	m.bytes -= m.inFlight[space][p.PN]
	delete(m.inFlight[space], p.PN)
}

// record checks and settles what one call resolved.
func (m *fuzzModel) record(res *Resolved) {
	space := res.Space
	for _, p := range res.Acked {
		if int64(p.PN) <= m.lastAck[space] {
			m.t.Fatalf("acknowledgments out of order: %d after %d", p.PN, m.lastAck[space])
		}
		m.lastAck[space] = int64(p.PN)
		m.settle(space, p, "acked")
	}
	for _, p := range res.Lost {
		m.settle(space, p, "lost")
	}
}

// FuzzAckSequence drives Recovery with random sends, ACK frames, timer
// expiries, state changes and discards, and checks that nothing panics,
// bytes in flight never go negative and agree with the packets
// outstanding, and every packet is acknowledged or lost at most once.
func FuzzAckSequence(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 1, 1, 1, 2, 0, 0})
	f.Add([]byte{0, 2, 0, 0, 2, 0, 0, 2, 0, 0, 2, 0, 1, 2, 0, 1, 3, 2, 5})
	f.Add([]byte{4, 7, 0, 0, 5, 2, 9, 2, 9, 2, 9, 1, 0, 0, 3, 0, 5, 1})
	f.Add([]byte{0, 1, 3, 0, 2, 3, 1, 1, 1, 0, 6, 0, 0, 7, 1, 2, 2, 1, 0})
	// Six packets, an ACK of the last making three lost, then an ACK of
	// them all: spurious losses and an undone congestion event.
	f.Add([]byte{0, 2, 0, 0, 2, 0, 0, 2, 0, 0, 2, 0, 0, 2, 0, 0, 2, 0,
		5, 2, 30, 1, 2, 0, 0, 0, 0, 0, 0, 0,
		5, 2, 2, 1, 2, 0, 0, 5, 0, 0, 0, 0,
		0, 2, 0, 0, 2, 0, 5, 2, 40, 1, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1024 {
			return
		}
		m := &fuzzModel{t: t}
		for i := range m.fate {
			m.fate[i] = map[uint64]string{}
			m.inFlight[i] = map[uint64]int{}
		}
		var rtt congestion.RTTStats
		rtt.SetMaxAckDelay(25 * time.Millisecond)
		cc := newFakeCC(t, false)
		var r Recovery
		r.Init(&rtt, cc)
		var res Resolved
		now := time.Duration(0)
		var ranges []wire.AckRange
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return b
		}
		for len(data) > 0 {
			op := next()
			space := Space(next() % 3)
			switch op % 7 {
			case 0: // send
				flags := next()
				p := r.NextPacket(space)
				p.Size = 20 + int(flags)*5
				p.InFlight = flags&1 == 0
				p.AckEliciting = p.InFlight && flags&2 == 0
				p.ECT = flags&4 != 0 && r.ShouldMarkECT()
				r.OnPacketSent(space, p, now)
				if !r.space(space).discarded && p.InFlight {
					m.inFlight[space][p.PN] = p.Size
					m.bytes += p.Size
				}
			case 1: // ACK frame
				nextPN := r.space(space).sent.nextPN()
				b := next()
				largest := int64(nextPN) - 1 - int64(b%8)
				if b&0x80 != 0 {
					largest = int64(nextPN) + int64(b%3) // never sent
				}
				if largest < 0 {
					continue
				}
				ranges = ranges[:0]
				hi := largest
				for n := int(next() % 5); hi >= 0; n-- {
					lo := max(hi-int64(next()%6), 0)
					ranges = append(ranges, wire.AckRange{Smallest: wire.PacketNumber(lo), Largest: wire.PacketNumber(hi)})
					hi = lo - 2 - int64(next()%4)
					if n <= 0 {
						break
					}
				}
				ack := wire.AckFrame{Ranges: ranges, HasECN: b&0x40 != 0, ECN: wire.ECNCounts{ECT0: uint64(next() % 8), CE: uint64(next() % 4)}}
				m.lastAck[space] = -1
				err := r.OnAckReceived(space, &ack, time.Duration(next())*time.Millisecond, now, &res)
				m.record(&res)
				bad := largest >= int64(nextPN) && !r.space(space).discarded
				if bad != (err != nil) || (bad && !errors.Is(err, wire.ProtocolViolation)) {
					t.Fatalf("ACK of %d with next PN %d: %v", largest, nextPN, err)
				}
			case 2: // timer
				if d, ok := r.LossDetectionDeadline(); ok {
					now = max(now, d)
					r.OnLossDetectionTimeout(now, &res)
					m.record(&res)
				}
			case 3:
				if space != SpaceAppData && next()%4 == 0 {
					r.DiscardSpace(space)
					for _, size := range m.inFlight[space] {
						m.bytes -= size
					}
					clear(m.inFlight[space])
				}
			case 4:
				b := next()
				r.SetHandshakeState(b&1 != 0, b&2 != 0, b&4 != 0)
				r.SetAmplificationBlocked(b&8 != 0)
			case 5:
				now += time.Duration(next()) * time.Millisecond
			case 6:
				if next()%8 == 0 {
					r.RetransmitAll(space, &res)
					m.record(&res)
				}
			}
			sum := 0
			for sp := range numSpaces {
				s := r.space(Space(sp))
				if s.bytesInFlight < 0 || s.ackElicitingInFlight < 0 {
					t.Fatalf("%v: bytes %d, ack-eliciting %d", sp, s.bytesInFlight, s.ackElicitingInFlight)
				}
				sum += s.bytesInFlight
			}
			if sum != cc.inFlight || sum != m.bytes {
				t.Fatalf("bytes in flight: recovery %d, controller %d, model %d", sum, cc.inFlight, m.bytes)
			}
			// The adaptive thresholds stay within their bounds
			// (RFC 9002 §6.1.1: at least 3; RFC 8985 §6.2: reo_wnd at
			// most smoothed_rtt), and only lost packets are spurious.
			st := r.Stats()
			rttMax := max(rtt.SmoothedRTT(), rtt.LatestRTT())
			if st.PacketThreshold < packetThreshold || st.PacketThreshold > maxPacketThreshold ||
				st.TimeThreshold < rttMax*9/8 || st.TimeThreshold > max(rttMax+rtt.SmoothedRTT(), rttMax*9/8, congestion.Granularity) ||
				st.SpuriousLosses > st.PacketsLost || st.SpuriousCongestionEvents > st.SpuriousLosses {
				t.Fatalf("thresholds out of bounds: %+v, srtt %v, latest %v", st, rtt.SmoothedRTT(), rtt.LatestRTT())
			}
		}
	})
}

// FuzzReceivedPackets feeds a ReceivedTracker arbitrary packet numbers and
// checks that its ACK frames parse, acknowledge only packets received and
// include the largest one.
func FuzzReceivedPackets(f *testing.F) {
	f.Add([]byte{0, 1, 2, 4, 3, 9, 200, 8})
	f.Add([]byte{5, 5, 5, 0, 255, 1, 128})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1024 {
			return
		}
		rt := newAppTracker()
		seen := map[uint64]bool{}
		var buf []byte
		pn := uint64(0)
		for i, b := range data {
			switch {
			case b == 255:
				buf = rt.AppendAckFrame(buf[:0], time.Duration(i), 3)
				if len(buf) == 0 {
					continue
				}
				f := parseAck(t, buf)
				if len(f.Ranges) > MaxAckRanges {
					t.Fatalf("%d ranges", len(f.Ranges))
				}
				if la, _ := rt.LargestReceived(); uint64(f.Ranges[0].Largest) != la {
					t.Fatalf("Largest Acknowledged %d, largest received %d", f.Ranges[0].Largest, la)
				}
				for _, r := range f.Ranges {
					for x := r.Smallest; x <= r.Largest; x++ {
						if !seen[uint64(x)] {
							t.Fatalf("ACK of %d never received", x)
						}
					}
				}
			case b == 254:
				if la, ok := rt.LargestReceived(); ok {
					rt.OnAckOfAckReceived(la / 2)
				}
			default:
				pn = uint64(max(0, int64(pn)+int64(b%16)-4))
				dup := rt.OnPacketReceived(pn, b&16 != 0, b>>6, time.Duration(i))
				if !dup && seen[pn] {
					t.Fatalf("packet %d accepted twice", pn)
				}
				if !dup {
					seen[pn] = true
				}
				if rt.received.Len() > MaxTrackedRanges {
					t.Fatalf("%d ranges kept", rt.received.Len())
				}
			}
		}
	})
}
