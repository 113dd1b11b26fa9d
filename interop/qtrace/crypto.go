package qtrace

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/skiffnet/skiff/tls13"
)

// QUIC versions this package decrypts.
const (
	Version1 = 0x00000001
	Version2 = 0x6b3343cf
)

// Initial salts: RFC 9001 §5.2 and RFC 9369 §3.3.1.
var (
	saltV1 = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}
	saltV2 = []byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9}
)

// keys protect the packets of one direction at one encryption level: the
// AEAD and IV for payloads, the header protection key, and the secret the
// next key generation derives from (RFC 9001 §5, §6).
type keys struct {
	suite   uint16
	version uint32
	secret  []byte
	aead    cipher.AEAD
	iv      []byte
	hpKey   []byte
	hpAES   cipher.Block
}

// labelPrefix is "quic " for version 1 and "quicv2 " for version 2
// (RFC 9369 §3.3.2).
func labelPrefix(version uint32) string {
	if version == Version2 {
		return "quicv2 "
	}
	return "quic "
}

func keyLen(suite uint16) int {
	if suite == tls13.TLS_AES_128_GCM_SHA256 {
		return 16
	}
	return 32
}

var errSuite = errors.New("qtrace: unknown cipher suite")

// newKeys derives packet protection keys from a TLS secret (RFC 9001
// §5.1).
func newKeys(suite uint16, version uint32, secret []byte) (*keys, error) {
	switch suite {
	case tls13.TLS_AES_128_GCM_SHA256, tls13.TLS_AES_256_GCM_SHA384, tls13.TLS_CHACHA20_POLY1305_SHA256:
	default:
		return nil, errSuite
	}
	p := labelPrefix(version)
	n := keyLen(suite)
	k := &keys{
		suite: suite, version: version, secret: secret,
		iv:    tls13.ExpandLabel(suite, secret, p+"iv", nil, 12),
		hpKey: tls13.ExpandLabel(suite, secret, p+"hp", nil, n),
	}
	key := tls13.ExpandLabel(suite, secret, p+"key", nil, n)
	var err error
	if suite == tls13.TLS_CHACHA20_POLY1305_SHA256 {
		k.aead, err = chacha20poly1305.New(key)
		return k, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	k.hpAES, err = aes.NewCipher(k.hpKey)
	return k, err
}

// next derives the keys of the next key phase; header protection keys do
// not change (RFC 9001 §6).
func (k *keys) next() (*keys, error) {
	secret := tls13.ExpandLabel(k.suite, k.secret, labelPrefix(k.version)+"ku", nil, len(k.secret))
	n, err := newKeys(k.suite, k.version, secret)
	if err != nil {
		return nil, err
	}
	n.hpKey, n.hpAES = k.hpKey, k.hpAES
	return n, nil
}

// initialKeys derives the Initial keys of both directions from the
// client's Destination Connection ID (RFC 9001 §5.2).
func initialKeys(version uint32, dcid []byte) (client, server *keys) {
	const suite = tls13.TLS_AES_128_GCM_SHA256
	salt := saltV1
	if version == Version2 {
		salt = saltV2
	}
	initial := tls13.Extract(suite, dcid, salt)
	client, _ = newKeys(suite, version, tls13.ExpandLabel(suite, initial, "client in", nil, 32))
	server, _ = newKeys(suite, version, tls13.ExpandLabel(suite, initial, "server in", nil, 32))
	return client, server
}

// mask is the header protection mask for a 16-byte sample (RFC 9001
// §5.4.3, §5.4.4).
func (k *keys) mask(sample []byte) [5]byte {
	var m [16]byte
	if k.hpAES != nil {
		k.hpAES.Encrypt(m[:], sample)
	} else {
		c, err := chacha20.NewUnauthenticatedCipher(k.hpKey, sample[4:16])
		if err == nil {
			c.SetCounter(binary.LittleEndian.Uint32(sample[:4]))
			c.XORKeyStream(m[:5], m[:5])
		}
	}
	return [5]byte(m[:5])
}

func (k *keys) nonce(pn uint64) []byte {
	n := make([]byte, len(k.iv))
	copy(n, k.iv)
	for i := range 8 {
		n[len(n)-1-i] ^= byte(pn >> (8 * i))
	}
	return n
}

// unprotect removes header protection from pkt, whose packet number
// starts at pnOffset (RFC 9001 §5.4). largest is the largest packet number
// received so far in the space (-1 for none). It returns the unprotected
// header (a copy, through the packet number) and the full packet number;
// pkt is left unchanged.
func (k *keys) unprotect(pkt []byte, pnOffset int, largest int64) (hdr []byte, pn uint64, err error) {
	if len(pkt) < pnOffset+4+16 {
		return nil, 0, errors.New("qtrace: packet too short for a header protection sample")
	}
	m := k.mask(pkt[pnOffset+4 : pnOffset+20])
	first := pkt[0]
	if first&0x80 != 0 {
		first ^= m[0] & 0x0f
	} else {
		first ^= m[0] & 0x1f
	}
	pnLen := int(first&3) + 1
	hdr = append([]byte(nil), pkt[:pnOffset+pnLen]...)
	hdr[0] = first
	var truncated uint64
	for i := range pnLen {
		hdr[pnOffset+i] ^= m[1+i]
		truncated = truncated<<8 | uint64(hdr[pnOffset+i])
	}
	return hdr, decodePacketNumber(largest, truncated, pnLen*8), nil
}

// decrypt opens the payload of a packet whose unprotected header is hdr.
func (k *keys) decrypt(hdr, ciphertext []byte, pn uint64) ([]byte, error) {
	return k.aead.Open(nil, k.nonce(pn), ciphertext, hdr)
}

// seal is the inverse of unprotect and decrypt, for tests that build traces: it protects a
// packet whose header (first byte with the packet number length,
// through the packet number) is header and whose packet number starts
// at pnOffset.
func (k *keys) seal(header []byte, pnOffset int, pn uint64, payload []byte) []byte {
	pnLen := int(header[0]&3) + 1
	out := append([]byte(nil), header...)
	out = k.aead.Seal(out, k.nonce(pn), payload, header)
	m := k.mask(out[pnOffset+4 : pnOffset+20])
	if out[0]&0x80 != 0 {
		out[0] ^= m[0] & 0x0f
	} else {
		out[0] ^= m[0] & 0x1f
	}
	for i := range pnLen {
		out[pnOffset+i] ^= m[1+i]
	}
	return out
}

// decodePacketNumber recovers a full packet number (RFC 9000 §A.3).
func decodePacketNumber(largest int64, truncated uint64, bits int) uint64 {
	expected := uint64(largest + 1)
	win := uint64(1) << bits
	hwin, mask := win/2, win-1
	candidate := (expected &^ mask) | truncated
	switch {
	case candidate+hwin <= expected && candidate < (1<<62)-win:
		return candidate + win
	case candidate > expected+hwin && candidate >= win:
		return candidate - win
	}
	return candidate
}
