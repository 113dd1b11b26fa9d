package hostile

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiffnet/skiff/h3"
	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// The soak test: `make soak` (SKIFF_SOAK=10m by default; not part of
// `make test`) runs legitimate and hostile traffic at once, for that long,
// against an h3.Server and a QUIC echo server on loopback, prints a
// timeline of goroutines, heap and file descriptors, and checks that they
// are flat: back to where they started once the traffic stops and the
// connections it left end, and no higher late in the run than early on.
//
// Legitimate: HTTP/3 requests through h3.Transport in HTTP/3-only mode
// (small and large responses, uploads, connections closed and dialed
// again), and QUIC streams echoed by the echo server. Every answer is
// checked.
//
// Hostile: floods of forged first flights from many source ports,
// slowloris request streams (a HEADERS frame a byte a second), clients that
// ask for 16 MiB and never read, storms of streams reset as soon as opened,
// garbage datagrams, short headers for no connection (stateless resets),
// and long headers of unknown versions with long connection IDs.

const (
	soakALPN = "skiff-soak-echo"
	// Tolerances at the end, against the start: the goroutines and file
	// descriptors of the runtime and of a few connections still closing,
	// and the heap the free lists and pools keep.
	soakGoroutineSlack = 8
	soakFDSlack        = 8
	soakHeapSlack      = 32 << 20
)

// soakEnv is the servers and what the clients need to reach them.
type soakEnv struct {
	h3srv     *h3.Server
	h3ln      *quic.Listener
	echoLn    *quic.Listener
	h3URL     string
	client    *tls13.Config // roots for the servers' certificate
	echoTLS   *tls13.Config
	h3TLS     *tls13.Config
	big       []byte // the body of /big
	stats     soakStats
	serveDone chan struct{}
}

// soakStats counts what the workers did.
type soakStats struct {
	requests, requestErrs     atomic.Uint64 // legitimate HTTP/3
	echoes, echoErrs          atomic.Uint64 // legitimate QUIC streams
	flights                   atomic.Uint64 // forged first flights
	slowStreams, starvedBytes atomic.Uint64 // slowloris streams, bytes held unread by non-readers
	resets, garbage           atomic.Uint64 // streams reset at once, garbage datagrams
	decoderCloses             atomic.Uint64 // reset-storm connections the HTTP/3 server closed
	lastErr                   atomic.Pointer[string]
}

func (s *soakStats) fail(err error) {
	msg := err.Error()
	s.lastErr.Store(&msg)
}

func newSoakEnv(t *testing.T) *soakEnv {
	cert, pool, err := selfsigned.New("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	e := &soakEnv{
		client:    &tls13.Config{RootCAs: pool, ServerName: "127.0.0.1"},
		h3TLS:     &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{h3.NextProtoH3}},
		echoTLS:   &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{soakALPN}},
		big:       make([]byte, 16<<20),
		serveDone: make(chan struct{}),
	}
	for i := range e.big {
		e.big[i] = byte(i*131 + i>>12)
	}
	e.h3ln, err = quic.Listen("udp", "127.0.0.1:0", &quic.Config{TLS: e.h3TLS})
	if err != nil {
		t.Fatal(err)
	}
	e.h3URL = "https://" + e.h3ln.Addr().String()
	e.h3srv = &h3.Server{Handler: e.handler(), TLSConfig: e.h3TLS, ErrorLog: quietLog()}
	go func() {
		defer close(e.serveDone)
		e.h3srv.Serve(e.h3ln)
	}()
	e.echoLn, err = quic.Listen("udp", "127.0.0.1:0", &quic.Config{TLS: e.echoTLS})
	if err != nil {
		t.Fatal(err)
	}
	go e.serveEcho()
	return e
}

// handler serves /small (1 KiB), /big?n= (n bytes of big, up to 16 MiB),
// and /echo (the SHA-256 of the request body).
func (e *soakEnv) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) {
		w.Write(e.big[:1024])
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		n = min(max(n, 0), len(e.big))
		w.Header().Set("Content-Length", strconv.Itoa(n))
		for off := 0; off < n; off += 64 << 10 {
			if _, err := w.Write(e.big[off:min(n, off+64<<10)]); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		io.Copy(h, r.Body)
		w.Write(h.Sum(nil))
	})
	return mux
}

// serveEcho accepts QUIC connections and echoes every stream.
func (e *soakEnv) serveEcho() {
	ctx := context.Background()
	for {
		c, err := e.echoLn.Accept(ctx)
		if err != nil {
			return
		}
		go func() {
			for {
				s, err := c.AcceptStream(ctx)
				if err != nil {
					return
				}
				go func() {
					io.Copy(s, s)
					s.Close()
				}()
			}
		}()
	}
}

func (e *soakEnv) close() {
	e.h3srv.Close()
	<-e.serveDone
	e.echoLn.Close()
}

// soakSample is one line of the timeline.
type soakSample struct {
	at         time.Duration
	goroutines int
	heap       uint64
	fds        int
}

func takeSample(start time.Time) soakSample {
	runtime.GC()
	runtime.GC() // a second cycle empties the pools' victim caches
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds := -1
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		fds = len(ents)
	}
	return soakSample{at: time.Since(start), goroutines: runtime.NumGoroutine(), heap: ms.HeapAlloc, fds: fds}
}

func (s soakSample) String() string {
	return fmt.Sprintf("%8s  goroutines %5d  heap %7.1f MiB  fds %4d", s.at.Round(time.Second), s.goroutines, float64(s.heap)/(1<<20), s.fds)
}

func TestSoak(t *testing.T) {
	spec := os.Getenv("SKIFF_SOAK")
	if spec == "" {
		t.Skip("the soak test runs with SKIFF_SOAK=<duration> (make soak)")
	}
	duration, err := time.ParseDuration(spec)
	if err != nil {
		t.Fatalf("SKIFF_SOAK=%q: %v", spec, err)
	}
	every := 30 * time.Second
	if v := os.Getenv("SKIFF_SOAK_EVERY"); v != "" {
		if every, err = time.ParseDuration(v); err != nil {
			t.Fatalf("SKIFF_SOAK_EVERY=%q: %v", v, err)
		}
	}
	e := newSoakEnv(t)
	defer e.close()
	start := time.Now()
	base := takeSample(start)
	t.Logf("start     %v", base)

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range e.workers() {
		wg.Go(func() { w(ctx) })
	}
	var timeline []soakSample
	tick := time.NewTicker(every)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			s := takeSample(start)
			timeline = append(timeline, s)
			t.Logf("%v  %s", s, e.stats.line())
			if s.goroutines > 4*max(timeline[0].goroutines, 500) {
				t.Logf("goroutines by where they wait:\n%s", goroutineSummary(8))
			}
		}
	}
	tick.Stop()
	wg.Wait()
	t.Logf("traffic stopped: %s", e.stats.line())

	// What the traffic left ends: half-open connections at the handshake
	// timeout (10 s), abandoned ones at the idle timeout (30 s).
	var end soakSample
	deadline := time.Now().Add(2 * time.Minute)
	for {
		end = takeSample(start)
		if (end.goroutines <= base.goroutines+soakGoroutineSlack && end.fds <= base.fds+soakFDSlack &&
			end.heap <= base.heap+soakHeapSlack) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	t.Logf("end       %v", end)

	if p := e.stats.lastErr.Load(); p != nil {
		t.Logf("last legitimate failure: %s", *p)
	}
	if end.goroutines > base.goroutines+soakGoroutineSlack {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines at the end, %d at the start:\n%s", end.goroutines, base.goroutines, strings.TrimSpace(string(buf[:runtime.Stack(buf, true)])))
	}
	if end.fds > base.fds+soakFDSlack {
		t.Errorf("%d file descriptors at the end, %d at the start", end.fds, base.fds)
	}
	if end.heap > base.heap+soakHeapSlack {
		t.Errorf("heap %d MiB at the end, %d MiB at the start (profile: %s)", end.heap>>20, base.heap>>20, writeHeapProfile())
	}
	// Flat during the run: the last third no higher than the first third
	// plus the slack.
	if n := len(timeline); n >= 3 {
		var early, late soakSample
		for i, s := range timeline {
			dst := &early
			if i >= n-n/3 {
				dst = &late
			} else if i >= n/3 {
				continue
			}
			dst.goroutines = max(dst.goroutines, s.goroutines)
			dst.heap = max(dst.heap, s.heap)
			dst.fds = max(dst.fds, s.fds)
		}
		if late.heap > early.heap+soakHeapSlack || late.goroutines > early.goroutines+early.goroutines/2+soakGoroutineSlack || late.fds > early.fds+early.fds/2+soakFDSlack {
			t.Errorf("growing: the first third peaked at %v, the last at %v", early, late)
		}
	}
	st := &e.stats
	if st.requests.Load() == 0 || st.echoes.Load() == 0 {
		t.Fatalf("no legitimate traffic got through: %s", st.line())
	}
	// Legitimate requests and echoes succeed, floods or not: allow one in
	// a thousand to fail (a timeout on a machine others load too).
	if errs, all := st.requestErrs.Load()+st.echoErrs.Load(), st.requests.Load()+st.echoes.Load(); errs*1000 > all {
		t.Errorf("%d of %d legitimate requests and echoes failed", errs, all)
	}
}

func (s *soakStats) line() string {
	return fmt.Sprintf("requests %d (%d failed)  echoes %d (%d failed)  flights %d  slowloris %d  unread %d MiB  resets %d (%d conns closed)  garbage %d",
		s.requests.Load(), s.requestErrs.Load(), s.echoes.Load(), s.echoErrs.Load(), s.flights.Load(),
		s.slowStreams.Load(), s.starvedBytes.Load()>>20, s.resets.Load(), s.decoderCloses.Load(), s.garbage.Load())
}

// goroutineSummary groups the goroutines by the innermost frame of the
// module they run, or their first frame, and lists the n largest groups.
func goroutineSummary(n int) string {
	buf := make([]byte, 64<<20)
	buf = buf[:runtime.Stack(buf, true)]
	counts := map[string]int{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		lines := strings.Split(g, "\n")
		if len(lines) < 2 {
			continue
		}
		// "goroutine 7 [select, 3 minutes]:": the state, without the time.
		state := lines[0][strings.Index(lines[0], "[")+1:]
		state = state[:strings.IndexAny(state, ",]")]
		key := state + " " + lines[1]
		for _, l := range lines[1:] {
			if strings.Contains(l, "skiffnet/skiff/") && !strings.HasPrefix(l, "\t") {
				if i := strings.LastIndex(l, "("); i > 0 {
					l = l[:i] // the arguments differ from one goroutine to the next
				}
				key = state + " " + l
				break
			}
		}
		counts[key]++
	}
	type group struct {
		key string
		n   int
	}
	var groups []group
	for k, v := range counts {
		groups = append(groups, group{k, v})
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].n > groups[j].n })
	var b strings.Builder
	for _, g := range groups[:min(n, len(groups))] {
		fmt.Fprintf(&b, "%8d  %s\n", g.n, g.key)
	}
	return b.String()
}

// writeHeapProfile writes a heap profile to the temporary directory and
// returns its path, for a failing run to be looked into.
func writeHeapProfile() string {
	f, err := os.CreateTemp("", "skiff-soak-heap-*.pprof")
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		return err.Error()
	}
	return f.Name()
}
