package main

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/tls13"
)

// loadOrMakeCertificate reads a PEM certificate chain and key, or makes a
// self-signed certificate for localhost when neither is given.
func loadOrMakeCertificate(certFile, keyFile string) (tls13.Certificate, error) {
	if certFile == "" && keyFile == "" {
		cert, _, err := selfsigned.New("localhost", "127.0.0.1", "::1")
		return cert, err
	}
	if certFile == "" || keyFile == "" {
		return tls13.Certificate{}, errors.New("--cert and --key go together")
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls13.Certificate{}, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls13.Certificate{}, err
	}
	var cert tls13.Certificate
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			cert.Certificate = append(cert.Certificate, b.Bytes)
		}
	}
	if len(cert.Certificate) == 0 {
		return cert, fmt.Errorf("no certificate in %s", certFile)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return cert, fmt.Errorf("no key in %s", keyFile)
	}
	key, err := parsePrivateKey(kb.Bytes)
	if err != nil {
		return cert, fmt.Errorf("%s: %w", keyFile, err)
	}
	cert.PrivateKey = key
	return cert, nil
}

func parsePrivateKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("unsupported private key format")
}
