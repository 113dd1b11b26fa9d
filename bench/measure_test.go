package bench

import (
	"runtime"
	"testing"
	"time"
)

// What the benchmarks measure in each process: CPU time, allocations, live
// heap, goroutines.

// liveHeap collects garbage twice (the second pass frees what finalizers
// released) and returns the live heap and the number of goroutines.
func liveHeap() (heap uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, runtime.NumGoroutine()
}

// stacks is the stack of every goroutine, up to 64 KiB, for finding what
// did not end.
func stacks() []byte {
	buf := make([]byte, 64<<10)
	return buf[:runtime.Stack(buf, true)]
}

// mallocs is the heap allocations so far and their bytes.
func mallocs() (count, bytes uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs, ms.TotalAlloc
}

// usage is a process's CPU time (sys, the system part of it), allocation
// count and bytes, and context switches (contextSwitches) at one moment.
type usage struct {
	cpu, sys   time.Duration
	mallocs    uint64
	allocBytes uint64
	switches   uint64
}

func (u usage) sub(earlier usage) usage {
	return usage{cpu: u.cpu - earlier.cpu, sys: u.sys - earlier.sys, mallocs: u.mallocs - earlier.mallocs,
		allocBytes: u.allocBytes - earlier.allocBytes, switches: u.switches - earlier.switches}
}

// selfUsage is this process's usage.
func selfUsage() usage {
	user, sys := processTimes()
	n, bytes := mallocs()
	return usage{cpu: user + sys, sys: sys, mallocs: n, allocBytes: bytes, switches: contextSwitches()}
}

// startUsage reads both processes' usage; the function it returns tells
// what each used since.
func (p *peer) startUsage(tb testing.TB) func() (client, server usage) {
	cl0, sv0 := selfUsage(), p.stat(tb)
	return func() (usage, usage) { return selfUsage().sub(cl0), p.stat(tb).sub(sv0) }
}

// reportPerOp reports the rate of b.N operations done in elapsed (in
// unit), the peer's allocations per operation (b.ReportAllocs gives this
// process's) and each side's CPU time per operation.
func reportPerOp(b *testing.B, unit string, elapsed time.Duration, client, server usage) {
	n := float64(b.N)
	b.ReportMetric(n/elapsed.Seconds(), unit)
	b.ReportMetric(float64(server.mallocs)/n, "server-allocs/op")
	b.ReportMetric(float64(server.allocBytes)/n, "server-B/op")
	if haveCPU {
		b.ReportMetric(client.cpu.Seconds()*1e6/n, "client-CPU-us/op")
		b.ReportMetric(server.cpu.Seconds()*1e6/n, "server-CPU-us/op")
	}
}

// heaps is the live heap and the goroutines of both processes.
type heaps struct {
	client, server   int64
	clientG, serverG int
}

// settledHeaps waits until the connections closed before are gone from
// both processes (this one had goroutines goroutines before it opened
// them), then reads both heaps.
func (p *peer) settledHeaps(tb testing.TB, goroutines int) heaps {
	settleSelf(tb, goroutines)
	p.settle(tb)
	return p.heaps(tb)
}

func (p *peer) heaps(tb testing.TB) heaps {
	var h heaps
	ch, cg := liveHeap()
	h.client, h.clientG = int64(ch), cg
	h.server, h.serverG = p.mem(tb)
	return h
}

// settleSelf waits until the connections this process closed are gone:
// each one's goroutine ends a few round trips after its close.
func settleSelf(tb testing.TB, goroutines int) {
	for deadline := time.Now().Add(30 * time.Second); runtime.NumGoroutine() > goroutines; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("%d goroutines 30 s after closing connections, want at most %d:\n%s", runtime.NumGoroutine(), goroutines, stacks())
		}
	}
}
