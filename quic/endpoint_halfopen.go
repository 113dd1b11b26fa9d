package quic

import (
	"sync"
	"sync/atomic"
	"time"
)

// Half-open connections: a server's connections whose handshake has not
// completed. Each costs a goroutine and the handshake's state (about
// 35 KB: keys, the TLS state, the flight waiting to be acknowledged), and
// a client's first Initial is all it takes to make one, from any address
// (RFC 9000 §21.1.1). So the endpoint counts them, and:
//
//   - while more than HalfOpenRetryThreshold of them come from addresses
//     nothing validated, or more than HalfOpenRetryRate new ones started
//     in the last second, a new client gets a Retry (RFC 9000 §8.1.2), as
//     with RequireAddressValidation: it costs the server one small packet
//     and no state, and a client that can receive at its address comes
//     back with the token one round trip later;
//   - at MaxHalfOpen it starts none at all, validated or not.
//
// The defaults suit a server that takes on the order of a thousand new
// connections a second; a busier one raises them.
const (
	defaultHalfOpenRetryThreshold = 128
	defaultHalfOpenRetryRate      = 1000
	defaultMaxHalfOpen            = 1024
)

// halfOpenKind is what a connection counts as until its handshake
// completes: nothing (a client's, or done), or a half-open connection
// from an address a Retry token validated, or from one nothing validated.
type halfOpenKind uint8

const (
	notHalfOpen halfOpenKind = iota
	halfOpenValidated
	halfOpenUnvalidated
)

// halfOpenLimits are a server's limits, from its Config.
type halfOpenLimits struct {
	retryThreshold int64 // < 0: never Retry for the number
	retryRate      int64 // new half-open connections a second; < 0: never Retry for the rate
	max            int64 // < 0: no cap
}

func (c *Config) halfOpenLimits() halfOpenLimits {
	return halfOpenLimits{
		retryThreshold: orDefaultInt(c.HalfOpenRetryThreshold, defaultHalfOpenRetryThreshold),
		retryRate:      orDefaultInt(c.HalfOpenRetryRate, defaultHalfOpenRetryRate),
		max:            orDefaultInt(c.MaxHalfOpen, defaultMaxHalfOpen),
	}
}

// orDefaultInt is v, or def when v is zero.
func orDefaultInt(v, def int) int64 {
	if v == 0 {
		return int64(def)
	}
	return int64(v)
}

// halfOpenState counts an endpoint's half-open connections and the rate
// they start at.
type halfOpenState struct {
	limits      halfOpenLimits
	total       atomic.Int64 // every half-open connection
	unvalidated atomic.Int64 // those from addresses nothing validated

	// A token bucket of new half-open connections: it holds up to a
	// second's worth (retryRate), refilled at retryRate a second.
	mu     sync.Mutex
	tokens float64
	refill time.Time
}

func (h *halfOpenState) init(limits halfOpenLimits) {
	h.limits = limits
	h.tokens = float64(max(limits.retryRate, 0))
}

// retryDue reports whether a new client should get a Retry rather than a
// connection: too many half-open connections from unvalidated addresses,
// or too many started in the last second.
func (h *halfOpenState) retryDue(now time.Time) bool {
	l := &h.limits
	if l.retryThreshold >= 0 && h.unvalidated.Load() >= l.retryThreshold {
		return true
	}
	if l.retryRate < 0 {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refillLocked(now)
	return h.tokens < 1
}

func (h *halfOpenState) refillLocked(now time.Time) {
	if !h.refill.IsZero() && now.After(h.refill) {
		rate := float64(h.limits.retryRate)
		h.tokens = min(rate, h.tokens+now.Sub(h.refill).Seconds()*rate)
	}
	h.refill = now
}

// start counts a new half-open connection of kind k; false, counting
// nothing, when MaxHalfOpen are already open.
func (h *halfOpenState) start(now time.Time, k halfOpenKind) bool {
	if h.total.Add(1) > h.limits.max && h.limits.max > 0 {
		h.total.Add(-1)
		return false
	}
	if k == halfOpenUnvalidated {
		h.unvalidated.Add(1)
	}
	if h.limits.retryRate >= 0 {
		h.mu.Lock()
		h.refillLocked(now)
		h.tokens = max(h.tokens-1, 0)
		h.mu.Unlock()
	}
	return true
}

// end uncounts a connection of kind k: its handshake completed or it
// ended before.
func (h *halfOpenState) end(k halfOpenKind) {
	if k == notHalfOpen {
		return
	}
	h.total.Add(-1)
	if k == halfOpenUnvalidated {
		h.unvalidated.Add(-1)
	}
}

// halfOpenCounts returns how many of the endpoint's server connections
// have not completed their handshake, and how many of those come from
// addresses no Retry token validated.
func (e *Endpoint) halfOpenCounts() (total, unvalidated int) {
	return int(e.halfOpen.total.Load()), int(e.halfOpen.unvalidated.Load())
}

// endHalfOpen uncounts c once its handshake completed or it ended (on c's
// goroutine).
func (c *Conn) endHalfOpen() {
	c.endpoint.halfOpen.end(c.halfOpen)
	c.halfOpen = notHalfOpen
}
