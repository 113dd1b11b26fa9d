package perf

// Transports returns every transport the benchmarks compare, in column
// order: ratios in reports are taken against the first.
//
// SKIFF ADAPTER: when skiff's quic package can dial and listen, add a file
// skiff.go in this package with
//
//	func Skiff() Transport  // Name "skiff", Network "udp"
//
// built on quic.Listen("udp", addr, &quic.Config{TLS: ...}),
// (*quic.Listener).Accept, quic.Dial(ctx, "udp", addr, cfg),
// (*quic.Conn).OpenStream / AcceptStream / CloseWithError(0, ""), and
// *quic.Stream as the Stream (Close = FIN). The TLS config is
// &tls13.Config{Certificates: []tls13.Certificate{{Certificate:
// cred.Certificate.Certificate, PrivateKey: cred.Certificate.PrivateKey.(crypto.Signer)}},
// NextProtos: []string{ALPN}} on the server and &tls13.Config{RootCAs:
// cred.Roots, ServerName: cred.ServerName, NextProtos: []string{ALPN}} on
// the client. If *quic.Conn exposes packet counts in Stats, implement
// PacketCounter. Then put Skiff() first in the list below; quicgo_adapter.go
// is the model to follow.
func Transports() []Transport {
	return []Transport{
		// Skiff(), // SKIFF ADAPTER: first column once it exists.
		QuicGo(),
		TCPTLS(),
	}
}

// ByName returns the transport called name, or false.
func ByName(name string) (Transport, bool) {
	for _, t := range Transports() {
		if t.Name == name {
			return t, true
		}
	}
	return Transport{}, false
}
