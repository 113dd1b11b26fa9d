package tls13

import (
	"crypto"
	"crypto/rand"
	"testing"
)

func TestSignatureSchemes(t *testing.T) {
	keys := map[string]crypto.Signer{}
	for _, k := range []string{"p256", "p384", "p521", "rsa", "ed25519"} {
		keys[k] = testLeaf(leafOpts{key: k}).PrivateKey.(crypto.Signer)
	}
	cases := []struct {
		key    string
		scheme SignatureScheme
	}{
		{"p256", ECDSAWithP256AndSHA256},
		{"p384", ECDSAWithP384AndSHA384},
		{"p521", ECDSAWithP521AndSHA512},
		{"rsa", PSSWithSHA256},
		{"rsa", PSSWithSHA384},
		{"rsa", PSSWithSHA512},
		{"ed25519", Ed25519},
	}
	content := newSignedContent(serverSignatureContext, make([]byte, 32))
	for _, tc := range cases {
		k := keys[tc.key]
		sig, err := signContent(k, tc.scheme, rand.Reader, content)
		if err != nil {
			t.Fatalf("%v: %v", tc.scheme, err)
		}
		if err := verifyContent(k.Public(), tc.scheme, content, sig); err != nil {
			t.Errorf("%s/%#x: %v", tc.key, uint16(tc.scheme), err)
		}
		sig[len(sig)/2] ^= 1
		wantAlert(t, verifyContent(k.Public(), tc.scheme, content, sig), AlertDecryptError)
		// A scheme that does not fit the key is illegal_parameter,
		// e.g. PKCS #1 v1.5, which TLS 1.3 forbids in CertificateVerify.
		wantAlert(t, verifyContent(k.Public(), PKCS1WithSHA256, content, sig), AlertIllegalParameter)
	}
	if _, ok := chooseScheme(keys["rsa"], []uint16{uint16(PKCS1WithSHA256)}); ok {
		t.Error("chose PKCS #1 v1.5 for CertificateVerify")
	}
	if s, ok := chooseScheme(keys["rsa"], []uint16{uint16(PSSWithSHA512), uint16(PSSWithSHA256)}); !ok || s != PSSWithSHA512 {
		t.Errorf("chose %#x, want the peer's first acceptable scheme", uint16(s))
	}
}
