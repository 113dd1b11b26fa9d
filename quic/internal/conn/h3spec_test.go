package conn

import (
	"net/netip"
	"testing"

	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// The "QUIC servers" cases of h3spec (../shared/testdata/h3spec-cases.txt,
// lines 1-34): a client sends something malformed to a skiff server, which
// must close the connection with the listed error. Each test plays the
// client by hand on the sans-I/O harness, checks the server's
// CONNECTION_CLOSE and that the client read that error from the wire.

func h3specPair(t *testing.T) *testPair {
	cc, sc := cheapConfigs(t)
	return newTestPairWith(t, cc, sc)
}

// h3spec1RTT: after the handshake, the client sends frames in a 1-RTT
// packet.
func h3spec1RTT(t *testing.T, fr []byte, firstBits byte, code TransportErrorCode, ft wire.FrameType) {
	t.Helper()
	p := h3specPair(t)
	p.handshake()
	p.clientSends(recovery.SpaceAppData, fr, firstBits)
	p.expectClose(p.server, code, ft, true)
}

// h3specHandshake: during the handshake, before its Finished, the client
// sends frames in a Handshake packet (padded so that the server's
// anti-amplification allowance has room for its CONNECTION_CLOSE).
func h3specHandshake(t *testing.T, fr []byte, firstBits byte, code TransportErrorCode, ft wire.FrameType) {
	t.Helper()
	p := h3specPair(t)
	p.runUntil("client has Handshake keys", func() bool {
		return p.client.spaces[recovery.SpaceHandshake].writeKeys != nil
	})
	if p.server.handshakeComplete {
		t.Fatal("server completed before the client's Finished")
	}
	p.clientSends(recovery.SpaceHandshake, wire.AppendPadding(append([]byte(nil), fr...), 600), firstBits)
	p.expectClose(p.server, code, ft, true)
}

// h3specParams: the client's transport parameters are changed by mutate.
func h3specParams(t *testing.T, mutate func(*wire.TransportParameters)) {
	t.Helper()
	p := h3specPair(t)
	withClientParams(t, p.client, mutate)
	p.runUntil("server closes", func() bool { return p.server != nil && p.server.closing.state != stateOpen })
	p.expectClose(p.server, wire.TransportParameterError, 0, false)
}

// h3specHello: the client's ClientHello is changed (TLS rules, RFC 9001
// §8); the server answers with CRYPTO_ERROR carrying the alert.
func h3specHello(t *testing.T, p *testPair, alert tls13.AlertError) {
	t.Helper()
	p.runUntil("server closes", func() bool { return p.server != nil && p.server.closing.state != stateOpen })
	p.expectClose(p.server, wire.CryptoError(uint8(alert)), wire.FrameTypeCrypto, true)
}

func streamFrame(id, off uint64, data []byte, fin bool) []byte {
	return appendFrame(&wire.StreamFrame{StreamID: id, Offset: off, Data: data, Fin: fin})
}

// RFC 9000 §4.1: data beyond MAX_STREAM_DATA is a FLOW_CONTROL_ERROR.
func TestH3Spec_Case01_StreamLargeOffsetFlowControlError(t *testing.T) {
	h3spec1RTT(t, streamFrame(0, 1<<30, []byte("x"), false), 0, wire.FlowControlError, wire.FrameTypeStream)
}

// RFC 9000 §4.6: a stream beyond the advertised limit is a
// STREAM_LIMIT_ERROR (the server allows 100 bidirectional streams).
func TestH3Spec_Case02_StreamIDBeyondLimit(t *testing.T) {
	h3spec1RTT(t, streamFrame(streamID(defaultMaxStreams, false, false), 0, []byte("x"), false), 0, wire.StreamLimitError, wire.FrameTypeStream)
}

// RFC 9000 §7.3: initial_source_connection_id is mandatory.
func TestH3Spec_Case03_MissingInitialSourceConnectionID(t *testing.T) {
	h3specParams(t, func(tp *wire.TransportParameters) { tp.InitialSourceConnectionID = nil })
}

// RFC 9000 §18.2: original_destination_connection_id is server-only.
func TestH3Spec_Case04_ClientSendsOriginalDestinationConnectionID(t *testing.T) {
	h3specParams(t, func(tp *wire.TransportParameters) { id := newConnectionID(); tp.OriginalDestinationConnectionID = &id })
}

// RFC 9000 §18.2: preferred_address is server-only.
func TestH3Spec_Case05_ClientSendsPreferredAddress(t *testing.T) {
	h3specParams(t, func(tp *wire.TransportParameters) {
		tp.PreferredAddress = &wire.PreferredAddress{IPv4: netip.MustParseAddrPort("192.0.2.1:443"), ConnectionID: newConnectionID()}
	})
}

// RFC 9000 §18.2: retry_source_connection_id is server-only.
func TestH3Spec_Case06_ClientSendsRetrySourceConnectionID(t *testing.T) {
	h3specParams(t, func(tp *wire.TransportParameters) { id := newConnectionID(); tp.RetrySourceConnectionID = &id })
}

// RFC 9000 §18.2: stateless_reset_token is server-only.
func TestH3Spec_Case07_ClientSendsStatelessResetToken(t *testing.T) {
	h3specParams(t, func(tp *wire.TransportParameters) { tp.StatelessResetToken = new([16]byte) })
}

// RFC 9000 §7.4, §18.2: max_udp_payload_size below 1200 is invalid.
func TestH3Spec_Case08_MaxUDPPayloadSizeBelow1200(t *testing.T) {
	h3specParams(t, func(tp *wire.TransportParameters) { tp.MaxUDPPayloadSize = 1199 })
}

// RFC 9000 §7.4, §18.2: ack_delay_exponent above 20 is invalid.
func TestH3Spec_Case09_AckDelayExponentAbove20(t *testing.T) {
	h3specParams(t, func(tp *wire.TransportParameters) { tp.AckDelayExponent = 21 })
}

// RFC 9000 §7.4, §18.2: max_ack_delay of 2^14 or more is invalid.
func TestH3Spec_Case10_MaxAckDelay2To14(t *testing.T) {
	h3specParams(t, func(tp *wire.TransportParameters) { tp.MaxAckDelay = wire.MaxMaxAckDelay + 1e6 })
}

// RFC 9000 §12.4: an unknown frame type is a FRAME_ENCODING_ERROR, with
// that type in the CONNECTION_CLOSE.
func TestH3Spec_Case11_UnknownFrameType(t *testing.T) {
	t.Run("one-byte", func(t *testing.T) {
		h3spec1RTT(t, []byte{0x21, 0, 0, 0}, 0, wire.FrameEncodingError, 0x21)
	})
	t.Run("two-byte", func(t *testing.T) {
		h3spec1RTT(t, []byte{0x42, 0x00, 0, 0}, 0, wire.FrameEncodingError, 0x200)
	})
}

// RFC 9000 §12.4: a packet without frames is a PROTOCOL_VIOLATION.
func TestH3Spec_Case12_PacketWithoutFrames(t *testing.T) {
	h3spec1RTT(t, nil, 0, wire.ProtocolViolation, 0)
}

// RFC 9000 §17.2: non-zero reserved bits in a long header, once header
// protection is removed, are a PROTOCOL_VIOLATION.
func TestH3Spec_Case13_HandshakeReservedBits(t *testing.T) {
	h3specHandshake(t, []byte{byte(wire.FrameTypePing)}, 0x0c, wire.ProtocolViolation, 0)
}

// RFC 9000 §12.4, §17.2.4: PATH_CHALLENGE is not allowed in Handshake
// packets.
func TestH3Spec_Case14_PathChallengeInHandshake(t *testing.T) {
	h3specHandshake(t, appendFrame(&wire.PathChallengeFrame{Data: [8]byte{1, 2, 3}}), 0, wire.ProtocolViolation, wire.FrameTypePathChallenge)
}

// RFC 9000 §17.3.1: non-zero reserved bits in a short header are a
// PROTOCOL_VIOLATION.
func TestH3Spec_Case15_ShortHeaderReservedBits(t *testing.T) {
	h3spec1RTT(t, []byte{byte(wire.FrameTypePing)}, 0x18, wire.ProtocolViolation, 0)
}

// RFC 9000 §19.4: RESET_STREAM for a send-only stream (a server
// unidirectional stream, here ID 3) is a STREAM_STATE_ERROR.
func TestH3Spec_Case16_ResetStreamOnSendOnlyStream(t *testing.T) {
	h3spec1RTT(t, appendFrame(&wire.ResetStreamFrame{StreamID: 3, ErrorCode: 1}), 0, wire.StreamStateError, wire.FrameTypeResetStream)
}

// RFC 9000 §19.5: STOP_SENDING for a locally initiated stream that does
// not exist yet (server bidirectional stream 1) is a STREAM_STATE_ERROR;
// so is STOP_SENDING for a receive-only stream (client unidirectional 2).
func TestH3Spec_Case17_StopSendingNonExistingStream(t *testing.T) {
	t.Run("not-created", func(t *testing.T) {
		h3spec1RTT(t, appendFrame(&wire.StopSendingFrame{StreamID: 1, ErrorCode: 1}), 0, wire.StreamStateError, wire.FrameTypeStopSending)
	})
	t.Run("receive-only", func(t *testing.T) {
		h3spec1RTT(t, appendFrame(&wire.StopSendingFrame{StreamID: 2, ErrorCode: 1}), 0, wire.StreamStateError, wire.FrameTypeStopSending)
	})
}

// RFC 9000 §19.7: a server receiving NEW_TOKEN has a PROTOCOL_VIOLATION.
func TestH3Spec_Case18_NewTokenFromClient(t *testing.T) {
	h3spec1RTT(t, appendFrame(&wire.NewTokenFrame{Token: []byte("token")}), 0, wire.ProtocolViolation, wire.FrameTypeNewToken)
}

// RFC 9000 §19.8: STREAM for a locally initiated stream not yet created
// is a STREAM_STATE_ERROR.
func TestH3Spec_Case19_StreamForUncreatedLocalStream(t *testing.T) {
	h3spec1RTT(t, streamFrame(1, 0, []byte("x"), false), 0, wire.StreamStateError, wire.FrameTypeStream)
}

// RFC 9000 §19.8: STREAM for a send-only stream is a STREAM_STATE_ERROR.
func TestH3Spec_Case20_StreamForSendOnlyStream(t *testing.T) {
	h3spec1RTT(t, streamFrame(3, 0, []byte("x"), false), 0, wire.StreamStateError, wire.FrameTypeStream)
}

// RFC 9000 §19.10: MAX_STREAM_DATA for a locally initiated stream not yet
// created is a STREAM_STATE_ERROR.
func TestH3Spec_Case21_MaxStreamDataForUncreatedStream(t *testing.T) {
	h3spec1RTT(t, appendFrame(&wire.MaxStreamDataFrame{StreamID: 1, MaximumStreamData: 1000}), 0, wire.StreamStateError, wire.FrameTypeMaxStreamData)
}

// RFC 9000 §19.10: MAX_STREAM_DATA for a receive-only stream is a
// STREAM_STATE_ERROR.
func TestH3Spec_Case22_MaxStreamDataForReceiveOnlyStream(t *testing.T) {
	h3spec1RTT(t, appendFrame(&wire.MaxStreamDataFrame{StreamID: 2, MaximumStreamData: 1000}), 0, wire.StreamStateError, wire.FrameTypeMaxStreamData)
}

// RFC 9000 §19.11: MAX_STREAMS above 2^60 is a FRAME_ENCODING_ERROR.
func TestH3Spec_Case23_InvalidMaxStreams(t *testing.T) {
	fr := wire.AppendVarint([]byte{byte(wire.FrameTypeMaxStreamsBidi)}, 1<<60+1)
	h3spec1RTT(t, fr, 0, wire.FrameEncodingError, wire.FrameTypeMaxStreamsBidi)
}

// RFC 9000 §19.14: STREAMS_BLOCKED above 2^60 is a STREAM_LIMIT_ERROR or
// FRAME_ENCODING_ERROR; skiff uses the latter.
func TestH3Spec_Case24_InvalidStreamsBlocked(t *testing.T) {
	fr := wire.AppendVarint([]byte{byte(wire.FrameTypeStreamsBlockedBidi)}, 1<<60+1)
	h3spec1RTT(t, fr, 0, wire.FrameEncodingError, wire.FrameTypeStreamsBlockedBidi)
}

// newConnectionIDFrame encodes NEW_CONNECTION_ID by hand, so that invalid
// fields can be written.
func newConnectionIDFrame(seq, retirePriorTo uint64, cid []byte) []byte {
	b := []byte{byte(wire.FrameTypeNewConnectionID)}
	b = wire.AppendVarint(b, seq)
	b = wire.AppendVarint(b, retirePriorTo)
	b = append(b, byte(len(cid)))
	b = append(b, cid...)
	return append(b, make([]byte, wire.StatelessResetTokenLen)...)
}

// RFC 9000 §19.15: Retire Prior To above the Sequence Number is a
// FRAME_ENCODING_ERROR.
func TestH3Spec_Case25_NewConnectionIDRetirePriorToAboveSequence(t *testing.T) {
	h3spec1RTT(t, newConnectionIDFrame(1, 2, []byte{1, 2, 3, 4, 5, 6, 7, 8}), 0, wire.FrameEncodingError, wire.FrameTypeNewConnectionID)
}

// RFC 9000 §19.15: a zero-length connection ID is a FRAME_ENCODING_ERROR.
func TestH3Spec_Case26_NewConnectionIDZeroLength(t *testing.T) {
	h3spec1RTT(t, newConnectionIDFrame(1, 0, nil), 0, wire.FrameEncodingError, wire.FrameTypeNewConnectionID)
}

// RFC 9000 §19.20: a server receiving HANDSHAKE_DONE has a
// PROTOCOL_VIOLATION.
func TestH3Spec_Case27_HandshakeDoneFromClient(t *testing.T) {
	h3spec1RTT(t, []byte{byte(wire.FrameTypeHandshakeDone)}, 0, wire.ProtocolViolation, wire.FrameTypeHandshakeDone)
}

// tlsMessage is a TLS handshake message header with an empty or short body.
func tlsMessage(typ byte, body ...byte) []byte {
	return append([]byte{typ, 0, 0, byte(len(body))}, body...)
}

// RFC 9001 §6: a TLS KeyUpdate message is forbidden in QUIC: the alert is
// unexpected_message, CRYPTO_ERROR 0x10a.
func TestH3Spec_Case28_KeyUpdateInHandshake(t *testing.T) {
	fr := appendFrame(&wire.CryptoFrame{Offset: 0, Data: tlsMessage(24, 0)})
	h3specHandshake(t, fr, 0, wire.CryptoError(uint8(tls13.AlertUnexpectedMessage)), wire.FrameTypeCrypto)
}

// RFC 9001 §6: the same for a KeyUpdate in 1-RTT CRYPTO data.
func TestH3Spec_Case29_KeyUpdateIn1RTT(t *testing.T) {
	fr := appendFrame(&wire.CryptoFrame{Offset: 0, Data: tlsMessage(24, 0)})
	h3spec1RTT(t, fr, 0, wire.CryptoError(uint8(tls13.AlertUnexpectedMessage)), wire.FrameTypeCrypto)
}

// RFC 9001 §8.1: no common application protocol is the
// no_application_protocol alert (CRYPTO_ERROR 0x178).
func TestH3Spec_Case30_NoApplicationProtocol(t *testing.T) {
	cc, sc := cheapConfigs(t)
	cc.TLS.NextProtos = []string{"h3", "hq-interop"}
	p := newTestPairWith(t, cc, sc)
	h3specHello(t, p, tls13.AlertNoApplicationProtocol)
}

const extQUICTransportParameters = 0x39

// RFC 9001 §8.2: a ClientHello without quic_transport_parameters gets
// missing_extension (CRYPTO_ERROR 0x16d).
func TestH3Spec_Case31_MissingTransportParameters(t *testing.T) {
	p := h3specPair(t)
	params := sentLocalParams(p.client)
	restartClientTLS(t, p.client, params.Append(nil, 0), func(ch []byte) []byte {
		return rewriteExtensions(t, ch, func(typ int) int {
			if typ == extQUICTransportParameters {
				return -1
			}
			return typ
		})
	})
	h3specHello(t, p, tls13.AlertMissingExtension)
}

// RFC 9001 §8.2: the same when the parameters come only under the draft
// codepoint 0xffa5, which QUIC version 1 does not use (the second h3spec
// variant of the case).
func TestH3Spec_Case32_TransportParametersUnderDraftCodepoint(t *testing.T) {
	p := h3specPair(t)
	params := sentLocalParams(p.client)
	restartClientTLS(t, p.client, params.Append(nil, 0), func(ch []byte) []byte {
		return rewriteExtensions(t, ch, func(typ int) int {
			if typ == extQUICTransportParameters {
				return 0xffa5
			}
			return typ
		})
	})
	h3specHello(t, p, tls13.AlertMissingExtension)
}

// RFC 9001 §8.3: a client must not send EndOfEarlyData; receiving it is
// unexpected_message.
func TestH3Spec_Case33_EndOfEarlyData(t *testing.T) {
	fr := appendFrame(&wire.CryptoFrame{Offset: 0, Data: tlsMessage(5)})
	h3specHandshake(t, fr, 0, wire.CryptoError(uint8(tls13.AlertUnexpectedMessage)), wire.FrameTypeCrypto)
}

// RFC 9001 §8.3 / RFC 9000 §12.5: CRYPTO in a 0-RTT packet is a
// PROTOCOL_VIOLATION. skiff accepts no 0-RTT yet (the server issues no
// session tickets and has no 0-RTT read keys), so such a packet cannot even
// be decrypted and is dropped: the test checks that, and that the frame
// rule itself holds for a packet of type 0-RTT at the frame layer.
func TestH3Spec_Case34_CryptoIn0RTT(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	cryptoFrame := appendFrame(&wire.CryptoFrame{Offset: 0, Data: []byte("hello")})
	_, err := p.server.handleFrames(p.server.idle.lastNow, recovery.SpaceAppData, wire.Packet0RTT, cryptoFrame, nil)
	if te := asTransportError(err); err == nil || te.Code != wire.ProtocolViolation || te.FrameType != wire.FrameTypeCrypto {
		t.Fatalf("CRYPTO in 0-RTT: %v, want PROTOCOL_VIOLATION for CRYPTO", err)
	}

	// A 0-RTT packet on the wire, with keys the server cannot have.
	keys, err := protect.NewKeys(uint32(wire.Version1), protect.TLS_AES_128_GCM_SHA256, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	c := p.client
	h := wire.Header{Type: wire.Packet0RTT, Version: c.version, DCID: c.ids.peerDCID(), SCID: c.ids.handshakeSCID()}
	buf, lengthOffset, pnOffset := wire.AppendLongHeader(make([]byte, 0, 256), &h, 0, 4)
	buf = append(buf, cryptoFrame...)
	if err := wire.PutLongHeaderLength(buf, lengthOffset, len(buf)-pnOffset+protect.TagLen); err != nil {
		t.Fatal(err)
	}
	pkt, err := keys.SealPacket(buf, pnOffset, 0)
	if err != nil {
		t.Fatal(err)
	}
	p.server.HandleDatagram(p.now, pkt, clientAddr, 0)
	if p.server.closing.state != stateOpen {
		t.Fatalf("server closed on an undecryptable 0-RTT packet: %+v", p.server.closing.frame)
	}
}
