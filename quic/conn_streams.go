package quic

import (
	"context"
	"errors"

	"github.com/skiffnet/skiff/quic/internal/streambuf"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Stream IDs (RFC 9000 §2.1): bit 0 is the initiator (1: server), bit 1
// the direction (1: unidirectional); the rest is a sequence number.
const (
	streamServerBit = 0x1
	streamUniBit    = 0x2
)

func streamIsUni(id uint64) bool    { return id&streamUniBit != 0 }
func streamIsServer(id uint64) bool { return id&streamServerBit != 0 }
func streamID(seq uint64, server, uni bool) uint64 {
	id := seq << 2
	if server {
		id |= streamServerBit
	}
	if uni {
		id |= streamUniBit
	}
	return id
}

// streamKind indexes per-direction state: bidirectional and unidirectional.
const (
	kindBidi = 0
	kindUni  = 1
)

func kindOf(id uint64) int {
	if streamIsUni(id) {
		return kindUni
	}
	return kindBidi
}

// streamsState is the connection's set of streams and their limits. The
// fields are guarded by Conn.mu, as application goroutines open and accept
// streams.
type streamsState struct {
	c *Conn
	m map[uint64]*Stream

	// Streams we open: the next sequence number and the peer's limit.
	nextLocal     [2]uint64
	peerMax       [2]uint64 // MAX_STREAMS from the peer (a count)
	blockedAt     [2]uint64 // the limit a STREAMS_BLOCKED reported
	blockedQueued [2]bool
	limitChanged  chan struct{} // closed and replaced when peerMax grows

	// Streams the peer opens: how many it opened, how many are done, and
	// the limit we advertised.
	remoteOpened  [2]uint64
	remoteDone    [2]uint64
	localMax      [2]uint64
	maxLimit      [2]uint64 // our configured concurrency per kind
	maxStreamsDue [2]bool

	accept      [2][]*Stream
	acceptReady [2]chan struct{}

	// sendQueue holds streams with something to send, in round-robin order.
	sendQueue []*Stream
	// peer initial windows for streams we will open (RFC 9000 §18.2).
	peerBidiLocal, peerBidiRemote, peerUni uint64
}

func (ss *streamsState) init(c *Conn, config *Config) {
	ss.c = c
	ss.m = map[uint64]*Stream{}
	ss.limitChanged = make(chan struct{})
	ss.acceptReady = [2]chan struct{}{make(chan struct{}, 1), make(chan struct{}, 1)}
	ss.maxLimit = [2]uint64{uint64(config.maxBidiStreams()), uint64(config.maxUniStreams())}
	ss.localMax = ss.maxLimit
}

// setPeerInitial applies the peer's transport parameters.
func (ss *streamsState) setPeerInitial(p *wire.TransportParameters) {
	c := ss.c
	c.mu.Lock()
	defer c.mu.Unlock()
	ss.peerBidiLocal = p.InitialMaxStreamDataBidiLocal
	ss.peerBidiRemote = p.InitialMaxStreamDataBidiRemote
	ss.peerUni = p.InitialMaxStreamDataUni
	ss.raisePeerMaxLocked(kindBidi, p.InitialMaxStreamsBidi)
	ss.raisePeerMaxLocked(kindUni, p.InitialMaxStreamsUni)
}

func (ss *streamsState) raisePeerMaxLocked(kind int, n uint64) {
	if n <= ss.peerMax[kind] {
		return // RFC 9000 §19.11: smaller values are ignored
	}
	ss.peerMax[kind] = n
	close(ss.limitChanged)
	ss.limitChanged = make(chan struct{})
}

// onMaxStreams handles MAX_STREAMS (RFC 9000 §19.11).
func (ss *streamsState) onMaxStreams(f *wire.MaxStreamsFrame) {
	kind := kindBidi
	if f.Type() == wire.FrameTypeMaxStreamsUni {
		kind = kindUni
	}
	ss.c.mu.Lock()
	ss.raisePeerMaxLocked(kind, f.MaximumStreams)
	ss.c.mu.Unlock()
}

// OpenStream opens a bidirectional stream, waiting while the peer's
// stream limit is reached (a STREAMS_BLOCKED frame tells it so).
func (c *Conn) OpenStream(ctx context.Context) (*Stream, error) {
	return c.openStream(ctx, kindBidi)
}

// OpenUniStream opens a unidirectional (send-only) stream.
func (c *Conn) OpenUniStream(ctx context.Context) (*Stream, error) {
	return c.openStream(ctx, kindUni)
}

func (c *Conn) openStream(ctx context.Context, kind int) (*Stream, error) {
	select {
	case <-c.handshakeDone:
	case <-ctxDone(ctx):
		return nil, ctx.Err()
	case <-c.closed:
		return nil, c.closeError()
	}
	ss := &c.streams
	for {
		c.mu.Lock()
		if err := c.shared.closeErr; err != nil {
			c.mu.Unlock()
			return nil, err
		}
		seq := ss.nextLocal[kind]
		if seq < ss.peerMax[kind] {
			ss.nextLocal[kind]++
			id := streamID(seq, !c.isClient, kind == kindUni)
			s := newStream(c, id, true, kind == kindBidi)
			if kind == kindUni {
				s.sendMax = ss.peerUni
			} else {
				s.sendMax = ss.peerBidiRemote
				c.initRecvWindow(s)
			}
			ss.m[id] = s
			c.mu.Unlock()
			return s, nil
		}
		// RFC 9000 §4.6: say we are blocked.
		if ss.blockedAt[kind] != ss.peerMax[kind] || !ss.blockedQueued[kind] {
			ss.blockedAt[kind] = ss.peerMax[kind]
			ss.blockedQueued[kind] = true
		}
		changed := ss.limitChanged
		c.mu.Unlock()
		c.signal()
		select {
		case <-changed:
		case <-ctxDone(ctx):
			return nil, ctx.Err()
		case <-c.closed:
			return nil, c.closeError()
		}
	}
}

// AcceptStream waits for the peer to open a bidirectional stream.
func (c *Conn) AcceptStream(ctx context.Context) (*Stream, error) {
	return c.acceptStream(ctx, kindBidi)
}

// AcceptUniStream waits for the peer to open a unidirectional stream.
func (c *Conn) AcceptUniStream(ctx context.Context) (*Stream, error) {
	return c.acceptStream(ctx, kindUni)
}

func (c *Conn) acceptStream(ctx context.Context, kind int) (*Stream, error) {
	ss := &c.streams
	for {
		c.mu.Lock()
		if q := ss.accept[kind]; len(q) > 0 {
			s := q[0]
			q[0] = nil
			ss.accept[kind] = q[1:]
			if len(ss.accept[kind]) > 0 {
				notify(ss.acceptReady[kind])
			}
			c.mu.Unlock()
			return s, nil
		}
		err := c.shared.closeErr
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-ss.acceptReady[kind]:
		case <-ctxDone(ctx):
			return nil, ctx.Err()
		case <-c.closed:
			return nil, c.closeError()
		}
	}
}

// initRecvWindow sets up the receive side's flow control.
func (c *Conn) initRecvWindow(s *Stream) {
	w := c.config.streamWindow()
	s.recvWindow = w
	s.recvMax = w
}

// streamForFrame finds the stream a received frame refers to, opening
// remote streams implicitly (RFC 9000 §3.2) and applying the stream state
// rules: a frame for a stream we have not opened is STREAM_STATE_ERROR,
// one beyond our limit STREAM_LIMIT_ERROR. It returns nil for a stream
// that has already finished: the frame is then ignored.
func (c *Conn) streamForFrame(id uint64, t wire.FrameType, needRecv, needSend bool) (*Stream, error) {
	ss := &c.streams
	local := streamIsServer(id) == !c.isClient
	uni := streamIsUni(id)
	if uni {
		// On a unidirectional stream only the initiator sends.
		if local && needRecv {
			return nil, localError(wire.StreamStateError, t, "receive-side frame on a send-only stream")
		}
		if !local && needSend {
			return nil, localError(wire.StreamStateError, t, "send-side frame on a receive-only stream")
		}
	}
	kind := kindOf(id)
	seq := id >> 2
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := ss.m[id]; ok {
		return s, nil
	}
	if local {
		if seq >= ss.nextLocal[kind] {
			return nil, localError(wire.StreamStateError, t, "frame for a stream we have not opened")
		}
		return nil, nil // finished and forgotten
	}
	if seq < ss.remoteOpened[kind] {
		return nil, nil
	}
	if seq >= ss.localMax[kind] {
		return nil, localError(wire.StreamLimitError, t, "stream beyond the limit we advertised")
	}
	// Open every stream of this kind up to seq (RFC 9000 §3.2).
	for n := ss.remoteOpened[kind]; n <= seq; n++ {
		sid := streamID(n, c.isClient, uni)
		s := newStream(c, sid, !uni, true)
		c.initRecvWindow(s)
		if !uni {
			s.sendMax = ss.peerBidiLocal
		}
		ss.m[sid] = s
		ss.accept[kind] = append(ss.accept[kind], s)
	}
	ss.remoteOpened[kind] = seq + 1
	notify(ss.acceptReady[kind])
	return ss.m[id], nil
}

// handleStreamFrame processes a STREAM frame (RFC 9000 §19.8).
func (c *Conn) handleStreamFrame(f *wire.StreamFrame) error {
	t := wire.FrameTypeStream
	s, err := c.streamForFrame(f.StreamID, t, true, false)
	if err != nil || s == nil {
		return err
	}
	end := f.Offset + uint64(len(f.Data))
	s.mu.Lock()
	// RFC 9000 §4.1: data beyond the advertised limit is a
	// FLOW_CONTROL_ERROR.
	if end > s.recvMax {
		s.mu.Unlock()
		return localError(wire.FlowControlError, t, "stream data beyond MAX_STREAM_DATA")
	}
	if s.readClosed || s.recvReset != nil {
		// Still account the data for connection flow control, then drop.
		adv := uint64(0)
		if end > s.recv.Highest() {
			adv = end - s.recv.Highest()
		}
		// Written and dropped at once, so that the highest offset and the
		// final size move (and are checked, §4.5) as for a stream being
		// read: each byte counts once.
		_, ferr := s.recv.Write(f.Offset, f.Data, f.Fin)
		s.recv.Discard()
		s.mu.Unlock()
		if errors.Is(ferr, streambuf.ErrFinalSize) {
			return localError(wire.FinalSizeError, t, "final size changed")
		}
		if err := c.flow.onReceived(adv); err != nil {
			return err
		}
		c.flow.consumed(adv)
		return nil
	}
	adv, err := s.recv.Write(f.Offset, f.Data, f.Fin)
	readable := s.recv.Readable() > 0 || s.recv.AllRead()
	s.mu.Unlock()
	if err != nil {
		return localError(wire.FinalSizeError, t, err.Error())
	}
	if err := c.flow.onReceived(adv); err != nil {
		return err
	}
	if readable {
		notify(s.readReady)
	}
	return nil
}

// handleResetStream processes RESET_STREAM (RFC 9000 §19.4).
func (c *Conn) handleResetStream(f *wire.ResetStreamFrame) error {
	t := wire.FrameTypeResetStream
	s, err := c.streamForFrame(f.StreamID, t, true, false)
	if err != nil || s == nil {
		return err
	}
	s.mu.Lock()
	before := s.recv.Highest()
	// RFC 9000 §3.2: only a stream whose FIN the application has already
	// read ignores the reset; a reset whose final size merely equals
	// what was read still aborts the stream, it must not look like EOF.
	finishedBefore := s.recv.AllRead()
	if err := s.recv.SetFinalSize(f.FinalSize); err != nil {
		s.mu.Unlock()
		return localError(wire.FinalSizeError, t, "final size changed")
	}
	if f.FinalSize > s.recvMax {
		s.mu.Unlock()
		return localError(wire.FlowControlError, t, "final size beyond MAX_STREAM_DATA")
	}
	adv := f.FinalSize - before
	consumedBefore := s.recv.ReadOffset()
	first := s.recvReset == nil && !finishedBefore
	if first {
		s.recvReset = &StreamError{StreamID: s.id, Code: f.ErrorCode, Remote: true}
		s.recv.Discard()
	}
	s.maxDataPending = false
	readClosed := s.readClosed
	s.mu.Unlock()
	if err := c.flow.onReceived(adv); err != nil {
		return err
	}
	if first && !readClosed {
		// Everything up to the final size now counts as consumed.
		c.flow.consumed(f.FinalSize - consumedBefore)
	} else if first {
		c.flow.consumed(adv)
	}
	notify(s.readReady)
	c.queueStream(s)
	return nil
}

// handleStopSending processes STOP_SENDING (RFC 9000 §19.5): we answer
// with RESET_STREAM carrying the same code (§3.5).
func (c *Conn) handleStopSending(f *wire.StopSendingFrame) error {
	s, err := c.streamForFrame(f.StreamID, wire.FrameTypeStopSending, false, true)
	if err != nil || s == nil {
		return err
	}
	s.mu.Lock()
	if s.stopReceived == nil {
		s.stopReceived = &StreamError{StreamID: s.id, Code: f.ErrorCode, Remote: true}
	}
	if !s.resetPending && !s.resetSent && !s.send.AllAcked() {
		s.resetCode, s.resetPending = f.ErrorCode, true
		s.send.Discard()
	}
	s.mu.Unlock()
	notify(s.writeReady)
	c.queueStream(s)
	return nil
}

// handleMaxStreamData processes MAX_STREAM_DATA (RFC 9000 §19.10).
func (c *Conn) handleMaxStreamData(f *wire.MaxStreamDataFrame) error {
	s, err := c.streamForFrame(f.StreamID, wire.FrameTypeMaxStreamData, false, true)
	if err != nil || s == nil {
		return err
	}
	s.mu.Lock()
	grew := f.MaximumStreamData > s.sendMax
	if grew {
		s.sendMax = f.MaximumStreamData
	}
	s.mu.Unlock()
	if grew {
		c.queueStream(s)
	}
	return nil
}

// handleStreamDataBlocked processes STREAM_DATA_BLOCKED (RFC 9000 §19.13):
// nothing to do but check the stream may receive.
func (c *Conn) handleStreamDataBlocked(f *wire.StreamDataBlockedFrame) error {
	_, err := c.streamForFrame(f.StreamID, wire.FrameTypeStreamDataBlocked, true, false)
	return err
}

// queueStream puts a stream in the send queue, if it is not already
// there, and wakes the driver.
func (c *Conn) queueStream(s *Stream) {
	c.mu.Lock()
	if !s.queued && !s.done {
		s.queued = true
		c.streams.sendQueue = append(c.streams.sendQueue, s)
	}
	c.mu.Unlock()
	c.signal()
}
