package quic

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// What an endpoint sends without a connection, stateless resets (RFC 9000
// §10.3) and Version Negotiation (§6.1), answers a datagram from anyone,
// spoofed addresses included. Each answer is smaller than what it answers
// (no amplification), but an attacker could still make us spend a packet
// per packet, and aim them at a victim. So they are rate limited:
// replyRatePerAddr a second to one address (its IP, whatever the port),
// replyRate a second in all. Separate limits per address keep resets
// useful to every other peer while one address exhausts its own (RFC 9000
// §10.3.3); addresses share replySlots token buckets, picked by a keyed
// hash, so the state is fixed whatever the number of addresses.
const (
	replyRate        = 1000
	replyRatePerAddr = 10
	replySlots       = 256
)

// replyLimiter is the token buckets of stateless replies.
type replyLimiter struct {
	mu    sync.Mutex
	all   tokenBucket
	slots *[replySlots]tokenBucket // made at the first reply
	seed  maphash.Seed
	// sent and limited count the replies sent and those the limits
	// suppressed, for tests.
	sent, limited atomic.Uint64
}

// tokenBucket holds up to a second's worth of tokens at its rate.
type tokenBucket struct {
	tokens float32
	last   int64 // Unix nanoseconds of the last refill; 0: never used (full)
}

// take refills the bucket for the time since its last use, at rate a
// second (and up to rate), and takes a token if there is one.
func (b *tokenBucket) take(now int64, rate float32) bool {
	if b.last == 0 {
		b.tokens = rate
	} else if now > b.last {
		b.tokens = min(rate, b.tokens+float32(now-b.last)/1e9*rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// allow reports whether a stateless reply may go to addr now, and counts
// it.
func (l *replyLimiter) allow(addr netip.AddrPort) bool {
	now := time.Now().UnixNano()
	l.mu.Lock()
	if l.slots == nil {
		l.slots = new([replySlots]tokenBucket)
		l.seed = maphash.MakeSeed()
	}
	slot := &l.slots[maphash.Comparable(l.seed, addr.Addr().Unmap())%replySlots]
	// The address's bucket first: an address over its limit does not use
	// up the tokens of everyone else.
	ok := slot.take(now, replyRatePerAddr) && l.all.take(now, replyRate)
	l.mu.Unlock()
	if !ok {
		l.limited.Add(1)
		return false
	}
	l.sent.Add(1)
	return true
}
