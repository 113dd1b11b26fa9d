package streambuf

import (
	"errors"
	"math/bits"
)

// ErrFinalSize reports a violation of RFC 9000 §4.5: data beyond a stream's
// final size, or a final size that changes or lies below data already
// received. The connection closes with FINAL_SIZE_ERROR.
var ErrFinalSize = errors.New("streambuf: final size violated")

// ErrFlowControl reports data beyond the limit advertised for a stream
// (RFC 9000 §4.1): the connection closes with FLOW_CONTROL_ERROR.
var ErrFlowControl = errors.New("streambuf: stream data beyond MAX_STREAM_DATA")

// Recv is the receive side of a stream: it reassembles data that arrives in
// any order and hands it to the application in order.
//
// It keeps no list of received ranges, whose length a peer would choose
// (RFC 9000 §21.7: one range per gap, 1-byte frames with 1-byte gaps make
// one per two bytes of window). The bytes below contig arrived in order;
// a chunk beyond it that holds bytes received out of order has a bitmap
// of them, one bit per byte. So the reassembly state is bounded by the
// flow-control window (the data, plus an eighth for the bitmaps) whatever
// the order frames come in, a frame costs time in proportion to its length,
// and the bytes that complete a run move contig over it a 64-bit word at
// a time.
//
// In-order data may instead be held where it arrived (WriteHeld): slices
// of received datagrams, each at its offset in [readOff, contig), which
// the application reads straight from; the chunks store every other byte.
// A frame's data is held only when it extends contig to the highest
// offset received (nothing out of order beyond it), so held slices are in
// offset order and never overlap what the chunks store.
type Recv struct {
	held     *heldQueue // nil when nothing is held
	data     chunks
	readOff  uint64 // next offset the application reads
	contig   uint64 // every byte of [readOff, contig) was received
	highest  uint64 // largest offset received plus one
	final    uint64 // the final size, when finKnown
	finKnown bool
	// unshared says that no Read copies from the chunks outside the
	// RecvPart's lock now, so that one that grows may be pooled at once
	// (chunks.room). The RecvPart sets it under its lock before it writes.
	unshared bool
	// work counts the bitmap words marked and scanned: tests bound the
	// cost of reassembly by it, whatever the order data came in.
	work uint64
}

// Write stores b, received at offset off; fin says the frame carried FIN, so
// off+len(b) is the stream's final size. It returns how far the highest
// received offset advanced, which is what counts against connection-level
// flow control (RFC 9000 §4.1). Data already received is ignored.
func (r *Recv) Write(off uint64, b []byte, fin bool) (advanced uint64, err error) {
	return r.WriteHeld(off, b, fin, nil, nil)
}

// WriteHeld is Write for data that lies in h's memory: data that continues
// the in-order bytes, with nothing stored out of order, is held there
// rather than copied, within budget's limits (held.go). h nil: copy.
func (r *Recv) WriteHeld(off uint64, b []byte, fin bool, h Holder, budget *HoldBudget) (advanced uint64, err error) {
	end := off + uint64(len(b))
	if fin {
		if err := r.SetFinalSize(end); err != nil {
			return 0, err
		}
	} else if r.finKnown && end > r.final {
		return 0, ErrFinalSize
	}
	if end > r.highest {
		advanced = end - r.highest
		r.highest = end
	}
	// Drop what arrived in order already: a reader may be copying it out
	// (RecvPart reads outside its lock), and a peer must not change data
	// it sent (RFC 9000 §2.2). Bytes beyond contig that came out of order
	// are written again: no reader sees them before contig passes them.
	if end <= r.contig {
		return advanced, nil
	}
	if off < r.contig {
		b = b[r.contig-off:]
		off = r.contig
	}
	if h != nil && off == r.contig && end == r.highest && r.hold(off, b, h, budget) {
		r.contig = end
		return advanced, nil
	}
	if len(r.data.c) == 0 {
		r.data.base = r.readOff - r.readOff%ChunkSize
	}
	r.data.write(off, b, r.unshared)
	if off == r.contig {
		r.contig = end
		r.advance()
	} else {
		r.mark(off, end)
	}
	return advanced, nil
}

// mark records [off, end), beyond contig, as received.
func (r *Recv) mark(off, end uint64) {
	cs := &r.data
	for off < end {
		i := int((off - cs.base) / ChunkSize)
		for len(cs.marks) <= i {
			cs.marks = append(cs.marks, nil)
		}
		m := cs.marks[i]
		if m == nil {
			m = bitmapPool.Get().(*bitmap)
			clear(m[:])
			cs.marks[i] = m
		}
		lo := int(off % ChunkSize)
		hi := int(min(end, chunkEnd(off)) - off + uint64(lo))
		for lo < hi {
			bit := lo % 64
			n := min(64-bit, hi-lo)
			m[lo/64] |= ^uint64(0) >> (64 - n) << bit
			lo += n
			r.work++
		}
		off = chunkEnd(off)
	}
}

// advance moves contig over the bytes beyond it that were received out of
// order, returning each chunk's bitmap once contig leaves the chunk.
func (r *Recv) advance() {
	cs := &r.data
	for r.contig < r.highest {
		i := int((r.contig - cs.base) / ChunkSize)
		if i >= len(cs.marks) || cs.marks[i] == nil {
			return
		}
		bit := r.contig % ChunkSize
		// The run of ones from bit upwards in its word.
		run := bits.TrailingZeros64(^(cs.marks[i][bit/64] >> (bit % 64)))
		r.work++
		if run == 0 {
			return
		}
		r.contig += uint64(run)
		if r.contig%ChunkSize == 0 {
			cs.dropMarks(i)
		}
	}
}

// SetFinalSize records the final size from a FIN or a RESET_STREAM frame
// (RFC 9000 §4.5): it may not change once known, nor lie below data already
// received.
func (r *Recv) SetFinalSize(size uint64) error {
	if r.finKnown {
		if size != r.final {
			return ErrFinalSize
		}
		return nil
	}
	if size < r.highest {
		return ErrFinalSize
	}
	r.final, r.finKnown = size, true
	return nil
}

// FinalSize returns the final size, if known.
func (r *Recv) FinalSize() (uint64, bool) { return r.final, r.finKnown }

// Highest is the largest offset received plus one.
func (r *Recv) Highest() uint64 { return r.highest }

// ReadOffset is the number of bytes the application has consumed.
func (r *Recv) ReadOffset() uint64 { return r.readOff }

// Readable is how many bytes can be read now, in order.
func (r *Recv) Readable() uint64 { return r.contig - r.readOff }

// AllRead reports whether the application has read up to the final size.
func (r *Recv) AllRead() bool { return r.finKnown && r.readOff == r.final }

// Read copies in-order data into p. It returns the number of bytes copied
// and whether the stream's end has been reached.
func (r *Recv) Read(p []byte) (n int, eof bool) {
	for len(p) > 0 {
		s := r.Peek(len(p))
		if len(s) == 0 {
			break
		}
		c := copy(p, s)
		r.Consume(c)
		p = p[c:]
		n += c
	}
	return n, r.AllRead()
}

// Peek returns the next in-order bytes to read, at most max of them and
// within one chunk or held slice; empty when nothing can be read. They stay
// valid until Consume or Discard; Write never changes them.
func (r *Recv) Peek(max int) []byte {
	var one [1][]byte
	if v := r.PeekVec(one[:0], max); len(v) > 0 {
		return v[0]
	}
	return nil
}

// PeekVec appends to dst, up to its capacity, the next in-order bytes to
// read, at most max of them, a held slice or a chunk's bytes each, as Peek
// returns them: one lock of the reader's can cover many.
func (r *Recv) PeekVec(dst [][]byte, max int) [][]byte {
	if max <= 0 {
		return dst
	}
	off := r.readOff
	end := off + min(r.Readable(), uint64(max))
	q, i := r.held, 0
	for off < end && len(dst) < cap(dst) {
		// The chunks' bytes up to the next held slice, or the slice.
		next := end
		if q != nil && i < q.n {
			seg := q.at(i)
			if seg.off == off {
				s := seg.b[:min(uint64(len(seg.b)), end-off)]
				dst = append(dst, s)
				off += uint64(len(s))
				i++
				continue
			}
			next = min(next, seg.off)
		}
		s := r.data.slice(off, next)
		dst = append(dst, s)
		off += uint64(len(s))
	}
	return dst
}

// Consume marks the first n readable bytes read and releases the storage
// they no longer need.
func (r *Recv) Consume(n int) {
	if n <= 0 {
		return
	}
	r.readOff += uint64(n)
	r.consumeHeld()
	r.data.release(r.readOff)
	if r.readOff == r.highest {
		// Everything received was read: give the last chunk back too,
		// so an idle stream keeps no memory.
		r.data.free()
	}
}

// Discard drops every buffered byte and returns the memory, for a stream the
// application stopped reading (STOP_SENDING) or the peer reset.
func (r *Recv) Discard() {
	r.releaseHeld()
	r.data.free()
	r.contig = r.readOff
}

// Held is the number of bytes of storage the buffer holds.
func (r *Recv) Held() int { return r.heldBytes() + r.data.held() }

// SkipTo makes a new Recv begin at off, as if off bytes had been received
// and read: a drained stream whose state was let go comes back where it
// was.
func (r *Recv) SkipTo(off uint64) { r.readOff, r.contig, r.highest = off, off, off }

// Drained reports whether everything received was read: the buffer holds
// nothing, in order or not.
func (r *Recv) Drained() bool { return r.readOff == r.highest }
