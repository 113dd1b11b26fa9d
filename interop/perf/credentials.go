package perf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"time"
)

// ServerName is the name in every certificate NewCredentials makes.
const ServerName = "localhost"

// NewCredentials makes a self-signed ECDSA P-256 certificate for
// ServerName (and the given IP addresses), valid for a day, and
// credentials that trust it.
func NewCredentials(ips ...net.IP) (*Credentials, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "skiff perf"},
		DNSNames:     []string{ServerName},
		IPAddresses:  ips,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return credentialsFor(der, key)
}

// ClientCredentials returns credentials trusting the DER certificate, for a
// client whose server runs elsewhere (it has no private key).
func ClientCredentials(der []byte) (*Credentials, error) {
	return credentialsFor(der, nil)
}

func credentialsFor(der []byte, key *ecdsa.PrivateKey) (*Credentials, error) {
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	c := &Credentials{Roots: pool, ServerName: ServerName}
	c.Certificate = tls.Certificate{Certificate: [][]byte{der}, Leaf: leaf}
	if key != nil {
		c.Certificate.PrivateKey = key
	}
	return c, nil
}
