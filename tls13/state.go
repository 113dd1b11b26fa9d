package tls13

import "crypto/x509"

// ConnectionState describes a handshake; the fields mean what they mean
// in crypto/tls (package tls13/tlsconv converts it to a
// tls.ConnectionState). The certificates and chains may be shared with
// other connections and must not be modified.
type ConnectionState struct {
	// Version is the TLS version: 0x0304 (TLS 1.3) once the ServerHello
	// is processed, 0 before.
	Version uint16
	// HandshakeComplete is set when the peer's Finished has verified
	// and, on a server, the client's Finished too.
	HandshakeComplete bool
	// DidResume is set when a ticket (PSK) was accepted.
	DidResume bool
	// EarlyDataAccepted is set when the server accepted 0-RTT.
	EarlyDataAccepted bool
	// HelloRetryRequest is set when the server sent a HelloRetryRequest
	// (RFC 8446 §4.1.4), which costs a round trip.
	HelloRetryRequest bool
	// CipherSuite is the negotiated suite, e.g. TLS_AES_128_GCM_SHA256.
	CipherSuite uint16
	// Group is the key exchange group (crypto/tls calls it CurveID).
	Group CurveID
	// NegotiatedProtocol is the ALPN protocol agreed (RFC 7301).
	NegotiatedProtocol string
	// ServerName is the name the client asked for (SNI) on a server,
	// Config.ServerName on a client.
	ServerName string
	// PeerCertificates is the peer's chain, leaf first; on a resumed
	// connection, the chain of the original one.
	PeerCertificates []*x509.Certificate
	// VerifiedChains are the chains that verified the peer's leaf; nil
	// when nothing was verified (InsecureSkipVerify, a server not
	// verifying client certificates). On a resumed client connection,
	// the chains of the original connection, or nil when the session
	// came from ParseClientSession; on a resumed server connection, nil.
	VerifiedChains [][]*x509.Certificate
}
