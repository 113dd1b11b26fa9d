package streambuf

import "github.com/skiffnet/skiff/quic/internal/rangeset"

// SendState is the bookkeeping of a sending part that only the connection
// touches: which bytes were sent, are lost or acknowledged, and the FIN.
// It knows how far the data goes (Extend) but not the bytes, which live in
// a Send (CRYPTO streams) or a SendPart (streams the application writes).
type SendState struct {
	ackedBelow uint64       // every byte below is acknowledged
	acked      rangeset.Set // acknowledged ranges at or above ackedBelow
	lost       rangeset.Set // ranges declared lost and not yet resent
	unsent     uint64       // lowest offset never sent
	end        uint64       // bytes written so far

	finWritten bool // the writer closed the stream
	finSent    bool // a frame with FIN is in flight or acknowledged
	finAcked   bool
}

// Extend records that the writer has written up to end, and closed the
// stream if fin. Neither ever goes back.
func (s *SendState) Extend(end uint64, fin bool) {
	s.end = max(s.end, end)
	s.finWritten = s.finWritten || fin
}

// Written is the number of bytes written so far.
func (s *SendState) Written() uint64 { return s.end }

// Unsent is the lowest offset never sent: new data starts here.
func (s *SendState) Unsent() uint64 { return s.unsent }

// AckedBelow is the offset below which every byte is acknowledged.
func (s *SendState) AckedBelow() uint64 { return s.ackedBelow }

// Buffered is the number of bytes held: written but not yet acknowledged.
func (s *SendState) Buffered() uint64 { return s.end - s.ackedBelow }

// HasData reports whether there is something to send, given that new data
// may be sent only below limit (the flow-control limit, RFC 9000 §4.1).
// Lost data is always sendable: it was counted when first sent.
func (s *SendState) HasData(limit uint64) bool {
	return s.lost.Len() > 0 || (s.unsent < s.end && s.unsent < limit) || s.finPending()
}

// HasLost reports whether data declared lost waits to be sent again.
func (s *SendState) HasLost() bool { return s.lost.Len() > 0 }

// finPending reports whether a FIN must still go out: the stream is closed,
// all data up to the end has been sent, and no FIN is in flight or
// acknowledged (a FIN resent by a PTO probe, OnLost, while the first one
// was in flight may be acknowledged before the resend goes out).
func (s *SendState) finPending() bool {
	return s.finWritten && !s.finSent && !s.finAcked && s.unsent == s.end
}

// Next picks the next STREAM (or CRYPTO) frame to send, of at most max
// bytes: lost ranges first, then new data below limit. The range never
// crosses a chunk boundary, so that its bytes are contiguous in storage.
// It marks what it returns as in flight; ok is false when there is
// nothing to send.
func (s *SendState) Next(max int, limit uint64) (off uint64, n int, fin bool, ok bool) {
	if s.lost.Len() > 0 && max > 0 {
		r := s.lost.Range(0)
		end := min(r.End, r.Start+uint64(max), chunkEnd(r.Start))
		s.lost.RemoveRange(r.Start, end)
		fin = s.finWritten && end == s.end && !s.finAcked
		if fin {
			s.finSent = true
		}
		return r.Start, int(end - r.Start), fin, true
	}
	if s.unsent < s.end && s.unsent < limit && max > 0 {
		off = s.unsent
		end := min(s.end, limit, off+uint64(max), chunkEnd(off))
		s.unsent = end
		fin = s.finWritten && s.unsent == s.end
		if fin {
			s.finSent = true
		}
		return off, int(end - off), fin, true
	}
	if s.finPending() {
		s.finSent = true
		return s.end, 0, true, true
	}
	return 0, 0, false, false
}

// chunkEnd is the end of the chunk holding offset off.
func chunkEnd(off uint64) uint64 { return off - off%ChunkSize + ChunkSize }

// OnAck records that the frame carrying [off, off+n) (and FIN, if fin) was
// acknowledged, and reports whether AckedBelow moved: storage below it
// can be released.
//
// The same bytes may be acknowledged twice, when two copies were in
// flight (a PTO probe resends data whose packet stays in flight,
// probe.go in the connection): the part already below AckedBelow is
// dropped, since a range kept below it would head the acknowledged set
// and AckedBelow could never move again.
func (s *SendState) OnAck(off, n uint64, fin bool) (advanced bool) {
	if fin {
		s.finAcked = true
	}
	if off < s.ackedBelow {
		n -= min(n, s.ackedBelow-off)
		off = s.ackedBelow
	}
	if n == 0 {
		return false
	}
	if s.acked.Len() == 0 && off == s.ackedBelow {
		// In order, the common case: what AddRange and RemoveBelow would
		// do, without storing a range.
		s.lost.RemoveRange(off, off+n)
		s.ackedBelow = off + n
		return true
	}
	s.acked.AddRange(off, off+n)
	s.lost.RemoveRange(off, off+n)
	if first := s.acked.Range(0); first.Start <= s.ackedBelow && first.End > s.ackedBelow {
		s.ackedBelow = first.End
		s.acked.RemoveBelow(s.ackedBelow)
		return true
	}
	return false
}

// OnLost records that the frame carrying [off, off+n) (and FIN, if fin) was
// declared lost. Bytes acknowledged meanwhile (by another copy) are not
// resent.
func (s *SendState) OnLost(off, n uint64, fin bool) {
	if fin && !s.finAcked {
		s.finSent = false
	}
	end := off + n
	if off < s.ackedBelow {
		off = s.ackedBelow
	}
	if off >= end {
		return
	}
	s.lost.AddRange(off, end)
	for _, r := range s.acked.Ranges() {
		if r.Start >= end {
			break
		}
		s.lost.RemoveRange(r.Start, r.End)
	}
}

// AllAcked reports whether the stream is closed and every byte and the FIN
// were acknowledged: the "Data Recvd" state of RFC 9000 §3.1.
func (s *SendState) AllAcked() bool {
	return s.finWritten && s.finAcked && s.ackedBelow == s.end
}

// Discard forgets the ranges, for a stream that was reset.
func (s *SendState) Discard() {
	s.acked.Clear()
	s.lost.Clear()
}

// Send is a sending part used by the connection alone (a CRYPTO stream):
// the bytes written and their SendState.
type Send struct {
	SendState
	data chunks
}

// Write appends b to the stream.
func (s *Send) Write(b []byte) {
	if len(s.data.c) == 0 {
		s.data.base = s.ackedBelow - s.ackedBelow%ChunkSize
	}
	s.data.write(s.end, b, false)
	s.Extend(s.end+uint64(len(b)), false)
}

// Close marks the end of the stream: the last frame carries FIN.
func (s *Send) Close() { s.finWritten = true }

// Next is SendState.Next with the bytes: data is valid until the next call
// that changes s.
func (s *Send) Next(max int, limit uint64) (off uint64, data []byte, fin bool, ok bool) {
	off, n, fin, ok := s.SendState.Next(max, limit)
	if ok && n > 0 {
		data = s.data.slice(off, off+uint64(n))
	}
	return off, data, fin, ok
}

// OnAck is SendState.OnAck, releasing the storage the peer no longer needs.
func (s *Send) OnAck(off, n uint64, fin bool) {
	if s.SendState.OnAck(off, n, fin) {
		s.data.release(s.ackedBelow)
		if s.ackedBelow == s.end {
			// Nothing is held: the chunk under the last bytes goes back
			// too, so an idle stream keeps no memory.
			s.data.free()
		}
	}
}

// Discard drops every buffered byte.
func (s *Send) Discard() {
	s.data.free()
	s.SendState.Discard()
}

// SkipTo makes a new Send begin at off, as if off bytes had been written,
// sent and acknowledged: a drained stream whose state was let go comes back
// where it was.
func (s *Send) SkipTo(off uint64) { s.ackedBelow, s.unsent, s.end = off, off, off }
