package conn

import (
	"net/netip"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Paths (RFC 9000 §8, §9). A connection knows a few network paths: the
// current one, which carries its non-probing packets; the last validated
// one it may fall back to (§9.3.2); and paths being validated (a client's
// migration, the server's preferred address, a peer address seen after a
// NAT rebinding). Each has its own anti-amplification counters (§8.1:
// until the peer proves it receives at an address, a server sends there at
// most three times what it received from it), its own path validation with
// PATH_CHALLENGE and PATH_RESPONSE (§8.2), the PATH_RESPONSEs it owes, and
// the peer's connection ID it sends with (§9.5). migration.go moves the
// connection between paths; this file keeps their state and their frames.

// Path is a network path as the owner sees it: the local socket, by a
// number the owner gives it (0 for the socket the connection started on),
// and the peer's address.
type Path struct {
	Local  int
	Remote netip.AddrPort
}

const (
	// maxPaths bounds the path records: the current path, the one to fall
	// back to, and a couple being validated. A new peer address past it
	// replaces the least recently active record that is neither.
	maxPaths = 4
	// maxPathResponses bounds the PATH_RESPONSEs owed on a path: a peer
	// flooding PATH_CHALLENGE gets answers to the latest only, all in one
	// datagram.
	maxPathResponses = 4
	// maxChallenges bounds the PATH_CHALLENGEs a validation sends, each
	// with new data (§8.2.1), a PTO apart and doubling (§9.4), until the
	// timeout of 3 PTOs abandons it (§8.2.4): their intervals add up to
	// 255 PTOs, more than the timeout's 3 s for a PTO of 12 ms or more;
	// with a shorter one, planChallengeTimer stretches them. A retry
	// (revalidate.go) may send as many more. The data of the last ones
	// is kept for the PATH_RESPONSE that echoes them.
	maxChallenges = 8
	// pathFrameLen is the size of a PATH_CHALLENGE or PATH_RESPONSE
	// frame: the type and 8 bytes of data.
	pathFrameLen = 9
)

// netPath is one path's state.
type netPath struct {
	addr Path
	// validated: the peer proved it receives on this path, by answering a
	// PATH_CHALLENGE or, on the first path, through the handshake (§8.1).
	// Until then a server's bytes there are limited to 3× recvd.
	validated   bool
	recvd, sent uint64

	// Path validation (§8.2): the data of each PATH_CHALLENGE sent, when
	// the last went, when the next one is due (retransmitAt; challengeDue
	// once it is), the PTO the intervals double from (challengePTO), when
	// to give up.
	validating      bool
	challengeDue    bool
	challenges      [maxChallenges][8]byte
	nChallenges     int
	lastChallengeAt time.Duration
	retransmitAt    time.Duration
	challengePTO    time.Duration
	abandonAt       time.Duration
	// reserve is the part of the anti-amplification allowance kept for
	// the PATH_CHALLENGEs the validation will still send (challengeReserve).
	reserve int
	// expanded has bit i set when challenges[i] went in a datagram of
	// 1200 bytes or more (§8.2.1).
	expanded uint8
	// reprobe: the validation of a path validated before, which only
	// elicits packets there (§9.3.3); its failure changes nothing.
	reprobe bool
	// switchOnValid: the connection moves here once the path is validated
	// (a client's migration, the preferred address; a server's preferred
	// address after a non-probing packet arrived there, §9.6.2; a path
	// the server returned from, retry).
	switchOnValid bool
	// challengeLimit bounds nChallenges: maxChallenges for a validation,
	// as many more for each retry.
	challengeLimit int
	// retry: the server returned from this path to the last validated one
	// when its validation timed out (§9.3.2), but the peer's latest
	// non-probing packet came from here: the validation goes on until
	// retryUntil (revalidate.go). retryUntil stays set when the peer's
	// next packet makes the path current again.
	retry      bool
	retryUntil time.Duration
	// round is nChallenges when the challenges' intervals last started
	// from a PTO (pathPTO).
	round int

	responses  [maxPathResponses][8]byte
	nResponses int

	// hasDCID: the path has a connection ID of the peer's of its own,
	// sequence number dcidSeq; otherwise it sends with the current one
	// (as after a NAT rebinding, which §9.5 allows).
	dcidSeq uint64
	hasDCID bool
	// localID is our connection ID the peer last used on this path: a new
	// one on a new path says the peer migrated on purpose (§9.5).
	localID  wire.ConnectionID
	lastRecv time.Duration
	// saved holds the path's congestion state while another path is in
	// use, for a return here (§9.3, migration.go).
	saved *savedPath
}

// savedPath is the congestion state of a path the connection left.
type savedPath struct {
	cc   congestion.PacketController
	rtt  congestion.RTTStats
	pmtu pmtuState
}

// pathState is a connection's set of paths.
type pathState struct {
	isClient bool
	// peerDisableMigration: the peer sent disable_active_migration (§9),
	// which binds to the address of the handshake, handshakeRemote.
	peerDisableMigration bool
	// quietProbed, quietHeard, quietHeardAt: a client's probe of a
	// server gone quiet (quiet.go). They and the counters fill the room
	// the struct had: Conn stays within its size class.
	quietProbed bool
	paths       []*netPath
	cur         *netPath
	// fallback is the last validated path, while cur is not validated:
	// where the connection returns when cur's validation fails (§9.3.2).
	fallback *netPath
	// preferred is the server's preferred_address, at a client (§9.6).
	preferred       *wire.PreferredAddress
	handshakeRemote netip.AddrPort
	// rx is the datagram being processed.
	rx rxPath
	// Counters for Stats.
	changes, validations, failures uint32
	quietHeard                     uint32
	quietHeardAt                   time.Duration
}

// rxPath is the path of the datagram being processed: its record, once
// one of its packets was authenticated (a server makes one for a new
// address then), and whether the packet being processed is non-probing
// (§9.1).
type rxPath struct {
	addr       Path
	path       *netPath
	size       int
	counted    bool
	nonProbing bool
}

func (ps *pathState) init(peer netip.AddrPort, isClient bool) {
	ps.isClient = isClient
	// A client validated the server's address by choosing it.
	ps.handshakeRemote = unmapAddr(peer)
	ps.cur = &netPath{addr: Path{Remote: ps.handshakeRemote}, validated: isClient}
	ps.paths = []*netPath{ps.cur}
}

// unmapAddr turns an IPv4-mapped IPv6 address into IPv4, so that one peer
// has one address whichever socket family saw it.
func unmapAddr(a netip.AddrPort) netip.AddrPort {
	if a.Addr().Is4In6() {
		return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	}
	return a
}

// find returns the record of path *a, or nil.
func (ps *pathState) find(a *Path) *netPath {
	for _, p := range ps.paths {
		if p.addr == *a {
			return p
		}
	}
	return nil
}

// add makes a record for path a, replacing the least recently active
// record that is neither current nor the fallback when there are
// maxPaths; nil when none can go.
func (ps *pathState) add(a Path) *netPath {
	if len(ps.paths) >= maxPaths {
		var victim *netPath
		for _, p := range ps.paths {
			if p != ps.cur && p != ps.fallback && (victim == nil || p.lastRecv < victim.lastRecv) {
				victim = p
			}
		}
		if victim == nil {
			return nil
		}
		ps.remove(victim)
	}
	p := &netPath{addr: a}
	ps.paths = append(ps.paths, p)
	return p
}

func (ps *pathState) remove(p *netPath) {
	for i, q := range ps.paths {
		if q == p {
			copy(ps.paths[i:], ps.paths[i+1:])
			ps.paths[len(ps.paths)-1] = nil
			ps.paths = ps.paths[:len(ps.paths)-1]
			break
		}
	}
	if ps.fallback == p {
		ps.fallback = nil
	}
}

// amplificationRoom is how many more bytes may go on p: unlimited once
// the peer's address there is validated, and at a client (which chose the
// server's addresses); else three times what arrived there less what was
// sent (RFC 9000 §8.1, §9.3.1).
func (ps *pathState) amplificationRoom(p *netPath) int {
	if p.validated || ps.isClient {
		return 1 << 30
	}
	limit := 3 * p.recvd
	if p.sent >= limit {
		return 0
	}
	return int(min(limit-p.sent, 1<<30))
}

// allowance is how many more bytes packets other than path probes may
// take on p: amplificationRoom less the reserve of p's validation. A
// server whose first datagrams to a rebound client's new address are lost
// (the NAT's new mapping not working yet) must still be able to send the
// PATH_CHALLENGEs its timer owes (§8.2.1, §9.4): the client, which only
// receives, sends nothing that would raise the limit, and a server that
// had spent it all on stream data would wait for the idle timeout.
func (ps *pathState) allowance(p *netPath) int {
	room := ps.amplificationRoom(p)
	if room == 1<<30 || !p.validating {
		return room
	}
	return max(room-p.reserve, 0)
}

// curValidated reports whether the current path is validated.
func (ps *pathState) curValidated() bool { return ps.cur.validated }

// beginDatagram notes a datagram of n bytes that arrived on path a and
// reports whether to process it: a client drops datagrams from server
// addresses it does not know (§9).
//
// It takes a by pointer, sets ps.rx field by field, and copies a only
// when its address must be unmapped: a Path passed by value, a composite
// literal or a returned AddrPort is copied through a temporary, and the
// copy's 16-byte loads of the temporary's 8-byte stores stalled (store
// forwarding) in two thirds of this function's time in a bulk receiver's
// profile.
func (ps *pathState) beginDatagram(a *Path, n int) bool {
	if a.Remote.Addr().Is4In6() {
		u := Path{Local: a.Local, Remote: unmapAddr(a.Remote)}
		a = &u
	}
	p := ps.find(a)
	if p == nil && ps.isClient {
		return false
	}
	rx := &ps.rx
	rx.addr, rx.path, rx.size, rx.counted, rx.nonProbing = *a, p, n, false, false
	if p != nil {
		p.recvd += uint64(n)
		rx.counted = true
	}
	return true
}

// rxPathRecord returns the record of the path the datagram being
// processed came on, making one for a new peer address at a server once
// a packet of the datagram was authenticated; nil when none can be made.
func (ps *pathState) rxPathRecord(now time.Duration, dcid *wire.ConnectionID) *netPath {
	rx := &ps.rx
	if rx.path == nil {
		rx.path = ps.add(rx.addr)
		if rx.path == nil {
			return nil
		}
	}
	if !rx.counted {
		rx.path.recvd += uint64(rx.size)
		rx.counted = true
	}
	rx.path.lastRecv = now
	if rx.path.localID != *dcid {
		// (Compared first: the ID rarely changes, and the copy of a
		// ConnectionID through the stack stalled on store forwarding.)
		rx.path.localID = *dcid
	}
	return rx.path
}

// onPathChallenge queues the PATH_RESPONSE a challenge asks for, on the
// path it arrived on (RFC 9000 §8.2.2).
func (c *Conn) onPathChallenge(data [8]byte) {
	p := c.path.rx.path
	if p == nil {
		return
	}
	if p.nResponses == maxPathResponses {
		copy(p.responses[:], p.responses[1:])
		p.nResponses--
	}
	p.responses[p.nResponses] = data
	p.nResponses++
	if p == c.path.cur {
		// §9.3.3: a challenge on the active path is answered with a
		// non-probing packet too, which moves the peer back here if an
		// attacker's copies had moved it away.
		c.pendingPing = true
	}
}

// onPathResponse completes the validation of the path whose challenge it
// echoes, whichever path it arrived on: §8.2.2 forbids requiring the
// response on the challenged path, which would let an attacker stop a
// migration.
func (c *Conn) onPathResponse(now time.Duration, data [8]byte) {
	for _, p := range c.path.paths {
		if !p.validating {
			continue
		}
		for i := range min(p.nChallenges, maxChallenges) {
			if p.challenges[i] == data {
				reprobe := p.reprobe
				c.pathValidated(now, p)
				if p.expanded&(1<<i) == 0 && !reprobe && !p.validating {
					// §8.2.1, §8.2.3: a challenge the anti-amplification
					// limit kept below 1200 bytes validated the address,
					// not the path MTU: another validation, now expanded.
					c.startPathValidation(now, p, true)
				}
				return
			}
		}
	}
}

// startPathValidation sends PATH_CHALLENGEs on p until the peer answers
// or 3 PTOs pass (RFC 9000 §8.2.4: three times the larger of the current
// PTO and a new path's, with kInitialRtt). The current PTO is that of the
// RTT estimate in use: a server that follows a peer to a new address
// starts the validation before it resets the estimate for the new path
// (switchPath), and §9.4 resets it only "on confirming a peer's ownership
// of its new address" anyway.
func (c *Conn) startPathValidation(now time.Duration, p *netPath, reprobe bool) {
	p.validating, p.reprobe = true, reprobe
	p.retry, p.retryUntil = false, 0
	p.challengeDue = true
	p.nChallenges, p.challengeLimit, p.round = 0, maxChallenges, 0
	p.retransmitAt = now
	p.challengePTO = c.rtt.PTO(true)
	p.abandonAt = now + c.validationTimeout()
	c.challengeReserve(p)
	c.tracer.migrationState("probing_started", p.addr)
}

// validationTimeout is the time a path validation is given (§8.2.4):
// three times the larger of the current PTO and a new path's, with
// kInitialRtt.
func (c *Conn) validationTimeout() time.Duration {
	var fresh congestion.RTTStats
	fresh.SetMaxAckDelay(c.rtt.MaxAckDelay())
	return 3 * max(c.rtt.PTO(true), fresh.PTO(true))
}

// pathPTO is the interval after p's sent-th PATH_CHALLENGE: the PTO when
// the validation started (or resumed, revalidate.go), doubled for each
// challenge sent since (RFC 9000 §9.4 asks for a timer set as RFC 9002
// §6.2.1's and no more aggressive).
func (c *Conn) pathPTO(p *netPath, sent int) time.Duration {
	return p.challengePTO << min(max(sent-1-p.round, 0), 16)
}

// minPathDatagram is the smallest datagram a PATH_CHALLENGE or a
// PATH_RESPONSE goes in, with the current connection ID of the peer's:
// a short header with a 4-byte packet number, the frame, the AEAD tag.
// §8.2.1 and §8.2.2 allow less than 1200 bytes when the
// anti-amplification limit does not permit more; and the less each takes
// then, the more challenges the limit affords.
func (c *Conn) minPathDatagram() int {
	return c.shortPacketOverhead() + pathFrameLen
}

// shortPacketOverhead bounds what a 1-RTT packet to the peer adds to its
// frames: the first byte, the destination connection ID, a packet number
// of up to 4 bytes and the AEAD tag.
func (c *Conn) shortPacketOverhead() int {
	dcid := c.ids.peerDCID()
	return shortPacketOverheadFor(dcid.Len())
}

func minPathDatagramFor(dcidLen int) int {
	return shortPacketOverheadFor(dcidLen) + pathFrameLen
}

func shortPacketOverheadFor(dcidLen int) int { return 1 + dcidLen + 4 + aeadTagLen }

// challengeReserve sets aside, in p.reserve, the room of the
// PATH_CHALLENGEs p's validation may still send: the one due, if any, and
// those its timer would send before abandonAt (or retryUntil, for a path
// the server may return from again), each in a datagram of
// minPathDatagram bytes. allowance keeps it from other packets,
// appendPathDatagram from the challenges before.
func (c *Conn) challengeReserve(p *netPath) {
	n, t, left := p.nChallenges, p.retransmitAt, 0
	for end := max(p.abandonAt, p.retryUntil); n < p.challengeLimit && t < end; {
		left++
		n++
		t += c.pathPTO(p, n)
	}
	p.reserve = left * c.minPathDatagram()
}

// planChallengeTimer sets when p's next PATH_CHALLENGE is due: a PTO
// after the last, doubled for each one sent before (pathPTO); or later
// when the anti-amplification limit affords fewer challenges than those
// intervals would send before the validation times out (or than
// challengeLimit allows): the intervals still double, from one chosen so
// that those affordable reach abandonAt. A short outage of the new path
// (a NAT's new mapping that does not work yet) is caught by an early
// challenge, a longer one by a later one; with PTO-spaced challenges the
// budget ran out within a few hundred milliseconds, and the validation
// failed though the path had cleared. Run again when more arrives from
// the peer on p (onPathDatagram): the limit then affords more.
func (c *Conn) planChallengeTimer(p *netPath) {
	d := c.pathPTO(p, p.nChallenges)
	left := p.challengeLimit - p.nChallenges
	if afford := c.path.amplificationRoom(p) / c.minPathDatagram(); afford < left {
		left = afford
	}
	if rest := max(p.abandonAt, p.retryUntil) - p.lastChallengeAt; left > 0 && rest > 0 {
		// Intervals x, 2x, …, 2^left·x add up to rest.
		d = max(d, rest/time.Duration(1<<(left+1)-1))
	}
	p.retransmitAt = p.lastChallengeAt + d
}

// onPathDatagram runs when a packet arrives on p, a path being
// validated: a PATH_CHALLENGE goes at once if the interval after the last
// one (pathPTO, doubling) has passed, as a server answers a client's
// Initial at once (§8.2.1: no more often than an Initial); else the timer
// the anti-amplification limit had stretched is planned again with what
// the limit now affords. A client that only receives sends little from
// its new address, and its first datagrams after an outage of the path
// (its PTO probes, its quiet probe) are the server's best chance: each
// brings three times its size, more than a challenge takes.
func (c *Conn) onPathDatagram(now time.Duration, p *netPath) {
	if !p.validating || p.challengeDue || p.nChallenges == 0 || p.nChallenges >= p.challengeLimit {
		return
	}
	if now >= p.lastChallengeAt+c.pathPTO(p, p.nChallenges) {
		p.challengeDue = true
		return
	}
	c.planChallengeTimer(p)
}

// pathDeadline is the earliest path timer: a challenge to send again, a
// validation to abandon, a client's quiet probe.
func (c *Conn) pathDeadline() (time.Duration, bool) {
	d, ok := c.quietDeadline()
	for _, p := range c.path.paths {
		if !p.validating {
			continue
		}
		t := p.abandonAt
		if p.nChallenges > 0 && p.nChallenges < p.challengeLimit && !p.challengeDue {
			t = min(t, p.retransmitAt)
		}
		if !ok || t < d {
			d, ok = t, true
		}
	}
	return d, ok
}

// onPathTimers runs the path timers due at now.
func (c *Conn) onPathTimers(now time.Duration) {
	c.onQuietTimer(now)
	for i := 0; i < len(c.path.paths); i++ {
		p := c.path.paths[i]
		if !p.validating {
			continue
		}
		if now >= p.abandonAt {
			if c.pathFailed(now, p) {
				i--
			}
			if c.closing.state != stateOpen {
				return
			}
			continue
		}
		if p.nChallenges > 0 && p.nChallenges < p.challengeLimit && now >= p.retransmitAt {
			p.challengeDue = true
		}
	}
}

// pathFramesDue reports whether p has PATH_CHALLENGE or PATH_RESPONSE
// frames to send.
func (p *netPath) pathFramesDue() bool { return p.challengeDue || p.nResponses > 0 }

// AppendPathProbe writes one datagram of probing frames (PATH_CHALLENGE,
// PATH_RESPONSE) due on a path other than the current one, and returns it
// with the path it goes on; buf comes back unchanged when none is due. The
// owner calls it until then, before AppendBurst, which sends what the
// current path is due.
func (c *Conn) AppendPathProbe(nowT time.Time, buf []byte) ([]byte, Path) {
	if c.closing.state != stateOpen {
		return buf, Path{}
	}
	now := c.mono(nowT)
	for _, p := range c.path.paths {
		if p == c.path.cur || !p.pathFramesDue() {
			continue
		}
		if out := c.appendPathDatagram(now, buf, p); len(out) > len(buf) {
			return out, p.addr
		}
	}
	return buf, Path{}
}

// appendPathDatagram writes a datagram with the probing frames due on p,
// padded to 1200 bytes (RFC 9000 §8.2.1, §8.2.2) or to what the
// anti-amplification limit allows less the reserve of the challenges
// still to come (challengeReserve), but never below minPathDatagram. Like
// a path MTU probe, its loss is no congestion signal, and it waits for no
// congestion window: its size and number are bounded (a few challenges per
// validation, one datagram of responses per packet of challenges
// received).
func (c *Conn) appendPathDatagram(now time.Duration, buf []byte, p *netPath) []byte {
	if c.spaces[recovery.SpaceAppData].writeKeys == nil || c.keys1RTT.write == nil {
		return buf
	}
	room := min(c.path.amplificationRoom(p), cap(buf)-len(buf))
	if room < c.minPathDatagram() {
		return buf // wait for more bytes from the peer (§8.2.1)
	}
	dcid, ok := c.pathDCID(p)
	if !ok {
		// No connection ID to send there without linking the paths: the
		// frames are dropped, as if lost (§9.5).
		p.nResponses, p.challengeDue = 0, false
		return buf
	}
	smallest := minPathDatagramFor(dcid.Len())
	keep := 0
	if p.validating {
		keep = p.reserve
		if p.challengeDue {
			keep -= smallest // this datagram's share
		}
	}
	size := min(InitialMaxDatagramSize, max(room-keep, smallest), room)
	ctx := sendContext{now: now, ackElicitingAllowed: true, onPath: p, dcid: dcid}
	start := len(buf)
	challenges := p.nChallenges
	buf = c.appendPacket(&ctx, buf, recovery.SpaceAppData, start+size, start+size)
	if n := len(buf) - start; n > 0 {
		c.stats.DatagramsSent++
		c.stats.BytesSent += uint64(n)
		p.sent += uint64(n)
	}
	if p.nChallenges > challenges {
		bit := uint8(1) << ((p.nChallenges - 1) % maxChallenges)
		if len(buf)-start >= InitialMaxDatagramSize {
			p.expanded |= bit
		} else {
			p.expanded &^= bit
		}
		c.planChallengeTimer(p)
		c.challengeReserve(p)
	}
	return buf
}

// appendPathFrames appends the PATH_RESPONSE frames owed on p and its
// PATH_CHALLENGE, if due (one per packet, §8.2.1), with new data.
func (c *Conn) appendPathFrames(f *frameWriter, p *netPath, now time.Duration) {
	for p.nResponses > 0 && f.room() >= pathFrameLen {
		fr := wire.PathResponseFrame{Data: p.responses[0]}
		f.buf = fr.Append(f.buf)
		f.record(sentPathResponse, 0, 0, 0, false)
		copy(p.responses[:], p.responses[1:p.nResponses])
		p.nResponses--
	}
	if p.challengeDue && f.room() >= pathFrameLen {
		data := &p.challenges[p.nChallenges%maxChallenges]
		randomBytes(data[:])
		fr := wire.PathChallengeFrame{Data: *data}
		f.buf = fr.Append(f.buf)
		f.record(sentPathChallenge, 0, 0, 0, false)
		p.challengeDue = false
		p.nChallenges++
		// appendPathDatagram plans the next once the datagram's size is
		// known.
		p.lastChallengeAt = now
	}
}

// pathDCID is the peer's connection ID a packet on p carries, and false
// when p has none it may use: the current path's is the current one; any
// other path's is its own, or the current one when the peer uses a single
// connection ID of ours on both (a NAT rebinding, which §9.5 allows), or
// else a new one taken now (§9.5: never one ID from two local addresses or
// towards two peer addresses).
func (c *Conn) pathDCID(p *netPath) (wire.ConnectionID, bool) {
	cur := c.path.cur
	if p == cur {
		return c.ids.peerDCID(), true
	}
	if p.hasDCID {
		if id, ok := c.ids.idForSeq(p.dcidSeq); ok {
			return id, true
		}
		p.hasDCID = false // retired since
	}
	if p.localID == cur.localID && p.addr.Local == cur.addr.Local {
		return c.ids.peerDCID(), true
	}
	seq, ok := c.unusedPeerSeq()
	if !ok {
		return wire.ConnectionID{}, false
	}
	p.dcidSeq, p.hasDCID = seq, true
	id, _ := c.ids.idForSeq(seq)
	return id, true
}
