package quic

import (
	"context"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
)

// The read lease (endpoint_lease.go) over real sockets: the simulated
// network cannot end a blocked read by moving its deadline, so it never
// lends.

// awaitLease waits until c's driver holds its endpoint's read lease (held)
// or does not, failing the test when ctx ends first. The reader lends after
// a batch it read, so the caller makes traffic (poke) while it waits.
func awaitLease(t *testing.T, ctx context.Context, c *Conn, held bool, poke func()) {
	t.Helper()
	for (c.leased.Load() != nil) != held {
		if ctx.Err() != nil {
			t.Fatalf("the read lease is held: %v, want %v", !held, held)
		}
		if poke != nil {
			poke()
		}
		runtime.Gosched()
	}
}

// leaseEcho is an echo over a new stream of client, served by server,
// failing the test on error; the connections close when ctx ends, so that
// a driver that is not woken fails the test rather than hanging it.
func leaseEcho(t *testing.T, ctx context.Context, client, server *Conn) {
	t.Helper()
	stop := context.AfterFunc(ctx, func() {
		client.closeNow()
		server.closeNow()
	})
	defer stop()
	if err := echoHash(ctx, client, server, payload(3, 5000)); err != nil {
		t.Fatal(err)
	}
}

// A Dial's socket and a server with one client are read by the one
// connection's driver; work for a driver blocked in that read (a stream
// write, here one it would otherwise only see at its idle timeout, an hour
// away) ends the read at once.
func TestReadLeaseWakesDriverBlockedInRead(t *testing.T) {
	ctx := loopbackContext(t)
	cc, sc := cheapConfigs(t)
	cc.MaxIdleTimeout, sc.MaxIdleTimeout = time.Hour, time.Hour
	ln, err := Listen("udp", "127.0.0.1:0", sc)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := Dial(ctx, "udp", ln.Addr().String(), cc)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	poke := func() { leaseEcho(t, ctx, client, server) }
	awaitLease(t, ctx, client, true, poke)
	awaitLease(t, ctx, server, true, poke)
	// Quiet: both drivers read with nothing due before the idle timeout
	// (acknowledgments sent, nothing in flight).
	for _, c := range []*Conn{client, server} {
		for {
			// The call is work for the driver too: it must wake.
			dues := make(chan time.Duration, 1)
			c.call(func(sm *conn.Conn, now time.Time) { dues <- sm.Deadline().Sub(now) })
			var due time.Duration
			select {
			case due = <-dues:
			case <-ctx.Done():
				t.Fatal("the driver did not take a call")
			}
			if due > 10*time.Minute {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("a timer stays due in %v", due)
			}
			runtime.Gosched()
		}
		for !c.inRead.Load() {
			if ctx.Err() != nil {
				t.Fatal("the driver does not read")
			}
			runtime.Gosched()
		}
	}
	// Both drivers are blocked in read with an hour to go: the echo's
	// writes must wake them.
	leaseEcho(t, ctx, client, server)
	if client.leased.Load() == nil || server.leased.Load() == nil {
		t.Error("a driver gave the lease back with only its own connection's datagrams")
	}
}

// A second connection on an endpoint whose driver reads with the lease gets
// its datagrams: the holder routes them and gives the lease back, both on
// a server (a second client's Initial) and on a client endpoint (a second
// Dial); once the second connection is gone, the first reads again.
func TestReadLeaseHandBack(t *testing.T) {
	ctx := loopbackContext(t)
	g := countGoroutines()
	cc, sc := cheapConfigs(t)
	ln, err := Listen("udp", "127.0.0.1:0", sc)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEndpoint("udp", "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(ln.Addr().String())
	a, err := e.Dial(ctx, addr, cc)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := ln.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pokeA := func() { leaseEcho(t, ctx, a, sa) }
	awaitLease(t, ctx, a, true, pokeA)
	awaitLease(t, ctx, sa, true, pokeA)

	b, err := e.Dial(ctx, addr, cc)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := ln.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	awaitLease(t, ctx, a, false, nil)
	awaitLease(t, ctx, sa, false, nil)
	leaseEcho(t, ctx, b, sb)
	leaseEcho(t, ctx, a, sa)
	if b.leased.Load() != nil || sb.leased.Load() != nil {
		t.Error("a lease went to a connection of an endpoint with two")
	}

	b.Close()
	<-sb.Context().Done()
	<-sb.done.wait()
	awaitLease(t, ctx, a, true, pokeA)
	awaitLease(t, ctx, sa, true, pokeA)
	leaseEcho(t, ctx, a, sa)

	e.Close()
	ln.Close()
	g.check(t)
}
