package hkdf

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"
	"sync"
)

// Hash is one hash function for HMAC and HKDF with its pool of states. Use
// SHA256 or SHA384; the zero value is not usable.
type Hash struct {
	newHash func() hash.Hash
	size    int
	pool    sync.Pool
}

// The two hashes of the TLS 1.3 cipher suites (RFC 8446 §B.4).
var (
	SHA256 = &Hash{newHash: sha256.New, size: sha256.Size}
	SHA384 = &Hash{newHash: sha512.New384, size: sha512.Size384}
)

// Size is the hash output length, Hash.length of RFC 8446 §7.1.
func (h *Hash) Size() int { return h.size }

// New returns a new hash state of the function, for transcripts.
func (h *Hash) New() hash.Hash { return h.newHash() }

// macState computes HMAC with two reusable hash states.
type macState struct {
	inner, outer hash.Hash
	blockSize    int
	pad          [128]byte // key XOR ipad/opad; SHA-384 has 128-byte blocks
	innerSum     [64]byte
	block        [64]byte                        // T(i) of HKDF-Expand
	key          [128]byte                       // a copy of AppendExpandLabel's secret
	info         [2 + 1 + 255 + 1 + 255 + 1]byte // HkdfLabel and counter
}

func (h *Hash) get() *macState {
	if m, ok := h.pool.Get().(*macState); ok {
		return m
	}
	m := &macState{inner: h.newHash(), outer: h.newHash()}
	m.blockSize = m.inner.BlockSize()
	return m
}

// put wipes what m holds of the last key and output (the copied key, the
// padded key, the hash states keyed with it, the last block) and pools it: a derived
// secret or key is not kept reachable through the pool after the caller
// drops it (RFC 9001 §4.9, RFC 8446 §7.1's secrets alike).
func (h *Hash) put(m *macState) {
	clear(m.pad[:])
	clear(m.innerSum[:])
	clear(m.block[:])
	clear(m.key[:])
	m.inner.Reset()
	m.outer.Reset()
	h.pool.Put(m)
}

// sum appends HMAC(key, msg1 | msg2) to out (RFC 2104 §2).
func (m *macState) sum(out, key, msg1, msg2 []byte) []byte {
	bs := m.blockSize
	if len(key) > bs {
		m.outer.Reset()
		m.outer.Write(key)
		key = m.outer.Sum(m.innerSum[:0])
	}
	pad := m.pad[:bs]
	clear(pad[copy(pad, key):])
	xorWords(pad, ipad)
	m.inner.Reset()
	m.inner.Write(pad)
	m.inner.Write(msg1)
	m.inner.Write(msg2)
	xorWords(pad, ipad^opad)
	m.outer.Reset()
	m.outer.Write(m.pad[:bs])
	m.outer.Write(m.inner.Sum(m.innerSum[:0]))
	return m.outer.Sum(out)
}

// ipad and opad are HMAC's pads (RFC 2104 §2), a byte repeated over a
// word: xorWords applies them eight bytes at a time (byte by byte, the
// two pads took a quarter of an HMAC's time).
const (
	ipad = 0x3636363636363636
	opad = 0x5c5c5c5c5c5c5c5c
)

// xorWords XORs each 8-byte word of b, whose length is a multiple of 8 (a
// hash block), with w.
func xorWords(b []byte, w uint64) {
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^w)
	}
}

// MAC returns HMAC(key, msg).
func (h *Hash) MAC(key, msg []byte) []byte {
	m := h.get()
	defer h.put(m)
	return m.sum(make([]byte, 0, h.size), key, msg, nil)
}

// AppendMAC appends HMAC(key, msg) to dst, a key of at most
// MaxAppendSecret bytes and a msg of at most MaxAppendMAC (longer panics).
// It allocates nothing when dst has room, and none of dst, key and msg
// escapes: key and msg are copied into the pooled state before they are
// hashed (put wipes them), the MAC made there and copied out, so that a
// caller's stack buffers stay on its stack (QUIC derives a stateless
// reset token for every connection ID it issues, TLS a Finished key for
// every Finished).
func (h *Hash) AppendMAC(dst, key, msg []byte) []byte {
	m := h.get()
	defer h.put(m)
	k := copy(m.key[:], key)
	n := copy(m.info[:], msg)
	if k < len(key) || n < len(msg) {
		panic("hkdf: AppendMAC key or message too long")
	}
	return append(dst, m.sum(m.block[:0], m.key[:k], m.info[:n], nil)...)
}

// MaxAppendMAC is the longest message AppendMAC takes.
const MaxAppendMAC = len(macState{}.info)

// Extract is HKDF-Extract(salt, IKM) (RFC 5869 §2.2). A nil salt is the
// string of Hash.length zero bytes RFC 5869 asks for: HMAC pads its key
// with zeros, so a nil key is the same key.
func (h *Hash) Extract(salt, ikm []byte) []byte {
	return h.MAC(salt, ikm)
}

// ExpandLabel is HKDF-Expand-Label(Secret, Label, Context, Length) of
// RFC 8446 §7.1:
//
//	HKDF-Expand(Secret, HkdfLabel, Length)
//
//	struct {
//	    uint16 length = Length;
//	    opaque label<7..255> = "tls13 " + Label;
//	    opaque context<0..255> = Context;
//	} HkdfLabel;
func (h *Hash) ExpandLabel(secret []byte, label string, context []byte, length int) []byte {
	m := h.get()
	defer h.put(m)
	return h.expandLabel(m, make([]byte, 0, length), secret, label, context, length)
}

// AppendExpandLabel appends HKDF-Expand-Label(Secret, Label, Context,
// Length) to dst, as ExpandLabel, for a secret of at most MaxAppendSecret
// bytes (a pseudorandom key is one hash output; a longer secret panics).
// With room for Length more bytes in dst it allocates nothing, and
// neither dst nor secret escapes: the secret is copied into the pooled
// state (put wipes it), so that a caller deriving keys it uses at once
// (QUIC's packet protection keys, from a secret on its stack) keeps them
// all on its stack.
func (h *Hash) AppendExpandLabel(dst, secret []byte, label string, context []byte, length int) []byte {
	m := h.get()
	defer h.put(m)
	n := copy(m.key[:], secret)
	if n < len(secret) {
		panic("hkdf: AppendExpandLabel secret too long")
	}
	return h.expandLabel(m, dst, m.key[:n], label, context, length)
}

// MaxAppendSecret is the longest secret AppendExpandLabel takes.
const MaxAppendSecret = len(macState{}.key)

// expandLabel appends HKDF-Expand-Label to dst with m's hash states.
func (h *Hash) expandLabel(m *macState, dst, secret []byte, label string, context []byte, length int) []byte {
	b := AppendLabel(m.info[:0], length, label, context)
	b = append(b, 0) // room for the block counter
	// HKDF-Expand (RFC 5869 §2.3): T(i) = HMAC(PRK, T(i-1) | info | i).
	// Each T(i) is made in m.block: sum has read T(i-1) by the time it
	// writes T(i) over it.
	var prev []byte
	for i, n := byte(1), 0; n < length; i++ {
		b[len(b)-1] = i
		prev = m.sum(m.block[:0], secret, prev, b)
		take := min(length-n, h.size)
		dst = append(dst, prev[:take]...)
		n += take
	}
	return dst
}

// AppendLabel appends the HkdfLabel structure of RFC 8446 §7.1 to b.
func AppendLabel(b []byte, length int, label string, context []byte) []byte {
	b = append(b, byte(length>>8), byte(length), byte(len("tls13 ")+len(label)))
	b = append(b, "tls13 "...)
	b = append(b, label...)
	b = append(b, byte(len(context)))
	return append(b, context...)
}
