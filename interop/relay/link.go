package relay

import (
	"math/rand/v2"
	"time"
)

// Dir is the direction a datagram travels.
type Dir uint8

// The two directions, seen from the client.
const (
	ToServer Dir = iota
	ToClient
)

func (d Dir) String() string {
	if d == ToServer {
		return "to-server"
	}
	return "to-client"
}

// Network is one test case's network, as the simulator's scenarios set
// it: a bottleneck link in each direction with a one-way delay, a rate and
// a drop-tail queue, and the impairments some tests add. Per-direction
// settings are indexed by Dir. The zero Network forwards at once.
type Network struct {
	// Delay is the one-way propagation delay (15 ms: a 30 ms RTT).
	Delay time.Duration
	// Rate is the link rate in bits per second (10 Mbit/s); 0 for none.
	// A datagram costs its UDP payload and IPOverhead.
	Rate int64
	// Queue is how many datagrams may wait for the link (25); those that
	// find it full are dropped. 0 means unbounded.
	Queue int

	// Loss and Corrupt are per-direction probabilities. A corrupted
	// datagram has one byte, among the first 50 of its UDP payload,
	// replaced by another value.
	Loss, Corrupt [2]float64
	// MaxBurst caps consecutive random losses (3 in the simulator's
	// drop-rate scenario); 0 for no cap.
	MaxBurst int
	// Drops lists the datagrams to drop in each direction by their
	// 1-based index (the simulator's droplist scenario).
	Drops [2][]int

	// BlackholeOn, BlackholeOff: after BlackholeOn of normal service the
	// link drops everything for BlackholeOff, and so on (the blackhole
	// scenario: 5 s on, 2 s off). BlackholeOff zero for none.
	BlackholeOn, BlackholeOff time.Duration

	// RebindFirst, RebindEvery: the NAT gives the client a new port at
	// RebindFirst and then every RebindEvery (1 s, 5 s); a new address
	// too when RebindAddr is set. RebindEvery zero for none.
	RebindFirst, RebindEvery time.Duration
	RebindAddr               bool

	// Seed makes the random impairments repeatable.
	Seed uint64
}

// IPOverhead is what a datagram costs on the link beyond its UDP payload:
// the IPv4 and UDP headers.
const IPOverhead = 28

// Drop says why a datagram was dropped.
type Drop string

// The reasons a link drops a datagram.
const (
	Delivered Drop = ""
	DropList  Drop = "droplist"
	Blackhole Drop = "blackhole"
	Loss      Drop = "loss"
	QueueFull Drop = "queue"
	// NATDrop: the server sent to a mapping the NAT has forgotten
	// since it rebound; the relay drops it before the link.
	NATDrop Drop = "nat"
)

// Fate is what a link does with one datagram.
type Fate struct {
	Drop Drop
	// CorruptAt is the payload byte that was changed, -1 for none.
	CorruptAt int
	// Deliver is when the datagram leaves the link at the far end.
	Deliver time.Duration
}

// link is one direction of the network: a sans-I/O model fed arrivals
// with their time (since the start of the test) that says when each
// datagram is delivered, if at all. Arrivals must come in time order;
// deliveries then come out in the same order (the link is FIFO).
type link struct {
	net   *Network
	dir   Dir
	rng   *rand.Rand
	index int // datagrams seen
	burst int // consecutive random losses
	// freeAt is when the link finishes serializing what it accepted;
	// starts holds when each queued datagram starts serializing.
	freeAt time.Duration
	starts []time.Duration
	drops  map[int]bool
}

func newLink(n *Network, dir Dir) *link {
	l := &link{net: n, dir: dir, rng: rand.New(rand.NewPCG(n.Seed, uint64(dir)+1)), drops: map[int]bool{}}
	for _, i := range n.Drops[dir] {
		l.drops[i] = true
	}
	return l
}

// admit decides the fate of a datagram arriving at now. It corrupts
// payload in place when the network says so.
func (l *link) admit(now time.Duration, payload []byte) Fate {
	l.index++
	f := Fate{CorruptAt: -1}
	switch {
	case l.drops[l.index]:
		f.Drop = DropList
	case l.inBlackhole(now):
		f.Drop = Blackhole
	case l.lose():
		f.Drop = Loss
	}
	if f.Drop != Delivered {
		return f
	}
	// Datagrams whose serialization has started have left the queue.
	for len(l.starts) > 0 && l.starts[0] <= now {
		l.starts = l.starts[1:]
	}
	if l.net.Queue > 0 && l.net.Rate > 0 && len(l.starts) >= l.net.Queue {
		f.Drop = QueueFull
		return f
	}
	sent := now
	if l.net.Rate > 0 {
		start := max(now, l.freeAt)
		if start > now {
			l.starts = append(l.starts, start)
		}
		l.freeAt = start + time.Duration(int64(len(payload)+IPOverhead)*8*int64(time.Second)/l.net.Rate)
		sent = l.freeAt
	}
	f.Deliver = sent + l.net.Delay
	if p := l.net.Corrupt[l.dir]; p > 0 && len(payload) > 0 && l.rng.Float64() < p {
		f.CorruptAt = l.rng.IntN(min(len(payload), 50))
		// XOR with a non-zero value: the byte always changes.
		payload[f.CorruptAt] ^= byte(1 + l.rng.IntN(255))
	}
	return f
}

// lose draws a random loss, never more than MaxBurst in a row.
func (l *link) lose() bool {
	p := l.net.Loss[l.dir]
	if p <= 0 {
		return false
	}
	if l.net.MaxBurst > 0 && l.burst >= l.net.MaxBurst {
		l.burst = 0
		return false
	}
	if l.rng.Float64() < p {
		l.burst++
		return true
	}
	l.burst = 0
	return false
}

func (l *link) inBlackhole(now time.Duration) bool {
	n := l.net
	if n.BlackholeOff <= 0 {
		return false
	}
	return now%(n.BlackholeOn+n.BlackholeOff) >= n.BlackholeOn
}

// rebindEpoch is how many times the NAT has rebound by now: datagrams of
// one client address in different epochs leave from different ports.
func (n *Network) rebindEpoch(now time.Duration) int {
	if n.RebindEvery <= 0 || now < n.RebindFirst {
		return 0
	}
	return 1 + int((now-n.RebindFirst)/n.RebindEvery)
}
