package recovery

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

type inFlightItem struct {
	at  time.Duration
	pn  uint64
	ect bool
	ack []byte
}

// A sender's Recovery (with NewReno) and a receiver's ReceivedTracker over a path with
// 10ms of delay each way and random loss in both directions, under
// synthetic time: the ACK frames the tracker writes drive the recovery.
// From 1s to 1.4s the path drops everything, which must cause PTOs and,
// being longer than the persistent congestion duration, persistent
// congestion (RFC 9002 §7.6). No packet that never arrived may be acknowledged, every packet ends up
// acknowledged or lost exactly once, and the RTT estimate finds the path.
func TestSimulatedLossyPath(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		rng := rand.New(rand.NewPCG(seed, 99))
		const (
			delay    = 10 * time.Millisecond
			tick     = 100 * time.Microsecond
			lossRate = 0.1
			sendFor  = 2 * time.Second
		)
		var rtt congestion.RTTStats
		rtt.SetMaxAckDelay(25 * time.Millisecond)
		cc := congestion.NewNewReno(1200, false)
		m := &fuzzModel{t: t}
		for i := range m.fate {
			m.fate[i] = map[uint64]string{}
			m.inFlight[i] = map[uint64]int{}
		}
		var r Recovery
		r.Init(&rtt, cc)
		var res Resolved
		r.SetHandshakeState(true, true, true)
		var rt ReceivedTracker
		rt.SetMaxAckDelay(25 * time.Millisecond)

		blackout := func(now time.Duration) bool { return now >= time.Second && now < 1400*time.Millisecond }
		delivered := map[uint64]bool{}
		var toReceiver, toSender []inFlightItem
		sent := 0
		send := func(now time.Duration) {
			p := r.NextPacket(SpaceAppData)
			p.Size, p.AckEliciting, p.InFlight = 1200, true, true
			p.ECT = r.ShouldMarkECT()
			r.OnPacketSent(SpaceAppData, p, now)
			m.inFlight[SpaceAppData][p.PN] = p.Size
			m.bytes += p.Size
			sent++
			if !blackout(now) && rng.Float64() >= lossRate {
				toReceiver = append(toReceiver, inFlightItem{at: now + delay, pn: p.PN, ect: p.ECT})
			}
		}
		var ranges []wire.AckRange
		for now := time.Duration(0); now < sendFor+5*time.Second; now += tick {
			// An application sending a packet every millisecond
			// while the congestion window allows.
			if now < sendFor && now%time.Millisecond == 0 {
				if n, _ := cc.SendBudget(now); n > 0 {
					send(now)
				}
			}
			for len(toReceiver) > 0 && toReceiver[0].at <= now {
				pn, ecn := toReceiver[0].pn, uint8(ECNNotECT)
				if toReceiver[0].ect {
					ecn = ECNECT0
				}
				toReceiver = toReceiver[1:]
				delivered[pn] = true
				rt.OnPacketReceived(pn, true, ecn, now)
			}
			if d, ok := rt.AckDeadline(); ok && d <= now {
				b := rt.AppendAckFrame(nil, now, 3)
				if !blackout(now) && rng.Float64() >= lossRate {
					toSender = append(toSender, inFlightItem{at: now + delay, ack: b})
				}
			}
			for len(toSender) > 0 && toSender[0].at <= now {
				b := toSender[0].ack
				toSender = toSender[1:]
				ft, n, err := wire.ParseFrameType(b)
				if err != nil {
					t.Fatal(err)
				}
				var f wire.AckFrame
				f, _, err = wire.ParseAckFrame(ft, b[n:], ranges)
				if err != nil {
					t.Fatal(err)
				}
				ranges = f.Ranges
				for _, ar := range f.Ranges {
					for pn := ar.Smallest; pn <= ar.Largest; pn++ {
						if !delivered[uint64(pn)] {
							t.Fatalf("seed %d: ACK of packet %d, which was dropped", seed, pn)
						}
					}
				}
				ackDelay := time.Duration(f.AckDelay<<3) * time.Microsecond
				m.lastAck[SpaceAppData] = -1
				if err := r.OnAckReceived(SpaceAppData, &f, ackDelay, now, &res); err != nil {
					t.Fatal(err)
				}
				m.record(&res)
			}
			if d, ok := r.LossDetectionDeadline(); ok && d <= now {
				_, probes := r.OnLossDetectionTimeout(now, &res)
				m.record(&res)
				for range probes {
					send(now)
				}
			}
			if cc.BytesInFlight() != m.bytes {
				t.Fatalf("seed %d: bytes in flight %d, model %d", seed, cc.BytesInFlight(), m.bytes)
			}
		}
		st := r.Stats()
		if int(st.PacketsAcked+st.PacketsLost) != sent || len(m.fate[SpaceAppData]) != sent {
			t.Fatalf("seed %d: %d sent, %d acked, %d lost", seed, sent, st.PacketsAcked, st.PacketsLost)
		}
		if rtt.MinRTT() != 2*delay {
			t.Fatalf("seed %d: min_rtt %v, want %v", seed, rtt.MinRTT(), 2*delay)
		}
		if srtt := rtt.SmoothedRTT(); srtt < 2*delay || srtt > 2*delay+5*time.Millisecond {
			t.Fatalf("seed %d: smoothed_rtt %v", seed, srtt)
		}
		t.Logf("seed %d: %d sent, %d lost, %d PTOs, %d persistent congestion, srtt %v",
			seed, sent, st.PacketsLost, st.PTOs, st.PersistentCongestion, rtt.SmoothedRTT())
		// 10% random loss plus the 400 packets of the blackout.
		if st.PacketsLost > uint64(2*lossRate*float64(sent))+400 {
			t.Fatalf("seed %d: %d declared lost", seed, st.PacketsLost)
		}
		// The path passes ECN marks unchanged: validation succeeds.
		if r.ECNState() != ECNCapable {
			t.Fatalf("seed %d: ECN %v", seed, r.ECNState())
		}
		if st.PTOs == 0 || st.PersistentCongestion == 0 {
			t.Fatalf("seed %d: blackout without PTO or persistent congestion: %+v", seed, st)
		}
	}
}
