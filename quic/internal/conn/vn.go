package conn

import (
	"bytes"
	"time"

	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// handleVersionNegotiation handles a Version Negotiation packet (RFC 9000
// §6.2). A client acts on it only before it has processed any other packet
// from the server, and ignores one that lists the version it uses (a
// forgery or a late duplicate). We support one version per connection:
// with none in common the connection fails.
func (c *Conn) handleVersionNegotiation(now time.Duration, hdr *wire.Header) {
	if !c.isClient || c.ids.peerSCIDKnown || c.closing.state != stateOpen {
		return
	}
	// The packet must echo our connection IDs (RFC 9000 §6.2, §17.2.1).
	if hdr.DCID != c.ids.handshakeSCID() || hdr.SCID != c.originalDCID {
		return
	}
	if hdr.Versions.Contains(c.version) {
		return
	}
	c.enterDraining(now, &Reason{Kind: ReasonNoCompatibleVersion}, true)
}

// handleRetry handles a Retry packet (RFC 9000 §17.2.5, §8.1.2): the
// client checks its integrity tag (RFC 9001 §5.8), switches to the
// server's new connection ID, derives new Initial keys from it and sends
// its Initial again with the token. Only one Retry is accepted, and none
// after any other packet from the server.
func (c *Conn) handleRetry(now time.Duration, hdr *wire.Header, pkt []byte) {
	if !c.isClient || c.retrySCID != nil || c.ids.peerSCIDKnown || c.closing.state != stateOpen {
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
	if err := c.installInitialKeys(scid); err != nil {
		c.abort(now, localError(wire.InternalError, 0, err.Error()))
		return
	}
	// RFC 9002 §6.3: a Retry resets loss recovery for Initial packets;
	// everything sent so far is sent again.
	c.loss.RetransmitAll(recovery.SpaceInitial, &c.resolved)
	c.onResolved(&c.resolved)
}
