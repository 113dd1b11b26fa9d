package congestion

// maxFilter is a windowed maximum over a stream of samples taken at
// non-decreasing virtual times: Kathleen Nichols' algorithm, which
// draft-ietf-ccwg-bbr §5.5.5 names for its max filters. It keeps the best,
// second-best and third-best samples of disjoint sub-windows, so that when
// the best one ages out of the window the next-best of the rest of the
// window takes over at once, in constant space.
type maxFilter struct {
	s [3]filterSample
}

type filterSample struct {
	t, v uint64
}

// reset forgets every sample but (t, v).
func (f *maxFilter) reset(t, v uint64) uint64 {
	f.s[0] = filterSample{t, v}
	f.s[1], f.s[2] = f.s[0], f.s[0]
	return v
}

// update adds the sample v taken at time t and returns the maximum over
// the window [t - window, t].
func (f *maxFilter) update(t, window, v uint64) uint64 {
	n := filterSample{t, v}
	// A new maximum, or nothing left in the window: start over.
	if v >= f.s[0].v || t-f.s[2].t > window {
		return f.reset(t, v)
	}
	switch {
	case v >= f.s[1].v:
		f.s[1], f.s[2] = n, n
	case v >= f.s[2].v:
		f.s[2] = n
	}
	// The best sample is too old: promote the others.
	if t-f.s[0].t > window {
		f.s[0], f.s[1], f.s[2] = f.s[1], f.s[2], n
		if t-f.s[0].t > window {
			f.s[0], f.s[1] = f.s[1], f.s[2]
		}
		return f.s[0].v
	}
	// Keep the sub-windows spread over the window: a second-best as old
	// as the best after a quarter of the window, a third-best as old as
	// the second after half of it, is replaced by the newest sample.
	if f.s[1].t == f.s[0].t && t-f.s[0].t > window/4 {
		f.s[1], f.s[2] = n, n
	} else if f.s[2].t == f.s[1].t && t-f.s[1].t > window/2 {
		f.s[2] = n
	}
	return f.s[0].v
}
