package relay

import (
	"bytes"
	"math"
	"testing"
	"time"
)

// feed sends n datagrams of size bytes through a link, every gap, and
// returns their fates.
func feed(l *link, n, size int, gap time.Duration) []Fate {
	fates := make([]Fate, n)
	for i := range fates {
		fates[i] = l.admit(time.Duration(i)*gap, make([]byte, size))
	}
	return fates
}

func TestLinkDelay(t *testing.T) {
	l := newLink(&Network{Delay: 750 * time.Millisecond}, ToServer)
	for i, f := range feed(l, 100, 1200, time.Millisecond) {
		if f.Drop != Delivered || f.Deliver != time.Duration(i)*time.Millisecond+750*time.Millisecond {
			t.Fatalf("datagram %d: %+v", i, f)
		}
	}
}

// At 10 Mbit/s a 1222-byte datagram (1250 bytes with the IP and UDP
// headers) takes exactly 1 ms; a burst of 100 keeps the queue's 25 and the
// one being sent, and drops the rest, as a drop-tail queue does.
func TestLinkRateAndQueue(t *testing.T) {
	n := &Network{Delay: 15 * time.Millisecond, Rate: 10_000_000, Queue: 25}
	l := newLink(n, ToClient)
	fates := feed(l, 100, 1250-IPOverhead, 0)
	delivered := 0
	for i, f := range fates {
		switch {
		case i <= 25:
			want := time.Duration(i+1)*time.Millisecond + 15*time.Millisecond
			if f.Drop != Delivered || f.Deliver != want {
				t.Errorf("datagram %d: %+v, want delivered at %v", i, f, want)
			}
			delivered++
		case f.Drop != QueueFull:
			t.Errorf("datagram %d: %+v, want dropped (queue full)", i, f)
		}
	}
	// Once the queue drains, the link takes datagrams again, paced by
	// the link and not by their arrival.
	f := l.admit(200*time.Millisecond, make([]byte, 1250-IPOverhead))
	if f.Drop != Delivered || f.Deliver != 216*time.Millisecond {
		t.Errorf("after the burst: %+v", f)
	}
	// A sender at exactly the link rate never loses a datagram.
	l = newLink(n, ToClient)
	for i, f := range feed(l, 1000, 1250-IPOverhead, time.Millisecond) {
		if f.Drop != Delivered {
			t.Fatalf("paced datagram %d dropped", i)
		}
	}
}

// Random loss happens at about the configured rate, never more than
// MaxBurst datagrams in a row, only in the configured direction, and the
// same seed gives the same losses.
func TestLinkLossBursts(t *testing.T) {
	n := &Network{Loss: [2]float64{0.3, 0}, MaxBurst: 3, Seed: 7}
	const count = 200_000
	run := func(d Dir) []Fate { return feed(newLink(n, d), count, 100, 0) }
	fates := run(ToServer)
	lost, burst, longest := 0, 0, 0
	for _, f := range fates {
		if f.Drop == Loss {
			lost++
			burst++
			longest = max(longest, burst)
		} else {
			burst = 0
		}
	}
	// With the cap, a run of three losses forces a delivery: the rate
	// is p(1-p^3)/(1-p^4) … close to but below p.
	rate := float64(lost) / count
	if rate < 0.27 || rate > 0.30 {
		t.Errorf("loss rate %.4f, want about 0.29", rate)
	}
	if longest != 3 {
		t.Errorf("longest burst %d, want 3", longest)
	}
	for i, f := range run(ToServer) {
		if f != fates[i] {
			t.Fatalf("same seed, different fate at %d", i)
		}
	}
	for _, f := range run(ToClient) {
		if f.Drop != Delivered {
			t.Fatal("loss in the direction without loss")
		}
	}
	t.Logf("loss rate %.4f, longest burst %d", rate, longest)
}

// A corrupted datagram differs from what was sent in exactly one byte,
// among its first 50.
func TestLinkCorruption(t *testing.T) {
	l := newLink(&Network{Corrupt: [2]float64{0, 0.3}, Seed: 1}, ToClient)
	corrupted := 0
	for i := range 10_000 {
		orig := bytes.Repeat([]byte{byte(i)}, 40+i%1200)
		b := append([]byte(nil), orig...)
		f := l.admit(0, b)
		diff := -1
		for j := range b {
			if b[j] != orig[j] {
				if diff >= 0 {
					t.Fatalf("datagram %d: more than one byte changed", i)
				}
				diff = j
			}
		}
		if diff != f.CorruptAt {
			t.Fatalf("datagram %d: byte %d changed, fate says %d", i, diff, f.CorruptAt)
		}
		if diff >= 50 {
			t.Fatalf("datagram %d: byte %d changed, beyond the first 50", i, diff)
		}
		if diff >= 0 {
			corrupted++
		}
	}
	if rate := float64(corrupted) / 10_000; math.Abs(rate-0.3) > 0.02 {
		t.Errorf("corruption rate %.3f, want 0.3", rate)
	}
}

// The blackhole drops everything from 5 s to 7 s (and 12 s to 14 s …)
// and nothing else.
func TestLinkBlackhole(t *testing.T) {
	l := newLink(&Network{BlackholeOn: 5 * time.Second, BlackholeOff: 2 * time.Second}, ToServer)
	for ms := 0; ms < 15_000; ms += 10 {
		now := time.Duration(ms) * time.Millisecond
		f := l.admit(now, make([]byte, 100))
		s := now.Seconds()
		want := (s >= 5 && s < 7) || (s >= 12 && s < 14)
		if (f.Drop == Blackhole) != want {
			t.Fatalf("at %v: %+v, want blackhole %v", now, f, want)
		}
	}
}

// The drop list drops exactly the datagrams it names, by index.
func TestLinkDropList(t *testing.T) {
	l := newLink(&Network{Drops: [2][]int{{2, 3, 4, 5, 6, 7}}}, ToServer)
	for i, f := range feed(l, 20, 100, time.Millisecond) {
		idx := i + 1
		if (f.Drop == DropList) != (idx >= 2 && idx <= 7) {
			t.Errorf("datagram %d: %+v", idx, f)
		}
	}
}

func TestRebindEpochs(t *testing.T) {
	n := &Network{RebindFirst: time.Second, RebindEvery: 5 * time.Second}
	for _, c := range []struct {
		at    time.Duration
		epoch int
	}{{0, 0}, {999 * time.Millisecond, 0}, {time.Second, 1}, {5999 * time.Millisecond, 1}, {6 * time.Second, 2}, {11 * time.Second, 3}} {
		if got := n.rebindEpoch(c.at); got != c.epoch {
			t.Errorf("at %v: epoch %d, want %d", c.at, got, c.epoch)
		}
	}
}
