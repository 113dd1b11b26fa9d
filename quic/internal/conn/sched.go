package conn

// Stream scheduling: which stream's data goes into the next packet.
//
// Streams carry an RFC 9218 priority: an urgency from 0 (most urgent) to 7
// and an incremental flag (§4). Data of a more urgent stream goes first
// (§10). At one urgency, non-incremental streams are served one at a time
// in ascending stream ID order (§10: "in the order in which clients make
// requests"), from a min-heap; incremental streams share the bandwidth,
// one packet's worth each in turn, from a ring. When both kinds wait at
// the same urgency they take turns packet by packet, so that neither
// starves the other (§10 recommends avoiding such starvation). Visiting a
// stream costs O(1) (ring) or O(log n) (heap), whatever the number of
// streams.
//
// A stream's default priority is urgency 3 and incremental: streams of a
// plain QUIC application share the connection fairly, as they did before
// priorities existed. (RFC 9218's default for HTTP responses is not
// incremental: package h3's server sets each request stream's priority
// from that default, the request's Priority header and PRIORITY_UPDATE
// frames.)

import "math/bits"

const (
	// DefaultUrgency is RFC 9218 §4.1's default urgency.
	DefaultUrgency = 3
	numUrgencies   = 8
)

// packPriority packs a priority for Stream.priority: 0 means "not set".
func packPriority(urgency uint8, incremental bool) uint32 {
	v := uint32(min(urgency, numUrgencies-1)) << 1
	if incremental {
		v |= 1
	}
	return v + 1
}

// SetPriority sets the stream's priority (RFC 9218 §4): urgency 0 (most
// urgent) to 7, and whether its data is used incrementally.
func (s *Stream) SetPriority(urgency uint8, incremental bool) {
	s.priority.Store(packPriority(urgency, incremental))
	s.mb.push(s)
}

// schedEntry is a stream's place in the send schedule.
type schedEntry struct {
	queued      bool
	packed      uint32 // the priority it is scheduled with, 0 for the default
	urgency     uint8
	incremental bool
	prev, next  *Stream // in its urgency's ring (incremental)
	index       int     // in its urgency's heap (not incremental)
}

// sendScheduler holds the streams with data to send.
type sendScheduler struct {
	nonEmpty uint8 // bit u: level u holds streams
	heapTurn uint8 // bit u: when both kinds wait at urgency u, the heap's stream is next
	levels   [numUrgencies]schedLevel
}

// schedLevel holds the streams of one urgency: 16 bytes, so that a
// connection carries all eight cheaply.
type schedLevel struct {
	ring *Stream    // incremental streams, circular; ring is served next
	heap *[]*Stream // non-incremental streams, a min-heap by stream ID; made on first use
}

// setPriority applies a new priority to s, moving it if it is queued.
func (sc *sendScheduler) setPriority(s *Stream, packed uint32) {
	queued := s.sched.queued
	if queued {
		sc.remove(s)
	}
	s.sched.packed = packed
	if queued {
		sc.push(s)
	}
}

// priority returns the urgency and incremental flag s is scheduled with.
func (e *schedEntry) priority() (uint8, bool) {
	if e.packed == 0 {
		return DefaultUrgency, true
	}
	v := e.packed - 1
	return uint8(v >> 1), v&1 != 0
}

// push queues s, unless it is queued already.
func (sc *sendScheduler) push(s *Stream) {
	e := &s.sched
	if e.queued {
		return
	}
	e.queued = true
	e.urgency, e.incremental = e.priority()
	l := &sc.levels[e.urgency]
	sc.nonEmpty |= 1 << e.urgency
	if e.incremental {
		if l.ring == nil {
			e.prev, e.next = s, s
			l.ring = s
			return
		}
		// Behind every stream already waiting: before the ring's head.
		head := l.ring
		tail := head.sched.prev
		e.prev, e.next = tail, head
		tail.sched.next = s
		head.sched.prev = s
		return
	}
	if l.heap == nil {
		l.heap = new([]*Stream)
	}
	e.index = len(*l.heap)
	*l.heap = append(*l.heap, s)
	l.up(e.index)
}

// remove takes s out of the schedule, if it is there.
func (sc *sendScheduler) remove(s *Stream) {
	e := &s.sched
	if !e.queued {
		return
	}
	e.queued = false
	l := &sc.levels[e.urgency]
	if e.incremental {
		if e.next == s {
			l.ring = nil
		} else {
			e.prev.sched.next = e.next
			e.next.sched.prev = e.prev
			if l.ring == s {
				l.ring = e.next
			}
		}
		e.prev, e.next = nil, nil
	} else {
		h := *l.heap
		last := len(h) - 1
		i := e.index
		if i != last {
			l.swap(i, last)
		}
		h[last] = nil
		*l.heap = h[:last]
		if i != last {
			l.down(i)
			l.up(i)
		}
	}
	if l.ring == nil && l.heapLen() == 0 {
		sc.nonEmpty &^= 1 << e.urgency
	}
}

// trim drops the heaps of urgencies nobody waits at.
func (sc *sendScheduler) trim() {
	for u := range sc.levels {
		if l := &sc.levels[u]; l.heapLen() == 0 {
			l.heap = nil
		}
	}
}

// next returns the stream to serve now, nil when none waits.
func (sc *sendScheduler) next() *Stream {
	if sc.nonEmpty == 0 {
		return nil
	}
	u := bits.TrailingZeros8(sc.nonEmpty) // the most urgent level that holds streams
	l := &sc.levels[u]
	switch {
	case l.heapLen() == 0:
		return l.ring
	case l.ring == nil || sc.heapTurn&(1<<u) != 0:
		return (*l.heap)[0]
	}
	return l.ring
}

// served moves on after s, which next returned, sent a packet's worth:
// an incremental stream goes behind the others of its ring; the other
// kind at its urgency gets the next turn.
func (sc *sendScheduler) served(s *Stream) {
	e := &s.sched
	if !e.queued {
		return
	}
	if e.incremental {
		sc.levels[e.urgency].ring = e.next
		sc.heapTurn |= 1 << e.urgency
	} else {
		sc.heapTurn &^= 1 << e.urgency
	}
}

func (l *schedLevel) heapLen() int {
	if l.heap == nil {
		return 0
	}
	return len(*l.heap)
}

func (l *schedLevel) less(i, j int) bool { h := *l.heap; return h[i].id < h[j].id }

func (l *schedLevel) swap(i, j int) {
	h := *l.heap
	h[i], h[j] = h[j], h[i]
	h[i].sched.index = i
	h[j].sched.index = j
}

func (l *schedLevel) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !l.less(i, p) {
			return
		}
		l.swap(i, p)
		i = p
	}
}

func (l *schedLevel) down(i int) {
	n := len(*l.heap)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && l.less(c+1, c) {
			c++
		}
		if !l.less(c, i) {
			return
		}
		l.swap(i, c)
		i = c
	}
}

// ctrlQueue holds, in order, the streams with control frames to send
// (STOP_SENDING, MAX_STREAM_DATA, RESET_STREAM, STREAM_DATA_BLOCKED):
// they go before any stream's data, whatever its priority.
type ctrlQueue struct {
	head, tail *Stream
}

// push queues s unless it is queued already.
func (q *ctrlQueue) push(s *Stream) {
	if s.ctrlQueued {
		return
	}
	s.ctrlQueued = true
	s.ctrlNext = nil
	if q.tail == nil {
		q.head = s
	} else {
		q.tail.ctrlNext = s
	}
	q.tail = s
}

// pop removes the stream at the front.
func (q *ctrlQueue) pop() {
	s := q.head
	q.head = s.ctrlNext
	if q.head == nil {
		q.tail = nil
	}
	s.ctrlNext, s.ctrlQueued = nil, false
}
