package quic

import (
	"errors"
	"os"
	"time"
)

// The read lease. An endpoint's reader goroutine reads its first socket and
// hands each batch's datagrams to their connections' drivers: per run a
// lock and the wake-up of another goroutine, the driver. While the
// endpoint serves a single established connection (a Dial's own socket, a
// server with one client), that hand-off is all cost, once per round trip
// of a request and its response: the reader then lends the socket, with
// the buffers it reads into (its batchReader), to that connection's
// driver, which reads where it would otherwise sleep, with a read deadline
// at its next timer, and waits for the lease to come back.
//
// Application goroutines that leave the driver work wake it as before
// (Conn.signal), and end a read it is blocked in by moving the socket's
// read deadline to the past: the driver sets its deadline before it says
// it reads (inRead) and looks for work after, so a waker that finds
// inRead unset left its work where the driver will look, and one that
// finds it set ends the read. A late waker may end a later read early;
// the driver then only reads again.
//
// The driver gives the lease back as soon as a datagram it read is for
// another connection (a second client's Initial, the handshake of a second
// Dial from the endpoint), when reading fails for any reason but the
// deadline, and when it ends; the reader lends again once the endpoint has
// one connection again. Path sockets (endpoint_paths.go) keep their own
// readers.

// deadlineSocket is a socket whose blocked read ends when another goroutine
// moves its read deadline: a *udpio.Conn. The simulated network and
// NewEndpointOn's sockets are not, and keep the reader.
type deadlineSocket interface {
	SetReadDeadline(t time.Time) error
}

// readLease is an endpoint's state of the lease: the channel that takes
// the batchReader back to the reader goroutine, and the socket's deadline
// when it has one (nil: no lease).
type readLease struct {
	back      chan *batchReader
	deadlines deadlineSocket
}

func (l *readLease) init(sock packetConn) {
	if ds, ok := sock.(deadlineSocket); ok {
		l.deadlines = ds
		l.back = make(chan *batchReader, 1)
	}
}

// lend lends socket 0, read with br, to the driver of the endpoint's one
// connection, if it has exactly one and its handshake is complete, and
// reports whether it did; the reader then waits on lease.back. The check
// and the hand-over are made under mu, so a connection the endpoint has
// forgotten (which then never reads again) gets no lease.
func (e *Endpoint) lend(br *batchReader) bool {
	if e.lease.deadlines == nil {
		return false
	}
	e.mu.Lock()
	var c *Conn
	if !e.closed && len(e.all) == 1 {
		for c = range e.all {
		}
		if c.handshakeOK.Load() {
			br.r.holder = c
			c.leased.Store(br)
		} else {
			c = nil
		}
	}
	e.mu.Unlock()
	if c == nil {
		return false
	}
	c.signal() // a driver asleep on its channel comes to read
	return true
}

// returnLease gives the lease the driver holds, if any, back to the
// endpoint's reader, with the socket's read deadline cleared.
func (c *Conn) returnLease() {
	if br := c.leased.Swap(nil); br != nil {
		br.r.holder = nil
		_ = c.endpoint.lease.deadlines.SetReadDeadline(time.Time{})
		c.endpoint.lease.back <- br
	}
}

// deadlineEnded reports whether err, which ended the reader's read, is a
// read deadline a late waker of the last lease holder set (interruptRead
// after the lease came back), and clears it: the reader reads on.
func (l *readLease) deadlineEnded(err error) bool {
	if l.deadlines == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	_ = l.deadlines.SetReadDeadline(time.Time{})
	return true
}

// aLongTimeAgo is a read deadline that ends a read at once.
var aLongTimeAgo = time.Unix(1, 0)

// interruptRead ends the read of socket 0 the driver is blocked in, if it
// still is (Conn.signal).
func (c *Conn) interruptRead() {
	_ = c.endpoint.lease.deadlines.SetReadDeadline(aLongTimeAgo)
}

// readLeased is the driver's sleep while it holds the lease br: it reads
// socket 0 until deadline, until work comes or until a batch arrives, and
// routes what it read (its own datagrams go to its inbox). It reports
// whether it woke early, for datagrams or for work, rather than at the
// deadline; it gives the lease back when reading failed or a datagram was
// for another connection.
func (c *Conn) readLeased(br *batchReader, deadline time.Time) (woke bool) {
	e := c.endpoint
	if e.lease.deadlines.SetReadDeadline(deadline) != nil {
		c.returnLease()
		return true
	}
	c.inRead.Store(true)
	if c.mb.Pending() {
		c.inRead.Store(false)
		return true
	}
	n, err := e.sock.ReadBatch(br.msgs[:br.entries])
	c.inRead.Store(false)
	if n > 0 {
		br.r.foreign = false
		br.handle(n)
		if br.r.foreign {
			c.returnLease()
		}
	}
	switch {
	case err != nil && !errors.Is(err, os.ErrDeadlineExceeded):
		// The reader meets the error again, and deals with it.
		c.returnLease()
		return true
	case n > 0 || c.mb.Pending():
		return true
	}
	return time.Now().Before(deadline)
}
