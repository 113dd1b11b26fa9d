package protect

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"sync"
)

// retryAEADs holds the AEAD_AES_128_GCM instances keyed with the fixed Retry
// keys of version 1 and version 2. They are immutable once made and safe for
// concurrent use, so one pair serves every connection.
var retryAEADs = sync.OnceValues(func() (v1, v2 cipher.AEAD) {
	return mustRetryAEAD(&version1Params), mustRetryAEAD(&version2Params)
})

func mustRetryAEAD(p *versionParams) cipher.AEAD {
	block, err := aes.NewCipher(p.retryKey[:])
	if err != nil {
		panic("protect: Retry key: " + err.Error()) // a 16-byte constant
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("protect: Retry AEAD: " + err.Error())
	}
	return aead
}

// pseudoPackets recycles the buffers holding Retry pseudo-packets, so that a
// server answering a flood of Initials with Retry packets does not allocate
// for each one.
var pseudoPackets = sync.Pool{New: func() any {
	b := make([]byte, 0, 256)
	return &b
}}

// maxPooledPseudoPacket bounds the buffers kept in pseudoPackets; Retry
// packets carrying a server's own tokens are far smaller.
const maxPooledPseudoPacket = 4096

// RetryIntegrityTag computes the Retry Integrity Tag (RFC 9001 §5.8; RFC
// 9369 §3.3.3 for version 2) of a Retry packet. retry is the packet without
// its tag, from the first byte through the Retry Token; odcid is the
// Destination Connection ID of the client's Initial packet that the Retry
// answers. The tag is AEAD_AES_128_GCM with the version's fixed key and
// nonce, an empty plaintext, and the Retry Pseudo-Packet as associated data:
//
//	Retry Pseudo-Packet {
//	  ODCID Length (8),
//	  Original Destination Connection ID (0..160),
//	  Retry packet without its tag (..),
//	}
func RetryIntegrityTag(version uint32, odcid, retry []byte) (tag [TagLen]byte, err error) {
	var aead cipher.AEAD
	switch v1, v2 := retryAEADs(); version {
	case Version1:
		aead = v1
	case Version2:
		aead = v2
	default:
		return tag, ErrUnsupportedVersion
	}
	if len(odcid) > MaxConnectionIDLen {
		return tag, ErrConnectionIDLength
	}
	p, _ := paramsFor(version)

	bp := pseudoPackets.Get().(*[]byte)
	buf := append((*bp)[:0], byte(len(odcid)))
	buf = append(buf, odcid...)
	buf = append(buf, retry...)
	n := len(buf)
	buf = append(buf, make([]byte, TagLen)...) // room for the tag; no allocation
	aead.Seal(buf[n:n], p.retryNonce[:], nil, buf[:n])
	copy(tag[:], buf[n:])
	// A Retry is one datagram, but an odd large one should not pin its
	// buffer in the pool.
	if cap(buf) <= maxPooledPseudoPacket {
		*bp = buf
		pseudoPackets.Put(bp)
	}
	return tag, nil
}

// VerifyRetryIntegrity checks the Retry Integrity Tag that ends packet, a
// received Retry packet, against odcid, the Destination Connection ID the
// client put in its first Initial packet (RFC 9001 §5.8). A client discards
// a Retry packet that fails: the error is then ErrAuthentication, or
// ErrShortPacket if packet cannot even hold a tag.
func VerifyRetryIntegrity(version uint32, odcid, packet []byte) error {
	if len(packet) < TagLen {
		return ErrShortPacket
	}
	n := len(packet) - TagLen
	want, err := RetryIntegrityTag(version, odcid, packet[:n])
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(want[:], packet[n:]) != 1 {
		return ErrAuthentication
	}
	return nil
}
