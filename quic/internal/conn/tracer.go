package conn

import (
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

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

func (t *Tracer) packetSent(space recovery.Space, pn uint64, size int) {
	if t != nil && t.PacketSent != nil {
		t.PacketSent(spaceNames[space], pn, size)
	}
}

func (t *Tracer) packetReceived(pt wire.PacketType, pn uint64, size int) {
	if t != nil && t.PacketReceived != nil {
		t.PacketReceived(packetTypeName(pt), pn, size)
	}
}

func (t *Tracer) migrationState(state string, p Path) {
	if t != nil && t.MigrationState != nil {
		t.MigrationState(state, p)
	}
}

func (t *Tracer) mtuUpdated(old, new int, done bool) {
	if t != nil && t.MTUUpdated != nil && (old != new || done) {
		t.MTUUpdated(old, new, done)
	}
}
