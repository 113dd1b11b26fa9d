package protect

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
)

// headerProtection holds the header protection key of RFC 9001 §5.4 and the
// mask computed from the last sample. It is copied by value into the next
// key generation, since key updates leave the header protection key alone
// (RFC 9001 §6.1).
type headerProtection struct {
	// block is the AES cipher of the AES-based suites (RFC 9001 §5.4.3);
	// nil for ChaCha20, and while the keys rest (Keys.Rest).
	block cipher.Block
	// key is the header protection key as eight little-endian words: the
	// ChaCha20 key as its state takes it (RFC 9001 §5.4.4, RFC 8439 §2.3),
	// or the AES key's aesKeyLen bytes (0 for ChaCha20), kept to make
	// block again after a rest.
	key       [8]uint32
	aesKeyLen uint8
	// mask is scratch for the mask of one packet. It lives here, not on
	// the stack, because a slice passed to block.Encrypt, an interface
	// method, would escape and allocate.
	mask [16]byte
}

// newHeaderProtection keeps hpKey, suite.keyLen() bytes; the AES cipher
// waits for the first packet (computeMask).
func newHeaderProtection(suite Suite, hpKey []byte) headerProtection {
	var h headerProtection
	var b [32]byte
	copy(b[:], hpKey)
	for i := range h.key {
		h.key[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	if suite != TLS_CHACHA20_POLY1305_SHA256 {
		// RFC 9001 §5.4.3: AES-128 or AES-256 in ECB mode on a single
		// block; the key length selects which.
		h.aesKeyLen = uint8(len(hpKey))
	}
	return h
}

// wake makes the AES cipher from the kept key.
func (h *headerProtection) wake() (err error) {
	var b [32]byte
	for i, w := range h.key {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	h.block, err = aes.NewCipher(b[:h.aesKeyLen])
	return err
}

// computeMask sets h.mask[:5] (and more) to header_protection(hp_key, sample)
// for a SampleLen-byte sample.
func (h *headerProtection) computeMask(sample []byte) {
	if h.aesKeyLen != 0 {
		if h.block == nil {
			// First use, or resting: the key has a valid AES length
			// (Suite.keyLen), so making the cipher cannot fail.
			h.wake()
		}
		// RFC 9001 §5.4.3: mask = AES-ECB(hp_key, sample).
		h.block.Encrypt(h.mask[:], sample)
		return
	}
	// RFC 9001 §5.4.4: counter = sample[0..3], nonce = sample[4..15],
	// mask = ChaCha20(hp_key, counter, nonce, {0,0,0,0,0}): the first five
	// bytes of the key stream block, since encrypting zeros yields the key
	// stream itself. The counter is read little-endian as RFC 8439 reads
	// every word of its state.
	_ = sample[SampleLen-1]
	ks := chacha20Block(&h.key,
		binary.LittleEndian.Uint32(sample[0:4]),
		binary.LittleEndian.Uint32(sample[4:8]),
		binary.LittleEndian.Uint32(sample[8:12]),
		binary.LittleEndian.Uint32(sample[12:16]))
	binary.LittleEndian.PutUint32(h.mask[0:4], ks[0])
	binary.LittleEndian.PutUint32(h.mask[4:8], ks[1])
}

// pnLenFromFirstByte reads the Packet Number Length field, the two low bits
// of the first byte of short headers and of the long-header packets that
// carry a packet number (RFC 9000 §17.2, §17.3.1; RFC 9369 §3.2).
func pnLenFromFirstByte(b byte) int { return int(b&0x03) + 1 }

// firstByteMask returns which bits of the first byte header protection
// covers (RFC 9001 §5.4.1): the four low bits of a long header (reserved
// bits and packet number length), the five low bits of a short header
// (reserved bits, key phase and packet number length).
func firstByteMask(b byte) byte {
	if b&0x80 != 0 { // Header Form bit: long header
		return 0x0f
	}
	return 0x1f
}

// protectHeader applies header protection (RFC 9001 §5.4.1) to a packet
// whose payload is already sealed. The caller has checked that
// pkt[pnOffset+4:] holds a full sample.
func (k *Keys) protectHeader(pkt []byte, pnOffset int) {
	h := &k.hp
	h.computeMask(pkt[pnOffset+4 : pnOffset+4+SampleLen])
	pnLen := pnLenFromFirstByte(pkt[0]) // read before masking hides it
	pkt[0] ^= h.mask[0] & firstByteMask(pkt[0])
	pn := pkt[pnOffset : pnOffset+pnLen]
	for i := range pn {
		pn[i] ^= h.mask[1+i]
	}
}

// UnprotectHeader removes header protection in place (RFC 9001 §5.4.1):
// afterwards pkt[0] shows its reserved bits, key phase and packet number
// length, and the packet number field holds the truncated packet number,
// which is returned with its length in bytes (1 to 4).
//
// pnOffset is the offset of the Packet Number field in pkt, and pkt must
// extend at least to the end of the sample, 4 + SampleLen bytes past
// pnOffset (RFC 9001 §5.4.2); otherwise the packet is to be discarded and
// ErrShortPacket is returned with pkt untouched.
//
// Header protection keys do not change with key updates, so the key phase
// bit it reveals tells the caller which generation of keys to Open with.
func (k *Keys) UnprotectHeader(pkt []byte, pnOffset int) (truncatedPN uint64, pnLen int, err error) {
	if pnOffset < 1 {
		return 0, 0, ErrOffset
	}
	if len(pkt)-pnOffset < 4+SampleLen {
		return 0, 0, ErrShortPacket
	}
	h := &k.hp
	h.computeMask(pkt[pnOffset+4 : pnOffset+4+SampleLen])
	pkt[0] ^= h.mask[0] & firstByteMask(pkt[0])
	pnLen = pnLenFromFirstByte(pkt[0])
	pn := pkt[pnOffset : pnOffset+pnLen]
	for i := range pn {
		pn[i] ^= h.mask[1+i]
		truncatedPN = truncatedPN<<8 | uint64(pn[i])
	}
	return truncatedPN, pnLen, nil
}
