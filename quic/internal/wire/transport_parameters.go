package wire

import (
	"encoding/binary"
	"math"
	"net/netip"
	"time"
)

// Transport parameter identifiers (RFC 9000 §18.2; RFC 9221 §3; RFC 9368
// §3; RFC 9287 §3; draft-ietf-quic-ack-frequency-14 §3, provisional).
const (
	tpOriginalDestinationConnectionID = 0x00
	tpMaxIdleTimeout                  = 0x01
	tpStatelessResetToken             = 0x02
	tpMaxUDPPayloadSize               = 0x03
	tpInitialMaxData                  = 0x04
	tpInitialMaxStreamDataBidiLocal   = 0x05
	tpInitialMaxStreamDataBidiRemote  = 0x06
	tpInitialMaxStreamDataUni         = 0x07
	tpInitialMaxStreamsBidi           = 0x08
	tpInitialMaxStreamsUni            = 0x09
	tpAckDelayExponent                = 0x0a
	tpMaxAckDelay                     = 0x0b
	tpDisableActiveMigration          = 0x0c
	tpPreferredAddress                = 0x0d
	tpActiveConnectionIDLimit         = 0x0e
	tpInitialSourceConnectionID       = 0x0f
	tpRetrySourceConnectionID         = 0x10
	tpVersionInformation              = 0x11
	tpMaxDatagramFrameSize            = 0x20
	tpGreaseQUICBit                   = 0x2ab2
	tpMinAckDelay                     = 0xff04de1b
)

// Defaults and limits of RFC 9000 §18.2.
const (
	DefaultMaxUDPPayloadSize       = 65527
	MinMaxUDPPayloadSize           = 1200
	DefaultAckDelayExponent        = 3
	MaxAckDelayExponent            = 20
	DefaultMaxAckDelay             = 25 * time.Millisecond
	MaxMaxAckDelay                 = (1<<14 - 1) * time.Millisecond
	DefaultActiveConnectionIDLimit = 2
)

// TransportParameters are the transport parameters one endpoint declares to
// the other during the handshake (RFC 9000 §7.4, §18). Pointer fields are
// nil when the parameter is absent.
type TransportParameters struct {
	OriginalDestinationConnectionID *ConnectionID                 // server only
	MaxIdleTimeout                  time.Duration                 // 0: no idle timeout
	StatelessResetToken             *[StatelessResetTokenLen]byte // server only
	MaxUDPPayloadSize               uint64
	InitialMaxData                  uint64
	InitialMaxStreamDataBidiLocal   uint64
	InitialMaxStreamDataBidiRemote  uint64
	InitialMaxStreamDataUni         uint64
	InitialMaxStreamsBidi           uint64
	InitialMaxStreamsUni            uint64
	AckDelayExponent                uint8
	MaxAckDelay                     time.Duration // whole milliseconds
	DisableActiveMigration          bool
	PreferredAddress                *PreferredAddress // server only
	ActiveConnectionIDLimit         uint64
	InitialSourceConnectionID       *ConnectionID
	RetrySourceConnectionID         *ConnectionID // server only
	// MaxDatagramFrameSize enables DATAGRAM frames when not zero
	// (RFC 9221 §3).
	MaxDatagramFrameSize uint64
	VersionInformation   *VersionInformation // RFC 9368 §3
	GreaseQUICBit        bool                // RFC 9287 §3
	// MinAckDelay, when HasMinAckDelay, is the min_ack_delay of
	// draft-ietf-quic-ack-frequency-14 §3 (sent in microseconds): the
	// sender takes ACK_FREQUENCY and IMMEDIATE_ACK frames, and will delay
	// an acknowledgment no less than this.
	MinAckDelay    time.Duration
	HasMinAckDelay bool
}

// PreferredAddress is the server's preferred_address (RFC 9000 §18.2). An
// address family the server does not offer is the zero netip.AddrPort,
// sent as an all-zero address and port.
type PreferredAddress struct {
	IPv4                netip.AddrPort
	IPv6                netip.AddrPort
	ConnectionID        ConnectionID // 1 to 20 bytes
	StatelessResetToken [StatelessResetTokenLen]byte
}

// VersionInformation is the version_information transport parameter
// (RFC 9368 §3).
type VersionInformation struct {
	ChosenVersion     Version
	AvailableVersions []Version
}

// DefaultTransportParameters returns the values an endpoint assumes for
// parameters its peer left out (RFC 9000 §18.2); start from it to build
// parameters to send.
func DefaultTransportParameters() TransportParameters {
	return TransportParameters{
		MaxUDPPayloadSize:       DefaultMaxUDPPayloadSize,
		AckDelayExponent:        DefaultAckDelayExponent,
		MaxAckDelay:             DefaultMaxAckDelay,
		ActiveConnectionIDLimit: DefaultActiveConnectionIDLimit,
	}
}

// maxIdleTimeoutMillis caps max_idle_timeout so that it fits a
// time.Duration; such a timeout is infinite in practice.
const maxIdleTimeoutMillis = math.MaxInt64 / int64(time.Millisecond)

// ParseTransportParameters parses the transport parameters sent by sender
// and checks them as RFC 9000 §7.3, §7.4 and §18.2 require; every violation
// is a TRANSPORT_PARAMETER_ERROR. Parameters not sent take their defaults;
// unknown parameters are ignored (§7.4.2). The result does not alias b.
func ParseTransportParameters(b []byte, sender Role) (TransportParameters, error) {
	p := DefaultTransportParameters()
	if err := p.parse(b, sender); err != nil {
		return TransportParameters{}, err
	}
	return p, nil
}

func (p *TransportParameters) parse(b []byte, sender Role) error {
	var seen uint64 // bit id: known parameter id seen; bit 63: grease_quic_bit; bit 62: min_ack_delay
	for len(b) > 0 {
		id, n, err := ParseVarint(b)
		if err != nil {
			return transportParameterError("truncated parameter ID")
		}
		b = b[n:]
		length, n, err := ParseVarint(b)
		if err != nil || length > uint64(len(b)-n) {
			return transportParameterError("truncated parameter")
		}
		val := b[n : n+int(length)]
		b = b[n+int(length):]

		// Duplicates are detected among the parameters we know; telling
		// unknown ones apart would take memory the peer controls.
		bit := -1
		switch {
		case id <= tpVersionInformation || id == tpMaxDatagramFrameSize:
			bit = int(id)
		case id == tpGreaseQUICBit:
			bit = 63
		case id == tpMinAckDelay:
			bit = 62
		}
		if bit >= 0 {
			// RFC 9000 §7.4: a parameter sent twice is an error.
			if seen&(1<<bit) != 0 {
				return transportParameterError("duplicate parameter")
			}
			seen |= 1 << bit
		}
		if err := p.parseOne(id, val, sender); err != nil {
			return err
		}
	}
	// RFC 9000 §7.3: initial_source_connection_id is mandatory, and so is
	// original_destination_connection_id from a server.
	if p.InitialSourceConnectionID == nil {
		return transportParameterError("missing initial_source_connection_id")
	}
	if sender == RoleServer && p.OriginalDestinationConnectionID == nil {
		return transportParameterError("missing original_destination_connection_id")
	}
	// draft-ietf-quic-ack-frequency-14 §3: min_ack_delay above
	// max_ack_delay is an error.
	if p.HasMinAckDelay && p.MinAckDelay > p.MaxAckDelay {
		return transportParameterError("min_ack_delay above max_ack_delay")
	}
	// RFC 9000 §18.2: a server using zero-length connection IDs must not
	// offer a preferred address.
	if p.PreferredAddress != nil && p.InitialSourceConnectionID.Len() == 0 {
		return transportParameterError("preferred_address with a zero-length connection ID")
	}
	return nil
}

func (p *TransportParameters) parseOne(id uint64, val []byte, sender Role) error {
	switch id {
	case tpOriginalDestinationConnectionID, tpStatelessResetToken,
		tpPreferredAddress, tpRetrySourceConnectionID:
		// RFC 9000 §18.2: server-only parameters.
		if sender == RoleClient {
			return transportParameterError("server-only parameter sent by a client")
		}
	}
	var err error
	switch id {
	case tpOriginalDestinationConnectionID:
		p.OriginalDestinationConnectionID, err = parseCIDParameter(val)
	case tpInitialSourceConnectionID:
		p.InitialSourceConnectionID, err = parseCIDParameter(val)
	case tpRetrySourceConnectionID:
		p.RetrySourceConnectionID, err = parseCIDParameter(val)
	case tpStatelessResetToken:
		if len(val) != StatelessResetTokenLen {
			return transportParameterError("stateless_reset_token is not 16 bytes")
		}
		p.StatelessResetToken = new([StatelessResetTokenLen]byte)
		copy(p.StatelessResetToken[:], val)
	case tpDisableActiveMigration, tpGreaseQUICBit:
		if len(val) != 0 {
			return transportParameterError("non-empty flag parameter")
		}
		if id == tpGreaseQUICBit {
			p.GreaseQUICBit = true
		} else {
			p.DisableActiveMigration = true
		}
	case tpPreferredAddress:
		p.PreferredAddress, err = parsePreferredAddress(val)
	case tpVersionInformation:
		p.VersionInformation, err = parseVersionInformation(val, sender)
	default:
		return p.parseInteger(id, val)
	}
	return err
}

// parseInteger handles the parameters whose value is one varint, which must
// fill the parameter exactly.
func (p *TransportParameters) parseInteger(id uint64, val []byte) error {
	dst := p.integerField(id)
	if dst == nil && id != tpMaxIdleTimeout && id != tpAckDelayExponent && id != tpMaxAckDelay && id != tpMinAckDelay {
		return nil // RFC 9000 §7.4.2: unknown parameters are ignored.
	}
	v, n, err := ParseVarint(val)
	if err != nil || n != len(val) {
		return transportParameterError("integer parameter length mismatch")
	}
	switch id {
	case tpMaxIdleTimeout:
		p.MaxIdleTimeout = time.Duration(min(v, uint64(maxIdleTimeoutMillis))) * time.Millisecond
	case tpAckDelayExponent:
		if v > MaxAckDelayExponent {
			return transportParameterError("ack_delay_exponent above 20")
		}
		p.AckDelayExponent = uint8(v)
	case tpMaxAckDelay:
		if v >= 1<<14 {
			return transportParameterError("max_ack_delay of 2^14 or more")
		}
		p.MaxAckDelay = time.Duration(v) * time.Millisecond
	case tpMinAckDelay:
		// Microseconds; anything above max_ack_delay's range is an error
		// whatever max_ack_delay is.
		if v >= 1<<14*1000 {
			return transportParameterError("min_ack_delay of 2^14 ms or more")
		}
		p.MinAckDelay, p.HasMinAckDelay = time.Duration(v)*time.Microsecond, true
	case tpMaxUDPPayloadSize:
		if v < MinMaxUDPPayloadSize {
			return transportParameterError("max_udp_payload_size below 1200")
		}
	case tpInitialMaxStreamsBidi, tpInitialMaxStreamsUni:
		// RFC 9000 §4.6.
		if v > MaxStreamCount {
			return transportParameterError("initial_max_streams above 2^60")
		}
	case tpActiveConnectionIDLimit:
		if v < 2 {
			return transportParameterError("active_connection_id_limit below 2")
		}
	}
	if dst != nil {
		*dst = v
	}
	return nil
}

// integerField returns the uint64 field of a plain integer parameter.
func (p *TransportParameters) integerField(id uint64) *uint64 {
	switch id {
	case tpMaxUDPPayloadSize:
		return &p.MaxUDPPayloadSize
	case tpInitialMaxData:
		return &p.InitialMaxData
	case tpInitialMaxStreamDataBidiLocal:
		return &p.InitialMaxStreamDataBidiLocal
	case tpInitialMaxStreamDataBidiRemote:
		return &p.InitialMaxStreamDataBidiRemote
	case tpInitialMaxStreamDataUni:
		return &p.InitialMaxStreamDataUni
	case tpInitialMaxStreamsBidi:
		return &p.InitialMaxStreamsBidi
	case tpInitialMaxStreamsUni:
		return &p.InitialMaxStreamsUni
	case tpActiveConnectionIDLimit:
		return &p.ActiveConnectionIDLimit
	case tpMaxDatagramFrameSize:
		return &p.MaxDatagramFrameSize
	}
	return nil
}

func parseCIDParameter(val []byte) (*ConnectionID, error) {
	cid, err := MakeConnectionID(val)
	if err != nil {
		return nil, transportParameterError("connection ID longer than 20 bytes")
	}
	return &cid, nil
}

// parsePreferredAddress parses RFC 9000 §18.2 Figure 22: IPv4 address and
// port, IPv6 address and port, a length-prefixed connection ID and a
// stateless reset token.
func parsePreferredAddress(val []byte) (*PreferredAddress, error) {
	const fixed = 4 + 2 + 16 + 2 + 1
	if len(val) < fixed {
		return nil, transportParameterError("preferred_address truncated")
	}
	cidLen := int(val[fixed-1])
	if cidLen == 0 || cidLen > MaxConnectionIDLen {
		return nil, transportParameterError("preferred_address connection ID length outside 1..20")
	}
	if len(val) != fixed+cidLen+StatelessResetTokenLen {
		return nil, transportParameterError("preferred_address length mismatch")
	}
	pa := new(PreferredAddress)
	if v4 := val[:6]; !allZero(v4) {
		pa.IPv4 = netip.AddrPortFrom(netip.AddrFrom4([4]byte(v4)), binary.BigEndian.Uint16(v4[4:]))
	}
	if v6 := val[6:24]; !allZero(v6) {
		pa.IPv6 = netip.AddrPortFrom(netip.AddrFrom16([16]byte(v6)), binary.BigEndian.Uint16(v6[16:]))
	}
	pa.ConnectionID, _ = MakeConnectionID(val[fixed : fixed+cidLen])
	copy(pa.StatelessResetToken[:], val[fixed+cidLen:])
	return pa, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// parseVersionInformation parses RFC 9368 §3 and applies its §4 parsing
// rules: no zero version, and a client's Chosen Version must be among its
// Available Versions.
func parseVersionInformation(val []byte, sender Role) (*VersionInformation, error) {
	if len(val) < 4 || len(val)%4 != 0 {
		return nil, transportParameterError("version_information length not a positive multiple of 4")
	}
	list := VersionList(val)
	vi := &VersionInformation{ChosenVersion: list.At(0)}
	if vi.ChosenVersion == 0 {
		return nil, transportParameterError("version_information chosen version is 0")
	}
	available := VersionList(val[4:])
	if available.Len() > 0 {
		vi.AvailableVersions = make([]Version, available.Len())
	}
	for i := range vi.AvailableVersions {
		v := available.At(i)
		if v == 0 {
			return nil, transportParameterError("version_information available version is 0")
		}
		vi.AvailableVersions[i] = v
	}
	if sender == RoleClient && !available.Contains(vi.ChosenVersion) {
		return nil, transportParameterError("version_information chosen version not available")
	}
	return vi, nil
}
