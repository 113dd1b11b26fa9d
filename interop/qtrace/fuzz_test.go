package qtrace

import (
	"testing"

	"github.com/skiffnet/skiff/interop/relay"
)

// Arbitrary datagrams in both directions never make the analysis panic.
func FuzzAnalyze(f *testing.F) {
	b := NewBuilder()
	c := b.Conn()
	f.Add(c.Initial(relay.ToServer, nil, c.ClientHello(HelloOptions{PSK: true}), Padding(100)), c.Initial(relay.ToClient, nil, c.ServerHello(false)))
	f.Add([]byte{0x40, 1, 2, 3}, []byte{0xc0, 0, 0, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, up, down []byte) {
		capture := []relay.Datagram{{Dir: relay.ToServer, Payload: up}, {Dir: relay.ToClient, Payload: down}, {Dir: relay.ToServer, Payload: down}}
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
