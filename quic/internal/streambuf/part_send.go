package streambuf

import "sync"

// Status says why a call on a shared part did not, or not fully, do what
// it was asked.
type Status uint8

const (
	OK          Status = iota
	Blocked            // no room to write, or nothing to read, yet
	Closed             // a write after Close, or a read after CloseRead
	ResetLocal         // the application reset the sending part (Code)
	ResetRemote        // the peer's STOP_SENDING, or its RESET_STREAM (Code)
	EOF                // everything up to the final size was read
)

// SendPart is the sending part of a stream (RFC 9000 §3.1) as the
// application and the connection share it: the bytes written and not yet
// acknowledged, and what the application asked for (FIN, reset).
//
// Application goroutines Write, Close and Reset; the connection's own
// goroutine reads the bytes to send (State, Slice), releases what was
// acknowledged (Acked) and ends the part (Discard, Stop). The lock guards
// bookkeeping only: a Write copies outside it into storage beyond the
// written end, which the connection never reads, and only the connection
// frees storage, so the slices Slice returns stay valid after it unlocks.
type SendPart struct {
	writeMu sync.Mutex // serializes Writes; the connection never takes it

	mu         sync.Mutex
	data       chunks
	end        uint64 // bytes written
	ackedBelow uint64 // published by the connection: every byte below is acknowledged
	fin        bool   // Close was called
	copying    bool   // a Write is copying into [end, ...) outside mu
	discarded  bool   // the part was reset: no byte is needed any more
	waiting    bool   // a Write found no room and waits for Acked
	reset      bool   // Reset was called: resetCode
	stopped    bool   // the peer's STOP_SENDING: stopCode
	resetCode  uint64
	stopCode   uint64
	// credit is the peer's limit for the stream (MAX_STREAM_DATA, RFC
	// 9000 §4.1), published by the connection: Write takes bytes up to
	// credit plus the cushion it is given, no further.
	credit uint64
	// wakeAt is the number of bytes held at or below which Acked wakes
	// the waiting Write (writerWakeAt).
	wakeAt uint64
}

// Write copies b after the bytes written so far, as much as the limits
// allow: at most maxHeld bytes buffered (written, not yet acknowledged),
// and nothing beyond the peer's credit for the stream plus cushion, since
// bytes the peer does not let us send would only wait in memory (issue
// 15: a peer that never reads must not make us buffer what a writer
// offers). It returns how much it took; Blocked when that was not all of
// b, to wait until the connection frees room (acknowledgments) or the
// peer grants more (SetCredit); or why the part takes no more (Closed,
// ResetLocal, ResetRemote, with the code).
func (p *SendPart) Write(b []byte, maxHeld, cushion uint64) (n int, st Status, code uint64) {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	for len(b) > 0 {
		p.mu.Lock()
		if st, code := p.statusLocked(); st != OK {
			p.mu.Unlock()
			return n, st, code
		}
		held, allowed := p.end-p.ackedBelow, p.credit+cushion
		if held >= maxHeld || p.end >= allowed {
			p.waiting = true
			p.wakeAt = writerWakeAt(maxHeld, held >= maxHeld)
			p.mu.Unlock()
			return n, Blocked, 0
		}
		k := int(min(uint64(len(b)), maxHeld-held, allowed-p.end, chunkEnd(p.end)-p.end))
		if len(p.data.c) == 0 {
			p.data.base = p.end - p.end%ChunkSize
		}
		dst := p.data.room(p.end, k, false)[p.end%ChunkSize:][:k]
		p.copying = true
		p.mu.Unlock()

		copy(dst, b[:k])

		p.mu.Lock()
		p.copying = false
		if p.discarded {
			// Reset while we copied: the storage is ours to free.
			p.data.free()
		} else {
			p.end += uint64(k)
		}
		p.mu.Unlock()
		b = b[k:]
		n += k
	}
	return n, OK, 0
}

// writerWakeAt is how few bytes must be held before acknowledgments wake
// a Write waiting for room: a quarter of maxHeld below the limit when the
// buffer was full, so that a bulk writer wakes to write a large piece
// every few ACK frames rather than a small one after each; any
// acknowledgment when the peer's credit stopped it, as SetCredit wakes
// it then.
func writerWakeAt(maxHeld uint64, full bool) uint64 {
	if full {
		return maxHeld - maxHeld/4
	}
	return ^uint64(0)
}

// statusLocked says whether the part takes more bytes.
func (p *SendPart) statusLocked() (Status, uint64) {
	switch {
	case p.stopped:
		return ResetRemote, p.stopCode
	case p.reset:
		return ResetLocal, p.resetCode
	case p.fin:
		return Closed, 0
	}
	return OK, 0
}

// Close ends the part after the bytes written: the last frame carries
// FIN. It reports the status that stops it (OK the first time, Closed
// after, or a reset).
func (p *SendPart) Close() (Status, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, code := p.statusLocked()
	if st == OK {
		p.fin = true
	}
	return st, code
}

// Reset asks the connection to abandon the part with RESET_STREAM
// carrying code (RFC 9000 §3.1). It reports false when the part was
// already reset or stopped, or every byte and the FIN are acknowledged
// (allAcked, as the connection reported it).
func (p *SendPart) Reset(code uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reset || p.stopped {
		return false
	}
	p.reset, p.resetCode = true, code
	return true
}

// State returns what the application wrote: the end offset, whether it
// closed the part, and whether it asked for a reset (with the code).
func (p *SendPart) State() (end uint64, fin, reset bool, resetCode uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.end, p.fin, p.reset, p.resetCode
}

// Slice returns the bytes [off, off+n), which must lie within one chunk
// and below the written end (as SendState.Next picks them), with the
// written end and FIN as State reports them. The bytes stay valid until
// the connection releases or discards them.
func (p *SendPart) Slice(off uint64, n int) (b []byte, end uint64, fin bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n > 0 {
		b = p.data.slice(off, off+uint64(n))
	}
	return b, p.end, p.fin
}

// SliceHead is Slice for a frame the connection seals straight from
// storage into a datagram: when the h bytes before off lie in the same
// full-size chunk, b is [off-h, off+n) and head is true; else b is
// [off, off+n). The bytes before off are the head in which the
// connection lays the packet's plaintext before the data (its frames, the
// STREAM frame header), since an AEAD seals one contiguous plaintext.
//
// The connection may overwrite the head while it seals and must put the
// bytes back before anything else reads them. That is safe outside the
// lock: they were written, and only the connection reads written bytes; a
// Write copies beyond the written end only; and a full-size chunk never
// moves (room copies only a smaller buffer as it grows), and is freed by
// the connection (Acked, Discard) or, once Discard was called and no frame
// of the part is sent any more, by a Write that was copying.
func (p *SendPart) SliceHead(off uint64, n, h int) (b []byte, head bool, end uint64, fin bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n > 0 {
		if lo := off % ChunkSize; lo >= uint64(h) {
			c := p.data.c[(off-p.data.base)/ChunkSize]
			if len(c) == ChunkSize && lo+uint64(n) <= ChunkSize {
				return c[lo-uint64(h) : lo+uint64(n)], true, p.end, p.fin
			}
		}
		b = p.data.slice(off, off+uint64(n))
	}
	return b, false, p.end, p.fin
}

// Acked releases the storage below, every byte of which the peer
// acknowledged, and reports whether a Write waits for the room this makes
// (enough of it: writerWakeAt).
func (p *SendPart) Acked(below uint64) (wake bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ackedBelow = max(p.ackedBelow, below)
	p.data.release(p.ackedBelow)
	if p.ackedBelow == p.end && !p.copying {
		// Nothing is held: the chunk under the last bytes goes back too,
		// so an idle stream keeps no memory.
		p.data.free()
	}
	if p.waiting && p.end-p.ackedBelow <= p.wakeAt {
		p.waiting = false
		return true
	}
	return false
}

// SetCredit records the peer's limit for the stream (its MAX_STREAM_DATA
// or initial window) and reports whether a Write waits for the room it
// makes.
func (p *SendPart) SetCredit(limit uint64) (wake bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if limit <= p.credit {
		return false
	}
	p.credit = limit
	wake = p.waiting
	p.waiting = false
	return wake
}

// Discard drops every byte held: the part was reset.
func (p *SendPart) Discard() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.discarded = true
	if !p.copying {
		p.data.free()
	}
}

// Stop records the peer's STOP_SENDING (RFC 9000 §3.5): writes fail with
// its code from now on. It reports whether a Write waits.
func (p *SendPart) Stop(code uint64) (wake bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		p.stopped, p.stopCode = true, code
	}
	wake = p.waiting
	p.waiting = false
	return wake
}

// Buffered is the number of bytes written and not yet acknowledged.
func (p *SendPart) Buffered() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.end - p.ackedBelow
}

// Held is the number of bytes of storage the part holds.
func (p *SendPart) Held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.data.held()
}
