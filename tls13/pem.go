package tls13

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// LoadX509KeyPair reads a certificate chain and its private key from PEM
// files, as crypto/tls's function of the same name: certFile holds the
// leaf first, then any intermediates; keyFile the key in PKCS #8, SEC 1
// ("EC PRIVATE KEY") or PKCS #1 ("RSA PRIVATE KEY") form. The two may be
// the same file.
func LoadX509KeyPair(certFile, keyFile string) (Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return Certificate{}, fmt.Errorf("tls13: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return Certificate{}, fmt.Errorf("tls13: %w", err)
	}
	cert, err := X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return Certificate{}, fmt.Errorf("%w (%s, %s)", err, certFile, keyFile)
	}
	return cert, nil
}

// X509KeyPair parses a PEM certificate chain and private key, as
// crypto/tls's function of the same name. It checks that the key can sign
// in TLS 1.3 (ECDSA P-256/P-384/P-521, RSA, Ed25519) and matches the leaf,
// and sets Leaf.
func X509KeyPair(certPEM, keyPEM []byte) (Certificate, error) {
	var cert Certificate
	var skipped []string
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			cert.Certificate = append(cert.Certificate, b.Bytes)
		} else {
			skipped = append(skipped, b.Type)
		}
	}
	if len(cert.Certificate) == 0 {
		if len(skipped) > 0 {
			return Certificate{}, fmt.Errorf("tls13: no CERTIFICATE PEM block in the certificate input, only %s", strings.Join(skipped, ", "))
		}
		return Certificate{}, errors.New("tls13: no PEM certificate in the certificate input")
	}
	key, err := parsePEMKey(keyPEM)
	if err != nil {
		return Certificate{}, err
	}
	cert.PrivateKey = key
	if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
		return Certificate{}, fmt.Errorf("tls13: leaf certificate: %w", err)
	}
	if err := cert.Validate(); err != nil {
		return Certificate{}, err
	}
	return cert, nil
}

// parsePEMKey finds the first private key block in keyPEM.
func parsePEMKey(keyPEM []byte) (crypto.Signer, error) {
	var skipped []string
	for rest := keyPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "PRIVATE KEY" && !strings.HasSuffix(b.Type, " PRIVATE KEY") {
			skipped = append(skipped, b.Type)
			continue
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
			return nil, errors.New("tls13: the private key is encrypted; decrypt it first")
		}
		return parseDERKey(b.Bytes)
	}
	if len(skipped) > 0 {
		return nil, fmt.Errorf("tls13: no PRIVATE KEY PEM block in the key input, only %s", strings.Join(skipped, ", "))
	}
	return nil, errors.New("tls13: no PEM private key in the key input")
}

// parseDERKey tries the key encodings crypto/tls accepts, PKCS #8 first.
func parseDERKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("tls13: a %T private key cannot sign", k)
		}
		return s, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("tls13: the private key is neither PKCS #8, SEC 1 nor PKCS #1")
}
