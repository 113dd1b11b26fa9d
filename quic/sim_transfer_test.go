package quic

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
)

// TestSimTransfer: the handshake and a 10 MB upload complete, with the
// bytes hashed and identical, over paths that lose, delay, reorder and
// duplicate datagrams (issue: quic connections, "Must show").
func TestSimTransfer(t *testing.T) {
	const size = 10 << 20
	cases := []struct {
		name string
		imp  netsim.Impairment
	}{
		{"clean", netsim.Impairment{Delay: 10 * time.Millisecond, RateBitsPerSec: 100e6, QueueBytes: 256 << 10}},
		{"loss2", netsim.Impairment{Delay: 10 * time.Millisecond, Loss: 0.02, RateBitsPerSec: 100e6, QueueBytes: 256 << 10}},
		{"loss10", netsim.Impairment{Delay: 10 * time.Millisecond, Loss: 0.10, RateBitsPerSec: 100e6, QueueBytes: 256 << 10}},
		{"delay750ms", netsim.Impairment{Delay: 750 * time.Millisecond, RateBitsPerSec: 100e6, QueueBytes: 4 << 20}},
		{"reorder", netsim.Impairment{Delay: 10 * time.Millisecond, Jitter: 8 * time.Millisecond, RateBitsPerSec: 100e6, QueueBytes: 256 << 10}},
		{"duplicate", netsim.Impairment{Delay: 10 * time.Millisecond, Duplicate: 0.05, RateBitsPerSec: 100e6, QueueBytes: 256 << 10}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
				defer cancel()
				sn := newSimNet(t, tc.imp, 42)
				start := time.Now()
				client, server := sn.connect(t, ctx)
				hs := time.Since(start)
				data := payload(1, size)
				got := transfer(t, ctx, client, server, data)
				if got != sha256.Sum256(data) {
					t.Fatal("the server's hash of the upload differs")
				}
				el := time.Since(start)
				st := client.Stats()
				t.Logf("%s: handshake %v, 10 MB in %v (%.1f Mbit/s), lost %d of %d packets, srtt %v",
					tc.name, hs, el, float64(size*8)/el.Seconds()/1e6, st.PacketsLost, st.PacketsSent, st.SmoothedRTT)
				client.Close()
			})
		})
	}
}

// TestSimBlackhole: a 2-second blackhole in the middle of a transfer
// stalls it; it completes once the path returns.
func TestSimBlackhole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		imp := netsim.Impairment{Delay: 20 * time.Millisecond, RateBitsPerSec: 50e6, QueueBytes: 256 << 10}
		sn := newSimNet(t, imp, 7)
		client, server := sn.connect(t, ctx)
		go func() {
			time.Sleep(500 * time.Millisecond)
			black := imp
			black.Blackhole = true
			sn.up.Set(black)
			sn.down.Set(black)
			time.Sleep(2 * time.Second)
			sn.up.Set(imp)
			sn.down.Set(imp)
		}()
		data := payload(2, 10<<20)
		if transfer(t, ctx, client, server, data) != sha256.Sum256(data) {
			t.Fatal("hash differs")
		}
		st := client.Stats()
		t.Logf("done after blackhole: %d PTOs, %d packets lost", st.PTOCount, st.PacketsLost)
		if st.PTOCount == 0 {
			t.Error("a 2 s blackhole fired no PTO")
		}
	})
}

var _ = fmt.Sprint
