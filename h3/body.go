package h3

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/h3/internal/headers"
	"github.com/skiffnet/skiff/internal/quichooks"
	"github.com/skiffnet/skiff/qpack"
	"github.com/skiffnet/skiff/quic"
)

// messageReader reads one HTTP message from a request stream (RFC 9114
// §4.1): header sections, then the content of DATA frames, then an
// optional trailer section. Unknown frame types are skipped by the frame
// reader (§9). Errors in the peer's framing are classified: a malformed
// message (H3_MESSAGE_ERROR) is a stream error, every other HTTP/3 or
// QPACK error a connection error, which closes the connection at once.
type messageReader struct {
	c       *conn
	str     *quic.Stream
	r       frame.Reader
	length  headers.ContentLength
	trailer http.Header // the trailer section, once read
	err     error       // sticky error of Read
	// hdr is Server.ReadHeaderTimeout's timer while a server reads a
	// request's header section; nil otherwise.
	hdr *headerTimer
	// fields holds the fields of the section last decoded, until
	// releaseFields; its storage comes from fieldBufPool.
	fields *fieldBuf
	// The small fields last, together (no padding between them): a
	// clientStream, which holds a messageReader, fits in 768 bytes.
	sections int32 // field sections decoded, up to 2 (for QPACK Stream Cancellation)
	// canceled is set once the stream's QPACK state is abandoned: one
	// Stream Cancellation per stream.
	canceled atomic.Bool
	state    frame.MessageState
	inData   bool
	eof      bool
}

// fieldBuf is storage for the fields of one decoded field section, reused
// from one section to the next: the parsed header keeps the fields'
// strings, not the slice.
type fieldBuf struct{ f []qpack.HeaderField }

var fieldBufPool = sync.Pool{New: func() any { return &fieldBuf{f: make([]qpack.HeaderField, 0, 16)} }}

// releaseFields gives back the storage of the fields decode returned, once
// they are parsed: they must not be used after.
func (m *messageReader) releaseFields() {
	fb := m.fields
	if fb == nil {
		return
	}
	m.fields = nil
	if cap(fb.f) > maxPooledFields {
		return // a peer's huge section is not kept for the next
	}
	clear(fb.f[:cap(fb.f)]) // drop references to the strings
	fb.f = fb.f[:0]
	fieldBufPool.Put(fb)
}

// maxPooledFields bounds the storage fieldBufPool keeps.
const maxPooledFields = 64

// init readies m, which is part of the request's state (a clientStream
// or a serverRequest, so that one allocation serves them all), to read
// str.
func (m *messageReader) init(c *conn, str *quic.Stream) {
	// m is zero, in a new allocation: its fields are set one by one, where
	// assigning a whole messageReader (a struct of 450 bytes, with the
	// frame reader's read-ahead) would build it and copy it over memory
	// that is zero already.
	m.c, m.str, m.length = c, str, headers.NewContentLength(-1)
	m.r.Init(str)
	// The frame reader bounds the HEADERS payload before reading it. The
	// encoded size of a section can exceed its decoded size only by a few
	// bytes (QPACK uses Huffman only when it is shorter), so twice the
	// limit plus 1 KiB lets the decoder's exact check answer sections a
	// little over the limit (431, or an error to the client), while a
	// grossly oversized frame is refused unread with H3_EXCESSIVE_LOAD.
	m.r.MaxFieldSectionPayload = 2*c.maxFieldSection + 1024
}

// check applies the frame placement rules of RFC 9114 Table 1 and §4.1 to
// a frame of type t.
func (m *messageReader) check(t frame.Type) error {
	if err := frame.CheckAllowed(frame.StreamRequest, t, m.c.isClient); err != nil {
		return err
	}
	return m.state.OnFrame(t)
}

// readHeaders reads the next header section. It returns io.EOF if the
// stream ends cleanly before any frame.
func (m *messageReader) readHeaders(ctx context.Context) ([]qpack.HeaderField, error) {
	var f frame.Frame
	for {
		if err := m.r.NextInto(&f); err != nil {
			return nil, err
		}
		if err := m.check(f.Type); err != nil {
			return nil, err
		}
		if f.Type != frame.TypeHeaders {
			continue // unreachable: DATA before HEADERS fails the check
		}
		return m.decode(ctx, f.FieldSection)
	}
}

// decode decodes a field section of the stream, waiting while it is
// blocked on the encoder stream.
func (m *messageReader) decode(ctx context.Context, section []byte) ([]qpack.HeaderField, error) {
	if m.sections < 2 { // all that is asked of it (cancelStream's callers)
		m.sections++
	}
	m.releaseFields()
	fb := fieldBufPool.Get().(*fieldBuf)
	m.fields = fb
	fields, blocked, err := m.c.decodeFieldSection(m.str.ID(), section, fb.f[:0])
	if fields != nil {
		fb.f = fields[:0]
	}
	// The fields are copies or table entries: a large HEADERS payload
	// need not stay with the stream for the rest of the message.
	m.r.ReleasePayload()
	if blocked == nil {
		return fields, err
	}
	return m.awaitSection(ctx, blocked)
}

// awaitSection waits for a field section blocked on the encoder stream
// (RFC 9204 §2.1.2). Meanwhile it reads ahead on the stream (what arrives
// stays buffered for the frames that follow), so that a reset of the stream
// is seen at once: the section is then abandoned with a Stream
// Cancellation (RFC 9204 §4.4.2) and the decoder's slot freed, rather than
// held until the connection ends. The read-ahead stops when the stream
// ends or the buffer fills; the stream's context still tells of a
// STOP_SENDING. The wait also ends with ctx, the connection, or the
// header timer's deadline (os.ErrDeadlineExceeded), which starts now if it
// had not.
func (m *messageReader) awaitSection(ctx context.Context, blocked <-chan qpack.DecodedSection) ([]qpack.HeaderField, error) {
	m.hdr.start() // before the read-ahead reads through it
	deadline := m.hdr.deadline()
	watch := make(chan error, 1)
	go func() {
		for {
			if err := m.r.Await(); err != nil {
				watch <- err
				return
			}
		}
	}()
	watching := watch
	// stopWatching interrupts the read-ahead and waits for it to stop:
	// the Reader is then this goroutine's again.
	stopWatching := func() {
		if watching != nil {
			m.str.SetReadDeadline(timeLongAgo)
			<-watching
			watching = nil
			m.str.SetReadDeadline(deadline)
		}
	}
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	sctx := m.str.Context()
	streamDone := sctx.Done()
	abandon := func(err error) ([]qpack.HeaderField, error) {
		stopWatching()
		m.cancelStream()
		return nil, err
	}
	for {
		select {
		case ds := <-blocked:
			stopWatching()
			return ds.Fields, ds.Err
		case err := <-watching:
			watching = nil
			switch {
			case err == io.EOF || err == frame.ErrBufferFull:
				// Nothing more to learn by reading: wait on.
			case errors.Is(err, os.ErrDeadlineExceeded):
				return abandon(os.ErrDeadlineExceeded)
			default:
				// Reset, stopped, or the connection ended.
				return abandon(err)
			}
		case <-streamDone:
			// Only the peer's reset or STOP_SENDING, or the connection's
			// end, ends the wait: a client has closed its own side long
			// before the response's section arrives.
			cause := context.Cause(sctx)
			if _, remote := streamErrorCode(cause); remote || m.c.closed() {
				return abandon(cause)
			}
			streamDone = nil
		case <-timeout:
			return abandon(os.ErrDeadlineExceeded)
		case <-ctx.Done():
			return abandon(ctx.Err())
		case <-m.c.qc.Context().Done():
			return abandon(context.Cause(m.c.qc.Context()))
		}
	}
}

// headerTimer is Server.ReadHeaderTimeout on a request stream: the whole
// header section, QPACK wait included, must arrive within the timeout,
// however it trickles in. It is the source of the stream's frame reader,
// and reads what the stream holds without a deadline; the deadline starts
// only when a read would wait (or a section waits for the encoder
// stream), so that a request whose header section has arrived, as on a
// busy connection, costs no clock reading and no deadline set and
// cleared. Its methods are no-ops on a nil timer.
type headerTimer struct {
	str     *quic.Stream
	timeout time.Duration // 0 once stopped: Read passes through
	at      time.Time     // the deadline, once started
}

// Read reads from the stream, starting the deadline before it waits.
func (h *headerTimer) Read(p []byte) (int, error) {
	if h.timeout > 0 && h.at.IsZero() {
		if n, err := quichooks.ReadNoWait(h.str, p); n > 0 || err != nil {
			return n, err
		}
		h.start()
	}
	return h.str.Read(p)
}

// start sets the stream's read deadline, unless it is set or h stopped.
func (h *headerTimer) start() {
	if h == nil || h.timeout == 0 || !h.at.IsZero() {
		return
	}
	h.at = time.Now().Add(h.timeout)
	h.str.SetReadDeadline(h.at)
}

// deadline is the deadline started, zero if none.
func (h *headerTimer) deadline() time.Time {
	if h == nil {
		return time.Time{}
	}
	return h.at
}

// stop ends the timer once the header section is read: it clears the
// stream's deadline, if it started, and Read passes through from then on.
func (h *headerTimer) stop() {
	if !h.at.IsZero() {
		h.str.SetReadDeadline(time.Time{})
		h.at = time.Time{}
	}
	h.timeout = 0
}

// timeLongAgo is a read deadline in the past: it interrupts a Read.
var timeLongAgo = time.Unix(1, 0)

// Read reads message content. At the end it reads the trailer section, if
// any, checks the content against Content-Length (RFC 9114 §4.1.2) and
// returns io.EOF.
func (m *messageReader) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	if m.eof {
		return 0, io.EOF
	}
	for {
		if m.inData {
			n, err := m.r.Read(p)
			if n > 0 {
				if lerr := m.length.Add(uint64(n)); lerr != nil {
					return 0, m.fail(lerr)
				}
				return n, nil
			}
			if err == io.EOF {
				m.inData = false
				continue
			}
			if err != nil {
				return 0, m.fail(err)
			}
			if len(p) == 0 {
				return 0, nil
			}
			continue
		}
		var f frame.Frame
		err := m.r.NextInto(&f)
		if err == io.EOF {
			if lerr := m.length.End(); lerr != nil {
				return 0, m.fail(lerr)
			}
			m.eof = true
			return 0, io.EOF
		}
		if err != nil {
			return 0, m.fail(err)
		}
		if err := m.check(f.Type); err != nil {
			return 0, m.fail(err)
		}
		switch f.Type {
		case frame.TypeData:
			m.inData = true
		case frame.TypeHeaders:
			fields, err := m.decode(context.Background(), f.FieldSection)
			if err != nil {
				return 0, m.fail(err)
			}
			t, err := headers.ParseTrailers(fields)
			m.releaseFields()
			if err != nil {
				return 0, m.fail(err)
			}
			m.trailer = t
		}
	}
}

// fail records err as Read's sticky error and applies it: a connection
// error closes the connection, a malformed message resets the stream with
// H3_MESSAGE_ERROR (RFC 9114 §4.1.2).
func (m *messageReader) fail(err error) error {
	switch {
	case isStreamError(err):
		m.abort(frame.ErrCodeMessageError)
	case isConnectionError(err):
		m.c.closeWithError(err)
	}
	m.err = err
	return err
}

// abort ends both directions of the stream with code: RESET_STREAM and
// STOP_SENDING, and a QPACK Stream Cancellation (RFC 9204 §4.4.2).
func (m *messageReader) abort(code frame.ErrCode) {
	m.str.Reset(uint64(code))
	m.str.CloseRead(uint64(code))
	m.cancelStream()
}

// cancelStream abandons the stream's field sections, once: a section held
// blocked is dropped and the peer's encoder told (RFC 9204 §4.4.2).
func (m *messageReader) cancelStream() {
	if !m.canceled.Swap(true) {
		m.c.cancelStream(m.str.ID())
	}
}

// declaredTrailer returns the trailer map announced by the Trailer header
// field, with nil values to be filled at the end of the content, as
// net/http does; nil when none is announced.
func declaredTrailer(h http.Header) http.Header {
	vs := h["Trailer"]
	if len(vs) == 0 {
		return nil
	}
	t := http.Header{}
	for _, v := range vs {
		for k := range strings.SplitSeq(v, ",") {
			if k = textproto.TrimString(k); k != "" {
				t[textproto.CanonicalMIMEHeaderKey(k)] = nil
			}
		}
	}
	return t
}

// fillTrailer copies received trailer fields into dst (which may hold
// declared keys), creating it if needed.
func fillTrailer(dst *http.Header, received http.Header) {
	if len(received) == 0 {
		return
	}
	if *dst == nil {
		*dst = http.Header{}
	}
	for k, v := range received {
		(*dst)[k] = v
	}
}
