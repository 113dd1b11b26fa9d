package wire

import (
	"encoding/binary"
	"errors"
)

// Version is a QUIC version number.
type Version uint32

// Versions this package can parse and build long headers for.
const (
	Version1 Version = 0x00000001 // RFC 9000
	Version2 Version = 0x6b3343cf // RFC 9369
)

// IsSupported reports whether v is a version whose long headers this package
// understands.
func (v Version) IsSupported() bool { return v == Version1 || v == Version2 }

// IsReserved reports whether v follows the 0x?a?a?a?a pattern reserved to
// exercise version negotiation (RFC 9000 §15).
func (v Version) IsReserved() bool { return v&0x0f0f0f0f == 0x0a0a0a0a }

// PacketType is the type of a QUIC packet, independent of the version's bit
// layout.
type PacketType uint8

// Packet types (RFC 9000 §17).
const (
	PacketInitial PacketType = iota + 1
	Packet0RTT
	PacketHandshake
	PacketRetry
	PacketVersionNegotiation
	Packet1RTT
)

func (t PacketType) String() string {
	switch t {
	case PacketInitial:
		return "Initial"
	case Packet0RTT:
		return "0-RTT"
	case PacketHandshake:
		return "Handshake"
	case PacketRetry:
		return "Retry"
	case PacketVersionNegotiation:
		return "VersionNegotiation"
	case Packet1RTT:
		return "1-RTT"
	}
	return "unknown"
}

// First-byte bits (RFC 9000 §17.2, §17.3.1).
const (
	headerFormLong  = 0x80
	fixedBit        = 0x40
	spinBit         = 0x20
	keyPhaseBit     = 0x04
	longReserved    = 0x0c
	shortReserved   = 0x18
	packetNumberLen = 0x03
)

// Errors for packets that must be dropped without closing the connection
// (RFC 9000 §5.2, §12.2).
var (
	ErrTruncatedHeader    = errors.New("wire: packet header truncated")
	ErrFixedBitZero       = errors.New("wire: fixed bit is zero")
	ErrUnsupportedVersion = errors.New("wire: unsupported QUIC version")
	ErrLengthExceeds      = errors.New("wire: Length field exceeds the datagram")
	ErrEmptyRetryToken    = errors.New("wire: Retry packet without token")
	ErrInvalidVersionList = errors.New("wire: malformed Version Negotiation packet")
	ErrNoSample           = errors.New("wire: packet too short for a header protection sample")
)

// longTypeBits maps a packet type to its two long-header type bits: QUIC v1
// (RFC 9000 §17.2, Table 5) and v2 (RFC 9369 §3.2) use different values.
func longTypeBits(v Version, t PacketType) byte {
	bits := byte(t - PacketInitial) // v1: Initial 0, 0-RTT 1, Handshake 2, Retry 3
	if v == Version2 {
		bits = (bits + 1) & 3 // v2: Initial 1, 0-RTT 2, Handshake 3, Retry 0
	}
	return bits << 4
}

func longPacketType(v Version, first byte) PacketType {
	bits := first >> 4 & 3
	if v == Version2 {
		bits = (bits + 3) & 3
	}
	return PacketInitial + PacketType(bits)
}

// Header is a parsed QUIC packet header. Slices are views into the datagram
// it was parsed from.
type Header struct {
	Type    PacketType
	Version Version // 0 for 1-RTT and Version Negotiation packets
	DCID    ConnectionID
	SCID    ConnectionID // long headers only

	// Token is the Token of an Initial packet or the Retry Token of a Retry
	// packet.
	Token []byte
	// IntegrityTag is the Retry Integrity Tag (RFC 9001 §5.8) of a Retry
	// packet, to be checked by the packet protection layer.
	IntegrityTag []byte
	// Versions lists the Supported Versions of a Version Negotiation packet.
	Versions VersionList

	// PacketNumberOffset is the offset, from the start of the packet, of
	// the Packet Number field: header protection samples 4 bytes after it
	// (RFC 9001 §5.4.2). Zero for Retry and Version Negotiation packets.
	PacketNumberOffset int
	// PacketLen is the length of the whole packet in the datagram. A
	// coalesced packet, if any, starts right after it (RFC 9000 §12.2).
	PacketLen int
}

// ParseHeader parses the header of the first packet in datagram, up to the
// (still protected) Packet Number field. shortDCIDLen is the length of the
// connection IDs this endpoint issued, which short headers do not encode.
// greaseQUICBit accepts a zero fixed bit, as an endpoint that sent the
// grease_quic_bit transport parameter must (RFC 9287 §3).
//
// An error means the packet must be dropped, and with it the rest of the
// datagram, since where a coalesced packet would start is unknown
// (RFC 9000 §5.2, §12.2). ErrUnsupportedVersion marks a long header of a
// version other than 1 and 2: use ParseInvariants to answer it with
// Version Negotiation.
func ParseHeader(datagram []byte, shortDCIDLen int, greaseQUICBit bool) (Header, error) {
	var h Header
	err := ParseHeaderInto(&h, datagram, shortDCIDLen, greaseQUICBit)
	return h, err
}

// ParseHeaderInto is ParseHeader into *h, which it overwrites: the
// receiver's packet path parses every packet, and a Header returned by
// value is copied out (about 140 bytes) each time.
func ParseHeaderInto(h *Header, datagram []byte, shortDCIDLen int, greaseQUICBit bool) error {
	*h = Header{}
	b := datagram
	if len(b) == 0 {
		return ErrTruncatedHeader
	}
	first := b[0]
	if first&headerFormLong == 0 {
		return parseShortHeader(h, b, shortDCIDLen, greaseQUICBit)
	}
	if len(b) < 7 {
		return ErrTruncatedHeader
	}
	h.Version = Version(binary.BigEndian.Uint32(b[1:]))
	if h.Version == 0 {
		return parseVersionNegotiation(h, b)
	}
	if !h.Version.IsSupported() {
		return ErrUnsupportedVersion
	}
	// RFC 9000 §17.2: packets with a zero fixed bit are discarded.
	if first&fixedBit == 0 && !greaseQUICBit {
		return ErrFixedBitZero
	}
	h.Type = longPacketType(h.Version, first)
	pos, err := parseLongHeaderCIDs(h, b)
	if err != nil {
		return err
	}
	switch h.Type {
	case PacketRetry:
		// RFC 9000 §17.2.5: Retry Token then a 16-byte Integrity Tag, to
		// the end of the datagram.
		if len(b)-pos < 16 {
			return ErrTruncatedHeader
		}
		h.Token = b[pos : len(b)-16 : len(b)-16]
		h.IntegrityTag = b[len(b)-16:]
		h.PacketLen = len(b)
		if len(h.Token) == 0 {
			return ErrEmptyRetryToken
		}
		return nil
	case PacketInitial:
		// RFC 9000 §17.2.2: Token Length (i), Token.
		tokenLen, n, err := ParseVarint(b[pos:])
		if err != nil {
			return ErrTruncatedHeader
		}
		pos += n
		if tokenLen > uint64(len(b)-pos) {
			return ErrTruncatedHeader
		}
		h.Token = b[pos : pos+int(tokenLen) : pos+int(tokenLen)]
		pos += int(tokenLen)
	}
	length, n, err := ParseVarint(b[pos:])
	if err != nil {
		return ErrTruncatedHeader
	}
	pos += n
	if length > uint64(len(b)-pos) {
		return ErrLengthExceeds
	}
	h.PacketNumberOffset = pos
	h.PacketLen = pos + int(length)
	return nil
}

// parseLongHeaderCIDs reads the DCID and SCID of a v1/v2 long header and
// returns the offset after them.
func parseLongHeaderCIDs(h *Header, b []byte) (int, error) {
	pos := 5
	dcid, pos, err := readLongCID(b, pos)
	if err != nil {
		return 0, err
	}
	scid, pos, err := readLongCID(b, pos)
	if err != nil {
		return 0, err
	}
	// RFC 9000 §17.2: in version 1 a connection ID longer than 20 bytes
	// means the packet is dropped (RFC 9369 keeps the rule).
	if err := h.DCID.set(dcid); err != nil {
		return 0, err
	}
	if err := h.SCID.set(scid); err != nil {
		return 0, err
	}
	return pos, nil
}

// readLongCID reads an 8-bit length-prefixed connection ID of up to 255
// bytes (RFC 8999 §5.1).
func readLongCID(b []byte, pos int) ([]byte, int, error) {
	if pos >= len(b) {
		return nil, 0, ErrTruncatedHeader
	}
	n := int(b[pos])
	pos++
	if len(b)-pos < n {
		return nil, 0, ErrTruncatedHeader
	}
	return b[pos : pos+n : pos+n], pos + n, nil
}

func parseShortHeader(h *Header, b []byte, dcidLen int, greaseQUICBit bool) error {
	// RFC 9000 §17.3.1: header byte, then the DCID whose length the
	// receiver knows, then the protected packet number.
	if b[0]&fixedBit == 0 && !greaseQUICBit {
		return ErrFixedBitZero
	}
	if dcidLen < 0 || dcidLen > MaxConnectionIDLen {
		return ErrConnectionIDTooLong
	}
	if len(b) < 1+dcidLen {
		return ErrTruncatedHeader
	}
	h.Type = Packet1RTT
	_ = h.DCID.set(b[1 : 1+dcidLen]) // dcidLen was checked above
	h.PacketNumberOffset = 1 + dcidLen
	h.PacketLen = len(b)
	return nil
}

// ParsePacketNumber reads the packet number of a packet whose header
// protection has been removed: packet[0] and the bytes at
// h.PacketNumberOffset are in the clear. It returns the truncated packet
// number and the length of its field; the payload starts right after it.
// Use DecodePacketNumber to expand the value, and CheckReservedBits once the
// payload is authenticated.
func (h *Header) ParsePacketNumber(packet []byte) (truncated uint64, pnLen int, err error) {
	if len(packet) == 0 || h.PacketNumberOffset == 0 || h.PacketLen > len(packet) {
		return 0, 0, ErrTruncatedPacketNumber
	}
	pnLen = int(packet[0]&packetNumberLen) + 1
	if h.PacketNumberOffset+pnLen > h.PacketLen {
		return 0, 0, ErrTruncatedPacketNumber
	}
	truncated, err = ReadPacketNumber(packet[h.PacketNumberOffset:], pnLen)
	return truncated, pnLen, err
}

// CheckReservedBits checks the reserved bits of an unprotected first byte.
// RFC 9000 §17.2 and §17.3.1: non-zero reserved bits, after removing both
// packet and header protection, are a PROTOCOL_VIOLATION.
func CheckReservedBits(first byte) error {
	mask := byte(shortReserved)
	if first&headerFormLong != 0 {
		mask = longReserved
	}
	if first&mask != 0 {
		return &TransportError{Code: ProtocolViolation, Reason: "reserved header bits are not zero"}
	}
	return nil
}

// KeyPhase returns the Key Phase bit of an unprotected short header first
// byte (RFC 9000 §17.3.1).
func KeyPhase(first byte) bool { return first&keyPhaseBit != 0 }

// SpinBit returns the latency spin bit of a short header first byte
// (RFC 9000 §17.4).
func SpinBit(first byte) bool { return first&spinBit != 0 }

// HeaderProtectionSampleLen is the size of the ciphertext sample header
// protection takes (RFC 9001 §5.4.2).
const HeaderProtectionSampleLen = 16

// HeaderProtectionSample returns the ciphertext sample of a protected packet
// (a view into packet): 16 bytes starting 4 bytes after the start of the
// Packet Number field, as if that field were 4 bytes long (RFC 9001
// §5.4.2). A packet too short to hold it must be discarded: ErrNoSample.
func (h *Header) HeaderProtectionSample(packet []byte) ([]byte, error) {
	off := h.PacketNumberOffset + 4
	end := off + HeaderProtectionSampleLen
	if h.PacketNumberOffset == 0 || end > h.PacketLen || h.PacketLen > len(packet) {
		return nil, ErrNoSample
	}
	return packet[off:end:end], nil
}

// HeaderProtectionMask returns the bits of the first byte that header
// protection covers: the low 4 bits of a long header, the low 5 of a short
// one (RFC 9001 §5.4.1).
func HeaderProtectionMask(first byte) byte {
	if first&headerFormLong != 0 {
		return 0x0f
	}
	return 0x1f
}
