package wire

// StatelessResetTokenLen is the length of a stateless reset token
// (RFC 9000 §10.3).
const StatelessResetTokenLen = 16

// NewConnectionIDFrame is a NEW_CONNECTION_ID frame (RFC 9000 §19.15).
type NewConnectionIDFrame struct {
	SequenceNumber      uint64
	RetirePriorTo       uint64
	ConnectionID        ConnectionID // 1 to 20 bytes
	StatelessResetToken [StatelessResetTokenLen]byte
}

// ParseNewConnectionIDFrame parses the body of a NEW_CONNECTION_ID frame, b
// starting right after the type. RFC 9000 §19.15: a connection ID length
// outside 1..20 and a Retire Prior To above the Sequence Number are
// FRAME_ENCODING_ERRORs.
func ParseNewConnectionIDFrame(b []byte) (NewConnectionIDFrame, int, error) {
	const t = FrameTypeNewConnectionID
	r := frameReader{b: b, t: t}
	var f NewConnectionIDFrame
	f.SequenceNumber = r.varint()
	f.RetirePriorTo = r.varint()
	cidLen := r.byte()
	if r.err == nil && (cidLen < 1 || cidLen > MaxConnectionIDLen) {
		return NewConnectionIDFrame{}, 0, frameError(t, "connection ID length outside 1..20")
	}
	cid := r.bytes(uint64(cidLen))
	token := r.bytes(StatelessResetTokenLen)
	n, err := r.done()
	if err != nil {
		return NewConnectionIDFrame{}, 0, err
	}
	if f.RetirePriorTo > f.SequenceNumber {
		return NewConnectionIDFrame{}, 0, frameError(t, "retire prior to above sequence number")
	}
	_ = f.ConnectionID.set(cid) // length checked above
	copy(f.StatelessResetToken[:], token)
	return f, n, nil
}

// Len returns the encoded length of the frame.
func (f *NewConnectionIDFrame) Len() int {
	return 1 + VarintLen(f.SequenceNumber) + VarintLen(f.RetirePriorTo) + 1 +
		f.ConnectionID.Len() + StatelessResetTokenLen
}

// Append appends the frame to b.
func (f *NewConnectionIDFrame) Append(b []byte) []byte {
	b = append(b, byte(FrameTypeNewConnectionID))
	b = AppendVarint(b, f.SequenceNumber)
	b = AppendVarint(b, f.RetirePriorTo)
	b = append(b, byte(f.ConnectionID.Len()))
	b = append(b, f.ConnectionID.Bytes()...)
	return append(b, f.StatelessResetToken[:]...)
}

// RetireConnectionIDFrame is a RETIRE_CONNECTION_ID frame (RFC 9000 §19.16).
type RetireConnectionIDFrame struct {
	SequenceNumber uint64
}

// ParseRetireConnectionIDFrame parses the body of a RETIRE_CONNECTION_ID
// frame, b starting right after the type.
func ParseRetireConnectionIDFrame(b []byte) (RetireConnectionIDFrame, int, error) {
	r := frameReader{b: b, t: FrameTypeRetireConnectionID}
	f := RetireConnectionIDFrame{SequenceNumber: r.varint()}
	return finish(f, &r)
}

// Len returns the encoded length of the frame.
func (f *RetireConnectionIDFrame) Len() int { return 1 + VarintLen(f.SequenceNumber) }

// Append appends the frame to b.
func (f *RetireConnectionIDFrame) Append(b []byte) []byte {
	return AppendVarint(append(b, byte(FrameTypeRetireConnectionID)), f.SequenceNumber)
}
