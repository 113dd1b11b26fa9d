package tls13

import "testing"

// After the handshake both sides drop the state only the handshake needed
// (ClientHello, key shares, transcript, intermediate secrets), while what
// ConnectionState promises and what tickets need stays.
func TestHandshakeStateReleased(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	h, c, s := ourClientOurServer(t, baseClientConfig(), baseServerConfig(cert))
	h.check(t)
	if c.client.hello != nil || c.client.helloRaw != nil || c.client.shares != nil || c.client.transcript.h != nil || c.client.master != nil {
		t.Error("the client keeps its handshake state after completion")
	}
	if c.localParams != nil || c.peerParams == nil {
		t.Error("client: want its own transport parameters dropped and the server's kept for tickets")
	}
	if s.server != nil || s.peerParams != nil {
		t.Error("the server keeps its handshake state after completion")
	}
	if cs := c.ConnectionState(); !cs.HandshakeComplete || len(cs.PeerCertificates) != 1 || len(cs.VerifiedChains) != 1 || cs.NegotiatedProtocol != "h3" {
		t.Errorf("client ConnectionState lost after release: %+v", cs)
	}
	// The server still issues tickets, and the client still takes them.
	if err := s.SendSessionTicket(true); err != nil {
		t.Fatal(err)
	}
	var ticket []byte
	for e := s.NextEvent(); e.Kind != EventNone; e = s.NextEvent() {
		if e.Kind == EventWriteData && e.Level == LevelApplication {
			ticket = e.Data
		}
	}
	if ticket == nil {
		t.Fatal("no NewSessionTicket after the release")
	}
	if err := c.HandleData(LevelApplication, ticket); err != nil {
		t.Fatalf("client rejects the ticket: %v", err)
	}
	// RFC 9001 §6: no handshake message may follow the client's Finished.
	err := s.HandleData(LevelApplication, []byte{typeFinished, 0, 0, 1, 0})
	if a, ok := alertOf(err); !ok || a != uint8(AlertUnexpectedMessage) {
		t.Errorf("server after the handshake: %v, want unexpected_message", err)
	}
}
