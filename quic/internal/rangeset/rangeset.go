package rangeset

import "sort"

// Range is the half-open interval [Start, End).
type Range struct {
	Start, End uint64
}

// Len is the number of values in r.
func (r Range) Len() uint64 { return r.End - r.Start }

// Set is a set of uint64 values. The zero value is an empty set.
type Set struct {
	r []Range // sorted by Start; disjoint and never adjacent
}

// Len is the number of ranges (not values) in the set.
func (s *Set) Len() int { return len(s.r) }

// Range returns the i-th range in ascending order.
func (s *Set) Range(i int) Range { return s.r[i] }

// Ranges returns the ranges in ascending order. The slice is the set's own
// storage: valid until the next change.
func (s *Set) Ranges() []Range { return s.r }

// Min is the smallest value in the set; ok is false for an empty set.
func (s *Set) Min() (v uint64, ok bool) {
	if len(s.r) == 0 {
		return 0, false
	}
	return s.r[0].Start, true
}

// Max is the largest value in the set; ok is false for an empty set.
func (s *Set) Max() (v uint64, ok bool) {
	if len(s.r) == 0 {
		return 0, false
	}
	return s.r[len(s.r)-1].End - 1, true
}

// Contains reports whether v is in the set.
func (s *Set) Contains(v uint64) bool {
	i := s.search(v)
	return i < len(s.r) && s.r[i].Start <= v
}

// ContainsRange reports whether every value of [start, end) is in the set.
func (s *Set) ContainsRange(start, end uint64) bool {
	if start >= end {
		return true
	}
	i := s.search(start)
	return i < len(s.r) && s.r[i].Start <= start && end <= s.r[i].End
}

// NextGap returns the first run [gapStart, gapEnd) of values of
// [start, end) that are not in the set, and false when the set covers
// all of [start, end). Walking a range's gaps costs O(log n) per gap.
func (s *Set) NextGap(start, end uint64) (gapStart, gapEnd uint64, ok bool) {
	for start < end {
		i := s.search(start)
		if i == len(s.r) || s.r[i].Start >= end {
			return start, end, true
		}
		if s.r[i].Start > start {
			return start, s.r[i].Start, true
		}
		start = s.r[i].End
	}
	return 0, 0, false
}

// search returns the index of the first range whose End is above v: the
// range holding v if there is one, else the first range after v.
func (s *Set) search(v uint64) int {
	n := len(s.r)
	// Fast path: most lookups are at or near the top of the set.
	if n > 0 && s.r[n-1].Start <= v {
		if v < s.r[n-1].End {
			return n - 1
		}
		return n
	}
	return sort.Search(n, func(i int) bool { return s.r[i].End > v })
}

// Add adds the single value v.
func (s *Set) Add(v uint64) { s.AddRange(v, v+1) }

// AddRange adds every value of [start, end). An empty range is a no-op.
func (s *Set) AddRange(start, end uint64) {
	if start >= end {
		return
	}
	n := len(s.r)
	// Fast path: extending or appending past the last range.
	if n == 0 || start > s.r[n-1].End {
		s.r = append(s.r, Range{start, end})
		return
	}
	if start >= s.r[n-1].Start {
		if end > s.r[n-1].End {
			s.r[n-1].End = end
		}
		return
	}
	// General case: find the first range that touches [start, end)
	// (End >= start, adjacency included) and the first that lies wholly
	// after it (Start > end); everything between merges into one range.
	i := sort.Search(n, func(i int) bool { return s.r[i].End >= start })
	j := i
	for j < n && s.r[j].Start <= end {
		j++
	}
	if i == j {
		// Touches nothing: insert at i.
		s.r = append(s.r, Range{})
		copy(s.r[i+1:], s.r[i:])
		s.r[i] = Range{start, end}
		return
	}
	merged := Range{min(start, s.r[i].Start), max(end, s.r[j-1].End)}
	s.r[i] = merged
	s.r = append(s.r[:i+1], s.r[j:]...)
}

// RemoveBelow removes every value below v. The connection uses it to forget
// packet numbers it no longer needs to acknowledge.
func (s *Set) RemoveBelow(v uint64) {
	i := 0
	for i < len(s.r) && s.r[i].End <= v {
		i++
	}
	if i > 0 {
		s.r = append(s.r[:0], s.r[i:]...)
	}
	if len(s.r) > 0 && s.r[0].Start < v {
		s.r[0].Start = v
	}
}

// RemoveRange removes every value of [start, end).
func (s *Set) RemoveRange(start, end uint64) {
	if start >= end {
		return
	}
	for i := 0; i < len(s.r); i++ {
		r := s.r[i]
		if r.End <= start {
			continue
		}
		if r.Start >= end {
			return
		}
		switch {
		case r.Start < start && r.End > end:
			// Split in two.
			s.r = append(s.r, Range{})
			copy(s.r[i+2:], s.r[i+1:])
			s.r[i] = Range{r.Start, start}
			s.r[i+1] = Range{end, r.End}
			return
		case r.Start < start:
			s.r[i].End = start
		case r.End > end:
			s.r[i].Start = end
			return
		default:
			s.r = append(s.r[:i], s.r[i+1:]...)
			i--
		}
	}
}

// TrimFront keeps only the last n ranges (the highest values), dropping the
// rest. An ACK frame carries a bounded number of ranges, and a receiver must
// bound the state a peer can make it keep (RFC 9000 §13.2.3).
func (s *Set) TrimFront(n int) {
	if len(s.r) > n {
		s.r = append(s.r[:0], s.r[len(s.r)-n:]...)
	}
}

// Clear empties the set and keeps its storage.
func (s *Set) Clear() { s.r = s.r[:0] }
