package h3

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// resources is what a test may leave behind: goroutines, open file
// descriptors (sockets) and live heap.
type resources struct {
	goroutines int
	fds        int
	heap       uint64
}

func (r resources) String() string {
	return fmt.Sprintf("%d goroutines, %d fds, %d KiB heap", r.goroutines, r.fds, r.heap>>10)
}

// takeResources measures after a garbage collection.
func takeResources() resources {
	runtime.GC()
	runtime.GC() // a second cycle empties the sync.Pools' victim caches
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds := -1
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		fds = len(ents)
	}
	return resources{goroutines: runtime.NumGoroutine(), fds: fds, heap: ms.HeapAlloc}
}

// waitResources polls until goroutines and file descriptors are back to
// base and the heap to within heapSlack of it, or fails when ctx ends
// (connections take their closing period, 3 PTOs, to finish). It returns
// what it measured last.
func waitResources(t testing.TB, ctx context.Context, base resources, heapSlack uint64) resources {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		now := takeResources()
		if now.goroutines <= base.goroutines && now.fds <= base.fds && now.heap <= base.heap+heapSlack {
			return now
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("not back to the start: %v, started with %v; goroutines:\n%s", now, base, strings.TrimSpace(string(buf)))
			return now
		}
	}
}

// waitGoroutines is waitResources for goroutines and sockets only.
func waitGoroutines(t testing.TB, ctx context.Context, base resources) {
	t.Helper()
	base.heap = ^uint64(0) >> 1
	waitResources(t, ctx, base, 0)
}

// settleContext bounds a wait for resources to come back: far above the
// closing period of a loopback connection.
func settleContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
