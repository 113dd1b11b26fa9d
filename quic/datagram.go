package quic

import (
	"context"
	"sync"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
)

// datagramQueue holds the DATAGRAM frames received (RFC 9221) until the
// application takes them.
type datagramQueue struct {
	mu      sync.Mutex
	in      [][]byte
	ready   chan struct{}
	dropped uint64
}

// maxReceivedDatagrams bounds the datagrams waiting for ReceiveDatagram;
// more are dropped (datagrams are unreliable, RFC 9221 §5).
const maxReceivedDatagrams = 128

func (d *datagramQueue) init(enabled bool) {
	if enabled {
		// Without support nothing is ever received: ReceiveDatagram then
		// waits on a nil channel, until the context or the connection
		// ends, and a connection does not pay for it.
		d.ready = make(chan struct{}, 1)
	}
}

// received queues a datagram the connection received (driver goroutine).
func (d *datagramQueue) received(b []byte) {
	d.mu.Lock()
	if len(d.in) >= maxReceivedDatagrams {
		d.dropped++
	} else {
		d.in = append(d.in, b)
	}
	d.mu.Unlock()
	notify(d.ready)
}

// SendDatagram queues an unreliable datagram (RFC 9221). It fails when the
// peer does not accept datagrams or b cannot fit in a packet.
func (c *Conn) SendDatagram(b []byte) error {
	peerMax := c.peerDatagramMax.Load()
	if peerMax == 0 {
		return ErrDatagramsDisabled
	}
	if uint64(len(b)) > peerMax || len(b) > conn.InitialMaxDatagramSize-64 {
		return ErrDatagramTooLarge
	}
	data := append([]byte(nil), b...)
	c.call(func(sm *conn.Conn, _ time.Time) { sm.QueueDatagram(data) })
	return nil
}

// ReceiveDatagram waits for a datagram from the peer.
func (c *Conn) ReceiveDatagram(ctx context.Context) ([]byte, error) {
	d := &c.dgrams
	for {
		d.mu.Lock()
		if len(d.in) > 0 {
			b := d.in[0]
			d.in[0] = nil
			d.in = d.in[1:]
			more := len(d.in) > 0
			d.mu.Unlock()
			if more {
				notify(d.ready)
			}
			return b, nil
		}
		d.mu.Unlock()
		select {
		case <-d.ready:
		case <-ctxDone(ctx):
			return nil, ctx.Err()
		case <-c.closed:
			return nil, c.closeError()
		}
	}
}
