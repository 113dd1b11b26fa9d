package quic

import (
	"testing"
	"testing/synctest"
)

// A latch makes its channel only for a waiter, wakes every waiter once,
// and hands a closed channel to those who come after it fired.
func TestLatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l latch
		if l.fired() || l.ch != nil {
			t.Fatal("a new latch fired or made a channel")
		}
		woke := make(chan struct{}, 2)
		for range 2 {
			go func() {
				<-l.wait()
				woke <- struct{}{}
			}()
		}
		synctest.Wait()
		if len(woke) != 0 {
			t.Fatal("a waiter woke before the latch fired")
		}
		l.fire()
		l.fire() // again: nothing
		synctest.Wait()
		if len(woke) != 2 || !l.fired() {
			t.Fatalf("%d waiters woke, fired %v", len(woke), l.fired())
		}
		select {
		case <-l.wait():
		default:
			t.Fatal("the channel of a fired latch is open")
		}
		var late latch
		late.fire()
		if late.wait() != closedChan {
			t.Fatal("a latch fired before anyone waited made a channel")
		}
	})
}
