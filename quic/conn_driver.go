package quic

import (
	"net/netip"
	"sync"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/udpio"
)

// datagram is a received datagram on its way from the endpoint's reader to
// a connection's driver. Buffers are pooled: the reader takes one per
// datagram and the driver returns it.
type datagram struct {
	buf  []byte // storage, cap maxReceiveSize
	n    int
	from netip.AddrPort
	ecn  uint8
}

// maxReceiveSize bounds the datagrams we accept: our max_udp_payload_size
// (1500) tells peers not to send more.
const maxReceiveSize = conn.MaxReceiveSize

// datagramCache is the free list of receive buffers, shared by the
// endpoints' readers (which take them) and the connections' drivers (which
// give them back, a batch at a time). Unlike a sync.Pool it is not emptied
// by garbage collection, so a steady flow of datagrams allocates nothing;
// it keeps at most maxCachedDatagrams buffers and lets the rest go.
type datagramCache struct {
	mu   sync.Mutex
	free []*datagram
}

// maxCachedDatagrams bounds the free list: 4096 buffers of 1500 bytes,
// enough for the datagrams in flight of several fast connections.
const maxCachedDatagrams = 4096

var rxBuffers datagramCache

// fill sets every nil entry of ds to a free buffer, with one lock.
func (dc *datagramCache) fill(ds []*datagram) {
	dc.mu.Lock()
	for i := range ds {
		if ds[i] != nil {
			continue
		}
		if n := len(dc.free); n > 0 {
			ds[i] = dc.free[n-1]
			dc.free[n-1] = nil
			dc.free = dc.free[:n-1]
		}
	}
	dc.mu.Unlock()
	for i := range ds {
		if ds[i] == nil {
			ds[i] = &datagram{buf: make([]byte, maxReceiveSize)}
		}
	}
}

// release gives the buffers of ds back, with one lock, and clears ds.
func (dc *datagramCache) release(ds []*datagram) {
	dc.mu.Lock()
	for i, d := range ds {
		if len(dc.free) < maxCachedDatagrams {
			dc.free = append(dc.free, d)
		}
		ds[i] = nil
	}
	dc.mu.Unlock()
}

// sendBufferSize holds one GSO burst: 64 datagrams of the largest size.
const (
	maxBurst       = udpio.MaxBatch
	sendBufferSize = maxBurst * conn.MaxDatagramSize
)

var sendBufPool = sync.Pool{New: func() any { b := make([]byte, 0, sendBufferSize); return &b }}

// deliverBatch hands the connection datagrams the endpoint's reader
// received for it: one lock and one wake-up for a run of a read batch.
func (c *Conn) deliverBatch(ds []*datagram) {
	c.inboxMu.Lock()
	if room := maxInbox - len(c.inbox); room < len(ds) {
		// The driver is this far behind: drop what does not fit, as a
		// full socket buffer would. Loss recovery and the congestion
		// controller deal with it; the queue, and the round-trip time it
		// adds, stay bounded.
		room = max(room, 0)
		rxBuffers.release(ds[room:])
		ds = ds[:room]
	}
	c.inbox = append(c.inbox, ds...)
	c.inboxMu.Unlock()
	c.mb.Wake()
}

// maxInbox bounds the datagrams waiting for a connection's driver.
const maxInbox = 1024

// run is the connection's goroutine, its driver: the only code that
// touches the state machine. Each turn it takes what arrived (datagrams
// from the endpoint, work from application goroutines), lets the timers
// fire, sends what is due, acts on the events, and sleeps until the next
// deadline or wake-up.
func (c *Conn) run() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var inbox []*datagram
	var reqs []func(*conn.Conn, time.Time)
	sm := c.sm
	for {
		now := time.Now()
		if c.mb.TakePending() {
			c.inboxMu.Lock()
			inbox, c.inbox = c.inbox, inbox[:0]
			c.inboxMu.Unlock()
			c.reqMu.Lock()
			reqs, c.reqs = c.reqs, reqs[:0]
			c.reqMu.Unlock()

			sm.ProcessMailbox(now)
			for i, fn := range reqs {
				fn(sm, now)
				reqs[i] = nil
			}
			for _, d := range inbox {
				sm.HandleDatagram(now, d.buf[:d.n], d.from, d.ecn)
			}
			rxBuffers.release(inbox)
		}
		if dl := sm.Deadline(); !dl.IsZero() && !now.Before(dl) {
			sm.HandleTimer(now)
		}
		c.handleEvents()
		c.flush(now)
		c.handleEvents()
		if sm.Closed() {
			c.drainInbox()
			return
		}
		dl := sm.Deadline()
		if dl.IsZero() {
			dl = now.Add(time.Hour)
		}
		d := time.Until(dl)
		if d <= 0 {
			continue
		}
		timer.Reset(d)
		select {
		case <-c.wake:
		case <-timer.C:
		}
	}
}

// flush sends everything the connection has to send now, a GSO burst at a
// time.
func (c *Conn) flush(now time.Time) {
	bp := sendBufPool.Get().(*[]byte)
	defer sendBufPool.Put(bp)
	for {
		buf, seg, ect := c.sm.AppendBurst(now, (*bp)[:0], maxBurst)
		if len(buf) == 0 {
			return
		}
		c.endpoint.writeECN(buf, seg, c.sm.PeerAddr(), ect)
		if seg == 0 || len(buf)%seg != 0 || len(buf) < maxBurst*seg {
			// A short burst means nothing more is due now.
			if !c.sm.Closing() {
				return
			}
		}
		// Sending a burst takes the kernel tens of microseconds, in
		// which the pacer earns credit for more at a high rate: ask
		// again at the time it is now, rather than sleeping on a timer
		// (whose wake-up takes longer than that) for credit already
		// earned.
		now = time.Now()
	}
}

// handleEvents acts on what the state machine reported.
func (c *Conn) handleEvents() {
	for _, ev := range c.sm.Events() {
		switch ev.Kind {
		case conn.EventHandshakeComplete:
			c.onHandshakeComplete()
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
				notify(s.readReady)
			}
		case conn.EventStreamWritable:
			if s := streamOf(ev.Stream); s != nil {
				notify(s.writeReady)
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
		case conn.EventPathChanged:
			peer := c.sm.PeerAddr()
			c.remoteAddr.Store(&peer)
		case conn.EventClosing:
			c.setCloseError(closeError(ev.Reason))
		case conn.EventClosed:
			c.finish()
		}
	}
}

// onHandshakeComplete lets Dial return, or queues a server connection for
// Accept.
func (c *Conn) onHandshakeComplete() {
	c.peerDatagramMax.Store(c.sm.PeerMaxDatagramFrameSize())
	if c.tracer != nil && c.tracer.HandshakeComplete != nil {
		c.tracer.HandshakeComplete()
	}
	c.handshakeOK.Store(true)
	close(c.handshakeDone)
	if !c.isClient {
		c.endpoint.onHandshakeComplete(c)
	}
}

// finish ends the connection for good: the driver stops and the endpoint
// forgets it.
func (c *Conn) finish() {
	c.setCloseError(ErrConnectionClosed)
	c.final = Stats(c.sm.Stats())
	// The tracer hears of the end before anyone waiting on done does, so
	// that a returned Close or Endpoint.Close means its trace is complete.
	if c.tracer != nil && c.tracer.Closed != nil {
		c.tracer.Closed(c.final)
	}
	select {
	case <-c.handshakeDone:
	default:
		close(c.handshakeDone)
	}
	c.endpoint.forget(c)
	close(c.done)
}

// drainInbox returns buffers that arrived after the connection closed.
func (c *Conn) drainInbox() {
	c.inboxMu.Lock()
	rxBuffers.release(c.inbox)
	c.inbox = nil
	c.inboxMu.Unlock()
}
