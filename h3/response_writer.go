package h3

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/h3/internal/headers"
	"github.com/skiffnet/skiff/qpack"
	"github.com/skiffnet/skiff/quic"
)

// bodyBufferSize is how much response content is gathered into one DATA
// frame before it is written to the stream. A handler that returns having
// written less than this, without Flush, gets a Content-Length header.
const bodyBufferSize = 16 << 10

// responseWriter is the http.ResponseWriter (and http.Flusher) of a
// request: HEADERS for each 1xx and the final response, DATA frames for
// the content, a trailing HEADERS for trailers (RFC 9114 §4.1).
type responseWriter struct {
	sc  *serverConn
	str *quic.Stream
	req *http.Request
	ctx *requestContext // the request's, ended when the stream fails

	header      http.Header
	sent        http.Header // the final header as committed by WriteHeader
	status      int32       // the final status, once wroteHeader
	wroteHeader bool        // the final status is committed
	headersSent bool        // its HEADERS frame is on the stream
	bodyAllowed bool
	declared    int64 // Content-Length set by the handler, or -1
	written     int64
	// buf is frame headroom (head bytes, made by the first Write that
	// buffers), then the content not yet framed: the frames' headers go
	// in front of the content, which is then written as it lies.
	buf      []byte
	head     int
	frameBuf []byte
	fields   []qpack.HeaderField
	err      error // the stream failed: the client is gone
	bufs     *writerBufs
	// vals holds the values of the Content-Type and Content-Length
	// fields the writer adds itself, so that adding them allocates no
	// slice.
	vals [2]string
}

// init readies w, part of the request's serverRequest (new, so w is
// zero: its fields are set one by one rather than by copying a whole
// responseWriter over it), to answer req on str.
func (w *responseWriter) init(sc *serverConn, str *quic.Stream, req *http.Request, ctx *requestContext) {
	w.sc, w.str, w.req, w.ctx = sc, str, req, ctx
	w.header, w.declared = headerMapPool.Get().(http.Header), -1
	w.bufs = writerBufPool.Get().(*writerBufs)
	w.buf, w.frameBuf, w.fields = w.bufs.buf[:0], w.bufs.frame[:0], w.bufs.fields[:0]
}

// frameHeadroom is the room in front of the buffered content for the
// HEADERS frame and DATA frame header that go with it: a usual response's
// field section (its status, Content-Type and Content-Length) takes a few
// tens of bytes. A larger one goes in frameBuf with a copy of the content.
const frameHeadroom = 256

// writerBufs is the scratch memory of a responseWriter, reused from one
// request to the next.
type writerBufs struct {
	buf, frame []byte
	fields     []qpack.HeaderField
}

var writerBufPool = sync.Pool{New: func() any { return new(writerBufs) }}

// release returns the writer's buffers and header map once the response
// is complete; a handler that writes after returning gets fresh ones.
func (w *responseWriter) release() {
	clear(w.fields[:cap(w.fields)])
	*w.bufs = writerBufs{buf: w.buf[:0], frame: w.frameBuf[:0], fields: w.fields[:0]}
	writerBufPool.Put(w.bufs)
	w.buf, w.head, w.frameBuf, w.fields, w.bufs = nil, 0, nil, nil, nil
	putHeaderMap(w.header)
	w.header, w.sent = nil, nil
}

// Header is the response header. After the handler returned, when the
// map has gone back to headerMapPool, it is a map of its own that goes
// nowhere.
func (w *responseWriter) Header() http.Header {
	if w.header == nil {
		return http.Header{}
	}
	return w.header
}

// WriteHeader sends an interim (1xx) response at once, with the current
// header fields, or commits the final status.
func (w *responseWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code < 100 || code > 599 {
		panic("h3: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code < 200 {
		if code == http.StatusSwitchingProtocols {
			return // RFC 9114 §4.5: HTTP/3 does not use 101
		}
		// §4.1: interim responses precede the final one on the stream.
		w.writeHeaderSection(code, w.header, false)
		return
	}
	w.wroteHeader = true
	w.status = int32(code)
	if v, ok := w.header["Priority"]; ok {
		w.sc.responsePriority(w.str.ID(), v) // RFC 9218 §8
	}
	w.bodyAllowed = bodyAllowed(w.req.Method, code)
	if cl := firstValue(w.header, "Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			w.declared = n
		} else {
			delete(w.header, "Content-Length")
		}
	}
	if _, ok := w.header["Trailer"]; ok {
		// Keep what is sent apart from the trailer values the handler
		// sets into Header() later.
		w.sent = w.header.Clone()
	} else {
		w.sent = w.header
	}
}

// firstValue is h.Get(key) for a key in canonical form, without Get's
// canonicalization of it.
func firstValue(h http.Header, key string) string {
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func bodyAllowed(method string, status int) bool {
	return method != http.MethodHead && status != http.StatusNoContent && status != http.StatusNotModified
}

// Write writes response content, framing it in DATA frames of up to
// bodyBufferSize bytes.
func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		if _, ok := w.header["Content-Type"]; !ok && firstValue(w.header, "Transfer-Encoding") == "" && len(p) > 0 {
			w.vals[0] = w.sc.srv.sniff.detect(p) // http.DetectContentType(p)
			w.header["Content-Type"] = w.vals[0:1:1]
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if !w.bodyAllowed {
		if w.req.Method == http.MethodHead {
			w.written += int64(len(p))
			return len(p), nil
		}
		return 0, http.ErrBodyNotAllowed
	}
	if w.declared >= 0 && w.written+int64(len(p)) > w.declared {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if w.buffered()+len(p) <= bodyBufferSize {
		w.bufferContent(p)
		return len(p), nil
	}
	if err := w.flushContent(); err != nil {
		return 0, err
	}
	if len(p) < bodyBufferSize {
		w.bufferContent(p)
		return len(p), nil
	}
	if err := w.writeData(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// bufferContent adds p to the content not yet framed.
func (w *responseWriter) bufferContent(p []byte) {
	if w.head == 0 {
		// The first content: the room for frame headers goes in front,
		// in the same allocation when the buffer grows.
		w.buf, w.head = slices.Grow(w.buf[:0], frameHeadroom+len(p))[:frameHeadroom], frameHeadroom
	}
	w.buf = append(w.buf, p...)
}

// buffered is the length of the content not yet framed.
func (w *responseWriter) buffered() int { return len(w.buf) - w.head }

// Flush sends the header and the content buffered so far (http.Flusher).
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.flushContent()
}

// flushContent sends the final HEADERS if not yet sent, then the buffered
// content as one DATA frame.
func (w *responseWriter) flushContent() error {
	if w.err != nil {
		return w.err
	}
	if !w.headersSent {
		w.headersSent = true
		err := w.writeHeaderSection(int(w.status), w.sent, true)
		w.buf = w.buf[:w.head]
		return err
	}
	if w.buffered() == 0 {
		return nil
	}
	var err error
	if _, werr := w.str.Write(w.framed(frame.AppendFrameHeader(w.frameBuf[:0], frame.TypeData, uint64(w.buffered())))); werr != nil {
		err = w.streamFailed(werr)
	}
	w.buf = w.buf[:w.head]
	return err
}

// framed returns hdr, frame headers built in w.frameBuf, followed by the
// buffered content: in place, hdr copied into the headroom in front of
// the content, when it fits there (a DATA frame header always does), or
// else the content copied behind hdr. w.frameBuf keeps what hdr grew.
func (w *responseWriter) framed(hdr []byte) []byte {
	if len(hdr) <= w.head {
		w.frameBuf = hdr[:0]
		return w.buf[w.head-copy(w.buf[w.head-len(hdr):], hdr):]
	}
	b := append(hdr, w.buf[w.head:]...)
	w.frameBuf = b[:0]
	return b
}

// writeData writes one DATA frame holding p.
func (w *responseWriter) writeData(p []byte) error {
	w.frameBuf = frame.AppendFrameHeader(w.frameBuf[:0], frame.TypeData, uint64(len(p)))
	if _, err := w.str.Write(w.frameBuf); err != nil {
		return w.streamFailed(err)
	}
	if _, err := w.str.Write(p); err != nil {
		return w.streamFailed(err)
	}
	return nil
}

// streamFailed records a write error: the client stopped the stream
// (STOP_SENDING) or the connection ended. The request is over.
func (w *responseWriter) streamFailed(err error) error {
	if w.err == nil {
		w.err = wrapError(err)
		w.ctx.end(w.err)
	}
	return w.err
}

// writeHeaderSection writes a HEADERS frame with status and h, and then,
// with content, the buffered content as a DATA frame in the same stream
// write, the frames' headers put in front of the content in buf: one
// write rather than two, the stream's buffer sized for both at once, and
// the content not copied to be framed.
func (w *responseWriter) writeHeaderSection(status int, h http.Header, content bool) error {
	if w.err != nil {
		return w.err
	}
	var err error
	w.fields, err = headers.AppendResponse(w.fields[:0], status, h)
	if err != nil {
		// A handler that set an invalid field: the response cannot be
		// sent as is.
		w.sc.srv.logf("h3: invalid response header: %v", err)
		w.fields = w.fields[:1] // :status only
	}
	if size, limit, over := w.overPeerLimit(); over {
		// RFC 9114 §4.2.2: the client announced it would not accept a
		// section this large. An interim response is dropped; a final
		// one becomes a bare 500, and the handler's writes fail.
		if status < 200 {
			w.sc.srv.logf("h3: %d response header section of %d bytes exceeds the client's SETTINGS_MAX_FIELD_SECTION_SIZE of %d: not sent", status, size, limit)
			return nil
		}
		w.sc.srv.logf("h3: response header section of %d bytes exceeds the client's SETTINGS_MAX_FIELD_SECTION_SIZE of %d: sending 500 instead", size, limit)
		w.fields = append(w.fields[:0], qpack.HeaderField{Name: ":status", Value: "500"}, qpack.HeaderField{Name: "content-length", Value: "0"})
		w.bodyAllowed = false
		w.frameBuf = w.sc.c.appendHeadersFrame(w.frameBuf[:0], w.str.ID(), w.fields)
		w.str.Write(w.frameBuf)
		w.str.Close()
		w.err = ErrHeaderTooLarge
		return w.err
	}
	w.frameBuf = w.sc.c.appendHeadersFrame(w.frameBuf[:0], w.str.ID(), w.fields)
	b := w.frameBuf
	if content && w.buffered() > 0 {
		b = w.framed(frame.AppendFrameHeader(b, frame.TypeData, uint64(w.buffered())))
	}
	if _, err := w.str.Write(b); err != nil {
		return w.streamFailed(err)
	}
	return nil
}

// overPeerLimit reports whether the field section in w.fields is larger
// than the client's SETTINGS_MAX_FIELD_SECTION_SIZE, when it sent one.
func (w *responseWriter) overPeerLimit() (size, limit uint64, over bool) {
	s, ok := w.sc.c.peerSettings()
	if !ok || s.MaxFieldSectionSize == 0 {
		return 0, 0, false
	}
	size = headers.FieldSectionSize(w.fields)
	return size, s.MaxFieldSectionSize, size > s.MaxFieldSectionSize
}

// finish completes the response after the handler returned: the header
// (with a Content-Length when the whole content is known), the rest of the
// content, the trailers, and the end of the stream.
func (w *responseWriter) finish() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	trailer := w.trailers()
	if !w.headersSent && w.declared < 0 && len(trailer) == 0 && w.bodyAllowed {
		w.vals[1] = w.sc.length.Format(int64(w.buffered()))
		w.sent["Content-Length"] = w.vals[1:2:2]
	}
	if err := w.flushContent(); err != nil {
		return
	}
	if w.declared >= 0 && w.written < w.declared && w.bodyAllowed {
		// The handler wrote less than the Content-Length it declared: the
		// client would find the message malformed (§4.1.2).
		w.str.Reset(uint64(ErrCodeInternalError))
		return
	}
	if len(trailer) > 0 {
		var err error
		w.fields, err = headers.AppendTrailers(w.fields[:0], trailer)
		if size, limit, over := w.overPeerLimit(); err == nil && over {
			// The content went out already: the response cannot be
			// completed as the handler wrote it (RFC 9114 §4.2.2).
			w.sc.srv.logf("h3: response trailer section of %d bytes exceeds the client's SETTINGS_MAX_FIELD_SECTION_SIZE of %d: resetting the stream", size, limit)
			w.str.Reset(uint64(ErrCodeInternalError))
			return
		}
		if err == nil {
			w.frameBuf = w.sc.c.appendHeadersFrame(w.frameBuf[:0], w.str.ID(), w.fields)
			if _, err := w.str.Write(w.frameBuf); err != nil {
				w.streamFailed(err)
				return
			}
		}
	}
	w.str.Close()
}

// trailers collects the trailer fields: those announced in the Trailer
// header before the header was sent, and those set with
// http.TrailerPrefix.
func (w *responseWriter) trailers() http.Header {
	var t http.Header
	for _, v := range w.sent["Trailer"] {
		for k := range strings.SplitSeq(v, ",") {
			k = http.CanonicalHeaderKey(strings.TrimSpace(k))
			if vs, ok := w.header[k]; ok && k != "" {
				if t == nil {
					t = http.Header{}
				}
				t[k] = vs
			}
		}
	}
	for k, vs := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			if t == nil {
				t = http.Header{}
			}
			t[strings.TrimPrefix(k, http.TrailerPrefix)] = vs
		}
	}
	return t
}
