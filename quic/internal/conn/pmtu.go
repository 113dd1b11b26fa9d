package conn

import (
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
)

// Datagram size and path MTU discovery: DPLPMTUD (RFC 8899) with PING
// probes padded to the size tried (RFC 9000 §14.3).
//
// A connection sends 1200-byte datagrams (RFC 9000 §14.1) until the
// handshake is confirmed, then probes 1452 bytes, which every 1500-byte
// path carries. When Config.MaxDatagramSize asks for more and the peer's
// max_udp_payload_size allows it, it searches on upwards: the largest size
// first (a loopback or jumbo-frame path carries it at once), then halfway
// between the largest size known to work and the smallest known to fail,
// down to a 256-byte step; a probe that is lost (a path that drops it, or
// a socket that refuses to send it unfragmented) counts as a failure. Lost
// probes are no congestion signal (RFC 8899 §3): recovery keeps them out of
// the controller's losses. Probes go one at a time, alone in their
// datagram and unmarked (ECN validation must not count them).

// basePLPMTU is the size probed first, and what a probe search falls back
// to: a 1500-byte MTU less IPv6 and UDP headers (48 bytes), plus room.
const basePLPMTU = 1452

// pmtuSearchStep ends the search: closer than this to the failure is close
// enough.
const pmtuSearchStep = 256

type pmtuState struct {
	mtu       int // the datagram size in use: known to be carried
	max       int // the most we search for: ours and the peer's limit
	failed    int // the smallest size known not to be carried, 0 for none
	state     int // probeNone, probeDue, probeInFlight, probeDone
	probeSize int // the size in flight
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

// setPeerMax applies the peer's max_udp_payload_size (RFC 9000 §18.2).
func (m *pmtuState) setPeerMax(n uint64) {
	if n < uint64(m.max) {
		m.max = int(max(n, InitialMaxDatagramSize))
	}
}

// start begins the search once the handshake is confirmed.
func (m *pmtuState) start() {
	if m.state == probeNone {
		m.state = probeDue
	}
}

// next is the size to probe now, 0 when the search is over.
func (m *pmtuState) next() int {
	switch {
	case m.mtu < basePLPMTU:
		if m.failed != 0 {
			return 0 // even 1452 bytes do not pass: 1200 it is
		}
		return min(basePLPMTU, m.max)
	case m.failed == 0:
		return m.max
	}
	mid := (m.mtu + m.failed) / 2
	if m.failed-m.mtu <= pmtuSearchStep || mid <= m.mtu {
		return 0
	}
	return mid
}

// onProbeAcked: the path carries datagrams of the probe's size.
func (m *pmtuState) onProbeAcked(c *Conn) {
	m.mtu = max(m.mtu, m.probeSize)
	c.cc.SetMaxDatagramSize(m.mtu)
	m.advance()
}

// onProbeLost: the probe's size is too large for the path.
func (m *pmtuState) onProbeLost() {
	if m.failed == 0 || m.probeSize < m.failed {
		m.failed = m.probeSize
	}
	m.advance()
}

func (m *pmtuState) advance() {
	m.state = probeDue
	if s := m.next(); s == 0 || s <= m.mtu {
		m.state = probeDone
	}
}

// appendMTUProbe sends one PING padded to the size probed. The probe is
// ack-eliciting; its loss is no congestion signal.
func (c *Conn) appendMTUProbe(now time.Duration, buf []byte) []byte {
	m := &c.pmtu
	size := m.next()
	if size <= m.mtu {
		m.state = probeDone
		return buf
	}
	if avail := cap(buf) - len(buf); avail < size {
		// The owner's buffer is smaller than the probe: probe what fits,
		// at least one step up, or stop.
		if avail-m.mtu < pmtuSearchStep {
			m.state = probeDone
			return buf
		}
		size = avail
	}
	ctx := sendContext{now: now, ackElicitingAllowed: true, mtuProbe: true}
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
