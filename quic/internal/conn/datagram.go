package conn

import "github.com/skiffnet/skiff/quic/internal/wire"

// MaxDatagramFrameSize is the max_datagram_frame_size we advertise: any
// DATAGRAM frame that fits a packet (RFC 9221 §3).
const MaxDatagramFrameSize = 65535

// datagramState carries unreliable datagrams (RFC 9221).
type datagramState struct {
	enabled bool   // we advertised support
	peerMax uint64 // the peer's max_datagram_frame_size; 0: not supported
	out     [][]byte
}

// MaxQueuedDatagrams bounds the datagrams waiting to be sent: the oldest
// go first, fresh data matters more.
const MaxQueuedDatagrams = 128

func (d *datagramState) init(config *Config) { d.enabled = config.EnableDatagrams }

func (d *datagramState) setPeerMax(n uint64) { d.peerMax = n }

// onDatagram handles a received DATAGRAM frame: a PROTOCOL_VIOLATION when
// we did not advertise support (RFC 9221 §4). The owner gets a copy.
func (c *Conn) onDatagram(data []byte) error {
	if !c.dgrams.enabled {
		return localError(wire.ProtocolViolation, wire.FrameTypeDatagram, "DATAGRAM frame without max_datagram_frame_size")
	}
	c.events.add(Event{Kind: EventDatagram, Data: append([]byte(nil), data...)})
	c.stats.DatagramsReceived++
	return nil
}

// QueueDatagram queues b, which the connection now owns, to go out in a
// DATAGRAM frame. The caller checked it fits (PeerMaxDatagramFrameSize).
func (c *Conn) QueueDatagram(b []byte) {
	d := &c.dgrams
	if len(d.out) >= MaxQueuedDatagrams {
		d.out[0] = nil
		d.out = d.out[1:]
	}
	d.out = append(d.out, b)
}

func (d *datagramState) pending() bool { return len(d.out) > 0 }

// appendFrames appends queued datagrams that fit; one too large for any
// packet is dropped (datagrams are unreliable, RFC 9221 §5).
func (d *datagramState) appendFrames(f *frameWriter) {
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
