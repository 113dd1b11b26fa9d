package h3

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Client-side RFC 9218 between skiff peers on the simulated 100 ms path:
// request priorities from the context (RequestPriority), changes before
// the response arrives, and request bodies sent in urgency order.

// RFC 9218 §6, §7.2: a RequestPriority changed after its request reached
// the server, before any response byte, reorders the responses. a and b
// both ask for u=3 (non-incremental: a, requested first, goes first);
// raising b to u=0 before the server answers puts b first. Set to the
// priority it has, nothing changes.
func TestRequestPriorityBeforeResponse(t *testing.T) {
	for _, tc := range []struct {
		name  string
		set   Priority
		first string
	}{
		{"raised", Priority{Urgency: 0}, "b"},
		{"unchanged", DefaultPriority, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			simPrioRace(t, 2, func(r *prioRace) {
				r.srv.gate = make(chan struct{})
				rp := NewRequestPriority(DefaultPriority)
				r.start("a", "/a", "")
				b := r.startWith("b", "/b", "", rp)
				rp.Set(tc.set)
				time.Sleep(simRTT) // the PRIORITY_UPDATE arrives
				if b.resp != nil {
					t.Fatal("b's response arrived before the test released it")
				}
				close(r.srv.gate)
				order := r.wait()
				t.Logf("order %v; a had %d of %d bytes when b completed", order, b.othersAt["a"], prioBody)
				if order[0] != tc.first {
					t.Errorf("completion order %v, want %s first", order, tc.first)
				}
				if rp.Priority() != tc.set {
					t.Errorf("Priority() = %v, want %v", rp.Priority(), tc.set)
				}
				rp.mu.Lock()
				defer rp.mu.Unlock()
				if len(rp.inFlight) != 0 {
					t.Errorf("%d requests still in flight with rp after their responses ended", len(rp.inFlight))
				}
			})
		})
	}
}

// A RequestPriority in the context sets the request's priority: b, asked
// second with u=0 by its context and no header, completes first. With a
// Priority header of its own (u=7) the header goes as it is and the
// context's priority, sent in a PRIORITY_UPDATE, prevails (§7: the most
// recent signal).
func TestRequestPriorityContext(t *testing.T) {
	for _, header := range []string{"", "u=7"} {
		t.Run("header="+header, func(t *testing.T) {
			simPrioRace(t, 2, func(r *prioRace) {
				r.start("a", "/a", "")
				b := r.startWith("b", "/b", header, NewRequestPriority(Priority{Urgency: 0}))
				order := r.wait()
				t.Logf("order %v; a had %d of %d bytes when b completed", order, b.othersAt["a"], prioBody)
				if order[0] != "b" {
					t.Errorf("completion order %v, want b (u=0 in its context) first", order)
				}
			})
		})
	}
}

// The Priority header the server sees: the request's own, as it is; else
// the context's priority, none for the default one.
func TestRequestPriorityHeader(t *testing.T) {
	seen := make(chan []string, 1)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header["Priority"]
	}))
	ctx := testContext(t)
	for _, tc := range []struct {
		header []string
		rp     *RequestPriority
		want   []string
	}{
		{nil, nil, nil},
		{nil, NewRequestPriority(DefaultPriority), nil},
		{nil, NewRequestPriority(Priority{Urgency: 1, Incremental: true}), []string{"u=1, i"}},
		{nil, NewRequestPriority(Priority{Urgency: 9}), []string{"u=7"}},
		{[]string{"u=5,  foo"}, nil, []string{"u=5,  foo"}},
		{[]string{"i", "u=2"}, NewRequestPriority(Priority{Urgency: 2, Incremental: true}), []string{"i", "u=2"}},
		{[]string{"u=5"}, NewRequestPriority(Priority{Urgency: 0}), []string{"u=5"}},
		{[]string{}, NewRequestPriority(Priority{Urgency: 6}), []string{"u=6"}},
	} {
		rctx := ctx
		if tc.rp != nil {
			rctx = WithPriority(ctx, tc.rp)
		}
		req, _ := http.NewRequestWithContext(rctx, "GET", e.url+"/", nil)
		if tc.header != nil {
			req.Header["Priority"] = tc.header
		}
		resp, err := e.tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got := <-seen; !slices.Equal(got, tc.want) {
			t.Errorf("header %q, context %v: server saw %q, want %q", tc.header, tc.rp != nil, got, tc.want)
		}
	}
}

func TestPriorityString(t *testing.T) {
	for p, want := range map[Priority]string{
		{}:                                "u=0",
		DefaultPriority:                   "u=3",
		{Urgency: 7, Incremental: true}:   "u=7, i",
		{Urgency: 200, Incremental: true}: "u=7, i",
	} {
		if got := p.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", p, got, want)
		}
	}
}

// uploadServer reads request bodies and records, as each completes, how
// much of the others it had received.
type uploadServer struct {
	mu       sync.Mutex
	got      map[string]int64
	order    []string
	othersAt map[string]map[string]int64
	arrival  chan struct{}
}

func (u *uploadServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Path[1:]
	u.arrival <- struct{}{}
	buf := make([]byte, 16<<10)
	for {
		n, err := r.Body.Read(buf)
		u.mu.Lock()
		u.got[name] += int64(n)
		if err == io.EOF {
			u.order = append(u.order, name)
			at := map[string]int64{}
			for o, n := range u.got {
				if o != name {
					at[o] = n
				}
			}
			u.othersAt[name] = at
		}
		u.mu.Unlock()
		if err != nil {
			break
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// RFC 9218 §9: the client sends request bodies in priority order on its
// own connection. Two 1 MiB uploads compete for the client's congestion
// window: b, started second with u=0 (by its context or its header),
// completes first, while a (u=3) had
// sent little; so it does when its priority is raised from u=3 to u=0
// once both uploads run, and lowering it from u=0 to u=7 lets a finish first.
// Without priorities they share the connection (the client's bodies are
// incremental at one urgency, see startPriority).
func TestUploadUrgency(t *testing.T) {
	const size = 1 << 20
	for _, tc := range []struct {
		name   string
		header string // b's Priority header
		rp     *RequestPriority
		set    *Priority // rp's priority once both uploads started
		first  string
	}{
		{"b urgent", "", NewRequestPriority(Priority{Urgency: 0}), nil, "b"},
		{"b urgent by its header", "u=0, i", nil, nil, "b"},
		{"b raised", "", NewRequestPriority(DefaultPriority), &Priority{Urgency: 0}, "b"},
		{"b lowered", "", NewRequestPriority(Priority{Urgency: 0}), &Priority{Urgency: 7}, "a"},
		{"no priorities", "", nil, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newSimEnv(t)
				srv := &uploadServer{got: map[string]int64{}, othersAt: map[string]map[string]int64{}, arrival: make(chan struct{}, 2)}
				e.handler = srv
				e.startServer(false)
				e.noEarly.Store(true)
				var wg sync.WaitGroup
				upload := func(name, header string, rp *RequestPriority) {
					ctx := context.Background()
					if rp != nil {
						ctx = WithPriority(ctx, rp)
					}
					// No GetBody: the body is streamed, not sent inline.
					req, _ := http.NewRequestWithContext(ctx, "PUT", e.url+"/"+name, struct{ io.Reader }{patternReader(1, size)})
					req.ContentLength = size
					if header != "" {
						req.Header.Set("Priority", header)
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						resp, err := e.tr.RoundTrip(req)
						if err != nil {
							t.Errorf("%s: %v", name, err)
							return
						}
						resp.Body.Close()
					}()
					<-srv.arrival
				}
				upload("a", "", nil)
				upload("b", tc.header, tc.rp)
				if tc.set != nil {
					tc.rp.Set(*tc.set)
				}
				wg.Wait()
				srv.mu.Lock()
				defer srv.mu.Unlock()
				if srv.got["a"] != size || srv.got["b"] != size {
					t.Fatalf("received a %d, b %d bytes, want %d each", srv.got["a"], srv.got["b"], size)
				}
				first, second := srv.order[0], srv.order[1]
				behind := srv.othersAt[first][second]
				t.Logf("order %v; %s had sent %d of %d bytes when %s completed", srv.order, second, behind, size, first)
				if tc.first == "" {
					if behind < size/4 {
						t.Errorf("without priorities %s had sent %d bytes when %s completed: not shared", second, behind, first)
					}
					return
				}
				if first != tc.first {
					t.Errorf("completion order %v, want %s first", srv.order, tc.first)
				}
				if behind > size/2 {
					t.Errorf("%s had sent %d bytes when %s (more urgent) completed: not held back", second, behind, first)
				}
			})
		})
	}
}

// Over TCP the context's priority goes as a Priority header (RFC 9218 §5
// is for every HTTP version), unless the request has its own or asks for
// the default.
func TestRequestPriorityTCP(t *testing.T) {
	seen := make(chan []string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header["Priority"]
	}))
	defer srv.Close()
	tr := &Transport{Mode: ModeTCP}
	defer tr.CloseIdleConnections()
	ctx := testContext(t)
	for _, tc := range []struct {
		header []string
		rp     *RequestPriority
		want   []string
	}{
		{nil, NewRequestPriority(Priority{Urgency: 1, Incremental: true}), []string{"u=1, i"}},
		{nil, NewRequestPriority(DefaultPriority), nil},
		{[]string{"u=5"}, NewRequestPriority(Priority{Urgency: 0}), []string{"u=5"}},
	} {
		req, _ := http.NewRequestWithContext(WithPriority(ctx, tc.rp), "GET", srv.URL, nil)
		if tc.header != nil {
			req.Header["Priority"] = tc.header
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := <-seen; !slices.Equal(got, tc.want) {
			t.Errorf("header %q, context %v: server saw %q, want %q", tc.header, tc.rp.Priority(), got, tc.want)
		}
		if len(req.Header["Priority"]) != len(tc.header) {
			t.Errorf("the caller's request was changed: %q", req.Header["Priority"])
		}
	}
}

// The server's QPACK encoder stream goes before urgent responses: a
// response header that needs a new dynamic table entry (RFC 9204
// §2.1.2) is not held up while another response of urgency 0 takes the
// connection. At package quic's default urgency (3) the encoder stream
// waited behind that response, and so did the header.
func TestPriorityEncoderStreamFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newSimEnv(t)
		e.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/big" {
				// Seen a second time, on /small, the field is inserted
				// (qpack's indexing policy).
				w.Header().Set("X-Small", strings.Repeat("v", 40))
				return
			}
			chunk := make([]byte, 64<<10)
			for range 64 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		})
		e.startServer(false)
		e.noEarly.Store(true)
		get := func(path, prio string) *http.Response {
			req, _ := http.NewRequest("GET", e.url+path, nil)
			req.Header.Set("Priority", prio)
			resp, err := e.tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		// The connection, the server's SETTINGS, which let the encoder
		// insert, and X-Small seen once.
		resp := get("/", "u=3")
		resp.Body.Close()
		big := get("/big", "u=0")
		done := make(chan struct{})
		go func() {
			defer close(done)
			io.Copy(io.Discard, big.Body)
			big.Body.Close()
		}()
		time.Sleep(2 * simRTT) // /big is under way
		start := time.Now()
		resp = get("/small", "u=0, i")
		took := time.Since(start)
		resp.Body.Close()
		select {
		case <-done:
			t.Log("/big was over before /small's response header")
		default:
		}
		t.Logf("/small's response header after %v (RTT %v)", took, simRTT)
		if took > 2*simRTT {
			t.Errorf("/small's response header after %v, want about one RTT (%v)", took, simRTT)
		}
		<-done
	})
}
