package quic

import (
	"net/netip"
	"sync"
	"time"

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
const maxReceiveSize = 1500

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
	sendBufferSize = maxBurst * maxDatagramSize
)

var sendBufPool = sync.Pool{New: func() any { b := make([]byte, 0, sendBufferSize); return &b }}

// deliver hands a received datagram to the connection (called by the
// endpoint's reader).
func (c *Conn) deliver(d *datagram) {
	c.inboxMu.Lock()
	c.inbox = append(c.inbox, d)
	c.inboxMu.Unlock()
	c.signal()
}

// deliverBatch hands the connection several datagrams at once: one lock and
// one wake-up for a run of a read batch.
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
	c.signal()
}

// maxInbox bounds the datagrams waiting for a connection's driver.
const maxInbox = 1024

// submit runs fn on the connection's goroutine, with the time it runs at.
// Without a driver (tests driving the state machine) it runs at once.
func (c *Conn) submit(fn func(now time.Time)) {
	if c.endpoint == nil {
		fn(time.Now())
		return
	}
	c.inboxMu.Lock()
	c.calls = append(c.calls, fn)
	c.inboxMu.Unlock()
	c.signal()
}

// run is the connection's goroutine: it owns the state machine, feeding it
// datagrams, calls and timers, and sending what it produces.
func (c *Conn) run() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var inbox []*datagram
	var calls []func(time.Time)
	for {
		c.inboxMu.Lock()
		inbox, c.inbox = c.inbox, inbox[:0]
		calls, c.calls = c.calls, calls[:0]
		c.inboxMu.Unlock()

		now := time.Now()
		for _, d := range inbox {
			c.handleDatagram(now, d.buf[:d.n], d.from, d.ecn)
		}
		rxBuffers.release(inbox)
		for i, fn := range calls {
			fn(now)
			calls[i] = nil
		}
		if dl := c.deadline(); !dl.IsZero() && !now.Before(dl) {
			c.handleTimer(now)
		}
		c.flush(now)
		c.publishStats()
		if c.closing.state == stateClosed {
			c.drainInbox()
			return
		}
		dl := c.deadline()
		if dl.IsZero() {
			dl = now.Add(time.Hour)
		}
		timer.Reset(time.Until(dl))
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
		buf, seg, ect := c.appendBurst(now, (*bp)[:0], maxBurst)
		if len(buf) == 0 {
			return
		}
		c.endpoint.writeECN(buf, seg, c.path.peer, ect)
		if seg == 0 || len(buf)%seg != 0 || len(buf) < maxBurst*seg {
			// A short burst means nothing more is due now.
			if c.closing.state != stateOpen {
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

// drainInbox returns buffers that arrived after the connection closed.
func (c *Conn) drainInbox() {
	c.inboxMu.Lock()
	rxBuffers.release(c.inbox)
	c.inbox = nil
	c.inboxMu.Unlock()
}
