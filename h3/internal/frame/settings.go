package frame

// Setting identifiers.
const (
	SettingQPACKMaxTableCapacity uint64 = 0x01 // RFC 9204 §5
	SettingMaxFieldSectionSize   uint64 = 0x06 // RFC 9114 §7.2.4.1
	SettingQPACKBlockedStreams   uint64 = 0x07 // RFC 9204 §5
	SettingEnableConnectProtocol uint64 = 0x08 // RFC 9220 §3
	SettingH3Datagram            uint64 = 0x33 // RFC 9297 §2.1.1
)

// MaxSettingsPayload bounds the SETTINGS frame payload the Reader accepts.
// Five defined settings take at most 50 bytes; the rest of the room is for
// greasing and extensions. A larger frame is refused with H3_EXCESSIVE_LOAD
// before any byte of it is buffered.
const MaxSettingsPayload = 4096

// maxTrackedUnknown bounds the unknown identifiers remembered for duplicate
// detection, so the check needs no heap: RFC 9114 §7.2.4 only says a
// receiver MAY treat duplicates as an error.
const maxTrackedUnknown = 64

// Setting is one identifier/value pair of a SETTINGS frame.
type Setting struct {
	ID, Value uint64
}

// Settings holds the values of the settings this package knows. The zero
// value is every setting at its default (RFC 9114 §7.2.4.2): nothing is
// sent for a setting at its zero value, and an absent setting parses as
// zero.
type Settings struct {
	// QPACKMaxTableCapacity and QPACKBlockedStreams are RFC 9204 §5's; the
	// default is 0.
	QPACKMaxTableCapacity uint64
	QPACKBlockedStreams   uint64
	// MaxFieldSectionSize is SETTINGS_MAX_FIELD_SECTION_SIZE; 0 means
	// unlimited, the default (RFC 9114 §7.2.4.1). A peer that advertises 0
	// is recorded as 1: a field section's size is 0 or at least 32 (§4.2.2),
	// so the two limits accept exactly the same sections.
	MaxFieldSectionSize uint64
	// EnableConnectProtocol is SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 9220).
	EnableConnectProtocol bool
	// H3Datagram is SETTINGS_H3_DATAGRAM = 1 (RFC 9297).
	H3Datagram bool
	// Extra settings to send after the known ones, typically a greased one
	// from GreaseSetting. Parsing never fills it: unknown settings are
	// ignored (RFC 9114 §7.2.4).
	Extra []Setting
}

// appendPayload appends the SETTINGS payload of s.
func (s *Settings) appendPayload(b []byte) []byte {
	if s.QPACKMaxTableCapacity != 0 {
		b = appendVarint(appendVarint(b, SettingQPACKMaxTableCapacity), s.QPACKMaxTableCapacity)
	}
	if s.MaxFieldSectionSize != 0 {
		b = appendVarint(appendVarint(b, SettingMaxFieldSectionSize), s.MaxFieldSectionSize)
	}
	if s.QPACKBlockedStreams != 0 {
		b = appendVarint(appendVarint(b, SettingQPACKBlockedStreams), s.QPACKBlockedStreams)
	}
	if s.EnableConnectProtocol {
		b = appendVarint(appendVarint(b, SettingEnableConnectProtocol), 1)
	}
	if s.H3Datagram {
		b = appendVarint(appendVarint(b, SettingH3Datagram), 1)
	}
	for _, e := range s.Extra {
		b = appendVarint(appendVarint(b, e.ID), e.Value)
	}
	return b
}

// payloadLen is the length appendPayload will produce.
func (s *Settings) payloadLen() uint64 {
	n := 0
	if s.QPACKMaxTableCapacity != 0 {
		n += 1 + varintLen(s.QPACKMaxTableCapacity)
	}
	if s.MaxFieldSectionSize != 0 {
		n += 1 + varintLen(s.MaxFieldSectionSize)
	}
	if s.QPACKBlockedStreams != 0 {
		n += 1 + varintLen(s.QPACKBlockedStreams)
	}
	if s.EnableConnectProtocol {
		n += 2
	}
	if s.H3Datagram {
		n += 2
	}
	for _, e := range s.Extra {
		n += varintLen(e.ID) + varintLen(e.Value)
	}
	return uint64(n)
}

// ParseSettings parses a SETTINGS frame payload (RFC 9114 §7.2.4). Errors
// are connection errors:
//   - a payload that ends inside a setting: H3_FRAME_ERROR (§7.1);
//   - a duplicated identifier: H3_SETTINGS_ERROR (§7.2.4; checked for every
//     known identifier and for the first 64 unknown ones);
//   - an HTTP/2 identifier without an HTTP/3 meaning, 0x02 to 0x05:
//     H3_SETTINGS_ERROR (§7.2.4.1);
//   - ENABLE_CONNECT_PROTOCOL or H3_DATAGRAM other than 0 or 1:
//     H3_SETTINGS_ERROR (RFC 9220 §3, RFC 9297 §2.1.1).
//
// Unknown and reserved identifiers are ignored. It does not allocate unless
// it returns an error.
func ParseSettings(p []byte) (Settings, error) {
	var s Settings
	var seen uint64 // bit i set: known identifier i (all < 64) seen
	var unknown [maxTrackedUnknown]uint64
	nUnknown := 0
	for len(p) > 0 {
		id, n := parseVarint(p)
		if n == 0 {
			return Settings{}, newError(ErrCodeFrameError, "SETTINGS ends inside a setting identifier")
		}
		p = p[n:]
		v, n := parseVarint(p)
		if n == 0 {
			return Settings{}, newError(ErrCodeFrameError, "SETTINGS ends inside a setting value")
		}
		p = p[n:]
		switch id {
		case SettingQPACKMaxTableCapacity, SettingMaxFieldSectionSize, SettingQPACKBlockedStreams,
			SettingEnableConnectProtocol, SettingH3Datagram:
			if seen&(1<<id) != 0 {
				return Settings{}, newError(ErrCodeSettingsError, "duplicate setting identifier")
			}
			seen |= 1 << id
		case 0x02, 0x03, 0x04, 0x05:
			// RFC 9114 §7.2.4.1 and §11.2.2: ENABLE_PUSH, MAX_CONCURRENT_STREAMS,
			// INITIAL_WINDOW_SIZE and MAX_FRAME_SIZE are reserved from HTTP/2.
			return Settings{}, newError(ErrCodeSettingsError, "HTTP/2 setting identifier received")
		default:
			for _, u := range unknown[:nUnknown] {
				if u == id {
					return Settings{}, newError(ErrCodeSettingsError, "duplicate setting identifier")
				}
			}
			if nUnknown < len(unknown) {
				unknown[nUnknown] = id
				nUnknown++
			}
			continue
		}
		switch id {
		case SettingQPACKMaxTableCapacity:
			s.QPACKMaxTableCapacity = v
		case SettingMaxFieldSectionSize:
			s.MaxFieldSectionSize = max(v, 1)
		case SettingQPACKBlockedStreams:
			s.QPACKBlockedStreams = v
		case SettingEnableConnectProtocol:
			if v > 1 {
				return Settings{}, newError(ErrCodeSettingsError, "SETTINGS_ENABLE_CONNECT_PROTOCOL is neither 0 nor 1")
			}
			s.EnableConnectProtocol = v == 1
		case SettingH3Datagram:
			if v > 1 {
				return Settings{}, newError(ErrCodeSettingsError, "SETTINGS_H3_DATAGRAM is neither 0 nor 1")
			}
			s.H3Datagram = v == 1
		}
	}
	return s, nil
}
