package quic

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/udpio"
)

// Errors of Conn.Migrate. The connection stays on its path after each.
var (
	// ErrMigrationDisabled: the server sent disable_active_migration
	// (RFC 9000 §9).
	ErrMigrationDisabled = conn.ErrMigrationDisabled
	// ErrNoConnectionID: the server left no unused connection ID for a
	// new path (RFC 9000 §9.5); it issues another when one is retired.
	ErrNoConnectionID = conn.ErrNoUnusedConnectionID
	// ErrPathValidation: the server did not answer the PATH_CHALLENGEs
	// on the new path within 3 PTOs (RFC 9000 §8.2.4).
	ErrPathValidation = errors.New("quic: path validation failed")
	// ErrNotClient: only clients migrate (RFC 9000 §9).
	ErrNotClient = conn.ErrMigrationNotClient
	// ErrHandshakeNotConfirmed: no migration before the handshake is
	// confirmed (RFC 9000 §9).
	ErrHandshakeNotConfirmed = conn.ErrMigrationBeforeConfirmation
)

// migration is a Migrate waiting for its outcome; the driver's alone.
type migration struct {
	path conn.Path
	done chan error
}

// Migrate moves a client's connection to a new local address (RFC 9000
// §9.2): it opens a UDP socket on local (port 0 for any free port; the
// zero AddrPort for any address of the server's family), probes the
// server's address from there with PATH_CHALLENGE and a connection ID of
// the server's that no other path used (§9.5), and once the server answers
// sends everything from the new socket, retires the old connection ID and
// starts congestion control and the RTT estimate over (§9.4). It returns
// when the connection has moved, or with an error, the connection still
// on its old path: ErrPathValidation when the server does not answer
// within 3 PTOs, ErrMigrationDisabled, ErrNoConnectionID,
// ErrHandshakeNotConfirmed, ErrNotClient. If ctx ends first, Migrate
// returns its error and the attempt goes on.
//
// The socket closes with the connection, or when the connection leaves it
// (a later Migrate). NAT rebindings need no call: the server follows the
// client's new address by itself (RFC 9000 §9.3).
func (c *Conn) Migrate(ctx context.Context, local netip.AddrPort) error {
	if !c.isClient {
		return ErrNotClient
	}
	network := "udp4"
	if r := c.RemoteAddr().Addr(); r.Is6() && !r.Is4In6() {
		network = "udp6"
	}
	if !local.IsValid() {
		local = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
		if network == "udp6" {
			local = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
		}
	}
	sock, err := udpio.Listen(network, local, udpio.Options{})
	if err != nil {
		return err
	}
	return c.migrate(ctx, sock)
}

// migrate moves the connection to sock (any packetConn: a udpio socket, or
// in tests a simulated one).
func (c *Conn) migrate(ctx context.Context, sock packetConn) error {
	id, err := c.endpoint.addSocket(sock, c)
	if err != nil {
		sock.Close()
		return err
	}
	done := make(chan error, 1)
	if !c.call(func(sm *conn.Conn, now time.Time) {
		p := conn.Path{Local: id, Remote: sm.PeerAddr()}
		if err := sm.Migrate(now, p); err != nil {
			done <- err
			c.dropPathSockets()
			return
		}
		c.migrations = append(c.migrations, migration{path: p, done: done})
	}) {
		c.dropPathSockets()
		return c.closeError()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closed:
		return c.closeError()
	}
}

// onPathEvent settles the migrations waiting on a path, and closes the
// path sockets the connection no longer uses.
func (c *Conn) onPathEvent(ev *conn.Event) {
	switch ev.Kind {
	case conn.EventPathChanged:
		cur := c.sm.CurrentPath()
		peer := cur.Remote
		c.remoteAddr.Store(&peer)
		c.localSocket.Store(int32(cur.Local))
		c.settleMigrations(cur, nil)
	case conn.EventPathAbandoned:
		c.settleMigrations(ev.Path, ErrPathValidation)
	}
	c.dropPathSockets()
}

func (c *Conn) settleMigrations(p conn.Path, err error) {
	keep := c.migrations[:0]
	for _, m := range c.migrations {
		if m.path.Local == p.Local {
			m.done <- err
			continue
		}
		keep = append(keep, m)
	}
	clear(c.migrations[len(keep):])
	c.migrations = keep
}

// dropPathSockets closes the sockets the connection opened that neither
// its current path nor a pending migration uses (on the driver's
// goroutine).
func (c *Conn) dropPathSockets() {
	cur := c.sm.CurrentPath().Local
	c.endpoint.closeSockets(func(id int, ps *pathSocket) bool {
		if ps.owner != c || id == cur {
			return true
		}
		for _, m := range c.migrations {
			if m.path.Local == id {
				return true
			}
		}
		return false
	})
}

// tracerFor adapts the hooks of t that the state machine calls.
func (c *Conn) pathTracer(t *Tracer, ct *conn.Tracer) {
	if t.MigrationState != nil {
		ct.MigrationState = func(state string, p conn.Path) {
			t.MigrationState(state, c.endpoint.socketAddr(p.Local), p.Remote)
		}
	}
	ct.MTUUpdated = t.MTUUpdated
}
