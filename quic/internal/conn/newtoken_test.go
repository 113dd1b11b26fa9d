package conn

import (
	"bytes"
	"testing"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

// A server's NEW_TOKEN token reaches the client (RFC 9000 §19.7), sent
// again when the packet carrying it is lost, and reported once.
func TestNewTokenDelivered(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	token := []byte("address token")
	p.server.QueueNewToken(token)
	lost := false
	p.s2c.drop = func(_ int, b []byte) bool {
		if !lost && len(b) > 0 && b[0]&0x80 == 0 {
			lost = true // the first 1-RTT datagram after the token was queued
			return true
		}
		return false
	}
	var got [][]byte
	p.runUntil("client has the token", func() bool {
		for _, ev := range p.events[0] {
			if ev.Kind == EventNewToken {
				got = append(got, ev.Data)
			}
		}
		p.events[0] = nil
		return len(got) > 0
	})
	for range 100 {
		p.step()
	}
	for _, ev := range p.events[0] {
		if ev.Kind == EventNewToken {
			got = append(got, ev.Data)
		}
	}
	if !lost || len(got) != 1 || !bytes.Equal(got[0], token) {
		t.Fatalf("lost %v, tokens %q", lost, got)
	}
	if p.server.tokens.pending() || p.server.tokens.issued[0] != nil {
		t.Fatal("server still holds the acknowledged token")
	}
}

// A client's Params.Token goes in every Initial it sends; a Retry's
// token replaces it.
func TestNewTokenInInitial(t *testing.T) {
	cc, sc := cheapConfigs(t)
	p := newTestPairWith(t, cc, sc)
	c, err := New(p.now, cc, &Params{IsClient: true, Version: wire.Version1, DCID: NewConnectionID(), SCID: NewConnectionID(),
		Peer: serverAddr, ResetKey: testResetKey(), Token: []byte("from NEW_TOKEN")})
	if err != nil {
		t.Fatal(err)
	}
	p.client = c
	p.flushOne(c, 0, &p.c2s)
	hdr, err := wire.ParseHeader(p.c2s.queue[0].b, ConnIDLen, false)
	if err != nil || hdr.Type != wire.PacketInitial || string(hdr.Token) != "from NEW_TOKEN" {
		t.Fatalf("first Initial: %v, token %q", err, hdr.Token)
	}
}
