package tls13

// Minimal big-endian reader and builder helpers for the TLS presentation
// language (RFC 8446 §3). Every read is bounds-checked and never allocates:
// slices returned alias the input.

// reader consumes a byte string. Once a read fails, ok is false and every
// later read fails too, so callers may check ok once at the end of a group of
// reads.
type reader struct {
	b  []byte
	ok bool
}

func newReader(b []byte) reader { return reader{b: b, ok: true} }

func (r *reader) fail() { r.ok = false; r.b = nil }

func (r *reader) empty() bool { return len(r.b) == 0 }

func (r *reader) u8() uint8 {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 {
	if len(r.b) < 2 {
		r.fail()
		return 0
	}
	v := uint16(r.b[0])<<8 | uint16(r.b[1])
	r.b = r.b[2:]
	return v
}

func (r *reader) u24() int {
	if len(r.b) < 3 {
		r.fail()
		return 0
	}
	v := int(r.b[0])<<16 | int(r.b[1])<<8 | int(r.b[2])
	r.b = r.b[3:]
	return v
}

func (r *reader) u32() uint32 {
	if len(r.b) < 4 {
		r.fail()
		return 0
	}
	v := uint32(r.b[0])<<24 | uint32(r.b[1])<<16 | uint32(r.b[2])<<8 | uint32(r.b[3])
	r.b = r.b[4:]
	return v
}

func (r *reader) u64() uint64 {
	hi := r.u32()
	lo := r.u32()
	return uint64(hi)<<32 | uint64(lo)
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// vec8, vec16 and vec24 read a variable-length vector with a 1, 2 or 3 byte
// length prefix.
func (r *reader) vec8() []byte  { return r.bytes(int(r.u8())) }
func (r *reader) vec16() []byte { return r.bytes(int(r.u16())) }
func (r *reader) vec24() []byte { return r.bytes(r.u24()) }

func appendU16(b []byte, v uint16) []byte { return append(b, byte(v>>8), byte(v)) }
func appendU24(b []byte, v int) []byte    { return append(b, byte(v>>16), byte(v>>8), byte(v)) }
func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
func appendU64(b []byte, v uint64) []byte {
	return appendU32(appendU32(b, uint32(v>>32)), uint32(v))
}

func appendVec8(b, v []byte) []byte  { return append(append(b, byte(len(v))), v...) }
func appendVec16(b, v []byte) []byte { return append(appendU16(b, uint16(len(v))), v...) }
func appendVec24(b, v []byte) []byte { return append(appendU24(b, len(v)), v...) }

// beginVec reserves an n-byte length prefix and returns its offset; endVec
// fills it in with the number of bytes appended since.
func beginVec(b []byte, n int) ([]byte, int) {
	for i := 0; i < n; i++ {
		b = append(b, 0)
	}
	return b, len(b)
}

func endVec(b []byte, start, n int) []byte {
	l := len(b) - start
	for i := 1; i <= n; i++ {
		b[start-i] = byte(l)
		l >>= 8
	}
	return b
}
