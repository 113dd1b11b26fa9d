package rangeset

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// model is the obviously correct version of Set: a map of values.
type model map[uint64]bool

func (m model) ranges() []Range {
	var vs []uint64
	for v := range m {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	var out []Range
	for _, v := range vs {
		if n := len(out); n > 0 && out[n-1].End == v {
			out[n-1].End++
		} else {
			out = append(out, Range{v, v + 1})
		}
	}
	return out
}

func check(t *testing.T, s *Set, m model, step string) {
	t.Helper()
	got, want := s.Ranges(), m.ranges()
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("%s: ranges %v, want %v", step, got, want)
	}
	for v := range uint64(70) {
		if s.Contains(v) != m[v] {
			t.Fatalf("%s: Contains(%d) = %v", step, v, !m[v])
		}
	}
}

func TestAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		var s Set
		m := model{}
		for op := range 40 {
			start := r.Uint64N(64)
			end := start + r.Uint64N(6)
			switch r.IntN(5) {
			case 0, 1, 2:
				s.AddRange(start, end)
				for v := start; v < end; v++ {
					m[v] = true
				}
			case 3:
				s.RemoveRange(start, end)
				for v := start; v < end; v++ {
					delete(m, v)
				}
			case 4:
				s.RemoveBelow(start)
				for v := range m {
					if v < start {
						delete(m, v)
					}
				}
			}
			check(t, &s, m, fmt.Sprintf("round %d op %d", round, op))
			if got, want := s.ContainsRange(start, end), func() bool {
				for v := start; v < end; v++ {
					if !m[v] {
						return false
					}
				}
				return true
			}(); got != want {
				t.Fatalf("ContainsRange(%d,%d) = %v, want %v", start, end, got, want)
			}
		}
	}
}

func TestMinMaxTrim(t *testing.T) {
	var s Set
	if _, ok := s.Max(); ok {
		t.Fatal("empty set has a max")
	}
	for _, v := range []uint64{10, 11, 12, 20, 30, 31} {
		s.Add(v)
	}
	if lo, _ := s.Min(); lo != 10 {
		t.Fatalf("Min = %d", lo)
	}
	if hi, _ := s.Max(); hi != 31 {
		t.Fatalf("Max = %d", hi)
	}
	s.TrimFront(2)
	if want := []Range{{20, 21}, {30, 32}}; !slices.Equal(s.Ranges(), want) {
		t.Fatalf("after TrimFront(2): %v, want %v", s.Ranges(), want)
	}
}

func TestInOrderAddDoesNotAllocate(t *testing.T) {
	var s Set
	s.Add(0)
	pn := uint64(1)
	allocs := testing.AllocsPerRun(1000, func() {
		s.Add(pn)
		pn++
	})
	if allocs != 0 {
		t.Fatalf("in-order Add allocates %v times", allocs)
	}
	if s.Len() != 1 {
		t.Fatalf("in-order adds made %d ranges", s.Len())
	}
}

func FuzzRangeSet(f *testing.F) {
	f.Add([]byte{1, 2, 3, 0, 9, 4})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var s Set
		m := model{}
		for i := 0; i+1 < len(ops); i += 2 {
			start, n := uint64(ops[i]&63), uint64(ops[i+1]&7)
			if ops[i+1]&0x80 != 0 {
				s.RemoveRange(start, start+n)
				for v := start; v < start+n; v++ {
					delete(m, v)
				}
			} else {
				s.AddRange(start, start+n)
				for v := start; v < start+n; v++ {
					m[v] = true
				}
			}
		}
		check(t, &s, m, "fuzz")
	})
}

func BenchmarkAddInOrder(b *testing.B) {
	b.ReportAllocs()
	var s Set
	for i := 0; b.Loop(); i++ {
		s.Add(uint64(i))
	}
}

func TestNextGap(t *testing.T) {
	var s Set
	s.AddRange(10, 20)
	s.AddRange(30, 40)
	type gap struct{ a, b uint64 }
	gaps := func(start, end uint64) []gap {
		var out []gap
		for a, b, ok := s.NextGap(start, end); ok; a, b, ok = s.NextGap(b, end) {
			out = append(out, gap{a, b})
		}
		return out
	}
	for _, tc := range []struct {
		start, end uint64
		want       []gap
	}{
		{0, 50, []gap{{0, 10}, {20, 30}, {40, 50}}},
		{10, 20, nil},
		{12, 35, []gap{{20, 30}}},
		{5, 10, []gap{{5, 10}}},
		{40, 45, []gap{{40, 45}}},
		{15, 15, nil},
	} {
		got := gaps(tc.start, tc.end)
		if len(got) != len(tc.want) {
			t.Fatalf("gaps of [%d,%d) = %v, want %v", tc.start, tc.end, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("gaps of [%d,%d) = %v, want %v", tc.start, tc.end, got, tc.want)
			}
		}
	}
}
