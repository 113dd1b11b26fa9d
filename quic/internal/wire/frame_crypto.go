package wire

// CryptoFrame is a CRYPTO frame (RFC 9000 §19.6), carrying TLS handshake
// bytes at an offset of the encryption level's crypto stream.
type CryptoFrame struct {
	Offset uint64
	Data   []byte // a view into the packet when parsed
}

// ParseCryptoFrame parses the body of a CRYPTO frame, b starting right
// after the type.
func ParseCryptoFrame(b []byte) (CryptoFrame, int, error) {
	r := frameReader{b: b, t: FrameTypeCrypto}
	var f CryptoFrame
	f.Offset = r.varint()
	f.Data = r.bytes(r.varint())
	n, err := r.done()
	if err != nil {
		return CryptoFrame{}, 0, err
	}
	// RFC 9000 §19.6: offset plus length cannot exceed 2^62-1.
	if f.Offset+uint64(len(f.Data)) > MaxVarint {
		return CryptoFrame{}, 0, frameError(FrameTypeCrypto, "crypto data beyond 2^62-1")
	}
	return f, n, nil
}

// Len returns the encoded length of the frame.
func (f *CryptoFrame) Len() int {
	return CryptoFrameOverhead(f.Offset, len(f.Data)) + len(f.Data)
}

// Append appends the frame to b.
func (f *CryptoFrame) Append(b []byte) []byte {
	b = append(b, byte(FrameTypeCrypto))
	b = AppendVarint(b, f.Offset)
	b = AppendVarint(b, uint64(len(f.Data)))
	return append(b, f.Data...)
}

// CryptoFrameOverhead returns the size of a CRYPTO frame's type and fields
// for dataLen bytes of data at offset.
func CryptoFrameOverhead(offset uint64, dataLen int) int {
	return 1 + VarintLen(offset) + VarintLen(uint64(dataLen))
}

// NewTokenFrame is a NEW_TOKEN frame (RFC 9000 §19.7): a token the server
// gives the client for the Initial packets of a future connection.
type NewTokenFrame struct {
	Token []byte // a view into the packet when parsed
}

// ParseNewTokenFrame parses the body of a NEW_TOKEN frame, b starting right
// after the type.
func ParseNewTokenFrame(b []byte) (NewTokenFrame, int, error) {
	r := frameReader{b: b, t: FrameTypeNewToken}
	f := NewTokenFrame{Token: r.bytes(r.varint())}
	n, err := r.done()
	if err != nil {
		return NewTokenFrame{}, 0, err
	}
	// RFC 9000 §19.7: an empty token is a FRAME_ENCODING_ERROR.
	if len(f.Token) == 0 {
		return NewTokenFrame{}, 0, frameError(FrameTypeNewToken, "empty token")
	}
	return f, n, nil
}

// Len returns the encoded length of the frame.
func (f *NewTokenFrame) Len() int {
	return 1 + VarintLen(uint64(len(f.Token))) + len(f.Token)
}

// Append appends the frame to b.
func (f *NewTokenFrame) Append(b []byte) []byte {
	b = append(b, byte(FrameTypeNewToken))
	b = AppendVarint(b, uint64(len(f.Token)))
	return append(b, f.Token...)
}
