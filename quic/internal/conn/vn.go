package conn

import (
	"bytes"
	"slices"
	"time"

	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Version negotiation (RFC 9368) between QUIC version 1 (RFC 9000) and
// version 2 (RFC 9369), which are compatible with each other: a server may
// switch a connection from the client's version to the other without a
// round trip. Both sides send version_information and check the peer's,
// which is authenticated by the handshake, so that an attacker who forges
// a Version Negotiation packet cannot force a version down.
//
//   - Incompatible negotiation (RFC 9368 §2.1): a client whose version the
//     server does not speak gets a Version Negotiation packet (the
//     endpoint sends it) and starts over in the first version of its own
//     preference the server lists, with a new ClientHello.
//   - Compatible negotiation (RFC 9368 §2.3, RFC 9369 §4.1): the server
//     reads the client's version_information from the ClientHello and
//     picks, in its own order of preference, a version the client offers;
//     its Initial packets from then on use it, and the client follows the
//     first long header packet of another version it offered.

// defaultVersions are the versions a connection speaks when the Config
// lists none: version 1 first, so that a server does not move clients
// that start with it to version 2 (the interop runner's tests other than
// "v2" insist on version 1), and a client starts with the version every
// server speaks while offering version 2 (RFC 9368 §2.5).
var defaultVersions = []wire.Version{wire.Version1, wire.Version2}

// versions returns the versions the Config allows, by preference.
func (c *Config) versions() []wire.Version {
	var out []wire.Version
	for _, v := range c.Versions {
		if v.IsSupported() && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return defaultVersions
	}
	return out
}

// SupportedVersions returns the versions config allows, by preference:
// what a server lists in Version Negotiation packets and a client offers.
func SupportedVersions(config *Config) []wire.Version { return config.versions() }

// versionState is a connection's version negotiation.
type versionState struct {
	// Our versions, by preference, are the Config's (Config.versions).
	// original is the version of the client's first Initial (of this
	// attempt, after a Version Negotiation packet): 0-RTT packets keep it
	// (RFC 9369 §4.1), and a server takes its Initials until the client
	// follows the switch.
	original wire.Version
	// initialDCID is what the Initial keys derive from (RFC 9001 §5.2).
	initialDCID wire.ConnectionID
	// origInitialRead, on a server that switched versions, opens the
	// client's Initials of the original version until Initial keys go
	// (RFC 9369 §4.1).
	origInitialRead *protect.Keys
	switched        bool // compatible negotiation moved the connection
	// fixed, on a client: CRYPTO data came in the version in use, which is
	// therefore the negotiated one (RFC 9369 §4.1).
	fixed bool
	// reacted, on a client: this attempt follows a Version Negotiation
	// packet, whose outcome the server's version_information must confirm
	// (RFC 9368 §4).
	reacted bool
	// chosen, on a server: the ClientHello was read and the version
	// negotiated (negotiateVersion).
	chosen bool
}

func (s *versionState) init(config *Config, v wire.Version, dcid wire.ConnectionID) {
	s.original = v
	s.initialDCID = dcid
}

// Version is the QUIC version the connection uses now.
func (c *Conn) Version() wire.Version { return c.version }

// localVersionInformation is our version_information (RFC 9368 §3): the
// version in use and ours, by preference. A server lists its versions
// too: they say what it would have answered a Version Negotiation with.
func (c *Conn) localVersionInformation() *wire.VersionInformation {
	return &wire.VersionInformation{ChosenVersion: c.version, AvailableVersions: c.config.versions()}
}

// compatible reports whether a first flight of version from converts to
// version to (RFC 9368 §2.2): versions 1 and 2 both ways (RFC 9369 §4).
func compatible(from, to wire.Version) bool { return from.IsSupported() && to.IsSupported() }

// negotiateVersion is the server's hook for the client's transport
// parameters, called as the ClientHello is read and before anything
// answers it (tls13.Conn.SetTransportParametersFunc). It checks the
// client's version_information and may switch the connection to a version
// we prefer that the client offers; it returns our transport parameters,
// whose version_information announces the outcome.
func (c *Conn) negotiateVersion(clientParams []byte) ([]byte, error) {
	c.vn.chosen = true
	p, err := wire.ParseTransportParameters(clientParams, wire.RoleClient)
	if err != nil {
		// setPeerParams closes the connection with the error once TLS
		// reports the parameters.
		return c.encodeLocalParams(), nil
	}
	if vi := p.VersionInformation; vi != nil {
		// RFC 9368 §4: the client's Chosen Version must be the version of
		// the packets that carried it.
		if vi.ChosenVersion != c.version {
			return nil, localError(wire.VersionNegotiationError, 0, "client's chosen version is not the version of its Initial")
		}
		// Our most preferred version the client offers; the client's
		// own if we prefer it.
		for _, v := range c.config.versions() {
			if v == c.version {
				break
			}
			if !slices.Contains(vi.AvailableVersions, v) || !compatible(c.version, v) {
				continue
			}
			if err := c.switchVersion(v); err != nil {
				return nil, err
			}
			break
		}
	}
	return c.encodeLocalParams(), nil
}

// versionUndecided reports whether a server may still move the connection
// to another version: it has not read the whole ClientHello, and prefers
// a version compatible with the client's.
func (c *Conn) versionUndecided() bool {
	if c.isClient || c.vn.chosen {
		return false
	}
	for _, v := range c.config.versions() {
		if v == c.version {
			return false
		}
		if compatible(c.version, v) {
			return true
		}
	}
	return false
}

// switchVersion moves the connection to version v by compatible
// negotiation: Initial keys of v from now on, and, on a server, those of
// the original version kept to open the client's Initials until it
// follows (RFC 9369 §4.1).
func (c *Conn) switchVersion(v wire.Version) error {
	sp := &c.spaces[recovery.SpaceInitial]
	old := sp.readKeys
	c.version = v
	c.vn.switched = true
	if err := c.installInitialKeys(c.vn.initialDCID); err != nil {
		return err
	}
	if !c.isClient {
		c.vn.origInitialRead = old
	}
	return nil
}

// acceptVersion reports whether a long header packet of hdr.Version is
// processed. A client follows the server to another version it offered
// when that is the first sign of the negotiated version; a server still
// takes the client's Initials of the original version, and 0-RTT packets
// only of that version (RFC 9369 §4.1).
func (c *Conn) acceptVersion(hdr *wire.Header) bool {
	if hdr.Type == wire.Packet0RTT {
		return !c.isClient && hdr.Version == c.vn.original
	}
	if hdr.Version == c.version {
		return true
	}
	if !c.isClient {
		return hdr.Type == wire.PacketInitial && hdr.Version == c.vn.original && c.vn.origInitialRead != nil
	}
	// RFC 9369 §4.1: the client learns the negotiated version from the
	// first long header of another version, unless CRYPTO data already
	// came in the original one. Only a version we offered.
	if c.vn.fixed || c.vn.switched || !slices.Contains(c.config.versions(), hdr.Version) || !compatible(c.version, hdr.Version) {
		return false
	}
	if hdr.Type != wire.PacketInitial && hdr.Type != wire.PacketHandshake {
		return false
	}
	if err := c.switchVersion(hdr.Version); err != nil {
		return false
	}
	return true
}

// initialReadKeys returns the keys that open an Initial packet of
// version v.
func (c *Conn) initialReadKeys(v wire.Version) *protect.Keys {
	if v != c.version {
		return c.vn.origInitialRead
	}
	return c.spaces[recovery.SpaceInitial].readKeys
}

// checkServerVersionInformation applies RFC 9368 §4 to the server's
// version_information, on a client.
func (c *Conn) checkServerVersionInformation(vi *wire.VersionInformation) error {
	if vi == nil {
		// RFC 9368 §4: a server that does not know RFC 9368 may leave it
		// out (RFC 9369 §4 requires it of version 2 servers, but some
		// speak version 2 without it); one that moved us to another
		// version, or answered our first attempt with Version
		// Negotiation, must say so.
		if c.vn.reacted || c.vn.switched {
			return localError(wire.VersionNegotiationError, 0, "server sent no version_information")
		}
		return nil
	}
	if vi.ChosenVersion != c.version {
		return localError(wire.VersionNegotiationError, 0, "server's chosen version is not the version in use")
	}
	if !slices.Contains(c.config.versions(), vi.ChosenVersion) {
		return localError(wire.VersionNegotiationError, 0, "server chose a version we did not offer")
	}
	if c.vn.reacted {
		// We would have chosen the same version had the Version
		// Negotiation packet listed the server's versions plus the
		// negotiated one; otherwise the packet was forged.
		if len(vi.AvailableVersions) == 0 {
			return localError(wire.VersionNegotiationError, 0, "server lists no versions after Version Negotiation")
		}
		list := append(slices.Clone(vi.AvailableVersions), vi.ChosenVersion)
		if pick, _ := chooseVersion(c.config.versions(), list); pick != c.version {
			return localError(wire.VersionNegotiationError, 0, "version downgrade: the server's versions would have led elsewhere")
		}
	}
	return nil
}

// chooseVersion returns the first of ours (by preference) in theirs.
func chooseVersion(ours, theirs []wire.Version) (wire.Version, bool) {
	for _, v := range ours {
		if slices.Contains(theirs, v) {
			return v, true
		}
	}
	return 0, false
}

// handleVersionNegotiation handles a Version Negotiation packet (RFC 9000
// §6.2, RFC 9368 §2.1, §4). A client acts on it only before it has
// processed any other packet from the server, and only once; it ignores
// one that lists the version it uses (a forgery or a late duplicate).
// With a version in common it starts again in the one it prefers;
// otherwise the connection fails.
func (c *Conn) handleVersionNegotiation(now time.Duration, hdr *wire.Header) {
	if !c.isClient || c.ids.peerSCIDKnown || c.vn.reacted || c.closing.state != stateOpen {
		return
	}
	// The packet must echo our connection IDs (RFC 9000 §6.2, §17.2.1).
	if hdr.DCID != c.ids.handshakeSCID() || hdr.SCID != c.originalDCID {
		return
	}
	if hdr.Versions.Contains(c.version) {
		return
	}
	var theirs []wire.Version
	for i := range hdr.Versions.Len() {
		theirs = append(theirs, hdr.Versions.At(i))
	}
	v, ok := chooseVersion(c.config.versions(), theirs)
	if !ok {
		c.enterDraining(now, &Reason{Kind: ReasonNoCompatibleVersion}, true)
		return
	}
	if err := c.restartWithVersion(now, v); err != nil {
		c.abort(now, asTransportError(err))
	}
}

// restartWithVersion starts the handshake again in version v after a
// Version Negotiation packet: conceptually a new connection (RFC 9368
// §2.4) with a new Destination Connection ID and a new ClientHello, whose
// version_information says v. Packet numbers go on. 0-RTT, if attempted, is lost with the first attempt: its
// data goes again in 1-RTT packets, as after a rejection.
func (c *Conn) restartWithVersion(now time.Duration, v wire.Version) error {
	c.vn.reacted = true
	c.version, c.vn.original = v, v
	// The new first flight (RFC 9368 §2.1) goes under a new Destination
	// Connection ID, unpredictable as the first (RFC 9000 §7.2): a server
	// that keeps state for the first attempt (the Version Negotiation
	// packet was forged, or a genuine one was corrupted on the way) would
	// otherwise read the two ClientHellos as one stream, and its answers
	// to the first attempt do not open under the new Initial keys.
	dcid := NewConnectionID()
	c.originalDCID, c.vn.initialDCID, c.ids.peer[0].id = dcid, dcid, dcid
	sp := &c.spaces[recovery.SpaceInitial]
	// The first attempt's Initials are dead: nothing of them is resent.
	c.loss.RetransmitAll(recovery.SpaceInitial, &c.work().resolved)
	if sp.crypto != nil {
		sp.crypto.send.Discard()
		sp.crypto.recv.Discard()
		sp.crypto = nil
	}
	if err := c.installInitialKeys(c.vn.initialDCID); err != nil {
		return err
	}
	c.onEarlyDataRejected()
	if err := c.startTLS(c.encodeLocalParams()); err != nil {
		return err
	}
	return nil
}

// handleRetry handles a Retry packet (RFC 9000 §17.2.5, §8.1.2): the
// client checks its integrity tag (RFC 9001 §5.8), switches to the
// server's new connection ID, derives new Initial keys from it and sends
// its Initial again with the token. Only one Retry is accepted, and none
// after any other packet from the server; RFC 9369 §4.1: only in the
// version we sent.
func (c *Conn) handleRetry(now time.Duration, hdr *wire.Header, pkt []byte) {
	if !c.isClient || c.retrySCID != nil || c.ids.peerSCIDKnown || c.closing.state != stateOpen || hdr.Version != c.version {
		return
	}
	if len(hdr.Token) == 0 || bytes.Equal(hdr.SCID.Bytes(), c.originalDCID.Bytes()) {
		return
	}
	if err := protect.VerifyRetryIntegrity(uint32(c.version), c.originalDCID.Bytes(), pkt); err != nil {
		return
	}
	scid := hdr.SCID
	c.retrySCID = &scid
	c.retryToken = append([]byte(nil), hdr.Token...)
	c.ids.peer[0].id = scid
	c.vn.initialDCID = scid
	if err := c.installInitialKeys(scid); err != nil {
		c.abort(now, localError(wire.InternalError, 0, err.Error()))
		return
	}
	// RFC 9002 §6.3: a Retry resets loss recovery for Initial packets;
	// everything sent so far is sent again.
	res := &c.work().resolved
	c.loss.RetransmitAll(recovery.SpaceInitial, res)
	c.onResolved(res)
}
