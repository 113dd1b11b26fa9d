package tlsconv

import (
	"crypto/tls"
	"errors"

	"github.com/skiffnet/skiff/tls13"
)

// FromCertificate converts a tls.Certificate (from tls.LoadX509KeyPair,
// tls.X509KeyPair or built by hand). It rejects what tls13 cannot send or
// honour: an OCSP staple, signed certificate timestamps, a restricted
// SupportedSignatureAlgorithms list, an empty chain, or a key that is not
// a crypto.Signer tls13 can use.
func FromCertificate(c tls.Certificate) (tls13.Certificate, error) {
	switch {
	case len(c.Certificate) == 0:
		return tls13.Certificate{}, errors.New("empty certificate chain")
	case len(c.OCSPStaple) > 0:
		return tls13.Certificate{}, errors.New("OCSPStaple: OCSP stapling is not implemented by tls13")
	case len(c.SignedCertificateTimestamps) > 0:
		return tls13.Certificate{}, errors.New("SignedCertificateTimestamps: SCTs are not implemented by tls13")
	case len(c.SupportedSignatureAlgorithms) > 0:
		return tls13.Certificate{}, errors.New("SupportedSignatureAlgorithms: restricting a certificate's schemes is not implemented by tls13")
	}
	out := tls13.Certificate{Certificate: c.Certificate, PrivateKey: c.PrivateKey, Leaf: c.Leaf}
	if err := out.Validate(); err != nil {
		return tls13.Certificate{}, err
	}
	return out, nil
}

// wrapGetCertificate adapts a crypto/tls GetCertificate hook.
func wrapGetCertificate(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) func(*tls13.ClientHelloInfo) (*tls13.Certificate, error) {
	return func(info *tls13.ClientHelloInfo) (*tls13.Certificate, error) {
		ti := &tls.ClientHelloInfo{
			ServerName:        info.ServerName,
			SupportedProtos:   info.SupportedProtos,
			CipherSuites:      info.CipherSuites,
			SupportedVersions: []uint16{tls.VersionTLS13},
		}
		for _, s := range info.SignatureSchemes {
			ti.SignatureSchemes = append(ti.SignatureSchemes, tls.SignatureScheme(s))
		}
		for _, g := range info.SupportedCurves {
			ti.SupportedCurves = append(ti.SupportedCurves, tls.CurveID(g))
		}
		tc, err := get(ti)
		if err != nil || tc == nil {
			return nil, err
		}
		c, err := FromCertificate(*tc)
		if err != nil {
			return nil, err
		}
		return &c, nil
	}
}

// wrapGetClientCertificate adapts a crypto/tls GetClientCertificate hook.
func wrapGetClientCertificate(get func(*tls.CertificateRequestInfo) (*tls.Certificate, error)) func(*tls13.CertificateRequestInfo) (*tls13.Certificate, error) {
	return func(info *tls13.CertificateRequestInfo) (*tls13.Certificate, error) {
		ti := &tls.CertificateRequestInfo{Version: tls.VersionTLS13}
		for _, s := range info.SignatureSchemes {
			ti.SignatureSchemes = append(ti.SignatureSchemes, tls.SignatureScheme(s))
		}
		tc, err := get(ti)
		if err != nil || tc == nil {
			return nil, err
		}
		if len(tc.Certificate) == 0 {
			// crypto/tls's way of sending no certificate.
			return &tls13.Certificate{}, nil
		}
		c, err := FromCertificate(*tc)
		if err != nil {
			return nil, err
		}
		return &c, nil
	}
}
