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
