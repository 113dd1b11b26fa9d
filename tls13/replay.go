package tls13

import (
	"sync"
	"time"
)

// ReplayFilter is a server's record of the ClientHellos whose 0-RTT it
// accepted, so that a ClientHello replayed by an attacker does not have its
// early data processed twice (RFC 8446 §8). Together with the ticket age
// check, which refuses 0-RTT for a ClientHello arriving more than
// replayWindow (10 s) away from when the client says it sent it (§8.3), it
// makes a server accept a given ClientHello's 0-RTT at most once.
//
// The guarantee holds among the servers that share a filter. By default
// each Config has its own in-memory filter; servers that share ticket keys
// (Config.SessionTicketKeys) accept each other's tickets, so they must
// share a filter too: in one process, one NewReplayFilter set on every
// Config; across processes, an implementation over shared storage. A
// deployment that cannot share one should refuse 0-RTT (issue tickets
// without early data, or return false from Config.AcceptEarlyData).
type ReplayFilter interface {
	// Accept reports whether 0-RTT may be accepted for the ClientHello
	// identified by id (SHA-256 of its PSK binder, which is a MAC over
	// the whole ClientHello, RFC 8446 §4.2.11.2), and records id until
	// expires. It must return false for an id recorded before and not
	// yet expired. It may return false whenever it cannot decide (full,
	// storage unreachable): 0-RTT is then rejected and the client sends
	// its data again in 1-RTT, a round trip later but always safe. now
	// is the server's clock (Config.Time). Implementations must be safe
	// for concurrent use.
	Accept(id [32]byte, now, expires time.Time) bool
}

const (
	// replayWindow bounds the difference between the ticket age the
	// client claims and the one the server computes (RFC 8446 §8.3).
	replayWindow = 10 * time.Second
	// defaultReplayFilterSize bounds a Config's own filter: at most this
	// many 0-RTT acceptances per 2×replayWindow.
	defaultReplayFilterSize = 1 << 16
)

// NewReplayFilter returns an in-memory ReplayFilter remembering at most
// maxEntries ClientHellos (65536 when maxEntries < 1); when full it refuses
// 0-RTT until entries expire. Set the same filter on the Configs of servers
// in one process that share ticket keys.
func NewReplayFilter(maxEntries int) ReplayFilter {
	if maxEntries < 1 {
		maxEntries = defaultReplayFilterSize
	}
	return newMemoryReplayFilter(maxEntries)
}

type replayEntry struct {
	id      [32]byte
	expires time.Time
}

// memoryReplayFilter keeps ids in a map and in arrival order; since every
// id is kept for the same duration, the oldest expire first.
type memoryReplayFilter struct {
	mu      sync.Mutex
	seen    map[[32]byte]time.Time
	order   []replayEntry
	head    int // order[head:] are live
	maxSize int
}

func newMemoryReplayFilter(maxSize int) *memoryReplayFilter {
	return &memoryReplayFilter{seen: make(map[[32]byte]time.Time), maxSize: maxSize}
}

func (f *memoryReplayFilter) Accept(id [32]byte, now, expires time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.head < len(f.order) && !f.order[f.head].expires.After(now) {
		e := f.order[f.head]
		if f.seen[e.id].Equal(e.expires) {
			delete(f.seen, e.id)
		}
		f.order[f.head] = replayEntry{}
		f.head++
	}
	if f.head > 0 && f.head >= len(f.order)/2 {
		f.order = append(f.order[:0], f.order[f.head:]...)
		f.head = 0
	}
	if exp, dup := f.seen[id]; dup && exp.After(now) {
		return false
	}
	if len(f.seen) >= f.maxSize {
		return false
	}
	f.seen[id] = expires
	f.order = append(f.order, replayEntry{id, expires})
	return true
}
