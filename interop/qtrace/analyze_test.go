package qtrace

import (
	"slices"
	"testing"

	"github.com/skiffnet/skiff/interop/relay"
)

// A resumed connection with 0-RTT and a key update, built packet by
// packet, comes back out of Analyze: every packet opens (the 0-RTT one
// once the ServerHello names the suite), the handshake messages show no
// Certificate, and the client's 1-RTT packet is in key phase 1.
func TestAnalyzeResumedConnection(t *testing.T) {
	b := NewBuilder()
	c := b.Conn()
	b.Send(relay.ToServer, relay.ECNNotECT,
		c.Initial(relay.ToServer, nil, c.ClientHello(HelloOptions{PSK: true, EarlyData: true}), Padding(1000)),
		c.ZeroRTT(Stream(0, 40)))
	b.Send(relay.ToClient, relay.ECNNotECT,
		c.Initial(relay.ToClient, nil, Ack(0, nil), c.ServerHello(true)),
		c.Handshake(relay.ToClient, c.ServerFlight(map[uint64][]byte{tpInitialMaxStreamsBidi: {0x40, 0x64}}, 0)))
	b.Send(relay.ToServer, relay.ECNNotECT, c.Handshake(relay.ToServer, c.Crypto(1, relay.ToServer, 20, make([]byte, 32))))
	b.Send(relay.ToClient, relay.ECNECT0, c.OneRTT(relay.ToClient, HandshakeDone(), Stream(0, 1000)))
	c.Gen[relay.ToServer] = 1
	b.Send(relay.ToServer, relay.ECNECT0, c.OneRTT(relay.ToServer, Ack(0, &ECNCounts{ECT0: 1})))

	tr := Analyze(b.Capture, b.KeyLog)
	if len(tr.Conns) != 1 {
		t.Fatalf("%d connections", len(tr.Conns))
	}
	conn := tr.Conns[0]
	for _, p := range tr.Packets {
		if !p.Decrypted || p.Err != nil {
			t.Errorf("%s %s packet: decrypted %v, %v", p.Dir, p.Type, p.Decrypted, p.Err)
		}
	}
	if len(conn.ServerSCIDs) != 1 || !conn.ClientHello.PSK || !conn.ClientHello.EarlyData || !conn.ServerHello.PSK {
		t.Errorf("conn: %d server SCIDs, hello %+v, server hello %+v", len(conn.ServerSCIDs), conn.ClientHello, conn.ServerHello)
	}
	if want := []uint8{msgServerHello, msgEncryptedExtensions, 20}; !slices.Equal(conn.Messages[relay.ToClient], want) {
		t.Errorf("server messages %v, want %v", conn.Messages[relay.ToClient], want)
	}
	if got := conn.ServerParams[tpInitialMaxStreamsBidi]; len(got) != 2 {
		t.Errorf("server params %v", conn.ServerParams)
	}
	zero := tr.Packets[1]
	if zero.Type != ZeroRTT || zero.Frames.StreamBytes != 40 {
		t.Errorf("0-RTT packet %+v", zero)
	}
	last := tr.Packets[len(tr.Packets)-1]
	if last.Type != OneRTT || last.KeyPhase != 1 || len(last.Frames.ECN) != 1 || last.Frames.ECN[0].ECT0 != 1 {
		t.Errorf("last packet %+v, frames %+v", last, last.Frames)
	}
}

// Without the key log only Initial packets open, and the rest say why.
func TestAnalyzeWithoutKeyLog(t *testing.T) {
	b := NewBuilder()
	c := b.Conn()
	b.Send(relay.ToServer, 0, c.Initial(relay.ToServer, nil, c.ClientHello(HelloOptions{}), Padding(1100)))
	b.Send(relay.ToClient, 0, c.Initial(relay.ToClient, nil, c.ServerHello(false)), c.Handshake(relay.ToClient, c.ServerFlight(nil, 500)))
	b.Send(relay.ToClient, 0, c.OneRTT(relay.ToClient, Ping()))
	tr := Analyze(b.Capture, KeyLog{})
	for i, p := range tr.Packets {
		if want := p.Type == Initial; p.Decrypted != want || (p.Err == nil) != want {
			t.Errorf("packet %d (%s): decrypted %v, err %v", i, p.Type, p.Decrypted, p.Err)
		}
	}
}

// A short header packet that opens with no key generation (a stateless
// reset: random bytes after a known connection ID) is reported, whatever
// its key phase bit.
func TestAnalyzeUndecryptableShortHeader(t *testing.T) {
	for _, first := range []byte{0x40, 0x44, 0x5f} {
		b := NewBuilder()
		c := b.Conn()
		b.Send(relay.ToServer, 0, c.Initial(relay.ToServer, nil, c.ClientHello(HelloOptions{}), Padding(1100)))
		b.Send(relay.ToClient, 0, c.Initial(relay.ToClient, nil, c.ServerHello(false)), c.Handshake(relay.ToClient, c.ServerFlight(nil, 100)))
		reset := append([]byte{first}, c.ClientCID...)
		reset = append(reset, make([]byte, 40)...)
		b.Send(relay.ToClient, 0, reset)
		tr := Analyze(b.Capture, b.KeyLog)
		last := tr.Packets[len(tr.Packets)-1]
		if last.Decrypted || last.Err == nil {
			t.Errorf("first byte %#x: decrypted %v, err %v", first, last.Decrypted, last.Err)
		}
	}
}
