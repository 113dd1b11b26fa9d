package wire

// MaxStreamCount is the largest stream count a MAX_STREAMS or
// STREAMS_BLOCKED frame, or an initial_max_streams transport parameter, may
// carry: 2^60 streams of one type exhaust the 62-bit stream ID space
// (RFC 9000 §4.6, §19.11).
const MaxStreamCount = 1 << 60

// MaxDataFrame is a MAX_DATA frame (RFC 9000 §19.9): the connection-level
// flow control limit.
type MaxDataFrame struct {
	MaximumData uint64
}

// ParseMaxDataFrame parses the body of a MAX_DATA frame, b starting right
// after the type.
func ParseMaxDataFrame(b []byte) (MaxDataFrame, int, error) {
	r := frameReader{b: b, t: FrameTypeMaxData}
	f := MaxDataFrame{MaximumData: r.varint()}
	return finish(f, &r)
}

// Len returns the encoded length of the frame.
func (f *MaxDataFrame) Len() int { return 1 + VarintLen(f.MaximumData) }

// Append appends the frame to b.
func (f *MaxDataFrame) Append(b []byte) []byte {
	return AppendVarint(append(b, byte(FrameTypeMaxData)), f.MaximumData)
}

// MaxStreamDataFrame is a MAX_STREAM_DATA frame (RFC 9000 §19.10): a
// stream's flow control limit.
type MaxStreamDataFrame struct {
	StreamID          uint64
	MaximumStreamData uint64
}

// ParseMaxStreamDataFrame parses the body of a MAX_STREAM_DATA frame, b
// starting right after the type.
func ParseMaxStreamDataFrame(b []byte) (MaxStreamDataFrame, int, error) {
	r := frameReader{b: b, t: FrameTypeMaxStreamData}
	f := MaxStreamDataFrame{StreamID: r.varint(), MaximumStreamData: r.varint()}
	return finish(f, &r)
}

// Len returns the encoded length of the frame.
func (f *MaxStreamDataFrame) Len() int {
	return 1 + VarintLen(f.StreamID) + VarintLen(f.MaximumStreamData)
}

// Append appends the frame to b.
func (f *MaxStreamDataFrame) Append(b []byte) []byte {
	b = AppendVarint(append(b, byte(FrameTypeMaxStreamData)), f.StreamID)
	return AppendVarint(b, f.MaximumStreamData)
}

// MaxStreamsFrame is a MAX_STREAMS frame (RFC 9000 §19.11): how many
// streams of one type the peer may open.
type MaxStreamsFrame struct {
	Uni            bool // type 0x13, unidirectional; otherwise 0x12
	MaximumStreams uint64
}

// ParseMaxStreamsFrame parses the body of a MAX_STREAMS frame of type t
// (0x12 or 0x13), b starting right after the type.
func ParseMaxStreamsFrame(t FrameType, b []byte) (MaxStreamsFrame, int, error) {
	r := frameReader{b: b, t: t}
	f := MaxStreamsFrame{Uni: t == FrameTypeMaxStreamsUni, MaximumStreams: r.varint()}
	n, err := r.done()
	if err != nil {
		return MaxStreamsFrame{}, 0, err
	}
	// RFC 9000 §19.11: a count above 2^60 is a FRAME_ENCODING_ERROR.
	if f.MaximumStreams > MaxStreamCount {
		return MaxStreamsFrame{}, 0, frameError(t, "maximum streams above 2^60")
	}
	return f, n, nil
}

// Type returns the frame type, 0x12 or 0x13.
func (f *MaxStreamsFrame) Type() FrameType {
	if f.Uni {
		return FrameTypeMaxStreamsUni
	}
	return FrameTypeMaxStreamsBidi
}

// Len returns the encoded length of the frame.
func (f *MaxStreamsFrame) Len() int { return 1 + VarintLen(f.MaximumStreams) }

// Append appends the frame to b.
func (f *MaxStreamsFrame) Append(b []byte) []byte {
	return AppendVarint(append(b, byte(f.Type())), f.MaximumStreams)
}

// DataBlockedFrame is a DATA_BLOCKED frame (RFC 9000 §19.12): the sender is
// blocked by connection-level flow control at MaximumData.
type DataBlockedFrame struct {
	MaximumData uint64
}

// ParseDataBlockedFrame parses the body of a DATA_BLOCKED frame, b starting
// right after the type.
func ParseDataBlockedFrame(b []byte) (DataBlockedFrame, int, error) {
	r := frameReader{b: b, t: FrameTypeDataBlocked}
	f := DataBlockedFrame{MaximumData: r.varint()}
	return finish(f, &r)
}

// Len returns the encoded length of the frame.
func (f *DataBlockedFrame) Len() int { return 1 + VarintLen(f.MaximumData) }

// Append appends the frame to b.
func (f *DataBlockedFrame) Append(b []byte) []byte {
	return AppendVarint(append(b, byte(FrameTypeDataBlocked)), f.MaximumData)
}

// StreamDataBlockedFrame is a STREAM_DATA_BLOCKED frame (RFC 9000 §19.13):
// the sender is blocked by a stream's flow control.
type StreamDataBlockedFrame struct {
	StreamID          uint64
	MaximumStreamData uint64
}

// ParseStreamDataBlockedFrame parses the body of a STREAM_DATA_BLOCKED
// frame, b starting right after the type.
func ParseStreamDataBlockedFrame(b []byte) (StreamDataBlockedFrame, int, error) {
	r := frameReader{b: b, t: FrameTypeStreamDataBlocked}
	f := StreamDataBlockedFrame{StreamID: r.varint(), MaximumStreamData: r.varint()}
	return finish(f, &r)
}

// Len returns the encoded length of the frame.
func (f *StreamDataBlockedFrame) Len() int {
	return 1 + VarintLen(f.StreamID) + VarintLen(f.MaximumStreamData)
}

// Append appends the frame to b.
func (f *StreamDataBlockedFrame) Append(b []byte) []byte {
	b = AppendVarint(append(b, byte(FrameTypeStreamDataBlocked)), f.StreamID)
	return AppendVarint(b, f.MaximumStreamData)
}

// StreamsBlockedFrame is a STREAMS_BLOCKED frame (RFC 9000 §19.14): the
// sender wants to open more streams of one type than it may.
type StreamsBlockedFrame struct {
	Uni            bool // type 0x17, unidirectional; otherwise 0x16
	MaximumStreams uint64
}

// ParseStreamsBlockedFrame parses the body of a STREAMS_BLOCKED frame of
// type t (0x16 or 0x17), b starting right after the type.
func ParseStreamsBlockedFrame(t FrameType, b []byte) (StreamsBlockedFrame, int, error) {
	r := frameReader{b: b, t: t}
	f := StreamsBlockedFrame{Uni: t == FrameTypeStreamsBlockedUni, MaximumStreams: r.varint()}
	n, err := r.done()
	if err != nil {
		return StreamsBlockedFrame{}, 0, err
	}
	// RFC 9000 §19.14: a count above 2^60 is a STREAM_LIMIT_ERROR or
	// FRAME_ENCODING_ERROR; we use the latter, like MAX_STREAMS.
	if f.MaximumStreams > MaxStreamCount {
		return StreamsBlockedFrame{}, 0, frameError(t, "maximum streams above 2^60")
	}
	return f, n, nil
}

// Type returns the frame type, 0x16 or 0x17.
func (f *StreamsBlockedFrame) Type() FrameType {
	if f.Uni {
		return FrameTypeStreamsBlockedUni
	}
	return FrameTypeStreamsBlockedBidi
}

// Len returns the encoded length of the frame.
func (f *StreamsBlockedFrame) Len() int { return 1 + VarintLen(f.MaximumStreams) }

// Append appends the frame to b.
func (f *StreamsBlockedFrame) Append(b []byte) []byte {
	return AppendVarint(append(b, byte(f.Type())), f.MaximumStreams)
}
