package h3

import (
	"errors"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/h3/internal/headers"
	"github.com/skiffnet/skiff/qpack"
	"github.com/skiffnet/skiff/quic"
)

// handleRequestStream serves one request stream (RFC 9114 §4.1): it reads
// and validates the header section, runs the handler with a streamed
// body, and ends the stream.
func (sc *serverConn) handleRequestStream(str *quic.Stream) {
	c := sc.c
	defer sc.closeRequestStream(str.ID())
	sr := new(serverRequest)
	mr := &sr.mr
	mr.init(c, str)
	// The request's context is not derived from the connection's: the
	// connection's end reaches it through the stream watcher below
	// (quichooks.WatchStream), as the client's reset does, and while the
	// header section is read, awaitSection watches the connection itself.
	// A child of the connection's context cost every request an entry in
	// its list of children, added and removed under its lock. It is made
	// only if used (requestContext).
	ctx := &sr.ctx
	ctx.sr = sr
	defer ctx.end(nil)
	if d := sc.srv.readHeaderTimeout(); d > 0 {
		// Server.ReadHeaderTimeout (headerTimer): the frame reader reads
		// through the timer, which starts the deadline when it must.
		sr.hdr = headerTimer{str: str, timeout: d}
		mr.hdr = &sr.hdr
		mr.r.Init(&sr.hdr)
	}
	fields, err := mr.readHeaders(ctx)
	if err != nil {
		sc.requestHeaderError(mr, err)
		return
	}
	if mr.hdr != nil {
		mr.hdr.stop()
		mr.hdr = nil
	}
	var hr headers.Request
	sr.store.Header = headerMapPool.Get().(http.Header)
	err = headers.ParseRequestTo(&hr, fields, false, &sr.store)
	mr.releaseFields()
	if err != nil {
		putHeaderMap(sr.store.Header)
		// §4.1.2: a malformed request is a stream error H3_MESSAGE_ERROR.
		mr.fail(err)
		return
	}
	mr.length = headers.NewContentLength(hr.ContentLength)
	if v, ok := sr.store.Header["Priority"]; ok {
		sc.requestPriority(str.ID(), v) // RFC 9218 §5
	}
	// The client's RESET_STREAM or STOP_SENDING ends the request's
	// context at once, even for a handler that neither reads nor writes,
	// as does the end of the stream or of the connection (what ends
	// str.Context(), told to sr.StreamEnded without the cost of a context
	// per stream): the stream is watched from when the context is made
	// (requestContext.context).

	body := &sr.body
	*body = requestBody{sr: sr}
	req := hr.HTTPRequest(ctx, body)
	req.RemoteAddr = sc.remoteAddr()
	req.TLS = sc.tls
	markEarly(req, str) // early.go
	req.Trailer = declaredTrailer(req.Header)
	if hr.ContentLength == 0 {
		req.Body = http.NoBody
	}

	rw := &sr.rw
	rw.init(sc, str, req, ctx)
	handler := sc.srv.Handler
	if handler == nil {
		handler = http.DefaultServeMux
	}
	if !sc.runHandler(handler, rw, req, mr) {
		return
	}
	rw.finish()
	rw.release()
	// The request's header map is not reused: net/http lets a handler's
	// goroutines keep the request (and read r.Header) after ServeHTTP
	// returned; only the ResponseWriter must not be used then.
	if !body.eof() {
		// What has already arrived of the request is still checked, so
		// that a frame that is a connection error (RFC 9114 §7.2) is
		// answered as one even when the handler did not read the body;
		// then, §4.1.2: once the response is complete, the server may abort
		// reading the rest of the request with H3_NO_ERROR.
		str.SetReadDeadline(time.Now())
		io.CopyN(io.Discard, mr, maxDrain)
		str.CloseRead(uint64(ErrCodeNoError))
		if mr.sections < 2 {
			mr.cancelStream()
		}
	}
}

// serverRequest is the state of one request on the server, in one
// allocation of the 1024-byte size class (TestServerRequestSize): the
// request stream's reader, the request body, the response writer and the
// request's context.
type serverRequest struct {
	mr    messageReader
	body  requestBody
	rw    responseWriter
	ctx   requestContext  // the request's context
	store headers.Storage // the request header's values and URL
	hdr   headerTimer     // Server.ReadHeaderTimeout's, when set
}

// StreamEnded ends the request's context when its stream is over for the
// client (quichooks.StreamWatcher): after the handler returned, the
// context has ended already and this does nothing.
func (sr *serverRequest) StreamEnded(cause error) { sr.ctx.end(wrapError(cause)) }

// headerMapPool holds emptied header maps for the server's response
// headers, and serves request headers too (those go back only when no
// handler saw them): a new map costs two allocations, its header and its
// first group of slots.
var headerMapPool = sync.Pool{New: func() any { return make(http.Header) }}

// maxPooledHeaderKeys bounds the maps headerMapPool keeps: a cleared map
// keeps its size.
const maxPooledHeaderKeys = 32

// putHeaderMap empties h and gives it to headerMapPool.
func putHeaderMap(h http.Header) {
	if h == nil || len(h) > maxPooledHeaderKeys {
		return
	}
	clear(h)
	headerMapPool.Put(h)
}

// maxDrain bounds how much of an unread request body is examined after
// the response.
const maxDrain = 64 << 10

// runHandler calls the handler, and reports false if it panicked: the
// stream is then reset with H3_INTERNAL_ERROR (http.ErrAbortHandler
// aborts the response the same way, silently).
func (sc *serverConn) runHandler(h http.Handler, rw *responseWriter, req *http.Request, mr *messageReader) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				sc.srv.logf("h3: panic serving %v: %v\n%s", req.RemoteAddr, p, debug.Stack())
			}
			mr.abort(ErrCodeInternalError)
			ok = false
		}
	}()
	h.ServeHTTP(rw, req)
	return true
}

// requestHeaderError answers a request whose header section could not be
// read.
func (sc *serverConn) requestHeaderError(mr *messageReader, err error) {
	str := mr.str
	switch {
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		// §4.1.2: the stream ended before a complete request.
		mr.abort(frame.ErrCodeRequestIncomplete)
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Server.ReadHeaderTimeout: the request was not processed, so
		// the client may send it again (§4.1.1).
		sc.srv.headerTimeouts.Add(1)
		mr.abort(frame.ErrCodeRequestRejected)
	case err == qpack.ErrFieldSectionTooLarge:
		// §4.2.2: a field section larger than we accept may be answered
		// with 431 (RFC 6585 §5).
		b := sc.c.appendHeadersFrame(nil, str.ID(), []qpack.HeaderField{{Name: ":status", Value: "431"}})
		str.Write(b)
		str.Close()
		str.CloseRead(uint64(ErrCodeNoError))
	case isConnectionError(err):
		var fe *frame.Error
		if errors.As(err, &fe) && fe.Code == frame.ErrCodeExcessiveLoad {
			// A HEADERS frame far beyond our limit: refused unread, as a
			// stream error so that one oversized request does not take the
			// connection's other requests down.
			mr.abort(frame.ErrCodeExcessiveLoad)
			return
		}
		sc.c.closeWithError(err)
	case isStreamError(err):
		mr.abort(frame.ErrCodeMessageError)
	default:
		// The stream was reset, or the connection ended.
		if code, ok := streamErrorCode(err); ok {
			str.Reset(code)
		}
		mr.cancelStream()
	}
}

// requestBody is the http.Request.Body of a server request: it reads DATA
// frames from the stream as the handler asks (flow control gives the
// backpressure), and fills req.Trailer at the end.
type requestBody struct {
	sr     *serverRequest // its message reader, request and context
	closed bool
}

func (b *requestBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	sr := b.sr
	n, err := sr.mr.Read(p)
	if err == io.EOF {
		fillTrailer(&sr.rw.req.Trailer, sr.mr.trailer)
	} else if err != nil {
		// The client reset the stream or the message was malformed: the
		// request is over, and its context says so.
		err = wrapError(err)
		sr.ctx.end(err)
	}
	return n, err
}

func (b *requestBody) Close() error {
	b.closed = true
	return nil
}

func (b *requestBody) eof() bool { return b.sr.mr.eof }
