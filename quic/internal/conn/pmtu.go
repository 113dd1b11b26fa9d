package conn

import (
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
)

// Datagram size and path MTU discovery: DPLPMTUD (RFC 8899) with PING
// probes padded to the size tried (RFC 9000 §14.3), on the current path.
//
// A connection sends 1200-byte datagrams (BASE_PLPMTU, RFC 9000 §14.1)
// until the handshake is confirmed and the path validated, then probes 1452
// bytes, which every 1500-byte path carries. When Config.MaxDatagramSize
// asks for more and the peer's max_udp_payload_size allows it, it searches
// on upwards: the largest size first (a loopback or jumbo-frame path
// carries it at once), then halfway between the largest size known to work
// and the smallest known to fail, down to a 16-byte step. A size fails
// after MAX_PROBES (3) lost probes (RFC 8899 §5.1.2), or at once when the
// local interface refuses it (the socket sets DF and says EMSGSIZE:
// OnDatagramTooBig). Lost probes are no congestion signal (RFC 8899 §3):
// recovery keeps them out of the controller's losses. Probes go one at a
// time, alone in their datagram and unmarked (ECN validation must not
// count them). PMTU_RAISE_TIMER (600 s) after a search ended below the
// maximum, it starts again (§5.1.1): the path may carry more by then.
//
// Black hole detection (RFC 8899 §4.3): full-size packets that keep being
// lost while smaller ones get through mean the path's MTU fell (a route
// change, a tunnel). PTO probes are sent at 1200 bytes, so that a path that
// drops everything larger still acknowledges them; a loss episode whose
// lost packets are all larger than 1200 bytes and newer than the last
// large packet acknowledged is suspect, and three in a row (no large
// packet acknowledged in between) drop the size to 1200 bytes and start
// the search again. A send the local interface refuses (EMSGSIZE) drops it
// at once.

// basePLPMTU is the size probed first, and what a probe search falls back
// to: a 1500-byte MTU less IPv6 and UDP headers (48 bytes), plus room.
const basePLPMTU = 1452

const (
	// pmtuSearchStep ends the search: closer than this to the failure is
	// close enough.
	pmtuSearchStep = 16
	// pmtuMaxProbes is MAX_PROBES (RFC 8899 §5.1.2): lost probes of one
	// size before the size counts as too large.
	pmtuMaxProbes = 3
	// pmtuRaiseTimer is PMTU_RAISE_TIMER (RFC 8899 §5.1.1).
	pmtuRaiseTimer = 600 * time.Second
	// blackHoleEpisodes is how many suspect loss episodes in a row make a
	// black hole.
	blackHoleEpisodes = 3
)

type pmtuState struct {
	mtu       int // the datagram size in use: known to be carried
	max       int // the most we search for: ours and the peer's limit
	failed    int // the smallest size known not to be carried, 0 for none
	state     int // probeNone, probeDue, probeInFlight, probeDone
	probeSize int // the size in flight
	lost      int // probes of probeSize lost so far
	// doneAt is when the search last ended, for the raise timer.
	doneAt time.Duration

	// Black hole detection: the largest packet number of a packet larger
	// than 1200 bytes acknowledged, the largest of a suspect episode, and
	// how many suspect episodes followed each other.
	largeAcked uint64
	suspectPN  uint64
	suspects   int
	blackHoles uint64
}

const (
	probeNone = iota
	probeDue
	probeInFlight
	probeDone
)

func (m *pmtuState) init(maxSize int) {
	m.mtu = InitialMaxDatagramSize
	m.max = maxSize
}

// restart forgets what was found: a new path (RFC 9000 §9.4, §14.2.1).
func (m *pmtuState) restart() {
	*m = pmtuState{mtu: InitialMaxDatagramSize, max: m.max, blackHoles: m.blackHoles}
}

// setPeerMax applies the peer's max_udp_payload_size (RFC 9000 §18.2).
func (m *pmtuState) setPeerMax(n uint64) {
	if n < uint64(m.max) {
		m.max = int(max(n, InitialMaxDatagramSize))
	}
}

// start begins the search once the handshake is confirmed and the path
// validated.
func (m *pmtuState) start() {
	if m.state == probeNone {
		m.state = probeDue
	}
}

// next is the size to probe now, 0 when the search is over.
func (m *pmtuState) next() int {
	switch {
	case m.mtu < basePLPMTU && (m.failed == 0 || m.failed > basePLPMTU):
		return min(basePLPMTU, m.max)
	case m.failed == 0:
		return m.max
	}
	// Halfway between what works and what fails: above 1452 bytes, or
	// below it on a path that does not carry that much (a tunnel).
	mid := (m.mtu + m.failed) / 2
	if m.failed-m.mtu <= pmtuSearchStep || mid <= m.mtu {
		return 0
	}
	return mid
}

// onProbeAcked: the path carries datagrams of the probe's size.
func (c *Conn) onProbeAcked(size int) {
	m := &c.pmtu
	if m.state != probeInFlight || size != m.probeSize {
		return // a probe of a search since abandoned
	}
	old := m.mtu
	m.mtu = max(m.mtu, size)
	c.cc.SetMaxDatagramSize(m.mtu)
	m.lost = 0
	m.advance(c.idle.lastNow)
	c.tracer.mtuUpdated(old, m.mtu, m.state == probeDone)
}

// onProbeLost: the probe's size may be too large for the path; after
// MAX_PROBES it is.
func (c *Conn) onProbeLost(size int) {
	m := &c.pmtu
	if m.state != probeInFlight || size != m.probeSize {
		return
	}
	m.lost++
	if m.lost >= pmtuMaxProbes {
		m.fail(size)
	}
	m.advance(c.idle.lastNow)
	if m.state == probeDone {
		c.tracer.mtuUpdated(m.mtu, m.mtu, true)
	}
}

func (m *pmtuState) fail(size int) {
	if m.failed == 0 || size < m.failed {
		m.failed = size
	}
	m.lost = 0
}

func (m *pmtuState) advance(now time.Duration) {
	m.state = probeDue
	if s := m.next(); s == 0 || s <= m.mtu {
		m.state = probeDone
		m.doneAt = now
	}
}

// raiseDeadline is when a finished search starts again
// (PMTU_RAISE_TIMER), if it ended below the maximum.
func (m *pmtuState) raiseDeadline() (time.Duration, bool) {
	if m.state != probeDone || m.mtu >= m.max {
		return 0, false
	}
	return m.doneAt + pmtuRaiseTimer, true
}

// onTimer restarts a finished search when the raise timer fires.
func (m *pmtuState) onTimer(now time.Duration) {
	if t, ok := m.raiseDeadline(); ok && now >= t {
		m.failed, m.lost = 0, 0
		m.state = probeDue
	}
}

// OnDatagramTooBig tells the connection that the local interface refused
// a datagram of size bytes (EMSGSIZE: the socket sets DF, and the size is
// beyond the interface MTU or the route's). A refused probe fails its
// size at once; refused data means the path's MTU fell below the size in
// use: a black hole.
func (c *Conn) OnDatagramTooBig(size int) {
	m := &c.pmtu
	if m.state == probeInFlight && size == m.probeSize {
		m.fail(size)
		m.advance(c.idle.lastNow)
		return
	}
	if size > InitialMaxDatagramSize && size <= m.mtu {
		c.onBlackHole(size)
	}
}

// checkBlackHole looks at what one ACK frame or timer resolved for the
// signs of a black hole.
func (c *Conn) checkBlackHole(res *recovery.Resolved) {
	m := &c.pmtu
	if res.Space != recovery.SpaceAppData || m.mtu <= InitialMaxDatagramSize {
		return
	}
	for _, p := range res.Acked {
		if p.Size > InitialMaxDatagramSize && !p.PMTUProbe && p.PN > m.largeAcked {
			m.largeAcked = p.PN
		}
	}
	if m.largeAcked > m.suspectPN {
		m.suspects = 0
	}
	var lostPN uint64
	for _, p := range res.Lost {
		if !p.InFlight || p.PMTUProbe || p.PN <= m.largeAcked {
			continue
		}
		if p.Size <= InitialMaxDatagramSize {
			return // a small packet was lost too: plain loss
		}
		lostPN = max(lostPN, p.PN)
	}
	if lostPN <= m.suspectPN {
		return
	}
	m.suspectPN = lostPN
	m.suspects++
	if m.suspects >= blackHoleEpisodes {
		c.onBlackHole(m.mtu)
	}
}

// onBlackHole drops the datagram size to BASE_PLPMTU and searches again
// below size, the size that stopped getting through (RFC 8899 §4.3,
// §5.2).
func (c *Conn) onBlackHole(size int) {
	m := &c.pmtu
	old := m.mtu
	m.mtu = InitialMaxDatagramSize
	m.failed, m.lost = 0, 0
	m.fail(size)
	m.suspects, m.suspectPN = 0, 0
	m.blackHoles++
	c.cc.SetMaxDatagramSize(m.mtu)
	m.state = probeNone
	if c.handshakeConfirmed && c.path.curValidated() {
		m.start()
	}
	c.tracer.mtuUpdated(old, m.mtu, false)
}

// appendMTUProbe sends one PING padded to the size probed. The probe is
// ack-eliciting; its loss is no congestion signal.
func (c *Conn) appendMTUProbe(now time.Duration, buf []byte) []byte {
	m := &c.pmtu
	size := m.next()
	if size <= m.mtu {
		m.state, m.doneAt = probeDone, now
		return buf
	}
	if avail := cap(buf) - len(buf); avail < size {
		// The owner's buffer is smaller than the probe: probe what fits,
		// at least one step up, or stop.
		if avail-m.mtu < pmtuSearchStep {
			m.state, m.doneAt = probeDone, now
			return buf
		}
		size = avail
	}
	ctx := sendContext{now: now, ackElicitingAllowed: true, mtuProbe: size}
	start := len(buf)
	buf = c.appendPacket(&ctx, buf, recovery.SpaceAppData, start+size, start+size)
	if len(buf) > start {
		m.state = probeInFlight
		m.probeSize = len(buf) - start
		c.stats.DatagramsSent++
		c.stats.BytesSent += uint64(len(buf) - start)
	}
	return buf
}

// MaxDatagramSize is the datagram size in use on the path.
func (c *Conn) MaxDatagramSize() int { return c.pmtu.mtu }
