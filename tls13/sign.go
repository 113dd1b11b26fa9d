package tls13

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"io"
)

// SignatureScheme is a TLS 1.3 SignatureScheme (RFC 8446 §4.2.3).
type SignatureScheme uint16

const (
	PKCS1WithSHA256        SignatureScheme = 0x0401
	PKCS1WithSHA384        SignatureScheme = 0x0501
	PKCS1WithSHA512        SignatureScheme = 0x0601
	ECDSAWithP256AndSHA256 SignatureScheme = 0x0403
	ECDSAWithP384AndSHA384 SignatureScheme = 0x0503
	ECDSAWithP521AndSHA512 SignatureScheme = 0x0603
	PSSWithSHA256          SignatureScheme = 0x0804
	PSSWithSHA384          SignatureScheme = 0x0805
	PSSWithSHA512          SignatureScheme = 0x0806
	Ed25519                SignatureScheme = 0x0807
)

// supportedSignatureSchemes are the schemes we accept in CertificateVerify,
// in preference order. RSASSA-PKCS1-v1_5 is never allowed there
// (RFC 8446 §4.2.3), only in certificates.
var supportedSignatureSchemes = []uint16{
	uint16(ECDSAWithP256AndSHA256), uint16(Ed25519), uint16(PSSWithSHA256),
	uint16(ECDSAWithP384AndSHA384), uint16(PSSWithSHA384),
	uint16(ECDSAWithP521AndSHA512), uint16(PSSWithSHA512),
}

// supportedCertSignatureSchemes are advertised in signature_algorithms_cert:
// chains signed with PKCS #1 v1.5 remain common.
var supportedCertSignatureSchemes = append(append([]uint16(nil), supportedSignatureSchemes...),
	uint16(PKCS1WithSHA256), uint16(PKCS1WithSHA384), uint16(PKCS1WithSHA512))

func schemeHash(s SignatureScheme) crypto.Hash {
	switch s {
	case ECDSAWithP256AndSHA256, PSSWithSHA256:
		return crypto.SHA256
	case ECDSAWithP384AndSHA384, PSSWithSHA384:
		return crypto.SHA384
	case ECDSAWithP521AndSHA512, PSSWithSHA512:
		return crypto.SHA512
	}
	return 0 // Ed25519 signs the message itself
}

// The CertificateVerify schemes of each kind of key, shared and never
// modified.
var (
	schemesP256    = []SignatureScheme{ECDSAWithP256AndSHA256}
	schemesP384    = []SignatureScheme{ECDSAWithP384AndSHA384}
	schemesP521    = []SignatureScheme{ECDSAWithP521AndSHA512}
	schemesRSA     = []SignatureScheme{PSSWithSHA256, PSSWithSHA384, PSSWithSHA512}
	schemesEd25519 = []SignatureScheme{Ed25519}
)

// schemesForKey lists the CertificateVerify schemes a public key can use;
// the caller must not modify the list. RFC 8446 §4.2.3: ECDSA schemes fix
// the curve.
func schemesForKey(pub crypto.PublicKey) []SignatureScheme {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return schemesP256
		case elliptic.P384():
			return schemesP384
		case elliptic.P521():
			return schemesP521
		}
	case *rsa.PublicKey:
		return schemesRSA
	case ed25519.PublicKey:
		return schemesEd25519
	}
	return nil
}

// chooseScheme picks the first scheme in the peer's list that the key can
// produce.
func chooseScheme(signer crypto.Signer, peerSchemes []uint16) (SignatureScheme, bool) {
	own := schemesForKey(signer.Public())
	for _, p := range peerSchemes {
		for _, s := range own {
			if uint16(s) == p {
				return s, true
			}
		}
	}
	return 0, false
}

// Context strings of CertificateVerify (RFC 8446 §4.4.3).
const (
	serverSignatureContext = "TLS 1.3, server CertificateVerify\x00"
	clientSignatureContext = "TLS 1.3, client CertificateVerify\x00"
)

// signedContent is what CertificateVerify signs (RFC 8446 §4.4.3): 64
// spaces, the context string (with its zero byte) and the transcript hash,
// in a fixed array (newSignedContent is inlined, and the value stays on
// its caller's stack).
type signedContent struct {
	b [64 + len(serverSignatureContext) + 64]byte
	n int
}

func newSignedContent(context string, transcriptHash []byte) *signedContent {
	var c signedContent
	for i := range 64 {
		c.b[i] = ' '
	}
	c.n = 64 + copy(c.b[64:], context)
	c.n += copy(c.b[c.n:], transcriptHash)
	return &c
}

func (c *signedContent) bytes() []byte { return c.b[:c.n] }

// digest hashes the content with h into out: what a signature with a
// hash covers. Unlike crypto.Hash.New, the fixed-size sums allocate
// nothing.
func (c *signedContent) digest(h crypto.Hash, out *[64]byte) []byte {
	switch h {
	case crypto.SHA256:
		*(*[32]byte)(out[:]) = sha256.Sum256(c.bytes())
		return out[:32]
	case crypto.SHA384:
		*(*[48]byte)(out[:]) = sha512.Sum384(c.bytes())
		return out[:48]
	}
	*out = sha512.Sum512(c.bytes())
	return out[:]
}

func signContent(signer crypto.Signer, scheme SignatureScheme, rand io.Reader, content *signedContent) ([]byte, error) {
	h := schemeHash(scheme)
	if h == 0 {
		// Ed25519 signs the content itself.
		return signer.Sign(rand, bytes.Clone(content.bytes()), crypto.Hash(0))
	}
	var opts crypto.SignerOpts = h
	if scheme == PSSWithSHA256 || scheme == PSSWithSHA384 || scheme == PSSWithSHA512 {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
	}
	var d [64]byte
	return signer.Sign(rand, content.digest(h, &d), opts)
}

// verifyContent checks a CertificateVerify signature. A scheme the key
// cannot use, or one we did not offer, is illegal_parameter; a bad signature
// is decrypt_error (RFC 8446 §4.4.3).
func verifyContent(pub crypto.PublicKey, scheme SignatureScheme, content *signedContent, sig []byte) error {
	ok := false
	for _, s := range schemesForKey(pub) {
		if s == scheme {
			ok = true
		}
	}
	if !ok {
		return alertf(AlertIllegalParameter, "signature scheme does not match the certificate key")
	}
	h := schemeHash(scheme)
	var d [64]byte
	valid := false
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		valid = ecdsa.VerifyASN1(k, content.digest(h, &d), sig)
	case *rsa.PublicKey:
		valid = rsa.VerifyPSS(k, h, content.digest(h, &d), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}) == nil
	case ed25519.PublicKey:
		valid = ed25519.Verify(k, content.bytes(), sig)
	}
	if !valid {
		return alertf(AlertDecryptError, "invalid CertificateVerify signature")
	}
	return nil
}
