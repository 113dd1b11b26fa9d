package wire

// PathChallengeFrame is a PATH_CHALLENGE frame (RFC 9000 §19.17) and
// PathResponseFrame a PATH_RESPONSE frame (§19.18); both carry 8 bytes.
type (
	PathChallengeFrame struct{ Data [8]byte }
	PathResponseFrame  struct{ Data [8]byte }
)

// ParsePathChallengeFrame parses the body of a PATH_CHALLENGE frame, b
// starting right after the type.
func ParsePathChallengeFrame(b []byte) (PathChallengeFrame, int, error) {
	var f PathChallengeFrame
	n, err := parsePathData(FrameTypePathChallenge, b, &f.Data)
	return f, n, err
}

// ParsePathResponseFrame parses the body of a PATH_RESPONSE frame, b
// starting right after the type.
func ParsePathResponseFrame(b []byte) (PathResponseFrame, int, error) {
	var f PathResponseFrame
	n, err := parsePathData(FrameTypePathResponse, b, &f.Data)
	return f, n, err
}

func parsePathData(t FrameType, b []byte, data *[8]byte) (int, error) {
	if len(b) < len(data) {
		return 0, frameError(t, "truncated data")
	}
	return copy(data[:], b), nil
}

// Len returns the encoded length of the frame.
func (f *PathChallengeFrame) Len() int { return 9 }

// Append appends the frame to b.
func (f *PathChallengeFrame) Append(b []byte) []byte {
	return append(append(b, byte(FrameTypePathChallenge)), f.Data[:]...)
}

// Len returns the encoded length of the frame.
func (f *PathResponseFrame) Len() int { return 9 }

// Append appends the frame to b.
func (f *PathResponseFrame) Append(b []byte) []byte {
	return append(append(b, byte(FrameTypePathResponse)), f.Data[:]...)
}
