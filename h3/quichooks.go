package h3

import (
	"context"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// What h3 needs from package quic that it does not offer yet. Each is
// used as soon as *quic.Conn or *quic.Stream has a method of exactly this
// signature; until then the feature it serves is off (see doc.go).

// connectionStater is *quic.Conn once it reports the outcome of its TLS
// handshake. The server needs it for Request.TLS (client certificates,
// server name) and to refuse a connection whose ALPN is not "h3".
type connectionStater interface {
	ConnectionState() tls13.ConnectionState
}

// streamContexter is *quic.Stream once it has a context that ends when
// the peer resets the stream (RESET_STREAM) or stops it (STOP_SENDING),
// with the *quic.StreamError (Remote true) as its cause, or when the
// connection ends, whether or not anyone reads or writes — as quic-go's
// Stream.Context does, except that our own Close need not end it. It ends
// a handler's request context at the client's cancel, and releases a
// QPACK-blocked field section when a stream whose FIN was read is then
// stopped.
type streamContexter interface {
	Context() context.Context
}

// connTLSState returns what qc's TLS handshake negotiated, if quic says.
// It is a variable so that a test can stand in for quic meanwhile.
var connTLSState = func(qc *quic.Conn) (tls13.ConnectionState, bool) {
	if cs, ok := any(qc).(connectionStater); ok {
		return cs.ConnectionState(), true
	}
	return tls13.ConnectionState{}, false
}

// streamContext returns s's context, or nil if quic has none. It is a
// variable so that a test can stand in for quic meanwhile.
var streamContext = func(s *quic.Stream) context.Context {
	if sc, ok := any(s).(streamContexter); ok {
		return sc.Context()
	}
	return nil
}
