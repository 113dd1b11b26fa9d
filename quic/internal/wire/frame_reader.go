package wire

// frameReader reads the fields of one frame. The first failure is kept in
// err and turns every later read into a no-op, so parsers check once, at
// the end. It lives on the caller's stack.
type frameReader struct {
	b   []byte
	pos int
	t   FrameType
	err error
}

func (r *frameReader) fail(reason string) {
	if r.err == nil {
		r.err = frameError(r.t, reason)
	}
}

func (r *frameReader) varint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n, err := ParseVarint(r.b[r.pos:])
	if err != nil {
		r.fail("truncated field")
		return 0
	}
	r.pos += n
	return v
}

// bytes returns the next n bytes as a view into the input. n comes from
// the peer, so it is checked against what is left before use.
func (r *frameReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.pos) {
		r.fail("length exceeds the packet")
		return nil
	}
	end := r.pos + int(n)
	v := r.b[r.pos:end:end]
	r.pos = end
	return v
}

// rest returns everything left in the packet.
func (r *frameReader) rest() []byte {
	if r.err != nil {
		return nil
	}
	v := r.b[r.pos:len(r.b):len(r.b)]
	r.pos = len(r.b)
	return v
}

func (r *frameReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.b) {
		r.fail("truncated field")
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

// done returns the number of bytes consumed and the first error.
func (r *frameReader) done() (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	return r.pos, nil
}

// finish returns f and the bytes consumed, or the zero frame and the first
// error.
func finish[F any](f F, r *frameReader) (F, int, error) {
	n, err := r.done()
	if err != nil {
		var zero F
		return zero, 0, err
	}
	return f, n, nil
}
