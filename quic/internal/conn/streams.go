package conn

import (
	"errors"
	"time"

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

// streamsState is the connection's set of streams, their limits and the
// order in which they send.
type streamsState struct {
	c *Conn
	m map[uint64]*Stream
	// last is the stream found last by ID: a bulk transfer's frames
	// mostly name the same one.
	last *Stream

	// Streams we open (sequence numbers are taken in the Mailbox): the
	// limit a STREAMS_BLOCKED reported (blockedQueued: one is to be
	// sent).
	blockedAt     [2]uint64
	blockedQueued [2]bool

	// Streams the peer opens: how many it opened, how many are done, and
	// the limit we advertised (maxStreamsDue: a MAX_STREAMS is to be
	// sent). The peer's initial windows for streams we open (RFC 9000
	// §18.2) are set once its transport parameters arrived.
	maxStreamsDue [2]bool
	peerParamsSet bool
	remoteOpened  [2]uint64
	remoteDone    [2]uint64
	localMax      [2]uint64
	maxLimit      [2]uint64 // our configured concurrency per kind

	// Streams with data to send, by priority, and streams with control
	// frames to send, in order (sched.go).
	sched sendScheduler
	ctrl  ctrlQueue
	// releaseHead lists the streams with storage to release after the
	// ACK frame being processed (onResolved).
	releaseHead *Stream

	peerBidiLocal, peerBidiRemote, peerUni uint64
}

func (ss *streamsState) init(c *Conn, config *Config) {
	ss.c = c
	ss.maxLimit = [2]uint64{uint64(config.maxBidiStreams()), uint64(config.maxUniStreams())}
	ss.localMax = ss.maxLimit
}

// setPeerInitial applies the peer's transport parameters.
func (ss *streamsState) setPeerInitial(p *wire.TransportParameters) {
	ss.peerBidiLocal = p.InitialMaxStreamDataBidiLocal
	ss.peerBidiRemote = p.InitialMaxStreamDataBidiRemote
	ss.peerUni = p.InitialMaxStreamDataUni
	ss.peerParamsSet = true
	// Streams the application opened before the parameters arrived.
	for _, s := range ss.m {
		if ss.isLocal(s.id) {
			ss.setLocalSendMax(s)
		}
	}
	ss.raisePeerMax(kindBidi, p.InitialMaxStreamsBidi)
	ss.raisePeerMax(kindUni, p.InitialMaxStreamsUni)
}

// setLocalSendMax applies the peer's initial window to a stream we opened.
func (ss *streamsState) setLocalSendMax(s *Stream) {
	w := ss.peerBidiRemote
	if streamIsUni(s.id) {
		w = ss.peerUni
	}
	ss.c.raiseSendMax(s, w)
}

// raiseSendMax records the peer's limit for s's sending part (RFC 9000
// §4.1) and publishes it to the part, whose writer may buffer up to it
// plus the cushion: a writer waiting for credit goes on.
func (c *Conn) raiseSendMax(s *Stream, v uint64) {
	if v <= s.sendMax {
		return
	}
	s.sendMax = v
	if s.send.SetCredit(v) {
		c.events.add(Event{Kind: EventStreamWritable, Stream: s})
	}
}

func (ss *streamsState) isLocal(id uint64) bool { return streamIsServer(id) == !ss.c.isClient }

func (ss *streamsState) raisePeerMax(kind int, n uint64) {
	mb := ss.c.mb
	if n <= mb.peerMax[kind].Load() {
		return // RFC 9000 §19.11: smaller values are ignored
	}
	mb.peerMax[kind].Store(min(n, maxStreamsLimit))
	ss.c.events.add(Event{Kind: EventStreamsAvailable})
}

// onMaxStreams handles MAX_STREAMS (RFC 9000 §19.11).
func (ss *streamsState) onMaxStreams(f *wire.MaxStreamsFrame) {
	kind := kindBidi
	if f.Type() == wire.FrameTypeMaxStreamsUni {
		kind = kindUni
	}
	ss.raisePeerMax(kind, f.MaximumStreams)
}

// get returns a stream the connection still tracks.
func (ss *streamsState) get(id uint64) *Stream {
	if s := ss.last; s != nil && s.id == id && !s.done {
		return s
	}
	s := ss.m[id]
	if s != nil {
		ss.last = s
	}
	return s
}

// add puts s in the map, made on first use (Trim drops an empty one).
func (ss *streamsState) add(s *Stream) {
	if ss.m == nil {
		ss.m = map[uint64]*Stream{}
	}
	ss.m[s.id] = s
}

// register adds a stream the application opened (taken from the Mailbox).
func (ss *streamsState) register(s *Stream) {
	s.registered = true
	ss.add(s)
	ss.c.traceStreamParts(s, "open", "local")
	if ss.peerParamsSet {
		ss.setLocalSendMax(s)
	}
}

// streamForFrame finds the stream a received frame refers to, opening
// remote streams implicitly (RFC 9000 §3.2) and applying the stream state
// rules: a frame for a stream we have not opened is STREAM_STATE_ERROR,
// one beyond our limit STREAM_LIMIT_ERROR. It returns nil for a stream
// that has already finished: the frame is then ignored.
func (c *Conn) streamForFrame(id uint64, t wire.FrameType, needRecv, needSend bool) (*Stream, error) {
	ss := &c.streams
	local := ss.isLocal(id)
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
	if s := ss.get(id); s != nil {
		return s, nil
	}
	kind := kindOf(id)
	seq := id >> 2
	if local {
		if seq >= c.mb.nextLocal[kind].Load() {
			return nil, localError(wire.StreamStateError, t, "frame for a stream we have not opened")
		}
		// Finished and forgotten, or opened by the application a moment
		// ago and not registered yet (the peer cannot know of it).
		return nil, nil
	}
	if seq < ss.remoteOpened[kind] {
		return nil, nil
	}
	if seq >= ss.localMax[kind] {
		return nil, localError(wire.StreamLimitError, t, "stream beyond the limit we advertised")
	}
	// Open every stream of this kind up to seq (RFC 9000 §3.2).
	window := c.config.streamWindow()
	var s *Stream
	for n := ss.remoteOpened[kind]; n <= seq; n++ {
		s = newStream(c.mb, streamID(n, c.isClient, uni), !uni, true)
		s.recv.Init(window)
		if !uni {
			c.raiseSendMax(s, ss.peerBidiLocal)
		}
		s.registered = true
		ss.add(s)
		c.traceStreamParts(s, "open", "remote")
		c.events.add(Event{Kind: EventStreamOpened, Stream: s})
	}
	ss.remoteOpened[kind] = seq + 1
	ss.last = s
	return s, nil
}

// handleStreamFrame processes a STREAM frame (RFC 9000 §19.8) whose data
// lies in h's memory (nil: none; held.go in streambuf).
func (c *Conn) handleStreamFrame(f *wire.StreamFrame, h streambuf.Holder) error {
	t := wire.FrameTypeStream
	s, err := c.streamForFrame(f.StreamID, t, true, false)
	if err != nil || s == nil {
		return err
	}
	if c.early.receiving {
		s.earlyData.Store(true) // zerortt.go
	}
	res, err := s.recv.WriteHeld(f.Offset, f.Data, f.Fin, h, &c.mb.held)
	if err != nil {
		return streamError(err, t)
	}
	if err := c.flow.onReceived(res.Advanced); err != nil {
		return err
	}
	c.flow.consumedByConn(res.Consumed)
	if res.Readable {
		c.events.add(Event{Kind: EventStreamReadable, Stream: s})
	}
	return nil
}

// streamError maps a receiving part's error to its transport error.
func streamError(err error, t wire.FrameType) error {
	switch {
	case errors.Is(err, streambuf.ErrFlowControl):
		return localError(wire.FlowControlError, t, err.Error())
	case errors.Is(err, streambuf.ErrFinalSize):
		return localError(wire.FinalSizeError, t, "final size changed")
	}
	return localError(wire.InternalError, t, err.Error())
}

// handleResetStream processes RESET_STREAM (RFC 9000 §19.4).
func (c *Conn) handleResetStream(f *wire.ResetStreamFrame) error {
	t := wire.FrameTypeResetStream
	s, err := c.streamForFrame(f.StreamID, t, true, false)
	if err != nil || s == nil {
		return err
	}
	res, err := s.recv.Reset(f.FinalSize, f.ErrorCode)
	if err != nil {
		return streamError(err, t)
	}
	c.traceStream(s, sideReceiving, "reset_received", "remote")
	s.maxDataPending = false
	if err := c.flow.onReceived(res.Advanced); err != nil {
		return err
	}
	c.flow.consumedByConn(res.Consumed)
	if res.Readable {
		c.events.add(Event{Kind: EventStreamReadable, Stream: s})
		c.events.add(Event{Kind: EventStreamAborted, Stream: s})
	}
	c.checkStreamFinished(s)
	return nil
}

// handleStopSending processes STOP_SENDING (RFC 9000 §19.5): we answer
// with RESET_STREAM carrying the same code (§3.5).
func (c *Conn) handleStopSending(f *wire.StopSendingFrame) error {
	s, err := c.streamForFrame(f.StreamID, wire.FrameTypeStopSending, false, true)
	if err != nil || s == nil {
		return err
	}
	if s.send.Stop(f.ErrorCode) {
		c.events.add(Event{Kind: EventStreamWritable, Stream: s})
	}
	c.events.add(Event{Kind: EventStreamAborted, Stream: s})
	c.resetSending(s, f.ErrorCode)
	return nil
}

// resetSending abandons s's sending part with RESET_STREAM (RFC 9000
// §3.1), unless it was already reset or everything was acknowledged.
func (c *Conn) resetSending(s *Stream, code uint64) {
	if s.resetPending || s.resetSent || s.out.AllAcked() {
		return
	}
	s.resetCode, s.resetPending = code, true
	c.traceStream(s, sideSending, "reset_sent", "")
	s.send.Discard()
	s.out.Discard()
	s.blockedPending = false
	c.streams.sched.remove(s)
	c.streams.ctrl.push(s)
}

// handleMaxStreamData processes MAX_STREAM_DATA (RFC 9000 §19.10).
func (c *Conn) handleMaxStreamData(f *wire.MaxStreamDataFrame) error {
	s, err := c.streamForFrame(f.StreamID, wire.FrameTypeMaxStreamData, false, true)
	if err != nil || s == nil {
		return err
	}
	if f.MaximumStreamData > s.sendMax {
		c.raiseSendMax(s, f.MaximumStreamData)
		c.scheduleStream(s)
	}
	return nil
}

// handleStreamDataBlocked processes STREAM_DATA_BLOCKED (RFC 9000 §19.13):
// nothing to do but check the stream may receive.
func (c *Conn) handleStreamDataBlocked(f *wire.StreamDataBlockedFrame) error {
	_, err := c.streamForFrame(f.StreamID, wire.FrameTypeStreamDataBlocked, true, false)
	return err
}

// ProcessMailbox takes the work application goroutines left in the
// Mailbox: streams they opened or wrote to, closed or reset, read from,
// and the credit they consumed. The owner calls it after TakePending
// found work, before handling datagrams.
func (c *Conn) ProcessMailbox(now time.Time) {
	mb := c.mb
	for s := mb.streams.Swap(nil); s != nil; {
		next := s.next
		s.next = nil
		s.flagged.Store(false)
		c.onStreamWork(c.mono(now), s)
		s = next
	}
	for kind := range 2 {
		if mb.openBlocked[kind].Swap(false) {
			// RFC 9000 §4.6: say we are blocked, once per limit.
			if limit := mb.peerMax[kind].Load(); mb.nextLocal[kind].Load() >= limit && c.streams.blockedAt[kind] != limit {
				c.streams.blockedAt[kind] = limit
				c.streams.blockedQueued[kind] = true
			}
		}
	}
}

// onStreamWork acts on what the application did to s.
func (c *Conn) onStreamWork(now time.Duration, s *Stream) {
	ss := &c.streams
	if !s.registered {
		if c.closing.state != stateOpen {
			return
		}
		ss.register(s)
	}
	if s.done {
		return
	}
	if p := s.priority.Load(); p != 0 && p != s.sched.packed {
		ss.sched.setPriority(s, p)
	}
	if s.hasSend {
		end, fin, reset, code := s.send.State()
		s.out.Extend(end, fin)
		if reset {
			c.resetSending(s, code)
		}
		c.scheduleStream(s)
	}
	if s.hasRecv {
		stop, code, update := s.recv.Requests()
		if stop && !s.stopPending {
			s.stopPending, s.stopCode = true, code
			ss.ctrl.push(s)
		}
		if update && !s.maxDataPending {
			s.maxDataPending = true
			ss.ctrl.push(s)
		}
	}
	c.checkStreamFinished(s)
	_ = now
}

// scheduleStream puts s in the send schedule if it has data to send.
func (c *Conn) scheduleStream(s *Stream) {
	if !s.done && c.streamHasData(s) {
		c.streams.sched.push(s)
	}
}

// streamFinished reports whether both parts of s are done, so the
// connection can forget it (RFC 9000 §3: "Data Recvd"/"Reset Recvd" and
// "Data Read"/"Reset Read").
func (c *Conn) streamFinished(s *Stream) bool {
	sendDone := !s.hasSend || s.out.AllAcked() || s.resetAcked
	return sendDone && (!s.hasRecv || s.recv.Done())
}

// checkStreamFinished forgets s if both its parts are done and, for a
// peer's stream, lets the peer open another (MAX_STREAMS, RFC 9000 §4.6).
func (c *Conn) checkStreamFinished(s *Stream) {
	if s.done || !s.registered || !c.streamFinished(s) {
		return
	}
	s.done = true
	c.events.add(Event{Kind: EventStreamFinished, Stream: s})
	c.traceStreamParts(s, "closed", "")
	ss := &c.streams
	ss.sched.remove(s)
	delete(ss.m, s.id)
	if ss.last == s {
		ss.last = nil
	}
	if ss.isLocal(s.id) {
		return
	}
	kind := kindOf(s.id)
	ss.remoteDone[kind]++
	// Raise the limit once half of it has been used up, not per stream.
	if ss.remoteDone[kind]+ss.maxLimit[kind]-ss.localMax[kind] >= max(ss.maxLimit[kind]/2, 1) {
		ss.maxStreamsDue[kind] = true
	}
}

// StreamCount is how many streams the connection tracks.
func (c *Conn) StreamCount() int { return len(c.streams.m) }
