package conn

import (
	"errors"
	"time"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Connection migration (RFC 9000 §9): the peer's address changing under a
// NAT rebinding or its own migration, a client moving to a new local
// socket, and the server's preferred address (§9.6).
//
// A server follows a non-probing packet with the largest packet number so
// far to a new peer address at once, sending there within the
// anti-amplification limit while it validates the address (§9.3, §9.3.1),
// and validates the previous path too (§9.3.3). If the new address does not
// answer within 3 PTOs it returns to the last validated one (§9.3.2) and
// goes on validating the new one in the background (revalidate.go); a
// later packet from the last validated address with a larger packet
// number moves it back there too, and ends that. A client only
// moves when it chooses to: Migrate, or the server's preferred address once
// the handshake is confirmed, each probed first with a connection ID of
// the peer's not used before (§9.5). When an address changes, not only a
// port, the new path gets a new congestion controller, RTT estimate and
// path MTU search (§9.4); the old path's are kept while the connection may
// return there. ECN validation starts over on every new path (§13.4).

// Errors Migrate returns.
var (
	ErrMigrationNotClient          = errors.New("only a client migrates a connection")
	ErrMigrationBeforeConfirmation = errors.New("the handshake is not confirmed yet (RFC 9000 §9)")
	ErrMigrationDisabled           = errors.New("the peer sent disable_active_migration (RFC 9000 §9)")
	ErrNoUnusedConnectionID        = errors.New("no unused connection ID of the peer's for a new path (RFC 9000 §9.5)")
	ErrTooManyPaths                = errors.New("too many paths being validated")
	ErrConnectionClosing           = errors.New("the connection is closing")
)

// CurrentPath is the path non-probing packets go on: AppendBurst's
// datagrams are for it.
func (c *Conn) CurrentPath() Path { return c.path.cur.addr }

// Migrate moves a client's connection to path to (RFC 9000 §9.2): usually
// a new local socket (to.Local) towards the same server address (to.Remote
// zero). It probes first, with PATH_CHALLENGE and a connection ID of the
// peer's not used on any other path (§9.5); once the peer answers,
// non-probing packets go on the new path, the old path's connection ID is
// retired, and congestion control and the RTT estimate start over (§9.4).
// EventPathValidated and EventPathChanged, or EventPathAbandoned after 3
// PTOs, report the outcome. A path already validated is switched to at
// once.
func (c *Conn) Migrate(nowT time.Time, to Path) error {
	now := c.mono(nowT)
	switch {
	case !c.isClient:
		return ErrMigrationNotClient
	case c.closing.state != stateOpen:
		return ErrConnectionClosing
	case !c.handshakeConfirmed:
		return ErrMigrationBeforeConfirmation
	}
	to.Remote = unmapAddr(to.Remote)
	if !to.Remote.IsValid() {
		to.Remote = c.path.cur.addr.Remote
	}
	if c.path.peerDisableMigration && to.Local != 0 && to.Remote == c.path.handshakeRemote {
		// §9: no packets from another local address to the address of
		// the handshake; the preferred address is another matter.
		return ErrMigrationDisabled
	}
	if p := c.path.find(&to); p != nil {
		switch {
		case p == c.path.cur:
			return nil
		case p.validated:
			c.switchPath(now, p)
			return nil
		}
		p.switchOnValid = true
		if !p.validating {
			c.startPathValidation(now, p, false)
		}
		return nil
	}
	seq, ok := c.unusedPeerSeq()
	if !ok {
		return ErrNoUnusedConnectionID
	}
	p := c.path.add(to)
	if p == nil {
		return ErrTooManyPaths
	}
	p.dcidSeq, p.hasDCID = seq, true
	p.switchOnValid = true
	c.startPathValidation(now, p, false)
	return nil
}

// unusedPeerSeq finds a connection ID of the peer's that no path uses.
func (c *Conn) unusedPeerSeq() (uint64, bool) {
	cur := c.ids.currentSeq()
	for i := range c.ids.peer {
		id := &c.ids.peer[i]
		if id.retire || id.seq == cur {
			continue
		}
		used := false
		for _, p := range c.path.paths {
			used = used || (p.hasDCID && p.dcidSeq == id.seq)
		}
		if !used {
			return id.seq, true
		}
	}
	return 0, false
}

// followPreferredAddress starts the client's move to the server's
// preferred address of the current path's address family, once the
// handshake is confirmed (RFC 9000 §9.6.1), with the connection ID the
// parameter carried. If validation fails the connection stays.
func (c *Conn) followPreferredAddress(now time.Duration) {
	pa := c.path.preferred
	if !c.isClient || pa == nil || c.config.DisablePreferredAddress {
		return
	}
	cur := c.path.cur
	remote := pa.IPv4
	if cur.addr.Remote.Addr().Is6() {
		remote = pa.IPv6
	}
	remote = unmapAddr(remote)
	if !remote.IsValid() || remote.Port() == 0 || remote.Addr().IsUnspecified() || remote == cur.addr.Remote {
		return
	}
	p := c.path.add(Path{Local: cur.addr.Local, Remote: remote})
	if p == nil {
		return
	}
	p.dcidSeq, p.hasDCID = 1, true
	p.switchOnValid = true
	c.startPathValidation(now, p, false)
}

// onPathPacket acts on the path of an authenticated packet, after its
// frames: a non-probing packet with the largest packet number so far,
// arriving on another path, moves a server there (RFC 9000 §9.3); a
// probing one makes it validate that path (§9.6.3). Any packet may bring
// a path being validated its next PATH_CHALLENGE (onPathDatagram), and
// a client's 1-RTT packets time its quiet probe (quiet.go).
func (c *Conn) onPathPacket(now time.Duration, appData, largest bool) {
	ps := &c.path
	p := ps.rx.path
	if p != nil {
		c.onPathDatagram(now, p)
	}
	if appData {
		c.onQuietReceipt(now)
	}
	if len(ps.paths) > 1 && p != nil && appData && largest && ps.rx.nonProbing && !c.isClient {
		c.endRetries(now, p)
	}
	if p == nil || !appData || p == ps.cur || !c.handshakeConfirmed || c.closing.state != stateOpen {
		return
	}
	if !c.isClient && !p.hasDCID && p.localID != ps.cur.localID {
		// §9.5: the peer came with another connection ID of ours, a
		// deliberate migration or probe: what goes there, PATH_RESPONSE
		// included, carries another of its IDs, if it gave us one.
		if seq, ok := c.unusedPeerSeq(); ok {
			p.dcidSeq, p.hasDCID = seq, true
		}
	}
	if !largest || !ps.rx.nonProbing {
		if !c.isClient && !p.validated && !p.validating {
			c.startPathValidation(now, p, false)
		}
		return
	}
	if c.isClient {
		// §9: only clients migrate; packets from a server address the
		// client did not move to change nothing (§9.6).
		return
	}
	if p.addr.Local != ps.cur.addr.Local && !p.validated {
		// §9.6.2: the server moves to its preferred address only once
		// it validated the path from there.
		p.switchOnValid = true
		if !p.validating {
			c.startPathValidation(now, p, false)
		}
		return
	}
	prev := ps.cur
	c.switchPath(now, p)
	if prev.validated && !prev.validating && ps.find(&prev.addr) == prev {
		// §9.3.3: validate the previous path, which elicits packets
		// there: if an attacker's copy moved us, the peer's answer
		// moves us back.
		c.startPathValidation(now, prev, true)
	}
}

// switchPath makes p the current path.
func (c *Conn) switchPath(now time.Duration, p *netPath) {
	ps := &c.path
	prev := ps.cur
	if p == prev {
		return
	}
	if !prev.hasDCID {
		prev.dcidSeq, prev.hasDCID = c.ids.currentSeq(), true
	}
	if p.hasDCID && !c.ids.useSeq(p.dcidSeq) {
		p.hasDCID = false // retired meanwhile: the current one serves
	}
	switch {
	case !p.validated && !p.validating:
		// Before the congestion state changes: the challenges' timer
		// and the validation timeout start from the RTT estimate in use
		// (startPathValidation). A NAT rebinding leaves the network
		// between the endpoints as it was, and a client that only
		// receives sends nothing to set the new path's estimate by; with
		// kInitialRtt the second challenge would wait a second after a
		// first one lost to a new mapping not yet working.
		c.startPathValidation(now, p, false)
	case p.retry:
		c.resumePathValidation(now, p)
	}
	if prev.addr.Local != p.addr.Local || prev.addr.Remote.Addr() != p.addr.Remote.Addr() {
		c.changeCongestionPath(prev, p)
	} else {
		// §9.4 lets a port change keep the congestion state; the marks
		// are checked again all the same.
		c.loss.RestartECNValidation()
	}
	if prev.validated {
		ps.fallback = prev
	}
	ps.cur = p
	p.switchOnValid = false
	ps.changes++
	c.tracer.migrationState("migration_complete", p.addr)
	c.events.add(Event{Kind: EventPathChanged, Path: p.addr})
	if p.validated {
		c.onCurValidated()
		return
	}
	c.loss.SetAmplificationBlocked(ps.allowance(p) == 0)
}

// changeCongestionPath gives the new path p its congestion controller,
// RTT estimate and path MTU: those it had when the connection left it, or
// new ones (RFC 9000 §9.4). A validated path the connection leaves keeps
// its own, for a return.
func (c *Conn) changeCongestionPath(prev, p *netPath) {
	if prev.validated {
		// Its packets in flight no longer count for it: they resolve
		// under the new controller's watch (recovery.OnPathChange).
		c.cc.OnPacketsDiscarded(c.cc.BytesInFlight())
		prev.saved = &savedPath{cc: c.cc, rtt: c.rtt, pmtu: c.pmtu}
	}
	if s := p.saved; s != nil {
		c.cc, c.rtt, c.pmtu = s.cc, s.rtt, s.pmtu
		p.saved = nil
	} else {
		if cc, err := c.config.newController(); err == nil { // it worked in New
			c.cc = cc
		}
		c.rtt.Reset()
		c.pmtu.restart()
	}
	c.loss.OnPathChange(c.cc)
	c.tracer.mtuUpdated(0, c.pmtu.mtu, false)
}

// onCurValidated runs when the current path is validated: nothing to fall
// back to any more, the other paths' congestion state and connection IDs
// go (§9.5: a connection ID used on an old path is retired), and path MTU
// discovery may start.
func (c *Conn) onCurValidated() {
	ps := &c.path
	ps.fallback = nil
	cur := c.ids.currentSeq()
	for _, q := range ps.paths {
		if q == ps.cur {
			continue
		}
		q.saved = nil
		if q.hasDCID && q.dcidSeq != cur && !q.validating {
			c.ids.retireSeq(q.dcidSeq)
			q.hasDCID = false
		}
	}
	c.loss.SetAmplificationBlocked(false)
	if c.handshakeConfirmed {
		c.pmtu.start()
	}
}

// pathValidated: the peer answered a challenge on p (RFC 9000 §8.2.3).
func (c *Conn) pathValidated(now time.Duration, p *netPath) {
	p.validating, p.challengeDue = false, false
	p.retry = false
	p.validated = true
	c.path.validations++
	if p.reprobe {
		p.reprobe = false
		return
	}
	c.tracer.migrationState("probing_successful", p.addr)
	c.events.add(Event{Kind: EventPathValidated, Path: p.addr})
	switch {
	case p == c.path.cur:
		c.onCurValidated()
	case p.switchOnValid:
		c.switchPath(now, p)
	}
}

// pathFailed abandons p's validation (RFC 9000 §8.2.4) and reports
// whether p's record went. A current path that fails sends the connection
// back to the last validated one (§9.3.2), or ends it silently when there
// is none; a server keeps validating it in the background
// (retryPathValidation).
func (c *Conn) pathFailed(now time.Duration, p *netPath) bool {
	p.validating, p.challengeDue, p.retry = false, false, false
	if p.reprobe {
		p.reprobe = false
		return false
	}
	c.path.failures++
	c.tracer.migrationState("probing_abandoned", p.addr)
	if p == c.path.cur {
		fb := c.path.fallback
		if fb == nil || !fb.validated {
			c.enterDraining(now, &Reason{Kind: ReasonTransport, Code: uint64(wire.NoViablePath), Text: "no validated path"}, true)
			return false
		}
		// A path being validated keeps its connection ID when the
		// connection leaves it (onCurValidated).
		retry := !c.isClient
		p.validating = retry
		c.switchPath(now, fb)
		if retry {
			c.events.add(Event{Kind: EventPathAbandoned, Path: p.addr})
			c.retryPathValidation(now, p)
			return false
		}
	}
	c.events.add(Event{Kind: EventPathAbandoned, Path: p.addr})
	if p.hasDCID && p.dcidSeq != c.ids.currentSeq() {
		// It went out on this path: not to be used on another (§9.5).
		c.ids.retireSeq(p.dcidSeq)
	}
	c.path.remove(p)
	return true
}

// PathStats are the path counters of Stats.
func (c *Conn) pathStats(s *Stats) {
	s.PathMTU = c.pmtu.mtu
	s.PathChanges = uint64(c.path.changes)
	s.PathValidations = uint64(c.path.validations)
	s.PathValidationFailures = uint64(c.path.failures)
	s.MTUBlackHoles = c.pmtu.blackHoles
}
