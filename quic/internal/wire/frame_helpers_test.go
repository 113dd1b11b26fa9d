package wire

import "fmt"

// Frames without a body, for the table-driven tests.
type (
	paddingFrame       struct{}
	pingFrame          struct{}
	handshakeDoneFrame struct{}
	immediateAckFrame  struct{}
)

// parseAnyFrame parses the frame at the start of b with the parser for its
// type, the way a connection's receive loop does, and returns it boxed (tests
// only) with the number of bytes used.
func parseAnyFrame(b []byte, ackBuf []AckRange) (any, int, error) {
	t, n, err := ParseFrameType(b)
	if err != nil {
		return nil, 0, err
	}
	body := b[n:]
	var f any
	var m int
	switch {
	case t == FrameTypePadding:
		f = paddingFrame{}
	case t == FrameTypePing:
		f = pingFrame{}
	case t == FrameTypeHandshakeDone:
		f = handshakeDoneFrame{}
	case t == FrameTypeImmediateAck:
		f = immediateAckFrame{}
	case t == FrameTypeAckFrequency:
		f, m, err = box(ParseAckFrequencyFrame(body))
	case t == FrameTypeAck || t == FrameTypeAckECN:
		f, m, err = box(ParseAckFrame(t, body, ackBuf))
	case t == FrameTypeResetStream:
		f, m, err = box(ParseResetStreamFrame(body))
	case t == FrameTypeStopSending:
		f, m, err = box(ParseStopSendingFrame(body))
	case t == FrameTypeCrypto:
		f, m, err = box(ParseCryptoFrame(body))
	case t == FrameTypeNewToken:
		f, m, err = box(ParseNewTokenFrame(body))
	case t.IsStream():
		f, m, err = box(ParseStreamFrame(t, body))
	case t == FrameTypeMaxData:
		f, m, err = box(ParseMaxDataFrame(body))
	case t == FrameTypeMaxStreamData:
		f, m, err = box(ParseMaxStreamDataFrame(body))
	case t == FrameTypeMaxStreamsBidi || t == FrameTypeMaxStreamsUni:
		f, m, err = box(ParseMaxStreamsFrame(t, body))
	case t == FrameTypeDataBlocked:
		f, m, err = box(ParseDataBlockedFrame(body))
	case t == FrameTypeStreamDataBlocked:
		f, m, err = box(ParseStreamDataBlockedFrame(body))
	case t == FrameTypeStreamsBlockedBidi || t == FrameTypeStreamsBlockedUni:
		f, m, err = box(ParseStreamsBlockedFrame(t, body))
	case t == FrameTypeNewConnectionID:
		f, m, err = box(ParseNewConnectionIDFrame(body))
	case t == FrameTypeRetireConnectionID:
		f, m, err = box(ParseRetireConnectionIDFrame(body))
	case t == FrameTypePathChallenge:
		f, m, err = box(ParsePathChallengeFrame(body))
	case t == FrameTypePathResponse:
		f, m, err = box(ParsePathResponseFrame(body))
	case t == FrameTypeConnectionClose || t == FrameTypeConnectionCloseApp:
		f, m, err = box(ParseConnectionCloseFrame(t, body))
	case t == FrameTypeDatagram || t == FrameTypeDatagramLen:
		f, m, err = box(ParseDatagramFrame(t, body))
	default:
		panic(fmt.Sprintf("ParseFrameType accepted unknown type %v", t))
	}
	if err != nil {
		return nil, 0, err
	}
	return f, n + m, nil
}

func box[F any](f F, n int, err error) (any, int, error) { return f, n, err }

// appendAnyFrame appends a frame returned by parseAnyFrame or built by a
// test, and returns its Len as well.
func appendAnyFrame(b []byte, f any) ([]byte, int) {
	switch f := f.(type) {
	case paddingFrame:
		return append(b, byte(FrameTypePadding)), 1
	case pingFrame:
		return append(b, byte(FrameTypePing)), 1
	case handshakeDoneFrame:
		return append(b, byte(FrameTypeHandshakeDone)), 1
	case immediateAckFrame:
		return append(b, byte(FrameTypeImmediateAck)), 1
	case AckFrequencyFrame:
		return f.Append(b), f.Len()
	case AckFrame:
		return f.Append(b), f.Len()
	case ResetStreamFrame:
		return f.Append(b), f.Len()
	case StopSendingFrame:
		return f.Append(b), f.Len()
	case CryptoFrame:
		return f.Append(b), f.Len()
	case NewTokenFrame:
		return f.Append(b), f.Len()
	case StreamFrame:
		return f.Append(b), f.Len()
	case MaxDataFrame:
		return f.Append(b), f.Len()
	case MaxStreamDataFrame:
		return f.Append(b), f.Len()
	case MaxStreamsFrame:
		return f.Append(b), f.Len()
	case DataBlockedFrame:
		return f.Append(b), f.Len()
	case StreamDataBlockedFrame:
		return f.Append(b), f.Len()
	case StreamsBlockedFrame:
		return f.Append(b), f.Len()
	case NewConnectionIDFrame:
		return f.Append(b), f.Len()
	case RetireConnectionIDFrame:
		return f.Append(b), f.Len()
	case PathChallengeFrame:
		return f.Append(b), f.Len()
	case PathResponseFrame:
		return f.Append(b), f.Len()
	case ConnectionCloseFrame:
		return f.Append(b), f.Len()
	case DatagramFrame:
		return f.Append(b), f.Len()
	}
	panic(fmt.Sprintf("unknown frame %T", f))
}
