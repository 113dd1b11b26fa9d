package wire

import "time"

// AckFrequencyFrame is an ACK_FREQUENCY frame (draft-ietf-quic-ack-frequency-14
// §4): the data sender's request of how often the receiver acknowledges.
type AckFrequencyFrame struct {
	// SequenceNumber orders the frames: a receiver acts only on one
	// above the largest it processed.
	SequenceNumber uint64
	// AckElicitingThreshold is how many ack-eliciting packets the
	// receiver may receive without acknowledging: it acknowledges after
	// more than this many (RFC 9000's default is 1).
	AckElicitingThreshold uint64
	// RequestedMaxAckDelay is the max_ack_delay the receiver is asked to
	// use, sent in microseconds.
	RequestedMaxAckDelay time.Duration
	// ReorderingThreshold is how much reordering makes the receiver
	// acknowledge at once (§6.2): 0 never, 1 any (RFC 9000's default).
	ReorderingThreshold uint64
}

// maxRequestedAckDelay is the largest Requested Max Ack Delay a time.Duration
// holds in microseconds; anything larger is invalid anyway (2^14 ms, §4).
const maxRequestedAckDelay = 1<<63/uint64(time.Microsecond) - 1

// ParseAckFrequencyFrame parses the body of an ACK_FREQUENCY frame, b
// starting right after its type.
func ParseAckFrequencyFrame(b []byte) (AckFrequencyFrame, int, error) {
	r := frameReader{b: b, t: FrameTypeAckFrequency}
	var f AckFrequencyFrame
	f.SequenceNumber = r.varint()
	f.AckElicitingThreshold = r.varint()
	d := min(r.varint(), maxRequestedAckDelay)
	f.RequestedMaxAckDelay = time.Duration(d) * time.Microsecond
	f.ReorderingThreshold = r.varint()
	n, err := r.done()
	if err != nil {
		return AckFrequencyFrame{}, 0, err
	}
	return f, n, nil
}

// Len returns the encoded length of the frame.
func (f *AckFrequencyFrame) Len() int {
	return VarintLen(uint64(FrameTypeAckFrequency)) + VarintLen(f.SequenceNumber) + VarintLen(f.AckElicitingThreshold) +
		VarintLen(uint64(f.RequestedMaxAckDelay/time.Microsecond)) + VarintLen(f.ReorderingThreshold)
}

// Append appends the frame to b.
func (f *AckFrequencyFrame) Append(b []byte) []byte {
	b = AppendVarint(b, uint64(FrameTypeAckFrequency))
	b = AppendVarint(b, f.SequenceNumber)
	b = AppendVarint(b, f.AckElicitingThreshold)
	b = AppendVarint(b, uint64(f.RequestedMaxAckDelay/time.Microsecond))
	return AppendVarint(b, f.ReorderingThreshold)
}

// IMMEDIATE_ACK (draft-ietf-quic-ack-frequency-14 §5) is a type byte and
// nothing else, like PING: append it with append(b, byte(FrameTypeImmediateAck)).
