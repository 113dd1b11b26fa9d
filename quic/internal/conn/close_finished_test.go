package conn

import (
	"testing"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// A client that closes as soon as its handshake completes, before it sent
// its Finished, sends the Finished and the CONNECTION_CLOSE in one
// datagram: the server completes the handshake, then reads the
// application's close with its code, and the datagram carries no Initial
// packet (the client dropped its Initial keys with its first Handshake
// packet, RFC 9001 §4.9.1).
func TestCloseRightAfterHandshakeSendsFinished(t *testing.T) {
	p := newTestPair(t)
	p.runUntil("client handshake complete", func() bool { return p.client.handshakeComplete })
	if !p.client.spaces[recovery.SpaceHandshake].cryptoPending() {
		t.Fatal("the client's Finished went out before the test could close")
	}
	p.client.Close(p.now, 7, "done")
	p.flushOne(p.client, 0, &p.c2s)
	if n := len(p.c2s.queue); n != 1 {
		t.Fatalf("the client sent %d datagrams for its Finished and close, want 1", n)
	}
	d := p.c2s.queue[0].b
	if hdr, err := wire.ParseHeader(d, ConnIDLen, false); err != nil || hdr.Type != wire.PacketHandshake {
		t.Fatalf("the datagram starts with %v (%v), want a Handshake packet", hdr.Type, err)
	}
	p.deliver()
	p.owner(p.server)
	completed := false
	var reason *Reason
	for _, ev := range p.events[1] {
		switch ev.Kind {
		case EventHandshakeComplete:
			completed = reason == nil
		case EventClosing:
			reason = ev.Reason
		}
	}
	if !completed {
		t.Error("the server did not complete the handshake before the close")
	}
	if reason == nil || reason.Kind != ReasonApplication || reason.Code != 7 || !reason.Remote {
		t.Errorf("the server closed with %+v, want the client's application close, code 7", reason)
	}
}
