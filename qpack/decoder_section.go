package qpack

// Decoding field sections: the prefix (RFC 9204 §4.5.1) and the five field
// line representations (§4.5.2–§4.5.6).

// fail records a connection error; the decoder refuses all later input.
func (d *Decoder) fail(err error) error {
	if d.err == nil {
		d.err = err
	}
	return d.err
}

// decodeRequiredInsertCount reverses the Required Insert Count encoding,
// RFC 9204 §4.5.1.1.
func (d *Decoder) decodeRequiredInsertCount(enc uint64) (uint64, error) {
	if enc == 0 {
		return 0, nil
	}
	maxEntries := d.maxTableCapacity / entryOverhead
	fullRange := 2 * maxEntries
	if enc > fullRange {
		return 0, decompressionFailed("Required Insert Count exceeds the range MaxEntries allows")
	}
	maxValue := d.table.inserted + maxEntries
	maxWrapped := maxValue / fullRange * fullRange
	ric := maxWrapped + enc - 1
	if ric > maxValue {
		if ric <= fullRange {
			return 0, decompressionFailed("Required Insert Count cannot be reached")
		}
		ric -= fullRange
	}
	if ric == 0 {
		return 0, decompressionFailed("Required Insert Count of 0 encoded as non-zero")
	}
	return ric, nil
}

// readPrefix parses the encoded field section prefix, RFC 9204 §4.5.1.
func (d *Decoder) readPrefix(b []byte) (ric, base uint64, n int, err error) {
	enc, n, err := readInteger(b, 8)
	if err != nil {
		return 0, 0, 0, err
	}
	if ric, err = d.decodeRequiredInsertCount(enc); err != nil {
		return 0, 0, 0, err
	}
	if n >= len(b) {
		return 0, 0, 0, errTruncated
	}
	sign := b[n]&0x80 != 0
	delta, k, err := readInteger(b[n:], 7)
	if err != nil {
		return 0, 0, 0, err
	}
	n += k
	// RFC 9204 §4.5.1.2: Base = RIC + DeltaBase, or RIC - DeltaBase - 1
	// when the sign bit is set (and must not go below zero).
	if !sign {
		base = ric + delta
		if base > maxInteger {
			return 0, 0, 0, decompressionFailed("Base out of range")
		}
	} else {
		if delta >= ric {
			return 0, 0, 0, decompressionFailed("negative Base")
		}
		base = ric - delta - 1
	}
	return ric, base, n, nil
}

// decodeSection decodes (or holds, when it is blocked) one field section,
// handing each field to emit.
func (d *Decoder) decodeSection(streamID uint64, b []byte, emit lineFunc) (bool, error) {
	if d.err != nil {
		return false, d.err
	}
	ric, base, n, err := d.readPrefix(b)
	if err != nil {
		return false, d.fail(withCode(truncatedIsError(err, "truncated section prefix"), ErrCodeDecompressionFailed))
	}
	if ric > d.table.inserted {
		// RFC 9204 §2.1.2, §2.2.1: hold the section until the inserts arrive,
		// within the number of blocked streams we allowed.
		if uint64(len(d.blocked)) >= d.maxBlockedStreams {
			return false, d.fail(decompressionFailed("more blocked streams than SETTINGS_QPACK_BLOCKED_STREAMS"))
		}
		d.blocked = append(d.blocked, blockedSection{
			streamID:            streamID,
			requiredInsertCount: ric,
			base:                base,
			lines:               append([]byte(nil), b[n:]...),
		})
		if d.minBlocked == 0 || ric < d.minBlocked {
			d.minBlocked = ric
		}
		return true, nil
	}
	return false, d.decodeBody(streamID, b[n:], ric, base, emit)
}

// decodeBody decodes the field lines of a section whose Required Insert
// Count has been reached, and acknowledges the section.
func (d *Decoder) decodeBody(streamID uint64, lines []byte, ric, base uint64, emit lineFunc) error {
	err := d.decodeLines(lines, ric, base, emit)
	if err != nil && err != ErrFieldSectionTooLarge {
		return d.fail(err)
	}
	if ric > 0 {
		// RFC 9204 §4.4.1: acknowledge every section that had a non-zero
		// Required Insert Count; this also tells the encoder we hold all
		// inserts up to it (§2.1.4).
		d.out = appendInteger(d.out, 0x80, 7, streamID)
		if ric > d.knownReceived {
			d.knownReceived = ric
		}
	}
	return err
}

func truncatedIsError(err error, reason string) error {
	if err == errTruncated {
		return decompressionFailed(reason)
	}
	return err
}

// dynamicField resolves a dynamic table reference of a field line,
// RFC 9204 §2.2.3: the entry must be below the Required Insert Count and not
// evicted.
func (d *Decoder) dynamicField(abs, ric uint64) (*tableEntry, error) {
	if abs >= ric {
		return nil, decompressionFailed("reference at or above the Required Insert Count")
	}
	if !d.table.has(abs) {
		return nil, decompressionFailed("reference to an evicted entry")
	}
	return d.table.entry(abs), nil
}

func staticField(idx uint64) (*staticEntry, error) {
	if idx >= uint64(len(staticTable)) {
		// RFC 9204 §3.1: an invalid static index is QPACK_DECOMPRESSION_FAILED.
		return nil, decompressionFailed("invalid static table index")
	}
	return &staticTable[idx], nil
}

// decodeLines decodes the field line representations after the prefix.
func (d *Decoder) decodeLines(b []byte, ric, base uint64, emit lineFunc) error {
	d.strBuf = d.strBuf[:0]
	var size uint64 // RFC 9114 §4.2.2 size: name + value + 32 per field
	var largest uint64
	referenced := false
	// A string longer than the section is truncation; one longer than the
	// field section size limit is refused before it is decoded.
	maxString := uint64(maxInteger)
	if d.maxFieldSectionSize > 0 {
		maxString = d.maxFieldSectionSize
	}
	for len(b) > 0 {
		var (
			name, value   string
			nameB, valueB []byte
			never         bool
			n             int
			err           error
			idx           uint64
			tooLong       bool
		)
		c := b[0]
		switch {
		case c&0x80 != 0:
			// §4.5.2 Indexed Field Line: 1 T Index(6).
			if idx, n, err = readInteger(b, 6); err != nil {
				break
			}
			if c&0x40 != 0 {
				var e *staticEntry
				if e, err = staticField(idx); err == nil {
					name, value = e.name, e.value
				}
				break
			}
			if idx >= base {
				err = decompressionFailed("relative index at or above Base")
				break
			}
			abs := base - 1 - idx
			var e *tableEntry
			if e, err = d.dynamicField(abs, ric); err == nil {
				name, value = e.name, e.value
				largest, referenced = max(largest, abs), true
			}
		case c&0xf0 == 0x10:
			// §4.5.3 Indexed Field Line with Post-Base Index: 0001 Index(4).
			if idx, n, err = readInteger(b, 4); err != nil {
				break
			}
			abs := base + idx
			var e *tableEntry
			if e, err = d.dynamicField(abs, ric); err == nil {
				name, value = e.name, e.value
				largest, referenced = max(largest, abs), true
			}
		case c&0xc0 == 0x40:
			// §4.5.4 Literal Field Line with Name Reference: 01 N T Index(4).
			never = c&0x20 != 0
			if idx, n, err = readInteger(b, 4); err != nil {
				break
			}
			if c&0x10 != 0 {
				var e *staticEntry
				if e, err = staticField(idx); err != nil {
					break
				}
				name = e.name
			} else {
				if idx >= base {
					err = decompressionFailed("relative index at or above Base")
					break
				}
				abs := base - 1 - idx
				var e *tableEntry
				if e, err = d.dynamicField(abs, ric); err != nil {
					break
				}
				name = e.name
				largest, referenced = max(largest, abs), true
			}
			var k int
			valueB, d.strBuf, k, tooLong, err = readString(b[n:], 7, maxString, d.strBuf)
			n += k
		case c&0xf0 == 0x00:
			// §4.5.5 Literal Field Line with Post-Base Name Reference:
			// 0000 N Index(3).
			never = c&0x08 != 0
			if idx, n, err = readInteger(b, 3); err != nil {
				break
			}
			abs := base + idx
			var e *tableEntry
			if e, err = d.dynamicField(abs, ric); err != nil {
				break
			}
			name = e.name
			largest, referenced = max(largest, abs), true
			var k int
			valueB, d.strBuf, k, tooLong, err = readString(b[n:], 7, maxString, d.strBuf)
			n += k
		default:
			// §4.5.6 Literal Field Line with Literal Name: 001 N H Length(3).
			never = c&0x10 != 0
			nameB, d.strBuf, n, tooLong, err = readString(b, 3, maxString, d.strBuf)
			if err != nil || tooLong {
				break
			}
			var k int
			valueB, d.strBuf, k, tooLong, err = readString(b[n:], 7, maxString, d.strBuf)
			n += k
		}
		if err != nil {
			return withCode(truncatedIsError(err, "truncated field line"), ErrCodeDecompressionFailed)
		}
		if tooLong {
			return ErrFieldSectionTooLarge
		}
		size += uint64(len(name)+len(nameB)+len(value)+len(valueB)) + entryOverhead
		if d.maxFieldSectionSize > 0 && size > d.maxFieldSectionSize {
			return ErrFieldSectionTooLarge
		}
		emit(name, nameB, value, valueB, never)
		b = b[n:]
	}
	// RFC 9204 §2.2.1: a Required Insert Count larger than the largest
	// reference needs MAY be treated as an error; a conformant encoder never
	// sends one, and refusing it keeps acknowledgments truthful.
	if ric > 0 && (!referenced || largest+1 != ric) {
		return decompressionFailed("Required Insert Count larger than the references need")
	}
	return nil
}
