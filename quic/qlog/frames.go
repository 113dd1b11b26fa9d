package qlog

import (
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

// appendFrames appends `,"frames":[…]` for a packet's decrypted payload:
// each frame as quic-events draft-13 §8.13 defines it, with its field
// names. A run of PADDING is one padding frame whose raw.payload_length
// is the run's length (§8.13.1). exp decodes the ACK Delay of ACK frames.
// A payload that stops parsing ends the list with what was read: the
// connection dropped such a packet whole, so it is logged as it came.
func (s *seqWriter) appendFrames(b, payload []byte, exp uint8) []byte {
	b = append(b, `,"frames":[`...)
	first := true
	for len(payload) > 0 {
		t, n, err := wire.ParseFrameType(payload)
		if err != nil {
			break
		}
		body := payload[n:]
		mark := len(b)
		if !first {
			b = append(b, ',')
		}
		var m int
		b, m, err = s.appendFrame(b, t, body, exp)
		if err != nil {
			if len(b) <= mark+1 {
				b = b[:mark] // nothing of the frame was written
			}
			break
		}
		first = false
		payload = body[m:]
	}
	return append(b, ']')
}

// appendFrame appends one frame of type t whose body starts at p, and
// returns the body's length.
func (s *seqWriter) appendFrame(b []byte, t wire.FrameType, p []byte, exp uint8) ([]byte, int, error) {
	switch {
	case t == wire.FrameTypePadding:
		n := wire.PaddingLen(p)
		b = append(b, `{"frame_type":"padding","raw":{`...)
		b = appendUintField(b, "payload_length", uint64(n+1), true)
		return append(b, "}}"...), n, nil
	case t == wire.FrameTypePing:
		return append(b, `{"frame_type":"ping"}`...), 0, nil
	case t == wire.FrameTypeHandshakeDone:
		return append(b, `{"frame_type":"handshake_done"}`...), 0, nil
	case t == wire.FrameTypeImmediateAck:
		return append(b, `{"frame_type":"immediate_ack"}`...), 0, nil
	case t == wire.FrameTypeAck || t == wire.FrameTypeAckECN:
		f, n, err := wire.ParseAckFrame(t, p, s.ranges[:0])
		if err != nil {
			return b, 0, err
		}
		s.ranges = f.Ranges[:0]
		return appendAckFrame(b, &f, exp), n, nil
	case t == wire.FrameTypeCrypto:
		f, n, err := wire.ParseCryptoFrame(p)
		b = append(b, `{"frame_type":"crypto"`...)
		b = appendUintField(b, "offset", f.Offset, false)
		return appendRawLength(b, len(f.Data)), n, err
	case t.IsStream():
		f, n, err := wire.ParseStreamFrame(t, p)
		b = append(b, `{"frame_type":"stream"`...)
		b = appendUintField(b, "stream_id", f.StreamID, false)
		b = appendUintField(b, "offset", f.Offset, false)
		if f.Fin {
			b = append(b, `,"fin":true`...)
		}
		return appendRawLength(b, len(f.Data)), n, err
	case t == wire.FrameTypeResetStream:
		f, n, err := wire.ParseResetStreamFrame(p)
		b = append(b, `{"frame_type":"reset_stream"`...)
		b = appendUintField(b, "stream_id", f.StreamID, false)
		b = appendApplicationError(b, f.ErrorCode)
		b = appendUintField(b, "final_size", f.FinalSize, false)
		return append(b, '}'), n, err
	case t == wire.FrameTypeStopSending:
		f, n, err := wire.ParseStopSendingFrame(p)
		b = append(b, `{"frame_type":"stop_sending"`...)
		b = appendUintField(b, "stream_id", f.StreamID, false)
		b = appendApplicationError(b, f.ErrorCode)
		return append(b, '}'), n, err
	case t == wire.FrameTypeNewToken:
		f, n, err := wire.ParseNewTokenFrame(p)
		b = append(b, `{"frame_type":"new_token","token":{"raw":{`...)
		b = appendUintField(b, "length", uint64(len(f.Token)), true)
		return append(b, "}}}"...), n, err
	case t == wire.FrameTypeMaxData:
		f, n, err := wire.ParseMaxDataFrame(p)
		return appendLimitFrame(b, "max_data", "maximum", false, 0, f.MaximumData), n, err
	case t == wire.FrameTypeMaxStreamData:
		f, n, err := wire.ParseMaxStreamDataFrame(p)
		return appendLimitFrame(b, "max_stream_data", "maximum", true, f.StreamID, f.MaximumStreamData), n, err
	case t == wire.FrameTypeDataBlocked:
		f, n, err := wire.ParseDataBlockedFrame(p)
		return appendLimitFrame(b, "data_blocked", "limit", false, 0, f.MaximumData), n, err
	case t == wire.FrameTypeStreamDataBlocked:
		f, n, err := wire.ParseStreamDataBlockedFrame(p)
		return appendLimitFrame(b, "stream_data_blocked", "limit", true, f.StreamID, f.MaximumStreamData), n, err
	case t == wire.FrameTypeMaxStreamsBidi || t == wire.FrameTypeMaxStreamsUni:
		f, n, err := wire.ParseMaxStreamsFrame(t, p)
		return appendStreamsFrame(b, "max_streams", "maximum", f.Uni, f.MaximumStreams), n, err
	case t == wire.FrameTypeStreamsBlockedBidi || t == wire.FrameTypeStreamsBlockedUni:
		f, n, err := wire.ParseStreamsBlockedFrame(t, p)
		return appendStreamsFrame(b, "streams_blocked", "limit", f.Uni, f.MaximumStreams), n, err
	case t == wire.FrameTypeNewConnectionID:
		f, n, err := wire.ParseNewConnectionIDFrame(p)
		b = append(b, `{"frame_type":"new_connection_id"`...)
		b = appendUintField(b, "sequence_number", f.SequenceNumber, false)
		b = appendUintField(b, "retire_prior_to", f.RetirePriorTo, false)
		b = appendUintField(b, "connection_id_length", uint64(f.ConnectionID.Len()), false)
		b = appendHexField(b, "connection_id", f.ConnectionID.Bytes())
		b = appendHexField(b, "stateless_reset_token", f.StatelessResetToken[:])
		return append(b, '}'), n, err
	case t == wire.FrameTypeRetireConnectionID:
		f, n, err := wire.ParseRetireConnectionIDFrame(p)
		b = append(b, `{"frame_type":"retire_connection_id"`...)
		b = appendUintField(b, "sequence_number", f.SequenceNumber, false)
		return append(b, '}'), n, err
	case t == wire.FrameTypePathChallenge:
		f, n, err := wire.ParsePathChallengeFrame(p)
		b = append(b, `{"frame_type":"path_challenge"`...)
		b = appendHexField(b, "data", f.Data[:])
		return append(b, '}'), n, err
	case t == wire.FrameTypePathResponse:
		f, n, err := wire.ParsePathResponseFrame(p)
		b = append(b, `{"frame_type":"path_response"`...)
		b = appendHexField(b, "data", f.Data[:])
		return append(b, '}'), n, err
	case t == wire.FrameTypeConnectionClose || t == wire.FrameTypeConnectionCloseApp:
		f, n, err := wire.ParseConnectionCloseFrame(t, p)
		return appendCloseFrame(b, &f), n, err
	case t == wire.FrameTypeDatagram || t == wire.FrameTypeDatagramLen:
		f, n, err := wire.ParseDatagramFrame(t, p)
		b = append(b, `{"frame_type":"datagram"`...)
		return appendRawLength(b, len(f.Data)), n, err
	case t == wire.FrameTypeAckFrequency:
		// draft-ietf-quic-ack-frequency-14 §4; qlog has no definition
		// of its own yet: the frame's fields by their names.
		f, n, err := wire.ParseAckFrequencyFrame(p)
		b = append(b, `{"frame_type":"ack_frequency"`...)
		b = appendUintField(b, "sequence_number", f.SequenceNumber, false)
		b = appendUintField(b, "ack_eliciting_threshold", f.AckElicitingThreshold, false)
		b = appendMillisField(b, "request_max_ack_delay", f.RequestedMaxAckDelay)
		b = appendUintField(b, "reordering_threshold", f.ReorderingThreshold, false)
		return append(b, '}'), n, err
	}
	// §8.13.22: the type is unknown; the connection closed with
	// FRAME_ENCODING_ERROR and nothing after it can be parsed.
	b = append(b, `{"frame_type":"unknown"`...)
	b = appendUintField(b, "frame_type_bytes", uint64(t), false)
	return append(b, '}'), 0, errUnknownFrame
}

// errUnknownFrame ends the frame list at a frame type qlog cannot skip.
var errUnknownFrame = errors.New("qlog: unknown frame type")

// appendAckFrame appends an ACK frame (§8.13.3): acked_ranges from the
// lowest, a single packet as [n], and the ECN counts when present.
func appendAckFrame(b []byte, f *wire.AckFrame, exp uint8) []byte {
	b = append(b, `{"frame_type":"ack"`...)
	delay := time.Duration(0)
	if f.AckDelay < 1<<40 && exp <= 20 {
		delay = time.Duration(f.AckDelay<<exp) * time.Microsecond
	}
	b = appendMillisField(b, "ack_delay", delay)
	b = append(b, `,"acked_ranges":[`...)
	for i := len(f.Ranges) - 1; i >= 0; i-- {
		r := f.Ranges[i]
		b = append(b, '[')
		b = strconv.AppendUint(b, uint64(r.Smallest), 10)
		if r.Largest != r.Smallest {
			b = append(b, ',')
			b = strconv.AppendUint(b, uint64(r.Largest), 10)
		}
		b = append(b, ']')
		if i > 0 {
			b = append(b, ',')
		}
	}
	b = append(b, ']')
	if f.HasECN {
		b = appendUintField(b, "ect1", f.ECN.ECT1, false)
		b = appendUintField(b, "ect0", f.ECN.ECT0, false)
		b = appendUintField(b, "ce", f.ECN.CE, false)
	}
	return append(b, '}')
}

// appendLimitFrame appends MAX_DATA, MAX_STREAM_DATA, DATA_BLOCKED or
// STREAM_DATA_BLOCKED (§8.13.10 to §8.13.14).
func appendLimitFrame(b []byte, name, field string, hasStream bool, id, v uint64) []byte {
	b = append(b, `{"frame_type":"`...)
	b = append(b, name...)
	b = append(b, '"')
	if hasStream {
		b = appendUintField(b, "stream_id", id, false)
	}
	b = appendUintField(b, field, v, false)
	return append(b, '}')
}

// appendStreamsFrame appends MAX_STREAMS or STREAMS_BLOCKED (§8.13.12,
// §8.13.15).
func appendStreamsFrame(b []byte, name, field string, uni bool, v uint64) []byte {
	b = append(b, `{"frame_type":"`...)
	b = append(b, name...)
	b = append(b, `","stream_type":"`...)
	if uni {
		b = append(b, "unidirectional"...)
	} else {
		b = append(b, "bidirectional"...)
	}
	b = append(b, '"')
	b = appendUintField(b, field, v, false)
	return append(b, '}')
}

// appendCloseFrame appends CONNECTION_CLOSE (§8.13.20).
func appendCloseFrame(b []byte, f *wire.ConnectionCloseFrame) []byte {
	b = append(b, `{"frame_type":"connection_close","error_space":"`...)
	if f.Application {
		b = append(b, `application"`...)
		b = appendApplicationError(b, f.ErrorCode)
	} else {
		b = append(b, `transport","error":"`...)
		code := wire.TransportErrorCode(f.ErrorCode)
		alert, isCrypto := code.TLSAlert()
		switch {
		case isCrypto:
			// §8.13.26: crypto_error_0x1XX.
			b = append(b, "crypto_error_0x1"...)
			b = hex.AppendEncode(b, []byte{alert})
			b = append(b, '"')
		case code <= wire.NoViablePath:
			b = appendLower(b, code.String())
			b = append(b, '"')
		default:
			b = append(b, `unknown"`...)
			b = appendUintField(b, "error_code", f.ErrorCode, false)
		}
		b = appendUintField(b, "trigger_frame_type", uint64(f.FrameType), false)
	}
	if len(f.ReasonPhrase) > 0 {
		b = append(b, `,"reason":`...)
		b = appendString(b, string(f.ReasonPhrase))
	}
	return append(b, '}')
}

// appendApplicationError appends an application error code, which qlog
// cannot name (§8.13.25).
func appendApplicationError(b []byte, code uint64) []byte {
	b = append(b, `,"error":"unknown"`...)
	return appendUintField(b, "error_code", code, false)
}

// appendRawLength appends `,"raw":{"length":n}}`, closing the frame: the
// length of a frame's data, which §8.13.7 and §8.13.9 put in raw.length.
func appendRawLength(b []byte, n int) []byte {
	b = append(b, `,"raw":{`...)
	b = appendUintField(b, "length", uint64(n), true)
	return append(b, "}}"...)
}

// appendHexField appends `,"name":"<hex>"`.
func appendHexField(b []byte, name string, v []byte) []byte {
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":"`...)
	b = hex.AppendEncode(b, v)
	return append(b, '"')
}

// appendLower appends s in lower case; s is ASCII (an RFC error name).
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}
