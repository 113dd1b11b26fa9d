package wire

// ResetStreamFrame is a RESET_STREAM frame (RFC 9000 §19.4): the sender
// abandons the sending part of a stream.
type ResetStreamFrame struct {
	StreamID  uint64
	ErrorCode uint64 // application protocol error code
	FinalSize uint64
}

// ParseResetStreamFrame parses the body of a RESET_STREAM frame, b starting
// right after the type.
func ParseResetStreamFrame(b []byte) (ResetStreamFrame, int, error) {
	r := frameReader{b: b, t: FrameTypeResetStream}
	f := ResetStreamFrame{StreamID: r.varint(), ErrorCode: r.varint(), FinalSize: r.varint()}
	n, err := r.done()
	if err != nil {
		return ResetStreamFrame{}, 0, err
	}
	return f, n, nil
}

// Len returns the encoded length of the frame.
func (f *ResetStreamFrame) Len() int {
	return 1 + VarintLen(f.StreamID) + VarintLen(f.ErrorCode) + VarintLen(f.FinalSize)
}

// Append appends the frame to b.
func (f *ResetStreamFrame) Append(b []byte) []byte {
	b = append(b, byte(FrameTypeResetStream))
	b = AppendVarint(b, f.StreamID)
	b = AppendVarint(b, f.ErrorCode)
	return AppendVarint(b, f.FinalSize)
}

// StopSendingFrame is a STOP_SENDING frame (RFC 9000 §19.5): the receiver
// asks the peer to stop sending on a stream.
type StopSendingFrame struct {
	StreamID  uint64
	ErrorCode uint64 // application protocol error code
}

// ParseStopSendingFrame parses the body of a STOP_SENDING frame, b starting
// right after the type.
func ParseStopSendingFrame(b []byte) (StopSendingFrame, int, error) {
	r := frameReader{b: b, t: FrameTypeStopSending}
	f := StopSendingFrame{StreamID: r.varint(), ErrorCode: r.varint()}
	n, err := r.done()
	if err != nil {
		return StopSendingFrame{}, 0, err
	}
	return f, n, nil
}

// Len returns the encoded length of the frame.
func (f *StopSendingFrame) Len() int {
	return 1 + VarintLen(f.StreamID) + VarintLen(f.ErrorCode)
}

// Append appends the frame to b.
func (f *StopSendingFrame) Append(b []byte) []byte {
	b = append(b, byte(FrameTypeStopSending))
	b = AppendVarint(b, f.StreamID)
	return AppendVarint(b, f.ErrorCode)
}
