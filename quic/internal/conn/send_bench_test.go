//go:build unix

package conn

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkBulkInMemory moves 4 MB from the client to the server per
// operation over the harness's in-memory network: the whole packet path of
// both sides (the sender's Write, packing, sealing and ACK processing; the
// receiver's opening, reassembly and acknowledgments) without sockets. It
// reports the process's CPU time per operation (cpu-ns/op), which a busy
// machine disturbs less than the wall-clock time.
func BenchmarkBulkInMemory(b *testing.B) {
	const n = 4 << 20
	p := newTestPair(b)
	p.handshake()
	b.ReportAllocs()
	b.SetBytes(n)
	start := cpuTime()
	for b.Loop() {
		bulkTransfer(p, p.client, n)
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time the process used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
