package quic

import (
	"context"
	"crypto/sha256"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/recovery"
)

// lossStats reads the client's loss recovery counters on its driver
// goroutine, which owns them.
func lossStats(t *testing.T, c *Conn) recovery.Stats {
	t.Helper()
	ch := make(chan recovery.Stats, 1)
	inspect(c, func(sm *conn.Conn, _ time.Time) { ch <- sm.LossStats() })
	return <-ch
}

// TestSimReorderAdaptive: on a 50 Mbit/s path whose datagrams get up to
// 8 ms of jitter (reordering by up to about 40 packets, and no loss at
// all), loss recovery notices its spurious losses and adapts its
// reordering thresholds (RFC 9002 §6.1, RFC 8985 §6.2), so that a 6 MB
// upload takes a small factor of the time it takes without jitter. With
// RFC 9002's fixed thresholds it took 31 s instead of 1.1 s.
func TestSimReorderAdaptive(t *testing.T) {
	const size = 6 << 20
	base := netsim.Impairment{Delay: 10 * time.Millisecond, RateBitsPerSec: 50e6, QueueBytes: 256 << 10}
	jitter := base
	jitter.Jitter = 8 * time.Millisecond

	run := func(imp netsim.Impairment) (time.Duration, recovery.Stats, int) {
		var el time.Duration
		var st recovery.Stats
		var drops int
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
			defer cancel()
			sn := newSimNet(t, imp, 42)
			client, server := sn.connect(t, ctx)
			start := time.Now()
			data := payload(3, size)
			if transfer(t, ctx, client, server, data) != sha256.Sum256(data) {
				t.Fatal("the server's hash of the upload differs")
			}
			el = time.Since(start)
			st = lossStats(t, client)
			ls := sn.up.Stats()
			drops = ls.Lost + ls.QueueDrops
			client.Close()
		})
		return el, st, drops
	}
	cleanTime, cleanStats, cleanDrops := run(base)
	reorderTime, st, drops := run(jitter)
	t.Logf("no jitter: 6 MB in %v, %d declared lost (%d spurious, %d undone), %d dropped by the bottleneck queue",
		cleanTime, cleanStats.PacketsLost, cleanStats.SpuriousLosses, cleanStats.SpuriousCongestionEvents, cleanDrops)
	t.Logf("8 ms jitter: 6 MB in %v, %d declared lost (%d spurious, %d undone), %d dropped; packet threshold %d, time threshold %v, max reordering %d packets / %v",
		reorderTime, st.PacketsLost, st.SpuriousLosses, st.SpuriousCongestionEvents, drops,
		st.PacketThreshold, st.TimeThreshold, st.MaxReorderDistance, st.MaxReorderDelay)

	if st.SpuriousLosses == 0 || st.PacketThreshold <= 3 {
		t.Errorf("no adaptation: %d spurious losses, packet threshold %d", st.SpuriousLosses, st.PacketThreshold)
	}
	// The path loses only what overflows the bottleneck's queue: every
	// other loss declared should have been found spurious, save a few
	// whose late acknowledgment came after they were forgotten.
	if real := st.PacketsLost - st.SpuriousLosses; real > uint64(drops)+10 {
		t.Errorf("%d packets declared lost, %d found spurious, but only %d dropped", st.PacketsLost, st.SpuriousLosses, drops)
	}
	if reorderTime > 3*cleanTime {
		t.Errorf("with 8 ms of jitter the upload took %v, more than 3 times the %v without", reorderTime, cleanTime)
	}
}
