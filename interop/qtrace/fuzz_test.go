package qtrace

import (
	"testing"

	"github.com/skiffnet/skiff/interop/relay"
)

// Arbitrary datagrams in both directions never make the analysis panic.
func FuzzAnalyze(f *testing.F) {
	b := NewBuilder()
	c := b.Conn()
	b.Send(relay.ToServer, 0, c.Initial(relay.ToServer, nil, c.ClientHello(HelloOptions{}), Padding(1100)))
	b.Send(relay.ToClient, 0, c.Initial(relay.ToClient, nil, c.ServerHello(false)), c.Handshake(relay.ToClient, c.ServerFlight(nil, 100)))
	f.Add(c.Initial(relay.ToServer, nil, c.ClientHello(HelloOptions{PSK: true}), Padding(100)), c.Initial(relay.ToClient, nil, c.ServerHello(false)))
	f.Add([]byte{0x40, 1, 2, 3}, []byte{0xc0, 0, 0, 0, 1, 0, 0, 0})
	f.Add(c.Initial(relay.ToServer, nil, c.ClientHello(HelloOptions{}), Padding(100)), append(append([]byte{0x44}, c.ClientCID...), make([]byte, 40)...))
	f.Fuzz(func(t *testing.T, up, down []byte) {
		hello := b.Capture // a handshake whose keys are in the key log
		capture := append(append([]relay.Datagram(nil), hello...),
			relay.Datagram{Dir: relay.ToServer, Payload: up}, relay.Datagram{Dir: relay.ToClient, Payload: down}, relay.Datagram{Dir: relay.ToServer, Payload: down})
		Analyze(capture, b.KeyLog)
	})
}

// The parsers of decrypted content never panic on any input.
func FuzzParsers(f *testing.F) {
	f.Add([]byte{framePing, frameACKECN, 1, 0, 0, 1, 1, 0, 0})
	f.Add([]byte{1, 0, 0, 4, 3, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		parseFrames(b)
		parseClientHello(b)
		parseServerHello(b)
		serverTransportParams(b)
		var s cryptoStream
		s.add(CryptoFrame{Offset: 0, Data: b})
		KeyLog{}.Parse(b)
		parseLongHeader(b)
	})
}

// FuzzPreferredAddressCID: any preferred_address value gives a connection
// ID inside it, or nil, never a panic.
func FuzzPreferredAddressCID(f *testing.F) {
	f.Add(append(make([]byte, 24), append([]byte{4, 1, 2, 3, 4}, make([]byte, 16)...)...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, v []byte) {
		cid := preferredAddressCID(v)
		if cid != nil && (len(cid) == 0 || len(cid) > len(v)-25-16) {
			t.Fatalf("connection ID of %d bytes from a %d-byte value", len(cid), len(v))
		}
	})
}
