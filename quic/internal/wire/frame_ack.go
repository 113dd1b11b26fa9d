package wire

// AckRange is a range of acknowledged packet numbers, both ends included.
type AckRange struct {
	Smallest, Largest PacketNumber
}

// ECNCounts are the ECN counters of an ACK frame of type 0x03
// (RFC 9000 §19.3.2).
type ECNCounts struct {
	ECT0, ECT1, CE uint64
}

// AckFrame is an ACK frame (RFC 9000 §19.3), with ranges as absolute packet
// numbers rather than the gaps and lengths of the wire.
type AckFrame struct {
	// Ranges lists the acknowledged ranges from the highest down, each
	// below the previous one with at least one packet in between.
	// Ranges[0].Largest is the Largest Acknowledged field. It must not be
	// empty when appending.
	Ranges []AckRange
	// AckDelay is the ACK Delay field as encoded: microseconds divided by
	// 2^ack_delay_exponent (RFC 9000 §19.3, §18.2).
	AckDelay uint64
	// HasECN selects the ACK_ECN type (0x03) that carries ECN.
	HasECN bool
	ECN    ECNCounts
}

// LargestAcknowledged returns the largest packet number the frame
// acknowledges.
func (f *AckFrame) LargestAcknowledged() PacketNumber { return f.Ranges[0].Largest }

// ParseAckFrame parses the body of an ACK frame of type t (0x02 or 0x03), b
// starting right after the type. The ranges are appended to ranges[:0], so
// a caller that keeps a buffer with enough capacity parses without
// allocating; growth is bounded by the packet, each range taking at least
// two bytes of it. RFC 9000 §19.3.1: a range reaching below packet number 0
// is a FRAME_ENCODING_ERROR.
func ParseAckFrame(t FrameType, b []byte, ranges []AckRange) (AckFrame, int, error) {
	r := frameReader{b: b, t: t}
	var f AckFrame
	largest := r.varint()
	f.AckDelay = r.varint()
	count := r.varint()
	first := r.varint()
	if r.err != nil {
		return AckFrame{}, 0, r.err
	}
	if first > largest {
		return AckFrame{}, 0, frameError(t, "first ACK range below packet number 0")
	}
	smallest := largest - first
	ranges = append(ranges[:0], AckRange{PacketNumber(smallest), PacketNumber(largest)})
	for ; count > 0 && r.err == nil; count-- {
		gap := r.varint()
		length := r.varint()
		if r.err != nil {
			break
		}
		// The next range ends gap+2 below the current smallest: one
		// for the unacknowledged packets being at least one, one
		// because gap counts them minus one.
		if gap+2 > smallest {
			return AckFrame{}, 0, frameError(t, "ACK gap below packet number 0")
		}
		largest = smallest - gap - 2
		if length > largest {
			return AckFrame{}, 0, frameError(t, "ACK range below packet number 0")
		}
		smallest = largest - length
		ranges = append(ranges, AckRange{PacketNumber(smallest), PacketNumber(largest)})
	}
	if t == FrameTypeAckECN {
		f.HasECN = true
		f.ECN.ECT0 = r.varint()
		f.ECN.ECT1 = r.varint()
		f.ECN.CE = r.varint()
	}
	n, err := r.done()
	if err != nil {
		return AckFrame{}, 0, err
	}
	f.Ranges = ranges
	return f, n, nil
}

// Type returns FrameTypeAck or, with ECN counts, FrameTypeAckECN.
func (f *AckFrame) Type() FrameType {
	if f.HasECN {
		return FrameTypeAckECN
	}
	return FrameTypeAck
}

// Len returns the encoded length of the frame.
func (f *AckFrame) Len() int {
	if len(f.Ranges) == 0 {
		return 0
	}
	r0 := f.Ranges[0]
	n := 1 + VarintLen(uint64(r0.Largest)) + VarintLen(f.AckDelay) +
		VarintLen(uint64(len(f.Ranges)-1)) + VarintLen(uint64(r0.Largest-r0.Smallest))
	for i := 1; i < len(f.Ranges); i++ {
		r := f.Ranges[i]
		n += VarintLen(uint64(f.Ranges[i-1].Smallest-r.Largest-2)) + VarintLen(uint64(r.Largest-r.Smallest))
	}
	if f.HasECN {
		n += VarintLen(f.ECN.ECT0) + VarintLen(f.ECN.ECT1) + VarintLen(f.ECN.CE)
	}
	return n
}

// Append appends the frame to b. It writes nothing if f.Ranges is empty.
// The ranges must be ordered and separated as documented on Ranges.
func (f *AckFrame) Append(b []byte) []byte {
	if len(f.Ranges) == 0 {
		return b
	}
	r0 := f.Ranges[0]
	b = append(b, byte(f.Type()))
	b = AppendVarint(b, uint64(r0.Largest))
	b = AppendVarint(b, f.AckDelay)
	b = AppendVarint(b, uint64(len(f.Ranges)-1))
	b = AppendVarint(b, uint64(r0.Largest-r0.Smallest))
	for i := 1; i < len(f.Ranges); i++ {
		r := f.Ranges[i]
		b = AppendVarint(b, uint64(f.Ranges[i-1].Smallest-r.Largest-2))
		b = AppendVarint(b, uint64(r.Largest-r.Smallest))
	}
	if f.HasECN {
		b = AppendVarint(b, f.ECN.ECT0)
		b = AppendVarint(b, f.ECN.ECT1)
		b = AppendVarint(b, f.ECN.CE)
	}
	return b
}
