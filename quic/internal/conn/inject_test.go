package conn

import (
	"slices"
	"testing"

	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/streambuf"
	"github.com/skiffnet/skiff/quic/internal/testcert"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// Helpers for trace-style tests: a test plays a misbehaving peer by
// building packets by hand with a connection's own keys, or by changing
// what its handshake sends, and then checks the CONNECTION_CLOSE the other
// side answers with.

// cheapConfigs returns client and server Configs with the certificate of
// this test binary (testcert.Shared).
func cheapConfigs(t testing.TB) (client, server *Config) {
	c, s := testcert.Shared(t)
	return &Config{TLS: c}, &Config{TLS: s}
}

// sealedPacket builds a packet c would send in space, holding the given
// plaintext frames, protected with c's current write keys. firstBits are
// OR-ed into the first byte before protection (reserved bits). keys and
// phase, when keys is not nil, replace the 1-RTT keys and key phase.
// The packet number is taken from c's own sequence, so c's later packets
// do not collide with it.
func sealedPacket(t testing.TB, c *Conn, space recovery.Space, frames []byte, firstBits byte, keys *protect.Keys, phase bool) []byte {
	t.Helper()
	sent := c.loss.NextPacket(space)
	pn := sent.PN
	c.loss.OnPacketSent(space, sent, c.idle.lastNow)
	const pnLen = 4 // any length decodes; 4 always leaves room for the sample
	buf := make([]byte, 0, 1500+protect.TagLen)
	var lengthOffset, pnOffset int
	switch space {
	case recovery.SpaceAppData:
		if keys == nil {
			keys, phase = c.keys1RTT.write, c.keys1RTT.writePhase
		}
		dcid := c.ids.peerDCID()
		buf = wire.AppendShortHeader(buf, &dcid, wire.PacketNumber(pn), pnLen, phase, false)
		pnOffset = 1 + dcid.Len()
	default:
		h := wire.Header{Version: c.version, DCID: c.ids.peerDCID(), SCID: c.ids.handshakeSCID(), Type: wire.PacketHandshake}
		if space == recovery.SpaceInitial {
			h.Type = wire.PacketInitial
		}
		if keys == nil {
			keys = c.spaces[space].writeKeys
		}
		buf, lengthOffset, pnOffset = wire.AppendLongHeader(buf, &h, wire.PacketNumber(pn), pnLen)
	}
	if keys == nil {
		t.Fatalf("no %v write keys", space)
	}
	buf = append(buf, frames...)
	buf = slices.Grow(buf, protect.TagLen)
	buf[0] |= firstBits
	if space != recovery.SpaceAppData {
		if err := wire.PutLongHeaderLength(buf, lengthOffset, len(buf)-pnOffset+protect.TagLen); err != nil {
			t.Fatal(err)
		}
	}
	out, err := keys.SealPacket(buf, pnOffset, pn)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// clientSends delivers a hand-built client packet to the server.
func (p *testPair) clientSends(space recovery.Space, frames []byte, firstBits byte) {
	p.t.Helper()
	pkt := sealedPacket(p.t, p.client, space, frames, firstBits, nil, false)
	p.handOver(p.server, flight{b: pkt}, clientAddr, true)
}

// restartClientTLS replaces the client's handshake before anything was
// sent: params are the raw transport parameters it will send, and rewrite,
// when set, changes the ClientHello bytes on their way to the CRYPTO
// stream (the TLS transcript keeps the original, which is fine for tests
// that expect the server to reject the ClientHello).
func restartClientTLS(t testing.TB, c *Conn, params []byte, rewrite func([]byte) []byte) {
	t.Helper()
	c.tls = tls13.Client(c.config.TLS, params)
	c.cryptoStream(recovery.SpaceInitial).send = streambuf.Send{}
	if err := c.tls.Start(); err != nil {
		t.Fatal(err)
	}
	for {
		e := c.tls.NextEvent()
		if e.Kind == tls13.EventNone {
			return
		}
		if e.Kind != tls13.EventWriteData {
			t.Fatalf("unexpected handshake event %v at start", e.Kind)
		}
		data := e.Data
		if rewrite != nil {
			data = rewrite(append([]byte(nil), data...))
		}
		c.cryptoStream(spaceOf(e.Level)).send.Write(data)
	}
}

// withClientParams restarts the client's handshake with its transport
// parameters changed by mutate.
func withClientParams(t testing.TB, c *Conn, mutate func(*wire.TransportParameters)) {
	t.Helper()
	tp := sentLocalParams(c)
	mutate(&tp)
	restartClientTLS(t, c, tp.Append(nil, 0), nil)
}

// rewriteExtensions returns a ClientHello message with each extension
// passed through f: f returns the new type, or -1 to drop the extension.
func rewriteExtensions(t testing.TB, msg []byte, f func(typ int) int) []byte {
	t.Helper()
	if len(msg) < 4+2+32+1 || msg[0] != 1 {
		t.Fatal("not a ClientHello")
	}
	body := msg[4:]
	pos := 2 + 32
	pos += 1 + int(body[pos])                         // legacy_session_id
	pos += 2 + (int(body[pos])<<8 | int(body[pos+1])) // cipher_suites
	pos += 1 + int(body[pos])                         // legacy_compression_methods
	extLen := int(body[pos])<<8 | int(body[pos+1])
	exts := body[pos+2 : pos+2+extLen]
	var out []byte
	for len(exts) >= 4 {
		typ := int(exts[0])<<8 | int(exts[1])
		n := int(exts[2])<<8 | int(exts[3])
		e := exts[:4+n]
		exts = exts[4+n:]
		nt := f(typ)
		if nt < 0 {
			continue
		}
		out = append(out, byte(nt>>8), byte(nt))
		out = append(out, e[2:]...)
	}
	nb := append([]byte(nil), body[:pos]...)
	nb = append(nb, byte(len(out)>>8), byte(len(out)))
	nb = append(nb, out...)
	m := []byte{1, byte(len(nb) >> 16), byte(len(nb) >> 8), byte(len(nb))}
	return append(m, nb...)
}

// expectClose checks that c closed with the transport error code (and, when
// checkFrame is set, the frame type), and that the peer learned exactly
// that error from the CONNECTION_CLOSE on the wire.
func (p *testPair) expectClose(c *Conn, code TransportErrorCode, frameType wire.FrameType, checkFrame bool) {
	t := p.t
	t.Helper()
	if c.closing.state != stateClosing {
		t.Fatalf("connection (client=%v) is not closing (state %d); want %v", c.isClient, c.closing.state, code)
	}
	f := c.closing.frame
	if f.Application || TransportErrorCode(f.ErrorCode) != code {
		t.Fatalf("closed with %v (app=%v, %q); want %v", TransportErrorCode(f.ErrorCode), f.Application, f.ReasonPhrase, code)
	}
	if checkFrame && f.FrameType != frameType {
		t.Fatalf("CONNECTION_CLOSE frame type %v; want %v", f.FrameType, frameType)
	}
	peer := p.client
	if c == p.client {
		peer = p.server
	}
	p.runUntil("the peer read the CONNECTION_CLOSE", func() bool { return peer.closing.reason != nil })
	if r := peer.closing.reason; r.Kind != ReasonTransport || !r.Remote || TransportErrorCode(r.Code) != code || (checkFrame && r.FrameType != uint64(frameType)) {
		t.Fatalf("the peer saw %+v; want a remote %v", r, code)
	}
}

// frames concatenates encoded frames.
func frames(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// appendFrame encodes a frame with an Append method.
func appendFrame(f interface{ Append([]byte) []byte }) []byte { return f.Append(nil) }

// sentLocalParams returns the transport parameters c sent in its
// handshake, rebuilt from its first connection ID.
func sentLocalParams(c *Conn) wire.TransportParameters {
	return c.buildLocalParams(c.ids.local[0].id)
}
