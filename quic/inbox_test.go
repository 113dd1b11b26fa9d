package quic

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/conn"
)

// TestInboxHoldsReceiveWindow: while a connection's driver is kept from
// running, the endpoint's reader queues datagrams for it up to its receive
// window and an eighth more, not only up to the 6 MB floor, so that a peer
// within flow control loses nothing to a descheduled driver; beyond that
// the datagrams are dropped, as a full socket buffer would.
func TestInboxHoldsReceiveWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		client, _ := newSimNet(t, netsim.Impairment{}, 7).connect(t, ctx)
		const size, offered = 1452, 20 << 20 / 1452
		// GRO: 64 KiB buffers holding runs of 19 datagrams, the shorter
		// run of a 64-datagram GSO burst.
		const run = 19 * size
		for _, tc := range []struct {
			window uint64
			gro    bool
			want   int
		}{
			{0, false, maxInboxBytes / size},                 // the floor
			{16 << 20, false, (16<<20 + 2<<20) / size},       // the window and an eighth
			{1 << 20, false, maxInboxBytes / size},           // a small window keeps the floor
			{32 << 20, false, offered /* everything fits */}, // 36 MB of room
			{0, true, maxInboxGRO},                           // 128 GRO buffers, 4.6 MB
			{16 << 20, true, (16<<20 + 2<<20) / run},         // the window and an eighth
		} {
			// The driver runs the request and waits in it: nothing takes
			// the inbox meanwhile.
			blocked, release := make(chan struct{}), make(chan struct{})
			if !client.call(func(*conn.Conn, time.Time) { close(blocked); <-release }) {
				t.Fatal("the connection's driver stopped")
			}
			<-blocked
			client.inboxMu.Lock()
			client.inboxWindow = tc.window
			client.inboxMu.Unlock()
			entries, d := offered, datagram{n: size}
			if tc.gro {
				entries, d = offered/19, datagram{n: run, seg: size}
			}
			ds := make([]datagram, 0, 64)
			for range entries {
				d.rb = &rxBuffer{buf: make([]byte, size), pool: &smallBuffers}
				if tc.gro {
					d.rb = &rxBuffer{buf: make([]byte, 64<<10), pool: &groBuffers}
				}
				d.rb.refs.Store(1)
				ds = append(ds, d)
				if len(ds) == cap(ds) {
					client.deliver(ds)
					ds = ds[:0]
				}
			}
			client.deliver(ds)
			client.inboxMu.Lock()
			got, bytes := len(client.inbox), client.inboxBytes
			client.inboxMu.Unlock()
			close(release)
			if got != tc.want {
				t.Errorf("receive window %d, GRO %v: the inbox took %d entries (%d bytes), want %d", tc.window, tc.gro, got, bytes, tc.want)
			}
			// The driver drops the junk and empties the inbox.
			synctest.Wait()
		}
	})
}

// TestInboxSurplusShared: what connections' inboxes hold beyond the 6 MB
// floor comes from one budget per endpoint (maxEndpointInboxSurplus), so a
// server whose many fast connections' drivers are all kept from running
// holds the floors and that budget, not every receive window. Here other
// connections hold all but 1 MiB of the budget: a connection with a 16 MiB
// window queues its floor and 1 MiB, and the budget comes back whole when
// its driver takes the inbox.
func TestInboxSurplusShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		client, _ := newSimNet(t, netsim.Impairment{}, 7).connect(t, ctx)
		budget := &client.endpoint.inboxSurplus
		const others = maxEndpointInboxSurplus - 1<<20
		budget.Add(others)
		defer budget.Add(-others)
		blocked, release := make(chan struct{}), make(chan struct{})
		if !client.call(func(*conn.Conn, time.Time) { close(blocked); <-release }) {
			t.Fatal("the connection's driver stopped")
		}
		<-blocked
		client.inboxMu.Lock()
		client.inboxWindow = 16 << 20
		client.inboxMu.Unlock()
		const size = 1452
		ds := make([]datagram, 0, 64)
		for range 12 << 20 / size {
			rb := &rxBuffer{buf: make([]byte, size), pool: &smallBuffers}
			rb.refs.Store(1)
			ds = append(ds, datagram{rb: rb, n: size})
			if len(ds) == cap(ds) {
				client.deliver(ds)
				ds = ds[:0]
			}
		}
		client.deliver(ds)
		client.inboxMu.Lock()
		got := client.inboxBytes
		client.inboxMu.Unlock()
		if want := maxInboxBytes + 1<<20; got > want || got <= want-size {
			t.Errorf("the inbox took %d bytes, want the floor and the 1 MiB left of the budget, %d", got, want)
		}
		if b := budget.Load(); b > maxEndpointInboxSurplus {
			t.Errorf("the endpoint's budget holds %d, more than its %d", b, maxEndpointInboxSurplus)
		}
		close(release)
		synctest.Wait()
		if b := budget.Load(); b != others {
			t.Errorf("after the driver took the inbox the budget holds %d, want the others' %d", b, others)
		}
	})
}
