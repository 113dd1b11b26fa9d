package conn

import "github.com/skiffnet/skiff/tls13"

// What package quic's public API reports of a connection and its streams,
// beyond the events.

// TLSState describes the TLS handshake so far (tls13.Conn.ConnectionState).
func (c *Conn) TLSState() tls13.ConnectionState {
	switch {
	case c.tls != nil:
		return c.tls.ConnectionState()
	case c.tlsState != nil:
		return *c.tlsState
	}
	return tls13.ConnectionState{}
}

// releaseTLS lets an idle server's TLS connection go, keeping its
// ConnectionState: once the handshake completed and the session tickets
// went out, a server's TLS has nothing left to do in QUIC, where the
// client sends no handshake message after its Finished (RFC 9001 §6: no
// KeyUpdate; no post-handshake authentication). handleCryptoData answers
// one as TLS would have.
func (c *Conn) releaseTLS() {
	if c.isClient || c.tls == nil || !c.handshakeComplete {
		return
	}
	st := c.tls.ConnectionState()
	c.tls, c.tlsState = nil, &st
}

// HandshakeConfirmed reports whether the handshake is confirmed (RFC 9001
// §4.1.2): on a client, HANDSHAKE_DONE arrived, so the server accepted
// everything of ours, our certificate included.
func (c *Conn) HandshakeConfirmed() bool { return c.handshakeConfirmed }

// PeerReset reports whether the peer reset the stream's receiving part
// (RESET_STREAM) before its FIN was read, with the code. Any goroutine.
func (s *Stream) PeerReset() (code uint64, reset bool) {
	if !s.hasRecv {
		return 0, false
	}
	return s.recv.PeerReset()
}

// PeerStopped reports whether the peer stopped the stream's sending part
// (STOP_SENDING), with the code. Any goroutine.
func (s *Stream) PeerStopped() (code uint64, stopped bool) {
	if !s.hasSend {
		return 0, false
	}
	return s.send.PeerStopped()
}

// Finished reports whether both parts of the stream are finished and the
// connection forgot it (EventStreamFinished). The owner's goroutine only.
func (s *Stream) Finished() bool { return s.done }
