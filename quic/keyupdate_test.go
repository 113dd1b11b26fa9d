package quic

import (
	"context"
	"crypto/sha256"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

type keyPhaseState struct {
	write, read bool
	updates     uint64
}

// keyPhaseOf reads a driven connection's key phase on its own goroutine.
func keyPhaseOf(c *Conn) keyPhaseState {
	ch := make(chan keyPhaseState, 1)
	c.submit(func(time.Time) {
		k := &c.keys1RTT
		ch <- keyPhaseState{k.writePhase, k.readPhase, k.updates}
	})
	return <-ch
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
			client.submit(func(time.Time) { client.keys1RTT.forceUpdate = true })
			time.Sleep(300 * time.Millisecond)
			mid[0] = keyPhaseOf(client)
			server.submit(func(time.Time) { server.keys1RTT.forceUpdate = true })
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

// RFC 9001 §6.1: an endpoint does not update its keys before the
// handshake is confirmed; a requested update waits for confirmation.
func TestKeyUpdateWaitsForConfirmation(t *testing.T) {
	p := h3specPair(t)
	c := p.client
	p.runUntil("client has 1-RTT keys", func() bool { return c.keys1RTT.write != nil })
	c.keys1RTT.forceUpdate = true
	p.runUntil("client confirmed", func() bool {
		if c.keys1RTT.writePhase {
			t.Fatal("the client updated its keys before the handshake was confirmed")
		}
		return c.handshakeConfirmed
	})
	p.runUntil("the update completes on both sides", func() bool {
		return c.keys1RTT.updates == 1 && p.server.keys1RTT.updates == 1
	})
	if !c.keys1RTT.readPhase || !p.server.keys1RTT.writePhase {
		t.Fatal("phases did not follow the update")
	}
}

// RFC 9001 §4.1.2, §6.1: a server confirms the handshake when it completes
// and may update its keys at once; if its HANDSHAKE_DONE is lost, the
// client sees the new key phase before its own confirmation. The client
// accepts the update and answers in the new phase.
func TestKeyUpdateBeforeClientConfirmation(t *testing.T) {
	p := h3specPair(t)
	p.runUntil("server completes its handshake", func() bool { return p.server != nil && p.server.handshakeComplete })
	if p.client.handshakeConfirmed {
		t.Fatal("client confirmed before HANDSHAKE_DONE")
	}
	s := p.server
	pkt := sealedPacket(t, s, recovery.SpaceAppData, []byte{byte(wire.FrameTypePing)}, 0, s.keys1RTT.nextWriteKeys(), !s.keys1RTT.writePhase)
	p.client.handleDatagram(p.now, pkt, serverAddr, 0)
	if p.client.closing.state != stateOpen {
		t.Fatalf("client closed: %v", p.client.closeError())
	}
	if !p.client.keys1RTT.readPhase || !p.client.keys1RTT.writePhase {
		t.Fatal("the client did not follow the server's key phase")
	}
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
				c.submit(func(time.Time) { c.keys1RTT.forceUpdate = true })
			}
		}()
		data := payload(5, 2<<20)
		if transfer(t, ctx, client, server, data) != sha256.Sum256(data) {
			t.Fatal("hash differs")
		}
		close(stop)
		<-stopped
		// Let the last update settle: a small exchange, then time for
		// its last packets to arrive.
		if transfer(t, ctx, client, server, []byte("settle")) != sha256.Sum256([]byte("settle")) {
			t.Fatal("hash differs")
		}
		time.Sleep(time.Second)
		cs, ss := keyPhaseOf(client), keyPhaseOf(server)
		if cs != ss || cs.updates < 10 {
			t.Fatalf("client %+v, server %+v: want the same, with at least 10 updates", cs, ss)
		}
		t.Logf("%d key updates; %d packets lost", cs.updates, client.Stats().PacketsLost)
	})
}

// Next-generation read keys are derived only when a packet of the other key
// phase arrives, not held ahead by every connection; the update still works.
func TestKeyUpdateDerivesNextKeysOnDemand(t *testing.T) {
	p := newTestPair(t)
	p.handshake()
	c := p.client
	if c.keys1RTT.nextRead != nil || p.server.keys1RTT.nextRead != nil {
		t.Fatal("next-generation read keys derived before any key update")
	}
	s := p.server
	pkt := sealedPacket(t, s, recovery.SpaceAppData, []byte{byte(wire.FrameTypePing)}, 0, s.keys1RTT.nextWriteKeys(), !s.keys1RTT.writePhase)
	c.handleDatagram(p.now, pkt, serverAddr, 0)
	if c.closing.state != stateOpen {
		t.Fatalf("client closed: %v", c.closeError())
	}
	if c.keys1RTT.updates != 1 || !c.keys1RTT.readPhase || !c.keys1RTT.writePhase {
		t.Fatalf("client did not follow the update: updates %d", c.keys1RTT.updates)
	}
	if c.keys1RTT.nextRead != nil || c.keys1RTT.prevRead == nil {
		t.Fatal("after the update: want the previous read keys kept and no next ones derived yet")
	}
}
