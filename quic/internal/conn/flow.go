package conn

import (
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
//
// What the application consumed is counted in the Mailbox, by application
// goroutines, with the level at which an update is due published there
// (maxDataAt), so that a Read wakes the connection only when it matters.
type connFlow struct {
	mb *Mailbox

	// Receive side. received is the sum over streams of the highest offset
	// the peer sent; it may not pass recvMax.
	received   uint64
	recvMax    uint64 // the MAX_DATA we advertised
	recvWindow uint64
	maxWindow  uint64
	updateAt   time.Duration

	// Send side.
	sendMax        uint64 // the peer's MAX_DATA
	sent           uint64 // bytes of new stream data sent
	blockedAt      uint64 // the limit our last DATA_BLOCKED reported
	blockedPending bool
	maxDataDue     bool // receive side: a MAX_DATA frame must be (re)sent
}

func (f *connFlow) init(mb *Mailbox, config *Config) {
	f.mb = mb
	w := config.connWindow()
	f.recvWindow = w
	f.recvMax = w
	f.maxWindow = config.maxConnWindow()
	f.publish()
}

// publish tells application goroutines the consumed level at which an
// update is due: the peer has used half the window.
func (f *connFlow) publish() {
	w := f.recvWindow
	at := f.recvMax + w/2
	if at >= w {
		at -= w
	} else {
		at = 0
	}
	f.mb.maxDataAt.Store(at)
	f.mb.held.SetLimit(int(min(2*w, 1<<30)))
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
	if f.received > f.recvMax {
		return localError(wire.FlowControlError, 0, "stream data beyond MAX_DATA")
	}
	return nil
}

// consumedByConn counts bytes the connection itself consumed: data for
// streams nobody reads any more.
func (f *connFlow) consumedByConn(n uint64) {
	if n > 0 {
		f.mb.consumed.Add(n)
	}
}

// ReceiveWindow is the connection's receive window (RFC 9000 §4.1) as
// auto-tuning has set it: at most this much new stream data can be on its
// way to us beyond what the connection has processed, so the owner sizes
// its queue of datagrams not yet handed over by it.
func (c *Conn) ReceiveWindow() uint64 { return c.flow.recvWindow }

// updateDue reports whether the limit should move: the peer has used half
// the window.
func (f *connFlow) updateDue(consumed uint64) bool {
	w := f.recvWindow
	return consumed+w-f.recvMax >= w/2
}

// wantMaxData reports whether a MAX_DATA frame should go out.
func (f *connFlow) wantMaxData() bool {
	return f.maxDataDue || f.updateDue(f.mb.consumed.Load())
}

// nextMaxData computes the limit to advertise now, auto-tuning the window.
func (f *connFlow) nextMaxData(now, srtt time.Duration) uint64 {
	consumed := f.mb.consumed.Load()
	if f.updateDue(consumed) {
		if f.updateAt != 0 && now-f.updateAt < 2*srtt && f.recvWindow < f.maxWindow {
			f.recvWindow = min(2*f.recvWindow, f.maxWindow)
		}
		f.updateAt = now
		f.recvMax = max(f.recvMax, consumed+f.recvWindow)
		f.publish()
	}
	f.maxDataDue = false
	return f.recvMax
}

// ensureWindow grows the connection window to at least w: a stream window
// larger than the connection's would be useless.
func (f *connFlow) ensureWindow(w uint64) {
	if w > f.recvWindow {
		f.recvWindow = min(w, max(f.maxWindow, w))
		f.publish()
	}
}

// nextStreamMaxData computes the MAX_STREAM_DATA to advertise for s,
// auto-tuning its window like the connection's.
func (c *Conn) nextStreamMaxData(s *Stream, now time.Duration) uint64 {
	read, limit, w := s.recv.Window()
	if s.recvUpdateAt != 0 && now-s.recvUpdateAt < 2*c.rtt.SmoothedRTT() && w < c.config.maxStreamWindow() {
		w = min(2*w, c.config.maxStreamWindow())
		c.flow.ensureWindow(w + w/2)
	}
	s.recvUpdateAt = now
	limit = max(limit, read+w)
	s.recv.SetWindow(limit, w)
	return limit
}
