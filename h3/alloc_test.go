package h3

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"unsafe"
)

// maxRequestAllocs bounds the allocations of one request, client and
// server together in this process: a POST of 1 KiB answered with 4 KiB,
// one at a time on one connection. 21 when written: the caller's own
// request (6), the client's (5: its state, the response header map, the
// QUIC stream and its wait channel), the server's (6: the request, its
// context, its state, the QUIC stream) and QUIC's per request (4, of which
// 3 from its event queue, which drops its storage whenever it is empty).
// Before the server pooled its header maps and reused its goroutines and
// the client dropped its context watcher and body goroutine, 31. 17 since
// streams pass their wait channels on (quic) and the server makes a
// request's context only when it is used (requestContext).
const maxRequestAllocs = 20

func TestRequestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops pooled items")
	}
	if testing.Short() {
		t.Skip("measures requests over loopback")
	}
	down := bytes.Repeat([]byte("d"), 4<<10)
	up := bytes.Repeat([]byte("u"), 1<<10)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write(down)
	}))
	ctx := testContext(t)
	var failed error
	request := func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/", bytes.NewReader(up))
		if err != nil {
			failed = err
			return
		}
		resp, err := e.tr.RoundTrip(req)
		if err != nil {
			failed = err
			return
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && n != int64(len(down)) {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			failed = err
		}
	}
	for range 50 { // dial, and fill the pools
		request()
	}
	allocs := testing.AllocsPerRun(500, request)
	if failed != nil {
		t.Fatal(failed)
	}
	t.Logf("%.1f allocations a request, client and server", allocs)
	if allocs > maxRequestAllocs {
		t.Errorf("%.1f allocations a request, want at most %d", allocs, maxRequestAllocs)
	}
}

// TestClientStreamSize keeps a clientStream, allocated for every request,
// within the 768-byte allocation size class (the next is 896): an object
// of more than 512 bytes with pointers carries an 8-byte header in its
// allocation, so 760 bytes at most.
func TestClientStreamSize(t *testing.T) {
	if n := unsafe.Sizeof(clientStream{}); n > 768-8 {
		t.Errorf("clientStream is %d bytes, more than the 768-byte size class holds", n)
	}
}

// TestServerRequestSize keeps a serverRequest, allocated for every request
// a server answers, within the 1024-byte allocation size class (the next
// is 1152), its 8-byte header included.
func TestServerRequestSize(t *testing.T) {
	if n := unsafe.Sizeof(serverRequest{}); n > 1024-8 {
		t.Errorf("serverRequest is %d bytes, more than the 1024-byte size class holds", n)
	}
}
