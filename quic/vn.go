package quic

import (
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Version negotiation (RFC 9368) between QUIC version 1 and version 2
// (RFC 9369); quic/internal/conn's vn.go has the protocol. A client starts
// in its first version (by default version 1, which every server speaks)
// and offers the others in version_information; a server moves it to the
// first of its own versions the client offers, without a round trip
// (compatible negotiation), or answers a version it does not speak with a
// Version Negotiation packet, after which the client starts again
// (incompatible negotiation). Both sides check the other's
// version_information, so that a forged Version Negotiation packet cannot
// force a version the two would not have chosen (VERSION_NEGOTIATION_ERROR).

// Version is a QUIC version.
type Version uint32

// The QUIC versions skiff speaks.
const (
	Version1 Version = Version(wire.Version1) // RFC 9000
	Version2 Version = Version(wire.Version2) // RFC 9369
)

func (v Version) String() string {
	switch v {
	case Version1:
		return "v1"
	case Version2:
		return "v2"
	}
	return "0x" + hex32(uint32(v))
}

func hex32(v uint32) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	for i := range b {
		b[7-i] = digits[v>>(4*i)&0xf]
	}
	return string(b[:])
}

func wireVersions(vs []Version) []wire.Version {
	if len(vs) == 0 {
		return nil
	}
	out := make([]wire.Version, len(vs))
	for i, v := range vs {
		out[i] = wire.Version(v)
	}
	return out
}

// Version is the QUIC version the connection uses: known at once on a
// client (the one it started in), final once the handshake completes.
func (c *Conn) Version() Version { return Version(c.early.version.Load()) }

// speaks reports whether a server endpoint takes connections in version v;
// others get Version Negotiation (RFC 9000 §6.1).
func (e *Endpoint) speaks(v wire.Version) bool {
	if e.versions == nil {
		return v.IsSupported()
	}
	return containsVersion(e.versions, v)
}

// negotiationVersions are what a Version Negotiation packet lists.
func (e *Endpoint) negotiationVersions() []wire.Version {
	if e.versions == nil {
		return []wire.Version{wire.Version1, wire.Version2}
	}
	return e.versions
}
