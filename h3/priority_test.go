package h3

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/quic"
)

// RFC 9218 over skiff's client and server on the simulated 100 ms path:
// the server's congestion window, not the handlers, limits how fast the
// responses go, so the scheduler decides which one gets the connection.

// prioBody is the size of each response of these tests.
const prioBody = 1 << 20

// prioServer answers every request with prioBody bytes once `want`
// requests have arrived, so that the responses compete from their first
// byte. A request for /srv-urgent gets a Priority response header u=0.
type prioServer struct {
	mu      sync.Mutex
	arrived int
	want    int
	all     chan struct{}
	arrival chan struct{} // a token per request arrived
	// gate, when set before the requests, holds the responses until the
	// test closes it.
	gate chan struct{}
}

func newPrioServer(want int) *prioServer {
	return &prioServer{want: want, all: make(chan struct{}), arrival: make(chan struct{}, want)}
}

func (p *prioServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if p.arrived++; p.arrived == p.want {
		close(p.all)
	}
	p.mu.Unlock()
	p.arrival <- struct{}{}
	<-p.all
	if p.gate != nil {
		<-p.gate
	}
	if r.URL.Path == "/srv-urgent" {
		w.Header().Set("Priority", "u=0") // RFC 9218 §8
	}
	chunk := make([]byte, 16<<10)
	for n := 0; n < prioBody; n += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// prioFetch is one response being read by the client.
type prioFetch struct {
	name    string
	got     int64         // guarded by the race's mu
	reached chan struct{} // closed once got reaches at
	at      int64
	done    chan struct{}
	err     error
	resp    *http.Response // set before reached is closed
	// othersAt is what each other fetch of the race had read when this
	// one completed.
	othersAt map[string]int64
}

// prioRace runs fetches on one connection and records, at each
// completion, how far the others were.
type prioRace struct {
	t       *testing.T
	e       *simEnv
	srv     *prioServer
	mu      sync.Mutex
	fetches []*prioFetch
	order   []string // names, in order of completion
}

// start requests path with the Priority header prio ("" for none), then
// waits until the request reached the handler, so that its stream is
// opened before the next one's.
func (r *prioRace) start(name, path, prio string) *prioFetch {
	return r.startWith(name, path, prio, nil)
}

// startWith is start with a RequestPriority (nil for none) in the
// request's context.
func (r *prioRace) startWith(name, path, prio string, rp *RequestPriority) *prioFetch {
	f := &prioFetch{name: name, reached: make(chan struct{}), at: 64 << 10, done: make(chan struct{})}
	r.mu.Lock()
	r.fetches = append(r.fetches, f)
	r.mu.Unlock()
	go func() {
		defer close(f.done)
		ctx := context.Background()
		if rp != nil {
			ctx = WithPriority(ctx, rp)
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", r.e.url+path, nil)
		if prio != "" {
			req.Header.Set("Priority", prio)
		}
		resp, err := r.e.tr.RoundTrip(req)
		if err != nil {
			f.err = err
			return
		}
		defer resp.Body.Close()
		f.resp = resp
		buf := make([]byte, 16<<10)
		for {
			n, err := resp.Body.Read(buf)
			r.mu.Lock()
			if f.got += int64(n); f.got >= f.at && f.got-int64(n) < f.at {
				close(f.reached)
			}
			r.mu.Unlock()
			if err == io.EOF {
				break
			}
			if err != nil {
				f.err = err
				return
			}
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.order = append(r.order, f.name)
		f.othersAt = map[string]int64{}
		for _, o := range r.fetches {
			if o != f {
				f.othersAt[o.name] = o.got
			}
		}
	}()
	<-r.srv.arrival
	return f
}

// wait waits for every fetch and returns the order of completion.
func (r *prioRace) wait() []string {
	for _, f := range r.fetches {
		<-f.done
		if f.err != nil {
			r.t.Fatalf("%s: %v", f.name, f.err)
		}
		if f.got != prioBody {
			r.t.Fatalf("%s: %d bytes, want %d", f.name, f.got, prioBody)
		}
	}
	return r.order
}

// simPrioRace runs fn in a bubble with a server that waits for `want`
// requests.
func simPrioRace(t *testing.T, want int, fn func(r *prioRace)) {
	synctest.Test(t, func(t *testing.T) {
		e := newSimEnv(t)
		srv := newPrioServer(want)
		e.handler = srv
		e.startServer(false)
		e.noEarly.Store(true)
		fn(&prioRace{t: t, e: e, srv: srv})
	})
}

// RFC 9218 §4.1, §10: the response requested with u=0 completes first,
// although requested second; the default-urgency one waits for it.
func TestPriorityUrgency(t *testing.T) {
	simPrioRace(t, 2, func(r *prioRace) {
		r.start("a", "/a", "")
		b := r.start("b", "/b", "u=0")
		order := r.wait()
		t.Logf("order %v; a had %d of %d bytes when b completed", order, b.othersAt["a"], prioBody)
		if order[0] != "b" {
			t.Errorf("completion order %v, want b (u=0) first", order)
		}
		if b.othersAt["a"] > prioBody/2 {
			t.Errorf("a (u=3) had %d bytes when b (u=0) completed: it was not held back", b.othersAt["a"])
		}
	})
}

// RFC 9218 §4.2, §10: without a Priority header, responses of one urgency
// are not incremental and go one after the other, in request order.
// Asking for incremental delivery (i) shares the connection instead.
func TestPriorityDefaultNotIncremental(t *testing.T) {
	for _, tc := range []struct {
		name, prio  string
		incremental bool
	}{
		{"default", "", false},
		{"explicit", "u=3, i=?0", false},
		{"malformed", "u=0,", false},  // §4: ignored, so the defaults apply
		{"bad urgency", "u=9", false}, // out of range: the default urgency
		{"incremental", "i", true},    // §4.2: shared
		{"bad urgency incremental", "u=-1, i", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			simPrioRace(t, 2, func(r *prioRace) {
				a := r.start("a", "/a", tc.prio)
				r.start("b", "/b", tc.prio)
				order := r.wait()
				t.Logf("order %v; b had %d of %d bytes when a completed", order, a.othersAt["b"], prioBody)
				if tc.incremental {
					if first := r.fetches[0]; first.name == order[0] && first.othersAt["b"] < prioBody/2 {
						t.Errorf("incremental: b had %d bytes when a completed, want them shared", first.othersAt["b"])
					}
					return
				}
				if order[0] != "a" {
					t.Errorf("completion order %v, want a (requested first) first", order)
				}
				if a.othersAt["b"] > prioBody/2 {
					t.Errorf("b had %d bytes when a completed: served alongside, not after", a.othersAt["b"])
				}
			})
		})
	}
}

// sendPriorityUpdate writes a PRIORITY_UPDATE for request stream id on the
// client's control stream (RFC 9218 §7.2), before the response arrives,
// which Reprioritize cannot.
func sendPriorityUpdate(t *testing.T, tr *Transport, id uint64, value string) {
	t.Helper()
	conns := tr.connPool().all()
	if len(conns) != 1 {
		t.Fatalf("%d client connections", len(conns))
	}
	if err := conns[0].c.writeControl(frame.AppendPriorityUpdate(nil, frame.TypePriorityUpdate, id, []byte(value))); err != nil {
		t.Fatal(err)
	}
}

// RFC 9218 §6, §7.2: a PRIORITY_UPDATE raising the urgency of the second
// response while the first is being sent takes effect: the second then
// completes first.
func TestPriorityUpdateMidTransfer(t *testing.T) {
	simPrioRace(t, 2, func(r *prioRace) {
		a := r.start("a", "/a", "")
		b := r.start("b", "/b", "")
		<-a.reached
		r.mu.Lock()
		t.Logf("b had %d bytes when a reached %d", b.got, a.at)
		r.mu.Unlock()
		sendPriorityUpdate(t, r.e.tr, 4, "u=1") // the client's second request stream
		order := r.wait()
		t.Logf("order %v; a had %d of %d bytes when b completed", order, b.othersAt["a"], prioBody)
		if order[0] != "b" {
			t.Errorf("completion order %v, want b (raised to u=1) first", order)
		}
	})
}

// Reprioritize lowers the urgency of a response being received: the other
// response, requested first at the default urgency, then completes first.
func TestReprioritize(t *testing.T) {
	simPrioRace(t, 2, func(r *prioRace) {
		r.start("a", "/a", "")
		b := r.start("b", "/b", "u=0")
		<-b.reached
		if err := Reprioritize(b.resp, "u=7,"); err == nil {
			t.Error("Reprioritize accepted a malformed value")
		}
		if err := Reprioritize(b.resp, "u=7"); err != nil {
			t.Fatal(err)
		}
		order := r.wait()
		t.Logf("order %v; b had %d of %d bytes when a completed", order, r.fetches[0].othersAt["b"], prioBody)
		if order[0] != "a" {
			t.Errorf("completion order %v, want a first once b went to u=7", order)
		}
		if err := Reprioritize(b.resp, "u=1"); err != ErrNotReprioritizable {
			t.Errorf("Reprioritize after the body's end: %v, want ErrNotReprioritizable", err)
		}
		other := &http.Response{Body: http.NoBody}
		if err := Reprioritize(other, "u=1"); err != ErrNotReprioritizable {
			t.Errorf("Reprioritize of a foreign response: %v, want ErrNotReprioritizable", err)
		}
	})
}

// RFC 9218 §7.2: a PRIORITY_UPDATE for a stream not open yet is kept and
// applies when the stream opens, over its Priority header (§7: the most
// recent signal wins).
func TestPriorityUpdateBeforeStream(t *testing.T) {
	simPrioRace(t, 2, func(r *prioRace) {
		r.start("a", "/a", "")
		sendPriorityUpdate(t, r.e.tr, 4, "u=0")
		time.Sleep(simRTT) // the frame arrives before the stream it names
		r.start("b", "/b", "u=5")
		order := r.wait()
		if order[0] != "b" {
			t.Errorf("completion order %v, want b (u=0 by the earlier PRIORITY_UPDATE) first", order)
		}
	})
}

// RFC 9218 §8: a handler's Priority response header sets the priority the
// response is sent at.
func TestPriorityResponseHeader(t *testing.T) {
	simPrioRace(t, 2, func(r *prioRace) {
		r.start("a", "/a", "")
		r.start("b", "/srv-urgent", "")
		order := r.wait()
		if order[0] != "b" {
			t.Errorf("completion order %v, want b (response Priority u=0) first", order)
		}
	})
}

// RFC 9218 §7.2: PRIORITY_UPDATE frames the server must refuse close the
// connection with the error the RFC names.
func TestPriorityUpdateErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		send func(c *rawClient)
		want ErrCode
	}{
		{"on a request stream", func(c *rawClient) {
			c.openUni(frame.StreamTypeControl, clientSettings)
			b := c.headersFrame(getFields()...)
			c.request(frame.AppendPriorityUpdate(b, frame.TypePriorityUpdate, 0, []byte("u=1")), false)
		}, ErrCodeFrameUnexpected},
		{"for a unidirectional stream ID", func(c *rawClient) {
			c.openUni(frame.StreamTypeControl, frame.AppendPriorityUpdate(clientSettings, frame.TypePriorityUpdate, 2, []byte("u=1")))
		}, ErrCodeIDError},
		{"for a server-initiated stream ID", func(c *rawClient) {
			c.openUni(frame.StreamTypeControl, frame.AppendPriorityUpdate(clientSettings, frame.TypePriorityUpdate, 1, nil))
		}, ErrCodeIDError},
		{"for a push never promised", func(c *rawClient) {
			c.openUni(frame.StreamTypeControl, frame.AppendPriorityUpdate(clientSettings, frame.TypePriorityUpdatePush, 0, []byte("u=1")))
		}, ErrCodeIDError},
		{"without an element ID", func(c *rawClient) {
			c.openUni(frame.StreamTypeControl, frame.AppendFrame(clientSettings, frame.TypePriorityUpdate, nil))
		}, ErrCodeFrameError},
		// §7.2: "If a server receives a PRIORITY_UPDATE (type=0xF0700)
		// with a stream ID that is beyond the stream limits, this SHOULD
		// be treated as a connection error of type H3_ID_ERROR." The
		// server allows 100 streams: IDs 0 to 396.
		{"beyond the stream limit", func(c *rawClient) {
			c.openUni(frame.StreamTypeControl, frame.AppendPriorityUpdate(clientSettings, frame.TypePriorityUpdate, 400, []byte("u=1")))
		}, ErrCodeIDError},
		{"far beyond the stream limit", func(c *rawClient) {
			c.openUni(frame.StreamTypeControl, frame.AppendPriorityUpdate(clientSettings, frame.TypePriorityUpdate, 1<<62-4, []byte("u=1")))
		}, ErrCodeIDError},
		// §7: "Failure to parse the Priority Field Value MAY be treated as
		// a connection error ... of type H3_GENERAL_PROTOCOL_ERROR."
		{"with a malformed field value", func(c *rawClient) {
			c.openUni(frame.StreamTypeControl, frame.AppendPriorityUpdate(clientSettings, frame.TypePriorityUpdate, 0, []byte("u=1,")))
		}, ErrCodeGeneralProtocolError},
		{"with a field value that is not ASCII", func(c *rawClient) {
			c.openUni(frame.StreamTypeControl, frame.AppendPriorityUpdate(clientSettings, frame.TypePriorityUpdate, 0, []byte("u=\xff")))
		}, ErrCodeGeneralProtocolError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			c := dialRaw(t, ctx, newTestEnv(t, okHandler()))
			tc.send(c)
			if got := c.connectionError(); got != tc.want {
				t.Errorf("connection closed with %v, want %v", got, tc.want)
			}
		})
	}
}

// PRIORITY_UPDATEs the server ignores: for the last stream within the
// limit (not open yet: kept), for a stream whose response is over, with an
// empty field value (an empty Dictionary: the defaults, RFC 8941 §4.2), or
// with unknown and out-of-range parameters (§4). The connection goes on:
// a request is answered, and only the malformed frame sent last, after
// them on the same stream, closes the connection.
func TestPriorityUpdateIgnored(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, okHandler())
	c := dialRaw(t, ctx, e)
	s := c.request(c.headersFrame(getFields("priority", "u=0, i")...), true)
	if got := c.responseStatus(s); got != "200" {
		t.Fatalf("status %s", got)
	}
	ctrl := frame.AppendPriorityUpdate(clientSettings, frame.TypePriorityUpdate, 396, []byte("u=1"))
	ctrl = frame.AppendPriorityUpdate(ctrl, frame.TypePriorityUpdate, 0, []byte("u=1"))
	ctrl = frame.AppendPriorityUpdate(ctrl, frame.TypePriorityUpdate, 4, nil)
	ctrl = frame.AppendPriorityUpdate(ctrl, frame.TypePriorityUpdate, 8, []byte("u=9, i=2, x=(1 2);a, y=\"z\""))
	cs := c.openUni(frame.StreamTypeControl, ctrl)
	s = c.request(c.headersFrame(getFields()...), true)
	if got := c.responseStatus(s); got != "200" {
		t.Fatalf("status %s", got)
	}
	if _, err := cs.Write(frame.AppendPriorityUpdate(nil, frame.TypePriorityUpdate, 12, []byte("u=1 i"))); err != nil {
		t.Fatal(err)
	}
	if got := c.connectionError(); got != ErrCodeGeneralProtocolError {
		t.Errorf("connection closed with %v, want H3_GENERAL_PROTOCOL_ERROR for the malformed frame sent last", got)
	}
}

// The stream limit a PRIORITY_UPDATE is checked against is the one the
// server advertised last: once MAX_STREAMS raised it (RFC 9000 §4.6), a
// stream ID beyond the first limit is accepted.
func TestPriorityUpdateLimitGrows(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, okHandler(), func(e *testEnv) { e.srv.QUICConfig = &quic.Config{MaxBidiStreams: 2} })
	c := dialRaw(t, ctx, e)
	// Within the first limit (2 streams: IDs 0 and 4); the server learns it.
	cs := c.openUni(frame.StreamTypeControl, frame.AppendPriorityUpdate(clientSettings, frame.TypePriorityUpdate, 4, []byte("u=1")))
	for range 2 {
		s := c.request(c.headersFrame(getFields()...), true)
		if got := c.responseStatus(s); got != "200" {
			t.Fatalf("status %s", got)
		}
	}
	// A third stream can open only once the server raised the limit.
	s := c.request(c.headersFrame(getFields()...), true)
	if got := c.responseStatus(s); got != "200" {
		t.Fatalf("status %s", got)
	}
	b := frame.AppendPriorityUpdate(nil, frame.TypePriorityUpdate, 8, []byte("u=2"))
	b = frame.AppendPriorityUpdate(b, frame.TypePriorityUpdate, 0, []byte("?"))
	if _, err := cs.Write(b); err != nil {
		t.Fatal(err)
	}
	// The malformed frame after it, not the one for stream 8, ends the
	// connection.
	if got := c.connectionError(); got != ErrCodeGeneralProtocolError {
		t.Errorf("connection closed with %v, want H3_GENERAL_PROTOCOL_ERROR", got)
	}
}
