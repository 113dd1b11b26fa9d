package streambuf

import "github.com/skiffnet/skiff/quic/internal/rangeset"

// Send is the send side of a stream: the bytes the application wrote, from
// the lowest unacknowledged offset up, and which of them are unsent, in
// flight, lost or acknowledged.
type Send struct {
	data       chunks
	ackedBelow uint64       // every byte below is acknowledged and released
	acked      rangeset.Set // acknowledged ranges at or above ackedBelow
	lost       rangeset.Set // ranges declared lost and not yet resent
	unsent     uint64       // lowest offset never sent
	end        uint64       // bytes written so far

	finWritten bool // the application closed the stream
	finSent    bool // a frame with FIN is in flight or acknowledged
	finAcked   bool
}

// Write appends b to the stream. The caller bounds how much it lets the
// application buffer, using Buffered.
func (s *Send) Write(b []byte) {
	if len(s.data.c) == 0 {
		s.data.base = s.ackedBelow - s.ackedBelow%chunkSize
	}
	s.data.write(s.end, b)
	s.end += uint64(len(b))
}

// Close marks the end of the stream: the last frame carries FIN.
func (s *Send) Close() { s.finWritten = true }

// Buffered is the number of bytes held: written but not yet acknowledged.
func (s *Send) Buffered() uint64 { return s.end - s.ackedBelow }

// Written is the number of bytes the application has written.
func (s *Send) Written() uint64 { return s.end }

// Unsent is the lowest offset never sent: new data starts here.
func (s *Send) Unsent() uint64 { return s.unsent }

// HasData reports whether there is something to send, given that new data
// may be sent only below limit (the flow-control limit, RFC 9000 §4.1).
// Lost data is always sendable: it was counted when first sent.
func (s *Send) HasData(limit uint64) bool {
	return s.lost.Len() > 0 || (s.unsent < s.end && s.unsent < limit) || s.finPending()
}

// finPending reports whether a FIN must still go out: the stream is closed,
// all data up to the end has been sent, and no FIN is in flight.
func (s *Send) finPending() bool {
	return s.finWritten && !s.finSent && s.unsent == s.end
}

// Next picks the next STREAM frame to send, of at most max bytes of data:
// lost ranges first, then new data below limit. It marks what it returns as
// in flight. data is valid until the next call that changes s; it may be
// shorter than max where the storage wraps a chunk. ok is false when there
// is nothing to send.
func (s *Send) Next(max int, limit uint64) (off uint64, data []byte, fin bool, ok bool) {
	if s.lost.Len() > 0 && max > 0 {
		r := s.lost.Range(0)
		end := min(r.End, r.Start+uint64(max))
		data = s.data.slice(r.Start, end)
		end = r.Start + uint64(len(data))
		s.lost.RemoveRange(r.Start, end)
		fin = s.finWritten && end == s.end && !s.finAcked
		if fin {
			s.finSent = true
		}
		return r.Start, data, fin, true
	}
	if s.unsent < s.end && s.unsent < limit && max > 0 {
		off = s.unsent
		end := min(s.end, limit, off+uint64(max))
		data = s.data.slice(off, end)
		s.unsent += uint64(len(data))
		fin = s.finWritten && s.unsent == s.end
		if fin {
			s.finSent = true
		}
		return off, data, fin, true
	}
	if s.finPending() {
		s.finSent = true
		return s.end, nil, true, true
	}
	return 0, nil, false, false
}

// OnAck records that the frame carrying [off, off+n) (and FIN, if fin) was
// acknowledged, and releases storage the peer no longer needs.
func (s *Send) OnAck(off, n uint64, fin bool) {
	if fin {
		s.finAcked = true
	}
	if n == 0 {
		return
	}
	s.acked.AddRange(off, off+n)
	s.lost.RemoveRange(off, off+n)
	if first := s.acked.Range(0); first.Start <= s.ackedBelow && first.End > s.ackedBelow {
		s.ackedBelow = first.End
		s.acked.RemoveBelow(s.ackedBelow)
		s.data.release(s.ackedBelow)
		if s.ackedBelow == s.end {
			// Nothing is held: the chunk under the last bytes goes back
			// too, so an idle stream (or CRYPTO stream) keeps no memory.
			s.data.free()
		}
	}
}

// OnLost records that the frame carrying [off, off+n) (and FIN, if fin) was
// declared lost. Bytes acknowledged meanwhile (by another copy) are not
// resent.
func (s *Send) OnLost(off, n uint64, fin bool) {
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
func (s *Send) AllAcked() bool {
	return s.finWritten && s.finAcked && s.ackedBelow == s.end
}

// Discard drops every buffered byte, for a stream that was reset.
func (s *Send) Discard() {
	s.data.free()
	s.acked.Clear()
	s.lost.Clear()
}
