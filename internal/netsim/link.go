package netsim

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Impairment describes what one direction of a path does to datagrams.
// The zero value is a perfect, infinitely fast path.
type Impairment struct {
	Delay     time.Duration // one-way propagation delay
	Jitter    time.Duration // extra delay drawn uniformly from [0, Jitter); reorders datagrams
	Loss      float64       // probability a datagram is dropped
	Duplicate float64       // probability a datagram is delivered twice
	Corrupt   float64       // probability one byte of a datagram is flipped
	// RateBitsPerSec serializes datagrams at this rate (0: no limit);
	// datagrams wait in a queue of at most QueueBytes (0: 64 KiB) and are
	// dropped when it is full, as at a bottleneck router.
	RateBitsPerSec int64
	QueueBytes     int
	Blackhole      bool // drop everything
	// MTU, when set, drops datagrams larger than it, silently: a path
	// MTU black hole (no ICMP, as behind a tunnel or a firewall).
	MTU int
}

// Link applies an Impairment to the datagrams sent over it. It is safe for
// concurrent use.
type Link struct {
	mu        sync.Mutex
	imp       Impairment
	rng       *rand.Rand
	busyUntil time.Time // when the bottleneck finishes serializing what it holds
	// lastArrival is when the last datagram sent arrives: without jitter
	// a link keeps datagrams in order, as a path does, and datagrams
	// arriving at the same instant would otherwise be delivered in any
	// order (each delivery is its own timer).
	lastArrival time.Time

	stats LinkStats
}

// LinkStats counts what a link did.
type LinkStats struct {
	Sent, Delivered, Lost, QueueDrops, Duplicated, Corrupted int
	// TooBig counts datagrams dropped for exceeding the MTU.
	TooBig int
}

// NewLink returns a link with the given impairment and random seed.
func NewLink(imp Impairment, seed uint64) *Link {
	return &Link{imp: imp, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Set changes the impairment from now on; datagrams in flight are unaffected.
func (l *Link) Set(imp Impairment) {
	l.mu.Lock()
	l.imp = imp
	l.mu.Unlock()
}

// Impairment returns the current impairment.
func (l *Link) Impairment() Impairment {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.imp
}

// Stats returns the counters so far.
func (l *Link) Stats() LinkStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// delivery is one copy of a datagram to deliver after a delay.
type delivery struct {
	after   time.Duration
	corrupt int // index of the byte to flip, or -1
}

// plan decides the fate of a datagram of size bytes sent at now: up to two
// deliveries (a duplicate), or none.
func (l *Link) plan(now time.Time, size int) (out [2]delivery, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	imp := &l.imp
	l.stats.Sent++
	if imp.MTU > 0 && size > imp.MTU {
		l.stats.TooBig++
		return out, 0
	}
	if imp.Blackhole || (imp.Loss > 0 && l.rng.Float64() < imp.Loss) {
		l.stats.Lost++
		return out, 0
	}
	var queueing time.Duration
	if imp.RateBitsPerSec > 0 {
		limit := imp.QueueBytes
		if limit == 0 {
			limit = 64 << 10
		}
		if l.busyUntil.Before(now) {
			l.busyUntil = now
		}
		backlog := l.busyUntil.Sub(now)
		// Bytes still waiting at the bottleneck.
		if int64(backlog)*imp.RateBitsPerSec/8/int64(time.Second) > int64(limit) {
			l.stats.QueueDrops++
			return out, 0
		}
		serialize := time.Duration(int64(size) * 8 * int64(time.Second) / imp.RateBitsPerSec)
		l.busyUntil = l.busyUntil.Add(serialize)
		queueing = l.busyUntil.Sub(now)
	}
	copies := 1
	if imp.Duplicate > 0 && l.rng.Float64() < imp.Duplicate {
		copies = 2
		l.stats.Duplicated++
	}
	for i := range copies {
		d := delivery{after: imp.Delay + queueing, corrupt: -1}
		if imp.Jitter > 0 {
			d.after += time.Duration(l.rng.Int64N(int64(imp.Jitter)))
		} else {
			if arrival := now.Add(d.after); !arrival.After(l.lastArrival) {
				d.after = l.lastArrival.Sub(now) + time.Nanosecond
			}
			l.lastArrival = now.Add(d.after)
		}
		if size > 0 && imp.Corrupt > 0 && l.rng.Float64() < imp.Corrupt {
			d.corrupt = l.rng.IntN(size)
			l.stats.Corrupted++
		}
		out[i] = d
	}
	l.stats.Delivered += copies
	return out, copies
}
