package h3

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/qpack"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// fuzzWait bounds how long one input waits for the server's answer. Most
// inputs are answered at once; a field section that waits for dynamic
// table entries never is, and the connection is then dropped.
const fuzzWait = 200 * time.Millisecond

// FuzzServerStreams feeds a running skiff server, over real QUIC on
// loopback, arbitrary bytes on a request stream (control false) or on the
// client's control stream (control true). The server must answer or fail
// with HTTP/3 errors, never panic (a panic in any server goroutine ends
// the test binary).
func FuzzServerStreams(f *testing.F) {
	var enc qpack.Encoder
	section := func(fields ...string) []byte {
		var hf []qpack.HeaderField
		for i := 0; i+1 < len(fields); i += 2 {
			hf = append(hf, qpack.HeaderField{Name: fields[i], Value: fields[i+1]})
		}
		return frame.AppendHeaders(nil, enc.EncodeFieldSection(nil, 0, hf))
	}
	get := section(getFields()...)
	post := section(append(getFields(), "content-length", "3")...)
	f.Add(false, get)
	f.Add(false, append(append(post, frame.AppendData(nil, []byte("abc"))...), section("x-trailer", "1")...))
	f.Add(false, frame.AppendData(nil, []byte("data first")))
	f.Add(false, append(get, frame.AppendGreaseFrame(nil)...))
	f.Add(false, append(get, frame.AppendCancelPush(nil, 1)...))
	f.Add(false, frame.AppendHeaders(nil, []byte{0x00, 0x00, 0xff, 0x24}))
	f.Add(false, frame.AppendHeaders(nil, []byte{0x02, 0x00, 0x80}))
	f.Add(true, clientSettings)
	f.Add(true, append(clientSettings, frame.AppendGoAway(nil, 0)...))
	f.Add(true, append(clientSettings, frame.AppendMaxPushID(nil, 7)...))
	f.Add(true, frame.AppendFrame(nil, frame.TypeSettings, []byte{0x06, 0x10, 0x06, 0x20}))
	f.Add(true, append(clientSettings, get...))
	// RFC 9218 §7.2: PRIORITY_UPDATE, within and beyond the stream limit,
	// with a valid and a malformed field value.
	f.Add(true, frame.AppendPriorityUpdate(clientSettings, frame.TypePriorityUpdate, 4, []byte("u=1, i")))
	f.Add(true, frame.AppendPriorityUpdate(clientSettings, frame.TypePriorityUpdate, 400, []byte("u=1")))
	f.Add(true, frame.AppendPriorityUpdate(clientSettings, frame.TypePriorityUpdate, 0, []byte("u=(")))

	fz := newFuzzTarget(f)
	f.Fuzz(func(t *testing.T, control bool, data []byte) { fz.input(t, control, data) })
}

// fuzzTarget is a server and the client connection the inputs are sent on.
type fuzzTarget struct {
	e   *testEnv
	cfg *quic.Config
	qc  *quic.Conn // reused for request stream inputs while it lives
}

func newFuzzTarget(tb testing.TB) *fuzzTarget {
	e := newTestEnv(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Got", r.Trailer.Get("X-Trailer"))
		w.Write(make([]byte, n))
	}))
	_, pool := testCertificate(tb)
	fz := &fuzzTarget{e: e, cfg: &quic.Config{TLS: &tls13.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{NextProtoH3}}}}
	tb.Cleanup(func() {
		if fz.qc != nil {
			fz.qc.CloseWithError(0, "")
		}
	})
	return fz
}

// dial fails t, the test of the input being run: a fuzz target must not
// call the *testing.F's Fatal.
func (fz *fuzzTarget) dial(t testing.TB) *quic.Conn {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := quic.Dial(ctx, "udp", fz.e.ln.Addr().String(), fz.cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}

func (fz *fuzzTarget) input(t testing.TB, control bool, data []byte) {
	if control {
		c := fz.dial(t)
		defer c.CloseWithError(0, "")
		ctx, cancel := context.WithTimeout(context.Background(), fuzzWait)
		defer cancel()
		s, err := c.OpenUniStream(ctx)
		if err != nil {
			return
		}
		s.Write(append(frame.AppendStreamType(nil, frame.StreamTypeControl), data...))
		// A request after it, answered once the server has read what came
		// before on the connection (or the connection closed).
		var enc qpack.Encoder
		fields := []qpack.HeaderField{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "https"}, {Name: ":authority", Value: "127.0.0.1"}, {Name: ":path", Value: "/"}}
		exchange(c, frame.AppendHeaders(nil, enc.EncodeFieldSection(nil, 0, fields)))
		return
	}
	if fz.qc == nil || fz.qc.Context().Err() != nil {
		fz.qc = fz.dial(t)
	}
	if !exchange(fz.qc, data) {
		fz.qc.CloseWithError(0, "")
		fz.qc = nil
	}
}

// exchange sends b on a new request stream and reads the answer; it
// reports false if none came within fuzzWait.
func exchange(c *quic.Conn, b []byte) bool {
	ctx, cancel := context.WithTimeout(context.Background(), fuzzWait)
	defer cancel()
	s, err := c.OpenStream(ctx)
	if err != nil {
		return false
	}
	s.Write(b)
	s.Close()
	s.SetReadDeadline(time.Now().Add(fuzzWait))
	_, err = io.Copy(io.Discard, s)
	return err == nil || !isTimeout(err)
}

func isTimeout(err error) bool {
	t, ok := err.(interface{ Timeout() bool })
	return ok && t.Timeout()
}
