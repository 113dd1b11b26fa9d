package conn

import "github.com/skiffnet/skiff/quic/internal/wire"

// Names the tests use for brevity.
type TransportErrorCode = wire.TransportErrorCode

const (
	connIDLen              = ConnIDLen
	initialMaxDatagramSize = InitialMaxDatagramSize
)

func newConnectionID() wire.ConnectionID { return NewConnectionID() }
