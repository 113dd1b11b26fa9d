package wire

// StreamFrame is a STREAM frame (RFC 9000 §19.8).
type StreamFrame struct {
	StreamID uint64
	Offset   uint64
	// Data is a view into the packet when parsed.
	Data []byte
	Fin  bool
	// NoLength omits the Length field: the data then runs to the end of
	// the packet, so the frame must be the last one in it.
	NoLength bool
}

// ParseStreamFrame parses the body of a STREAM frame of type t (0x08-0x0f),
// b starting right after the type. It returns the frame and the number of
// bytes of b it used.
func ParseStreamFrame(t FrameType, b []byte) (StreamFrame, int, error) {
	var f StreamFrame
	n, err := ParseStreamFrameInto(&f, t, b)
	return f, n, err
}

// ParseStreamFrameInto is ParseStreamFrame into *f, which it overwrites
// (with the zero frame on error). The receiver's packet path parses every
// STREAM frame with it: a frame returned by value was built in a
// temporary and copied out, and the copy's 16-byte loads of the
// temporary's 8-byte stores stalled (store forwarding), a third of the
// parser's time in a bulk receiver's profile.
func ParseStreamFrameInto(f *StreamFrame, t FrameType, b []byte) (int, error) {
	// This is the hottest parser: it calls ParseVarint, which inlines,
	// rather than going through frameReader.
	*f = StreamFrame{}
	id, pos, err := ParseVarint(b)
	if err != nil {
		return 0, frameError(t, "truncated field")
	}
	var off uint64
	if t&StreamFlagOff != 0 {
		v, n, err := ParseVarint(b[pos:])
		if err != nil {
			return 0, frameError(t, "truncated field")
		}
		off = v
		pos += n
	}
	end := len(b)
	noLength := true
	if t&StreamFlagLen != 0 {
		l, n, err := ParseVarint(b[pos:])
		if err != nil {
			return 0, frameError(t, "truncated field")
		}
		pos += n
		if l > uint64(len(b)-pos) {
			return 0, frameError(t, "length exceeds the packet")
		}
		end = pos + int(l)
		noLength = false
	}
	// RFC 9000 §19.8: the final offset cannot exceed 2^62-1.
	if off+uint64(end-pos) > MaxVarint {
		return 0, frameError(t, "stream data beyond 2^62-1")
	}
	f.StreamID, f.Offset, f.Data = id, off, b[pos:end:end]
	f.Fin, f.NoLength = t&StreamFlagFin != 0, noLength
	return end, nil
}

// Type returns the frame type Append writes, with the OFF, LEN and FIN bits
// set as f needs.
func (f *StreamFrame) Type() FrameType {
	t := FrameTypeStream
	if f.Offset != 0 {
		t |= StreamFlagOff
	}
	if !f.NoLength {
		t |= StreamFlagLen
	}
	if f.Fin {
		t |= StreamFlagFin
	}
	return t
}

// Len returns the encoded length of the frame.
func (f *StreamFrame) Len() int {
	return StreamFrameOverhead(f.StreamID, f.Offset, len(f.Data), !f.NoLength) + len(f.Data)
}

// Append appends the frame to b.
func (f *StreamFrame) Append(b []byte) []byte {
	return append(f.AppendHeader(b, len(f.Data)), f.Data...)
}

// AppendHeader appends the frame's type and fields, for a frame carrying
// dataLen bytes, without the data (f.Data is not read): a sender that
// places the data itself.
func (f *StreamFrame) AppendHeader(b []byte, dataLen int) []byte {
	b = append(b, byte(f.Type()))
	b = AppendVarint(b, f.StreamID)
	if f.Offset != 0 {
		b = AppendVarint(b, f.Offset)
	}
	if !f.NoLength {
		b = AppendVarint(b, uint64(dataLen))
	}
	return b
}

// StreamFrameOverhead returns the size of a STREAM frame's type and fields,
// without its data, for a frame carrying dataLen bytes.
func StreamFrameOverhead(streamID, offset uint64, dataLen int, withLength bool) int {
	n := 1 + VarintLen(streamID)
	if offset != 0 {
		n += VarintLen(offset)
	}
	if withLength {
		n += VarintLen(uint64(dataLen))
	}
	return n
}

// MaxStreamDataLen returns how many bytes of data a STREAM frame for
// streamID at offset can carry within space bytes, or 0 if not even one
// byte fits. withLength says whether the frame has a Length field.
func MaxStreamDataLen(streamID, offset uint64, space int, withLength bool) int {
	n := space - StreamFrameOverhead(streamID, offset, 0, false)
	if !withLength {
		return max(n, 0)
	}
	if n <= 1 {
		return 0
	}
	// The Length field takes 1, 2 or 4 bytes (a packet is below 2^30
	// bytes); take the width needed for the largest data that could fit.
	l := n - VarintLen(uint64(n))
	if VarintLen(uint64(l)) < VarintLen(uint64(n)) {
		// A narrower Length field leaves room for a few more bytes, but
		// never more than the narrower encoding can express.
		l = min(n-VarintLen(uint64(l)), 1<<(8*VarintLen(uint64(l))-2)-1)
	}
	return max(l, 0)
}
