package wire

// ConnectionCloseFrame is a CONNECTION_CLOSE frame (RFC 9000 §19.19).
type ConnectionCloseFrame struct {
	// Application selects type 0x1d, an application protocol error;
	// otherwise the type is 0x1c and ErrorCode a TransportErrorCode.
	Application bool
	ErrorCode   uint64
	// FrameType is the type of the frame that caused a transport error;
	// type 0x1d frames do not carry it.
	FrameType FrameType
	// ReasonPhrase is a view into the packet when parsed.
	ReasonPhrase []byte
}

// ParseConnectionCloseFrame parses the body of a CONNECTION_CLOSE frame of
// type t (0x1c or 0x1d), b starting right after the type.
func ParseConnectionCloseFrame(t FrameType, b []byte) (ConnectionCloseFrame, int, error) {
	r := frameReader{b: b, t: t}
	f := ConnectionCloseFrame{Application: t == FrameTypeConnectionCloseApp}
	f.ErrorCode = r.varint()
	if !f.Application {
		f.FrameType = FrameType(r.varint())
	}
	f.ReasonPhrase = r.bytes(r.varint())
	n, err := r.done()
	if err != nil {
		return ConnectionCloseFrame{}, 0, err
	}
	return f, n, nil
}

// Type returns the frame type, 0x1c or 0x1d.
func (f *ConnectionCloseFrame) Type() FrameType {
	if f.Application {
		return FrameTypeConnectionCloseApp
	}
	return FrameTypeConnectionClose
}

// Len returns the encoded length of the frame.
func (f *ConnectionCloseFrame) Len() int {
	n := 1 + VarintLen(f.ErrorCode) + VarintLen(uint64(len(f.ReasonPhrase))) + len(f.ReasonPhrase)
	if !f.Application {
		n += VarintLen(uint64(f.FrameType))
	}
	return n
}

// Append appends the frame to b.
func (f *ConnectionCloseFrame) Append(b []byte) []byte {
	b = AppendVarint(append(b, byte(f.Type())), f.ErrorCode)
	if !f.Application {
		b = AppendVarint(b, uint64(f.FrameType))
	}
	b = AppendVarint(b, uint64(len(f.ReasonPhrase)))
	return append(b, f.ReasonPhrase...)
}
