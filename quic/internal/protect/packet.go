package protect

// SealPacket protects a packet in place: it encrypts the payload and then
// applies header protection (RFC 9001 §5.3, §5.4).
//
// On entry pkt holds the unprotected header followed by the plaintext
// payload. The header's first byte carries the Packet Number Length, and the
// Packet Number field at pnOffset holds pn truncated to that length; a long
// header's Length field must already count the TagLen bytes to come. The
// header (through the packet number) is the AEAD associated data.
//
// The TagLen-byte tag is written into pkt's spare capacity, and the sealed
// packet, pkt[:len(pkt)+TagLen], is returned. Nothing is allocated. When
// packets are built one after another in a shared buffer, the TagLen bytes
// after each payload must therefore be free until it is sealed.
//
// Errors: ErrOffset if pnOffset < 1; ErrShortPacket if the packet number and
// payload together are shorter than 4 bytes, too short to sample for header
// protection (RFC 9001 §5.4.2: the sender pads the payload); and
// ErrBufferTooSmall if cap(pkt)-len(pkt) < TagLen. pkt is unchanged on error.
func (k *Keys) SealPacket(pkt []byte, pnOffset int, pn uint64) ([]byte, error) {
	if pnOffset < 1 {
		return nil, ErrOffset
	}
	// The packet number and at least 3 bytes of payload (seal).
	if len(pkt)-pnOffset < 4 {
		return nil, ErrShortPacket
	}
	hdrLen := pnOffset + pnLenFromFirstByte(pkt[0])
	return k.seal(pkt[:hdrLen], pnOffset, pn, pkt[hdrLen:])
}

// SealPacketFrom is SealPacket for a payload that lies elsewhere: pkt
// holds the unprotected header only, through the Packet Number field, and
// the sealed payload of plaintext is written into pkt's spare capacity,
// which must hold len(plaintext)+TagLen bytes and must not overlap
// plaintext. plaintext is left as it is. It returns the sealed packet,
// pkt[:len(pkt)+len(plaintext)+TagLen].
//
// It lets the sender encrypt STREAM data straight from the buffer it was
// written to into the datagram, one pass over the bytes instead of a copy
// and an in-place seal. The errors are SealPacket's, for the packet the
// header and plaintext make together.
func (k *Keys) SealPacketFrom(pkt []byte, pnOffset int, pn uint64, plaintext []byte) ([]byte, error) {
	if pnOffset < 1 || pnOffset >= len(pkt) {
		return nil, ErrOffset
	}
	if pnOffset+pnLenFromFirstByte(pkt[0]) != len(pkt) {
		return nil, ErrOffset
	}
	return k.seal(pkt, pnOffset, pn, plaintext)
}

// seal encrypts plaintext after the header hdr, which holds the packet
// number at pnOffset and ends there, and protects the header. plaintext
// is either hdr's continuation in memory (in place) or lies outside hdr's
// spare capacity.
func (k *Keys) seal(hdr []byte, pnOffset int, pn uint64, plaintext []byte) ([]byte, error) {
	// RFC 9001 §5.4.2: the sample starts 4 bytes after pnOffset, whatever
	// the packet number length, so packet number plus payload must be at
	// least 4 bytes for the sample to fit in payload plus tag.
	if len(hdr)+len(plaintext)-pnOffset < 4 {
		return nil, ErrShortPacket
	}
	if cap(hdr)-len(hdr)-len(plaintext) < TagLen {
		return nil, ErrBufferTooSmall
	}
	if k.aead == nil {
		if err := k.wake(); err != nil {
			return nil, err
		}
	}
	k.setNonce(pn)
	// The output goes after the header, which is the associated data: dst
	// starts empty there so that the two do not overlap (cipher.AEAD).
	sealed := k.aead.Seal(hdr[len(hdr):], k.nonce[:], plaintext, hdr)
	pkt := hdr[:len(hdr)+len(sealed)]
	k.protectHeader(pkt, pnOffset)
	return pkt, nil
}

// Open decrypts and authenticates a packet in place (RFC 9001 §5.3) whose
// header protection has already been removed with UnprotectHeader. hdrLen is
// the length of the header through the packet number field, pn the full
// packet number. It returns the plaintext payload, a sub-slice of pkt; the
// tag's bytes are left as they are. Nothing is allocated.
//
// On ErrAuthentication the packet must be discarded (RFC 9001 §5.5); its
// payload bytes may have been overwritten, so a packet cannot be retried
// with other keys after a failed Open.
func (k *Keys) Open(pkt []byte, hdrLen int, pn uint64) ([]byte, error) {
	if hdrLen < 1 || hdrLen > len(pkt) {
		return nil, ErrOffset
	}
	if len(pkt)-hdrLen < TagLen {
		return nil, ErrShortPacket
	}
	if k.aead == nil {
		if err := k.wake(); err != nil {
			return nil, err
		}
	}
	k.setNonce(pn)
	ciphertext := pkt[hdrLen:]
	payload, err := k.aead.Open(ciphertext[:0], k.nonce[:], ciphertext, pkt[:hdrLen])
	if err != nil {
		return nil, ErrAuthentication
	}
	return payload, nil
}

// OpenPacket unprotects a packet in place with a single generation of keys:
// it removes header protection, decodes the packet number against largestPN,
// the largest packet number processed so far in the packet number space (-1
// if none), and decrypts. It returns the payload, a sub-slice of pkt, and the
// full packet number. Nothing is allocated.
//
// pkt must be exactly one packet (for long headers, cut at the end given by
// its Length field) and pnOffset the offset of its Packet Number field.
// Errors are those of UnprotectHeader and Open. For 1-RTT packets, where the
// key phase bit picks the keys, call UnprotectHeader, DecodePacketNumber and
// Open instead.
func (k *Keys) OpenPacket(pkt []byte, pnOffset int, largestPN int64) (payload []byte, pn uint64, err error) {
	truncated, pnLen, err := k.UnprotectHeader(pkt, pnOffset)
	if err != nil {
		return nil, 0, err
	}
	pn = DecodePacketNumber(largestPN, truncated, pnLen)
	payload, err = k.Open(pkt, pnOffset+pnLen, pn)
	if err != nil {
		return nil, 0, err
	}
	return payload, pn, nil
}

// maxPacketNumber bounds packet numbers: they are in 0 to 2^62-1
// (RFC 9000 §12.3).
const maxPacketNumber = 1<<62 - 1

// DecodePacketNumber recovers a full packet number from the truncatedPN of
// pnLen bytes carried in a packet, given largestPN, the largest packet number
// successfully processed in the same packet number space, or -1 if there is
// none yet. It is the algorithm of RFC 9000 Appendix A.3: the result is the
// packet number closest to largestPN+1 whose low bits equal truncatedPN.
func DecodePacketNumber(largestPN int64, truncatedPN uint64, pnLen int) uint64 {
	if largestPN > maxPacketNumber {
		largestPN = maxPacketNumber
	}
	if pnLen < 1 || pnLen > 4 {
		pnLen = 4
	}
	var expected uint64 // largestPN + 1, or 0 when nothing was received
	if largestPN >= 0 {
		expected = uint64(largestPN) + 1
	}
	pnWin := uint64(1) << (8 * pnLen)
	pnHwin := pnWin / 2
	pnMask := pnWin - 1
	// The incoming packet number should be greater than expected-pnHwin
	// and less than or equal to expected+pnHwin: the window around the
	// next expected packet number, half a window each side.
	candidate := (expected &^ pnMask) | (truncatedPN & pnMask)
	switch {
	case candidate+pnHwin <= expected && candidate < (1<<62)-pnWin:
		return candidate + pnWin
	case candidate > expected+pnHwin && candidate >= pnWin:
		return candidate - pnWin
	case candidate > maxPacketNumber:
		// Only when largestPN is the last packet number, 2^62-1: the
		// RFC's pseudocode would answer 2^62, which no packet can
		// carry; the closest valid candidate is a window lower.
		return candidate - pnWin
	}
	return candidate
}
