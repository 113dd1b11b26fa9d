package h3

import (
	"context"
	"io"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/h3/internal/headers"
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
	c        *conn
	str      *quic.Stream
	r        frame.Reader
	state    frame.MessageState
	length   headers.ContentLength
	inData   bool
	trailer  http.Header // the trailer section, once read
	err      error       // sticky error of Read
	eof      bool
	sections int // field sections decoded (for QPACK Stream Cancellation)
}

func newMessageReader(c *conn, str *quic.Stream) *messageReader {
	m := &messageReader{c: c, str: str, length: headers.NewContentLength(-1)}
	m.r.Reset(str)
	// The frame reader bounds the HEADERS payload before reading it. The
	// encoded size of a section can exceed its decoded size only by a few
	// bytes (QPACK uses Huffman only when it is shorter), so twice the
	// limit plus 1 KiB lets the decoder's exact check answer sections a
	// little over the limit (431, or an error to the client), while a
	// grossly oversized frame is refused unread with H3_EXCESSIVE_LOAD.
	m.r.MaxFieldSectionPayload = 2*c.maxFieldSection + 1024
	return m
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
	for {
		f, err := m.r.Next()
		if err != nil {
			return nil, err
		}
		if err := m.check(f.Type); err != nil {
			return nil, err
		}
		if f.Type != frame.TypeHeaders {
			continue // unreachable: DATA before HEADERS fails the check
		}
		fields, err := m.c.decodeFieldSection(ctx, m.str.ID(), f.FieldSection)
		m.sections++
		return fields, err
	}
}

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
		f, err := m.r.Next()
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
			fields, err := m.c.decodeFieldSection(context.Background(), m.str.ID(), f.FieldSection)
			m.sections++
			if err != nil {
				return 0, m.fail(err)
			}
			t, err := headers.ParseTrailers(fields)
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
	m.c.cancelStream(m.str.ID())
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
