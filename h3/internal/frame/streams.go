package frame

// Which frames may appear where: RFC 9114 Table 1 (§7), the control stream
// rules of §6.2.1 and §7.2, and the frame sequence of an HTTP message (§4.1).

// StreamKind is the kind of stream a frame arrived on.
type StreamKind uint8

const (
	StreamControl StreamKind = iota // a control stream (§6.2.1)
	StreamRequest                   // a request stream (§6.1)
	StreamPush                      // a push stream (§6.2.2)
)

// CheckAllowed reports, with an H3_FRAME_UNEXPECTED connection error, a
// frame of type t that RFC 9114 forbids on a stream of the given kind, as
// received by a client (isClient) or a server. It does not know about
// order — SETTINGS only first on the control stream, DATA only after
// HEADERS — which ControlStream and MessageState track. Unknown and
// reserved types are allowed everywhere (§9); HTTP/2 types nowhere
// (§7.2.8). PUSH_PROMISE, which Table 1 allows on a request stream to a
// client, is an H3_ID_ERROR here: skiff never sends MAX_PUSH_ID, so every
// push ID is above the maximum (§7.2.5).
func CheckAllowed(kind StreamKind, t Type, isClient bool) error {
	if isHTTP2Type(t) {
		return newError(ErrCodeFrameUnexpected, "frame type reserved from HTTP/2")
	}
	if !t.known() {
		return nil
	}
	if t == TypePriorityUpdate || t == TypePriorityUpdatePush {
		// RFC 9218 §7.2: PRIORITY_UPDATE only on the client's control
		// stream; "Receiving a PRIORITY_UPDATE frame on a stream other than
		// the client control stream MUST be treated as a connection error
		// of type H3_FRAME_UNEXPECTED", and so is one a client receives.
		if kind != StreamControl || isClient {
			return newError(ErrCodeFrameUnexpected, "PRIORITY_UPDATE not on the client's control stream")
		}
		return nil
	}
	switch kind {
	case StreamControl:
		switch t {
		case TypeData:
			return newError(ErrCodeFrameUnexpected, "DATA on the control stream") // §7.2.1
		case TypeHeaders:
			return newError(ErrCodeFrameUnexpected, "HEADERS on the control stream") // §7.2.2
		case TypePushPromise:
			return newError(ErrCodeFrameUnexpected, "PUSH_PROMISE on the control stream") // §7.2.5
		case TypeMaxPushID:
			if isClient {
				return newError(ErrCodeFrameUnexpected, "MAX_PUSH_ID received by a client") // §7.2.7
			}
		}
		return nil
	case StreamRequest:
		switch t {
		case TypeData, TypeHeaders:
			return nil
		case TypePushPromise:
			if !isClient {
				return newError(ErrCodeFrameUnexpected, "PUSH_PROMISE received by a server") // §7.2.5
			}
			// §7.2.5: a push ID above the client's MAX_PUSH_ID is
			// H3_ID_ERROR, and a skiff client never sends MAX_PUSH_ID.
			return newError(ErrCodeIDError, "PUSH_PROMISE but no MAX_PUSH_ID was sent")
		case TypeCancelPush:
			return newError(ErrCodeFrameUnexpected, "CANCEL_PUSH on a request stream") // §7.2.3
		case TypeSettings:
			return newError(ErrCodeFrameUnexpected, "SETTINGS on a request stream") // §7.2.4
		case TypeGoAway:
			return newError(ErrCodeFrameUnexpected, "GOAWAY on a request stream") // §7.2.6
		case TypeMaxPushID:
			return newError(ErrCodeFrameUnexpected, "MAX_PUSH_ID on a request stream") // §7.2.7
		}
	case StreamPush:
		switch t {
		case TypeData, TypeHeaders:
			return nil
		}
		// §4.1: PUSH_PROMISE on a push stream is H3_FRAME_UNEXPECTED; the
		// control frames are so by Table 1.
		return newError(ErrCodeFrameUnexpected, "frame not allowed on a push stream")
	}
	return nil
}

// ControlStream checks the frames of the peer's control stream (RFC 9114
// §6.2.1) in order. Feed it every frame Next returns for that stream.
//
// skiff does not use server push: a client never sends MAX_PUSH_ID and a
// server never sends PUSH_PROMISE, so every CANCEL_PUSH names a push ID
// above the maximum (client side) or one never promised (server side), both
// H3_ID_ERROR by §7.2.3.
type ControlStream struct {
	// IsClient is true when we are the client, i.e. the peer is a server.
	IsClient bool

	// Settings is the peer's SETTINGS, valid once HaveSettings is true.
	Settings     Settings
	HaveSettings bool

	goAwaySeen    bool
	goAwayID      uint64
	maxPushIDSeen bool
	maxPushID     uint64
}

// OnFrame checks f, read from the peer's control stream, and records its
// effect. Errors are connection errors.
func (c *ControlStream) OnFrame(f *Frame) error {
	if !c.HaveSettings {
		// §6.2.1: "If the first frame of the control stream is any other
		// frame type, this MUST be treated as a connection error of type
		// H3_MISSING_SETTINGS." An unknown frame before SETTINGS counts.
		if f.Type != TypeSettings || f.Skipped > 0 {
			return newError(ErrCodeMissingSettings, "first frame on the control stream is not SETTINGS")
		}
		c.Settings, c.HaveSettings = f.Settings, true
		return nil
	}
	if err := CheckAllowed(StreamControl, f.Type, c.IsClient); err != nil {
		return err
	}
	switch f.Type {
	case TypeSettings:
		return newError(ErrCodeFrameUnexpected, "second SETTINGS frame") // §7.2.4
	case TypeGoAway:
		// §7.2.6: from a server, a client-initiated bidirectional stream ID.
		if c.IsClient && f.ID%4 != 0 {
			return newError(ErrCodeIDError, "GOAWAY carries a stream ID that is not client-initiated bidirectional")
		}
		// §5.2: identifiers MUST NOT increase.
		if c.goAwaySeen && f.ID > c.goAwayID {
			return newError(ErrCodeIDError, "GOAWAY identifier larger than a previous one")
		}
		c.goAwaySeen, c.goAwayID = true, f.ID
	case TypeMaxPushID:
		// §7.2.7: MAX_PUSH_ID cannot reduce the maximum push ID.
		if c.maxPushIDSeen && f.ID < c.maxPushID {
			return newError(ErrCodeIDError, "MAX_PUSH_ID smaller than a previous one")
		}
		c.maxPushIDSeen, c.maxPushID = true, f.ID
	case TypeCancelPush:
		return newError(ErrCodeIDError, "CANCEL_PUSH for a push ID that was never allowed or promised")
	case TypePriorityUpdate:
		// RFC 9218 §7.2: "If a server receives a PRIORITY_UPDATE
		// (type=0xF0700) for a stream ID that is not a request stream,
		// this MUST be treated as a connection error of type H3_ID_ERROR."
		if f.ID%4 != 0 {
			return newError(ErrCodeIDError, "PRIORITY_UPDATE for a stream that is not a request stream")
		}
	case TypePriorityUpdatePush:
		// RFC 9218 §7.2: a push ID "that has not yet been promised" is
		// H3_ID_ERROR, and a skiff server promises none.
		return newError(ErrCodeIDError, "PRIORITY_UPDATE for a push that was never promised")
	}
	return nil
}

// GoAway returns the identifier of the last GOAWAY received: a stream ID
// from a server, a push ID from a client.
func (c *ControlStream) GoAway() (id uint64, ok bool) { return c.goAwayID, c.goAwaySeen }

// MaxPushID returns the largest MAX_PUSH_ID received (servers only).
func (c *ControlStream) MaxPushID() (id uint64, ok bool) { return c.maxPushID, c.maxPushIDSeen }

// ErrClosedCriticalStream is the connection error for a control stream (or
// QPACK stream) that the peer closed or reset (RFC 9114 §6.2.1, RFC 9204
// §4.2).
var ErrClosedCriticalStream = &Error{Code: ErrCodeClosedCriticalStream, Reason: "critical stream closed"}

// UniStreams checks the types of the peer's unidirectional streams (RFC
// 9114 §6.2, RFC 9204 §4.2).
type UniStreams struct {
	// IsClient is true when we are the client.
	IsClient bool
	seen     [4]bool // control, push (unused), encoder, decoder
}

// Accept records a new peer stream of type t. It returns known == false for
// a type we do not implement (reserved ones included): §6.2 says to abort
// reading it, with H3_STREAM_CREATION_ERROR, and never to treat it as a
// connection error. err is a connection error: H3_STREAM_CREATION_ERROR
// for a second control, encoder or decoder stream or a push stream opened
// by a client, H3_ID_ERROR for any push stream opened by a server (skiff
// does not accept pushes).
func (u *UniStreams) Accept(t StreamType) (known bool, err error) {
	switch t {
	case StreamTypePush:
		if !u.IsClient {
			return true, newError(ErrCodeStreamCreationError, "client opened a push stream") // §6.2.2
		}
		// §4.6: a push stream when no MAX_PUSH_ID was sent is H3_ID_ERROR,
		// and a skiff client never sends MAX_PUSH_ID.
		return true, newError(ErrCodeIDError, "push stream but no MAX_PUSH_ID was sent")
	case StreamTypeControl, StreamTypeQPACKEncoder, StreamTypeQPACKDecoder:
		if u.seen[t] {
			return true, newError(ErrCodeStreamCreationError, "second "+t.String()+" stream")
		}
		u.seen[t] = true
		return true, nil
	}
	return false, nil
}

// MessageState checks the sequence of frames of one HTTP message exchange on
// a request or push stream (RFC 9114 §4.1): HEADERS, then DATA, then an
// optional trailing HEADERS; interim (1xx) responses before the final one.
// Feed it the type of each frame Next returns after CheckAllowed accepts it.
type MessageState struct {
	state  uint8
	tunnel bool
}

const (
	msgWantHeaders uint8 = iota // nothing yet, or after an interim response
	msgBody                     // after the header section
	msgDone                     // after the trailer section
)

// OnFrame advances the state with a frame of type t. An invalid sequence is
// a connection error of type H3_FRAME_UNEXPECTED: DATA before HEADERS, or
// HEADERS or DATA after the trailer section (§4.1); any HEADERS after a
// CONNECT tunnel is set up (§4.4).
func (m *MessageState) OnFrame(t Type) error {
	switch t {
	case TypeData:
		switch m.state {
		case msgWantHeaders:
			return newError(ErrCodeFrameUnexpected, "DATA before HEADERS")
		case msgDone:
			return newError(ErrCodeFrameUnexpected, "DATA after the trailer section")
		}
	case TypeHeaders:
		switch {
		case m.tunnel:
			return newError(ErrCodeFrameUnexpected, "HEADERS on a CONNECT tunnel")
		case m.state == msgDone:
			return newError(ErrCodeFrameUnexpected, "HEADERS after the trailer section")
		}
		m.state++
	}
	return nil
}

// Interim says that the header section just accepted was an interim (1xx)
// response, after which another header section comes (§4.1).
func (m *MessageState) Interim() {
	if m.state == msgBody {
		m.state = msgWantHeaders
	}
}

// Tunnel says that the header sections just accepted set up a CONNECT
// tunnel: from now on only DATA (and unknown frames) may follow (§4.4).
func (m *MessageState) Tunnel() { m.tunnel = true }

// InTrailers reports whether the last HEADERS accepted was a trailer
// section.
func (m *MessageState) InTrailers() bool { return m.state == msgDone }

// HeadersReceived reports whether the header section has been accepted, so
// that the stream ending now ends a complete message (§4.1).
func (m *MessageState) HeadersReceived() bool { return m.state != msgWantHeaders }
