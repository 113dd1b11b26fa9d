package quic

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/udpio"
)

// A GSO burst is at most maxBurst datagrams, and no more than one GSO
// entry carries (udpio.MaxGSOBytes: 45 of 1452 bytes); a system call sends
// up to sendDatagrams datagrams of the largest size (conn.MaxDatagramSize)
// in up to sendBursts bursts.
const (
	maxBurst      = udpio.MaxBatch
	sendDatagrams = 4 * maxBurst
	sendBursts    = 8
)

// sendBuffer holds what one system call sends: up to sendDatagrams
// of the largest datagrams, 372 KB (sendBufferCap), taken from a pool while
// a driver sends (23 KB while the handshake runs: handshakeSendBufPool,
// which never grows). A new one starts at smallSendBuffer and grows to
// sendBufferCap the first time a flush fills it: the garbage collector
// empties the pool, and a server doing handshakes (a flight or two of
// datagrams each) made a zeroed 372 KB buffer after every collection, 7 KB
// a handshake on each side, the largest allocation a handshake caused.
// smallSendBuffer still holds the largest datagram: a path MTU probe is
// built in this buffer, and one that did not fit would end the search
// below what the path carries (conn.appendMTUProbe).
type sendBuffer struct {
	b    []byte
	msgs [sendBursts]udpio.Message
}

const (
	sendBufferCap   = sendDatagrams * conn.MaxDatagramSize
	smallSendBuffer = 1 << 16 // > the largest UDP payload, 65527 bytes
)

// sendBufPool's reserve keeps 8 buffers (512 KB) while connections are
// active, not those a bulk transfer grew (sendbuf.go).
var sendBufPool = newSendBufferPool(8, smallSendBuffer)

// handshakeSendDatagrams is the room of the send buffer of a connection
// whose handshake has not completed: more than it may send in one go (its
// initial congestion window is 10 datagrams, RFC 9002 §7.2, and a server
// sends at most three times what it received until the client's address is
// validated, RFC 9000 §8.1). A larger send only takes another round of
// flush's loop.
const handshakeSendDatagrams = 16

// handshakeSendBufPool holds the send buffers of handshaking connections,
// 23 KB each. A flood of first flights starts a half-open connection for
// each (up to Config.MaxHalfOpen), and on a loaded machine many of their
// drivers are preempted inside flush at once: with a 372 KB buffer each,
// 80 of them held 30 MB. Its reserve keeps 16 (368 KB): the server of
// BenchmarkHandshake/mode=parallel, 32 handshakes at a time, still made a
// buffer every 60 handshakes with 8.
var handshakeSendBufPool = newSendBufferPool(16, handshakeSendDatagrams*conn.MaxDatagramSize)

// deliver hands the connection datagrams the endpoint's reader received
// for it, each holding a reference to its buffer: one lock and one wake-up
// for a run of a read batch. It clears ds.
func (c *Conn) deliver(ds []datagram) {
	c.inboxMu.Lock()
	if c.inboxClosed {
		// The driver has ended: nothing takes the inbox any more.
		c.inboxMu.Unlock()
		releaseDatagrams(ds)
		return
	}
	// The driver may be far behind: what does not fit is dropped, as a
	// full socket buffer would. Loss recovery and the congestion
	// controller deal with it; the queue, the round-trip time it adds and
	// the memory it holds stay bounded.
	maxBytes, maxGRO := inboxLimits(c.inboxWindow)
	keep := 0
	for keep < len(ds) {
		d := &ds[keep]
		gro := d.rb.pool == &groBuffers
		if c.inboxBytes+int(d.n) > maxBytes || (gro && c.inboxGRO >= maxGRO) {
			break
		}
		if over := c.inboxBytes + int(d.n) - maxInboxBytes; over > c.inboxSurplus && !c.chargeSurplus(over) {
			break
		}
		c.inboxBytes += int(d.n)
		if gro {
			c.inboxGRO++
		}
		keep++
	}
	releaseDatagrams(ds[keep:])
	c.inbox = append(c.inbox, ds[:keep]...)
	c.inboxMu.Unlock()
	clear(ds)
	c.mb.Wake()
}

// chargeSurplus raises what c's inbox holds beyond the floor
// (maxInboxBytes) to over, if the endpoint's shared budget has room; with
// c.inboxMu held.
func (c *Conn) chargeSurplus(over int) bool {
	need := int64(over - c.inboxSurplus)
	if s := &c.endpoint.inboxSurplus; s.Add(need) > maxEndpointInboxSurplus {
		s.Add(-need)
		return false
	}
	c.inboxSurplus = over
	return true
}

// releaseSurplus gives back what c's inbox charged to the endpoint's
// budget, when the driver takes the inbox or drops it; with c.inboxMu held.
func (c *Conn) releaseSurplus() {
	if c.inboxSurplus > 0 {
		c.endpoint.inboxSurplus.Add(-int64(c.inboxSurplus))
		c.inboxSurplus = 0
	}
}

// maxInboxBytes bounds the bytes of datagrams waiting for a connection's
// driver, and maxInboxGRO the 64 KiB buffers they may hold (8 MiB), unless
// the connection's receive window is larger (inboxLimits): a receiver that
// falls behind a burst should not drop what a kernel socket buffer of that
// size would have kept. A connection with nothing due and nothing arriving
// for idleAfter trims what bursts grew.
const (
	maxInboxBytes = 6 << 20
	maxInboxGRO   = 128
	idleAfter     = time.Second
	// maxEndpointInboxSurplus is what an endpoint's connections may
	// queue beyond their floors together: three connections at the
	// default MaxConnectionWindow (24 MiB) filling their whole inboxes.
	maxEndpointInboxSurplus = 64 << 20
)

// inboxLimits sizes a connection's inbox for its receive window: the
// window's worth of datagrams, an eighth more for packet overhead and
// retransmissions, in GRO buffers filled to a third of their 64 KiB on
// average at least (a peer's GSO burst of 64 datagrams of 1452 bytes
// arrives as runs of 45 and 19, 27.6 KB). A peer within flow control then
// cannot overflow it, however long the driver is kept from running: on a
// loaded machine a driver descheduled for a few milliseconds while the
// endpoint's reader ran on dropped the end of a burst at 6 MB, 0.1-0.5% of
// a bulk transfer's packets, and the congestion controller took every
// such loss for congestion (a window of 9-13 MB fell to 0.5 MB). What a
// connection may hold is then what its receive window already committed
// us to (up to Config.MaxConnectionWindow plus an eighth, in three times
// that of buffers at the most), and never less than the floor. What the
// inboxes of an endpoint's connections hold beyond their floors together
// is bounded by maxEndpointInboxSurplus (chargeSurplus): a server whose
// many fast connections are all kept from running at once then holds at
// most the floors and that, not every connection's window.
func inboxLimits(window uint64) (bytes, gro int) {
	b := window + window/8
	if b <= maxInboxBytes {
		return maxInboxBytes, maxInboxGRO
	}
	return int(b), max(maxInboxGRO, int(3*b/(64<<10)))
}

// driver is the state of a connection's driver loop (run): the only
// code that touches the state machine. It runs on the connection's own
// goroutine, except while a client's handshake runs: then Dial's caller,
// which waits for the handshake anyway, is the driver (dialDriver,
// conn_start.go), and hands the loop to a goroutine once the handshake
// has completed.
type driver struct {
	c *Conn
	// The timer wakes the driver through c.wake, as work does, so that
	// the driver sleeps on one channel: a timer with a channel of its own
	// and a select over both would cost an idle connection a channel and
	// a second waiting record, about 200 bytes. fired tells the two
	// wake-ups apart.
	timer   *time.Timer
	fired   atomic.Bool
	inbox   []datagram
	reqs    []driverRequest
	trimmed bool
	window  uint64 // the receive window the inbox was last sized for
}

func newDriver(c *Conn) *driver {
	d := &driver{c: c}
	d.timer = time.AfterFunc(time.Hour, func() {
		d.fired.Store(true)
		c.signal()
	})
	return d
}

// run is the connection's goroutine: the driver loop until the connection
// has ended.
func (d *driver) run() { d.loop(nil) }

// loop is the driver. Each turn it takes what arrived (datagrams from the
// endpoint, work from application goroutines), lets the timers fire, sends
// what is due, acts on the events, and sleeps until the next deadline or
// wake-up. It returns true when the connection has ended. With dialing
// non-nil (Dial's caller drives a client's handshake: dialDriver) it
// returns false instead as soon as the handshake has completed, before it
// sends what completing it queued (see below), or the connection has
// started to close, or dialing is closed (Dial's context ended).
func (d *driver) loop(dialing <-chan struct{}) (ended bool) {
	c := d.c
	sm := c.sm
	for {
		c.cork()
		now := time.Now()
		received := false
		if c.mb.TakePending() {
			c.inboxMu.Lock()
			d.inbox, c.inbox = c.inbox, d.inbox[:0]
			c.inboxBytes, c.inboxGRO = 0, 0
			c.releaseSurplus()
			c.inboxMu.Unlock()
			c.reqMu.Lock()
			d.reqs, c.reqs = c.reqs, d.reqs[:0]
			c.reqMu.Unlock()

			if len(d.inbox) > 0 && !c.handshakeOK.Load() {
				c.presizeHandshakeStack()
			}
			sm.ProcessMailbox(now)
			for i := range d.reqs {
				d.reqs[i].run(sm, now)
				d.reqs[i] = driverRequest{}
			}
			for i := range d.inbox {
				dg := &d.inbox[i]
				b := dg.bytes()
				seg := int(dg.seg)
				if seg <= 0 {
					seg = len(b)
				}
				// A GRO run is parsed where it lies, a datagram at a time.
				// Its path and holder are made once: a Path literal in the
				// call was built and copied for every datagram, and the
				// copy stalled on its own stores (store forwarding).
				path, h := conn.Path{Local: int(dg.local), Remote: dg.from}, dg.holder()
				for len(b) > 0 {
					n := min(seg, len(b))
					sm.HandleDatagramHeld(now, b[:n], &path, dg.ecn, h)
					b = b[n:]
				}
			}
			received = len(d.inbox) > 0
			releaseDatagrams(d.inbox)
		}
		if dl := sm.Deadline(); !dl.IsZero() && !now.Before(dl) {
			sm.HandleTimer(now)
		}
		completed := c.handshakeOK.Load()
		c.handleEvents()
		if dialing != nil && !sm.Closed() && (c.handshakeOK.Load() || c.isClosing()) {
			// Dial's caller goes back to its program, and the loop to
			// a goroutine of its own, which sends our Finished on its
			// first turn: behind what the caller does first (its
			// request, or a Close), as the Gosched below arranges.
			return false
		}
		if c.isClient && !completed && c.handshakeOK.Load() && c.confirmed == nil && !sm.Closing() {
			// The handshake has just completed and Dial's caller is
			// runnable: yield once before sending our Finished, so
			// that what the caller does first (its request, or a
			// Close) leaves work in the mailbox and goes out in the
			// same datagram, coalesced behind the Handshake packet
			// (RFC 9000 §12.2), rather than in a datagram, a system
			// call and a driver wake-up of its own. A caller that does
			// nothing at once costs this one Gosched.
			runtime.Gosched()
			if c.mb.Pending() {
				continue
			}
		}
		c.flush(now)
		c.handleEvents()
		if w := sm.ReceiveWindow(); w != d.window {
			// Before the peer can use the credit of a MAX_DATA just
			// sent, the inbox has room for it.
			d.window = w
			c.inboxMu.Lock()
			c.inboxWindow = w
			c.inboxMu.Unlock()
		}
		if sm.Closed() || (sm.Closing() && c.lingerNow(now)) {
			c.drainInbox()
			trimPoolsAtEnd()
			d.timer.Stop()
			return true
		}
		if c.trimNow {
			// A test asked for the trim an idle connection gets
			// (idle_mem_test.go) without waiting for idleAfter.
			c.trimNow = false
			d.inbox = nil
			c.trimIdle()
		}
		// A driver that has just handled datagrams yields once before it
		// parks: the endpoint's reader, woken by the next datagrams while
		// this turn ran, often waits for this very processor, and
		// delivers to a driver that has not parked without waking it.
		// Parking at once instead made each batch cost a park here, a
		// wake-up of the driver by the reader (another thread woken to
		// run it) and a search for work, and ACKs went out after smaller
		// runs of packets (RFC 9000 §13.2.2 lets a receiver process the
		// packets available before it decides to acknowledge). Not while
		// the handshake runs: a flight answers a flight, the next one
		// comes a round trip later, and the yield only cost a wake-up of
		// an idle thread (runtime.Gosched starts one to look for work) on
		// the way from a server's flight to its client: 0.27 a handshake
		// at one at a time.
		if received && c.handshakeOK.Load() && !c.mb.Pending() {
			runtime.Gosched()
		}
		if c.mb.Pending() {
			continue
		}
		dl := sm.Deadline()
		if dl.IsZero() {
			dl = now.Add(time.Hour)
		}
		wait := time.Until(dl)
		if wait <= 0 {
			continue
		}
		trim := wait > idleAfter && !d.trimmed
		if trim {
			// Nothing is due for a while. If nothing comes either, the
			// connection is idle, and keeps little of what its last
			// burst needed.
			wait = idleAfter
		}
		d.fired.Store(false)
		d.timer.Reset(wait)
		if dialing == nil {
			<-c.wake
		} else {
			select {
			case <-c.wake:
			case <-dialing:
				return false
			}
		}
		switch {
		case !d.fired.Load() || c.mb.Pending():
			d.trimmed = false // work came
		case trim:
			d.inbox = nil
			c.trimIdle()
			d.trimmed = true
		}
	}
}

// trimIdle lets go of what the connection's last burst grew, and rests its
// keys (conn.Conn.Trim): the driver calls it when nothing was due and
// nothing arrived for idleAfter. The driver drops its own spare inbox.
func (c *Conn) trimIdle() {
	c.inboxMu.Lock()
	if len(c.inbox) == 0 {
		c.inbox = nil
	}
	c.inboxMu.Unlock()
	c.sm.Trim()
	trimPools()
}

// flush sends everything the connection has to send now: bursts of
// equal-size datagrams (one GSO send each), several per system call. It
// stops early when work is waiting (acknowledgments to process free the
// congestion window and the streams' buffers): the driver comes back at
// once.
func (c *Conn) flush(now time.Time) {
	pool := sendBufPool
	if !c.handshakeOK.Load() {
		pool = handshakeSendBufPool
	}
	sb := pool.get()
	defer pool.put(sb)
	c.flushPathProbes(now, sb)
	path := c.sm.CurrentPath()
	for {
		buf, n, more, filled := sb.b[:0], 0, true, false
		for n < sendBursts {
			start := len(buf)
			// As many datagrams as the buffer holds: larger ones
			// (MaxDatagramSize) make shorter bursts. And no more than
			// one GSO entry carries (udpio.MaxGSOBytes): a burst of 64
			// datagrams of 1452 bytes was cut into entries of 45 and
			// 19, and each entry costs the kernels of both sides a
			// datagram's work (an sk_buff through the stack).
			dgram := c.sm.MaxDatagramSize()
			count := min(maxBurst, (cap(buf)-start)/dgram, max(udpio.MaxGSOBytes/dgram, 1))
			if count == 0 {
				filled = true
				break
			}
			out, seg, ect := c.sm.AppendBurst(now, buf, count)
			if len(out) == start {
				more = false
				break
			}
			buf = out
			mark := udpio.ECNNotECT
			if ect {
				// RFC 9000 §13.4.2: one mark for the whole burst.
				mark = udpio.ECNECT0
			}
			size := len(buf) - start
			if seg >= size {
				seg = 0
			}
			if c.sm.Closing() && seg == 0 && c.closeDatagram == nil && !c.sm.Draining() {
				// The datagram that carries our CONNECTION_CLOSE, which
				// lingering sends again (endpoint_linger.go).
				c.closeDatagram = append([]byte(nil), buf[start:]...)
			}
			sb.msgs[n] = udpio.Message{Buf: buf[start:], N: size, Addr: path.Remote, ECN: mark, SegmentSize: seg}
			n++
			if c.sm.Closing() && (seg == 0 || size < count*seg) {
				// A closing connection sends its CONNECTION_CLOSE once.
				more = false
				break
			}
		}
		if n > 0 {
			c.endpoint.sendOn(path.Local, sb.msgs[:n], c.sm.OnDatagramTooBig)
			clear(sb.msgs[:n])
		}
		if filled && pool == sendBufPool && cap(sb.b) < sendBufferCap {
			sb.b = make([]byte, 0, sendBufferCap)
		}
		if !more || c.mb.Pending() {
			return
		}
		// Sending takes the kernel tens of microseconds, in which the
		// pacer earns credit for more at a high rate: ask again at the
		// time it is now, rather than sleeping on a timer (whose wake-up
		// takes longer than that) for credit already earned.
		now = time.Now()
	}
}

// flushPathProbes sends the datagrams of PATH_CHALLENGE and PATH_RESPONSE
// frames due on paths other than the current one, each on its own path
// (RFC 9000 §8.2).
func (c *Conn) flushPathProbes(now time.Time, sb *sendBuffer) {
	for {
		out, p := c.sm.AppendPathProbe(now, sb.b[:0])
		if len(out) == 0 {
			return
		}
		sb.msgs[0] = udpio.Message{Buf: out, N: len(out), Addr: p.Remote}
		c.endpoint.sendOn(p.Local, sb.msgs[:1], nil)
		sb.msgs[0] = udpio.Message{}
	}
}

// handleEvents acts on what the state machine reported.
func (c *Conn) handleEvents() {
	refuse := false
	for _, ev := range c.sm.Events() {
		switch ev.Kind {
		case conn.EventHandshakeComplete:
			if !c.onHandshakeComplete() {
				refuse = true
			}
		case conn.EventStreamOpened:
			s := newStream(c, ev.Stream)
			kind := 0
			if !ev.Stream.HasSend() || !ev.Stream.HasRecv() {
				kind = 1
			}
			c.acceptMu.Lock()
			c.accept[kind] = append(c.accept[kind], s)
			c.acceptMu.Unlock()
			c.streamChanged.fire()
		case conn.EventStreamReadable:
			if s := streamOf(ev.Stream); s != nil {
				s.readReady.notify()
			}
		case conn.EventStreamWritable:
			if s := streamOf(ev.Stream); s != nil {
				s.writeReady.notify()
			}
		case conn.EventStreamsAvailable:
			c.streamChanged.fire()
		case conn.EventConnIDIssued:
			c.endpoint.addConnID(ev.ConnID, c)
		case conn.EventConnIDRetired:
			c.endpoint.removeConnID(ev.ConnID)
		case conn.EventResetTokenAdded:
			c.endpoint.addResetToken([wire.StatelessResetTokenLen]byte(ev.Data), c)
		case conn.EventResetTokenRemoved:
			c.endpoint.removeResetToken([wire.StatelessResetTokenLen]byte(ev.Data), c)
		case conn.EventDatagram:
			c.dgrams.received(ev.Data)
		case conn.EventPathChanged, conn.EventPathAbandoned:
			c.onPathEvent(&ev)
		case conn.EventClosing:
			c.setCloseError(closeError(ev.Reason))
			c.endStreamContexts()
		case conn.EventClosed:
			c.finish()
		case conn.EventStreamAborted:
			if s := streamOf(ev.Stream); s != nil {
				s.checkAborted(true)
			}
		case conn.EventStreamFinished:
			if s := streamOf(ev.Stream); s != nil {
				c.unwatch(s)
			}
		case conn.EventEarlyDataAccepted:
			if !c.onEarlyDataAccepted() {
				refuse = true
			}
		case conn.EventNewToken:
			c.onNewToken(ev.Data)
		}
	}
	if refuse {
		// After the loop: the events slice is valid only until the next
		// call into the state machine, and Refuse's EventClosing would
		// reuse its storage under the events not yet handled (the
		// connection IDs and streams of the same turn).
		c.sm.Refuse()
	}
	if c.confirmed != nil && c.sm.HandshakeConfirmed() {
		c.confirmedOK.Store(true)
		close(c.confirmed)
		c.confirmed = nil
	}
}

// onHandshakeComplete lets Dial return, or queues a server connection for
// Accept; it reports false when the accept queue is full and the
// connection is to be refused.
func (c *Conn) onHandshakeComplete() (queued bool) {
	c.peerDatagramMax.Store(c.sm.PeerMaxDatagramFrameSize())
	if c.tracer != nil && c.tracer.HandshakeComplete != nil {
		c.tracer.HandshakeComplete()
	}
	c.handshakeOK.Store(true)
	c.handshakeDone.fire()
	c.endHalfOpen()
	if c.onHandshakeCompleteEarly() && !c.isClient {
		return c.endpoint.onHandshakeComplete(c)
	}
	return true
}

// finish ends the connection for good: the driver stops and the endpoint
// forgets it.
func (c *Conn) finish() { c.end(nil) }

// end is finish; with l, the endpoint keeps l for the connection's closing
// or draining period (lingerNow).
func (c *Conn) end(l *lingerEntry) {
	c.setCloseError(ErrConnectionClosed)
	c.endStreamContexts()
	final := statsOf(c.sm.Stats())
	c.final = &final
	tlsState := c.sm.TLSState()
	c.finalTLS = &tlsState
	// The tracer hears of the end before anyone waiting on done does, so
	// that a returned Close or Endpoint.Close means its trace is complete.
	if c.tracer != nil && c.tracer.Closed != nil {
		c.tracer.Closed(final)
	}
	c.handshakeDone.fire()
	c.endHalfOpen()
	if c.confirmed != nil {
		close(c.confirmed)
		c.confirmed = nil
	}
	c.endpoint.forget(c, l)
	c.endpoint.closeSockets(func(_ int, ps *pathSocket) bool { return ps.owner != c })
	c.settleMigrations(c.sm.CurrentPath(), c.closeError())
	c.done.fire()
}

// drainInbox releases datagrams that arrived after the connection closed,
// and those the reader delivers until the endpoint forgets the connection.
func (c *Conn) drainInbox() {
	c.inboxMu.Lock()
	c.inboxClosed = true
	releaseDatagrams(c.inbox)
	c.inbox = nil
	c.inboxBytes, c.inboxGRO = 0, 0
	c.releaseSurplus()
	c.inboxMu.Unlock()
}
