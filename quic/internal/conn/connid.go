package conn

import (
	"crypto/subtle"

	"github.com/skiffnet/skiff/internal/hkdf"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// localConnID is a connection ID we issued (RFC 9000 §5.1).
//
// Its stateless reset token is not kept: resetTokenOf derives it again,
// which only sending NEW_CONNECTION_ID and the transport parameters need.
type localConnID struct {
	seq       uint64
	id        wire.ConnectionID
	sendFrame bool // NEW_CONNECTION_ID must be (re)sent
	acked     bool
}

// peerConnID is a connection ID the peer issued for us to use.
type peerConnID struct {
	seq         uint64
	id          wire.ConnectionID
	resetToken  [wire.StatelessResetTokenLen]byte
	hasToken    bool
	retire      bool // retired: RETIRE_CONNECTION_ID must reach the peer
	retireSent  bool // in flight
	retireAcked bool
}

// connIDState manages both sets of connection IDs.
type connIDState struct {
	c *Conn

	local        []localConnID
	nextLocalSeq uint64
	peerLimit    uint64 // the peer's active_connection_id_limit

	peer            []peerConnID
	current         int // index in peer of the ID we send with
	retirePriorTo   uint64
	peerInitialSCID wire.ConnectionID
	peerSCIDKnown   bool
	// queued says a NEW_ or RETIRE_CONNECTION_ID frame may wait: set
	// wherever one is queued, cleared when a walk of the lists finds
	// none. Every packet asks (appendFrames), and the lists rarely hold
	// one, so most packets need not walk them.
	queued   bool
	resetKey *[32]byte
}

func (s *connIDState) init(c *Conn, scid, dcid wire.ConnectionID, resetKey *[32]byte) {
	s.c = c
	s.resetKey = resetKey
	s.local = []localConnID{{seq: 0, id: scid, acked: true}}
	s.nextLocalSeq = 1
	s.peerLimit = wire.DefaultActiveConnectionIDLimit
	if c.isClient {
		// Until the server answers, we send to the random ID we chose.
		s.peer = []peerConnID{{seq: 0, id: dcid}}
	}
}

// StatelessResetToken derives the token for one of our connection IDs from
// the endpoint's key, so that the endpoint can send a stateless reset for a
// connection it no longer remembers (RFC 9000 §10.3.2).
func StatelessResetToken(key *[32]byte, id []byte) [wire.StatelessResetTokenLen]byte {
	// HMAC-SHA256 with pooled hash states, on the stack: a connection
	// derives a token for every connection ID it issues.
	var sum [32]byte
	hkdf.SHA256.AppendMAC(sum[:0], key[:], id)
	var t [wire.StatelessResetTokenLen]byte
	copy(t[:], sum[:])
	return t
}

// resetTokenOf is the stateless reset token of our connection ID id.
func (s *connIDState) resetTokenOf(id wire.ConnectionID) [wire.StatelessResetTokenLen]byte {
	return StatelessResetToken(s.resetKey, id.Bytes())
}

// peerDCID is the Destination Connection ID we send with.
func (s *connIDState) peerDCID() wire.ConnectionID { return *s.peerDCIDRef() }

// noConnectionID is what peerDCIDRef points to before the peer has an ID;
// never written.
var noConnectionID wire.ConnectionID

// peerDCIDRef is peerDCID without the copy, for the header of every
// packet: copying the 21-byte ID twice a packet (out of the state, into
// the call) stalled on the overlapping stores it compiles to, 1% of a
// bulk sender's CPU. The ID must not be modified through it.
func (s *connIDState) peerDCIDRef() *wire.ConnectionID {
	if len(s.peer) == 0 {
		return &noConnectionID
	}
	return &s.peer[s.current].id
}

// handshakeSCID is the Source Connection ID of our long header packets.
func (s *connIDState) handshakeSCID() wire.ConnectionID { return s.local[0].id }

// setHandshakePeerID records the Source Connection ID of the peer's first
// packet as the ID to send to (sequence 0, RFC 9000 §5.1.1).
func (s *connIDState) setHandshakePeerID(id wire.ConnectionID) {
	s.peer = append(s.peer[:0], peerConnID{seq: 0, id: id})
	s.current = 0
}

// setPeerResetToken attaches the server's stateless_reset_token to its
// handshake connection ID (RFC 9000 §18.2).
func (s *connIDState) setPeerResetToken(t [wire.StatelessResetTokenLen]byte) {
	for i := range s.peer {
		if s.peer[i].seq == 0 {
			s.peer[i].resetToken, s.peer[i].hasToken = t, true
			s.registerToken(t)
		}
	}
}

// setPeerActiveLimit applies the peer's active_connection_id_limit.
func (s *connIDState) setPeerActiveLimit(n uint64) { s.peerLimit = n }

// onHandshakeComplete issues the connection IDs the peer may switch to
// (RFC 9000 §5.1.1), once the datagram that completed the handshake has
// been handled (Conn.afterCompletion).
func (s *connIDState) onHandshakeComplete() { s.issue() }

// issue issues new connection IDs up to the peer's limit (and ours).
func (s *connIDState) issue() {
	want := min(s.peerLimit, activeConnectionIDLimit)
	for uint64(len(s.local)) < want {
		id := NewConnectionID()
		l := localConnID{seq: s.nextLocalSeq, id: id, sendFrame: true}
		s.nextLocalSeq++
		s.local = append(s.local, l)
		s.queued = true
		s.c.events.add(Event{Kind: EventConnIDIssued, ConnID: id})
	}
}

// onNewConnectionID handles NEW_CONNECTION_ID (RFC 9000 §19.15, §5.1.1).
func (s *connIDState) onNewConnectionID(f *wire.NewConnectionIDFrame) error {
	t := wire.FrameTypeNewConnectionID
	for i := range s.peer {
		p := &s.peer[i]
		if p.seq == f.SequenceNumber {
			if p.id != f.ConnectionID || p.resetToken != f.StatelessResetToken {
				return localError(wire.ProtocolViolation, t, "sequence number reused for a different connection ID")
			}
			return nil
		}
	}
	p := peerConnID{seq: f.SequenceNumber, id: f.ConnectionID, resetToken: f.StatelessResetToken, hasToken: true}
	if f.SequenceNumber < s.retirePriorTo {
		p.retire = true // already retired: say so at once
		s.queued = true
	} else {
		s.registerToken(p.resetToken)
	}
	s.peer = append(s.peer, p)
	if f.RetirePriorTo > s.retirePriorTo {
		s.retirePriorTo = f.RetirePriorTo
		for i := range s.peer {
			if s.peer[i].seq < s.retirePriorTo {
				s.peer[i].retire = true
				s.queued = true
			}
		}
	}
	// RFC 9000 §5.1.1: more active IDs than our limit is an error.
	active, retiring := 0, 0
	for i := range s.peer {
		if !s.peer[i].retire {
			active++
		} else if !s.peer[i].retireAcked {
			retiring++
		}
	}
	if active > activeConnectionIDLimit {
		return localError(wire.ConnectionIDLimitError, t, "too many active connection IDs")
	}
	// RFC 9000 §5.1.2: bound the IDs retired but not yet known to be
	// retired by the peer (at least twice the limit must be allowed).
	if retiring > 2*activeConnectionIDLimit {
		return localError(wire.ConnectionIDLimitError, t, "too many connection IDs retired at once")
	}
	if s.peer[s.current].retire {
		for i := range s.peer {
			if !s.peer[i].retire {
				s.current = i
				break
			}
		}
	}
	s.prunePeer()
	return nil
}

// prunePeer forgets retired peer IDs whose retirement was acknowledged,
// keeping the list bounded.
func (s *connIDState) prunePeer() {
	cur := s.peer[s.current].seq
	out := s.peer[:0]
	for _, p := range s.peer {
		if p.retire && p.retireAcked {
			if p.hasToken {
				s.c.events.add(Event{Kind: EventResetTokenRemoved, Data: append([]byte(nil), p.resetToken[:]...)})
			}
			continue
		}
		out = append(out, p)
	}
	s.peer = out
	for i := range s.peer {
		if s.peer[i].seq == cur {
			s.current = i
		}
	}
}

// onRetireConnectionID handles RETIRE_CONNECTION_ID (RFC 9000 §19.16).
func (s *connIDState) onRetireConnectionID(f *wire.RetireConnectionIDFrame) error {
	if f.SequenceNumber >= s.nextLocalSeq {
		return localError(wire.ProtocolViolation, wire.FrameTypeRetireConnectionID, "retiring a connection ID never issued")
	}
	for i := range s.local {
		if s.local[i].seq == f.SequenceNumber {
			s.c.events.add(Event{Kind: EventConnIDRetired, ConnID: s.local[i].id})
			s.local = append(s.local[:i], s.local[i+1:]...)
			s.issue()
			return nil
		}
	}
	return nil
}

// framesPending reports whether NEW_ or RETIRE_CONNECTION_ID frames wait.
func (s *connIDState) framesPending() bool {
	if !s.queued {
		return false
	}
	s.queued = s.walkPending()
	return s.queued
}

// walkPending is framesPending, walking the lists.
func (s *connIDState) walkPending() bool {
	for i := range s.local {
		if s.local[i].sendFrame {
			return true
		}
	}
	for i := range s.peer {
		if p := &s.peer[i]; p.retire && !p.retireSent {
			return true
		}
	}
	return false
}

// appendFrames appends pending NEW_ and RETIRE_CONNECTION_ID frames.
func (s *connIDState) appendFrames(f *frameWriter) {
	if !s.queued {
		return
	}
	left := false // a frame that did not fit
	for i := range s.local {
		l := &s.local[i]
		if !l.sendFrame {
			continue
		}
		if f.room() < 1+8+8+1+20+16 {
			left = true
			continue
		}
		fr := wire.NewConnectionIDFrame{SequenceNumber: l.seq, ConnectionID: l.id, StatelessResetToken: s.resetTokenOf(l.id)}
		f.buf = fr.Append(f.buf)
		f.record(sentNewConnectionID, l.seq, 0, 0, false)
		l.sendFrame = false
	}
	for i := range s.peer {
		p := &s.peer[i]
		if !p.retire || p.retireSent {
			continue
		}
		if f.room() < 9 {
			left = true
			continue
		}
		fr := wire.RetireConnectionIDFrame{SequenceNumber: p.seq}
		f.buf = fr.Append(f.buf)
		f.record(sentRetireConnectionID, p.seq, 0, 0, false)
		p.retireSent = true
	}
	s.queued = left
}

// onFrameAcked and onFrameLost follow NEW_ and RETIRE_CONNECTION_ID frames.
func (s *connIDState) onFrameAcked(kind uint8, seq uint64) {
	switch kind {
	case sentNewConnectionID:
		for i := range s.local {
			if s.local[i].seq == seq {
				s.local[i].acked = true
			}
		}
	case sentRetireConnectionID:
		for i := range s.peer {
			if s.peer[i].seq == seq {
				s.peer[i].retireAcked = true
			}
		}
		s.prunePeer()
	}
}

func (s *connIDState) onFrameLost(kind uint8, seq uint64) {
	switch kind {
	case sentNewConnectionID:
		for i := range s.local {
			if s.local[i].seq == seq && !s.local[i].acked {
				s.local[i].sendFrame = true
				s.queued = true
			}
		}
	case sentRetireConnectionID:
		for i := range s.peer {
			if s.peer[i].seq == seq {
				s.peer[i].retireSent = false
				s.queued = true
			}
		}
	}
}

// checkStatelessReset ends the connection if the datagram ends with a
// stateless reset token of the peer's (RFC 9000 §10.3.1), but not one of
// a connection ID we retired, which MUST NOT be checked: a packet we sent
// with it just before (on the old path, when a client moves to the
// server's preferred address) may reach the peer after the retirement,
// and the peer rightly answers it with a stateless reset.
func (c *Conn) checkStatelessReset(b []byte) {
	if len(b) < 21 || c.closing.state >= stateDraining {
		return
	}
	tail := b[len(b)-wire.StatelessResetTokenLen:]
	for i := range c.ids.peer {
		p := &c.ids.peer[i]
		if p.hasToken && !p.retire && subtle.ConstantTimeCompare(tail, p.resetToken[:]) == 1 {
			c.enterDraining(c.idle.lastNow, &Reason{Kind: ReasonStatelessReset}, true)
			return
		}
	}
}

// registerToken tells the owner about a stateless reset token of the
// peer's: a stateless reset carries a random Destination Connection ID, so
// the endpoint can only find the connection it ends by the token
// (RFC 9000 §10.3.1).
func (s *connIDState) registerToken(t [wire.StatelessResetTokenLen]byte) {
	s.c.events.add(Event{Kind: EventResetTokenAdded, Data: append([]byte(nil), t[:]...)})
}

// ResetTokens returns the stateless reset tokens of the peer's connection
// IDs the connection still holds, for the owner to forget when it ends.
func (c *Conn) ResetTokens(buf [][wire.StatelessResetTokenLen]byte) [][wire.StatelessResetTokenLen]byte {
	for i := range c.ids.peer {
		if p := &c.ids.peer[i]; p.hasToken {
			buf = append(buf, p.resetToken)
		}
	}
	return buf
}

// MinStatelessResetLen is the smallest stateless reset: 5 unpredictable
// bytes and the token (RFC 9000 §10.3).
const MinStatelessResetLen = 21

// currentSeq is the sequence number of the peer's connection ID we send
// with on the current path.
func (s *connIDState) currentSeq() uint64 {
	if len(s.peer) == 0 {
		return 0
	}
	return s.peer[s.current].seq
}

// idForSeq returns the peer's connection ID with sequence number seq, if
// it is still active.
func (s *connIDState) idForSeq(seq uint64) (wire.ConnectionID, bool) {
	for i := range s.peer {
		if p := &s.peer[i]; p.seq == seq && !p.retire {
			return p.id, true
		}
	}
	return wire.ConnectionID{}, false
}

// useSeq makes the peer's connection ID seq the one the current path
// sends with, and reports whether it is active.
func (s *connIDState) useSeq(seq uint64) bool {
	for i := range s.peer {
		if p := &s.peer[i]; p.seq == seq && !p.retire {
			s.current = i
			return true
		}
	}
	return false
}

// retireSeq retires the peer's connection ID seq, unless it is the one
// in use: RETIRE_CONNECTION_ID tells the peer, which issues another
// (RFC 9000 §5.1.2).
func (s *connIDState) retireSeq(seq uint64) {
	for i := range s.peer {
		if p := &s.peer[i]; p.seq == seq && i != s.current && !p.retire {
			p.retire = true
			s.queued = true
		}
	}
}

// addPreferredAddressID records the connection ID of the server's
// preferred_address, sequence number 1 (RFC 9000 §5.1.1), with its
// stateless reset token.
func (s *connIDState) addPreferredAddressID(pa *wire.PreferredAddress) error {
	f := wire.NewConnectionIDFrame{SequenceNumber: 1, ConnectionID: pa.ConnectionID, StatelessResetToken: pa.StatelessResetToken}
	return s.onNewConnectionID(&f)
}

// issuePreferredAddressID issues the connection ID a server announces in
// its preferred_address, sequence number 1 (RFC 9000 §5.1.1), and returns
// it (resetTokenOf gives its stateless reset token). The owner routes it
// from now on.
func (s *connIDState) issuePreferredAddressID() localConnID {
	id := NewConnectionID()
	l := localConnID{seq: s.nextLocalSeq, id: id, acked: true}
	s.nextLocalSeq++
	s.local = append(s.local, l)
	s.c.events.add(Event{Kind: EventConnIDIssued, ConnID: id})
	return l
}
