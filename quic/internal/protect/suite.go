package protect

import (
	"crypto/sha256"
	"crypto/sha512"

	"github.com/skiffnet/skiff/internal/hkdf"
)

// QUIC versions whose packet protection this package knows.
const (
	Version1 uint32 = 0x00000001 // RFC 9000
	Version2 uint32 = 0x6b3343cf // RFC 9369 §3.1
)

// Suite is a TLS 1.3 cipher suite identifier (RFC 8446 §B.4). QUIC packet
// protection uses the suite's AEAD and hash (RFC 9001 §5).
type Suite uint16

// The cipher suites QUIC can use. TLS_AES_128_CCM_SHA256 is not supported.
const (
	TLS_AES_128_GCM_SHA256       Suite = 0x1301
	TLS_AES_256_GCM_SHA384       Suite = 0x1302
	TLS_CHACHA20_POLY1305_SHA256 Suite = 0x1303
)

// AEAD usage limits of RFC 9001 §6.6, counted in packets.
const (
	// AESGCMConfidentialityLimit is the number of packets that may be
	// encrypted with one AEAD_AES_128_GCM or AEAD_AES_256_GCM key
	// (RFC 9001 §6.6, Appendix B.1.1).
	AESGCMConfidentialityLimit uint64 = 1 << 23
	// AESGCMIntegrityLimit is the number of packets failing authentication
	// that a connection may receive with AES-GCM (RFC 9001 §6.6, B.1.2).
	AESGCMIntegrityLimit uint64 = 1 << 52
	// ChaCha20Poly1305ConfidentialityLimit: RFC 9001 §6.6 says the limit
	// exceeds the number of possible packets (2^62), so it is that number.
	ChaCha20Poly1305ConfidentialityLimit uint64 = 1 << 62
	// ChaCha20Poly1305IntegrityLimit is the number of packets failing
	// authentication that a connection may receive with
	// AEAD_CHACHA20_POLY1305 (RFC 9001 §6.6).
	ChaCha20Poly1305IntegrityLimit uint64 = 1 << 36
)

// String returns the suite's name as TLS 1.3 writes it.
func (s Suite) String() string {
	switch s {
	case TLS_AES_128_GCM_SHA256:
		return "TLS_AES_128_GCM_SHA256"
	case TLS_AES_256_GCM_SHA384:
		return "TLS_AES_256_GCM_SHA384"
	case TLS_CHACHA20_POLY1305_SHA256:
		return "TLS_CHACHA20_POLY1305_SHA256"
	}
	return "unknown suite"
}

// Supported reports whether the package can protect packets with s.
func (s Suite) Supported() bool {
	return s == TLS_AES_128_GCM_SHA256 || s == TLS_AES_256_GCM_SHA384 || s == TLS_CHACHA20_POLY1305_SHA256
}

// ConfidentialityLimit is the number of packets that may be sealed with one
// key of this suite before a key update is needed (RFC 9001 §6.6). It is 0
// for an unsupported suite.
func (s Suite) ConfidentialityLimit() uint64 {
	switch s {
	case TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384:
		return AESGCMConfidentialityLimit
	case TLS_CHACHA20_POLY1305_SHA256:
		return ChaCha20Poly1305ConfidentialityLimit
	}
	return 0
}

// IntegrityLimit is the number of packets failing authentication, across all
// keys of a connection, after which the connection must close with
// AEAD_LIMIT_REACHED (RFC 9001 §6.6). It is 0 for an unsupported suite.
func (s Suite) IntegrityLimit() uint64 {
	switch s {
	case TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384:
		return AESGCMIntegrityLimit
	case TLS_CHACHA20_POLY1305_SHA256:
		return ChaCha20Poly1305IntegrityLimit
	}
	return 0
}

// keyLen is the length of the AEAD key, which is also the length of the
// header protection key (RFC 9001 §5.4.3, §5.4.4).
func (s Suite) keyLen() int {
	if s == TLS_AES_128_GCM_SHA256 {
		return 16
	}
	return 32
}

// kdf returns the suite's hash for HKDF (RFC 8446 §7.1).
func (s Suite) kdf() *hkdf.Hash {
	if s == TLS_AES_256_GCM_SHA384 {
		return hkdf.SHA384
	}
	return hkdf.SHA256
}

// secretLen is the length of a traffic secret: the hash output length.
func (s Suite) secretLen() int {
	if s == TLS_AES_256_GCM_SHA384 {
		return sha512.Size384
	}
	return sha256.Size
}

// versionParams holds what differs between QUIC versions in packet
// protection: the Initial salt, the HKDF labels and the Retry AEAD key and
// nonce.
type versionParams struct {
	initialSalt []byte
	labelKey    string
	labelIV     string
	labelHP     string
	labelKU     string
	retryKey    [16]byte
	retryNonce  [nonceLen]byte
}

var (
	// RFC 9001 §5.2, §5.8, §6.1.
	version1Params = versionParams{
		initialSalt: []byte{
			0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
			0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
		},
		labelKey: "quic key",
		labelIV:  "quic iv",
		labelHP:  "quic hp",
		labelKU:  "quic ku",
		retryKey: [16]byte{
			0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a,
			0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e,
		},
		retryNonce: [nonceLen]byte{
			0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb,
		},
	}
	// RFC 9369 §3.3.1 (salt), §3.3.2 (labels), §3.3.3 (Retry).
	version2Params = versionParams{
		initialSalt: []byte{
			0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
			0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
		},
		labelKey: "quicv2 key",
		labelIV:  "quicv2 iv",
		labelHP:  "quicv2 hp",
		labelKU:  "quicv2 ku",
		retryKey: [16]byte{
			0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2,
			0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92,
		},
		retryNonce: [nonceLen]byte{
			0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a,
		},
	}
)

// paramsFor returns the protection parameters of a QUIC version.
func paramsFor(version uint32) (*versionParams, error) {
	switch version {
	case Version1:
		return &version1Params, nil
	case Version2:
		return &version2Params, nil
	}
	return nil, ErrUnsupportedVersion
}
