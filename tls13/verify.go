package tls13

import (
	"crypto"
	"crypto/x509"
	"errors"
)

// parseChain parses the peer's DER chain; an unparsable certificate is
// bad_certificate (RFC 8446 §6.2).
func parseChain(der [][]byte) ([]*x509.Certificate, error) {
	certs := make([]*x509.Certificate, len(der))
	for i, d := range der {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return nil, alertf(AlertBadCertificate, "unparsable certificate: "+err.Error())
		}
		certs[i] = c
	}
	if schemesForKey(certs[0].PublicKey) == nil {
		return nil, alertf(AlertUnsupportedCertificate, "unsupported certificate key type")
	}
	return certs, nil
}

// verifyChain checks a chain with crypto/x509 and maps failures to alerts
// (RFC 8446 §6.2): expired → certificate_expired, unknown issuer →
// unknown_ca, anything else (wrong name, bad usage) → bad_certificate.
func (c *Config) verifyChain(certs []*x509.Certificate, roots *x509.CertPool, dnsName string, usage x509.ExtKeyUsage) ([][]*x509.Certificate, error) {
	opts := x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: c.now(),
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
	if err == nil {
		return chains, nil
	}
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return nil, alertf(AlertCertificateExpired, err.Error())
	case errors.As(err, &unknown):
		return nil, alertf(AlertUnknownCA, err.Error())
	}
	return nil, alertf(AlertBadCertificate, err.Error())
}

// runVerifyHook calls Config.VerifyPeerCertificate.
func (c *Config) runVerifyHook(der [][]byte, chains [][]*x509.Certificate) error {
	if c.VerifyPeerCertificate == nil {
		return nil
	}
	if err := c.VerifyPeerCertificate(der, chains); err != nil {
		return alertf(AlertBadCertificate, "VerifyPeerCertificate: "+err.Error())
	}
	return nil
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
func (c *Config) serverCertificate(info *ClientHelloInfo, peerSchemes []uint16) (*Certificate, crypto.Signer, SignatureScheme, error) {
	if c.GetCertificate != nil {
		cert, err := c.GetCertificate(info)
		if err != nil || cert == nil {
			return nil, nil, 0, alertf(AlertHandshakeFailure, "GetCertificate returned no certificate")
		}
		return pickScheme(cert, peerSchemes)
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
		if info.ServerName != "" && cert.Leaf != nil && cert.Leaf.VerifyHostname(info.ServerName) == nil {
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
		return nil, nil, 0, alertf(AlertInternalError, err.Error())
	}
	scheme, ok := chooseScheme(s, peerSchemes)
	if !ok {
		return nil, nil, 0, alertf(AlertHandshakeFailure, "no common signature scheme")
	}
	return cert, s, scheme, nil
}
