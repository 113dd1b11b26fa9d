package tlsconv

import (
	"crypto/tls"

	"github.com/skiffnet/skiff/tls13"
)

// ToConnectionState returns the tls.ConnectionState of a tls13 handshake,
// with every field that means the same filled in; SignedCertificateTimestamps,
// OCSPResponse and TLSUnique stay empty (not implemented, or not defined
// for TLS 1.3), ECHAccepted false. Do not call its ExportKeyingMaterial
// method: tls13 implements no exporter and the method would panic.
func ToConnectionState(cs tls13.ConnectionState) tls.ConnectionState {
	return tls.ConnectionState{
		Version:            cs.Version,
		HandshakeComplete:  cs.HandshakeComplete,
		DidResume:          cs.DidResume,
		CipherSuite:        cs.CipherSuite,
		CurveID:            tls.CurveID(cs.Group),
		NegotiatedProtocol: cs.NegotiatedProtocol,
		//lint:ignore SA1019 crypto/tls always sets it; so do we
		NegotiatedProtocolIsMutual: true,
		ServerName:                 cs.ServerName,
		PeerCertificates:           cs.PeerCertificates,
		VerifiedChains:             cs.VerifiedChains,
		HelloRetryRequest:          cs.HelloRetryRequest,
	}
}
