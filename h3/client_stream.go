package h3

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/h3/internal/headers"
	"github.com/skiffnet/skiff/qpack"
	"github.com/skiffnet/skiff/quic"
)

// roundTrip sends req on a new stream of cc and reads the response header.
func (cc *clientConn) roundTrip(req *http.Request, rt route) (*http.Response, error) {
	ctx := req.Context()
	cc.mu.Lock()
	if cc.goAway {
		cc.mu.Unlock()
		return nil, &RetryableError{Err: errGoAway, Unprocessed: true}
	}
	cc.pending++
	cc.mu.Unlock()
	str, err := cc.qc.OpenStream(ctx)
	cc.mu.Lock()
	cc.pending--
	if err != nil || cc.goAway && str.ID() >= cc.goAwayID {
		last := cc.goAway && len(cc.active) == 0 && cc.pending == 0
		cc.mu.Unlock()
		if last {
			cc.closeIfIdle()
		}
		if err == nil {
			str.Reset(uint64(ErrCodeRequestCancelled))
			str.CloseRead(uint64(ErrCodeRequestCancelled))
			return nil, &RetryableError{Err: errGoAway, Unprocessed: true}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The connection is closing (its end is reported to the pool only
		// when the draining period is over): no request may use it now.
		cc.markClosing()
		return nil, &RetryableError{Err: wrapError(err), Unprocessed: true}
	}
	cs := &clientStream{cc: cc, str: str, req: req}
	cs.mr.init(cc.c, str)
	cs.body.cs = cs
	altUsed := ""
	if rt.alt {
		altUsed = rt.addr
	}
	cc.active[str.ID()] = cs
	cc.mu.Unlock()
	resp, err := cs.do(altUsed)
	if err != nil {
		cs.finish()
		return nil, err
	}
	return resp, nil
}

// clientStream is one request in flight on a request stream.
type clientStream struct {
	cc  *clientConn
	str *quic.Stream
	req *http.Request
	mr  messageReader
	// respStore is the Response returned, in the request's allocation.
	respStore http.Response
	body      responseBody // the response's Body
	vals      [4]string    // storage for the response header's values

	mu       sync.Mutex
	abortErr error // why we aborted the stream, reported instead of the stream's error
	doneOnce sync.Once

	// prio is the RequestPriority of the request's context, if any
	// (priority_client.go): it sends PRIORITY_UPDATEs for the stream until
	// finish.
	prio *RequestPriority
}

// do sends the request and reads the response header. altUsed is the
// Alt-Used field value (RFC 7838 §5) when the request goes to an
// alternative service.
func (cs *clientStream) do(altUsed string) (*http.Response, error) {
	req, c := cs.req, cs.cc.c
	ctx := req.Context()
	trace := httptrace.ContextClientTrace(ctx)
	scratch := headerScratchPool.Get().(*headerScratch)
	defer headerScratchPool.Put(scratch)
	fields, err := headers.AppendRequestWith(scratch.fields[:0], req, &cs.cc.lengths)
	if err == nil && altUsed != "" {
		fields = append(fields, qpack.HeaderField{Name: "alt-used", Value: altUsed})
	}
	if err == nil {
		fields = cs.startPriority(fields) // RFC 9218
	}
	scratch.fields = fields
	if err != nil {
		cs.abort(err, ErrCodeRequestCancelled)
		closeBody(req)
		return nil, err
	}
	// RFC 9114 §4.2.2: do not send a header section larger than the
	// server announced it accepts.
	if s, ok := c.peerSettings(); ok && s.MaxFieldSectionSize > 0 && headers.FieldSectionSize(fields) > s.MaxFieldSectionSize {
		cs.abort(ErrHeaderTooLarge, ErrCodeRequestCancelled)
		closeBody(req)
		return nil, ErrHeaderTooLarge
	}
	if ctx.Done() != nil { // a context that can never end needs no watching
		// The stream's waits end with the context: a Read or Write of
		// the request that waits for the server then fails with its
		// error, and mapError aborts the stream. A context that ends
		// while nobody waits is seen at the next Read or Close of the
		// response body, not at once: a watcher (context.AfterFunc)
		// would cost three allocations a request.
		cs.str.SetContext(ctx)
	}
	b := c.appendHeadersFrame(scratch.frame[:0], cs.str.ID(), fields)
	clear(scratch.fields) // drop references to the request's strings
	hasBody := req.Body != nil && req.Body != http.NoBody
	inline := hasBody && inlineBody(req)
	if inline {
		// The whole request in one stream write, and no goroutine.
		b, err = appendBodyFrame(b, req)
		closeBody(req)
		if err != nil {
			scratch.frame = b
			cs.abort(err, ErrCodeRequestCancelled)
			return nil, err
		}
	}
	scratch.frame = b
	if _, err := cs.str.Write(b); err != nil {
		if !inline { // else closed already
			closeBody(req)
		}
		return nil, cs.mapError(err)
	}
	if trace != nil && trace.WroteHeaders != nil {
		trace.WroteHeaders()
	}
	if hasBody && !inline {
		go cs.sendBody(trace)
	} else {
		cs.str.Close()
		if trace != nil && trace.WroteRequest != nil {
			trace.WroteRequest(httptrace.WroteRequestInfo{})
		}
	}
	return cs.readResponse(trace)
}

// maxInlineBody is the largest request body sent with its header section.
const maxInlineBody = 16 << 10

// inlineBody reports whether req's body is read at once and sent with the
// header section, rather than streamed by a goroutine: a body of known
// length up to maxInlineBody, without trailers, that can be had again
// (GetBody, which http.NewRequest sets for bytes and strings readers). A
// body of that kind is in memory: reading it cannot wait for the
// response, as a pipe's writer might.
func inlineBody(req *http.Request) bool {
	return req.GetBody != nil && req.ContentLength > 0 && req.ContentLength <= maxInlineBody && len(req.Trailer) == 0
}

// appendBodyFrame appends a DATA frame holding req's whole body (of
// req.ContentLength bytes, which inlineBody bounds) to b.
func appendBodyFrame(b []byte, req *http.Request) ([]byte, error) {
	n := int(req.ContentLength)
	b = frame.AppendFrameHeader(b, frame.TypeData, uint64(n))
	start := len(b)
	b = slices.Grow(b, n+1)[:start+n+1]
	got, err := io.ReadFull(req.Body, b[start:])
	b = b[:start+n]
	switch {
	case err == nil:
		return b, fmt.Errorf("h3: request body longer than its ContentLength %d", n)
	case err == io.ErrUnexpectedEOF && got == n:
		return b, nil
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return b, fmt.Errorf("h3: request body of %d bytes, ContentLength %d", got, n)
	}
	return b, fmt.Errorf("h3: reading request body: %w", err)
}

// headerScratch is reusable memory to encode a request's header section.
type headerScratch struct {
	fields []qpack.HeaderField
	frame  []byte
}

var headerScratchPool = sync.Pool{New: func() any {
	// Room for a typical request's fields and frame (and a small body
	// sent with them) from the start, not grown by appends.
	return &headerScratch{fields: make([]qpack.HeaderField, 0, 16), frame: make([]byte, 0, 2<<10)}
}}

// bodyBufPool holds the buffers request bodies are read into, with room
// in front for the DATA frame header.
var bodyBufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

const maxFrameHeader = 16 // type and length, two varints of up to 8 bytes

// sendBody streams the request body in DATA frames, then the trailers, and
// ends the stream. A write error means the server stopped reading (it may
// have answered already, RFC 9114 §4.1.2), the request was aborted, or
// its context ended the wait for flow control credit (which aborts it
// now); the response side reports what matters.
func (cs *clientStream) sendBody(trace *httptrace.ClientTrace) {
	req := cs.req
	defer req.Body.Close()
	bp := bodyBufPool.Get().(*[]byte)
	defer bodyBufPool.Put(bp)
	buf := *bp
	var sent int64
	for {
		n, err := req.Body.Read(buf[maxFrameHeader:])
		if n > 0 {
			sent += int64(n)
			if req.ContentLength > 0 && sent > req.ContentLength {
				cs.abort(fmt.Errorf("h3: request body longer than its ContentLength %d", req.ContentLength), ErrCodeRequestCancelled)
				return
			}
			var hdr [maxFrameHeader]byte
			h := frame.AppendFrameHeader(hdr[:0], frame.TypeData, uint64(n))
			start := maxFrameHeader - len(h)
			copy(buf[start:], h)
			if _, werr := cs.str.Write(buf[start : maxFrameHeader+n]); werr != nil {
				cs.mapError(werr) // aborts the stream if the context ended the wait
				return
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			cs.abort(fmt.Errorf("h3: reading request body: %w", err), ErrCodeRequestCancelled)
			return
		}
	}
	if req.ContentLength > 0 && sent != req.ContentLength {
		cs.abort(fmt.Errorf("h3: request body of %d bytes, ContentLength %d", sent, req.ContentLength), ErrCodeRequestCancelled)
		return
	}
	if len(req.Trailer) > 0 {
		fields, err := headers.AppendTrailers(nil, req.Trailer)
		if err != nil {
			cs.abort(err, ErrCodeRequestCancelled)
			return
		}
		if _, err := cs.str.Write(cs.cc.c.appendHeadersFrame(nil, cs.str.ID(), fields)); err != nil {
			cs.mapError(err)
			return
		}
	}
	cs.str.Close()
	if trace != nil && trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{})
	}
}

// readResponse reads interim responses (reported to the trace's
// Got1xxResponse) and the final response header (RFC 9114 §4.1).
func (cs *clientStream) readResponse(trace *httptrace.ClientTrace) (*http.Response, error) {
	req := cs.req
	first, storeUsed := true, false
	for {
		fields, err := cs.mr.readHeaders(req.Context())
		if err != nil {
			if err == qpack.ErrFieldSectionTooLarge {
				cs.abort(errors.New("h3: response header section larger than MaxResponseHeaderBytes"), ErrCodeExcessiveLoad)
			} else if err == io.EOF {
				err = errors.New("h3: stream ended before a response")
				cs.abort(err, ErrCodeMessageError)
			} else if isStreamError(err) || isConnectionError(err) {
				cs.mr.fail(err)
			}
			if !first {
				// After an interim response: never to be replayed.
				return nil, &respStartedError{cs.mapError(err)}
			}
			return nil, cs.mapError(err)
		}
		if first && trace != nil && trace.GotFirstResponseByte != nil {
			trace.GotFirstResponseByte()
		}
		first = false
		var r headers.Response
		vals := cs.vals[:]
		if storeUsed {
			vals = nil // the storage holds an interim response's values
		}
		storeUsed = true
		err = headers.ParseResponseTo(&r, fields, vals)
		cs.mr.releaseFields()
		if err != nil {
			// §4.1.2: a malformed response is a stream error.
			cs.mr.fail(err)
			return nil, cs.mapError(err)
		}
		if r.Informational() {
			cs.mr.state.Interim()
			if trace != nil && trace.Got1xxResponse != nil {
				if err := trace.Got1xxResponse(r.StatusCode, textproto.MIMEHeader(r.Header)); err != nil {
					cs.abort(err, ErrCodeRequestCancelled)
					return nil, err
				}
			}
			continue
		}
		declared := r.ContentLength
		if req.Method == http.MethodHead || r.StatusCode == http.StatusNoContent || r.StatusCode == http.StatusNotModified {
			declared = -1 // no content, whatever Content-Length says
		}
		cs.mr.length = headers.NewContentLength(declared)
		_, tlsState := cs.cc.tlsInfo()
		resp := &cs.respStore
		*resp = http.Response{
			Status:        statusLine(r.StatusCode),
			StatusCode:    r.StatusCode,
			Proto:         "HTTP/3.0",
			ProtoMajor:    3,
			Header:        r.Header,
			ContentLength: r.ContentLength,
			Trailer:       declaredTrailer(r.Header),
			Request:       req,
			TLS:           tlsState,
		}
		if resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
			resp.ContentLength = 0
		}
		resp.Body = &cs.body
		return resp, nil
	}
}

// statusLines holds Response.Status for the codes net/http names, made
// once rather than for every response.
var statusLines = func() (t [600]string) {
	for code := range t {
		if text := http.StatusText(code); text != "" {
			t[code] = strconv.Itoa(code) + " " + text
		}
	}
	return t
}()

// statusLine is Response.Status for code (100-599): "200 OK".
func statusLine(code int) string {
	if code >= 0 && code < len(statusLines) && statusLines[code] != "" {
		return statusLines[code]
	}
	return strconv.Itoa(code) + " " + http.StatusText(code)
}

// abort ends the request: RESET_STREAM and STOP_SENDING with code
// (H3_REQUEST_CANCELLED for a cancellation, RFC 9114 §4.1.1), and a QPACK
// Stream Cancellation. err is what the request then fails with.
func (cs *clientStream) abort(err error, code ErrCode) {
	cs.mu.Lock()
	if cs.abortErr == nil {
		cs.abortErr = err
	}
	cs.mu.Unlock()
	cs.str.Reset(uint64(code))
	cs.str.CloseRead(uint64(code))
	cs.mr.cancelStream()
}

// reject fails a request the server will not process.
func (cs *clientStream) reject(err error) {
	cs.abort(&RetryableError{Err: err, Unprocessed: true}, ErrCodeRequestCancelled)
}

// mapError turns a stream or connection error into what the request
// fails with: the reason we aborted it, or a RetryableError when the
// server refused it unprocessed. A wait that the request's context ended
// (quic.Stream.SetContext) aborts the request first.
func (cs *clientStream) mapError(err error) error {
	if ctxErr := cs.req.Context().Err(); ctxErr != nil && (errors.Is(err, quic.ErrContextDone) || errors.Is(err, ctxErr)) {
		cs.abort(ctxErr, ErrCodeRequestCancelled)
	}
	cs.mu.Lock()
	aborted := cs.abortErr
	cs.mu.Unlock()
	if aborted != nil {
		return aborted
	}
	code, reset := streamErrorCode(err)
	err = wrapError(err)
	if reset && code == uint64(ErrCodeRequestRejected) {
		return &RetryableError{Err: err, Unprocessed: true}
	}
	if cs.cc.c.closed() {
		cs.cc.mu.Lock()
		refused := cs.cc.goAway && cs.str.ID() >= cs.cc.goAwayID
		cs.cc.mu.Unlock()
		if refused {
			return &RetryableError{Err: err, Unprocessed: true}
		}
	}
	return err
}

// finish releases the request's place on the connection, once.
func (cs *clientStream) finish() {
	cs.doneOnce.Do(func() {
		if cs.prio != nil {
			cs.prio.done(cs)
		}
		cs.cc.requestDone(cs)
	})
}

// responseBody streams the response content from the request stream;
// QUIC flow control gives the backpressure.
type responseBody struct {
	cs     *clientStream
	done   atomic.Bool // EOF or an error was returned
	closed atomic.Bool
}

var errBodyClosed = errors.New("h3: read on closed response body")

func (b *responseBody) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, errBodyClosed
	}
	cs := b.cs
	if ctx := cs.req.Context(); ended(ctx.Done()) {
		// Canceled: what is buffered is not delivered either.
		err := cs.mapError(ctx.Err())
		b.done.Store(true)
		cs.finish()
		return 0, err
	}
	n, err := cs.mr.Read(p)
	if err == io.EOF {
		fillTrailer(&cs.respStore.Trailer, cs.mr.trailer)
		b.done.Store(true)
		cs.finish()
		return n, io.EOF
	}
	if err != nil {
		err = cs.mapError(err)
		b.done.Store(true)
		cs.finish()
	}
	return n, err
}

// Close abandons the rest of the response: STOP_SENDING and RESET_STREAM
// with H3_REQUEST_CANCELLED (RFC 9114 §4.1.1) when it was not all read.
func (b *responseBody) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	if !b.done.Load() {
		b.cs.abort(errBodyClosed, ErrCodeRequestCancelled)
	}
	b.cs.finish()
	return nil
}
