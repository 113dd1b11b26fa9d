package protect

import "math/bits"

// chacha20Block is the ChaCha20 block function of RFC 8439 §2.3 for a
// 256-bit key, a 32-bit block counter and a 96-bit nonce, all given as
// little-endian words. It returns the 16 words of the key stream block; the
// caller serializes them little-endian.
//
// It is written here rather than taken from golang.org/x/crypto/chacha20
// because header protection needs one block per packet with a fresh counter
// and nonce, and a stream cipher object per packet would cost more than the
// block itself.
func chacha20Block(key *[8]uint32, counter, n0, n1, n2 uint32) [16]uint32 {
	// RFC 8439 §2.3: the state is four constants ("expand 32-byte k"),
	// the key, the block counter and the nonce.
	const c0, c1, c2, c3 = 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574
	x0, x1, x2, x3 := uint32(c0), uint32(c1), uint32(c2), uint32(c3)
	x4, x5, x6, x7 := key[0], key[1], key[2], key[3]
	x8, x9, x10, x11 := key[4], key[5], key[6], key[7]
	x12, x13, x14, x15 := counter, n0, n1, n2

	// 20 rounds: 10 iterations of a column round and a diagonal round.
	for range 10 {
		x0, x4, x8, x12 = quarterRound(x0, x4, x8, x12)
		x1, x5, x9, x13 = quarterRound(x1, x5, x9, x13)
		x2, x6, x10, x14 = quarterRound(x2, x6, x10, x14)
		x3, x7, x11, x15 = quarterRound(x3, x7, x11, x15)

		x0, x5, x10, x15 = quarterRound(x0, x5, x10, x15)
		x1, x6, x11, x12 = quarterRound(x1, x6, x11, x12)
		x2, x7, x8, x13 = quarterRound(x2, x7, x8, x13)
		x3, x4, x9, x14 = quarterRound(x3, x4, x9, x14)
	}

	// Add the original state to the result, word by word.
	return [16]uint32{
		x0 + c0, x1 + c1, x2 + c2, x3 + c3,
		x4 + key[0], x5 + key[1], x6 + key[2], x7 + key[3],
		x8 + key[4], x9 + key[5], x10 + key[6], x11 + key[7],
		x12 + counter, x13 + n0, x14 + n1, x15 + n2,
	}
}

// quarterRound is the ChaCha quarter round of RFC 8439 §2.1.
func quarterRound(a, b, c, d uint32) (uint32, uint32, uint32, uint32) {
	a += b
	d = bits.RotateLeft32(d^a, 16)
	c += d
	b = bits.RotateLeft32(b^c, 12)
	a += b
	d = bits.RotateLeft32(d^a, 8)
	c += d
	b = bits.RotateLeft32(b^c, 7)
	return a, b, c, d
}
