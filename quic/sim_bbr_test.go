package quic

import (
	"context"
	"crypto/sha256"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/internal/netsim"
)

// simGoodput uploads size bytes over a path with the impairment imp in
// both directions, the client sending with the congestion controller alg,
// and returns the goodput in Mbit/s (from the first byte written to the
// server's hash read back) and the client's Stats at the end.
func simGoodput(t *testing.T, imp netsim.Impairment, seed uint64, alg congestion.Algorithm, size int) (float64, Stats) {
	t.Helper()
	var mbps float64
	var st Stats
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		cc, sc := cheapConfigs(t)
		cc.Congestion, sc.Congestion = alg, alg
		// BBR's probe wait is random: a fixed seed makes the run repeat.
		cc.congestionSeed, sc.congestionSeed = seed, seed
		sn := newSimNetWith(t, imp, seed, cc, sc)
		client, server := sn.connect(t, ctx)
		data := payload(seed, size)
		start := time.Now()
		if transfer(t, ctx, client, server, data) != sha256.Sum256(data) {
			t.Fatal("the server's hash of the upload differs")
		}
		mbps = float64(size*8) / time.Since(start).Seconds() / 1e6
		st = client.Stats()
		client.Close()
	})
	return mbps, st
}

// TestSimBBRRandomLoss: whole connections (loss recovery, pacing, ACK
// frequency and flow control included) uploading over netsim paths with
// CUBIC and with BBR, the goodputs printed as a table (issue 19; the
// congestion package's bottleneck simulator holds the finer scenarios).
// On random loss (a radio link, not congestion) BBR keeps most of the
// link while CUBIC takes every loss for congestion: BBR at least 3x
// CUBIC's goodput at 1% loss (measured 24-26x), 1.5x at 5%. On a clean path BBR must not lose throughput against
// CUBIC (at least 90% of it), and on a deep buffer it keeps the queue,
// and so the RTT, lower than CUBIC does.
func TestSimBBRRandomLoss(t *testing.T) {
	mb := 40
	if raceEnabled {
		mb = 8 // the race detector slows the crypto tenfold
	}
	bdp := func(rate int64, rtt time.Duration) int { return int(rate / 8 * int64(rtt) / int64(time.Second)) }
	scenarios := []struct {
		name    string
		imp     netsim.Impairment // each way; Delay is half the RTT
		minGain float64           // BBR/CUBIC goodput at least
		lowerQ  bool              // BBR's smoothed RTT below CUBIC's
		fills   bool              // BBR's max_bw near the link's rate
	}{
		{"1% loss, 100 Mbit/s, 50 ms, 1 BDP", netsim.Impairment{Delay: 25 * time.Millisecond, Loss: 0.01, RateBitsPerSec: 100e6, QueueBytes: bdp(100e6, 50*time.Millisecond)}, 3, false, true},
		// Above BBR's loss threshold (2%), BBRv3 backs off too, less
		// than CUBIC (draft-ietf-ccwg-bbr §5.5.10); the data and the
		// acknowledgments are lost here. Measured 2.0-2.2x (once 3.4x)
		// over runs: the bound is 1.5x, since the runs are not
		// repeatable to the packet (goroutine scheduling, TLS randomness)
		// and 2x sat on the edge (congestion's own simulator, which
		// loses data only, gives 6.7x).
		{"5% loss, 100 Mbit/s, 50 ms, 1 BDP", netsim.Impairment{Delay: 25 * time.Millisecond, Loss: 0.05, RateBitsPerSec: 100e6, QueueBytes: bdp(100e6, 50*time.Millisecond)}, 1.5, false, false},
		{"clean, 100 Mbit/s, 50 ms, 1 BDP", netsim.Impairment{Delay: 25 * time.Millisecond, RateBitsPerSec: 100e6, QueueBytes: bdp(100e6, 50*time.Millisecond)}, 0.9, false, true},
		{"clean, 100 Mbit/s, 30 ms, 8 BDP", netsim.Impairment{Delay: 15 * time.Millisecond, RateBitsPerSec: 100e6, QueueBytes: 8 * bdp(100e6, 30*time.Millisecond)}, 0.9, true, true},
	}
	t.Logf("%-36s %12s %12s %8s %14s %14s", "path (each way, RTT, buffer)", "CUBIC Mbit/s", "BBR Mbit/s", "BBR/CUB", "CUBIC srtt", "BBR srtt")
	for i, sc := range scenarios {
		seed := uint64(11 + i)
		cubic, cst := simGoodput(t, sc.imp, seed, congestion.CUBIC, mb<<20)
		bbr, bst := simGoodput(t, sc.imp, seed, congestion.BBR, mb<<20)
		t.Logf("%-36s %12.1f %12.1f %8.2f %14v %14v", sc.name, cubic, bbr, bbr/cubic,
			cst.SmoothedRTT.Round(time.Millisecond), bst.SmoothedRTT.Round(time.Millisecond))
		t.Logf("    BBR at the end: %v, bw %.1f Mbit/s, min RTT %v, pacing %.1f Mbit/s, cwnd %d; lost %d of %d packets (CUBIC %d of %d)",
			bst.BBR.State, float64(bst.BBR.Bandwidth)*8/1e6, bst.BBR.MinRTT.Round(100*time.Microsecond),
			float64(bst.BBR.PacingRate)*8/1e6, bst.BBR.CongestionWindow, bst.PacketsLost, bst.PacketsSent, cst.PacketsLost, cst.PacketsSent)
		if bst.Congestion != congestion.BBR || cst.Congestion != congestion.CUBIC {
			t.Fatalf("Stats name the controllers %v and %v", cst.Congestion, bst.Congestion)
		}
		if bbr < sc.minGain*cubic {
			t.Errorf("%s: BBR %.1f Mbit/s, less than %.1fx CUBIC's %.1f", sc.name, bbr, sc.minGain, cubic)
		}
		if sc.lowerQ && bst.SmoothedRTT >= cst.SmoothedRTT {
			t.Errorf("%s: BBR's smoothed RTT %v, CUBIC's %v", sc.name, bst.SmoothedRTT, cst.SmoothedRTT)
		}
		// BBR's model of the path: the propagation RTT, and a bandwidth
		// estimate within reason of the bottleneck's rate.
		rtt := 2 * sc.imp.Delay
		if bst.BBR.MinRTT < rtt || bst.BBR.MinRTT > rtt+rtt/5 {
			t.Errorf("%s: BBR's min_rtt %v", sc.name, bst.BBR.MinRTT)
		}
		if bw := float64(bst.BBR.MaxBandwidth) * 8; sc.fills && (bw < 0.8*float64(sc.imp.RateBitsPerSec) || bw > 1.2*float64(sc.imp.RateBitsPerSec)) {
			t.Errorf("%s: BBR's max_bw %.1f Mbit/s", sc.name, bw/1e6)
		}
	}
}
