package quic

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

// A connection that has closed, or that the peer closed, must still
// recognise its packets for three PTOs (RFC 9000 §10.2): while closing it
// answers them with its CONNECTION_CLOSE, at a limited rate (§10.2.1);
// while draining it drops them and sends nothing (§10.2.2). The driver
// used to sit out that period with the whole connection: its goroutine
// parked on a timer, its state (keys, buffers, recovery, streams) live,
// and at the end a timer callback on a goroutine of its own woke the
// driver to finish. With handshakes at a high rate that was most of what
// an endpoint held (a server doing 2,000 a second holds 160 draining
// connections at a PTO of 27 ms), and the garbage collector scanned every
// one of their stacks and marked every one of their states each cycle.
//
// The period needs little of it: §10.2.1 lets a closing endpoint keep only
// its connection IDs and the datagram that carried its CONNECTION_CLOSE,
// and send that same datagram again (an exception to new packet numbers,
// §12.3). So once the CONNECTION_CLOSE has gone out (or the connection
// drains), the driver finishes the connection at once and leaves the
// endpoint a lingerEntry under each of its connection IDs; the reader
// answers or drops what arrives for them, and one timer per endpoint drops
// the entries whose period is over.
//
// A connection lingers only on the endpoint's first socket, and not when
// the endpoint is its own (Dial's, which closes with it): those keep the
// period in the driver, as before.

// lingerEntry is what remains of a connection in its closing or draining
// period.
type lingerEntry struct {
	ids      []wire.ConnectionID
	deadline time.Time
	remote   netip.AddrPort
	// close is the datagram that carried our CONNECTION_CLOSE, sent again
	// in answer to the 1st, 2nd, 4th, 8th... datagram that arrives (as
	// the state machine did, conn.closeState); nil while draining.
	close    []byte
	received atomic.Uint32
}

// lingerGranularity is the shortest wait of the endpoint's linger timer:
// entries whose periods end within it go in one sweep. A period may last
// that much longer; RFC 9000 §10.2 asks for at least three PTOs.
const lingerGranularity = 10 * time.Millisecond

// lingerState is the Endpoint's part: the entries by connection ID, all of
// them in a min-heap by deadline, and the timer that sweeps them; guarded
// by Endpoint.mu. A sweep takes only the entries whose periods are over:
// a scan of all of them each sweep cost a server 2 µs a handshake at 1,500
// handshakes a second (each entry looked at some 25 times in its period of
// three PTOs, ~250 ms on a loaded loopback, in memory long gone cold).
type lingerState struct {
	byID  map[wire.ConnectionID]*lingerEntry
	queue []lingerItem // a min-heap by deadline
	timer *time.Timer
	armed bool
}

// lingerItem is an entry of the heap, with its deadline beside it, so that
// keeping the heap reads no entry.
type lingerItem struct {
	deadline time.Time
	l        *lingerEntry
}

// push adds l to the heap.
func (ls *lingerState) push(l *lingerEntry) {
	q := append(ls.queue, lingerItem{deadline: l.deadline, l: l})
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q[i].deadline.Before(q[parent].deadline) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
	ls.queue = q
}

// pop removes the entry with the earliest deadline from the heap and
// returns it; the heap is not empty.
func (ls *lingerState) pop() *lingerEntry {
	q := ls.queue
	l := q[0].l
	last := len(q) - 1
	q[0] = q[last]
	q[last] = lingerItem{}
	q = q[:last]
	for i := 0; ; {
		least, left, right := i, 2*i+1, 2*i+2
		if left < len(q) && q[left].deadline.Before(q[least].deadline) {
			least = left
		}
		if right < len(q) && q[right].deadline.Before(q[least].deadline) {
			least = right
		}
		if least == i {
			break
		}
		q[i], q[least] = q[least], q[i]
		i = least
	}
	ls.queue = q
	return l
}

// linger replaces c's routes (ids, those still routed to c) with l until
// l.deadline; with e.mu held. The caller has forgotten c.
func (e *Endpoint) linger(l *lingerEntry, ids []wire.ConnectionID) {
	ls := &e.lingering
	if ls.byID == nil {
		ls.byID = make(map[wire.ConnectionID]*lingerEntry)
	}
	l.ids = ids
	for _, id := range ids {
		ls.byID[id] = l
	}
	ls.push(l)
	if ls.armed {
		return
	}
	ls.armed = true
	wait := max(time.Until(l.deadline), lingerGranularity)
	if ls.timer == nil {
		ls.timer = time.AfterFunc(wait, e.sweepLingering)
	} else {
		ls.timer.Reset(wait)
	}
}

// lingeringFor returns the entry routed under id, if any; with e.mu held.
func (e *Endpoint) lingeringFor(id wire.ConnectionID) *lingerEntry {
	if len(e.lingering.byID) == 0 {
		return nil
	}
	return e.lingering.byID[id]
}

// answer deals with a datagram for a lingering connection: a closing one
// sends its CONNECTION_CLOSE again at an exponentially falling rate (RFC
// 9000 §10.2.1), to the peer's address on the connection's path, never to
// a new address (which could be spoofed); a draining one drops it.
func (l *lingerEntry) answer(e *Endpoint) {
	if l.close == nil {
		return
	}
	if n := l.received.Add(1); n&(n-1) == 0 {
		e.write(l.close, l.remote)
	}
}

// sweepLingering drops the entries whose period is over, and sets the
// timer for the next one to end: the linger timer's callback.
func (e *Endpoint) sweepLingering() {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	ls := &e.lingering
	for len(ls.queue) > 0 && !now.Before(ls.queue[0].deadline) {
		l := ls.pop()
		for _, id := range l.ids {
			if ls.byID[id] == l {
				delete(ls.byID, id)
			}
		}
	}
	if len(ls.queue) == 0 {
		// An endpoint with no connection ending keeps no table.
		ls.byID, ls.queue, ls.armed = nil, nil, false
		return
	}
	ls.timer.Reset(max(ls.queue[0].deadline.Sub(now), lingerGranularity))
}

// stopLingering drops every entry: the endpoint is closing. With e.mu
// held.
func (e *Endpoint) stopLingering() {
	ls := &e.lingering
	if ls.timer != nil {
		ls.timer.Stop()
	}
	ls.byID, ls.queue, ls.armed = nil, nil, false
}

// lingerNow ends a closing or draining connection at once, leaving the
// endpoint a lingerEntry for the rest of its period, and reports whether
// it did: not before our CONNECTION_CLOSE has gone out, nor on a path of
// another socket, nor on Dial's own endpoint, nor when the period ends
// within lingerGranularity anyway (CloseNow's, a silent drain's). The
// driver calls it at the end of a turn.
func (c *Conn) lingerNow(now time.Time) bool {
	sm := c.sm
	draining := sm.Draining()
	if !draining && c.closeDatagram == nil {
		return false
	}
	path := sm.CurrentPath()
	dl := sm.Deadline()
	if path.Local != 0 || dl.Sub(now) < lingerGranularity {
		return false
	}
	e := c.endpoint
	e.mu.Lock()
	owned := e.ownedBy == c
	e.mu.Unlock()
	if owned {
		return false
	}
	l := &lingerEntry{deadline: dl, remote: path.Remote}
	if !draining {
		l.close = c.closeDatagram
	}
	c.closeDatagram = nil
	c.end(l)
	return true
}
