package quic

import (
	"context"
	"sync"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

// maxDatagramFrameSize is the max_datagram_frame_size we advertise: any
// DATAGRAM frame that fits a packet (RFC 9221 §3).
const maxDatagramFrameSize = 65535

// datagramState carries unreliable datagrams (RFC 9221).
type datagramState struct {
	enabled bool   // we advertised support
	peerMax uint64 // the peer's max_datagram_frame_size; 0: not supported

	mu      sync.Mutex
	out     [][]byte
	in      [][]byte
	inReady chan struct{}
	dropped uint64
}

const maxQueuedDatagrams = 128

func (d *datagramState) init(config *Config) {
	d.enabled = config.EnableDatagrams
	if d.enabled {
		// Without support nothing is ever received: ReceiveDatagram
		// then waits on a nil channel, until the context or the
		// connection ends, and a connection does not pay for it.
		d.inReady = make(chan struct{}, 1)
	}
}

func (d *datagramState) setPeerMax(n uint64) { d.peerMax = n }

// onDatagram handles a received DATAGRAM frame: a PROTOCOL_VIOLATION when
// we did not advertise support (RFC 9221 §4); dropped when the application
// lags behind.
func (d *datagramState) onDatagram(c *Conn, data []byte) error {
	if !d.enabled {
		return localError(wire.ProtocolViolation, wire.FrameTypeDatagram, "DATAGRAM frame without max_datagram_frame_size")
	}
	d.mu.Lock()
	if len(d.in) >= maxReceivedDatagramFrames {
		d.dropped++
	} else {
		d.in = append(d.in, append([]byte(nil), data...))
	}
	d.mu.Unlock()
	notify(d.inReady)
	c.stats.DatagramsReceived++
	return nil
}

func (d *datagramState) pending() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.out) > 0
}

// appendFrames appends queued datagrams that fit; one too large for any
// packet is dropped (datagrams are unreliable, RFC 9221 §5).
func (d *datagramState) appendFrames(f *frameWriter) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.out) > 0 {
		b := d.out[0]
		fr := wire.DatagramFrame{Data: b}
		if fr.Len() > f.room() {
			return
		}
		f.buf = fr.Append(f.buf)
		f.record(sentDatagram, 0, 0, 0, false)
		d.out[0] = nil
		d.out = d.out[1:]
	}
}

// SendDatagram queues an unreliable datagram (RFC 9221). It fails when the
// peer does not accept datagrams or b cannot fit in a packet.
func (c *Conn) SendDatagram(b []byte) error {
	d := &c.dgrams
	if !c.peerParamsSet || d.peerMax == 0 {
		return ErrDatagramsDisabled
	}
	if uint64(len(b)) > d.peerMax || len(b) > initialMaxDatagramSize-64 {
		return ErrDatagramTooLarge
	}
	d.mu.Lock()
	if len(d.out) >= maxQueuedDatagrams {
		d.out = d.out[1:] // drop the oldest: fresh data matters more
	}
	d.out = append(d.out, append([]byte(nil), b...))
	d.mu.Unlock()
	c.signal()
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
				notify(d.inReady)
			}
			return b, nil
		}
		d.mu.Unlock()
		select {
		case <-d.inReady:
		case <-ctxDone(ctx):
			return nil, ctx.Err()
		case <-c.closed:
			return nil, c.closeError()
		}
	}
}
