package qpack

// The encoder's side of the decoder stream, RFC 9204 §4.4.

// WriteDecoderStream feeds bytes received on the peer's decoder stream.
// Instructions may be split anywhere across calls. Errors are *Error with
// code QPACK_DECODER_STREAM_ERROR; after one the encoder accepts no more
// decoder stream input.
func (e *Encoder) WriteDecoderStream(b []byte) error {
	if e.err != nil {
		return e.err
	}
	if len(e.decPending) > 0 {
		e.decPending = append(e.decPending, b...)
		b = e.decPending
	}
	n := 0
	for n < len(b) {
		k, err := e.decoderInstruction(b[n:])
		if err == errTruncated {
			break
		}
		if err != nil {
			e.err = withCode(err, ErrCodeDecoderStreamError)
			return e.err
		}
		n += k
	}
	e.decPending = append(e.decPending[:0], b[n:]...)
	return nil
}

func (e *Encoder) decoderInstruction(b []byte) (int, error) {
	c := b[0]
	switch {
	case c&0x80 != 0:
		// §4.4.1 Section Acknowledgment: 1 Stream ID(7). It acknowledges the
		// earliest unacknowledged section of the stream that referenced the
		// dynamic table.
		id, n, err := readInteger(b, 7)
		if err != nil {
			return 0, err
		}
		for i := range e.unacked {
			if e.unacked[i].streamID != id {
				continue
			}
			// §2.1.4: the Known Received Count rises to the section's
			// Required Insert Count.
			e.knownReceived = max(e.knownReceived, e.unacked[i].requiredInsertCount)
			e.release(i)
			return n, nil
		}
		return 0, decoderStreamError("Section Acknowledgment for a stream with no unacknowledged section")
	case c&0xc0 == 0x40:
		// §4.4.2 Stream Cancellation: 01 Stream ID(6). Every unacknowledged
		// section of the stream is released.
		id, n, err := readInteger(b, 6)
		if err != nil {
			return 0, err
		}
		for i := 0; i < len(e.unacked); {
			if e.unacked[i].streamID == id {
				e.release(i)
				continue
			}
			i++
		}
		return n, nil
	default:
		// §4.4.3 Insert Count Increment: 00 Increment(6).
		inc, n, err := readInteger(b, 6)
		if err != nil {
			return 0, err
		}
		if inc == 0 || inc > e.table.inserted-e.knownReceived {
			return 0, decoderStreamError("Insert Count Increment of zero or beyond the inserts sent")
		}
		e.knownReceived += inc
		return n, nil
	}
}

// release drops unacked[i] and its references, keeping the order of the
// rest (acknowledgments match the earliest section of a stream). Releasing
// the first costs O(1).
func (e *Encoder) release(i int) {
	r := e.unacked[i]
	for _, abs := range r.refs {
		if e.table.has(abs) {
			e.table.entry(abs).refs--
		}
	}
	e.freeRefs = append(e.freeRefs, r.refs[:0])
	if i == 0 {
		// The oldest, as acknowledgments usually are: no shift (record).
		e.unacked[0] = sectionRecord{}
		e.unacked = e.unacked[1:]
		return
	}
	copy(e.unacked[i:], e.unacked[i+1:])
	e.unacked[len(e.unacked)-1] = sectionRecord{}
	e.unacked = e.unacked[:len(e.unacked)-1]
}
