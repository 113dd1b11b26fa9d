package h3

import (
	"sync"
	"time"
)

// Broken alternatives. An alternative whose QUIC connection fails where TCP
// to the origin works is not tried again for a while: 5 minutes after the
// first failure, doubling with each further one up to 48 hours, as
// Chromium does. A success resets it; NetworkChanged clears every mark.
const (
	brokenInitial = 5 * time.Minute
	brokenMax     = 48 * time.Hour
	// maxAltStates bounds the table; the entry used least recently goes.
	maxAltStates = 1024
)

// altState is what the Transport knows of one route (origin, alternative).
type altState struct {
	origin Origin
	// until is when a broken alternative may be tried again; zero when
	// not broken. failures counts consecutive failures.
	until    time.Time
	failures int
	// pending holds a QUIC failure not yet confirmed by TCP working for
	// the origin; pendingAt is when the failed dial began.
	pending   error
	pendingAt time.Time
	// slow: a race for this route gave up waiting for a dial that is
	// still in progress; requests go straight to TCP until it ends.
	slow bool
	// srtt is the smoothed RTT last measured on a connection along the
	// route, for the race's head start.
	srtt    time.Duration
	lastUse time.Time
}

// altStates is the Transport's table of routes, safe for concurrent use.
type altStates struct {
	mu sync.Mutex
	m  map[string]*altState
	// tcpOK is when TCP last worked for each origin with a state, so that
	// a QUIC failure can be judged against it.
	tcpOK map[Origin]time.Time
}

func newAltStates() *altStates {
	return &altStates{m: map[string]*altState{}, tcpOK: map[Origin]time.Time{}}
}

// get returns rt's state, creating it; call with s.mu held.
func (s *altStates) get(rt route, now time.Time) *altState {
	k := rt.key()
	st := s.m[k]
	if st == nil {
		if len(s.m) >= maxAltStates {
			s.evictLocked()
		}
		st = &altState{origin: rt.origin}
		s.m[k] = st
	}
	st.lastUse = now
	return st
}

func (s *altStates) evictLocked() {
	var oldest string
	var at time.Time
	for k, st := range s.m {
		if oldest == "" || st.lastUse.Before(at) {
			oldest, at = k, st.lastUse
		}
	}
	delete(s.m, oldest)
}

// brokenUntil returns when rt may be tried again, or the zero time.
func (s *altStates) brokenUntil(rt route, now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[rt.key()]
	if st == nil || !now.Before(st.until) {
		return time.Time{}
	}
	return st.until
}

// isSlow reports whether requests along rt should not wait for QUIC.
func (s *altStates) isSlow(rt route) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[rt.key()]
	return st != nil && st.slow
}

func (s *altStates) setSlow(rt route, now time.Time, slow bool) {
	s.mu.Lock()
	s.get(rt, now).slow = slow
	s.mu.Unlock()
}

// quicWorked records a connection made along rt: the route is not broken,
// and srtt (when known) times the next head start.
func (s *altStates) quicWorked(rt route, now time.Time, srtt time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.get(rt, now)
	st.until, st.failures, st.pending, st.slow = time.Time{}, 0, nil, false
	if srtt > 0 {
		st.srtt = srtt
	}
}

// headStart returns 1.5 × the route's last smoothed RTT (Chromium's
// figure), or 300 ms when none is known. It is kept within [50 ms, 2 s]:
// a QUIC handshake costs some milliseconds of computation beyond the round
// trip, which a loopback or LAN RTT would not cover.
func (s *altStates) headStart(rt route) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[rt.key()]
	if st == nil || st.srtt == 0 {
		return 300 * time.Millisecond
	}
	return min(max(st.srtt*3/2, 50*time.Millisecond), 2*time.Second)
}

// quicFailed records a failed QUIC connection along rt whose dial began at
// began. If TCP has worked for the origin since, the route is marked
// broken now; otherwise when TCP next works for it. It returns the mark
// made, if any.
func (s *altStates) quicFailed(rt route, began, now time.Time, err error) (mark brokenMark, marked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.get(rt, now)
	st.slow = false
	if ok, seen := s.tcpOK[rt.origin]; seen && !ok.Before(began) {
		return s.markLocked(rt.key(), st, now, err), true
	}
	st.pending, st.pendingAt = err, began
	return brokenMark{}, false
}

// tcpWorked records a response over TCP from origin and confirms the QUIC
// failures pending for it, returning the marks made.
func (s *altStates) tcpWorked(origin Origin, now time.Time) []brokenMark {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.tcpOK[origin]; !seen && len(s.tcpOK) >= maxAltStates {
		clear(s.tcpOK) // rare: a client of very many origins forgets a little
	}
	s.tcpOK[origin] = now
	var marks []brokenMark
	for k, st := range s.m {
		if st.origin == origin && st.pending != nil {
			marks = append(marks, s.markLocked(k, st, now, st.pending))
		}
	}
	return marks
}

// brokenMark describes an alternative just marked broken.
type brokenMark struct {
	key      string
	origin   Origin
	until    time.Time
	failures int
	err      error
}

func (s *altStates) markLocked(key string, st *altState, now time.Time, err error) brokenMark {
	st.failures++
	d := brokenInitial
	for i := 1; i < st.failures && d < brokenMax; i++ {
		d *= 2
	}
	st.until = now.Add(min(d, brokenMax))
	st.pending = nil
	return brokenMark{key: key, origin: st.origin, until: st.until, failures: st.failures, err: err}
}

// clearMarks forgets every broken mark and pending failure, keeping the
// RTTs (NetworkChanged).
func (s *altStates) clearMarks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.m {
		st.until, st.failures, st.pending = time.Time{}, 0, nil
	}
	clear(s.tcpOK)
}
