package conn

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"testing"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// RFC 9000 §5.1.1: after the handshake each side issues connection IDs up
// to the peer's active_connection_id_limit (and ours, 4): each holds four
// IDs of the other, sequence numbers 0 to 3, with their reset tokens.
func TestConnIDsIssuedUpToLimit(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	p.runUntil("both sides hold the peer's connection IDs", func() bool {
		return len(p.client.ids.peer) == activeConnectionIDLimit && len(p.server.ids.peer) == activeConnectionIDLimit
	})
	for _, c := range []*Conn{p.client, p.server} {
		peer := p.server
		if c == p.server {
			peer = p.client
		}
		if len(peer.ids.local) != activeConnectionIDLimit {
			t.Errorf("client=%v issued %d IDs, want %d", peer.isClient, len(peer.ids.local), activeConnectionIDLimit)
		}
		for i, id := range c.ids.peer {
			if id.seq != uint64(i) {
				t.Errorf("client=%v: peer ID %d has sequence %d", c.isClient, i, id.seq)
			}
			l := peer.ids.local[i]
			if l.id != id.id {
				t.Errorf("client=%v: peer ID %d is %v, the peer issued %v", c.isClient, i, id.id, l.id)
			}
			if i > 0 && (!id.hasToken || id.resetToken != peer.ids.resetTokenOf(l.id)) {
				t.Errorf("client=%v: peer ID %d has the wrong stateless reset token", c.isClient, i)
			}
		}
	}
	// The server's handshake ID carries the token of its transport
	// parameters (RFC 9000 §18.2); the client's has none.
	if !p.client.ids.peer[0].hasToken || p.client.ids.peer[0].resetToken != p.server.ids.resetTokenOf(p.server.ids.local[0].id) {
		t.Error("the client does not hold the server's stateless_reset_token")
	}
	if p.server.ids.peer[0].hasToken {
		t.Error("the server holds a reset token for the client's handshake ID")
	}
	// No more is issued while nothing is retired.
	for range 10 {
		p.step()
	}
	if n := len(p.server.ids.local); n != activeConnectionIDLimit {
		t.Errorf("server holds %d local IDs after idling, want %d", n, activeConnectionIDLimit)
	}
}

// Each side issues its spare connection IDs, and a server makes its
// session ticket, once the datagram that completed the handshake has been
// handled: at once when the connection stays open, never when the same
// datagram closes it (a client closing as its handshake completes sends
// its Finished and CONNECTION_CLOSE together).
func TestCompletionWorkAfterTheDatagram(t *testing.T) {
	p := newTestPair(t)
	p.runUntil("the server's handshake completes", func() bool { return p.server != nil && p.server.handshakeComplete })
	if n := len(p.server.ids.local); n != activeConnectionIDLimit {
		t.Errorf("server holds %d IDs after completing, want %d", n, activeConnectionIDLimit)
	}
	if cs := p.server.spaces[recovery.SpaceAppData].crypto; cs == nil || cs.send.Buffered() == 0 {
		t.Error("the server queued no session ticket")
	}

	p = newTestPair(t)
	p.runUntil("the client's handshake completes", func() bool { return p.client.handshakeComplete })
	p.client.Close(p.now, 0, "")
	for p.step() && !p.server.Closed() {
	}
	if !p.server.handshakeComplete || !p.server.Closed() {
		t.Fatalf("server complete %v closed %v, want both", p.server.handshakeComplete, p.server.Closed())
	}
	if n := len(p.server.ids.local); n != 1 {
		t.Errorf("server issued %d IDs for a connection closed in the datagram that completed it, want its handshake ID only", n)
	}
	if p.server.spaces[recovery.SpaceAppData].crypto != nil {
		t.Error("the server made a session ticket for a connection closed in the datagram that completed it")
	}
}

// RFC 9000 §19.16: retiring a sequence number never issued is a
// PROTOCOL_VIOLATION.
func TestRetireConnectionIDNeverIssued(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	p.clientSends(recovery.SpaceAppData, appendFrame(&wire.RetireConnectionIDFrame{SequenceNumber: 100}), 0)
	p.expectClose(p.server, wire.ProtocolViolation, wire.FrameTypeRetireConnectionID, true)
}

// RFC 9000 §5.1.2, §19.16: retiring an issued ID makes the server forget
// it and issue a replacement, keeping the peer at its limit.
func TestRetireConnectionIDReplaced(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	p.runUntil("client holds the server IDs", func() bool { return len(p.client.ids.peer) == activeConnectionIDLimit })
	retired := p.server.ids.local[1].id
	p.clientSends(recovery.SpaceAppData, appendFrame(&wire.RetireConnectionIDFrame{SequenceNumber: 1}), 0)
	if p.server.closing.state != stateOpen {
		t.Fatalf("server closed: %+v", p.server.closing.frame)
	}
	for _, l := range p.server.ids.local {
		if l.id == retired {
			t.Fatal("the server still uses the retired ID")
		}
	}
	next := uint64(activeConnectionIDLimit) // the replacement's sequence number
	if len(p.server.ids.local) != activeConnectionIDLimit || p.server.ids.local[len(p.server.ids.local)-1].seq != next {
		t.Fatalf("server local IDs after retirement: %+v", p.server.ids.local)
	}
	p.runUntil("client learns the replacement", func() bool {
		for _, id := range p.client.ids.peer {
			if id.seq == next {
				return true
			}
		}
		return false
	})
}

// RFC 9000 §5.1.1: more active IDs than our active_connection_id_limit is
// a CONNECTION_ID_LIMIT_ERROR. The client already gave the server as many
// as the limit.
func TestNewConnectionIDBeyondLimit(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	p.runUntil("server holds the client's IDs", func() bool { return len(p.server.ids.peer) == activeConnectionIDLimit })
	p.clientSends(recovery.SpaceAppData, newConnectionIDFrame(activeConnectionIDLimit, 0, []byte{9, 9, 9, 9, 9, 9, 9, 9}), 0)
	p.expectClose(p.server, wire.ConnectionIDLimitError, wire.FrameTypeNewConnectionID, true)
}

// RFC 9000 §5.1.2, §19.15: with Retire Prior To, the new ID replaces the
// retired ones: no limit error, the server retires them with
// RETIRE_CONNECTION_ID and stops using them.
func TestNewConnectionIDRetirePriorTo(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	p.runUntil("server holds the client's IDs", func() bool { return len(p.server.ids.peer) == activeConnectionIDLimit })
	// The client issues ID L (the limit) as skiff never does on its own:
	// with Retire Prior To R, so that the server holds L+1-R active IDs.
	const L, R = activeConnectionIDLimit, activeConnectionIDLimit / 2
	c := p.client
	id := newConnectionID()
	tok := StatelessResetToken(c.ids.resetKey, id.Bytes())
	c.ids.local = append(c.ids.local, localConnID{seq: L, id: id, acked: true})
	c.ids.nextLocalSeq = L + 1
	p.clientSends(recovery.SpaceAppData, appendFrame(&wire.NewConnectionIDFrame{SequenceNumber: L, RetirePriorTo: R, ConnectionID: id, StatelessResetToken: tok}), 0)
	if p.server.closing.state != stateOpen {
		t.Fatalf("server closed: %+v", p.server.closing.frame)
	}
	if cur := p.server.ids.peer[p.server.ids.current]; cur.seq < R {
		t.Fatalf("server still sends to retired ID %d", cur.seq)
	}
	p.runUntil("server's RETIRE_CONNECTION_ID frames acknowledged", func() bool {
		for _, id := range p.server.ids.peer {
			if id.seq < R {
				return false
			}
		}
		return true
	})
	// The retirements reached the client, which replaced what took it
	// below the limit: R-1 new IDs.
	p.runUntil("client replaced its retired IDs", func() bool {
		return len(c.ids.local) == activeConnectionIDLimit && c.ids.nextLocalSeq == L+R
	})
	if p.server.closing.state != stateOpen || p.client.closing.state != stateOpen {
		t.Fatal("a side closed")
	}
}

// TestStatelessResetTokenIsHMAC checks the token derivation against
// crypto/hmac: HMAC-SHA256(key, connection ID) cut to 16 bytes, so tokens
// stay the same across versions of the derivation code.
func TestStatelessResetTokenIsHMAC(t *testing.T) {
	var key [32]byte
	for i := range key {
		key[i] = byte(i * 7)
	}
	for _, id := range [][]byte{nil, {1}, []byte("eight id"), make([]byte, 20)} {
		m := hmac.New(sha256.New, key[:])
		m.Write(id)
		want := m.Sum(nil)[:wire.StatelessResetTokenLen]
		if got := StatelessResetToken(&key, id); !bytes.Equal(got[:], want) {
			t.Fatalf("id %x: got %x, want %x", id, got, want)
		}
	}
}

// RFC 9000 §13.3: a lost NEW_CONNECTION_ID or RETIRE_CONNECTION_ID frame
// is sent again. With nothing queued the lists are not walked (queued),
// so a loss must queue the frame again; and a frame that did not fit the
// packet stays queued for the next.
func TestConnIDFramesSentAgainAfterLoss(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	p.runUntil("client holds the server IDs", func() bool { return len(p.client.ids.peer) == activeConnectionIDLimit })
	s := &p.server.ids
	if s.framesPending() {
		t.Fatal("frames pending after every ID was sent")
	}
	l := &s.local[1]
	l.acked = false // its frame still in flight
	s.onFrameLost(sentNewConnectionID, l.seq)
	pr := &s.peer[1]
	pr.retire, pr.retireSent = true, true
	s.onFrameLost(sentRetireConnectionID, pr.seq)
	if !s.framesPending() {
		t.Fatal("no frame pending after two losses")
	}
	kinds := func(f *frameWriter) (n []uint8) {
		for _, fr := range f.sent.Frames {
			n = append(n, fr.Kind)
		}
		return n
	}
	// Room for RETIRE_CONNECTION_ID only: NEW_CONNECTION_ID waits.
	small := frameWriter{buf: make([]byte, 0, 64), end: 20, sent: &recovery.SentPacket{}}
	s.appendFrames(&small)
	if got := kinds(&small); len(got) != 1 || got[0] != sentRetireConnectionID {
		t.Fatalf("small packet carries frames %v, want one RETIRE_CONNECTION_ID", got)
	}
	if !s.framesPending() {
		t.Fatal("NEW_CONNECTION_ID that did not fit no longer pending")
	}
	full := frameWriter{buf: make([]byte, 0, 1500), end: 1400, sent: &recovery.SentPacket{}}
	s.appendFrames(&full)
	if got := kinds(&full); len(got) != 1 || got[0] != sentNewConnectionID || full.sent.Frames[0].ID != l.seq {
		t.Fatalf("next packet carries frames %v, want NEW_CONNECTION_ID %d", got, l.seq)
	}
	if s.framesPending() {
		t.Fatal("frames pending after both were sent again")
	}
}
