package quic

import (
	"math"

	"github.com/skiffnet/skiff/internal/quichooks"
	"github.com/skiffnet/skiff/quic/internal/conn"
)

// peerBidiStreamLimit is quichooks.PeerBidiStreamLimit: h3's server checks
// the stream ID of a PRIORITY_UPDATE against it (RFC 9218 §7.2). It is
// asked rarely (the caller keeps the last answer, and the limit only
// grows), so a round trip to the driver costs nothing that matters.
func peerBidiStreamLimit(c any) uint64 {
	return ask(c.(*Conn),
		func(sm *conn.Conn) uint64 { return sm.Limits(false).LocalMax },
		func() uint64 { return math.MaxUint64 })
}

func init() { quichooks.PeerBidiStreamLimit = peerBidiStreamLimit }
