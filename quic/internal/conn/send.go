package conn

import (
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Kinds of recovery.SentFrame: what a sent packet carried that matters when
// it is acknowledged or lost. Frames are retransmitted as frames, with
// current values, never as packets (RFC 9000 §13.3).
const (
	sentStream uint8 = iota + 1 // ID stream, Offset, Length, Fin
	sentCrypto                  // Offset, Length
	sentAck                     // ID: the largest packet number acknowledged
	sentMaxData
	sentMaxStreamData // ID stream
	sentMaxStreamsBidi
	sentMaxStreamsUni
	sentDataBlocked
	sentStreamDataBlocked // ID stream
	sentStreamsBlockedBidi
	sentStreamsBlockedUni
	sentResetStream // ID stream
	sentStopSending // ID stream
	sentNewConnectionID
	sentRetireConnectionID
	sentHandshakeDone
	sentPing
	sentDatagram
	sentPathChallenge
	sentPathResponse
	sentMTUProbe
	sentAckFrequency // ID: the Sequence Number
	sentImmediateAck
	sentNewToken // ID: the token's index (newtoken.go)
)

// aeadTagLen is the size of the AEAD tag every protected packet ends with.
const aeadTagLen = 16

// minCoalesceRoom is the least room after a packet in which another
// packet of the datagram can go: a long header, a few bytes of frames and
// the AEAD tag.
const minCoalesceRoom = 64

// sendContext carries what one call to appendBurst may do.
type sendContext struct {
	now time.Duration
	// ackElicitingAllowed is false when the congestion window is full:
	// only ACK-only packets may go (RFC 9002 §7).
	ackElicitingAllowed bool
	// probe: the PTO fired; these packets ignore the congestion window
	// (RFC 9002 §6.2.4).
	probe bool
	// mtuProbe, when not 0, is the size of the path MTU probe the packet
	// is: a PING and padding.
	mtuProbe int
	// onPath: the packet carries the probing frames due on this path
	// (path.go), padded.
	onPath *netPath
	dcid   wire.ConnectionID // with onPath: the path's
	// ect: the datagram goes out marked ECT(0) (RFC 9000 §13.4.2).
	ect bool
	// zeroRTT: the application data packet being built is a 0-RTT packet,
	// which carries no ACK, path or connection ID frames (RFC 9000 §12.5,
	// §17.2.3).
	zeroRTT bool
}

// shouldMarkECT reports whether the next datagram carries ECT(0): ECN is
// on for this connection and its validation has not failed (RFC 9000
// §13.4.2, Appendix A.4; the state lives in recovery).
func (c *Conn) shouldMarkECT() bool {
	return c.ecnEnabled && c.loss.ShouldMarkECT()
}

// AppendBurst writes the datagrams due now to buf, one after another, all
// of segSize bytes but the last, which may be shorter: one GSO burst of at
// most maxDatagrams. An empty result means nothing is due before
// deadline(). It also reports whether the burst is to be marked ECT(0):
// the mark is one per burst, as the socket sets it per send call, so a
// burst ends where the validation state would change it. MTU probes and
// CONNECTION_CLOSE go unmarked, outside validation.
func (c *Conn) AppendBurst(nowT time.Time, buf []byte, maxDatagrams int) (out []byte, segSize int, ect bool) {
	now := c.mono(nowT)
	c.ackFreq.quietBurst = false // a new burst (see ackFreqState)
	if c.closing.state != stateOpen {
		return c.appendClose(now, buf), 0, false
	}
	if cur := c.path.cur; cur.pathFramesDue() {
		// PATH_CHALLENGE and PATH_RESPONSE go in a datagram of their own,
		// padded to 1200 bytes (RFC 9000 §8.2.1, §8.2.2).
		if out := c.appendPathDatagram(now, buf, cur); len(out) > len(buf) {
			return out, 0, false
		}
	}
	budget, _ := c.cc.SendBudget(now)
	size := c.pmtu.mtu
	if c.pmtu.state == probeDue && c.handshakeConfirmed && c.path.curValidated() && budget > 0 && c.probes == 0 {
		// A path MTU probe travels alone (RFC 8899 §4.1). Unmarked: its
		// loss says the packet was too large, and counting it as a lost
		// marked packet would mislead ECN validation.
		return c.appendMTUProbe(now, buf), 0, false
	}
	for i := 0; i < maxDatagrams; i++ {
		mark := c.shouldMarkECT()
		if i > 0 && mark != ect {
			break // the validation state changed: the mark with it
		}
		ect = mark
		ctx := sendContext{now: now, ect: mark}
		switch {
		case c.probes > 0:
			ctx.probe, ctx.ackElicitingAllowed = true, true
		case budget > 0:
			ctx.ackElicitingAllowed = true
		}
		limit := size
		if ctx.probe {
			// PTO probes go at 1200 bytes: if the path's MTU fell, they
			// still get through, and their acknowledgment shows the
			// larger packets lost (black hole detection, pmtu.go).
			limit = min(limit, InitialMaxDatagramSize)
		}
		if segSize > 0 {
			limit = min(limit, segSize)
		}
		start := len(buf)
		buf = c.appendDatagram(&ctx, buf, limit)
		n := len(buf) - start
		if n == 0 {
			break
		}
		if ctx.probe {
			c.probes--
		} else if budget > 0 {
			budget--
		}
		if segSize == 0 {
			segSize = n
		}
		if n < segSize {
			break // a short datagram ends a GSO burst
		}
	}
	c.checkApplicationLimited(budget)
	return buf, segSize, ect
}

// minDatagramRoom is the least room worth a datagram under the
// anti-amplification limit.
const minDatagramRoom = 64

// appendDatagram writes one datagram, coalescing packets of every space
// with something to send (RFC 9000 §12.2), into buf with at most limit
// bytes.
func (c *Conn) appendDatagram(ctx *sendContext, buf []byte, limit int) []byte {
	// RFC 9000 §8.1: before the client's address is validated a server
	// sends at most three times what it received.
	if allowed := c.path.allowance(c.path.cur); allowed < limit {
		limit = allowed
		if limit < minDatagramRoom {
			return buf
		}
	}
	start := len(buf)
	if c.spaces[recovery.SpaceInitial].discarded && c.spaces[recovery.SpaceHandshake].discarded {
		// After the handshake (RFC 9001 §4.9), as for every datagram of
		// a bulk transfer: one 1-RTT packet, nothing to coalesce or pad.
		if c.wantSend(ctx, recovery.SpaceAppData) {
			buf = c.appendPacket(ctx, buf, recovery.SpaceAppData, start+limit, 0)
		}
		return c.countDatagram(buf, start)
	}
	// Which spaces have something to say, so the last one can take the
	// padding.
	var want [3]bool
	for s := range c.spaces {
		want[s] = c.wantSend(ctx, recovery.Space(s))
	}
	if c.isClient && want[recovery.SpaceInitial] && want[recovery.SpaceHandshake] && c.initialAckOnly(ctx) {
		// The client's first Handshake packet makes both sides drop the
		// Initial keys (RFC 9001 §4.9.1): an Initial that would only
		// acknowledge is moot, and would cost the datagram its padding
		// to 1200 bytes (RFC 9000 §14.1).
		want[recovery.SpaceInitial] = false
	}
	last := -1
	for s := range c.spaces {
		if want[s] {
			last = s
		}
	}
	if last < 0 {
		return buf
	}
	hasInitial := false
	for s := range c.spaces {
		if !want[s] {
			continue
		}
		space := recovery.Space(s)
		padTo := 0
		if s == last && (hasInitial || space == recovery.SpaceInitial) && (c.isClient || c.initialAckEliciting(ctx)) {
			// RFC 9000 §14.1: a client pads every datagram with an
			// Initial packet to 1200 bytes; so does a server whose
			// Initial is ack-eliciting.
			padTo = start + InitialMaxDatagramSize
		}
		before := len(buf)
		buf = c.appendPacket(ctx, buf, space, start+limit, padTo)
		if len(buf) > before && space == recovery.SpaceInitial {
			hasInitial = true
		}
		if len(buf) > before && space == recovery.SpaceHandshake && c.isClient {
			// RFC 9001 §4.9.1: a client drops Initial keys when it first
			// sends a Handshake packet.
			c.discardSpace(recovery.SpaceInitial)
		}
	}
	return c.countDatagram(buf, start)
}

// countDatagram counts the datagram appendDatagram wrote from start, if
// any, and returns buf.
func (c *Conn) countDatagram(buf []byte, start int) []byte {
	if n := len(buf) - start; n > 0 {
		c.stats.DatagramsSent++
		c.stats.BytesSent += uint64(n)
		c.path.cur.sent += uint64(n)
	}
	return buf
}

// initialAckOnly reports whether a client's Initial would carry nothing
// but an ACK frame now.
func (c *Conn) initialAckOnly(ctx *sendContext) bool {
	sp := &c.spaces[recovery.SpaceInitial]
	return !sp.cryptoPending() && !(ctx.probe && c.probeSpace == recovery.SpaceInitial)
}

// initialAckEliciting reports whether a server Initial would carry CRYPTO
// data now, which obliges it to pad.
func (c *Conn) initialAckEliciting(ctx *sendContext) bool {
	sp := &c.spaces[recovery.SpaceInitial]
	return ctx.ackElicitingAllowed && sp.cryptoPending()
}

// wantSend reports whether the space has a packet to send now.
func (c *Conn) wantSend(ctx *sendContext, space recovery.Space) bool {
	sp := &c.spaces[space]
	if sp.discarded || (sp.writeKeys == nil && (space != recovery.SpaceAppData || !c.sending0RTT())) {
		return false
	}
	if space == recovery.SpaceInitial && c.versionUndecided() {
		// RFC 9368 §2.3: a server that negotiates another version
		// answers the client's first flight as if it came in that
		// version, which it knows once it has read the whole
		// ClientHello: an ACK of the flight's first datagram would go
		// out in the original version. The client's PTO covers a
		// datagram of the flight that is lost.
		return false
	}
	if ackDue(sp.received, ctx.now) && (space != recovery.SpaceAppData || !c.sending0RTT()) {
		return true
	}
	if !ctx.ackElicitingAllowed {
		return false
	}
	if ctx.probe && c.probeSpace == space {
		return true
	}
	if sp.cryptoPending() {
		return true
	}
	if space == recovery.SpaceAppData {
		return c.appDataPending()
	}
	return false
}

// appendPacket writes one packet of the space into buf, ending no later
// than end and padded to reach padTo (0 for no padding). It returns buf
// unchanged when there is nothing to put in it.
func (c *Conn) appendPacket(ctx *sendContext, buf []byte, space recovery.Space, end, padTo int) []byte {
	sp := &c.spaces[space]
	keys := sp.writeKeys
	ctx.zeroRTT = space == recovery.SpaceAppData && c.sending0RTT()
	switch {
	case ctx.zeroRTT:
		keys = c.keys0RTT
	case space == recovery.SpaceAppData:
		keys = c.keys1RTT.write
	}
	start := len(buf)
	sent := c.loss.NextPacket(space)
	pn := wire.PacketNumber(sent.PN)
	largestAcked := wire.NoPacketNumber
	if la, ok := c.loss.LargestAcked(space); ok {
		largestAcked = wire.PacketNumber(la)
	}
	pnLen := wire.PacketNumberLen(pn, largestAcked)

	var lengthOffset, pnOffset int
	if space == recovery.SpaceAppData && !ctx.zeroRTT {
		dcid := c.ids.peerDCIDRef()
		if ctx.onPath != nil {
			dcid = &ctx.dcid
		}
		buf = wire.AppendShortHeader(buf, dcid, pn, pnLen, c.keys1RTT.writePhase, false)
		pnOffset = 1 + dcid.Len()
	} else {
		h := wire.Header{Version: c.version, DCID: c.ids.peerDCID(), SCID: c.ids.handshakeSCID()}
		switch space {
		case recovery.SpaceInitial:
			h.Type = wire.PacketInitial
			h.Token = c.retryToken
		case recovery.SpaceHandshake:
			h.Type = wire.PacketHandshake
		default:
			// RFC 9369 §4.1: 0-RTT packets keep the original version.
			h.Type, h.Version = wire.Packet0RTT, c.vn.original
		}
		buf, lengthOffset, pnOffset = wire.AppendLongHeader(buf, &h, pn, pnLen)
		lengthOffset += start
	}
	pnOffset += start
	payloadStart := len(buf)
	// Leave room for the AEAD tag.
	end -= aeadTagLen
	if end-payloadStart < 8 {
		return buf[:start]
	}
	sent.TimeSent = ctx.now
	// Zeroed in place, then set field by field: a composite literal is
	// built in a temporary and copied over, and the copy's 16-byte loads
	// of the temporary's 8-byte stores stalled (store forwarding) at the
	// hottest instruction of appendPacket in a bulk sender's profile.
	var f frameWriter
	f.c, f.buf, f.end, f.sent = c, buf, end, sent
	f.tail.payload = payloadStart
	f.tail.allowed = !c.tracePayloads()

	switch {
	case c.closeFrameToSend != nil:
		if f.room() >= c.closeFrameToSend.Len() {
			f.buf = c.closeFrameToSend.Append(f.buf)
			f.closeOnly = true
		}
	case ctx.mtuProbe > 0:
		f.appendPing()
		f.record(sentMTUProbe, uint64(ctx.mtuProbe), 0, 0, false)
	case ctx.onPath != nil:
		c.appendPathFrames(&f, ctx.onPath, ctx.now)
	default:
		if !ctx.zeroRTT && sp.received.Pending() && (ackDue(sp.received, ctx.now) || ctx.ackElicitingAllowed) {
			f.appendAck(space)
		}
		if ctx.ackElicitingAllowed {
			if space == recovery.SpaceAppData {
				c.appendAppFrames(ctx, &f)
			}
			if sp.cryptoPending() {
				// Checked here, with a static call: after the handshake
				// this runs for every packet with nothing to send.
				f.appendCrypto(&sp.crypto.send)
			}
			if ctx.probe && c.probeSpace == space && space == recovery.SpaceAppData && c.ackFreq.peerSupports && f.room() >= 1 {
				// ack-frequency §7: a probe asks to be acknowledged at
				// once, so that the peer's delay does not add to ours.
				f.buf = append(f.buf, byte(wire.FrameTypeImmediateAck))
				f.record(sentImmediateAck, 0, 0, 0, false)
			}
			if ctx.probe && !f.ackEliciting && c.probeSpace == space {
				// RFC 9002 §6.2.4: a probe must be ack-eliciting.
				f.appendPing()
			}
		}
	}
	if !f.sealable(len(f.buf)) {
		f.copyTail() // frames follow the data
	}
	buf = f.buf
	if len(buf) == payloadStart {
		return buf[:start]
	}
	if space == recovery.SpaceInitial && (c.isClient || f.ackEliciting) && end-len(buf) < minCoalesceRoom {
		// RFC 9000 §14.1: the datagram must reach 1200 bytes, and an
		// Initial that leaves no room for the packet meant to follow
		// (and to take the padding) takes the padding itself.
		padTo = max(padTo, end+aeadTagLen)
	}
	if space == recovery.SpaceAppData && f.ackEliciting && !f.closeOnly && end-len(buf) < minStreamFrameRoom {
		// A nearly full packet is padded to full: every datagram of a GSO
		// burst but the last must have the same size, so one a few bytes
		// short (a STREAM frame cut at a buffer boundary) would end the
		// burst. The packet is ack-eliciting, so in flight anyway.
		padTo = max(padTo, end+aeadTagLen)
	}
	// RFC 9001 §5.4.2: the header protection sample starts 4 bytes after
	// the Packet Number field, so payload plus packet number must reach 4
	// bytes; and padding reaches padTo.
	need := max(payloadStart+4-pnLen, padTo-aeadTagLen)
	if need > end {
		need = end
	}
	if len(buf) < need {
		f.copyTail()
		buf = wire.AppendPadding(buf, need-len(buf))
		f.padded = true
	}
	if space != recovery.SpaceAppData || ctx.zeroRTT {
		length := len(buf) - pnOffset + aeadTagLen
		if err := wire.PutLongHeaderLength(buf[start:], lengthOffset-start, length); err != nil {
			return buf[:start]
		}
	}
	c.traceCopyPayload(buf[payloadStart:])
	var sealed []byte
	var err error
	if f.sealable(len(buf)) {
		sealed, err = f.sealFrom(keys, buf[start:payloadStart], pnOffset-start, uint64(pn), buf)
	} else {
		sealed, err = keys.SealPacket(buf[start:], pnOffset-start, uint64(pn))
	}
	if err != nil {
		return buf[:start]
	}
	buf = buf[:start+len(sealed)]
	sent.Size = len(sealed)
	sent.AckEliciting = f.ackEliciting
	// RFC 9000 §13.4.2: every packet of a marked datagram counts for
	// validation, ACK-only ones too (the peer counts them as well).
	sent.ECT = ctx.ect
	// RFC 9002 §2: a packet is in flight if it is ack-eliciting or
	// carries PADDING.
	sent.InFlight = f.ackEliciting || f.padded
	// Probes, of the path MTU or of a path, are no congestion signal when
	// lost (RFC 8899 §3, RFC 9000 §9.4).
	sent.PMTUProbe = ctx.mtuProbe > 0 || ctx.onPath != nil
	c.loss.OnPacketSent(space, sent, ctx.now)
	c.stats.PacketsSent++
	if space == recovery.SpaceAppData && !ctx.zeroRTT {
		c.keys1RTT.onPacketSent()
	}
	if f.ackEliciting {
		c.idle.onAckElicitingSent(ctx.now)
	}
	if cur := c.path.cur; !cur.validated && (ctx.onPath == nil || ctx.onPath == cur) {
		c.loss.SetAmplificationBlocked(c.path.allowance(cur) <= len(sealed))
	}
	c.tracePacketSent(space, sent, ctx.probe)
	return buf
}

// frameWriter appends frames to a packet under construction and records
// them in the packet's recovery entry.
type frameWriter struct {
	c            *Conn
	buf          []byte
	end          int // frames must end before this offset in buf
	sent         *recovery.SentPacket
	ackEliciting bool
	padded       bool
	closeOnly    bool // the packet carries CONNECTION_CLOSE
	tail         sealFromTail
}

// ackDue reports whether an ACK frame must go out now.
func ackDue(t *recovery.ReceivedTracker, now time.Duration) bool {
	d, ok := t.AckDeadline()
	return ok && d <= now
}

// maxAckFrameSize bounds the ACK frames ReceivedTracker builds: type,
// four varints and up to MaxAckRanges ranges of two varints.
const maxAckFrameSize = 1 + 4*8 + 3*8 + recovery.MaxAckRanges*16

// minAckRoom is the room appendAck wants for an ACK frame.
const minAckRoom = min(maxAckFrameSize, 256)

// maxLongPacketOverhead bounds what an Initial or Handshake packet of a
// server adds to its frames: the first byte, the version, both connection
// IDs with their lengths, an empty token's length, the Length field, the
// packet number and the AEAD tag.
const maxLongPacketOverhead = 1 + 4 + 2*(1+wire.MaxConnectionIDLen) + 1 + 2 + 4 + aeadTagLen

func (f *frameWriter) room() int { return f.end - len(f.buf) }

// record notes a frame of the packet for loss recovery. The entry is
// grown in place and set field by field: appending a SentFrame literal
// built it in a temporary and copied it over, and the copy stalled on the
// temporary's stores (store forwarding) at the hottest instruction of a
// bulk sender's appendDataOf.
func (f *frameWriter) record(kind uint8, id, offset, length uint64, fin bool) {
	f.sent.Frames = append(f.sent.Frames, recovery.SentFrame{})
	fr := &f.sent.Frames[len(f.sent.Frames)-1]
	fr.Kind, fr.Fin, fr.ID, fr.Offset, fr.Length = kind, fin, id, offset, length
	if kind != sentAck {
		f.ackEliciting = true
	}
}

func (f *frameWriter) appendAck(space recovery.Space) {
	sp := &f.c.spaces[space]
	exp := uint8(wire.DefaultAckDelayExponent)
	if space != recovery.SpaceAppData {
		exp = 0 // the ACK delay of Initial and Handshake ACKs is ignored
	}
	if f.room() < minAckRoom {
		return
	}
	largest, ok := sp.received.LargestReceived()
	if !ok {
		return
	}
	before := len(f.buf)
	f.buf = sp.received.AppendAckFrame(f.buf, f.sent.TimeSent, exp)
	if len(f.buf) > f.end {
		// More ranges than room: cannot happen with MaxAckRanges ranges of
		// packet numbers below 2^32, but never write past the packet.
		f.buf = f.buf[:before]
		return
	}
	if len(f.buf) > before {
		f.record(sentAck, largest, 0, 0, false)
	}
}

func (f *frameWriter) appendPing() {
	if f.room() < 1 {
		return
	}
	f.buf = append(f.buf, byte(wire.FrameTypePing))
	f.record(sentPing, 0, 0, 0, false)
}

// appendCrypto appends CRYPTO frames from the space's crypto stream.
func (f *frameWriter) appendCrypto(s interface {
	HasData(uint64) bool
	Next(int, uint64) (uint64, []byte, bool, bool)
}) {
	for s.HasData(1 << 62) {
		// Overhead: type, offset (≤ 8), length (≤ 2: at most 16383).
		room := min(f.room()-1-8-2, maxTwoByteVarint)
		if room < 16 {
			return
		}
		off, data, _, ok := s.Next(room, 1<<62)
		if !ok {
			return
		}
		fr := wire.CryptoFrame{Offset: off, Data: data}
		f.buf = fr.Append(f.buf)
		f.record(sentCrypto, 0, off, uint64(len(data)), false)
	}
}

// Deadline is when the owner must next call HandleTimer, or the zero time
// for never.
func (c *Conn) Deadline() time.Time {
	d := congestion.Never
	consider := func(t time.Duration, ok bool) {
		if ok && t < d {
			d = t
		}
	}
	if c.closing.state != stateOpen {
		consider(c.closing.deadline, true)
		return c.wall(d)
	}
	consider(c.loss.LossDetectionDeadline())
	// An endpoint at its anti-amplification limit (RFC 9000 §8.1,
	// §9.3.1: a server on a path not yet validated) can send nothing
	// until more arrives from the peer, which wakes it anyway: an ACK or
	// a paced packet due now would only spin the owner's loop.
	room := c.path.allowance(c.path.cur)
	blocked := room < minDatagramRoom
	// An ACK frame wants more room than that (appendAck), with its
	// packet's header and tag: between the two, a server validating a
	// path (whose challenges keep part of the allowance, path.go) spun
	// on an ACK due that it could not send.
	overhead := [...]int{maxLongPacketOverhead, maxLongPacketOverhead, c.shortPacketOverhead()}
	for s := range c.spaces {
		if room >= minAckRoom+overhead[s] && !c.spaces[s].discarded && !(s == int(recovery.SpaceInitial) && c.versionUndecided()) {
			consider(c.spaces[s].received.AckDeadline())
		}
	}
	consider(c.idle.deadline(c.rtt.PTO(true)))
	consider(c.pathDeadline())
	consider(c.lastProbeDeadline())
	consider(c.pmtu.raiseDeadline())
	// The pacer's next slot matters only when there is something to send.
	if !blocked && c.hasPendingData() {
		if packets, next := c.cc.SendBudget(c.idle.lastNow); packets == 0 && next != congestion.Never {
			consider(next, true)
		}
	}
	if d == congestion.Never {
		return time.Time{}
	}
	return c.wall(d)
}

// hasPendingData reports whether anything ack-eliciting waits to be sent.
func (c *Conn) hasPendingData() bool {
	for s := range c.spaces {
		sp := &c.spaces[s]
		if !sp.discarded && sp.writeKeys != nil && sp.cryptoPending() {
			return true
		}
	}
	return c.canSendAppData() && c.appDataPending()
}

// HandleTimer runs what is due at now: loss detection, PTO, idle timeout,
// the last probe before it (lastprobe.go), closing timers. Delayed ACKs and paced packets need nothing here: the
// owner calls AppendBurst after every HandleTimer.
func (c *Conn) HandleTimer(nowT time.Time) {
	now := c.mono(nowT)
	c.idle.lastNow = now
	if c.closing.state != stateOpen {
		c.closing.onTimer(c, now)
		return
	}
	if c.idle.expired(now, c.rtt.PTO(true)) {
		// RFC 9000 §10.1: the connection closes silently.
		c.enterDraining(now, &Reason{Kind: ReasonIdleTimeout}, true)
		return
	}
	if c.idle.handshakeExpired(now, c.handshakeComplete) {
		c.enterDraining(now, &Reason{Kind: ReasonHandshakeTimeout}, true)
		return
	}
	if c.idle.keepAliveDue(now) {
		c.pendingPing = true
	}
	c.onPathTimers(now)
	if c.closing.state != stateOpen {
		return
	}
	c.pmtu.onTimer(now)
	if t, ok := c.loss.LossDetectionDeadline(); ok && t <= now {
		res := &c.work().resolved
		space, n := c.loss.OnLossDetectionTimeout(now, res)
		c.onResolved(res)
		c.traceRecovery(len(res.Lost) > 0)
		if n > 0 {
			c.probeSpace, c.probes = space, uint8(min(n, 2))
			c.queueProbeData(space)
		}
	}
	c.onLastProbeTimer(now)
}
