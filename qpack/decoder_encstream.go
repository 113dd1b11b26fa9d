package qpack

// The decoder's side of the encoder stream, RFC 9204 §4.3.

// WriteEncoderStream feeds bytes received on the peer's encoder stream.
// Instructions may be split anywhere across calls; an incomplete one is kept
// until the rest arrives (at most one instruction, whose strings are bounded
// by the table capacity). Sections that become decodable are decoded at once
// and reported by AppendUnblocked. Errors are *Error with code
// QPACK_ENCODER_STREAM_ERROR, or QPACK_DECOMPRESSION_FAILED from a section
// that was unblocked; after an error the decoder accepts no more input.
func (d *Decoder) WriteEncoderStream(b []byte) error {
	if d.err != nil {
		return d.err
	}
	if len(d.encPending) > 0 {
		d.encPending = append(d.encPending, b...)
		if len(d.encPending) < d.encNeed {
			// The pending instruction's string is still incomplete: do not
			// parse it again (a peer sending one byte at a time would
			// otherwise cost a parse, and a Huffman decoding, per byte).
			return nil
		}
		b = d.encPending
	}
	d.encNeed = 0
	n := 0
	for n < len(b) {
		k, err := d.encoderInstruction(b[n:])
		if err == errTruncated {
			d.encNeed = k // 0 when unknown
			break
		}
		if err != nil {
			return d.fail(withCode(err, ErrCodeEncoderStreamError))
		}
		n += k
		if d.minBlocked != 0 && d.table.inserted >= d.minBlocked {
			if err := d.decodeUnblocked(); err != nil {
				return d.fail(err)
			}
		}
	}
	// Keep the incomplete tail (memmove-safe when b is d.encPending).
	d.encPending = append(d.encPending[:0], b[n:]...)
	return nil
}

// encoderInstruction executes the instruction at the start of b and returns
// its length, or errTruncated when b holds only part of it, with the length
// it needs at least (or 0 if not known yet).
func (d *Decoder) encoderInstruction(b []byte) (int, error) {
	c := b[0]
	switch {
	case c&0x80 != 0:
		// §4.3.2 Insert with Name Reference: 1 T Index(6), then the value.
		idx, n, err := readInteger(b, 6)
		if err != nil {
			return 0, err
		}
		var name string
		if c&0x40 != 0 {
			if idx >= uint64(len(staticTable)) {
				return 0, encoderStreamError("invalid static table index")
			}
			name = staticTable[idx].name
		} else {
			// §3.2.5: relative index 0 is the most recent insert.
			if idx >= d.table.inserted || !d.table.has(d.table.inserted-1-idx) {
				return 0, encoderStreamError("name reference to an evicted or missing entry")
			}
			name = d.table.entry(d.table.inserted - 1 - idx).name
		}
		value, k, err := d.readInsertString(b[n:], 7, uint64(len(name)))
		if err != nil {
			return n + k, err
		}
		if err := d.insert(name, string(value)); err != nil {
			return 0, err
		}
		return n + k, nil
	case c&0xc0 == 0x40:
		// §4.3.3 Insert with Literal Name: 01 H Length(5), then the value.
		name, n, err := d.readInsertString(b, 5, 0)
		if err != nil {
			return n, err
		}
		// name aliases b or strBuf; copy it before the value's decoding
		// may reuse strBuf.
		d.entryBuf = append(d.entryBuf[:0], name...)
		value, k, err := d.readInsertString(b[n:], 7, uint64(len(name)))
		if err != nil {
			return n + k, err
		}
		nl := len(d.entryBuf)
		d.entryBuf = append(d.entryBuf, value...)
		nv := string(d.entryBuf) // one allocation holds name and value
		if err := d.insert(nv[:nl], nv[nl:]); err != nil {
			return 0, err
		}
		return n + k, nil
	case c&0xe0 == 0x20:
		// §4.3.1 Set Dynamic Table Capacity: 001 Capacity(5).
		capacity, n, err := readInteger(b, 5)
		if err != nil {
			return 0, err
		}
		if capacity > d.maxTableCapacity {
			return 0, encoderStreamError("dynamic table capacity exceeds SETTINGS_QPACK_MAX_TABLE_CAPACITY")
		}
		d.table.capacity = capacity
		for d.table.size > capacity {
			d.table.evictOldest()
		}
		return n, nil
	default:
		// §4.3.4 Duplicate: 000 Index(5).
		idx, n, err := readInteger(b, 5)
		if err != nil {
			return 0, err
		}
		if idx >= d.table.inserted || !d.table.has(d.table.inserted-1-idx) {
			return 0, encoderStreamError("duplicate of an evicted or missing entry")
		}
		e := d.table.entry(d.table.inserted - 1 - idx)
		if err := d.insert(e.name, e.value); err != nil {
			return 0, err
		}
		return n, nil
	}
}

// readInsertString reads a string of an insert instruction; on errTruncated
// the int result is the length the string needs in all (0 if unknown). Its length is
// checked against what can still fit in the table (other bytes of the entry
// already counted) before anything is buffered or decoded.
func (d *Decoder) readInsertString(b []byte, n uint8, other uint64) ([]byte, int, error) {
	var limit uint64
	if d.table.capacity >= entryOverhead+other {
		limit = d.table.capacity - entryOverhead - other
	}
	d.strBuf = d.strBuf[:0]
	s, buf, k, tooLong, err := readString(b, n, limit, d.strBuf)
	d.strBuf = buf
	if err != nil {
		return nil, k, err // k: the length needed, on errTruncated
	}
	if tooLong {
		return nil, 0, encoderStreamError("entry larger than the dynamic table capacity")
	}
	return s, k, nil
}

// insert adds an entry, evicting from the oldest as needed, RFC 9204 §3.2.2.
// The caller holds name and value as strings, so evicting the entry they came
// from (a Duplicate or a name reference to the oldest entry) is harmless.
func (d *Decoder) insert(name, value string) error {
	size := entrySize(name, value)
	if size > d.table.capacity {
		// §3.2.2: an entry larger than the capacity is an encoder stream error.
		return encoderStreamError("entry larger than the dynamic table capacity")
	}
	for d.table.size+size > d.table.capacity {
		d.table.evictOldest()
	}
	d.table.add(name, value)
	return nil
}
