package wire

// DatagramFrame is a DATAGRAM frame (RFC 9221 §4): unreliable application
// data.
type DatagramFrame struct {
	Data []byte // a view into the packet when parsed
	// NoLength selects type 0x30, whose data runs to the end of the
	// packet, so the frame must be the last in it; otherwise 0x31.
	NoLength bool
}

// ParseDatagramFrame parses the body of a DATAGRAM frame of type t (0x30 or
// 0x31), b starting right after the type.
func ParseDatagramFrame(t FrameType, b []byte) (DatagramFrame, int, error) {
	r := frameReader{b: b, t: t}
	var f DatagramFrame
	if t == FrameTypeDatagramLen {
		f.Data = r.bytes(r.varint())
	} else {
		f.NoLength = true
		f.Data = r.rest()
	}
	n, err := r.done()
	if err != nil {
		return DatagramFrame{}, 0, err
	}
	return f, n, nil
}

// Type returns the frame type, 0x30 or 0x31.
func (f *DatagramFrame) Type() FrameType {
	if f.NoLength {
		return FrameTypeDatagram
	}
	return FrameTypeDatagramLen
}

// Len returns the encoded length of the frame.
func (f *DatagramFrame) Len() int {
	if f.NoLength {
		return 1 + len(f.Data)
	}
	return 1 + VarintLen(uint64(len(f.Data))) + len(f.Data)
}

// Append appends the frame to b.
func (f *DatagramFrame) Append(b []byte) []byte {
	b = append(b, byte(f.Type()))
	if !f.NoLength {
		b = AppendVarint(b, uint64(len(f.Data)))
	}
	return append(b, f.Data...)
}
