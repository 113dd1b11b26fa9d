package conn

import (
	"bytes"
	"fmt"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// spaceOf maps a TLS encryption level to its packet number space; 0-RTT
// shares the application data space (RFC 9000 §12.3).
func spaceOf(l tls13.Level) recovery.Space {
	switch l {
	case tls13.LevelInitial:
		return recovery.SpaceInitial
	case tls13.LevelHandshake:
		return recovery.SpaceHandshake
	}
	return recovery.SpaceAppData
}

// levelOf maps a packet number space to the level its CRYPTO frames use.
func levelOf(s recovery.Space) tls13.Level {
	switch s {
	case recovery.SpaceInitial:
		return tls13.LevelInitial
	case recovery.SpaceHandshake:
		return tls13.LevelHandshake
	}
	return tls13.LevelApplication
}

// buildLocalParams returns the transport parameters we send (RFC 9000
// §18.2), scid being our first connection ID. The connection does not keep
// them: TLS holds their encoding, and what they promise lives in the flow
// control, stream and connection ID state.
func (c *Conn) buildLocalParams(scid wire.ConnectionID) wire.TransportParameters {
	p := wire.DefaultTransportParameters()
	p.MaxIdleTimeout = c.config.idleTimeout()
	p.MaxUDPPayloadSize = uint64(c.maxReceive)
	p.InitialMaxData = c.flow.recvWindow
	p.InitialMaxStreamDataBidiLocal = c.config.streamWindow()
	p.InitialMaxStreamDataBidiRemote = c.config.streamWindow()
	p.InitialMaxStreamDataUni = c.config.streamWindow()
	p.InitialMaxStreamsBidi = uint64(c.config.maxBidiStreams())
	p.InitialMaxStreamsUni = uint64(c.config.maxUniStreams())
	p.ActiveConnectionIDLimit = activeConnectionIDLimit
	p.MaxAckDelay = c.ackFreq.maxAckDelay
	// draft-ietf-quic-ack-frequency-14 §3: we take ACK_FREQUENCY.
	p.MinAckDelay, p.HasMinAckDelay = minAckDelay, true
	p.DisableActiveMigration = c.config.DisableActiveMigration
	if !c.isClient {
		p.PreferredAddress = c.path.preferred
	}
	id := scid
	p.InitialSourceConnectionID = &id
	if c.config.EnableDatagrams {
		p.MaxDatagramFrameSize = MaxDatagramFrameSize
	}
	// RFC 9369 §4: endpoints that speak version 2 send version_information.
	p.VersionInformation = c.localVersionInformation()
	if !c.isClient {
		odcid := c.originalDCID
		p.OriginalDestinationConnectionID = &odcid
		tok := c.ids.resetTokenOf(c.ids.local[0].id)
		p.StatelessResetToken = &tok
		if c.retrySCID != nil {
			r := *c.retrySCID
			p.RetrySourceConnectionID = &r
		}
	}
	return p
}

// localParamsRoom is room enough for the encoding of our transport
// parameters, so that encoding them allocates once: about 100 bytes for a
// client, a server's at most some 120 more (original and retry connection
// IDs, a stateless reset token, a preferred address).
const localParamsRoom = 256

// encodeLocalParams returns the encoding of the transport parameters we
// send, with a reserved parameter (greaseSeed).
func (c *Conn) encodeLocalParams() []byte {
	p := c.buildLocalParams(c.ids.handshakeSCID())
	return p.Append(make([]byte, 0, localParamsRoom), greaseSeed())
}

// startTLS creates the TLS handshake sending our transport parameters
// (params, encodeLocalParams). A server passes none: it decides on the
// version as the ClientHello arrives, and only then encodes its parameters
// (negotiateVersion), and checks tickets (vn.go, zerortt.go); a client
// that resumes a session allowing 0-RTT starts sending early.
func (c *Conn) startTLS(params []byte) error {
	if c.isClient {
		c.tls = tls13.Client(c.config.TLS, params)
		if c.early.sessionKey != "" {
			c.tls.SetSessionCacheKey(c.early.sessionKey)
		}
		c.dropSessionOfOtherVersion()
	} else {
		c.tls = tls13.Server(c.config.TLS, params)
		c.tls.SetTransportParametersFunc(c.negotiateVersion)
		c.tls.SetTicketFunc(c.checkTicket)
	}
	if err := c.tls.Start(); err != nil {
		return err
	}
	if err := c.processTLSEvents(0); err != nil {
		return err
	}
	if c.isClient {
		c.startEarlyData()
	}
	return nil
}

// greaseSeed picks the reserved transport parameter we send, so that peers
// keep ignoring unknown parameters (RFC 9000 §18.1).
func greaseSeed() uint64 {
	var b [8]byte
	randomBytes(b[:])
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16
}

// handleCryptoData feeds CRYPTO frame data received in a space to TLS, in
// order, and acts on what TLS then asks for.
func (c *Conn) handleCryptoData(now time.Duration, space recovery.Space, f *wire.CryptoFrame) error {
	recv := &c.cryptoStream(space).recv
	// RFC 9000 §7.5: an endpoint may bound the CRYPTO data it buffers out
	// of order; beyond it, CRYPTO_BUFFER_EXCEEDED.
	if f.Offset+uint64(len(f.Data)) > recv.ReadOffset()+maxCryptoBuffer {
		return localError(wire.CryptoBufferExceeded, wire.FrameTypeCrypto, "too much out-of-order CRYPTO data")
	}
	if _, err := recv.Write(f.Offset, f.Data, false); err != nil {
		return localError(wire.ProtocolViolation, wire.FrameTypeCrypto, err.Error())
	}
	// RFC 9369 §4.1: CRYPTO data in the version in use makes it the
	// negotiated one.
	c.vn.fixed = true
	// TLS copies what it is handed (a message it keeps, or the start of
	// one), so it reads the stream's bytes where they lie: a copy through
	// a buffer here cost a copy more, and its 4 KB in this frame, deep in
	// the stack on which the key exchange runs, outgrew the drivers'
	// stacks (driverStackFrame).
	for recv.Readable() > 0 {
		if c.tls == nil {
			// An idle server let its TLS go (releaseTLS): this is a
			// message after the handshake, which TLS refuses.
			return asTransportError(fmt.Errorf("%w: client message after the handshake", tls13.AlertUnexpectedMessage))
		}
		b := recv.Peek(maxCryptoBuffer)
		if err := c.tls.HandleData(levelOf(space), b); err != nil {
			return asTransportError(err)
		}
		recv.Consume(len(b))
	}
	return c.processTLSEvents(now)
}

// processTLSEvents carries out what the handshake asks for: data to send,
// keys to install, the peer's transport parameters, completion.
func (c *Conn) processTLSEvents(now time.Duration) error {
	for c.tls != nil {
		e := c.tls.NextEvent()
		switch e.Kind {
		case tls13.EventNone:
			return nil
		case tls13.EventWriteData:
			c.cryptoStream(spaceOf(e.Level)).send.Write(e.Data)
		case tls13.EventSetReadSecret, tls13.EventSetWriteSecret:
			keys, err := protect.NewKeys(uint32(c.keysVersion(e.Level)), protect.Suite(e.Suite), e.Data)
			if err != nil {
				return localError(wire.InternalError, 0, err.Error())
			}
			c.installKeys(e.Kind == tls13.EventSetWriteSecret, e.Level, keys)
		case tls13.EventTransportParameters:
			if err := c.setPeerParams(e.Data); err != nil {
				return err
			}
		case tls13.EventRejectedEarlyData:
			c.onEarlyDataRejected()
		case tls13.EventHandshakeDone:
			c.onHandshakeComplete(now)
		}
	}
	return nil // an idle server let its TLS go (releaseTLS)
}

// installKeys installs new packet protection keys at a level.
func (c *Conn) installKeys(write bool, level tls13.Level, keys *protect.Keys) {
	c.traceKeysInstalled(write, level)
	switch level {
	case tls13.LevelEarly:
		c.keys0RTT = keys
		c.onEarlyDataKeys()
		return
	case tls13.LevelApplication:
		if write {
			c.keys1RTT.setWrite(keys)
			if c.isClient {
				// RFC 9001 §4.9.3: a client drops 0-RTT keys once it
				// has 1-RTT keys.
				c.keys0RTT = nil
			}
		} else {
			c.keys1RTT.setRead(keys)
		}
	}
	sp := &c.spaces[spaceOf(level)]
	if write {
		sp.writeKeys = keys
	} else {
		sp.readKeys = keys
	}
	if level == tls13.LevelHandshake {
		c.updateLossState()
	}
}

// setPeerParams parses and checks the peer's transport parameters
// (RFC 9000 §7.3, §7.4, §18.2).
func (c *Conn) setPeerParams(b []byte) error {
	p, err := wire.ParseTransportParameters(b, c.peerRole())
	if err != nil {
		return asTransportError(err)
	}
	// RFC 9000 §7.3: the connection IDs of the handshake must match what
	// the parameters say, or an attacker changed them.
	if p.InitialSourceConnectionID == nil || !bytes.Equal(p.InitialSourceConnectionID.Bytes(), c.ids.peerInitialSCID.Bytes()) {
		return localError(wire.TransportParameterError, 0, "initial_source_connection_id does not match")
	}
	if c.isClient {
		if p.OriginalDestinationConnectionID == nil || !bytes.Equal(p.OriginalDestinationConnectionID.Bytes(), c.originalDCID.Bytes()) {
			return localError(wire.TransportParameterError, 0, "original_destination_connection_id does not match")
		}
		switch {
		case c.retrySCID != nil && (p.RetrySourceConnectionID == nil || !bytes.Equal(p.RetrySourceConnectionID.Bytes(), c.retrySCID.Bytes())):
			return localError(wire.TransportParameterError, 0, "retry_source_connection_id does not match")
		case c.retrySCID == nil && p.RetrySourceConnectionID != nil:
			return localError(wire.TransportParameterError, 0, "retry_source_connection_id without a Retry")
		}
		if err := c.checkServerVersionInformation(p.VersionInformation); err != nil {
			return err
		}
		if err := c.checkEarlyParams(&p); err != nil {
			return err
		}
	}
	c.peerAckDelayExponent = p.AckDelayExponent
	c.pmtu.setPeerMax(p.MaxUDPPayloadSize)
	c.peerParamsSet = true
	c.ackFreq.setPeerParams(&p)
	c.applyPeerAckDelay()
	c.idle.setPeerTimeout(p.MaxIdleTimeout)
	c.flow.setPeerInitial(p.InitialMaxData)
	c.streams.setPeerInitial(&p)
	c.dgrams.setPeerMax(p.MaxDatagramFrameSize)
	if p.StatelessResetToken != nil {
		c.ids.setPeerResetToken(*p.StatelessResetToken)
	}
	c.ids.setPeerActiveLimit(p.ActiveConnectionIDLimit)
	c.path.peerDisableMigration = p.DisableActiveMigration
	if c.isClient && p.PreferredAddress != nil {
		// RFC 9000 §9.6.1: the client may move there once the handshake
		// is confirmed; its connection ID is sequence number 1.
		c.path.preferred = p.PreferredAddress
		if err := c.ids.addPreferredAddressID(p.PreferredAddress); err != nil {
			return err
		}
	}
	return nil
}

// onHandshakeComplete runs when TLS has finished.
func (c *Conn) onHandshakeComplete(now time.Duration) {
	if c.handshakeComplete {
		return
	}
	c.handshakeComplete = true
	if !c.isClient {
		// RFC 9001 §4.1.2: the server's handshake is confirmed when it
		// completes; it tells the client with HANDSHAKE_DONE (RFC 9000
		// §19.20). The client address is validated by then (§8.1).
		c.handshakeDoneQueued = true
		c.path.cur.validated = true
		c.confirmHandshake(now)
		// 0-RTT packets sent before the client's Finished have arrived
		// but for reordering; later ones are resent in 1-RTT.
		c.keys0RTT = nil
	}
	c.idle.handshakeEnd = congestion.Never
	c.completionDue = true
	c.events.add(Event{Kind: EventHandshakeComplete})
}

// afterCompletion issues our spare connection IDs and, on a server, makes
// the session tickets, once the datagram that completed the handshake has
// been handled, and only if the connection is still open then. Nothing
// goes out before the owner's next flush either way, so the peer sees the
// same packets; but a client that closes as soon as its handshake
// completes sends its Finished and CONNECTION_CLOSE in one datagram
// (appendClose), and for it a server no longer makes, registers and
// retires three connection IDs with their reset tokens and seals a ticket
// that would never be sent.
func (c *Conn) afterCompletion(now time.Duration) {
	c.completionDue = false
	c.ids.onHandshakeComplete()
	if !c.isClient && c.tls != nil {
		c.sendSessionTickets()
		if err := c.processTLSEvents(now); err != nil {
			c.abort(now, asTransportError(err))
		}
	}
}

// confirmHandshake runs when the handshake is confirmed: Handshake keys are
// dropped (RFC 9001 §4.9.2) and the loss detection changes its rules.
func (c *Conn) confirmHandshake(now time.Duration) {
	if c.handshakeConfirmed {
		return
	}
	c.handshakeConfirmed = true
	c.discardSpace(recovery.SpaceHandshake)
	c.keys1RTT.confirmed = true
	c.idle.handshakeEnd = congestion.Never
	c.updateLossState()
	c.pmtu.start()
	c.followPreferredAddress(now)
}

// updateLossState tells loss detection the facts its timer depends on
// (RFC 9002 Appendix A.8).
func (c *Conn) updateLossState() {
	hasHandshakeKeys := c.spaces[recovery.SpaceHandshake].writeKeys != nil || c.spaces[recovery.SpaceHandshake].discarded
	c.loss.SetHandshakeState(c.peerCompletedAddressValidation(), c.handshakeConfirmed, hasHandshakeKeys)
}

// discardSpace drops the keys and state of the Initial or Handshake space
// (RFC 9001 §4.9).
func (c *Conn) discardSpace(space recovery.Space) {
	sp := &c.spaces[space]
	if sp.discarded {
		return
	}
	sp.discarded = true
	c.traceKeysDiscarded(space)
	sp.readKeys, sp.writeKeys = nil, nil
	if space == recovery.SpaceInitial {
		c.vn.origInitialRead = nil
	}
	sp.received = nil
	if sp.crypto != nil {
		sp.crypto.send.Discard()
		sp.crypto.recv.Discard()
		sp.crypto = nil
	}
	c.loss.DiscardSpace(space)
}
