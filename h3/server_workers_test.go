package h3

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/quic"
)

// TestWorkerPool: streams go to idle workers before new ones start;
// workers idle through a whole sweep period end, a steady trickle of
// requests keeps one, and stop ends the rest.
func TestWorkerPool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p workerPool
		release := make(chan struct{})
		var blocking atomic.Bool
		var served atomic.Int32
		p.start(func(*quic.Stream) {
			served.Add(1)
			if blocking.Load() {
				<-release
			}
		})
		blocking.Store(true)
		for range 3 {
			p.hand(new(quic.Stream))
		}
		synctest.Wait()
		if got := p.idle.Load(); got != 0 {
			t.Fatalf("%d idle workers while 3 handlers run", got)
		}
		close(release)
		synctest.Wait()
		if got := p.idle.Load(); got != 3 {
			t.Fatalf("%d idle workers after 3 handlers returned, want 3", got)
		}

		// A new stream goes to an idle worker: no new one starts.
		blocking.Store(false)
		p.hand(new(quic.Stream))
		synctest.Wait()
		if got, n := p.idle.Load(), served.Load(); got != 3 || n != 4 {
			t.Fatalf("after a hand-off: %d idle workers, %d served; want 3, 4", got, n)
		}

		// A request every 400 ms needs one worker: the others end.
		for range 10 {
			time.Sleep(400 * time.Millisecond)
			p.hand(new(quic.Stream))
			synctest.Wait()
		}
		if got := p.idle.Load(); got != 1 {
			t.Fatalf("%d idle workers under a steady trickle, want 1", got)
		}

		// Quiet: the last one ends within two periods.
		time.Sleep(2*workerIdleTimeout + time.Millisecond)
		synctest.Wait()
		if got := p.idle.Load(); got != 0 {
			t.Fatalf("%d idle workers on a quiet connection, want 0", got)
		}
		if p.armed.Load() {
			t.Fatal("sweeper still armed with no worker idle")
		}

		// Workers idle at the end are ended by stop.
		p.hand(new(quic.Stream))
		p.hand(new(quic.Stream))
		synctest.Wait()
		p.stop()
		if got := p.idle.Load(); got != 0 {
			t.Fatalf("%d idle workers after stop", got)
		}
	})
}
