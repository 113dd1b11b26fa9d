package conn

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/skiffnet/skiff/quic/internal/streambuf"
)

// order serves the scheduler n times, as appendStreamFrames does with
// streams that always have more, and returns the stream IDs served.
func order(sc *sendScheduler, n int) []uint64 {
	var ids []uint64
	for range n {
		s := sc.next()
		if s == nil {
			break
		}
		ids = append(ids, s.id)
		sc.served(s)
	}
	return ids
}

func schedStream(id uint64, urgency uint8, incremental bool) *Stream {
	s := &Stream{id: id}
	s.sched.packed = packPriority(urgency, incremental)
	return s
}

// RFC 9218 §10: more urgent streams first; incremental streams of one
// urgency in turn; non-incremental ones one at a time by stream ID; both
// kinds alternating at one urgency.
func TestSchedulerOrder(t *testing.T) {
	var sc sendScheduler
	a, b, c := schedStream(0, 3, true), schedStream(4, 3, true), schedStream(8, 3, true)
	for _, s := range []*Stream{a, b, c} {
		sc.push(s)
	}
	if got := order(&sc, 6); !slices.Equal(got, []uint64{0, 4, 8, 0, 4, 8}) {
		t.Fatalf("incremental round robin: %v", got)
	}
	urgent := schedStream(12, 1, false)
	sc.push(urgent)
	if got := order(&sc, 3); !slices.Equal(got, []uint64{12, 12, 12}) {
		t.Fatalf("urgent stream first: %v", got)
	}
	sc.remove(urgent)
	// Non-incremental at urgency 3, pushed out of ID order.
	n2, n1 := schedStream(20, 3, false), schedStream(16, 3, false)
	sc.push(n2)
	sc.push(n1)
	if got := order(&sc, 6); !slices.Equal(got, []uint64{16, 0, 16, 4, 16, 8}) {
		t.Fatalf("both kinds alternate, heap by ID: %v", got)
	}
	sc.remove(n1)
	if got := order(&sc, 2); !slices.Equal(got, []uint64{20, 0}) {
		t.Fatalf("next heap stream: %v", got)
	}
	for _, s := range []*Stream{a, b, c, n2} {
		sc.remove(s)
	}
	if sc.nonEmpty != 0 || sc.next() != nil {
		t.Fatal("scheduler not empty")
	}
	// A new priority moves a queued stream.
	sc.push(a)
	sc.push(b)
	sc.setPriority(b, packPriority(0, true))
	if got := order(&sc, 2); !slices.Equal(got, []uint64{4, 4}) {
		t.Fatalf("after SetPriority: %v", got)
	}
}

// Two streams written at once over the harness, one urgent: every STREAM
// frame of the urgent one goes out before the first of the other (RFC 9218
// §10), and both arrive whole. SetPriority reaches the connection through
// the Mailbox.
func TestSetPriorityOverTheWire(t *testing.T) {
	p := newTestPair(t)
	up := p.sniff(&p.c2s, func() *Conn { return p.server })
	p.handshake()
	bulk := p.openStream(p.client, false)
	urgent := p.openStream(p.client, false)
	urgent.SetPriority(0, false)
	data := bytes.Repeat([]byte("x"), 200_000)
	bulk.Write(data)
	urgent.Write(data)
	bulk.CloseWrite()
	urgent.CloseWrite()
	got := map[uint64]int{}
	buf := make([]byte, 64<<10)
	p.runUntil("both streams read", func() bool {
		done := 0
		for _, ss := range p.accepted[1] {
			for {
				n, st, _ := ss.Read(buf)
				got[ss.id] += n
				if st == streambuf.EOF {
					done++
					break
				}
				if n == 0 {
					break
				}
			}
		}
		return done == 2
	})
	if got[bulk.id] != len(data) || got[urgent.id] != len(data) {
		t.Fatalf("read %v", got)
	}
	var ids []uint64
	for _, f := range up.frames {
		if f.typ.IsStream() {
			ids = append(ids, f.value)
		}
	}
	firstBulk, lastUrgent := slices.Index(ids, bulk.id), -1
	for i, id := range ids {
		if id == urgent.id {
			lastUrgent = i
		}
	}
	if firstBulk < 0 || firstBulk < lastUrgent {
		t.Fatalf("a frame of the bulk stream (#%d) went before the last of the urgent one (#%d)", firstBulk, lastUrgent)
	}
}

// The scheduler's cost per stream visited does not depend on the number
// of streams: with 10,000 streams with data, a round costs O(1) each.
func BenchmarkSchedulerVisit(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		for _, inc := range []bool{true, false} {
			b.Run(fmt.Sprintf("streams=%d/incremental=%v", n, inc), func(b *testing.B) {
				var sc sendScheduler
				for i := range n {
					sc.push(schedStream(uint64(4*i), 3, inc))
				}
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					s := sc.next()
					sc.served(s)
					if !inc {
						// A non-incremental stream leaves the heap when
						// done and comes back with more data.
						sc.remove(s)
						sc.push(s)
					}
				}
			})
		}
	}
}
