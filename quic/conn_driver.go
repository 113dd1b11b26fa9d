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

var datagramPool = sync.Pool{New: func() any { return &datagram{buf: make([]byte, maxReceiveSize)} }}

func getDatagram() *datagram  { return datagramPool.Get().(*datagram) }
func putDatagram(d *datagram) { datagramPool.Put(d) }

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
		for i, d := range inbox {
			c.handleDatagram(now, d.buf[:d.n], d.from, d.ecn)
			putDatagram(d)
			inbox[i] = nil
		}
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
		buf, seg := c.appendDatagrams(now, (*bp)[:0], maxBurst)
		if len(buf) == 0 {
			return
		}
		c.endpoint.write(buf, seg, c.path.peer)
		if seg == 0 || len(buf)%seg != 0 || len(buf) < maxBurst*seg {
			// A short burst means nothing more is due now.
			if c.closing.state != stateOpen {
				return
			}
		}
	}
}

// drainInbox returns buffers that arrived after the connection closed.
func (c *Conn) drainInbox() {
	c.inboxMu.Lock()
	for _, d := range c.inbox {
		putDatagram(d)
	}
	c.inbox = nil
	c.inboxMu.Unlock()
}
