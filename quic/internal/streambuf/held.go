package streambuf

import (
	"sync"
	"sync/atomic"
)

// Holder is memory received datagrams lie in, counted by references. A
// receive buffer given a Holder with a STREAM frame's data (Recv.WriteHeld)
// may keep the data where it lies, taking a reference (Hold), instead of
// copying it, and drops the reference (Release) once the application has
// read it (one reference for a run of slices of one datagram buffer in a
// stream, dropped when the run's last slice is read): the bytes are then
// copied once, from the datagram to the application, as TCP copies them.
// Release may be called from any goroutine. Size is how many bytes of
// memory a reference keeps alive.
type Holder interface {
	Hold()
	Release()
	Size() int
}

// Limits on held data. A held slice keeps its whole datagram buffer (up to
// 64 KiB of coalesced datagrams) alive, so a peer could make a few bytes of
// each buffer pin it. So what counts is the memory pinned: a run of slices
// of one buffer in a stream counts the buffer's size once, and a
// connection's streams pin at most maxHeldBytes (what its queue of
// received datagrams may hold too), or twice the connection's receive
// window if that is less (HoldBudget.SetLimit); a stream holds at most
// maxHeldPerStream slices. A slice shorter than minHeldLen that would
// start a run is copied: alone, it would pin a buffer for little. Beyond
// the limits data is copied, as before. A connection that goes idle
// copies what its streams still hold (Unhold).
const (
	minHeldLen       = 1024
	maxHeldBytes     = 8 << 20
	maxHeldPerStream = 4096
)

// HoldBudget counts the bytes of memory the receive buffers of one
// connection pin by holding slices of it. The zero value is ready, with
// the limit maxHeldBytes.
type HoldBudget struct {
	n     atomic.Int64
	limit atomic.Int64 // 0: maxHeldBytes
}

// SetLimit lowers the limit below maxHeldBytes: the connection sets it to
// twice its receive window, so that what its streams pin stays within a
// small multiple of what the peer may send unread (an honest sender's data
// fills each buffer it pins), whichever buffers the peer's datagrams
// spread it over.
func (b *HoldBudget) SetLimit(n int) { b.limit.Store(int64(min(n, maxHeldBytes))) }

func (b *HoldBudget) take(n int) bool {
	limit := b.limit.Load()
	if limit == 0 {
		limit = maxHeldBytes
	}
	if b.n.Add(int64(n)) > limit {
		b.n.Add(-int64(n))
		return false
	}
	return true
}

func (b *HoldBudget) give(n int) { b.n.Add(-int64(n)) }

// Held is the number of bytes pinned now.
func (b *HoldBudget) Held() int { return int(b.n.Load()) }

// heldSeg is a slice of a datagram a Recv holds, with its Holder. The
// last slice of a run with the same Holder carries the run's charge
// against the budget, which goes back when it is released, and the run's
// one reference to the Holder (ref): slices are released in order, so the
// memory stays alive until the run's last slice is read, and a run of the
// packets of a GRO buffer costs one Hold and one Release (atomic, on a
// counter the endpoint's reader and the application's reader also touch
// from other cores) instead of one each a packet.
type heldSeg struct {
	off    uint64 // the stream offset of b
	b      []byte
	h      Holder
	charge int
	ref    bool
}

// heldQueue is the held slices of a Recv, in offset order: a ring that
// grows by doubling, up to maxHeldPerStream, taken from a pool when the
// first slice is held and given back, with the room it grew, when the
// last is read, so that a stream holding nothing pays one pointer.
type heldQueue struct {
	segs    []heldSeg
	head, n int
	budget  *HoldBudget
}

var heldPool = sync.Pool{New: func() any { return &heldQueue{segs: make([]heldSeg, 64)} }}

// at returns the i-th held slice from the front. The ring's length is a
// power of two: a mask, not a division, finds the slot.
func (q *heldQueue) at(i int) *heldSeg { return &q.segs[(q.head+i)&(len(q.segs)-1)] }

// push appends a slot, growing the ring when full (hold keeps it within
// maxHeldPerStream), and returns it, zero, for the caller to fill field
// by field: a heldSeg passed by value was built in a temporary and copied
// in, and the copy's 16-byte loads of the temporary's 8-byte stores
// stalled (store forwarding), half of hold's time in a bulk receiver's
// profile.
func (q *heldQueue) push() *heldSeg {
	if q.n == len(q.segs) {
		segs := make([]heldSeg, 2*len(q.segs))
		for i := range q.n {
			segs[i] = *q.at(i)
		}
		q.segs, q.head = segs, 0
	}
	s := q.at(q.n)
	q.n++
	return s
}

// hold keeps b, the data at off (contig), where it lies, if the limits
// allow.
func (r *Recv) hold(off uint64, b []byte, h Holder, budget *HoldBudget) bool {
	q := r.held
	var tail *heldSeg
	if q != nil && q.n > 0 {
		tail = q.at(q.n - 1)
	}
	if q != nil && q.n >= maxHeldPerStream {
		return false
	}
	charge := 0
	newRun := tail == nil || tail.h != h
	if newRun {
		if len(b) < minHeldLen {
			return false
		}
		charge = h.Size()
		if !budget.take(charge) {
			return false
		}
	} else {
		// The run's charge and reference move to its new last slice.
		charge, tail.charge = tail.charge, 0
		tail.ref = false
	}
	if q == nil {
		q = heldPool.Get().(*heldQueue)
		q.budget = budget
		r.held = q
	}
	if newRun {
		h.Hold()
	}
	s := q.push()
	s.off, s.b, s.h, s.charge, s.ref = off, b, h, charge, true
	return true
}

// consumeHeld releases the held slices the application read to their end
// (below readOff), and drops the read bytes of one it read in part.
func (r *Recv) consumeHeld() {
	q := r.held
	if q == nil {
		return
	}
	for q.n > 0 {
		s := q.at(0)
		if s.off >= r.readOff {
			break
		}
		if end := s.off + uint64(len(s.b)); end > r.readOff {
			s.b = s.b[r.readOff-s.off:]
			s.off = r.readOff
			break
		}
		q.pop()
	}
	if q.n == 0 {
		r.releaseHeld()
	}
}

// pop releases the front slice.
func (q *heldQueue) pop() {
	s := q.at(0)
	if s.ref {
		s.h.Release()
	}
	q.budget.give(s.charge)
	*s = heldSeg{}
	q.head = (q.head + 1) & (len(q.segs) - 1)
	q.n--
}

// releaseHeld releases every held slice and gives the ring back.
func (r *Recv) releaseHeld() {
	q := r.held
	if q == nil {
		return
	}
	for q.n > 0 {
		q.pop()
	}
	q.head, q.budget = 0, nil
	heldPool.Put(q)
	r.held = nil
}

// heldBytes is the number of bytes the held slices still hold.
func (r *Recv) heldBytes() int {
	q := r.held
	if q == nil {
		return 0
	}
	n := 0
	for i := range q.n {
		n += len(q.at(i).b)
	}
	return n
}

// Unhold copies the held slices into the chunks and releases them, so that
// the buffers they lie in go back.
func (r *Recv) Unhold() {
	q := r.held
	if q == nil {
		return
	}
	if len(r.data.c) == 0 {
		r.data.base = r.readOff - r.readOff%ChunkSize
	}
	for i := range q.n {
		s := q.at(i)
		r.data.write(s.off, s.b, r.unshared)
	}
	r.releaseHeld()
}
