package tls13

import (
	"crypto"
	"crypto/x509"
	"errors"
)

// CertificateVerificationError is the error of a peer certificate chain
// that crypto/x509 does not verify. errors.As finds in it both the alert
// sent to the peer (an AlertError, which QUIC turns into CRYPTO_ERROR) and
// the x509 error: x509.UnknownAuthorityError, x509.HostnameError,
// x509.CertificateInvalidError and so on.
type CertificateVerificationError struct {
	// UnverifiedCertificates is the chain the peer sent, leaf first.
	UnverifiedCertificates []*x509.Certificate
	// Alert is the alert sent, chosen as RFC 8446 §6.2 describes.
	Alert AlertError
	// Err is the error of x509.Certificate.Verify.
	Err error
}

func (e *CertificateVerificationError) Error() string {
	return "tls13: " + causeText(e.Err) + " (alert " + e.Alert.String() + ")"
}

func (e *CertificateVerificationError) Unwrap() []error { return []error{e.Alert, e.Err} }

// verifyAlert maps an x509 verification error to its alert (RFC 8446
// §6.2): certificate_expired for a certificate outside its validity,
// unknown_ca when no chain leads to a trusted root, bad_certificate for the
// rest (a wrong name, a wrong usage, a bad signature), as crypto/tls does.
func verifyAlert(err error) AlertError {
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return AlertCertificateExpired
	case errors.As(err, &unknown):
		return AlertUnknownCA
	}
	return AlertBadCertificate
}

// parseChain parses the peer's DER chain; an unparsable certificate is
// bad_certificate (RFC 8446 §6.2).
func parseChain(der [][]byte) ([]*x509.Certificate, error) {
	certs := make([]*x509.Certificate, len(der))
	for i, d := range der {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return nil, alertCause(AlertBadCertificate, "unparsable certificate", err)
		}
		certs[i] = c
	}
	if schemesForKey(certs[0].PublicKey) == nil {
		return nil, alertf(AlertUnsupportedCertificate, "unsupported certificate key type")
	}
	return certs, nil
}

// peerChain parses the peer's chain and, with verify, verifies it with
// crypto/x509 against roots for dnsName and usage. A chain verified before
// under the same terms and still within its validity is taken from the
// Config's cache (verifycache.go) without parsing or checking signatures
// again.
func (c *Config) peerChain(der [][]byte, verify bool, roots *x509.CertPool, dnsName string, usage x509.ExtKeyUsage) ([]*x509.Certificate, [][]*x509.Certificate, error) {
	if !verify {
		certs, err := parseChain(der)
		return certs, nil, err
	}
	now := c.now()
	key, cacheable := newVerifyKey(der, roots, dnsName, usage)
	if cacheable {
		if certs, chains, ok := c.verified.get(key, now); ok {
			return certs, chains, nil
		}
	}
	certs, err := parseChain(der)
	if err != nil {
		return nil, nil, err
	}
	opts := x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		DNSName:     dnsName,
		KeyUsages:   []x509.ExtKeyUsage{usage},
	}
	if len(certs) > 1 {
		opts.Intermediates = x509.NewCertPool()
		for _, ic := range certs[1:] {
			opts.Intermediates.AddCert(ic)
		}
	}
	chains, err := certs[0].Verify(opts)
	if err != nil {
		return nil, nil, &CertificateVerificationError{UnverifiedCertificates: certs, Alert: verifyAlert(err), Err: err}
	}
	if cacheable {
		c.verified.put(key, certs, chains)
	}
	return certs, chains, nil
}

// runVerifyHook calls Config.VerifyPeerCertificate; its error, which
// errors.As finds, aborts with bad_certificate as in crypto/tls.
func (c *Config) runVerifyHook(der [][]byte, chains [][]*x509.Certificate) error {
	if c.VerifyPeerCertificate == nil {
		return nil
	}
	if err := c.VerifyPeerCertificate(der, chains); err != nil {
		return alertCause(AlertBadCertificate, "VerifyPeerCertificate", err)
	}
	return nil
}

// runVerifyConnection calls Config.VerifyConnection with the state of the
// handshake about to complete; its error aborts with bad_certificate.
func (c *Config) runVerifyConnection(state ConnectionState) error {
	if c.VerifyConnection == nil {
		return nil
	}
	if err := c.VerifyConnection(state); err != nil {
		return alertCause(AlertBadCertificate, "VerifyConnection", err)
	}
	return nil
}

// newClientHelloInfo is what GetCertificate sees of a ClientHello.
func newClientHelloInfo(ch *clientHelloMsg) *ClientHelloInfo {
	info := &ClientHelloInfo{
		ServerName:      ch.serverName,
		SupportedProtos: ch.alpnProtocols,
		CipherSuites:    ch.cipherSuites,
	}
	for _, sc := range ch.signatureAlgorithms {
		info.SignatureSchemes = append(info.SignatureSchemes, SignatureScheme(sc))
	}
	for _, g := range ch.supportedGroups {
		info.SupportedCurves = append(info.SupportedCurves, CurveID(g))
	}
	return info
}

// signerOf returns the certificate's key as a crypto.Signer.
func signerOf(cert *Certificate) (crypto.Signer, error) {
	s, ok := cert.PrivateKey.(crypto.Signer)
	if !ok || schemesForKey(s.Public()) == nil {
		return nil, errors.New("tls13: certificate private key is not a supported crypto.Signer")
	}
	return s, nil
}

// serverCertificate picks the server's chain (RFC 8446 §4.4.2.2): one whose
// key can sign with a scheme the client offered, preferring a leaf that
// names the requested server.
func (c *Config) serverCertificate(ch *clientHelloMsg) (*Certificate, crypto.Signer, SignatureScheme, error) {
	peerSchemes := ch.signatureAlgorithms
	if c.GetCertificate != nil {
		cert, err := c.GetCertificate(newClientHelloInfo(ch))
		if err != nil {
			return nil, nil, 0, alertCause(AlertHandshakeFailure, "GetCertificate", err)
		}
		if cert != nil {
			return pickScheme(cert, peerSchemes)
		}
		// nil, nil: Certificates decide, as in crypto/tls.
	}
	var fallback *Certificate
	for i := range c.Certificates {
		cert := &c.Certificates[i]
		s, err := signerOf(cert)
		if err != nil {
			continue
		}
		if _, ok := chooseScheme(s, peerSchemes); !ok {
			continue
		}
		if fallback == nil {
			fallback = cert
		}
		// With one certificate the fallback is the answer either way:
		// no name matching (x509 parses and splits names each time).
		if len(c.Certificates) > 1 && ch.serverName != "" && cert.Leaf != nil && cert.Leaf.VerifyHostname(ch.serverName) == nil {
			return pickScheme(cert, peerSchemes)
		}
	}
	if fallback == nil {
		return nil, nil, 0, alertf(AlertHandshakeFailure, "no certificate matches the client's signature_algorithms")
	}
	return pickScheme(fallback, peerSchemes)
}

func pickScheme(cert *Certificate, peerSchemes []uint16) (*Certificate, crypto.Signer, SignatureScheme, error) {
	if len(cert.Certificate) == 0 {
		return nil, nil, 0, alertf(AlertInternalError, "empty certificate chain")
	}
	s, err := signerOf(cert)
	if err != nil {
		return nil, nil, 0, alertCause(AlertInternalError, "", err)
	}
	scheme, ok := chooseScheme(s, peerSchemes)
	if !ok {
		return nil, nil, 0, alertf(AlertHandshakeFailure, "no common signature scheme")
	}
	return cert, s, scheme, nil
}
