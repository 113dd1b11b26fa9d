//go:build unix

package conn

import "testing"

// BenchmarkHandshakeInMemory runs one complete handshake per operation,
// client and server, over the harness's in-memory network, until both
// sides have confirmed it: the connection state machines, TLS, packet
// protection and key installation of both sides, without sockets, driver
// goroutines or the endpoint. Both Configs live across operations, as the
// bench package's handshakes share theirs (the client verifies the
// server's chain once). cpu-ns/op is the process's CPU time per handshake;
// the public-key floor it contains is about 0.5 ms on the machine this
// was written on (bench.BenchmarkHandshakeFloor).
func BenchmarkHandshakeInMemory(b *testing.B) {
	cc, sc := testConfigs(b)
	p := newTestPairWith(b, cc, sc)
	p.handshake()
	buf := p.buf // the harness's send buffer, not the connections'
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		p := newTestPairWith(b, cc, sc)
		p.buf = buf
		p.handshake()
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
