package quic

import (
	"context"
	"crypto/sha256"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/conn"
)

type keyPhaseState struct {
	write, read bool
	updates     uint64
}

// keyPhaseOf reads a driven connection's key phase on its own goroutine.
func keyPhaseOf(c *Conn) keyPhaseState {
	var k keyPhaseState
	inspect(c, func(sm *conn.Conn, _ time.Time) { k.write, k.read, k.updates = sm.KeyPhase() })
	return k
}

// RFC 9001 §6: key updates in the middle of a lossy 8 MB upload, first
// started by the client, then by the server. The data arrives intact and
// both sides went through both updates: two generations each, so the key
// phase is back to 0 and Stats count 2 updates.
func TestSimKeyUpdateMidTransfer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		cc, sc := cheapConfigs(t)
		imp := netsim.Impairment{Delay: 10 * time.Millisecond, Loss: 0.01, RateBitsPerSec: 50e6, QueueBytes: 256 << 10}
		sn := newSimNetWith(t, imp, 11, cc, sc)
		client, server := sn.connect(t, ctx)

		var mid [2]keyPhaseState
		updated := make(chan struct{})
		go func() {
			defer close(updated)
			time.Sleep(200 * time.Millisecond)
			inspect(client, func(sm *conn.Conn, _ time.Time) { sm.ForceKeyUpdate() })
			time.Sleep(300 * time.Millisecond)
			mid[0] = keyPhaseOf(client)
			inspect(server, func(sm *conn.Conn, _ time.Time) { sm.ForceKeyUpdate() })
			time.Sleep(300 * time.Millisecond)
			mid[1] = keyPhaseOf(server)
		}()
		start := time.Now()
		data := payload(4, 8<<20)
		if transfer(t, ctx, client, server, data) != sha256.Sum256(data) {
			t.Fatal("hash differs")
		}
		if el := time.Since(start); el < 800*time.Millisecond {
			t.Fatalf("the transfer took only %v: the updates were not mid-transfer", el)
		}
		<-updated
		if want := (keyPhaseState{true, true, 1}); mid[0] != want {
			t.Errorf("client after its update: %+v, want %+v", mid[0], want)
		}
		if want := (keyPhaseState{false, false, 2}); mid[1] != want {
			t.Errorf("server after its update: %+v, want %+v", mid[1], want)
		}
		for _, c := range []*Conn{client, server} {
			if got, want := keyPhaseOf(c), (keyPhaseState{false, false, 2}); got != want {
				t.Errorf("client=%v at the end: %+v, want %+v", c.isClient, got, want)
			}
			if n := c.Stats().KeyUpdates; n != 2 {
				t.Errorf("client=%v: Stats().KeyUpdates = %d, want 2", c.isClient, n)
			}
		}
	})
}

// RFC 9001 §6.3, §6.5: repeated key updates, started by either side every
// 50 ms, over a path that reorders and loses packets: packets of the
// previous phase still arriving are read with the previous keys, the
// upload arrives intact, and both sides count the same updates.
func TestSimKeyUpdateStress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		cc, sc := cheapConfigs(t)
		imp := netsim.Impairment{Delay: 10 * time.Millisecond, Jitter: 8 * time.Millisecond, Loss: 0.02, RateBitsPerSec: 50e6, QueueBytes: 256 << 10}
		sn := newSimNetWith(t, imp, 12, cc, sc)
		client, server := sn.connect(t, ctx)
		stop := make(chan struct{})
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				c := client
				if i%2 == 1 {
					c = server
				}
				inspect(c, func(sm *conn.Conn, _ time.Time) { sm.ForceKeyUpdate() })
			}
		}()
		data := payload(5, 2<<20)
		if transfer(t, ctx, client, server, data) != sha256.Sum256(data) {
			t.Fatal("hash differs")
		}
		close(stop)
		<-stopped
		// Let the last update settle: the last forced update may start
		// with the first packet after the exchange that ends the previous
		// one, and that packet may carry only an ACK and be lost (never
		// resent): a second exchange carries the new key phase for sure.
		// Then time for its last packets to arrive.
		for range 2 {
			if transfer(t, ctx, client, server, []byte("settle")) != sha256.Sum256([]byte("settle")) {
				t.Fatal("hash differs")
			}
		}
		time.Sleep(time.Second)
		cs, ss := keyPhaseOf(client), keyPhaseOf(server)
		if cs != ss || cs.updates < 10 {
			t.Fatalf("client %+v, server %+v: want the same, with at least 10 updates", cs, ss)
		}
		t.Logf("%d key updates; %d packets lost", cs.updates, client.Stats().PacketsLost)
	})
}
