package congestion

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// FuzzControllerEvents feeds both controllers an arbitrary sequence of
// events, with arbitrary sizes and times (not even monotonic), and checks
// the invariants after every one: no panic, MinimumWindow <= cwnd <=
// MaxWindow, 0 <= bytes_in_flight, ssthresh >= the minimum window once set,
// a sane SendBudget.
func FuzzControllerEvents(f *testing.F) {
	f.Add([]byte{0, 0, 0, 10, 1, 0, 0, 5, 2, 0, 1, 0, 3, 0, 0, 1})
	f.Add([]byte{0, 200, 0, 255, 0, 200, 0, 255, 1, 50, 0, 200, 2, 3, 255, 255, 4, 1, 0, 0, 5, 0, 0, 0})
	f.Add([]byte{6, 255, 255, 255, 0, 1, 1, 1, 2, 255, 255, 255, 7, 0, 0, 0, 1, 255, 255, 255})
	f.Add([]byte{8, 0, 60, 1, 2, 0, 10, 1, 9, 0, 0, 0, 1, 0, 100, 5, 3, 0, 0, 1, 9, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, algo := range []string{AlgorithmCubic, AlgorithmNewReno} {
			for _, paced := range []bool{true, false} {
				runEvents(t, algo, paced, data)
			}
		}
	})
}

func runEvents(t *testing.T, algo string, paced bool, data []byte) {
	cc, err := New(Config{Algorithm: algo, MaxDatagramSize: 1200, DisablePacing: !paced})
	if err != nil {
		t.Fatal(err)
	}
	var rtt RTTStats
	now := time.Duration(0)
	for len(data) >= 4 {
		op := data[0]
		arg := int(binary.BigEndian.Uint16(data[1:3]))
		step := time.Duration(data[3]) * time.Millisecond
		data = data[4:]
		now += step
		// Times wander around now, sometimes before the last one.
		sentTime := now - time.Duration(arg%512)*time.Millisecond
		switch op % 10 {
		case 0:
			cc.OnPacketSent(now, arg, arg%7 != 0)
		case 1:
			rtt.UpdateRTT(now, now-sentTime, time.Duration(arg%64)*time.Millisecond, arg%2 == 0)
			cc.OnAck(now, arg*16, sentTime, &rtt)
		case 2:
			cc.OnPacketsLost(now, arg, sentTime, arg%5 == 0)
		case 3:
			cc.OnECNCE(now, sentTime)
		case 4:
			cc.OnPacketsDiscarded(arg)
		case 5:
			cc.SetMaxDatagramSize(arg)
		case 6:
			// Extremes: the largest sizes and times.
			cc.OnPacketSent(now, math.MaxInt, true)
			cc.OnAck(now, math.MaxInt, Never, &rtt)
			cc.OnPacketsLost(now, math.MaxInt, Never, true)
		case 7:
			now -= step * 2 // a confused clock must not break anything
		case 8:
			for range arg % 64 {
				cc.OnPacketSent(now, 1200, true)
			}
		case 9:
			cc.UndoCongestionEvent()
		}
		checkInvariants(t, cc, now)
	}
}

func checkInvariants(t *testing.T, cc Controller, now time.Duration) {
	t.Helper()
	w := cc.(interface{ minimumWindow() int })
	cwnd := cc.CongestionWindow()
	if cwnd < w.minimumWindow() || cwnd > MaxWindow {
		t.Fatalf("%s: cwnd %d outside [%d, %d]", cc.Name(), cwnd, w.minimumWindow(), MaxWindow)
	}
	if cc.BytesInFlight() < 0 {
		t.Fatalf("%s: bytes in flight %d", cc.Name(), cc.BytesInFlight())
	}
	if ss := cc.SlowStartThreshold(); ss < w.minimumWindow() && ss != math.MaxInt {
		// ssthresh may be below a minimum window raised later by
		// SetMaxDatagramSize, never below two datagrams of 1 byte.
		if ss < MinimumWindowPackets {
			t.Fatalf("%s: ssthresh %d", cc.Name(), ss)
		}
	}
	n, next := cc.SendBudget(now)
	if n < 0 || n > MaxWindow || (n == 0 && next < now) {
		t.Fatalf("%s: SendBudget(%v) = %d, %v", cc.Name(), now, n, next)
	}
}

// FuzzPacketEvents feeds every controller, BBR above all, an arbitrary
// sequence of per-packet events (PacketController) over a pool of packets,
// with arbitrary sizes and times (not even monotonic), and checks after
// every one: no panic, kMinimumWindow <= cwnd <= MaxWindow, bytes in
// flight equal to the sum of the packets the harness still has in flight,
// a pacing rate above zero for BBR, and a sane SendBudget.
func FuzzPacketEvents(f *testing.F) {
	f.Add([]byte{0, 0, 1, 10, 0, 0, 2, 10, 1, 0, 2, 20, 2, 0, 1, 5})
	f.Add([]byte{9, 0, 0, 1, 9, 0, 0, 1, 1, 0, 40, 30, 9, 3, 0, 30, 2, 1, 3, 200, 3, 0, 0, 0, 5, 0, 0, 1})
	f.Add([]byte{0, 5, 220, 0, 4, 0, 0, 1, 6, 0, 3, 1, 7, 255, 255, 1, 8, 9, 0, 250, 1, 0, 255, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, kind := range []Algorithm{BBR, CUBIC, NewReno} {
			runPacketEvents(t, kind, data)
		}
	})
}

type fuzzPacket struct {
	state PacketState
	size  int
	live  bool // in flight as far as the harness knows
}

func runPacketEvents(t *testing.T, kind Algorithm, data []byte) {
	cc, err := New(Config{Kind: kind, MaxDatagramSize: 1200, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var rtt RTTStats
	var pool [64]fuzzPacket
	next := 0
	inFlight := 0
	now := time.Second
	resolve := func(p *fuzzPacket) {
		if p.live {
			p.live = false
			inFlight -= p.size
		}
	}
	for len(data) >= 4 {
		op, a, b := data[0], int(data[1]), int(data[2])
		step := time.Duration(data[3]) * time.Millisecond
		data = data[4:]
		now += step
		switch op % 10 {
		case 0, 9: // send, one packet or a burst up to the budget
			n := 1
			if op%10 == 9 {
				n, _ = cc.SendBudget(now)
				n = min(n, 8)
			}
			for range n {
				p := &pool[next%len(pool)]
				next++
				resolve(p) // a slot reused: the harness forgets the old packet
				if p.state.inFlight() {
					// The controller still counts it: discard it properly.
					cc.OnPacketsDiscarded(p.state.Size())
				}
				p.size = 1 + (a*256+b)%1500
				cc.OnSent(now, p.size, &p.state)
				p.size = p.state.Size()
				p.live = true
				inFlight += p.size
			}
		case 1: // an ACK frame for slots a..a+b%16, some lost, an RTT sample
			for i := range b % 16 {
				p := &pool[(a+i)%len(pool)]
				if p.state.flags != 0 {
					cc.OnAcked(now, &p.state)
					resolve(p)
				}
			}
			if b%3 == 0 {
				p := &pool[(a+b)%len(pool)]
				if p.state.flags != 0 {
					cc.OnLost(now, &p.state)
					resolve(p)
				}
			}
			if b%4 == 1 {
				cc.OnPersistentCongestion(now)
			}
			rtt.UpdateRTT(now, time.Duration(a+1)*time.Millisecond, time.Duration(b%32)*time.Millisecond, b%2 == 0)
			cc.OnAckEnd(now, &rtt, b%5/4*b)
		case 2: // losses on the timer
			for i := range b % 8 {
				p := &pool[(a+i)%len(pool)]
				if p.state.flags != 0 {
					cc.OnLost(now, &p.state)
					resolve(p)
				}
			}
		case 3:
			cc.OnApplicationLimited()
		case 4:
			cc.UndoCongestionEvent()
		case 5: // a packet number space discarded
			sum := 0
			for i := range b % 8 {
				p := &pool[(a+i)%len(pool)]
				if p.live {
					sum += p.size
					resolve(p)
					p.state.flags |= packetAcked // the caller drops the state
				}
			}
			cc.OnPacketsDiscarded(sum)
		case 6:
			cc.SetMaxDatagramSize(a*256 + b)
		case 7:
			now -= 2 * step // a confused clock must not break anything
		case 8: // an ACK frame with nothing new and no RTT sample
			cc.OnAckEnd(now, nil, b%3)
		}
		checkPacketInvariants(t, cc, now, inFlight)
	}
}

func checkPacketInvariants(t *testing.T, cc PacketController, now time.Duration, inFlight int) {
	t.Helper()
	checkInvariants(t, cc, now)
	if got := cc.BytesInFlight(); got != inFlight {
		t.Fatalf("%s: bytes in flight %d, the packets in flight sum to %d", cc.Name(), got, inFlight)
	}
	if b, ok := cc.(*BBRController); ok {
		st := b.Stats()
		if st.PacingRate == 0 || st.SendQuantum < 2*b.smss {
			t.Fatalf("bbr: pacing rate %d, send quantum %d", st.PacingRate, st.SendQuantum)
		}
	}
}
