package tls13

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8PEM(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", der)
}

// TestX509KeyPair: the key forms crypto/tls reads, chains with
// intermediates, and the errors a person can act on.
func TestX509KeyPair(t *testing.T) {
	p256 := testLeaf(leafOpts{key: "p256"})
	rsaLeaf := testLeaf(leafOpts{key: "rsa"})
	certPEM := pemBlock("CERTIFICATE", p256.Certificate[0])
	ecDER, err := x509.MarshalECPrivateKey(p256.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	good := []struct {
		name      string
		cert, key []byte
	}{
		{"pkcs8", certPEM, pkcs8PEM(t, p256.PrivateKey)},
		{"sec1", certPEM, pemBlock("EC PRIVATE KEY", ecDER)},
		{"pkcs1", pemBlock("CERTIFICATE", rsaLeaf.Certificate[0]), pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaLeaf.PrivateKey.(*rsa.PrivateKey)))},
		{"keyAfterOtherBlocks", certPEM, append(pemBlock("EC PARAMETERS", []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}), pkcs8PEM(t, p256.PrivateKey)...)},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			cert, err := X509KeyPair(tc.cert, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if cert.Leaf == nil || len(cert.Certificate) != 1 {
				t.Fatalf("leaf %v, chain %d", cert.Leaf, len(cert.Certificate))
			}
			h, _, _ := ourClientOurServer(t, baseClientConfig(), baseServerConfig(cert))
			h.check(t)
		})
	}
	t.Run("intermediate", func(t *testing.T) {
		chain, key := intermediateChain(t)
		cert, err := X509KeyPair(append(pemBlock("CERTIFICATE", chain[0]), pemBlock("CERTIFICATE", chain[1])...), pkcs8PEM(t, key))
		if err != nil {
			t.Fatal(err)
		}
		h, c, _ := ourClientOurServer(t, baseClientConfig(), baseServerConfig(cert))
		h.check(t)
		if len(c.ConnectionState().VerifiedChains[0]) != 3 {
			t.Errorf("chain of %d", len(c.ConnectionState().VerifiedChains[0]))
		}
	})
	bad := []struct {
		name, want string
		cert, key  []byte
	}{
		{"noCertificate", "no PEM certificate", nil, pkcs8PEM(t, p256.PrivateKey)},
		{"keyAsCertificate", "only PRIVATE KEY", pkcs8PEM(t, p256.PrivateKey), pkcs8PEM(t, p256.PrivateKey)},
		{"noKey", "only CERTIFICATE", certPEM, certPEM},
		{"encrypted", "encrypted", certPEM, pemBlock("ENCRYPTED PRIVATE KEY", []byte{1, 2, 3})},
		{"garbageKey", "neither PKCS #8", certPEM, pemBlock("PRIVATE KEY", []byte{1, 2, 3})},
		{"mismatch", "does not match", certPEM, pkcs8PEM(t, mustKey("p256"))},
		{"badLeaf", "leaf certificate", pemBlock("CERTIFICATE", []byte{1, 2, 3}), pkcs8PEM(t, p256.PrivateKey)},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := X509KeyPair(tc.cert, tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "tls13: ") {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadX509KeyPair(t *testing.T) {
	p256 := testLeaf(leafOpts{key: "p256"})
	dir := t.TempDir()
	certFile, keyFile, both := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "both.pem")
	certPEM, keyPEM := pemBlock("CERTIFICATE", p256.Certificate[0]), pkcs8PEM(t, p256.PrivateKey)
	for name, data := range map[string][]byte{certFile: certPEM, keyFile: keyPEM, both: append(certPEM, keyPEM...)} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Error(err)
	}
	if _, err := LoadX509KeyPair(both, both); err != nil {
		t.Error(err)
	}
	if _, err := LoadX509KeyPair(filepath.Join(dir, "missing.pem"), keyFile); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := LoadX509KeyPair(keyFile, keyFile); err == nil || !strings.Contains(err.Error(), "key.pem") {
		t.Errorf("error does not name the files: %v", err)
	}
}
