package quic

import (
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Tracer receives a connection's events, for qlog files, metrics or
// debugging. Every field is optional. Hooks run on the connection's
// goroutine: they must be quick and must not call back into the Conn.
type Tracer struct {
	// PacketSent and PacketReceived report each packet: its type ("initial",
	// "handshake", "1RTT", …), number and size on the wire.
	PacketSent     func(packetType string, pn uint64, size int)
	PacketReceived func(packetType string, pn uint64, size int)
	// HandshakeComplete reports the end of the TLS handshake.
	HandshakeComplete func()
	// Closed reports the end of the connection, with its Stats.
	Closed func(Stats)
}

var spaceNames = [3]string{"initial", "handshake", "1RTT"}

// packetTypeName names a received packet's type as spaceNames names sent
// ones, so that both directions of a trace use one vocabulary.
func packetTypeName(pt wire.PacketType) string {
	switch pt {
	case wire.PacketInitial:
		return "initial"
	case wire.PacketHandshake:
		return "handshake"
	case wire.Packet0RTT:
		return "0RTT"
	case wire.Packet1RTT:
		return "1RTT"
	}
	return pt.String()
}

func (t *Tracer) packetSent(c *Conn, space recovery.Space, pn uint64, size int) {
	if t != nil && t.PacketSent != nil {
		t.PacketSent(spaceNames[space], pn, size)
	}
}

func (t *Tracer) packetReceived(c *Conn, pt wire.PacketType, pn uint64, size int) {
	if t != nil && t.PacketReceived != nil {
		t.PacketReceived(packetTypeName(pt), pn, size)
	}
}

func (t *Tracer) handshakeComplete(c *Conn) {
	if t != nil && t.HandshakeComplete != nil {
		t.HandshakeComplete()
	}
}

func (t *Tracer) closed(c *Conn) {
	if t != nil && t.Closed != nil {
		t.Closed(c.Stats())
	}
}
