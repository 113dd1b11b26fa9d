package wire

import (
	"encoding/binary"
	"errors"
)

// Invariants are the version-independent fields of a QUIC packet
// (RFC 8999 §5). A server reads them to route a datagram and to answer an
// unknown version with Version Negotiation; connection IDs may then be up to
// 255 bytes long.
type Invariants struct {
	Long    bool
	Version Version // long headers only
	DCID    []byte  // view into the datagram
	SCID    []byte  // long headers only; view into the datagram
}

// ParseInvariants parses the version-independent header fields at the start
// of datagram; shortDCIDLen is the length of this endpoint's connection IDs.
func ParseInvariants(datagram []byte, shortDCIDLen int) (Invariants, error) {
	var inv Invariants
	b := datagram
	if len(b) == 0 {
		return inv, ErrTruncatedHeader
	}
	if b[0]&headerFormLong == 0 {
		if shortDCIDLen < 0 || len(b) < 1+shortDCIDLen {
			return inv, ErrTruncatedHeader
		}
		inv.DCID = b[1 : 1+shortDCIDLen : 1+shortDCIDLen]
		return inv, nil
	}
	if len(b) < 5 {
		return inv, ErrTruncatedHeader
	}
	inv.Long = true
	inv.Version = Version(binary.BigEndian.Uint32(b[1:]))
	var err error
	pos := 5
	if inv.DCID, pos, err = readLongCID(b, pos); err != nil {
		return inv, err
	}
	inv.SCID, _, err = readLongCID(b, pos)
	return inv, err
}

// VersionList is a view of a list of 32-bit versions in network byte order,
// as in a Version Negotiation packet or the version_information transport
// parameter.
type VersionList []byte

// Len returns the number of versions in the list.
func (l VersionList) Len() int { return len(l) / 4 }

// At returns the i-th version.
func (l VersionList) At(i int) Version { return Version(binary.BigEndian.Uint32(l[4*i:])) }

// Contains reports whether v is in the list.
func (l VersionList) Contains(v Version) bool {
	for i := 0; i < l.Len(); i++ {
		if l.At(i) == v {
			return true
		}
	}
	return false
}

// parseVersionNegotiation parses a Version Negotiation packet (RFC 9000
// §17.2.1) once ParseHeader has seen Version 0. The packet answers one of
// our own long headers, so its connection IDs are ones we chose and must fit
// in 20 bytes; the Unused bits and fixed bit are ignored.
func parseVersionNegotiation(h *Header, b []byte) error {
	h.Type = PacketVersionNegotiation
	pos, err := parseLongHeaderCIDs(h, b)
	if err != nil {
		return err
	}
	list := b[pos:]
	if len(list) == 0 || len(list)%4 != 0 {
		return ErrInvalidVersionList
	}
	h.Versions = VersionList(list)
	h.PacketLen = len(b)
	return nil
}

// ErrNoVersions is returned by AppendVersionNegotiation when given no
// versions to offer.
var ErrNoVersions = errors.New("wire: Version Negotiation needs at least one version")

// AppendVersionNegotiation appends a Version Negotiation packet answering a
// packet whose invariant fields were inv: RFC 9000 §17.2.1 has the server
// echo the client's SCID as DCID and its DCID as SCID. unused provides the
// arbitrary value of the Unused bits; the 0x40 bit is always set, as the RFC
// recommends for demultiplexing with other protocols.
func AppendVersionNegotiation(b []byte, inv *Invariants, versions []Version, unused byte) ([]byte, error) {
	if len(versions) == 0 {
		return b, ErrNoVersions
	}
	if len(inv.DCID) > 255 || len(inv.SCID) > 255 {
		return b, ErrTruncatedHeader
	}
	b = append(b, headerFormLong|fixedBit|unused&0x3f, 0, 0, 0, 0)
	b = append(b, byte(len(inv.SCID)))
	b = append(b, inv.SCID...)
	b = append(b, byte(len(inv.DCID)))
	b = append(b, inv.DCID...)
	for _, v := range versions {
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	return b, nil
}
