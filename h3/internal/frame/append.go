package frame

// Appenders for every frame this package knows, RFC 9114 §7.2. Each
// appends the whole frame — Type (i), Length (i), payload — to b and returns
// the extended slice; none allocates beyond growing b. Identifiers must be
// at most MaxVarint.

// AppendFrameHeader appends the Type and Length of a frame whose payload
// the caller appends next, e.g. a field section that qpack encodes in place
// or DATA written straight from a body.
func AppendFrameHeader(b []byte, t Type, length uint64) []byte {
	return appendVarint(appendVarint(b, uint64(t)), length)
}

// FrameHeaderLen is the size of the Type and Length fields of a frame.
func FrameHeaderLen(t Type, length uint64) int {
	return varintLen(uint64(t)) + varintLen(length)
}

// AppendFrame appends a frame of any type with the given payload; use it for
// reserved (greasing) types and extensions.
func AppendFrame(b []byte, t Type, payload []byte) []byte {
	return append(AppendFrameHeader(b, t, uint64(len(payload))), payload...)
}

// AppendData appends a DATA frame (§7.2.1).
func AppendData(b, data []byte) []byte { return AppendFrame(b, TypeData, data) }

// AppendHeaders appends a HEADERS frame (§7.2.2) carrying an encoded field
// section.
func AppendHeaders(b, fieldSection []byte) []byte {
	return AppendFrame(b, TypeHeaders, fieldSection)
}

// AppendCancelPush appends a CANCEL_PUSH frame (§7.2.3).
func AppendCancelPush(b []byte, pushID uint64) []byte {
	return appendVarint(AppendFrameHeader(b, TypeCancelPush, uint64(varintLen(pushID))), pushID)
}

// AppendSettings appends a SETTINGS frame (§7.2.4) with the non-default
// values of s and then s.Extra.
func AppendSettings(b []byte, s *Settings) []byte {
	return s.appendPayload(AppendFrameHeader(b, TypeSettings, s.payloadLen()))
}

// AppendSettingsPayload appends the payload of a SETTINGS frame with s:
// what a client keeps of a server's SETTINGS for 0-RTT (RFC 9114
// §7.2.4.2), which ParseSettings reads back.
func AppendSettingsPayload(b []byte, s *Settings) []byte { return s.appendPayload(b) }

// AppendPushPromise appends a PUSH_PROMISE frame (§7.2.5). skiff does not
// push; this exists for tests of the client's error handling.
func AppendPushPromise(b []byte, pushID uint64, fieldSection []byte) []byte {
	b = AppendFrameHeader(b, TypePushPromise, uint64(varintLen(pushID)+len(fieldSection)))
	return append(appendVarint(b, pushID), fieldSection...)
}

// AppendGoAway appends a GOAWAY frame (§7.2.6) with a stream ID (from a
// server) or a push ID (from a client).
func AppendGoAway(b []byte, id uint64) []byte {
	return appendVarint(AppendFrameHeader(b, TypeGoAway, uint64(varintLen(id))), id)
}

// AppendMaxPushID appends a MAX_PUSH_ID frame (§7.2.7).
func AppendMaxPushID(b []byte, pushID uint64) []byte {
	return appendVarint(AppendFrameHeader(b, TypeMaxPushID, uint64(varintLen(pushID))), pushID)
}

// AppendPriorityUpdate appends a PRIORITY_UPDATE frame (RFC 9218 §7.2) of
// type t (TypePriorityUpdate or TypePriorityUpdatePush) for element id.
func AppendPriorityUpdate(b []byte, t Type, id uint64, fieldValue []byte) []byte {
	b = AppendFrameHeader(b, t, uint64(varintLen(id)+len(fieldValue)))
	return append(appendVarint(b, id), fieldValue...)
}

// AppendStreamType appends the header of a unidirectional stream (§6.2).
func AppendStreamType(b []byte, t StreamType) []byte { return appendVarint(b, uint64(t)) }

// AppendPushStreamHeader appends the header of a push stream: its type and
// the push ID it fulfils (§6.2.2).
func AppendPushStreamHeader(b []byte, pushID uint64) []byte {
	return appendVarint(appendVarint(b, uint64(StreamTypePush)), pushID)
}
