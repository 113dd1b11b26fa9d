package quic

import (
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

// connFlow is connection-level flow control (RFC 9000 §4.1): the MAX_DATA
// limit we advertise and how much the peer used of it, and the peer's
// limit on what we send.
//
// Receive windows grow by auto-tuning: when the application consumed a
// whole window in less than two round trips, the window was what limited
// the sender, so it doubles, up to the configured maximum. Small fixed
// windows cap a connection at window/RTT; this lets one connection fill a
// fast path without committing memory up front.
type connFlow struct {
	c *Conn

	// Receive side. received is the sum over streams of the highest offset
	// the peer sent; it may not pass recvMax.
	received   uint64
	recvMax    atomic.Uint64 // the MAX_DATA we advertised
	recvWindow atomic.Uint64
	maxWindow  uint64
	consumedN  atomic.Uint64 // bytes the application consumed (any goroutine)
	updateAt   time.Duration
	maxDataDue bool // a MAX_DATA frame must be (re)sent

	// Send side.
	sendMax        uint64 // the peer's MAX_DATA
	sent           uint64 // bytes of new stream data sent
	blockedAt      uint64 // the limit our last DATA_BLOCKED reported
	blockedPending bool
}

func (f *connFlow) init(c *Conn, config *Config) {
	f.c = c
	w := config.connWindow()
	f.recvWindow.Store(w)
	f.recvMax.Store(w)
	f.maxWindow = config.maxConnWindow()
}

// setPeerInitial applies the peer's initial_max_data.
func (f *connFlow) setPeerInitial(v uint64) { f.onMaxData(v) }

// onMaxData handles MAX_DATA (RFC 9000 §19.9); smaller values are ignored.
func (f *connFlow) onMaxData(v uint64) {
	if v > f.sendMax {
		f.sendMax = v
	}
}

// sendCredit is how many new bytes the peer lets us send now.
func (f *connFlow) sendCredit() uint64 {
	if f.sent >= f.sendMax {
		return 0
	}
	return f.sendMax - f.sent
}

// onReceived counts adv new bytes of stream data from the peer.
func (f *connFlow) onReceived(adv uint64) error {
	f.received += adv
	if f.received > f.recvMax.Load() {
		return localError(wire.FlowControlError, 0, "stream data beyond MAX_DATA")
	}
	return nil
}

// consumed records that the application has consumed n bytes, from any
// goroutine, and wakes the driver when a MAX_DATA update is due.
func (f *connFlow) consumed(n uint64) {
	if n == 0 {
		return
	}
	total := f.consumedN.Add(n)
	if f.updateDue(total) {
		f.c.signal()
	}
}

// updateDue reports whether the limit should move: the peer has used half
// the window.
func (f *connFlow) updateDue(consumed uint64) bool {
	w := f.recvWindow.Load()
	return consumed+w-f.recvMax.Load() >= w/2
}

// wantMaxData reports whether a MAX_DATA frame should go out.
func (f *connFlow) wantMaxData() bool {
	return f.maxDataDue || f.updateDue(f.consumedN.Load())
}

// nextMaxData computes the limit to advertise now, auto-tuning the window.
func (f *connFlow) nextMaxData(now, srtt time.Duration) uint64 {
	w := f.recvWindow.Load()
	consumed := f.consumedN.Load()
	if f.updateDue(consumed) {
		if f.updateAt != 0 && now-f.updateAt < 2*srtt && w < f.maxWindow {
			w = min(2*w, f.maxWindow)
			f.recvWindow.Store(w)
		}
		f.updateAt = now
		if limit := consumed + w; limit > f.recvMax.Load() {
			f.recvMax.Store(limit)
		}
	}
	f.maxDataDue = false
	return f.recvMax.Load()
}

// ensureWindow grows the connection window to at least w: a stream window
// larger than the connection's would be useless.
func (f *connFlow) ensureWindow(w uint64) {
	if cur := f.recvWindow.Load(); w > cur {
		f.recvWindow.Store(min(w, max(f.maxWindow, w)))
	}
}

// nextStreamMaxData computes the MAX_STREAM_DATA to advertise for s,
// auto-tuning its window like the connection's. s.mu is held.
func (c *Conn) nextStreamMaxData(s *Stream, now time.Duration) uint64 {
	read := s.recv.ReadOffset()
	w := s.recvWindow
	if s.recvUpdateAt != 0 && now-s.recvUpdateAt < 2*c.rtt.SmoothedRTT() && w < c.config.maxStreamWindow() {
		w = min(2*w, c.config.maxStreamWindow())
		s.recvWindow = w
		c.flow.ensureWindow(w + w/2)
	}
	s.recvUpdateAt = now
	if read+w > s.recvMax {
		s.recvMax = read + w
	}
	return s.recvMax
}
