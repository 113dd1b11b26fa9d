package qpack

import "slices"

// Huffman coding of string literals, RFC 9204 §4.1.2 with the code of
// RFC 7541 Appendix B.
//
// The decoder is a table-driven automaton that consumes a byte per step.
// Its states are the 256 internal nodes of the code tree (a full binary tree
// with 257 leaves), each standing for the bits read since the last complete
// symbol. For each state and input byte, huffDecodeTable gives the next
// state and the symbols completed on the way: at most two, as no code is
// shorter than five bits. Reaching EOS marks the transition as failed. The
// table (64 Ki entries of 4 bytes) is built at init from huffmanCodes, by
// first deriving the transitions for 4 bits and then composing two of them.

// huffTransition is the effect of one input byte. n is the number of symbols
// completed (s0, then s1), or huffFail if the byte completes EOS.
type huffTransition struct {
	next, n, s0, s1 uint8
}

const huffFail = 0xff

var (
	huffDecodeTable [256 * 256]huffTransition
	// huffAcceptState reports whether a string may end in a state: the bits
	// since the last symbol are padding, RFC 7541 §5.2 (at most 7 bits, all
	// ones, so a prefix of EOS).
	huffAcceptState [256]bool
)

func init() { buildHuffmanDecoder() }

func buildHuffmanDecoder() {
	// The code tree. children[n][bit] >= 0 is an internal node; a negative
	// value -(sym+1) is the leaf for sym.
	var children [256][2]int16
	var depth [256]uint8
	var allOnes [256]bool
	nodes := 1
	allOnes[0] = true
	for sym := 0; sym <= 256; sym++ {
		code, n := huffmanCodes[sym], huffmanCodeLens[sym]
		cur := 0
		for i := int(n) - 1; i >= 0; i-- {
			bit := (code >> uint(i)) & 1
			if i == 0 {
				children[cur][bit] = int16(-(sym + 1))
				break
			}
			if children[cur][bit] == 0 {
				children[cur][bit] = int16(nodes)
				depth[nodes] = depth[cur] + 1
				allOnes[nodes] = allOnes[cur] && bit == 1
				nodes++
			}
			cur = int(children[cur][bit])
		}
	}
	for s := 0; s < nodes; s++ {
		huffAcceptState[s] = allOnes[s] && depth[s] <= 7
	}
	// Transitions for 4 bits; at most one symbol completes in 4 bits.
	type nibble struct {
		next, sym   uint8
		emit, fails bool
	}
	var nibbles [256 * 16]nibble
	for s := 0; s < nodes; s++ {
		for x := 0; x < 16; x++ {
			var t nibble
			cur := s
			for i := 3; i >= 0; i-- {
				c := children[cur][(x>>uint(i))&1]
				if c >= 0 {
					cur = int(c)
					continue
				}
				sym := int(-c) - 1
				if sym == 256 {
					t.fails = true
					break
				}
				t.sym, t.emit = byte(sym), true
				cur = 0
			}
			t.next = uint8(cur)
			nibbles[s<<4|x] = t
		}
	}
	// Compose two nibbles into a byte.
	for s := 0; s < nodes; s++ {
		for c := 0; c < 256; c++ {
			hi := nibbles[s<<4|c>>4]
			lo := nibbles[int(hi.next)<<4|c&0x0f]
			t := huffTransition{next: lo.next}
			switch {
			case hi.fails || lo.fails:
				t.n = huffFail
			case hi.emit && lo.emit:
				t.n, t.s0, t.s1 = 2, hi.sym, lo.sym
			case hi.emit:
				t.n, t.s0 = 1, hi.sym
			case lo.emit:
				t.n, t.s0 = 1, lo.sym
			}
			huffDecodeTable[s<<8|c] = t
		}
	}
}

// appendHuffmanDecoded appends the decoding of src to dst. RFC 7541 §5.2:
// EOS in the data, padding longer than 7 bits, and padding that is not the
// most significant bits of EOS (all ones) are errors.
func appendHuffmanDecoded(dst, src []byte) ([]byte, error) {
	dst = slices.Grow(dst, len(src)*8/5+2) // at most 8/5 symbols per byte
	state := uint8(0)
	for _, c := range src {
		t := huffDecodeTable[int(state)<<8|int(c)]
		if t.n == huffFail {
			return dst, decompressionFailed(reasonHuffmanEOS)
		}
		// Append both candidates and keep the n completed (no branch).
		dst = append(dst, t.s0, t.s1)
		dst = dst[:len(dst)-2+int(t.n)]
		state = t.next
	}
	if !huffAcceptState[state] {
		return dst, decompressionFailed(reasonHuffmanPadding)
	}
	return dst, nil
}

// huffmanEncodedLen is the length of s once Huffman coded.
func huffmanEncodedLen(s string) int {
	bits := 0
	for i := 0; i < len(s); i++ {
		bits += int(huffmanCodeLens[s[i]])
	}
	return (bits + 7) / 8
}

// appendHuffmanEncoded appends the Huffman coding of s to dst, padded with
// the most significant bits of EOS (all ones), RFC 7541 §5.2.
func appendHuffmanEncoded(dst []byte, s string) []byte {
	var acc uint64 // pending bits, right-aligned; fewer than 8 between symbols
	var n uint
	for i := 0; i < len(s); i++ {
		acc = acc<<huffmanCodeLens[s[i]] | uint64(huffmanCodes[s[i]])
		n += uint(huffmanCodeLens[s[i]])
		for n >= 8 {
			n -= 8
			dst = append(dst, byte(acc>>n))
		}
	}
	if n > 0 {
		pad := 8 - n
		dst = append(dst, byte(acc<<pad|(1<<pad-1)))
	}
	return dst
}
