package runner

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// WriteCerts writes what the runner puts in /certs: cert.pem (the leaf,
// then chainLen-1 intermediates), priv.key (the leaf's ECDSA P-256 key, PKCS
// #8) and ca.pem (the self-signed root that issued the last intermediate,
// or the leaf when chainLen is 1), with hosts (names or IP addresses) in the
// leaf. For chainLen > 1 the leaf carries twenty filler names of 250 bytes,
// as the runner's certs.sh does, so that the amplificationlimit test's
// nine-certificate chain makes well over 7500 bytes of server Handshake
// data.
func WriteCerts(dir string, chainLen int, hosts []string) error {
	if chainLen < 1 {
		return fmt.Errorf("chain length %d", chainLen)
	}
	now := time.Now()
	issuerKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	issuer := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"skiff interop root"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, issuer, issuer, &issuerKey.PublicKey, issuerKey)
	if err != nil {
		return err
	}
	if issuer, err = x509.ParseCertificate(rootDER); err != nil {
		return err
	}
	var chain [][]byte // intermediates, root side first
	for i := 1; i < chainLen; i++ {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(int64(i + 1)),
			Subject:               pkix.Name{CommonName: fmt.Sprintf("skiff interop intermediate %d", i)},
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              now.Add(10 * 24 * time.Hour),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, issuerKey)
		if err != nil {
			return err
		}
		chain = append(chain, der)
		if issuer, err = x509.ParseCertificate(der); err != nil {
			return err
		}
		issuerKey = key
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(int64(chainLen + 1)),
		Subject:      pkix.Name{CommonName: "skiff interop leaf"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			leaf.IPAddresses = append(leaf.IPAddresses, ip)
		} else {
			leaf.DNSNames = append(leaf.DNSNames, h)
		}
	}
	if chainLen > 1 {
		for i := range 20 {
			leaf.DNSNames = append(leaf.DNSNames, fillerName(i))
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, issuer, &leafKey.PublicKey, issuerKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return err
	}
	certPEM := pemBlock("CERTIFICATE", leafDER)
	for i := len(chain) - 1; i >= 0; i-- {
		certPEM = append(certPEM, pemBlock("CERTIFICATE", chain[i])...)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"cert.pem": certPEM,
		"priv.key": pemBlock("PRIVATE KEY", keyDER),
		"ca.pem":   pemBlock("CERTIFICATE", rootDER),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// fillerName is a 250-byte DNS name of letters: four labels of 62 and a
// tail (a label is at most 63 bytes).
func fillerName(i int) string {
	b := make([]byte, 0, 250)
	for len(b) < 250 {
		if len(b) > 0 && len(b)%63 == 62 {
			b = append(b, '.')
			continue
		}
		b = append(b, byte('a'+(len(b)+i)%26))
	}
	return string(b)
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
