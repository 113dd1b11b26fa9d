package selfsigned

import (
	"crypto/x509"
	"testing"
)

func TestCertificateVerifiesForItsNames(t *testing.T) {
	cert, pool, err := New("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "127.0.0.1"} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: pool}); err == nil {
		t.Error("verified for a name it does not carry")
	}
}
