package streambuf

import (
	"errors"

	"github.com/skiffnet/skiff/quic/internal/rangeset"
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
type Recv struct {
	data     chunks
	readOff  uint64       // next offset the application reads
	received rangeset.Set // offsets received at or above readOff
	highest  uint64       // largest offset received plus one
	final    uint64       // the final size, when finKnown
	finKnown bool
}

// Write stores b, received at offset off; fin says the frame carried FIN, so
// off+len(b) is the stream's final size. It returns how far the highest
// received offset advanced, which is what counts against connection-level
// flow control (RFC 9000 §4.1). Data already received is ignored.
func (r *Recv) Write(off uint64, b []byte, fin bool) (advanced uint64, err error) {
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
	// Drop what the application has already read.
	if off < r.readOff {
		if end <= r.readOff {
			return advanced, nil
		}
		b = b[r.readOff-off:]
		off = r.readOff
	}
	if len(b) == 0 || r.received.ContainsRange(off, end) {
		return advanced, nil
	}
	if len(r.data.c) == 0 {
		r.data.base = r.readOff - r.readOff%chunkSize
	}
	// Only the bytes not received yet are written: those received may be
	// being copied out by a reader (RecvPart reads outside its lock), and
	// a peer must not change data it sent (RFC 9000 §2.2).
	for gs, ge, ok := r.received.NextGap(off, end); ok; gs, ge, ok = r.received.NextGap(ge, end) {
		r.data.write(gs, b[gs-off:ge-off])
	}
	r.received.AddRange(off, end)
	return advanced, nil
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
func (r *Recv) Readable() uint64 {
	if r.received.Len() == 0 {
		return 0
	}
	first := r.received.Range(0)
	if first.Start != r.readOff {
		return 0
	}
	return first.End - r.readOff
}

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
// within one chunk; empty when nothing can be read. They stay valid until
// Consume or Discard; Write never changes them.
func (r *Recv) Peek(max int) []byte {
	avail := r.Readable()
	if avail == 0 || max <= 0 {
		return nil
	}
	return r.data.slice(r.readOff, r.readOff+min(avail, uint64(max)))
}

// Consume marks the first n readable bytes read and releases the storage
// they no longer need.
func (r *Recv) Consume(n int) {
	if n <= 0 {
		return
	}
	r.readOff += uint64(n)
	r.received.RemoveBelow(r.readOff)
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
	r.data.free()
	r.received.Clear()
}
