package h3

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/quic"
)

// serverConnOf returns the server's only connection, waiting for the
// server to take it up.
func (e *testEnv) serverConnOf(t testing.TB) *serverConn {
	t.Helper()
	var sc *serverConn
	waitFor(t, testContext(t), "the server's connection", func() bool {
		e.srv.mu.Lock()
		defer e.srv.mu.Unlock()
		if len(e.srv.conns) > 1 {
			t.Fatalf("server has %d connections, want 1", len(e.srv.conns))
		}
		for c := range e.srv.conns {
			sc = c
		}
		return sc != nil
	})
	return sc
}

// goroutinesIn counts the goroutines whose stack holds fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return bytes.Count(buf, []byte(fn))
}

// waitFor polls cond until it holds, or fails t when ctx ends.
func waitFor(t testing.TB, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
}

// Issue 15, defect 3: a HEADERS frame that declares 2 MiB and brings
// nothing more costs the server what arrived plus a constant, not what it
// declared (RFC 9114 §10.5).
func TestHostileHeadersMemory(t *testing.T) {
	ctx := testContext(t)
	const streams = 400
	e := newTestEnv(t, okHandler(), func(e *testEnv) {
		e.srv.QUICConfig = &quic.Config{MaxBidiStreams: streams + 10}
	})
	c := dialRaw(t, ctx, e)
	if got := c.responseStatus(c.request(c.headersFrame(getFields()...), true)); got != "200" {
		t.Fatalf("first request: %s", got)
	}
	// 5 bytes per stream: the HEADERS type and a 4-byte length of 2 MiB.
	hostile := frame.AppendFrameHeader(nil, frame.TypeHeaders, 2<<20)
	if len(hostile) != 5 {
		t.Fatalf("frame header of %d bytes", len(hostile))
	}
	readers := goroutinesIn("frame.(*Reader).readPayload")
	base := takeResources()
	for range streams {
		c.request(hostile, false)
	}
	// Every request goroutine is waiting for the payload.
	waitFor(t, ctx, "the server to read the frame headers", func() bool {
		return goroutinesIn("frame.(*Reader).readPayload")-readers >= streams
	})
	after := takeResources()
	perStream := int64(after.heap-base.heap) / streams
	// What a stream costs whatever its HEADERS declare: the QUIC stream
	// state on both sides, the request's goroutine context, frame reader
	// and QPACK state. Before the fix a stream held 2 MiB.
	const constant = 32 << 10
	t.Logf("heap per stream declaring 2 MiB and sending 5 bytes: %d bytes (bound %d)", perStream, constant+5)
	if perStream > constant+5 {
		t.Errorf("heap per hostile HEADERS stream %d bytes, want at most %d", perStream, constant+5)
	}
}

// Issue 15: slow request headers (slowloris) are not held beyond
// Server.ReadHeaderTimeout, however they trickle in: each stream is reset
// with H3_REQUEST_REJECTED, including one whose field section waits for
// QPACK inserts that never come (released with a Stream Cancellation);
// the connection serves requests meanwhile and afterwards.
func TestReadHeaderTimeout(t *testing.T) {
	ctx := testContext(t)
	const stalled = 1000
	e := newTestEnv(t, okHandler(), func(e *testEnv) {
		// Short enough for a test, long enough that a request sent whole
		// is never late, even on a loaded machine.
		e.srv.ReadHeaderTimeout = time.Second
		e.srv.QUICConfig = &quic.Config{MaxBidiStreams: stalled + 100}
	})
	c := dialRaw(t, ctx, e)
	base := takeResources()
	complete := c.headersFrame(getFields()...)

	// 1,000 streams that send the first byte of a HEADERS frame, then
	// nothing.
	var streams []*quic.Stream
	for range stalled {
		streams = append(streams, c.request(complete[:1], false))
	}
	// Streams that trickle a valid request one byte per 250 ms, which
	// would take several times the timeout.
	if trickle := time.Duration(len(complete)) * 250 * time.Millisecond; trickle < 3*e.srv.ReadHeaderTimeout {
		t.Fatalf("a request of %d bytes trickles in %v only", len(complete), trickle)
	}
	stop := make(chan struct{})
	defer close(stop)
	for range 5 {
		s := c.request(complete[:1], false)
		streams = append(streams, s)
		go func() {
			tick := time.NewTicker(250 * time.Millisecond)
			defer tick.Stop()
			for _, b := range complete[1:] {
				select {
				case <-tick.C:
				case <-stop:
					return
				}
				if _, err := s.Write([]byte{b}); err != nil {
					return
				}
			}
			s.Close()
		}()
	}
	// Streams whose field section is blocked on inserts never sent.
	for range 10 {
		streams = append(streams, c.request(blockedHeaders(), true))
	}
	// A request served while the others stall.
	if got := c.responseStatus(c.request(complete, true)); got != "200" {
		t.Fatalf("request beside the stalled ones: %s", got)
	}
	for i, s := range streams {
		if code := c.streamError(s); code != ErrCodeRequestRejected {
			t.Fatalf("stream %d reset with %v, want H3_REQUEST_REJECTED", i, code)
		}
	}
	if n := e.srv.headerTimeouts.Load(); n != uint64(len(streams)) {
		t.Errorf("%d header timeouts, want %d", n, len(streams))
	}
	sc := e.serverConnOf(t)
	if n := sc.c.blockedStreams(); n != 0 {
		t.Errorf("%d field sections still blocked", n)
	}
	if got := c.responseStatus(c.request(complete, true)); got != "200" {
		t.Fatalf("request after the timeouts: %s", got)
	}
	// The stalled streams' goroutines are gone.
	c.qc.CloseWithError(0, "")
	waitGoroutines(t, settleContext(t), base)
}

// blockedHeaders is a HEADERS frame whose field section needs the first
// dynamic table entry (Required Insert Count 1, RFC 9204 §4.5.1: encoded
// as 2 with the server's 4096-byte table) and indexes it.
func blockedHeaders() []byte {
	return frame.AppendHeaders(nil, []byte{0x02, 0x00, 0x80})
}

// A field section blocked on the encoder stream is released when the
// client resets its stream: the server sends a Stream Cancellation (RFC
// 9204 §4.4.2) and frees the slot, so that 100 such resets — far more
// than the 16 blocked streams allowed — leave the connection usable.
func TestBlockedSectionReleasedOnReset(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, okHandler())
	c := dialRaw(t, ctx, e)
	decoder := c.peerDecoderStream()
	base := takeResources()
	var ids []uint64
	for range 100 {
		s := c.request(blockedHeaders(), false)
		ids = append(ids, s.ID())
		// Let the server hold the section before the reset.
		sc := e.serverConnOf(t)
		waitFor(t, ctx, "the section to be blocked", func() bool { return sc.c.blockedStreams() == 1 })
		s.Reset(uint64(ErrCodeRequestCancelled))
		s.CloseRead(uint64(ErrCodeRequestCancelled))
		waitFor(t, ctx, "the section to be released", func() bool { return sc.c.blockedStreams() == 0 })
	}
	if got := c.responseStatus(c.request(c.headersFrame(getFields()...), true)); got != "200" {
		t.Fatalf("request after 100 resets of blocked streams: %s", got)
	}
	// The decoder stream carried a Stream Cancellation for each.
	for _, id := range ids {
		if got := decoder.next(t); got != id {
			t.Fatalf("Stream Cancellation for stream %d, want %d", got, id)
		}
	}
	c.qc.CloseWithError(0, "")
	waitGoroutines(t, settleContext(t), base)
}

// qpackDecoderStream reads the server's QPACK decoder stream.
type qpackDecoderStream struct {
	r   *frame.Reader
	buf []byte
}

// peerDecoderStream accepts the server's unidirectional streams until its
// QPACK decoder stream.
func (c *rawClient) peerDecoderStream() *qpackDecoderStream {
	c.t.Helper()
	for {
		s, err := c.qc.AcceptUniStream(c.ctx)
		if err != nil {
			c.t.Fatal(err)
		}
		r := frame.NewReader(s)
		typ, err := r.ReadStreamType()
		if err != nil {
			c.t.Fatal(err)
		}
		if typ == frame.StreamTypeQPACKDecoder {
			return &qpackDecoderStream{r: r}
		}
	}
}

// next returns the stream ID of the next Stream Cancellation (RFC 9204
// §4.4.2: 01 and a 6-bit prefix integer); it fails on other instructions.
func (d *qpackDecoderStream) next(t testing.TB) uint64 {
	t.Helper()
	for {
		if len(d.buf) > 0 {
			if d.buf[0]&0xc0 != 0x40 {
				t.Fatalf("decoder stream instruction %#x, want a Stream Cancellation", d.buf[0])
			}
			v, n := prefixInt(d.buf, 6)
			if n > 0 {
				d.buf = d.buf[n:]
				return v
			}
		}
		var b [64]byte
		n, err := d.r.ReadRaw(b[:])
		if err != nil {
			t.Fatalf("decoder stream: %v", err)
		}
		d.buf = append(d.buf, b[:n]...)
	}
}

// prefixInt decodes an RFC 7541 §5.1 integer with an n-bit prefix; n = 0
// bytes used means b is incomplete.
func prefixInt(b []byte, n uint) (uint64, int) {
	max := uint64(1)<<n - 1
	v := uint64(b[0]) & max
	if v < max {
		return v, 1
	}
	var shift uint
	for i := 1; i < len(b); i++ {
		v += uint64(b[i]&0x7f) << shift
		shift += 7
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// A blocked field section whose stream ended (FIN read) is released when
// the client then stops the stream (STOP_SENDING, seen through the
// stream's context): 40 of them, more than the 16 blocked streams allowed.
func TestBlockedSectionReleasedOnStopSending(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, okHandler())
	c := dialRaw(t, ctx, e)
	for range 40 {
		s := c.request(blockedHeaders(), true)
		sc := e.serverConnOf(t)
		waitFor(t, ctx, "the section to be blocked", func() bool { return sc.c.blockedStreams() == 1 })
		s.CloseRead(uint64(ErrCodeRequestCancelled))
		waitFor(t, ctx, "the section to be released", func() bool { return sc.c.blockedStreams() == 0 })
	}
	if got := c.responseStatus(c.request(c.headersFrame(getFields()...), true)); got != "200" {
		t.Fatalf("request after 40 stopped blocked streams: %s", got)
	}
}
