package streambuf

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// A run of held slices of one datagram takes one reference, carried by its
// last slice (held.go). TestRecvHeldRandom gives every frame a datagram of
// its own, so it never makes a run longer than one slice. Here datagrams
// are GRO buffers of up to 45 packets whose frames go to four streams, in
// order mostly, some repeated, overlapping or ahead of a gap; readers read
// random amounts concurrently (copying outside the part's lock); a stream
// is reset, another stopped by its reader, what is held copied now and
// then (Unhold), and the budget is sometimes small. A released datagram's
// bytes are overwritten (testDatagram), so every byte read must still
// match, and at the end no datagram may be referenced nor any byte counted.
func TestRecvHeldRunsRandom(t *testing.T) {
	for seed := range uint64(12) {
		recvHeldRuns(t, seed)
	}
}

func recvHeldRuns(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 77))
	const nStreams = 4
	const size = 150_000
	var budget HoldBudget
	if r.IntN(2) == 0 {
		budget.SetLimit(200_000 + r.IntN(400_000))
	}
	type stream struct {
		p    RecvPart
		src  []byte
		next int // next in-order offset to send
		dead bool
	}
	ss := make([]*stream, nStreams)
	for i := range ss {
		ss[i] = &stream{src: testData(seed*10+uint64(i), size)}
		ss[i].p.Init(1 << 40)
	}
	var wg sync.WaitGroup
	errs := make(chan string, nStreams)
	for i, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rr := rand.New(rand.NewPCG(seed, uint64(i)))
			buf := make([]byte, 5000)
			got := 0
			for {
				n, st, _, _ := s.p.Read(buf[:1+rr.IntN(len(buf)-1)])
				if n > 0 && !bytes.Equal(buf[:n], s.src[got:got+n]) {
					errs <- fmt.Sprintf("stream %d: the %d bytes read at %d differ from those sent", i, n, got)
					return
				}
				got += n
				switch st {
				case EOF, Closed, ResetRemote:
					return
				case Blocked:
					runtime.Gosched()
				}
				if rr.IntN(2000) == 0 && i == 3 {
					s.p.CloseRead(1)
				}
			}
		}()
	}
	var all []*testDatagram
	for {
		live := 0
		for _, s := range ss {
			if !s.dead && s.next < size {
				live++
			}
		}
		if live == 0 {
			break
		}
		// One GRO buffer of up to 45 packets.
		npk := 1 + r.IntN(45)
		raw := make([]byte, 0, npk*1452)
		type fr struct {
			s        *stream
			off, end int
			at       int
		}
		var frs []fr
		for range npk {
			s := ss[r.IntN(nStreams)]
			if s.dead || s.next >= size {
				continue
			}
			off := s.next
			n := 200 + r.IntN(1300)
			switch r.IntN(12) {
			case 0: // repeat / overlap earlier data
				off = max(0, off-r.IntN(3000))
			case 1: // out of order: skip ahead
				off = min(size-1, off+r.IntN(3000))
			}
			end := min(size, off+n)
			raw = append(raw, make([]byte, 30)...)
			frs = append(frs, fr{s: s, off: off, end: end, at: len(raw)})
			raw = append(raw, s.src[off:end]...)
			if off <= s.next && end > s.next {
				s.next = end
			}
		}
		d := newTestDatagram(raw)
		all = append(all, d)
		for _, f := range frs {
			if _, err := f.s.p.WriteHeld(uint64(f.off), d.b[f.at:f.at+f.end-f.off], f.end == size, d, &budget); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
		}
		d.drop()
		switch r.IntN(30) {
		case 0:
			s := ss[r.IntN(nStreams)]
			s.p.Unhold()
		case 1:
			if i := r.IntN(nStreams); i == 2 && !ss[i].dead {
				ss[i].p.Reset(uint64(size), 9)
				ss[i].dead = true
			}
		}
		// Fill gaps left by skipping ahead now and then.
		if r.IntN(3) == 0 {
			for _, s := range ss {
				if s.dead {
					continue
				}
				h := int(s.p.Highest())
				if h > s.next {
					// The gap is filled with data copied (no Holder).
					s.p.Write(uint64(s.next), s.src[s.next:h], h == size)
					s.next = h
				}
			}
		}
	}
	for _, s := range ss {
		if !s.dead {
			h := int(s.p.Highest())
			if h > s.next {
				s.p.Write(uint64(s.next), s.src[s.next:h], h == size)
			}
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("seed %d: %s", seed, e)
	}
	for _, s := range ss {
		s.p.CloseRead(0) // discard whatever is left
	}
	for i, d := range all {
		if d.refs.Load() != 0 {
			t.Fatalf("seed %d: datagram %d: %d refs left", seed, i, d.refs.Load())
		}
	}
	if budget.Held() != 0 {
		t.Fatalf("seed %d: budget %d", seed, budget.Held())
	}
}
