package congestion

import (
	"testing"
	"time"
)

func TestPacerBurstAndRate(t *testing.T) {
	const mss = 1500
	var p Pacer
	p.Init(mss)
	now := time.Second
	cwnd, srtt := 15000, 100*ms
	// A full bucket: BurstPackets may go at once.
	if n, _ := p.Budget(now, cwnd, srtt, false); n != BurstPackets {
		t.Fatalf("initial burst %d", n)
	}
	for range BurstPackets {
		p.OnPacketSent(now, mss, cwnd, srtt, false)
	}
	// Congestion avoidance, N = 5/4: rate = 1.25 * 15000 / 0.1 s =
	// 187500 B/s, so one 1500-byte packet every 8 ms.
	n, next := p.Budget(now, cwnd, srtt, false)
	if n != 0 || next != now+8*ms {
		t.Fatalf("empty bucket: %d packets, next %v; want 0, +8ms", n, next-now)
	}
	// Slow start, N = 2: 300000 B/s, 5 ms a packet.
	if _, next := p.Budget(now, cwnd, srtt, true); next != now+5*ms {
		t.Fatalf("slow start: next %v, want +5ms", next-now)
	}
	// 20 ms later: 3750 bytes earned, two packets, the third 4 ms later.
	now += 20 * ms
	n, next = p.Budget(now, cwnd, srtt, false)
	if n != 2 || next != now+4*ms {
		t.Fatalf("after 20ms: %d packets, next %v; want 2, +4ms", n, next-now)
	}
	// Long idle: the bucket holds no more than a burst.
	now += time.Hour
	if n, _ := p.Budget(now, cwnd, srtt, false); n != BurstPackets {
		t.Fatalf("after idle: %d packets", n)
	}
}

// TestPacerFractions: calls closer together than one byte of credit must
// not lose the credit.
func TestPacerFractions(t *testing.T) {
	var p Pacer
	p.Init(1200)
	cwnd, srtt := 12000, 100*ms // 150000 B/s at 5/4: 150 bytes per ms, 0.15 per µs
	now := time.Duration(0)
	p.Budget(now, cwnd, srtt, false)
	for range BurstPackets {
		p.OnPacketSent(now, 1200, cwnd, srtt, false)
	}
	for range 8000 { // 8 ms in 1 µs steps
		now += time.Microsecond
		p.Budget(now, cwnd, srtt, false)
	}
	if n, _ := p.Budget(now, cwnd, srtt, false); n != 1 {
		t.Fatalf("after 8ms of 1µs polls: %d packets, want 1 (1200 bytes earned)", n)
	}
}

func TestPacerExtremes(t *testing.T) {
	var p Pacer
	p.Init(1500)
	// Huge window, tiny RTT: saturating arithmetic, no overflow.
	n, next := p.Budget(time.Second, MaxWindow, 1, true)
	if n != BurstPackets || next <= time.Second {
		t.Fatalf("huge rate, first call: %d, %v", n, next)
	}
	// A moment later the bucket has grown to its largest and filled.
	n, _ = p.Budget(time.Second+time.Millisecond, MaxWindow, 1, true)
	if n != MaxBurstPackets {
		t.Fatalf("huge rate: %d packets, want %d", n, MaxBurstPackets)
	}
	for range 100 {
		p.OnPacketSent(time.Second, 1500, 1, Never, false)
	}
	// Tiny window, absurd RTT: the next packet is far away but not past Never.
	_, next = p.Budget(time.Second, 1, Never, false)
	if next <= time.Second || next > Never {
		t.Fatalf("tiny rate: next %v", next)
	}
	_, next = p.Budget(Never-1, 1, Never, false)
	if next != Never {
		t.Fatalf("near the end of time: next %v", next)
	}
}

// TestPacerBucketFollowsRate: the bucket holds burstInterval (250 µs) of
// credit at the current rate, between BurstPackets and MaxBurstPackets
// packets.
func TestPacerBucketFollowsRate(t *testing.T) {
	const mss = 1000
	for _, tc := range []struct {
		packetsPerMs int // cwnd * 5/4 / srtt, in packets per millisecond
		want         int
	}{
		{1, BurstPackets},
		{40, BurstPackets},
		{120, 30},
		{256, 64},
		{360, MaxBurstPackets},
		{2000, MaxBurstPackets},
	} {
		var p Pacer
		p.Init(mss)
		srtt := 8 * time.Millisecond
		// rate = cwnd * 5/4 / srtt  =>  cwnd = rate * srtt * 4/5
		cwnd := tc.packetsPerMs * mss * 8 * 4 / 5
		p.Budget(time.Second, cwnd, srtt, false)
		// After a long idle moment the bucket is full.
		n, _ := p.Budget(2*time.Second, cwnd, srtt, false)
		if n != tc.want {
			t.Errorf("%d packets/ms: bucket of %d packets, want %d", tc.packetsPerMs, n, tc.want)
		}
	}
}

// TestSendBudget: the answer shaped for GSO, the smaller of what the window
// and the pacer allow, and when to come back.
func TestSendBudget(t *testing.T) {
	const mss = 1200
	cc := NewCubic(mss, true)
	now := time.Second
	// Initial window 10 packets, bucket 10 packets, both full.
	n, next := cc.SendBudget(now)
	if n != 10 || next != Never {
		t.Fatalf("initial: %d, %v; want 10 and Never (the window stops the 11th)", n, next)
	}
	for range 10 {
		cc.OnPacketSent(now, mss, true)
	}
	if n, next := cc.SendBudget(now); n != 0 || next != Never {
		t.Fatalf("window full: %d, %v", n, next)
	}
	// An ACK of 4 packets: slow start doubles them into 8 free packets of
	// window; the pacer has earned nothing yet, so it sets the pace: at
	// N = 2, cwnd 16800, srtt 100 ms, a packet every 1200*0.1/(2*16800) s.
	var rtt RTTStats
	now += 100 * ms
	rtt.UpdateRTT(now, 100*ms, 0, true)
	cc.OnAck(now, 4*mss, now-100*ms, &rtt)
	// The pacer earned 100 ms of credit since the burst: a full bucket.
	n, next = cc.SendBudget(now)
	if n != 8 || next != Never {
		t.Fatalf("after ACK: %d, %v; want 8 packets, then the window", n, next)
	}
	for range 8 {
		cc.OnPacketSent(now, mss, true)
	}
	now += 200 * ms
	rtt.UpdateRTT(now, 100*ms, 0, true)
	cc.OnAck(now, 14*mss, now-100*ms, &rtt) // everything: window 30 packets
	// The bucket refilled to 10 packets; the window allows 30: pacer-limited,
	// and the 11th packet may go once 1200 bytes are earned.
	n, next = cc.SendBudget(now)
	wantWait := time.Duration(1200 * int64(100*ms) / (2 * int64(cc.CongestionWindow())))
	if n != 10 || next < now+wantWait || next > now+wantWait+1 {
		t.Fatalf("pacer-limited: %d, %v; want 10 packets, next in %v", n, next-now, wantWait)
	}

	// Without pacing only the window counts.
	np := NewNewReno(mss, false)
	if n, next := np.SendBudget(0); n != 10 || next != Never {
		t.Fatalf("unpaced: %d, %v", n, next)
	}
}

// TestPacerBucketShrinks: when the rate falls, the bucket shrinks with it
// and the credit above the new size is dropped; it must not grow without
// bound (it once did, and pacing stopped after any rate decrease).
func TestPacerBucketShrinks(t *testing.T) {
	const mss = 1000
	var p Pacer
	p.Init(mss)
	srtt := 8 * time.Millisecond
	fast, slow := 2000*mss*8*4/5, 10*mss*8*4/5 // 2000 and 10 packets per ms
	now := time.Second
	p.Budget(now, fast, srtt, false)
	now += time.Second
	if n, _ := p.Budget(now, fast, srtt, false); n != MaxBurstPackets {
		t.Fatalf("full bucket at the high rate: %d packets", n)
	}
	for range 1000 {
		now += time.Millisecond
		if n, _ := p.Budget(now, slow, srtt, false); n > BurstPackets {
			t.Fatalf("after the rate fell: %d packets allowed, bucket holds %d", n, BurstPackets)
		}
	}
	var b Pacer
	b.Init(mss)
	rate := bytesPerSecond(10_000_000)
	b.setCapacity(64 * mss)
	b.budget(now, rate)
	now += time.Second
	b.setCapacity(2 * mss)
	for range 1000 {
		now += time.Millisecond
		if n, _ := b.budget(now, rate); n > 2 {
			t.Fatalf("rate-based bucket of 2 packets allows %d", n)
		}
	}
}

// burstBudget, BBR's pacing in send quanta: below a burst of credit it
// allows nothing and names the time the burst is there; then it allows
// all the credit.
func TestPacerBurstBudget(t *testing.T) {
	var p Pacer
	p.Init(1000)
	p.setCapacity(20_000)    // 20 packets
	r := bytesPerSecond(1e9) // a byte per nanosecond
	if n, next := p.burstBudget(0, r, 20); n != 0 || next != 10_000 {
		t.Fatalf("a fresh bucket holds 10 packets: %d of a burst of 20, next %v; want 0 until 10µs", n, next)
	}
	if n, _ := p.burstBudget(0, r, 10); n != 10 {
		t.Fatalf("a fresh bucket allowed %d of a burst of 10", n)
	}
	for range 10 {
		p.spend(0, 1000, r)
	}
	n, next := p.burstBudget(2500, r, 10)
	if n != 0 || next != 10_000 {
		t.Fatalf("empty bucket after 2.5 packets' time: %d packets, next %v; want 0 until 10µs", n, next)
	}
	if n, _ := p.burstBudget(9_999, r, 10); n != 0 {
		t.Fatalf("%d packets a nanosecond before the burst", n)
	}
	if n, _ := p.burstBudget(10_000, r, 10); n != 10 {
		t.Fatalf("%d packets when the burst is there, want 10", n)
	}
	if n, _ := p.burstBudget(10_000, r, 1); n != 10 {
		t.Fatalf("burst 1: %d packets, want the 10 of credit", n)
	}
}
