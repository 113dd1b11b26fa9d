package quic

import (
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/tls13"
)

// ConnectionState describes the TLS handshake so far: what it
// negotiated, whether it resumed a session (DidResume) and whether the
// server accepted 0-RTT (EarlyDataAccepted, known on a client once the
// server's handshake flight arrived). After the connection ended, the
// state it ended with.
func (c *Conn) ConnectionState() tls13.ConnectionState {
	ch := make(chan tls13.ConnectionState, 1)
	if c.call(func(sm *conn.Conn, _ time.Time) { ch <- sm.TLSState() }) {
		select {
		case cs := <-ch:
			return cs
		case <-c.done:
		}
	}
	// The driver is gone (or going): the state as of the handshake's end.
	if st := c.early.tlsState.Load(); st != nil {
		return *st
	}
	return tls13.ConnectionState{}
}
