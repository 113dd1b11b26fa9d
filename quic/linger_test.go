package quic

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
)

// TestLingerClosingAndDraining: a connection that closes ends at once and
// leaves its endpoint a lingerEntry for its closing period (RFC 9000
// §10.2.1), which answers a late packet with the very datagram that
// carried the CONNECTION_CLOSE; the peer, once that arrives, drains
// (§10.2.2): its endpoint drops what comes and sends nothing. Both entries
// go when their periods end.
func TestLingerClosingAndDraining(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sn := newSimNet(t, netsim.Impairment{Delay: 10 * time.Millisecond}, 7)
		client, server := sn.connect(t, ctx)
		synctest.Wait()

		var mu sync.Mutex
		var fromClient, fromServer [][]byte
		sn.net.Tap(func(from, to netip.AddrPort, b []byte) {
			mu.Lock()
			defer mu.Unlock()
			if from == clientAddr {
				fromClient = append(fromClient, bytes.Clone(b))
			} else {
				fromServer = append(fromServer, bytes.Clone(b))
			}
		})
		// The client's CONNECTION_CLOSE is lost.
		sn.up.Set(netsim.Impairment{Delay: 10 * time.Millisecond, Blackhole: true})
		client.CloseWithError(0x33, "bye")
		synctest.Wait()
		if !client.done.fired() {
			t.Fatal("the closed client connection still runs: it did not linger")
		}
		l := onlyLingering(t, sn.client)
		mu.Lock()
		if l == nil || len(fromClient) != 1 || !bytes.Equal(l.close, fromClient[0]) {
			t.Fatalf("client endpoint: lingering %v with the datagram it sent (%d sent), want an entry holding it", l != nil, len(fromClient))
		}
		closeDatagram := fromClient[0]
		mu.Unlock()

		// The server, which did not hear of the close, sends: the client's
		// endpoint answers with the same datagram, which now arrives.
		sn.up.Set(netsim.Impairment{Delay: 10 * time.Millisecond})
		go func() {
			if s, err := server.OpenUniStream(ctx); err == nil {
				s.Write([]byte("late"))
			}
		}()
		select {
		case <-server.Context().Done():
		case <-ctx.Done():
			t.Fatal("the server never learned of the client's close")
		}
		var ae *ApplicationError
		if err := context.Cause(server.Context()); !errors.As(err, &ae) || ae.Code != 0x33 || !ae.Remote {
			t.Fatalf("server closed with %v, want the client's application error 0x33", err)
		}
		synctest.Wait()
		mu.Lock()
		for i, b := range fromClient[1:] {
			if !bytes.Equal(b, closeDatagram) {
				t.Errorf("the client's datagram %d after the close is not the CONNECTION_CLOSE datagram", i+1)
			}
		}
		if len(fromClient) < 2 {
			t.Errorf("the client sent nothing after the close")
		}
		mu.Unlock()

		// The server drains: its endpoint drops the client's datagram and
		// answers nothing.
		if !server.done.fired() {
			t.Fatal("the draining server connection still runs: it did not linger")
		}
		sl := onlyLingering(t, sn.server)
		if sl == nil || sl.close != nil {
			t.Fatalf("server endpoint: lingering entry %v, want one without a datagram to send", sl)
		}
		mu.Lock()
		sentBefore := len(fromServer)
		mu.Unlock()
		sn.net.Inject(clientAddr, serverAddr, closeDatagram)
		synctest.Wait()
		mu.Lock()
		if len(fromServer) != sentBefore {
			t.Errorf("the draining server sent %d datagrams, want none", len(fromServer)-sentBefore)
		}
		mu.Unlock()

		// The periods end (three PTOs, well under a second here).
		time.Sleep(2 * time.Second)
		for _, e := range []*Endpoint{sn.client, sn.server} {
			e.mu.Lock()
			n := len(e.lingering.byID)
			e.mu.Unlock()
			if n != 0 {
				t.Errorf("%d connection IDs still linger after the period", n)
			}
		}
	})
}

// onlyLingering returns e's one lingering connection; nil if it has none.
func onlyLingering(t *testing.T, e *Endpoint) *lingerEntry {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	switch q := e.lingering.queue; len(q) {
	case 0:
		return nil
	case 1:
		l := q[0].l
		for _, id := range l.ids {
			if e.lingeringFor(id) != l {
				t.Errorf("connection ID %v does not route to the lingering entry", id)
			}
		}
		return l
	default:
		t.Fatalf("%d connections linger, want one", len(q))
		return nil
	}
}

// TestLingerHeapOrder checks the linger queue's heap: entries come out in
// deadline order, whatever order they went in.
func TestLingerHeapOrder(t *testing.T) {
	var ls lingerState
	base := time.Unix(1000, 0)
	offsets := []int{7, 3, 9, 1, 1, 8, 0, 5, 6, 2, 4, 9}
	for _, off := range offsets {
		ls.push(&lingerEntry{deadline: base.Add(time.Duration(off) * time.Millisecond)})
	}
	var prev time.Time
	for i := range offsets {
		l := ls.pop()
		if l.deadline.Before(prev) {
			t.Fatalf("pop %d: deadline %v before the previous %v", i, l.deadline.Sub(base), prev.Sub(base))
		}
		prev = l.deadline
	}
	if len(ls.queue) != 0 {
		t.Fatalf("%d entries left", len(ls.queue))
	}
}
