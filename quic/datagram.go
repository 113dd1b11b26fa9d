package quic

import (
	"context"
	"sync"
	"time"

	"github.com/skiffnet/skiff/internal/quicvarint"
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

// maxDatagramPayload is the most a DATAGRAM frame carries in a packet of
// a datagram every path takes (1200 bytes, RFC 9000 §14), after the
// largest 1-RTT header, the AEAD tag and the frame's own header, with
// room to spare for an ACK frame beside it.
const maxDatagramPayload = conn.InitialMaxDatagramSize - 64

// MaxDatagramSize is the largest payload SendDatagram takes: what fits in
// a packet every path carries and in the largest DATAGRAM frame the peer
// accepts (its max_datagram_frame_size counts the frame's type and length
// too, RFC 9221 §3). It is 0 when the peer accepts no datagrams, and
// before the handshake completes.
func (c *Conn) MaxDatagramSize() int {
	peerMax := c.peerDatagramMax.Load()
	overhead := 1 + uint64(quicvarint.Len(peerMax)) // type, length
	if peerMax <= overhead {
		return 0
	}
	return int(min(peerMax-overhead, maxDatagramPayload))
}

// SendDatagram queues an unreliable datagram (RFC 9221). It fails when the
// peer does not accept datagrams (ErrDatagramsDisabled) or b is longer than
// MaxDatagramSize (ErrDatagramTooLarge).
func (c *Conn) SendDatagram(b []byte) error {
	limit := c.MaxDatagramSize()
	if limit == 0 {
		return ErrDatagramsDisabled
	}
	if len(b) > limit {
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
