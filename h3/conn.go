package h3

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/qpack"
	"github.com/skiffnet/skiff/quic"
)

// QPACK settings we announce (RFC 9204 §5): a dynamic table of 4 KiB, and
// up to 16 streams whose field sections may wait for encoder stream data.
const (
	qpackMaxTableCapacity = 4096
	qpackBlockedStreams   = 16
)

// conn is what both roles share on one HTTP/3 connection: our control
// stream and SETTINGS, the peer's control stream, and the two QPACK
// streams in each direction that keep the dynamic tables in step (RFC 9114
// §6.2, RFC 9204 §4.2). Request streams are the client's and the server's
// business; they encode and decode their field sections here.
type conn struct {
	qc       *quic.Conn
	isClient bool
	// done is qc.Context().Done(), taken once: closed reads it for every
	// request, and Context takes a lock and the context's Err another.
	done <-chan struct{}
	// maxFieldSection is our SETTINGS_MAX_FIELD_SECTION_SIZE: the decoded
	// size (RFC 9114 §4.2.2) of the largest field section we accept.
	maxFieldSection uint64
	// onGoAway is called with the identifier of each GOAWAY the peer sends.
	onGoAway func(id uint64)
	// onPriorityUpdate, on a server, is called with each PRIORITY_UPDATE
	// for a request stream the client sends (RFC 9218 §7.2); the value is
	// valid only during the call, and an error closes the connection.
	onPriorityUpdate func(id uint64, value []byte) error
	// onSettings, when set, is called with the peer's SETTINGS as they
	// arrive; an error closes the connection (early.go). remembered are
	// the SETTINGS a 0-RTT client's session kept, which apply until the
	// peer's arrive (RFC 9114 §7.2.4.2).
	onSettings func(frame.Settings) error
	remembered *frame.Settings

	settingsReceived chan struct{} // closed when the peer's SETTINGS arrive

	ctrlMu sync.Mutex    // serializes writes on our control stream
	ctrlW  backlogWriter // our control stream (backlog.go)

	// mu guards the QPACK state and the writes on our QPACK streams, so
	// that encoder instructions go out in the order the encoder made them.
	mu        sync.Mutex
	enc       qpack.Encoder
	dec       qpack.Decoder
	encStream *quic.Stream // our encoder stream
	decStream *quic.Stream // our decoder stream
	peer      frame.Settings
	uni       frame.UniStreams
	waiters   map[uint64]chan qpack.DecodedSection // blocked field sections
	sectBuf   []byte
	insBuf    []byte
	decBuf    []byte
	decW      backlogWriter // decStream, written without blocking (backlog.go)

	// Counters for tests and diagnostics.
	encoderStreamBytes atomic.Uint64 // bytes written on our encoder stream
	headerBytes        atomic.Uint64 // bytes of HEADERS payloads we encoded
	headerSections     atomic.Uint64 // field sections we encoded
}

func newConn(qc *quic.Conn, isClient bool, maxFieldSection uint64) *conn {
	c := &conn{
		qc:               qc,
		isClient:         isClient,
		maxFieldSection:  maxFieldSection,
		settingsReceived: make(chan struct{}),
		waiters:          map[uint64]chan qpack.DecodedSection{},
		done:             qc.Context().Done(),
	}
	c.uni.IsClient = isClient
	c.dec.SetMaxTableCapacity(qpackMaxTableCapacity)
	c.dec.SetMaxBlockedStreams(qpackBlockedStreams)
	c.dec.SetMaxFieldSectionSize(maxFieldSection)
	return c
}

// start opens our control stream, with SETTINGS first (RFC 9114 §6.2.1),
// and our QPACK encoder and decoder streams (RFC 9204 §4.2), then serves
// the peer's unidirectional streams in the background.
func (c *conn) start(ctx context.Context) error {
	ctrl, err := c.qc.OpenUniStream(ctx)
	if err != nil {
		return err
	}
	settings := frame.Settings{
		QPACKMaxTableCapacity: qpackMaxTableCapacity,
		QPACKBlockedStreams:   qpackBlockedStreams,
		MaxFieldSectionSize:   c.maxFieldSection,
		// RFC 9114 §7.2.4.1: at least one reserved setting SHOULD be sent.
		Extra: []frame.Setting{frame.GreaseSetting()},
	}
	b := frame.AppendStreamType(nil, frame.StreamTypeControl)
	b = frame.AppendSettings(b, &settings)
	// RFC 9114 §7.2.8: reserved frame types exercise the peer's duty to
	// ignore unknown frames.
	b = frame.AppendGreaseFrame(b)
	if _, err := ctrl.Write(b); err != nil {
		return err
	}
	c.ctrlMu.Lock()
	c.ctrlW = backlogWriter{mu: &c.ctrlMu, s: ctrl, qc: c.qc, what: "the peer does not read our control stream"}
	c.ctrlMu.Unlock()

	encStream, err := c.qc.OpenUniStream(ctx)
	if err != nil {
		return err
	}
	decStream, err := c.qc.OpenUniStream(ctx)
	if err != nil {
		return err
	}
	if _, err := encStream.Write(frame.AppendStreamType(nil, frame.StreamTypeQPACKEncoder)); err != nil {
		return err
	}
	if _, err := decStream.Write(frame.AppendStreamType(nil, frame.StreamTypeQPACKDecoder)); err != nil {
		return err
	}
	// Our control and QPACK streams go before every request stream:
	// package quic's default urgency (3) would put them behind a response
	// or upload of urgency 0 to 2 (RFC 9218 §10), so that a field section
	// of that very response could wait for its encoder stream
	// instructions (RFC 9204 §2.1.2) until the stream ran out of flow
	// control credit, and a PRIORITY_UPDATE or GOAWAY until the transfer
	// ended. Incremental, they take turns with the most urgent requests.
	for _, s := range [...]*quic.Stream{ctrl, encStream, decStream} {
		s.SetPriority(0, true)
	}
	c.mu.Lock()
	c.encStream, c.decStream = encStream, decStream
	c.decW = backlogWriter{mu: &c.mu, s: decStream, qc: c.qc, what: "the peer does not read our QPACK decoder stream"}
	c.mu.Unlock()

	go c.acceptUniStreams()
	go c.sendGreaseStream()
	return nil
}

// sendGreaseStream opens a stream of a reserved type (RFC 9114 §6.2.3),
// which the peer must read and discard. It is best effort: it waits for
// stream credit in the background and gives up when the connection ends.
func (c *conn) sendGreaseStream() {
	s, err := c.qc.OpenUniStream(c.qc.Context())
	if err != nil {
		return
	}
	b := frame.AppendStreamType(nil, frame.GreaseStreamType())
	b = append(b, "skiff"...)
	s.Write(b)
	s.Close()
}

// closeWithError closes the connection because of err, with its HTTP/3 or
// QPACK code (RFC 9114 §8).
func (c *conn) closeWithError(err error) {
	c.qc.CloseWithError(errorCode(err), err.Error())
}

// closed reports whether the connection has ended.
func (c *conn) closed() bool { return ended(c.done) }

// ended reports whether done, a context's Done channel, is closed: the
// context's Err without the lock Err takes (nil: a context that never
// ends).
func ended(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// peerSettings returns the peer's SETTINGS and whether they have arrived.
func (c *conn) peerSettings() (frame.Settings, bool) {
	select {
	case <-c.settingsReceived:
	default:
		if c.remembered != nil {
			return *c.remembered, true
		}
		return frame.Settings{}, false
	}
	// c.peer was set before settingsReceived was closed, once (a second
	// SETTINGS frame is a connection error): no lock is needed to read it.
	return c.peer, true
}

// sendGoAway writes a GOAWAY frame on our control stream (RFC 9114 §5.2).
func (c *conn) sendGoAway(id uint64) error { return c.writeControl(frame.AppendGoAway(nil, id)) }

// writeControl writes frames b on our control stream, without waiting
// for the peer's flow control credit (a backlogWriter): a PRIORITY_UPDATE
// must not hang the application's call on a peer that does not read.
func (c *conn) writeControl(b []byte) error {
	c.ctrlMu.Lock()
	defer c.ctrlMu.Unlock()
	if c.ctrlW.s == nil {
		return errors.New("h3: control stream not open")
	}
	return c.ctrlW.writeLocked(b)
}

func (c *conn) acceptUniStreams() {
	for {
		s, err := c.qc.AcceptUniStream(c.qc.Context())
		if err != nil {
			return
		}
		go c.handleUniStream(s)
	}
}

// handleUniStream reads the type of a peer's unidirectional stream and
// serves it (RFC 9114 §6.2).
func (c *conn) handleUniStream(s *quic.Stream) {
	r := frame.NewReader(s)
	t, err := r.ReadStreamType()
	if err != nil {
		// §6.2: a stream that ends before its type is tolerated.
		s.CloseRead(uint64(frame.ErrCodeNoError))
		return
	}
	c.mu.Lock()
	known, err := c.uni.Accept(t)
	c.mu.Unlock()
	if err != nil {
		c.closeWithError(err)
		return
	}
	if !known {
		// §6.2: "Recipients of unknown stream types MUST either abort
		// reading of the stream or discard incoming data without further
		// processing. If reading is aborted, the recipient SHOULD use the
		// H3_STREAM_CREATION_ERROR error code".
		s.CloseRead(uint64(frame.ErrCodeStreamCreationError))
		return
	}
	switch t {
	case frame.StreamTypeControl:
		err = c.readControlStream(r)
	case frame.StreamTypeQPACKEncoder:
		err = c.readEncoderStream(r)
	case frame.StreamTypeQPACKDecoder:
		err = c.readDecoderStream(r)
	}
	if c.closed() {
		return
	}
	if !isConnectionError(err) {
		// RFC 9114 §6.2.1, RFC 9204 §4.2: closing or resetting a
		// critical stream is a connection error.
		err = frame.ErrClosedCriticalStream
	}
	c.closeWithError(err)
}

// readControlStream reads the peer's control stream until it fails; it
// always returns an error (the stream must not end).
func (c *conn) readControlStream(r *frame.Reader) error {
	cs := frame.ControlStream{IsClient: c.isClient}
	for {
		f, err := r.Next()
		if err != nil {
			return err
		}
		if err := cs.OnFrame(&f); err != nil {
			return err
		}
		switch f.Type {
		case frame.TypeSettings:
			if c.onSettings != nil {
				if err := c.onSettings(cs.Settings); err != nil {
					return err
				}
			}
			c.mu.Lock()
			c.peer = cs.Settings
			c.enc.SetPeerSettings(cs.Settings.QPACKMaxTableCapacity, cs.Settings.QPACKBlockedStreams)
			c.mu.Unlock()
			close(c.settingsReceived)
		case frame.TypeGoAway:
			if c.onGoAway != nil {
				c.onGoAway(f.ID)
			}
		case frame.TypePriorityUpdate:
			if c.onPriorityUpdate != nil {
				if err := c.onPriorityUpdate(f.ID, f.PriorityFieldValue); err != nil {
					return err
				}
			}
		}
	}
}

// readEncoderStream feeds the peer's encoder stream to our decoder, hands
// unblocked field sections to the streams waiting for them and sends the
// acknowledgments and Insert Count Increments (RFC 9204 §4.3, §4.4).
func (c *conn) readEncoderStream(r *frame.Reader) error {
	buf := make([]byte, 4096)
	var unblocked []qpack.DecodedSection
	for {
		n, err := r.ReadRaw(buf)
		if n > 0 {
			c.mu.Lock()
			if werr := c.dec.WriteEncoderStream(buf[:n]); werr != nil {
				c.mu.Unlock()
				return werr
			}
			unblocked = c.dec.AppendUnblocked(unblocked[:0])
			for _, ds := range unblocked {
				if ch, ok := c.waiters[ds.StreamID]; ok {
					delete(c.waiters, ds.StreamID)
					ch <- ds
				}
			}
			c.flushDecoderStreamLocked()
			c.mu.Unlock()
			clear(unblocked)
		}
		if err != nil {
			if err == io.EOF {
				return io.EOF
			}
			return err
		}
	}
}

// readDecoderStream feeds the peer's decoder stream to our encoder.
func (c *conn) readDecoderStream(r *frame.Reader) error {
	buf := make([]byte, 1024)
	for {
		n, err := r.ReadRaw(buf)
		if n > 0 {
			c.mu.Lock()
			werr := c.enc.WriteDecoderStream(buf[:n])
			c.mu.Unlock()
			if werr != nil {
				return werr
			}
		}
		if err != nil {
			return err
		}
	}
}

// flushDecoderStreamLocked sends the pending decoder stream instructions.
func (c *conn) flushDecoderStreamLocked() {
	c.decBuf = c.dec.AppendDecoderStream(c.decBuf[:0])
	if len(c.decBuf) > 0 && c.decStream != nil {
		c.decW.writeLocked(c.decBuf) // never blocks (backlog.go)
	}
}

// appendHeadersFrame encodes fields as the field section of stream id and
// appends it to b as a HEADERS frame. The encoder stream instructions the
// section needs are written first (RFC 9204 §2.1.2: the peer holds the
// section until they arrive).
func (c *conn) appendHeadersFrame(b []byte, id uint64, fields []qpack.HeaderField) []byte {
	c.mu.Lock()
	c.sectBuf = c.enc.EncodeFieldSection(c.sectBuf[:0], id, fields)
	c.insBuf = c.enc.AppendEncoderStream(c.insBuf[:0])
	if len(c.insBuf) > 0 && c.encStream != nil {
		c.encStream.Write(c.insBuf)
		c.encoderStreamBytes.Add(uint64(len(c.insBuf)))
	}
	b = frame.AppendHeaders(b, c.sectBuf)
	c.headerBytes.Add(uint64(len(c.sectBuf)))
	c.headerSections.Add(1)
	c.mu.Unlock()
	return b
}

// decodeFieldSection decodes the field section of a HEADERS frame on
// stream id, appending its fields to appendTo. A section blocked on the
// encoder stream (RFC 9204 §2.1.2) is held by the decoder: the channel
// returned then receives it once its entries arrive, and cancelStream
// abandons it. A QPACK error is a
// connection error and closes the connection; qpack.ErrFieldSectionTooLarge
// leaves it intact.
func (c *conn) decodeFieldSection(id uint64, section []byte, appendTo []qpack.HeaderField) ([]qpack.HeaderField, <-chan qpack.DecodedSection, error) {
	c.mu.Lock()
	fields, blocked, err := c.dec.DecodeFieldSection(id, section, appendTo)
	if !blocked {
		c.flushDecoderStreamLocked()
		c.mu.Unlock()
		if err != nil && err != qpack.ErrFieldSectionTooLarge {
			c.closeWithError(err)
		}
		return fields, nil, err
	}
	ch := make(chan qpack.DecodedSection, 1)
	c.waiters[id] = ch
	c.mu.Unlock()
	return nil, ch, nil
}

// blockedStreams is the number of field sections held by our decoder.
func (c *conn) blockedStreams() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dec.BlockedStreams()
}

// cancelStream tells the peer's encoder that we will decode no more field
// sections of stream id (RFC 9204 §4.4.2), and forgets a blocked one.
func (c *conn) cancelStream(id uint64) {
	c.mu.Lock()
	delete(c.waiters, id)
	c.dec.CancelStream(id)
	c.flushDecoderStreamLocked()
	c.mu.Unlock()
}
