package streambuf

import "sync"

// RecvPart is the receiving part of a stream (RFC 9000 §3.2) as the
// application and the connection share it: the reassembly buffer the
// application reads from, the flow-control limit advertised for it, and
// what the application asked for (STOP_SENDING, more credit).
//
// The connection's goroutine writes received data (Write) and the peer's
// reset (Reset); application goroutines Read and CloseRead. The lock
// guards bookkeeping only: Read copies outside it, from bytes already
// received, which Write never touches again (it writes only the gaps).
type RecvPart struct {
	readMu sync.Mutex // serializes Reads; the connection never takes it

	mu  sync.Mutex
	buf Recv
	// maxData is the limit advertised for the stream (MAX_STREAM_DATA,
	// RFC 9000 §4.1), window how far beyond the read offset it goes.
	maxData, window uint64
	stopCode        uint64
	resetCode       uint64
	// The flags, together: a Stream holding both parts fits its
	// allocation size class with no padding between them.
	reading      bool // a Read copies from buf outside mu
	updateWanted bool // the application consumed half the window: MAX_STREAM_DATA is due
	closed       bool // CloseRead was called
	stopWanted   bool // a STOP_SENDING with stopCode is due
	reset        bool // the peer's RESET_STREAM: resetCode
	eofRead      bool // a Read returned EOF
}

// Init sets the initial flow-control window (and limit).
func (p *RecvPart) Init(window uint64) {
	p.maxData, p.window = window, window
}

// Read copies in-order data into b. It returns the bytes copied; Blocked
// when there are none yet; EOF at the end of the stream; Closed after
// CloseRead; ResetRemote with the code when the peer reset the stream.
// want reports that the connection has something to do: send
// MAX_STREAM_DATA (half the window was consumed, RFC 9000 §4.2 leaves
// the policy to us), or notice the end of the stream.
func (p *RecvPart) Read(b []byte) (n int, st Status, code uint64, want bool) {
	p.readMu.Lock()
	defer p.readMu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		switch {
		case p.closed:
			return n, Closed, 0, want
		case p.reset:
			if n > 0 {
				return n, OK, 0, want
			}
			return 0, ResetRemote, p.resetCode, want
		case len(b) == 0:
			return n, OK, 0, want
		}
		var vec [16][]byte
		src := p.buf.PeekVec(vec[:0], len(b))
		if len(src) == 0 {
			switch {
			case n > 0:
				return n, OK, 0, want
			case p.buf.AllRead():
				// The end may have come after the last data was read: the
				// connection learns that the part is done, so that a
				// stream finished both ways is forgotten.
				want = want || !p.eofRead
				p.eofRead = true
				return 0, EOF, 0, want
			}
			return 0, Blocked, 0, want
		}
		p.reading = true
		p.mu.Unlock()
		k := 0
		for _, v := range src {
			k += copy(b[k:], v)
		}
		p.mu.Lock()
		p.reading = false
		if p.reset || p.closed {
			// Reset meanwhile: the connection counted the data as
			// consumed and dropped it; the copy does not count.
			p.buf.Discard()
			continue
		}
		p.buf.Consume(k)
		b = b[k:]
		n += k
		if p.updateDueLocked() {
			p.updateWanted = true
			want = true
		}
	}
}

// updateDueLocked reports whether MAX_STREAM_DATA should move: half the
// window was consumed since the limit was set, and the final size is not
// known (no more credit is needed once it is).
func (p *RecvPart) updateDueLocked() bool {
	if _, fin := p.buf.FinalSize(); fin || p.updateWanted {
		return false
	}
	return p.buf.ReadOffset()+p.window-p.maxData >= p.window/2
}

// CloseRead stops reading (RFC 9000 §3.5): the buffered bytes are
// dropped, and a STOP_SENDING with code is due unless everything arrived
// or the peer reset. It returns the bytes received and never read, which
// count as consumed for connection flow control, and false when the part
// was already closed.
func (p *RecvPart) CloseRead(code uint64) (consumed uint64, first bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, false
	}
	p.closed = true
	if _, fin := p.buf.FinalSize(); !fin && !p.reset {
		p.stopWanted, p.stopCode = true, code
	}
	if !p.reset {
		// After a reset the connection already counted everything.
		consumed = p.buf.Highest() - p.buf.ReadOffset()
	}
	if !p.reading {
		p.buf.Discard()
	}
	return consumed, true
}

// RecvResult is what a STREAM frame did to a receiving part.
type RecvResult struct {
	// Advanced is how far the highest offset received moved: it counts
	// against connection flow control (RFC 9000 §4.1).
	Advanced uint64
	// Consumed is how much of it counts as consumed at once: data for a
	// part the application closed or the peer reset is dropped.
	Consumed uint64
	// Readable: a Read that found nothing may now find something (data in
	// order, the end of the stream).
	Readable bool
}

// Write stores a STREAM frame's data at off (fin: the frame carried FIN).
// ErrFlowControl: beyond the advertised limit; ErrFinalSize: against the
// final size rules of RFC 9000 §4.5.
func (p *RecvPart) Write(off uint64, data []byte, fin bool) (RecvResult, error) {
	return p.WriteHeld(off, data, fin, nil, nil)
}

// WriteHeld is Write for data lying in h's memory, which the part may hold
// rather than copy (Recv.WriteHeld) while the application reads it.
func (p *RecvPart) WriteHeld(off uint64, data []byte, fin bool, h Holder, budget *HoldBudget) (RecvResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.unshared = !p.reading
	var res RecvResult
	if off+uint64(len(data)) > p.maxData {
		return res, ErrFlowControl
	}
	if p.closed || p.reset {
		// Written and dropped at once, so that the highest offset and the
		// final size move (and are checked) as for a part being read:
		// each byte counts once.
		adv, err := p.buf.Write(off, data, fin)
		if !p.reading {
			p.buf.Discard()
		}
		res.Advanced, res.Consumed = adv, adv
		return res, err
	}
	before := p.buf.Readable() > 0 || p.buf.AllRead()
	adv, err := p.buf.WriteHeld(off, data, fin, h, budget)
	if err != nil {
		return res, err
	}
	res.Advanced = adv
	res.Readable = !before && (p.buf.Readable() > 0 || p.buf.AllRead())
	return res, nil
}

// Reset records the peer's RESET_STREAM with its final size (RFC 9000
// §19.4). It returns how far the highest offset moved and how much now
// counts as consumed. Only a stream whose FIN the application has already
// read ignores the reset (RFC 9000 §3.2): one whose final size merely
// equals what was read still aborts, it must not look like EOF.
func (p *RecvPart) Reset(finalSize, code uint64) (RecvResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var res RecvResult
	before := p.buf.Highest()
	finishedBefore := p.buf.AllRead()
	if err := p.buf.SetFinalSize(finalSize); err != nil {
		return res, err
	}
	if finalSize > p.maxData {
		return res, ErrFlowControl
	}
	res.Advanced = finalSize - before
	// Flow control counts up to the final size (RFC 9000 §4.5), once.
	p.buf.highest = finalSize
	first := !p.reset && !finishedBefore
	switch {
	case first && !p.closed:
		// Everything up to the final size now counts as consumed.
		res.Consumed = finalSize - p.buf.ReadOffset()
	case first:
		res.Consumed = res.Advanced
	}
	if first {
		p.reset, p.resetCode = true, code
		if !p.reading {
			p.buf.Discard()
		}
		res.Readable = true
	}
	p.updateWanted = false
	return res, nil
}

// Requests returns, and clears, what the application asked of the
// connection: a STOP_SENDING (with its code) and a MAX_STREAM_DATA.
func (p *RecvPart) Requests() (stop bool, stopCode uint64, update bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	stop, stopCode, update = p.stopWanted, p.stopCode, p.updateWanted
	p.stopWanted = false
	if _, fin := p.buf.FinalSize(); fin || p.closed || p.reset {
		update = false
	}
	return stop, stopCode, update
}

// Window returns the read offset, the advertised limit and the window,
// for the connection to compute the next MAX_STREAM_DATA.
func (p *RecvPart) Window() (readOff, maxData, window uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.ReadOffset(), p.maxData, p.window
}

// SetWindow records the limit the connection advertises and the window it
// was computed with; the next update is due when half of it is consumed.
func (p *RecvPart) SetWindow(maxData, window uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.maxData = max(p.maxData, maxData)
	p.window = window
	p.updateWanted = false
}

// WantsCredit reports whether the part may still need MAX_STREAM_DATA:
// the final size is unknown and the application still reads.
func (p *RecvPart) WantsCredit() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, fin := p.buf.FinalSize()
	return !fin && !p.closed && !p.reset
}

// StopStillWanted reports whether a STOP_SENDING still serves a purpose:
// the final size is unknown and the peer did not reset.
func (p *RecvPart) StopStillWanted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, fin := p.buf.FinalSize()
	return !fin && !p.reset
}

// Done reports whether the part is finished: "Data Read" or "Reset Read"
// of RFC 9000 §3.2, or the application stopped reading after the final
// size became known.
func (p *RecvPart) Done() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, fin := p.buf.FinalSize()
	return fin && (p.buf.AllRead() || p.closed || p.reset)
}

// Highest is the largest offset received plus one.
func (p *RecvPart) Highest() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.Highest()
}

// Unhold copies what the part holds of received datagrams into its own
// storage (Recv.Unhold), unless a Read is copying from it now.
func (p *RecvPart) Unhold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.reading {
		p.buf.unshared = true
		p.buf.Unhold()
	}
}

// Held is the number of bytes of storage the part holds.
func (p *RecvPart) Held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.Held()
}
